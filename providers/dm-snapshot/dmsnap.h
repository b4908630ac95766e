/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmsnap.h: the dm-snapshot provider's state and its ops, one file per
 * concern: set.c (prepare .. release, abort), snapshots.c (delete, query,
 * expose, revert, monitor), recover.c, wrap.c (enable/disable), storage.c
 * (shadow storage: diff areas and maximums per volume), plugin.c
 * (configuration and the descriptor).
 *
 * Threading (provider.h): every op runs on vssd's provider thread, except
 * release(), which the watchdog may call while hold() or commit() runs.
 */
#ifndef VSS_DMSNAP_DMSNAP_H
#define VSS_DMSNAP_DMSNAP_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include <vss/provider.h>

#include "providers/common/hold.h"
#include "providers/dm-snapshot/meta.h"
#include "providers/dm-snapshot/origin.h"

typedef struct PreparedSet PreparedSet;

/* What an administrator set for one volume at run time (vssctl storage). */
typedef struct StorageSetting {
        char name[DM_NAME_MAX];     /* device-mapper name of the volume */
        char max_size[32];          /* "15%", "10G", "unbounded"; "": vssd.conf's */
        char diff_area[PATH_MAX];   /* "": the default diff area */
} StorageSetting;

/* Snapshots whose store reached the volume's maximum, each logged once. */
#define FULL_WARNED_MAX 64

typedef struct DmSnap {
        const struct vss_provider_host *host;
        char state_dir[PATH_MAX];   /* the storage settings file */
        char diff_area[PATH_MAX];   /* default home of copy-on-write stores and meta files */
        char enabled_dir[PATH_MAX]; /* records of "vssctl enable" (wrap.c) */
        char journal_dir[PATH_MAX]; /* intent journals (intent.h), on tmpfs */
        unsigned grow_at_percent;   /* grow a store once it is this full */
        uint32_t chunk_sectors;     /* copy-on-write granularity */
        pthread_mutex_t lock;       /* guards the list: the watchdog looks sets up */
        HoldWindow *sets;           /* of PreparedSets prepared, held or just released */
        StorageSetting *storage;    /* set at run time, persisted (storage.c) */
        size_t n_storage;
        char full_warned[FULL_WARNED_MAX][ID_LEN + 1]; /* a ring */
        unsigned n_full_warned;
} DmSnap;

#define DMSNAP_NAME "dm-snapshot"

/* Every store is at least this big: the exception store's header and a few chunks. */
#define MIN_STORE_BYTES (8u << 20)

/*
 * plugin.c: for the origin NAME of BYTES, the size of a new store
 * ([provider.dm-snapshot] initial_size or initial_size.NAME) and the
 * maximum of all its stores together (dmsnap_max_size(); SIZE_UNBOUNDED
 * for "unbounded").
 */
int dmsnap_store_sizes(DmSnap *dm, const char *name, uint64_t bytes, uint64_t *initial,
                       uint64_t *max, struct vss_error_buf *err);
/* KEY.NAME, else KEY, of [provider.dm-snapshot] in vssd.conf; NULL when neither is set. */
const char *dmsnap_config_volume(DmSnap *dm, const char *key, const char *name);

/* storage.c */
/* Read the settings an administrator made (STATE_DIR/storage); init fails on a bad file. */
int dmsnap_storage_load(DmSnap *dm);
void dmsnap_storage_free(DmSnap *dm);
/* Where the stores of the origin NAME go: its setting, else the default diff area. */
const char *dmsnap_diff_area(const DmSnap *dm, const char *name);
/* Its maximum as written: the setting, max_size.NAME, max_size, else "unbounded". */
const char *dmsnap_max_size(DmSnap *dm, const char *name);

/* The stores of one origin, as they are now. */
typedef struct StorageUse {
        char name[DM_NAME_MAX];
        uint64_t used;      /* data the snapshots wrote */
        uint64_t allocated; /* the stores' sizes */
        unsigned n;         /* snapshots */
} StorageUse;
/* The stores of every origin with snapshots: a malloc()ed array in *RET (may be empty). */
int dmsnap_storage_uses(DmSnap *dm, StorageUse **ret, size_t *ret_n);
/* The entry of NAME in USES, or NULL. */
StorageUse *dmsnap_storage_use_find(StorageUse *uses, size_t n, const char *name);
/* True the first time for snapshot ID (of the last FULL_WARNED_MAX): log it then. */
bool dmsnap_full_warn_once(DmSnap *dm, const char *id);
int dmsnap_list_storage(DmSnap *dm, vss_storage_cb cb, void *userdata,
                        struct vss_error_buf *err);
