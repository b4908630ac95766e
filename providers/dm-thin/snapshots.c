/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshots.c: thin snapshots that exist: query, delete, expose, revert,
 * and their activation at start.
 *
 * A snapshot is its record (state.h) plus, while it is valid, the
 * read-only device vss-tsnap-<id>: a thin target on the snapshot's id in
 * its pool. One whose record says invalid was dropped to keep its pool from
 * filling (monitor.c): it has no device and no id any more, and is reported
 * invalid until it is deleted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/common/expose.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

static int snap_device(const SnapRecord *s, char *name, DmInfo *info, struct vss_error_buf *err)
{
        if (thin_dm_name(name, DM_NAME_MAX, TSNAP_PREFIX, s->id) < 0)
                return provider_error(err, -EINVAL, "%s is not a snapshot id", s->id);
        return dm_info_get(name, info, err);
}

static const char *snap_exposed(const DmInfo *info, char *buf, size_t size)
{
        return info->exists && expose_find(info->major, info->minor, buf, size) == 0 ? buf : NULL;
}

/* Snapshot ID's record; -ENOENT naming it when there is none. */
static int snap_get(DmThin *dt, const char *id, SnapRecord *s, struct vss_error_buf *err)
{
        int r = record_read(dt->state_dir, RECORD_SNAPSHOT, id, s, NULL);
        if (r == -ENOENT || r == -EINVAL)
                return provider_error(err, -ENOENT, "there is no snapshot %s", id);
        return r < 0 ? record_read(dt->state_dir, RECORD_SNAPSHOT, id, s, err) : 0;
}

int snap_activate(DmThin *dt, const SnapRecord *s, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], uuid[DM_UUID_MAX], params[64];
        DmTable t = { 0 };
        DmInfo info;
        int r;

        if (s->invalid)
                return 0;
        if ((r = snap_device(s, name, &info, err)) < 0)
                return r;
        if (info.exists && info.live_table)
                return 0;
        if (info.exists && (r = dm_remove(name, err)) < 0)
                return r;
        if ((r = pool_thin_params(s->pool, s->thin_id, params, sizeof(params), err)) < 0 ||
            (r = provider_printf(uuid, sizeof(uuid), "%s%s-%s-%" PRIx32, UUID_TSNAP, s->set_id,
                                 s->id, s->attributes)) < 0)
                return r;
        if (dm_table_add(&t, 0, s->sectors, "thin", params) < 0)
                return provider_error(err, -ENOMEM, "out of memory activating snapshot %s",
                                      s->id);
        r = dm_create(name, uuid, &t, true, true, err);
        dm_table_free(&t);
        return r;
}

int snap_remove(DmThin *dt, const SnapRecord *s, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], id[16];
        Journal j = JOURNAL_INIT;
        DmInfo info;
        int r;

        if ((r = snap_device(s, name, &info, err)) < 0)
                return r;
        snprintf(id, sizeof(id), "%" PRIu32, s->thin_id);
        /* Once the device is gone, recovery must finish: the record alone would bring it back. */
        if ((r = thin_journal_open(dt, &j, "delete-", s->id, err)) < 0 ||
            (r = journal_append(&j, err, INTENT_DELETE, s->id, s->pool, id, NULL)) < 0) {
                journal_done(&j);
                return r;
        }
        journal_close(&j);
        if ((r = dm_remove(name, err)) < 0) {
                journal_done(&j); /* nothing changed */
                return r;
        }
        if ((!s->invalid && (r = pool_delete_id(s->pool, s->thin_id, err)) < 0) ||
            (r = record_remove(dt->state_dir, RECORD_SNAPSHOT, s->id, err)) < 0)
                return r; /* the journal stays: recovery finishes the delete */
        journal_done(&j);
        return 0;
}

int thin_delete(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], mnt[PATH_MAX];
        SnapRecord s;
        DmInfo info;
        int r;

        thin_flush_sets(dt);
        if ((r = snap_get(dt, id, &s, err)) < 0 || (r = snap_device(&s, name, &info, err)) < 0)
                return r;
        if (snap_exposed(&info, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s: unexpose it "
                                      "first", id, mnt);
        return snap_remove(dt, &s, err);
}

/* --- query ----------------------------------------------------------------------------------- */

