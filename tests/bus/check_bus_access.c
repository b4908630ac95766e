/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_access.c: who may call what, proven from processes of other
 * uids against the real vssd on a private bus. vssd runs with
 * backup_group = daemon and writer_group = bin, so the users every Debian
 * system has play the parts: daemon (uid 1, primary group daemon) is a
 * backup operator, bin (uid 2, primary group bin) a writer, nobody (65534)
 * an outsider. No user or group is created. Each caller is a forked child
 * that drops its privileges and calls on its own connection
 * (testbus_run_as); root's calls use the test's own connection.
 *
 * What a user would notice: anyone can list; a refused call gets
 * AccessDenied saying what it needs and how an administrator grants it, and
 * changes nothing; a missing group leaves everything to root, with a warning
 * at start; and a caller's calls are answered in the order it made them,
 * also while vssd is still asking the bus who it is.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define SNAPSHOT IFACE ".Snapshot"
#define SET IFACE ".SnapshotSet"
#define BACKUP IFACE ".Backup"
#define WRITER IFACE ".Writer"
#define PROPERTIES "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define FAKE ROOT "/provider/fake"
#define DENIED "AccessDenied"

#define UID_DAEMON 1   /* in group daemon: the backup group here */
#define UID_BIN 2      /* in group bin: the writer group here */
#define UID_NOBODY 65534

#define GROUPS "[daemon]\nbackup_group = daemon\nwriter_group = bin\n"
#define MISSING_GROUP "vss-test-no-such-group"

static TestBus tb;

static void start(const char *config)
{
        testbus_start(&tb, config);
        testbus_open_to_all(&tb);
}

static void setup(void)
{
        start(GROUPS);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

/* --- messages ------------------------------------------------------------------------------ */

static DBusMessage *msg_new(const char *path, const char *iface, const char *method)
{
        DBusMessage *m = dbus_message_new_method_call(IFACE, path, iface, method);

        ck_assert_ptr_nonnull(m);
        return m;
}

static DBusMessage *msg_args(const char *path, const char *iface, const char *method,
                             int first_arg_type, ...)
{
        DBusMessage *m = msg_new(path, iface, method);
        va_list ap;

        va_start(ap, first_arg_type);
        ck_assert(dbus_message_append_args_valist(m, first_arg_type, ap));
        va_end(ap);
        return m;
}

static DBusMessage *get_msg(const char *path, const char *iface, const char *prop)
{
        return msg_args(path, PROPERTIES, "Get", DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                        &prop, DBUS_TYPE_INVALID);
}

static DBusMessage *create_msg(const char *volume)
{
        const char *volumes[] = { volume };
        const char *key = "Context", *value = "app-rollback";
        const char **v = volumes;
        DBusMessage *m = msg_args(ROOT, IFACE, "CreateSnapshotSet", DBUS_TYPE_ARRAY,
                                  DBUS_TYPE_STRING, &v, 1, DBUS_TYPE_INVALID);

        testbus_append_options(m, &key, &value, 1);
        return m;
}

static DBusMessage *options_msg(const char *path, const char *iface, const char *method,
                                const char *key, const char *value)
{
        DBusMessage *m = msg_new(path, iface, method);

        testbus_append_options(m, &key, &value, key ? 1 : 0);
        return m;
}

/* RegisterWriter with NAME as its name and instance id. */
static DBusMessage *writer_msg(const char *name)
{
        DBusMessage *m = msg_new(ROOT, IFACE, "RegisterWriter");
        const char *keys[] = { "Name", "InstanceId" }, *values[] = { name, name };

        testbus_append_options(m, keys, values, 2);
        return m;
}

static DBusMessage *delete_msg(const char *by, const char *key)
{
        return msg_args(ROOT, IFACE, "DeleteSnapshots", DBUS_TYPE_STRING, &by, DBUS_TYPE_STRING,
                        &key, DBUS_TYPE_INVALID);
}

static DBusMessage *expose_msg(const char *snapshot)
{
        const char *mount_point = "";
        return msg_args(snapshot, SNAPSHOT, "Expose", DBUS_TYPE_STRING, &mount_point,
                        DBUS_TYPE_INVALID);
}

/* EnableVolume(DEVICE, no options). */
static DBusMessage *enable_msg(const char *device)
{
        DBusMessage *m = msg_args(ROOT, IFACE, "EnableVolume", DBUS_TYPE_STRING, &device,
                                  DBUS_TYPE_INVALID);
        DBusMessageIter it, dict;

        dbus_message_iter_init_append(m, &it);
        ck_assert(dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict));
        ck_assert(dbus_message_iter_close_container(&it, &dict));
        return m;
}

