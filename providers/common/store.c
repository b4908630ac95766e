/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store.c: copy-on-write stores ("diff areas"): sparse files in the diff-area
 * directory, each attached to a loop device with LO_FLAGS_AUTOCLEAR, and the
 * checks that keep the diff area off the volumes it holds snapshots of.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/magic.h>

#include "providers/common/store.h"
#include "providers/common/util.h"

#ifndef VSS_CONFIG_FILE
#define VSS_CONFIG_FILE "/etc/vss/vssd.conf"
#endif

/* Sizes are whole pages, so a store fits any loop block size and dm chunk size. */
#define STORE_ALIGN 4096u
/* How often to ask for another free loop device when others keep taking ours. */
#define LOOP_ATTACH_TRIES 16
/* Devices in one stack (a device, its slaves, theirs...): far more than real stacks. */
#define DEV_TREE_MAX 64

typedef unsigned long long ull;

/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* The first line of a sysfs attribute, without its newline. */
static int read_line(const char *path, char *buf, size_t size)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, (int)size, f)) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int read_devnum(const char *path, dev_t *ret)
{
        char line[32];
        unsigned maj, min;
        int r = read_line(path, line, sizeof(line));
        if (r < 0)
                return r;
        if (sscanf(line, "%u:%u", &maj, &min) != 2)
                return -EIO;
        *ret = makedev(maj, min);
        return 0;
}

