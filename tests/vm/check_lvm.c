/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_lvm.c: the lvm provider end to end, inside the test VM
 * (tests/vm/check-dm): a volume group on a loop device with a linear LV
 * ("thick") and two thin LVs of one pool, vssd on a private bus, vssctl as
 * the requester. After every step, LVM itself must agree: vgck passes, lvs
 * shows exactly the snapshot LVs expected with their origins, and no device
 * is left suspended. To play a vssd killed inside the hold window, the test
 * loads the provider itself (dlopen, as vssd does) in a child it kills.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vss/provider.h>

#include "tests/vm/vmtest.h"

#define VG "vmtlvm"
/* What LVM needs in the VM (read-only /etc, no udev, no lvmpolld); only loops are PVs. */
#define LVM_CONF "backup{backup=0 archive=0} activation{udev_sync=0 udev_rules=0 " \
                 "monitoring=0} devices{obtain_device_list_from_udev=0 " \
                 "global_filter=[\"a|^/dev/loop|\",\"r|.*|\"]} global{use_lvmpolld=0}"
#define LVM_OPT " --config '" LVM_CONF "'"
#define THICK "/dev/mapper/" VG "-thick"
#define THIN1 "/dev/mapper/" VG "-thin1"
#define THIN2 "/dev/mapper/" VG "-thin2"
#define MNT TEST_ROOT "/mnt"
#define JOURNALS TEST_ROOT "/lvm-journal"
/* The LVs of the VG before any snapshot, as lvs_expect() lists them. */
#define BASE_LVS "[lvol0_pmspare]: [pool_tdata]: [pool_tmeta]: pool: thick: thin1: thin2:"

static void setup(void)
{
        vmtest_start("\n[provider.lvm]\nlvm_config = " LVM_CONF "\n"
                     "journal_dir = " JOURNALS "\n");
        setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
        /* An earlier test that failed left LVM's /dev/VG links (its devices are gone). */
        vm_ok("rm -rf /dev/" VG " && truncate -s 400M " TEST_ROOT "/pv.img && "
              "losetup -f --show " TEST_ROOT "/pv.img");
        char pv[64];
        snprintf(pv, sizeof(pv), "%s", vm_out());
        vm_ok("pvcreate -q %s" LVM_OPT " && vgcreate -q " VG " %s" LVM_OPT " 2>&1", pv, pv);
        vm_ok("lvcreate -q -y -L 64M -n thick " VG LVM_OPT " && "
              "lvcreate -q -y -L 128M -T " VG "/pool" LVM_OPT " && "
              "lvcreate -q -y -V 64M -T " VG "/pool -n thin1" LVM_OPT " && "
              "lvcreate -q -y -V 64M -T " VG "/pool -n thin2" LVM_OPT " 2>&1");
        vm_mkfs_mount(THICK, "ext4", MNT "/thick");
        vm_mkfs_mount(THIN1, "ext4", MNT "/thin1");
        vm_mkfs_mount(THIN2, "ext4", MNT "/thin2");
}

/* Unmount and deactivate the VG: clean_slate's dmsetup remove_all cannot see LVM's order. */
static void teardown(void)
{
        vm_sh("umount -R " MNT "/* 2>/dev/null; for m in $(findmnt -rn -o TARGET | grep "
              "/run/vss/expose); do umount $m; done; vgchange -an " VG LVM_OPT " 2>&1");
        vmtest_teardown();
}

/* The snapshot LV of snapshot ID: vss-<id without dashes>. */
static const char *snap_lv(const char *id, char *buf, size_t size)
{
        size_t n = (size_t)snprintf(buf, size, "vss-");
        for (const char *c = id; *c && n + 1 < size; c++)
                if (*c != '-')
                        buf[n++] = *c;
        buf[n] = '\0';
        return buf;
}

/*
 * LVM agrees with what the provider did: vgck passes, nothing is suspended,
 * and lvs lists BASE_LVS plus exactly SNAPSHOTS ("LV:ORIGIN" words), no more.
 */
