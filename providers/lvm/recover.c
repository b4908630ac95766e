/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: undo what a crashed vssd left half-made (vssd calls recover()
 * at start; vssd --recover and vssctl recover call it too, so it must be
 * safe to run again and again).
 *
 * First the intent journals (intent.h): a journal is a set that was not
 * finished, so all of it goes: every origin it names that is still
 * suspended is resumed (only those: a suspended LV that no journal of ours
 * names is LVM's or someone else's business), every thin id its window may
 * have deleted is put back (create_snap; one that exists is fine) so that
 * LVM finds the device it recorded, and every LV tagged with its set is
 * removed with lvremove. Then lvs, for what no journal names (a reboot
 * emptied /run): a snapshot LV without vss_created belongs to a set that
 * never finished, and is removed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/common/journal.h"
#include "providers/common/recover-log.h"
#include "providers/common/util.h"
#include "providers/lvm/intent.h"
#include "providers/lvm/lvm.h"

typedef struct Recovery {
        Lvm *lvm;
        RecoverLog log;
} Recovery;

static void resume_origin(Recovery *rc, const char *name)
{
        struct vss_error_buf err;
        DmInfo info;
        int r;

        if (dm_info_get(name, &info, NULL) < 0 || !info.exists || !info.suspended)
                return;
        if ((r = dm_resume(name, &err)) < 0)
                return recover_log_failed(&rc->log, r, &err);
        recover_log_act(&rc->log, "resumed %s, left suspended by a crash in a snapshot window",
                        name);
}

/* Put back the thin id of snapshot SNAPSHOT if the window deleted it. */
static void restore_thin(Recovery *rc, const JournalFile *f, const JournalRecord *thin)
{
        const char *snapshot = journal_field(thin, 1), *pool = journal_field(thin, 5);
        struct vss_error_buf err;
        DmInfo info;
        int r;

        for (size_t i = 0; i < f->n; i++) {
                const JournalRecord *ids = &f->records[i];
                if (!journal_is(ids, INTENT_IDS, 2) || strcmp(journal_field(ids, 1), snapshot) != 0)
                        continue;
                if (dm_info_get(pool, &info, NULL) < 0 || !info.exists)
                        return; /* no pool device: nothing of it can be half-done */
                int64_t snap_id = strtoll(journal_field(ids, 2), NULL, 10);
                int64_t origin_id = strtoll(journal_field(thin, 6), NULL, 10);
                if ((r = lvm_thin_restore(pool, snap_id, origin_id, &err)) < 0)
                        recover_log_failed(&rc->log, r, &err);
        }
}

/* lvremove every LV of ROWS for which KEEP is false; log each. */
static void remove_rows(Recovery *rc, const LvRow *rows, size_t n, const char *set_id,
                        const char *why)
{
        struct vss_error_buf err;
        char full[2 * LVM_NAME_MAX];
        SnapTags t;

        for (size_t i = 0; i < n; i++) {
                if (!snap_tags_parse(rows[i].tags, &t))
                        continue;
                if (set_id ? strcmp(t.set_id, set_id) != 0
                           : t.complete || lvm_set_known(rc->lvm, t.set_id))
                        continue;
                snprintf(full, sizeof(full), "%s/%s", rows[i].vg, rows[i].name);
                const char *names[] = { full };
                int r = lvm_remove_lvs(rc->lvm, names, 1, &err);
                if (r < 0)
                        recover_log_failed(&rc->log, r, &err);
                else
                        recover_log_act(&rc->log, "removed %s, snapshot %s of unfinished set %s "
                                        "(%s)", full, t.snapshot_id, t.set_id, why);
        }
}

static void recover_journal(Recovery *rc, const JournalFile *f)
{
        const JournalRecord *set = f->n ? &f->records[0] : NULL;
        unsigned failed_before = rc->log.n_failed;
        struct vss_error_buf err;
        LvRow *rows = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_THIN, 6))
                        resume_origin(rc, journal_field(&f->records[i], 4));
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_THIN, 6))
                        restore_thin(rc, f, &f->records[i]);
        if (set && journal_is(set, INTENT_SET, 3)) {
                if ((r = lvm_lvs(rc->lvm, NULL, &rows, &n, &err)) < 0)
                        recover_log_failed(&rc->log, r, &err);
                else
                        remove_rows(rc, rows, n, journal_field(set, 1), "its journal says so");
                free(rows);
        }
        if (rc->log.n_failed != failed_before)
                return; /* the journal stays for the next try */
        if ((r = journal_unlink(f->path, &err)) < 0)
                recover_log_failed(&rc->log, r, &err);
}

int lvm_recover(Lvm *lvm, struct vss_error_buf *err)
{
        Recovery rc = { .lvm = lvm };
        JournalFile *files = NULL;
        LvRow *rows = NULL;
        size_t n_files = 0, n = 0;
        int r = journal_read_dir(lvm->journal_dir, &files, &n_files);

        if (r < 0)
                return provider_error(err, r, "cannot read the journals in %s ([provider.lvm] "
                                      "journal_dir): %s", lvm->journal_dir, strerror(-r));
        for (size_t i = 0; i < n_files; i++)
                if (!lvm_set_known(lvm, files[i].name))
                        recover_journal(&rc, &files[i]);
        journal_files_free(files, n_files);
        if ((r = lvm_lvs(lvm, NULL, &rows, &n, err)) < 0)
                return r;
        remove_rows(&rc, rows, n, NULL, "it was never completed");
        free(rows);
        if (rc.log.n_actions || rc.log.n_failed)
                provider_log(rc.log.n_failed ? LOG_ERR : LOG_NOTICE, "recover: %u action(s), %u "
                             "failure(s)", rc.log.n_actions, rc.log.n_failed);
        if (rc.log.r < 0) {
                *err = rc.log.first;
                return rc.log.r;
        }
        return (int)rc.log.n_actions;
}
