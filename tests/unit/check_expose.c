/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_expose.c: exposing snapshots (providers/common/expose.c) on real
 * file systems, as root, on loop devices instead of device-mapper.
 *
 * A live snapshot is reproduced honestly without dm: the origin is an image
 * on a loop device, mounted read-write; the image file is copied while the
 * file system is frozen (what dm's suspend with lockfs does), so the copy
 * has the origin's UUID and its state at that instant. The copy goes on a
 * second loop device and is exposed beside the still-mounted origin, which is
 * then changed. Everything lives under one tmpfs mounted on a mkdtemp
 * directory, so one lazy unmount in teardown takes all mounts away even when
 * a test died half-way; every test's own mounts live under a second tmpfs,
 * "scratch", renewed before each test for the same reason.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "providers/common/expose.h"

#define BEFORE "written before the snapshot\n"
#define AFTER "written after the snapshot\n"

/* The dirty copy is taken without freezing: crash-consistent, its journal to replay. */
enum { LOOP_ORIGIN, LOOP_COPY, LOOP_DIRTY, LOOP_BLANK, LOOP_SWAP, N_LOOPS };

/* Made once per test case by an unchecked setup, in the parent process. */
static struct {
        char dir[64];              /* mkdtemp directory, a tmpfs mount */
        char origin[PATH_MAX];     /* where the origin is mounted read-write */
        char loop[N_LOOPS][32];    /* "/dev/loopN", "" if not attached */
        char dirty[PATH_MAX];      /* the dirty copy's image, on LOOP_DIRTY */
        char dirty_ref[PATH_MAX];  /* ...and a copy of it, to prove nothing wrote to it */
        char scratch[PATH_MAX];    /* a tmpfs renewed per test: tests mount below */
        char skip[256];            /* why this case's tests pass without running */
        char broken[512];          /* what the setup could not do */
} fx;

/* ---- helpers: commands, files, loop devices ------------------------------ */

static void fixture_broken(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void fixture_broken(const char *format, ...)
{
        va_list ap;

        if (fx.broken[0])
                return; /* keep the first cause */
        va_start(ap, format);
        vsnprintf(fx.broken, sizeof(fx.broken), format, ap);
        va_end(ap);
}

static int run(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *format, ...)
{
        char command[1024];
        va_list ap;
        int status;

        va_start(ap, format);
        vsnprintf(command, sizeof(command), format, ap);
        va_end(ap);
        status = system(command);
        return status == 0 ? 0 : -1;
}

static int write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int read_text(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -EIO;
        buf[n] = '\0';
        return 0;
}

static int make_sparse_file(const char *path, unsigned size_mb)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t)size_mb << 20) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int loop_attach(const char *image, char *ret_device, size_t size)
{
        char command[PATH_MAX + 32];
        FILE *out;
        int r = -EIO;

        snprintf(command, sizeof(command), "losetup -f --show '%s'", image);
        out = popen(command, "r");
        if (!out)
                return -errno;
        if (fgets(ret_device, (int)size, out) && strncmp(ret_device, "/dev/", 5) == 0) {
                ret_device[strcspn(ret_device, "\n")] = '\0';
                r = 0;
        }
        if (pclose(out) != 0)
                r = -EIO;
        return r;
}

/* Detach; the kernel defers it (autoclear) while something still holds the device. */
static void loop_detach(char *device)
{
        if (device[0])
                (void)run("losetup -d %s", device);
        device[0] = '\0';
}

static dev_t device_number(const char *device)
{
        struct stat st;
        ck_assert_int_eq(stat(device, &st), 0);
        return st.st_rdev;
}

static bool command_exists(const char *name)
{
        return run("command -v %s >/dev/null 2>&1", name) == 0;
}

/* Is TYPE a file system this kernel can mount (after trying to load its module)? */
static bool kernel_has_fs(const char *type)
{
        char line[128], want[64];
        bool found = false;
        FILE *f;

        (void)run("modprobe -q %s 2>/dev/null", type);
        f = fopen("/proc/filesystems", "re");
        if (!f)
                return false;
        snprintf(want, sizeof(want), "\t%s\n", type);
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, want) != NULL;
        fclose(f);
        return found;
}

/* Remove every mount at PATH (stacked ones too) and everything below, lazily. */
static void detach_all(const char *path)
{
        while (umount2(path, MNT_DETACH) == 0)
                ;
}

static int path_in(char *buf, size_t size, const char *name)
{
        return snprintf(buf, size, "%s/%s", fx.scratch, name) < (int)size ? 0 : -ENAMETOOLONG;
}

