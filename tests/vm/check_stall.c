/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_stall.c: the hold-window bound holds even when vssd is stuck, inside
 * the test VM.
 *
 * vssd comes from the fault-injection build (build/fault, common/fault.h)
 * with hold_timeout_ms = 2000. Two ext4 origins each have a process writing
 * to them every 10 ms; a write blocks while its file system is frozen by the
 * hold, and the longest write of each process is how long its application
 * was stopped. Cases:
 *   - the hold is stuck (after-suspend-all:stall, the provider thread sleeps
 *     with every origin suspended): the guard thread resumes them at the
 *     bound; the set fails with HoldTimeout naming dm-snapshot's hold;
 *   - the hold and the main loop are stuck: the same, and vssd's main thread
 *     is stopped (ptrace, that thread alone) from the moment the hold stalls
 *     until both writers are running again; the set fails with HoldTimeout
 *     once the thread goes on;
 *   - the main loop alone is stuck (window-open:stall, right after it handed
 *     the window to the provider thread): the window ends on its own, the
 *     writers are held only for it, and the late loop does not turn the set
 *     into a timeout: it is made.
 * In each case: no writer is stopped longer than the bound + 1 s, no device
 * stays suspended, nothing of the failed set is left, and vssd answers
 * afterwards (the stalls are served to their end, not cut by killing vssd).
 * The measured times go to stdout and, in the VM, to the console (check-dm
 * shows a passing program's output only there).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

#define BOUND_MS 2000u
#define MARGIN_MS 1000u
#define STALL_MS 6000u   /* three times the bound: the release cannot be the stall's end */
#define BLOCKED_US 200000u /* a write this long was blocked by the freeze */

static Volume a, b;

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A figure, to stdout and the VM's console. */
static void report(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void report(const char *format, ...)
{
        FILE *console = getenv("VSS_VM") ? fopen("/dev/console", "we") : NULL;
        FILE *outs[] = { stdout, console };
        for (size_t i = 0; i < 2; i++) {
                if (!outs[i])
                        continue;
                va_list ap;
                va_start(ap, format);
                vfprintf(outs[i], format, ap);
                va_end(ap);
                fflush(outs[i]);
        }
        if (console)
                fclose(console);
}

static void setup(void)
{
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/fault", getenv("VSS_BUILD") ? getenv("VSS_BUILD") : "build");
        setenv("VSS_TEST_DAEMON_BUILD", dir, 1);
}

/* vssd with the fault FAULT and a bound of BOUND_MS; two origins, mounted. */
static void start(const char *fault)
{
        char stall[128];
        snprintf(stall, sizeof(stall), "%s:stall=%u", fault, STALL_MS);
        setenv("VSS_FAULT", stall, 1);
        /* The provider's section comes last: a second [daemon] section adds to the first. */
        vmtest_start("\n[daemon]\nhold_timeout_ms = 2000\n");
        vm_ok("vssctl status --json");
        ck_assert_msg(strstr(vm_out(), "\"hold_timeout_ms\": 2000"), "the bound is not in "
                      "force: %s", vm_out());
        vm_volume(&a, "a", 64, "ext4");
        vm_volume(&b, "b", 64, "ext4");
}

/* --- the writers ---------------------------------------------------------------------------- */

typedef struct Writer {
        pid_t pid;
        int stop_fd;   /* closed: stop */
        int report_fd; /* "blocked US END_US" per long write, "longest US END_US" at the end */
        char buf[512];
        size_t len;
} Writer;

static void writer_run(const char *path, int stop_fd, int report_fd)
{
        static char data[4096];
        struct pollfd stop = { stop_fd, POLLIN, 0 };
        uint64_t longest = 0, longest_end = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0)
                _exit(2);
        memset(data, 'w', sizeof(data));
        while (poll(&stop, 1, 10) == 0) {
                uint64_t start = now_usec();
                if (pwrite(fd, data, sizeof(data), 0) != (ssize_t)sizeof(data))
                        _exit(3);
                uint64_t end = now_usec();
                if (end - start > longest) {
                        longest = end - start;
                        longest_end = end;
                }
                if (end - start >= BLOCKED_US)
                        dprintf(report_fd, "blocked %" PRIu64 " %" PRIu64 "\n", end - start,
                                end);
        }
        dprintf(report_fd, "longest %" PRIu64 " %" PRIu64 "\n", longest, longest_end);
        _exit(0);
}

static void writer_start(Writer *w, const Volume *v)
{
        int stop[2], report[2];
        char path[256];

        snprintf(path, sizeof(path), "%s/written", v->mnt);
        ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
        w->pid = fork();
        ck_assert_int_ge(w->pid, 0);
        if (w->pid == 0) {
                /* Only its own pipe ends: the stop pipe of another writer would never close. */
                for (int fd = 3; fd < 1024; fd++)
                        if (fd != stop[0] && fd != report[1])
                                close(fd);
                writer_run(path, stop[0], report[1]);
        }
        close(stop[0]);
        close(report[1]);
        w->stop_fd = stop[1];
        w->report_fd = report[0];
        w->len = 0;
}

/* The next report of W starting with KIND, within TIMEOUT_MS: its duration and end. */
static bool writer_report(Writer *w, const char *kind, uint64_t *ret_us, uint64_t *ret_end,
                          int timeout_ms)
{
        uint64_t deadline = now_usec() + (uint64_t)timeout_ms * 1000u;
        for (;;) {
                char *nl;
                while ((nl = memchr(w->buf, '\n', w->len))) {
                        *nl = '\0';
                        char word[16];
                        bool match = sscanf(w->buf, "%15s %" SCNu64 " %" SCNu64, word, ret_us,
                                            ret_end) == 3 && strcmp(word, kind) == 0;
                        w->len -= (size_t)(nl + 1 - w->buf);
                        memmove(w->buf, nl + 1, w->len);
                        if (match)
                                return true;
                }
                uint64_t now = now_usec();
                struct pollfd p = { w->report_fd, POLLIN, 0 };
                if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000) + 1) <= 0)
                        return false;
                ssize_t n = read(w->report_fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
                if (n <= 0)
                        return false;
                w->len += (size_t)n;
        }
}

