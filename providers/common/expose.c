/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * expose.c: mount a snapshot read-only beside its still-mounted origin.
 *
 * The kernel sees a snapshot as a second device holding the origin's file
 * system: same UUID, and a journal that may need replaying. Each supported
 * type gets the options that make such a copy mountable without writing to
 * it (see expose_fs_table); the mount is also nodev, nosuid and noexec,
 * because an exposed snapshot is a view for reading backups, and a stale copy
 * of a system volume is full of device nodes, setuid programs and binaries
 * that nobody should run from there by accident.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid.h>

#include "providers/common/expose.h"
#include "providers/common/util.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

#define EXPOSE_MOUNT_FLAGS (MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC)

static void probe_freep(blkid_probe *probe)
{
        if (*probe)
                blkid_free_probe(*probe);
}

static void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static void freep(void *p)
{
        free(*(void **)p);
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/*
 * What a read-only copy of each file system type needs. options NULL means
 * it cannot be exposed, and refusal says why.
 *
 * ext3/ext4: "noload" skips the journal; without it the kernel replays a
 * dirty journal even on a read-only mount, i.e. writes to the snapshot.
 * ext4 keeps no registry of UUIDs, so the clash with the origin is harmless.
 * xfs: "nouuid" because xfs refuses a second mounted file system with the
 * same UUID; "norecovery" so the log is not replayed (xfs then requires ro).
 * ext2, vfat, exfat: no journal to replay and no UUID registry in their
 * drivers, so a plain read-only mount of the copy is already safe.
 */
static const struct expose_fs {
        const char *type;
        const char *options;
        const char *refusal;
} expose_fs_table[] = {
        { "ext4", "noload", NULL },
        { "ext3", "noload", NULL },
        { "ext2", "", NULL },
        { "xfs", "nouuid,norecovery", NULL },
        { "vfat", "", NULL },
        { "exfat", "", NULL },
        { "btrfs", NULL,
          "btrfs identifies its devices by file system UUID (fsid), and a snapshot is a "
          "second device with the origin's fsid: the kernel refuses to mount it, or takes "
          "it for the origin, while the origin is mounted. Read it with btrfs restore, or "
          "use btrfs's own read-only subvolume snapshots for this volume" },
};

static const struct expose_fs *expose_fs_find(const char *type)
{
        for (size_t i = 0; i < sizeof(expose_fs_table) / sizeof(expose_fs_table[0]); i++)
                if (strcmp(expose_fs_table[i].type, type) == 0)
                        return &expose_fs_table[i];
        return NULL;
}

const char *expose_options(const char *type)
{
        const struct expose_fs *fs = expose_fs_find(type);
        return fs ? fs->options : NULL;
}

static const char *expose_refusal(const char *type)
{
        const struct expose_fs *fs = expose_fs_find(type);
        if (fs && fs->refusal)
                return fs->refusal;
        return "linux-vss knows no way to mount a copy of this file system type beside its "
               "origin without writing to it or clashing with the origin's identity. Copy "
               "the data from the snapshot device with a tool that reads it directly";
}

/* Translate libblkid's 0 / 1 (nothing) / -1 (error) / -2 (ambiguous). */
static int probe_result(int r, const char *device, struct vss_error_buf *err)
{
        switch (r) {
        case 0:
                return 0;
        case 1:
                return provider_error(err, -ENODATA,
                                      "%s holds no file system that libblkid recognises: there is "
                                      "nothing to mount. Check that it is the right device "
                                      "(blkid -p %s).", device, device);
        case -2:
                return provider_error(err, -ENOTUNIQ,
                                      "%s carries signatures of more than one file system, so its "
                                      "type is ambiguous and it is not mounted. See them with "
                                      "wipefs -n %s.", device, device);
        default:
                return provider_error(err, -EIO,
                                      "libblkid could not read the file system signature of %s "
                                      "(an I/O error or a damaged superblock). Check the device "
                                      "and the kernel log (dmesg).", device);
        }
}

int expose_probe(const char *device, char *buf, size_t size, struct vss_error_buf *err)
{
        _cleanup_(probe_freep) blkid_probe probe = NULL;
        const char *type = NULL;
        int r;

        errno = 0;
        probe = blkid_new_probe_from_filename(device);
        if (!probe) {
                r = errno ? -errno : -ENOMEM;
                return provider_error(err, r, "Cannot open %s to find its file system type: %s.",
                                      device, strerror(-r));
        }
        if (blkid_probe_enable_superblocks(probe, 1) < 0 ||
            blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE) < 0)
                return provider_error(err, -ENOMEM, "Cannot set up libblkid to probe %s.", device);

        r = probe_result(blkid_do_safeprobe(probe), device, err);
        if (r < 0)
                return r;
        if (blkid_probe_lookup_value(probe, "TYPE", &type, NULL) < 0 || !type)
                return probe_result(1, device, err);
        if (provider_printf(buf, size, "%s", type) < 0)
                return provider_error(err, -ENAMETOOLONG,
                                      "The file system type of %s (%s) does not fit in %zu bytes.",
                                      device, type, size);
        return 0;
}

