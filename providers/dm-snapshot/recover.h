/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.h: what the two halves of recovery share: recover-journal.c, which
 * reads the intent journals (intent.h) and undoes or finishes what each
 * describes, and recover.c, which then sweeps the kernel's dm list for what
 * no journal names (a crash of a vssd older than the journals, or a lost
 * journal directory).
 */
#ifndef VSS_DMSNAP_RECOVER_H
#define VSS_DMSNAP_RECOVER_H

#include "providers/common/recover-log.h"
#include "providers/dm-snapshot/dmsnap.h"

typedef struct Recovery {
        DmSnap *dm;
        char (*unfinished)[ID_LEN + 1]; /* set ids the kernel shows half-made */
        size_t n_unfinished;
        RecoverLog log;
        struct vss_error_buf *err; /* scratch for each step's sentence */
} Recovery;

/* recover_log_failed() of the failure in rc->err. */
void recovery_failed(Recovery *rc, int r);
/* Resume dm device NAME if it is suspended; WHAT says what it is, for the log. */
void recovery_resume(Recovery *rc, const char *name, const char *what);
/* NAME-real gone and NAME put back (a snapshot-origin no more) by origin_restore_if_unused. */
void recovery_restore_origin(Recovery *rc, const char *name);

/* Every journal in the provider's journal_dir: undo or finish what it says, then remove it. */
int recover_journals(Recovery *rc);

#endif