/* Stop W; its longest write, in microseconds. */
static uint64_t writer_stop(Writer *w, const char *name)
{
        uint64_t longest, end;
        int status;

        close(w->stop_fd);
        ck_assert_msg(writer_report(w, "longest", &longest, &end, 30000),
                      "the writer on %s did not stop", name);
        ck_assert_int_eq(waitpid(w->pid, &status, 0), w->pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "the writer on %s failed (status %d)", name, status);
        close(w->report_fd);
        return longest;
}

/* --- vssd ------------------------------------------------------------------------------------ */

/* CreateSnapshotSet of both origins, sent now; the reply is waited for later. */
static DBusPendingCall *create_send(void)
{
        const char *volumes[] = { a.volume, b.volume };
        const char **v = volumes;
        DBusMessage *m = dbus_message_new_method_call("org.linuxvss.Vss1", "/org/linuxvss/Vss1",
                                                      "org.linuxvss.Vss1", "CreateSnapshotSet");
        DBusPendingCall *pending;

        ck_assert_ptr_nonnull(m);
        ck_assert(dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &v, 2,
                                           DBUS_TYPE_INVALID));
        testbus_append_options(m, NULL, NULL, 0);
        ck_assert(dbus_connection_send_with_reply(vm_bus.conn, m, &pending, 60000));
        dbus_connection_flush(vm_bus.conn);
        dbus_message_unref(m);
        return pending;
}

