/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_vssctl_exec.c: "vssctl exec" (the backup flow around one
 * command) and "vssctl writers status", against the real vssd on a private
 * bus with the fake provider and test writers: the environment COMMAND
 * sees, its exit status passed through, the verdict the writers read at
 * BackupComplete, the snapshots gone afterwards, and what happens when
 * vssctl is signalled or killed while COMMAND runs.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bus/vssctl-test.h"

static pid_t writers[4];
static size_t n_writers;
static char writers_log[PATH_MAX];

static void setup(void)
{
        vssctl_test_start("[daemon]\nmonitor_interval_ms = 60000\n");
        n_writers = 0;
        snprintf(writers_log, sizeof(writers_log), "%s/writers.log", tb.dir);
}

static void teardown(void)
{
        for (size_t i = 0; i < n_writers; i++)
                testbus_kill(writers[i]);
        testbus_stop(&tb);
}

static void spawn_writer(const char *name, const char *args)
{
        char path[256];
        ck_assert_uint_lt(n_writers, ELEMENTSOF(writers));
        writers[n_writers++] = testbus_spawn_writer(&tb, path, sizeof(path),
                                                    "--name %s --instance %s-1 --log %s "
                                                    "--check-succeeded %s",
                                                    name, name, writers_log, args);
}

static void expect_nothing_left(void)
{
        expect_exact(0, "No shadow copies.\n", "list shadows");
        expect_exact(0, "No snapshot sets.\n", "list sets");
}

/* The value of NAME=... in the environment dump ENV ("" if absent), into BUF. */
static const char *env_get(const char *env, const char *name, char *buf, size_t size)
{
        char key[64];
        snprintf(key, sizeof(key), "%s=", name);
        buf[0] = '\0';
        for (const char *line = env; line && *line; line = strchr(line, '\n') + 1) {
                if (strncmp(line, key, strlen(key)) == 0) {
                        const char *v = line + strlen(key);
                        snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
                        break;
                }
                if (!strchr(line, '\n'))
                        break;
        }
        return buf;
}

/* Did the fake provider get "OP ID" (a line of its log)? */
static bool provider_got(const char *op, const char *id)
{
        char line[128];
        snprintf(line, sizeof(line), "%s %s\n", op, id);
        return log_has(line);
}

/* ---- the environment ------------------------------------------------------------------------- */

START_TEST(test_exec_environment)
{
        char env_path[PATH_MAX], v[256], id[2][64], name[64];

        spawn_writer("db", "");
        snprintf(env_path, sizeof(env_path), "%s/env.txt", tb.dir);
        /* COMMAND runs without a shell: env(1) itself, its output into a file by ours. */
        char *out = expect_vssctl(0, NULL, "exec /dev/fake/a /dev/fake/b -- env > %s",
                                  env_path);
        ck_assert_str_eq(out, "");
        free(out);
        char *env = testbus_read_file(env_path);
        ck_assert_str_eq(env_get(env, "VSS_VOLUME_COUNT", v, sizeof(v)), "2");
        const char *set_id = env_get(env, "VSS_SNAPSHOT_SET_ID", v, sizeof(v));
        ck_assert_msg(matches(set_id, UUID_PATTERN) && strlen(set_id) == UUID_LEN, "%s", env);
        char set[64];
        snprintf(set, sizeof(set), "%s", set_id);
        for (int i = 0; i < 2; i++) {
                char want[256];
                snprintf(name, sizeof(name), "VSS_VOLUME_%d", i);
                ck_assert_str_eq(env_get(env, name, v, sizeof(v)), i ? "/dev/fake/b" : "/dev/fake/a");
                snprintf(name, sizeof(name), "VSS_SNAPSHOT_ID_%d", i);
                snprintf(id[i], sizeof(id[i]), "%s", env_get(env, name, v, sizeof(v)));
                ck_assert_msg(matches(id[i], UUID_PATTERN), "%s", env);
                snprintf(name, sizeof(name), "VSS_SNAPSHOT_DEVICE_%d", i);
                snprintf(want, sizeof(want), "/dev/fake/snap-%s", id[i]);
                ck_assert_str_eq(env_get(env, name, v, sizeof(v)), want);
                snprintf(name, sizeof(name), "VSS_MOUNT_%d", i);
                snprintf(want, sizeof(want), "/run/vss/expose/%s", id[i]);
                ck_assert_str_eq(env_get(env, name, v, sizeof(v)), want);
                /* Exposed for COMMAND, unexposed and deleted after it. */
                ck_assert(provider_got("expose", id[i]) && provider_got("unexpose", id[i]));
                ck_assert(provider_got("delete", id[i]));
        }
        ck_assert_str_eq(env_get(env, "VSS_VOLUME_2", v, sizeof(v)), "");
        free(env);
        expect_nothing_left();

        /* The writer took part in the whole backup, and heard it succeeded. */
        char *log = testbus_read_file(writers_log);
        const char *events[] = { "Identify -", "PrepareBackup", "Freeze", "Thaw",
                                 "PostSnapshot", "BackupComplete" };
        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                char line[128];
                snprintf(line, sizeof(line), "db %s%s%s", events[i], i ? " " : "", i ? set : "");
                ck_assert_msg(strstr(log, line), "no '%s' in:\n%s", line, log);
        }
        ck_assert_msg(strstr(log, "succeeded=yes\n"), "%s", log);
        free(log);
}
END_TEST

