/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshots.c: snapshots that exist: query, delete, expose, revert, and the
 * monitor that grows stores and drives merges.
 *
 * The kernel's table list is the truth: a snapshot is a device named
 * vss-snap-<id> whose DM UUID carries its set and attributes, with a live
 * table (one with only an inactive table is a set still being made). The meta
 * file adds the origin's name, the creation time and a pending revert.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/fault.h"
#include "providers/dm-snapshot/dmsnap.h"
#include "providers/common/expose.h"
#include "providers/dm-snapshot/intent.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

int snap_uuid_format(char *buf, size_t size, const char *set_id, const char *snapshot_id,
                     uint32_t attributes)
{
        return provider_printf(buf, size, "%s%s-%s-%" PRIx32, UUID_SNAP, set_id, snapshot_id,
                               attributes);
}

bool snap_uuid_parse(const char *uuid, SnapUuid *u)
{
        size_t pre = strlen(UUID_SNAP);
        char *end;

        if (strncmp(uuid, UUID_SNAP, pre) != 0 || strlen(uuid) < pre + 2 * ID_LEN + 3 ||
            uuid[pre + ID_LEN] != '-' || uuid[pre + 2 * ID_LEN + 1] != '-')
                return false;
        memcpy(u->set_id, uuid + pre, ID_LEN);
        u->set_id[ID_LEN] = '\0';
        memcpy(u->snapshot_id, uuid + pre + ID_LEN + 1, ID_LEN);
        u->snapshot_id[ID_LEN] = '\0';
        u->attributes = (uint32_t)strtoul(uuid + pre + 2 * ID_LEN + 2, &end, 16);
        return *end == '\0';
}

/* --- one snapshot ------------------------------------------------------------------ */

/* "allocated/total metadata" in sectors, or a word when the snapshot broke. */
void snap_parse_usage(const char *status, bool *valid, uint64_t *used, uint64_t *size)
{
        uint64_t a, t, m;

        *valid = sscanf(status, "%" SCNu64 "/%" SCNu64 " %" SCNu64, &a, &t, &m) == 3;
        *used = *valid ? a * 512 : 0;
        *size = *valid ? t * 512 : 0;
}

static int snap_status(Snap *s, struct vss_error_buf *err)
{
        DmTable st = { 0 };
        int r = dm_status_get(s->info.name, &st, err);

        if (r < 0)
                return r;
        snap_parse_usage(st.n ? st.targets[0].params : "", &s->valid, &s->used, &s->size);
        dm_table_free(&st);
        return 0;
}

/* The origin's name from the snapshot's table, when the meta file is gone. */
static void origin_from_table(Snap *s)
{
        DmTable t = { 0 };
        DmInfo real;
        unsigned maj, min;

        if (dm_table_get(s->info.name, false, &t, NULL) < 0)
                return;
        if (t.n == 1 && sscanf(t.targets[0].params, "%u:%u", &maj, &min) == 2 &&
            dm_info_by_devnum(maj, min, &real, NULL) == 0 &&
            strncmp(real.uuid, UUID_REAL, strlen(UUID_REAL)) == 0)
                snprintf(s->meta.origin, sizeof(s->meta.origin), "%s",
                         real.uuid + strlen(UUID_REAL));
        dm_table_free(&t);
}

int snap_load(DmSnap *dm, const DmInfo *info, Snap *s, struct vss_error_buf *err)
{
        memset(s, 0, sizeof(*s));
        s->info = *info;
        if (!snap_uuid_parse(info->uuid, &s->uuid))
                return -EINVAL;
        if (dmsnap_meta_find(dm, s->uuid.snapshot_id, &s->meta) < 0)
                origin_from_table(s);
        return snap_status(s, err);
}

int snap_find(DmSnap *dm, const char *id, Snap *s, struct vss_error_buf *err)
{
        char name[DM_NAME_MAX];
        DmInfo info;
        int r;

        if (provider_printf(name, sizeof(name), "%s%s", SNAP_NAME_PREFIX, id) < 0)
                return provider_error(err, -EINVAL, "%s is not a snapshot id", id);
        if ((r = dm_info_get(name, &info, err)) < 0)
                return r;
        if (!info.exists || !info.live_table || snap_load(dm, &info, s, err) == -EINVAL)
                return provider_error(err, -ENOENT, "there is no snapshot %s", id);
        return 0;
}

const char *snap_exposed(const Snap *s, char *buf, size_t size)
{
        return expose_find(s->info.major, s->info.minor, buf, size) == 0 ? buf : NULL;
}

/* --- query ------------------------------------------------------------------------- */

static void report_init(struct vss_snapshot_info *vi, const SnapMeta *m, char *origin,
                        size_t size)
{
        snprintf(origin, size, "/dev/mapper/%s", m->origin);
        *vi = (struct vss_snapshot_info){
                .id = m->snapshot_id, .set_id = m->set_id, .origin = origin,
                .device = "", .exposed_path = "", .creation_usec = m->created_usec,
                .attributes = m->attributes,
        };
}

static int report_snap(Snap *s, vss_snapshot_cb cb, void *userdata)
{
        char origin[DM_NAME_MAX + 16], device[DM_NAME_MAX + 16], mnt[PATH_MAX];
        struct vss_snapshot_info vi;
        const char *exposed = snap_exposed(s, mnt, sizeof(mnt));

        snprintf(s->meta.snapshot_id, sizeof(s->meta.snapshot_id), "%s", s->uuid.snapshot_id);
        snprintf(s->meta.set_id, sizeof(s->meta.set_id), "%s", s->uuid.set_id);
        s->meta.attributes = s->uuid.attributes;
        report_init(&vi, &s->meta, origin, sizeof(origin));
        dm_node_path(s->info.name, device, sizeof(device));
        vi.device = device;
        vi.exposed_path = exposed ? exposed : "";
        vi.state = !s->valid ? VSS_SNAPSHOT_INVALID
                 : s->meta.merge != META_MERGE_NONE ? VSS_SNAPSHOT_MERGING : VSS_SNAPSHOT_VALID;
        vi.cow_used_bytes = s->used;
        vi.cow_size_bytes = s->size;
        return cb(&vi, userdata);
}

