/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_faults.c: crash safety, proven point by point (common/fault.h).
 *
 * For every fault point that a set of two origins (ext4 and xfs, with a
 * writer registered at each level) meets, and for a delete and a revert:
 * vssd from the fault-injection build (build/fault) runs with VSS_FAULT set
 * to the point, the operation runs, and vssd must die there by SIGKILL. A
 * vssd without the fault then starts, and recovers. After it:
 *   - no dm device is suspended, and a write + fsync on each origin returns
 *     within 2 s (no file system is left frozen);
 *   - the dm devices and loop devices are those of before: the origins, the
 *     snapshot that existed before, and the snapshots the operation had
 *     finished (a set committed before the crash stays; a delete finishes;
 *     a revert that had not begun is undone);
 *   - the origins' data is what it was before (page cache dropped), and the
 *     snapshot from before is valid with its content unchanged, as is every
 *     snapshot kept;
 *   - the provider's journal directory is empty.
 * A table of point | verdict | what recovery did goes to stdout (and to the
 * VM's console, so check-dm's output shows it); one failing row fails the test.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

#define JOURNAL_DIR TEST_ROOT "/state/journal"
#define SNAP_MNT TEST_ROOT "/snapmnt"

enum op { OP_CREATE, OP_DELETE, OP_REVERT };

typedef struct Case {
        const char *fault;  /* VSS_FAULT */
        enum op op;
        unsigned kept;      /* snapshots of the operation that must stay */
} Case;

/* Volumes go to the set as "B A": B (xfs) is a first snapshot, A has one already. */
static const Case cases[] = {
        { "after-table-reload", OP_CREATE, 0 },   /* B made, A not yet */
        { "after-table-reload@2", OP_CREATE, 0 }, /* both made */
        { "after-prepare", OP_CREATE, 0 },
        { "after-freeze-front-end", OP_CREATE, 0 },
        { "after-freeze-back-end", OP_CREATE, 0 },
        { "after-freeze-system", OP_CREATE, 0 },
        { "after-suspend-first", OP_CREATE, 0 },
        { "after-suspend-all", OP_CREATE, 0 },
        { "before-resume", OP_CREATE, 2 },        /* committed: the set stays */
        { "after-resume", OP_CREATE, 2 },
        { "during-thaw", OP_CREATE, 2 },
        { "delete-after-remove", OP_DELETE, 1 },  /* the other snapshot of its set */
        { "revert-after-merge", OP_REVERT, 1 },   /* the merge had not begun: undone */
};

static Volume a, b;          /* ext4, xfs */
static char before_id[40];   /* the snapshot that exists before every case */
static char before_sum[64];  /* its content */
static char dm_before[2048], loops_before[2048];

typedef struct Row {
        bool ok;
        char why[512];       /* the first failure */
        char outcome[256];
        double seconds;      /* the case took, in the VM */
} Row;

static void row_fail(Row *row, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void row_fail(Row *row, const char *format, ...)
{
        va_list ap;

        if (!row->ok)
                return;
        row->ok = false;
        va_start(ap, format);
        vsnprintf(row->why, sizeof(row->why), format, ap);
        va_end(ap);
}

/* --- what the machine looks like ----------------------------------------------------- */

static void dm_names(char *buf, size_t size)
{
        vm_ok("dmsetup ls | awk '{print $1}' | sort | tr '\\n' ' '");
        snprintf(buf, size, "%s", vm_out());
}

static void loop_list(char *buf, size_t size)
{
        vm_ok("losetup -l -n -O NAME,BACK-FILE | sort | tr -s ' \\n' ' '");
        snprintf(buf, size, "%s", vm_out());
}

/* The data files of V as stored (not as cached). */
static void origin_sum(const Volume *v, char *buf, size_t size)
{
        vm_ok("sync && echo 3 > /proc/sys/vm/drop_caches && cat %s/data/* | md5sum", v->mnt);
        snprintf(buf, size, "%s", vm_out());
}

/* The data files on snapshot ID of a FSTYPE volume, mounted read-only; "" on failure. */
static void snapshot_sum(const char *id, const char *fstype, char *buf, size_t size)
{
        const char *opts = strcmp(fstype, "xfs") == 0 ? "ro,nouuid,norecovery" : "ro,noload";
        buf[0] = '\0';
        if (vm_sh("mount -o %s /dev/mapper/vss-snap-%s " SNAP_MNT " && "
                  "(cat " SNAP_MNT "/data/* | md5sum); s=$?; umount " SNAP_MNT "; exit $s",
                  opts, id) == 0)
                snprintf(buf, size, "%s", vm_out());
}

static bool snapshot_valid(const char *id)
{
        char state[64];
        vm_snapshot_prop(id, "State", state, sizeof(state));
        return strcmp(state, "s \"valid\"") == 0;
}

/* Wait for PID to end, up to TIMEOUT_MS, on a pidfd (no polling loop); its status. */
static bool wait_exit(pid_t pid, int timeout_ms, int *status)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (fd >= 0) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                poll(&p, 1, timeout_ms);
                close(fd);
        }
        return waitpid(pid, status, WNOHANG) == pid;
}

