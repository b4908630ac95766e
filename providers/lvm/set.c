/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set.c: one snapshot set of LVs, from prepare to finish (or abort).
 *
 * LVM has no command that snapshots several LVs at one instant, so:
 *
 * Thin LVs (any pool): prepare makes each snapshot with lvcreate, which
 * allocates its thin device id and records the snapshot, its origin and its
 * tags in the VG's metadata (not activated). The window then takes them all
 * again at one instant:
 *
 *   hold     suspend every origin's dm device (lockfs: the kernel flushes and
 *            freezes its file system; the point in time)
 *   commit   send each pool "delete SNAP_ID" and "create_snap SNAP_ID
 *            ORIGIN_ID": the id LVM recorded now holds the origin as it is
 *   release  resume every origin
 *
 * LVM's metadata stays exact: the same ids and origins, and these messages
 * do not change the pool's transaction id. finish activates the snapshots
 * and tags them complete (vss_created).
 *
 * Thick (linear, striped) LVs: a classic snapshot is made by lvcreate
 * --snapshot, which suspends and resumes the origin itself, one LV after
 * the other; so they are made in finish, after the window, writers still
 * frozen, and the set's atomicity is "writers-only".
 *
 * The window allocates nothing, logs nothing and touches no file: every
 * suspend, resume and message is an ioctl prepared in prepare. The origins'
 * suspensions, all at once and each resumed exactly once even when the
 * watchdog releases in the middle, are providers/common/hold.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "providers/common/dm.h"
#include "providers/common/journal.h"
#include "providers/common/util.h"
#include "providers/lvm/intent.h"
#include "providers/lvm/lvm.h"

typedef struct SetEntry {
        LvmVolume vol;
        char snapshot_id[LVM_ID_LEN + 1];
        char snap_lv[LVM_NAME_MAX];
        char full[2 * LVM_NAME_MAX];    /* VG/snapshot LV, as the tools name it */
        bool made;                      /* the snapshot LV exists */
        int64_t snap_thin_id;           /* thin: the id LVM gave the snapshot */
        atomic_bool deleted;            /* the window deleted snap_thin_id, not re-made yet */
        DmRawIoctl msg_delete, msg_create;
} SetEntry;

struct LvmSet {
        uint32_t attributes;
        HoldWindow hold;                /* its id, the thin origins' suspension; on lvm->sets */
        bool committed;
        uint64_t created_usec;          /* the window's instant */
        size_t n, n_thin;
        SetEntry *entries;
        Journal journal;
};

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static HoldList set_list(Lvm *lvm)
{
        return (HoldList){ &lvm->lock, &lvm->sets };
}

static LvmSet *set_of(HoldWindow *w)
{
        return w ? hold_container_of(w, LvmSet, hold) : NULL;
}

static LvmSet *set_find(Lvm *lvm, const char *id)
{
        return set_of(hold_list_find(set_list(lvm), id));
}

bool lvm_set_known(Lvm *lvm, const char *id)
{
        return set_find(lvm, id) != NULL;
}

static void set_free(LvmSet *set)
{
        if (!set)
                return;
        hold_free(&set->hold);
        journal_close(&set->journal);
        free(set->entries);
        free(set);
}

static LvmSet *set_new(const struct vss_set_request *req)
{
        LvmSet *set = calloc(1, sizeof(*set));

        if (!set || !(set->entries = calloc(req->n_volumes, sizeof(SetEntry))) ||
            hold_init(&set->hold, req->set_id, req->n_volumes, NULL) < 0) {
                if (set)
                        free(set->entries);
                free(set);
                return NULL;
        }
        set->attributes = req->attributes;
        set->journal = (Journal)JOURNAL_INIT;
        set->n = req->n_volumes;
        for (size_t i = 0; i < set->n; i++)
                atomic_init(&set->entries[i].deleted, false);
        return set;
}

/* --- the tools ------------------------------------------------------------------- */

/* The tags of a new snapshot: vss, its set, id and attributes, and (CREATED) its time. */
typedef struct SnapTagArgs {
        char set[80], snapshot[80], attributes[40], created[48];
} SnapTagArgs;

