/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_soak.c: the soak test, inside the test VM (tests/vm/check-dm). Many
 * create/expose/verify/delete cycles of a snapshot set over two origins, an
 * ext4 and an xfs volume, each written to all the time by an application
 * that is also a VSS writer; then nothing may be left behind: no dm or loop
 * device, no mount, no diff-area file, no set, no fd of vssd, and neither
 * vssd's memory nor the writers' (libvss) may grow.
 *
 * The writers make "the snapshot holds the volume as it was at Freeze" exact:
 * each appends fixed-size records to a log on its volume and keeps a running
 * FNV-1a hash of the whole log; at Freeze it stops, fsyncs, and tells this
 * program the log's length and hash for that set before answering; at Thaw
 * it goes on. Every snapshot's log must have exactly that length and hash.
 *
 * The requester side uses libvss in this process (no vssctl per step:
 * spawning a program in the emulated guest costs a tenth of a second).
 * VSS_SOAK_CYCLES changes the number of cycles: 100 by default, about a
 * minute of VM time in make check; `make soak` runs it alone, longer
 * (SOAK_CYCLES, default 1000).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vss/requester.h>
#include <vss/writer.h>

#include "tests/vm/vmtest.h"

#define DEFAULT_CYCLES 100
#define N_ORIGINS 2                     /* an ext4 and an xfs volume */
#define BASELINE_CYCLE 10               /* RSS and fds are compared with after this cycle */
#define RSS_GROWTH_PERCENT 10
#define PROGRESS_EVERY 50
#define RECORD_SIZE 64
#define LOG_WRAP_BYTES (256 * 1024)     /* the log starts again past this: bounded reads */
#define RECORDS_PER_BURST 32            /* then the writer sleeps for BURST_MS */
#define BURST_MS 10

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * FNV_PRIME;
        return h;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the writer: an application appending to its log, and its VSS writer ------------- */

typedef struct AppWriter {
        const char *name;
        int log_fd;
        int report_fd;          /* "SETID LENGTH HASH RECORDS\n" per Freeze, to the test */
        uint64_t length, hash;  /* of the whole log as written */
        unsigned long records;  /* ever written: shows the writer kept going */
        bool frozen;
} AppWriter;

static void app_append(AppWriter *a)
{
        char rec[RECORD_SIZE];

        if (a->length >= LOG_WRAP_BYTES) {
                if (ftruncate(a->log_fd, 0) < 0)
                        _exit(10);
                a->length = 0;
                a->hash = FNV_OFFSET;
        }
        int n = snprintf(rec, sizeof(rec), "%s %012lu ", a->name, a->records);
        for (int i = n; i < RECORD_SIZE - 1; i++)
                rec[i] = (char)('a' + (a->records * 7 + (unsigned long)i) % 26);
        rec[RECORD_SIZE - 1] = '\n';
        /* One write(2) per record, O_APPEND: a freeze never sees half of one. */
        if (write(a->log_fd, rec, RECORD_SIZE) != RECORD_SIZE)
                _exit(11);
        a->length += RECORD_SIZE;
        a->hash = fnv1a(a->hash, rec, RECORD_SIZE);
        a->records++;
}

static int app_on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        AppWriter *a = userdata;
        char line[160];

        switch (ev->type) {
        case VSS_WRITER_EVENT_FREEZE:
                a->frozen = true;
                if (fsync(a->log_fd) < 0)
                        return -errno;
                int n = snprintf(line, sizeof(line), "%s %llu %016llx %lu\n",
                                 ev->snapshot_set_id, (unsigned long long)a->length,
                                 (unsigned long long)a->hash, a->records);
                if (write(a->report_fd, line, (size_t)n) != n)
                        return -EIO;
                break;
        case VSS_WRITER_EVENT_THAW:
        case VSS_WRITER_EVENT_ABORT:
                a->frozen = false;
                break;
        default:
                break;
        }
        return VSS_WF_NONE;
}

