/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_thin.c: the dm-thin provider end to end, inside the test VM
 * (tests/vm/check-dm): pools from sparse files, thin volumes, sets through
 * vssd and vssctl, overflow, revert, restart, and a crash in the middle of
 * a set.
 *
 * Everything a user does goes through vssctl and vssd. The test also loads
 * the provider itself (dlopen, as vssd does, on the same state_dir) to read
 * pool usage between two writes, and to play a vssd killed inside the hold
 * window and the next one's recovery.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vss/provider.h>

#include "tests/vm/vmtest.h"

#define THIN_STATE TEST_ROOT "/state/thin"
#define THIN_JOURNALS TEST_ROOT "/run/dm-thin"
#define MIB (1024ull * 1024)

/* --- the provider, as vssd loads it ---------------------------------------------------- */

static const struct vss_provider *prov;
static void *prov_state;
static void *prov_handle;

static const char *host_config(const char *provider, const char *key)
{
        if (strcmp(provider, "dm-thin") != 0)
                return NULL;
        if (strcmp(key, "state_dir") == 0)
                return THIN_STATE;
        if (strcmp(key, "journal_dir") == 0)
                return THIN_JOURNALS;
        if (strcmp(key, "max_data_size.grow") == 0)
                return "96M";
        return NULL;
}

static const struct vss_provider_host host = {
        .abi_version = VSS_PROVIDER_ABI_VERSION, .log = vm_provider_log, .config_get = host_config,
};

static void prov_open(void)
{
        struct vss_error_buf err = { "" };

        prov = vm_provider_open("dm-thin", &host, &prov_state, &prov_handle, &err);
        ck_assert_msg(prov, "%s", err.message);
}

static void setup(void)
{
        /* vssd's dm-thin: the same state as the test's, and a pool that may grow. */
        vmtest_start("[provider.dm-thin]\nmax_data_size.grow = 96M\n");
        prov_open();
}

static void teardown(void)
{
        if (prov) {
                prov->ops->fini(prov_state);
                dlclose(prov_handle);
                prov = NULL;
        }
        vmtest_teardown();
}

/* A pool NAME from two new sparse files (vssctl storage add --thin-pool). */
static void pool_make(const char *name, unsigned data_mb)
{
        vm_ok("vssctl storage add --thin-pool %s --data " TEST_ROOT "/%s-data.img --data-size %uM "
              "--metadata " TEST_ROOT "/%s-meta.img --metadata-size 4M", name, name, data_mb,
              name);
        vm_ok("vssctl storage list --json");
        ck_assert_msg(strstr(vm_out(), "thin-pool") && strstr(vm_out(), name),
                      "storage list: %s", vm_out());
}

/* A blank thin volume NAME of SIZE_MB in POOL (vssctl enable --thin); FSTYPE unless NULL. */
static void thin_volume(Volume *v, const char *pool, const char *name, unsigned size_mb,
                        const char *fstype)
{
        memset(v, 0, sizeof(*v));
        snprintf(v->name, sizeof(v->name), "%s", name);
        vm_ok("vssctl enable --thin %s --size %uM %s 2>/dev/null", pool, size_mb, name);
        snprintf(v->volume, sizeof(v->volume), "%s", vm_out());
        ck_assert_str_eq(v->volume + strlen("/dev/mapper/vss-thin-"), name);
        snprintf(v->mnt, sizeof(v->mnt), TEST_ROOT "/mnt/%s", name);
        if (fstype)
                vm_mkfs_mount(v->volume, fstype, v->mnt);
}

struct usage {
        const char *pool;
        uint64_t used, size, meta_used, meta_size;
        int found;
};

static int usage_cb(const struct vss_storage_info *info, void *userdata)
{
        struct usage *u = userdata;

        if (strcmp(info->name, u->pool) == 0 && strcmp(info->kind, "thin-pool") == 0) {
                u->used = info->used_bytes;
                u->size = info->max_bytes;
                u->meta_used = info->metadata_used_bytes;
                u->meta_size = info->metadata_size_bytes;
                u->found++;
        }
        return 0;
}

static struct usage pool_usage(const char *pool)
{
        struct usage u = { .pool = pool };
        struct vss_error_buf err = { "" };

        ck_assert_msg(prov->ops->list_storage(prov_state, usage_cb, &u, &err) == 0, "%s",
                      err.message);
        ck_assert_int_eq(u.found, 1);
        ck_assert(u.size > 0 && u.meta_size > 0 && u.meta_used > 0);
        return u;
}

/* --- scenarios ------------------------------------------------------------------------- */

/*
 * Two thin volumes written by one counter, in turn: their snapshots, taken
 * while it runs, show one moment. Then the snapshots' blocks are the pool's
 * until they are deleted.
 */
