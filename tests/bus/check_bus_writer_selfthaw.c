/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_writer_selfthaw.c: a frozen writer does not trust vssd to come
 * back. With vssd stopped (SIGSTOP: still on the bus, answering nothing) while
 * a writer is frozen, libvss thaws the application on its own after the
 * writer's freeze timeout plus VSS_WRITER_SELF_THAW_GRACE_MS, and says why;
 * when vssd runs again the set fails naming the writer. A set that goes
 * well, and a vssd that aborts in time, cause no self-thaw. A scripted
 * coordinator (the test owns vssd's bus name) sends the late Thaw that a
 * real vssd cannot be made to send on cue: libvss fails it with TIMEOUT.
 *
 * The writers are build/tests/bus/test-writer processes (their event log is
 * the test's evidence: "<name> <Event> <set>", and "<name> note <message>"
 * for a self-thaw); the waits are on that log (inotify), never sleeps. With
 * VSS_TEST_VALGRIND=1 the writers run under valgrind as vssd does, and each
 * must end cleanly at the end of its test.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vss/writer.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define BACKUP IFACE ".Backup"
#define WRITER IFACE ".Writer"

/* The writers' freeze timeout here, and when they must have thawed on their own. */
#define FREEZE_MS 1500
#define SELF_THAW_MS (FREEZE_MS + (long)VSS_WRITER_SELF_THAW_GRACE_MS)
/* Slack on either side of SELF_THAW_MS for scheduling and the log's inotify. */
#define EARLY_MS 250
#define LATE_MS 1000

static TestBus tb;
static pid_t writer_pid;
static char log_path[PATH_MAX];

static void setup_bus(void)
{
        testbus_start_bus(&tb);
        snprintf(log_path, sizeof(log_path), "%s/writer.log", tb.dir);
        writer_pid = 0;
}

static void setup_vssd(void)
{
        testbus_start(&tb, NULL);
        snprintf(log_path, sizeof(log_path), "%s/writer.log", tb.dir);
        writer_pid = 0;
}

/* SIGTERM the writer: it must end with status 0 (under valgrind: no errors, no leaks). */
static void stop_writer(void)
{
        int status;

        if (writer_pid <= 0)
                return;
        kill(writer_pid, SIGTERM);
        ck_assert_int_eq(waitpid(writer_pid, &status, 0), writer_pid);
        writer_pid = 0;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "test-writer ended with wait status %#x (99: valgrind found errors); "
                      "see %s/writer.err", status, tb.dir);
}

static void teardown(void)
{
        if (tb.vssd_pid > 0)
                kill(tb.vssd_pid, SIGCONT); /* a failed test may have left it stopped */
        stop_writer();
        testbus_stop(&tb);
}

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the writer and its log --------------------------------------------------------- */