/* DIR part of PATH ("." for a bare name), for messages and statvfs. */
static void dir_of(const char *path, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                snprintf(buf, size, ".");
        else if (slash == path)
                snprintf(buf, size, "/");
        else
                snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

int store_dir_free(const char *dir, uint64_t *ret)
{
        struct statvfs sv;
        if (statvfs(dir, &sv) < 0)
                return -errno;
        *ret = (uint64_t)sv.f_bavail * sv.f_frsize;
        return 0;
}

/*
 * May a file grow to SIZE bytes when BLOCKS 512-byte blocks of it are already
 * on disk? Sparse files take space only as the snapshot writes to them, so
 * this asks whether the space is there now: what other files take later is
 * the usage watch's business.
 */
static int space_check(const char *path, int fd, uint64_t size, uint64_t blocks,
                       struct vss_error_buf *err)
{
        char dir[PATH_MAX];
        struct statvfs sv;
        uint64_t free_bytes, have = blocks * 512, need = size > have ? size - have : 0;

        dir_of(path, dir, sizeof(dir));
        if (fstatvfs(fd, &sv) < 0)
                return provider_error(err, -errno, "cannot check free space in %s: %s", dir,
                                      strerror(errno));
        free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (need > free_bytes)
                return provider_error(err, -ENOSPC,
                                      "not enough space in the diff area %s for COW store %s of "
                                      "%llu bytes: it needs %llu bytes more and %llu bytes are "
                                      "free; free space there or set diff_area in "
                                      "[provider.dm-snapshot] of %s to a larger file system",
                                      dir, path, (ull)size, (ull)need, (ull)free_bytes,
                                      VSS_CONFIG_FILE);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* loop devices                                                              */

/* lo_device holds the kernel's "huge" encoding of a dev_t (new_encode_dev). */
static dev_t dev_from_kernel(uint64_t d)
{
        return makedev((unsigned)((d & 0xfff00) >> 8),
                       (unsigned)((d & 0xff) | ((d >> 12) & 0xfff00)));
}

static void loop_info_init(struct loop_info64 *info, const char *path, uint32_t flags)
{
        size_t n = strlen(path);

        memset(info, 0, sizeof(*info));
        info->lo_flags = flags;
        /* The kernel's copy is only a label (64 bytes); sysfs backing_file is the truth. */
        if (n >= LO_NAME_SIZE)
                n = LO_NAME_SIZE - 1;
        memcpy(info->lo_file_name, path, n);
}

/* Old kernels (before 5.8): bind, then configure, then ask for direct I/O. */
static int loop_configure_legacy(int loop_fd, int file_fd, const char *path)
{
        struct loop_info64 info;
        int r;

        if (ioctl(loop_fd, LOOP_SET_FD, file_fd) < 0)
                return -errno;
        loop_info_init(&info, path, LO_FLAGS_AUTOCLEAR);
        if (ioctl(loop_fd, LOOP_SET_STATUS64, &info) < 0) {
                r = -errno;
                ioctl(loop_fd, LOOP_CLR_FD, 0);
                return r;
        }
        /* Direct I/O only saves a second page-cache copy: fine without it. */
        (void)ioctl(loop_fd, LOOP_SET_DIRECT_IO, 1UL);
        return 0;
}

/*
 * Bind FILE_FD to the loop device in one step. Direct I/O keeps the COW data
 * out of the page cache twice over, but the backing file system must support
 * O_DIRECT at the loop's block size: the kernel says EINVAL when it does not,
 * and we go on with buffered I/O. Kernels without LOOP_CONFIGURE say ENOTTY or,
 * before 5.8, EINVAL (as util-linux handles it): then the legacy ioctls.
 */
static int loop_configure(int loop_fd, int file_fd, const char *path)
{
        struct loop_config config = { .fd = (uint32_t)file_fd };

        loop_info_init(&config.info, path, LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO);
        if (ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0)
                return 0;
        if (errno == EINVAL) {
                config.info.lo_flags &= ~(uint32_t)LO_FLAGS_DIRECT_IO;
                if (ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0)
                        return 0;
        }
        if (errno == ENOTTY || errno == EINVAL)
                return loop_configure_legacy(loop_fd, file_fd, path);
        return -errno;
}

/* Open the loop device LOOP_CTL_GET_FREE names. */
static int loop_open_free(char *loop, size_t size, int *ret_fd, struct vss_error_buf *err)
{
        int ctl, n, fd;

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return provider_error(err, -errno,
                                      "cannot open /dev/loop-control: %s (is the loop module "
                                      "loaded?)",
                                      strerror(errno));
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
                int r = -errno;
                close(ctl);
                return provider_error(err, r, "cannot get a free loop device: %s", strerror(-r));
        }
        close(ctl);
        snprintf(loop, size, "/dev/loop%d", n);
        fd = open(loop, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return provider_error(err, -errno, "cannot open %s: %s", loop, strerror(errno));
        *ret_fd = fd;
        return 0;
}

/*
 * Attach FILE_FD (the file PATH) to a free loop device. Between
 * LOOP_CTL_GET_FREE and our configure another process (losetup, udisks) may
 * bind the same device: the kernel then says EBUSY and we ask again.
 */
static int loop_attach(int file_fd, const char *path, char *loop, size_t size, int *ret_fd,
                       struct vss_error_buf *err)
{
        for (int try = 0; try < LOOP_ATTACH_TRIES; try++) {
                int fd = -1, r;

                r = loop_open_free(loop, size, &fd, err);
                if (r < 0)
                        return r;
                r = loop_configure(fd, file_fd, path);
                if (r == 0) {
                        *ret_fd = fd;
                        return 0;
                }
                close(fd);
                if (r != -EBUSY)
                        return provider_error(err, r, "cannot attach %s to %s: %s", path, loop,
                                              strerror(-r));
        }
        return provider_error(err, -EBUSY,
                              "cannot attach %s to a loop device: other programs took every free "
                              "one %d times in a row",
                              path, LOOP_ATTACH_TRIES);
}

/* "/sys/block/loopN/loop/ATTR" for the device "/dev/loopN". */
static int loop_sysfs_path(const char *loop, const char *attr, char *buf, size_t size)
{
        const char *name = strrchr(loop, '/');
        return provider_printf(buf, size, "/sys/block/%s/loop/%s", name ? name + 1 : loop, attr);
}

/* The file a loop device is bound to, as sysfs says it; -ENOENT when unbound. */
static int loop_backing_file(const char *loop, char *buf, size_t size)
{
        char attr[PATH_MAX];
        int r = loop_sysfs_path(loop, "backing_file", attr, sizeof(attr));
        if (r < 0)
                return r;
        return read_line(attr, buf, size);
}

/*
 * Is the loop device (open as LOOP_FD) still bound to PATH? After an
 * autoclear the kernel hands the same /dev/loopN to whoever asks next, so a
 * name alone proves nothing: compare the backing inode, or, when PATH is gone,
 * the name sysfs gives the deleted file.
 */
static bool loop_backs(int loop_fd, const char *loop, const char *path)
{
        struct loop_info64 info;
        struct stat st;
        char backing[PATH_MAX + 16], deleted[PATH_MAX + 16];

        /* The kernel fills it; zeroed for tools that do not know the ioctl (valgrind). */
        memset(&info, 0, sizeof(info));
        if (ioctl(loop_fd, LOOP_GET_STATUS64, &info) < 0)
                return false; /* ENXIO: unbound */
        if (stat(path, &st) == 0)
                return dev_from_kernel(info.lo_device) == st.st_dev && info.lo_inode == st.st_ino;
        if (loop_backing_file(loop, backing, sizeof(backing)) < 0)
                return false;
        snprintf(deleted, sizeof(deleted), "%s (deleted)", path);
        return strcmp(backing, deleted) == 0;
}

static int loop_size(int loop_fd, uint64_t *ret)
{
        uint64_t size;
        if (ioctl(loop_fd, BLKGETSIZE64, &size) < 0)
                return -errno;
        *ret = size;
        return 0;
}

/* STORE's loop fd, or a new read-only one in *OWNED (enough for root's ioctls). */
static int store_loop_fd(const CowStore *store, int *owned)
{
        *owned = -1;
        if (store->loop_fd >= 0)
                return store->loop_fd;
        *owned = open(store->loop, O_RDONLY | O_CLOEXEC);
        return *owned >= 0 ? *owned : -errno;
}

/* ------------------------------------------------------------------------ */
/* stores                                                                    */

/* Make PATH a sparse file of SIZE bytes; its fd, or -errno with nothing left behind. */
static int store_file_create(const char *path, uint64_t size, struct vss_error_buf *err)
{
        int fd, r;

        fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
                return provider_error(err, -EEXIST,
                                      "cannot create COW store %s: the file exists already (left "
                                      "by a crash?); delete it if no loop device uses it "
                                      "(losetup -j %s)",
                                      path, path);
        if (fd < 0)
                return provider_error(err, -errno, "cannot create COW store %s: %s", path,
                                      strerror(errno));
        r = space_check(path, fd, size, 0, err);
        if (r == 0 && ftruncate(fd, (off_t)size) < 0)
                r = provider_error(err, -errno, "cannot make COW store %s %llu bytes long: %s",
                                   path, (ull)size, strerror(errno));
        if (r < 0) {
                close(fd);
                unlink(path);
                return r;
        }
        return fd;
}

int store_create(CowStore *store, const char *dir, const char *name, uint64_t size,
                 struct vss_error_buf *err)
{
        char path[PATH_MAX], loop[sizeof(store->loop)];
        int fd, loop_fd = -1, r;

        if (size == 0 || size % STORE_ALIGN)
                return provider_error(err, -EINVAL,
                                      "cannot create COW store %s in %s: %llu bytes is not a "
                                      "positive multiple of %u",
                                      name, dir, (ull)size, STORE_ALIGN);
        r = provider_printf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0)
                return provider_error(err, r, "cannot create COW store %s in %s: path too long",
                                      name, dir);
        fd = store_file_create(path, size, err);
        if (fd < 0)
                return fd;
        r = loop_attach(fd, path, loop, sizeof(loop), &loop_fd, err);
        close(fd); /* the loop device holds its own reference to the file */
        if (r < 0) {
                unlink(path);
                return r;
        }
        snprintf(store->path, sizeof(store->path), "%s", path);
        snprintf(store->loop, sizeof(store->loop), "%s", loop);
        store->loop_fd = loop_fd;
        store->size = size;
        return 0;
}

/* For dm-thin's pool files, at every start: the file exists, only its loop device is new. */
int store_attach(CowStore *store, const char *path, struct vss_error_buf *err)
{
        char loop[sizeof(store->loop)];
        struct stat st;
        int fd, loop_fd = -1, r;

        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return provider_error(err, -errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size % STORE_ALIGN) {
                close(fd);
                return provider_error(err, -EINVAL, "cannot attach %s to a loop device: it is "
                                        "not a regular file of a multiple of %u bytes", path,
                                        STORE_ALIGN);
        }
        r = loop_attach(fd, path, loop, sizeof(loop), &loop_fd, err);
        close(fd); /* the loop device holds its own reference to the file */
        if (r < 0)
                return r;
        snprintf(store->path, sizeof(store->path), "%s", path);
        snprintf(store->loop, sizeof(store->loop), "%s", loop);
        store->loop_fd = loop_fd;
        store->size = (uint64_t)st.st_size;
        return 0;
}

void store_close(CowStore *store)
{
        close_fd(&store->loop_fd);
}

/* Tell the loop device about the new file size and check that it sees it. */
static int store_resize_loop(CowStore *store, int loop_fd, uint64_t new_size,
                             struct vss_error_buf *err)
{
        uint64_t seen = 0;
        int r;

        if (ioctl(loop_fd, LOOP_SET_CAPACITY, 0) < 0)
                return provider_error(err, -errno, "cannot resize %s to %llu bytes: %s",
                                      store->loop, (ull)new_size, strerror(errno));
        r = loop_size(loop_fd, &seen);
        if (r < 0)
                return provider_error(err, r, "cannot read the size of %s: %s", store->loop,
                                      strerror(-r));
        if (seen != new_size)
                return provider_error(err, -EIO,
                                      "%s is %llu bytes after growing %s to %llu bytes",
                                      store->loop, (ull)seen, store->path, (ull)new_size);
        return 0;
}

/* Extend the open file FD, then the loop device; on failure the file shrinks back. */
static int store_extend(CowStore *store, int fd, int loop_fd, uint64_t new_size,
                        struct vss_error_buf *err)
{
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return provider_error(err, -errno, "cannot stat %s: %s", store->path,
                                      strerror(errno));
        r = space_check(store->path, fd, new_size, (uint64_t)st.st_blocks, err);
        if (r < 0)
                return r;
        if (ftruncate(fd, (off_t)new_size) < 0)
                return provider_error(err, -errno, "cannot grow %s to %llu bytes: %s", store->path,
                                      (ull)new_size, strerror(errno));
        r = store_resize_loop(store, loop_fd, new_size, err);
        /* Safe only while the loop device has not seen the new end: it never wrote there. */
        if (r < 0 && r != -EIO && ftruncate(fd, st.st_size) < 0)
                provider_log(LOG_WARNING, "cannot shrink %s back to %llu bytes: %m", store->path,
                             (ull)st.st_size);
        return r;
}

int store_grow(CowStore *store, uint64_t new_size, struct vss_error_buf *err)
{
        int fd, owned, loop_fd, r;

        if (new_size == store->size)
                return 0;
        if (new_size < store->size || new_size % STORE_ALIGN)
                return provider_error(err, -EINVAL,
                                      "cannot grow COW store %s from %llu to %llu bytes: a store "
                                      "only grows, by multiples of %u",
                                      store->path, (ull)store->size, (ull)new_size, STORE_ALIGN);
        if (!store->loop[0])
                return provider_error(err, -ENXIO, "cannot grow COW store %s: it has no loop "
                                      "device", store->path);
        loop_fd = store_loop_fd(store, &owned);
        if (loop_fd < 0)
                return provider_error(err, loop_fd, "cannot open %s: %s", store->loop,
                                      strerror(-loop_fd));
        fd = open(store->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                r = provider_error(err, -errno, "cannot open COW store %s: %s", store->path,
                                   strerror(errno));
        else if (!loop_backs(loop_fd, store->loop, store->path))
                r = provider_error(err, -ENXIO, "cannot grow COW store %s: %s no longer serves it",
                                   store->path, store->loop);
        else
                r = store_extend(store, fd, loop_fd, new_size, err);
        if (r == 0)
                store->size = new_size;
        close_fd(&fd);
        close_fd(&owned);
        return r;
}

/*
 * Unbind STORE's loop device if it still serves STORE's file. While others
 * (the dm snapshot) hold it, LOOP_CLR_FD only marks it for autoclear: it goes
 * when they let go, which is what a delete wants.
 */
static int store_detach(CowStore *store, struct vss_error_buf *err)
{
        int owned, fd, r = 0;

        if (!store->loop[0]) {
                close_fd(&store->loop_fd);
                return 0;
        }
        fd = store_loop_fd(store, &owned);
        if (fd == -ENOENT || fd == -ENXIO)
                fd = -1; /* the device itself is gone */
        else if (fd < 0)
                return provider_error(err, fd, "cannot open %s to detach %s: %s", store->loop,
                                      store->path, strerror(-fd));
        if (fd >= 0 && loop_backs(fd, store->loop, store->path) &&
            ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
                r = provider_error(err, -errno, "cannot detach %s from %s: %s", store->path,
                                   store->loop, strerror(errno));
        close_fd(&owned);
        if (r < 0)
                return r;
        close_fd(&store->loop_fd);
        store->loop[0] = '\0';
        return 0;
}

int store_destroy(CowStore *store, struct vss_error_buf *err)
{
        int r = store_detach(store, err);
        if (r < 0)
                return r;
        if (unlink(store->path) < 0 && errno != ENOENT)
                return provider_error(err, -errno, "cannot delete COW store %s: %s", store->path,
                                      strerror(errno));
        store->size = 0;
        return 0;
}

/* Size of a loop device in bytes, from sysfs (in 512-byte sectors), without opening it. */
static int loop_sysfs_size(const char *name, uint64_t *ret)
{
        char attr[PATH_MAX], line[32];
        int r = provider_printf(attr, sizeof(attr), "/sys/block/%s/size", name);
        if (r < 0 || (r = read_line(attr, line, sizeof(line))) < 0)
                return r;
        *ret = strtoull(line, NULL, 10) * 512;
        return 0;
}

/* Is /sys/block/NAME a loop device bound to the file WANTED? */
static bool loop_named_backs(const char *name, const char *wanted)
{
        char attr[PATH_MAX], backing[PATH_MAX];

        if (strncmp(name, "loop", 4) != 0)
                return false;
        if (provider_printf(attr, sizeof(attr), "/sys/block/%s/loop/backing_file", name) < 0)
                return false;
        /* A deleted file (" (deleted)") is no store of PATH any more. */
        return read_line(attr, backing, sizeof(backing)) == 0 && strcmp(backing, wanted) == 0;
}

int store_find(CowStore *store, const char *path, struct vss_error_buf *err)
{
        char wanted[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int r = -ENOENT;

        /* sysfs names the file by its canonical path. */
        if (!realpath(path, wanted))
                snprintf(wanted, sizeof(wanted), "%s", path);
        d = opendir("/sys/block");
        if (!d)
                return provider_error(err, -errno, "cannot list /sys/block: %s", strerror(errno));
        while ((de = readdir(d)))
                if (loop_named_backs(de->d_name, wanted))
                        break;
        if (de) {
                uint64_t size = 0;
                char loop[sizeof(store->loop)];
                r = provider_printf(loop, sizeof(loop), "/dev/%s", de->d_name);
                if (r == 0)
                        r = loop_sysfs_size(de->d_name, &size);
                if (r == 0) {
                        snprintf(store->path, sizeof(store->path), "%s", path);
                        memcpy(store->loop, loop, sizeof(loop));
                        store->loop_fd = -1;
                        store->size = size;
                }
        }
        closedir(d);
        if (r == -ENOENT)
                return provider_error(err, r, "no loop device serves COW store %s", path);
        return r < 0 ? provider_error(err, r, "cannot read the size of the loop device of %s: %s",
                                      path, strerror(-r))
                     : 0;
}

/* ------------------------------------------------------------------------ */
/* the diff-area directory                                                   */

/* A set of block devices: one device and all it is stacked on. */
typedef struct DevTree {
        size_t n;
        dev_t devs[DEV_TREE_MAX];
} DevTree;

static bool dev_tree_has(const DevTree *t, dev_t dev)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->devs[i] == dev)
                        return true;
        return false;
}

static void dev_tree_add(DevTree *t, dev_t dev);
static int mount_source_device(const char *path, dev_t *ret);

/* Add what the devices listed in DIR (a "slaves" directory) are stacked on. */
static void dev_tree_add_slaves(DevTree *t, const char *dir)
{
        char attr[384];
        struct dirent *de;
        dev_t slave;
        DIR *d = opendir(dir);

        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' &&
                    provider_printf(attr, sizeof(attr), "%s/%s/dev", dir, de->d_name) == 0 &&
                    read_devnum(attr, &slave) == 0)
                        dev_tree_add(t, slave);
        closedir(d);
}

/*
 * A loop device has no slaves in sysfs, yet its I/O goes to the file system
 * of its backing file: name that file system's st_dev and its mount's source
 * device. Returns how many of the two it found.
 */
static size_t loop_backing_devices(const char *sys, dev_t devs[2])
{
        char attr[128], backing[PATH_MAX + 16];
        struct stat st;
        size_t n = 0;

        if (provider_printf(attr, sizeof(attr), "%s/loop/backing_file", sys) < 0 ||
            read_line(attr, backing, sizeof(backing)) < 0 || stat(backing, &st) < 0)
                return 0; /* not a loop device, unbound, or its file is deleted */
        devs[n++] = st.st_dev;
        if (mount_source_device(backing, &devs[n]) == 0 && devs[n] != st.st_dev)
                n++;
        return n;
}

/*
 * DEV and every device its I/O passes through: its slaves (what dm, md,
 * bcache map it onto) recursively, a partition's whole disk, and the file
 * systems holding a loop device's file. A device sysfs does not know (tmpfs,
 * btrfs's anonymous st_dev) has nothing below it.
 */
static void dev_tree_add(DevTree *t, dev_t dev)
{
        char sys[64], attr[128];
        dev_t below[2];
        size_t n;

        if (dev_tree_has(t, dev) || t->n == DEV_TREE_MAX)
                return;
        t->devs[t->n++] = dev;
        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(dev), minor(dev));
        if (provider_printf(attr, sizeof(attr), "%s/slaves", sys) == 0)
                dev_tree_add_slaves(t, attr);
        if (provider_printf(attr, sizeof(attr), "%s/partition", sys) == 0 &&
            access(attr, F_OK) == 0 &&
            provider_printf(attr, sizeof(attr), "%s/../dev", sys) == 0 &&
            read_devnum(attr, &below[0]) == 0)
                dev_tree_add(t, below[0]);
        n = loop_backing_devices(sys, below);
        for (size_t i = 0; i < n; i++)
                dev_tree_add(t, below[i]);
}

