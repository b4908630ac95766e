/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writers.c: what writers cost a snapshot set. Runs a private dbus-daemon
 * (tests/bus/bus.conf.in with the project's policy) and the real vssd with
 * the fake provider, then times DoSnapshotSet of one volume with 1, 16 and
 * 128 registered writers, and how long the writers stay frozen (first
 * Freeze callback .. last Thaw callback). Beside them, measured in the same
 * run against the same vssd, the floor: a bare D-Bus method round trip.
 *
 * The writers are libvss vss_writer objects, each on its own connection
 * with its own instance id, levels spread over front-end, back-end and
 * system; one thread polls all their fds and dispatches (128 processes
 * would measure the scheduler more than vssd). The requester is the main
 * thread, on libvss's requester API.
 *
 * Run by `make bench` (VSS_TOP: the source tree, VSS_BUILD: the build tree).
 * Exit 0 when every run succeeded; 1 with a message when the bus or vssd
 * cannot start or a set fails. VSS_KEEP_BENCH_DIR=1 keeps the temporary
 * directory (bus and vssd logs) for a look afterwards.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vss/requester.h>
#include <vss/writer.h>

#define VOLUME "/dev/fake/a"
#define BASELINE_CALLS 1000
#define BASELINE_WARMUP 50
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define MAX_WRITERS 128
#define MAX_RUNS 20

/* Writers per step, and timed runs per step (after one untimed warm-up run). */
static const struct step {
        size_t writers;
        int runs;
} steps[] = { { 1, 20 }, { 16, 20 }, { 128, 10 } };

/* --- small helpers --------------------------------------------------------------------- */

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms(int64_t ns)
{
        return (double)ns / 1e6;
}

static int fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Print "bench/writers: <sentence>" and return -1, for "return fail(...)". */
static int fail(const char *format, ...)
{
        va_list ap;
        fputs("bench/writers: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -1;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

/* Sort V, then its median and nearest-rank 90th percentile. */
static void summarize(int64_t *v, size_t n, int64_t *ret_median, int64_t *ret_p90)
{
        qsort(v, n, sizeof(*v), cmp_i64);
        *ret_median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        size_t rank = (n * 9 + 9) / 10; /* ceil(0.9 n), 1-based */
        *ret_p90 = v[rank ? rank - 1 : 0];
}

static const char *tree_path(bool src, const char *file, char *buf, size_t size)
{
        const char *root = getenv(src ? "VSS_TOP" : "VSS_BUILD");
        const char *sub = !root && !src ? "/build" : ""; /* as the bus tests: ./build */
        snprintf(buf, size, "%s%s/%s", root ? root : ".", sub, file);
        return buf;
}

static int write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        if (!f)
                return fail("cannot write %s: %s", path, strerror(errno));
        fputs(text, f);
        if (fclose(f) != 0)
                return fail("cannot write %s: %s", path, strerror(errno));
        return 0;
}

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t size = 0;
        if (!f)
                return NULL;
        if (getdelim(&text, &size, '\0', f) < 0) {
                free(text);
                text = NULL;
        }
        fclose(f);
        return text;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) < 0 ? -1 : 0;
}

/* --- the private bus and vssd ----------------------------------------------------------- */

struct bench {
        char dir[64];
        char address[512];
        char vssd_log[128];
        char bus_log[128];
        pid_t bus_pid;
        pid_t vssd_pid;
        bool vssd_spawned; /* its log is worth showing on failure */
        DBusConnection *conn; /* our own, for waiting and for the baseline */
};

/* A child that dies with us: a crashed bench leaves no bus or vssd behind. */
static pid_t spawn(const char *log, int keep_fd, char *const argv[])
{
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0)
                dup2(fd, STDERR_FILENO);
        if (keep_fd >= 0)
                dup2(keep_fd, 3); /* dup2 clears close-on-exec on 3 */
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

/* tests/bus/bus.conf.in with @DIR@ and @POLICY@ filled in, as the bus tests do. */
static int write_bus_conf(struct bench *b, const char *conf)
{
        char path[PATH_MAX], policy[PATH_MAX];
        char *tmpl = read_file(tree_path(true, "tests/bus/bus.conf.in", path, sizeof(path)));
        if (!tmpl)
                return fail("cannot read %s: %s (is VSS_TOP the source tree?)", path,
                            strerror(errno));
        tree_path(true, "systemd/org.linuxvss.Vss1.conf", policy, sizeof(policy));
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f) {
                free(tmpl);
                return fail("out of memory");
        }
        for (const char *p = tmpl; *p;) {
                if (strncmp(p, "@DIR@", 5) == 0) {
                        fputs(b->dir, f);
                        p += 5;
                } else if (strncmp(p, "@POLICY@", 8) == 0) {
                        fputs(policy, f);
                        p += 8;
                } else
                        fputc(*p++, f);
        }
        fclose(f);
        free(tmpl);
        int r = write_file(conf, out);
        free(out);
        return r;
}