/* ---- fixtures ------------------------------------------------------------ */

/* Loop devices and mounts need root; without it the case is skipped, saying so. */
static bool have_root(const char *case_name)
{
        if (geteuid() == 0)
                return true;
        snprintf(fx.skip, sizeof(fx.skip), "they need root (losetup, mount)");
        fprintf(stderr, "SKIP %s tests: %s\n", case_name, fx.skip);
        return false;
}

/* A tmpfs on a new mkdtemp directory, to hold images and every mount. */
static bool fixture_dir_setup(void)
{
        strcpy(fx.dir, "/tmp/check-expose.XXXXXX");
        if (!mkdtemp(fx.dir)) {
                fx.dir[0] = '\0';
                fixture_broken("mkdtemp: %s", strerror(errno));
                return false;
        }
        if (mount("tmpfs", fx.dir, "tmpfs", MS_NODEV | MS_NOSUID, "mode=0755") < 0) {
                fixture_broken("mounting a tmpfs on %s: %s", fx.dir, strerror(errno));
                return false;
        }
        snprintf(fx.origin, sizeof(fx.origin), "%s/origin", fx.dir);
        snprintf(fx.scratch, sizeof(fx.scratch), "%s/scratch", fx.dir);
        return true;
}

static void fixture_teardown(void)
{
        if (fx.origin[0])
                (void)umount2(fx.origin, 0); /* the origin first and cleanly... */
        if (fx.dir[0])
                detach_all(fx.dir); /* ...then whatever a failed test left */
        for (int i = 0; i < N_LOOPS; i++)
                loop_detach(fx.loop[i]);
        if (fx.dir[0])
                (void)rmdir(fx.dir);
        memset(&fx, 0, sizeof(fx));
}

/*
 * Copy the origin's image while it is mounted and in use, as a snapshot
 * without lockfs would: the data has reached the disk (syncfs), but the
 * journal still needs replaying before the home locations are up to date.
 */