START_TEST(test_two_volume_set_is_one_instant_and_delete_frees_the_pool)
{
        Volume v[2];
        char paths[2][160], ids[2][40], volumes[300];

        pool_make("p", 256);
        thin_volume(&v[0], "p", "t0", 64, "ext4");
        thin_volume(&v[1], "p", "t1", 320, "xfs");
        for (int i = 0; i < 2; i++)
                snprintf(paths[i], sizeof(paths[i]), "%s/counter", v[i].mnt);
        snprintf(volumes, sizeof(volumes), "%s %s", v[0].volume, v[1].volume);
        pid_t counter = vm_start_counter(paths, 2);
        vm_ok("until [ -s %s ] && [ \"$(cat %s)\" -gt 1000 ]; do sleep 0.1; done", paths[1],
              paths[1]);
        vm_create(ids, 2, "--no-writers", volumes);
        vm_stop_child(counter);

        /* What vssd says of them: thin devices, read-only. */
        char device[256];
        vm_snapshot_prop(ids[0], "Device", device, sizeof(device));
        ck_assert_msg(strstr(device, "/dev/mapper/vss-tsnap-"), "Device '%s'", device);
        vm_ok("blockdev --getro /dev/mapper/vss-tsnap-%s", ids[1]);
        ck_assert_str_eq(vm_out(), "1");

        unsigned long c[2];
        for (int i = 0; i < 2; i++) {
                char dir[160];
                snprintf(dir, sizeof(dir), TEST_ROOT "/snap%d", i);
                vm_ok("vssctl expose %s %s", ids[i], dir);
                vm_ok("cat %s/counter", dir);
                c[i] = strtoul(vm_out(), NULL, 10);
                vm_ok("vssctl unexpose %s", ids[i]);
        }
        ck_assert_msg(c[0] >= c[1] && c[0] - c[1] <= 1 && c[1] > 1000,
                      "snapshot counters %lu %lu", c[0], c[1]);

        /* 32 MiB the snapshot keeps and the origin rewrites: the pool holds both. */
        vm_ok("dd if=/dev/urandom of=%s/big bs=1M count=32 conv=fsync 2>/dev/null && "
              "vssctl create --no-writers %s >/dev/null && "
              "dd if=/dev/urandom of=%s/big bs=1M count=32 conv=notrunc,fsync 2>/dev/null",
              v[0].mnt, v[0].volume, v[0].mnt);
        struct usage before = pool_usage("p");
        vm_ok("vssctl list snapshots --json | grep -o '\"id\": *\"[0-9a-f-]*\"' | "
              "grep -o '[0-9a-f-]\\{36\\}' | while read i; do vssctl delete $i || exit 1; done");
        vm_ok("fstrim %s || true", v[0].mnt);
        struct usage after = pool_usage("p");
        ck_assert_msg(after.used + 30 * MIB < before.used, "pool used %llu before the "
                      "deletes, %llu after", (unsigned long long)before.used,
                      (unsigned long long)after.used);
        vm_ok("dmsetup ls | grep -c vss-tsnap- || true");
        ck_assert_str_eq(vm_out(), "0");
        ck_assert_int_eq(vm_sh("ls " THIN_STATE "/snapshots | grep -q ."), 1);
}
END_TEST

/* A persistent snapshot outlives vssd; a revert puts the volume back and consumes it. */
START_TEST(test_restart_then_revert)
{
        Volume v;
        char ids[1][40], device[256];

        pool_make("r", 128);
        thin_volume(&v, "r", "rv", 64, "ext4");
        vm_ok("echo before > %s/file && sync", v.mnt);
        vm_create(ids, 1, "--persistent", v.volume);
        vm_ok("echo after > %s/file && echo new > %s/new && sync", v.mnt, v.mnt);

        ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        ck_assert_msg(testbus_start_vssd(&vm_bus, NULL), "vssd did not come back");
        vm_snapshot_prop(ids[0], "Device", device, sizeof(device));
        ck_assert_msg(strstr(device, ids[0]), "Device after the restart: '%s'", device);

        ck_assert_int_ne(vm_sh("vssctl revert %s 2>&1", ids[0]), 0);
        ck_assert_msg(strstr(vm_out(), "unmount"), "revert of a mounted volume: %s", vm_out());
        vm_ok("umount %s && vssctl revert %s && mount %s %s", v.mnt, ids[0], v.volume, v.mnt);
        vm_ok("cat %s/file", v.mnt);
        ck_assert_str_eq(vm_out(), "before");
        ck_assert_int_ne(vm_sh("test -e %s/new", v.mnt), 0);
        ck_assert(!vm_dm_exists(device + strlen("/dev/mapper/")));
        vm_ok("echo writable > %s/file && sync && cat %s/file", v.mnt, v.mnt);
        ck_assert_str_eq(vm_out(), "writable");
}
END_TEST