/* "/dev/mapper/NAME (253:2)", "/dev/loop3 (7:3)" or "7:3", for messages. */
static void dev_describe(dev_t dev, char *buf, size_t size)
{
        char attr[96], line[256];
        unsigned maj = major(dev), min = minor(dev);

        snprintf(attr, sizeof(attr), "/sys/dev/block/%u:%u/dm/name", maj, min);
        if (read_line(attr, line, sizeof(line)) == 0) {
                (void)provider_printf(buf, size, "/dev/mapper/%s (%u:%u)", line, maj, min);
                return;
        }
        snprintf(attr, sizeof(attr), "/sys/dev/block/%u:%u/uevent", maj, min);
        FILE *f = fopen(attr, "re");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "DEVNAME=", 8) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        (void)provider_printf(buf, size, "/dev/%s (%u:%u)", line + 8, maj, min);
                        fclose(f);
                        return;
                }
        if (f)
                fclose(f);
        snprintf(buf, size, "%u:%u", maj, min);
}

/*
 * The device the source of PATH's mount names, when it is a block device.
 * btrfs gives its files an anonymous st_dev, so the only way from a btrfs
 * directory to its disk is the mount: found by the mount id statx reports.
 */
static int mount_source_device(const char *path, dev_t *ret)
{
        struct statx stx;
        struct stat st;
        char *line = NULL, source[PATH_MAX];
        size_t line_size = 0;
        unsigned long id;
        int r = -ENOENT;

        if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (r == -ENOENT && getline(&line, &line_size, f) > 0) {
                const char *sep = strstr(line, " - ");
                if (sscanf(line, "%lu", &id) != 1 || id != stx.stx_mnt_id || !sep)
                        continue;
                r = -ENODEV;
                if (sscanf(sep, " - %*s %4095s", source) == 1 && stat(source, &st) == 0 &&
                    S_ISBLK(st.st_mode)) {
                        *ret = st.st_rdev;
                        r = 0;
                }
        }
        free(line);
        fclose(f);
        return r;
}