static int bus_start(struct bench *b)
{
        char conf[128];
        int pipefd[2];

        snprintf(conf, sizeof(conf), "%s/bus.conf", b->dir);
        snprintf(b->bus_log, sizeof(b->bus_log), "%s/bus.log", b->dir);
        if (write_bus_conf(b, conf) < 0)
                return -1;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return fail("cannot make a pipe: %s", strerror(errno));
        char *argv[] = { "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog",
                         "--print-address=3", "--config-file", conf, NULL };
        b->bus_pid = spawn(b->bus_log, pipefd[1], argv);
        close(pipefd[1]);
        ssize_t len = b->bus_pid > 0 ? read(pipefd[0], b->address, sizeof(b->address) - 1) : -1;
        close(pipefd[0]);
        if (len <= 0)
                return fail("dbus-daemon did not start (is the dbus package installed?); "
                            "its log: %s", b->bus_log);
        b->address[len] = '\0';
        b->address[strcspn(b->address, "\n")] = '\0';

        DBusError err = DBUS_ERROR_INIT;
        b->conn = dbus_connection_open_private(b->address, &err);
        if (!b->conn || !dbus_bus_register(b->conn, &err)) {
                int r = fail("cannot join the private bus at %s: %s", b->address, err.message);
                dbus_error_free(&err);
                return r;
        }
        dbus_connection_set_exit_on_disconnect(b->conn, FALSE);
        return 0;
}

static bool vssd_alive(struct bench *b)
{
        int status;
        if (b->vssd_pid <= 0)
                return false;
        if (waitpid(b->vssd_pid, &status, WNOHANG) == 0)
                return true;
        b->vssd_pid = 0; /* reaped: it exited */
        return false;
}

/* Wait for vssd to own its name: NameOwnerChanged wakes us, NameHasOwner decides. */
static int vssd_wait_for_name(struct bench *b)
{
        static const char match[] = "type='signal',sender='org.freedesktop.DBus',"
                                    "member='NameOwnerChanged',arg0='" VSS_BUS_NAME "'";
        int64_t deadline = now_ns() + (int64_t)START_TIMEOUT_MS * 1000000;
        int r = -1;

        dbus_bus_add_match(b->conn, match, NULL);
        for (;;) {
                if (dbus_bus_name_has_owner(b->conn, VSS_BUS_NAME, NULL)) {
                        r = 0;
                        break;
                }
                if (!vssd_alive(b)) {
                        fail("vssd exited before taking %s; its log: %s", VSS_BUS_NAME,
                             b->vssd_log);
                        break;
                }
                int64_t left = deadline - now_ns();
                if (left <= 0) {
                        fail("vssd did not take %s within %d ms; its log: %s", VSS_BUS_NAME,
                             START_TIMEOUT_MS, b->vssd_log);
                        break;
                }
                /* Short slices: an exited vssd sends no signal of its own. */
                dbus_connection_read_write(b->conn, left > 100000000 ? 100 : (int)(left / 1000000));
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(b->conn)))
                        dbus_message_unref(m);
        }
        dbus_bus_remove_match(b->conn, match, NULL);
        return r;
}

static int vssd_start(struct bench *b)
{
        char conf[128], text[2048], vssd[PATH_MAX], providers[PATH_MAX];

        snprintf(conf, sizeof(conf), "%s/vssd.conf", b->dir);
        snprintf(b->vssd_log, sizeof(b->vssd_log), "%s/vssd.log", b->dir);
        /* Timeouts far above any run, but low enough that a stuck run fails soon. */
        snprintf(text, sizeof(text),
                 "[daemon]\nprovider_dir = %s\nruntime_dir = %s/run\nfreeze_timeout_ms = 20000\n"
                 "event_timeout_ms = 20000\n\n[provider.fake]\nlog = %s/fake.log\n"
                 "control = %s/fake.control\n",
                 tree_path(false, "tests/providers", providers, sizeof(providers)), b->dir,
                 b->dir, b->dir);
        if (write_file(conf, text) < 0)
                return -1;
        tree_path(false, "vssd", vssd, sizeof(vssd));
        char *argv[] = { vssd, "--bus", b->address,
                         "--config", conf, NULL };
        if (access(vssd, X_OK) < 0)
                return fail("cannot run %s: %s (is VSS_BUILD the build tree? run make)", vssd,
                            strerror(errno));
        b->vssd_pid = spawn(b->vssd_log, -1, argv);
        if (b->vssd_pid < 0)
                return fail("cannot fork vssd: %s", strerror(errno));
        b->vssd_spawned = true;
        return vssd_wait_for_name(b);
}