int dmsnap_set_storage(DmSnap *dm, const char *volume, const char *max_size,
                       const char *diff_area, struct vss_error_buf *err);

/* Meta files live beside their stores, in whichever diff area the origin used. */
/* meta_read() of snapshot ID from any diff area (m->diff_area says which). */
int dmsnap_meta_find(DmSnap *dm, const char *id, SnapMeta *m);
/* meta_foreach() over every diff area in use. */
int dmsnap_meta_foreach(DmSnap *dm, int (*cb)(const SnapMeta *m, void *userdata),
                        void *userdata);
/* meta_remove() of snapshot ID wherever its files are. */
void dmsnap_meta_remove(DmSnap *dm, const char *id);

/* set.c */
int dmsnap_prepare(DmSnap *dm, const struct vss_set_request *set, struct vss_error_buf *err);
int dmsnap_hold(DmSnap *dm, const char *set_id, struct vss_error_buf *err);
int dmsnap_commit(DmSnap *dm, const char *set_id, struct vss_error_buf *err);
int dmsnap_release(DmSnap *dm, const char *set_id, struct vss_error_buf *err);
int dmsnap_abort(DmSnap *dm, const char *set_id, struct vss_error_buf *err);
/* Is set ID one this process prepared and still tracks? */
bool dmsnap_set_known(DmSnap *dm, const char *id);
/* Record the creation time of sets whose window ended, and forget them. */
void dmsnap_flush_sets(DmSnap *dm);
void dmsnap_free_sets(DmSnap *dm);

/* snapshots.c */
/*
 * Remove snapshot ID (device, store, meta) and restore its origin if it was
 * the last; ORIGIN NULL: the one its meta file (or its table) names.
 */
int dmsnap_snapshot_remove(DmSnap *dm, const char *id, const char *origin,
                           struct vss_error_buf *err);
int dmsnap_delete(DmSnap *dm, const char *id, struct vss_error_buf *err);
int dmsnap_query(DmSnap *dm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int dmsnap_monitor(DmSnap *dm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int dmsnap_expose(DmSnap *dm, const char *id, const char *mount_point,
                  struct vss_error_buf *err);
int dmsnap_unexpose(DmSnap *dm, const char *id, struct vss_error_buf *err);
int dmsnap_revert(DmSnap *dm, const char *id, struct vss_error_buf *err);

/* The parts of a snapshot device's DM UUID: LVSS-snap-<set>-<snapshot>-<attributes>. */
typedef struct SnapUuid {
        char set_id[ID_LEN + 1];
        char snapshot_id[ID_LEN + 1];
        uint32_t attributes;
} SnapUuid;
int snap_uuid_format(char *buf, size_t size, const char *set_id, const char *snapshot_id,
                     uint32_t attributes);
bool snap_uuid_parse(const char *uuid, SnapUuid *ret);

/* One existing snapshot, as the kernel and its meta file show it. */
typedef struct Snap {
        DmInfo info;
        SnapUuid uuid;
        SnapMeta meta;       /* origin "" when the file is gone */
        bool valid;
        uint64_t used, size; /* bytes of the store */
} Snap;

/* Snapshot ID, which must exist and be complete (a live table); -ENOENT otherwise. */
int snap_find(DmSnap *dm, const char *id, Snap *s, struct vss_error_buf *err);
/* The snapshot device INFO (-EINVAL: not one of ours). */
int snap_load(DmSnap *dm, const DmInfo *info, Snap *s, struct vss_error_buf *err);
/* Where S is exposed (in BUF), or NULL. */
const char *snap_exposed(const Snap *s, char *buf, size_t size);
/* A snapshot target's status: "allocated/total metadata" sectors, else invalid. */
void snap_parse_usage(const char *status, bool *valid, uint64_t *used, uint64_t *size);

/* revert.c */
/* Start merges whose origin is free now; finish those that are done. */
void dmsnap_merges_advance(DmSnap *dm);

/* recover.c */
int dmsnap_recover(DmSnap *dm, struct vss_error_buf *err);

/* wrap.c */
int dmsnap_enable(DmSnap *dm, const char *device, char *volume, size_t size,
                  struct vss_error_buf *err);
int dmsnap_disable(DmSnap *dm, const char *volume, struct vss_error_buf *err);

#endif
