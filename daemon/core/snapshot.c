/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot.c: snapshot objects and the provider ops on one snapshot: delete,
 * expose, unexpose and revert.
 *
 * A set allocates its snapshot objects before the hold window (nothing may
 * fail for lack of memory once the snapshots exist) and publishes them when it
 * is made; reconcile.c adopts the ones a provider reports that the core does
 * not know. One provider op runs on a snapshot at a time (snap->job): the
 * others are refused with Busy, except a deletion, which waits for the op
 * running (deleting is set at once, so nothing new starts meanwhile). One
 * DeleteSnapshots call (by id, by set or by volume) counts its deletions in a
 * JobBatch and replies once every one is back.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/core/internal.h"

/* exposed_path when not exposed; never freed. */
static char no_path[] = "";

static void snapshot_job_done(CoreJob *job);
static void snapshot_release_unexposed(CoreJob *job);

/* --- objects -------------------------------------------------------------------------- */

bool snapshot_is_published(const CoreSnapshot *snap)
{
        for (const CoreSnapshot *s = snap->set->snapshots; s; s = s->next)
                if (s == snap)
                        return true;
        return false;
}

static void snapshot_unlink(CoreSnapshot *snap)
{
        CoreSnapshot **lists[] = { &snap->set->snapshots, &snap->set->unpublished };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (CoreSnapshot **p = lists[i]; *p; p = &(*p)->next)
                        if (*p == snap) {
                                *p = snap->next;
                                return;
                        }
}

static void snapshot_append(CoreSnapshot **list, CoreSnapshot *snap)
{
        while (*list)
                list = &(*list)->next;
        snap->next = NULL;
        *list = snap;
}

static int snapshot_alloc(CoreSnapshot **ret, CoreSet *set, const char *id, const char *origin,
                          CoreProvider *p)
{
        CoreSnapshot *snap = calloc(1, sizeof(*snap));
        if (!snap || !(snap->origin = strdup(origin))) {
                free(snap);
                return -ENOMEM;
        }
        snprintf(snap->id, sizeof(snap->id), "%s", id);
        snap->set = set;
        snap->provider = p;
        snap->attributes = set->attributes;
        snap->state = VSS_SNAPSHOT_VALID;
        snap->exposed_path = no_path;
        snapshot_append(&set->unpublished, snap);
        if (ret)
                *ret = snap;
        return 0;
}

int snapshot_new(CoreSnapshot **ret, CoreSet *set, const CoreVolume *v)
{
        return snapshot_alloc(ret, set, v->snapshot_id, v->volume, v->provider);
}

int snapshot_adopt(CoreSnapshot **ret, CoreSet *set, CoreProvider *p,
                   const struct vss_snapshot_info *info)
{
        CoreSnapshot *snap;
        int r = snapshot_alloc(&snap, set, info->id, info->origin, p);
        if (r < 0)
                return r;
        if (info->exposed_path[0] && !(snap->exposed_path = strdup(info->exposed_path))) {
                snap->exposed_path = no_path;
                snapshot_free(snap);
                return -ENOMEM;
        }
        snap->attributes = info->attributes;
        snap->creation_usec = info->creation_usec;
        snap->state = info->state;
        snprintf(snap->device, sizeof(snap->device), "%s", info->device);
        snap->cow_used_bytes = info->cow_used_bytes;
        snap->cow_size_bytes = info->cow_size_bytes;
        *ret = snap;
        return 0;
}

void snapshot_publish(CoreSnapshot *snap, uint64_t creation_usec)
{
        Core *core = snap->set->core;
        snapshot_unlink(snap);
        snap->creation_usec = creation_usec;
        snap->seq = ++core->publish_seq;
        snapshot_append(&snap->set->snapshots, snap);
        core_notify_added(core, CORE_OBJECT_SNAPSHOT, snap);
        monitor_schedule(core);
}

CoreSnapshot *snapshot_find_unpublished(Core *core, const char *id)
{
        for (CoreSet *set = core->sets; set; set = set->next)
                for (CoreSnapshot *snap = set->unpublished; snap; snap = snap->next)
                        if (strcmp(snap->id, id) == 0)
                                return snap;
        return NULL;
}

