/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_cli_output.c: proves that vssctl's printers (cli/output.c, linked in
 * alone) give what users and scripts rely on: tables whose columns line up
 * even with non-ASCII text, that carry no trailing blanks and never pass a
 * control character to the terminal; and JSON that jq accepts whatever the
 * daemon's strings contain, with UTF-8 kept readable; and byte counts in
 * units people read at a glance.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"

/* ---- helpers ------------------------------------------------------------ */

static char *print_table(const struct table *t)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(table_print(t, f), 0);
        fclose(f);
        return buf;
}

static char *json_of(const char *s)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ck_assert_ptr_nonnull(f);
        json_write_string(f, s);
        fclose(f);
        return buf;
}

static void assert_json_string(const char *in, const char *expected)
{
        char *out = json_of(in);
        ck_assert_str_eq(out, expected);
        free(out);
}

static void add_row(struct table *t, const char *a, const char *b, const char *c)
{
        ck_assert_int_eq(table_add_cell(t, a), 0);
        ck_assert_int_eq(table_add_cell(t, b), 0);
        ck_assert_int_eq(table_add_cell(t, c), 0);
}

/* ---- tables ------------------------------------------------------------- */

START_TEST(table_columns_align)
{
        static const char *const headers[] = { "NAME", "VERSION", "DESCRIPTION" };
        struct table *t = table_new(3, headers);

        add_row(t, "fake", "1.0", "In-memory provider");
        add_row(t, "dm-snapshot", "0.1.0", "device-mapper snapshots");
        ck_assert_uint_eq(table_rows(t), 2);
        char *out = print_table(t);
        ck_assert_str_eq(out, "NAME         VERSION  DESCRIPTION\n"
                              "fake         1.0      In-memory provider\n"
                              "dm-snapshot  0.1.0    device-mapper snapshots\n");
        free(out);
        table_free(t);
}
END_TEST

/* Notes go under their row, whole, and leave the columns as wide as the cells make them. */
START_TEST(table_notes_under_their_row)
{
        static const char *const headers[] = { "VOLUME", "PROVIDER", "SIZE" };
        struct table *t = table_new(3, headers);

        add_row(t, "/dev/vda", "fake", "1 G");
        ck_assert_int_eq(table_add_note(t, "fake2: a reason far longer than any column\x1b"), 0);
        ck_assert_int_eq(table_add_note(t, "dm-snapshot: another"), 0);
        add_row(t, "/dev/vdb", "-", "2 G");
        add_row(t, "/dev/vdc", "fake", "3 G");
        ck_assert_int_eq(table_add_note(t, "fake2: no"), 0);
        ck_assert_uint_eq(table_rows(t), 3);
        char *out = print_table(t);
        ck_assert_str_eq(out, "VOLUME    PROVIDER  SIZE\n"
                              "/dev/vda  fake      1 G\n"
                              "    fake2: a reason far longer than any column\\x1b\n"
                              "    dm-snapshot: another\n"
                              "/dev/vdb  -         2 G\n"
                              "/dev/vdc  fake      3 G\n"
                              "    fake2: no\n");
        free(out);
        table_free(t);
        /* Nothing to put it under. */
        t = table_new(3, NULL);
        ck_assert_int_eq(table_add_note(t, "orphan"), -EINVAL);
        table_free(t);
}
END_TEST

START_TEST(table_right_aligns_numbers)
{
        static const char *const headers[] = { "NAME", "ABI", "ID" };
        struct table *t = table_new(3, headers);

        ck_assert_int_eq(table_set_align(t, 1, TABLE_ALIGN_RIGHT), 0);
        ck_assert_int_eq(table_set_align(t, 3, TABLE_ALIGN_RIGHT), -EINVAL);
        add_row(t, "a", "1", "x");
        ck_assert_int_eq(table_add_cell(t, "b"), 0);
        ck_assert_int_eq(table_add_cellf(t, "%u", 1234u), 0);
        ck_assert_int_eq(table_add_cell(t, "y"), 0);
        char *out = print_table(t);
        ck_assert_str_eq(out, "NAME   ABI  ID\n"
                              "a        1  x\n"
                              "b     1234  y\n");
        free(out);
        table_free(t);
}
END_TEST

/* "yes" with an empty reason must not leave blanks a diff would flag. */
START_TEST(table_no_trailing_blanks)
{
        static const char *const headers[] = { "PROVIDER", "SUPPORTED", "REASON" };
        struct table *t = table_new(3, headers);

        add_row(t, "fake", "yes", "");
        add_row(t, "dm-snapshot", "no", NULL);
        ck_assert_int_eq(table_add_cell(t, "short"), 0); /* a row left incomplete */
        char *out = print_table(t);
        ck_assert_str_eq(out, "PROVIDER     SUPPORTED  REASON\n"
                              "fake         yes\n"
                              "dm-snapshot  no\n"
                              "short\n");
        free(out);
        table_free(t);
}
END_TEST