static int copy_dirty(const char *image)
{
        int fd = open(fx.origin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = syncfs(fd) < 0 ? -errno : 0;
        close(fd);
        if (r == 0)
                r = run("cp --sparse=always '%s' '%s' && cp --sparse=always '%s' '%s'", image,
                        fx.dirty, fx.dirty, fx.dirty_ref);
        return r;
}

/* Copy the origin's image while its file system is frozen, as a dm snapshot would. */
static int copy_frozen(const char *image, const char *copy)
{
        int fd = open(fx.origin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int unused = 0; /* the kernel ignores the argument, valgrind checks it */
        int r;

        if (fd < 0)
                return -errno;
        if (ioctl(fd, FIFREEZE, &unused) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = run("cp --sparse=always '%s' '%s'", image, copy);
        (void)ioctl(fd, FITHAW, &unused);
        close(fd);
        return r;
}

static void origin_and_copy_setup(const char *type, const char *mkfs, unsigned size_mb)
{
        char image[PATH_MAX], copy[PATH_MAX], file[PATH_MAX + 8];

        snprintf(image, sizeof(image), "%s/origin.img", fx.dir);
        snprintf(copy, sizeof(copy), "%s/snapshot.img", fx.dir);
        snprintf(file, sizeof(file), "%s/data", fx.origin);
        snprintf(fx.dirty, sizeof(fx.dirty), "%s/dirty.img", fx.dir);
        snprintf(fx.dirty_ref, sizeof(fx.dirty_ref), "%s/dirty.ref", fx.dir);
        if (make_sparse_file(image, size_mb) < 0 || run("%s '%s' >/dev/null", mkfs, image) < 0)
                return fixture_broken("%s of %s failed", mkfs, image);
        if (loop_attach(image, fx.loop[LOOP_ORIGIN], sizeof(fx.loop[0])) < 0)
                return fixture_broken("losetup of %s failed", image);
        if (mkdir(fx.origin, 0755) < 0 ||
            mount(fx.loop[LOOP_ORIGIN], fx.origin, type, 0, NULL) < 0)
                return fixture_broken("mounting the origin %s: %s", fx.loop[LOOP_ORIGIN],
                                      strerror(errno));
        if (write_text(file, BEFORE) < 0 || copy_dirty(image) < 0 || copy_frozen(image, copy) < 0)
                return fixture_broken("writing or copying the origin failed");
        /* The origin moves on; the snapshot must not see this. */
        if (write_text(file, AFTER) < 0 || write_text(strcat(file, "-new"), AFTER) < 0)
                return fixture_broken("writing to the origin after the copy failed");
        if (loop_attach(copy, fx.loop[LOOP_COPY], sizeof(fx.loop[0])) < 0 ||
            loop_attach(fx.dirty, fx.loop[LOOP_DIRTY], sizeof(fx.loop[0])) < 0)
                return fixture_broken("losetup of the copies in %s failed", fx.dir);
}

static void fs_case_setup(const char *type, const char *mkfs, unsigned size_mb)
{
        char tool[32];

        memset(&fx, 0, sizeof(fx));
        if (!have_root(type))
                return;
        snprintf(tool, sizeof(tool), "mkfs.%s", type);
        if (!command_exists(tool))
                snprintf(fx.skip, sizeof(fx.skip), "%s is not installed", tool);
        else if (!kernel_has_fs(type))
                snprintf(fx.skip, sizeof(fx.skip), "this kernel has no %s support", type);
        if (fx.skip[0]) {
                fprintf(stderr, "SKIP %s tests: %s\n", type, fx.skip);
                return;
        }
        if (fixture_dir_setup())
                origin_and_copy_setup(type, mkfs, size_mb);
}

static void ext4_setup(void)
{
        fs_case_setup("ext4", "mkfs.ext4 -q -F", 64);
}

static void xfs_setup(void)
{
        fs_case_setup("xfs", "mkfs.xfs -q -f", 320); /* xfs's minimum is 300 MiB */
}

static void btrfs_setup(void)
{
        fs_case_setup("btrfs", "mkfs.btrfs -q -f", 128);
}

/* A device of zeros and a swap area: things that are no mountable file system. */
static void probe_setup(void)
{
        char blank[PATH_MAX], swap[PATH_MAX];

        memset(&fx, 0, sizeof(fx));
        if (!have_root("no file system") || !fixture_dir_setup())
                return;
        snprintf(blank, sizeof(blank), "%s/blank.img", fx.dir);
        snprintf(swap, sizeof(swap), "%s/swap.img", fx.dir);
        if (make_sparse_file(blank, 16) < 0 || make_sparse_file(swap, 16) < 0 ||
            run("mkswap '%s' >/dev/null", swap) < 0)
                return fixture_broken("making images in %s failed", fx.dir);
        if (loop_attach(blank, fx.loop[LOOP_BLANK], sizeof(fx.loop[0])) < 0 ||
            loop_attach(swap, fx.loop[LOOP_SWAP], sizeof(fx.loop[0])) < 0)
                return fixture_broken("losetup in %s failed", fx.dir);
}

/* Per test: a fresh scratch tmpfs, whatever an earlier failed test left there. */
static void scratch_setup(void)
{
        if (!fx.dir[0] || fx.broken[0] || fx.skip[0])
                return;
        detach_all(fx.scratch);
        (void)mkdir(fx.scratch, 0755);
        ck_assert_int_eq(mount("tmpfs", fx.scratch, "tmpfs", MS_NODEV | MS_NOSUID, "mode=0755"),
                         0);
}

static void scratch_teardown(void)
{
        if (fx.scratch[0])
                detach_all(fx.scratch);
}

/* Start of every fixture test: fail on a broken setup, pass on a skipped one. */
#define FIXTURE_READY()                                                                     \
        do {                                                                                \
                ck_assert_msg(!fx.broken[0], "setup failed: %s", fx.broken);                \
                if (fx.skip[0])                                                             \
                        return;                                                             \
        } while (0)

/* Where the snapshot device is mounted, or "" if nowhere. */
static const char *copy_mounted_at(char *buf, size_t size)
{
        dev_t dev = device_number(fx.loop[LOOP_COPY]);
        int r = expose_find(major(dev), minor(dev), buf, size);

        ck_assert_msg(r == 0 || r == -ENOENT, "expose_find: %s", strerror(-r));
        if (r == -ENOENT)
                buf[0] = '\0';
        return buf;
}

static void assert_copy_not_mounted(void)
{
        char where[PATH_MAX];
        ck_assert_str_eq(copy_mounted_at(where, sizeof(where)), "");
}

static void assert_contains(const char *message, const char *part)
{
        ck_assert_msg(strstr(message, part), "\"%s\" does not mention \"%s\"", message, part);
}

/* ---- the snapshot, exposed beside its origin ------------------------------ */

START_TEST(test_copy_exposed_beside_origin)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX], file[PATH_MAX + 16], text[128], where[PATH_MAX];
        struct stat st;

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "made/for/it"), 0);
        ck_assert_msg(expose_mount(fx.loop[LOOP_COPY], mp, &err) == 0, "%s", err.message);

        ck_assert_int_eq(stat(mp, &st), 0);
        snprintf(file, sizeof(file), "%s/data", mp);
        ck_assert_int_eq(read_text(file, text, sizeof(text)), 0);
        ck_assert_str_eq(text, BEFORE);
        ck_assert_int_eq(access(strcat(file, "-new"), F_OK), -1);
        ck_assert_int_eq(errno, ENOENT);
        snprintf(file, sizeof(file), "%s/data", fx.origin);
        ck_assert_int_eq(read_text(file, text, sizeof(text)), 0);
        ck_assert_str_eq(text, AFTER);
        ck_assert_str_eq(copy_mounted_at(where, sizeof(where)), mp);

        ck_assert_msg(expose_unmount(mp, &err) == 0, "%s", err.message);
        assert_copy_not_mounted();
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