/*
 * Is the file system on FS (a device the diff area's files live on) tied to
 * VOLUME? The provider suspends VOLUME while it takes the snapshot and
 * writes COW data while it runs, so FS must not be VOLUME nor lie on it
 * (VOLUME in FS's tree, a loop image inside the volume included): writing a
 * COW chunk would go through the suspended origin, the I/O waiting for the
 * resume that waits for it, and the snapshot would copy its own diff area.
 * The other way round is harmless: a volume on a loop image kept in the diff
 * area's file system (as in the test VM) freezes its own file system, not
 * the one under it, and a block device cannot be both mounted and under a
 * device-mapper table. Two devices that merely share a lower device (two
 * dm-linear over parts of one disk) map disjoint ranges and are allowed.
 */
static int dir_check_volume(const char *dir, dev_t fs, const DevTree *fs_tree, dev_t volume,
                            struct vss_error_buf *err)
{
        char fs_name[128], vol_name[128], where[192];

        dev_describe(fs, fs_name, sizeof(fs_name));
        if (fs == volume)
                snprintf(where, sizeof(where), "that volume itself");
        else if (dev_tree_has(fs_tree, volume))
                (void)provider_printf(where, sizeof(where), "%s, which is stacked on that volume",
                                      fs_name);
        else
                return 0;
        dev_describe(volume, vol_name, sizeof(vol_name));
        return provider_error(err, -EINVAL,
                              "the diff area %s cannot hold snapshots of %s: it is on %s; set "
                              "diff_area in [provider.dm-snapshot] of %s to a directory on "
                              "another file system",
                              dir, vol_name, where, VSS_CONFIG_FILE);
}

