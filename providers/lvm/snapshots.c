/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshots.c: snapshots that exist: query, delete, expose, revert, and the
 * monitor that grows classic snapshots before they fill.
 *
 * lvs is the truth: a snapshot is an LV with the provider's tags and
 * vss_created (report.h); one without vss_created belongs to a set being
 * made (or to a crash, which recovery cleans). A classic snapshot whose
 * copy-on-write store filled is invalid (LVM's lv_snapshot_invalid): the
 * kernel drops it without harming the origin, and it is reported so. A
 * snapshot being merged into its origin (revert) is reported merging until
 * LVM removes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "providers/common/expose.h"
#include "providers/common/size.h"
#include "providers/common/util.h"
#include "providers/lvm/lvm.h"

typedef unsigned long long ull;

/* One snapshot: its row and tags. */
typedef struct Snap {
        LvRow row;
        SnapTags tags;
        char full[2 * LVM_NAME_MAX];
} Snap;

static bool snap_of_row(const LvRow *row, Snap *s)
{
        if (!snap_tags_parse(row->tags, &s->tags) || !s->tags.complete)
                return false;
        s->row = *row;
        snprintf(s->full, sizeof(s->full), "%s/%s", row->vg, row->name);
        return true;
}

/* Snapshot ID (complete); -ENOENT otherwise. */
static int snap_find(Lvm *lvm, const char *id, Snap *s, struct vss_error_buf *err)
{
        LvRow *rows = NULL;
        size_t n = 0;
        bool found = false;
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);

        for (size_t i = 0; r == 0 && i < n && !found; i++)
                found = snap_of_row(&rows[i], s) && strcmp(s->tags.snapshot_id, id) == 0;
        free(rows);
        if (r < 0)
                return r;
        return found ? 0 : provider_error(err, -ENOENT, "there is no snapshot %s", id);
}

/* Where S is mounted (into BUF), or NULL; an inactive LV is nowhere. */
static const char *snap_exposed(const Snap *s, char *buf, size_t size)
{
        struct stat st;

        if (!s->row.active || stat(s->row.dm_path, &st) < 0 || !S_ISBLK(st.st_mode))
                return NULL;
        return expose_find(major(st.st_rdev), minor(st.st_rdev), buf, size) == 0 ? buf : NULL;
}

static uint64_t snap_used(const LvRow *row)
{
        return row->data_hundredths > 0 ? row->size / 10000 * (uint64_t)row->data_hundredths : 0;
}

/* --- query ------------------------------------------------------------------------ */

static int report(Lvm *lvm, Snap *s, vss_snapshot_cb cb, void *userdata)
{
        char origin[300] = "", mnt[PATH_MAX];
        const char *exposed = snap_exposed(s, mnt, sizeof(mnt));
        bool classic = lv_row_is_classic_snapshot(&s->row);

        if (s->row.origin[0])
                lv_dm_path(s->row.vg, s->row.origin, origin, sizeof(origin));
        struct vss_snapshot_info vi = {
                .id = s->tags.snapshot_id, .set_id = s->tags.set_id, .origin = origin,
                .device = s->row.dm_path, .exposed_path = exposed ? exposed : "",
                .creation_usec = s->tags.created_usec, .attributes = s->tags.attributes,
                .state = s->row.invalid   ? VSS_SNAPSHOT_INVALID
                       : s->row.merging ? VSS_SNAPSHOT_MERGING : VSS_SNAPSHOT_VALID,
                /* A thin snapshot has no store of its own: its pool is listed instead. */
                .cow_used_bytes = classic ? snap_used(&s->row) : 0,
                .cow_size_bytes = classic ? s->row.size : 0,
        };
        return cb(&vi, userdata);
}

static int query_rows(Lvm *lvm, LvRow *rows, size_t n, vss_snapshot_cb cb, void *userdata)
{
        Snap s;
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++)
                if (snap_of_row(&rows[i], &s) && !lvm_set_known(lvm, s.tags.set_id))
                        r = report(lvm, &s, cb, userdata);
        return r;
}