/*
 * A pool that fills: first its data file grows (max_data_size.grow = 96M),
 * then its oldest snapshot is dropped and reported invalid; every write of
 * the origin succeeds throughout.
 */
START_TEST(test_overflow_grows_then_drops_the_oldest_snapshot)
{
        Volume v;
        char ids[1][40], state[64];

        pool_make("grow", 64);
        thin_volume(&v, "grow", "g", 64, NULL);
        vm_ok("head -c 64M /dev/urandom > " TEST_ROOT "/pattern && "
              "dd if=" TEST_ROOT "/pattern of=%s bs=4M count=10 oflag=direct 2>/dev/null",
              v.volume);
        vm_create(ids, 1, "--no-writers", v.volume);
        /* Rewrite the 40 MiB the snapshot shares, then 20 more: 100 MiB if nothing gave way. */
        for (unsigned step = 0; step < 15; step++) {
                vm_ok("dd if=" TEST_ROOT "/pattern of=%s bs=4M skip=%u seek=%u count=1 "
                      "oflag=direct conv=notrunc,fsync 2>&1", v.volume, 15 - step, step);
                for (int waited = 0;; waited += 100) {
                        struct usage u = pool_usage("grow");
                        if (u.used * 100 < u.size * 90)
                                break;
                        ck_assert_msg(waited < 10000, "pool at %llu of %llu bytes for 10 s",
                                      (unsigned long long)u.used,
                                      (unsigned long long)u.size);
                        usleep(100 * 1000);
                }
        }
        ck_assert_uint_eq(pool_usage("grow").size, 96 * MIB);
        vm_snapshot_prop(ids[0], "State", state, sizeof(state));
        ck_assert_msg(strstr(state, "invalid"), "State '%s'", state);
        ck_assert(testbus_log_contains(&vm_bus, "dropped"));
        /* What the origin holds is exactly what was written. */
        vm_ok("for s in $(seq 0 14); do dd if=" TEST_ROOT "/pattern bs=4M skip=$((15 - s)) "
              "count=1 2>/dev/null; done | cmp - %s -n 62914560", v.volume);
        /* A set is refused no more, and the invalid one goes on delete. */
        vm_ok("vssctl delete %s", ids[0]);
}
END_TEST

/* A device's contents copied into a thin volume: the same files, zeros left unallocated. */
START_TEST(test_copy_of_a_device_skips_its_zeros)
{
        char volume[128];
        Volume src;

        pool_make("c", 256);
        vm_volume(&src, "src", 128, "ext4");
        vm_ok("seq 1 100000 > %s/data && md5sum < %s/data", src.mnt, src.mnt);
        char sum[64];
        snprintf(sum, sizeof(sum), "%s", vm_out());
        ck_assert_int_ne(vm_sh("vssctl enable --thin c %s 2>&1", src.volume), 0);
        ck_assert_msg(strstr(vm_out(), "unmount"), "%s", vm_out());
        vm_ok("umount %s && vssctl enable --thin c %s 2>/dev/null", src.mnt, src.volume);
        snprintf(volume, sizeof(volume), "%s", vm_out());
        char expected[160];
        snprintf(expected, sizeof(expected), "/dev/mapper/vss-thin-%s",
                 strrchr(src.volume, '/') + 1);
        ck_assert_str_eq(volume, expected);
        vm_ok("blockdev --getsize64 %s", volume);
        ck_assert_uint_eq(strtoull(vm_out(), NULL, 10), 128 * MIB);
        ck_assert_msg(pool_usage("c").used < 64 * MIB, "the copy took %llu bytes of the pool",
                      (unsigned long long)pool_usage("c").used);
        vm_ok("mount %s %s && md5sum < %s/data", volume, src.mnt, src.mnt);
        ck_assert_str_eq(vm_out(), sum);
}
END_TEST

/*
 * A pool at or above its high-water mark (90%) takes no new snapshot: the
 * set is refused with the pool's usage and what to do, and leaves nothing
 * behind. Space given back (a discard) lets the next set through.
 */
START_TEST(test_set_refused_above_high_water)
{
        Volume v;
        char ids[1][40];

        pool_make("h", 64);
        thin_volume(&v, "h", "hv", 128, NULL); /* more than the pool: over-provisioned */
        vm_ok("dd if=/dev/urandom of=%s bs=1M count=60 oflag=direct 2>&1", v.volume);
        ck_assert_uint_ge(pool_usage("h").used, 60 * MIB);
        ck_assert_int_eq(vm_sh("vssctl create --no-writers %s 2>&1", v.volume), 1);
        ck_assert_msg(strstr(vm_out(), "thin pool h is 9") && strstr(vm_out(), "high-water") &&
                      strstr(vm_out(), "delete snapshots or grow the pool"),
                      "refusal: %s", vm_out());
        vm_ok("dmsetup ls | grep -c vss-tsnap- || true");
        ck_assert_str_eq(vm_out(), "0");
        ck_assert_int_eq(vm_sh("find " THIN_STATE "/snapshots " THIN_JOURNALS
                               " -type f | grep -q ."), 1);
        vm_ok("vssctl list snapshots");
        ck_assert_msg(!strstr(vm_out(), v.volume), "list snapshots: %s", vm_out());

        vm_ok("blkdiscard -o 0 -l %llu %s", 32 * MIB, v.volume);
        ck_assert_uint_lt(pool_usage("h").used, 40 * MIB);
        vm_create(ids, 1, "--no-writers", v.volume);
        vm_ok("vssctl delete %s", ids[0]);
}
END_TEST

