/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_store.c: COW stores of the dm-snapshot provider
 * (providers/common/store.c) on this machine's real loop devices, as
 * root: the sparse file, its loop device, growing it, autoclear, finding it
 * again after a restart, deleting it, and the diff-area directory checks.
 *
 * Every test works in its own directory under one /tmp/check-store.XXXXXX;
 * the teardown, and main once more at the end, unmount whatever is mounted
 * below it and detach every loop device backed by a file below it, so a
 * failing test leaves nothing behind.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/loop.h>

#include "providers/common/store.h"

#define MiB (1024ull * 1024)

static char base[] = "/tmp/check-store.XXXXXX";
static char dir[PATH_MAX];           /* this test's directory */
static CowStore stores[3];           /* closed by the teardown, whatever the test did */
static int held[4] = { -1, -1, -1, -1 }; /* extra fds on loop devices, likewise */

/* ------------------------------------------------------------------------ */
/* cleanup                                                                   */

/* Unmount everything below PREFIX, the most recent mount first. */
static void unmount_below(const char *prefix)
{
        char line[4096], points[16][PATH_MAX];
        int n = 0;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        while (f && n < 16 && fgets(line, sizeof(line), f))
                if (sscanf(line, "%*s %*s %*s %*s %4095s", points[n]) == 1 &&
                    strncmp(points[n], prefix, strlen(prefix)) == 0)
                        n++;
        if (f)
                fclose(f);
        while (n-- > 0)
                if (umount(points[n]) < 0)
                        umount2(points[n], MNT_DETACH);
}

/* Detach every loop device whose backing file lies below PREFIX. */
static void detach_loops_below(const char *prefix)
{
        char attr[PATH_MAX], backing[PATH_MAX], node[64];

        for (int i = 0; i < 256; i++) {
                snprintf(attr, sizeof(attr), "/sys/block/loop%d/loop/backing_file", i);
                FILE *f = fopen(attr, "re");
                if (!f)
                        continue;
                bool ours = fgets(backing, sizeof(backing), f) &&
                            strncmp(backing, prefix, strlen(prefix)) == 0;
                fclose(f);
                snprintf(node, sizeof(node), "/dev/loop%d", i);
                int fd = ours ? open(node, O_RDONLY | O_CLOEXEC) : -1;
                if (fd >= 0) {
                        ioctl(fd, LOOP_CLR_FD, 0);
                        close(fd);
                }
        }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        remove(path);
        return 0;
}