START_TEST(test_exec_mount)
{
        char env_path[PATH_MAX], dir[PATH_MAX], v[256], want[PATH_MAX + 8];

        snprintf(env_path, sizeof(env_path), "%s/env.txt", tb.dir);
        snprintf(dir, sizeof(dir), "%s/mnt", tb.dir);
        free(expect_vssctl(0, NULL, "exec --mount %s /dev/fake/a -- env > %s", dir, env_path));
        char *env = testbus_read_file(env_path);
        ck_assert_str_eq(env_get(env, "VSS_MOUNT_0", v, sizeof(v)), dir);
        free(env);

        /* Several volumes: one directory each, named after the volume. */
        free(expect_vssctl(0, NULL, "exec --no-writers --mount %s /dev/fake/a /dev/fake/b -- "
                                    "env > %s", dir, env_path));
        env = testbus_read_file(env_path);
        snprintf(want, sizeof(want), "%s/a", dir);
        ck_assert_str_eq(env_get(env, "VSS_MOUNT_0", v, sizeof(v)), want);
        snprintf(want, sizeof(want), "%s/b", dir);
        ck_assert_str_eq(env_get(env, "VSS_MOUNT_1", v, sizeof(v)), want);
        free(env);
        expect_nothing_left();

        /* Two volumes that would share a directory are refused before anything is made. */
        char *out = expect_vssctl(2, NULL, "exec --mount %s /dev/fake/a /dev/other/a -- true",
                                  dir);
        ck_assert_msg(strstr(out, "would both be mounted at"), "%s", out);
        free(out);
        out = expect_vssctl(2, NULL, "exec --mount mnt /dev/fake/a -- true");
        ck_assert_msg(strstr(out, "--mount 'mnt' is not an absolute path"), "%s", out);
        free(out);
}
END_TEST

/* ---- the exit status and the verdict ----------------------------------------------------------- */

START_TEST(test_exec_exit_status)
{
        static const struct {
                const char *cmd;
                int status;
                const char *verdict;
        } cases[] = {
                { "true", 0, "succeeded=yes" },
                { "sh -c 'exit 3'", 3, "succeeded=no" },
                { "sh -c 'kill -TERM $$'", 128 + SIGTERM, "succeeded=no" },
                { "/nonexistent/command", 127, "succeeded=no" },
        };

        spawn_writer("db", "");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out;
                truncate(writers_log, 0);
                int r = vssctl(&out, "exec /dev/fake/a -- %s", cases[i].cmd);
                ck_assert_msg(r == cases[i].status, "exec %s: exit %d, wanted %d:\n%s",
                              cases[i].cmd, r, cases[i].status, out);
                free(out);
                expect_nothing_left();
                char *log = testbus_read_file(writers_log);
                ck_assert_msg(strstr(log, cases[i].verdict), "exec %s: no %s in:\n%s",
                              cases[i].cmd, cases[i].verdict, log);
                free(log);
        }
}
END_TEST