static DBusMessage *set_timeout_msg(dbus_uint32_t ms)
{
        DBusMessage *m = msg_new(ROOT, PROPERTIES, "Set");
        const char *iface = IFACE, *prop = "FreezeTimeoutMs";
        DBusMessageIter it, v;

        dbus_message_iter_init_append(m, &it);
        ck_assert(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface));
        ck_assert(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &prop));
        ck_assert(dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "u", &v));
        ck_assert(dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &ms));
        ck_assert(dbus_message_iter_close_container(&it, &v));
        return m;
}

/* --- replies ------------------------------------------------------------------------------- */

static void ok(DBusMessage *reply, const char *what)
{
        testbus_expect_ok(reply, what);
        dbus_message_unref(reply);
}

/* The object path a method returned first; malloc()ed. */
static char *reply_path(DBusMessage *reply, const char *what)
{
        const char *path;

        testbus_expect_ok(reply, what);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        char *ret = strdup(path);
        dbus_message_unref(reply);
        return ret;
}

/* The paths GetManagedObjects REPLY lists that start with PREFIX. */
static size_t count_objects(DBusMessage *reply, const char *prefix, const char *want)
{
        DBusMessageIter iter, objects, entry;
        size_t n = 0;
        bool found = !want;

        testbus_expect_ok(reply, "GetManagedObjects");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &objects);
        for (; dbus_message_iter_get_arg_type(&objects) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&objects)) {
                const char *path;
                dbus_message_iter_recurse(&objects, &entry);
                dbus_message_iter_get_basic(&entry, &path);
                n += strncmp(path, prefix, strlen(prefix)) == 0;
                found = found || strcmp(path, want) == 0;
        }
        ck_assert_msg(found, "GetManagedObjects does not list %s", want);
        return n;
}

/* How many objects under PREFIX root sees now. */
static size_t objects_now(const char *prefix)
{
        DBusMessage *reply = testbus_call(&tb, ROOT, OBJECT_MANAGER, "GetManagedObjects",
                                          DBUS_TYPE_INVALID);
        size_t n = count_objects(reply, prefix, NULL);
        dbus_message_unref(reply);
        return n;
}

/* Root's snapshot set of VOLUME; its one snapshot's path into SNAP (malloc()ed). */
static char *root_creates_set(const char *volume, char **ret_snapshot)
{
        char *set = reply_path(testbus_send_msg(tb.conn, create_msg(volume)), "CreateSnapshotSet");
        DBusMessage *reply = testbus_call(&tb, ROOT, OBJECT_MANAGER, "GetManagedObjects",
                                          DBUS_TYPE_INVALID);
        DBusMessageIter iter, objects, entry;

        *ret_snapshot = NULL;
        testbus_expect_ok(reply, "GetManagedObjects");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &objects);
        for (; !*ret_snapshot && dbus_message_iter_get_arg_type(&objects) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&objects)) {
                const char *path;
                dbus_message_iter_recurse(&objects, &entry);
                dbus_message_iter_get_basic(&entry, &path);
                if (strncmp(path, ROOT "/snapshot/", strlen(ROOT "/snapshot/")) != 0)
                        continue;
                char *s = testbus_get_string(&tb, path, SNAPSHOT, "SnapshotSet");
                if (strcmp(s, set) == 0)
                        *ret_snapshot = strdup(path);
                free(s);
        }
        dbus_message_unref(reply);
        ck_assert_msg(*ret_snapshot, "set %s has no snapshot", set);
        return set;
}

static bool fake_logged(const char *needle)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/fake.log", tb.dir);
        char *text = testbus_read_file(path);
        bool found = strstr(text, needle) != NULL;
        free(text);
        return found;
}

