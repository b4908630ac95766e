/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_lifetime.c: snapshots across vssd restarts and crashes, revert, and
 * enabled volumes across a reboot, inside the test VM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

static void setup(void)
{
        vmtest_start(NULL);
}

static void restart_vssd(bool crash)
{
        if (crash) {
                kill(vm_bus.vssd_pid, SIGKILL);
                waitpid(vm_bus.vssd_pid, NULL, 0);
                vm_bus.vssd_pid = 0;
        } else {
                ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        }
        ck_assert_msg(testbus_start_vssd(&vm_bus, NULL), "vssd did not come back");
}

START_TEST(test_restarted_vssd_finds_persistent_snapshots)
{
        Volume v;
        char ids[1][40], origin[256], device[256];

        vm_volume(&v, "r", 64, "ext4");
        vm_create(ids, 1, "--persistent", v.volume);
        restart_vssd(false);
        vm_snapshot_prop(ids[0], "Origin", origin, sizeof(origin));
        vm_snapshot_prop(ids[0], "Device", device, sizeof(device));
        ck_assert_msg(strstr(origin, v.volume), "Origin after restart: '%s'", origin);
        ck_assert_msg(strstr(device, "/dev/mapper/vss-snap-"), "Device after restart: '%s'",
                      device);
        restart_vssd(true);
        vm_snapshot_prop(ids[0], "Origin", origin, sizeof(origin));
        ck_assert_msg(strstr(origin, v.volume), "Origin after a crash: '%s'", origin);
        vm_ok("vssctl delete %s", ids[0]);
}
END_TEST

/* An auto-release snapshot's session died with the old vssd: the new one deletes it. */
START_TEST(test_crash_releases_auto_release_snapshots)
{
        Volume v;

        vm_volume(&v, "k", 64, "ext4");
        vm_ok("mkfifo " TEST_ROOT "/ready");
        pid_t requester = fork();
        ck_assert_int_ge(requester, 0);
        if (requester == 0) {
                vm_sh("vssctl exec %s -- sh -c 'echo $VSS_SNAPSHOT_ID_0 > " TEST_ROOT
                      "/ready; sleep 600'", v.volume);
                _exit(0);
        }
        vm_ok("cat " TEST_ROOT "/ready");
        char id[40];
        snprintf(id, sizeof(id), "%.36s", vm_out());
        char name[64];
        snprintf(name, sizeof(name), "vss-snap-%s", id);
        ck_assert_msg(vm_dm_exists(name), "no device for the backup snapshot %s", id);
        restart_vssd(true);
        kill(requester, SIGKILL);
        waitpid(requester, NULL, 0);
        ck_assert_msg(!vm_dm_exists(name), "auto-release snapshot %s survived the crash", id);
        char table[256];
        vm_table(v.volume + strlen("/dev/mapper/"), table, sizeof(table));
        ck_assert_msg(strstr(table, " linear "), "origin table after cleanup: %s", table);
}
END_TEST

/* A crash inside the hold window: an origin left suspended (its file system
 * frozen) with a half-made snapshot. The next vssd puts everything back. */
START_TEST(test_recover_after_a_crash_in_the_window)
{
        Volume v;
        char before[256], table[256];
        const char *set = "11111111-2222-3333-4444-555555555555";
        const char *snap = "66666666-7777-8888-9999-000000000000";

        vm_volume(&v, "h", 64, "ext4");
        const char *name = v.volume + strlen("/dev/mapper/");
        vm_table(name, before, sizeof(before));
        ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        /* What prepare and hold leave: NAME-real, an inactive snapshot, a suspended origin. */
        vm_ok("dmsetup table %s | dmsetup create %s-real --uuid LVSS-real-%s && "
              "truncate -s 8M " TEST_ROOT "/cow && c=$(losetup -f --show " TEST_ROOT "/cow) && "
              "dmsetup create vss-snap-%s --uuid LVSS-snap-%s-%s-3 --notable && "
              "dmsetup load vss-snap-%s --table \"0 $(blockdev --getsz %s) snapshot "
              "/dev/mapper/%s-real $c P 8\" && "
              "dmsetup load %s --table \"0 $(blockdev --getsz %s) snapshot-origin "
              "/dev/mapper/%s-real\" && dmsetup suspend %s",
              name, name, name, snap, set, snap, snap, v.volume, name, name, v.volume, name,
              name);
        /* A writer blocked on the frozen file system. */
        pid_t writer = fork();
        ck_assert_int_ge(writer, 0);
        if (writer == 0)
                _exit(vm_sh("echo written > %s/blocked", v.mnt) == 0 ? 0 : 1);
        ck_assert_msg(testbus_start_vssd(&vm_bus, NULL), "vssd did not start");
        int status;
        ck_assert_int_eq(waitpid(writer, &status, 0), writer);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        vm_ok("cat %s/blocked", v.mnt);
        ck_assert_str_eq(vm_out(), "written");
        vm_table(name, table, sizeof(table));
        ck_assert_str_eq(table, before);
        vm_ok("dmsetup ls | grep -c -e vss-snap- -e -real || true");
        ck_assert_str_eq(vm_out(), "0");
        ck_assert(testbus_log_contains(&vm_bus, "recover"));
}
END_TEST