int lvm_query(Lvm *lvm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        LvRow *rows = NULL;
        size_t n = 0;
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);

        if (r == 0)
                r = query_rows(lvm, rows, n, cb, userdata);
        free(rows);
        return r < 0 ? r : 0;
}

/* --- monitor: grow classic snapshots before they fill -------------------------------- */

/* The most a classic snapshot of an origin of BYTES can use: all of it, and its metadata. */
static uint64_t snapshot_cap(uint64_t bytes)
{
        return bytes + bytes / 64 + (4u << 20);
}

/* How big S may grow now: double, within its origin's maximum and the VG's free space. */
static uint64_t grow_target(Lvm *lvm, const LvRow *rows, size_t n, const Snap *s,
                            const LvRow *origin)
{
        char max_text[32];
        uint64_t max, allocated, used, want = s->row.size * 2;
        unsigned count;
        uint64_t cap = snapshot_cap(origin->size);

        if (want > cap)
                want = cap;
        lvm_max_size(lvm, origin, max_text, sizeof(max_text));
        lvm_snapshot_use(rows, n, origin, &allocated, &used, &count);
        if (size_parse(max_text, origin->size, &max) == 0 && max != SIZE_UNBOUNDED) {
                uint64_t room = max > allocated ? max - allocated : 0;
                if (want > s->row.size + room)
                        want = s->row.size + room;
        }
        if (want > s->row.size + s->row.vg_free)
                want = s->row.size + s->row.vg_free;
        return s->row.vg_extent_size ? want / s->row.vg_extent_size * s->row.vg_extent_size
                                     : want;
}

static void grow(Lvm *lvm, const LvRow *rows, size_t n, const Snap *s)
{
        const LvRow *origin = lv_rows_find((LvRow *)rows, n, s->row.vg, s->row.origin);
        struct vss_error_buf err;
        char size[32];

        if (!origin)
                return;
        uint64_t want = grow_target(lvm, rows, n, s, origin);
        if (want <= s->row.size) {
                provider_log(LOG_WARNING, "snapshot %s (%s) of %s/%s is %d%% full and cannot "
                             "grow: its maximum or its volume group's free space (%llu bytes) "
                             "is reached; it becomes invalid when it fills. Raise the maximum "
                             "(vssctl storage resize --for %s --maxsize SIZE), add space to "
                             "%s (vgextend) or delete older snapshots", s->tags.snapshot_id,
                             s->full, s->row.vg, s->row.origin, s->row.data_hundredths / 100,
                             (ull)s->row.vg_free, origin->dm_path, s->row.vg);
                return;
        }
        snprintf(size, sizeof(size), "%" PRIu64 "b", want);
        const char *args[] = { "lvextend", "-q", "--size", size, s->full, NULL };
        if (lvm_run(lvm, args, NULL, &err) < 0)
                provider_log(LOG_WARNING, "snapshot %s of %s/%s: cannot grow it: %s",
                             s->tags.snapshot_id, s->row.vg, s->row.origin, err.message);
        else
                provider_log(LOG_INFO, "snapshot %s of %s/%s grown to %llu MiB",
                             s->tags.snapshot_id, s->row.vg, s->row.origin, (ull)(want >> 20));
}

int lvm_monitor(Lvm *lvm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        LvRow *rows = NULL;
        size_t n = 0;
        bool grew = false;
        Snap s;
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);

        for (size_t i = 0; r == 0 && i < n; i++)
                if (snap_of_row(&rows[i], &s) && lv_row_is_classic_snapshot(&s.row) &&
                    !s.row.invalid && !s.row.merging && s.row.active &&
                    s.row.data_hundredths >= (int32_t)lvm->grow_at_percent * 100) {
                        grow(lvm, rows, n, &s);
                        grew = true;
                }
        if (r == 0 && grew) { /* report the sizes as they are now */
                free(rows);
                rows = NULL;
                r = lvm_lvs(lvm, NULL, &rows, &n, err);
        }
        if (r == 0)
                r = query_rows(lvm, rows, n, cb, userdata);
        free(rows);
        return r < 0 ? r : 0;
}