static size_t tag_args(const LvmSet *set, const SetEntry *e, uint64_t created, SnapTagArgs *t,
                       const char **args, size_t k)
{
        snprintf(t->set, sizeof(t->set), "vss_set=%s", set->hold.set_id);
        snprintf(t->snapshot, sizeof(t->snapshot), "vss_snapshot=%s", e->snapshot_id);
        snprintf(t->attributes, sizeof(t->attributes), "vss_attributes=%" PRIx32,
                 set->attributes);
        snprintf(t->created, sizeof(t->created), "vss_created=%" PRIu64, created);
        const char *tags[] = { "vss", t->set, t->snapshot, t->attributes, t->created };
        for (size_t i = 0; i < (created ? 5u : 4u); i++) {
                args[k++] = "--addtag";
                args[k++] = tags[i];
        }
        return k;
}

static int make_thin(Lvm *lvm, LvmSet *set, SetEntry *e, struct vss_error_buf *err)
{
        char origin[2 * LVM_NAME_MAX], origin_id[24];
        const char *args[24] = { "lvcreate", "-q", "--snapshot", "--permission", "r",
                                 "--name", e->snap_lv };
        SnapTagArgs t;
        size_t k = tag_args(set, e, 0, &t, args, 7);
        int r;

        snprintf(origin, sizeof(origin), "%s/%s", e->vol.lv.vg, e->vol.lv.name);
        snprintf(origin_id, sizeof(origin_id), "%" PRId64, e->vol.lv.thin_id);
        args[k++] = origin;
        args[k] = NULL;
        if ((r = journal_append(&set->journal, err, INTENT_THIN, e->snapshot_id, e->vol.lv.vg,
                                e->snap_lv, e->vol.dm_name, e->vol.pool_dm, origin_id,
                                NULL)) < 0)
                return r;
        if ((r = lvm_run(lvm, args, NULL, err)) < 0)
                return r;
        e->made = true;
        return 0;
}

int lvm_remove_lvs(Lvm *lvm, const char *const *names, size_t n, struct vss_error_buf *err)
{
        const char **args = calloc(n + 4, sizeof(char *));
        size_t k = 0;
        int r;

        if (!args)
                return provider_error(err, -ENOMEM, "out of memory removing snapshots");
        args[k++] = "lvremove";
        args[k++] = "-f";
        args[k++] = "-q";
        for (size_t i = 0; i < n; i++)
                args[k++] = names[i];
        args[k] = NULL;
        r = n ? lvm_run(lvm, args, NULL, err) : 0;
        free(args);
        return r;
}

int lvm_thin_restore(const char *pool_dm, int64_t snap_id, int64_t origin_id,
                     struct vss_error_buf *err)
{
        char msg[64];
        struct vss_error_buf why;

        snprintf(msg, sizeof(msg), "create_snap %" PRId64 " %" PRId64, snap_id, origin_id);
        int r = dm_message(pool_dm, msg, &why);
        if (r == -EEXIST) /* the window never deleted it, or re-made it */
                return 0;
        return r < 0 ? provider_error(err, r, "%s", why.message) : 0;
}

/* --- prepare ----------------------------------------------------------------------- */

static int entry_examine(Lvm *lvm, SetEntry *e, const struct vss_volume_request *v,
                         struct vss_error_buf *err)
{
        int r = lvm_volume_examine(lvm, v->volume, &e->vol, err);

        if (r == 0)
                return -VSS_E_VOLUME_NOT_SUPPORTED;
        if (r < 0)
                return r;
        snprintf(e->snapshot_id, sizeof(e->snapshot_id), "%s", v->snapshot_id);
        if (snap_lv_name(v->snapshot_id, e->snap_lv, sizeof(e->snap_lv)) < 0)
                return provider_error(err, -EINVAL, "%s is not a snapshot id", v->snapshot_id);
        snprintf(e->full, sizeof(e->full), "%s/%s", e->vol.lv.vg, e->snap_lv);
        return 0;
}

/* The thin ids LVM gave the new snapshots; the origins' must be as examined. */
static int read_thin_ids(Lvm *lvm, LvmSet *set, struct vss_error_buf *err)
{
        LvRow *rows = NULL, *row;
        size_t n = 0;
        char id[24];
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);

        for (size_t i = 0; r == 0 && i < set->n; i++) {
                SetEntry *e = &set->entries[i];
                if (!e->vol.thin)
                        continue;
                row = lv_rows_find(rows, n, e->vol.lv.vg, e->snap_lv);
                const LvRow *origin = lv_rows_find(rows, n, e->vol.lv.vg, e->vol.lv.name);
                if (!row || row->thin_id < 0 || !origin || origin->thin_id != e->vol.lv.thin_id) {
                        r = provider_error(err, -EIO, "lvs does not show the thin snapshot %s "
                                           "of %s/%s that lvcreate just made (or the origin's "
                                           "thin id changed)", e->full, e->vol.lv.vg,
                                           e->vol.lv.name);
                        break;
                }
                e->snap_thin_id = row->thin_id;
                snprintf(id, sizeof(id), "%" PRId64, e->snap_thin_id);
                r = journal_append(&set->journal, err, INTENT_IDS, e->snapshot_id, id, NULL);
        }
        free(rows);
        return r;
}