/*
 * mkdir -p PATH (mode 0755). *ret_created says whether the last component
 * was made here, so that a failed expose removes only what it made.
 */
static int mkdir_parents(const char *path, bool *ret_created)
{
        char copy[PATH_MAX];

        if (provider_printf(copy, sizeof(copy), "%s", path) < 0)
                return -ENAMETOOLONG;
        for (char *slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        if (mkdir(copy, 0755) == 0) {
                *ret_created = true;
                return 0;
        }
        *ret_created = false;
        return errno == EEXIST ? 0 : -errno;
}

/*
 * Is PATH the root of a mount? statx knows (Linux 5.8); otherwise compare
 * with the parent directory, which misses only a bind mount of a directory
 * of the same file system.
 */
static int is_mount_point(const char *path)
{
        struct statx stx;
        struct stat self, parent;
        char dotdot[PATH_MAX];

        if (statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_INO, &stx) == 0 &&
            (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return !!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);

        if (provider_printf(dotdot, sizeof(dotdot), "%s/..", path) < 0)
                return -ENAMETOOLONG;
        if (stat(path, &self) < 0 || stat(dotdot, &parent) < 0)
                return -errno;
        return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

/* 1 if the directory PATH holds nothing but "." and "..", 0 if it holds more. */
static int dir_is_empty(const char *path)
{
        _cleanup_(closedirp) DIR *dir = opendir(path);
        struct dirent *entry;

        if (!dir)
                return -errno;
        while ((entry = readdir(dir)))
                if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
                        return 0;
        return 1;
}

/* Make MOUNT_POINT if missing and check that mounting DEVICE there hides nothing. */
static int mount_point_prepare(const char *device, const char *mount_point, bool *ret_created,
                               struct vss_error_buf *err)
{
        int r;

        if (mount_point[0] != '/')
                return provider_error(err, -EINVAL,
                                      "Cannot expose %s at \"%s\": the mount point must be an "
                                      "absolute path.", device, mount_point);
        r = mkdir_parents(mount_point, ret_created);
        if (r < 0)
                return provider_error(err, r,
                                      "Cannot expose %s: cannot create the mount point %s: %s. "
                                      "Choose a directory on a writable file system.",
                                      device, mount_point, strerror(-r));
        r = is_mount_point(mount_point);
        if (r < 0)
                return provider_error(err, r, "Cannot expose %s: cannot examine %s: %s.",
                                      device, mount_point, strerror(-r));
        if (r > 0)
                return provider_error(err, -EBUSY,
                                      "Cannot expose %s at %s: something is already mounted there "
                                      "(see findmnt %s). Unmount it or choose another directory.",
                                      device, mount_point, mount_point);
        r = dir_is_empty(mount_point);
        if (r < 0)
                return provider_error(err, r, "Cannot expose %s: cannot read the directory %s: %s.",
                                      device, mount_point, strerror(-r));
        if (r == 0)
                return provider_error(err, -ENOTEMPTY,
                                      "Cannot expose %s at %s: the directory is not empty, and "
                                      "mounting would hide its files. Choose an empty directory.",
                                      device, mount_point);
        return 0;
}

/* What an administrator can do about a failed mount(2). */
static const char *mount_failure_hint(int error)
{
        switch (error) {
        case EBUSY:
                return "the device is already mounted (findmnt) or held open by another program";
        case ENODEV:
                return "this kernel has no driver for the file system type: load its module "
                       "(modprobe)";
        case EINVAL:
        case EUCLEAN:
                return "the kernel refused the file system or its options; the kernel log "
                       "(dmesg) says why";
        default:
                return "the kernel log (dmesg) may say more";
        }
}

int expose_mount(const char *device, const char *mount_point, struct vss_error_buf *err)
{
        char type[64];
        const char *options;
        bool created = false;
        int r;

        r = expose_probe(device, type, sizeof(type), err);
        if (r < 0)
                return r;
        options = expose_options(type);
        if (!options)
                return provider_error(err, -EOPNOTSUPP,
                                      "Cannot expose %s: it holds a %s file system, and %s.",
                                      device, type, expose_refusal(type));
        r = mount_point_prepare(device, mount_point, &created, err);
        if (r < 0)
                goto fail;
        if (mount(device, mount_point, type, EXPOSE_MOUNT_FLAGS, options) < 0) {
                r = -errno;
                provider_error(err, r,
                               "Cannot mount %s (%s, options \"%s\") read-only at %s: %s: %s.",
                               device, type, options, mount_point, strerror(-r),
                               mount_failure_hint(-r));
                goto fail;
        }
        return 0;
fail:
        if (created)
                (void)rmdir(mount_point);
        return r;
}

int expose_unmount(const char *mount_point, struct vss_error_buf *err)
{
        if (umount2(mount_point, 0) < 0) {
                int r = -errno;
                if (r == -EBUSY)
                        return provider_error(err, -EBUSY,
                                              "Cannot unexpose %s: it is in use (a process has "
                                              "files open there: see fuser -vm %s). Close them "
                                              "and try again.", mount_point, mount_point);
                if (r == -EINVAL || r == -ENOENT)
                        return provider_error(err, -EINVAL,
                                              "Cannot unexpose %s: nothing is mounted there.",
                                              mount_point);
                return provider_error(err, r, "Cannot unmount %s: %s.", mount_point, strerror(-r));
        }
        /* Only an empty directory goes: anything else there is not ours to delete. */
        (void)rmdir(mount_point);
        return 0;
}

/* "ooo" with a value below 0400, as the kernel writes an escaped byte. */
static bool is_octal_escape(const char *s)
{
        return s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' &&
               s[2] <= '7';
}

/* Copy mountinfo's escaped field SRC (LEN bytes; "\040" is a space) into BUF. */
static int mountinfo_unescape(const char *src, size_t len, char *buf, size_t size)
{
        size_t out = 0;

        for (size_t i = 0; i < len; i++) {
                char c = src[i];
                if (c == '\\' && i + 3 < len && is_octal_escape(src + i + 1)) {
                        c = (char)((src[i + 1] - '0') << 6 | (src[i + 2] - '0') << 3 |
                                   (src[i + 3] - '0'));
                        i += 3;
                }
                if (out + 1 >= size)
                        return -ENAMETOOLONG;
                buf[out++] = c;
        }
        if (size == 0)
                return -ENAMETOOLONG;
        buf[out] = '\0';
        return 0;
}

/*
 * If LINE (of mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT ...") is a mount
 * of MAJOR:MINOR, point *ret_field at its mount point and *ret_len at its length.
 */
static bool mountinfo_line_match(const char *line, unsigned major, unsigned minor,
                                 const char **ret_field, size_t *ret_len)
{
        unsigned line_major, line_minor;
        int offset = -1;

        if (sscanf(line, "%*u %*u %u:%u %*s %n", &line_major, &line_minor, &offset) != 2 ||
            offset < 0)
                return false;
        if (line_major != major || line_minor != minor)
                return false;
        *ret_field = line + offset;
        *ret_len = strcspn(line + offset, " \n");
        return true;
}

int expose_find(unsigned major, unsigned minor, char *buf, size_t size)
{
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_(freep) char *line = NULL;
        size_t line_size = 0;
        const char *field;
        size_t len;

        if (!f)
                return -errno;
        while (getline(&line, &line_size, f) > 0)
                if (mountinfo_line_match(line, major, minor, &field, &len))
                        return mountinfo_unescape(field, len, buf, size);
        return -ENOENT;
}