static void lvs_expect(const char *snapshots)
{
        vm_ok("vgck " VG LVM_OPT " 2>&1");
        vm_ok("dmsetup info | grep -c 'State: *SUSPENDED' || true");
        ck_assert_msg(strcmp(vm_out(), "0") == 0, "suspended devices left");
        vm_ok("lvs -a --noheadings --separator : -o lv_name,origin " VG LVM_OPT
              " | tr -d ' ' | sort > " TEST_ROOT "/lvs.now && "
              "printf '%%s\\n' " BASE_LVS " %s | sort > " TEST_ROOT "/lvs.want && "
              "diff " TEST_ROOT "/lvs.want " TEST_ROOT "/lvs.now", snapshots);
}

static const char *snap_word(const char *id, const char *origin, char *buf, size_t size)
{
        char lv[64];
        snprintf(buf, size, "%s:%s", snap_lv(id, lv, sizeof(lv)), origin);
        return buf;
}

/* Atomicity of the set of snapshot ID ("one-instant", "writers-only"). */
static const char *set_atomicity(const char *id, char *buf, size_t size)
{
        char set[64], path[128];

        vm_snapshot_prop(id, "SnapshotSetId", set, sizeof(set));
        /* busctl prints: s "uuid" */
        char *q = strchr(set, '"');
        ck_assert_msg(q, "SnapshotSetId: %s", set);
        snprintf(path, sizeof(path), "/org/linuxvss/Vss1/set/%.36s", q + 1);
        for (char *c = path + strlen("/org/linuxvss/Vss1/set/"); *c; c++)
                if (*c == '-')
                        *c = '_';
        vm_ok("busctl --system get-property org.linuxvss.Vss1 %s org.linuxvss.Vss1.SnapshotSet "
              "Atomicity", path);
        snprintf(buf, size, "%s", vm_out());
        return buf;
}

/* Wait, on vssd's signals, until snapshot ID's State is STATE ("" : until it is gone). */
static bool wait_state(const char *id, const char *state, int timeout_ms)
{
        char want[32], now[64];

        snprintf(want, sizeof(want), "s \"%s\"", state);
        for (int waited = 0; waited <= timeout_ms; waited += 500) {
                vm_snapshot_prop(id, "State", now, sizeof(now));
                if (state[0] ? strcmp(now, want) == 0 : now[0] == '\0')
                        return true;
                vm_wait_changed(500);
        }
        return false;
}

/* A shell loop in the background, its output nowhere; its pid. */
static int start_loop(const char *command)
{
        vm_ok("(%s) >/dev/null 2>&1 & echo $!", command);
        return atoi(vm_out());
}

static void stop_loop(int pid)
{
        vm_ok("kill %d; while kill -0 %d 2>/dev/null; do sleep 0.05; done", pid, pid);
}

/* --- scenarios ----------------------------------------------------------------------- */

/*
 * Two thin LVs of one pool are one instant: a counter written to thin1 then
 * thin2 shows the same count in both snapshots (or thin1 one ahead). An
 * append log written all along is a prefix of the origin's, in whole lines.
 */
