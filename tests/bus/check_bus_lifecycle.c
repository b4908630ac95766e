/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_lifecycle.c: the VSS lifecycle end to end: the real vssd on a
 * private bus with the fake provider, real writer processes built on libvss
 * (build/tests/bus/test-writer) and requesters on their own connections.
 *
 * Writers and the fake provider append to one log file (one write per line,
 * O_APPEND), so the order of their lines is the order things happened in:
 * "fe Freeze <set>" from a writer, "hold <set>" from the provider.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define BACKUP IFACE ".Backup"
#define WRITER IFACE ".Writer"
#define ERR IFACE ".Error."

static TestBus tb;
static pid_t writers[8];
static size_t n_writers;
static char writer_paths[8][256];
static char log_path[PATH_MAX];

static void setup(void)
{
        testbus_start(&tb, NULL);
        snprintf(log_path, sizeof(log_path), "%s/fake.log", tb.dir);
        n_writers = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < n_writers; i++)
                testbus_kill(writers[i]);
        testbus_stop(&tb);
}

/* Start a test writer NAME (instance NAME-1) at LEVEL with more options EXTRA. */
static const char *writer(const char *name, const char *level, const char *extra)
{
        ck_assert_uint_lt(n_writers, 8);
        char *path = writer_paths[n_writers];
        writers[n_writers++] = testbus_spawn_writer(&tb, path, 256, "--name %s --instance %s-1 "
                                                    "--level %s --log %s %s", name, name, level,
                                                    log_path, extra ? extra : "");
        return path;
}

/* --- calls -------------------------------------------------------------------------------- */

static void expect_ok(DBusMessage *reply, const char *what)
{
        ck_assert_msg(!testbus_error_name(reply), "%s failed: %s: %s", what,
                      testbus_error_name(reply), testbus_error_text(reply));
}

/* expect_ok() and unref. */
static void ok(DBusMessage *reply, const char *what)
{
        expect_ok(reply, what);
        dbus_message_unref(reply);
}

/* REPLY is the error ERR.NAME; its message contains NEEDLE (may be NULL). Unrefs REPLY. */
static void expect_error(DBusMessage *reply, const char *name, const char *needle)
{
        const char *got = testbus_error_name(reply);
        ck_assert_msg(got && strcmp(got + (strncmp(got, ERR, strlen(ERR)) ? 0 : strlen(ERR)),
                                    name) == 0,
                      "wanted error %s, got %s: %s", name, got ? got : "a method return",
                      testbus_error_text(reply));
        ck_assert_msg(!needle || strstr(testbus_error_text(reply), needle),
                      "error text \"%s\" does not mention \"%s\"", testbus_error_text(reply),
                      needle);
        dbus_message_unref(reply);
}

/* StartBackup(a{sv}) with Context CONTEXT (NULL: none) on CONN; the session path. */
static char *start_backup(DBusConnection *conn, const char *context)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "StartBackup");
        const char *key = "Context";
        const char *path;

        testbus_append_options(msg, &key, &context, context ? 1 : 0);
        DBusMessage *reply = testbus_send_msg(conn, msg);
        expect_ok(reply, "StartBackup");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        char *ret = strdup(path);
        dbus_message_unref(reply);
        return ret;
}

/* METHOD on session S without arguments; the reply. */
static DBusMessage *session_call(DBusConnection *conn, const char *s, const char *method)
{
        return testbus_call_on(conn, s, BACKUP, method, DBUS_TYPE_INVALID);
}

static void session_ok(DBusConnection *conn, const char *s, const char *method)
{
        ok(session_call(conn, s, method), method);
}

static DBusMessage *add_volume(DBusConnection *conn, const char *s, const char *volume)
{
        const char *any = "";
        return testbus_call_on(conn, s, BACKUP, "AddToSnapshotSet", DBUS_TYPE_STRING, &volume,
                               DBUS_TYPE_STRING, &any, DBUS_TYPE_INVALID);
}

