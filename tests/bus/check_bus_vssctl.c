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

#include "tests/bus/vssctl-test.h"

static void setup(void)
{
        vssctl_test_start(NULL);
}

static void teardown(void)
{
        testbus_stop(&tb);
}


START_TEST(test_status)
{
        expect_vssctl_unmasked(0, "status.txt", "status");
        expect_vssctl_unmasked(0, "status.json", "--json status");
}
END_TEST

START_TEST(test_list_providers)
{
        expect_vssctl_unmasked(0, "list-providers.txt", "list providers");
        expect_vssctl_unmasked(0, "list-providers.json", "--json list providers");
}
END_TEST

START_TEST(test_supported)
{
        expect_vssctl_unmasked(0, "supported-yes.txt", "supported /dev/fake/a");
        /* 3: no provider can take the volume; scripts tell "no" from a failure. */
        expect_vssctl_unmasked(3, "supported-no.txt", "supported /dev/sda1");
        expect_vssctl_unmasked(1, "supported-unknown.txt", "supported /dev/fake/a --provider nope");
}
END_TEST

START_TEST(test_status_follows_property_changes)
{
        char *out;

        ck_assert_int_eq(testbus_run(&tb, NULL, "busctl --system set-property org.linuxvss.Vss1 "
                                                "/org/linuxvss/Vss1 org.linuxvss.Vss1 "
                                                "HoldTimeoutMs u 2500"),
                         0);
        ck_assert_int_eq(vssctl(&out, "--json status"),
                         0);
        ck_assert_msg(strstr(out, "\"hold_timeout_ms\": 2500"), "%s", out);
        free(out);
}
END_TEST

START_TEST(test_usage_errors_exit_2)
{
        expect_vssctl_unmasked(2, "unknown-command.txt", "frob");
        char *out;
        ck_assert_int_eq(vssctl(&out, "list"), 2);
        ck_assert_ptr_nonnull(strstr(out, "Try 'vssctl --help'"));
        free(out);
        ck_assert_int_eq(vssctl(&out, "--no-such-option status"),
                         2);
        free(out);
        ck_assert_int_eq(vssctl(&out, "--help"), 0);
        ck_assert_msg(strstr(out, "list") && strstr(out, "status") && strstr(out, "supported") &&
                              strstr(out, "--json") && strstr(out, "Exit status"),
                      "%s", out);
        free(out);
        ck_assert_int_eq(vssctl(&out, "--version"), 0);
        ck_assert_str_eq(out, "vssctl from linux-vss 0.1.0\n");
        free(out);
}
END_TEST

START_TEST(test_daemon_not_running)
{
        char *out;

        testbus_stop_vssd(&tb);
        ck_assert_int_eq(vssctl(&out, "status"), 1);
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
        return vssctl_test_run(s);
}