static void sweep(const char *prefix)
{
        unmount_below(prefix);
        detach_loops_below(prefix);
        nftw(prefix, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void setup(void)
{
        ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/test.XXXXXX", base), (int)sizeof(dir));
        ck_assert_ptr_nonnull(mkdtemp(dir));
        for (size_t i = 0; i < 3; i++)
                stores[i] = (CowStore)COW_STORE_INIT;
}

static void teardown(void)
{
        for (size_t i = 0; i < 3; i++)
                store_close(&stores[i]);
        for (size_t i = 0; i < 4; i++)
                if (held[i] >= 0) {
                        close(held[i]);
                        held[i] = -1;
                }
        sweep(dir);
}

/* ------------------------------------------------------------------------ */
/* what a user can see                                                       */

static int hold(const char *loop)
{
        for (size_t i = 0; i < 4; i++)
                if (held[i] < 0) {
                        held[i] = open(loop, O_RDWR | O_CLOEXEC);
                        ck_assert_int_ge(held[i], 0);
                        return held[i];
                }
        ck_abort_msg("too many held loop devices");
        return -1;
}

static void release(int fd)
{
        for (size_t i = 0; i < 4; i++)
                if (held[i] == fd)
                        held[i] = -1;
        close(fd);
}

static uint64_t device_size(const char *node)
{
        uint64_t size = 0;
        int fd = open(node, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "cannot open %s: %m", node);
        ck_assert_int_eq(ioctl(fd, BLKGETSIZE64, &size), 0);
        close(fd);
        return size;
}

/* The loop device's backing file as sysfs shows it ("" when unbound). */
static const char *backing_file(const char *loop)
{
        static char buf[PATH_MAX];
        char attr[PATH_MAX];

        snprintf(attr, sizeof(attr), "/sys/block/%s/loop/backing_file", strrchr(loop, '/') + 1);
        buf[0] = '\0';
        FILE *f = fopen(attr, "re");
        if (f) {
                if (fgets(buf, sizeof(buf), f))
                        buf[strcspn(buf, "\n")] = '\0';
                fclose(f);
        }
        return buf;
}

/* Autoclear has no event: poll sysfs, for at most 5 s. */
static bool wait_unbound(const char *loop)
{
        const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
        for (int i = 0; i < 500; i++) {
                if (!backing_file(loop)[0])
                        return true;
                nanosleep(&tick, NULL);
        }
        return false;
}

static void write_at(const char *node, uint64_t offset, const char *text)
{
        int fd = open(node, O_RDWR | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "cannot open %s: %m", node);
        ck_assert_int_eq(pwrite(fd, text, strlen(text), (off_t)offset), (ssize_t)strlen(text));
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
}

static void assert_text_at(const char *file, uint64_t offset, const char *text)
{
        char buf[64] = "";
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "cannot open %s: %m", file);
        ck_assert_int_eq(pread(fd, buf, strlen(text), (off_t)offset), (ssize_t)strlen(text));
        close(fd);
        ck_assert_str_eq(buf, text);
}

static struct stat stat_of(const char *path)
{
        struct stat st;
        ck_assert_msg(stat(path, &st) == 0, "cannot stat %s: %m", path);
        return st;
}

/* BUF (PATH_MAX bytes) = PARENT/NAME. */
static void join(char *buf, const char *parent, const char *name)
{
        ck_assert_int_lt(snprintf(buf, PATH_MAX, "%s/%s", parent, name), PATH_MAX);
}

static void path_in_dir(char *buf, const char *name)
{
        join(buf, dir, name);
}

/* A small tmpfs at DIR/NAME, to run out of space deterministically. */
static void mount_tmpfs(char *mnt, const char *name, const char *size)
{
        char opts[64];
        path_in_dir(mnt, name);
        snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
        ck_assert_int_eq(mkdir(mnt, 0700), 0);
        ck_assert_msg(mount("tmpfs", mnt, "tmpfs", 0, opts) == 0, "mount tmpfs: %m");
}

static void run(const char *command)
{
        ck_assert_msg(system(command) == 0, "%s failed", command);
}

/* Bind FILE to a free loop device as losetup does: no autoclear unless FLAGS say so. */
static void attach_like_losetup(const char *file, uint32_t flags, char *loop, size_t size)
{
        struct loop_config config = { 0 };
        int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(ctl, 0);
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        close(ctl);
        ck_assert_int_ge(n, 0);
        snprintf(loop, size, "/dev/loop%d", n);
        int fd = open(file, O_RDWR | O_CLOEXEC);
        int loop_fd = open(loop, O_RDWR | O_CLOEXEC);
        ck_assert(fd >= 0 && loop_fd >= 0);
        config.fd = (uint32_t)fd;
        config.info.lo_flags = flags;
        ck_assert_msg(ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0, "LOOP_CONFIGURE: %m");
        close(fd);
        close(loop_fd);
}

/* ------------------------------------------------------------------------ */
/* stores                                                                    */

START_TEST(test_create_makes_sparse_file_on_loop)
{
        struct vss_error_buf err = { "" };
        char path[PATH_MAX], attr[PATH_MAX], autoclear[8] = "";
        CowStore *s = &stores[0];

        path_in_dir(path, "LVSS-set-snap.cow");
        ck_assert_int_eq(store_create(s, dir, "LVSS-set-snap.cow", 64 * MiB, &err), 0);
        ck_assert_str_eq(s->path, path);
        ck_assert_uint_eq(s->size, 64 * MiB);
        ck_assert_int_ge(s->loop_fd, 0);

        struct stat st = stat_of(path);
        ck_assert_uint_eq(st.st_size, 64 * MiB);
        ck_assert_msg(st.st_blocks * 512 <= 64 * 1024, "not sparse: %lld blocks",
                      (long long)st.st_blocks);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        ck_assert_uint_eq(device_size(s->loop), 64 * MiB);
        ck_assert_str_eq(backing_file(s->loop), path);
        /* Autoclear is what lets a crash leak no loop device. */
        snprintf(attr, sizeof(attr), "/sys/block/%s/loop/autoclear", strrchr(s->loop, '/') + 1);
        FILE *f = fopen(attr, "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(autoclear, sizeof(autoclear), f));
        fclose(f);
        ck_assert_str_eq(autoclear, "1\n");
}
END_TEST

START_TEST(test_create_same_name_is_eexist_and_harmless)
{
        struct vss_error_buf err = { "" };
        CowStore *first = &stores[0], *second = &stores[1];

        ck_assert_int_eq(store_create(first, dir, "a.cow", 8 * MiB, &err), 0);
        write_at(first->loop, 4096, "first store");
        ck_assert_int_eq(store_create(second, dir, "a.cow", 16 * MiB, &err), -EEXIST);
        ck_assert_msg(strstr(err.message, first->path), "message: %s", err.message);
        ck_assert_int_eq(second->loop_fd, -1);
        ck_assert_str_eq(second->loop, "");

        ck_assert_uint_eq(stat_of(first->path).st_size, 8 * MiB);
        ck_assert_str_eq(backing_file(first->loop), first->path);
        assert_text_at(first->path, 4096, "first store");
}
END_TEST

START_TEST(test_create_rejects_bad_size_and_leaves_nothing)
{
        struct vss_error_buf err = { "" };
        char path[PATH_MAX];

        path_in_dir(path, "odd.cow");
        ck_assert_int_eq(store_create(&stores[0], dir, "odd.cow", 4096 + 512, &err), -EINVAL);
        ck_assert_msg(strstr(err.message, "4608"), "message: %s", err.message);
        ck_assert_int_eq(store_create(&stores[0], dir, "odd.cow", 0, &err), -EINVAL);
        ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_data_written_to_loop_lands_in_file)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0];

        ck_assert_int_eq(store_create(s, dir, "data.cow", 8 * MiB, &err), 0);
        write_at(s->loop, 1 * MiB, "chunk of copied origin data");
        write_at(s->loop, 8 * MiB - 4096, "last page");
        assert_text_at(s->path, 1 * MiB, "chunk of copied origin data");
        assert_text_at(s->path, 8 * MiB - 4096, "last page");
}
END_TEST