/* A session on CONN with a set of /dev/fake/a and /dev/fake/b, prepared for backup. */
static char *prepared_session(DBusConnection *conn)
{
        char *s = start_backup(conn, NULL);
        session_ok(conn, s, "GatherWriterMetadata");
        session_ok(conn, s, "StartSnapshotSet");
        ok(add_volume(conn, s, "/dev/fake/a"), "AddToSnapshotSet");
        ok(add_volume(conn, s, "/dev/fake/b"), "AddToSnapshotSet");
        session_ok(conn, s, "PrepareForBackup");
        return s;
}

/* String (or object path) property PROP of IFACE_NAME on PATH. */
static char *get_string(const char *path, const char *iface_name, const char *prop)
{
        DBusMessage *reply = testbus_call(&tb, path, "org.freedesktop.DBus.Properties", "Get",
                                          DBUS_TYPE_STRING, &iface_name, DBUS_TYPE_STRING, &prop,
                                          DBUS_TYPE_INVALID);
        DBusMessageIter iter, variant;
        const char *v;

        expect_ok(reply, prop);
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &variant);
        int type = dbus_message_iter_get_arg_type(&variant);
        ck_assert(type == DBUS_TYPE_STRING || type == DBUS_TYPE_OBJECT_PATH);
        dbus_message_iter_get_basic(&variant, &v);
        char *ret = strdup(v);
        dbus_message_unref(reply);
        return ret;
}

static void expect_property(const char *path, const char *iface_name, const char *prop,
                            const char *want)
{
        char *v = get_string(path, iface_name, prop);
        ck_assert_msg(strcmp(v, want) == 0, "%s of %s is %s, wanted %s", prop, path, v, want);
        free(v);
}

/* --- the shared log ----------------------------------------------------------------------- */

/* Does the log have a line containing NEEDLE? */
static bool logged(const char *needle)
{
        char *text = testbus_read_file(log_path);
        bool found = strstr(text, needle) != NULL;
        free(text);
        return found;
}

/* Every NEEDLE in the list appears, in this order. */
static void expect_order(const char *const *needles)
{
        char *text = testbus_read_file(log_path);
        const char *last = NULL;
        for (; *needles; needles++) {
                const char *at = strstr(text, *needles);
                ck_assert_msg(at && (!last || at > last), "\"%s\" is not where it belongs in the log:\n%s",
                              *needles, text);
                last = at;
        }
        free(text);
}

static long elapsed_ms(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static const char *const *strv3(const char *a, const char *b, const char *c)
{
        static const char *v[4];
        v[0] = a, v[1] = b, v[2] = c, v[3] = NULL;
        return v;
}

/* The set path of session S. */
static char *session_set(const char *s)
{
        return get_string(s, BACKUP, "SnapshotSet");
}

/* Wait until an object under PREFIX is removed. */
static bool wait_removed(const char *prefix)
{
        return testbus_wait_object(&tb, "InterfacesRemoved", prefix, NULL, 0, 10000);
}

/*
 * Writers handle their events in order: once they answered an Identify sent
 * now, they have logged every event sent before it (Abort, BackupShutdown).
 */
static void sync_writers(void)
{
        char *s = start_backup(tb.conn, NULL);
        session_ok(tb.conn, s, "GatherWriterMetadata");
        session_ok(tb.conn, s, "Release");
        free(s);
}

/* GatherWriterStatus on session S lists writer NAME in STATE with FAILURE. */
static void expect_writer_status(const char *s, const char *name, const char *state,
                                 const char *failure)
{
        DBusMessage *reply = session_call(tb.conn, s, "GatherWriterStatus");
        DBusMessageIter iter, array, st;
        bool found = false;

        expect_ok(reply, "GatherWriterStatus");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
             dbus_message_iter_next(&array)) {
                const char *f[6];
                dbus_message_iter_recurse(&array, &st);
                for (int i = 0; i < 6; i++, dbus_message_iter_next(&st))
                        dbus_message_iter_get_basic(&st, &f[i]);
                if (strcmp(f[1], name) != 0)
                        continue;
                found = true;
                ck_assert_msg(strcmp(f[3], state) == 0 && strcmp(f[4], failure) == 0,
                              "writer %s is %s/%s, wanted %s/%s", name, f[3], f[4], state,
                              failure);
        }
        ck_assert_msg(found, "GatherWriterStatus does not list writer %s", name);
        dbus_message_unref(reply);
}

