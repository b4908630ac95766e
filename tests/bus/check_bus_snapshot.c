/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_snapshot.c: what vssd shows and does with snapshots once they
 * exist, end to end: the real vssd on a private bus with the fake provider.
 * Device and copy-on-write figures, Expose and Unexpose, Revert (merging,
 * then gone), a store overflowing (invalid), vssd restarting and adopting
 * what the provider kept (the auto-release rule included), EnableVolume and
 * DisableVolume, MonitorIntervalMs, and malformed calls.
 *
 * The fake saves its snapshots to a state file, so a restarted vssd finds
 * them as it would find a real provider's. Every wait is for a signal, never
 * a sleep.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define SNAPSHOT IFACE ".Snapshot"
#define SET IFACE ".SnapshotSet"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define GIB (1024ull * 1024 * 1024)
#define WAIT_MS 10000

/* Monitoring every 100 ms keeps the tests short; the fake keeps its snapshots in a file. */
#define CONFIG "state = @DIR@/fake.state\n\n[daemon]\nmonitor_interval_ms = 100\n"

static TestBus tb;

static void setup(void)
{
        testbus_start(&tb, CONFIG);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

static const char *dir_file(const char *name)
{
        static char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", tb.dir, name);
        return path;
}

static void write_control(const char *text)
{
        FILE *f = fopen(dir_file("fake.control"), "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

static bool fake_logged(const char *needle)
{
        char *text = testbus_read_file(dir_file("fake.log"));
        bool found = strstr(text, needle) != NULL;
        free(text);
        return found;
}

static void ok(DBusMessage *reply, const char *what)
{
        testbus_expect_ok(reply, what);
        dbus_message_unref(reply);
}

/* The string a method returned; malloc()ed. */
static char *reply_string(DBusMessage *reply, const char *what)
{
        const char *s;
        testbus_expect_ok(reply, what);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID));
        char *ret = strdup(s);
        dbus_message_unref(reply);
        return ret;
}

static void expect_string(const char *path, const char *iface, const char *prop,
                          const char *want)
{
        char *v = testbus_get_string(&tb, path, iface, prop);
        ck_assert_msg(strcmp(v, want) == 0, "%s of %s is \"%s\", wanted \"%s\"", prop, path, v,
                      want);
        free(v);
}

/* --- making snapshots ------------------------------------------------------------------ */

/* CreateSnapshotSet of VOLUMES (NULL-terminated) in CONTEXT, on CONN; the set's path. */
static char *create_set(DBusConnection *conn, const char *context, const char *const *volumes)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "CreateSnapshotSet");
        const char *key = "Context", *path;
        int n = 0;
        while (volumes[n])
                n++;
        ck_assert(dbus_message_append_args(msg, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &volumes, n,
                                           DBUS_TYPE_INVALID));
        testbus_append_options(msg, &key, &context, 1);
        DBusMessage *reply = testbus_send_msg(conn, msg);
        testbus_expect_ok(reply, "CreateSnapshotSet");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        char *ret = strdup(path);
        dbus_message_unref(reply);
        return ret;
}

static const char *const one[] = { "/dev/fake/a", NULL };
static const char *const two[] = { "/dev/fake/a", "/dev/fake/b", NULL };

/* The path of the snapshot of ORIGIN in set SET (malloc()ed), found among the managed objects. */
static char *snapshot_of(const char *set, const char *origin)
{
        DBusMessage *reply = testbus_call(&tb, ROOT, "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects", DBUS_TYPE_INVALID);
        DBusMessageIter iter, objects, entry;
        char *found = NULL;

        testbus_expect_ok(reply, "GetManagedObjects");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &objects);
        for (; !found && dbus_message_iter_get_arg_type(&objects) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&objects)) {
                const char *path;
                dbus_message_iter_recurse(&objects, &entry);
                dbus_message_iter_get_basic(&entry, &path);
                if (strncmp(path, ROOT "/snapshot/", strlen(ROOT "/snapshot/")) != 0)
                        continue;
                char *s = testbus_get_string(&tb, path, SNAPSHOT, "SnapshotSet");
                char *o = testbus_get_string(&tb, path, SNAPSHOT, "Origin");
                if (strcmp(s, set) == 0 && strcmp(o, origin) == 0)
                        found = strdup(path);
                free(s);
                free(o);
        }
        dbus_message_unref(reply);
        ck_assert_msg(found, "set %s has no snapshot of %s", set, origin);
        return found;
}

