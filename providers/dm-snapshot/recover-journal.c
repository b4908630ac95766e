/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover-journal.c: the first half of recovery (recover.h): every intent
 * journal (intent.h) a crashed vssd left.
 *
 * A set whose prepare was done and whose every snapshot device has a live
 * table was committed: its point in time was taken whole, so its snapshots
 * stay (what vssd then does with them follows the VSS rules of reconcile:
 * auto-release ones go); its origins are resumed if the crash came before
 * release. Any other set is undone, in the order that never leaves a
 * snapshot reading a device that changed under it:
 *   1. each origin: the snapshot-origin table prepare loaded (inactive) is
 *      dropped, and the origin resumed (its file system thaws);
 *   2. its snapshot devices are removed;
 *   3. its stores: loop device detached, file and meta file deleted;
 *   4. each origin it first stacked on gets its table back: from NAME-real,
 *      or from the journal when NAME-real is gone or empty.
 * A delete is finished; a revert goes on if the merge began (the origin's
 * table is snapshot-merge: the snapshot's exceptions are the merge's now),
 * else is undone. A journal goes once everything it names is right; one
 * that failed stays for the next recovery, which is safe to repeat.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "providers/dm-snapshot/intent.h"
#include "providers/dm-snapshot/recover.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

/* The type of NAME's only target (live or inactive table), "" if it has not one. */
static void table_type(const char *name, bool inactive, char *buf, size_t size)
{
        DmTable t = { 0 };

        buf[0] = '\0';
        if (dm_table_get(name, inactive, &t, NULL) == 0 && t.n == 1)
                snprintf(buf, size, "%s", t.targets[0].type);
        dm_table_free(&t);
}

static bool journal_names(const JournalFile *f, const char *kind, size_t field,
                          const char *value)
{
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], kind, field) &&
                    strcmp(journal_field(&f->records[i], field), value) == 0)
                        return true;
        return false;
}

/* --- a committed set ---------------------------------------------------------------- */

static bool set_committed(const JournalFile *f)
{
        size_t n_snapshots = 0;
        DmInfo info;

        if (f->n == 0 || !journal_is(&f->records[f->n - 1], INTENT_READY, 1))
                return false;
        for (size_t i = 0; i < f->n; i++) {
                const JournalRecord *r = &f->records[i];
                if (!journal_is(r, INTENT_SNAPSHOT, 3))
                        continue;
                n_snapshots++;
                if (dm_info_get(journal_field(r, 3), &info, NULL) < 0 || !info.exists ||
                    !info.live_table)
                        return false;
        }
        return n_snapshots > 0;
}

/* Its meta files never got the creation time (written after the window): the journal's. */
static void keep_snapshot(Recovery *rc, const JournalRecord *store, uint64_t ready_usec)
{
        const char *id = journal_field(store, 1), *diff_area = journal_field(store, 3);
        SnapMeta m;
        int r;

        if (meta_read(diff_area, id, &m) == 0 && m.created_usec == 0) {
                m.created_usec = ready_usec;
                if ((r = meta_write(diff_area, &m, rc->err)) < 0)
                        return recovery_failed(rc, r);
        }
        recover_log_act(&rc->log, "kept snapshot %s of %s: its set was committed before the crash",
                        id, journal_field(store, 2));
}

static void keep_set(Recovery *rc, const JournalFile *f)
{
        uint64_t ready = strtoull(journal_field(&f->records[f->n - 1], 1), NULL, 10);

        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_SUSPEND, 1))
                        recovery_resume(rc, journal_field(&f->records[i], 1), "origin");
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_STORE, 3))
                        keep_snapshot(rc, &f->records[i], ready);
}

/* --- an unfinished set ------------------------------------------------------------ */

/* Step 1: drop the snapshot-origin table prepare loaded, then resume. */
static void unwind_origin(Recovery *rc, const JournalFile *f, const char *origin)
{
        char type[DM_MAX_TYPE_NAME];
        DmInfo info;
        int r;

        if (dm_info_get(origin, &info, NULL) < 0 || !info.exists)
                return;
        if (info.inactive_table && journal_names(f, INTENT_RELOAD, 1, origin)) {
                table_type(origin, true, type, sizeof(type));
                if (strcmp(type, "snapshot-origin") != 0)
                        ; /* not the table we loaded: someone else's, left alone */
                else if ((r = dm_clear(origin, rc->err)) < 0)
                        return recovery_failed(rc, r);
                else
                        recover_log_act(&rc->log, "dropped the snapshot-origin table loaded into "
                                        "origin %s", origin);
        }
        recovery_resume(rc, origin, "origin");
}

