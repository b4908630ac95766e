/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set.c: one snapshot set of thin volumes, from prepare to release (or
 * abort).
 *
 * prepare does the slow work while applications run: a thin id per volume
 * from its pool's record, the snapshot's record and its device (no table
 * yet: a thin target can only be loaded once its id exists), every ioctl of
 * the window filled in, and the journal. The window is then, per volume:
 *
 *   hold     suspend the origin (lockfs: the kernel flushes and freezes its
 *            file system; every origin of the set is held: one instant)
 *   commit   "create_snap NEW ORIGIN" to the pool; load the snapshot's thin
 *            table (read-only) and resume it
 *   release  resume the origin
 *
 * Nothing in the window allocates, logs or touches a file; memory is locked
 * from prepare to release. The origins' suspensions, all at once and each
 * resumed exactly once even when the watchdog releases in the middle, are
 * providers/common/hold.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/common/hold.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

typedef struct ThinEntry {
        VolumeRecord vol;
        DmInfo origin;            /* the thin volume's device */
        SnapRecord snap;          /* the snapshot it becomes */
        char snap_name[DM_NAME_MAX];
        bool took_id, made_dev;
        DmSwitch resume_snap;
        DmRawIoctl create_snap, load_snap;
} ThinEntry;

struct ThinSet {
        uint32_t attributes;
        HoldWindow hold;          /* its id, the origins' suspension; on dt->sets */
        bool committed;
        uint64_t created_usec;
        size_t n;
        ThinEntry *entries;
        Journal journal;          /* removed when the set is finished or undone */
};

static HoldList set_list(DmThin *dt)
{
        return (HoldList){ &dt->lock, &dt->sets };
}

static ThinSet *set_of(HoldWindow *w)
{
        return w ? hold_container_of(w, ThinSet, hold) : NULL;
}

static ThinSet *set_find(DmThin *dt, const char *id)
{
        return set_of(hold_list_find(set_list(dt), id));
}

static void set_free(ThinSet *set)
{
        if (!set)
                return;
        hold_free(&set->hold);
        journal_close(&set->journal);
        free(set->entries);
        free(set);
}

static ThinSet *set_new(const struct vss_set_request *req)
{
        ThinSet *set = calloc(1, sizeof(*set));

        if (!set || !(set->entries = calloc(req->n_volumes, sizeof(ThinEntry))) ||
            hold_init(&set->hold, req->set_id, req->n_volumes, NULL) < 0) {
                if (set)
                        free(set->entries);
                free(set);
                return NULL;
        }
        set->attributes = req->attributes;
        set->journal = (Journal)JOURNAL_INIT;
        set->n = req->n_volumes;
        return set;
}

/* --- prepare -------------------------------------------------------------------------- */

static int entry_examine(DmThin *dt, ThinSet *set, ThinEntry *e,
                         const struct vss_volume_request *v, struct vss_error_buf *err)
{
        int r = volume_examine(dt, v->volume, &e->vol, &e->origin, err);

        if (r == 0)
                return -VSS_E_VOLUME_NOT_SUPPORTED;
        if (r < 0 || (r = monitor_check_room(dt, e->vol.pool, err)) < 0)
                return r;
        SnapRecord *s = &e->snap;
        snprintf(s->id, sizeof(s->id), "%s", v->snapshot_id);
        snprintf(s->set_id, sizeof(s->set_id), "%s", set->hold.set_id);
        snprintf(s->pool, sizeof(s->pool), "%s", e->vol.pool);
        snprintf(s->origin, sizeof(s->origin), "%s", e->vol.name);
        s->attributes = set->attributes;
        s->sectors = e->vol.sectors;
        return thin_dm_name(e->snap_name, sizeof(e->snap_name), TSNAP_PREFIX, s->id) < 0
                       ? provider_error(err, -EINVAL, "%s is not a snapshot id", s->id)
                       : 0;
}

static int snap_uuid(char *buf, size_t size, const SnapRecord *s)
{
        return provider_printf(buf, size, "%s%s-%s-%" PRIx32, UUID_TSNAP, s->set_id, s->id,
                               s->attributes);
}

/* The window's ioctls for E: nothing is left to build, name or allocate then. */
static int entry_ioctls(ThinEntry *e, struct vss_error_buf *err)
{
        char pool[DM_NAME_MAX], msg[64], params[64];
        int r;

        snprintf(msg, sizeof(msg), "create_snap %" PRIu32 " %" PRIu32, e->snap.thin_id,
                 e->vol.id);
        if ((r = pool_thin_params(e->vol.pool, e->snap.thin_id, params, sizeof(params), err)) < 0)
                return r;
        thin_dm_name(pool, sizeof(pool), POOL_PREFIX, e->vol.pool);
        if (dm_switch_init(&e->resume_snap, e->snap_name, false, false) < 0 ||
            dm_raw_message_init(&e->create_snap, pool, msg) < 0 ||
            dm_raw_load_init(&e->load_snap, e->snap_name, e->vol.sectors, "thin", params, true) < 0)
                return provider_error(err, -ENAMETOOLONG, "device-mapper name of %s too long",
                                      e->origin.name);
        return 0;
}

