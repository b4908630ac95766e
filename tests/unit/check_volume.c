/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_volume.c: canonical volume names (daemon/volume.c), on this machine's
 * real devices and mounts: a requester's device path and a writer's file on
 * the same volume must come out as the same name, or PrepareForBackup would
 * call a consistent backup inconsistent (or worse, the other way round).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daemon/volume.h"

START_TEST(test_unknown_path_is_left_to_the_providers)
{
        char buf[PATH_MAX];
        ck_assert_int_eq(volume_canonicalize("/dev/fake/a", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "/dev/fake/a");
        ck_assert_int_eq(volume_canonicalize("/dev/fake/a", buf, 5), -ENAMETOOLONG);
}
END_TEST

/* Any node of the root file system's device names the volume "/" is on. */
START_TEST(test_device_node_and_file_agree)
{
        struct stat st;
        char dir[] = "/tmp/check-volume.XXXXXX", node[64], link[64], sys[64];
        char by_node[PATH_MAX], by_link[PATH_MAX], by_file[PATH_MAX];

        ck_assert_int_eq(stat("/", &st), 0);
        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
        if (access(sys, F_OK) < 0)
                return; /* "/" has no block device of its own here (overlay): next test */
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(node, sizeof(node), "%s/disk", dir);
        snprintf(link, sizeof(link), "%s/link", dir);
        ck_assert_int_eq(mknod(node, S_IFBLK | 0600, st.st_dev), 0);
        ck_assert_int_eq(symlink(node, link), 0);

        ck_assert_int_eq(volume_canonicalize(node, by_node, sizeof(by_node)), 0);
        ck_assert_int_eq(volume_canonicalize(link, by_link, sizeof(by_link)), 0);
        ck_assert_int_eq(volume_of_path("/etc/passwd", by_file, sizeof(by_file)), 0);
        ck_assert_str_eq(by_node, by_file);
        ck_assert_str_eq(by_link, by_file);
        ck_assert_msg(strncmp(by_file, "/dev/", 5) == 0 && strcmp(by_file, node) != 0,
                      "%s is not a /dev name", by_file);
        unlink(link);
        unlink(node);
        rmdir(dir);
}
END_TEST

/* File systems without a block device are named by their mount's source. */
START_TEST(test_file_system_without_device)
{
        char buf[PATH_MAX];
        ck_assert_int_eq(volume_of_path("/proc/self", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "proc");
}
END_TEST

START_TEST(test_missing_file)
{
        char buf[PATH_MAX];
        ck_assert_int_eq(volume_of_path("/nonexistent/file", buf, sizeof(buf)), -ENOENT);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("volume");
        TCase *tc = tcase_create("names");
        tcase_add_test(tc, test_unknown_path_is_left_to_the_providers);
        tcase_add_test(tc, test_device_node_and_file_agree);
        tcase_add_test(tc, test_file_system_without_device);
        tcase_add_test(tc, test_missing_file);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
