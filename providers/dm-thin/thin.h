/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thin.h: the dm-thin provider's state and its ops, one file per concern:
 * pool.c (pools: add, remove, activate, usage), volume.c (thin volumes:
 * enable, disable), set.c (prepare .. release, abort; the window's ioctls
 * are common/dm.h's), snapshots.c (delete, query, expose, revert),
 * monitor.c (pool usage: grow or drop the oldest snapshot), recover.c,
 * state.c (what persists under state_dir), plugin.c (configuration and the
 * descriptor).
 *
 * Every op reads what it needs from state_dir and the kernel afresh: the
 * provider keeps in memory only the sets between prepare and their flush,
 * so two instances (vssd's and an administrator's tool) never disagree.
 *
 * Threading (provider.h): every op runs on vssd's provider thread, except
 * release() and abort(), which the watchdog may call while hold() or
 * commit() runs.
 */
#ifndef VSS_DMTHIN_THIN_H
#define VSS_DMTHIN_THIN_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vss/provider.h>

#include "providers/common/dm.h"
#include "providers/common/hold.h"
#include "providers/common/journal.h"
#include "providers/dm-thin/state.h"

#define THIN_NAME "dm-thin"

/* DM names and UUIDs of the provider's devices; dm-snapshot never touches LVSS-thin-. */
#define UUID_THIN "LVSS-thin-"
#define UUID_POOL "LVSS-thin-pool-"   /* + pool name */
#define UUID_VOL "LVSS-thin-vol-"     /* + volume name */
#define UUID_TSNAP "LVSS-thin-snap-"  /* + set id - snapshot id - attributes (hex) */
#define POOL_PREFIX "vss-pool-"       /* + pool name */
#define VOL_PREFIX "vss-thin-"        /* + volume name */
#define TSNAP_PREFIX "vss-tsnap-"     /* + snapshot id */

/* The largest thin device id dm-thin takes (24 bits). */
#define THIN_ID_MAX ((1u << 24) - 1)

typedef struct ThinSet ThinSet;

typedef struct DmThin {
        const struct vss_provider_host *host;
        char state_dir[PATH_MAX];   /* pools, volumes, snapshots (state.h) */
        char journal_dir[PATH_MAX]; /* intent journals, on tmpfs */
        unsigned high_water;        /* percent of data or metadata: act, refuse sets */
        pthread_mutex_t lock;       /* guards the list: the watchdog looks sets up */
        HoldWindow *sets;           /* of ThinSets prepared, held or just released */
} DmThin;

/* plugin.c: KEY.NAME, else KEY, of [provider.dm-thin]; NULL when neither is set. */
const char *thin_config(DmThin *dt, const char *key, const char *name);

/* The DM name of pool, volume or snapshot NAME into BUF; -ENAMETOOLONG. */
int thin_dm_name(char *buf, size_t size, const char *prefix, const char *name);
/* A pool's or volume's name: [A-Za-z0-9._-], 1..64, not "." or "..". */
bool thin_name_valid(const char *name);
/* Realtime microseconds. */
uint64_t thin_now_usec(void);

/* Intent journals (providers/common/journal.h) in journal_dir, read by recover.c:
 *
 *   SET.journal             set SET ATTRIBUTES(hex) N, then per volume
 *                           snap SNAPSHOT POOL ID ORIGIN (before the id is used),
 *                           suspend DMNAME (what the window suspends), ready USEC
 *   enable-NAME.journal     enable NAME POOL ID, before create_thin
 *   delete-SNAPSHOT.journal delete SNAPSHOT POOL ID, before its device goes
 *   revert-SNAPSHOT.journal revert SNAPSHOT POOL ID ORIGIN OLD_ID, before the swap
 */
#define INTENT_SET "set"
#define INTENT_SNAP "snap"
#define INTENT_SUSPEND "suspend"
#define INTENT_READY "ready"
#define INTENT_ENABLE "enable"
#define INTENT_DELETE "delete"
#define INTENT_REVERT "revert"

/* Open journal_dir/PREFIX ID.journal (journal_open_for); journal_done() removes it. */
int thin_journal_open(DmThin *dt, Journal *j, const char *prefix, const char *id,
                      struct vss_error_buf *err);

/* --- pool.c ------------------------------------------------------------------ */

/* What a pool's status line says (pool_status_parse). */
typedef struct PoolStatus {
        bool ok;                    /* false: "Fail", "Error" or unparsable */
        bool read_only, out_of_space, needs_check;
        uint64_t meta_used, meta_total; /* 4 KiB metadata blocks */
        uint64_t data_used, data_total; /* data blocks (chunks) */
} PoolStatus;
/* Parse a thin-pool status line; false when it is not one (PoolStatus.ok false). */
bool pool_status_parse(const char *params, PoolStatus *st);
/* The higher of data and metadata use, in percent (0 when unknown). */
unsigned pool_status_percent(const PoolStatus *st);

int pool_add(DmThin *dt, const char *name, const struct vss_option *options, size_t n,
             struct vss_error_buf *err);
int pool_remove(DmThin *dt, const char *name, struct vss_error_buf *err);
/* Activate pool P if its device is missing (loop devices attached, table loaded). */
int pool_activate(DmThin *dt, const PoolRecord *p, struct vss_error_buf *err);
/* Every pool in state: activate those that are missing; failures logged. */
void pool_activate_all(DmThin *dt);
/* Pool NAME's record and status; -ENOENT naming it when there is no such pool. */
int pool_get(DmThin *dt, const char *name, PoolRecord *p, PoolStatus *st,
             struct vss_error_buf *err);
/* Take a new thin id from pool P (recorded before it is used); *ID. */
int pool_take_id(DmThin *dt, const char *pool, uint32_t *id, struct vss_error_buf *err);
/* Send "delete ID" to POOL; an id the pool does not have is no error. */
int pool_delete_id(const char *pool, uint32_t id, struct vss_error_buf *err);
/* Grow P's data file to BYTES (a file-backed pool), and reload its table. */
int pool_grow(DmThin *dt, PoolRecord *p, uint64_t bytes, struct vss_error_buf *err);
int pool_list_storage(DmThin *dt, vss_storage_cb cb, void *userdata, struct vss_error_buf *err);
/* "thin POOL_DEVNUM ID" as a table's params, into BUF. */
int pool_thin_params(const char *pool, uint32_t id, char *buf, size_t size,
                     struct vss_error_buf *err);

/* --- volume.c ---------------------------------------------------------------- */

int volume_enable(DmThin *dt, const char *device, const struct vss_option *options, size_t n,
                  char *volume, size_t size, struct vss_error_buf *err);
int volume_disable(DmThin *dt, const char *volume, struct vss_error_buf *err);
/* The thin volume at path VOLUME: its record; 0 with the reason in err when not one. */
int volume_examine(DmThin *dt, const char *volume, VolumeRecord *v, DmInfo *info,
                   struct vss_error_buf *err);
/* Activate volume V if its device is missing. */
int volume_activate(DmThin *dt, const VolumeRecord *v, struct vss_error_buf *err);

/* --- set.c ------------------------------------------------------------------- */

int thin_prepare(DmThin *dt, const struct vss_set_request *set, struct vss_error_buf *err);
int thin_hold(DmThin *dt, const char *set_id, struct vss_error_buf *err);
int thin_commit(DmThin *dt, const char *set_id, struct vss_error_buf *err);
int thin_release(DmThin *dt, const char *set_id, struct vss_error_buf *err);
int thin_abort(DmThin *dt, const char *set_id, struct vss_error_buf *err);
/* Record the creation time of sets whose window ended, and forget them. */
void thin_flush_sets(DmThin *dt);
void thin_free_sets(DmThin *dt);

/* --- snapshots.c ------------------------------------------------------------- */

/* Remove snapshot S for good: its device, its thin id, its record (journaled). */
int snap_remove(DmThin *dt, const SnapRecord *s, struct vss_error_buf *err);
/* Activate the device of snapshot S if it is missing (read-only). */
int snap_activate(DmThin *dt, const SnapRecord *s, struct vss_error_buf *err);
int thin_delete(DmThin *dt, const char *id, struct vss_error_buf *err);
int thin_query(DmThin *dt, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int thin_expose(DmThin *dt, const char *id, const char *mount_point, struct vss_error_buf *err);
int thin_unexpose(DmThin *dt, const char *id, struct vss_error_buf *err);
int thin_revert(DmThin *dt, const char *id, struct vss_error_buf *err);
/* At init: bring back persistent snapshots, drop the others a reboot ended. */
void snap_activate_all(DmThin *dt);

/* --- monitor.c --------------------------------------------------------------- */

int thin_monitor(DmThin *dt, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
/* Refuse a set on POOL when it is above the high-water mark or not writable. */
int monitor_check_room(DmThin *dt, const char *pool, struct vss_error_buf *err);

/* --- recover.c --------------------------------------------------------------- */

int thin_recover(DmThin *dt, struct vss_error_buf *err);

#endif