/* A write and fsync on each origin, in a child: a frozen file system would block it. */
static void check_writable(Row *row)
{
        const Volume *vols[] = { &a, &b };
        int status;
        pid_t child = fork();

        ck_assert_int_ge(child, 0);
        if (child == 0) {
                for (size_t i = 0; i < 2; i++) {
                        char path[256];
                        snprintf(path, sizeof(path), "%s/probe", vols[i]->mnt);
                        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                        if (fd < 0 || write(fd, "probe\n", 6) != 6 || fsync(fd) < 0)
                                _exit(1);
                        close(fd);
                }
                _exit(0);
        }
        if (!wait_exit(child, 2000, &status)) {
                row_fail(row, "a write + fsync on the origins did not return within 2 s: a "
                         "file system stayed frozen");
                /* Free the machine for the next rows. */
                vm_sh("for d in $(dmsetup ls | awk '{print $1}'); do dmsetup resume $d; done; "
                      "fsfreeze -u %s; fsfreeze -u %s", a.mnt, b.mnt);
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                row_fail(row, "a write + fsync on the origins failed");
        }
}

/* --- vssd ------------------------------------------------------------------------ */

static void vssd_restart(const char *fault)
{
        if (vm_bus.vssd_pid > 0)
                ck_assert_int_eq(testbus_stop_vssd(&vm_bus), 0);
        if (fault)
                setenv("VSS_FAULT", fault, 1);
        else
                unsetenv("VSS_FAULT");
        ck_assert_int_eq(truncate(vm_bus.vssd_log, 0), 0);
        if (!testbus_start_vssd(&vm_bus, NULL)) {
                char *log = testbus_read_file(vm_bus.vssd_log);
                size_t len = strlen(log);
                ck_abort_msg("vssd did not start (VSS_FAULT=%s); its log ends:\n%s",
                             fault ? fault : "", log + (len > 3000 ? len - 3000 : 0));
        }
}

static unsigned log_count(const char *log, const char *needle)
{
        unsigned n = 0;
        for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* What recovery did, from its log lines. */
static void summarize_recovery(Row *row)
{
        static const struct { const char *needle, *what; } acts[] = {
                { "recover: resumed ", "resumed" },
                { "recover: dropped the ", "dropped table" },
                { "recover: removed snapshot device", "removed snapshot" },
                { "recover: detached ", "detached+deleted store" },
                { "recover: deleted the store", "deleted store" },
                { "recover: restored the table", "restored origin" },
                { "recover: kept snapshot", "kept snapshot" },
        };
        char *log = testbus_read_file(vm_bus.vssd_log);
        size_t len = 0;

        len += (size_t)snprintf(row->outcome, sizeof(row->outcome), "recovered:");
        for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
                unsigned n = log_count(log, acts[i].needle);
                if (n && len < sizeof(row->outcome))
                        len += (size_t)snprintf(row->outcome + len, sizeof(row->outcome) - len,
                                                "%s %s %u", len > 10 ? "," : "", acts[i].what,
                                                n);
        }
        if (len <= 10)
                snprintf(row->outcome, sizeof(row->outcome), "nothing to recover");
        if (strstr(log, "action(s) taken") && !strstr(log, "action(s) taken on what an earlier "
                                                       "vssd left, 0 failed"))
                row_fail(row, "recovery reported failures; see %s", vm_bus.vssd_log);
        free(log);
}

