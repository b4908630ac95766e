/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: thin volumes in a pool (vssctl enable --thin POOL): a blank
 * one of a given size, or a copy of an unused block device (its blocks of
 * zeros left unallocated), as /dev/mapper/vss-thin-NAME. The thin id comes
 * from the pool's record and is journaled before create_thin, so a crash
 * between the two leaves nothing that recovery cannot take back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/fs.h>

#include "providers/common/size.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

#define COPY_BLOCK (1u << 20)

typedef unsigned long long ull;

int volume_examine(DmThin *dt, const char *volume, VolumeRecord *v, DmInfo *info,
                   struct vss_error_buf *err)
{
        struct stat st;
        int r;

        if (stat(volume, &st) < 0 || !S_ISBLK(st.st_mode))
                return provider_error(err, 0, "%s is not a block device", volume);
        if (dm_info_by_devnum(major(st.st_rdev), minor(st.st_rdev), info, NULL) < 0 ||
            strncmp(info->uuid, UUID_VOL, strlen(UUID_VOL)) != 0)
                return provider_error(err, 0, "%s is not a thin volume of dm-thin (make one "
                                      "with vssctl enable --thin POOL)", volume);
        const char *name = info->uuid + strlen(UUID_VOL);
        if ((r = record_read(dt->state_dir, RECORD_VOLUME, name, v, err)) < 0)
                return r == -ENOENT ? provider_error(err, 0, "%s is a dm-thin volume whose "
                                                     "record is gone from %s/volumes", volume,
                                                     dt->state_dir)
                                    : r;
        return 1;
}

int volume_activate(DmThin *dt, const VolumeRecord *v, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX], uuid[DM_UUID_MAX], params[64];
        DmTable t = { 0 };
        DmInfo info;
        int r;

        (void)dt;
        if ((r = thin_dm_name(dm, sizeof(dm), VOL_PREFIX, v->name)) < 0 ||
            (r = thin_dm_name(uuid, sizeof(uuid), UUID_VOL, v->name)) < 0)
                return provider_error(err, r, "volume name %s too long", v->name);
        if ((r = dm_info_get(dm, &info, err)) < 0)
                return r;
        if (info.exists && info.live_table)
                return 0;
        if (info.exists && (r = dm_remove(dm, err)) < 0)
                return r;
        if ((r = pool_thin_params(v->pool, v->id, params, sizeof(params), err)) < 0)
                return r;
        if (dm_table_add(&t, 0, v->sectors, "thin", params) < 0)
                return provider_error(err, -ENOMEM, "out of memory activating %s", dm);
        r = dm_create(dm, uuid, &t, false, true, err);
        dm_table_free(&t);
        return r;
}

/* --- enable --------------------------------------------------------------------------------- */

typedef struct EnableOptions {
        const char *pool, *size;
} EnableOptions;

static int options_parse(const char *device, const struct vss_option *o, size_t n,
                         EnableOptions *eo, struct vss_error_buf *err)
{
        memset(eo, 0, sizeof(*eo));
        for (size_t i = 0; i < n; i++) {
                if (strcmp(o[i].key, "ThinPool") == 0)
                        eo->pool = o[i].value;
                else if (strcmp(o[i].key, "Size") == 0)
                        eo->size = o[i].value;
                else
                        return provider_error(err, -EINVAL, "cannot enable %s: dm-thin takes no "
                                              "option '%s' (it knows ThinPool and Size)", device,
                                              o[i].key);
        }
        if (!eo->pool)
                return provider_error(err, -VSS_E_VOLUME_NOT_SUPPORTED, "dm-thin makes thin "
                                      "volumes only into a pool: give ThinPool (vssctl enable "
                                      "--thin POOL)");
        return 0;
}

/* The source of a copy: a block device nobody has open (O_EXCL), its fd and size. */
static int source_open(const char *device, int *ret_fd, uint64_t *bytes,
                       struct vss_error_buf *err)
{
        struct stat st;
        int fd;

        if (stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
                return provider_error(err, -EINVAL, "cannot enable %s: it is not a block device; "
                                      "give --size SIZE to make a blank thin volume of that "
                                      "name instead", device);
        fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);
        if (fd < 0)
                return provider_error(err, -errno, "cannot enable %s: %s%s", device,
                                      strerror(errno), errno == EBUSY ? " (it is mounted or in "
                                      "use: unmount it, and stop what uses it, first)" : "");
        if (ioctl(fd, BLKGETSIZE64, bytes) < 0 || *bytes == 0 || *bytes % 512) {
                close(fd);
                return provider_error(err, -EIO, "cannot enable %s: cannot read its size",
                                      device);
        }
        *ret_fd = fd;
        return 0;
}