static int window_prepare(SetEntry *e)
{
        char msg[64];

        snprintf(msg, sizeof(msg), "delete %" PRId64, e->snap_thin_id);
        if (dm_raw_message_init(&e->msg_delete, e->vol.pool_dm, msg) < 0)
                return -ENAMETOOLONG;
        snprintf(msg, sizeof(msg), "create_snap %" PRId64 " %" PRId64, e->snap_thin_id,
                 e->vol.lv.thin_id);
        return dm_raw_message_init(&e->msg_create, e->vol.pool_dm, msg);
}

static int set_prepare_thin(Lvm *lvm, LvmSet *set, struct vss_error_buf *err)
{
        int r;

        for (size_t i = 0; i < set->n; i++)
                if (set->entries[i].vol.thin &&
                    (r = make_thin(lvm, set, &set->entries[i], err)) < 0)
                        return r;
        if ((r = read_thin_ids(lvm, set, err)) < 0)
                return r;
        for (size_t i = 0; i < set->n; i++) {
                SetEntry *e = &set->entries[i];
                if (!e->vol.thin)
                        continue;
                if (!hold_add(&set->hold, e->vol.dm_name, err))
                        return -ENAMETOOLONG;
                if (window_prepare(e) < 0)
                        return provider_error(err, -ENAMETOOLONG, "device-mapper names of %s "
                                              "too long", e->full);
        }
        return hold_arm(&set->hold, err);
}

static int set_prepare(Lvm *lvm, LvmSet *set, struct vss_set_request *req,
                       struct vss_error_buf *err)
{
        char attributes[16], n[16], usec[32];
        int r;

        for (size_t i = 0; i < set->n; i++) {
                if ((r = entry_examine(lvm, &set->entries[i], &req->volumes[i], err)) < 0)
                        return r;
                set->n_thin += set->entries[i].vol.thin;
        }
        snprintf(attributes, sizeof(attributes), "%" PRIx32, set->attributes);
        snprintf(n, sizeof(n), "%zu", set->n);
        if ((r = journal_open(&set->journal, lvm->journal_dir, set->hold.set_id, err)) < 0 ||
            (r = journal_append(&set->journal, err, INTENT_SET, set->hold.set_id, attributes, n,
                                NULL)) < 0)
                return r;
        if (set->n_thin && (r = set_prepare_thin(lvm, set, err)) < 0)
                return r;
        snprintf(usec, sizeof(usec), "%" PRIu64, realtime_usec());
        if ((r = journal_append(&set->journal, err, INTENT_READY, usec, NULL)) < 0)
                return r;
        journal_close(&set->journal);
        for (size_t i = 0; i < set->n; i++) {
                const SetEntry *e = &set->entries[i];
                lv_dm_path(e->vol.lv.vg, e->snap_lv, req->volumes[i].device,
                           sizeof(req->volumes[i].device));
        }
        if (set->n_thin < set->n)
                req->atomicity = VSS_ATOMICITY_WRITERS_ONLY;
        return 0;
}

static void set_undo(Lvm *lvm, LvmSet *set);

int lvm_prepare(Lvm *lvm, struct vss_set_request *req, struct vss_error_buf *err)
{
        LvmSet *set;
        int r;

        if (set_find(lvm, req->set_id))
                return provider_error(err, -EEXIST, "set %s is prepared already", req->set_id);
        if (!(set = set_new(req)))
                return provider_error(err, -ENOMEM, "out of memory preparing set %s",
                                      req->set_id);
        if ((r = set_prepare(lvm, set, req, err)) < 0) {
                set_undo(lvm, set);
                set_free(set);
                return r;
        }
        hold_list_add(set_list(lvm), &set->hold);
        return 0;
}

/* --- the window: no allocation, no logging, no file I/O ------------------------------ */