static DBusMessage *expose(const char *snapshot, const char *mount_point)
{
        return testbus_call(&tb, snapshot, SNAPSHOT, "Expose", DBUS_TYPE_STRING, &mount_point,
                            DBUS_TYPE_INVALID);
}

static DBusMessage *snapshot_call(const char *snapshot, const char *method)
{
        return testbus_call(&tb, snapshot, SNAPSHOT, method, DBUS_TYPE_INVALID);
}

/* --- what a snapshot shows ---------------------------------------------------------------- */

START_TEST(test_device_and_cow_figures)
{
        char *set = create_set(tb.conn, "app-rollback", two);
        char *snap = snapshot_of(set, "/dev/fake/a");
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char device[128];

        snprintf(device, sizeof(device), "/dev/fake/snap-%s", id);
        expect_string(snap, SNAPSHOT, "Device", device);
        expect_string(snap, SNAPSHOT, "ExposedPath", "");
        /* The first monitor pass brings the copy-on-write figures. */
        DBusMessage *sig = testbus_wait_changed(&tb, snap, "CowSizeBytes", WAIT_MS);
        uint64_t size = 0;
        ck_assert_msg(sig, "no PropertiesChanged for CowSizeBytes");
        ck_assert(testbus_changed_uint(sig, "CowSizeBytes", &size));
        ck_assert_uint_eq(size, GIB);
        dbus_message_unref(sig);
        ck_assert_uint_eq(testbus_get_uint(&tb, snap, SNAPSHOT, "CowUsedBytes"), 64 * 1024);
        free(id);
        free(snap);
        free(set);
}
END_TEST

START_TEST(test_expose_and_unexpose)
{
        char *set = create_set(tb.conn, "app-rollback", one);
        char *snap = snapshot_of(set, "/dev/fake/a");
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char want[128];

        snprintf(want, sizeof(want), "/run/vss/expose/%s", id);
        char *path = reply_string(expose(snap, ""), "Expose");
        ck_assert_str_eq(path, want);
        ck_assert_msg(testbus_wait_property(&tb, snap, "ExposedPath", want, WAIT_MS),
                      "no PropertiesChanged for ExposedPath");
        expect_string(snap, SNAPSHOT, "ExposedPath", want);
        testbus_expect_error(expose(snap, "/mnt/other"), "BadState", "already exposed at");
        ok(snapshot_call(snap, "Unexpose"), "Unexpose");
        ck_assert(testbus_wait_property(&tb, snap, "ExposedPath", "", WAIT_MS));
        testbus_expect_error(snapshot_call(snap, "Unexpose"), "BadState", "not exposed");
        free(path);
        path = reply_string(expose(snap, "/mnt/snapshot-a"), "Expose");
        ck_assert_str_eq(path, "/mnt/snapshot-a");
        snprintf(want, sizeof(want), "expose %s /run/vss/expose/%s", id, id);
        ck_assert(fake_logged(want));
        free(path);
        free(id);
        free(snap);
        free(set);
}
END_TEST

START_TEST(test_revert_merges_then_the_snapshot_goes)
{
        char *set = create_set(tb.conn, "app-rollback", two);
        char *snap = snapshot_of(set, "/dev/fake/a");

        ok(snapshot_call(snap, "Revert"), "Revert");
        ck_assert_msg(testbus_wait_property(&tb, snap, "State", "merging", WAIT_MS),
                      "the snapshot never showed State merging");
        ck_assert_msg(testbus_wait_object(&tb, "InterfacesRemoved", snap, NULL, 0, WAIT_MS),
                      "the merged snapshot stayed");
        expect_string(set, SET, "State", "ready"); /* its other snapshot holds it */
        ck_assert(testbus_log_contains(&tb, "the merge of snapshot"));
        free(snap);
        free(set);
}
END_TEST

