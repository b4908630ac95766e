/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set.c: one snapshot set, from prepare to release (or abort).
 *
 * prepare does all the slow work while applications still run: a store per
 * volume, NAME-real with the origin's table, the snapshot device with its
 * table loaded but not active, and (first snapshot of an origin) the
 * snapshot-origin table loaded, inactive, into the origin. What is left for
 * the hold window is three ioctls per volume, prepared as DmSwitches:
 *
 *   hold     suspend every origin (lockfs: the kernel flushes and freezes the
 *            file system; the point in time)
 *   commit   resume every snapshot device: it starts copying on write
 *   release  resume every origin: a first snapshot's origin switches to its
 *            snapshot-origin table
 *
 * Memory is locked from prepare to release, so the window never waits on a
 * page fault; it allocates nothing, logs nothing and touches no file.
 *
 * The origins' suspensions are providers/common/hold.c's: all at once (a
 * crew of threads made in prepare), each resumed exactly once even when the
 * watchdog releases in the middle. Only after every suspend returned does
 * commit activate a snapshot, so the set is one point in time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>

#include "common/fault.h"
#include "providers/dm-snapshot/dmsnap.h"
#include "providers/dm-snapshot/intent.h"
#include "providers/common/size.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

typedef struct SetEntry {
        Origin origin;
        char snapshot_id[ID_LEN + 1];
        char snap_name[DM_NAME_MAX];
        CowStore store;
        char diff_area[PATH_MAX]; /* where its store and meta file go */
        bool made_snap;          /* the snapshot device exists */
        DmSwitch resume_snap;
} SetEntry;

struct PreparedSet {
        uint32_t attributes;
        HoldWindow hold;         /* its id, the origins' suspension; on dm->sets */
        bool committed;
        uint64_t created_usec;
        size_t n;
        SetEntry *entries;
        Journal journal;         /* written in prepare; removed when finished or undone */
};

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static HoldList set_list(DmSnap *dm)
{
        return (HoldList){ &dm->lock, &dm->sets };
}

static PreparedSet *set_of(HoldWindow *w)
{
        return w ? hold_container_of(w, PreparedSet, hold) : NULL;
}

static PreparedSet *set_find(DmSnap *dm, const char *id)
{
        return set_of(hold_list_find(set_list(dm), id));
}

bool dmsnap_set_known(DmSnap *dm, const char *id)
{
        return set_find(dm, id) != NULL;
}

static void set_free(PreparedSet *set)
{
        if (!set)
                return;
        hold_free(&set->hold);
        for (size_t i = 0; i < set->n; i++)
                store_close(&set->entries[i].store);
        journal_close(&set->journal);
        free(set->entries);
        free(set);
}

/* --- prepare -------------------------------------------------------------------- */

static int entry_examine(DmSnap *dm, SetEntry *e, const struct vss_volume_request *v,
                         struct vss_error_buf *err)
{
        int r = origin_examine(v->volume, &e->origin, err);
        if (r == 0)
                return -VSS_E_VOLUME_NOT_SUPPORTED;
        if (r < 0)
                return r;
        snprintf(e->diff_area, sizeof(e->diff_area), "%s",
                 dmsnap_diff_area(dm, e->origin.info.name));
        snprintf(e->snapshot_id, sizeof(e->snapshot_id), "%s", v->snapshot_id);
        return provider_printf(e->snap_name, sizeof(e->snap_name), "%s%s", SNAP_NAME_PREFIX,
                               v->snapshot_id);
}

