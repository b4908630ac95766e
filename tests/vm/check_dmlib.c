/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_dmlib.c: the dm-snapshot provider's device-mapper layer
 * (providers/common/dm.c) against a real device-mapper, inside the test
 * VM (tests/vm/check-dm build/tests/vm/check_dmlib).
 *
 * Devices are dm-linear (and one thin-pool) over loop devices on sparse
 * files in /tmp. What a user of the provider would notice: a device made
 * live or left inactive as asked, with its uuid and its node; tables that
 * round-trip and swap on resume; a suspend that really holds writes to a
 * mounted ext4 until the resume; the EBUSY of a lockfs suspend on a frozen
 * file system; removes that tolerate missing devices and refuse mounted
 * ones; and errors that name the device and the step.
 *
 * Names are "vsst-<runner pid>-<test pid>-<n>"; every dm device, mount and
 * loop device of the run is swept away after each test (the checked
 * teardown, which also fails the test if anything is left) and again in
 * the runner after each test case, which covers tests that died mid-way.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "providers/common/dm.h"
#include "providers/common/util.h"

#define MIB (1024u * 1024u)
#define SECTORS(bytes) ((uint64_t)(bytes) / 512u)

static char run_dir[64];   /* /tmp/vsst-<runner pid> */
static char run_prefix[32]; /* vsst-<runner pid>- */
static int name_counter;

/* --- captured log ------------------------------------------------------------------- */

#define LOG_LINES 256
static struct {
        int prio;
        char text[256];
} log_lines[LOG_LINES];
static int n_log_lines;

__attribute__((format(printf, 2, 3))) static void capture_log(int prio, const char *fmt, ...)
{
        va_list ap;

        if (n_log_lines == LOG_LINES)
                return;
        log_lines[n_log_lines].prio = prio;
        va_start(ap, fmt);
        vsnprintf(log_lines[n_log_lines].text, sizeof(log_lines[0].text), fmt, ap);
        va_end(ap);
        n_log_lines++;
}

/* Lines of priority PRIO (-1: any) containing every one of up to two needles. */
static int count_log(int prio, const char *needle, const char *needle2)
{
        int n = 0;

        for (int i = 0; i < n_log_lines; i++)
                if ((prio < 0 || log_lines[i].prio == prio) &&
                    strstr(log_lines[i].text, needle) &&
                    (!needle2 || strstr(log_lines[i].text, needle2)))
                        n++;
        return n;
}

/* --- helpers ------------------------------------------------------------------------ */

/* A name of this run for a dm device (or a file) no test used before. */
static void new_name_(char *buf, size_t size)
{
        ck_assert_int_lt(snprintf(buf, size, "%s%d-%d", run_prefix, (int)getpid(), ++name_counter),
                         (int)size);
}
#define new_name(buf) new_name_(buf, sizeof(buf))

static void path_of(char *buf, size_t size, const char *name, const char *suffix)
{
        ck_assert_int_lt(snprintf(buf, size, "%s/%s%s", run_dir, name, suffix), (int)size);
}

/* A sparse file of SIZE bytes on a fresh loop device: "/dev/loopN" into DEV, its number. */
static dev_t loop_new(const char *tag, uint64_t size, char *dev, size_t dev_size)
{
        struct loop_config cfg = { 0 };
        char file[256];
        struct stat st;
        int ctl, n, lfd, ffd;

        path_of(file, sizeof(file), tag, ".img");
        ffd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_msg(ffd >= 0, "create %s: %m", file);
        ck_assert_int_eq(ftruncate(ffd, (off_t)size), 0);
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        ck_assert_msg(ctl >= 0, "open /dev/loop-control: %m");
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        ck_assert_msg(n >= 0, "LOOP_CTL_GET_FREE: %m");
        close(ctl);
        snprintf(dev, dev_size, "/dev/loop%d", n);
        lfd = open(dev, O_RDWR | O_CLOEXEC);
        ck_assert_msg(lfd >= 0, "open %s: %m", dev);
        cfg.fd = (uint32_t)ffd;
        ck_assert_msg(ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0, "LOOP_CONFIGURE %s: %m", dev);
        ck_assert_int_eq(fstat(lfd, &st), 0);
        close(lfd);
        close(ffd);
        return st.st_rdev;
}

/* A one-line table: TYPE over DEVNUM (params "MAJ:MIN" followed by REST). */
static DmTable table_one(uint64_t length, const char *type, dev_t devnum, const char *rest)
{
        DmTable t = { 0 };
        char params[128];

        snprintf(params, sizeof(params), "%u:%u%s", major(devnum), minor(devnum), rest);
        ck_assert_int_eq(dm_table_add(&t, 0, length, type, params), 0);
        return t;
}

/* NAME as dm-linear over a new 64 MiB loop device: live (RESUME) or inactive. */
static dev_t make_linear(const char *name, const char *uuid, bool resume)
{
        struct vss_error_buf err = { "" };
        char loop[64];
        dev_t devnum = loop_new(name, 64 * MIB, loop, sizeof(loop));
        DmTable t = table_one(SECTORS(64 * MIB), "linear", devnum, " 0");

        ck_assert_msg(dm_create(name, uuid, &t, false, resume, &err) == 0, "%s", err.message);
        dm_table_free(&t);
        return devnum;
}

