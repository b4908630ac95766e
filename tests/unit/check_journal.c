/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_journal.c: providers' intent journals (providers/common/journal.c)
 * and the dm-snapshot provider's tables in them (intent.c): what a
 * recovery reads back is what was written, a record cut short by a crash is
 * left out, several journals live side by side, and removal.
 *
 * Every test works in its own directory under /tmp/check-journal.XXXXXX.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/common/journal.h"
#include "providers/dm-snapshot/intent.h"

static char base[] = "/tmp/check-journal.XXXXXX";
static char dir[256];

static void setup(void)
{
        static int n;
        snprintf(dir, sizeof(dir), "%s/t%d/run/vss/provider", base, n++);
}

static void teardown(void)
{
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'/t*", base);
        ck_assert_int_eq(system(cmd), 0);
}

static void open_ok(Journal *j, const char *name)
{
        struct vss_error_buf err = { "" };
        int r = journal_open(j, dir, name, &err);
        ck_assert_msg(r == 0, "journal_open %s: %d %s", name, r, err.message);
}

static void read_ok(const char *name, JournalFile *f)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s" JOURNAL_SUFFIX, dir, name);
        int r = journal_read(path, f);
        ck_assert_msg(r == 0, "journal_read %s: %s", path, strerror(-r));
}

static void append_raw(const char *name, const char *bytes)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s" JOURNAL_SUFFIX, dir, name);
        int fd = open(path, O_WRONLY | O_APPEND);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
        close(fd);
}

/* Any string is one field: spaces, newlines, backslashes, the escape itself, nothing. */
START_TEST(test_fields_come_back_as_written)
{
        static const char *const odd[] = {
                "0 2048 linear 7:0 0\n2048 4096 striped 2 128 7:1 0 7:2 0",
                "/srv/diff area/with\ttab", "back\\slash \\x41 not an escape", "", "\\x00",
                "é ü", "\x01\x7f",
        };
        Journal j = JOURNAL_INIT;
        JournalFile f;

        open_ok(&j, "set-1");
        ck_assert_int_eq(journal_append(&j, NULL, "set", "set-1", "3", NULL), 0);
        for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
                ck_assert_int_eq(journal_append(&j, NULL, "odd", odd[i], "end", NULL), 0);
        journal_close(&j);
        read_ok("set-1", &f);
        ck_assert(!f.torn);
        ck_assert_str_eq(f.name, "set-1");
        ck_assert_uint_eq(f.n, 1 + sizeof(odd) / sizeof(odd[0]));
        ck_assert(journal_is(&f.records[0], "set", 2));
        ck_assert(!journal_is(&f.records[0], "set", 3));
        ck_assert_str_eq(journal_field(&f.records[0], 1), "set-1");
        ck_assert_str_eq(journal_field(&f.records[0], 9), "");
        for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
                ck_assert_uint_eq(f.records[i + 1].n, 3);
                ck_assert_str_eq(journal_field(&f.records[i + 1], 1), odd[i]);
                ck_assert_str_eq(journal_field(&f.records[i + 1], 2), "end");
        }
        journal_file_free(&f);
}
END_TEST

/* Each record is one line of the file: a reader after a crash sees whole lines. */
START_TEST(test_one_line_per_record)
{
        Journal j = JOURNAL_INIT;
        char path[PATH_MAX], buf[512] = "";

        open_ok(&j, "s");
        ck_assert_int_eq(journal_append(&j, NULL, "real", "vol a", "0 8 linear 7:0 0\nx", NULL),
                         0);
        snprintf(path, sizeof(path), "%s/s" JOURNAL_SUFFIX, dir);
        int fd = open(path, O_RDONLY);
        ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
        close(fd);
        ck_assert_str_eq(buf, "real vol\\x20a 0\\x208\\x20linear\\x207:0\\x200\\x0ax\n");
        journal_close(&j);
}
END_TEST