/* --- one case ----------------------------------------------------------------------- */

typedef struct Kept {
        char id[40];
        const char *fstype;
        char sum[64];        /* its content when it was made */
} Kept;

static pid_t writers[3];

static void writers_start(void)
{
        static const char *const levels[] = { "front-end", "back-end", "system" };
        char path[256];

        for (size_t i = 0; i < 3; i++)
                writers[i] = testbus_spawn_writer(&vm_bus, path, sizeof(path),
                                                  "--name w-%s --instance w-%s-1 --level %s",
                                                  levels[i], levels[i], levels[i]);
}

static void writers_stop(void)
{
        for (size_t i = 0; i < 3; i++) {
                testbus_kill(writers[i]);
                writers[i] = 0;
        }
}

/* The snapshot of set IDS whose origin is V. */
static const char *id_of(char ids[][40], size_t n, const Volume *v)
{
        char origin[256];
        for (size_t i = 0; i < n; i++)
                if (strstr(vm_snapshot_prop(ids[i], "Origin", origin, sizeof(origin)), v->volume))
                        return ids[i];
        ck_abort_msg("no snapshot of %s in the set", v->volume);
        return NULL;
}

/* Make what the operation needs (with a normal vssd), and say how to run it in CMD. */
static void case_prepare(const Case *c, char *cmd, size_t size, Kept *kept, char sum[2][64])
{
        char ids[2][40];

        switch (c->op) {
        case OP_CREATE:
                snprintf(cmd, size, "vssctl create %s %s", b.volume, a.volume);
                break;
        case OP_DELETE: /* a persistent set: a delete's files must not outlive it */
                snprintf(cmd, size, "%s %s", a.volume, b.volume);
                vm_create(ids, 2, "--persistent", cmd);
                snprintf(kept[0].id, sizeof(kept[0].id), "%s", id_of(ids, 2, &a));
                kept[0].fstype = "ext4";
                memcpy(kept[0].sum, sum[0], 64);
                snprintf(cmd, size, "vssctl delete %s", id_of(ids, 2, &b));
                break;
        case OP_REVERT:
                vm_create(ids, 1, "--persistent", b.volume);
                snprintf(kept[0].id, sizeof(kept[0].id), "%s", ids[0]);
                kept[0].fstype = "xfs";
                memcpy(kept[0].sum, sum[1], 64);
                /* A change after the snapshot: a revert that went through would lose it. */
                vm_ok("head -c 65536 /dev/urandom > %s/data/later", b.mnt);
                origin_sum(&b, sum[1], 64);
                vm_ok("umount %s", b.mnt);
                snprintf(cmd, size, "vssctl revert %s", ids[0]);
                break;
        }
}

/* The operation's snapshots that stay, once recovery is done: for a committed set, its two. */
static void kept_of_create(Kept *kept, char sum[2][64])
{
        vm_ok("dmsetup ls | awk '{print $1}' | sed -n 's/^vss-snap-//p' | grep -v %s || true",
              before_id);
        char list[256];
        snprintf(list, sizeof(list), "%s", vm_out()); /* the next vm_sh frees vm_out() */
        const char *p = list;
        for (size_t i = 0; i < 2 && strlen(p) >= 36; i++, p += strcspn(p, "\n") + 1) {
                snprintf(kept[i].id, sizeof(kept[i].id), "%.36s", p);
                char origin[256];
                vm_snapshot_prop(kept[i].id, "Origin", origin, sizeof(origin));
                bool is_a = strstr(origin, a.volume) != NULL;
                kept[i].fstype = is_a ? "ext4" : "xfs";
                memcpy(kept[i].sum, sum[is_a ? 0 : 1], 64);
        }
}