START_TEST(test_exposed_view_is_read_only)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX], file[PATH_MAX + 16];
        struct statvfs vfs;
        const unsigned long want = ST_RDONLY | ST_NODEV | ST_NOSUID | ST_NOEXEC;

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "ro"), 0);
        ck_assert_msg(expose_mount(fx.loop[LOOP_COPY], mp, &err) == 0, "%s", err.message);

        snprintf(file, sizeof(file), "%s/data", mp);
        ck_assert_int_eq(open(file, O_WRONLY), -1);
        ck_assert_int_eq(errno, EROFS);
        snprintf(file, sizeof(file), "%s/created", mp);
        ck_assert_int_eq(open(file, O_WRONLY | O_CREAT, 0644), -1);
        ck_assert_int_eq(errno, EROFS);
        ck_assert_int_eq(statvfs(mp, &vfs), 0);
        ck_assert_uint_eq(vfs.f_flag & want, want);

        ck_assert_msg(expose_unmount(mp, &err) == 0, "%s", err.message);
}
END_TEST

/*
 * A copy whose journal needs replaying mounts too, and exposing it writes
 * nothing to it: no replay (noload, norecovery), no superblock update.
 */
START_TEST(test_dirty_copy_exposed_without_writing)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];
        struct stat st;
        int fd;

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "dirty"), 0);
        ck_assert_msg(expose_mount(fx.loop[LOOP_DIRTY], mp, &err) == 0, "%s", err.message);
        ck_assert_int_eq(stat(mp, &st), 0);
        ck_assert_msg(expose_unmount(mp, &err) == 0, "%s", err.message);

        /* Whatever the kernel wrote through the loop device is in the image after this. */
        fd = open(fx.loop[LOOP_DIRTY], O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
        ck_assert_msg(run("cmp -s '%s' '%s'", fx.dirty, fx.dirty_ref) == 0,
                      "exposing %s wrote to it", fx.loop[LOOP_DIRTY]);
}
END_TEST

/* Mount points with a space come back from mountinfo unescaped ("\040"). */
START_TEST(test_find_unescapes_mount_point)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX], where[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "with space\\and backslash"), 0);
        ck_assert_msg(expose_mount(fx.loop[LOOP_COPY], mp, &err) == 0, "%s", err.message);
        ck_assert_str_eq(copy_mounted_at(where, sizeof(where)), mp);
        ck_assert_msg(expose_unmount(mp, &err) == 0, "%s", err.message);
}
END_TEST

/* ---- refusals: nothing gets mounted, the message names what is wrong ----- */

START_TEST(test_non_empty_directory_refused)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX], file[PATH_MAX + 16];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "full"), 0);
        ck_assert_int_eq(mkdir(mp, 0755), 0);
        snprintf(file, sizeof(file), "%s/precious", mp);
        ck_assert_int_eq(write_text(file, "keep me\n"), 0);

        ck_assert_int_eq(expose_mount(fx.loop[LOOP_COPY], mp, &err), -ENOTEMPTY);
        assert_contains(err.message, mp);
        assert_contains(err.message, "not empty");
        assert_copy_not_mounted();
        ck_assert_int_eq(access(file, F_OK), 0);
}
END_TEST

START_TEST(test_existing_mount_point_refused)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "taken"), 0);
        ck_assert_int_eq(mkdir(mp, 0755), 0);
        ck_assert_int_eq(mount("tmpfs", mp, "tmpfs", 0, "mode=0755"), 0); /* and empty */

        ck_assert_int_eq(expose_mount(fx.loop[LOOP_COPY], mp, &err), -EBUSY);
        assert_contains(err.message, mp);
        assert_contains(err.message, "already mounted");
        assert_copy_not_mounted();
        ck_assert_int_eq(umount2(mp, 0), 0);
}
END_TEST