/* A crash in the middle of a write: the cut record is left out, the others stay. */
START_TEST(test_torn_last_line_is_ignored)
{
        Journal j = JOURNAL_INIT;
        JournalFile f;

        open_ok(&j, "t");
        ck_assert_int_eq(journal_append(&j, NULL, "store", "snap-1", "vol", NULL), 0);
        ck_assert_int_eq(journal_append(&j, NULL, "snapshot", "snap-1", "vol", "vss-snap-1",
                                        NULL), 0);
        journal_close(&j);
        append_raw("t", "reload vo");
        read_ok("t", &f);
        ck_assert(f.torn);
        ck_assert_uint_eq(f.n, 2);
        ck_assert(journal_is(&f.records[1], "snapshot", 3));
        journal_file_free(&f);
        /* A cut inside an escape is left out the same way. */
        append_raw("t", "\\x2\n");
        read_ok("t", &f);
        ck_assert(f.torn);
        ck_assert_uint_eq(f.n, 2);
        journal_file_free(&f);
}
END_TEST

/* A write cut short (file system full) is taken back: no half record between whole ones. */
START_TEST(test_short_write_is_taken_back)
{
        Journal j = JOURNAL_INIT;
        struct vss_error_buf err = { "" };
        struct stat st;
        JournalFile f;
        char big[300];

        open_ok(&j, "full");
        ck_assert_int_eq(journal_append(&j, NULL, "set", "a", NULL), 0);
        ck_assert_int_eq(fstat(j.fd, &st), 0);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        /* The file-size limit in a child of its own: Check (and valgrind) write files too. */
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                signal(SIGXFSZ, SIG_IGN);
                struct rlimit lim = { (rlim_t)st.st_size + 100, (rlim_t)st.st_size + 100 };
                bool refused = setrlimit(RLIMIT_FSIZE, &lim) == 0 &&
                               journal_append(&j, &err, "store", big, NULL) < 0 &&
                               strstr(err.message, "cannot write to the journal");
                _exit(refused ? 0 : 1);
        }
        int status;
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "a record cut short by a full file system was not refused");
        ck_assert_int_eq(journal_append(&j, NULL, "ready", "1", NULL), 0);
        journal_close(&j);
        read_ok("full", &f);
        ck_assert(!f.torn);
        ck_assert_uint_eq(f.n, 2);
        ck_assert(journal_is(&f.records[1], "ready", 1));
        journal_file_free(&f);
}
END_TEST