void snapshot_set_exposed(CoreSnapshot *snap, char *path)
{
        char *now = path ? path : no_path;
        bool changed = strcmp(now, snap->exposed_path) != 0;
        if (snap->exposed_path != no_path)
                free(snap->exposed_path);
        snap->exposed_path = now;
        if (changed)
                core_notify_changed(snap->set->core, CORE_OBJECT_SNAPSHOT, snap,
                                    CORE_PROP_EXPOSED_PATH);
}

void snapshot_set_state(CoreSnapshot *snap, enum vss_snapshot_state state)
{
        if (snap->state == state)
                return;
        snap->state = state;
        core_notify_changed(snap->set->core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
}

void snapshot_set_cow(CoreSnapshot *snap, uint64_t used, uint64_t size)
{
        Core *core = snap->set->core;
        if (snap->cow_used_bytes != used) {
                snap->cow_used_bytes = used;
                core_notify_changed(core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_COW_USED);
        }
        if (snap->cow_size_bytes != size) {
                snap->cow_size_bytes = size;
                core_notify_changed(core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_COW_SIZE);
        }
}

/* Drop the object: the snapshot is gone, or never was. Tells the bus if it was shown. */
CoreSnapshot *snapshot_free(CoreSnapshot *snap)
{
        if (!snap)
                return NULL;
        Core *core = snap->set->core;
        bool published = snapshot_is_published(snap);
        snapshot_unlink(snap);
        if (published)
                core_notify_removed(core, CORE_OBJECT_SNAPSHOT, snap);
        if (snap->call) {
                char *msg = core_strdup_printf("snapshot %s of %s went away before %s finished "
                                               "(its set was aborted or released)", snap->id,
                                               snap->origin,
                                               core_job_op_to_string(snap->job->op));
                core_call_complete(core, snap->call, -ENOENT, msg, NULL, 0);
                core_string_free(msg);
        }
        core_job_orphan(snap->job);
        if (snap->batch) { /* gone some other way (an abort): as good as deleted */
                batch_count(snap->batch, 1);
                batch_step(snap->batch);
        }
        if (snap->exposed_path != no_path)
                free(snap->exposed_path);
        free(snap->origin);
        free(snap);
        return NULL;
}

/* --- deletion ---------------------------------------------------------------------------- */

static void snapshot_delete_done(CoreSnapshot *snap, CoreJob *job)
{
        CoreSet *set = snap->set;
        JobBatch *batch = snap->batch;
        snap->batch = NULL;
        /* -ENOENT: the provider no longer has it, which is what deleting wants. */
        if (job->r < 0 && job->r != -ENOENT) {
                char *msg = core_strdup_printf("could not delete snapshot %s of %s: %s", snap->id,
                                               snap->origin, core_job_error(job));
                snap->deleting = false;
                core_notify_changed(set->core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
                batch_fail(batch, -VSS_E_PROVIDER_FAILED, msg);
                core_string_free(msg);
        } else {
                batch_count(batch, 1);
                snapshot_free(snap);
                set_maybe_free(set);
        }
        batch_step(batch);
}

/*
 * Auto-release unmounts an exposed snapshot first: nobody is left to unexpose
 * it, and a provider refuses to delete a mounted snapshot (dm-snapshot does).
 */
static void snapshot_delete_start(CoreSnapshot *snap)
{
        enum core_job_op op = snap->releasing && snap->exposed_path[0] ? CORE_JOB_UNEXPOSE
                                                                       : CORE_JOB_DELETE;
        CoreJob *job;
        if (core_job_new(&job, snap->set->core, op, snap->provider, snap->id,
                         op == CORE_JOB_DELETE ? snapshot_job_done : snapshot_release_unexposed,
                         snap) < 0) {
                JobBatch *batch = snap->batch;
                snap->batch = NULL;
                snap->deleting = false;
                batch_fail(batch, -ENOMEM, "out of memory deleting a snapshot");
                batch_step(batch);
                return;
        }
        snap->job = job;
        core_job_start(job);
}

void snapshot_delete(CoreSnapshot *snap, JobBatch *batch)
{
        snap->deleting = true;
        snap->batch = batch;
        batch_hold(batch);
        core_notify_changed(snap->set->core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
        if (snap->job)
                snap->delete_waiting = true;
        else
                snapshot_delete_start(snap);
}

void snapshot_release(CoreSnapshot *snap, JobBatch *batch)
{
        snap->releasing = true;
        snapshot_delete(snap, batch);
}

/* The unmount before an auto-release deletion is back: now the deletion, or why not. */
static void snapshot_release_unexposed(CoreJob *job)
{
        CoreSnapshot *snap = job->owner;
        snap->job = NULL;
        /* -EOPNOTSUPP: the provider cannot unexpose; its delete decides. */
        if (job->r < 0 && job->r != -EOPNOTSUPP) {
                JobBatch *batch = snap->batch;
                char *msg = core_strdup_printf("could not unmount snapshot %s of %s from %s "
                                               "to release it: %s; unmount it and delete the "
                                               "snapshot", snap->id, snap->origin,
                                               snap->exposed_path, core_job_error(job));
                snap->batch = NULL;
                snap->deleting = false;
                core_notify_changed(snap->set->core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
                batch_fail(batch, -VSS_E_PROVIDER_FAILED, msg);
                core_string_free(msg);
                batch_step(batch);
                return;
        }
        if (job->r >= 0)
                snapshot_set_exposed(snap, NULL);
        snap->releasing = false;
        snapshot_delete_start(snap);
}

bool snapshot_delete_pending(const CoreSnapshot *snap)
{
        return snap->delete_waiting ||
               (snap->job && (snap->job->op == CORE_JOB_DELETE ||
                              snap->job->done == snapshot_release_unexposed));
}

/* Merging snapshots are left alone: the merge consumes them. */
void snapshots_release(CoreSet *set, JobBatch *batch)
{
        JobBatch *own = batch ? NULL : batch_new(set->core, NULL, NULL); /* logs failures */
        for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                if (!snap->deleting && snap->state != VSS_SNAPSHOT_MERGING)
                        snapshot_release(snap, batch ? batch : own);
        batch_step(own);
}

static bool snapshot_matches(const CoreSnapshot *snap, enum core_delete_by by,
                             const char *key)
{
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return false;
        switch (by) {
        case CORE_DELETE_SNAPSHOT:
                return strcmp(snap->id, key) == 0;
        case CORE_DELETE_SET:
                return strcmp(snap->set->id, key) == 0;
        default:
                return strcmp(snap->origin, key) == 0;
        }
}

/* How many snapshots match, and how many of those are not being deleted already. */
static size_t snapshots_count(Core *core, enum core_delete_by by, const char *key,
                              size_t *ret_idle)
{
        size_t n = 0, idle = 0;
        for (CoreSet *set = core->sets; set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        if (snapshot_matches(snap, by, key)) {
                                n++;
                                idle += !snap->deleting;
                        }
        *ret_idle = idle;
        return n;
}

static int snapshots_none(Core *core, enum core_delete_by by, const char *key,
                          struct vss_error_buf *err)
{
        CoreSnapshot *snap = by == CORE_DELETE_SNAPSHOT ? core_snapshot_find(core, key) : NULL;
        if (snap && snap->state == VSS_SNAPSHOT_MERGING)
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s is being merged into %s "
                                  "(reverted); it goes away by itself when the merge is done",
                                  key, snap->origin);
        switch (by) {
        case CORE_DELETE_SNAPSHOT:
                return core_error(err, -ENOENT, "no snapshot with id %s exists", key);
        case CORE_DELETE_SET:
                return core_error(err, -ENOENT, "snapshot set %s has no snapshots (or does not "
                                  "exist)", key);
        default:
                return core_error(err, -ENOENT, "volume %s has no snapshots", key);
        }
}

int core_snapshots_delete(Core *core, enum core_delete_by by, const char *key, void *call,
                          struct vss_error_buf *err)
{
        size_t idle;
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (!key || !key[0] || (unsigned)by > CORE_DELETE_VOLUME)
                return core_error(err, -EINVAL, "DeleteSnapshots needs a snapshot id, a set id "
                                  "or a volume");
        if (snapshots_count(core, by, key, &idle) == 0)
                return snapshots_none(core, by, key, err);
        if (idle == 0)
                return core_error(err, -EBUSY, "the snapshots of %s are being deleted already",
                                  key);
        JobBatch *batch = batch_new(core, call, NULL);
        if (!batch)
                return core_error(err, -ENOMEM, "out of memory deleting snapshots");
        core_enter(core);
        for (CoreSet *set = core->sets; set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        if (snapshot_matches(snap, by, key) && !snap->deleting)
                                snapshot_delete(snap, batch);
        batch_step(batch);
        core_leave(core);
        return 0;
}

/* --- expose, unexpose, revert ------------------------------------------------------------ */

/* The op is back: tell the caller, then start a deletion asked for meanwhile. */
static void snapshot_op_done(CoreSnapshot *snap, CoreJob *job)
{
        Core *core = snap->set->core;
        void *call = snap->call;
        snap->call = NULL;
        if (job->r < 0) {
                char *msg = core_strdup_printf("provider '%s' could not %s snapshot %s of %s: %s",
                                               job->provider->name,
                                               core_job_op_to_string(job->op), snap->id,
                                               snap->origin, core_job_error(job));
                core_call_complete(core, call, job->r, msg, NULL, 0);
                core_string_free(msg);
                return;
        }
        if (job->op == CORE_JOB_EXPOSE) {
                snapshot_set_exposed(snap, job->arg);
                job->arg = NULL; /* taken */
        } else if (job->op == CORE_JOB_UNEXPOSE) {
                snapshot_set_exposed(snap, NULL);
        } else {
                snapshot_set_state(snap, VSS_SNAPSHOT_MERGING);
                core_log(core, LOG_NOTICE, "snapshot %s is being merged into %s (Revert); it "
                         "goes away when the merge is done", snap->id, snap->origin);
        }
        core_call_complete(core, call, 0, NULL,
                           job->op == CORE_JOB_EXPOSE ? snap->exposed_path : NULL, 0);
}

static void snapshot_job_done(CoreJob *job)
{
        CoreSnapshot *snap = job->owner;
        snap->job = NULL;
        if (job->op == CORE_JOB_DELETE) {
                snapshot_delete_done(snap, job);
                return;
        }

        snapshot_op_done(snap, job);
        if (snap->delete_waiting) {
                snap->delete_waiting = false;
                snapshot_delete_start(snap);
        }
}

static int snapshot_op_start(CoreSnapshot *snap, enum core_job_op op, const char *arg,
                             void *call, struct vss_error_buf *err)
{
        Core *core = snap->set->core;
        CoreJob *job;
        if (core_job_new(&job, core, op, snap->provider, snap->id, snapshot_job_done, snap) < 0)
                return core_error(err, -ENOMEM, "out of memory starting %s of snapshot %s",
                                  core_job_op_to_string(op), snap->id);
        if (arg && !(job->arg = strdup(arg))) {
                core_job_free(job);
                return core_error(err, -ENOMEM, "out of memory starting %s of snapshot %s",
                                  core_job_op_to_string(op), snap->id);
        }
        snap->job = job;
        snap->call = call;
        core_enter(core);
        core_job_start(job);
        core_leave(core);
        return 0;
}

/* Can an op start on SNAP (DOING: "exposed", ...)? Else why not, and what to do. */
static int snapshot_check_idle(const CoreSnapshot *snap, const char *doing,
                               struct vss_error_buf *err)
{
        int r = core_check_running(snap->set->core, err);
        if (r < 0)
                return r;
        if (!snapshot_is_published(snap))
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s cannot be %s yet: its set "
                                  "%s is still being created; wait until DoSnapshotSet has "
                                  "returned", snap->id, doing, snap->set->id);
        if (snap->deleting)
                return core_error(err, -EBUSY, "snapshot %s of %s is being deleted, so it "
                                  "cannot be %s", snap->id, snap->origin, doing);
        if (snap->job)
                return core_error(err, -EBUSY, "snapshot %s of %s is busy (%s is running); "
                                  "retry when it is done", snap->id, snap->origin,
                                  core_job_op_to_string(snap->job->op));
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s is being merged into %s "
                                  "(reverted), so it cannot be %s; it goes away when the merge "
                                  "is done", snap->id, snap->origin, doing);
        return 0;
}

static bool path_has_dotdot(const char *path)
{
        for (const char *p = path; (p = strstr(p, "..")); p += 2)
                if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
                        return true;
        return false;
}

/* The mount point to use, checked, into BUF ("" or NULL: CORE_EXPOSE_DIR/<id>). */
static int snapshot_mount_point(const CoreSnapshot *snap, const char *mount_point, char *buf,
                                size_t size, struct vss_error_buf *err)
{
        if (!mount_point || !mount_point[0]) {
                snprintf(buf, size, CORE_EXPOSE_DIR "/%s", snap->id);
                return 0;
        }
        if (mount_point[0] != '/')
                return core_error(err, -EINVAL, "mount point \"%s\" is not an absolute path; give "
                                  "one such as /mnt/snapshot, or \"\" for " CORE_EXPOSE_DIR
                                  "/<snapshot id>", mount_point);
        if (mount_point[strspn(mount_point, "/")] == '\0')
                return core_error(err, -EINVAL, "a snapshot cannot be mounted on the root "
                                  "directory; give a directory such as /mnt/snapshot");
        if (path_has_dotdot(mount_point))
                return core_error(err, -EINVAL, "mount point \"%s\" has a \"..\" component; "
                                  "give the path without it", mount_point);
        if ((size_t)snprintf(buf, size, "%s", mount_point) >= size)
                return core_error(err, -EINVAL, "mount point \"%.64s...\" is longer than %zu "
                                  "bytes", mount_point, size - 1);
        return 0;
}

int core_snapshot_expose(CoreSnapshot *snap, const char *mount_point, void *call,
                         struct vss_error_buf *err)
{
        char path[PATH_MAX];
        int r = snapshot_check_idle(snap, "exposed", err);
        if (r < 0)
                return r;
        if (snap->exposed_path[0])
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s is already exposed at %s; "
                                  "call Unexpose first", snap->id, snap->exposed_path);
        if (snap->state == VSS_SNAPSHOT_INVALID)
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s of %s is invalid (its "
                                  "copy-on-write store overflowed), so its content is lost; "
                                  "delete it", snap->id, snap->origin);
        r = snapshot_mount_point(snap, mount_point, path, sizeof(path), err);
        if (r < 0)
                return r;
        return snapshot_op_start(snap, CORE_JOB_EXPOSE, path, call, err);
}

int core_snapshot_unexpose(CoreSnapshot *snap, void *call, struct vss_error_buf *err)
{
        int r = snapshot_check_idle(snap, "unexposed", err);
        if (r < 0)
                return r;
        if (!snap->exposed_path[0])
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s is not exposed; there is "
                                  "nothing to unexpose", snap->id);
        return snapshot_op_start(snap, CORE_JOB_UNEXPOSE, NULL, call, err);
}

int core_snapshot_revert(CoreSnapshot *snap, void *call, struct vss_error_buf *err)
{
        int r = snapshot_check_idle(snap, "reverted", err);
        if (r < 0)
                return r;
        if (snap->state == VSS_SNAPSHOT_INVALID)
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s of %s is invalid (its "
                                  "copy-on-write store overflowed): reverting would write lost "
                                  "data into %s; delete it instead", snap->id, snap->origin,
                                  snap->origin);
        if (snap->exposed_path[0])
                return core_error(err, -VSS_E_BAD_STATE, "snapshot %s is exposed at %s; call "
                                  "Unexpose before Revert", snap->id, snap->exposed_path);
        return snapshot_op_start(snap, CORE_JOB_REVERT, NULL, call, err);
}