/* The writer process's life; it says "ready" or why not on REPORT_FD first. */
static __attribute__((noreturn)) void app_run(const char *name, const char *log, int report_fd)
{
        AppWriter a = { .name = name, .report_fd = report_fd, .hash = FNV_OFFSET };
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        char instance[64];
        vss_writer *w = NULL;

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test's process ends at once */
        snprintf(instance, sizeof(instance), "soak-%s", name);
        cfg.name = "soak-log";
        cfg.instance_id = instance;
        a.log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (a.log_fd < 0 || vss_writer_new(&w, NULL, &cfg, app_on_event, &a) < 0 ||
            vss_writer_register(w) < 0) {
                dprintf(report_fd, "error %s: %s\n", log,
                        w ? vss_writer_get_error_message(w) : strerror(errno));
                _exit(1);
        }
        dprintf(report_fd, "ready\n");
        for (;;) {
                struct pollfd p = { .fd = vss_writer_get_fd(w), .events = POLLIN };
                if (poll(&p, 1, a.frozen ? -1 : BURST_MS) > 0 && vss_writer_dispatch(w) < 0)
                        _exit(2);
                for (int i = 0; i < RECORDS_PER_BURST && !a.frozen; i++)
                        app_append(&a);
        }
}

/* --- the test's side --------------------------------------------------------------- */

typedef struct Origin {
        Volume v;
        pid_t writer;
        FILE *reports;
        unsigned long last_records;
} Origin;

static void setup(void)
{
        vmtest_start(NULL);
}

static void origin_start(Origin *o, const char *name, unsigned size_mb, const char *fstype)
{
        int p[2];
        char log[160], line[512];

        vm_volume(&o->v, name, size_mb, fstype);
        snprintf(log, sizeof(log), "%s/log", o->v.mnt);
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        o->writer = fork();
        ck_assert_int_ge(o->writer, 0);
        if (o->writer == 0) {
                close(p[0]);
                app_run(name, log, p[1]);
        }
        close(p[1]);
        o->reports = fdopen(p[0], "r");
        ck_assert_ptr_nonnull(o->reports);
        ck_assert_msg(fgets(line, sizeof(line), o->reports), "writer %s died at start", name);
        ck_assert_msg(strcmp(line, "ready\n") == 0, "writer %s: %s", name, line);
}

static void origin_stop(Origin *o)
{
        int status;

        ck_assert_msg(waitpid(o->writer, &status, WNOHANG) == 0,
                      "writer on %s ended during the soak (status %d)", o->v.volume, status);
        kill(o->writer, SIGKILL);
        waitpid(o->writer, NULL, 0);
        fclose(o->reports);
}

/* What O's writer reported at the Freeze of SET: its log's length and hash. */
static void origin_frozen(Origin *o, const char *set, uint64_t *ret_length, char *hash)
{
        char line[512], id[64];
        unsigned long long length;
        unsigned long records;

        /* Reported before it answered Freeze, so it is in the pipe once the set exists. */
        struct pollfd p = { .fd = fileno(o->reports), .events = POLLIN };
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no Freeze report from the writer of %s",
                      o->v.volume);
        ck_assert_msg(fgets(line, sizeof(line), o->reports), "writer of %s died", o->v.volume);
        ck_assert_msg(sscanf(line, "%63s %llu %16s %lu", id, &length, hash, &records) == 4,
                      "writer of %s reported '%s'", o->v.volume, line);
        ck_assert_msg(strcmp(id, set) == 0, "writer of %s was frozen for set %s, not %s",
                      o->v.volume, id, set);
        ck_assert_msg(records > o->last_records,
                      "writer of %s wrote nothing between two sets (%lu records)",
                      o->v.volume, records);
        o->last_records = records;
        *ret_length = length;
}