static int window_set(Lvm *lvm, const char *id, LvmSet **ret, struct vss_error_buf *err)
{
        *ret = set_find(lvm, id);
        return *ret ? 0 : provider_error(err, -VSS_E_BAD_STATE, "set %s was not prepared", id);
}

int lvm_hold(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvmSet *set;
        int r = window_set(lvm, id, &set, err);

        if (r < 0)
                return r;
        set->created_usec = realtime_usec();
        return hold_suspend_all(&set->hold, err);
}

static int commit_entry(LvmSet *set, SetEntry *e, struct vss_error_buf *err)
{
        int r = dm_raw_run(set->hold.control_fd, &e->msg_delete);

        if (r < 0)
                return provider_error(err, r, "cannot delete thin device %" PRId64 " of %s in "
                                      "%s: %s", e->snap_thin_id, e->full, e->vol.pool_dm,
                                      strerror(-r));
        atomic_store(&e->deleted, true);
        if ((r = dm_raw_run(set->hold.control_fd, &e->msg_create)) < 0)
                return provider_error(err, r, "cannot snapshot %s (create_snap %" PRId64
                                      " %" PRId64 " in %s): %s", e->vol.dm_name,
                                      e->snap_thin_id, e->vol.lv.thin_id, e->vol.pool_dm,
                                      strerror(-r));
        atomic_store(&e->deleted, false);
        return 0;
}

int lvm_commit(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvmSet *set;
        int r = window_set(lvm, id, &set, err);

        for (size_t i = 0; r == 0 && i < set->n; i++) {
                if (!set->entries[i].vol.thin)
                        continue;
                if (hold_released(&set->hold))
                        return hold_cancelled(&set->hold, err);
                r = commit_entry(set, &set->entries[i], err);
        }
        if (r == 0)
                set->committed = true;
        return r;
}

int lvm_release(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvmSet *set;
        int r = window_set(lvm, id, &set, err);

        return r < 0 ? r : hold_release(&set->hold, err);
}

/* --- finish ------------------------------------------------------------------------ */

/* Activate the thin snapshots (they skip activation by default) and tag them complete. */
static int finish_thin(Lvm *lvm, LvmSet *set, struct vss_error_buf *err)
{
        char created[48];
        const char **args = calloc(set->n + 8, sizeof(char *));
        size_t k = 0, first;
        int r;

        if (!args)
                return provider_error(err, -ENOMEM, "out of memory finishing set %s",
                                      set->hold.set_id);
        args[k++] = "lvchange";
        args[k++] = "-ay";
        args[k++] = "-K";
        first = k;
        for (size_t i = 0; i < set->n; i++)
                if (set->entries[i].vol.thin)
                        args[k++] = set->entries[i].full;
        args[k] = NULL;
        r = lvm_run(lvm, args, NULL, err);
        snprintf(created, sizeof(created), "vss_created=%" PRIu64, set->created_usec);
        args[first - 2] = "--addtag";
        args[first - 1] = created;
        if (r == 0)
                r = lvm_run(lvm, args + first - 3, NULL, err);
        free(args);
        return r;
}

/* A classic snapshot, made now: it is its own instant, sized by the diff-area policy. */
static int make_thick(Lvm *lvm, LvmSet *set, SetEntry *e, struct vss_error_buf *err)
{
        char origin[2 * LVM_NAME_MAX], size[32];
        const char *args[32] = { "lvcreate", "-q", "--snapshot", "--permission", "r",
                                 "--name", e->snap_lv, "--size", size };
        LvRow *rows = NULL;
        size_t n = 0;
        SnapTagArgs t;
        uint64_t bytes;
        int r = lvm_lvs(lvm, e->vol.lv.vg, &rows, &n, err);
        const LvRow *lv = r == 0 ? lv_rows_find(rows, n, e->vol.lv.vg, e->vol.lv.name) : NULL;

        if (r == 0 && !lv)
                r = provider_error(err, -ENOENT, "%s/%s is gone", e->vol.lv.vg, e->vol.lv.name);
        if (r == 0)
                r = lvm_new_snapshot_size(lvm, rows, n, lv, &bytes, err);
        free(rows);
        if (r < 0)
                return r;
        snprintf(size, sizeof(size), "%" PRIu64 "b", bytes);
        size_t k = tag_args(set, e, realtime_usec(), &t, args, 9);
        snprintf(origin, sizeof(origin), "%s/%s", e->vol.lv.vg, e->vol.lv.name);
        args[k++] = origin;
        args[k] = NULL;
        if ((r = journal_open(&set->journal, lvm->journal_dir, set->hold.set_id, err)) < 0 ||
            (r = journal_append(&set->journal, err, INTENT_THICK, e->snapshot_id, e->vol.lv.vg,
                                e->snap_lv, NULL)) < 0)
                return r;
        journal_close(&set->journal);
        if ((r = lvm_run(lvm, args, NULL, err)) < 0)
                return r;
        e->made = true;
        return 0;
}