static int entry_prepare(DmThin *dt, ThinSet *set, ThinEntry *e, struct vss_error_buf *err)
{
        char uuid[DM_UUID_MAX], id[16];
        int r;

        if (!hold_add(&set->hold, e->origin.name, err))
                return -ENAMETOOLONG;
        if ((r = pool_take_id(dt, e->vol.pool, &e->snap.thin_id, err)) < 0)
                return r;
        snprintf(id, sizeof(id), "%" PRIu32, e->snap.thin_id);
        if ((r = journal_append(&set->journal, err, INTENT_SNAP, e->snap.id, e->snap.pool, id,
                                e->snap.origin, NULL)) < 0)
                return r;
        e->took_id = true;
        if ((r = record_write(dt->state_dir, RECORD_SNAPSHOT, e->snap.id, &e->snap, err)) < 0 ||
            (r = snap_uuid(uuid, sizeof(uuid), &e->snap)) < 0)
                return r;
        /* No table yet: a thin target needs its id, which commit's create_snap makes. */
        if ((r = dm_create(e->snap_name, uuid, NULL, true, false, err)) < 0)
                return r;
        e->made_dev = true;
        return entry_ioctls(e, err);
}

/* What the window will do, for recovery: no file may be written inside it. */
static int journal_window(ThinSet *set, struct vss_error_buf *err)
{
        char usec[32];
        int r = 0;

        for (size_t i = 0; r == 0 && i < set->n; i++)
                r = journal_append(&set->journal, err, INTENT_SUSPEND,
                                   set->entries[i].origin.name, NULL);
        snprintf(usec, sizeof(usec), "%" PRIu64, thin_now_usec());
        if (r == 0)
                r = journal_append(&set->journal, err, INTENT_READY, usec, NULL);
        journal_close(&set->journal);
        return r;
}

static int set_prepare(DmThin *dt, ThinSet *set, const struct vss_set_request *req,
                       struct vss_error_buf *err)
{
        char attributes[16], n[16];
        int r;

        for (size_t i = 0; i < set->n; i++)
                if ((r = entry_examine(dt, set, &set->entries[i], &req->volumes[i], err)) < 0)
                        return r;
        snprintf(attributes, sizeof(attributes), "%" PRIx32, set->attributes);
        snprintf(n, sizeof(n), "%zu", set->n);
        if ((r = thin_journal_open(dt, &set->journal, "", set->hold.set_id, err)) < 0 ||
            (r = journal_append(&set->journal, err, INTENT_SET, set->hold.set_id, attributes, n,
                                NULL)) < 0)
                return r;
        for (size_t i = 0; i < set->n; i++)
                if ((r = entry_prepare(dt, set, &set->entries[i], err)) < 0)
                        return r;
        if ((r = hold_arm(&set->hold, err)) < 0 || (r = journal_window(set, err)) < 0)
                return r;
        for (size_t i = 0; i < set->n; i++)
                dm_node_path(set->entries[i].snap_name, req->volumes[i].device,
                             sizeof(req->volumes[i].device));
        return 0;
}

static void set_undo(DmThin *dt, ThinSet *set);

int thin_prepare(DmThin *dt, const struct vss_set_request *req, struct vss_error_buf *err)
{
        ThinSet *set;
        int r;

        thin_flush_sets(dt);
        if (set_find(dt, req->set_id))
                return provider_error(err, -EEXIST, "set %s is prepared already", req->set_id);
        if (!(set = set_new(req)))
                return provider_error(err, -ENOMEM, "out of memory preparing set %s",
                                      req->set_id);
        if ((r = set_prepare(dt, set, req, err)) < 0) {
                set_undo(dt, set);
                set_free(set);
                return r;
        }
        hold_list_add(set_list(dt), &set->hold);
        return 0;
}

/* --- the window: no allocation, no logging, no file I/O ---------------------------------- */

static int window_set(DmThin *dt, const char *id, ThinSet **ret, struct vss_error_buf *err)
{
        *ret = set_find(dt, id);
        return *ret ? 0 : provider_error(err, -VSS_E_BAD_STATE, "set %s was not prepared", id);
}

int thin_hold(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        ThinSet *set;
        int r = window_set(dt, id, &set, err);

        if (r < 0)
                return r;
        set->created_usec = thin_now_usec();
        return hold_suspend_all(&set->hold, err);
}