START_TEST(test_thin_pair_is_one_instant)
{
        char ids[2][40], buf[256], w1[96], w2[96], words[200];

        int counter = start_loop("i=0; while :; do i=$((i+1)); printf '%020d\\n' $i 1<>" MNT
                                 "/thin1/c; printf '%020d\\n' $i 1<>" MNT "/thin2/c; done");
        /* One write(2) per line ("record\n"): a freeze never tears one. */
        int appender = start_loop("while :; do echo record; done >> " MNT "/thin1/log");
        vm_ok("until [ \"$(cat " MNT "/thin2/c 2>/dev/null || echo 0)\" -gt 300 ] && "
              "[ $(stat -c %%s " MNT "/thin1/log) -gt 100000 ]; do sleep 0.1; done");
        vm_create(ids, 2, "--no-writers", THIN1 " " THIN2);
        vm_ok("s=$(stat -c %%s " MNT "/thin1/log); until [ $(stat -c %%s " MNT "/thin1/log) "
              "-gt $((s + 100000)) ]; do sleep 0.1; done");
        stop_loop(counter);
        stop_loop(appender);

        ck_assert_str_eq(set_atomicity(ids[0], buf, sizeof(buf)), "s \"one-instant\"");
        snprintf(words, sizeof(words), "%s %s", snap_word(ids[0], "thin1", w1, sizeof(w1)),
                 snap_word(ids[1], "thin2", w2, sizeof(w2)));
        lvs_expect(words);
        vm_snapshot_prop(ids[0], "Provider", buf, sizeof(buf));
        ck_assert_str_eq(buf, "s \"lvm\"");

        vm_ok("vssctl expose %s " TEST_ROOT "/s1 && vssctl expose %s " TEST_ROOT "/s2", ids[0],
              ids[1]);
        vm_ok("cat " TEST_ROOT "/s1/c");
        unsigned long c1 = strtoul(vm_out(), NULL, 10);
        vm_ok("cat " TEST_ROOT "/s2/c");
        unsigned long c2 = strtoul(vm_out(), NULL, 10);
        ck_assert_msg(c2 > 300 && (c1 == c2 || c1 == c2 + 1), "snapshot counters %lu %lu", c1,
                      c2);
        vm_ok("stat -c %%s " TEST_ROOT "/s1/log");
        long snap_size = atol(vm_out());
        vm_ok("stat -c %%s " MNT "/thin1/log");
        long origin_size = atol(vm_out());
        ck_assert_msg(snap_size > 100000 && snap_size % 7 == 0 && origin_size > snap_size,
                      "log: snapshot %ld, origin %ld", snap_size, origin_size);
        vm_ok("cmp -n %ld " TEST_ROOT "/s1/log " MNT "/thin1/log", snap_size);
        ck_assert_int_ne(vm_sh("touch " TEST_ROOT "/s1/x 2>&1"), 0);

        /* Exposed: not deleted; unexposed, each delete leaves LVM consistent. */
        ck_assert_int_ne(vm_sh("vssctl delete %s 2>&1", ids[0]), 0);
        ck_assert_msg(strstr(vm_out(), "unexpose"), "delete while exposed: %s", vm_out());
        vm_ok("vssctl unexpose %s && vssctl unexpose %s", ids[0], ids[1]);
        vm_ok("vssctl delete %s", ids[0]);
        lvs_expect(w2);
        vm_ok("vssctl delete %s", ids[1]);
        lvs_expect("");
}
END_TEST

/*
 * A thick and a thin LV: writers-only, the classic snapshot made by LVM
 * after the window; both survive vssd restarts (LVM keeps them); revert a
 * thin one with its origin in use (merging, deferred to the next
 * activation) and a classic one at once. Then a classic snapshot that grows
 * and overflows.
 */