/* SIGTERM, then SIGKILL if PID has not exited within STOP_TIMEOUT_MS. */
static void stop_child(pid_t *pid, const char *name)
{
        int status;
        if (*pid <= 0)
                return;
        kill(*pid, SIGTERM);
        int64_t deadline = now_ns() + (int64_t)STOP_TIMEOUT_MS * 1000000;
        while (waitpid(*pid, &status, WNOHANG) == 0) {
                if (now_ns() > deadline) {
                        fail("%s did not stop on SIGTERM within %d ms; killing it", name,
                             STOP_TIMEOUT_MS);
                        kill(*pid, SIGKILL);
                        waitpid(*pid, &status, 0);
                        break;
                }
                struct timespec tick = { 0, 10000000 };
                nanosleep(&tick, NULL);
        }
        *pid = 0;
}

/* On failure, show the end of vssd's log: the directory holding it may go next. */
static void show_vssd_log(const struct bench *b)
{
        if (!b->vssd_spawned)
                return;
        char *text = read_file(b->vssd_log);
        if (!text || !*text) {
                fprintf(stderr, "bench/writers: vssd's log (%s) is empty\n", b->vssd_log);
                free(text);
                return;
        }
        size_t len = strlen(text);
        const char *tail = len > 4000 ? text + len - 4000 : text;
        fprintf(stderr, "bench/writers: the end of vssd's log (%s; VSS_KEEP_BENCH_DIR=1 keeps "
                "it):\n%s%s", b->vssd_log, tail, text[len - 1] == '\n' ? "" : "\n");
        free(text);
}

static void bench_stop(struct bench *b, bool failed)
{
        stop_child(&b->vssd_pid, "vssd");
        if (failed)
                show_vssd_log(b);
        if (b->conn) {
                dbus_connection_close(b->conn);
                dbus_connection_unref(b->conn);
                b->conn = NULL;
        }
        stop_child(&b->bus_pid, "dbus-daemon");
        if (!b->dir[0])
                return;
        const char *keep = getenv("VSS_KEEP_BENCH_DIR");
        if (keep && strcmp(keep, "1") == 0)
                fprintf(stderr, "bench/writers: kept %s\n", b->dir);
        else if (nftw(b->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                fprintf(stderr, "bench/writers: could not remove %s: %s\n", b->dir,
                        strerror(errno));
}

/* --- the floor: a bare method round trip to vssd ---------------------------------------- */

static DBusMessage *version_call_new(void)
{
        const char *iface = VSS_IFACE_COORDINATOR, *prop = "Version";
        DBusMessage *m = dbus_message_new_method_call(VSS_BUS_NAME, VSS_ROOT_PATH,
                                                      DBUS_INTERFACE_PROPERTIES, "Get");
        if (m && !dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                                           &prop, DBUS_TYPE_INVALID)) {
                dbus_message_unref(m);
                m = NULL;
        }
        return m;
}

/* Median of BASELINE_CALLS Properties.Get(Version) round trips, in *RET_NS. */
static int baseline_measure(struct bench *b, int64_t *ret_ns)
{
        static int64_t t[BASELINE_CALLS];
        DBusMessage *call = version_call_new();
        if (!call)
                return fail("out of memory");
        for (int i = -BASELINE_WARMUP; i < BASELINE_CALLS; i++) {
                DBusError err = DBUS_ERROR_INIT;
                int64_t t0 = now_ns();
                DBusMessage *reply =
                        dbus_connection_send_with_reply_and_block(b->conn, call, 5000, &err);
                int64_t t1 = now_ns();
                if (!reply) {
                        dbus_message_unref(call);
                        int r = fail("Properties.Get(Version) on vssd failed: %s: %s",
                                     err.name, err.message);
                        dbus_error_free(&err);
                        return r;
                }
                dbus_message_unref(reply);
                if (i >= 0)
                        t[i] = t1 - t0;
        }
        dbus_message_unref(call);
        int64_t p90;
        summarize(t, BASELINE_CALLS, ret_ns, &p90);
        return 0;
}

/* --- the writers, all in one thread ------------------------------------------------------- */

struct pool {
        vss_writer *w[MAX_WRITERS];
        size_t n;
        pthread_t thread;
        bool running;
        int stop_fd;

        pthread_mutex_t lock; /* the fields below: written by callbacks, read by main */
        int64_t first_freeze, last_thaw;
        unsigned n_freeze, n_thaw, n_abort;
        char error[512]; /* why the thread stopped early, "" when it did not */
};

static int on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        struct pool *p = userdata;
        int64_t t = now_ns(); /* first: the callback is where the application would act */

        pthread_mutex_lock(&p->lock);
        if (ev->type == VSS_WRITER_EVENT_FREEZE && p->n_freeze++ == 0)
                p->first_freeze = t;
        else if (ev->type == VSS_WRITER_EVENT_THAW) {
                p->n_thaw++;
                p->last_thaw = t;
        } else if (ev->type == VSS_WRITER_EVENT_ABORT)
                p->n_abort++;
        pthread_mutex_unlock(&p->lock);
        return VSS_WF_NONE;
}