int thin_commit(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        ThinSet *set;
        int r = window_set(dt, id, &set, err);

        for (size_t i = 0; r == 0 && i < set->n; i++) {
                ThinEntry *e = &set->entries[i];
                const char *step = "create the thin snapshot of";
                if (hold_released(&set->hold))
                        return hold_cancelled(&set->hold, err);
                r = dm_raw_run(set->hold.control_fd, &e->create_snap);
                if (r == 0) {
                        step = "load the snapshot table of";
                        r = dm_raw_run(set->hold.control_fd, &e->load_snap);
                }
                if (r == 0) {
                        step = "activate the snapshot of";
                        r = dm_switch_run(set->hold.control_fd, &e->resume_snap);
                }
                if (r < 0)
                        return provider_error(err, r, "cannot %s %s: %s%s", step,
                                              e->origin.name, strerror(-r),
                                              r == -ENOSPC ? " (its pool's metadata is full)"
                                                           : "");
        }
        set->committed = r == 0;
        return r;
}

int thin_release(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        ThinSet *set;
        int r = window_set(dt, id, &set, err);

        return r < 0 ? r : hold_release(&set->hold, err);
}

/* --- after the window ------------------------------------------------------------------- */

static void flush_set(DmThin *dt, ThinSet *set)
{
        struct vss_error_buf err;

        for (size_t i = 0; i < set->n; i++) {
                SnapRecord *s = &set->entries[i].snap;
                s->created_usec = set->created_usec;
                if (record_write(dt->state_dir, RECORD_SNAPSHOT, s->id, s, &err) < 0)
                        provider_log(LOG_WARNING, "%s", err.message);
        }
        journal_done(&set->journal); /* finished: nothing left to roll back */
}

void thin_flush_sets(DmThin *dt)
{
        HoldWindow *w = dt->sets, *next;

        for (; w; w = next) {
                ThinSet *set = set_of(w);
                next = w->next;
                if (!hold_released(w) || !set->committed)
                        continue;
                flush_set(dt, set);
                hold_list_remove(set_list(dt), w);
                set_free(set);
        }
}

static bool undo_failed(const struct vss_error_buf *err)
{
        provider_log(LOG_ERR, "%s", err->message);
        return false;
}

/* Take back what prepare (and a window) did, last volume first; the journal goes if all did. */
static void set_undo(DmThin *dt, ThinSet *set)
{
        struct vss_error_buf err;
        bool ok = true;

        if (hold_release(&set->hold, &err) < 0)
                ok = undo_failed(&err);
        for (size_t i = set->n; i-- > 0;) {
                ThinEntry *e = &set->entries[i];
                if (e->made_dev && dm_remove(e->snap_name, &err) < 0) {
                        ok = undo_failed(&err);
                        continue; /* its id stays: a device may still read it */
                }
                if (e->took_id && pool_delete_id(e->snap.pool, e->snap.thin_id, &err) < 0)
                        ok = undo_failed(&err);
                else if (e->took_id &&
                         record_remove(dt->state_dir, RECORD_SNAPSHOT, e->snap.id, &err) < 0)
                        ok = undo_failed(&err);
        }
        if (ok)
                journal_done(&set->journal);
        else if (set->journal.path[0])
                provider_log(LOG_ERR, "set %s is not wholly undone: its journal %s stays for "
                             "recovery (vssctl recover, or the next start of vssd)",
                             set->hold.set_id, set->journal.path);
}

/* A set this process no longer tracks (vssd restarted): its snapshots by record. */
struct set_snaps {
        DmThin *dt;
        const char *set_id;
        struct vss_error_buf *err;
        int r;
};

static int abort_recorded(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        struct set_snaps *a = userdata;

        if (strcmp(s->set_id, a->set_id) != 0)
                return 0;
        int r = snap_remove(a->dt, s, a->err);
        if (r < 0 && a->r == 0)
                a->r = r;
        return 0;
}

int thin_abort(DmThin *dt, const char *id, struct vss_error_buf *err)
{
        ThinSet *set = set_find(dt, id);

        if (set) {
                hold_list_remove(set_list(dt), &set->hold);
                set_undo(dt, set);
                set_free(set);
                return 0;
        }
        struct set_snaps a = { .dt = dt, .set_id = id, .err = err };
        int r = record_foreach(dt->state_dir, RECORD_SNAPSHOT, abort_recorded, &a);
        return r < 0 ? provider_error(err, r, "cannot read the snapshots in %s: %s",
                                      dt->state_dir, strerror(-r))
                     : a.r;
}

void thin_free_sets(DmThin *dt)
{
        while (dt->sets) {
                ThinSet *set = set_of(dt->sets);
                dt->sets = dt->sets->next;
                set_undo(dt, set);
                set_free(set);
        }
}