/* A bind mount of a directory onto itself keeps st_dev: only statx tells. */
START_TEST(test_bind_mount_point_refused)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "bound"), 0);
        ck_assert_int_eq(mkdir(mp, 0755), 0);
        ck_assert_int_eq(mount(mp, mp, "none", MS_BIND, NULL), 0);

        ck_assert_int_eq(expose_mount(fx.loop[LOOP_COPY], mp, &err), -EBUSY);
        assert_contains(err.message, mp);
        assert_copy_not_mounted();
        ck_assert_int_eq(umount2(mp, 0), 0);
}
END_TEST

/* The origin itself is mounted read-write: the kernel says no, and the new directory goes. */
START_TEST(test_device_mounted_read_write_refused)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "origin-again"), 0);
        ck_assert_int_eq(expose_mount(fx.loop[LOOP_ORIGIN], mp, &err), -EBUSY);
        assert_contains(err.message, fx.loop[LOOP_ORIGIN]);
        assert_contains(err.message, mp);
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

START_TEST(test_relative_mount_point_refused)
{
        struct vss_error_buf err = { "" };

        FIXTURE_READY();
        ck_assert_int_eq(expose_mount(fx.loop[LOOP_COPY], "relative/dir", &err), -EINVAL);
        assert_contains(err.message, "relative/dir");
        assert_contains(err.message, "absolute");
        ck_assert_int_eq(access("relative", F_OK), -1);
        assert_copy_not_mounted();
}
END_TEST

/* ---- unexpose ------------------------------------------------------------- */

START_TEST(test_unexpose_busy_then_free)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX], file[PATH_MAX + 16], where[PATH_MAX], hint[PATH_MAX + 16];
        int fd;

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "busy"), 0);
        ck_assert_msg(expose_mount(fx.loop[LOOP_COPY], mp, &err) == 0, "%s", err.message);
        snprintf(file, sizeof(file), "%s/data", mp);
        fd = open(file, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);

        ck_assert_int_eq(expose_unmount(mp, &err), -EBUSY);
        snprintf(hint, sizeof(hint), "fuser -vm %s", mp);
        assert_contains(err.message, hint);
        ck_assert_str_eq(copy_mounted_at(where, sizeof(where)), mp);

        close(fd);
        ck_assert_msg(expose_unmount(mp, &err) == 0, "%s", err.message);
        assert_copy_not_mounted();
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

START_TEST(test_unexpose_not_mounted)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "plain"), 0);
        ck_assert_int_eq(mkdir(mp, 0755), 0);
        ck_assert_int_eq(expose_unmount(mp, &err), -EINVAL);
        assert_contains(err.message, mp);
        ck_assert_int_eq(access(mp, F_OK), 0); /* not ours: left alone */

        ck_assert_int_eq(path_in(mp, sizeof(mp), "missing"), 0);
        ck_assert_int_eq(expose_unmount(mp, &err), -EINVAL);
}
END_TEST

/* ---- btrfs: refused with the reason --------------------------------------- */