/* --- anyone may list ------------------------------------------------------------------------ */

START_TEST(test_anyone_may_list)
{
        const char *volume = "/dev/fake/a", *iface = IFACE;
        char *snap;
        char *set = root_creates_set("/dev/fake/a", &snap);
        DBusMessage *msgs[] = {
                msg_new(ROOT, OBJECT_MANAGER, "GetManagedObjects"),
                get_msg(ROOT, IFACE, "Version"),
                msg_args(ROOT, PROPERTIES, "GetAll", DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID),
                get_msg(snap, SNAPSHOT, "Origin"),
                msg_new(ROOT, "org.freedesktop.DBus.Introspectable", "Introspect"),
                msg_args(FAKE, IFACE ".Provider", "IsVolumeSupported", DBUS_TYPE_STRING, &volume,
                         DBUS_TYPE_INVALID),
        };
        DBusMessage *replies[6];

        testbus_pipeline_as(&tb, UID_NOBODY, msgs, 6, replies);
        ck_assert_uint_eq(count_objects(replies[0], ROOT "/snapshot/", snap), 1);
        const char *names[] = { "GetManagedObjects", "Get", "GetAll", "Get Origin", "Introspect",
                                "IsVolumeSupported" };
        for (int i = 0; i < 6; i++)
                ok(replies[i], names[i]);
        free(snap);
        free(set);
}
END_TEST

/* --- outsiders: refused, with the way in, and nothing changes ------------------------------- */

START_TEST(test_outsider_refused_and_nothing_changes)
{
        char *snap;
        char *set = root_creates_set("/dev/fake/a", &snap);
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char *set_id = testbus_get_string(&tb, set, SET, "Id");
        DBusMessage *msgs[] = {
                create_msg("/dev/fake/b"),
                delete_msg("set", set_id),
                expose_msg(snap),
                msg_new(snap, SNAPSHOT, "Delete"),
                msg_new(set, SET, "Delete"),
                options_msg(ROOT, IFACE, "StartBackup", NULL, NULL),
                writer_msg("outsider"),
                msg_new(snap, SNAPSHOT, "Revert"),
        };
        DBusMessage *r[8];
        const char *backup = "needs root or membership of group 'daemon'; uid 65534 (nobody) is "
                             "not a member (an administrator can add it: usermod -aG daemon "
                             "nobody)";
        char want[512];

        size_t sessions = objects_now(ROOT "/session/"); /* root's CreateSnapshotSet's */

        testbus_pipeline_as(&tb, UID_NOBODY, msgs, 8, r);
        const char *names[] = { "CreateSnapshotSet", "DeleteSnapshots", "Expose", "Delete",
                                "Delete", "StartBackup" };
        for (int i = 0; i < 6; i++) {
                snprintf(want, sizeof(want), "%s %s", names[i], backup);
                testbus_expect_error(r[i], DENIED, want);
        }
        testbus_expect_error(r[6], DENIED,
                             "RegisterWriter needs root or membership of group 'bin'; uid 65534 "
                             "(nobody) is not a member (an administrator can add it: usermod "
                             "-aG bin nobody)");
        testbus_expect_error(r[7], DENIED, "Revert is for root only; uid 65534 (nobody) is not "
                                           "root");

        /* Nothing changed: the one set and snapshot, not exposed, no new session, no writer. */
        char *again = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        ck_assert_str_eq(again, id);
        char *exposed = testbus_get_string(&tb, snap, SNAPSHOT, "ExposedPath");
        ck_assert_str_eq(exposed, "");
        char *state = testbus_get_string(&tb, snap, SNAPSHOT, "State");
        ck_assert_str_ne(state, "merging");
        ck_assert_uint_eq(objects_now(ROOT "/set/"), 1);
        ck_assert_uint_eq(objects_now(ROOT "/snapshot/"), 1);
        ck_assert_uint_eq(objects_now(ROOT "/session/"), sessions);
        ck_assert_uint_eq(objects_now(ROOT "/writer/"), 0);
        /* The provider was never asked. */
        ck_assert(!fake_logged("delete "));
        ck_assert(!fake_logged("expose "));
        ck_assert(!fake_logged("revert "));
        ck_assert(!fake_logged("/dev/fake/b"));
        /* The refusal is in vssd's log, naming the caller. */
        ck_assert(testbus_log_contains(&tb, "refused DeleteSnapshots on " ROOT));
        free(state);
        free(exposed);
        free(again);
        free(set_id);
        free(id);
        free(snap);
        free(set);
}
END_TEST

