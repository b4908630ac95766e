/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_config.c: the INI parser behind vssd.conf(5) (daemon/util/config.c).
 * What an administrator relies on: comments and blank lines are ignored,
 * values are trimmed, the last of a repeated key wins, every parse error says
 * "file:line: what", and numbers outside their range are refused with the
 * key, the value and the range in the message.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/util/config.h"

static char err[512];
static char dir[64];
static char path[128];

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/check_config.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/vssd.conf", dir);
        err[0] = '\0';
}

static void teardown(void)
{
        unlink(path);
        rmdir(dir);
}

static void write_file(const char *text, size_t len)
{
        FILE *f = fopen(path, "we");

        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
}

#define WRITE_LITERAL(s) write_file(s, sizeof(s) - 1)

/* Parse TEXT, expect failure; returns the message. */
static const char *parse_fails(const char *text)
{
        Config *sentinel = (Config *)&err; /* must stay untouched on failure */
        Config *c = sentinel;

        err[0] = '\0';
        ck_assert_int_eq(config_parse(&c, text, "vssd.conf", err, sizeof(err)), -EINVAL);
        ck_assert_ptr_eq(c, sentinel);
        return err;
}

START_TEST(test_parse_basic)
{
        Config *c = NULL;
        const char *text =
                "# a comment\n"
                "; another comment\n"
                "\n"
                "[daemon]\n"
                "   provider_dir   =   /usr/lib/vss/providers   \n"
                "hold_timeout_ms=5000\n"
                "\t log_level =\tdebug\t\n"
                "empty =\n"
                "with_equals = a=b = c\n"
                "  # indented comment\n"
                "[provider.fake]\n"
                "volumes = /dev/fake/a, /dev/fake/b\n";

        ck_assert_int_eq(config_parse(&c, text, "vssd.conf", err, sizeof(err)), 0);
        ck_assert_str_eq(config_get(c, "daemon", "provider_dir"), "/usr/lib/vss/providers");
        ck_assert_str_eq(config_get(c, "daemon", "hold_timeout_ms"), "5000");
        ck_assert_str_eq(config_get(c, "daemon", "log_level"), "debug");
        ck_assert_str_eq(config_get(c, "daemon", "empty"), "");
        ck_assert_str_eq(config_get(c, "daemon", "with_equals"), "a=b = c");
        ck_assert_str_eq(config_get(c, "provider.fake", "volumes"), "/dev/fake/a, /dev/fake/b");
        /* Keys are per section and case-sensitive. */
        ck_assert_ptr_null(config_get(c, "daemon", "volumes"));
        ck_assert_ptr_null(config_get(c, "Daemon", "log_level"));
        ck_assert_ptr_null(config_get(c, "daemon", "LOG_LEVEL"));
        ck_assert_ptr_null(config_get(c, "nosuch", "log_level"));
        config_free(c);
}
END_TEST

START_TEST(test_last_value_wins_and_sections_reopen)
{
        Config *c = NULL;
        const char *text = "[daemon]\nlog_level = info\n[other]\nx = 1\n"
                           "[daemon]\nlog_level = debug\n";

        ck_assert_int_eq(config_parse(&c, text, NULL, err, sizeof(err)), 0);
        ck_assert_str_eq(config_get(c, "daemon", "log_level"), "debug");
        ck_assert_str_eq(config_get(c, "other", "x"), "1");
        config_free(c);
}
END_TEST

START_TEST(test_crlf_and_no_trailing_newline)
{
        Config *c = NULL;

        ck_assert_int_eq(config_parse(&c, "[daemon]\r\nlog_level = err\r\nx = y", "f", err,
                                      sizeof(err)), 0);
        ck_assert_str_eq(config_get(c, "daemon", "log_level"), "err");
        ck_assert_str_eq(config_get(c, "daemon", "x"), "y");
        config_free(c);
        /* An empty file and a file of comments are valid and hold nothing. */
        ck_assert_int_eq(config_parse(&c, "", "f", err, sizeof(err)), 0);
        ck_assert_ptr_null(config_get(c, "daemon", "x"));
        config_free(c);
        ck_assert_int_eq(config_parse(&c, "# nothing\n\n; here\n", "f", err, sizeof(err)), 0);
        config_free(c);
}
END_TEST

struct visit {
        char seen[8][64];
        int n;
        int stop_at;
};

static int visit_key(const char *key, const char *value, void *userdata)
{
        struct visit *v = userdata;

        snprintf(v->seen[v->n], sizeof(v->seen[0]), "%s=%s", key, value);
        v->n++;
        return v->n == v->stop_at ? 42 : 0;
}