static void pool_reset(struct pool *p)
{
        pthread_mutex_lock(&p->lock);
        p->first_freeze = p->last_thaw = 0;
        p->n_freeze = p->n_thaw = p->n_abort = 0;
        pthread_mutex_unlock(&p->lock);
}

static void *pool_run(void *data)
{
        struct pool *p = data;
        struct pollfd fds[MAX_WRITERS + 1];

        for (size_t i = 0; i < p->n; i++)
                fds[i] = (struct pollfd){ .fd = vss_writer_get_fd(p->w[i]), .events = POLLIN };
        fds[p->n] = (struct pollfd){ .fd = p->stop_fd, .events = POLLIN };
        for (;;) {
                if (poll(fds, p->n + 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        pthread_mutex_lock(&p->lock);
                        snprintf(p->error, sizeof(p->error), "poll: %s", strerror(errno));
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                if (fds[p->n].revents)
                        return NULL;
                for (size_t i = 0; i < p->n; i++) {
                        if (!fds[i].revents || vss_writer_dispatch(p->w[i]) >= 0)
                                continue;
                        pthread_mutex_lock(&p->lock);
                        snprintf(p->error, sizeof(p->error), "%s",
                                 vss_writer_get_error_message(p->w[i]));
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
        }
}

static int pool_resume(struct pool *p)
{
        uint64_t v;
        ssize_t n = read(p->stop_fd, &v, sizeof(v)); /* clear an earlier stop */
        (void)n;
        int r = pthread_create(&p->thread, NULL, pool_run, p);
        if (r != 0)
                return fail("cannot start the writer thread: %s", strerror(r));
        p->running = true;
        return 0;
}

/* Stop the thread: writers may then be added from the main thread. */
static void pool_pause(struct pool *p)
{
        uint64_t one = 1;
        if (!p->running)
                return;
        ssize_t n = write(p->stop_fd, &one, sizeof(one));
        (void)n;
        pthread_join(p->thread, NULL);
        p->running = false;
}

/* Register writers until there are N; levels take turns. */
static int pool_grow(struct pool *p, const char *address, size_t n)
{
        static const enum vss_writer_level levels[] = { VSS_LEVEL_FRONT_END,
                                                        VSS_LEVEL_BACK_END, VSS_LEVEL_SYSTEM };
        for (; p->n < n; p->n++) {
                char instance[64];
                struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
                snprintf(instance, sizeof(instance), "bench-writer-%03zu", p->n);
                cfg.name = "bench-writer";
                cfg.instance_id = instance;
                cfg.level = levels[p->n % 3];
                int r = vss_writer_new(&p->w[p->n], address, &cfg, on_event, p);
                if (r < 0)
                        return fail("cannot create writer %s: %s", instance, vss_strerror(r));
                r = vss_writer_register(p->w[p->n]);
                if (r < 0) {
                        fail("%s", vss_writer_get_error_message(p->w[p->n]));
                        p->w[p->n] = vss_writer_unref(p->w[p->n]);
                        return -1;
                }
        }
        return 0;
}

static void pool_free(struct pool *p)
{
        pool_pause(p);
        for (size_t i = 0; i < p->n; i++)
                vss_writer_unref(p->w[i]);
        p->n = 0;
        if (p->stop_fd >= 0)
                close(p->stop_fd);
        p->stop_fd = -1;
}

/* --- one snapshot set, as a backup program makes it --------------------------------------- */

static int requester_fail(vss_client *c, const char *what)
{
        return fail("%s failed: %s", what, vss_client_get_error_message(c));
}

/* A writer failure that is not fatal to the set still spoils the measurement. */
static int check_warnings(char *warnings, const char *what)
{
        int r = warnings && *warnings ? fail("a writer failed during %s: %s", what, warnings) : 0;
        free(warnings);
        return r;
}

/* Up to the point DoSnapshotSet would be called. */
static int set_start(vss_client *c, vss_backup **ret)
{
        vss_backup *b;
        char *warnings = NULL;
        int r;

        if (vss_client_start_backup(c, NULL, NULL, &b) < 0)
                return requester_fail(c, "StartBackup");
        if (vss_backup_start_snapshot_set(b, NULL) < 0)
                r = requester_fail(c, "StartSnapshotSet");
        else if (vss_backup_add_to_snapshot_set(b, VOLUME, NULL, NULL) < 0)
                r = requester_fail(c, "AddToSnapshotSet " VOLUME);
        else if (vss_backup_prepare_for_backup(b, &warnings) < 0)
                r = requester_fail(c, "PrepareForBackup");
        else
                r = check_warnings(warnings, "PrepareForBackup");
        if (r < 0) {
                vss_backup_release(b);
                vss_backup_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

/* The frozen span, checked: every writer froze and thawed once, none aborted. */
static int pool_frozen_span(struct pool *p, int64_t *ret_ns)
{
        pthread_mutex_lock(&p->lock);
        unsigned nf = p->n_freeze, nt = p->n_thaw, na = p->n_abort;
        int64_t span = p->last_thaw - p->first_freeze;
        char error[sizeof(p->error)];
        memcpy(error, p->error, sizeof(error));
        pthread_mutex_unlock(&p->lock);
        if (error[0])
                return fail("the writer thread stopped: %s", error);
        if (nf != p->n || nt != p->n || na)
                return fail("with %zu writers, %u Freeze, %u Thaw and %u Abort callbacks ran; "
                            "expected %zu, %zu and 0", p->n, nf, nt, na, p->n, p->n);
        *ret_ns = span;
        return 0;
}

/* One set: *RET_DO_NS is DoSnapshotSet as the requester sees it, *RET_FROZEN_NS the span. */
static int set_run(vss_client *c, struct pool *p, int64_t *ret_do_ns, int64_t *ret_frozen_ns)
{
        vss_backup *b = NULL;
        char *warnings = NULL;
        if (set_start(c, &b) < 0)
                return -1;
        pool_reset(p);
        int64_t t0 = now_ns();
        int r = vss_backup_do_snapshot_set(b, &warnings);
        int64_t t1 = now_ns();
        r = r < 0 ? requester_fail(c, "DoSnapshotSet") : check_warnings(warnings, "DoSnapshotSet");
        if (r >= 0)
                r = pool_frozen_span(p, ret_frozen_ns);
        warnings = NULL;
        if (r >= 0 && vss_backup_backup_complete(b, &warnings) < 0)
                r = requester_fail(c, "BackupComplete");
        else if (r >= 0)
                r = check_warnings(warnings, "BackupComplete");
        /* Release deletes the snapshots (context "backup"): sets do not pile up. */
        if (vss_backup_release(b) < 0 && r >= 0)
                r = requester_fail(c, "Release");
        vss_backup_unref(b);
        *ret_do_ns = t1 - t0;
        return r;
}

/* --- the report -------------------------------------------------------------------------- */

struct result {
        size_t writers;
        int runs;
        int64_t baseline; /* measured just before the runs */
        int64_t do_median, do_p90, frozen_median, frozen_p90;
};

/* One row: the floor, then the runs; a load that drifts during the bench moves both. */
static int step_run(struct bench *b, vss_client *c, struct pool *p, const struct step *s,
                    struct result *ret)
{
        int64_t do_ns[MAX_RUNS], frozen_ns[MAX_RUNS], baseline = 0;
        if (baseline_measure(b, &baseline) < 0)
                return -1;
        for (int i = -1; i < s->runs; i++) { /* run -1: the warm-up */
                int64_t d = 0, f = 0;
                if (set_run(c, p, &d, &f) < 0) {
                        pthread_mutex_lock(&p->lock);
                        if (p->error[0])
                                fail("the writer thread had stopped: %s", p->error);
                        pthread_mutex_unlock(&p->lock);
                        if (i < 0)
                                return fail("the warm-up run with %zu writers failed",
                                            s->writers);
                        return fail("run %d of %d with %zu writers failed", i + 1, s->runs,
                                    s->writers);
                }
                if (i >= 0) {
                        do_ns[i] = d;
                        frozen_ns[i] = f;
                }
        }
        *ret = (struct result){ .writers = s->writers, .runs = s->runs, .baseline = baseline };
        summarize(do_ns, (size_t)s->runs, &ret->do_median, &ret->do_p90);
        summarize(frozen_ns, (size_t)s->runs, &ret->frozen_median, &ret->frozen_p90);
        return 0;
}

static void report(const struct result *res, size_t n)
{
        printf("linux-vss bench/writers   (private bus, fake provider, one volume; "
               "median and p90 of the runs)\n");
        printf("baseline: a bare D-Bus round trip to vssd (Properties.Get Version), median of "
               "%d, measured just before each row\n\n", BASELINE_CALLS);
        printf("writers  runs  baseline    DoSnapshotSet (ms)   frozen (ms): first Freeze.."
               "last Thaw   DoSnapshotSet\n");
        printf("                 (ms)       median       p90         median       p90"
               "               x baseline\n");
        for (size_t i = 0; i < n; i++)
                printf("%7zu  %4d  %7.3f   %8.3f  %8.3f       %8.3f  %8.3f             %9.0fx\n",
                       res[i].writers, res[i].runs, ms(res[i].baseline), ms(res[i].do_median),
                       ms(res[i].do_p90), ms(res[i].frozen_median), ms(res[i].frozen_p90),
                       (double)res[i].do_median / (double)res[i].baseline);
        printf("\n");
        if (n >= 2 && res[n - 1].writers > res[0].writers) {
                const struct result *a = &res[0], *z = &res[n - 1];
                double per = (double)(z->do_median - a->do_median) /
                             (double)(z->writers - a->writers);
                double round_trip = (double)(a->baseline + z->baseline) / 2;
                printf("each writer beyond the first adds %.3f ms to DoSnapshotSet (%.1f bare "
                       "round trips)\n", per / 1e6, per / round_trip);
        }
        printf("x baseline: DoSnapshotSet's median in bare round trips (2 bus messages each). "
               "Each writer adds 4 events\n(PrepareSnapshot, Freeze, Thaw, PostSnapshot) of 4 "
               "bus messages (signal, Answer, its reply, PropertiesChanged\nof the writer's "
               "State): about 8 round trips' worth. Near 8 per writer is the protocol's cost; "
               "far above, overhead.\n");
}

/* --- main ------------------------------------------------------------------------------- */

static int bench_run(struct bench *b)
{
        struct pool p = { .stop_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
        struct result res[sizeof(steps) / sizeof(steps[0])];
        vss_client *c = NULL;
        size_t done = 0;
        int r;

        if (bus_start(b) < 0 || vssd_start(b) < 0)
                return -1;
        r = vss_client_new(&c, b->address);
        if (r < 0)
                return fail("cannot create a vssd client: %s", vss_strerror(r));
        p.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p.stop_fd < 0) {
                vss_client_unref(c);
                return fail("cannot make an eventfd: %s", strerror(errno));
        }
        for (; done < sizeof(steps) / sizeof(steps[0]); done++) {
                pool_pause(&p);
                r = pool_grow(&p, b->address, steps[done].writers);
                if (r >= 0)
                        r = pool_resume(&p);
                if (r >= 0)
                        r = step_run(b, c, &p, &steps[done], &res[done]);
                if (r < 0)
                        break;
        }
        pool_free(&p);
        vss_client_unref(c);
        if (r < 0)
                return -1;
        report(res, done);
        return 0;
}

int main(void)
{
        struct bench b = { .bus_pid = 0 };

        signal(SIGPIPE, SIG_IGN);
        snprintf(b.dir, sizeof(b.dir), "/tmp/vss-bench-writers.XXXXXX");
        if (!mkdtemp(b.dir)) {
                fail("cannot make a temporary directory: %s", strerror(errno));
                return 1;
        }
        int r = bench_run(&b);
        fflush(stdout);
        bench_stop(&b, r < 0);
        return r < 0 ? 1 : 0;
}
