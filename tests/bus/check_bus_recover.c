/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_recover.c: recovery on demand, with the real vssd and the fake
 * provider: Manager.Recover and "vssctl recover" on a live vssd (root only,
 * refused while a set is being made), and "vssd --recover" offline (refused
 * while a vssd holds the lock). What the providers roll back is proven on a
 * real device-mapper in tests/vm (check_faults).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define SET_IFACE IFACE ".SnapshotSet"
#define UID_DAEMON 1

static TestBus tb;

static void setup(void)
{
        testbus_start(&tb, "\n[daemon]\nbackup_group = daemon\n");
}

static void teardown(void)
{
        testbus_stop(&tb);
}

static const char *vssctl(void)
{
        return testbus_path(false, "vssctl");
}

/* How many times the fake provider's recover() ran. */
static unsigned recoveries(void)
{
        char path[PATH_MAX];
        unsigned n = 0;

        snprintf(path, sizeof(path), "%s/fake.log", tb.dir);
        char *text = testbus_read_file(path);
        for (const char *p = text; (p = strstr(p, "recover")); p++)
                n++;
        free(text);
        return n;
}

static void fake_control(const char *line)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/fake.control", tb.dir);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", line);
        fclose(f);
}

START_TEST(test_vssctl_recover_runs_every_provider_again)
{
        char *out;
        unsigned at_start = recoveries();

        ck_assert_uint_eq(at_start, 1); /* vssd recovers as it starts */
        ck_assert_int_eq(testbus_run(&tb, &out, "%s recover", vssctl()), 0);
        ck_assert_msg(strstr(out, "Nothing to recover"), "%s", out);
        free(out);
        ck_assert_uint_eq(recoveries(), 2);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --json recover", vssctl()), 0);
        ck_assert_msg(strstr(out, "\"fixed\": 0") || strstr(out, "\"fixed\":0"), "%s", out);
        free(out);
        ck_assert(testbus_log_contains(&tb, "recovery asked for by"));
}
END_TEST

START_TEST(test_recover_is_for_root_alone)
{
        testbus_open_to_all(&tb);
        DBusMessage *m = dbus_message_new_method_call(IFACE, ROOT, IFACE, "Recover");
        DBusMessage *reply = testbus_call_as(&tb, UID_DAEMON, m);

        /* Even the backup group may not: a recovery can remove devices. */
        testbus_expect_error(reply, "AccessDenied", "Recover is for root only");
        ck_assert_uint_eq(recoveries(), 1);
}
END_TEST

/* A set being made has kernel state a recovery would take for a crash's leftovers. */
START_TEST(test_recover_refused_while_a_set_is_made)
{
        char set[256], *out;

        fake_control("stall prepare 4000");
        DBusConnection *requester = testbus_connect(&tb);
        DBusMessage *m = dbus_message_new_method_call(IFACE, ROOT, IFACE, "CreateSnapshotSet");
        const char *volume = "/dev/fake/a";
        DBusMessageIter iter, array;
        dbus_message_iter_init_append(m, &iter);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s", &array);
        dbus_message_iter_append_basic(&array, DBUS_TYPE_STRING, &volume);
        dbus_message_iter_close_container(&iter, &array);
        testbus_append_options(m, NULL, NULL, 0);
        DBusPendingCall *pending = NULL;
        ck_assert(dbus_connection_send_with_reply(requester, m, &pending, 30000));
        dbus_message_unref(m);
        dbus_connection_flush(requester);
        ck_assert_msg(testbus_wait_object(&tb, "InterfacesAdded", ROOT "/set/", set,
                                          sizeof(set), 10000), "no set appeared");
        ck_assert_msg(testbus_wait_property(&tb, set, "State", "preparing-snapshot", 10000),
                      "the set did not reach its provider prepare");

        ck_assert_int_eq(testbus_run(&tb, &out, "%s recover", vssctl()), 1);
        ck_assert_msg(strstr(out, "is being created") && strstr(out, "try again"), "%s", out);
        free(out);
        ck_assert_uint_eq(recoveries(), 1);

        /* The set is unharmed: it finishes. */
        dbus_pending_call_block(pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        testbus_expect_ok(reply, "CreateSnapshotSet");
        dbus_message_unref(reply);
        char *state = testbus_get_string(&tb, set, SET_IFACE, "State");
        ck_assert_str_eq(state, "ready");
        free(state);
        testbus_disconnect(requester);
}
END_TEST

START_TEST(test_offline_recover_refused_while_vssd_runs)
{
        char *out;

        int status = testbus_run(&tb, &out, "%s --recover --config '%s'",
                                 testbus_daemon_path("vssd"), tb.vssd_conf);
        ck_assert_int_eq(status, 1);
        ck_assert_msg(strstr(out, "another vssd") && strstr(out, "vssctl recover"), "%s", out);
        free(out);
        ck_assert_uint_eq(recoveries(), 1); /* it touched no provider */
        ck_assert(testbus_vssd_alive(&tb));
}
END_TEST

START_TEST(test_offline_recover_after_vssd_stopped)
{
        char *out;

        testbus_kill_vssd(&tb); /* as SIGKILL ends it: ExecStopPost's case */
        int status = testbus_run(&tb, &out, "%s --recover --config '%s'",
                                 testbus_daemon_path("vssd"), tb.vssd_conf);
        ck_assert_msg(status == 0, "vssd --recover exited %d: %s", status, out);
        ck_assert_msg(strstr(out, "provider fake: nothing to recover"), "%s", out);
        free(out);
        ck_assert_uint_eq(recoveries(), 2);
        /* It let go of the lock: vssd starts again. */
        ck_assert(testbus_start_vssd(&tb, NULL));
}
END_TEST

static Suite *bus_recover_suite(void)
{
        Suite *s = suite_create("bus: recover");
        TCase *tc = tcase_create("recover");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_vssctl_recover_runs_every_provider_again);
        tcase_add_test(tc, test_recover_is_for_root_alone);
        tcase_add_test(tc, test_recover_refused_while_a_set_is_made);
        tcase_add_test(tc, test_offline_recover_refused_while_vssd_runs);
        tcase_add_test(tc, test_offline_recover_after_vssd_stopped);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(bus_recover_suite());

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
