/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: roll back what a crashed vssd left half-made, journals first
 * (thin.h says what each holds), then the kernel's list of LVSS-thin-
 * devices for what no journal names, then the records of sets that never
 * finished (their journal went with a reboot).
 *
 * A set journal that reached "ready" with every snapshot device live is a
 * set whose window ended: it is kept, with the journal's time, and its
 * origins resumed if the crash came before release. Any other set is
 * undone: origins resumed, snapshot devices removed, their ids deleted,
 * records removed. An enable without its live volume is undone; a delete
 * is finished; a revert is finished when the origin already reads the
 * snapshot's id, else undone (the snapshot comes back).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/common/recover-log.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

typedef struct Recovery {
        DmThin *dt;
        RecoverLog log;
} Recovery;

static void resume_if_suspended(Recovery *rc, const char *name)
{
        struct vss_error_buf why;
        DmInfo info;
        int r;

        if (dm_info_get(name, &info, NULL) < 0 || !info.exists || !info.suspended)
                return;
        if (info.inactive_table)
                dm_clear(name, NULL);
        if ((r = dm_resume(name, &why)) < 0)
                recover_log_failed(&rc->log, r, &why);
        else
                recover_log_act(&rc->log, "resumed /dev/mapper/%s", name);
}

static bool device_live(const char *prefix, const char *name)
{
        char dm[DM_NAME_MAX];
        DmInfo info;

        return thin_dm_name(dm, sizeof(dm), prefix, name) == 0 &&
               dm_info_get(dm, &info, NULL) == 0 && info.exists && info.live_table;
}

/* Remove snapshot SNAP's device and id (of POOL) and its record. */
static void undo_snapshot(Recovery *rc, const char *snap, const char *pool, uint32_t id)
{
        struct vss_error_buf why;
        char dm[DM_NAME_MAX];
        int r;

        if ((r = thin_dm_name(dm, sizeof(dm), TSNAP_PREFIX, snap)) < 0 ||
            (r = dm_remove(dm, &why)) < 0 || (r = pool_delete_id(pool, id, &why)) < 0 ||
            (r = record_remove(rc->dt->state_dir, RECORD_SNAPSHOT, snap, &why)) < 0) {
                recover_log_failed(&rc->log, r < 0 ? r : -EINVAL, &why);
                return;
        }
        recover_log_act(&rc->log, "removed the half-made snapshot %s (thin id %" PRIu32 " of pool "
                        "%s)", snap, id, pool);
}

static uint32_t field_id(const JournalRecord *rec, size_t i)
{
        return (uint32_t)strtoul(journal_field(rec, i), NULL, 10);
}

static bool recover_set(Recovery *rc, const JournalFile *f)
{
        const char *ready = NULL;
        bool all_live = true;

        for (size_t i = 0; i < f->n; i++) {
                const JournalRecord *rec = &f->records[i];
                if (journal_is(rec, INTENT_READY, 1))
                        ready = journal_field(rec, 1);
                else if (journal_is(rec, INTENT_SNAP, 4))
                        all_live &= device_live(TSNAP_PREFIX, journal_field(rec, 1));
                else if (journal_is(rec, INTENT_SUSPEND, 1))
                        resume_if_suspended(rc, journal_field(rec, 1));
        }
        unsigned failed_before = rc->log.n_failed;
        for (size_t i = 0; i < f->n; i++) {
                const JournalRecord *rec = &f->records[i];
                if (!journal_is(rec, INTENT_SNAP, 4))
                        continue;
                const char *snap = journal_field(rec, 1);
                SnapRecord s;
                if (ready && all_live) {
                        struct vss_error_buf why;
                        if (record_read(rc->dt->state_dir, RECORD_SNAPSHOT, snap, &s, &why) < 0)
                                recover_log_failed(&rc->log, -ENOENT, &why);
                        else if (!s.created_usec) {
                                s.created_usec = strtoull(ready, NULL, 10);
                                if (record_write(rc->dt->state_dir, RECORD_SNAPSHOT, snap, &s,
                                                 &why) < 0)
                                        recover_log_failed(&rc->log, -EIO, &why);
                                else
                                        recover_log_act(&rc->log, "kept snapshot %s of %s, whose "
                                                        "set's window ended before the crash", snap,
                                                        s.origin);
                        }
                } else {
                        undo_snapshot(rc, snap, journal_field(rec, 2), field_id(rec, 3));
                }
        }
        return rc->log.n_failed == failed_before;
}

static bool recover_enable(Recovery *rc, const JournalRecord *rec)
{
        const char *name = journal_field(rec, 1), *pool = journal_field(rec, 2);
        struct vss_error_buf why;
        char dm[DM_NAME_MAX];
        int r;

        if (device_live(VOL_PREFIX, name))
                return true;
        if ((r = thin_dm_name(dm, sizeof(dm), VOL_PREFIX, name)) < 0 ||
            (r = dm_remove(dm, &why)) < 0 ||
            (r = pool_delete_id(pool, field_id(rec, 3), &why)) < 0 ||
            (r = record_remove(rc->dt->state_dir, RECORD_VOLUME, name, &why)) < 0) {
                recover_log_failed(&rc->log, r, &why);
                return false;
        }
        recover_log_act(&rc->log, "undid the half-made thin volume %s in pool %s", name, pool);
        return true;
}

static bool recover_delete(Recovery *rc, const JournalRecord *rec)
{
        unsigned before = rc->log.n_failed;
        undo_snapshot(rc, journal_field(rec, 1), journal_field(rec, 2), field_id(rec, 3));
        return rc->log.n_failed == before;
}

