/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot.c: snapshot objects and their deletion.
 *
 * A set allocates its snapshot objects before the hold window (nothing may
 * fail for lack of memory once the snapshots exist) and publishes them when it
 * is made. Deleting goes through the provider, one job per snapshot; one
 * DeleteSnapshots call (by id, by set or by volume) counts them in a batch and
 * replies once every job is back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/internal.h"

struct DeleteBatch {
        Core *core;
        void *call;          /* NULL: nobody waits (auto-release) */
        unsigned n_pending;
        unsigned n_deleted;
        int r;               /* the first failure */
        char *message;
};

static bool snapshot_is_published(const CoreSnapshot *snap)
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

int snapshot_new(CoreSnapshot **ret, CoreSet *set, const CoreVolume *v)
{
        CoreSnapshot *snap = calloc(1, sizeof(*snap));
        if (!snap || !(snap->origin = strdup(v->volume))) {
                free(snap);
                return -ENOMEM;
        }
        memcpy(snap->id, v->snapshot_id, sizeof(snap->id));
        snap->set = set;
        snap->provider = v->provider;
        snap->attributes = set->attributes;
        snap->state = VSS_SNAPSHOT_VALID;
        snapshot_append(&set->unpublished, snap);
        if (ret)
                *ret = snap;
        return 0;
}

void snapshot_publish(CoreSnapshot *snap, uint64_t creation_usec)
{
        snapshot_unlink(snap);
        snap->creation_usec = creation_usec;
        snapshot_append(&snap->set->snapshots, snap);
        core_notify_added(snap->set->core, CORE_OBJECT_SNAPSHOT, snap);
}

/* --- batches ---------------------------------------------------------------------------- */

static void batch_step(DeleteBatch *batch)
{
        if (!batch || --batch->n_pending > 0)
                return;
        if (batch->call)
                core_call_complete(batch->core, batch->call, batch->r, batch->message, NULL,
                                   batch->n_deleted);
        core_string_free(batch->message);
        free(batch);
}

static void batch_fail(DeleteBatch *batch, int r, const char *message)
{
        if (!batch)
                return;
        if (!batch->r)
                batch->r = r;
        core_notes_append(&batch->message, message);
}

/* --- deletion ---------------------------------------------------------------------------- */

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
        core_job_orphan(snap->job);
        if (snap->batch) { /* gone some other way (an abort): as good as deleted */
                snap->batch->n_deleted++;
                batch_step(snap->batch);
        }
        free(snap->origin);
        free(snap);
        return NULL;
}

static void snapshot_job_done(CoreJob *job)
{
        CoreSnapshot *snap = job->owner;
        CoreSet *set = snap->set;
        DeleteBatch *batch = snap->batch;
        snap->job = NULL;
        snap->batch = NULL;
        /* -ENOENT: the provider no longer has it, which is what deleting wants. */
        if (job->r < 0 && job->r != -ENOENT) {
                char *msg = core_strdup_printf("could not delete snapshot %s of %s: %s", snap->id,
                                               snap->origin, job->err.message[0] ?
                                               job->err.message : vss_strerror(job->r));
                snap->deleting = false;
                core_notify_changed(set->core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
                batch_fail(batch, -VSS_E_PROVIDER_FAILED, msg);
                core_string_free(msg);
        } else {
                if (batch)
                        batch->n_deleted++;
                snapshot_free(snap);
                set_maybe_free(set);
        }
        batch_step(batch);
}

static void snapshot_delete_start(CoreSnapshot *snap, DeleteBatch *batch)
{
        Core *core = snap->set->core;
        CoreJob *job;
        if (core_job_new(&job, core, CORE_JOB_DELETE, snap->provider, snap->id, snapshot_job_done,
                         snap) < 0) {
                batch_fail(batch, -ENOMEM, "out of memory deleting a snapshot");
                return;
        }
        snap->job = job;
        snap->deleting = true;
        snap->batch = batch;
        if (batch)
                batch->n_pending++;
        core_notify_changed(core, CORE_OBJECT_SNAPSHOT, snap, CORE_PROP_STATE);
        core_job_start(job);
}

static DeleteBatch *batch_new(Core *core, void *call)
{
        DeleteBatch *batch = calloc(1, sizeof(*batch));
        if (!batch)
                return NULL;
        batch->core = core;
        batch->call = call;
        batch->n_pending = 1; /* held until every delete is started */
        return batch;
}

void snapshots_release(CoreSet *set)
{
        DeleteBatch *batch = batch_new(set->core, NULL);
        for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                if (!snap->deleting)
                        snapshot_delete_start(snap, batch);
        batch_step(batch);
}

static bool snapshot_matches(const CoreSnapshot *snap, enum core_delete_by by,
                             const char *key)
{
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

static int snapshots_none(enum core_delete_by by, const char *key, struct vss_error_buf *err)
{
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
        if (!key || !key[0] || (unsigned)by > CORE_DELETE_VOLUME)
                return core_error(err, -EINVAL, "DeleteSnapshots needs a snapshot id, a set id "
                                  "or a volume");
        if (snapshots_count(core, by, key, &idle) == 0)
                return snapshots_none(by, key, err);
        if (idle == 0)
                return core_error(err, -EBUSY, "the snapshots of %s are being deleted already",
                                  key);
        DeleteBatch *batch = batch_new(core, call);
        if (!batch)
                return core_error(err, -ENOMEM, "out of memory deleting snapshots");
        core_enter(core);
        for (CoreSet *set = core->sets; set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        if (snapshot_matches(snap, by, key) && !snap->deleting)
                                snapshot_delete_start(snap, batch);
        batch_step(batch);
        core_leave(core);
        return 0;
}