/* Widths count characters: "é" and "日" are one byte sequence each, one column. */
START_TEST(table_non_ascii_width)
{
        static const char *const headers[] = { "NAME", "X" };
        struct table *t = table_new(2, headers);

        ck_assert_int_eq(table_add_cell(t, "caf\xc3\xa9"), 0);
        ck_assert_int_eq(table_add_cell(t, "1"), 0);
        ck_assert_int_eq(table_add_cell(t, "\xe6\x97\xa5"), 0);
        ck_assert_int_eq(table_add_cell(t, "2"), 0);
        char *out = print_table(t);
        ck_assert_str_eq(out, "NAME  X\n"
                              "caf\xc3\xa9  1\n"
                              "\xe6\x97\xa5     2\n");
        free(out);
        table_free(t);
}
END_TEST

/* A string from the daemon must never reach the terminal as a command. */
START_TEST(table_escapes_controls)
{
        struct table *t = table_new(2, NULL);

        ck_assert_int_eq(table_add_cell(t, "a\nb"), 0);
        ck_assert_int_eq(table_add_cell(t, "|"), 0);
        ck_assert_int_eq(table_add_cell(t, "\x1b[2J"), 0);           /* ESC */
        ck_assert_int_eq(table_add_cell(t, "|"), 0);
        ck_assert_int_eq(table_add_cell(t, "\xc2\x9b" "1m\x7f"), 0); /* C1 CSI, DEL */
        ck_assert_int_eq(table_add_cell(t, "|"), 0);
        ck_assert_int_eq(table_add_cell(t, "bad\xff"), 0);           /* not UTF-8 */
        ck_assert_int_eq(table_add_cell(t, "|"), 0);
        char *out = print_table(t);
        ck_assert_str_eq(out, "a\\x0ab          |\n"
                              "\\x1b[2J         |\n"
                              "\\xc2\\x9b1m\\x7f  |\n"
                              "bad\\xff         |\n");
        free(out);
        table_free(t);
}
END_TEST

START_TEST(table_without_header)
{
        struct table *t = table_new(2, NULL);

        ck_assert_int_eq(table_add_cell(t, "Version:"), 0);
        ck_assert_int_eq(table_add_cell(t, "0.1.0"), 0);
        ck_assert_int_eq(table_add_cell(t, "Provider directory:"), 0);
        ck_assert_int_eq(table_add_cell(t, "/usr/lib/vss/providers"), 0);
        ck_assert_uint_eq(table_rows(t), 2);
        char *out = print_table(t);
        ck_assert_str_eq(out, "Version:             0.1.0\n"
                              "Provider directory:  /usr/lib/vss/providers\n");
        free(out);
        table_free(t);
}
END_TEST

START_TEST(table_empty)
{
        static const char *const headers[] = { "NAME", "ID" };
        struct table *t = table_new(2, headers);

        ck_assert_uint_eq(table_rows(t), 0);
        char *out = print_table(t);
        ck_assert_str_eq(out, "NAME  ID\n");
        free(out);
        table_free(t);
        ck_assert_ptr_null(table_new(0, NULL));
        ck_assert_ptr_null(table_free(NULL));
}
END_TEST

/* ---- JSON strings --------------------------------------------------------- */

START_TEST(json_escapes_quotes_and_backslash)
{
        assert_json_string("say \"hi\"", "\"say \\\"hi\\\"\"");
        assert_json_string("C:\\path", "\"C:\\\\path\"");
        assert_json_string("/dev/fake/a", "\"/dev/fake/a\""); /* '/' needs nothing */
        assert_json_string("", "\"\"");
        assert_json_string(NULL, "\"\"");
}
END_TEST