struct query {
        DmThin *dt;
        vss_snapshot_cb cb;
        void *userdata;
};

static int query_one(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        struct query *q = userdata;
        char name[DM_NAME_MAX], origin[DM_NAME_MAX + 16], device[DM_NAME_MAX + 16], mnt[PATH_MAX];
        const char *exposed = NULL;
        DmInfo info = { 0 };

        if (!s->invalid) {
                /* Without a live table it is a set being made, or a device not back yet. */
                if (snap_device(s, name, &info, NULL) < 0 || !info.exists || !info.live_table)
                        return 0;
                dm_node_path(name, device, sizeof(device));
                exposed = snap_exposed(&info, mnt, sizeof(mnt));
        }
        thin_dm_name(name, sizeof(name), VOL_PREFIX, s->origin);
        dm_node_path(name, origin, sizeof(origin));
        struct vss_snapshot_info vi = {
                .id = s->id, .set_id = s->set_id, .origin = origin,
                .device = s->invalid ? "" : device, .exposed_path = exposed ? exposed : "",
                .creation_usec = s->created_usec, .attributes = s->attributes,
                .state = s->invalid ? VSS_SNAPSHOT_INVALID : VSS_SNAPSHOT_VALID,
        };
        return q->cb(&vi, q->userdata);
}

int thin_query(DmThin *dt, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct query q = { dt, cb, userdata };
        int r;

        thin_flush_sets(dt);
        r = record_foreach(dt->state_dir, RECORD_SNAPSHOT, query_one, &q);
        return r < 0 ? provider_error(err, r, "cannot read the snapshots in %s/snapshots: %s",
                                      dt->state_dir, strerror(-r))
                     : 0;
}

/* --- expose ----------------------------------------------------------------------------------- */

/* Snapshot ID, valid, with its device: into S, NAME, INFO. */
static int snap_live(DmThin *dt, const char *id, SnapRecord *s, char *name, DmInfo *info,
                     struct vss_error_buf *err)
{
        int r;

        thin_flush_sets(dt);
        if ((r = snap_get(dt, id, s, err)) < 0)
                return r;
        if (s->invalid)
                return provider_error(err, -EINVAL, "snapshot %s is invalid (it was dropped to "
                                      "keep pool %s from filling): there is nothing to read",
                                      id, s->pool);
        if ((r = snap_device(s, name, info, err)) < 0)
                return r;
        if (!info->exists || !info->live_table)
                return provider_error(err, -ENOENT, "snapshot %s has no device (its set is "
                                      "still being made, or pool %s is not active)", id,
                                      s->pool);
        return 0;
}

int thin_expose(DmThin *dt, const char *id, const char *mount_point, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], device[DM_NAME_MAX + 16], mnt[PATH_MAX];
        SnapRecord s;
        DmInfo info;
        int r = snap_live(dt, id, &s, name, &info, err);

        if (r < 0)
                return r;
        if (snap_exposed(&info, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s already", id,
                                      mnt);
        dm_node_path(name, device, sizeof(device));
        return expose_mount(device, mount_point, err);
}

int thin_unexpose(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], mnt[PATH_MAX];
        SnapRecord s;
        DmInfo info;
        int r = snap_live(dt, id, &s, name, &info, err);

        if (r < 0)
                return r;
        if (!snap_exposed(&info, mnt, sizeof(mnt)))
                return provider_error(err, -EINVAL, "snapshot %s is not exposed", id);
        return expose_unmount(mnt, err);
}

/* --- revert ----------------------------------------------------------------------------------- */

/*
 * No merge: the origin's table is pointed at the snapshot's id, which it
 * owns from then on, and its old id is deleted. Instant; the snapshot is
 * consumed. The origin must be unused (unmounted), as Windows requires.
 */