/* MSG contains A and, unless NULL, B. */
static bool says(const char *msg, const char *a, const char *b)
{
        return strstr(msg, a) && (!b || strstr(msg, b));
}

/* CALL fails with -E and ERR's sentence contains STEP and WHAT (NULL: STEP alone). */
#define ck_assert_fails(err, call, e, step, what)                                           \
        do {                                                                                 \
                ck_assert_int_eq((call), (e));                                               \
                ck_assert_msg(says((err).message, (step), (what)), "message: %s",            \
                              (err).message);                                                \
        } while (0)

static DmInfo info_of(const char *name)
{
        struct vss_error_buf err = { "" };
        DmInfo info;

        ck_assert_msg(dm_info_get(name, &info, &err) == 0, "%s", err.message);
        return info;
}

static uint64_t size_of(const char *node)
{
        uint64_t bytes = 0;
        int fd = open(node, O_RDONLY | O_CLOEXEC);

        ck_assert_msg(fd >= 0, "open %s: %m", node);
        ck_assert_int_eq(ioctl(fd, BLKGETSIZE64, &bytes), 0);
        close(fd);
        return bytes;
}

static void node_of(const char *name, char *buf, size_t size)
{
        ck_assert_int_eq(dm_node_path(name, buf, size), 0);
}

/* mkfs.ext4 on NAME and mount it on a new directory MNT. */
static void mkfs_mount(const char *name, char *mnt, size_t size)
{
        char node[256], cmd[512];

        node_of(name, node, sizeof(node));
        snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -E nodiscard %s >/dev/null 2>&1", node);
        ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
        path_of(mnt, size, name, ".mnt");
        ck_assert_int_eq(mkdir(mnt, 0700), 0);
        ck_assert_msg(mount(node, mnt, "ext4", 0, NULL) == 0, "mount %s: %m", node);
}

/* --- the sweep: every device, mount and loop device of this run ----------------------- */

struct names {
        char name[64][DM_NAME_MAX];
        bool suspended[64];
        int n;
};

static int collect_ours(const DmInfo *info, void *userdata)
{
        struct names *ns = userdata;

        if (strncmp(info->name, run_prefix, strlen(run_prefix)) == 0 && ns->n < 64) {
                snprintf(ns->name[ns->n], DM_NAME_MAX, "%s", info->name);
                ns->suspended[ns->n++] = info->suspended;
        }
        return 0;
}

static int unmount_ours(void)
{
        char mnts[32][256];
        int n = 0, left = 0;
        char line[1024];
        FILE *f = fopen("/proc/self/mounts", "re");

        while (f && fgets(line, sizeof(line), f) && n < 32)
                if (sscanf(line, "%*s %255s", mnts[n]) == 1 &&
                    strncmp(mnts[n], run_dir, strlen(run_dir)) == 0)
                        n++;
        if (f)
                fclose(f);
        while (n-- > 0) {
                int fd = open(mnts[n], O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) ioctl(fd, FITHAW, &(int){ 0 }); /* EINVAL unless frozen */
                        close(fd);
                }
                if (umount2(mnts[n], 0) < 0 && umount2(mnts[n], MNT_DETACH) < 0)
                        left++;
        }
        return left;
}

static int detach_our_loops(void)
{
        DIR *d = opendir("/sys/block");
        struct dirent *de;
        int left = 0;

        while (d && (de = readdir(d))) {
                char path[512], backing[512] = "";
                FILE *f;
                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
                if (!(f = fopen(path, "re")))
                        continue;
                if (!fgets(backing, sizeof(backing), f))
                        backing[0] = '\0';
                fclose(f);
                if (strncmp(backing, run_dir, strlen(run_dir)) != 0)
                        continue;
                snprintf(path, sizeof(path), "/dev/%s", de->d_name);
                int fd = open(path, O_RDWR | O_CLOEXEC);
                if (fd < 0 || ioctl(fd, LOOP_CLR_FD, 0) < 0)
                        left++;
                if (fd >= 0)
                        close(fd);
        }
        if (d)
                closedir(d);
        return left;
}

static void remove_our_files(void)
{
        DIR *d = opendir(run_dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                char path[512];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", run_dir, de->d_name);
                if (unlink(path) < 0)
                        (void) rmdir(path);
        }
        if (d)
                closedir(d);
}

/* Remove everything of this run; the number of things that would not go. */
static int sweep(void)
{
        struct names ns = { .n = 0 };
        int left;

        (void) dm_list(collect_ours, &ns, NULL);
        for (int i = 0; i < ns.n; i++)
                if (ns.suspended[i]) /* an unmount would hang on it */
                        (void) dm_resume(ns.name[i], NULL);
        left = unmount_ours();
        /* Dependants first: they were made last. */
        for (int pass = 0; pass < 3; pass++)
                for (int i = ns.n - 1; i >= 0; i--)
                        (void) dm_remove(ns.name[i], NULL);
        ns.n = 0;
        (void) dm_list(collect_ours, &ns, NULL);
        left += ns.n + detach_our_loops();
        remove_our_files();
        return left;
}