/* --- a whole backup ------------------------------------------------------------------------- */

/* Three writers at three levels: every phase in order, freezes by level, the hold inside. */
START_TEST(test_full_backup_three_levels)
{
        writer("sys", "system", NULL);
        writer("be", "back-end", NULL);
        writer("fe", "front-end", NULL);
        char *s = prepared_session(tb.conn);
        char *set = session_set(s);

        ok(session_call(tb.conn, s, "DoSnapshotSet"), "DoSnapshotSet");
        expect_property(set, IFACE ".SnapshotSet", "State", "ready");
        ok(session_call(tb.conn, s, "BackupComplete"), "BackupComplete");
        expect_property(set, IFACE ".SnapshotSet", "State", "backup-complete");

        expect_order(strv3("fe Identify", "fe PrepareBackup", "fe PrepareSnapshot"));
        expect_order(strv3("be PrepareSnapshot", "fe Freeze", "be Freeze"));
        expect_order(strv3("sys PrepareSnapshot", "be Freeze", "sys Freeze"));
        expect_order(strv3("sys Freeze", "hold ", "commit "));
        /* Thaws go out together; every one is answered before any PostSnapshot. */
        expect_order(strv3("commit ", "release ", "fe Thaw"));
        expect_order(strv3("release ", "be Thaw", "sys PostSnapshot"));
        expect_order(strv3("release ", "sys Thaw", "be PostSnapshot"));
        expect_order(strv3("fe Thaw", "fe PostSnapshot", "fe BackupComplete"));
        ck_assert(!logged("Abort"));
        ck_assert(!logged("delete "));

        /* Releasing the session auto-releases its (backup context) snapshots. */
        session_ok(tb.conn, s, "Release");
        ck_assert_msg(wait_removed(ROOT "/snapshot/"), "the snapshots outlived the session");
        sync_writers();
        ck_assert(logged("delete "));
        /* Writers hear the backup is over while the provider deletes: either order. */
        expect_order(strv3("fe BackupComplete", "fe BackupShutdown", NULL));
        expect_order(strv3("fe BackupComplete", "delete ", NULL));
        free(set);
        free(s);
}
END_TEST

/* --- writers that fail ---------------------------------------------------------------------- */

START_TEST(test_writer_veto_at_freeze_aborts_and_thaws_the_others)
{
        writer("fe", "front-end", NULL);
        const char *be = writer("be", "back-end", "--fail Freeze:RETRYABLE");
        char *s = prepared_session(tb.conn);

        expect_error(session_call(tb.conn, s, "DoSnapshotSet"), "WriterFailed",
                     "test writer be vetoes Freeze");
        sync_writers();
        expect_order(strv3("fe Freeze", "be Freeze", "fe Abort"));
        ck_assert(!logged("hold "));
        ck_assert(logged("abort "));
        expect_property(be, WRITER, "State", "FAILED_AT_FREEZE");
        expect_writer_status(s, "be", "FAILED_AT_FREEZE", "RETRYABLE");
        expect_writer_status(s, "fe", "STABLE", "NONE");
        /* The creation lock is free again: the next set can start. */
        char *s2 = start_backup(tb.conn, NULL);
        session_ok(tb.conn, s2, "StartSnapshotSet");
        free(s2);
        free(s);
}
END_TEST

