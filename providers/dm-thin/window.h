/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * window.h: the device-mapper ioctls dm-thin runs inside a hold window,
 * beside common/dm.h's DmSwitch (suspend, resume): a target message
 * ("create_snap 7 3" to the pool) and a table load (the snapshot's thin
 * target). Each is one ioctl on a buffer filled in before the window, so the
 * window allocates nothing, logs nothing and touches no file system.
 */
#ifndef VSS_DMTHIN_WINDOW_H
#define VSS_DMTHIN_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/dm-ioctl.h>

/* Room for a dm_ioctl, a target spec or message, and its text. */
#define WINDOW_IOCTL_MAX 1024

typedef struct DmRawIoctl {
        unsigned long request; /* DM_TARGET_MSG, DM_TABLE_LOAD */
        union {
                struct dm_ioctl io;
                uint64_t align;
                char bytes[WINDOW_IOCTL_MAX];
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