START_TEST(json_escapes_controls)
{
        assert_json_string("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
        assert_json_string("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
        assert_json_string("\x1b[0m", "\"\\u001b[0m\"");
}
END_TEST

START_TEST(json_keeps_utf8)
{
        assert_json_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");
        assert_json_string("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\"");
        assert_json_string("\xf0\x9f\x93\xb8", "\"\xf0\x9f\x93\xb8\""); /* U+1F4F8 */
}
END_TEST

/* Whatever bytes come in, what goes out parses as JSON. */
START_TEST(json_replaces_invalid_utf8)
{
        assert_json_string("a\xff" "b", "\"a\\ufffdb\"");             /* never valid */
        assert_json_string("\x80", "\"\\ufffd\"");                    /* stray continuation */
        assert_json_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");         /* overlong '/' */
        assert_json_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
        assert_json_string("x\xe6\x97", "\"x\\ufffd\\ufffd\"");       /* cut short */
        assert_json_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
}
END_TEST

/* ---- JSON documents --------------------------------------------------- */

static char *json_document(void (*build)(struct json *j))
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        struct json j;

        ck_assert_ptr_nonnull(f);
        json_init(&j, f);
        build(&j);
        ck_assert_int_eq(json_finish(&j), 0);
        fclose(f);
        return buf;
}

static void build_providers(struct json *j)
{
        json_object_begin(j, NULL);
        json_array_begin(j, "providers");
        json_object_begin(j, NULL);
        json_string(j, "name", "fake");
        json_uint(j, "abi_version", 1);
        json_bool(j, "loaded", true);
        json_string(j, "missing", NULL);
        json_object_end(j);
        json_object_begin(j, NULL);
        json_uint(j, "big", UINT64_MAX);
        json_bool(j, "loaded", false);
        json_object_end(j);
        json_array_end(j);
        json_object_end(j);
}

START_TEST(json_document_layout)
{
        char *out = json_document(build_providers);
        ck_assert_str_eq(out, "{\n"
                              "  \"providers\": [\n"
                              "    {\n"
                              "      \"name\": \"fake\",\n"
                              "      \"abi_version\": 1,\n"
                              "      \"loaded\": true,\n"
                              "      \"missing\": null\n"
                              "    },\n"
                              "    {\n"
                              "      \"big\": 18446744073709551615,\n"
                              "      \"loaded\": false\n"
                              "    }\n"
                              "  ]\n"
                              "}\n");
        free(out);
}
END_TEST

static void build_empty(struct json *j)
{
        json_object_begin(j, NULL);
        json_array_begin(j, "providers");
        json_array_end(j);
        json_object_begin(j, "nothing");
        json_object_end(j);
        json_string(j, "key \"quoted\"", "v");
        json_object_end(j);
}

START_TEST(json_document_empty_containers)
{
        char *out = json_document(build_empty);
        ck_assert_str_eq(out, "{\n"
                              "  \"providers\": [],\n"
                              "  \"nothing\": {},\n"
                              "  \"key \\\"quoted\\\"\": \"v\"\n"
                              "}\n");
        free(out);
}
END_TEST

/* ---- byte counts ------------------------------------------------------ */

static void assert_bytes(uint64_t bytes, const char *expected)
{
        char buf[FORMAT_BYTES_MAX];
        ck_assert_str_eq(format_bytes(buf, sizeof(buf), bytes), expected);
}

START_TEST(bytes_below_a_kib_are_exact)
{
        assert_bytes(0, "0 B");
        assert_bytes(1, "1 B");
        assert_bytes(1023, "1023 B");
}
END_TEST

START_TEST(bytes_in_iec_units_with_one_decimal)
{
        assert_bytes(1024, "1.0 KiB");
        assert_bytes(1536, "1.5 KiB");
        assert_bytes(10 * 1024 * 1024 + 512 * 1024, "10.5 MiB");
        assert_bytes(20ull << 30, "20.0 GiB");
        assert_bytes(3ull << 40, "3.0 TiB");
        assert_bytes(1ull << 50, "1.0 PiB");
}
END_TEST

/* A COW store's usage should never read 1024.0 KiB, nor lose its top of range. */
START_TEST(bytes_round_to_the_nearest_tenth)
{
        assert_bytes(1024 + 51, "1.0 KiB");           /* 1.0498 */
        assert_bytes(1024 + 52, "1.1 KiB");           /* 1.0508 */
        assert_bytes((1ull << 20) - 1, "1.0 MiB");    /* 1023.999 KiB */
        assert_bytes((1ull << 20) - 52, "1023.9 KiB");
        assert_bytes(UINT64_MAX, "16.0 EiB");
        assert_bytes(1ull << 60, "1.0 EiB");
}
END_TEST

static Suite *cli_output_suite(void)
{
        Suite *s = suite_create("cli_output");
        TCase *tc = tcase_create("table");

        tcase_add_test(tc, table_columns_align);
        tcase_add_test(tc, table_right_aligns_numbers);
        tcase_add_test(tc, table_notes_under_their_row);
        tcase_add_test(tc, table_no_trailing_blanks);
        tcase_add_test(tc, table_non_ascii_width);
        tcase_add_test(tc, table_escapes_controls);
        tcase_add_test(tc, table_without_header);
        tcase_add_test(tc, table_empty);
        suite_add_tcase(s, tc);

        tc = tcase_create("json");
        tcase_add_test(tc, json_escapes_quotes_and_backslash);
        tcase_add_test(tc, json_escapes_controls);
        tcase_add_test(tc, json_keeps_utf8);
        tcase_add_test(tc, json_replaces_invalid_utf8);
        tcase_add_test(tc, json_document_layout);
        tcase_add_test(tc, json_document_empty_containers);
        suite_add_tcase(s, tc);

        tc = tcase_create("bytes");
        tcase_add_test(tc, bytes_below_a_kib_are_exact);
        tcase_add_test(tc, bytes_in_iec_units_with_one_decimal);
        tcase_add_test(tc, bytes_round_to_the_nearest_tenth);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(cli_output_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