START_TEST(test_writer_that_never_answers_times_out)
{
        writer("fe", "front-end", NULL);
        const char *be = writer("be", "back-end", "--hang Freeze --freeze-timeout 1000");
        char *s = prepared_session(tb.conn);
        struct timespec start;

        clock_gettime(CLOCK_MONOTONIC, &start);
        expect_error(session_call(tb.conn, s, "DoSnapshotSet"), "WriterFailed", "1000 ms");
        long ms = elapsed_ms(&start);
        ck_assert_msg(ms < 1000 + 1000, "the set failed %ld ms after DoSnapshotSet", ms);
        sync_writers();
        ck_assert(logged("fe Abort"));
        ck_assert(!logged("hold "));
        expect_property(be, WRITER, "State", "FAILED_AT_FREEZE");
        free(s);
}
END_TEST

START_TEST(test_writer_killed_mid_freeze)
{
        writer("fe", "front-end", NULL);
        writer("be", "back-end", "--exit-at Freeze");
        char *s = prepared_session(tb.conn);
        struct timespec start;

        clock_gettime(CLOCK_MONOTONIC, &start);
        expect_error(session_call(tb.conn, s, "DoSnapshotSet"), "WriterFailed", "left the bus");
        /* Not the 60 s freeze timeout: leaving the bus is noticed at once. */
        ck_assert_int_lt(elapsed_ms(&start), 10000);
        sync_writers();
        ck_assert(logged("fe Abort"));
        ck_assert(!logged("hold "));
        free(s);
}
END_TEST

/* --- requesters -------------------------------------------------------------------------------- */

/* The requester's connection drops while its writers are frozen: they thaw, nothing stays. */
START_TEST(test_requester_killed_mid_set)
{
        const char *fe = writer("fe", "front-end", NULL);
        writer("be", "back-end", "--hang Freeze");
        DBusConnection *req = testbus_connect(&tb);
        char *s = prepared_session(req);
        char *set = session_set(s);

        DBusMessage *msg = dbus_message_new_method_call(IFACE, s, BACKUP, "DoSnapshotSet");
        ck_assert(dbus_connection_send(req, msg, NULL));
        dbus_message_unref(msg);
        dbus_connection_flush(req);
        /* Front-end frozen: the back-end writer has its Freeze now, and hangs. */
        ck_assert_msg(testbus_wait_property(&tb, fe, "State", "WAITING_FOR_THAW", 10000),
                      "the front-end writer never froze");
        testbus_disconnect(req);
        ck_assert_msg(testbus_wait_property(&tb, set, "State", "aborted", 10000),
                      "the set did not abort when its requester left");
        sync_writers();
        /* Each writer's own order; two processes' lines may interleave either way. */
        expect_order(strv3("fe Freeze", "fe Abort", NULL));
        expect_order(strv3("be Freeze", "be Abort", NULL));
        ck_assert(!logged("hold "));
        free(set);
        free(s);
}
END_TEST

/* systemctl stop mid-set: the frozen writers thaw before vssd is gone. */
START_TEST(test_stop_mid_set_thaws_writers)
{
        const char *fe = writer("fe", "front-end", NULL);
        writer("be", "back-end", "--hang Freeze");
        char *s = prepared_session(tb.conn);

        DBusMessage *msg = dbus_message_new_method_call(IFACE, s, BACKUP, "DoSnapshotSet");
        ck_assert(dbus_connection_send(tb.conn, msg, NULL));
        dbus_message_unref(msg);
        ck_assert_msg(testbus_wait_property(&tb, fe, "State", "WAITING_FOR_THAW", 10000),
                      "the front-end writer never froze");
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        /* Writers end when vssd leaves the bus: then their logs are complete. */
        for (size_t i = 0; i < n_writers; i++)
                ck_assert_int_eq(waitpid(writers[i], NULL, 0), writers[i]);
        n_writers = 0;
        expect_order(strv3("fe Freeze", "fe Abort", NULL));
        expect_order(strv3("be Freeze", "be Abort", NULL));
        ck_assert(logged("abort "));
        ck_assert(!logged("hold "));
        free(s);
}
END_TEST