/* Start test-writer "db" with ARGS, logging to log_path; its stderr to writer.err. */
static void spawn_writer(const char *args)
{
        char cmd[8192];
        const char *valgrind = getenv("VSS_TEST_VALGRIND");

        snprintf(cmd, sizeof(cmd),
                 "exec %s %s --name db --instance db-1 --log %s %s 2>>%s/writer.err",
                 valgrind && strcmp(valgrind, "1") == 0
                         ? "valgrind -q --leak-check=full --errors-for-leak-kinds=definite "
                           "--error-exitcode=99"
                         : "",
                 testbus_path(false, "tests/bus/test-writer"), log_path, args, tb.dir);
        writer_pid = fork();
        ck_assert_int_ge(writer_pid, 0);
        if (writer_pid == 0) {
                setenv("VSS_BUS_ADDRESS", tb.address, 1);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
}

/* The same, with the real vssd: wait until the writer's object is there. */
static const char *spawn_registered_writer(const char *args)
{
        static char path[256];

        spawn_writer(args);
        ck_assert_msg(testbus_wait_object(&tb, "InterfacesAdded", ROOT "/writer/", path,
                                          sizeof(path), 60000),
                      "test-writer %s did not register", args);
        return path;
}

/* How many lines of the writer's log contain NEEDLE. */
static int log_count(const char *needle)
{
        char *text = testbus_read_file(log_path);
        int n = 0;
        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        free(text);
        return n;
}

/* Wait (inotify on the test's directory) until the writer's log holds NEEDLE. */
static bool wait_log(const char *needle, long timeout_ms)
{
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_ge(inotify_add_watch(fd, tb.dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO), 0);
        long deadline = now_ms() + timeout_ms;
        bool found;
        while (!(found = log_count(needle) > 0) && now_ms() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                if (poll(&p, 1, (int)(deadline - now_ms())) > 0)
                        while (read(fd, buf, sizeof(buf)) > 0)
                                ;
        }
        close(fd);
        return found;
}

static void expect_log(const char *needle, long timeout_ms)
{
        if (wait_log(needle, timeout_ms))
                return;
        char *text = testbus_read_file(log_path);
        ck_abort_msg("the writer's log has no \"%s\" after %ld ms:\n%s", needle, timeout_ms,
                     text);
}

/* --- requests to the real vssd ------------------------------------------------------- */

static void ok(DBusMessage *reply, const char *what)
{
        ck_assert_msg(!testbus_error_name(reply), "%s failed: %s: %s", what,
                      testbus_error_name(reply), testbus_error_text(reply));
        dbus_message_unref(reply);
}

static DBusMessage *session_call(const char *s, const char *method)
{
        return testbus_call(&tb, s, BACKUP, method, DBUS_TYPE_INVALID);
}

static char *start_backup(void)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "StartBackup");
        const char *path;

        testbus_append_options(msg, NULL, NULL, 0);
        DBusMessage *reply = testbus_send_msg(tb.conn, msg);
        ck_assert_msg(!testbus_error_name(reply), "StartBackup: %s", testbus_error_text(reply));
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        char *ret = strdup(path);
        dbus_message_unref(reply);
        return ret;
}

/* A session with /dev/fake/a in its set, prepared for backup: DoSnapshotSet is next. */
static char *prepared_session(void)
{
        const char *volume = "/dev/fake/a", *any = "";
        char *s = start_backup();

        ok(session_call(s, "GatherWriterMetadata"), "GatherWriterMetadata");
        ok(session_call(s, "StartSnapshotSet"), "StartSnapshotSet");
        ok(testbus_call(&tb, s, BACKUP, "AddToSnapshotSet", DBUS_TYPE_STRING, &volume,
                        DBUS_TYPE_STRING, &any, DBUS_TYPE_INVALID),
           "AddToSnapshotSet");
        ok(session_call(s, "PrepareForBackup"), "PrepareForBackup");
        return s;
}

/* DoSnapshotSet on S, without waiting: its reply comes through the pending call. */
static DBusPendingCall *do_snapshot_set_async(const char *s)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, s, BACKUP, "DoSnapshotSet");
        DBusPendingCall *pending;

        ck_assert(dbus_connection_send_with_reply(tb.conn, msg, &pending, 120000));
        dbus_message_unref(msg);
        dbus_connection_flush(tb.conn);
        return pending;
}

static DBusMessage *pending_reply(DBusPendingCall *pending)
{
        dbus_pending_call_block(pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        ck_assert_ptr_nonnull(reply);
        return reply;
}

/*
 * Writers handle their events in order: once they answered an Identify sent
 * now, they have logged every event vssd sent before it.
 */
static void sync_writer(void)
{
        char *s = start_backup();
        ok(session_call(s, "GatherWriterMetadata"), "GatherWriterMetadata");
        ok(session_call(s, "Release"), "Release");
        free(s);
}

static void set_daemon_freeze_timeout(dbus_uint32_t ms)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT,
                                                        "org.freedesktop.DBus.Properties", "Set");
        const char *iface = IFACE, *prop = "FreezeTimeoutMs";
        DBusMessageIter iter, variant;

        dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                 DBUS_TYPE_INVALID);
        dbus_message_iter_init_append(msg, &iter);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "u", &variant);
        dbus_message_iter_append_basic(&variant, DBUS_TYPE_UINT32, &ms);
        dbus_message_iter_close_container(&iter, &variant);
        ok(testbus_send_msg(tb.conn, msg), "Set FreezeTimeoutMs");
}

/* --- vssd stopped while the writer is frozen ---------------------------------------- */

/*
 * The writer (started with WRITER_ARGS) freezes, vssd is stopped at once:
 * the writer thaws on its own, on time, and says why; vssd, running again,
 * fails the set naming the writer; the application had one Abort only; and
 * the next set works as if nothing happened (the writer stops vssd at its
 * first Freeze only).
 */