static void check_machine(Row *row, const Case *c, Kept *kept, char sum[2][64])
{
        char now[64], names[2048], want[2048] = "";

        if (vm_sh("dmsetup info | grep -c SUSPENDED") != 1 || strcmp(vm_out(), "0") != 0)
                row_fail(row, "dm devices left suspended: %s", vm_out());
        check_writable(row);
        origin_sum(&a, now, sizeof(now));
        if (strcmp(now, sum[0]) != 0)
                row_fail(row, "the data of %s changed", a.volume);
        origin_sum(&b, now, sizeof(now));
        if (strcmp(now, sum[1]) != 0)
                row_fail(row, "the data of %s changed", b.volume);
        if (!snapshot_valid(before_id))
                row_fail(row, "the snapshot from before, %s, is not valid", before_id);
        snapshot_sum(before_id, "ext4", now, sizeof(now));
        if (strcmp(now, before_sum) != 0)
                row_fail(row, "the content of the snapshot from before changed");
        for (unsigned i = 0; i < c->kept; i++) {
                if (!kept[i].id[0] || !snapshot_valid(kept[i].id)) {
                        row_fail(row, "snapshot %u of the operation is missing or invalid", i);
                        continue;
                }
                snapshot_sum(kept[i].id, kept[i].fstype, now, sizeof(now));
                if (strcmp(now, kept[i].sum) != 0)
                        row_fail(row, "snapshot %s does not hold its origin's data", kept[i].id);
                size_t len = strlen(want);
                snprintf(want + len, sizeof(want) - len, "vss-snap-%s ", kept[i].id);
        }
        vm_sh("ls -A " JOURNAL_DIR);
        if (vm_out()[0])
                row_fail(row, "journals left: %s", vm_out());
        /* The devices: those of before plus the snapshots kept (and B-real under them). */
        vm_ok("dmsetup ls | awk '{print $1}' | grep -v -x -F -e \"$(echo %s | tr ' ' '\\n')\" "
              "| grep -v -x %s-real | sort | tr '\\n' ' ' || true", dm_before,
              b.volume + strlen("/dev/mapper/"));
        snprintf(names, sizeof(names), "%s", vm_out());
        vm_sh("echo %s | tr ' ' '\\n' | grep . | sort | tr '\\n' ' '", want);
        if (strcmp(names, vm_out()) != 0)
                row_fail(row, "dm devices beside those of before: '%s', expected '%s'", names,
                         vm_out());
}

/* Back to the state of before: the kept snapshots go (with a normal vssd). */
static void case_cleanup(Row *row, const Case *c, Kept *kept)
{
        char now[2048];

        for (unsigned i = 0; i < c->kept; i++)
                if (kept[i].id[0] && vm_sh("vssctl delete %s", kept[i].id) != 0)
                        row_fail(row, "cannot delete snapshot %s: %s", kept[i].id, vm_out());
        if (c->op == OP_REVERT)
                vm_ok("rm %s/data/later", b.mnt);
        dm_names(now, sizeof(now));
        if (strcmp(now, dm_before) != 0)
                row_fail(row, "dm devices: '%s', before: '%s'", now, dm_before);
        loop_list(now, sizeof(now));
        if (strcmp(now, loops_before) != 0)
                row_fail(row, "loop devices: '%s', before: '%s'", now, loops_before);
}

static void run_case(const Case *c, Row *row)
{
        char cmd[512], sum[2][64], point[64];
        Kept kept[2] = { { .id = "" }, { .id = "" } };
        int status;

        *row = (Row){ .ok = true };
        snprintf(point, sizeof(point), "%.*s", (int)strcspn(c->fault, "@"), c->fault);
        origin_sum(&a, sum[0], sizeof(sum[0]));
        origin_sum(&b, sum[1], sizeof(sum[1]));
        vssd_restart(c->fault);
        case_prepare(c, cmd, sizeof(cmd), kept, sum);
        if (c->op == OP_CREATE)
                writers_start();
        vm_sh("%s", cmd);
        bool died = wait_exit(vm_bus.vssd_pid, 5000, &status);
        writers_stop();
        if (!died) {
                row_fail(row, "vssd did not die at %s (%s)", c->fault, vm_out());
                testbus_kill_vssd(&vm_bus);
        } else {
                vm_bus.vssd_pid = 0;
                char line[128];
                snprintf(line, sizeof(line), "fault point %s reached: SIGKILL", point);
                if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL ||
                    !testbus_log_contains(&vm_bus, line))
                        row_fail(row, "vssd ended otherwise than by SIGKILL at %s", point);
        }
        vm_sh("ls " JOURNAL_DIR " | wc -l");
        if (row->ok && strcmp(vm_out(), "0") == 0)
                row_fail(row, "no journal at the crash");
        vssd_restart(NULL);
        summarize_recovery(row);
        if (c->op == OP_REVERT)
                vm_ok("mount %s %s", b.volume, b.mnt);
        if (c->op == OP_CREATE && c->kept)
                kept_of_create(kept, sum);
        check_machine(row, c, kept, sum);
        case_cleanup(row, c, kept);
}