START_TEST(test_two_requesters_race)
{
        DBusConnection *other = testbus_connect(&tb);
        char *first = start_backup(other, NULL);
        char *second = start_backup(tb.conn, NULL);

        session_ok(other, first, "StartSnapshotSet");
        expect_error(session_call(tb.conn, second, "StartSnapshotSet"), "SnapshotSetInProgress",
                     NULL);
        ok(add_volume(other, first, "/dev/fake/a"), "AddToSnapshotSet");
        session_ok(other, first, "PrepareForBackup");
        session_ok(other, first, "DoSnapshotSet");
        /* DoSnapshotSet of the first returned: the second may start now. */
        session_ok(tb.conn, second, "StartSnapshotSet");
        testbus_disconnect(other);
        free(first);
        free(second);
}
END_TEST

/* CreateSnapshotSet in a backup context: the snapshots go when the caller leaves. */
START_TEST(test_create_snapshot_set_auto_release)
{
        DBusConnection *req = testbus_connect(&tb);
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "CreateSnapshotSet");
        const char *vols[] = { "/dev/fake/a", "/dev/fake/b" };
        const char **v = vols;
        const char *set, *warnings;

        dbus_message_append_args(msg, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &v, 2, DBUS_TYPE_INVALID);
        testbus_append_options(msg, NULL, NULL, 0);
        DBusMessage *reply = testbus_send_msg(req, msg);
        expect_ok(reply, "CreateSnapshotSet");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &set, DBUS_TYPE_STRING,
                                        &warnings, DBUS_TYPE_INVALID));
        expect_property(set, IFACE ".SnapshotSet", "State", "ready");
        ck_assert(!logged("delete "));
        testbus_disconnect(req);
        ck_assert_msg(wait_removed(ROOT "/snapshot/"), "the snapshots outlived their requester");
        ck_assert(logged("delete "));
        dbus_message_unref(reply);
}
END_TEST

/* --- bad input: an error naming the problem, nothing changes, the daemon goes on ------------ */

START_TEST(test_bad_requests)
{
        const char *wrong = "not a dict";
        char *s = start_backup(tb.conn, NULL);
        DBusConnection *stranger = testbus_connect(&tb);

        expect_error(testbus_call(&tb, ROOT, IFACE, "StartBackup", DBUS_TYPE_STRING, &wrong,
                                  DBUS_TYPE_INVALID),
                     "org.freedesktop.DBus.Error.InvalidArgs", "a{sv}");
        expect_error(session_call(tb.conn, s, "DoSnapshotSet"), "BadState", NULL);
        expect_error(session_call(stranger, s, "StartSnapshotSet"), "AccessDenied", NULL);
        session_ok(tb.conn, s, "StartSnapshotSet");
        expect_error(add_volume(tb.conn, s, "relative/path"), "InvalidArgs", "absolute");
        expect_error(add_volume(tb.conn, s, "/dev/no-such-disk"), "VolumeNotSupported",
                     "/dev/no-such-disk");
        ok(add_volume(tb.conn, s, "/dev/fake/v0"), "AddToSnapshotSet");
        expect_error(add_volume(tb.conn, s, "/dev/fake/v0"), "VolumeAlreadyInSet", NULL);
        for (int i = 1; i < 64; i++) {
                char v[32];
                snprintf(v, sizeof(v), "/dev/fake/v%d", i);
                ok(add_volume(tb.conn, s, v), "AddToSnapshotSet");
        }
        expect_error(add_volume(tb.conn, s, "/dev/fake/v64"), "MaximumVolumesReached", "64");
        expect_property(ROOT, IFACE, "Version", "0.1.0");
        testbus_disconnect(stranger);
        free(s);
}
END_TEST

