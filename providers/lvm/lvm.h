/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lvm.h: the lvm provider's state and its ops, one file per concern:
 * tool.c (running the LVM tools), report.c and json.c (what lvs says),
 * volume.c (which volumes it takes), set.c (prepare .. finish, abort),
 * snapshots.c (query, delete, expose, revert, monitor), storage.c (shadow
 * storage: sizes and maximums of classic snapshots), recover.c, plugin.c
 * (configuration and the descriptor).
 *
 * LVM stays the owner of every LV: every change goes through its tools
 * (lvcreate, lvremove, lvchange, lvextend, lvconvert), and the provider's view
 * is rebuilt from lvs alone (report.h: names and tags). The one thing done
 * beside LVM is the hold window of thin LVs (set.c), which leaves LVM's
 * metadata exactly as lvcreate wrote it.
 *
 * Threading (provider.h): every op runs on vssd's provider thread, except
 * release() and abort(), which the watchdog may call while hold() or
 * commit() runs.
 */
#ifndef VSS_LVM_LVM_H
#define VSS_LVM_LVM_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include <vss/provider.h>

#include "providers/common/dm.h"
#include "providers/common/hold.h"
#include "providers/lvm/report.h"

#define LVM_PROVIDER_NAME "lvm"

typedef struct LvmSet LvmSet;

typedef struct Lvm {
        const struct vss_provider_host *host;
        char binary[PATH_MAX];       /* the lvm program */
        char config[4096];           /* what every command gets as --config */
        char journal_dir[PATH_MAX];  /* intent journals, on tmpfs */
        char initial_size[32];       /* a new classic snapshot's size: "20%", "1G" */
        char max_size[32];           /* the default maximum of a volume's snapshots */
        unsigned grow_at_percent;    /* grow a classic snapshot once it is this full */
        pthread_mutex_t lock;        /* guards the list: the watchdog looks sets up */
        HoldWindow *sets;            /* of LvmSets prepared, in their window, or not finished */
} Lvm;

/* Every classic snapshot is at least this big; LVM rounds up to whole extents. */
#define MIN_SNAPSHOT_BYTES (8u << 20)

/* tool.c */
/*
 * Run `lvm ARGV...` (ARGV[0] is the command: "lvs", "lvcreate"; NULL-ended)
 * with the provider's --config, without a shell. Its standard output into
 * *RET_OUT (malloc()ed; RET_OUT may be NULL). A failure to run or a
 * non-zero exit: -EIO (-ENOENT: no lvm program) with a sentence naming the
 * command and what LVM said.
 */
int lvm_run(Lvm *lvm, const char *const *argv, char **ret_out, struct vss_error_buf *err);
/* lvs -a (of VG only, unless NULL) as rows, into a malloc()ed array. */
int lvm_lvs(Lvm *lvm, const char *vg, LvRow **ret, size_t *ret_n, struct vss_error_buf *err);
/* The row of VG/NAME in ROWS, or NULL. */
LvRow *lv_rows_find(LvRow *rows, size_t n, const char *vg, const char *name);

/* volume.c */
/* A volume the provider can snapshot, as prepare needs it. */
typedef struct LvmVolume {
        LvRow lv;
        bool thin;
        char pool_dm[DM_NAME_MAX];   /* a thin LV's pool device (-tpool), for its messages */
        char dm_name[DM_NAME_MAX];   /* the LV's own dm device */
} LvmVolume;
/* The LV behind a volume, with every LV of its VG. */
typedef struct LvmLookup {
        DmInfo info;                 /* the LV's dm device */
        LvRow *rows;                 /* lvs -a of its VG */
        size_t n;
        LvRow *lv;                   /* its row */
} LvmLookup;
/*
 * Find the LV behind VOLUME (a device path): 1 and L filled (lvm_lookup_free()
 * it), 0 with the reason in err when VOLUME is not an LV, <0 on errors.
 */
int lvm_volume_lookup(Lvm *lvm, const char *volume, LvmLookup *l, struct vss_error_buf *err);
void lvm_lookup_free(LvmLookup *l);
/*
 * Examine VOLUME (a device path): 1 and RET filled when the provider can
 * snapshot it, 0 with the reason in err when it cannot, <0 on errors.
 */
int lvm_volume_examine(Lvm *lvm, const char *volume, LvmVolume *ret, struct vss_error_buf *err);

/* storage.c */
/* The maximum of ORIGIN's snapshots as written: its tag, max_size, or "unbounded". */
void lvm_max_size(Lvm *lvm, const LvRow *origin, char *buf, size_t size);
/* The total size of ORIGIN's classic snapshots in ROWS, their data, how many. */
void lvm_snapshot_use(const LvRow *rows, size_t n, const LvRow *origin, uint64_t *allocated,
                      uint64_t *used, unsigned *count);
/*
 * The size of a new classic snapshot of ORIGIN: initial_size, within what
 * the maximum leaves beside its other snapshots and the VG's free space.
 * -ENOSPC with the reason (and what to do) when there is no room.
 */
int lvm_new_snapshot_size(Lvm *lvm, const LvRow *rows, size_t n, const LvRow *origin,
                          uint64_t *ret, struct vss_error_buf *err);
int lvm_list_storage(Lvm *lvm, vss_storage_cb cb, void *userdata, struct vss_error_buf *err);
int lvm_set_storage(Lvm *lvm, const char *volume, const char *max_size, const char *diff_area,
                    struct vss_error_buf *err);

/* set.c */
int lvm_prepare(Lvm *lvm, struct vss_set_request *set, struct vss_error_buf *err);
int lvm_hold(Lvm *lvm, const char *set_id, struct vss_error_buf *err);
int lvm_commit(Lvm *lvm, const char *set_id, struct vss_error_buf *err);
int lvm_release(Lvm *lvm, const char *set_id, struct vss_error_buf *err);
int lvm_finish(Lvm *lvm, const char *set_id, struct vss_error_buf *err);
int lvm_abort(Lvm *lvm, const char *set_id, struct vss_error_buf *err);
/* Is set ID one this process is making? Its LVs are not complete yet. */
bool lvm_set_known(Lvm *lvm, const char *id);
void lvm_free_sets(Lvm *lvm);
/*
 * Put back thin snapshot SNAP_ID of ORIGIN_ID in the pool device POOL_DM if
 * a window deleted it ("create_snap"; one that exists is fine), so that
 * lvremove finds the thin device LVM recorded.
 */
int lvm_thin_restore(const char *pool_dm, int64_t snap_id, int64_t origin_id,
                     struct vss_error_buf *err);
/* lvremove -f every LV named in NAMES ("VG/LV", N of them). */
int lvm_remove_lvs(Lvm *lvm, const char *const *names, size_t n, struct vss_error_buf *err);

/* snapshots.c */
int lvm_delete(Lvm *lvm, const char *id, struct vss_error_buf *err);
int lvm_query(Lvm *lvm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int lvm_monitor(Lvm *lvm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int lvm_expose(Lvm *lvm, const char *id, const char *mount_point, struct vss_error_buf *err);
int lvm_unexpose(Lvm *lvm, const char *id, struct vss_error_buf *err);
int lvm_revert(Lvm *lvm, const char *id, struct vss_error_buf *err);

/* recover.c */
int lvm_recover(Lvm *lvm, struct vss_error_buf *err);

#endif