/* The log in the snapshot mounted at DIR has the length and hash of the Freeze. */
static void verify_log(const vss_snapshot_info *s, const char *dir, Origin *o, const char *set)
{
        char path[PATH_MAX], want_hash[20], got_hash[20];
        unsigned char buf[65536];
        uint64_t want_length, length = 0, h = FNV_OFFSET;
        ssize_t n;

        origin_frozen(o, set, &want_length, want_hash);
        snprintf(path, sizeof(path), "%s/log", dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0, "snapshot %s of %s: cannot open %s: %s", s->id, s->origin, path,
                      strerror(errno));
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                h = fnv1a(h, buf, (size_t)n);
                length += (uint64_t)n;
        }
        ck_assert_msg(n == 0, "snapshot %s: reading %s: %s", s->id, path, strerror(errno));
        close(fd);
        snprintf(got_hash, sizeof(got_hash), "%016llx", (unsigned long long)h);
        ck_assert_msg(length == want_length && strcmp(got_hash, want_hash) == 0,
                      "snapshot %s of %s (set %s): its log has %llu bytes, hash %s; at Freeze "
                      "the writer had %llu bytes, hash %s", s->id, s->origin, set,
                      (unsigned long long)length, got_hash, (unsigned long long)want_length,
                      want_hash);
}

static void client_ok(vss_client *c, int r, const char *what)
{
        ck_assert_msg(r >= 0, "%s: %s", what, vss_client_get_error_message(c));
}

/* Seconds spent in each step, summed over the cycles. */
typedef struct Timing {
        double create, verify, delete, release;
} Timing;

/* Expose SNAPSHOT, check its log against its writer's Freeze report, unexpose it. */
static void expose_and_verify(vss_client *c, const vss_snapshot_info *s, Origin *o,
                              const char *set)
{
        Origin *origin = strcmp(s->origin, o[0].v.volume) == 0 ? &o[0] : &o[1];
        char *dir = NULL;

        ck_assert_msg(strcmp(s->origin, origin->v.volume) == 0,
                      "snapshot %s of set %s has origin %s, not one of the set's volumes", s->id,
                      set, s->origin);
        client_ok(c, vss_client_expose_snapshot(c, s->id, NULL, &dir), "expose");
        verify_log(s, dir, origin, set);
        client_ok(c, vss_client_unexpose_snapshot(c, s->id), "unexpose");
        free(dir);
}

/* One cycle: a set of both origins, both exposed and verified, unexposed, deleted. */
static void soak_cycle(vss_client *c, Origin *o, Timing *t)
{
        const char *volumes[N_ORIGINS] = { o[0].v.volume, o[1].v.volume };
        char *set = NULL, *warnings = NULL;
        vss_snapshot_info **snaps = NULL;
        size_t n = 0;
        unsigned deleted = 0;

        double t0 = now_s();
        client_ok(c, vss_client_create_snapshot_set(c, volumes, N_ORIGINS, NULL, &set,
                                                    &warnings), "create");
        ck_assert_msg(strcmp(warnings, "") == 0, "set %s: writer warnings: %s", set, warnings);
        client_ok(c, vss_client_list_snapshots(c, set, &snaps, &n), "list");
        ck_assert_uint_eq(n, N_ORIGINS);
        double t1 = now_s();
        for (size_t i = 0; i < n; i++)
                expose_and_verify(c, snaps[i], o, set);
        double t2 = now_s();
        client_ok(c, vss_client_delete_snapshots(c, VSS_DELETE_SET, set, &deleted), "delete");
        ck_assert_uint_eq(deleted, N_ORIGINS);
        double t3 = now_s();
        /* The session CreateSnapshotSet made lives as long as the connection: end it. */
        client_ok(c, vss_client_release_snapshot_set(c, set), "release");
        t->create += t1 - t0;
        t->verify += t2 - t1;
        t->delete += t3 - t2;
        t->release += now_s() - t3;
        vss_snapshot_info_list_free(snaps);
        free(set);
        free(warnings);
}

/* --- what vssd, the writers and the kernel hold ----------------------------------- */

typedef struct Usage {
        long rss_kb;                    /* vssd's */
        int fds;                        /* vssd's */
        long writer_rss_kb[N_ORIGINS];
        int dm_devices, loop_devices;   /* -1: not counted */
} Usage;