static void hung_vssd_case(const char *writer_args, bool daemon_timeout)
{
        char args[512];

        /* The writer stops vssd as Freeze arrives: vssd waits for that answer, so it is
         * stopped before it could send Thaw, and before its own freeze timer runs out. */
        snprintf(args, sizeof(args), "%s --sigstop-at Freeze:%d", writer_args, (int)tb.vssd_pid);
        spawn_registered_writer(args);
        if (daemon_timeout) /* after registration: libvss must follow the change */
                set_daemon_freeze_timeout(FREEZE_MS);
        char *s = prepared_session();
        DBusPendingCall *pending = do_snapshot_set_async(s);

        expect_log("db Freeze ", 60000);
        long frozen_at = now_ms();
        expect_log("db Abort ", SELF_THAW_MS + 10000);
        long thawed_after = now_ms() - frozen_at;
        ck_assert_msg(thawed_after >= SELF_THAW_MS - EARLY_MS &&
                              thawed_after <= SELF_THAW_MS + LATE_MS,
                      "the writer thawed %ld ms after it froze; wanted %ld ms (+%d)",
                      thawed_after, SELF_THAW_MS, LATE_MS);
        /* The writer logs the note after its callback's Abort line: wait for it. */
        const char *note = "db note writer 'db': no Thaw within its freeze timeout of 1.5 s; "
                           "thawed on its own; the snapshot set will fail for this writer\n";
        expect_log(note, 5000);
        ck_assert_int_eq(log_count(note), 1);

        ck_assert_int_eq(kill(tb.vssd_pid, SIGCONT), 0);
        DBusMessage *reply = pending_reply(pending);
        const char *error = testbus_error_name(reply);
        ck_assert_msg(error && strcmp(error, IFACE ".Error.WriterFailed") == 0 &&
                              strstr(testbus_error_text(reply), "writer 'db' failed") &&
                              strstr(testbus_error_text(reply), "(TIMEOUT)"),
                      "DoSnapshotSet answered %s: %s", error ? error : "success",
                      testbus_error_text(reply));
        dbus_message_unref(reply);
        sync_writer();
        ck_assert_int_eq(log_count("db Abort "), 1); /* vssd's own Abort is not passed on */
        ck_assert_int_eq(log_count("db Thaw "), 0);

        /* The writer is still registered and freezes and thaws as before. */
        char *again = prepared_session();
        ok(session_call(again, "DoSnapshotSet"), "DoSnapshotSet after the self-thaw");
        sync_writer();
        ck_assert_int_eq(log_count("db Freeze "), 2);
        ck_assert_int_eq(log_count("db Thaw "), 1);
        ck_assert_int_eq(log_count("db Abort "), 1);
        ck_assert_int_eq(log_count("db note "), 1);
        free(again);
        free(s);
}

/* The writer's own freeze timeout, and vss_writer_run(). */
START_TEST(test_stopped_vssd_writer_thaws_on_its_own)
{
        hung_vssd_case("--freeze-timeout 1500", false);
}
END_TEST

/* The daemon's FreezeTimeoutMs, changed after registration, and the application's own loop. */
START_TEST(test_stopped_vssd_own_loop_daemon_timeout)
{
        hung_vssd_case("--own-loop", true);
}
END_TEST

/* --- a live vssd: no self-thaw ------------------------------------------------------- */

/* A set that goes well: Thaw in time; no Abort then, nor after the deadline would have been. */
START_TEST(test_normal_set_no_self_thaw)
{
        spawn_registered_writer("--freeze-timeout 1500");
        char *s = prepared_session();

        ok(session_call(s, "DoSnapshotSet"), "DoSnapshotSet");
        expect_log("db Thaw ", 10000);
        ck_assert_msg(!wait_log("db Abort ", SELF_THAW_MS + LATE_MS),
                      "the writer had an Abort after a set that went well");
        ok(session_call(s, "BackupComplete"), "BackupComplete");
        sync_writer();
        ck_assert_int_eq(log_count("db Freeze "), 1);
        ck_assert_int_eq(log_count("db Thaw "), 1);
        ck_assert_int_eq(log_count("db Abort "), 0);
        ck_assert_int_eq(log_count("db note "), 0);
        free(s);
}
END_TEST