/* The thin id the live table of DM reads, or 0 when it has none such. */
static uint32_t live_thin_id(const char *dm)
{
        DmTable t = { 0 };
        unsigned maj, min;
        uint32_t id = 0;

        if (dm_table_get(dm, false, &t, NULL) == 0 && t.n == 1 &&
            strcmp(t.targets[0].type, "thin") == 0 &&
            sscanf(t.targets[0].params, "%u:%u %" SCNu32, &maj, &min, &id) != 3)
                id = 0;
        dm_table_free(&t);
        return id;
}

static bool recover_revert(Recovery *rc, const JournalRecord *rec)
{
        const char *snap = journal_field(rec, 1), *pool = journal_field(rec, 2);
        const char *origin = journal_field(rec, 4);
        uint32_t new_id = field_id(rec, 3), old_id = field_id(rec, 5);
        struct vss_error_buf why;
        char dm[DM_NAME_MAX];
        VolumeRecord v;
        SnapRecord s;
        int r;

        if ((r = thin_dm_name(dm, sizeof(dm), VOL_PREFIX, origin)) < 0 ||
            (r = record_read(rc->dt->state_dir, RECORD_VOLUME, origin, &v, &why)) < 0) {
                recover_log_failed(&rc->log, r, &why);
                return false;
        }
        resume_if_suspended(rc, dm);
        if (v.id != new_id && live_thin_id(dm) != new_id) {
                /* The origin still reads its own id: the snapshot comes back. */
                if (record_read(rc->dt->state_dir, RECORD_SNAPSHOT, snap, &s, &why) < 0 ||
                    snap_activate(rc->dt, &s, &why) < 0) {
                        recover_log_failed(&rc->log, -EIO, &why);
                        return false;
                }
                recover_log_act(&rc->log, "undid the revert of %s to snapshot %s", origin, snap);
                return true;
        }
        v.id = new_id;
        if ((r = record_write(rc->dt->state_dir, RECORD_VOLUME, origin, &v, &why)) < 0 ||
            (r = record_remove(rc->dt->state_dir, RECORD_SNAPSHOT, snap, &why)) < 0 ||
            (r = pool_delete_id(pool, old_id, &why)) < 0) {
                recover_log_failed(&rc->log, r, &why);
                return false;
        }
        recover_log_act(&rc->log, "finished the revert of %s to snapshot %s", origin, snap);
        return true;
}

static void recover_journal(Recovery *rc, const JournalFile *f)
{
        struct vss_error_buf why;
        bool done = true;

        if (f->n > 0 && journal_is(&f->records[0], INTENT_SET, 3))
                done = recover_set(rc, f);
        else if (f->n > 0 && journal_is(&f->records[0], INTENT_ENABLE, 3))
                done = recover_enable(rc, &f->records[0]);
        else if (f->n > 0 && journal_is(&f->records[0], INTENT_DELETE, 3))
                done = recover_delete(rc, &f->records[0]);
        else if (f->n > 0 && journal_is(&f->records[0], INTENT_REVERT, 5))
                done = recover_revert(rc, &f->records[0]);
        if (done && journal_unlink(f->path, &why) < 0)
                recover_log_failed(&rc->log, -EIO, &why);
}

/* --- the kernel's list and the records -------------------------------------------------------- */

static int sweep_device(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        struct vss_error_buf why;
        int r;

        if (strncmp(info->uuid, UUID_THIN, strlen(UUID_THIN)) != 0)
                return 0;
        if (strncmp(info->uuid, UUID_TSNAP, strlen(UUID_TSNAP)) == 0 && !info->live_table) {
                if ((r = dm_remove(info->name, &why)) < 0)
                        recover_log_failed(&rc->log, r, &why);
                else
                        recover_log_act(&rc->log, "removed /dev/mapper/%s, a snapshot device "
                                        "without a table", info->name);
                return 0;
        }
        resume_if_suspended(rc, info->name);
        return 0;
}

/* A record of a set that never finished, with no journal left (a reboot took it). */
static int sweep_record(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        Recovery *rc = userdata;

        if (!s->created_usec && !s->invalid && !device_live(TSNAP_PREFIX, s->id))
                undo_snapshot(rc, s->id, s->pool, s->thin_id);
        return 0;
}

int thin_recover(DmThin *dt, struct vss_error_buf *err)
{
        Recovery rc = { .dt = dt };
        JournalFile *files;
        size_t n;
        int r;

        if ((r = journal_read_dir(dt->journal_dir, &files, &n)) < 0)
                return provider_error(err, r, "cannot read the journals in %s ([provider.%s] "
                                      "journal_dir): %s", dt->journal_dir, THIN_NAME,
                                      strerror(-r));
        for (size_t i = 0; i < n; i++)
                recover_journal(&rc, &files[i]);
        journal_files_free(files, n);
        if ((r = dm_list(sweep_device, &rc, err)) < 0)
                return r;
        /* Sets of this process are not half-made: only a fresh instance sweeps records. */
        if (!dt->sets)
                record_foreach(dt->state_dir, RECORD_SNAPSHOT, sweep_record, &rc);
        if (rc.log.n_actions)
                provider_log(LOG_NOTICE, "recover: %u thing(s) put right, %u failed",
                             rc.log.n_actions, rc.log.n_failed);
        if (rc.log.n_failed) {
                *err = rc.log.first;
                return rc.log.r;
        }
        return (int)rc.log.n_actions;
}