static void remove_snapshot(Recovery *rc, const char *name, const char *set_id)
{
        DmInfo info;
        int r;

        if (dm_info_get(name, &info, NULL) < 0 || !info.exists)
                return;
        if ((r = dm_remove(name, rc->err)) < 0)
                return recovery_failed(rc, r);
        recover_log_act(&rc->log, "removed snapshot device %s of unfinished set %s", name, set_id);
}

/* Step 3: a store and the meta file beside it. */
static void remove_store(Recovery *rc, const char *id, const char *diff_area)
{
        char path[PATH_MAX];
        CowStore store = COW_STORE_INIT;
        int r;

        if (meta_file(diff_area, id, ".cow", path, sizeof(path)) < 0)
                return;
        if (store_find(&store, path, NULL) == 0) {
                char loop[sizeof(store.loop)];
                memcpy(loop, store.loop, sizeof(loop));
                if ((r = store_destroy(&store, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "detached %s and deleted the store %s", loop, path);
        } else if (access(path, F_OK) == 0) {
                if (unlink(path) < 0)
                        return recovery_failed(rc, provider_error(rc->err, -errno, "cannot delete "
                                                                  "the store %s: %s", path,
                                                                  strerror(errno)));
                recover_log_act(&rc->log, "deleted the store %s", path);
        }
        meta_remove(diff_area, id);
}

/* Load TABLE (the journal's text) into ORIGIN and switch to it. */
static int load_journal_table(const char *origin, const char *text, struct vss_error_buf *err)
{
        DmTable t = { 0 };
        int r = intent_table_parse(text, &t);

        if (r < 0)
                return provider_error(err, r, "the journal's table of %s is damaged", origin);
        if ((r = dm_load(origin, &t, false, err)) == 0) {
                r = dm_suspend(origin, true, err);
                if (r == -EBUSY)
                        r = dm_suspend(origin, false, err);
                r = r < 0 ? r : dm_resume(origin, err);
        }
        dm_table_free(&t);
        return r;
}

/* Step 4, when NAME-real cannot give the table back: the journal can. */
static void restore_from_journal(Recovery *rc, const char *origin, const char *real,
                                 const char *text)
{
        char type[DM_MAX_TYPE_NAME];
        DmInfo info;
        int r;

        table_type(origin, false, type, sizeof(type));
        if (strcmp(type, "snapshot-origin") == 0) {
                if ((r = load_journal_table(origin, text, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "restored the table of origin %s from the journal",
                                origin);
        }
        if (dm_info_get(real, &info, NULL) == 0 && info.exists) {
                if ((r = dm_remove(real, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "removed %s, made half before the crash", real);
        }
}

static void restore_origin(Recovery *rc, const char *origin, const char *text)
{
        char real[DM_NAME_MAX];
        DmInfo info;

        if (provider_printf(real, sizeof(real), "%s%s", origin, REAL_SUFFIX) < 0)
                return;
        if (dm_info_get(real, &info, NULL) == 0 && info.exists && info.live_table)
                recovery_restore_origin(rc, origin);
        else
                restore_from_journal(rc, origin, real, text);
}

/* The origin record R names, if any (a store's, or one the window suspends). */
static const char *record_origin(const JournalRecord *r)
{
        if (journal_is(r, INTENT_STORE, 3))
                return journal_field(r, 2);
        return journal_is(r, INTENT_SUSPEND, 1) ? journal_field(r, 1) : NULL;
}

static bool origin_seen_before(const JournalFile *f, size_t i, const char *origin)
{
        for (size_t j = 0; j < i; j++) {
                const char *o = record_origin(&f->records[j]);
                if (o && strcmp(o, origin) == 0)
                        return true;
        }
        return false;
}

static void undo_set(Recovery *rc, const JournalFile *f)
{
        const char *set_id = f->name;

        for (size_t i = 0; i < f->n; i++) {
                const char *origin = record_origin(&f->records[i]);
                if (origin && !origin_seen_before(f, i, origin))
                        unwind_origin(rc, f, origin);
        }
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_SNAPSHOT, 3))
                        remove_snapshot(rc, journal_field(&f->records[i], 3), set_id);
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_STORE, 3))
                        remove_store(rc, journal_field(&f->records[i], 1),
                                     journal_field(&f->records[i], 3));
        for (size_t i = 0; i < f->n; i++)
                if (journal_is(&f->records[i], INTENT_REAL, 2))
                        restore_origin(rc, journal_field(&f->records[i], 1),
                                       journal_field(&f->records[i], 2));
}

/* --- a delete, a revert ------------------------------------------------------------- */

static void finish_delete(Recovery *rc, const JournalRecord *d)
{
        const char *id = journal_field(d, 1), *origin = journal_field(d, 2);
        char name[DM_NAME_MAX];
        SnapMeta m;
        DmInfo info;
        int r;

        if (provider_printf(name, sizeof(name), "%s%s", SNAP_NAME_PREFIX, id) < 0)
                return;
        if (dm_info_get(name, &info, NULL) == 0 && info.exists) {
                if ((r = dm_remove(name, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "removed snapshot device %s, whose deletion was under "
                                "way", name);
        }
        if (origin[0])
                recovery_restore_origin(rc, origin);
        if (dmsnap_meta_find(rc->dm, id, &m) == 0) {
                dmsnap_meta_remove(rc->dm, id);
                recover_log_act(&rc->log, "deleted the store and meta file of snapshot %s in %s, "
                                "whose deletion was under way", id, m.diff_area);
        }
}

/* The merge began: the snapshot device handed its exceptions over and must go. */
static void revert_goes_on(Recovery *rc, const JournalRecord *v)
{
        const char *id = journal_field(v, 1), *origin = journal_field(v, 2);
        const char *snap = journal_field(v, 3), *diff_area = journal_field(v, 4);
        SnapMeta m;
        DmInfo info;
        int r;

        recovery_resume(rc, origin, "origin");
        if (dm_info_get(snap, &info, NULL) == 0 && info.exists) {
                if ((r = dm_remove(snap, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "removed snapshot device %s, handed over to the merge "
                                "into %s", snap, origin);
        }
        if (meta_read(diff_area, id, &m) == 0 && m.merge != META_MERGE_RUNNING) {
                m.merge = META_MERGE_RUNNING;
                if ((r = meta_write(diff_area, &m, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "the revert of %s to snapshot %s goes on: merge running",
                                origin, id);
        }
}

static void revert_undo(Recovery *rc, const JournalRecord *v)
{
        const char *id = journal_field(v, 1), *origin = journal_field(v, 2);
        const char *snap = journal_field(v, 3);
        char type[DM_MAX_TYPE_NAME];
        int r;

        table_type(origin, true, type, sizeof(type));
        if (strcmp(type, "snapshot-merge") == 0) {
                if ((r = dm_clear(origin, rc->err)) < 0)
                        return recovery_failed(rc, r);
                recover_log_act(&rc->log, "dropped the merge table loaded into origin %s: the "
                                "revert to snapshot %s had not begun; run it again", origin, id);
        }
        recovery_resume(rc, origin, "origin");
        recovery_resume(rc, snap, "snapshot device");
}

static void recover_revert(Recovery *rc, const JournalRecord *v)
{
        char type[DM_MAX_TYPE_NAME];

        table_type(journal_field(v, 2), false, type, sizeof(type));
        if (strcmp(type, "snapshot-merge") == 0)
                revert_goes_on(rc, v);
        else
                revert_undo(rc, v);
}

/* --- each journal ---------------------------------------------------------------------- */

/* Act on F; false when it is not one to act on (nor to remove). */
static bool recover_journal(Recovery *rc, const JournalFile *f)
{
        const JournalRecord *first = f->n ? &f->records[0] : NULL;

        if (!first)
                return true; /* a crash right after it was made: nothing was done yet */
        if (journal_is(first, INTENT_SET, 3)) {
                if (dmsnap_set_known(rc->dm, f->name))
                        return false; /* this vssd's own set, being made */
                if (set_committed(f))
                        keep_set(rc, f);
                else
                        undo_set(rc, f);
        } else if (journal_is(first, INTENT_DELETE, 2)) {
                finish_delete(rc, first);
        } else if (journal_is(first, INTENT_REVERT, 4)) {
                recover_revert(rc, first);
        } else {
                provider_log(LOG_WARNING, "recover: %s is not a journal of the %s provider; left "
                             "alone", f->path, DMSNAP_NAME);
                return false;
        }
        return true;
}

int recover_journals(Recovery *rc)
{
        JournalFile *files;
        size_t n;
        int r = journal_read_dir(rc->dm->journal_dir, &files, &n);

        if (r < 0)
                return provider_error(rc->err, r, "cannot read the journals in %s ([provider.%s] "
                                      "journal_dir): %s", rc->dm->journal_dir, DMSNAP_NAME,
                                      strerror(-r));
        for (size_t i = 0; i < n; i++) {
                unsigned failed = rc->log.n_failed;
                if (files[i].torn)
                        provider_log(LOG_NOTICE, "recover: the last record of %s was cut short "
                                     "by the crash; read without it", files[i].path);
                if (!recover_journal(rc, &files[i]))
                        continue;
                if (rc->log.n_failed > failed) {
                        provider_log(LOG_ERR, "recover: %s stays for the next recovery",
                                     files[i].path);
                        continue;
                }
                if ((r = journal_unlink(files[i].path, rc->err)) < 0)
                        recovery_failed(rc, r);
                else
                        provider_log(LOG_NOTICE, "recover: done with %s", files[i].path);
        }
        journal_files_free(files, n);
        return 0;
}