START_TEST(test_exec_usage)
{
        static const struct {
                const char *args;
                const char *message;
        } cases[] = {
                { "exec /dev/fake/a", "needs '--' and the command" },
                { "exec -- true", "needs at least one volume before '--'" },
                { "exec /dev/fake/a --", "needs a command after '--'" },
                { "exec /dev/fake/a -- ''", "the command must not be empty" },
                { "exec --mount '' /dev/fake/a -- true", "option '--mount' must not be empty" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = expect_vssctl(2, NULL, "%s", cases[i].args);
                ck_assert_msg(strstr(out, cases[i].message), "%s: %s", cases[i].args, out);
                free(out);
        }
        ck_assert(!log_has("prepare"));
        /* A set vssd cannot make: 125, and COMMAND never ran. */
        char *out = expect_vssctl(125, NULL, "exec /dev/sda1 -- touch %s/ran", tb.dir);
        ck_assert_msg(strstr(out, "cannot add /dev/sda1 to the snapshot set"), "%s", out);
        free(out);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/ran", tb.dir);
        ck_assert(access(path, F_OK) != 0);
        expect_nothing_left();
}
END_TEST

/* ---- signals --------------------------------------------------------------------------------- */

/*
 * Start "vssctl exec /dev/fake/a -- COMMAND" in the background, COMMAND
 * telling through a FIFO that it runs, then send vssctl SIG; the shell's
 * report ("status=N") comes back. COMMAND's pid goes to DIR/cmd.pid.
 */
static char *exec_and_signal(const char *sig, const char *command_trap)
{
        char fifo[PATH_MAX], *out;

        snprintf(fifo, sizeof(fifo), "%s/started", tb.dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        int r = testbus_run(&tb, &out,
                            "%s exec /dev/fake/a -- sh -c '%s echo $$ > %s/cmd.pid; "
                            "echo started > %s; while :; do sleep 1 & wait $!; done' "
                            /* COMMAND may outlive vssctl: it must not hold the harness's pipe */
                            ">%s/exec.out 2>&1 & "
                            "pid=$!; read x < %s; kill -%s $pid; wait $pid 2>/dev/null; echo status=$?",
                            vssctl_path(), command_trap, tb.dir, fifo, tb.dir, fifo, sig);
        ck_assert_msg(r == 0, "the script failed (%d):\n%s", r, out);
        return out;
}

/* The pid of COMMAND exec_and_signal() started, to end it. */
static pid_t command_pid(void)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/cmd.pid", tb.dir);
        char *text = testbus_read_file(path);
        pid_t pid = (pid_t)atoi(text);
        free(text);
        return pid;
}

START_TEST(test_exec_sigterm_is_forwarded_and_still_releases)
{
        spawn_writer("db", "");
        char *out = exec_and_signal("TERM", "trap \"exit 5\" TERM;");
        /* COMMAND got the SIGTERM (its trap's status), and vssctl released the set. */
        ck_assert_msg(strstr(out, "status=5\n"), "%s", out);
        free(out);
        expect_nothing_left();
        ck_assert(log_has("unexpose ") && log_has("delete "));
        char *log = testbus_read_file(writers_log);
        ck_assert_msg(strstr(log, "BackupComplete") && strstr(log, "succeeded=no"), "%s", log);
        free(log);
}
END_TEST

START_TEST(test_exec_sigkill_leaves_release_to_vssd)
{
        char *out = exec_and_signal("KILL", "");
        ck_assert_msg(strstr(out, "status=137\n"), "%s", out);
        free(out);
        /* vssctl is gone, its session with it: vssd unmounts and deletes the snapshot. */
        char path[256];
        ck_assert_msg(testbus_wait_object(&tb, "InterfacesRemoved", "/org/linuxvss/Vss1/snapshot/",
                                          path, sizeof(path), 10000),
                      "the snapshot was not released");
        kill(command_pid(), SIGTERM);
        expect_nothing_left();
        char *log = testbus_read_file(fake_log);
        const char *unexpose = strstr(log, "unexpose "), *delete = strstr(log, "delete ");
        ck_assert_msg(unexpose && delete && unexpose < delete, "%s", log);
        free(log);
}
END_TEST

/* ---- excluded writers -------------------------------------------------------------------------- */

START_TEST(test_exec_exclude_writer)
{
        spawn_writer("db", "");
        spawn_writer("logs", "");
        char *out = expect_vssctl(0, NULL, "exec --exclude-writer logs --exclude-writer nosuch "
                                           "/dev/fake/a -- true");
        ck_assert_msg(strstr(out, "vssctl: warning: no registered writer has the name, "
                                  "instance id or class id 'nosuch'"), "%s", out);
        free(out);
        char *log = testbus_read_file(writers_log);
        ck_assert_msg(strstr(log, "db Freeze") && !strstr(log, "logs "), "%s", log);
        free(log);
}
END_TEST

/* ---- writers status ---------------------------------------------------------------------------- */

START_TEST(test_writers_status)
{
        expect_exact(0, "No writers registered.\n", "writers status");
        spawn_writer("db", "");
        spawn_writer("logs", "");
        expect_exact(0,
                     "NAME  INSTANCE ID  STATE   LAST FAILURE\n"
                     "db    db-1         STABLE  NONE\n"
                     "logs  logs-1       STABLE  NONE\n",
                     "writers status");
        char *out = json_query("writers status",
                               "print(d[\"failed\"])\n"
                               "for w in d[\"writers\"]:\n"
                               "    print(w[\"name\"], w[\"instance_id\"], w[\"state\"], "
                               "w[\"failed\"], w[\"last_failure\"], repr(w[\"last_failure_message\"]), "
                               "w[\"object_path\"].startswith(\"/org/linuxvss/Vss1/writer/\"))");
        ck_assert_str_eq(out, "0\ndb db-1 STABLE False NONE '' True\n"
                              "logs logs-1 STABLE False NONE '' True\n");
        free(out);
        /* Each asked to identify itself each time. */
        char *log = testbus_read_file(writers_log);
        ck_assert_msg(strstr(log, "db Identify -\n") && strstr(log, "logs Identify -\n"), "%s",
                      log);
        free(log);
}
END_TEST

START_TEST(test_writers_status_failed_writer)
{
        spawn_writer("db", "");
        spawn_writer("bad", "--fail Identify:NONRETRYABLE");
        expect_exact(4,
                     "NAME  INSTANCE ID  STATE               LAST FAILURE\n"
                     "bad   bad-1        FAILED_AT_IDENTIFY  NONRETRYABLE: test writer bad "
                     "vetoes Identify\n"
                     "db    db-1         STABLE              NONE\n",
                     "writers status");
        char *out;
        int r = testbus_run(&tb, &out, "%s --json writers status >/dev/null", vssctl_path());
        ck_assert_int_eq(r, 4);
        free(out);
        out = expect_vssctl(2, NULL, "writers list");
        ck_assert_msg(strstr(out, "'writers' cannot 'list'; it can: status"), "%s", out);
        free(out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bus: vssctl exec");
        TCase *tc = tcase_create("vssctl exec");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_exec_environment);
        tcase_add_test(tc, test_exec_mount);
        tcase_add_test(tc, test_exec_exit_status);
        tcase_add_test(tc, test_exec_usage);
        tcase_add_test(tc, test_exec_sigterm_is_forwarded_and_still_releases);
        tcase_add_test(tc, test_exec_exclude_writer);
        tcase_add_test(tc, test_writers_status);
        tcase_add_test(tc, test_writers_status_failed_writer);
        suite_add_tcase(s, tc);
        tc = tcase_create("killed");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_exec_sigkill_leaves_release_to_vssd);
        suite_add_tcase(s, tc);
        return vssctl_test_run(s);
}
