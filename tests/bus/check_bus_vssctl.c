/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_vssctl.c: vssctl (and through it libvss) against the real vssd
 * on a private bus. Output is compared with golden files in tests/bus/golden/
 * where @PROVIDER_DIR@ stands for the test's provider directory.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/harness.h"

static TestBus tb;

static void setup(void)
{
        testbus_start(&tb, NULL);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

/* Run vssctl ARGS; assert exit status STATUS and output equal to golden file NAME. */
static void expect_golden(const char *args, int status, const char *name)
{
        char *out, *want = testbus_golden(name);
        int r = testbus_run(&tb, &out, "%s %s", testbus_path(false, "vssctl"), args);

        ck_assert_msg(r == status, "vssctl %s: exit %d, wanted %d; output:\n%s", args, r, status,
                      out);
        ck_assert_msg(strcmp(out, want) == 0, "vssctl %s printed:\n%s\nwanted (%s):\n%s", args,
                      out, name, want);
        free(out);
        free(want);
}

START_TEST(test_status)
{
        expect_golden("status", 0, "status.txt");
        expect_golden("--json status", 0, "status.json");
}
END_TEST

START_TEST(test_list_providers)
{
        expect_golden("list providers", 0, "list-providers.txt");
        expect_golden("--json list providers", 0, "list-providers.json");
}
END_TEST

START_TEST(test_supported)
{
        expect_golden("supported /dev/fake/a", 0, "supported-yes.txt");
        /* 3: no provider can take the volume; scripts tell "no" from a failure. */
        expect_golden("supported /dev/sda1", 3, "supported-no.txt");
        expect_golden("supported /dev/fake/a --provider nope", 1, "supported-unknown.txt");
}
END_TEST

START_TEST(test_status_follows_property_changes)
{
        char *out;

        ck_assert_int_eq(testbus_run(&tb, NULL, "busctl --system set-property org.linuxvss.Vss1 "
                                                "/org/linuxvss/Vss1 org.linuxvss.Vss1 "
                                                "HoldTimeoutMs u 2500"),
                         0);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --json status",
                                     testbus_path(false, "vssctl")),
                         0);
        ck_assert_msg(strstr(out, "\"hold_timeout_ms\": 2500"), "%s", out);
        free(out);
}
END_TEST

START_TEST(test_usage_errors_exit_2)
{
        expect_golden("frob", 2, "unknown-command.txt");
        char *out;
        ck_assert_int_eq(testbus_run(&tb, &out, "%s list", testbus_path(false, "vssctl")), 2);
        ck_assert_ptr_nonnull(strstr(out, "Try 'vssctl --help'"));
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --no-such-option status",
                                     testbus_path(false, "vssctl")),
                         2);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --help", testbus_path(false, "vssctl")), 0);
        ck_assert_msg(strstr(out, "list") && strstr(out, "status") && strstr(out, "supported") &&
                              strstr(out, "--json") && strstr(out, "Exit status"),
                      "%s", out);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --version", testbus_path(false, "vssctl")), 0);
        ck_assert_str_eq(out, "vssctl from linux-vss 0.1.0\n");
        free(out);
}
END_TEST

START_TEST(test_daemon_not_running)
{
        char *out;

        testbus_stop_vssd(&tb);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s status", testbus_path(false, "vssctl")), 1);
        ck_assert_msg(strstr(out, "is not running") && strstr(out, "systemctl start vssd"), "%s",
                      out);
        free(out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bus: vssctl");
        TCase *tc = tcase_create("vssctl");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_status);
        tcase_add_test(tc, test_list_providers);
        tcase_add_test(tc, test_supported);
        tcase_add_test(tc, test_status_follows_property_changes);
        tcase_add_test(tc, test_usage_errors_exit_2);
        tcase_add_test(tc, test_daemon_not_running);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