/* --- the backup group: make, expose and delete snapshots; nothing of root's ------------------ */

START_TEST(test_backup_group_may_snapshot)
{
        char *set = reply_path(testbus_call_as(&tb, UID_DAEMON, create_msg("/dev/fake/a")),
                               "CreateSnapshotSet as daemon");
        char *snap = NULL;
        free(root_creates_set("/dev/fake/b", &snap)); /* a second set, root's */
        DBusMessage *reply = testbus_call(&tb, ROOT, OBJECT_MANAGER, "GetManagedObjects",
                                          DBUS_TYPE_INVALID);
        count_objects(reply, ROOT "/set/", set);
        dbus_message_unref(reply);

        /* Expose and unexpose root's snapshot: the group's right covers any snapshot. */
        ok(testbus_call_as(&tb, UID_DAEMON, expose_msg(snap)), "Expose as daemon");
        ok(testbus_call_as(&tb, UID_DAEMON, msg_new(snap, SNAPSHOT, "Unexpose")),
           "Unexpose as daemon");
        char *id = testbus_get_string(&tb, snap, SNAPSHOT, "Id");
        char line[256];
        snprintf(line, sizeof(line), "expose %s", id);
        ck_assert(fake_logged(line));

        ok(testbus_call_as(&tb, UID_DAEMON, msg_new(snap, SNAPSHOT, "Delete")),
           "Snapshot.Delete as daemon");
        ck_assert_msg(testbus_wait_object(&tb, "InterfacesRemoved", snap, NULL, 0, 10000),
                      "the deleted snapshot stayed");
        char *set_id = testbus_get_string(&tb, set, SET, "Id");
        reply = testbus_call_as(&tb, UID_DAEMON, delete_msg("set", set_id));
        dbus_uint32_t deleted = 0;
        testbus_expect_ok(reply, "DeleteSnapshots as daemon");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &deleted,
                                        DBUS_TYPE_INVALID));
        ck_assert_uint_eq(deleted, 1);
        dbus_message_unref(reply);
        ck_assert_uint_eq(objects_now(ROOT "/snapshot/"), 0);
        free(set_id);
        free(id);
        free(snap);
        free(set);
}
END_TEST

/* A session of its own, used from the connection that made it. */
static void session_child(DBusConnection *conn, int fd, void *userdata)
{
        DBusMessage *reply = testbus_child_call(conn, options_msg(ROOT, IFACE, "StartBackup",
                                                                  "Context", "backup"));
        const char *path;

        if (!reply)
                return;
        testbus_report(fd, reply);
        if (dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                  DBUS_TYPE_INVALID)) {
                DBusMessage *m = dbus_message_new_method_call(IFACE, path, BACKUP,
                                                              "GatherWriterStatus");
                DBusMessage *status = m ? testbus_child_call(conn, m) : NULL;
                if (status) {
                        testbus_report(fd, status);
                        dbus_message_unref(status);
                }
                m = dbus_message_new_method_call(IFACE, path, BACKUP, "Release");
                DBusMessage *released = m ? testbus_child_call(conn, m) : NULL;
                if (released) {
                        testbus_report(fd, released);
                        dbus_message_unref(released);
                }
        }
        dbus_message_unref(reply);
}

START_TEST(test_backup_group_sessions)
{
        DBusMessage *r[3];

        ck_assert_uint_eq(testbus_run_as(&tb, UID_DAEMON, session_child, NULL, r, 3), 3);
        char *session = reply_path(r[0], "StartBackup as daemon");
        ok(r[1], "GatherWriterStatus as daemon");
        ok(r[2], "Release as daemon");
        ck_assert_uint_eq(objects_now(ROOT "/session/"), 0); /* released */
        free(session);
}
END_TEST

