/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_access.c: vssd's rule of who may call what (daemon/access.c), with
 * the machine's own user database and users every Debian system has: root,
 * daemon (uid 1, primary group daemon), bin (uid 2, primary group bin) and
 * nobody (65534). The groups stand in for vss-backup and vss-writer, as the
 * bus tests do; no user or group is created.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/access.h"

#define MISSING "vss-no-such-group"
#define NO_SUCH_UID 4000000u

static Access *rule;
static char err[512];

static void teardown(void)
{
        rule = access_free(rule);
}

/* May UID make a call of CLASS? The message (empty when allowed) is in err. */
static int check_uid(uid_t uid, enum access_class class, const char *what)
{
        AccessIdentity *id = NULL;

        err[0] = '\0';
        ck_assert_int_eq(access_identify(rule, uid, &id), 0);
        int r = access_check(rule, id, class, what, err, sizeof(err));
        access_identity_free(id);
        ck_assert_msg(r == 0 || r == -EACCES, "access_check returned %d", r);
        ck_assert_msg(r == 0 ? err[0] == '\0' : err[0] != '\0', "message \"%s\" for %d", err, r);
        return r;
}

static void assert_refused(uid_t uid, enum access_class class, const char *what,
                           const char *want)
{
        ck_assert_int_eq(check_uid(uid, class, what), -EACCES);
        ck_assert_msg(strstr(err, want), "\"%s\" lacks \"%s\"", err, want);
}

START_TEST(test_root_may_do_everything)
{
        ck_assert_int_eq(access_new(&rule, "daemon", "bin"), 0);
        for (int c = ACCESS_ROOT; c <= ACCESS_WRITER + 1; c++)
                ck_assert_int_eq(check_uid(0, (enum access_class)c, "Anything"), 0);
}
END_TEST

START_TEST(test_anyone_may_list)
{
        ck_assert_int_eq(access_new(&rule, "daemon", "bin"), 0);
        ck_assert_int_eq(check_uid(65534, ACCESS_ANYONE, "IsVolumeSupported"), 0);
        ck_assert_int_eq(check_uid(NO_SUCH_UID, ACCESS_ANYONE, "IsVolumeSupported"), 0);
}
END_TEST

/* Membership by primary group counts, as in dbus-daemon's <policy group=...>. */
START_TEST(test_group_members)
{
        ck_assert_int_eq(access_new(&rule, "daemon", "bin"), 0);
        ck_assert_int_eq(check_uid(1, ACCESS_BACKUP, "CreateSnapshotSet"), 0);
        ck_assert_int_eq(check_uid(2, ACCESS_WRITER, "RegisterWriter"), 0);
        /* Each group gives its own rights only. */
        assert_refused(1, ACCESS_WRITER, "RegisterWriter",
                       "RegisterWriter needs root or membership of group 'bin'; uid 1 (daemon) "
                       "is not a member (an administrator can add it: usermod -aG bin daemon)");
        assert_refused(2, ACCESS_BACKUP, "CreateSnapshotSet",
                       "CreateSnapshotSet needs root or membership of group 'daemon'; uid 2 (bin) "
                       "is not a member (an administrator can add it: usermod -aG daemon bin)");
}
END_TEST

START_TEST(test_root_only_classes)
{
        ck_assert_int_eq(access_new(&rule, "daemon", "bin"), 0);
        assert_refused(1, ACCESS_ROOT, "EnableVolume",
                       "EnableVolume is for root only; uid 1 (daemon) is not root");
        /* A class this rule does not know is root's: the safe default. */
        assert_refused(1, (enum access_class)(ACCESS_WRITER + 1), "Future",
                       "Future is for root only; uid 1 (daemon) is not root");
}
END_TEST

START_TEST(test_outsiders_refused)
{
        ck_assert_int_eq(access_new(&rule, "daemon", "bin"), 0);
        assert_refused(65534, ACCESS_BACKUP, "DeleteSnapshots",
                       "DeleteSnapshots needs root or membership of group 'daemon'; uid 65534 "
                       "(nobody) is not a member (an administrator can add it: usermod -aG "
                       "daemon nobody)");
        assert_refused(NO_SUCH_UID, ACCESS_BACKUP, "Expose",
                       "Expose needs root or membership of group 'daemon'; uid 4000000 (not in "
                       "the user database) is in no group");
}
END_TEST

/* stderr into a file while FN runs; the file's text. */
static char *capture_stderr(int (*fn)(void))
{
        char path[] = "/tmp/check_access.XXXXXX";
        static char text[4096];
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);

        ck_assert_int_ge(fd, 0);
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        int r = fn();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        ck_assert_int_eq(r, 0);
        ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);
        return text;
}

static int new_with_missing_group(void)
{
        return access_new(&rule, MISSING, "bin");
}

/* A group that does not exist: a warning naming the fix, and only root passes. */
START_TEST(test_missing_group)
{
        const char *log = capture_stderr(new_with_missing_group);

        ck_assert_msg(strstr(log, "group '" MISSING "' (backup_group in vssd.conf) does not "
                                  "exist, so only root may create, expose and delete "
                                  "snapshots; create it with: groupadd --system " MISSING),
                      "warning: %s", log);
        /* One warning: the writer group exists. */
        ck_assert_ptr_null(strstr(strstr(log, "groupadd") + 1, "groupadd"));
        assert_refused(1, ACCESS_BACKUP, "DeleteSnapshots",
                       "DeleteSnapshots needs root or membership of group '" MISSING "', which "
                       "does not exist; uid 1 (daemon) is not root (an administrator can create "
                       "the group: groupadd --system " MISSING ", then add the user: usermod "
                       "-aG " MISSING " daemon)");
        ck_assert_int_eq(check_uid(0, ACCESS_BACKUP, "DeleteSnapshots"), 0);
        ck_assert_int_eq(check_uid(2, ACCESS_WRITER, "RegisterWriter"), 0);
}
END_TEST

/* An empty group setting leaves the calls to root, without a warning. */
static int new_with_empty_groups(void)
{
        return access_new(&rule, "", NULL);
}

START_TEST(test_empty_group_means_root_alone)
{
        const char *log = capture_stderr(new_with_empty_groups);

        ck_assert_str_eq(log, "");
        assert_refused(1, ACCESS_BACKUP, "CreateSnapshotSet",
                       "CreateSnapshotSet is for root only (backup_group is empty in "
                       "vssd.conf); uid 1 (daemon) is not root");
        assert_refused(2, ACCESS_WRITER, "RegisterWriter",
                       "RegisterWriter is for root only (writer_group is empty in vssd.conf); "
                       "uid 2 (bin) is not root");
        ck_assert_int_eq(check_uid(0, ACCESS_WRITER, "RegisterWriter"), 0);
}
END_TEST

static Suite *access_suite(void)
{
        Suite *s = suite_create("access");
        TCase *tc = tcase_create("rule");

        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_add_test(tc, test_root_may_do_everything);
        tcase_add_test(tc, test_anyone_may_list);
        tcase_add_test(tc, test_group_members);
        tcase_add_test(tc, test_root_only_classes);
        tcase_add_test(tc, test_outsiders_refused);
        tcase_add_test(tc, test_missing_group);
        tcase_add_test(tc, test_empty_group_means_root_alone);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(access_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
