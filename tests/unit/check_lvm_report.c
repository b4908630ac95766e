/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_lvm_report.c: what the lvm provider reads from lvs (providers/lvm/
 * json.c, report.c): the JSON report as LVM 2.03 prints it, text that is
 * not a report, and the names and tags the provider gives its snapshots.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lvm/report.h"

/* lvs -a --reportformat json --binary --units b --nosuffix -o LVM_REPORT_FIELDS, trimmed. */
static const char REPORT[] =
        "  {\n"
        "      \"report\": [\n"
        "          {\n"
        "              \"lv\": [\n"
        "                  {\"vg_name\":\"vg\", \"lv_name\":\"pool\", \"lv_uuid\":\"m19c9q-hBo3-gFFd-HcGC-t62J-N8bL-vPftLc\", \"vg_uuid\":\"z0zc8f-7Ow2-uZQo-tHWg-KlLl-1gc0-3UHygu\", \"lv_tags\":\"\", \"origin\":\"\", \"lv_attr\":\"twi-aotz--\", \"segtype\":\"thin-pool\", \"pool_lv\":\"\", \"lv_dm_path\":\"/dev/mapper/vg-pool\", \"lv_size\":\"104857600\", \"vg_free\":\"130023424\", \"vg_extent_size\":\"4194304\", \"thin_id\":\"\", \"data_percent\":\"7.44\", \"metadata_percent\":\"11.13\", \"lv_metadata_size\":\"4194304\", \"lv_active\":\"active\", \"lv_merging\":\"0\", \"lv_snapshot_invalid\":\"-1\"},\n"
        "                  {\"vg_name\":\"vg\", \"lv_name\":\"vss-2f1c3a4b5c6d4e7f8091a2b3c4d5e6f7\", \"lv_uuid\":\"FECbcX-JgPi-fkDj-7Qww-iYKC-vwwv-LCkGIN\", \"vg_uuid\":\"z0zc8f-7Ow2-uZQo-tHWg-KlLl-1gc0-3UHygu\", \"lv_tags\":\"vss,vss_attributes=3,vss_created=1764038460123456,vss_set=0a1b2c3d-0000-4000-8000-000000000001,vss_snapshot=2f1c3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7\", \"origin\":\"thin1\", \"lv_attr\":\"Vri---tz-k\", \"segtype\":\"thin\", \"pool_lv\":\"pool\", \"lv_dm_path\":\"/dev/mapper/vg-vss--2f1c3a4b5c6d4e7f8091a2b3c4d5e6f7\", \"lv_size\":\"67108864\", \"vg_free\":\"130023424\", \"vg_extent_size\":\"4194304\", \"thin_id\":\"3\", \"data_percent\":\"\", \"metadata_percent\":\"\", \"lv_metadata_size\":\"\", \"lv_active\":\"\", \"lv_merging\":\"0\", \"lv_snapshot_invalid\":\"-1\"},\n"
        "                  {\"vg_name\":\"my-vg\", \"lv_name\":\"vss-bbbb\", \"lv_uuid\":\"1sMRlH-kmxo-XPUA-Bhfg-t6Ky-VWFs-iVhHYF\", \"vg_uuid\":\"z0zc8f-7Ow2-uZQo-tHWg-KlLl-1gc0-3UHygu\", \"lv_tags\":\"\", \"origin\":\"thick\", \"lv_attr\":\"sri-a-s-I-\", \"segtype\":\"linear\", \"pool_lv\":\"\", \"lv_dm_path\":\"/dev/mapper/my--vg-vss--bbbb\", \"lv_size\":\"8388608\", \"vg_free\":\"0\", \"vg_extent_size\":\"4194304\", \"thin_id\":\"\", \"data_percent\":\"100.00\", \"metadata_percent\":\"\", \"lv_metadata_size\":\"\", \"lv_active\":\"active\", \"lv_merging\":\"0\", \"lv_snapshot_invalid\":\"1\"}\n"
        "              ]\n"
        "          }\n"
        "      ]\n"
        "      ,\n"
        "      \"log\": [\n"
        "          {\"log_seq_num\":1, \"log_type\":\"status\", \"log_context\":\"shell\", \"log_object_type\":\"cmd\", \"log_object_name\":\"\", \"log_object_id\":\"\", \"log_object_group\":\"\", \"log_object_group_id\":\"\", \"log_message\":\"success\", \"log_errno\":0, \"log_ret_code\":1}\n"
        "      ]\n"
        "  }\n";

