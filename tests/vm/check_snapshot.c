/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_snapshot.c: the dm-snapshot provider end to end, inside the test VM
 * (tests/vm/check-dm): vssd on a private bus, vssctl as the requester, real
 * device-mapper snapshots of ext4 and xfs on loop devices.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

static void setup(void)
{
        vmtest_start(NULL);
}

/* --- background workloads: a child process writing until it is stopped ------------------ */

/* Append numbered lines to PATH, one write(2) each: a freeze never tears one. */
static pid_t start_appender(const char *path)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
                char line[64];
                for (unsigned long i = 0; fd >= 0; i++) {
                        int n = snprintf(line, sizeof(line), "record %010lu\n", i);
                        if (write(fd, line, (size_t)n) != n)
                                _exit(1);
                }
                _exit(1);
        }
        return pid;
}

/* Mount snapshot ID read-only at DIR with the options its file system needs. */
static void mount_snapshot(const char *id, const char *dir)
{
        vm_ok("vssctl expose %s %s", id, dir);
}

/* --- scenarios ----------------------------------------------------------------------- */

START_TEST(test_ext4_snapshot_keeps_freeze_time_content)
{
        Volume v;
        char ids[1][40], before[512], snap[160];

        vm_volume(&v, "a", 64, "ext4");
        vm_ok("echo before > %s/file && sync", v.mnt);
        vm_table(v.volume + strlen("/dev/mapper/"), before, sizeof(before));
        vm_create(ids, 1, "", v.volume);
        vm_ok("echo after > %s/file && echo new > %s/new && sync", v.mnt, v.mnt);

        char table[512];
        vm_table(v.volume + strlen("/dev/mapper/"), table, sizeof(table));
        ck_assert_msg(strstr(table, "snapshot-origin"), "origin table: %s", table);
        snprintf(snap, sizeof(snap), TEST_ROOT "/snap");
        mount_snapshot(ids[0], snap);
        vm_ok("cat %s/file", snap);
        ck_assert_str_eq(vm_out(), "before");
        ck_assert_int_ne(vm_sh("test -e %s/new", snap), 0);
        vm_ok("cat %s/file", v.mnt);
        ck_assert_str_eq(vm_out(), "after");

        vm_ok("vssctl unexpose %s && vssctl delete %s", ids[0], ids[0]);
        vm_table(v.volume + strlen("/dev/mapper/"), table, sizeof(table));
        ck_assert_str_eq(table, before);
        vm_ok("dmsetup ls | grep -c -e vss-snap- -e -real || true");
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

START_TEST(test_xfs_snapshot_exposed_read_only)
{
        Volume v;
        char ids[1][40], path[256];

        vm_volume(&v, "x", 320, "xfs");
        vm_ok("seq 1 10000 > %s/data && sync", v.mnt);
        vm_ok("md5sum < %s/data", v.mnt);
        char sum[64];
        snprintf(sum, sizeof(sum), "%s", vm_out());
        vm_create(ids, 1, "", v.volume);
        vm_ok("seq 5 50000 > %s/data && sync", v.mnt);

        vm_ok("vssctl expose %s", ids[0]);
        snprintf(path, sizeof(path), "%s", vm_out());
        vm_snapshot_prop(ids[0], "ExposedPath", path, sizeof(path));
        ck_assert_msg(strstr(path, "/run/vss/expose/"), "ExposedPath %s", path);
        vm_ok("md5sum < /run/vss/expose/%s/data", ids[0]);
        ck_assert_str_eq(vm_out(), sum);
        ck_assert_int_ne(vm_sh("touch /run/vss/expose/%s/x 2>&1", ids[0]), 0);
        ck_assert_msg(strstr(vm_out(), "Read-only"), "touch said: %s", vm_out());
        vm_ok("vssctl unexpose %s", ids[0]);
        ck_assert_int_ne(vm_sh("findmnt /run/vss/expose/%s", ids[0]), 0);
}
END_TEST

/* The origin keeps being written through the whole run; the snapshot is a moment of it. */
START_TEST(test_snapshot_is_a_prefix_of_a_live_append_log)
{
        Volume v;
        char ids[1][40], log[160], snap[160];

        vm_volume(&v, "w", 64, "ext4");
        snprintf(log, sizeof(log), "%s/log", v.mnt);
        pid_t writer = start_appender(log);
        vm_ok("until [ -s %s ] && [ $(stat -c %%s %s) -gt 100000 ]; do sleep 0.1; done",
              log, log);
        vm_create(ids, 1, "--no-writers", v.volume);
        vm_ok("s=$(stat -c %%s %s); until [ $(stat -c %%s %s) -gt $((s + 100000)) ]; do "
              "sleep 0.1; done", log, log);
        vm_stop_child(writer);

        snprintf(snap, sizeof(snap), TEST_ROOT "/snapw");
        mount_snapshot(ids[0], snap);
        vm_ok("stat -c %%s %s/log", snap);
        long snap_size = atol(vm_out());
        vm_ok("stat -c %%s %s", log);
        long origin_size = atol(vm_out());
        ck_assert_int_gt(snap_size, 0);
        ck_assert_msg(origin_size > snap_size + 100000, "origin %ld, snapshot %ld",
                      origin_size, snap_size);
        ck_assert_int_eq(snap_size % 18, 0); /* whole records only */
        vm_ok("cmp -n %ld %s/log %s", snap_size, snap, log);
        vm_ok("vssctl unexpose %s", ids[0]);
}
END_TEST

/* A counter written to four volumes in turn: the four snapshots show one moment. */
START_TEST(test_four_volume_set_is_one_point_in_time)
{
        Volume v[4];
        char paths[4][160], ids[4][40], volumes[600] = "";

        for (int i = 0; i < 4; i++) {
                char name[8];
                snprintf(name, sizeof(name), "c%d", i);
                vm_volume(&v[i], name, 32, "ext4");
                snprintf(paths[i], sizeof(paths[i]), "%s/counter", v[i].mnt);
                strcat(volumes, v[i].volume);
                strcat(volumes, " ");
        }
        pid_t counter = vm_start_counter(paths, 4);
        vm_ok("until [ -s %s ] && [ \"$(cat %s)\" -gt 1000 ]; do sleep 0.1; done", paths[3],
              paths[3]);
        vm_create(ids, 4, "--no-writers", volumes);
        vm_stop_child(counter);

        unsigned long c[4];
        for (int i = 0; i < 4; i++) {
                char dir[160];
                snprintf(dir, sizeof(dir), TEST_ROOT "/snapc%d", i);
                mount_snapshot(ids[i], dir);
                vm_ok("cat %s/counter", dir);
                c[i] = strtoul(vm_out(), NULL, 10);
        }
        /* Written in order 0..3: at one moment the counters fall by at most one, in order. */
        ck_assert_msg(c[0] >= c[1] && c[1] >= c[2] && c[2] >= c[3] && c[0] - c[3] <= 1 &&
                      c[3] > 1000, "snapshot counters %lu %lu %lu %lu", c[0], c[1], c[2], c[3]);
}
END_TEST

START_TEST(test_delete_in_any_order_restores_the_table)
{
        Volume v;
        char before[512], table[512], ids[2][40], id2[1][40];
        const char *name;

        vm_volume(&v, "d", 64, "ext4");
        name = v.volume + strlen("/dev/mapper/");
        vm_table(name, before, sizeof(before));
        for (int order = 0; order < 2; order++) {
                vm_create(ids, 1, "", v.volume);
                vm_ok("echo %d > %s/f && sync", order, v.mnt);
                vm_create(id2, 1, "", v.volume);
                const char *first = order ? id2[0] : ids[0], *second = order ? ids[0] : id2[0];
                vm_ok("vssctl delete %s", first);
                vm_table(name, table, sizeof(table));
                ck_assert_msg(strstr(table, "snapshot-origin"), "after one delete: %s", table);
                vm_ok("dmsetup status vss-snap-%s", second);
                ck_assert_msg(!strstr(vm_out(), "Invalid"), "survivor: %s", vm_out());
                vm_ok("vssctl delete %s", second);
                vm_table(name, table, sizeof(table));
                ck_assert_str_eq(table, before);
                vm_ok("dmsetup ls | grep -c -e vss-snap- -e -real || true");
                ck_assert_str_eq(vm_out(), "0");
        }
        vm_ok("ls " TEST_ROOT "/state/diff | wc -l");
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

int main(void)
{
        return vmtest_run("dm-snapshot", setup,
                          (const TTest *const[]){ test_ext4_snapshot_keeps_freeze_time_content, test_xfs_snapshot_exposed_read_only, test_snapshot_is_a_prefix_of_a_live_append_log, test_four_volume_set_is_one_point_in_time, test_delete_in_any_order_restores_the_table, NULL });
}
