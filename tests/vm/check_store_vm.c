/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_store_vm.c: copy-on-write stores under load, inside the test VM: a
 * store grows before it fills; one that overflows turns its snapshot
 * invalid, vssd says so, and the origin and the other snapshots are fine.
 */
#include <stdio.h>
#include <string.h>

#include "tests/vm/vmtest.h"

#define MiB (1024u * 1024u)

START_TEST(test_store_grows_before_it_fills)
{
        Volume v;
        char ids[1][40];

        vmtest_start("initial_size = 8M\nmax_size = 48M\ngrow_at_percent = 50\n");
        vm_volume(&v, "g", 64, "ext4");
        vm_create(ids, 1, "--no-writers", v.volume);
        /* The COW figures come with vssd's first monitor round after the set. */
        ck_assert(vm_wait_u64_above(ids[0], "CowSizeBytes", 0, 10000));
        ck_assert_uint_eq(vm_snapshot_u64(ids[0], "CowSizeBytes"), 8 * MiB);
        /* 3 MiB at a time: the monitor grows the store between two rounds. */
        for (int round = 0; round < 6; round++) {
                uint64_t size = vm_snapshot_u64(ids[0], "CowSizeBytes");
                vm_ok("dd if=/dev/urandom of=%s/f%d bs=1M count=3 status=none conv=fsync",
                      v.mnt, round);
                if (vm_snapshot_u64(ids[0], "CowUsedBytes") * 100 >= size * 50)
                        ck_assert_msg(vm_wait_u64_above(ids[0], "CowSizeBytes", size, 10000),
                                      "round %d: the store did not grow past %llu", round,
                                      (unsigned long long)size);
        }
        char state[64];
        vm_snapshot_prop(ids[0], "State", state, sizeof(state));
        ck_assert_str_eq(state, "s \"valid\"");
        ck_assert_uint_gt(vm_snapshot_u64(ids[0], "CowSizeBytes"), 16 * MiB);
        vm_ok("dmsetup status vss-snap-%s", ids[0]);
        ck_assert_msg(!strstr(vm_out(), "Invalid"), "status: %s", vm_out());
}
END_TEST

START_TEST(test_overflow_invalidates_only_that_snapshot)
{
        Volume small, other;
        char ids[2][40], volumes[300], path[128], sum[64];

        vmtest_start("initial_size = 8M\nmax_size = 8M\n");
        vm_volume(&small, "o", 64, "ext4");
        vm_volume(&other, "p", 64, "ext4");
        vm_ok("echo keep > %s/keep && sync", other.mnt);
        snprintf(volumes, sizeof(volumes), "%s %s", small.volume, other.volume);
        vm_create(ids, 2, "--no-writers", volumes);

        vm_ok("dd if=/dev/urandom of=" TEST_ROOT "/data bs=1M count=24 status=none && "
              "md5sum < " TEST_ROOT "/data");
        snprintf(sum, sizeof(sum), "%s", vm_out());
        vm_ok("cp " TEST_ROOT "/data %s/data && sync", small.mnt);
        ck_assert_msg(testbus_wait_property(&vm_bus, vm_snapshot_path(ids[0], path, sizeof(path)),
                                            "State", "invalid", 20000),
                      "the overflowed snapshot was not reported invalid");
        /* The origin has every byte, read back from the device, not the page cache. */
        vm_ok("echo 3 > /proc/sys/vm/drop_caches && md5sum < %s/data", small.mnt);
        ck_assert_str_eq(vm_out(), sum);
        char state[64];
        vm_snapshot_prop(ids[1], "State", state, sizeof(state));
        ck_assert_str_eq(state, "s \"valid\"");
        ck_assert_int_ne(vm_sh("vssctl expose %s 2>&1", ids[0]), 0);
        ck_assert_msg(strstr(vm_out(), "invalid"), "expose of an invalid snapshot: %s",
                      vm_out());
        vm_ok("vssctl expose %s " TEST_ROOT "/other >/dev/null && cat " TEST_ROOT "/other/keep",
              ids[1]);
        ck_assert_str_eq(vm_out(), "keep");
        vm_ok("vssctl unexpose %s && vssctl delete --set $(vssctl list shadows | "
              "awk 'NR == 2 { print $2 }')", ids[1]);
        vm_ok("dmsetup ls | grep -c -e vss-snap- -e -real || true");
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

int main(void)
{
        return vmtest_run("dm-snapshot stores", NULL,
                          (const TTest *const[]){ test_store_grows_before_it_fills, test_overflow_invalidates_only_that_snapshot, NULL });
}
