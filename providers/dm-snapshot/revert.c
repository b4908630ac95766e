/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * revert.c: bring an origin back to a snapshot with the snapshot-merge
 * target, as "lvconvert --merge" does.
 *
 * The origin's table becomes "snapshot-merge REAL STORE": the kernel copies
 * the saved chunks back onto the origin's data, and reads of the origin see
 * the snapshot's content at once. The snapshot device hands its exceptions
 * over to the merge target (it must be suspended for that) and goes away.
 *
 * Merging under a mounted file system would change its blocks behind its
 * back, so when the origin is open the revert waits: the meta file says
 * "merge pending", the snapshot reports itself merging, and the monitor
 * starts the merge as soon as nothing holds the origin (the "next
 * activation" of LVM's wording). When the merge is done the monitor puts the
 * origin back to a snapshot-origin (other snapshots remain) or to its own
 * table, and removes the store.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "common/fault.h"
#include "providers/dm-snapshot/dmsnap.h"
#include "providers/dm-snapshot/intent.h"
#include "providers/common/util.h"

/* The snapshot's own table parameters: "REAL STORE P CHUNK", reused for the merge. */
static int merge_table(const char *snap, uint64_t *sectors, char *params, size_t size,
                       struct vss_error_buf *err)
{
        DmTable t = { 0 };
        int r = dm_table_get(snap, false, &t, err);

        if (r < 0)
                return r;
        if (t.n != 1 || strcmp(t.targets[0].type, "snapshot") != 0)
                r = provider_error(err, -EINVAL, "%s does not have a snapshot table", snap);
        else {
                *sectors = t.targets[0].length;
                r = provider_printf(params, size, "%s", t.targets[0].params);
        }
        dm_table_free(&t);
        return r;
}

/* Switch ORIGIN to snapshot-merge over the store of SNAP; SNAP goes away. */
static int merge_start(const SnapMeta *m, const char *snap, struct vss_error_buf *err)
{
        DmTable t = { 0 };
        char params[256];
        uint64_t sectors = 0;
        int r = merge_table(snap, &sectors, params, sizeof(params), err);

        if (r < 0)
                return r;
        if (dm_table_add(&t, 0, sectors, "snapshot-merge", params) < 0)
                return provider_error(err, -ENOMEM, "out of memory");
        r = dm_load(m->origin, &t, false, err);
        dm_table_free(&t);
        if (r < 0)
                return r;
        /* The handover needs the old snapshot suspended while the merge resumes. */
        if ((r = dm_suspend(snap, false, err)) >= 0 && (r = dm_suspend(m->origin, true, err)) >= 0) {
                VSS_FAULT("revert-after-merge");
                r = dm_resume(m->origin, err);
        }
        if (r < 0) {
                dm_clear(m->origin, NULL);
                dm_resume(m->origin, NULL);
                dm_resume(snap, NULL);
                return r;
        }
        return dm_remove(snap, err);
}

static int merge_begin(DmSnap *dm, SnapMeta *m, struct vss_error_buf *err)
{
        char snap[DM_NAME_MAX];
        int r;

        if (provider_printf(snap, sizeof(snap), "%s%s", SNAP_NAME_PREFIX, m->snapshot_id) < 0)
                return provider_error(err, -EINVAL, "bad snapshot id %s", m->snapshot_id);
        if (!m->diff_area[0])
                return provider_error(err, -EINVAL, "snapshot %s has lost its meta file: its "
                                      "origin is unknown", m->snapshot_id);
        /* A crash between the table switch and the meta file: recovery decides by the
         * origin's table whether the merge began (then it goes on) or not (undone). */
        Journal j = JOURNAL_INIT;
        if ((r = intent_open(dm, &j, INTENT_REVERT_PREFIX, m->snapshot_id, err)) < 0 ||
            (r = journal_append(&j, err, INTENT_REVERT, m->snapshot_id, m->origin, snap,
                                m->diff_area, NULL)) < 0) {
                journal_done(&j);
                return r;
        }
        journal_close(&j);
        if ((r = merge_start(m, snap, err)) < 0) {
                journal_done(&j); /* merge_start put both devices back */
                return r;
        }
        m->merge = META_MERGE_RUNNING;
        provider_log(LOG_NOTICE, "reverting %s to snapshot %s: merge started", m->origin,
                     m->snapshot_id);
        if ((r = meta_write(m->diff_area, m, err)) == 0)
                journal_done(&j);
        return r;
}

static int refuse_revert(const Snap *s, const char *id, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];

        if (!(s->uuid.attributes & VSS_ATTR_PERSISTENT))
                return provider_error(err, -EOPNOTSUPP, "snapshot %s is not persistent: its "
                                      "store keeps no exception table the kernel can merge; only "
                                      "persistent snapshots can be reverted", id);
        if (!s->valid)
                return provider_error(err, -EINVAL, "snapshot %s is invalid (its copy-on-write "
                                      "store overflowed): there is nothing to revert to", id);
        if (s->meta.origin[0] == '\0')
                return provider_error(err, -EINVAL, "snapshot %s has lost its meta file: its "
                                      "origin is unknown", id);
        if (s->meta.merge != META_MERGE_NONE)
                return provider_error(err, -EBUSY, "snapshot %s is being merged already", id);
        if (snap_exposed(s, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s: unexpose it "
                                      "first", id, mnt);
        return 0;
}

int dmsnap_revert(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        DmInfo origin;
        Snap s;
        int r;

        dmsnap_flush_sets(dm);
        if ((r = snap_find(dm, id, &s, err)) < 0 || (r = refuse_revert(&s, id, err)) < 0 ||
            (r = dm_info_get(s.meta.origin, &origin, err)) < 0)
                return r;
        if (origin.open_count == 0)
                return merge_begin(dm, &s.meta, err);
        s.meta.merge = META_MERGE_PENDING;
        if (!s.meta.diff_area[0])
                return provider_error(err, -EINVAL, "snapshot %s has lost its meta file: its "
                                      "origin is unknown", id);
        if ((r = meta_write(s.meta.diff_area, &s.meta, err)) < 0)
                return r;
        provider_log(LOG_NOTICE, "%s is in use: it will be reverted to snapshot %s as soon as "
                     "it is unmounted", s.meta.origin, id);
        return 0;
}

/* --- the monitor's part --------------------------------------------------------------- */

/* The merge copied every chunk back: the store holds only its metadata. */
static bool merge_done(const char *origin)
{
        DmTable st = { 0 };
        uint64_t a = 0, t, m = 1;
        bool done = false;

        if (dm_status_get(origin, &st, NULL) == 0 && st.n == 1)
                done = sscanf(st.targets[0].params, "%" SCNu64 "/%" SCNu64 " %" SCNu64, &a, &t,
                              &m) == 3 && a == m;
        dm_table_free(&st);
        return done;
}

/* Back to a snapshot-origin over NAME-real; origin_restore_if_unused does the rest. */
static int merge_finish(DmSnap *dm, const SnapMeta *m, struct vss_error_buf *err)
{
        char devnum[32];
        DmTable cur = { 0 }, t = { 0 };
        int r;

        if ((r = origin_real_devnum(m->origin, devnum, sizeof(devnum), err)) < 0 ||
            (r = dm_table_get(m->origin, false, &cur, err)) < 0)
                return r;
        r = dm_table_add(&t, 0, dm_table_size(&cur), "snapshot-origin", devnum);
        dm_table_free(&cur);
        if (r == 0)
                r = dm_load(m->origin, &t, false, err);
        dm_table_free(&t);
        if (r < 0 || (r = dm_suspend(m->origin, true, err)) < 0 ||
            (r = dm_resume(m->origin, err)) < 0)
                return r;
        meta_remove(m->diff_area, m->snapshot_id);
        provider_log(LOG_NOTICE, "%s is back to snapshot %s: merge done", m->origin,
                     m->snapshot_id);
        return origin_restore_if_unused(m->origin, err);
}

static int advance_one(const SnapMeta *meta, void *userdata)
{
        DmSnap *dm = userdata;
        SnapMeta m = *meta;
        struct vss_error_buf err;
        DmInfo origin;
        int r = 0;

        if (m.merge == META_MERGE_PENDING && dm_info_get(m.origin, &origin, NULL) == 0 &&
            origin.exists && origin.open_count == 0)
                r = merge_begin(dm, &m, &err);
        else if (m.merge == META_MERGE_RUNNING && merge_done(m.origin))
                r = merge_finish(dm, &m, &err);
        if (r < 0)
                provider_log(LOG_ERR, "revert of %s to snapshot %s: %s", m.origin, m.snapshot_id,
                             err.message);
        return 0;
}

void dmsnap_merges_advance(DmSnap *dm)
{
        dmsnap_meta_foreach(dm, advance_one, dm);
}