static bool all_zero(const char *buf, size_t n)
{
        return buf[0] == 0 && memcmp(buf, buf + 1, n - 1) == 0;
}

/* Copy SRC into the thin device DST, leaving out blocks of zeros: they stay unallocated. */
static int copy_into(int src, const char *device, const char *dst, uint64_t bytes,
                     struct vss_error_buf *err)
{
        char *buf = malloc(COPY_BLOCK);
        int fd = open(dst, O_WRONLY | O_EXCL | O_CLOEXEC);
        uint64_t copied = 0, skipped = 0;
        int r = 0;

        if (!buf || fd < 0) {
                r = provider_error(err, buf ? -errno : -ENOMEM, "cannot copy %s into %s: %s",
                                   device, dst, strerror(buf ? errno : ENOMEM));
                goto out;
        }
        for (uint64_t off = 0; off < bytes && r == 0;) {
                size_t n = bytes - off < COPY_BLOCK ? (size_t)(bytes - off) : COPY_BLOCK;
                ssize_t got = pread(src, buf, n, (off_t)off);
                if (got <= 0) {
                        r = provider_error(err, got < 0 ? -errno : -EIO, "cannot read %s at "
                                           "byte %llu: %s", device, (ull)off,
                                           got < 0 ? strerror(errno) : "short read");
                        break;
                }
                if (all_zero(buf, (size_t)got))
                        skipped += (uint64_t)got;
                else if (pwrite(fd, buf, (size_t)got, (off_t)off) != got)
                        r = provider_error(err, -EIO, "cannot write %s at byte %llu: %s (is "
                                           "the pool full?)", dst, (ull)off, strerror(errno));
                else
                        copied += (uint64_t)got;
                off += (uint64_t)got;
        }
        if (r == 0 && fsync(fd) < 0)
                r = provider_error(err, -errno, "cannot flush %s: %s", dst, strerror(errno));
        if (r == 0)
                provider_log(LOG_INFO, "copied %s into %s: %llu MiB written, %llu MiB of zeros "
                             "left unallocated", device, dst, (ull)(copied >> 20),
                             (ull)(skipped >> 20));
out:
        if (fd >= 0)
                close(fd);
        free(buf);
        return r;
}

/* The volume's name: NAME itself (with Size), else the device's kernel name. */
static int volume_name(const char *device, bool blank, char *buf, size_t size,
                       struct vss_error_buf *err)
{
        const char *base = blank ? device : strrchr(device, '/');

        base = blank ? device : base ? base + 1 : device;
        if (!thin_name_valid(base) || provider_printf(buf, size, "%s", base) < 0)
                return provider_error(err, -EINVAL, "cannot enable %s: '%s' is not a volume "
                                      "name (use letters, digits, '.', '_' and '-', up to 64)",
                                      device, base);
        return 0;
}

static int volume_make(DmThin *dt, VolumeRecord *v, struct vss_error_buf *err)
{
        char pool_dm[DM_NAME_MAX], msg[32], id[16];
        Journal j = JOURNAL_INIT;
        int r;

        if ((r = pool_take_id(dt, v->pool, &v->id, err)) < 0)
                return r;
        snprintf(id, sizeof(id), "%" PRIu32, v->id);
        snprintf(msg, sizeof(msg), "create_thin %" PRIu32, v->id);
        thin_dm_name(pool_dm, sizeof(pool_dm), POOL_PREFIX, v->pool);
        if ((r = thin_journal_open(dt, &j, "enable-", v->name, err)) < 0 ||
            (r = journal_append(&j, err, INTENT_ENABLE, v->name, v->pool, id, NULL)) < 0 ||
            (r = dm_message(pool_dm, msg, err)) < 0) {
                journal_done(&j);
                return r;
        }
        if ((r = record_write(dt->state_dir, RECORD_VOLUME, v->name, v, err)) < 0 ||
            (r = volume_activate(dt, v, err)) < 0) {
                record_remove(dt->state_dir, RECORD_VOLUME, v->name, NULL);
                if (pool_delete_id(v->pool, v->id, NULL) < 0)
                        return r; /* the journal stays: recovery deletes the id */
        }
        journal_done(&j);
        return r;
}