START_TEST(test_grow_enlarges_loop_and_keeps_data)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0];

        ck_assert_int_eq(store_create(s, dir, "grow.cow", 4 * MiB, &err), 0);
        write_at(s->loop, 4 * MiB - 4096, "before growing");
        ck_assert_int_eq(store_grow(s, 12 * MiB, &err), 0);
        ck_assert_uint_eq(s->size, 12 * MiB);
        ck_assert_uint_eq(device_size(s->loop), 12 * MiB);
        ck_assert_uint_eq(stat_of(s->path).st_size, 12 * MiB);
        assert_text_at(s->loop, 4 * MiB - 4096, "before growing");
        write_at(s->loop, 11 * MiB, "after growing");
        assert_text_at(s->path, 11 * MiB, "after growing");
        /* The same size again is nothing to do; shrinking would lose COW data. */
        ck_assert_int_eq(store_grow(s, 12 * MiB, &err), 0);
        ck_assert_int_eq(store_grow(s, 8 * MiB, &err), -EINVAL);
        ck_assert_uint_eq(device_size(s->loop), 12 * MiB);
}
END_TEST

START_TEST(test_grow_beyond_free_space_is_enospc_and_changes_nothing)
{
        struct vss_error_buf err = { "" };
        char small[PATH_MAX], free_text[32], need_text[32];
        uint64_t free_bytes = 0;
        CowStore *s = &stores[0];

        mount_tmpfs(small, "small", "8M");
        ck_assert_int_eq(store_create(s, small, "full.cow", 4 * MiB, &err), 0);
        write_at(s->loop, 0, "kept");
        ck_assert_int_eq(store_grow(s, 16 * MiB, &err), -ENOSPC);
        ck_assert_int_eq(store_dir_free(small, &free_bytes), 0);
        snprintf(free_text, sizeof(free_text), "%llu bytes are free",
                 (unsigned long long)free_bytes);
        ck_assert_msg(strstr(err.message, small), "message: %s", err.message);
        ck_assert_msg(strstr(err.message, free_text), "message: %s", err.message);
        /* It needs the new size less what the file already takes. */
        snprintf(need_text, sizeof(need_text), "needs %llu bytes",
                 16 * MiB - (unsigned long long)stat_of(s->path).st_blocks * 512);
        ck_assert_msg(strstr(err.message, need_text), "message: %s", err.message);

        ck_assert_uint_eq(s->size, 4 * MiB);
        ck_assert_uint_eq(stat_of(s->path).st_size, 4 * MiB);
        ck_assert_uint_eq(device_size(s->loop), 4 * MiB);
        assert_text_at(s->loop, 0, "kept");
        /* What fits still grows. */
        ck_assert_int_eq(store_grow(s, 6 * MiB, &err), 0);
        ck_assert_uint_eq(device_size(s->loop), 6 * MiB);
}
END_TEST