START_TEST(test_store_overflow_turns_invalid)
{
        char *set = create_set(tb.conn, "app-rollback", one);
        char *snap = snapshot_of(set, "/dev/fake/a");
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char line[128];

        snprintf(line, sizeof(line), "invalidate %s\n", id);
        write_control(line);
        ck_assert_msg(testbus_wait_property(&tb, snap, "State", "invalid", WAIT_MS),
                      "no PropertiesChanged State invalid");
        DBusMessage *sig = testbus_wait_changed(&tb, snap, "CowUsedBytes", WAIT_MS);
        uint64_t used = 0;
        ck_assert_msg(sig, "no PropertiesChanged for CowUsedBytes");
        ck_assert(testbus_changed_uint(sig, "CowUsedBytes", &used));
        ck_assert_uint_eq(used, GIB);
        dbus_message_unref(sig);
        ck_assert(testbus_log_contains(&tb, id));
        ck_assert(testbus_log_contains(&tb, "of /dev/fake/a is invalid now"));
        testbus_expect_error(expose(snap, ""), "BadState", "invalid");
        testbus_expect_error(snapshot_call(snap, "Revert"), "BadState", "invalid");
        free(id);
        free(snap);
        free(set);
}
END_TEST

/* --- vssd restarting -------------------------------------------------------------------- */

START_TEST(test_restart_adopts_and_releases)
{
        DBusConnection *req = testbus_connect(&tb);
        char *kept = create_set(req, "app-rollback", two);
        char *doomed = create_set(req, "backup", (const char *const[]){ "/dev/fake/c", NULL });
        char *snap = snapshot_of(kept, "/dev/fake/a");
        char *gone = snapshot_of(doomed, "/dev/fake/c");
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char *gone_id = testbus_get_string(&tb, gone, SNAPSHOT, "Id");
        char *device = testbus_get_string(&tb, snap, SNAPSHOT, "Device");
        uint64_t created = testbus_get_uint(&tb, snap, SNAPSHOT, "CreationTime");
        free(reply_string(expose(snap, "/mnt/kept"), "Expose"));

        /* A crash: no session ends, nothing is released on the way out. */
        testbus_kill_vssd(&tb);
        testbus_disconnect(req);
        ck_assert_msg(testbus_start_vssd(&tb, NULL), "vssd did not come back; log: %s",
                      tb.vssd_log);
        /* By the time it owns its name: the persistent ones are back, the others gone. */
        expect_string(snap, SNAPSHOT, "Id", id);
        expect_string(snap, SNAPSHOT, "SnapshotSet", kept);
        expect_string(snap, SNAPSHOT, "Device", device);
        expect_string(snap, SNAPSHOT, "ExposedPath", "/mnt/kept");
        expect_string(kept, SET, "State", "ready");
        expect_string(kept, SET, "Session", "/");
        /* The provider's clock, read at commit, where vssd read its own after the window. */
        uint64_t adopted = testbus_get_uint(&tb, snap, SNAPSHOT, "CreationTime");
        ck_assert_uint_lt(adopted > created ? adopted - created : created - adopted, 5000000);
        free(snapshot_of(kept, "/dev/fake/b"));
        testbus_expect_error(testbus_call(&tb, gone, "org.freedesktop.DBus.Properties", "GetAll",
                                          DBUS_TYPE_STRING, &(const char *){ SNAPSHOT },
                                          DBUS_TYPE_INVALID),
                             "org.freedesktop.DBus.Error.UnknownObject", NULL);
        ck_assert(testbus_log_contains(&tb, "belonged to a session of an earlier vssd"));
        char *state = testbus_read_file(dir_file("fake.state"));
        ck_assert_msg(!strstr(state, gone_id) && strstr(state, id), "state file:\n%s", state);
        free(state);
        free(gone_id);
        free(device);
        free(id);
        free(gone);
        free(snap);
        free(doomed);
        free(kept);
}
END_TEST