/* vssd's own freeze timeout (the writer never answers Freeze) comes first: one Abort, vssd's. */
START_TEST(test_live_vssd_aborts_first)
{
        spawn_registered_writer("--freeze-timeout 1500 --hang Freeze --own-loop");
        char *s = prepared_session();

        DBusMessage *reply = session_call(s, "DoSnapshotSet");
        ck_assert_msg(strstr(testbus_error_text(reply), "did not answer Freeze within its "
                                                        "freeze timeout of 1500 ms"),
                      "DoSnapshotSet answered: %s", testbus_error_text(reply));
        dbus_message_unref(reply);
        expect_log("db Abort ", 10000);
        ck_assert_msg(!wait_log("db note ", SELF_THAW_MS + LATE_MS),
                      "the writer thawed on its own although vssd aborted in time");
        sync_writer();
        ck_assert_int_eq(log_count("db Abort "), 1);
        free(s);
}
END_TEST

/* --- a scripted coordinator: the late Thaw ------------------------------------------ */

/* The next method call to us named MEMBER (SetMetadata is answered on the way). */
static DBusMessage *next_call(const char *member)
{
        long deadline = now_ms() + 60000;
        while (now_ms() < deadline) {
                dbus_connection_read_write(tb.conn, 100);
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(tb.conn))) {
                        if (dbus_message_get_type(m) != DBUS_MESSAGE_TYPE_METHOD_CALL) {
                                dbus_message_unref(m);
                                continue;
                        }
                        if (dbus_message_has_member(m, member))
                                return m;
                        ck_assert_msg(dbus_message_has_member(m, "SetMetadata"),
                                      "the writer called %s; the test waits for %s",
                                      dbus_message_get_member(m), member);
                        DBusMessage *reply = dbus_message_new_method_return(m);
                        dbus_connection_send(tb.conn, reply, NULL);
                        dbus_message_unref(reply);
                        dbus_message_unref(m);
                }
        }
        ck_abort_msg("the writer did not call %s within 60 s", member);
}

static void reply_to(DBusMessage *call, int first_arg_type, ...)
{
        DBusMessage *reply = dbus_message_new_method_return(call);
        va_list ap;

        va_start(ap, first_arg_type);
        ck_assert(dbus_message_append_args_valist(reply, first_arg_type, ap));
        va_end(ap);
        ck_assert(dbus_connection_send(tb.conn, reply, NULL));
        dbus_connection_flush(tb.conn);
        dbus_message_unref(reply);
}

/* Send event MEMBER (cookie, set id, no volumes) to writer/1, owned by WRITER. */
static void send_event(const char *writer, const char *member, dbus_uint64_t cookie,
                       const char *set_id)
{
        DBusMessage *sig = dbus_message_new_signal(ROOT "/writer/1", WRITER, member);
        const char *empty[] = { NULL }, **none = empty;

        ck_assert(dbus_message_set_destination(sig, writer));
        ck_assert(dbus_message_append_args(sig, DBUS_TYPE_UINT64, &cookie, DBUS_TYPE_STRING,
                                           &set_id, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &none, 0,
                                           DBUS_TYPE_INVALID));
        ck_assert(dbus_connection_send(tb.conn, sig, NULL));
        dbus_connection_flush(tb.conn);
        dbus_message_unref(sig);
}

/* Answer(t cookie, s failure, s message): check the cookie; the failure and message out. */
static void answer_args(DBusMessage *call, dbus_uint64_t cookie, const char **failure,
                        const char **message)
{
        dbus_uint64_t got;
        ck_assert(dbus_message_get_args(call, NULL, DBUS_TYPE_UINT64, &got, DBUS_TYPE_STRING,
                                        failure, DBUS_TYPE_STRING, message, DBUS_TYPE_INVALID));
        ck_assert_uint_eq(got, cookie);
}