START_TEST(test_create_beyond_free_space_leaves_nothing)
{
        struct vss_error_buf err = { "" };
        char small[PATH_MAX], path[PATH_MAX];

        mount_tmpfs(small, "small", "8M");
        ck_assert_int_eq(store_create(&stores[0], small, "big.cow", 32 * MiB, &err), -ENOSPC);
        ck_assert_msg(strstr(err.message, small), "message: %s", err.message);
        join(path, small, "big.cow");
        ck_assert_int_eq(access(path, F_OK), -1);
        ck_assert_str_eq(stores[0].loop, "");
}
END_TEST

START_TEST(test_dir_free_is_what_the_file_system_has)
{
        char small[PATH_MAX];
        uint64_t free_bytes = 0;

        mount_tmpfs(small, "small", "8M");
        ck_assert_int_eq(store_dir_free(small, &free_bytes), 0);
        ck_assert_uint_eq(free_bytes, 8 * MiB);
        ck_assert_int_eq(store_dir_free("/nonexistent/diff-area", &free_bytes), -ENOENT);
}
END_TEST

START_TEST(test_closed_store_loop_goes_away_by_itself)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0];

        ck_assert_int_eq(store_create(s, dir, "auto.cow", 4 * MiB, &err), 0);
        store_close(s);
        ck_assert_int_eq(s->loop_fd, -1);
        ck_assert_msg(wait_unbound(s->loop), "%s still backs %s", s->loop, backing_file(s->loop));
        ck_assert_int_eq(access(s->path, F_OK), 0); /* the data is the caller's to delete */
}
END_TEST

START_TEST(test_find_while_held_elsewhere)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0], *found = &stores[1];

        ck_assert_int_eq(store_create(s, dir, "found.cow", 8 * MiB, &err), 0);
        int user = hold(s->loop); /* stands for the dm snapshot */
        store_close(s);

        ck_assert_int_eq(store_find(found, s->path, &err), 0);
        ck_assert_str_eq(found->loop, s->loop);
        ck_assert_str_eq(found->path, s->path);
        ck_assert_uint_eq(found->size, 8 * MiB);
        ck_assert_int_eq(found->loop_fd, -1);
        /* A found store grows like a new one. */
        ck_assert_int_eq(store_grow(found, 12 * MiB, &err), 0);
        ck_assert_uint_eq(device_size(found->loop), 12 * MiB);

        release(user);
        ck_assert(wait_unbound(s->loop));
        ck_assert_int_eq(store_find(found, s->path, &err), -ENOENT);
        ck_assert_msg(strstr(err.message, s->path), "message: %s", err.message);
}
END_TEST