/* A selected component with files outside the set: PrepareForBackup refuses. */
START_TEST(test_component_outside_the_set_is_inconsistent)
{
        writer("db", "back-end", "--component :pgdata:/etc/passwd");
        const char *instance = "db-1", *root = "", *name = "pgdata", *other = "nope";
        char *s = start_backup(tb.conn, NULL);

        session_ok(tb.conn, s, "GatherWriterMetadata");
        expect_error(testbus_call(&tb, s, BACKUP, "AddComponent", DBUS_TYPE_STRING, &instance,
                                  DBUS_TYPE_STRING, &root, DBUS_TYPE_STRING, &other,
                                  DBUS_TYPE_INVALID),
                     "NotFound", "nope");
        ok(testbus_call(&tb, s, BACKUP, "AddComponent", DBUS_TYPE_STRING, &instance,
                        DBUS_TYPE_STRING, &root, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID),
           "AddComponent");
        session_ok(tb.conn, s, "StartSnapshotSet");
        ok(add_volume(tb.conn, s, "/dev/fake/a"), "AddToSnapshotSet");
        expect_error(session_call(tb.conn, s, "PrepareForBackup"), "InconsistentSnapshot",
                     "/etc/passwd");
        ck_assert(!logged("db PrepareBackup"));
        free(s);
}
END_TEST

/* The test itself is a writer here, to answer with cookies of its choosing. */
START_TEST(test_stale_and_foreign_answers)
{
        DBusConnection *w = testbus_connect(&tb);
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "RegisterWriter");
        const char *keys[] = { "Name", "InstanceId" }, *values[] = { "manual", "manual-1" };
        const char *path, *none = "", *bogus = "BOGUS";
        dbus_uint64_t cookie = 12345;

        testbus_append_options(msg, keys, values, 2);
        DBusMessage *reg = testbus_send_msg(w, dbus_message_copy(msg));
        expect_ok(reg, "RegisterWriter");
        ck_assert(dbus_message_get_args(reg, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        /* The same instance id twice. */
        expect_error(testbus_send_msg(tb.conn, msg), "AlreadyExists", "manual-1");

        expect_error(testbus_call_on(w, path, WRITER, "Answer", DBUS_TYPE_UINT64, &cookie,
                                     DBUS_TYPE_STRING, &none, DBUS_TYPE_STRING, &none,
                                     DBUS_TYPE_INVALID),
                     "StaleCookie", NULL);
        expect_error(testbus_call_on(tb.conn, path, WRITER, "Answer", DBUS_TYPE_UINT64, &cookie,
                                     DBUS_TYPE_STRING, &none, DBUS_TYPE_STRING, &none,
                                     DBUS_TYPE_INVALID),
                     "AccessDenied", NULL);
        expect_error(testbus_call_on(w, path, WRITER, "Answer", DBUS_TYPE_UINT64, &cookie,
                                     DBUS_TYPE_STRING, &bogus, DBUS_TYPE_STRING, &none,
                                     DBUS_TYPE_INVALID),
                     "InvalidArgs", "BOGUS");
        expect_property(path, WRITER, "State", "STABLE");
        dbus_message_unref(reg);
        testbus_disconnect(w);
}
END_TEST

static Suite *lifecycle_suite(void)
{
        Suite *s = suite_create("bus-lifecycle");
        TCase *tc = tcase_create("lifecycle");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_full_backup_three_levels);
        tcase_add_test(tc, test_writer_veto_at_freeze_aborts_and_thaws_the_others);
        tcase_add_test(tc, test_writer_that_never_answers_times_out);
        tcase_add_test(tc, test_writer_killed_mid_freeze);
        tcase_add_test(tc, test_requester_killed_mid_set);
        tcase_add_test(tc, test_stop_mid_set_thaws_writers);
        tcase_add_test(tc, test_two_requesters_race);
        tcase_add_test(tc, test_create_snapshot_set_auto_release);
        tcase_add_test(tc, test_bad_requests);
        tcase_add_test(tc, test_component_outside_the_set_is_inconsistent);
        tcase_add_test(tc, test_stale_and_foreign_answers);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(lifecycle_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