static long rss_kb(pid_t pid, const char *who)
{
        char path[64], line[256];
        long kb = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        ck_assert_msg(f, "%s (pid %d) is gone", who, (int)pid);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        ck_assert_msg(kb > 0, "no VmRSS in %s", path);
        return kb;
}

static int vssd_fds(void)
{
        char path[64];
        int n = 0;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int)vm_bus.vssd_pid);
        DIR *d = opendir(path);
        ck_assert_msg(d, "vssd (pid %d) is gone", (int)vm_bus.vssd_pid);
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

static int count_lines(const char *command)
{
        vm_ok("%s | wc -l", command);
        return atoi(vm_out());
}

/* DEVICES: count dm and loop devices too (two shell commands: not every cycle). */
static Usage usage_now(const Origin *o, bool devices)
{
        Usage u = { .rss_kb = rss_kb(vm_bus.vssd_pid, "vssd"), .fds = vssd_fds(),
                    .dm_devices = -1, .loop_devices = -1 };

        for (int i = 0; i < N_ORIGINS; i++)
                u.writer_rss_kb[i] = rss_kb(o[i].writer, "a writer");
        if (devices) {
                u.dm_devices = count_lines("dmsetup ls | grep -v '^No devices'");
                u.loop_devices = count_lines("losetup -n -l");
        }
        return u;
}

static bool grew(long from, long to)
{
        return to * 100 > from * (100 + RSS_GROWTH_PERCENT);
}

static unsigned soak_cycles(void)
{
        const char *s = getenv("VSS_SOAK_CYCLES");
        unsigned n = s ? (unsigned)strtoul(s, NULL, 10) : DEFAULT_CYCLES;
        return n > BASELINE_CYCLE ? n : BASELINE_CYCLE + 1;
}

/* --- the soak ------------------------------------------------------------------------ */

static void print_figures(unsigned cycles, double elapsed, const Timing *t, const Usage *before,
                          const Usage *base, const Usage *end)
{
        printf("soak: %u cycles of a set of %d (ext4 + xfs) in %.1f s: %.3f s per cycle "
               "(create %.3f, expose+verify %.3f, delete %.3f, release %.3f)\n", cycles,
               N_ORIGINS, elapsed, elapsed / cycles, t->create / cycles, t->verify / cycles,
               t->delete / cycles, t->release / cycles);
        printf("soak: vssd RSS %ld kB after cycle %d, %ld kB at the end (%+.1f%%); "
               "writers' RSS %ld and %ld kB, then %ld and %ld kB\n", base->rss_kb,
               BASELINE_CYCLE, end->rss_kb, 100.0 * (end->rss_kb - base->rss_kb) / base->rss_kb,
               base->writer_rss_kb[0], base->writer_rss_kb[1], end->writer_rss_kb[0],
               end->writer_rss_kb[1]);
        printf("soak: vssd fds %d before, %d after cycle %d, %d at the end; dm devices %d "
               "before, %d after; loop devices %d before, %d after\n", before->fds, base->fds,
               BASELINE_CYCLE, end->fds, before->dm_devices, end->dm_devices,
               before->loop_devices, end->loop_devices);
        fflush(stdout);
}