START_TEST(test_mixed_set_restart_revert_overflow)
{
        char ids[2][40], buf[256], w1[96], w2[96], words[200];

        vm_ok("echo before > " MNT "/thick/f && echo before > " MNT "/thin1/f && sync");
        vm_create(ids, 2, "", THICK " " THIN1);
        vm_ok("echo after > " MNT "/thick/f && echo after > " MNT "/thin1/f && sync");
        ck_assert_str_eq(set_atomicity(ids[0], buf, sizeof(buf)), "s \"writers-only\"");
        snprintf(words, sizeof(words), "%s %s", snap_word(ids[0], "thick", w1, sizeof(w1)),
                 snap_word(ids[1], "thin1", w2, sizeof(w2)));
        lvs_expect(words);
        ck_assert(vm_wait_u64_above(ids[0], "CowSizeBytes", 0, 10000));
        ck_assert_uint_eq(vm_snapshot_u64(ids[1], "CowSizeBytes"), 0);
        vm_ok("vssctl expose %s " TEST_ROOT "/s", ids[0]);
        vm_ok("cat " TEST_ROOT "/s/f");
        ck_assert_str_eq(vm_out(), "before");
        vm_ok("vssctl unexpose %s", ids[0]);

        /* LVM keeps them: a stopped and a killed vssd find both again. */
        ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        ck_assert(testbus_start_vssd(&vm_bus, NULL));
        kill(vm_bus.vssd_pid, SIGKILL);
        waitpid(vm_bus.vssd_pid, NULL, 0);
        vm_bus.vssd_pid = 0;
        ck_assert(testbus_start_vssd(&vm_bus, NULL));
        vm_snapshot_prop(ids[1], "Origin", buf, sizeof(buf));
        ck_assert_str_eq(buf, "s \"" THIN1 "\"");
        vm_snapshot_prop(ids[0], "State", buf, sizeof(buf));
        ck_assert_str_eq(buf, "s \"valid\"");
        lvs_expect(words);

        /* thin1 is mounted: LVM merges at its next activation, and says it is merging. */
        vm_ok("vssctl revert %s", ids[1]);
        ck_assert(wait_state(ids[1], "merging", 10000));
        vm_ok("umount " MNT "/thin1 && lvchange -an " VG "/thin1" LVM_OPT " && lvchange -ay "
              VG "/thin1" LVM_OPT " 2>&1 && mount " THIN1 " " MNT "/thin1 && cat " MNT
              "/thin1/f");
        ck_assert_str_eq(vm_out(), "before");
        ck_assert(wait_state(ids[1], "", 10000));
        lvs_expect(w1);

        /* thick is not in use: the merge starts at once and LVM removes the snapshot. */
        vm_ok("umount " MNT "/thick");
        vm_ok("vssctl revert %s", ids[0]);
        ck_assert(wait_state(ids[0], "", 30000));
        vm_ok("until lvs --noheadings -o lv_name " VG LVM_OPT " | grep -q vss-; [ $? = 1 ]; do "
              "sleep 0.2; done; mount " THICK " " MNT "/thick && cat " MNT "/thick/f");
        ck_assert_str_eq(vm_out(), "before");
        lvs_expect("");

        /*
         * A classic snapshot grows before it fills, up to the volume's maximum;
         * past that it overflows: reported invalid, the origin unharmed.
         */
        char one[1][40];

        vm_ok("vssctl storage add --for " THICK " --maxsize 24M");
        vm_create(one, 1, "--no-writers", THICK);
        ck_assert(vm_wait_u64_above(one[0], "CowSizeBytes", 0, 10000)); /* first monitored */
        ck_assert_uint_eq(vm_snapshot_u64(one[0], "CowSizeBytes"), 12u << 20); /* 20%: 3 extents */
        vm_ok("head -c 10M /dev/urandom > " TEST_ROOT "/r1 && cp " TEST_ROOT "/r1 " MNT
              "/thick/r1 && sync");
        ck_assert(vm_wait_u64_above(one[0], "CowSizeBytes", 12u << 20, 20000));
        ck_assert_uint_eq(vm_snapshot_u64(one[0], "CowSizeBytes"), 24u << 20);
        lvs_expect(snap_word(one[0], "thick", w1, sizeof(w1)));

        vm_ok("head -c 30M /dev/urandom > " TEST_ROOT "/r2 && cp " TEST_ROOT "/r2 " MNT
              "/thick/r2 && sync");
        ck_assert(wait_state(one[0], "invalid", 20000));
        vm_ok("echo 3 > /proc/sys/vm/drop_caches; cmp " TEST_ROOT "/r1 " MNT "/thick/r1 && cmp "
              TEST_ROOT "/r2 " MNT "/thick/r2 && echo more > " MNT "/thick/more && sync");
        ck_assert_int_ne(vm_sh("vssctl expose %s 2>&1", one[0]), 0);
        ck_assert_msg(strstr(vm_out(), "invalid"), "expose of an invalid snapshot: %s", vm_out());
        vm_ok("vssctl storage list");
        ck_assert_msg(strstr(vm_out(), THICK), "storage list: %s", vm_out());
        vm_ok("vssctl delete %s", one[0]);
        lvs_expect("");
}
END_TEST

/* --- a vssd killed in the window: the provider in a child process ---------------------- */

static const char *child_config(const char *provider, const char *key)
{
        if (strcmp(provider, "lvm") != 0)
                return NULL;
        return strcmp(key, "lvm_config") == 0    ? LVM_CONF
               : strcmp(key, "journal_dir") == 0 ? JOURNALS
                                                 : NULL;
}