START_TEST(test_report_rows)
{
        LvRow *rows = NULL;
        size_t n = 0;

        ck_assert_int_eq(lv_rows_parse(REPORT, &rows, &n), 0);
        ck_assert_uint_eq(n, 3); /* the log's object is not an LV */

        ck_assert_str_eq(rows[0].segtype, "thin-pool");
        ck_assert_int_eq(rows[0].data_hundredths, 744);
        ck_assert_int_eq(rows[0].metadata_hundredths, 1113);
        ck_assert_uint_eq(rows[0].metadata_size, 4194304);
        ck_assert(rows[0].active);
        ck_assert_int_eq(rows[0].thin_id, -1);

        ck_assert(lv_row_is_thin(&rows[1]));
        ck_assert(!lv_row_is_classic_snapshot(&rows[1]));
        ck_assert_int_eq(rows[1].thin_id, 3);
        ck_assert_str_eq(rows[1].origin, "thin1");
        ck_assert_str_eq(rows[1].pool, "pool");
        ck_assert(!rows[1].active);
        ck_assert_int_eq(rows[1].data_hundredths, -1);
        ck_assert_uint_eq(rows[1].size, 64u << 20);

        ck_assert(lv_row_is_classic_snapshot(&rows[2]));
        ck_assert(rows[2].invalid);
        ck_assert_int_eq(rows[2].data_hundredths, 10000);
        ck_assert_str_eq(rows[2].vg, "my-vg");
        ck_assert_uint_eq(rows[2].vg_free, 0);
        free(rows);
}
END_TEST

