/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wrap.c: "vssctl enable DEVICE": put a plain block device (partition, disk,
 * loop device) under a dm-linear device the provider owns, vss-<kernel
 * name>, which the administrator mounts instead and snapshots.
 *
 * A dm layer cannot be slid under a mounted file system, so the device must
 * be free (not mounted, not held by another driver: an O_EXCL open says so).
 * The wrapper must come back at every boot before local file systems are
 * mounted: each one has a record STATE_DIR/enabled/<name>
 * ("device=", "sectors=", "uuid=" lines) that the vss-wrappers.service unit
 * replays with dmsetup (systemd/vss-wrappers). The device is recorded by a
 * /dev/disk/by-id or by-partuuid link when udev made one, so that it is found
 * again if the kernel names disks in another order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/common/expose.h"
#include "providers/common/util.h"

#define WRAP_PREFIX "vss-"

/* The kernel's name of MAJOR:MINOR ("vdb", "sda1"). */
static int kernel_name(const struct stat *st, char *buf, size_t size)
{
        char link[64], target[PATH_MAX];
        ssize_t n;

        snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st->st_rdev),
                 minor(st->st_rdev));
        if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
                return -errno;
        target[n] = '\0';
        return provider_printf(buf, size, "%s", basename(target));
}

/* A /dev/disk link to the same device, or DEVICE itself. */
static void stable_path(const char *device, const struct stat *dev, char *buf, size_t size)
{
        static const char *const dirs[] = { "/dev/disk/by-id", "/dev/disk/by-partuuid" };

        snprintf(buf, size, "%s", device);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *de;
                bool found = false;
                while (d && !found && (de = readdir(d))) {
                        char path[PATH_MAX];
                        struct stat st;
                        snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
                        found = de->d_name[0] != '.' && stat(path, &st) == 0 &&
                                S_ISBLK(st.st_mode) && st.st_rdev == dev->st_rdev;
                        if (found)
                                snprintf(buf, size, "%s", path);
                }
                if (d)
                        closedir(d);
                if (found)
                        return;
        }
}

/* The device must be free: an exclusive open fails while it is mounted or held. */
static int check_free(const char *device, const struct stat *st, uint64_t *sectors,
                      struct vss_error_buf *err)
{
        char mnt[PATH_MAX];
        uint64_t bytes;
        int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);

        if (fd < 0 && errno == EBUSY && expose_find(major(st->st_rdev), minor(st->st_rdev),
                                                    mnt, sizeof(mnt)) == 0)
                return provider_error(err, -EBUSY, "%s is mounted at %s: unmount it, run 'vssctl "
                                      "enable %s' again, then mount the volume it prints",
                                      device, mnt, device);
        if (fd < 0)
                return provider_error(err, -errno, "%s is in use (%s): a device-mapper layer can "
                                      "only be put under a device nothing holds", device,
                                      strerror(errno));
        int r = ioctl(fd, BLKGETSIZE64, &bytes) < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return provider_error(err, r, "cannot read the size of %s: %s", device,
                                      strerror(-r));
        *sectors = bytes / 512;
        return 0;
}

static int record_path(DmSnap *dm, const char *name, char *buf, size_t size)
{
        return provider_printf(buf, size, "%s/%s", dm->enabled_dir, name);
}