/* A process killed inside the window of a set of VOLUME: after hold, or after commit too. */
static void kill_in_window(const char *volume, const char *set_id, const char *snap_id,
                           bool commit)
{
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                struct vss_volume_request vr = { .volume = volume, .snapshot_id = snap_id };
                struct vss_set_request set = { .set_id = set_id, .n_volumes = 1, .volumes = &vr };
                struct vss_error_buf err;
                if (prov->ops->prepare(prov_state, &set, &err) < 0 ||
                    prov->ops->hold(prov_state, set_id, &err) < 0 ||
                    (commit && prov->ops->commit(prov_state, set_id, &err) < 0))
                        _exit(2);
                raise(SIGKILL);
        }
        int status;
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        ck_assert_msg(WIFSIGNALED(status), "the set failed before the kill (status %d)", status);
        vm_ok("dmsetup info -c --noheadings -o attr %s", volume);
        ck_assert_msg(strchr(vm_out(), 's'), "origin not suspended: %s", vm_out());
}

/*
 * Killed after hold: recovery resumes the origin and takes back the
 * half-made snapshot (device, thin id, record). Killed after commit: the
 * snapshot is whole, so it is kept, and the origin resumed.
 */
START_TEST(test_kill_mid_set_is_recovered)
{
        const char *snap = "66666666-7777-4888-9999-000000000000";
        struct vss_error_buf err = { "" };
        Volume v;

        pool_make("k", 128);
        thin_volume(&v, "k", "kv", 64, "ext4");
        vm_ok("echo kept > %s/file && sync", v.mnt);
        kill_in_window(v.volume, "11111111-2222-4333-8444-555555555555", snap, false);
        int fixed = prov->ops->recover(prov_state, &err);
        ck_assert_msg(fixed >= 2, "recover returned %d: %s", fixed, err.message);
        vm_ok("echo written > %s/file2 && sync && cat %s/file", v.mnt, v.mnt);
        ck_assert_str_eq(vm_out(), "kept");
        vm_ok("dmsetup ls | grep -c vss-tsnap- || true");
        ck_assert_str_eq(vm_out(), "0");
        ck_assert_int_eq(vm_sh("find " THIN_STATE "/snapshots " THIN_JOURNALS
                               " -type f | grep -q ."), 1);
        ck_assert_int_eq(prov->ops->recover(prov_state, &err), 0);

        kill_in_window(v.volume, "22222222-2222-4333-8444-555555555555", snap, true);
        fixed = prov->ops->recover(prov_state, &err);
        ck_assert_msg(fixed >= 2, "recover returned %d: %s", fixed, err.message);
        vm_ok("echo again > %s/file && sync && blockdev --getro /dev/mapper/vss-tsnap-%s",
              v.mnt, snap);
        ck_assert_str_eq(vm_out(), "1");
        ck_assert_int_eq(vm_sh("find " THIN_JOURNALS " -type f | grep -q ."), 1);
        /* What the kept snapshot holds is the volume at the kill. */
        ck_assert_msg(prov->ops->expose(prov_state, snap, TEST_ROOT "/kept", &err) == 0, "%s",
                      err.message);
        vm_ok("cat " TEST_ROOT "/kept/file");
        ck_assert_str_eq(vm_out(), "kept");
        ck_assert_int_eq(prov->ops->unexpose(prov_state, snap, &err), 0);
        ck_assert_int_eq(prov->ops->delete_snapshot(prov_state, snap, &err), 0);
        ck_assert(!vm_dm_exists("vss-tsnap-66666666-7777-4888-9999-000000000000"));
}
END_TEST

int main(void)
{
        const TTest *const tests[] = {
                test_two_volume_set_is_one_instant_and_delete_frees_the_pool,
                test_restart_then_revert,
                test_overflow_grows_then_drops_the_oldest_snapshot,
                test_kill_mid_set_is_recovered,
                test_set_refused_above_high_water,
                test_copy_of_a_device_skips_its_zeros,
                NULL,
        };
        return vmtest_run_fixture("thin", setup, teardown, tests);
}