START_TEST(test_backup_group_not_root)
{
        char *snap;
        char *set = root_creates_set("/dev/fake/a", &snap);
        DBusMessage *msgs[] = {
                enable_msg("/dev/fakeplain/x"),
                msg_new(snap, SNAPSHOT, "Revert"),
                set_timeout_msg(5000),
                writer_msg("backup-operator"),
        };
        DBusMessage *r[4];

        testbus_pipeline_as(&tb, UID_DAEMON, msgs, 4, r);
        testbus_expect_error(r[0], DENIED, "EnableVolume is for root only; uid 1 (daemon) is "
                                           "not root");
        testbus_expect_error(r[1], DENIED, "Revert is for root only; uid 1 (daemon) is not root");
        testbus_expect_error(r[2], DENIED, "Properties.Set is for root only; uid 1 (daemon) is "
                                           "not root");
        testbus_expect_error(r[3], DENIED, "RegisterWriter needs root or membership of group "
                                           "'bin'; uid 1 (daemon) is not a member (an "
                                           "administrator can add it: usermod -aG bin daemon)");
        /* Nothing changed. */
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT, IFACE, "FreezeTimeoutMs"), 60000);
        char *state = testbus_get_string(&tb, snap, SNAPSHOT, "State");
        ck_assert_str_ne(state, "merging");
        ck_assert(!fake_logged("revert "));
        ck_assert(!fake_logged("enable_volume"));
        ck_assert_uint_eq(objects_now(ROOT "/writer/"), 0);
        /* Root may. */
        DBusMessage *reply = testbus_send_msg(tb.conn, set_timeout_msg(5000));
        ok(reply, "Properties.Set as root");
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT, IFACE, "FreezeTimeoutMs"), 5000);
        free(state);
        free(snap);
        free(set);
}
END_TEST

/* --- the writer group: register writers; nothing else ---------------------------------------- */

static void writer_child(DBusConnection *conn, int fd, void *userdata)
{
        DBusMessage *reply = testbus_child_call(conn, writer_msg("bin-writer"));
        const char *path;

        if (!reply)
                return;
        testbus_report(fd, reply);
        if (dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID)) {
                DBusMessage *m = dbus_message_new_method_call(IFACE, path, WRITER, "Unregister");
                DBusMessage *gone = m ? testbus_child_call(conn, m) : NULL;
                if (gone) {
                        testbus_report(fd, gone);
                        dbus_message_unref(gone);
                }
        }
        dbus_message_unref(reply);
}

START_TEST(test_writer_group_may_register)
{
        DBusMessage *r[2];

        size_t n = testbus_run_as(&tb, UID_BIN, writer_child, NULL, r, 2);
        ck_assert_uint_ge(n, 1);
        char *writer = reply_path(r[0], "RegisterWriter as bin");
        ck_assert_uint_eq(n, 2);
        ok(r[1], "Unregister as bin");

        testbus_expect_error(testbus_call_as(&tb, UID_BIN, create_msg("/dev/fake/a")), DENIED,
                             "CreateSnapshotSet needs root or membership of group 'daemon'; "
                             "uid 2 (bin) is not a member (an administrator can add it: "
                             "usermod -aG daemon bin)");
        ck_assert_uint_eq(objects_now(ROOT "/set/"), 0);
        free(writer);
}
END_TEST

/* --- a group that does not exist: root alone ----------------------------------------------- */

START_TEST(test_missing_group_leaves_it_to_root)
{
        testbus_stop(&tb);
        start("[daemon]\nbackup_group = " MISSING_GROUP "\nwriter_group = bin\n");
        char *log = testbus_read_file(tb.vssd_log);
        ck_assert_msg(strstr(log, "group '" MISSING_GROUP "' (backup_group in vssd.conf) does not "
                                  "exist, so only root may create, expose and delete snapshots; "
                                  "create it with: groupadd --system " MISSING_GROUP),
                      "no warning in vssd's log:\n%s", log);
        free(log);
        testbus_expect_error(testbus_call_as(&tb, UID_DAEMON, create_msg("/dev/fake/a")), DENIED,
                             "CreateSnapshotSet needs root or membership of group '"
                             MISSING_GROUP "', which does not exist; uid 1 (daemon) is not "
                             "root (an administrator can create the group: groupadd --system "
                             MISSING_GROUP ", then add the user: usermod -aG " MISSING_GROUP
                             " daemon)");
        ck_assert_uint_eq(objects_now(ROOT "/set/"), 0);
        char *snap;
        char *set = root_creates_set("/dev/fake/a", &snap);
        /* The other group is untouched. */
        DBusMessage *r[2];
        ck_assert_uint_eq(testbus_run_as(&tb, UID_BIN, writer_child, NULL, r, 2), 2);
        ok(r[0], "RegisterWriter as bin");
        ok(r[1], "Unregister as bin");
        free(snap);
        free(set);
}
END_TEST