static DBusMessage *create_reply(DBusPendingCall *pending)
{
        dbus_pending_call_block(pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        ck_assert_ptr_nonnull(reply);
        return reply;
}

/* Until vssd's log has NEEDLE, woken by inotify as it grows; false after TIMEOUT_MS. */
static bool log_wait(const char *needle, int timeout_ms)
{
        int fd = inotify_init1(IN_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_ge(inotify_add_watch(fd, vm_bus.vssd_log, IN_MODIFY), 0);
        uint64_t deadline = now_usec() + (uint64_t)timeout_ms * 1000u;
        bool found;
        while (!(found = testbus_log_contains(&vm_bus, needle))) {
                uint64_t now = now_usec();
                struct pollfd p = { fd, POLLIN, 0 };
                if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000) + 1) <= 0)
                        break;
                char events[4096];
                (void)!read(fd, events, sizeof(events));
        }
        close(fd);
        return found;
}

/* Stop vssd's main thread alone (ptrace is per thread): its loop runs no more. */
static void main_loop_stop(void)
{
        pid_t tid = vm_bus.vssd_pid; /* the main thread's id is the process's */
        int status;

        ck_assert_msg(ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0, "ptrace: %s", strerror(errno));
        ck_assert_int_eq(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0);
        ck_assert_int_eq(waitpid(tid, &status, __WALL), tid);
        ck_assert(WIFSTOPPED(status));
}

static void main_loop_continue(void)
{
        ck_assert_int_eq(ptrace(PTRACE_DETACH, vm_bus.vssd_pid, NULL, NULL), 0);
}

/* --- the checks after a case ----------------------------------------------------------------- */

static void assert_nothing_suspended(void)
{
        vm_ok("dmsetup info -c --noheadings -o name,suspended");
        ck_assert_msg(!strstr(vm_out(), "Suspended"), "devices left suspended:\n%s", vm_out());
        /* And the file systems take writes at once. */
        vm_ok("timeout 2 sh -c 'echo x > %s/after && echo x > %s/after && sync'", a.mnt, b.mnt);
}

static void assert_set_gone(void)
{
        vm_ok("dmsetup ls | grep -c -e vss-snap- -e -real || true");
        ck_assert_msg(strcmp(vm_out(), "0") == 0, "devices of the failed set left: %s", vm_out());
}

static void assert_vssd_answers(void)
{
        ck_assert(testbus_vssd_alive(&vm_bus));
        vm_ok("vssctl list shadows");
}

static void assert_hold_timeout(DBusMessage *reply)
{
        const char *message = NULL;
        ck_assert_int_eq(dbus_message_get_type(reply), DBUS_MESSAGE_TYPE_ERROR);
        ck_assert_str_eq(dbus_message_get_error_name(reply), "org.linuxvss.Vss1.Error.HoldTimeout");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &message,
                                        DBUS_TYPE_INVALID));
        ck_assert_msg(strstr(message, "hold-window bound of 2000 ms (provider 'dm-snapshot' was "
                             "still in hold)"), "the set failed otherwise: %s", message);
}

/* Both writers' writes blocked by the hold (ending after SINCE) within the bound + 1 s. */
static void assert_blocked_within_bound(Writer w[2], const char *what, uint64_t since)
{
        const Volume *v[2] = { &a, &b };
        for (int i = 0; i < 2; i++) {
                uint64_t us, end = 0;
                bool got;
                while ((got = writer_report(&w[i], "blocked", &us, &end, STALL_MS + 10000)) &&
                       end <= since)
                        ; /* slow before the hold: not the freeze */
                ck_assert_msg(got, "%s: the writer on %s was never blocked, or never released",
                              what, v[i]->name);
                report("%-26s writer on %s: blocked %4" PRIu64 " ms, released %4" PRId64
                       " ms after the hold stalled (bound %u ms)\n", what, v[i]->name,
                       us / 1000, ((int64_t)end - (int64_t)since) / 1000, BOUND_MS);
                ck_assert_msg(us <= (BOUND_MS + MARGIN_MS) * 1000u,
                              "%s: the writer on %s was blocked %" PRIu64 " ms", what,
                              v[i]->name, us / 1000);
        }
}