/* In a child: prepare a set of thin1 and thin2, hold (and COMMIT), and die by SIGKILL. */
static void kill_in_window(const char *set_id, const char *const snap_ids[2], bool commit)
{
        pid_t child = fork();

        ck_assert_int_ge(child, 0);
        if (child == 0) {
                static const struct vss_provider_host host = {
                        .abi_version = VSS_PROVIDER_ABI_VERSION, .log = vm_provider_log,
                        .config_get = child_config,
                };
                struct vss_volume_request vr[2] = { { .volume = THIN1, .snapshot_id = snap_ids[0] },
                                                    { .volume = THIN2, .snapshot_id = snap_ids[1] } };
                struct vss_set_request set = { .set_id = set_id, .n_volumes = 2, .volumes = vr };
                struct vss_error_buf err = { "" };
                void *state, *handle;
                const struct vss_provider *prov = vm_provider_open("lvm", &host, &state, &handle,
                                                                   &err);
                if (!prov || prov->ops->prepare(state, &set, &err) < 0 ||
                    prov->ops->hold(state, set_id, &err) < 0 ||
                    (commit && prov->ops->commit(state, set_id, &err) < 0)) {
                        fprintf(stderr, "the set failed before the kill: %s\n", err.message);
                        _exit(2);
                }
                raise(SIGKILL);
        }
        int status;
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        ck_assert_msg(WIFSIGNALED(status), "the set failed before the kill (status %d)", status);
}

/*
 * Killed after hold (both origins suspended, the snapshot LVs lvcreate made
 * in prepare not yet re-taken) and after commit (re-taken, never activated
 * nor tagged complete): vssctl recover resumes the origins and removes the
 * unfinished set's LVs through LVM, which then agrees: vgck passes, lvs
 * shows the volumes alone, no journal is left and the volumes take writes.
 */
START_TEST(test_kill_in_window_is_recovered)
{
        const char *const snaps[2] = { "77777777-1111-4222-8333-444444444444",
                                       "77777777-1111-4222-8333-555555555555" };
        const char *const sets[2] = { "88888888-1111-4222-8333-444444444444",
                                      "88888888-1111-4222-8333-555555555555" };
        char w1[96], w2[96];

        for (int commit = 0; commit <= 1; commit++) {
                kill_in_window(sets[commit], snaps, commit);
                vm_ok("dmsetup info -c --noheadings -o attr " VG "-thin1 " VG "-thin2 | "
                      "grep -c s");
                ck_assert_msg(strcmp(vm_out(), "2") == 0, "origins not both suspended");
                vm_ok("lvs --noheadings -o lv_name " VG LVM_OPT " | grep -c vss-");
                ck_assert_msg(strcmp(vm_out(), "2") == 0, "lvcreate did not make both: %s",
                              vm_out());
                vm_ok("vssctl recover");
                ck_assert_msg(strstr(vm_out(), "Put right"), "recover: %s", vm_out());
                lvs_expect("");
                ck_assert_int_ne(vm_sh("ls -A " JOURNALS " | grep ."), 0);
                vm_ok("echo %d > " MNT "/thin1/f && echo %d > " MNT "/thin2/f && sync", commit,
                      commit);
                vm_ok("vssctl recover");
                ck_assert_msg(strstr(vm_out(), "Nothing to recover"), "again: %s", vm_out());
        }
        /* Then a set is whole again. */
        char ids[2][40];
        vm_create(ids, 2, "--no-writers", THIN1 " " THIN2);
        char words[200];
        snprintf(words, sizeof(words), "%s %s", snap_word(ids[0], "thin1", w1, sizeof(w1)),
                 snap_word(ids[1], "thin2", w2, sizeof(w2)));
        lvs_expect(words);
        vm_ok("vssctl delete %s && vssctl delete %s", ids[0], ids[1]);
        lvs_expect("");
}
END_TEST

int main(void)
{
        return vmtest_run_fixture("lvm provider", setup, teardown,
                                  (const TTest *const[]){ test_thin_pair_is_one_instant,
                                                          test_mixed_set_restart_revert_overflow,
                                                          test_kill_in_window_is_recovered,
                                                          NULL });
}