int thin_revert(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX], origin[DM_NAME_MAX], params[64], new_id[16], old_id[16];
        Journal j = JOURNAL_INIT;
        VolumeRecord v;
        SnapRecord s;
        DmInfo info, oinfo;
        DmTable t = { 0 };
        int r = snap_live(dt, id, &s, name, &info, err);

        if (r < 0)
                return r;
        if (info.open_count > 0)
                return provider_error(err, -EBUSY, "snapshot %s is in use (exposed or open): "
                                      "unexpose it first", id);
        if ((r = record_read(dt->state_dir, RECORD_VOLUME, s.origin, &v, err)) < 0 ||
            (r = thin_dm_name(origin, sizeof(origin), VOL_PREFIX, v.name)) < 0 ||
            (r = dm_info_get(origin, &oinfo, err)) < 0)
                return r;
        if (oinfo.exists && oinfo.open_count > 0)
                return provider_error(err, -EBUSY, "cannot revert /dev/mapper/%s to snapshot "
                                      "%s: it is mounted or in use; unmount it first", origin,
                                      id);
        if ((r = pool_thin_params(v.pool, s.thin_id, params, sizeof(params), err)) < 0)
                return r;
        if (dm_table_add(&t, 0, v.sectors, "thin", params) < 0)
                return provider_error(err, -ENOMEM, "out of memory reverting %s", origin);
        snprintf(new_id, sizeof(new_id), "%" PRIu32, s.thin_id);
        snprintf(old_id, sizeof(old_id), "%" PRIu32, v.id);
        if ((r = thin_journal_open(dt, &j, "revert-", id, err)) < 0 ||
            (r = journal_append(&j, err, INTENT_REVERT, id, v.pool, new_id, v.name, old_id,
                                NULL)) < 0 ||
            (r = dm_remove(name, err)) < 0) {
                dm_table_free(&t);
                journal_done(&j);
                return r;
        }
        if (oinfo.exists)
                r = dm_load(origin, &t, false, err);
        if (r == 0 && oinfo.exists && (r = dm_suspend(origin, false, err)) == 0)
                r = dm_resume(origin, err);
        dm_table_free(&t);
        if (r < 0) {
                /* The origin still reads its own id: give the snapshot its device back. */
                struct vss_error_buf why;
                if (oinfo.exists)
                        dm_clear(origin, NULL);
                if (snap_activate(dt, &s, &why) < 0)
                        return r; /* the journal stays: recovery puts the snapshot back */
                journal_done(&j);
                return r;
        }
        uint32_t old = v.id;
        v.id = s.thin_id;
        if ((r = record_write(dt->state_dir, RECORD_VOLUME, v.name, &v, err)) < 0 ||
            (r = record_remove(dt->state_dir, RECORD_SNAPSHOT, id, err)) < 0 ||
            (r = pool_delete_id(v.pool, old, err)) < 0)
                return r;
        journal_done(&j);
        if (!oinfo.exists && (r = volume_activate(dt, &v, err)) < 0)
                return r;
        provider_log(LOG_NOTICE, "/dev/mapper/%s reverted to snapshot %s (thin id %" PRIu32
                     " replaces %" PRIu32 ")", origin, id, v.id, old);
        return 0;
}

/* --- at start --------------------------------------------------------------------------------- */

static int activate_one(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        DmThin *dt = userdata;
        struct vss_error_buf err;
        char name[DM_NAME_MAX];
        DmInfo info;

        /* An unfinished set's, an invalid one's, or one whose device is there: not ours here. */
        if (s->invalid || !s->created_usec || snap_device(s, name, &info, NULL) < 0 ||
            (info.exists && info.live_table))
                return 0;
        /* Its pool did not come back (logged): the snapshot waits for it. */
        if (thin_dm_name(name, sizeof(name), POOL_PREFIX, s->pool) < 0 ||
            dm_info_get(name, &info, NULL) < 0 || !info.exists || !info.live_table)
                return 0;
        if (s->attributes & VSS_ATTR_PERSISTENT) {
                if (snap_activate(dt, s, &err) < 0)
                        provider_log(LOG_ERR, "cannot bring back snapshot %s of %s: %s", s->id,
                                     s->origin, err.message);
                return 0;
        }
        /* A non-persistent snapshot without its device: the machine restarted. */
        if (snap_remove(dt, s, &err) < 0)
                provider_log(LOG_ERR, "cannot delete snapshot %s of %s, which was not "
                             "persistent: %s", s->id, s->origin, err.message);
        else
                provider_log(LOG_INFO, "snapshot %s of %s was not persistent: deleted after the "
                             "restart", s->id, s->origin);
        return 0;
}

void snap_activate_all(DmThin *dt)
{
        record_foreach(dt->state_dir, RECORD_SNAPSHOT, activate_one, dt);
}
