/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_storage.c: shadow storage with the real dm-snapshot provider, inside
 * the test VM: a maximum set with "vssctl storage add" survives a vssd
 * restart, bounds the growth of the volume's stores (the snapshot turns
 * invalid when its store fills at the maximum, with a log line saying why),
 * a maximum below what is used is refused, a diff area on the volume itself
 * is refused with nothing changed, and one elsewhere holds the stores.
 */
#include <stdio.h>
#include <string.h>

#include "tests/vm/vmtest.h"

#define MiB (1024u * 1024u)

/* vssctl create OPTIONS VOLUME: the snapshot's id into ID (from the JSON, not the table). */
static void create_one(char id[40], const char *options, const char *volume)
{
        vm_ok("vssctl --json create %s %s | python3 -c 'import json, sys\n"
              "print(json.load(sys.stdin)[\"snapshots\"][0][\"id\"])'", options, volume);
        ck_assert_uint_eq(strlen(vm_out()), 36);
        snprintf(id, 40, "%s", vm_out());
}

static void restart_vssd(void)
{
        ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        ck_assert_msg(testbus_start_vssd(&vm_bus, NULL), "vssd did not come back");
}

/* "VOLUME DIFF_AREA USED ALLOCATED MAX_SIZE MAX_BYTES" of every entry. */
static const char *storage_json(void)
{
        vm_ok("vssctl --json list storage | python3 -c 'import json, sys\n"
              "for s in json.load(sys.stdin)[\"storage\"]:\n"
              "    print(s[\"volume\"], s[\"diff_area\"], s[\"used_bytes\"], "
              "s[\"allocated_bytes\"], s[\"max_size\"], s[\"max_bytes\"])'");
        return vm_out();
}

START_TEST(test_maximum_bounds_growth_and_persists)
{
        Volume v;
        char ids[1][40], want[512], path[128];

        vmtest_start("initial_size = 8M\ngrow_at_percent = 50\n");
        vm_volume(&v, "s", 64, "ext4");
        vm_ok("vssctl storage add --for %s --maxsize 24M", v.volume);
        ck_assert_msg(strstr(vm_out(), "24M (24.0 MiB)"), "%s", vm_out());
        snprintf(want, sizeof(want), "%s " TEST_ROOT "/state/diff 0 0 24M %u", v.volume,
                 24 * MiB);
        ck_assert_str_eq(storage_json(), want);
        restart_vssd();
        ck_assert_str_eq(storage_json(), want);

        create_one(ids[0], "--no-writers", v.volume);
        ck_assert(vm_wait_u64_above(ids[0], "CowSizeBytes", 0, 10000));
        /* 3 MiB at a time, as in check_store_vm.c: the monitor grows the store in between. */
        for (int round = 0; vm_snapshot_u64(ids[0], "CowSizeBytes") < 24 * MiB; round++) {
                uint64_t size = vm_snapshot_u64(ids[0], "CowSizeBytes");
                ck_assert_msg(round < 8, "the store stopped at %llu bytes",
                              (unsigned long long)size);
                vm_ok("dd if=/dev/urandom of=%s/a%d bs=1M count=3 status=none conv=fsync",
                      v.mnt, round);
                if (vm_snapshot_u64(ids[0], "CowUsedBytes") * 100 >= size * 50)
                        ck_assert(vm_wait_u64_above(ids[0], "CowSizeBytes", size, 10000));
        }
        ck_assert_uint_eq(vm_snapshot_u64(ids[0], "CowSizeBytes"), 24 * MiB);
        /* Below what the snapshot uses: refused, naming the figure; nothing changes. */
        ck_assert_int_ne(vm_sh("vssctl storage resize --for %s --maxsize 8M 2>&1", v.volume), 0);
        ck_assert_msg(strstr(vm_out(), "is below the") && strstr(vm_out(), "already use"),
                      "%s", vm_out());
        ck_assert_msg(strstr(storage_json(), " 24M "), "%s", vm_out());

        /* More: the stores may not pass 24 MiB in all, so the snapshot overflows. */
        for (int i = 0; i < 8 && vm_snapshot_u64(ids[0], "CowSizeBytes") > 0; i++) {
                vm_ok("dd if=/dev/urandom of=%s/b%d bs=1M count=3 status=none conv=fsync",
                      v.mnt, i);
                ck_assert_uint_le(vm_snapshot_u64(ids[0], "CowSizeBytes"), 24 * MiB);
        }
        ck_assert_msg(testbus_wait_property(&vm_bus, vm_snapshot_path(ids[0], path, sizeof(path)),
                                            "State", "invalid", 20000),
                      "the snapshot at its maximum was not reported invalid");
        vm_ok("stat -c %%s " TEST_ROOT "/state/diff/LVSS-%s.cow", ids[0]);
        ck_assert_str_eq(vm_out(), "25165824");
        ck_assert(testbus_log_contains(&vm_bus, "cannot grow: the shadow storage of"));
        ck_assert(testbus_log_contains(&vm_bus, "is at its maximum 24M"));
        vm_ok("vssctl delete --for %s >/dev/null", v.volume);
}
END_TEST

START_TEST(test_diff_area_on_the_volume_is_refused)
{
        Volume v;
        char ids[1][40];

        vmtest_start(NULL);
        vm_volume(&v, "d", 64, "ext4");
        ck_assert_int_eq(vm_sh("vssctl storage add --for %s --maxsize 50%% --on %s/shadow 2>&1",
                               v.volume, v.mnt), 1);
        ck_assert_msg(strstr(vm_out(), "cannot hold snapshots of") &&
                      strstr(vm_out(), "that volume itself") &&
                      strstr(vm_out(), "choose a directory on another file system"),
                      "%s", vm_out());
        ck_assert_int_ne(vm_sh("test -e %s/shadow", v.mnt), 0);
        ck_assert_str_eq(storage_json(), "");

        /* Elsewhere it is taken, and the volume's stores and meta files go there. */
        vm_ok("vssctl storage add --for %s --maxsize 50%% --on " TEST_ROOT "/shadow >/dev/null",
              v.volume);
        create_one(ids[0], "--no-writers --persistent", v.volume);
        vm_ok("ls " TEST_ROOT "/shadow | sort");
        char want[200];
        snprintf(want, sizeof(want), "LVSS-%s.cow\nLVSS-%s.meta", ids[0], ids[0]);
        ck_assert_str_eq(vm_out(), want);
        vm_ok("ls " TEST_ROOT "/state/diff 2>/dev/null | grep -c LVSS || true");
        ck_assert_str_eq(vm_out(), "0");
        /* Moving it while the snapshot lives would strand the store: refused. */
        ck_assert_int_eq(vm_sh("vssctl storage add --for %s --maxsize 50%% --on " TEST_ROOT
                               "/other 2>&1", v.volume), 1);
        ck_assert_msg(strstr(vm_out(), "delete them first"), "%s", vm_out());
        /* A restarted vssd finds the snapshot through the meta file there. */
        restart_vssd();
        char origin[256];
        vm_snapshot_prop(ids[0], "Origin", origin, sizeof(origin));
        ck_assert_msg(strstr(origin, v.volume), "Origin after restart: '%s'", origin);
        vm_ok("vssctl delete %s >/dev/null && ls " TEST_ROOT "/shadow | wc -l", ids[0]);
        ck_assert_str_eq(vm_out(), "0");
}
END_TEST

int main(void)
{
        return vmtest_run("dm-snapshot shadow storage", NULL,
                          (const TTest *const[]){ test_maximum_bounds_growth_and_persists,
                                                  test_diff_area_on_the_volume_is_refused,
                                                  NULL });
}