/* --- delete, expose ---------------------------------------------------------------- */

/* Snapshot ID, neither merging nor exposed: one that may be removed or merged now. */
static int snap_find_unused(Lvm *lvm, const char *id, Snap *s, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        int r = snap_find(lvm, id, s, err);

        if (r < 0)
                return r;
        if (s->row.merging)
                return provider_error(err, -EBUSY, "snapshot %s is being merged into %s/%s; "
                                      "LVM removes it when the merge ends", id, s->row.vg,
                                      s->row.origin);
        if (snap_exposed(s, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s: unexpose "
                                      "it first", id, mnt);
        return 0;
}

int lvm_delete(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        Snap s;
        int r = snap_find_unused(lvm, id, &s, err);

        if (r < 0)
                return r;
        const char *names[] = { s.full };
        return lvm_remove_lvs(lvm, names, 1, err);
}

int lvm_expose(Lvm *lvm, const char *id, const char *mount_point, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        Snap s;
        int r = snap_find(lvm, id, &s, err);

        if (r < 0)
                return r;
        if (s.row.invalid)
                return provider_error(err, -EINVAL, "snapshot %s is invalid (its copy-on-write "
                                      "store overflowed): there is nothing to read", id);
        if (s.row.merging)
                return provider_error(err, -EBUSY, "snapshot %s is being merged into its "
                                      "origin", id);
        if (snap_exposed(&s, mnt, sizeof(mnt)))
                return provider_error(err, -EBUSY, "snapshot %s is exposed at %s already", id,
                                      mnt);
        /* After a reboot a thin snapshot is inactive: LVM skips it unless told (-K). */
        const char *args[] = { "lvchange", "-ay", "-K", s.full, NULL };
        if (!s.row.active && (r = lvm_run(lvm, args, NULL, err)) < 0)
                return r;
        return expose_mount(s.row.dm_path, mount_point, err);
}

int lvm_unexpose(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        Snap s;
        int r = snap_find(lvm, id, &s, err);

        if (r < 0)
                return r;
        if (!snap_exposed(&s, mnt, sizeof(mnt)))
                return provider_error(err, -EINVAL, "snapshot %s is not exposed", id);
        return expose_unmount(mnt, err);
}

/* --- revert ------------------------------------------------------------------------- */

/*
 * lvconvert --merge, with LVM's semantics: when neither the origin nor the
 * snapshot is open the merge starts now (a thin one is done at once, a
 * classic one is copied back by the kernel while lvconvert's poller, in the
 * background, waits to remove the snapshot); otherwise it starts the next
 * time the origin is activated, and the snapshot is reported merging until
 * then.
 */
int lvm_revert(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        Snap s;
        int r = snap_find_unused(lvm, id, &s, err);

        if (r < 0)
                return r;
        if (s.row.invalid)
                return provider_error(err, -EINVAL, "snapshot %s is invalid (its copy-on-write "
                                      "store overflowed): it cannot be reverted to", id);
        bool thin = lv_row_is_thin(&s.row);
        const char *thin_args[] = { "lvconvert", "--mergethin", s.full, NULL };
        const char *classic_args[] = { "lvconvert", "--mergesnapshot", "--background",
                                       s.full, NULL };
        char *out = NULL;
        if ((r = lvm_run(lvm, thin ? thin_args : classic_args, &out, err)) < 0)
                return r;
        for (char *line = out; line && *line;) {
                size_t len = strcspn(line, "\n");
                if (len)
                        provider_log(LOG_INFO, "revert to snapshot %s of %s/%s: %.*s", id,
                                     s.row.vg, s.row.origin, (int)len, line);
                line += len + (line[len] == '\n');
        }
        free(out);
        return 0;
}