static void volume_unmake(DmThin *dt, const VolumeRecord *v)
{
        char dm[DM_NAME_MAX];
        struct vss_error_buf err;

        thin_dm_name(dm, sizeof(dm), VOL_PREFIX, v->name);
        if (dm_remove(dm, &err) < 0 || pool_delete_id(v->pool, v->id, &err) < 0 ||
            record_remove(dt->state_dir, RECORD_VOLUME, v->name, &err) < 0)
                provider_log(LOG_ERR, "cannot undo thin volume %s: %s", v->name, err.message);
}

int volume_enable(DmThin *dt, const char *device, const struct vss_option *options, size_t n,
                  char *volume, size_t size, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX], path[DM_NAME_MAX + 16];
        VolumeRecord v = { 0 }, old;
        EnableOptions eo;
        PoolRecord p;
        PoolStatus st;
        uint64_t bytes = 0;
        int src = -1, r;

        if ((r = options_parse(device, options, n, &eo, err)) < 0 ||
            (r = volume_name(device, eo.size != NULL, v.name, sizeof(v.name), err)) < 0 ||
            (r = pool_get(dt, eo.pool, &p, &st, err)) < 0)
                return r;
        if (eo.size && (size_parse(eo.size, 0, &bytes) < 0 || bytes == SIZE_UNBOUNDED ||
                        bytes == 0))
                return provider_error(err, -EINVAL, "cannot make thin volume %s: %s is not a "
                                      "size (write it as 512M, 20G)", device, eo.size);
        if (record_read(dt->state_dir, RECORD_VOLUME, v.name, &old, NULL) != -ENOENT)
                return provider_error(err, -EEXIST, "thin volume %s exists already (in pool %s)",
                                      v.name, old.pool);
        thin_dm_name(dm, sizeof(dm), VOL_PREFIX, v.name);
        dm_node_path(dm, path, sizeof(path));
        if (!eo.size && (r = source_open(device, &src, &bytes, err)) < 0)
                return r;
        snprintf(v.pool, sizeof(v.pool), "%s", eo.pool);
        v.sectors = bytes / 512;
        if ((r = volume_make(dt, &v, err)) == 0 && src >= 0 &&
            (r = copy_into(src, device, path, bytes, err)) < 0)
                volume_unmake(dt, &v);
        if (src >= 0)
                close(src);
        if (r < 0)
                return r;
        provider_log(LOG_NOTICE, "thin volume %s made in pool %s (%llu MiB, thin id %" PRIu32
                     "%s%s)", path, v.pool, (ull)(bytes >> 20), v.id, eo.size ? "" : ", from ",
                     eo.size ? "" : device);
        return provider_printf(volume, size, "%s", path) < 0
                       ? provider_error(err, -ENAMETOOLONG, "no room for the volume's path")
                       : 0;
}

/* --- disable -------------------------------------------------------------------------------- */

struct snaps_of {
        const char *origin;
        unsigned n;
};

static int count_snap(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        struct snaps_of *c = userdata;

        c->n += strcmp(s->origin, c->origin) == 0;
        return 0;
}

int volume_disable(DmThin *dt, const char *volume, struct vss_error_buf *err)
{
        VolumeRecord v;
        DmInfo info;
        int r = volume_examine(dt, volume, &v, &info, err);

        if (r == 0)
                return -VSS_E_VOLUME_NOT_SUPPORTED;
        if (r < 0)
                return r;
        struct snaps_of c = { .origin = v.name };
        record_foreach(dt->state_dir, RECORD_SNAPSHOT, count_snap, &c);
        if (c.n)
                return provider_error(err, -EBUSY, "cannot disable %s: it has %u snapshot(s); "
                                      "delete them first", volume, c.n);
        if (info.open_count > 0)
                return provider_error(err, -EBUSY, "cannot disable %s: it is mounted or in use; "
                                      "unmount it first", volume);
        if ((r = dm_remove(info.name, err)) < 0 || (r = pool_delete_id(v.pool, v.id, err)) < 0 ||
            (r = record_remove(dt->state_dir, RECORD_VOLUME, v.name, err)) < 0)
                return r;
        provider_log(LOG_NOTICE, "thin volume %s deleted from pool %s", volume, v.pool);
        return 0;
}