START_TEST(test_foreach_in_file_order)
{
        Config *c = NULL;
        struct visit v = { .stop_at = -1 };

        ck_assert_int_eq(config_parse(&c, "[a]\nz = 1\n[b]\nq = 9\n[a]\nb = 2\nz = 3\n", "f", err,
                                      sizeof(err)), 0);
        ck_assert_int_eq(config_foreach_key(c, "a", visit_key, &v), 0);
        ck_assert_int_eq(v.n, 3);
        ck_assert_str_eq(v.seen[0], "z=1");
        ck_assert_str_eq(v.seen[1], "b=2");
        ck_assert_str_eq(v.seen[2], "z=3");
        /* A non-zero return stops the walk and is passed back. */
        v = (struct visit){ .stop_at = 2 };
        ck_assert_int_eq(config_foreach_key(c, "a", visit_key, &v), 42);
        ck_assert_int_eq(v.n, 2);
        v = (struct visit){ .stop_at = -1 };
        ck_assert_int_eq(config_foreach_key(c, "none", visit_key, &v), 0);
        ck_assert_int_eq(v.n, 0);
        ck_assert_int_eq(config_foreach_key(NULL, "a", visit_key, &v), 0);
        ck_assert_ptr_null(config_get(NULL, "a", "z"));
        config_free(c);
        ck_assert_ptr_null(config_free(NULL));
}
END_TEST

START_TEST(test_errors_name_file_and_line)
{
        const char *m;

        m = parse_fails("[daemon]\nlog_level = info\n[daemon\n");
        ck_assert_msg(strncmp(m, "vssd.conf:3: ", 13) == 0, "got: %s", m);
        ck_assert_ptr_nonnull(strstr(m, "section header"));

        m = parse_fails("[daemon] # trailing\n");
        ck_assert_msg(strncmp(m, "vssd.conf:1: ", 13) == 0, "got: %s", m);

        m = parse_fails("# c\n\n[bad name]\n");
        ck_assert_msg(strncmp(m, "vssd.conf:3: ", 13) == 0, "got: %s", m);
        ck_assert_ptr_nonnull(strstr(m, "bad name"));

        m = parse_fails("[]\n");
        ck_assert_msg(strncmp(m, "vssd.conf:1: ", 13) == 0, "got: %s", m);

        m = parse_fails("[daemon]\r\n\r\njust some words\r\n");
        ck_assert_msg(strncmp(m, "vssd.conf:3: ", 13) == 0, "got: %s", m);
        ck_assert_ptr_nonnull(strstr(m, "key = value"));
        ck_assert_ptr_nonnull(strstr(m, "just some words"));

        m = parse_fails("[daemon]\nlog level = debug\n");
        ck_assert_msg(strncmp(m, "vssd.conf:2: ", 13) == 0, "got: %s", m);
        ck_assert_ptr_nonnull(strstr(m, "log level"));

        m = parse_fails("[daemon]\n = debug\n");
        ck_assert_msg(strncmp(m, "vssd.conf:2: ", 13) == 0, "got: %s", m);

        m = parse_fails("log_level = debug\n[daemon]\n");
        ck_assert_msg(strncmp(m, "vssd.conf:1: ", 13) == 0, "got: %s", m);
        ck_assert_ptr_nonnull(strstr(m, "outside any [section]"));

        /* The last line counts even without a newline. */
        m = parse_fails("[daemon]\na = 1\nb = 2\nbroken");
        ck_assert_msg(strncmp(m, "vssd.conf:4: ", 13) == 0, "got: %s", m);
}
END_TEST