/* Signals until vssd's name goes: was PATH announced as removed before? */
static bool removed_before_leaving(const char *path)
{
        bool removed = false;
        for (int rounds = 0; rounds < 100; rounds++) {
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(tb.conn))) {
                        const char *a = "", *b = "", *c = "";
                        bool left = dbus_message_is_signal(m, "org.freedesktop.DBus",
                                                           "NameOwnerChanged") &&
                                    dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &a,
                                                          DBUS_TYPE_STRING, &b, DBUS_TYPE_STRING,
                                                          &c, DBUS_TYPE_INVALID) &&
                                    strcmp(a, IFACE) == 0 && !c[0];
                        if (dbus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager",
                                                   "InterfacesRemoved"))
                                removed = removed || (dbus_message_get_args(
                                                                m, NULL, DBUS_TYPE_OBJECT_PATH,
                                                                &a, DBUS_TYPE_INVALID) &&
                                                              strcmp(a, path) == 0);
                        dbus_message_unref(m);
                        if (left)
                                return removed;
                }
                ck_assert(dbus_connection_read_write(tb.conn, 100));
        }
        ck_abort_msg("vssd's name never went");
        return removed;
}

/*
 * The name comes last: a client that sees it sees every adopted snapshot too.
 * And a clean stop does not announce snapshots as removed: they stay.
 */
START_TEST(test_name_is_taken_after_adoption)
{
        char *set = create_set(tb.conn, "nas-rollback", one);
        char *snap = snapshot_of(set, "/dev/fake/a");

        ck_assert_int_eq(testbus_stop_vssd(&tb), 0); /* persistent: survives a clean stop */
        ck_assert_msg(!removed_before_leaving(snap), "a clean stop announced %s removed", snap);
        write_control("stall query 1500\n");
        ck_assert(testbus_start_vssd(&tb, NULL));
        expect_string(snap, SNAPSHOT, "Origin", "/dev/fake/a");
        expect_string(set, SET, "State", "ready");
        free(snap);
        free(set);
}
END_TEST

START_TEST(test_failing_query_is_logged_and_vssd_starts)
{
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        write_control("fail recover\nfail query\n");
        ck_assert(testbus_start_vssd(&tb, NULL));
        ck_assert(testbus_log_contains(&tb, "could not list its snapshots"));
        ck_assert(testbus_log_contains(&tb, "could not recover what a stopped vssd left"));
        expect_string(ROOT, IFACE, "Version", "0.1.0");
}
END_TEST

/* --- volumes -------------------------------------------------------------------------------- */

/* METHOD(s target, a{sv} options) on the root, with N string options. */
static DBusMessage *volume_call(const char *method, const char *target, const char *key,
                                const char *value)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, method);
        ck_assert(dbus_message_append_args(msg, DBUS_TYPE_STRING, &target, DBUS_TYPE_INVALID));
        testbus_append_options(msg, &key, &value, key ? 1 : 0);
        return testbus_send_msg(tb.conn, msg);
}

START_TEST(test_enable_and_disable_volume)
{
        char *volume = reply_string(volume_call("EnableVolume", "/dev/fakeplain/x", NULL, NULL),
                                    "EnableVolume");
        ck_assert_str_eq(volume, "/dev/fake/x");
        free(volume);
        testbus_expect_error(volume_call("EnableVolume", "/dev/fakeplain/x", NULL, NULL),
                             "AlreadyExists", "enabled already");
        testbus_expect_error(volume_call("EnableVolume", "/dev/sdb", NULL, NULL), "InvalidArgs",
                             "wraps only /dev/fakeplain/NAME");
        testbus_expect_error(volume_call("EnableVolume", "/dev/fakeplain/y", "Provider", "nope"),
                             "NotFound", "no provider named 'nope'");
        volume = reply_string(volume_call("EnableVolume", "/dev/fakeplain/y", "Provider", "fake"),
                              "EnableVolume");
        ck_assert_str_eq(volume, "/dev/fake/y");
        free(volume);
        ok(volume_call("DisableVolume", "/dev/fake/x", NULL, NULL), "DisableVolume");
        testbus_expect_error(volume_call("DisableVolume", "/dev/fake/x", NULL, NULL), "NotFound",
                             "not an enabled volume");
        /* A volume with snapshots stays enabled. */
        char *set = create_set(tb.conn, "app-rollback", (const char *const[]){ "/dev/fake/y",
                                                                               NULL });
        testbus_expect_error(volume_call("DisableVolume", "/dev/fake/y", NULL, NULL), "Busy",
                             "/dev/fake/y still has 1 snapshot(s)");
        free(set);
}
END_TEST

/* --- malformed calls: an error naming the problem, nothing changed -------------------------- */

