/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * intent.h: the dm-snapshot provider's intent journals (providers/common/
 * journal.h), in [provider.dm-snapshot] journal_dir: what each record says
 * and when it is written. recover.c reads them after a crash.
 *
 * A set, in JOURNAL_DIR/<set id>.journal, from prepare until the set is
 * finished (flushed after its window) or undone; each record is written
 * before the step it names:
 *
 *   set SET ATTRIBUTES(hex) N         prepare begins, N volumes
 *   store SNAPSHOT ORIGIN DIFF_AREA   a store file created and attached to a loop device
 *   real ORIGIN TABLE                 ORIGIN-real created with ORIGIN's table, TABLE
 *   snapshot SNAPSHOT ORIGIN NAME     the snapshot device NAME created (table inactive)
 *   reload ORIGIN                     the snapshot-origin table loaded into ORIGIN (inactive)
 *   suspend ORIGIN                    the window will suspend ORIGIN ...
 *   activate NAME                     ... and resume the snapshot device NAME
 *   ready USEC                        prepare is done (realtime, microseconds): the window may come
 *
 * A delete, in delete-<snapshot>.journal: "delete SNAPSHOT ORIGIN" before the
 * snapshot device is removed, until its origin and files are put right.
 * A revert, in revert-<snapshot>.journal: "revert SNAPSHOT ORIGIN NAME
 * DIFF_AREA" before the merge table is loaded, until the merge runs and its
 * meta file says so (or the revert is undone).
 */
#ifndef VSS_DMSNAP_INTENT_H
#define VSS_DMSNAP_INTENT_H

#include "providers/common/journal.h"
#include "providers/dm-snapshot/dmsnap.h"

#define INTENT_SET "set"
#define INTENT_STORE "store"
#define INTENT_REAL "real"
#define INTENT_SNAPSHOT "snapshot"
#define INTENT_RELOAD "reload"
#define INTENT_SUSPEND "suspend"
#define INTENT_ACTIVATE "activate"
#define INTENT_READY "ready"
#define INTENT_DELETE "delete"
#define INTENT_REVERT "revert"

#define INTENT_DELETE_PREFIX "delete-"
#define INTENT_REVERT_PREFIX "revert-"

/* Open the journal NAME (PREFIX + ID) in the provider's journal_dir; journal_done() removes it. */
int intent_open(DmSnap *dm, Journal *j, const char *prefix, const char *id,
                struct vss_error_buf *err);

/* TABLE as one text, a line per target ("START LENGTH TYPE PARAMS"); malloc()ed. */
int intent_table_format(const DmTable *table, char **ret);
/* The reverse; -EINVAL when TEXT is not such a table. */
int intent_table_parse(const char *text, DmTable *ret);

#endif