/* --- the test ---------------------------------------------------------------------- */

static void setup(void)
{
        char path[PATH_MAX];

        /* vssd and its provider from the fault-injection build (make fault-build). */
        snprintf(path, sizeof(path), "%s/fault", testbus_path(false, ""));
        setenv("VSS_TEST_DAEMON_BUILD", path, 1);
        unsetenv("VSS_FAULT");
        ck_assert_msg(access(testbus_daemon_path("vssd"), X_OK) == 0,
                      "%s is not built: make fault-build", testbus_daemon_path("vssd"));
        vmtest_start("journal_dir = " JOURNAL_DIR "\n");
}

/* The table, to stdout and, in the VM, to the console: check-dm shows only failures' output. */
static void print_table(const Row *rows, size_t n)
{
        FILE *console = getenv("VSS_VM") ? fopen("/dev/console", "we") : NULL;
        FILE *outs[] = { stdout, console };

        for (size_t o = 0; o < 2; o++) {
                FILE *out = outs[o];
                if (!out)
                        continue;
                double total = 0;
                fprintf(out, "%-24s | %-4s | %5s | %s\n", "fault point", "", "s", "outcome");
                for (size_t i = 0; i < n; i++) {
                        fprintf(out, "%-24s | %-4s | %5.1f | %s%s%s\n", cases[i].fault,
                                rows[i].ok ? "ok" : "FAIL", rows[i].seconds, rows[i].outcome,
                                rows[i].ok ? "" : " -- ", rows[i].ok ? "" : rows[i].why);
                        total += rows[i].seconds;
                }
                fprintf(out, "%zu fault points in %.1f s\n", n, total);
                fflush(out);
        }
        if (console)
                fclose(console);
}

START_TEST(test_every_fault_point_recovers)
{
        Row rows[sizeof(cases) / sizeof(cases[0])];
        size_t n = sizeof(cases) / sizeof(cases[0]), failed = 0;
        char ids[1][40], sum[64];

        vm_volume(&a, "fa", 64, "ext4");
        vm_volume(&b, "fb", 320, "xfs");
        vm_ok("mkdir -p %s/data %s/data " SNAP_MNT " && head -c 1M /dev/urandom > %s/data/one && "
              "head -c 3M /dev/urandom > %s/data/two && head -c 2M /dev/urandom > %s/data/one && "
              "head -c 1M /dev/urandom > %s/data/two && sync",
              a.mnt, b.mnt, a.mnt, a.mnt, b.mnt, b.mnt);
        /* The snapshot that must come through every crash unchanged. */
        vm_create(ids, 1, "", a.volume);
        snprintf(before_id, sizeof(before_id), "%s", ids[0]);
        origin_sum(&a, sum, sizeof(sum));
        snapshot_sum(before_id, "ext4", before_sum, sizeof(before_sum));
        ck_assert_str_eq(before_sum, sum);
        dm_names(dm_before, sizeof(dm_before));
        loop_list(loops_before, sizeof(loops_before));
        for (size_t i = 0; i < n; i++) {
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                run_case(&cases[i], &rows[i]);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                rows[i].seconds = (double)(t1.tv_sec - t0.tv_sec) +
                                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
                failed += !rows[i].ok;
        }
        print_table(rows, n);
        ck_assert_msg(failed == 0, "%zu of %zu fault points left the machine wrong", failed, n);
}
END_TEST

int main(void)
{
        return vmtest_run("crash safety: fault points", setup,
                          (const TTest *const[]){ test_every_fault_point_recovers, NULL });
}
