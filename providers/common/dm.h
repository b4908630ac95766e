/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dm.h: the device-mapper calls of linux-vss's providers.
 *
 * Two layers. The dm_* functions wrap libdevmapper for everything outside the
 * hold window: they may allocate and log, and on failure return -errno with a
 * sentence in err naming the device and the step ("cannot load a table into
 * vss-data: ..."). libdevmapper's own log goes to the daemon's logger
 * (dm_log_setup). Devices are named by their DM name.
 *
 * The DmSwitch functions are for inside the hold window: a suspend or resume
 * is one DM_DEV_SUSPEND ioctl on a struct dm_ioctl filled in beforehand, so
 * the window allocates nothing, logs nothing and touches no file system.
 */
#ifndef VSS_PROVIDERS_COMMON_DM_H
#define VSS_PROVIDERS_COMMON_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/dm-ioctl.h>

#include <vss/provider.h>

#define DM_NAME_MAX DM_NAME_LEN /* 128, with the NUL */
#define DM_UUID_MAX DM_UUID_LEN /* 129, with the NUL */

typedef struct DmInfo {
        bool exists;
        bool suspended;
        bool live_table;
        bool inactive_table;
        bool read_only;
        int32_t open_count;
        uint32_t major, minor;
        uint32_t event_nr;
        char name[DM_NAME_MAX];
        char uuid[DM_UUID_MAX]; /* "" when the device has none */
} DmInfo;

/* One line of a table (or of a status: params is then the status text). */
typedef struct DmTarget {
        uint64_t start, length; /* 512-byte sectors */
        char type[DM_MAX_TYPE_NAME];
        char *params;
} DmTarget;

typedef struct DmTable {
        size_t n;
        DmTarget *targets;
} DmTable;

/* Route libdevmapper's log through provider_log; call once from init. */
void dm_log_setup(void);

/* Information on NAME; a missing device is not an error: info->exists is false. */
int dm_info_get(const char *name, DmInfo *info, struct vss_error_buf *err);
/* The same for the device MAJOR:MINOR; -ENODEV if it is not a dm device. */
int dm_info_by_devnum(uint32_t major, uint32_t minor, DmInfo *info, struct vss_error_buf *err);

/* NAME's live table (INACTIVE: its inactive one), or its status lines; -ENXIO if missing. */
int dm_table_get(const char *name, bool inactive, DmTable *ret, struct vss_error_buf *err);
int dm_status_get(const char *name, DmTable *ret, struct vss_error_buf *err);
void dm_table_free(DmTable *t);
/* Append a target; PARAMS is copied. */
int dm_table_add(DmTable *t, uint64_t start, uint64_t length, const char *type,
                 const char *params);
/* Total length in sectors. */
uint64_t dm_table_size(const DmTable *t);

/*
 * Create NAME with UUID (may be NULL or "") and TABLE (NULL: no table yet).
 * With a table and RESUME, the device is made live; otherwise the table stays
 * inactive until dm_resume(). The /dev/mapper node exists when this returns.
 * -EBUSY if the name or uuid is taken; a failure after the device was made
 * (a table the kernel refuses) removes it again.
 */
int dm_create(const char *name, const char *uuid, const DmTable *table, bool read_only,
              bool resume, struct vss_error_buf *err);
/* Load TABLE as NAME's inactive table (dm_resume makes it live). */
int dm_load(const char *name, const DmTable *table, bool read_only, struct vss_error_buf *err);
/* Drop NAME's inactive table, if any. */
int dm_clear(const char *name, struct vss_error_buf *err);
/*
 * LOCKFS: freeze the file system on NAME through the kernel (the normal case).
 * After an explicit FIFREEZE, a LOCKFS suspend fails with -EBUSY: skip lockfs.
 */
int dm_suspend(const char *name, bool lockfs, struct vss_error_buf *err);
int dm_resume(const char *name, struct vss_error_buf *err);
/* Remove NAME; retries briefly while it is busy (udev probing, say). Missing: 0. */
int dm_remove(const char *name, struct vss_error_buf *err);
/* Send a target message (snapshot-merge status and the like). */
int dm_message(const char *name, const char *message, struct vss_error_buf *err);

/* Every dm device, with its info; CB returning non-zero stops and is returned. */
int dm_list(int (*cb)(const DmInfo *info, void *userdata), void *userdata,
            struct vss_error_buf *err);

/* "/dev/mapper/NAME" into BUF. */
int dm_node_path(const char *name, char *buf, size_t size);

/* --- the hold window ------------------------------------------------------ */

/* One suspend or resume of one device, ready to run. */
typedef struct DmSwitch {
        struct dm_ioctl io;
} DmSwitch;

/* Open /dev/mapper/control (made if missing), O_CLOEXEC; the fd or -errno. */
int dm_control_open(struct vss_error_buf *err);
/*
 * Fill SW for NAME: SUSPEND (with the file system frozen through lockfs
 * unless SKIP_LOCKFS) or resume. -ENAMETOOLONG if NAME does not fit.
 */
int dm_switch_init(DmSwitch *sw, const char *name, bool suspend, bool skip_lockfs);
/*
 * Run it: 0 or -errno. No allocation, no logging; async-signal-safe. SW is
 * left as prepared (the kernel answers into a copy), so it can run again.
 */
int dm_switch_run(int control_fd, DmSwitch *sw);


/*
 * The other ioctls of a window (dm-thin's, lvm's): a target message
 * ("create_snap 7 3" to a pool) and a table load (one target), each filled
 * in before the window like a DmSwitch.
 */

/* Room for a dm_ioctl, a target spec or message, and its text. */
#define DM_RAW_IOCTL_MAX 1024

typedef struct DmRawIoctl {
        unsigned long request; /* DM_TARGET_MSG, DM_TABLE_LOAD */
        union {
                struct dm_ioctl io;
                uint64_t align;
                char bytes[DM_RAW_IOCTL_MAX];
        } u;
} DmRawIoctl;

/* Send MESSAGE to sector 0 of the device NAME. -ENAMETOOLONG if it does not fit. */
int dm_raw_message_init(DmRawIoctl *d, const char *name, const char *message);
/* Load one target (TYPE PARAMS over SECTORS) as NAME's inactive table. */
int dm_raw_load_init(DmRawIoctl *d, const char *name, uint64_t sectors, const char *type,
                     const char *params, bool read_only);
/* Run it: 0 or -errno; no allocation, no logging. D stays as prepared. */
int dm_raw_run(int control_fd, const DmRawIoctl *d);

#endif