/* --- the cases ------------------------------------------------------------------------------- */

static void hold_stuck(bool loop_stuck_too)
{
        const char *what = loop_stuck_too ? "hold and main loop stuck:" : "hold stuck:";
        Writer w[2];

        start("after-suspend-all");
        writer_start(&w[0], &a);
        writer_start(&w[1], &b);
        uint64_t sent = now_usec();
        DBusPendingCall *pending = create_send();
        ck_assert_msg(log_wait("fault point after-suspend-all reached: stalling", 60000),
                      "the hold never stalled");
        uint64_t stalled = now_usec();
        if (loop_stuck_too)
                main_loop_stop();
        assert_blocked_within_bound(w, what, stalled);
        if (loop_stuck_too) {
                /* Released with the loop stopped: it never saw the bound. */
                ck_assert(!testbus_log_contains(&vm_bus, "past its bound"));
                main_loop_continue();
        }
        DBusMessage *reply = create_reply(pending);
        report("%-26s the set failed %" PRIu64 " ms after it was asked for (stall %u ms)\n",
               what, (now_usec() - sent) / 1000, STALL_MS);
        assert_hold_timeout(reply);
        dbus_message_unref(reply);
        uint64_t longest_a = writer_stop(&w[0], "a"), longest_b = writer_stop(&w[1], "b");
        ck_assert_uint_le(longest_a, (BOUND_MS + MARGIN_MS) * 1000u);
        ck_assert_uint_le(longest_b, (BOUND_MS + MARGIN_MS) * 1000u);
        ck_assert(testbus_log_contains(&vm_bus, "released by the guard thread"));
        ck_assert(!testbus_log_contains(&vm_bus, "releasing on the watchdog thread"));
        assert_nothing_suspended();
        assert_set_gone();
        assert_vssd_answers();
}

START_TEST(test_guard_releases_a_stuck_hold)
{
        hold_stuck(false);
}
END_TEST

START_TEST(test_guard_releases_with_the_main_loop_stopped)
{
        hold_stuck(true);
}
END_TEST

START_TEST(test_stuck_main_loop_holds_nothing)
{
        const char *what = "main loop stuck:";
        Writer w[2];

        start("window-open");
        writer_start(&w[0], &a);
        writer_start(&w[1], &b);
        uint64_t sent = now_usec();
        DBusMessage *reply = create_reply(create_send());
        report("%-26s the set was made %" PRIu64 " ms after it was asked for (stall %u ms)\n",
               what, (now_usec() - sent) / 1000, STALL_MS);
        ck_assert_msg(dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN,
                      "the set failed: %s", dbus_message_get_error_name(reply));
        dbus_message_unref(reply);
        ck_assert(testbus_log_contains(&vm_bus, "fault point window-open reached: stalling"));
        uint64_t longest_a = writer_stop(&w[0], "a"), longest_b = writer_stop(&w[1], "b");
        report("%-26s longest writes: %" PRIu64 " ms on a, %" PRIu64 " ms on b\n", what,
               longest_a / 1000, longest_b / 1000);
        ck_assert_uint_le(longest_a, (BOUND_MS + MARGIN_MS) * 1000u);
        ck_assert_uint_le(longest_b, (BOUND_MS + MARGIN_MS) * 1000u);
        assert_nothing_suspended();
        vm_ok("dmsetup ls | grep -c vss-snap- || true");
        ck_assert_str_eq(vm_out(), "2");
        assert_vssd_answers();
}
END_TEST

int main(void)
{
        return vmtest_run("hold-window stalls", setup,
                          (const TTest *const[]){ test_guard_releases_a_stuck_hold,
                                                  test_guard_releases_with_the_main_loop_stopped,
                                                  test_stuck_main_loop_holds_nothing, NULL });
}