START_TEST(test_find_through_symlinked_directory)
{
        struct vss_error_buf err = { "" };
        char link[PATH_MAX], via_link[PATH_MAX];
        CowStore *s = &stores[0], *found = &stores[1];

        ck_assert_int_eq(store_create(s, dir, "linked.cow", 4 * MiB, &err), 0);
        path_in_dir(link, "link");
        ck_assert_int_eq(symlink(dir, link), 0);
        join(via_link, link, "linked.cow");
        ck_assert_int_eq(store_find(found, via_link, &err), 0);
        ck_assert_str_eq(found->loop, s->loop);
}
END_TEST

START_TEST(test_destroy_removes_file_and_loop)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0];
        char loop[sizeof(s->loop)];

        ck_assert_int_eq(store_create(s, dir, "gone.cow", 4 * MiB, &err), 0);
        memcpy(loop, s->loop, sizeof(loop));
        ck_assert_int_eq(store_destroy(s, &err), 0);
        ck_assert_int_eq(access(s->path, F_OK), -1);
        ck_assert_int_eq(s->loop_fd, -1);
        ck_assert_msg(wait_unbound(loop), "%s still backs %s", loop, backing_file(loop));
        ck_assert_int_eq(store_destroy(s, &err), 0);
}
END_TEST

START_TEST(test_destroy_while_in_use_detaches_on_last_close)
{
        struct vss_error_buf err = { "" };
        CowStore *s = &stores[0];

        ck_assert_int_eq(store_create(s, dir, "busy.cow", 4 * MiB, &err), 0);
        int user = hold(s->loop);
        write_at(s->loop, 0, "still readable");
        char loop[sizeof(s->loop)];
        memcpy(loop, s->loop, sizeof(loop));

        ck_assert_int_eq(store_destroy(s, &err), 0);
        ck_assert_int_eq(access(s->path, F_OK), -1);
        /* Its user keeps working until it lets go. */
        assert_text_at(loop, 0, "still readable");
        release(user);
        ck_assert_msg(wait_unbound(loop), "%s still backs %s", loop, backing_file(loop));
}
END_TEST

/*
 * After an autoclear the kernel hands /dev/loopN to the next one who asks:
 * here losetup, binding a file of the user's. A stale store must not touch it.
 */
START_TEST(test_destroy_leaves_a_reused_loop_alone)
{
        struct vss_error_buf err = { "" };
        char users_file[PATH_MAX], users_loop[64];
        CowStore *old = &stores[0];

        ck_assert_int_eq(store_create(old, dir, "old.cow", 4 * MiB, &err), 0);
        store_close(old);
        ck_assert(wait_unbound(old->loop));
        path_in_dir(users_file, "users.img");
        int fd = open(users_file, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 4 * MiB), 0);
        close(fd);
        attach_like_losetup(users_file, 0, users_loop, sizeof(users_loop));

        ck_assert_int_eq(store_grow(old, 8 * MiB, &err), -ENXIO);
        ck_assert_int_eq(store_destroy(old, &err), 0);
        ck_assert_int_eq(access(old->path, F_OK), -1);
        ck_assert_str_eq(backing_file(users_loop), users_file);
        ck_assert_uint_eq(device_size(users_loop), 4 * MiB);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the diff-area directory                                                   */