/* A running merge has no snapshot device: the origin itself shows its progress. */
static int report_merge(const SnapMeta *m, vss_snapshot_cb cb, void *userdata)
{
        char origin[DM_NAME_MAX + 16];
        struct vss_snapshot_info vi;
        DmTable st = { 0 };
        bool valid;

        report_init(&vi, m, origin, sizeof(origin));
        vi.state = VSS_SNAPSHOT_MERGING;
        if (dm_status_get(m->origin, &st, NULL) == 0 && st.n == 1)
                snap_parse_usage(st.targets[0].params, &valid, &vi.cow_used_bytes,
                            &vi.cow_size_bytes);
        dm_table_free(&st);
        return cb(&vi, userdata);
}

struct query {
        DmSnap *dm;
        vss_snapshot_cb cb;
        void *userdata;
        struct vss_error_buf *err;
};

static int query_device(const DmInfo *info, void *userdata)
{
        struct query *q = userdata;
        Snap s;

        if (!info->live_table || snap_load(q->dm, info, &s, q->err) < 0)
                return 0;
        return report_snap(&s, q->cb, q->userdata);
}

static int query_merge(const SnapMeta *m, void *userdata)
{
        struct query *q = userdata;
        return m->merge == META_MERGE_RUNNING ? report_merge(m, q->cb, q->userdata) : 0;
}

int dmsnap_query(DmSnap *dm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct query q = { dm, cb, userdata, err };
        int r;

        dmsnap_flush_sets(dm);
        if ((r = dm_list(query_device, &q, err)) != 0)
                return r < 0 ? r : 0;
        r = dmsnap_meta_foreach(dm, query_merge, &q);
        return r < 0 ? provider_error(err, r, "cannot read the diff areas (%s and those set "
                                      "with vssctl storage): %s", dm->diff_area, strerror(-r))
                     : 0;
}

/* --- delete ------------------------------------------------------------------------- */

int dmsnap_snapshot_remove(DmSnap *dm, const char *id, const char *origin,
                           struct vss_error_buf *err)
{
        char name[DM_NAME_MAX];
        DmInfo info;
        Snap s;
        int r;

        if ((r = provider_printf(name, sizeof(name), "%s%s", SNAP_NAME_PREFIX, id)) < 0)
                return provider_error(err, -EINVAL, "%s is not a snapshot id", id);
        if (!origin) {
                bool known = dm_info_get(name, &info, NULL) == 0 && info.exists &&
                             snap_load(dm, &info, &s, NULL) != -EINVAL;
                origin = known ? s.meta.origin : "";
        }
        /* Once the device is gone, recovery must finish the job: a persistent
         * snapshot's files alone would read as one to bring back after a reboot. */
        Journal j = JOURNAL_INIT;
        if ((r = intent_open(dm, &j, INTENT_DELETE_PREFIX, id, err)) < 0 ||
            (r = journal_append(&j, err, INTENT_DELETE, id, origin, NULL)) < 0) {
                journal_done(&j);
                return r;
        }
        journal_close(&j);
        if ((r = dm_remove(name, err)) < 0) {
                journal_done(&j); /* nothing changed */
                return r;
        }
        VSS_FAULT("delete-after-remove");
        if (origin[0] && (r = origin_restore_if_unused(origin, err)) < 0)
                return r; /* the journal stays: recovery puts the origin back */
        /* The loop device goes by itself (autoclear) now that dm let go of it. */
        dmsnap_meta_remove(dm, id);
        journal_done(&j);
        return 0;
}

int dmsnap_delete(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        SnapMeta m;
        Snap s;
        int r;

        dmsnap_flush_sets(dm);
        if (dmsnap_meta_find(dm, id, &m) == 0 && m.merge == META_MERGE_RUNNING)
                return provider_error(err, -EBUSY, "snapshot %s is being merged into %s; it "
                                      "goes away by itself when the merge ends", id, m.origin);
        if ((r = snap_find(dm, id, &s, err)) < 0)
                return r;
        if (snap_exposed(&s, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s: unexpose it "
                                      "first", id, mnt);
        return dmsnap_snapshot_remove(dm, id, s.meta.origin, err);
}

/* --- expose ------------------------------------------------------------------------- */

int dmsnap_expose(DmSnap *dm, const char *id, const char *mount_point,
                  struct vss_error_buf *err)
{
        char device[DM_NAME_MAX + 16], mnt[PATH_MAX];
        Snap s;
        int r;

        dmsnap_flush_sets(dm);
        if ((r = snap_find(dm, id, &s, err)) < 0)
                return r;
        if (!s.valid)
                return provider_error(err, -EINVAL, "snapshot %s is invalid (its copy-on-write "
                                      "store overflowed): there is nothing to read", id);
        if (snap_exposed(&s, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s already", id,
                                      mnt);
        dm_node_path(s.info.name, device, sizeof(device));
        return expose_mount(device, mount_point, err);
}

int dmsnap_unexpose(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        Snap s;
        int r;

        if ((r = snap_find(dm, id, &s, err)) < 0)
                return r;
        if (!snap_exposed(&s, mnt, sizeof(mnt)))
                return provider_error(err, -EINVAL, "snapshot %s is not exposed", id);
        return expose_unmount(mnt, err);
}
