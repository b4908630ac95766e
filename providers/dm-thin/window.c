/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * window.c: target messages and table loads as prepared ioctls (window.h).
 * The layout is the kernel's (dm-ioctl.h): a struct dm_ioctl whose
 * data_start points at a dm_target_msg or a dm_target_spec, each followed
 * by its NUL-terminated text, the whole padded to 8 bytes.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "providers/dm-thin/window.h"

static int raw_init(DmRawIoctl *d, unsigned long request, const char *name, size_t payload)
{
        size_t len = strlen(name);

        if (len >= sizeof(d->u.io.name) || sizeof(d->u.io) + payload > sizeof(d->u))
                return -ENAMETOOLONG;
        memset(d, 0, sizeof(*d));
        d->request = request;
        /* The oldest interface that has the ioctl: the kernel refuses a newer minor. */
        d->u.io.version[0] = DM_VERSION_MAJOR;
        d->u.io.data_start = sizeof(d->u.io);
        d->u.io.data_size = (uint32_t)((sizeof(d->u.io) + payload + 7) & ~(size_t)7);
        memcpy(d->u.io.name, name, len + 1);
        return 0;
}

int dm_raw_message_init(DmRawIoctl *d, const char *name, const char *message)
{
        size_t len = strlen(message) + 1;
        int r = raw_init(d, DM_TARGET_MSG, name, sizeof(struct dm_target_msg) + len);

        if (r < 0)
                return r;
        struct dm_target_msg *m = (struct dm_target_msg *)(d->u.bytes + d->u.io.data_start);
        m->sector = 0;
        memcpy(m->message, message, len);
        return 0;
}

int dm_raw_load_init(DmRawIoctl *d, const char *name, uint64_t sectors, const char *type,
                     const char *params, bool read_only)
{
        size_t len = strlen(params) + 1;
        size_t spec_len = (sizeof(struct dm_target_spec) + len + 7) & ~(size_t)7;
        int r;

        if (strlen(type) >= sizeof(((struct dm_target_spec *)0)->target_type))
                return -ENAMETOOLONG;
        if ((r = raw_init(d, DM_TABLE_LOAD, name, spec_len)) < 0)
                return r;
        d->u.io.target_count = 1;
        d->u.io.flags = read_only ? DM_READONLY_FLAG : 0;
        struct dm_target_spec *t = (struct dm_target_spec *)(d->u.bytes + d->u.io.data_start);
        t->sector_start = 0;
        t->length = sectors;
        t->next = (uint32_t)spec_len;
        memcpy(t->target_type, type, strlen(type) + 1);
        memcpy((char *)(t + 1), params, len);
        return 0;
}

int dm_raw_run(int control_fd, const DmRawIoctl *d)
{
        /* The kernel writes its answer back: keep D as prepared for the next run. */
        DmRawIoctl copy;

        memcpy(&copy.u, &d->u, d->u.io.data_size);
        return ioctl(control_fd, d->request, &copy.u) < 0 ? -errno : 0;
}