START_TEST(test_dir_check_makes_missing_directory)
{
        struct vss_error_buf err = { "" };
        char diff[PATH_MAX];

        path_in_dir(diff, "var/lib/vss/diff");
        ck_assert_int_eq(store_dir_check(diff, NULL, 0, &err), 0);
        struct stat st = stat_of(diff);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        ck_assert_int_eq(store_dir_check(diff, NULL, 0, &err), 0);
}
END_TEST

START_TEST(test_dir_check_refuses_regular_file)
{
        struct vss_error_buf err = { "" };
        char file[PATH_MAX], below[PATH_MAX];

        path_in_dir(file, "file");
        int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(store_dir_check(file, NULL, 0, &err), -ENOTDIR);
        ck_assert_msg(strstr(err.message, file), "message: %s", err.message);
        join(below, file, "diff");
        ck_assert_int_eq(store_dir_check(below, NULL, 0, &err), -ENOTDIR);
}
END_TEST

/* An ext4 file system on a loop device (a "volume"), mounted at DIR/mnt. */
static void mount_ext4_volume(CowStore *volume, char *mnt)
{
        struct vss_error_buf err = { "" };
        char command[PATH_MAX + 64];

        ck_assert_int_eq(store_create(volume, dir, "volume.img", 32 * MiB, &err), 0);
        snprintf(command, sizeof(command), "mkfs.ext4 -q -F %s >/dev/null 2>&1", volume->loop);
        run(command);
        path_in_dir(mnt, "mnt");
        ck_assert_int_eq(mkdir(mnt, 0700), 0);
        ck_assert_msg(mount(volume->loop, mnt, "ext4", 0, NULL) == 0, "mount %s: %m",
                      volume->loop);
}

START_TEST(test_dir_check_refuses_directory_on_a_volume)
{
        struct vss_error_buf err = { "" };
        char mnt[PATH_MAX], diff[PATH_MAX];
        CowStore *volume = &stores[0], *other = &stores[1];

        mount_ext4_volume(volume, mnt);
        ck_assert_int_eq(store_create(other, dir, "other.img", 4 * MiB, &err), 0);
        join(diff, mnt, "diff");
        dev_t volumes[2] = { stat_of(other->loop).st_rdev, stat_of(volume->loop).st_rdev };

        ck_assert_int_eq(store_dir_check(diff, volumes, 2, &err), -EINVAL);
        ck_assert_msg(strstr(err.message, volume->loop), "message: %s", err.message);
        ck_assert_msg(strstr(err.message, diff), "message: %s", err.message);
        ck_assert_msg(strstr(err.message, "diff_area"), "message: %s", err.message);
        /* The same directory serves a set of other volumes. */
        ck_assert_int_eq(store_dir_check(diff, volumes, 1, &err), 0);
        ck_assert(S_ISDIR(stat_of(diff).st_mode));
}
END_TEST

/*
 * A diff area inside a loop-mounted image whose file lies on the volume
 * writes through that volume: suspending it for a snapshot would hang them.
 */
START_TEST(test_dir_check_refuses_loop_image_stored_on_a_volume)
{
        struct vss_error_buf err = { "" };
        char mnt[PATH_MAX], diff[PATH_MAX];
        CowStore *image = &stores[0];

        mount_ext4_volume(image, mnt);
        join(diff, mnt, "diff");
        dev_t holding_the_image = stat_of(dir).st_dev;

        ck_assert_int_eq(store_dir_check(diff, &holding_the_image, 1, &err), -EINVAL);
        ck_assert_msg(strstr(err.message, image->loop), "message: %s", err.message);
        ck_assert_msg(strstr(err.message, "stacked on that volume"), "message: %s", err.message);
}
END_TEST

/* A disk image with one MBR partition from 1 MiB to the end. */
static void write_partitioned_image(const char *file, uint64_t size)
{
        unsigned char mbr[512] = { 0 };
        uint32_t first = 2048, count = (uint32_t)(size / 512) - first;

        mbr[446 + 4] = 0x83; /* Linux */
        memcpy(mbr + 446 + 8, &first, 4);
        memcpy(mbr + 446 + 12, &count, 4);
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        int fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, mbr, sizeof(mbr), 0), (ssize_t)sizeof(mbr));
        ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
        close(fd);
}