START_TEST(test_btrfs_copy_refused)
{
        struct vss_error_buf err = { "" };
        char mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(path_in(mp, sizeof(mp), "btrfs"), 0);
        ck_assert_int_eq(expose_mount(fx.loop[LOOP_COPY], mp, &err), -EOPNOTSUPP);
        assert_contains(err.message, fx.loop[LOOP_COPY]);
        assert_contains(err.message, "btrfs");
        assert_contains(err.message, "fsid");
        assert_copy_not_mounted();
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

/* ---- devices that hold no mountable file system -------------------------- */

START_TEST(test_device_without_file_system_refused)
{
        struct vss_error_buf err = { "" };
        char type[32], mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_int_eq(expose_probe(fx.loop[LOOP_BLANK], type, sizeof(type), &err), -ENODATA);
        assert_contains(err.message, fx.loop[LOOP_BLANK]);

        snprintf(mp, sizeof(mp), "%s/blank", fx.dir);
        ck_assert_int_eq(expose_mount(fx.loop[LOOP_BLANK], mp, &err), -ENODATA);
        assert_contains(err.message, fx.loop[LOOP_BLANK]);
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

START_TEST(test_unsupported_type_refused)
{
        struct vss_error_buf err = { "" };
        char type[32], mp[PATH_MAX];

        FIXTURE_READY();
        ck_assert_msg(expose_probe(fx.loop[LOOP_SWAP], type, sizeof(type), &err) == 0, "%s",
                      err.message);
        ck_assert_str_eq(type, "swap");
        ck_assert_int_eq(expose_probe(fx.loop[LOOP_SWAP], type, 4, &err), -ENAMETOOLONG);

        snprintf(mp, sizeof(mp), "%s/swap", fx.dir);
        ck_assert_int_eq(expose_mount(fx.loop[LOOP_SWAP], mp, &err), -EOPNOTSUPP);
        assert_contains(err.message, fx.loop[LOOP_SWAP]);
        assert_contains(err.message, "swap file system");
        ck_assert_int_eq(access(mp, F_OK), -1);
}
END_TEST

START_TEST(test_missing_device_refused)
{
        struct vss_error_buf err = { "" };
        char type[32];

        ck_assert_int_eq(expose_probe("/dev/no-such-snapshot", type, sizeof(type), &err),
                         -ENOENT);
        assert_contains(err.message, "/dev/no-such-snapshot");
}
END_TEST

/* ---- pure functions ------------------------------------------------------- */

START_TEST(test_options_per_type)
{
        ck_assert_str_eq(expose_options("ext4"), "noload");
        ck_assert_str_eq(expose_options("ext3"), "noload");
        ck_assert_str_eq(expose_options("ext2"), "");
        ck_assert_str_eq(expose_options("xfs"), "nouuid,norecovery");
        ck_assert_str_eq(expose_options("vfat"), "");
        ck_assert_str_eq(expose_options("exfat"), "");
        ck_assert_ptr_null(expose_options("btrfs"));
        ck_assert_ptr_null(expose_options("swap"));
        ck_assert_ptr_null(expose_options(""));
}
END_TEST

START_TEST(test_find_edge_cases)
{
        char buf[PATH_MAX];
        struct stat st;

        ck_assert_int_eq(expose_find(4095, 1048575, buf, sizeof(buf)), -ENOENT);
        ck_assert_int_eq(stat("/proc/self/mountinfo", &st), 0); /* /proc is mounted */
        ck_assert_int_eq(expose_find(major(st.st_dev), minor(st.st_dev), buf, sizeof(buf)), 0);
        ck_assert_int_eq(expose_find(major(st.st_dev), minor(st.st_dev), buf, 2), -ENAMETOOLONG);
}
END_TEST

static TCase *fixture_case(const char *name, void (*setup)(void))
{
        TCase *tc = tcase_create(name);
        tcase_add_unchecked_fixture(tc, setup, fixture_teardown);
        tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
        tcase_set_timeout(tc, 60);
        return tc;
}

static TCase *fs_case(const char *name, void (*setup)(void))
{
        TCase *tc = fixture_case(name, setup);
        tcase_add_test(tc, test_copy_exposed_beside_origin);
        tcase_add_test(tc, test_exposed_view_is_read_only);
        tcase_add_test(tc, test_dirty_copy_exposed_without_writing);
        return tc;
}

int main(void)
{
        Suite *s = suite_create("expose");
        TCase *tc;
        SRunner *sr;
        int failed;

        tc = fs_case("ext4", ext4_setup);
        tcase_add_test(tc, test_find_unescapes_mount_point);
        tcase_add_test(tc, test_non_empty_directory_refused);
        tcase_add_test(tc, test_existing_mount_point_refused);
        tcase_add_test(tc, test_bind_mount_point_refused);
        tcase_add_test(tc, test_device_mounted_read_write_refused);
        tcase_add_test(tc, test_relative_mount_point_refused);
        tcase_add_test(tc, test_unexpose_busy_then_free);
        tcase_add_test(tc, test_unexpose_not_mounted);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, fs_case("xfs", xfs_setup));

        tc = fixture_case("btrfs", btrfs_setup);
        tcase_add_test(tc, test_btrfs_copy_refused);
        suite_add_tcase(s, tc);

        tc = fixture_case("no file system", probe_setup);
        tcase_add_test(tc, test_device_without_file_system_refused);
        tcase_add_test(tc, test_unsupported_type_refused);
        tcase_add_test(tc, test_missing_device_refused);
        suite_add_tcase(s, tc);

        tc = tcase_create("pure");
        tcase_add_test(tc, test_options_per_type);
        tcase_add_test(tc, test_find_edge_cases);
        suite_add_tcase(s, tc);

        sr = srunner_create(s);
        srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