START_TEST(test_unnamed_source)
{
        Config *c = NULL;

        ck_assert_int_eq(config_parse(&c, "oops\n", NULL, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strncmp(err, "<config>:1: ", 12) == 0, "got: %s", err);
}
END_TEST

START_TEST(test_long_section_name_refused)
{
        char text[400];

        memset(text, 'x', sizeof(text));
        text[0] = '[';
        snprintf(text + 300, sizeof(text) - 300, "]\nk = v\n");
        ck_assert_int_eq(config_parse(&(Config *){ NULL }, text, "f", err, sizeof(err)), -EINVAL);
        ck_assert_msg(strncmp(err, "f:1: ", 5) == 0, "got: %s", err);
}
END_TEST

START_TEST(test_load_file)
{
        Config *c = NULL;

        WRITE_LITERAL("[daemon]\nhold_timeout_ms = 250\n");
        ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
        ck_assert_str_eq(config_get(c, "daemon", "hold_timeout_ms"), "250");
        config_free(c);
}
END_TEST

/* Larger than the reader's buffer: nothing is lost at the seams. */
START_TEST(test_load_large_file)
{
        enum { N = 3000 };
        size_t cap = 64 + (size_t)N * 32, len = 0;
        char *text = malloc(cap);
        Config *c = NULL;
        char key[32], value[32];

        ck_assert_ptr_nonnull(text);
        len += (size_t)sprintf(text + len, "[big]\n");
        for (int i = 0; i < N; i++)
                len += (size_t)sprintf(text + len, "key%d = value%d\n", i, i);
        write_file(text, len);
        free(text);
        ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
        for (int i = 0; i < N; i += 97) {
                snprintf(key, sizeof(key), "key%d", i);
                snprintf(value, sizeof(value), "value%d", i);
                ck_assert_str_eq(config_get(c, "big", key), value);
        }
        ck_assert_str_eq(config_get(c, "big", "key2999"), "value2999");
        config_free(c);
}
END_TEST

START_TEST(test_load_errors_name_the_file)
{
        Config *sentinel = (Config *)&err, *c = sentinel;
        char missing[160];

        snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
        ck_assert_int_eq(config_load(&c, missing, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_eq(c, sentinel);
        ck_assert_ptr_nonnull(strstr(err, missing));

        /* A parse error in a file names the file by its path. */
        WRITE_LITERAL("[daemon]\nno equals sign\n");
        ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EINVAL);
        char want[200];
        snprintf(want, sizeof(want), "%s:2: ", path);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got: %s", err);

        /* A binary file is not half-parsed. */
        WRITE_LITERAL("[daemon]\nx = 1\n\0\x7f" "ELF");
        ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, path));
        ck_assert_ptr_nonnull(strstr(err, "NUL"));

        /* A directory is not a configuration file. */
        ck_assert_int_lt(config_load(&c, dir, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(strstr(err, dir));
        ck_assert_ptr_eq(c, sentinel);
}
END_TEST

START_TEST(test_get_uint)
{
        Config *c = NULL;
        unsigned v = 0;

        ck_assert_int_eq(config_parse(&c,
                                      "[s]\nlow = 100\nhigh = 60000\nmid = 1234\nzero = 0\n"
                                      "under = 99\nover = 60001\nneg = -1\nplus = +5\n"
                                      "junk = 12abc\nhex = 0x10\nempty =\nhuge = 99999999999999999999\n"
                                      "spaced = 1 2\n",
                                      "f", err, sizeof(err)),
                         0);
        ck_assert_int_eq(config_get_uint(c, "s", "absent", 777, 100, 60000, &v, err, sizeof(err)), 0);
        ck_assert_uint_eq(v, 777);
        ck_assert_int_eq(config_get_uint(c, "s", "low", 1, 100, 60000, &v, err, sizeof(err)), 0);
        ck_assert_uint_eq(v, 100);
        ck_assert_int_eq(config_get_uint(c, "s", "high", 1, 100, 60000, &v, err, sizeof(err)), 0);
        ck_assert_uint_eq(v, 60000);
        ck_assert_int_eq(config_get_uint(c, "s", "mid", 1, 100, 60000, &v, err, sizeof(err)), 0);
        ck_assert_uint_eq(v, 1234);
        ck_assert_int_eq(config_get_uint(c, "s", "zero", 1, 0, UINT_MAX, &v, err, sizeof(err)), 0);
        ck_assert_uint_eq(v, 0);

        static const char *const bad[] = { "under", "over", "neg", "junk", "hex",
                                           "empty", "huge", "spaced", "zero" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                v = 4242;
                err[0] = '\0';
                ck_assert_msg(config_get_uint(c, "s", bad[i], 1, 100, 60000, &v, err, sizeof(err)) ==
                                      -EINVAL,
                              "%s accepted", bad[i]);
                ck_assert_uint_eq(v, 4242); /* untouched on failure */
                /* The message names the key, the value and the range. */
                ck_assert_msg(strstr(err, bad[i]) && strstr(err, "100..60000") &&
                                      strstr(err, config_get(c, "s", bad[i])),
                              "message for %s: %s", bad[i], err);
        }
        config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("parse");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_parse_basic);
        tcase_add_test(tc, test_last_value_wins_and_sections_reopen);
        tcase_add_test(tc, test_crlf_and_no_trailing_newline);
        tcase_add_test(tc, test_foreach_in_file_order);
        tcase_add_test(tc, test_errors_name_file_and_line);
        tcase_add_test(tc, test_unnamed_source);
        tcase_add_test(tc, test_long_section_name_refused);
        tcase_add_test(tc, test_get_uint);
        suite_add_tcase(s, tc);

        tc = tcase_create("load");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_load_file);
        tcase_add_test(tc, test_load_large_file);
        tcase_add_test(tc, test_load_errors_name_the_file);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(config_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