static int record_write(DmSnap *dm, const char *name, const char *uuid, const char *device,
                        uint64_t sectors, struct vss_error_buf *err)
{
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        FILE *f;

        int r = provider_mkdir_parents(dm->enabled_dir, 0755);
        if (r < 0)
                return provider_error(err, r, "cannot create %s: %s", dm->enabled_dir,
                                      strerror(-r));
        if (record_path(dm, name, path, sizeof(path)) < 0)
                return provider_error(err, -ENAMETOOLONG, "%s: path too long", dm->enabled_dir);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (!(f = fopen(tmp, "we")))
                return provider_error(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
        fprintf(f, "device=%s\nsectors=%" PRIu64 "\nuuid=%s\n", device, sectors, uuid);
        bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
        fclose(f);
        if (!ok || rename(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                return provider_error(err, r, "cannot write %s: %s", path, strerror(-r));
        }
        return 0;
}

static int make_wrapper(DmSnap *dm, const char *device, const struct stat *st, const char *name,
                        const char *uuid, struct vss_error_buf *err)
{
        char params[64], stable[PATH_MAX];
        DmTable t = { 0 };
        uint64_t sectors = 0;
        int r;

        if ((r = check_free(device, st, &sectors, err)) < 0)
                return r;
        snprintf(params, sizeof(params), "%u:%u 0", major(st->st_rdev), minor(st->st_rdev));
        if (dm_table_add(&t, 0, sectors, "linear", params) < 0)
                return provider_error(err, -ENOMEM, "out of memory");
        r = dm_create(name, uuid, &t, false, true, err);
        dm_table_free(&t);
        if (r < 0)
                return r;
        stable_path(device, st, stable, sizeof(stable));
        if ((r = record_write(dm, name, uuid, stable, sectors, err)) < 0)
                dm_remove(name, NULL);
        return r;
}

int dmsnap_enable(DmSnap *dm, const char *device, char *volume, size_t size,
                  struct vss_error_buf *err)
{
        char kname[64], name[DM_NAME_MAX], uuid[DM_UUID_MAX];
        struct stat st;
        DmInfo info;
        Origin origin;
        int r;

        if (stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
                return provider_error(err, -ENODEV, "%s is not a block device", device);
        if (dm_info_by_devnum(major(st.st_rdev), minor(st.st_rdev), &info, NULL) == 0) {
                /* A dm device needs no wrapper: say whether it can be snapshotted as it is. */
                if ((r = origin_examine(device, &origin, err)) <= 0)
                        return r < 0 ? r : -EINVAL;
                return provider_printf(volume, size, "/dev/mapper/%s", info.name);
        }
        if ((r = kernel_name(&st, kname, sizeof(kname))) < 0 ||
            provider_printf(name, sizeof(name), "%s%s", WRAP_PREFIX, kname) < 0 ||
            provider_printf(uuid, sizeof(uuid), "%s%s", UUID_WRAP, kname) < 0)
                return provider_error(err, r < 0 ? r : -ENAMETOOLONG, "cannot name a wrapper "
                                      "for %s", device);
        if ((r = dm_info_get(name, &info, err)) < 0)
                return r;
        if (info.exists && strcmp(info.uuid, uuid) != 0)
                return provider_error(err, -EEXIST, "a device named %s exists and is not a "
                                      "wrapper linux-vss made", name);
        if (!info.exists && (r = make_wrapper(dm, device, &st, name, uuid, err)) < 0)
                return r;
        return dm_node_path(name, volume, size);
}

int dmsnap_disable(DmSnap *dm, const char *volume, struct vss_error_buf *err)
{
        char path[PATH_MAX];
        struct stat st;
        DmInfo info;
        DmTable t = { 0 };
        int r;

        if (stat(volume, &st) < 0 || !S_ISBLK(st.st_mode) ||
            dm_info_by_devnum(major(st.st_rdev), minor(st.st_rdev), &info, NULL) < 0 ||
            strncmp(info.uuid, UUID_WRAP, strlen(UUID_WRAP)) != 0)
                /* "Not mine": vssd asks the next provider (DisableVolume's pass-on). */
                return provider_error(err, -VSS_E_VOLUME_NOT_SUPPORTED, "%s is not a volume "
                                      "'vssctl enable' made with dm-snapshot", volume);
        if ((r = dm_table_get(info.name, false, &t, err)) < 0)
                return r;
        bool has_snapshots = t.n == 1 && strcmp(t.targets[0].type, "linear") != 0;
        dm_table_free(&t);
        if (has_snapshots)
                return provider_error(err, -EBUSY, "%s has snapshots: delete them first", volume);
        if (info.open_count > 0)
                return provider_error(err, -EBUSY, "%s is in use (mounted?): unmount it first",
                                      volume);
        if ((r = dm_remove(info.name, err)) < 0)
                return r;
        if (record_path(dm, info.name, path, sizeof(path)) == 0)
                unlink(path);
        return 0;
}