int lvm_finish(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvmSet *set = set_find(lvm, id);
        int r = 0;

        if (!set)
                return provider_error(err, -VSS_E_BAD_STATE, "set %s was not prepared", id);
        if (set->n_thin && !set->committed)
                return provider_error(err, -VSS_E_BAD_STATE, "set %s did not go through its "
                                      "window", id);
        if (set->n_thin)
                r = finish_thin(lvm, set, err);
        for (size_t i = 0; r == 0 && i < set->n; i++)
                if (!set->entries[i].vol.thin)
                        r = make_thick(lvm, set, &set->entries[i], err);
        if (r < 0)
                return r; /* vssd aborts the set: abort() undoes it */
        hold_list_remove(set_list(lvm), &set->hold);
        journal_done(&set->journal);
        set_free(set);
        return 0;
}

/* --- undo ---------------------------------------------------------------------------- */

/*
 * Take back whatever SET reached: resume its origins, put back thin ids a
 * window deleted, remove the LVs it made. The journal goes only when all of
 * that worked: else recovery finishes the job.
 */
static void set_undo(Lvm *lvm, LvmSet *set)
{
        const char **names = calloc(set->n ? set->n : 1, sizeof(char *));
        struct vss_error_buf err;
        size_t n = 0;
        bool ok = names != NULL;

        if (hold_release(&set->hold, &err) < 0)
                ok = false, provider_log(LOG_ERR, "%s", err.message);
        for (size_t i = 0; i < set->n; i++) {
                SetEntry *e = &set->entries[i];
                if (atomic_load(&e->deleted) &&
                    lvm_thin_restore(e->vol.pool_dm, e->snap_thin_id, e->vol.lv.thin_id,
                                     &err) < 0)
                        ok = false, provider_log(LOG_ERR, "%s", err.message);
                if (e->made && names)
                        names[n++] = e->full;
        }
        if (n && lvm_remove_lvs(lvm, names, n, &err) < 0)
                ok = false, provider_log(LOG_ERR, "set %s: %s", set->hold.set_id, err.message);
        free(names);
        if (ok)
                journal_done(&set->journal);
        else if (set->journal.path[0])
                provider_log(LOG_ERR, "set %s is not wholly undone: its journal %s stays for "
                             "recovery (vssctl recover, or the next start of vssd)",
                             set->hold.set_id, set->journal.path);
}

/* A set this process does not track (vssd restarted): its LVs, by their tags. */
static int abort_by_tags(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvRow *rows = NULL;
        size_t n = 0, k = 0;
        SnapTags t;
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);
        char (*names)[2 * LVM_NAME_MAX] = r == 0 ? calloc(n ? n : 1, sizeof(*names)) : NULL;
        const char **ptrs = names ? calloc(n ? n : 1, sizeof(char *)) : NULL;

        if (r == 0 && !ptrs)
                r = provider_error(err, -ENOMEM, "out of memory aborting set %s", id);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (snap_tags_parse(rows[i].tags, &t) && strcmp(t.set_id, id) == 0) {
                        snprintf(names[k], sizeof(names[k]), "%s/%s", rows[i].vg, rows[i].name);
                        ptrs[k] = names[k];
                        k++;
                }
        if (r == 0)
                r = lvm_remove_lvs(lvm, ptrs, k, err);
        free(ptrs);
        free(names);
        free(rows);
        return r;
}

int lvm_abort(Lvm *lvm, const char *id, struct vss_error_buf *err)
{
        LvmSet *set = set_find(lvm, id);

        if (!set)
                return abort_by_tags(lvm, id, err);
        hold_list_remove(set_list(lvm), &set->hold);
        set_undo(lvm, set);
        set_free(set);
        return 0;
}

void lvm_free_sets(Lvm *lvm)
{
        while (lvm->sets) {
                LvmSet *set = set_of(lvm->sets);
                lvm->sets = lvm->sets->next;
                set_undo(lvm, set);
                set_free(set);
        }
}
