/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_dmsnap_size.c: the dm-snapshot provider's one size parser
 * (providers/common/size.c), used for vssd.conf's initial_size and
 * max_size and for what "vssctl storage" sets.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "providers/common/size.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static uint64_t parsed(const char *s, uint64_t volume)
{
        uint64_t v = 0;
        ck_assert_msg(size_parse(s, volume, &v) == 0, "\"%s\" was refused", s);
        return v;
}

START_TEST(test_units)
{
        ck_assert_uint_eq(parsed("512M", 0), 512 * MIB);
        ck_assert_uint_eq(parsed("2G", 0), 2 * GIB);
        ck_assert_uint_eq(parsed("2GiB", 0), 2 * GIB);
        ck_assert_uint_eq(parsed("10gb", 0), 10 * GIB);
        ck_assert_uint_eq(parsed("1T", 0), 1024 * GIB);
        ck_assert_uint_eq(parsed("3072K", 0), 3 * MIB);
}
END_TEST

/* Stores are whole MiB: everything rounds up. */
START_TEST(test_rounds_up_to_mib)
{
        ck_assert_uint_eq(parsed("4096", 0), MIB);
        ck_assert_uint_eq(parsed("1", 0), MIB);
        ck_assert_uint_eq(parsed("1025K", 0), 2 * MIB);
        ck_assert_uint_eq(parsed("0", 0), 0);
}
END_TEST

START_TEST(test_percent_of_the_volume)
{
        ck_assert_uint_eq(parsed("15%", 10 * GIB), 1536 * MIB);
        ck_assert_uint_eq(parsed("100%", 100 * MIB), 100 * MIB);
        ck_assert_uint_eq(parsed("250%", 100 * MIB), 250 * MIB);
        /* Exact even where bytes / 100 would lose the remainder first. */
        ck_assert_uint_eq(parsed("50%", 2 * MIB + 200), 2 * MIB);
}
END_TEST

START_TEST(test_unbounded)
{
        ck_assert_uint_eq(parsed("unbounded", 0), SIZE_UNBOUNDED);
        ck_assert_uint_eq(parsed("UNBOUNDED", 0), SIZE_UNBOUNDED);
}
END_TEST

START_TEST(test_refused)
{
        static const char *const bad[] = { "", " 1G", "-1G", "+1G", "1.5G", "1 G", "1P", "1Gx",
                                           "G", "%", "10%%", "unbounded1", "1GiBB", NULL };
        uint64_t v = 42;
        for (const char *const *s = bad; *s; s++)
                ck_assert_msg(size_parse(*s, GIB, &v) == -EINVAL, "\"%s\" was taken", *s);
        ck_assert_int_eq(size_parse(NULL, GIB, &v), -EINVAL);
        ck_assert_uint_eq(v, 42); /* untouched on failure */
        ck_assert_int_eq(size_parse("99999999999T", 0, &v), -ERANGE);
        ck_assert_int_eq(size_parse("99999999999999999999", 0, &v), -ERANGE);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("dmsnap_size");
        TCase *tc = tcase_create("size");
        tcase_add_test(tc, test_units);
        tcase_add_test(tc, test_rounds_up_to_mib);
        tcase_add_test(tc, test_percent_of_the_volume);
        tcase_add_test(tc, test_unbounded);
        tcase_add_test(tc, test_refused);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