/* Register the writer with us standing in for vssd; the writer's unique name. */
static char *scripted_registration(void)
{
        dbus_uint32_t daemon_ms = 60000;
        const char *path = ROOT "/writer/1";

        ck_assert_int_eq(dbus_bus_request_name(tb.conn, IFACE, DBUS_NAME_FLAG_DO_NOT_QUEUE, NULL),
                         DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER);
        spawn_writer("--freeze-timeout 1500");
        DBusMessage *get = next_call("Get");
        DBusMessage *reply = dbus_message_new_method_return(get);
        DBusMessageIter iter, variant;
        dbus_message_iter_init_append(reply, &iter);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "u", &variant);
        dbus_message_iter_append_basic(&variant, DBUS_TYPE_UINT32, &daemon_ms);
        dbus_message_iter_close_container(&iter, &variant);
        ck_assert(dbus_connection_send(tb.conn, reply, NULL));
        dbus_message_unref(reply);
        dbus_message_unref(get);

        DBusMessage *reg = next_call("RegisterWriter");
        char *writer = strdup(dbus_message_get_sender(reg));
        reply_to(reg, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
        dbus_message_unref(reg);
        return writer;
}

/*
 * The coordinator never replies to the Freeze answer and sends Thaw only
 * after the writer thawed on its own: the writer is not kept waiting past its
 * deadline, fails the late Thaw with TIMEOUT saying why, and passes neither
 * that Thaw nor the Abort that follows on to the application.
 */
START_TEST(test_late_thaw_fails_with_timeout)
{
        char *writer = scripted_registration();
        const char *failure, *message;

        send_event(writer, "Freeze", 7, "set-1");
        DBusMessage *freeze_answer = next_call("Answer");
        long frozen_at = now_ms();
        answer_args(freeze_answer, 7, &failure, &message);
        ck_assert_str_eq(failure, "NONE");
        /* ... and no reply: a coordinator stopped right after Freeze. */
        expect_log("db Abort set-1", SELF_THAW_MS + 10000);
        long thawed_after = now_ms() - frozen_at;
        ck_assert_msg(thawed_after >= SELF_THAW_MS - EARLY_MS &&
                              thawed_after <= SELF_THAW_MS + LATE_MS,
                      "the writer thawed %ld ms after it froze; wanted %ld ms (+%d)",
                      thawed_after, SELF_THAW_MS, LATE_MS);
        const char *note = "db note writer 'db': no Thaw within its freeze timeout of 1.5 s; "
                           "thawed on its own";
        expect_log(note, 5000); /* logged after the callback's Abort line */
        ck_assert_int_eq(log_count(note), 1);

        send_event(writer, "Thaw", 8, "set-1");
        DBusMessage *thaw_answer = next_call("Answer");
        answer_args(thaw_answer, 8, &failure, &message);
        ck_assert_str_eq(failure, "TIMEOUT");
        ck_assert_msg(strstr(message, "writer 'db' thawed on its own ") &&
                              strstr(message, " s earlier: no Thaw came within its freeze "
                                              "timeout of 1.5 s"),
                      "the late Thaw was answered \"%s\"", message);
        reply_to(thaw_answer, DBUS_TYPE_INVALID);
        reply_to(freeze_answer, DBUS_TYPE_INVALID); /* very late: the writer drops it */
        dbus_message_unref(thaw_answer);
        dbus_message_unref(freeze_answer);

        send_event(writer, "Abort", 0, "set-1");
        send_event(writer, "Identify", 9, "");
        DBusMessage *identify_answer = next_call("Answer");
        answer_args(identify_answer, 9, &failure, &message);
        ck_assert_str_eq(failure, "NONE");
        reply_to(identify_answer, DBUS_TYPE_INVALID);
        dbus_message_unref(identify_answer);
        expect_log("db Identify -", 10000);
        ck_assert_int_eq(log_count("db Abort "), 1);
        ck_assert_int_eq(log_count("db Thaw "), 0);
        free(writer);
}
END_TEST

static Suite *selfthaw_suite(void)
{
        Suite *s = suite_create("bus-writer-selfthaw");
        TCase *tc = tcase_create("vssd");
        tcase_add_checked_fixture(tc, setup_vssd, teardown);
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, test_stopped_vssd_writer_thaws_on_its_own);
        tcase_add_test(tc, test_stopped_vssd_own_loop_daemon_timeout);
        tcase_add_test(tc, test_normal_set_no_self_thaw);
        tcase_add_test(tc, test_live_vssd_aborts_first);
        suite_add_tcase(s, tc);

        TCase *scripted = tcase_create("scripted");
        tcase_add_checked_fixture(scripted, setup_bus, teardown);
        tcase_set_timeout(scripted, 180);
        tcase_add_test(scripted, test_late_thaw_fails_with_timeout);
        suite_add_tcase(s, scripted);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(selfthaw_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