/* No diff area the set uses may lie on any volume of the set (nor under or over one). */
static int check_diff_area(DmSnap *dm, const PreparedSet *set, struct vss_error_buf *err)
{
        dev_t devs[VSS_MAX_VOLUMES_PER_SET];
        size_t n = 0;

        for (size_t i = 0; i < set->n && n < VSS_MAX_VOLUMES_PER_SET; i++)
                devs[n++] = makedev(set->entries[i].origin.info.major,
                                    set->entries[i].origin.info.minor);
        for (size_t i = 0; i < set->n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(set->entries[j].diff_area, set->entries[i].diff_area) == 0;
                int r = seen ? 0 : store_dir_check(set->entries[i].diff_area, devs, n, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The size of E's new store: initial_size, but within what the volume's
 * maximum leaves beside its other stores (vssadmin's MaxSize is their total).
 */
static int store_initial_size(DmSnap *dm, SetEntry *e, uint64_t *ret, struct vss_error_buf *err)
{
        const char *name = e->origin.info.name;
        uint64_t initial, max;
        StorageUse *uses;
        size_t n;
        int r = dmsnap_store_sizes(dm, name, e->origin.sectors * 512, &initial, &max, err);

        if (r < 0)
                return r;
        if (max == SIZE_UNBOUNDED) {
                *ret = initial;
                return 0;
        }
        if ((r = dmsnap_storage_uses(dm, &uses, &n)) < 0)
                return provider_error(err, r, "cannot read the stores of %s: %s", name,
                                      strerror(-r));
        const StorageUse *use = dmsnap_storage_use_find(uses, n, name);
        uint64_t taken = use ? use->allocated : 0, room = max > taken ? max - taken : 0;
        unsigned n_snaps = use ? use->n : 0;
        free(uses);
        room = room / (1u << 20) * (1u << 20);
        if (room < MIN_STORE_BYTES)
                return provider_error(err, -ENOSPC, "the shadow storage of /dev/mapper/%s is full: "
                                      "its %u snapshot(s) have stores of %llu bytes and its "
                                      "maximum is %s (%llu bytes), which leaves no room for the "
                                      "8M a new store needs; delete older snapshots or raise it "
                                      "(vssctl storage resize --for /dev/mapper/%s --maxsize SIZE)",
                                      name, n_snaps, (unsigned long long)taken,
                                      dmsnap_max_size(dm, name), (unsigned long long)max, name);
        *ret = initial < room ? initial : room;
        return 0;
}

/*
 * NAME-real: the origin's current table under a new name, for the snapshots
 * to read. The journal keeps the table too: recovery can put it back even
 * if NAME-real is gone.
 */
static int make_real(PreparedSet *set, SetEntry *e, struct vss_error_buf *err)
{
        DmTable t = { 0 };
        char *text = NULL;
        int r = dm_table_get(e->origin.info.name, false, &t, err);

        if (r == 0 && intent_table_format(&t, &text) < 0)
                r = provider_error(err, -ENOMEM, "out of memory preparing set %s",
                                   set->hold.set_id);
        if (r == 0)
                r = journal_append(&set->journal, err, INTENT_REAL, e->origin.info.name, text,
                                   NULL);
        if (r == 0)
                r = dm_create(e->origin.real, e->origin.real_uuid, &t, false, true, err);
        free(text);
        dm_table_free(&t);
        return r;
}

static int load_one_target(const char *name, uint64_t sectors, const char *type,
                           const char *params, bool create, const char *uuid,
                           struct vss_error_buf *err)
{
        DmTable t = { 0 };
        int r = dm_table_add(&t, 0, sectors, type, params);

        if (r < 0)
                return provider_error(err, r, "out of memory building the %s table of %s", type,
                                      name);
        r = create ? dm_create(name, uuid, &t, true, false, err) : dm_load(name, &t, false, err);
        dm_table_free(&t);
        return r;
}

static int make_snapshot(DmSnap *dm, PreparedSet *set, SetEntry *e,
                         struct vss_error_buf *err)
{
        char real[32], uuid[DM_UUID_MAX], params[256];
        bool persistent = set->attributes & VSS_ATTR_PERSISTENT;
        int r;

        if ((r = origin_real_devnum(e->origin.info.name, real, sizeof(real), err)) < 0 ||
            (r = snap_uuid_format(uuid, sizeof(uuid), set->hold.set_id, e->snapshot_id,
                                  set->attributes)) < 0)
                return r;
        /* Persistent stores keep their exception table on disk, so they survive a reboot. */
        snprintf(params, sizeof(params), "%s %s %s %" PRIu32, real, e->store.loop,
                 persistent ? "P" : "N", dm->chunk_sectors);
        if ((r = journal_append(&set->journal, err, INTENT_SNAPSHOT, e->snapshot_id,
                                e->origin.info.name, e->snap_name, NULL)) < 0)
                return r;
        r = load_one_target(e->snap_name, e->origin.sectors, "snapshot", params, true, uuid,
                            err);
        e->made_snap = r == 0;
        return r;
}

static int load_origin(PreparedSet *set, SetEntry *e, struct vss_error_buf *err)
{
        char real[32];
        int r = origin_real_devnum(e->origin.info.name, real, sizeof(real), err);

        if (r == 0)
                r = journal_append(&set->journal, err, INTENT_RELOAD, e->origin.info.name, NULL);
        if (r == 0)
                r = load_one_target(e->origin.info.name, e->origin.sectors, "snapshot-origin",
                                    real, false, NULL, err);
        return r;
}

static int make_store(DmSnap *dm, PreparedSet *set, SetEntry *e, struct vss_error_buf *err)
{
        char name[64];
        uint64_t initial = 0; /* set when r is 0; gcc cannot see provider_error() is < 0 */
        int r = store_initial_size(dm, e, &initial, err);

        if (r < 0 || (r = journal_append(&set->journal, err, INTENT_STORE, e->snapshot_id,
                                         e->origin.info.name, e->diff_area, NULL)) < 0)
                return r;
        snprintf(name, sizeof(name), "%s%s.cow", DMSNAP_UUID_PREFIX, e->snapshot_id);
        return store_create(&e->store, e->diff_area, name, initial, err);
}

static int write_meta(DmSnap *dm, const PreparedSet *set, const SetEntry *e,
                      struct vss_error_buf *err)
{
        SnapMeta m = { .attributes = set->attributes, .created_usec = set->created_usec };

        snprintf(m.snapshot_id, sizeof(m.snapshot_id), "%s", e->snapshot_id);
        snprintf(m.set_id, sizeof(m.set_id), "%s", set->hold.set_id);
        snprintf(m.origin, sizeof(m.origin), "%s", e->origin.info.name);
        return meta_write(e->diff_area, &m, err);
}


static int entry_prepare(DmSnap *dm, PreparedSet *set, SetEntry *e, struct vss_error_buf *err)
{
        int r;

        if ((r = make_store(dm, set, e, err)) < 0 || (r = write_meta(dm, set, e, err)) < 0)
                return r;
        if (!e->origin.has_real && (r = make_real(set, e, err)) < 0)
                return r;
        if ((r = make_snapshot(dm, set, e, err)) < 0)
                return r;
        if (!e->origin.has_real && (r = load_origin(set, e, err)) < 0)
                return r;
        VSS_FAULT("after-table-reload");
        /* dm holds the loop device now; without our fd it goes when dm lets go. */
        store_close(&e->store);
        if (!hold_add(&set->hold, e->origin.info.name, err))
                return -ENAMETOOLONG;
        if (dm_switch_init(&e->resume_snap, e->snap_name, false, false) < 0)
                return provider_error(err, -ENAMETOOLONG, "device-mapper name %s too long",
                                      e->snap_name);
        return 0;
}

static PreparedSet *set_new(const struct vss_set_request *req)
{
        PreparedSet *set = calloc(1, sizeof(*set));

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
                set->entries[i].store = (CowStore)COW_STORE_INIT;
        return set;
}

/* What the window will do, for recovery: no file may be written inside it. */
static int journal_window(PreparedSet *set, struct vss_error_buf *err)
{
        char usec[32];
        int r = 0;

        for (size_t i = 0; r == 0 && i < set->n; i++)
                r = journal_append(&set->journal, err, INTENT_SUSPEND,
                                   set->entries[i].origin.info.name, NULL);
        for (size_t i = 0; r == 0 && i < set->n; i++)
                r = journal_append(&set->journal, err, INTENT_ACTIVATE, set->entries[i].snap_name,
                                   NULL);
        snprintf(usec, sizeof(usec), "%" PRIu64, realtime_usec());
        if (r == 0)
                r = journal_append(&set->journal, err, INTENT_READY, usec, NULL);
        journal_close(&set->journal);
        return r;
}

static int set_prepare(DmSnap *dm, PreparedSet *set, const struct vss_set_request *req,
                       struct vss_error_buf *err)
{
        char attributes[16], n[16];
        int r;

        for (size_t i = 0; i < set->n; i++)
                if ((r = entry_examine(dm, &set->entries[i], &req->volumes[i], err)) < 0)
                        return r;
        if ((r = check_diff_area(dm, set, err)) < 0)
                return r;
        snprintf(attributes, sizeof(attributes), "%" PRIx32, set->attributes);
        snprintf(n, sizeof(n), "%zu", set->n);
        if ((r = intent_open(dm, &set->journal, "", set->hold.set_id, err)) < 0 ||
            (r = journal_append(&set->journal, err, INTENT_SET, set->hold.set_id, attributes, n,
                                NULL)) < 0)
                return r;
        for (size_t i = 0; i < set->n; i++)
                if ((r = entry_prepare(dm, set, &set->entries[i], err)) < 0)
                        return r;
        if ((r = hold_arm(&set->hold, err)) < 0 || (r = journal_window(set, err)) < 0)
                return r;
        for (size_t i = 0; i < set->n; i++)
                dm_node_path(set->entries[i].snap_name, req->volumes[i].device,
                             sizeof(req->volumes[i].device));
        return 0;
}

static void set_undo(DmSnap *dm, PreparedSet *set);

int dmsnap_prepare(DmSnap *dm, const struct vss_set_request *req, struct vss_error_buf *err)
{
        PreparedSet *set;
        int r;

        dmsnap_flush_sets(dm);
        if (set_find(dm, req->set_id))
                return provider_error(err, -EEXIST, "set %s is prepared already", req->set_id);
        if (!(set = set_new(req)))
                return provider_error(err, -ENOMEM, "out of memory preparing set %s", req->set_id);
        if ((r = set_prepare(dm, set, req, err)) < 0) {
                set_undo(dm, set);
                set_free(set);
                return r;
        }
        hold_list_add(set_list(dm), &set->hold);
        return 0;
}

/* --- the window: no allocation, no logging, no file I/O ----------------------------- */

static int window_set(DmSnap *dm, const char *id, PreparedSet **ret, struct vss_error_buf *err)
{
        *ret = set_find(dm, id);
        if (!*ret)
                return provider_error(err, -VSS_E_BAD_STATE, "set %s was not prepared", id);
        return 0;
}

int dmsnap_hold(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        PreparedSet *set;
        int r = window_set(dm, id, &set, err);

        if (r < 0)
                return r;
        set->created_usec = realtime_usec();
        return hold_suspend_all(&set->hold, err);
}

int dmsnap_commit(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        PreparedSet *set;
        int r = window_set(dm, id, &set, err);

        for (size_t i = 0; r == 0 && i < set->n; i++) {
                SetEntry *e = &set->entries[i];
                if (hold_released(&set->hold))
                        return hold_cancelled(&set->hold, err);
                r = dm_switch_run(set->hold.control_fd, &e->resume_snap);
                if (r < 0)
                        return provider_error(err, r, "cannot activate the snapshot of %s: %s",
                                              e->origin.info.name, strerror(-r));
        }
        set->committed = r == 0;
        return r;
}

int dmsnap_release(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        PreparedSet *set;
        int r = window_set(dm, id, &set, err);

        VSS_FAULT("before-resume");
        if (r == 0)
                r = hold_release(&set->hold, err);
        VSS_FAULT("after-resume");
        return r;
}

/* --- after the window ------------------------------------------------------------ */

static void flush_set(DmSnap *dm, PreparedSet *set)
{
        struct vss_error_buf err;

        for (size_t i = 0; i < set->n; i++)
                if (write_meta(dm, set, &set->entries[i], &err) < 0)
                        provider_log(LOG_WARNING, "%s", err.message);
        journal_done(&set->journal); /* finished: nothing left to roll back */
}

void dmsnap_flush_sets(DmSnap *dm)
{
        HoldWindow *w = dm->sets, *next;

        for (; w; w = next) {
                PreparedSet *set = set_of(w);
                next = w->next;
                if (!hold_released(w) || !set->committed)
                        continue;
                flush_set(dm, set);
                hold_list_remove(set_list(dm), w);
                set_free(set);
        }
}

static bool undo_failed(const struct vss_error_buf *err)
{
        provider_log(LOG_ERR, "%s", err->message);
        return false;
}

/*
 * Take back whatever prepare (and a window) did to SET, last volume first.
 * The journal goes only when all of it went: else recovery finishes the job.
 */
static void set_undo(DmSnap *dm, PreparedSet *set)
{
        struct vss_error_buf err;
        bool ok = true;

        if (hold_release(&set->hold, &err) < 0)
                ok = undo_failed(&err);
        for (size_t i = set->n; i-- > 0;) {
                SetEntry *e = &set->entries[i];
                if (!e->origin.info.exists)
                        continue;
                if (e->made_snap && dm_remove(e->snap_name, &err) < 0)
                        ok = undo_failed(&err);
                /* A no-op when NAME-real is missing or other snapshots still use it. */
                if (origin_restore_if_unused(e->origin.info.name, &err) < 0)
                        ok = undo_failed(&err);
                store_close(&e->store);
                if (e->diff_area[0])
                        meta_remove(e->diff_area, e->snapshot_id);
        }
        if (ok)
                journal_done(&set->journal);
        else if (set->journal.path[0])
                provider_log(LOG_ERR, "set %s is not wholly undone: its journal %s stays for "
                             "recovery (vssctl recover, or the next start of vssd)",
                             set->hold.set_id, set->journal.path);
}

/* A set the provider no longer tracks (vssd restarted): its snapshots by DM UUID. */
struct set_snapshots {
        DmSnap *dm;
        const char *set_id;
        struct vss_error_buf *err;
        int r;
};

static int abort_listed(const DmInfo *info, void *userdata)
{
        struct set_snapshots *s = userdata;
        SnapUuid u;

        if (!snap_uuid_parse(info->uuid, &u) || strcmp(u.set_id, s->set_id) != 0)
                return 0;
        int r = dmsnap_snapshot_remove(s->dm, u.snapshot_id, NULL, s->err);
        if (r < 0 && s->r == 0)
                s->r = r;
        return 0;
}

int dmsnap_abort(DmSnap *dm, const char *id, struct vss_error_buf *err)
{
        PreparedSet *set = set_find(dm, id);

        if (set) {
                hold_list_remove(set_list(dm), &set->hold);
                set_undo(dm, set);
                set_free(set);
                return 0;
        }
        struct set_snapshots s = { .dm = dm, .set_id = id, .err = err };
        int r = dm_list(abort_listed, &s, err);
        return r < 0 ? r : s.r;
}

void dmsnap_free_sets(DmSnap *dm)
{
        while (dm->sets) {
                PreparedSet *set = set_of(dm->sets);
                dm->sets = dm->sets->next;
                set_undo(dm, set);
                set_free(set);
        }
}