static int dir_check_devices(const char *dir, dev_t fs, const dev_t *volumes, size_t n_volumes,
                             struct vss_error_buf *err)
{
        DevTree fs_tree = { 0 };

        dev_tree_add(&fs_tree, fs);
        for (size_t i = 0; i < n_volumes; i++) {
                int r = dir_check_volume(dir, fs, &fs_tree, volumes[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* File systems where a sparse file would take its whole size at once, or fail. */
static int dir_check_fs_type(const char *dir, struct vss_error_buf *err)
{
        struct statfs sf;
        struct statvfs sv;

        if (statfs(dir, &sf) < 0 || statvfs(dir, &sv) < 0)
                return provider_error(err, -errno, "cannot read the file system of %s: %s", dir,
                                      strerror(errno));
        if (sf.f_type == MSDOS_SUPER_MAGIC || sf.f_type == EXFAT_SUPER_MAGIC)
                return provider_error(err, -EINVAL,
                                      "the diff area %s is on a FAT file system, which has no "
                                      "sparse files; set diff_area in [provider.dm-snapshot] of "
                                      "%s to a directory on another file system",
                                      dir, VSS_CONFIG_FILE);
        if (sv.f_flag & ST_RDONLY)
                return provider_error(err, -EROFS, "the diff area %s is on a read-only file system",
                                      dir);
        return 0;
}

int store_dir_check(const char *dir, const dev_t *volumes, size_t n_volumes,
                    struct vss_error_buf *err)
{
        struct stat st;
        dev_t source;
        int r;

        r = provider_mkdir_parents(dir, 0700);
        if (r == 0 && stat(dir, &st) < 0)
                r = -errno;
        if (r == -ENOTDIR || (r == 0 && !S_ISDIR(st.st_mode)))
                return provider_error(err, -ENOTDIR,
                                      "the diff area %s is not a directory; set diff_area in "
                                      "[provider.dm-snapshot] of %s to a directory",
                                      dir, VSS_CONFIG_FILE);
        if (r < 0)
                return provider_error(err, r, "cannot create the diff area %s: %s", dir,
                                      strerror(-r));
        r = dir_check_fs_type(dir, err);
        if (r < 0)
                return r;
        r = dir_check_devices(dir, st.st_dev, volumes, n_volumes, err);
        if (r < 0)
                return r;
        if (mount_source_device(dir, &source) == 0 && source != st.st_dev)
                r = dir_check_devices(dir, source, volumes, n_volumes, err);
        return r;
}