static void revert_case(bool busy)
{
        Volume v;
        char ids[1][40], path[128];

        vm_volume(&v, busy ? "vb" : "vf", 64, "ext4");
        vm_ok("echo snapshot-time > %s/f && sync", v.mnt);
        vm_create(ids, 1, "--persistent", v.volume); /* only a persistent store merges */
        vm_ok("echo later > %s/f && echo x > %s/new && sync", v.mnt, v.mnt);
        if (!busy)
                vm_ok("umount %s", v.mnt);
        vm_ok("vssctl revert %s", ids[0]);
        vm_snapshot_path(ids[0], path, sizeof(path));
        if (busy) {
                char state[64];
                vm_snapshot_prop(ids[0], "State", state, sizeof(state));
                ck_assert_str_eq(state, "s \"merging\"");
                vm_ok("cat %s/f", v.mnt); /* nothing merged under the mounted file system */
                ck_assert_str_eq(vm_out(), "later");
                vm_ok("umount %s", v.mnt);
        }
        ck_assert_msg(testbus_wait_object(&vm_bus, "InterfacesRemoved", path, NULL, 0, 60000),
                      "the merge of %s did not finish", ids[0]);
        vm_ok("mount %s %s && cat %s/f", v.volume, v.mnt, v.mnt);
        ck_assert_str_eq(vm_out(), "snapshot-time");
        ck_assert_int_ne(vm_sh("test -e %s/new", v.mnt), 0);
        char table[256];
        vm_table(v.volume + strlen("/dev/mapper/"), table, sizeof(table));
        ck_assert_msg(strstr(table, " linear "), "origin after the merge: %s", table);
}

START_TEST(test_revert_unmounted_origin)
{
        revert_case(false);
}
END_TEST

START_TEST(test_revert_waits_for_a_busy_origin)
{
        revert_case(true);
}
END_TEST

/* A reboot loses every dm device; vss-wrappers brings the enabled ones back. */
START_TEST(test_enabled_volume_comes_back_at_boot)
{
        Volume v;
        char before[256], table[256];

        vm_volume(&v, "e", 64, "ext4");
        const char *name = v.volume + strlen("/dev/mapper/");
        vm_ok("echo kept > %s/f && umount %s", v.mnt, v.mnt);
        vm_table(name, before, sizeof(before));
        vm_ok("dmsetup remove %s", name);
        vm_ok("%s " TEST_ROOT "/state/enabled", testbus_path(true, "systemd/vss-wrappers"));
        vm_table(name, table, sizeof(table));
        ck_assert_str_eq(table, before);
        vm_ok("mount %s %s && cat %s/f", v.volume, v.mnt, v.mnt);
        ck_assert_str_eq(vm_out(), "kept");
        /* A device that changed size is not mapped blindly. */
        vm_ok("umount %s && dmsetup remove %s && truncate -s 96M " TEST_ROOT "/e.img && "
              "losetup -c %s", v.mnt, name, v.loop);
        ck_assert_int_ne(vm_sh("%s " TEST_ROOT "/state/enabled 2>&1",
                               testbus_path(true, "systemd/vss-wrappers")), 0);
        ck_assert_msg(strstr(vm_out(), "not the"), "wrappers said: %s", vm_out());
        ck_assert(!vm_dm_exists(name));
}
END_TEST

int main(void)
{
        return vmtest_run("dm-snapshot lifetime", setup,
                          (const TTest *const[]){ test_restarted_vssd_finds_persistent_snapshots, test_crash_releases_auto_release_snapshots, test_recover_after_a_crash_in_the_window, test_revert_unmounted_origin, test_revert_waits_for_a_busy_origin, test_enabled_volume_comes_back_at_boot, NULL });
}
