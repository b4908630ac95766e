/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_thin_status.c: the dm-thin provider's pure parsers: a thin-pool's
 * status line (providers/dm-thin/status.c), which decides when a pool
 * grows, drops a snapshot or refuses a set; and its records under
 * state_dir (providers/dm-thin/state.c), which must come back exactly as
 * written and refuse anything damaged rather than half read it.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/dm-thin/thin.h"

START_TEST(test_status_rw)
{
        PoolStatus st;

        ck_assert(pool_status_parse("5 280/4161600 1024/2048 - rw discard_passdown "
                                    "error_if_no_space - 1024", &st));
        ck_assert_uint_eq(st.meta_used, 280);
        ck_assert_uint_eq(st.meta_total, 4161600);
        ck_assert_uint_eq(st.data_used, 1024);
        ck_assert_uint_eq(st.data_total, 2048);
        ck_assert(!st.read_only && !st.out_of_space && !st.needs_check);
        ck_assert_uint_eq(pool_status_percent(&st), 50);
}
END_TEST

/* Metadata fuller than data: the higher of the two counts. */
START_TEST(test_status_metadata_counts)
{
        PoolStatus st;

        ck_assert(pool_status_parse("0 950/1000 10/2048 - rw no_discard_passdown "
                                    "queue_if_no_space - 100", &st));
        ck_assert_uint_eq(pool_status_percent(&st), 95);
}
END_TEST

START_TEST(test_status_modes)
{
        PoolStatus st;

        ck_assert(pool_status_parse("9 10/100 2048/2048 - out_of_data_space discard_passdown "
                                    "error_if_no_space - 10", &st));
        ck_assert(st.out_of_space);
        ck_assert_uint_eq(pool_status_percent(&st), 100);
        ck_assert(pool_status_parse("9 10/100 20/2048 55 ro discard_passdown "
                                    "error_if_no_space needs_check 10", &st));
        ck_assert(st.read_only && st.needs_check);
        /* An older kernel's shorter line still parses. */
        ck_assert(pool_status_parse("1 10/100 20/2048 - rw", &st));
}
END_TEST

START_TEST(test_status_refused)
{
        static const char *const bad[] = {
                "Fail", "Error", "", "1 10/0 20/2048 - rw", "1 10/100 3000/2048 - rw",
                "1 10-100 20/2048 - rw", "1 10/100 20/2048 - broken",
        };
        PoolStatus st;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_msg(!pool_status_parse(bad[i], &st), "\"%s\" was taken", bad[i]);
                ck_assert(!st.ok);
                ck_assert_uint_eq(pool_status_percent(&st), 0);
        }
}
END_TEST

START_TEST(test_records_round_trip)
{
        SnapRecord s = { .thin_id = 16777215, .attributes = 0x7, .sectors = 123456789012ull,
                         .created_usec = 1700000000123456ull, .invalid = true }, back;
        PoolRecord p = { .data_file = true, .chunk_sectors = 128, .next_id = 42 }, pback;
        char text[8192];

        strcpy(s.id, "0b1c2d3e-0000-4000-8000-000000000001");
        strcpy(s.set_id, "0b1c2d3e-0000-4000-8000-000000000002");
        strcpy(s.pool, "pool.0");
        strcpy(s.origin, "db_data-1");
        ck_assert_int_eq(record_format(RECORD_SNAPSHOT, &s, text, sizeof(text)), 0);
        ck_assert_int_eq(record_parse(RECORD_SNAPSHOT, text, &back), 0);
        ck_assert_mem_eq(&s, &back, sizeof(s));
        strcpy(p.name, "p");
        strcpy(p.data, "/srv/pool data.img");
        strcpy(p.metadata, "/dev/vdb");
        ck_assert_int_eq(record_format(RECORD_POOL, &p, text, sizeof(text)), 0);
        ck_assert_int_eq(record_parse(RECORD_POOL, text, &pback), 0);
        ck_assert_str_eq(pback.data, "/srv/pool data.img");
        ck_assert(pback.data_file && !pback.metadata_file);
        ck_assert_uint_eq(pback.next_id, 42);
}
END_TEST

START_TEST(test_records_refused)
{
        static const char *const bad[] = {
                /* a key missing */
                "name=v\npool=p\nid=3\n",
                /* an unknown key */
                "name=v\npool=p\nid=3\nsectors=8\ncolour=red\n",
                /* a key twice */
                "name=v\npool=p\nid=3\nid=4\nsectors=8\n",
                /* bad numbers */
                "name=v\npool=p\nid=-3\nsectors=8\n", "name=v\npool=p\nid=3x\nsectors=8\n",
                "name=v\npool=p\nid=4294967296\nsectors=8\n", "name=v\npool=p\nid=\nsectors=8\n",
                /* a torn last line */
                "name=v\npool=p\nid=3\nsectors=8",
                /* no '=' */
                "name=v\npool p\nid=3\nsectors=8\n",
        };
        VolumeRecord v;

        ck_assert_int_eq(record_parse(RECORD_VOLUME, "sectors=8\nid=3\npool=p\nname=v\n", &v), 0);
        ck_assert_uint_eq(v.id, 3);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(record_parse(RECORD_VOLUME, bad[i], &v) == -EINVAL,
                              "\"%s\" was taken", bad[i]);
}
END_TEST

/* A value with a newline would become two lines: refused when written. */
START_TEST(test_records_newline_refused)
{
        PoolRecord p = { .chunk_sectors = 128 };
        char text[8192];

        strcpy(p.name, "p");
        strcpy(p.data, "/srv/a\nnext_id=1");
        ck_assert_int_eq(record_format(RECORD_POOL, &p, text, sizeof(text)), -EINVAL);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("thin_status");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, test_status_rw);
        tcase_add_test(tc, test_status_metadata_counts);
        tcase_add_test(tc, test_status_modes);
        tcase_add_test(tc, test_status_refused);
        tcase_add_test(tc, test_records_round_trip);
        tcase_add_test(tc, test_records_refused);
        tcase_add_test(tc, test_records_newline_refused);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