/* One journal per set, read back sorted; other files are not journals. */
START_TEST(test_several_sets)
{
        Journal a = JOURNAL_INIT, b = JOURNAL_INIT;
        JournalFile *files;
        size_t n;
        char path[PATH_MAX];

        open_ok(&b, "set-b");
        open_ok(&a, "set-a");
        ck_assert_int_eq(journal_append(&b, NULL, "set", "b", NULL), 0);
        ck_assert_int_eq(journal_append(&a, NULL, "set", "a", NULL), 0);
        ck_assert_int_eq(journal_append(&b, NULL, "ready", "2", NULL), 0);
        journal_close(&a);
        journal_close(&b);
        /* Reopened (a second step of the same work) appends. */
        open_ok(&a, "set-a");
        ck_assert_int_eq(journal_append(&a, NULL, "suspend", "vol", NULL), 0);
        journal_close(&a);
        snprintf(path, sizeof(path), "%s/notes.txt", dir);
        FILE *other = fopen(path, "w");
        ck_assert_ptr_nonnull(other);
        fputs("not a journal\n", other);
        fclose(other);
        ck_assert_int_eq(journal_read_dir(dir, &files, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(files[0].name, "set-a");
        ck_assert_uint_eq(files[0].n, 2);
        ck_assert(journal_is(&files[0].records[1], "suspend", 1));
        ck_assert_str_eq(files[1].name, "set-b");
        ck_assert_uint_eq(files[1].n, 2);
        journal_files_free(files, n);
}
END_TEST

START_TEST(test_removal)
{
        Journal j = JOURNAL_INIT;
        JournalFile *files;
        size_t n;

        open_ok(&j, "gone");
        ck_assert_int_eq(journal_append(&j, NULL, "set", "x", NULL), 0);
        ck_assert_int_eq(journal_remove(&j, NULL), 0);
        ck_assert_int_eq(j.fd, -1);
        ck_assert_int_eq(journal_read_dir(dir, &files, &n), 0);
        ck_assert_uint_eq(n, 0);
        free(files);
        /* Twice, or never opened: nothing to do. */
        ck_assert_int_eq(journal_remove(&j, NULL), 0);
        Journal never = JOURNAL_INIT;
        ck_assert_int_eq(journal_remove(&never, NULL), 0);
        /* A directory that was never made holds no journals. */
        ck_assert_int_eq(journal_read_dir("/nonexistent/journals", &files, &n), 0);
        ck_assert_uint_eq(n, 0);
}
END_TEST

/* Made 0700 on demand; a directory others may write to is refused, changing nothing. */
START_TEST(test_directory)
{
        Journal j = JOURNAL_INIT;
        struct vss_error_buf err = { "" };
        struct stat st;

        open_ok(&j, "d");
        journal_close(&j);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        Journal k = JOURNAL_INIT;
        ck_assert_int_eq(journal_open(&k, dir, "e", &err), -EPERM);
        ck_assert_msg(strstr(err.message, dir) && strstr(err.message, "0777"), "%s",
                      err.message);
        ck_assert_int_eq(k.fd, -1);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/e" JOURNAL_SUFFIX, dir);
        ck_assert_int_ne(access(path, F_OK), 0);
        ck_assert_int_eq(journal_open(&k, "relative/dir", "e", &err), -EINVAL);
        ck_assert_int_eq(journal_open(&k, dir, "../escape", &err), -EINVAL);
        ck_assert_int_eq(journal_open(&k, dir, "", &err), -EINVAL);
}
END_TEST

/* dm-snapshot keeps an origin's table in its journal: it must come back exactly. */
START_TEST(test_table_round_trip)
{
        DmTable t = { 0 }, back = { 0 };
        char *text;

        ck_assert_int_eq(dm_table_add(&t, 0, 2048, "linear", "7:0 0"), 0);
        ck_assert_int_eq(dm_table_add(&t, 2048, 4096, "striped", "2 128 7:1 0 7:2 0"), 0);
        ck_assert_int_eq(intent_table_format(&t, &text), 0);
        ck_assert_int_eq(intent_table_parse(text, &back), 0);
        ck_assert_uint_eq(back.n, 2);
        for (size_t i = 0; i < 2; i++) {
                ck_assert_uint_eq(back.targets[i].start, t.targets[i].start);
                ck_assert_uint_eq(back.targets[i].length, t.targets[i].length);
                ck_assert_str_eq(back.targets[i].type, t.targets[i].type);
                ck_assert_str_eq(back.targets[i].params, t.targets[i].params);
        }
        dm_table_free(&back);
        ck_assert_int_eq(intent_table_parse("", &back), -EINVAL);
        ck_assert_int_eq(intent_table_parse("0 x linear 7:0 0", &back), -EINVAL);
        free(text);
        dm_table_free(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("journal");
        TCase *tc = tcase_create("journal");
        int failed;

        if (!mkdtemp(base)) {
                perror("mkdtemp");
                return EXIT_FAILURE;
        }
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_fields_come_back_as_written);
        tcase_add_test(tc, test_one_line_per_record);
        tcase_add_test(tc, test_torn_last_line_is_ignored);
        tcase_add_test(tc, test_short_write_is_taken_back);
        tcase_add_test(tc, test_several_sets);
        tcase_add_test(tc, test_removal);
        tcase_add_test(tc, test_directory);
        tcase_add_test(tc, test_table_round_trip);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        rmdir(base);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