START_TEST(test_json_strings)
{
        LvmRecord *recs = NULL;
        size_t n = 0;
        const char *text = "{\"lv\":[{\"a\":\"x\\\"y\\\\z\\/\\n\", \"b\":\"\\u00e9\\ud83d\\ude00\","
                           " \"n\":12.5e3, \"t\":true, \"o\":{\"lv\":[]}}, {}]}";

        ck_assert_int_eq(lvm_json_records(text, "lv", &recs, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(lvm_record_get(&recs[0], "a"), "x\"y\\z/\n");
        ck_assert_str_eq(lvm_record_get(&recs[0], "b"), "\xc3\xa9\xf0\x9f\x98\x80");
        ck_assert_ptr_null(lvm_record_get(&recs[0], "n")); /* not a string */
        ck_assert_uint_eq(recs[1].n, 0);
        lvm_records_free(recs, n);
}
END_TEST

/* Anything that is not one whole JSON value is refused, never half-read. */
START_TEST(test_json_refused)
{
        static const char *const bad[] = {
                "", "{", "{\"lv\":[{\"a\":\"b\"}]", "{\"lv\":[{\"a\":\"b\"}]} x",
                "{\"lv\":[{\"a\":\"b\",}]}", "{\"lv\":[{\"a\" \"b\"}]}", "{\"a\":\"\\x\"}",
                "{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\u0000\"}",
                "{\"a\":\"line\nbreak\"}", "{\"a\":tru}", "{\"a\":-}", "[1,]", "\"open",
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
                NULL,
        };
        for (const char *const *t = bad; *t; t++) {
                LvmRecord *recs = (LvmRecord *)1;
                size_t n = 7;
                ck_assert_msg(lvm_json_records(*t, "lv", &recs, &n) == -EBADMSG, "took %s", *t);
                ck_assert_uint_eq(n, 7); /* untouched */
        }
}
END_TEST

/* A report whose LV lacks a field, or has a malformed number, is an error. */
START_TEST(test_row_refused)
{
        LvRow *rows;
        size_t n;
        char *text = strdup(REPORT);
        char *p = strstr(text, "\"104857600\"");

        memcpy(p, "\"10485760x\"", 11);
        ck_assert_int_eq(lv_rows_parse(text, &rows, &n), -EINVAL);
        ck_assert_int_eq(lv_rows_parse("{\"report\":[{\"lv\":[{\"vg_name\":\"vg\"}]}]}", &rows,
                                       &n), -EINVAL);
        ck_assert_int_eq(lv_rows_parse("{\"report\":[{\"lv\":[]}]}", &rows, &n), 0);
        ck_assert_uint_eq(n, 0);
        free(rows);
        free(text);
}
END_TEST

START_TEST(test_tags)
{
        SnapTags t;

        ck_assert(snap_tags_parse("vss,vss_attributes=3,vss_created=1764038460123456,"
                                  "vss_set=0a1b2c3d-0000-4000-8000-000000000001,"
                                  "vss_snapshot=2f1c3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7", &t));
        ck_assert_str_eq(t.set_id, "0a1b2c3d-0000-4000-8000-000000000001");
        ck_assert_str_eq(t.snapshot_id, "2f1c3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7");
        ck_assert_uint_eq(t.attributes, 3);
        ck_assert_uint_eq(t.created_usec, 1764038460123456ull);
        ck_assert(t.complete);
        /* Not yet complete: a set being made, or left by a crash. */
        ck_assert(snap_tags_parse("backup,vss,vss_attributes=0,"
                                  "vss_set=0a1b2c3d-0000-4000-8000-000000000001,"
                                  "vss_snapshot=2f1c3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7", &t));
        ck_assert(!t.complete);
        /* Without the marker, or with an id that is not one, it is not ours. */
        ck_assert(!snap_tags_parse("vss_attributes=0,vss_set=0a1b2c3d-0000-4000-8000-"
                                   "000000000001,vss_snapshot=2f1c3a4b-5c6d-4e7f-8091-"
                                   "a2b3c4d5e6f7", &t));
        ck_assert(!snap_tags_parse("vss,vss_attributes=0,vss_set=x,vss_snapshot=y", &t));
        ck_assert(!snap_tags_parse("vssx,vss_attributes=0,vss_set=0a1b2c3d-0000-4000-8000-"
                                   "000000000001,vss_snapshot=2f1c3a4b-5c6d-4e7f-8091-"
                                   "a2b3c4d5e6f7", &t));
        ck_assert(!snap_tags_parse("", &t));
}
END_TEST

START_TEST(test_names)
{
        char buf[300];

        ck_assert_int_eq(snap_lv_name("2f1c3a4b-5c6d-4e7f-8091-a2b3c4d5e6f7", buf, sizeof(buf)),
                         0);
        ck_assert_str_eq(buf, "vss-2f1c3a4b5c6d4e7f8091a2b3c4d5e6f7");
        ck_assert_int_eq(snap_lv_name("../../etc", buf, sizeof(buf)), -EINVAL);
        ck_assert_int_eq(lv_dm_path("my-vg", "vss-x", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "/dev/mapper/my--vg-vss--x");
        ck_assert_int_eq(lv_dm_path("vg", "lv", buf, 16), -ENAMETOOLONG);
        ck_assert_str_eq((tags_value("a=1,vss_maxsize=15pct", "vss_maxsize", buf, sizeof(buf)),
                          buf), "15pct");
        ck_assert_int_eq(maxsize_from_tag("15pct", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "15%");
        ck_assert_int_eq(maxsize_to_tag("15%", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "15pct");
        ck_assert_int_eq(maxsize_to_tag("10G", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "10G");
        ck_assert_int_eq(maxsize_to_tag("1 G", buf, sizeof(buf)), -EINVAL);
        ck_assert(!tags_have("vss_set=1", "vss"));
        ck_assert(tags_have("a,vss", "vss"));
}
END_TEST

int main(void)
{
        Suite *s = suite_create("lvm_report");
        TCase *tc = tcase_create("report");
        tcase_add_test(tc, test_report_rows);
        tcase_add_test(tc, test_json_strings);
        tcase_add_test(tc, test_json_refused);
        tcase_add_test(tc, test_row_refused);
        tcase_add_test(tc, test_tags);
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