/* --- order: a caller is answered in the order it called ------------------------------------- */

/*
 * A fresh connection sends everything at once. The first Get needs no uid
 * and is answered at once; StartBackup needs the uid, which vssd asks the
 * bus for, and everything after it waits behind it, needing a uid or not:
 * the GetManagedObjects sent after StartBackup lists the new session.
 */
START_TEST(test_pipelined_calls_answered_in_order)
{
        const char *iface = IFACE;
        DBusMessage *msgs[] = {
                get_msg(ROOT, IFACE, "Version"),
                options_msg(ROOT, IFACE, "StartBackup", NULL, NULL),
                msg_new(ROOT, OBJECT_MANAGER, "GetManagedObjects"),
                set_timeout_msg(5000),
                msg_args(ROOT, PROPERTIES, "GetAll", DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID),
                enable_msg("/dev/fakeplain/x"),
                get_msg(ROOT, IFACE, "FreezeTimeoutMs"),
        };
        DBusMessage *r[7];

        testbus_pipeline_as(&tb, UID_DAEMON, msgs, 7, r);
        for (int i = 1; i < 7; i++)
                ck_assert_msg(dbus_message_get_reply_serial(r[i]) >
                                      dbus_message_get_reply_serial(r[i - 1]),
                              "reply %d came before the reply to an earlier call", i);
        ok(r[0], "Get Version");
        char *session = reply_path(r[1], "StartBackup");
        ck_assert_uint_eq(count_objects(r[2], ROOT "/session/", session), 1);
        dbus_message_unref(r[2]);
        testbus_expect_error(r[3], DENIED, "Properties.Set is for root only");
        ok(r[4], "GetAll");
        testbus_expect_error(r[5], DENIED, "EnableVolume is for root only");
        ok(r[6], "Get FreezeTimeoutMs");
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT, IFACE, "FreezeTimeoutMs"), 60000);
        free(session);

        /* An outsider's burst, refusals between readings: in order too. */
        DBusMessage *burst[] = {
                create_msg("/dev/fake/a"),
                get_msg(ROOT, IFACE, "Version"),
                delete_msg("volume", "/dev/fake/a"),
                msg_new(ROOT, OBJECT_MANAGER, "GetManagedObjects"),
                writer_msg("x"),
        };
        DBusMessage *b[5];
        testbus_pipeline_as(&tb, UID_NOBODY, burst, 5, b);
        for (int i = 1; i < 5; i++)
                ck_assert(dbus_message_get_reply_serial(b[i]) >
                          dbus_message_get_reply_serial(b[i - 1]));
        testbus_expect_error(b[0], DENIED, "group 'daemon'");
        ok(b[1], "Get Version");
        testbus_expect_error(b[2], DENIED, "group 'daemon'");
        ok(b[3], "GetManagedObjects");
        testbus_expect_error(b[4], DENIED, "group 'bin'");
}
END_TEST

static Suite *access_suite(void)
{
        Suite *s = suite_create("bus: access");
        TCase *tc = tcase_create("access");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_anyone_may_list);
        tcase_add_test(tc, test_outsider_refused_and_nothing_changes);
        tcase_add_test(tc, test_backup_group_may_snapshot);
        tcase_add_test(tc, test_backup_group_sessions);
        tcase_add_test(tc, test_backup_group_not_root);
        tcase_add_test(tc, test_writer_group_may_register);
        tcase_add_test(tc, test_missing_group_leaves_it_to_root);
        tcase_add_test(tc, test_pipelined_calls_answered_in_order);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(access_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
