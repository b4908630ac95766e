/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshots.c: delete, expose, unexpose, revert, query and monitor. */
#include "tests/providers/fake/fake.h"

/* --- single snapshots ----------------------------------------------------- */

/* Begin OP on snapshot SNAPSHOT_ID; NULL, with *RET_R the op's result, if it cannot go on. */
static struct fake_snapshot *snapshot_op_begin(struct fake *f, struct line *line, const char *op,
                                               const char *snapshot_id, const char *extra,
                                               struct vss_error_buf *err, int *ret_r)
{
        int r = op_begin(f, line_start(line, op, snapshot_id, extra), NULL, err);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        struct fake_snapshot *snap = snapshot_lookup(f, snapshot_id, err);
        if (!snap)
                *ret_r = op_end(f, -ENOENT);
        return snap;
}

int fake_delete_snapshot(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "delete", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is being "
                                           "merged into its origin; it goes when the merge "
                                           "is done", snapshot_id));
        snapshot_remove(f, snap);
        return op_end_saved(f, 0);
}

int fake_expose(void *state, const char *snapshot_id, const char *mount_point,
                struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "expose", snapshot_id,
                                                       mount_point, err, &r);
        if (!snap)
                return r;
        if (!mount_point || !mount_point[0])
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "expose of snapshot "
                                           "%s without a mount point", snapshot_id));
        if (snap->exposed)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is "
                                           "already exposed at %s; unexpose it first",
                                           snapshot_id, snap->exposed));
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is being "
                                           "merged into its origin", snapshot_id));
        snap->exposed = strdup(mount_point);
        if (!snap->exposed)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory "
                                           "exposing snapshot %s", snapshot_id));
        f->dirty = true;
        return op_end_saved(f, 0);
}

int fake_unexpose(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "unexpose", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        if (!snap->exposed)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "snapshot "
                                           "%s is not exposed", snapshot_id));
        free(snap->exposed);
        snap->exposed = NULL;
        f->dirty = true;
        return op_end_saved(f, 0);
}

/*
 * A merge folds the snapshot back into its origin, which consumes the snapshot:
 * merging until the next monitor(), which finishes it.
 */
int fake_revert(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "revert", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        if (snap->state != VSS_SNAPSHOT_VALID)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "snapshot %s "
                                           "is %s; only a valid snapshot can be reverted",
                                           snapshot_id, snap->state == VSS_SNAPSHOT_MERGING
                                                   ? "being merged already" : "invalid"));
        if (snap->exposed)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is exposed "
                                           "at %s; unexpose it first", snapshot_id,
                                           snap->exposed));
        snap->state = VSS_SNAPSHOT_MERGING;
        f->dirty = true;
        return op_end_saved(f, 0);
}

/* --- query ---------------------------------------------------------------- */

static char *pack_string(char **p, const char *s)
{
        size_t n = strlen(s) + 1;
        char *copy = memcpy(*p, s, n);
        *p += n;
        return copy;
}

/*
 * Copy every snapshot into one block (infos first, then their strings), so
 * the callback runs without the lock and may call ops itself (delete, say).
 */
static int snapshots_copy(struct fake *f, struct vss_snapshot_info **ret, size_t *ret_n)
{
        size_t n = 0, bytes = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (!snap->exists)
                                continue;
                        n++;
                        bytes += strlen(snap->id) + strlen(s->id) + strlen(snap->origin) +
                                 strlen(snap->device) +
                                 (snap->exposed ? strlen(snap->exposed) : 0) + 5;
                }
        struct vss_snapshot_info *infos = malloc(n * sizeof(*infos) + bytes + 1);
        if (!infos)
                return -ENOMEM;
        char *p = (char *)(infos + n);
        size_t k = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (!snap->exists)
                                continue;
                        infos[k++] = (struct vss_snapshot_info){
                                .id = pack_string(&p, snap->id),
                                .set_id = pack_string(&p, s->id),
                                .origin = pack_string(&p, snap->origin),
                                .device = pack_string(&p, snap->device),
                                .exposed_path = pack_string(&p, snap->exposed ? snap->exposed : ""),
                                .creation_usec = snap->creation_usec,
                                .attributes = s->attributes,
                                .state = snap->state,
                                .cow_used_bytes = snap->cow_used,
                                .cow_size_bytes = FAKE_COW_SIZE,
                        };
                }
        *ret = infos;
        *ret_n = n;
        return 0;
}

/* Report every snapshot to CB; called with the lock held (by op_begin), which it drops. */
static int snapshots_report(struct fake *f, vss_snapshot_cb cb, void *userdata,
                            struct vss_error_buf *err)
{
        struct vss_snapshot_info *infos = NULL;
        size_t n = 0;
        int r = op_end_saved(f, snapshots_copy(f, &infos, &n));
        if (r < 0)
                return set_error(err, r, FAKE_WHO "out of memory listing snapshots");
        for (size_t i = 0; cb && r == 0 && i < n; i++)
                r = cb(&infos[i], userdata);
        free(infos);
        return r;
}

int fake_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "query", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        return snapshots_report(f, cb, userdata, err);
}

/* Housekeeping, then the report: merges revert() started are done by now. */
int fake_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                 struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "monitor", NULL, NULL), NULL, err);
        if (r < 0)
                return r; /* "invalidate" lines were applied by op_begin */
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && s->snaps[i].state == VSS_SNAPSHOT_MERGING)
                                snapshot_remove(f, &s->snaps[i]);
        return snapshots_report(f, cb, userdata, err);
}
