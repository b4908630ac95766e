/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_components.c: implicit component selection through the real
 * vssd, as vssctl create and exec meet it. A writer (test-writer) has one
 * component with its data on one volume and its log on another, like a
 * PostgreSQL cluster with its WAL apart; the volumes are two small ext4 file
 * systems on loop devices (so that vssd places the files on real block
 * devices), snapshotted by the fake provider. A set of the data volume alone
 * fails with InconsistentSnapshot naming the log's volume, leaving nothing;
 * both volumes, or the writer left out, succeed. A second writer vetoing
 * PrepareSnapshot fails the set if a component of it is in the set, and is
 * only a warning if none is.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/vssctl-test.h"

static char dir[64];
static char loop_data[32], loop_log[32];
static char writers_log[PATH_MAX + 16];
static pid_t writer, vetoer; /* vetoer: a second writer, spawned by some tests */

/* Run CMD (a shell line); its output, trailing newline cut, into OUT. */
static void run(char *out, size_t size, const char *cmd)
{
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
        ck_assert_msg(pclose(p) == 0, "%s failed: %s", cmd, out);
}

/* A 16 MiB ext4 file system on a loop device, mounted at DIR/NAME; the device into LOOP. */
static void loop_volume(const char *name, char *loop, size_t size)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "truncate -s 16M %s/%s.img && losetup -f --show %s/%s.img",
                 dir, name, dir, name);
        run(loop, size, cmd);
        snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s 2>&1 && mkdir -p %s/%s && mount %s %s/%s "
                 "2>&1 && mkdir %s/%s/files", loop, dir, name, loop, dir, name, dir, name);
        char out[512];
        run(out, sizeof(out), cmd);
}

/* Once for all tests, in the test runner itself: its teardown runs even after a failure. */
static void volumes_setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/vss-components.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        loop_volume("data", loop_data, sizeof(loop_data));
        loop_volume("log", loop_log, sizeof(loop_log));
}

static void volumes_teardown(void)
{
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "umount %s/data %s/log; losetup -d %s %s; rm -rf %s",
                 dir, dir, loop_data, loop_log, dir);
        if (system(cmd) != 0)
                fprintf(stderr, "check_bus_components: cleaning up failed: %s\n", cmd);
}

static void setup(void)
{
        char config[256], path[256];

        snprintf(config, sizeof(config), "volumes = %s,%s\n", loop_data, loop_log);
        vssctl_test_start(config);
        snprintf(writers_log, sizeof(writers_log), "%s/writers.log", tb.dir);
        writer = testbus_spawn_writer(&tb, path, sizeof(path),
                                      "--name db --instance db-1 --log %s "
                                      "--component :cluster:%s/data/files,%s/log/files",
                                      writers_log, dir, dir);
}

static void teardown(void)
{
        testbus_kill(vetoer);
        vetoer = 0;
        testbus_kill(writer);
        testbus_stop(&tb);
}

static void expect_nothing_left(void)
{
        char *out = NULL;
        ck_assert_int_eq(vssctl(&out, "list shadows"), 0);
        ck_assert_str_eq(out, "No shadow copies.\n");
        free(out);
}

/* STATUS: vssctl's exit status, WANTED (create: 1; exec: 125, it ran no command). */
static void expect_refusal(int status, int wanted, const char *out)
{
        ck_assert_msg(status == wanted, "exit %d:\n%s", status, out);
        char needle[256];
        snprintf(needle, sizeof(needle), "%s/log/files is on volume %s", dir, loop_log);
        ck_assert_msg(strstr(out, "component 'cluster' of writer 'db'") && strstr(out, needle) &&
                      strstr(out, "--exclude-writer db"), "%s", out);
        char *log = testbus_read_file(writers_log);
        /* Asked where its files are, then never told of a set. */
        ck_assert_msg(strstr(log, "db Identify") && !strstr(log, "PrepareBackup"), "%s", log);
        free(log);
        expect_nothing_left();
}

START_TEST(test_create_without_the_log_volume_fails)
{
        char *out = NULL;
        int r = vssctl(&out, "create %s", loop_data);
        expect_refusal(r, 1, out);
        free(out);
}
END_TEST

START_TEST(test_exec_without_the_log_volume_fails)
{
        char *out = NULL;
        int r = vssctl(&out, "exec %s -- true", loop_data);
        expect_refusal(r, 125, out);
        free(out);
}
END_TEST

START_TEST(test_whole_component_or_writer_left_out)
{
        char *out = NULL;
        int r = vssctl(&out, "create %s %s", loop_data, loop_log);
        ck_assert_msg(r == 0, "%s", out);
        free(out);
        char *log = testbus_read_file(writers_log);
        ck_assert_msg(strstr(log, "db Freeze"), "%s", log);
        free(log);
        ck_assert_int_eq(vssctl(&out, "delete --all"), 0);
        free(out);

        r = vssctl(&out, "create --exclude-writer db %s", loop_data);
        ck_assert_msg(r == 0, "%s", out);
        free(out);
}
END_TEST

/* A second writer, NAME, vetoing PrepareSnapshot, with ARGS (its components, if any). */
static void spawn_vetoer(const char *name, const char *args)
{
        char path[256];
        vetoer = testbus_spawn_writer(&tb, path, sizeof(path), "--name %s --instance %s-1 --log %s "
                                    "--fail PrepareSnapshot %s", name, name, writers_log, args);
}

START_TEST(test_selected_writer_veto_fails_the_set)
{
        char comp[PATH_MAX + 32];
        snprintf(comp, sizeof(comp), "--component :cache:%s/data/files", dir);
        spawn_vetoer("cache", comp);
        char *out = NULL;
        int r = vssctl(&out, "create --exclude-writer db %s", loop_data);
        ck_assert_msg(r == 1, "exit %d:\n%s", r, out);
        ck_assert_msg(strstr(out, "writer 'cache' failed PrepareSnapshot (RETRYABLE): test "
                                  "writer cache vetoes PrepareSnapshot") &&
                      strstr(out, "--exclude-writer cache"), "%s", out);
        free(out);
        /* Nothing froze (a writer logs Freeze before answering it; Abort may still come). */
        char *log = testbus_read_file(writers_log);
        ck_assert_msg(strstr(log, "cache PrepareSnapshot") && !strstr(log, "Freeze"), "%s", log);
        free(log);
        expect_nothing_left();
}
END_TEST

START_TEST(test_unselected_writer_veto_warns)
{
        spawn_vetoer("idle", "");
        char *out = NULL;
        int r = vssctl(&out, "create --exclude-writer db %s", loop_data);
        ck_assert_msg(r == 0, "exit %d:\n%s", r, out);
        ck_assert_msg(strstr(out, "writer 'idle' failed PrepareSnapshot (RETRYABLE)") &&
                      !strstr(out, "--exclude-writer idle"), "%s", out);
        free(out);
        ck_assert_int_eq(vssctl(&out, "list shadows"), 0);
        ck_assert_msg(strstr(out, loop_data), "%s", out);
        free(out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bus-components");
        TCase *tc = tcase_create("implicit");
        tcase_add_unchecked_fixture(tc, volumes_setup, volumes_teardown);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_create_without_the_log_volume_fails);
        tcase_add_test(tc, test_exec_without_the_log_volume_fails);
        tcase_add_test(tc, test_whole_component_or_writer_left_out);
        tcase_add_test(tc, test_selected_writer_veto_fails_the_set);
        tcase_add_test(tc, test_unselected_writer_veto_warns);
        suite_add_tcase(s, tc);
        return vssctl_test_run(s);
}