static void assert_nothing_left(vss_client *c, const Usage *before, const Usage *base,
                                const Usage *end)
{
        ck_assert_msg(!grew(base->rss_kb, end->rss_kb),
                      "vssd's RSS grew from %ld kB after cycle %d to %ld kB", base->rss_kb,
                      BASELINE_CYCLE, end->rss_kb);
        for (int i = 0; i < N_ORIGINS; i++)
                ck_assert_msg(!grew(base->writer_rss_kb[i], end->writer_rss_kb[i]),
                              "writer %d's RSS (libvss) grew from %ld kB after cycle %d to %ld "
                              "kB", i, base->writer_rss_kb[i], BASELINE_CYCLE,
                              end->writer_rss_kb[i]);
        ck_assert_msg(end->fds <= base->fds, "vssd had %d fds after cycle %d, %d at the end",
                      base->fds, BASELINE_CYCLE, end->fds);
        ck_assert_msg(end->dm_devices == before->dm_devices,
                      "dm devices: %d before, %d after:\n%s", before->dm_devices,
                      end->dm_devices, (vm_sh("dmsetup ls"), vm_out()));
        ck_assert_msg(end->loop_devices == before->loop_devices,
                      "loop devices: %d before, %d after:\n%s", before->loop_devices,
                      end->loop_devices, (vm_sh("losetup -l"), vm_out()));
        vm_ok("findmnt -rn -o SOURCE,TARGET | grep -e vss-snap- -e /run/vss/expose/ || true");
        ck_assert_msg(strcmp(vm_out(), "") == 0, "snapshots still mounted:\n%s", vm_out());
        /* ls prints "DIR:" headers and blank lines between directories: not entries. */
        vm_ok("ls -A /run/vss/expose " TEST_ROOT "/state/diff 2>/dev/null | "
              "grep -v -e '^/' -e '^$' || true");
        ck_assert_msg(strcmp(vm_out(), "") == 0, "mount points or diff-area files left:\n%s",
                      vm_out());

        vss_snapshot_set_info **sets = NULL;
        size_t n_sets = 0;
        client_ok(c, vss_client_list_snapshot_sets(c, &sets, &n_sets), "list sets");
        ck_assert_msg(n_sets == 0, "%zu snapshot sets left, the first %s (%s)", n_sets,
                      sets[0]->id, sets[0]->state);
        vss_snapshot_set_info_list_free(sets);
}

START_TEST(test_soak_leaves_nothing_behind)
{
        Origin o[N_ORIGINS] = { 0 };
        vss_client *c = NULL;
        Timing t = { 0 };
        unsigned cycles = soak_cycles();

        origin_start(&o[0], "e", 64, "ext4");
        origin_start(&o[1], "x", 320, "xfs"); /* xfs needs 300 MB; the image is sparse */
        ck_assert_int_eq(vss_client_new(&c, NULL), 0);
        Usage before = usage_now(o, true), base = { 0 };

        double start = now_s(), mark = start;
        for (unsigned i = 1; i <= cycles; i++) {
                soak_cycle(c, o, &t);
                if (i == 1)
                        printf("soak: first cycle %.3f s (create %.3f, expose+verify %.3f, "
                               "delete %.3f, release %.3f)\n", now_s() - start, t.create,
                               t.verify, t.delete, t.release);
                if (i == BASELINE_CYCLE)
                        base = usage_now(o, false);
                /* A trend, to tell a slowdown or a slow leak from noise. */
                if (i % PROGRESS_EVERY == 0 || i == cycles) {
                        unsigned from = (i - 1) / PROGRESS_EVERY * PROGRESS_EVERY + 1;
                        printf("soak: cycles %u-%u: %.3f s per cycle, vssd RSS %ld kB, %d fds\n",
                               from, i, (now_s() - mark) / (i - from + 1),
                               rss_kb(vm_bus.vssd_pid, "vssd"), vssd_fds());
                        fflush(stdout);
                        mark = now_s();
                }
        }
        double elapsed = now_s() - start;
        Usage end = usage_now(o, true);

        print_figures(cycles, elapsed, &t, &before, &base, &end);
        assert_nothing_left(c, &before, &base, &end);
        vss_client_unref(c);
        for (int i = 0; i < N_ORIGINS; i++)
                origin_stop(&o[i]);
}
END_TEST

int main(void)
{
        Suite *suite = suite_create("soak");
        TCase *tc = tcase_create("vm");

        /* A failed test's process ends at once: setup cleans up after it (vmtest_start). */
        tcase_add_checked_fixture(tc, setup, vmtest_teardown);
        /*
         * 300 cycles take under 4 minutes in the emulated guest on a quiet host,
         * twice that beside other VMs; a hung cycle still ends the test.
         */
        tcase_set_timeout(tc, 900);
        tcase_add_test(tc, test_soak_leaves_nothing_behind);
        suite_add_tcase(suite, tc);
        SRunner *sr = srunner_create(suite);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