/* A diff area on a partition of the disk being snapshotted sits on that disk. */
START_TEST(test_dir_check_refuses_partition_of_a_volume)
{
        struct vss_error_buf err = { "" };
        char image[PATH_MAX], disk[64], part[80], command[160], mnt[PATH_MAX], diff[PATH_MAX];

        path_in_dir(image, "disk.img");
        write_partitioned_image(image, 32 * MiB);
        attach_like_losetup(image, LO_FLAGS_PARTSCAN, disk, sizeof(disk));
        snprintf(part, sizeof(part), "%sp1", disk);
        if (access(part, F_OK) < 0) {
                /* Kernels built without MBR support (small VM kernels) see no partition. */
                fprintf(stderr, "check_store: this kernel found no %s: partition test skipped\n",
                        part);
                return;
        }
        snprintf(command, sizeof(command), "mkfs.ext4 -q -F %s >/dev/null 2>&1", part);
        run(command);
        path_in_dir(mnt, "mnt");
        ck_assert_int_eq(mkdir(mnt, 0700), 0);
        ck_assert_msg(mount(part, mnt, "ext4", 0, NULL) == 0, "mount %s: %m", part);
        join(diff, mnt, "diff");

        dev_t whole = stat_of(disk).st_rdev;
        ck_assert_int_eq(store_dir_check(diff, &whole, 1, &err), -EINVAL);
        ck_assert_msg(strstr(err.message, disk), "message: %s", err.message);
        ck_assert_msg(strstr(err.message, "stacked on"), "message: %s", err.message);
}
END_TEST

int main(void)
{
        if (geteuid() != 0) {
                fprintf(stderr, "check_store: needs root (loop devices, mounts); skipped\n");
                return 77;
        }
        if (!mkdtemp(base)) {
                perror("mkdtemp");
                return EXIT_FAILURE;
        }
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("stores");
        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_create_makes_sparse_file_on_loop);
        tcase_add_test(tc, test_create_same_name_is_eexist_and_harmless);
        tcase_add_test(tc, test_create_rejects_bad_size_and_leaves_nothing);
        tcase_add_test(tc, test_data_written_to_loop_lands_in_file);
        tcase_add_test(tc, test_grow_enlarges_loop_and_keeps_data);
        tcase_add_test(tc, test_grow_beyond_free_space_is_enospc_and_changes_nothing);
        tcase_add_test(tc, test_create_beyond_free_space_leaves_nothing);
        tcase_add_test(tc, test_dir_free_is_what_the_file_system_has);
        tcase_add_test(tc, test_closed_store_loop_goes_away_by_itself);
        tcase_add_test(tc, test_find_while_held_elsewhere);
        tcase_add_test(tc, test_find_through_symlinked_directory);
        tcase_add_test(tc, test_destroy_removes_file_and_loop);
        tcase_add_test(tc, test_destroy_while_in_use_detaches_on_last_close);
        tcase_add_test(tc, test_destroy_leaves_a_reused_loop_alone);
        suite_add_tcase(s, tc);
        TCase *dirs = tcase_create("diff area");
        tcase_set_timeout(dirs, 60);
        tcase_add_checked_fixture(dirs, setup, teardown);
        tcase_add_test(dirs, test_dir_check_makes_missing_directory);
        tcase_add_test(dirs, test_dir_check_refuses_regular_file);
        tcase_add_test(dirs, test_dir_check_refuses_directory_on_a_volume);
        tcase_add_test(dirs, test_dir_check_refuses_loop_image_stored_on_a_volume);
        tcase_add_test(dirs, test_dir_check_refuses_partition_of_a_volume);
        suite_add_tcase(s, dirs);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        sweep(base);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
