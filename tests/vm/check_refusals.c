/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_refusals.c: bad input to the dm-snapshot provider, inside the test
 * VM. Each case gets a refusal that names the problem and what to do, and
 * changes nothing: no device-mapper device, loop device or store appears and
 * the volume's table is as it was.
 */
#include <stdio.h>
#include <string.h>

#include "tests/vm/vmtest.h"

#define LVM_CONFIG "--config 'backup{backup=0 archive=0} activation{udev_sync=0 " \
                   "udev_rules=0} devices{obtain_device_list_from_udev=0}'"

static char dm_before[4096], loops_before[4096];

static void setup(void)
{
        vmtest_start("diff_area = " TEST_ROOT "/mnt/a/diff\n");
}

static void snapshot_state(void)
{
        vm_ok("dmsetup table | sort");
        snprintf(dm_before, sizeof(dm_before), "%s", vm_out());
        vm_ok("losetup -a | sort");
        snprintf(loops_before, sizeof(loops_before), "%s", vm_out());
}

/* `vssctl create VOLUME` fails, its message has every NEEDLE, and nothing changed. */
static void refused(const char *volume, const char *needle1, const char *needle2)
{
        snapshot_state();
        ck_assert_int_ne(vm_sh("vssctl create %s 2>&1", volume), 0);
        ck_assert_msg(strstr(vm_out(), needle1) && (!needle2 || strstr(vm_out(), needle2)),
                      "refusal of %s: %s", volume, vm_out());
        char out[4096];
        snprintf(out, sizeof(out), "%s", vm_out());
        vm_ok("dmsetup table | sort");
        ck_assert_msg(strcmp(vm_out(), dm_before) == 0, "dm tables changed after: %s", out);
        vm_ok("losetup -a | sort");
        ck_assert_str_eq(vm_out(), loops_before);
}

START_TEST(test_not_a_block_device)
{
        vm_ok("touch " TEST_ROOT "/file");
        refused(TEST_ROOT "/file", "is not a block device", NULL);
        refused("/dev/nonexistent", "does not exist", NULL);
}
END_TEST

START_TEST(test_mounted_plain_device_needs_enable)
{
        vm_ok("truncate -s 64M " TEST_ROOT "/plain.img && losetup -f --show " TEST_ROOT
              "/plain.img");
        char loop[64];
        snprintf(loop, sizeof(loop), "%s", vm_out());
        vm_mkfs_mount(loop, "ext4", TEST_ROOT "/mnt/plain");
        refused(loop, "plain block device", "vssctl enable");
        /* enable refuses it too while it is mounted, and says why. */
        ck_assert_int_ne(vm_sh("vssctl enable %s 2>&1", loop), 0);
        ck_assert_msg(strstr(vm_out(), "is mounted at " TEST_ROOT "/mnt/plain"), "enable: %s",
                      vm_out());
        vm_ok("dmsetup ls | grep -c vss- || true");
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

START_TEST(test_lvm_volume_refused)
{
        vm_ok("truncate -s 64M " TEST_ROOT "/pv.img && losetup -f --show " TEST_ROOT "/pv.img");
        char pv[64];
        snprintf(pv, sizeof(pv), "%s", vm_out());
        vm_ok("pvcreate -q %s " LVM_CONFIG " && vgcreate -q vmtvg %s " LVM_CONFIG
              " && lvcreate -q -y -L 16M -n lv vmtvg " LVM_CONFIG " 2>&1", pv, pv);
        /* dm-snapshot, named, refuses it and points at the lvm provider, which takes it. */
        refused("--provider dm-snapshot /dev/mapper/vmtvg-lv", "LVM logical volume",
                "--provider lvm");
}
END_TEST

START_TEST(test_diff_area_inside_the_volume)
{
        Volume a;
        vm_volume(&a, "a", 64, "ext4"); /* diff_area is TEST_ROOT/mnt/a/diff: on it */
        refused(a.volume, "diff area", "diff_area");
        vm_ok("ls %s/diff 2>/dev/null | wc -l", a.mnt);
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

START_TEST(test_snapshot_of_a_snapshot_refused)
{
        Volume b;
        char ids[1][40], dev[128];
        vmtest_teardown();
        vmtest_start(NULL); /* a diff area outside the volume for this one */
        vm_volume(&b, "b", 64, "ext4");
        vm_create(ids, 1, "", b.volume);
        refused(vm_snap_device(ids[0], dev, sizeof(dev)), "snapshot made by linux-vss", NULL);
}
END_TEST

int main(void)
{
        return vmtest_run("dm-snapshot refusals", setup,
                          (const TTest *const[]){ test_not_a_block_device, test_mounted_plain_device_needs_enable, test_lvm_volume_refused, test_diff_area_inside_the_volume, test_snapshot_of_a_snapshot_refused, NULL });
}