START_TEST(test_malformed_calls_change_nothing)
{
        char *set = create_set(tb.conn, "app-rollback", one);
        char *snap = snapshot_of(set, "/dev/fake/a");
        dbus_int32_t number = 7;
        const char *word = "x";

        testbus_expect_error(testbus_call(&tb, snap, SNAPSHOT, "Expose", DBUS_TYPE_INT32, &number,
                                          DBUS_TYPE_INVALID), INVALID_ARGS, "s");
        testbus_expect_error(expose(snap, "relative/dir"), "InvalidArgs",
                             "\"relative/dir\" is not an absolute path");
        testbus_expect_error(expose(snap, "/mnt/../etc"), "InvalidArgs", "\"..\"");
        testbus_expect_error(testbus_call(&tb, snap, SNAPSHOT, "Revert", DBUS_TYPE_STRING, &word,
                                          DBUS_TYPE_INVALID), INVALID_ARGS, NULL);
        testbus_expect_error(volume_call("EnableVolume", "dev/fakeplain/x", NULL, NULL),
                             "InvalidArgs", "absolute");
        testbus_expect_error(volume_call("EnableVolume", "/dev/fakeplain/x", "Bogus", "1"),
                             "InvalidArgs", "unknown option \"Bogus\"");
        testbus_expect_error(testbus_call(&tb, ROOT, IFACE, "DisableVolume", DBUS_TYPE_STRING,
                                          &word, DBUS_TYPE_INVALID), INVALID_ARGS, "a{sv}");
        expect_string(snap, SNAPSHOT, "ExposedPath", "");
        expect_string(snap, SNAPSHOT, "State", "valid");
        ck_assert(!fake_logged("expose "));
        ck_assert(!fake_logged("enable_volume "));
        free(snap);
        free(set);
}
END_TEST

/* --- MonitorIntervalMs ------------------------------------------------------------------------ */

static DBusMessage *set_interval(dbus_uint32_t v)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT,
                                                        "org.freedesktop.DBus.Properties", "Set");
        const char *iface = IFACE, *prop = "MonitorIntervalMs";
        DBusMessageIter iter, variant;

        dbus_message_iter_init_append(msg, &iter);
        dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &iface);
        dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &prop);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "u", &variant);
        dbus_message_iter_append_basic(&variant, DBUS_TYPE_UINT32, &v);
        dbus_message_iter_close_container(&iter, &variant);
        return testbus_send_msg(tb.conn, msg);
}

START_TEST(test_monitor_interval_property)
{
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT, IFACE, "MonitorIntervalMs"), 100);
        ok(set_interval(250), "Set MonitorIntervalMs");
        DBusMessage *sig = testbus_wait_changed(&tb, ROOT, "MonitorIntervalMs", WAIT_MS);
        uint64_t v = 0;
        ck_assert_msg(sig, "no PropertiesChanged for MonitorIntervalMs");
        ck_assert(testbus_changed_uint(sig, "MonitorIntervalMs", &v));
        ck_assert_uint_eq(v, 250);
        dbus_message_unref(sig);
        testbus_expect_error(set_interval(99), "InvalidArgs", "between 100 and 60000 ms, not 99");
        testbus_expect_error(set_interval(60001), "InvalidArgs", "not 60001");
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT, IFACE, "MonitorIntervalMs"), 250);
        ck_assert(testbus_log_contains(&tb, "MonitorIntervalMs set to 250 ms"));
}
END_TEST

static Suite *snapshot_suite(void)
{
        Suite *s = suite_create("bus: snapshots");
        TCase *tc = tcase_create("snapshots");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_device_and_cow_figures);
        tcase_add_test(tc, test_expose_and_unexpose);
        tcase_add_test(tc, test_revert_merges_then_the_snapshot_goes);
        tcase_add_test(tc, test_store_overflow_turns_invalid);
        tcase_add_test(tc, test_restart_adopts_and_releases);
        tcase_add_test(tc, test_name_is_taken_after_adoption);
        tcase_add_test(tc, test_failing_query_is_logged_and_vssd_starts);
        tcase_add_test(tc, test_enable_and_disable_volume);
        tcase_add_test(tc, test_malformed_calls_change_nothing);
        tcase_add_test(tc, test_monitor_interval_property);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(snapshot_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