static void setup(void)
{
        n_log_lines = 0;
        provider_set_logger(capture_log);
        dm_log_setup();
}

static void teardown(void)
{
        int left = sweep();

        ck_assert_msg(left == 0, "%d devices, mounts or loop devices were left behind", left);
}

static void sweep_in_runner(void)
{
        (void) sweep();
}

/* --- creating ----------------------------------------------------------------------- */

START_TEST(test_create_live_with_uuid)
{
        char name[64], uuid[DM_UUID_MAX], node[256], file[256], buf[32] = "";
        struct vss_error_buf err = { "" };
        DmTable t = { 0 }, want;
        struct stat st;
        int fd;

        new_name(name);
        snprintf(uuid, sizeof(uuid), "LVSS-test-%s", name);
        /* Linear at 1 MiB into the loop device, so the mapping is visible. */
        char loop[64];
        dev_t devnum = loop_new(name, 64 * MIB, loop, sizeof(loop));
        want = table_one(SECTORS(32 * MIB), "linear", devnum, " 2048");
        ck_assert_msg(dm_create(name, uuid, &want, false, true, &err) == 0, "%s", err.message);

        DmInfo info = info_of(name);
        ck_assert(info.exists);
        ck_assert(info.live_table);
        ck_assert(!info.inactive_table);
        ck_assert(!info.suspended);
        ck_assert(!info.read_only);
        ck_assert_str_eq(info.name, name);
        ck_assert_str_eq(info.uuid, uuid);

        /* The node is there now, with the device's number (no udev in the VM). */
        node_of(name, node, sizeof(node));
        ck_assert_msg(stat(node, &st) == 0, "%s: %m", node);
        ck_assert(S_ISBLK(st.st_mode));
        ck_assert_uint_eq(major(st.st_rdev), info.major);
        ck_assert_uint_eq(minor(st.st_rdev), info.minor);
        ck_assert_uint_eq(size_of(node), 32 * MIB);

        /* The table round-trips as the kernel reports it. */
        ck_assert_msg(dm_table_get(name, false, &t, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(t.n, 1);
        ck_assert_uint_eq(t.targets[0].start, 0);
        ck_assert_uint_eq(t.targets[0].length, SECTORS(32 * MIB));
        ck_assert_str_eq(t.targets[0].type, "linear");
        ck_assert_str_eq(t.targets[0].params, want.targets[0].params);
        ck_assert_uint_eq(dm_table_size(&t), SECTORS(32 * MIB));
        dm_table_free(&t);
        dm_table_free(&want);

        /* dm_info_by_devnum finds it by number. */
        DmInfo by_num;
        ck_assert_msg(dm_info_by_devnum(info.major, info.minor, &by_num, &err) == 0, "%s",
                      err.message);
        ck_assert_str_eq(by_num.name, name);
        ck_assert_str_eq(by_num.uuid, uuid);

        /* A write at 0 on the device lands 1 MiB into the backing file. */
        fd = open(node, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, "vsst-mapped", 11, 0), 11);
        ck_assert_int_eq(fsync(fd), 0);
        close(fd);
        path_of(file, sizeof(file), name, ".img");
        fd = open(file, O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(pread(fd, buf, 11, MIB), 11);
        close(fd);
        ck_assert_str_eq(buf, "vsst-mapped");
}
END_TEST

START_TEST(test_create_inactive_until_resume)
{
        char name[DM_NAME_MAX], node[256];
        struct vss_error_buf err = { "" };
        DmTable live = { 0 }, inactive = { 0 };
        struct stat st;

        new_name(name);
        make_linear(name, NULL, false);

        DmInfo info = info_of(name);
        ck_assert(info.exists);
        ck_assert(!info.live_table);
        ck_assert(info.inactive_table);
        ck_assert_str_eq(info.uuid, "");
        /* The node exists before the resume, as dm.h promises. */
        node_of(name, node, sizeof(node));
        ck_assert_msg(stat(node, &st) == 0 && S_ISBLK(st.st_mode), "%s: %m", node);

        ck_assert_int_eq(dm_table_get(name, false, &live, &err), 0);
        ck_assert_uint_eq(live.n, 0);
        ck_assert_int_eq(dm_table_get(name, true, &inactive, &err), 0);
        ck_assert_uint_eq(inactive.n, 1);
        ck_assert_str_eq(inactive.targets[0].type, "linear");
        dm_table_free(&inactive);

        ck_assert_msg(dm_resume(name, &err) == 0, "%s", err.message);
        info = info_of(name);
        ck_assert(info.live_table);
        ck_assert(!info.inactive_table);
        ck_assert_int_eq(dm_table_get(name, false, &live, &err), 0);
        ck_assert_uint_eq(live.n, 1);
        dm_table_free(&live);
        ck_assert_uint_eq(size_of(node), 64 * MIB);
}
END_TEST

START_TEST(test_load_clear_and_swap)
{
        char name[DM_NAME_MAX], node[256], loop[64];
        struct vss_error_buf err = { "" };
        DmTable t = { 0 };

        new_name(name);
        dev_t devnum = loop_new(name, 64 * MIB, loop, sizeof(loop));
        ck_assert_msg(dm_create(name, NULL, NULL, false, true, &err) == 0, "%s", err.message);
        DmInfo info = info_of(name);
        ck_assert(info.exists && !info.live_table && !info.inactive_table);

        DmTable small = table_one(SECTORS(16 * MIB), "linear", devnum, " 0");
        DmTable big = table_one(SECTORS(48 * MIB), "linear", devnum, " 0");
        ck_assert_msg(dm_load(name, &small, false, &err) == 0, "%s", err.message);
        ck_assert_msg(dm_resume(name, &err) == 0, "%s", err.message);
        node_of(name, node, sizeof(node));
        ck_assert_uint_eq(size_of(node), 16 * MIB);

        /* A loaded table waits beside the live one; clear drops it. */
        ck_assert_int_eq(dm_load(name, &big, false, &err), 0);
        info = info_of(name);
        ck_assert(info.live_table && info.inactive_table);
        ck_assert_uint_eq(size_of(node), 16 * MIB);
        ck_assert_msg(dm_clear(name, &err) == 0, "%s", err.message);
        info = info_of(name);
        ck_assert(info.live_table && !info.inactive_table);

        /* Load and resume swap it in. */
        ck_assert_int_eq(dm_load(name, &big, false, &err), 0);
        ck_assert_int_eq(dm_resume(name, &err), 0);
        ck_assert_int_eq(dm_table_get(name, false, &t, &err), 0);
        ck_assert_uint_eq(dm_table_size(&t), SECTORS(48 * MIB));
        ck_assert_uint_eq(size_of(node), 48 * MIB);
        dm_table_free(&t);
        dm_table_free(&small);
        dm_table_free(&big);
}
END_TEST

START_TEST(test_create_read_only)
{
        char name[DM_NAME_MAX], node[256], loop[64];
        struct vss_error_buf err = { "" };

        new_name(name);
        dev_t devnum = loop_new(name, 64 * MIB, loop, sizeof(loop));
        DmTable t = table_one(SECTORS(64 * MIB), "linear", devnum, " 0");
        ck_assert_msg(dm_create(name, NULL, &t, true, true, &err) == 0, "%s", err.message);
        dm_table_free(&t);

        ck_assert(info_of(name).read_only);
        node_of(name, node, sizeof(node));
        /* The kernel lets it be opened for writing, but refuses the write. */
        int fd = open(node, O_WRONLY | O_CLOEXEC);
        ck_assert_msg(fd < 0 || (pwrite(fd, "x", 1, 0) < 0 && errno == EPERM),
                      "%s took a write", node);
        if (fd >= 0)
                close(fd);
}
END_TEST

START_TEST(test_create_bad_table_reverts)
{
        char name[DM_NAME_MAX];
        struct vss_error_buf err = { "" };
        DmTable t = { 0 };

        new_name(name);
        /* 2 sectors of "linear" over a device number nobody has. */
        ck_assert_int_eq(dm_table_add(&t, 0, 2, "linear", "259:65000 0"), 0);
        ck_assert_fails(err, dm_create(name, NULL, &t, false, true, &err), -ENXIO,
                        "cannot load a table into", name);
        dm_table_free(&t);
        /* Nothing half-made stays behind. */
        ck_assert(!info_of(name).exists);
}
END_TEST

START_TEST(test_create_existing_name_is_busy)
{
        char name[DM_NAME_MAX];
        struct vss_error_buf err = { "" };

        new_name(name);
        make_linear(name, "LVSS-test-dup", true);
        ck_assert_fails(err, dm_create(name, NULL, NULL, false, false, &err), -EBUSY,
                        "cannot create", name);
        /* The first one is untouched. */
        DmInfo info = info_of(name);
        ck_assert(info.live_table);
        ck_assert_str_eq(info.uuid, "LVSS-test-dup");
}
END_TEST

/* --- information -------------------------------------------------------------------- */

START_TEST(test_info_missing_and_not_dm)
{
        char name[DM_NAME_MAX], loop[64];
        struct vss_error_buf err = { "" };
        DmInfo info = { .exists = true };

        new_name(name);
        ck_assert_int_eq(dm_info_get(name, &info, &err), 0);
        ck_assert(!info.exists);

        /* A loop device is no dm device. */
        dev_t devnum = loop_new(name, MIB, loop, sizeof(loop));
        ck_assert_int_eq(dm_info_by_devnum(major(devnum), minor(devnum), &info, &err), -ENODEV);
        char num[32];
        snprintf(num, sizeof(num), "%u:%u", major(devnum), minor(devnum));
        ck_assert_msg(strstr(err.message, num), "message: %s", err.message);
}
END_TEST

START_TEST(test_status_of_linear)
{
        char name[DM_NAME_MAX];
        struct vss_error_buf err = { "" };
        DmTable s = { 0 };

        new_name(name);
        make_linear(name, NULL, true);
        ck_assert_msg(dm_status_get(name, &s, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(s.n, 1);
        ck_assert_str_eq(s.targets[0].type, "linear");
        ck_assert_uint_eq(s.targets[0].length, SECTORS(64 * MIB));
        dm_table_free(&s);
}
END_TEST

struct seen {
        const char *names[2];
        char uuids[2][DM_UUID_MAX];
        int found[2];
        int calls;
        int stop_after;
};

static int list_cb(const DmInfo *info, void *userdata)
{
        struct seen *s = userdata;

        s->calls++;
        for (int i = 0; i < 2; i++)
                if (strcmp(info->name, s->names[i]) == 0) {
                        s->found[i]++;
                        snprintf(s->uuids[i], DM_UUID_MAX, "%s", info->uuid);
                        ck_assert(info->exists && info->live_table);
                }
        return s->stop_after && s->calls == s->stop_after ? 42 : 0;
}

START_TEST(test_list_finds_devices)
{
        char a[DM_NAME_MAX], b[DM_NAME_MAX];
        struct vss_error_buf err = { "" };

        new_name(a);
        new_name(b);
        make_linear(a, "LVSS-test-list-a", true);
        make_linear(b, NULL, true);

        struct seen s = { .names = { a, b } };
        ck_assert_msg(dm_list(list_cb, &s, &err) == 0, "%s", err.message);
        ck_assert_int_eq(s.found[0], 1);
        ck_assert_int_eq(s.found[1], 1);
        ck_assert_str_eq(s.uuids[0], "LVSS-test-list-a");
        ck_assert_str_eq(s.uuids[1], "");

        /* A callback's non-zero stops the walk and comes back. */
        struct seen stop = { .names = { a, b }, .stop_after = 1 };
        ck_assert_int_eq(dm_list(list_cb, &stop, &err), 42);
        ck_assert_int_eq(stop.calls, 1);
}
END_TEST

/* --- suspend and resume --------------------------------------------------------------- */

START_TEST(test_suspend_resume)
{
        char name[DM_NAME_MAX];
        struct vss_error_buf err = { "" };

        new_name(name);
        make_linear(name, NULL, true);
        ck_assert_msg(dm_suspend(name, true, &err) == 0, "%s", err.message);
        ck_assert(info_of(name).suspended);
        ck_assert_msg(dm_resume(name, &err) == 0, "%s", err.message);
        ck_assert(!info_of(name).suspended);
        ck_assert_msg(dm_suspend(name, false, &err) == 0, "%s", err.message);
        ck_assert(info_of(name).suspended);
        ck_assert_int_eq(dm_resume(name, &err), 0);
        ck_assert(!info_of(name).suspended);
}
END_TEST

/* A child that writes and fsyncs MNT/file, telling READY_FD just before. */
static pid_t start_writer(const char *mnt, int ready_fd)
{
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char path[512];
                snprintf(path, sizeof(path), "%s/written", mnt);
                if (write(ready_fd, "x", 1) != 1)
                        _exit(2);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || write(fd, "held", 4) != 4 || fsync(fd) < 0)
                        _exit(1);
                _exit(0);
        }
        return pid;
}

/* Has PID exited within MSEC? Polls waitpid; *STATUS gets its status if so. */
static bool exits_within(pid_t pid, int msec, int *status)
{
        const struct timespec tick = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };

        for (int waited = 0; waited <= msec; waited += 10) {
                pid_t r = waitpid(pid, status, WNOHANG);
                ck_assert_int_ge(r, 0);
                if (r == pid)
                        return true;
                nanosleep(&tick, NULL);
        }
        return false;
}

START_TEST(test_switch_holds_writes_until_resume)
{
        char name[DM_NAME_MAX], mnt[256], path[512], buf[8] = "";
        struct vss_error_buf err = { "" };
        DmSwitch suspend, resume, suspend_copy;
        int pipefd[2], status = -1, fd, control;

        new_name(name);
        make_linear(name, NULL, true);
        mkfs_mount(name, mnt, sizeof(mnt));
        control = dm_control_open(&err);
        ck_assert_msg(control >= 0, "%s", err.message);
        ck_assert_int_eq(dm_switch_init(&suspend, name, true, false), 0);
        ck_assert_int_eq(dm_switch_init(&resume, name, false, false), 0);
        suspend_copy = suspend;

        ck_assert_int_eq(dm_switch_run(control, &suspend), 0);
        ck_assert(info_of(name).suspended);
        /* The prepared ioctl is untouched, ready for the next window. */
        ck_assert_int_eq(memcmp(&suspend, &suspend_copy, sizeof(suspend)), 0);

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t writer = start_writer(mnt, pipefd[1]);
        ck_assert_int_eq(read(pipefd[0], buf, 1), 1); /* it is about to write */
        ck_assert_msg(!exits_within(writer, 500, &status),
                      "a write to a suspended device finished (status %d)", status);

        ck_assert_int_eq(dm_switch_run(control, &resume), 0);
        ck_assert_int_eq(waitpid(writer, &status, 0), writer); /* bounded by Check's timeout */
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert(!info_of(name).suspended);
        snprintf(path, sizeof(path), "%s/written", mnt);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
        close(fd);

        /* The same switches run again. */
        ck_assert_int_eq(dm_switch_run(control, &suspend), 0);
        ck_assert(info_of(name).suspended);
        ck_assert_int_eq(dm_switch_run(control, &resume), 0);
        ck_assert(!info_of(name).suspended);
        close(pipefd[0]);
        close(pipefd[1]);
        close(control);
}
END_TEST

START_TEST(test_lockfs_on_frozen_fs_is_busy)
{
        char name[DM_NAME_MAX], mnt[256];
        struct vss_error_buf err = { "" };
        DmSwitch sw, skip, resume;
        int control, fd;

        new_name(name);
        make_linear(name, NULL, true);
        mkfs_mount(name, mnt, sizeof(mnt));
        control = dm_control_open(&err);
        ck_assert_msg(control >= 0, "%s", err.message);
        fd = open(mnt, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_msg(ioctl(fd, FIFREEZE, &(int){ 0 }) == 0, "FIFREEZE: %m");

        /* dm's lockfs cannot freeze what is frozen already. */
        ck_assert_fails(err, dm_suspend(name, true, &err), -EBUSY, "cannot suspend", name);
        ck_assert(!info_of(name).suspended);
        ck_assert_int_eq(dm_switch_init(&sw, name, true, false), 0);
        ck_assert_int_eq(dm_switch_run(control, &sw), -EBUSY);
        ck_assert(!info_of(name).suspended);

        /* Without lockfs it works, by libdm and by the switch. */
        ck_assert_msg(dm_suspend(name, false, &err) == 0, "%s", err.message);
        ck_assert(info_of(name).suspended);
        ck_assert_int_eq(dm_resume(name, &err), 0);
        ck_assert_int_eq(dm_switch_init(&skip, name, true, true), 0);
        ck_assert_int_eq(dm_switch_init(&resume, name, false, false), 0);
        ck_assert_int_eq(dm_switch_run(control, &skip), 0);
        ck_assert(info_of(name).suspended);
        ck_assert_int_eq(dm_switch_run(control, &resume), 0);
        ck_assert(!info_of(name).suspended);

        ck_assert_int_eq(ioctl(fd, FITHAW, &(int){ 0 }), 0);
        close(fd);
        close(control);
}
END_TEST

/* --- removing ------------------------------------------------------------------------- */

START_TEST(test_remove_missing_is_ok)
{
        char name[DM_NAME_MAX];
        struct vss_error_buf err = { "" };

        new_name(name);
        ck_assert_int_eq(dm_remove(name, &err), 0);
        ck_assert_str_eq(err.message, "");
        /* Nothing worth an error in the daemon's log either. */
        ck_assert_int_eq(count_log(LOG_ERR, "", NULL), 0);
}
END_TEST

START_TEST(test_remove_mounted_is_busy)
{
        char name[DM_NAME_MAX], mnt[256], node[256];
        struct vss_error_buf err = { "" };
        struct stat st;

        new_name(name);
        make_linear(name, NULL, true);
        mkfs_mount(name, mnt, sizeof(mnt));
        ck_assert_int_ge(info_of(name).open_count, 1);

        n_log_lines = 0;
        ck_assert_fails(err, dm_remove(name, &err), -EBUSY, "cannot remove", name);
        ck_assert_msg(says(err.message, "busy", "unmount"), "message: %s", err.message);
        ck_assert(info_of(name).exists);
        /* The retries are quiet: libdm's error shows once, for the last try. */
        ck_assert_int_eq(count_log(LOG_ERR, "remove", name), 1);

        ck_assert_int_eq(umount2(mnt, 0), 0);
        ck_assert_msg(dm_remove(name, &err) == 0, "%s", err.message);
        ck_assert(!info_of(name).exists);
        node_of(name, node, sizeof(node));
        ck_assert_msg(stat(node, &st) < 0 && errno == ENOENT, "%s is still there", node);
}
END_TEST

/* --- messages ------------------------------------------------------------------------- */

START_TEST(test_message_reaches_target)
{
        char name[64], tag[DM_NAME_MAX], meta[64], data[64], params[128];
        struct vss_error_buf err = { "" };
        DmTable t = { 0 }, s = { 0 };

        new_name(name);
        snprintf(tag, sizeof(tag), "%s-meta", name);
        dev_t meta_dev = loop_new(tag, 8 * MIB, meta, sizeof(meta));
        snprintf(tag, sizeof(tag), "%s-data", name);
        dev_t data_dev = loop_new(tag, 64 * MIB, data, sizeof(data));
        /* Zeroed metadata: the kernel formats a new pool. */
        snprintf(params, sizeof(params), "%u:%u %u:%u 128 0", major(meta_dev), minor(meta_dev),
                 major(data_dev), minor(data_dev));
        ck_assert_int_eq(dm_table_add(&t, 0, SECTORS(64 * MIB), "thin-pool", params), 0);
        ck_assert_msg(dm_create(name, NULL, &t, false, true, &err) == 0, "%s", err.message);
        dm_table_free(&t);

        ck_assert_int_eq(dm_status_get(name, &s, &err), 0);
        ck_assert_uint_eq(s.n, 1);
        ck_assert_str_eq(s.targets[0].type, "thin-pool");
        ck_assert_msg(strncmp(s.targets[0].params, "0 ", 2) == 0, "status %s", s.targets[0].params);
        dm_table_free(&s);

        ck_assert_msg(dm_message(name, "set_transaction_id 0 7", &err) == 0, "%s", err.message);
        ck_assert_int_eq(dm_status_get(name, &s, &err), 0);
        ck_assert_msg(strncmp(s.targets[0].params, "7 ", 2) == 0, "status %s", s.targets[0].params);
        dm_table_free(&s);

        ck_assert_fails(err, dm_message(name, "no_such_message", &err), -EINVAL,
                        "no_such_message", name);
}
END_TEST

/* --- errors --------------------------------------------------------------------------- */

START_TEST(test_errors_name_the_device)
{
        char name[DM_NAME_MAX], longname[DM_NAME_MAX + 10];
        struct vss_error_buf err = { "" };
        DmTable t = { 0 };

        new_name(name);
        ck_assert_int_eq(dm_table_add(&t, 0, 8, "zero", ""), 0);

        DmTable got = { 0 };
        ck_assert_fails(err, dm_load(name, &t, false, &err), -ENXIO, "cannot load a table into",
                        name);
        ck_assert_fails(err, dm_suspend(name, true, &err), -ENXIO, "cannot suspend", name);
        ck_assert_fails(err, dm_resume(name, &err), -ENXIO, "cannot resume", name);
        ck_assert_fails(err, dm_clear(name, &err), -ENXIO, "cannot clear", name);
        ck_assert_fails(err, dm_table_get(name, false, &got, &err), -ENXIO,
                        "cannot read the table of", name);
        ck_assert_fails(err, dm_status_get(name, &got, &err), -ENXIO, "cannot read the status of",
                        name);
        ck_assert_fails(err, dm_message(name, "hello", &err), -ENXIO, "hello", name);
        dm_table_free(&t);

        /* libdm's own line reaches the daemon's log at error priority. */
        ck_assert_int_ge(count_log(LOG_ERR, "suspend", name), 1);
        ck_assert_int_eq(count_log(LOG_DEBUG, "", NULL), 0);

        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        ck_assert_fails(err, dm_create(longname, NULL, NULL, false, false, &err), -ENAMETOOLONG,
                        "cannot create", NULL);
        ck_assert_fails(err, dm_remove(longname, &err), -ENAMETOOLONG, "cannot remove", NULL);
}
END_TEST

/* --- the hold window's pieces --------------------------------------------------------- */

START_TEST(test_control_open_makes_the_node)
{
        struct vss_error_buf err = { "" };
        unsigned maj = 0, min = 0;
        struct stat st;
        FILE *f;
        int fd;

        /* With the node gone (no udev, a bare /dev), it is made again. */
        ck_assert_int_eq(unlink("/dev/mapper/control"), 0);
        fd = dm_control_open(&err);
        ck_assert_msg(fd >= 0, "%s", err.message);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ck_assert_int_eq(stat("/dev/mapper/control", &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
        f = fopen("/sys/class/misc/device-mapper/dev", "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fscanf(f, "%u:%u", &maj, &min), 2);
        fclose(f);
        ck_assert_uint_eq(major(st.st_rdev), maj);
        ck_assert_uint_eq(minor(st.st_rdev), min);

        /* It is the real thing: a switch on a missing device gets the kernel's ENXIO. */
        char name[DM_NAME_MAX];
        DmSwitch sw;
        new_name(name);
        ck_assert_int_eq(dm_switch_init(&sw, name, true, false), 0);
        ck_assert_int_eq(dm_switch_run(fd, &sw), -ENXIO);
        close(fd);
}
END_TEST

START_TEST(test_switch_init_fields)
{
        char longname[DM_NAME_MAX + 1];
        DmSwitch sw;

        ck_assert_int_eq(dm_switch_init(&sw, "vss-data", true, false), 0);
        ck_assert_str_eq(sw.io.name, "vss-data");
        ck_assert_uint_eq(sw.io.version[0], DM_VERSION_MAJOR);
        ck_assert_uint_eq(sw.io.data_size, sizeof(struct dm_ioctl));
        ck_assert_uint_eq(sw.io.data_start, sizeof(struct dm_ioctl));
        ck_assert_uint_eq(sw.io.flags, DM_SUSPEND_FLAG);
        ck_assert_int_eq(dm_switch_init(&sw, "vss-data", true, true), 0);
        ck_assert_uint_eq(sw.io.flags, DM_SUSPEND_FLAG | DM_SKIP_LOCKFS_FLAG);
        ck_assert_int_eq(dm_switch_init(&sw, "vss-data", false, true), 0);
        ck_assert_uint_eq(sw.io.flags, 0);

        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        ck_assert_int_eq(dm_switch_init(&sw, longname, true, false), -ENAMETOOLONG);
        longname[DM_NAME_MAX - 1] = '\0'; /* 127 bytes: the longest that fits */
        ck_assert_int_eq(dm_switch_init(&sw, longname, true, false), 0);
}
END_TEST

START_TEST(test_tables_and_paths)
{
        DmTable t = { 0 };
        char buf[64], type[DM_MAX_TYPE_NAME + 1];
        char params[] = "7:0 0";

        ck_assert_int_eq(dm_table_add(&t, 0, 100, "linear", params), 0);
        params[0] = '8'; /* copied, not kept */
        ck_assert_int_eq(dm_table_add(&t, 100, 50, "zero", NULL), 0);
        ck_assert_uint_eq(t.n, 2);
        ck_assert_str_eq(t.targets[0].params, "7:0 0");
        ck_assert_str_eq(t.targets[1].params, "");
        ck_assert_uint_eq(dm_table_size(&t), 150);
        memset(type, 't', sizeof(type) - 1);
        type[sizeof(type) - 1] = '\0';
        ck_assert_int_eq(dm_table_add(&t, 150, 1, type, ""), -EINVAL);
        ck_assert_uint_eq(t.n, 2);
        dm_table_free(&t);
        ck_assert_uint_eq(t.n, 0);
        ck_assert_ptr_null(t.targets);
        dm_table_free(NULL);

        ck_assert_int_eq(dm_node_path("vss-data", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "/dev/mapper/vss-data");
        ck_assert_int_eq(dm_node_path("vss-data", buf, 12), -ENAMETOOLONG);
}
END_TEST

static Suite *dmlib_suite(void)
{
        Suite *s = suite_create("dmlib");
        TCase *tc;

        tc = tcase_create("devices");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_unchecked_fixture(tc, NULL, sweep_in_runner);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_create_live_with_uuid);
        tcase_add_test(tc, test_create_inactive_until_resume);
        tcase_add_test(tc, test_load_clear_and_swap);
        tcase_add_test(tc, test_create_read_only);
        tcase_add_test(tc, test_create_bad_table_reverts);
        tcase_add_test(tc, test_create_existing_name_is_busy);
        tcase_add_test(tc, test_info_missing_and_not_dm);
        tcase_add_test(tc, test_status_of_linear);
        tcase_add_test(tc, test_list_finds_devices);
        tcase_add_test(tc, test_suspend_resume);
        tcase_add_test(tc, test_switch_holds_writes_until_resume);
        tcase_add_test(tc, test_lockfs_on_frozen_fs_is_busy);
        tcase_add_test(tc, test_remove_missing_is_ok);
        tcase_add_test(tc, test_remove_mounted_is_busy);
        tcase_add_test(tc, test_message_reaches_target);
        tcase_add_test(tc, test_errors_name_the_device);
        tcase_add_test(tc, test_control_open_makes_the_node);
        suite_add_tcase(s, tc);

        tc = tcase_create("no device");
        tcase_add_test(tc, test_switch_init_fields);
        tcase_add_test(tc, test_tables_and_paths);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        struct vss_error_buf err = { "" };
        int fd, failed;

        /* Only ever meant for the VM: say so loudly anywhere else (and touch nothing). */
        if (access("/sys/class/misc/device-mapper", F_OK) < 0 ||
            (fd = dm_control_open(&err)) < 0) {
                fprintf(stderr, "check_dmlib: this kernel has no device-mapper%s%s\n"
                                "check_dmlib: run it in the test VM: "
                                "tests/vm/check-dm build/tests/vm/check_dmlib\n",
                        err.message[0] ? ": " : "", err.message);
                return 1;
        }
        close(fd);
        snprintf(run_prefix, sizeof(run_prefix), "vsst-%d-", (int)getpid());
        snprintf(run_dir, sizeof(run_dir), "/tmp/vsst-%d", (int)getpid());
        if (mkdir(run_dir, 0700) < 0) {
                fprintf(stderr, "check_dmlib: cannot make %s: %m\n", run_dir);
                return 1;
        }

        SRunner *sr = srunner_create(dmlib_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        /* The runner swept after each test case: nothing may be left now. */
        int left = sweep();
        if (left > 0)
                fprintf(stderr, "check_dmlib: %d devices, mounts or loop devices were left "
                                "behind\n", left);
        (void) rmdir(run_dir);
        return failed == 0 && left == 0 ? 0 : 1;
}
