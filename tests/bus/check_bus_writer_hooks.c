/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_writer_hooks.c: vss-writer-hooks against the real vssd on a
 * private bus with the fake provider, vssctl create and exec as requesters,
 * and hook scripts the tests write: the order hooks run in at each event,
 * thaw in reverse over only those that froze, a veto with the hook's stderr
 * in vssctl's error, a hook that overruns its timeout (killed with what it
 * started), holders (a flock held from freeze to thaw, checked by another
 * hook at freeze and at thaw), a holder that dies early, qemu-ga style hooks
 * with --qemu-ga, and the environment a hook sees.
 *
 * Every hook appends "NAME EVENT" to $T_LOG (the writer passes its own
 * environment on to hooks, and the test sets T_LOG, T_DIR and T_FAKE_LOG in
 * it). With VSS_TEST_VALGRIND=1 the writer runs under valgrind too, and its
 * exit status at the end of each test says whether valgrind found errors.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bus/vssctl-test.h"

static char hooks_dir[128], hooks_log[128], writer_log[128];
static pid_t writer_pid;

/* A hook's first line after #!/bin/sh: log "NAME EVENT". */
#define LOG_EVENT "echo \"${0##*/} $1\" >> \"$T_LOG\"\n"

static void setup(void)
{
        vssctl_test_start("[daemon]\nmonitor_interval_ms = 60000\n");
        snprintf(hooks_dir, sizeof(hooks_dir), "%s/hooks", tb.dir);
        snprintf(hooks_log, sizeof(hooks_log), "%s/hooks.log", tb.dir);
        snprintf(writer_log, sizeof(writer_log), "%s/writer.log", tb.dir);
        ck_assert_int_eq(mkdir(hooks_dir, 0755), 0);
        writer_pid = 0;
}

/* SIGTERM the writer: it must exit 0 (under valgrind: without errors or leaks). */
static void stop_writer(void)
{
        int status;

        if (writer_pid <= 0)
                return;
        kill(writer_pid, SIGTERM);
        ck_assert_int_eq(waitpid(writer_pid, &status, 0), writer_pid);
        writer_pid = 0;
        char *log = testbus_read_file(writer_log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "vss-writer-hooks ended with wait status %#x; its log:\n%s", status, log);
        free(log);
}

static void teardown(void)
{
        stop_writer();
        testbus_stop(&tb);
}

static void write_text(const char *path, mode_t mode, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "cannot write %s", path);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(path, mode), 0);
}

/* The hook NAME: a shell script with BODY, executable. */
static void hook(const char *name, const char *body)
{
        char path[PATH_MAX], text[4096];
        snprintf(path, sizeof(path), "%s/%s", hooks_dir, name);
        snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
        write_text(path, 0755, text);
}

static void wait_writer_log(const char *a, const char *b1, const char *b2);

/* Start vss-writer-hooks on the test's bus: "PREFIX writer --dir ... ARGS". */
static void spawn_hooks_with(const char *prefix, const char *args)
{
        char cmd[8192];
        const char *valgrind = getenv("VSS_TEST_VALGRIND");

        snprintf(cmd, sizeof(cmd), "exec %s %s %s --dir %s --bus '%s' -v %s 2>>%s", prefix,
                 valgrind && strcmp(valgrind, "1") == 0
                         ? "valgrind -q --leak-check=full --errors-for-leak-kinds=definite "
                           "--error-exitcode=99"
                         : "",
                 testbus_path(false, "writers/vss-writer-hooks"), hooks_dir, tb.address, args,
                 writer_log);
        writer_pid = fork();
        ck_assert_int_ge(writer_pid, 0);
        if (writer_pid == 0) {
                setenv("T_LOG", hooks_log, 1);
                setenv("T_DIR", tb.dir, 1);
                setenv("T_FAKE_LOG", fake_log, 1);
                setenv("T_WRITER_LOG", writer_log, 1);
                /* Stale: the writer must not hand it on to its hooks. */
                setenv("VSS_VOLUME_7", "stale", 1);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        char path[256];
        if (!testbus_wait_object(&tb, "InterfacesAdded", "/org/linuxvss/Vss1/writer/", path,
                                 sizeof(path), 30000)) {
                char *log = testbus_read_file(writer_log);
                ck_abort_msg("vss-writer-hooks %s did not register; its log:\n%s", args, log);
        }
        /* vssd publishes the object before the writer has its answer: wait for that too. */
        wait_writer_log("registered as ", "/writer/", "/writer/");
}

static void spawn_hooks(const char *args)
{
        spawn_hooks_with("", args);
}

/* The hooks that logged EVENT, in the order they did: "10-a 20-b". */
static char *ran(const char *event)
{
        char *log = testbus_read_file(hooks_log), *out = calloc(1, strlen(log) + 1);
        ck_assert_ptr_nonnull(out);
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
                char *space = strchr(line, ' ');
                if (!space || strcmp(space + 1, event) != 0)
                        continue;
                if (out[0])
                        strcat(out, " ");
                strncat(out, line, (size_t)(space - line));
        }
        free(log);
        return out;
}

static void expect_ran(const char *event, const char *want)
{
        char *got = ran(event);
        char *log = testbus_read_file(hooks_log);
        ck_assert_msg(strcmp(got, want) == 0, "at %s ran '%s', wanted '%s'; the hooks' log:\n%s",
                      event, got, want, log);
        free(log);
        free(got);
}

static void expect_nothing_left(void)
{
        expect_exact(0, "No shadow copies.\n", "list shadows");
        expect_exact(0, "No snapshot sets.\n", "list sets");
}

/* "vssctl ARGS" fails (exit 1) saying NEEDLE. */
static void expect_failure(const char *needle, const char *args)
{
        char *out = expect_vssctl(1, NULL, "%s", args);
        ck_assert_msg(strstr(out, needle), "vssctl %s printed:\n%s\nwithout:\n%s", args, out,
                      needle);
        free(out);
}

static bool writer_log_has(const char *needle)
{
        char *log = testbus_read_file(writer_log);
        bool found = strstr(log, needle) != NULL;
        free(log);
        return found;
}

/* Has the writer's log a line with A and with one of B1, B2? */
static bool writer_log_line(const char *a, const char *b1, const char *b2)
{
        char *log = testbus_read_file(writer_log);
        bool found = false;
        for (char *line = strtok(log, "\n"); line && !found; line = strtok(NULL, "\n"))
                found = strstr(line, a) && (strstr(line, b1) || strstr(line, b2));
        free(log);
        return found;
}

/* Wait (woken by inotify as the writer logs) for a line of its log with A and B1 or B2. */
static void wait_writer_log(const char *a, const char *b1, const char *b2)
{
        int fd = inotify_init1(IN_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_ge(inotify_add_watch(fd, writer_log, IN_MODIFY), 0);
        for (int waited = 0; !writer_log_line(a, b1, b2);) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char buf[4096];
                if (poll(&p, 1, 1000) == 0 && ++waited == 30) {
                        char *log = testbus_read_file(writer_log);
                        ck_abort_msg("the writer did not log '%s' with '%s'; its log:\n%s", a,
                                     b1, log);
                }
                if (p.revents & POLLIN)
                        ck_assert_int_gt(read(fd, buf, sizeof(buf)), 0);
        }
        close(fd);
}

/* Abort is not answered: vssctl returns while the writer still runs the abort hooks. */
static void wait_abort_over(void)
{
        wait_writer_log("Abort of set ", ": done in ", ": failed in ");
}

/* Is process PID gone (or a zombie nobody reaped yet: it runs no more)? */
static bool process_gone(const char *pid_file)
{
        char *text = testbus_read_file(pid_file), path[64], *stat;
        int pid = atoi(text);
        free(text);
        ck_assert_msg(pid > 0, "no pid in %s", pid_file);
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        stat = testbus_read_file(path);
        const char *state = strrchr(stat, ')');
        bool gone = !state || state[1] != ' ' || state[2] == 'Z' || state[2] == 'X';
        free(stat);
        return gone;
}

/* ---- order ------------------------------------------------------------------------- */

START_TEST(test_order)
{
        hook("10-a", LOG_EVENT);
        hook("20-b", LOG_EVENT);
        hook("30-c", LOG_EVENT);
        /* Never hooks: not executable, a backup, a package leftover, a dotfile. */
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/15-off", hooks_dir);
        write_text(path, 0644, "#!/bin/sh\n" LOG_EVENT);
        hook("20-b~", LOG_EVENT);
        hook("20-b.dpkg-old", LOG_EVENT);
        hook(".30-hidden", LOG_EVENT);
        spawn_hooks("");

        struct created c;
        create_ok(&c, "/dev/fake/a");
        expect_ran("prepare-backup", "10-a 20-b 30-c");
        expect_ran("prepare-snapshot", "10-a 20-b 30-c");
        expect_ran("freeze", "10-a 20-b 30-c");
        expect_ran("thaw", "30-c 20-b 10-a");
        expect_ran("post-snapshot", "10-a 20-b 30-c");
        expect_ran("abort", "");
        ck_assert(writer_log_has("skipping ") && writer_log_has("/15-off: not executable"));
        ck_assert(writer_log_has("/20-b~: a backup or package manager leftover"));

        /* A whole backup: backup-complete, in name order. */
        truncate(hooks_log, 0);
        free(expect_vssctl(0, NULL, "exec /dev/fake/b -- true"));
        expect_ran("freeze", "10-a 20-b 30-c");
        expect_ran("backup-complete", "10-a 20-b 30-c");

        /* A hook added while the writer runs takes part in the next set. */
        hook("25-new", LOG_EVENT);
        truncate(hooks_log, 0);
        create_ok(&c, "/dev/fake/c");
        expect_ran("freeze", "10-a 20-b 25-new 30-c");
        expect_ran("thaw", "30-c 25-new 20-b 10-a");
}
END_TEST

/* ---- veto -------------------------------------------------------------------------- */

START_TEST(test_veto)
{
        hook("10-a", LOG_EVENT);
        hook("20-b", LOG_EVENT
                     "[ \"$1\" = freeze ] || exit 0\n"
                     "echo 'checking the tables' >&2\n"
                     "echo '  cannot lock the tables: Lock wait timeout  ' >&2\n"
                     "exit 3\n");
        hook("30-c", LOG_EVENT);
        spawn_hooks("");

        expect_failure("writer 'hooks' failed Freeze (RETRYABLE): hook 20-b failed freeze "
                       "(exit status 3): checking the tables; cannot lock the tables: Lock "
                       "wait timeout\n",
                       "create /dev/fake/a");
        wait_abort_over();
        /* 30-c never froze; 10-a thawed; 20-b, which failed, is not thawed. */
        expect_ran("freeze", "10-a 20-b");
        expect_ran("thaw", "10-a");
        expect_ran("post-snapshot", "");
        /* Then vssd's Abort: nothing is frozen, so every hook may undo its prepare work. */
        expect_ran("abort", "30-c 20-b 10-a");
        expect_nothing_left();
        ck_assert(log_has("abort ") && !log_has("commit"));
}
END_TEST

START_TEST(test_freeze_timeout)
{
        char pid_file[PATH_MAX], child_file[PATH_MAX];

        hook("10-a", LOG_EVENT);
        /* Overruns, with a child of its own that must die with it. */
        hook("20-slow", LOG_EVENT
                        "[ \"$1\" = freeze ] || exit 0\n"
                        "echo $$ > \"$T_DIR/slow.pid\"\n"
                        "sleep 600 &\n"
                        "echo $! > \"$T_DIR/slow-child.pid\"\n"
                        "wait\n");
        spawn_hooks("--timeout freeze=1");

        expect_failure("writer 'hooks' failed Freeze (TIMEOUT): hook 20-slow did not finish "
                       "freeze within 1.0 s; its process group was killed\n",
                       "create /dev/fake/a");
        expect_ran("thaw", "10-a");
        snprintf(pid_file, sizeof(pid_file), "%s/slow.pid", tb.dir);
        snprintf(child_file, sizeof(child_file), "%s/slow-child.pid", tb.dir);
        ck_assert_msg(process_gone(pid_file), "the hook still runs");
        ck_assert_msg(process_gone(child_file), "the hook's child still runs");
        expect_nothing_left();
}
END_TEST

/* ---- holders ----------------------------------------------------------------------- */

/* A hook that logs whether $T_DIR/lock is held (by someone else) when it runs. */
#define CHECK_LOCK                                                                          \
        "if flock -n \"$T_DIR/lock\" true; then s=free; else s=held; fi\n"                  \
        "echo \"${0##*/} $1 lock=$s\" >> \"$T_LOG\"\n"

START_TEST(test_holder)
{
        hook("10-holder", LOG_EVENT
                          "[ \"$1\" = freeze ] || exit 0\n"
                          "echo $$ > \"$T_DIR/holder.pid\"\n"
                          /* READY once the lock is ours; EOF on stdin lets it go. */
                          "exec flock \"$T_DIR/lock\" sh -c 'echo READY; exec cat > /dev/null'\n");
        hook("20-check", CHECK_LOCK);
        spawn_hooks("");

        struct created c;
        create_ok(&c, "/dev/fake/a");
        /* Held while 20-check froze after it, and when 20-check thawed before it. */
        expect_ran("freeze lock=held", "20-check");
        expect_ran("thaw lock=held", "20-check");
        /* Let go at its own thaw: free by post-snapshot, and the holder is gone. */
        expect_ran("post-snapshot lock=free", "20-check");
        expect_ran("freeze", "10-holder");
        expect_ran("thaw", "");
        char pid_file[PATH_MAX];
        snprintf(pid_file, sizeof(pid_file), "%s/holder.pid", tb.dir);
        ck_assert(process_gone(pid_file));
        ck_assert(writer_log_has("hook 10-holder is ready: it holds its freeze until thaw"));
}
END_TEST

/* Abort while frozen lets holders go and runs abort in reverse over what froze. */
START_TEST(test_holder_abort)
{
        hook("10-holder", LOG_EVENT
                          "[ \"$1\" = freeze ] || exit 0\n"
                          "exec flock \"$T_DIR/lock\" sh -c 'echo READY; exec cat > /dev/null'\n");
        hook("20-check", CHECK_LOCK);
        /* The provider fails after every writer froze: the set aborts while frozen. */
        char control[PATH_MAX];
        snprintf(control, sizeof(control), "%s/fake.control", tb.dir);
        write_text(control, 0644, "fail hold\n");
        spawn_hooks("");

        expect_failure("injected failure at hold", "create /dev/fake/a");
        wait_abort_over();
        expect_ran("freeze lock=held", "20-check");
        expect_ran("abort lock=held", "20-check");
        expect_ran("thaw", "");
        /* Free once the writer is done with the abort. */
        stop_writer();
        char *out;
        ck_assert_int_eq(testbus_run(&tb, &out, "flock -n %s/lock true", tb.dir), 0);
        free(out);
}
END_TEST

START_TEST(test_holder_dies_before_thaw)
{
        hook("10-holder", "[ \"$1\" = freeze ] || exit 0\n"
                          "echo READY\n"
                          /* Gone once the provider holds the volumes: between freeze and thaw. */
                          "while ! grep -q '^hold ' \"$T_FAKE_LOG\"; do sleep 0.05; done\n"
                          "echo 'lost the connection to the database' >&2\n"
                          "exit 0\n");
        hook("20-a", LOG_EVENT);
        char control[PATH_MAX];
        snprintf(control, sizeof(control), "%s/fake.control", tb.dir);
        write_text(control, 0644, "stall hold 1500\n");
        spawn_hooks("");

        char *out = expect_vssctl(1, NULL, "create /dev/fake/a");
        ck_assert_msg(strstr(out, "writer 'hooks' failed Thaw (INCONSISTENTSNAPSHOT): the "
                                  "freeze was not held: hook 10-holder exited (exit status 0) "
                                  "before thaw") &&
                      strstr(out, "its last words: lost the connection to the database\n"),
                      "%s", out);
        free(out);
        /* The others thawed all the same. */
        expect_ran("thaw", "20-a");
        expect_nothing_left();
        ck_assert(writer_log_has("hook 10-holder stopped holding its freeze (exit status 0)"));
}
END_TEST

START_TEST(test_holder_dies_during_freeze)
{
        hook("10-holder", LOG_EVENT
                          "[ \"$1\" = freeze ] || exit 0\n"
                          "echo $$ > \"$T_DIR/holder.pid\"\n"
                          "echo READY\n"
                          "exec cat > /dev/null\n");
        /* Kills the holder, and waits until it is dead. */
        hook("20-kill", LOG_EVENT
                        "[ \"$1\" = freeze ] || exit 0\n"
                        "pid=$(cat \"$T_DIR/holder.pid\")\n"
                        "kill -KILL $pid\n"
                        "while [ -e /proc/$pid ] && ! grep -q ') Z' /proc/$pid/stat; do :; done\n");
        hook("30-a", LOG_EVENT);
        spawn_hooks("");

        expect_failure("writer 'hooks' failed Freeze (RETRYABLE): hook 10-holder stopped "
                       "holding its freeze before the snapshot (killed by signal 9 (Killed))",
                       "create /dev/fake/a");
        /* Everything froze, so what did not die thaws; the dead holder is not run again. */
        expect_ran("freeze", "10-holder 20-kill 30-a");
        expect_ran("thaw", "30-a 20-kill");
        expect_nothing_left();
}
END_TEST

/* ---- vssd's Abort, vssd leaving ------------------------------------------------------------ */

/*
 * The set aborts while a hook still freezes (its requester died: the hook
 * kills vssctl): the running hook finishes, nothing more starts, Freeze is
 * not answered, and abort goes to what froze.
 */
START_TEST(test_abort_during_freeze)
{
        hook("10-slow", LOG_EVENT
                        "[ \"$1\" = freeze ] || exit 0\n"
                        "kill -KILL $(cat \"$T_DIR/vssctl.pid\")\n"
                        /* Freezes until the writer has heard vssd's Abort, then succeeds. */
                        "while ! grep -q 'stops after hook' \"$T_WRITER_LOG\"; do sleep 0.05; done\n");
        hook("20-b", LOG_EVENT);
        spawn_hooks("");

        char *out;
        testbus_run(&tb, &out, "sh -c 'echo $$ > %s/vssctl.pid; exec %s create /dev/fake/a'",
                    tb.dir, vssctl_path());
        free(out);
        wait_abort_over();
        /* 20-b never froze; 10-slow did, and only it hears abort; Freeze was not answered. */
        expect_ran("freeze", "10-slow");
        expect_ran("abort", "10-slow");
        expect_ran("thaw", "");
        ck_assert(writer_log_has(": Freeze stops after hook 10-slow"));
        ck_assert(!writer_log_has("was not taken"));
        expect_nothing_left();
}
END_TEST

/* vssd restarts: the writer registers again by itself and takes part in the next set. */
START_TEST(test_vssd_restart)
{
        hook("10-a", LOG_EVENT);
        spawn_hooks("");

        testbus_kill_vssd(&tb);
        ck_assert(testbus_start_vssd(&tb, NULL));
        wait_writer_log("registered with vssd again as ", "/writer/", "/writer/");
        struct created c;
        create_ok(&c, "/dev/fake/a");
        expect_ran("freeze", "10-a");
}
END_TEST

/* ---- qemu-guest-agent's hooks ------------------------------------------------------------ */

/* As qemu's mysql-flush.sh: freeze and thaw, and exit 1 for anything else. */
#define QGA_HOOK                                                                            \
        "case \"$1\" in\n"                                                                  \
        "freeze|thaw) echo \"${0##*/} $1\" >> \"$T_LOG\" ;;\n"                              \
        "*) echo \"${0##*/} unexpected $1\" >> \"$T_LOG\"; exit 1 ;;\n"                     \
        "esac\n"

START_TEST(test_qemu_ga)
{
        hook("mysql-flush.sh", QGA_HOOK);
        hook("zz-other.sh", QGA_HOOK);
        spawn_hooks("--qemu-ga");

        free(expect_vssctl(0, NULL, "exec /dev/fake/a -- true"));
        expect_ran("freeze", "mysql-flush.sh zz-other.sh");
        expect_ran("thaw", "zz-other.sh mysql-flush.sh");
        char *log = testbus_read_file(hooks_log);
        ck_assert_msg(!strstr(log, "unexpected"), "%s", log);
        free(log);

        /* Abort while frozen: qemu-ga's hooks know no abort, so they thaw. */
        char control[PATH_MAX];
        snprintf(control, sizeof(control), "%s/fake.control", tb.dir);
        write_text(control, 0644, "fail hold\n");
        truncate(hooks_log, 0);
        expect_failure("injected failure at hold", "create /dev/fake/a");
        wait_abort_over();
        expect_ran("freeze", "mysql-flush.sh zz-other.sh");
        expect_ran("thaw", "zz-other.sh mysql-flush.sh");
        log = testbus_read_file(hooks_log);
        ck_assert_msg(!strstr(log, "unexpected"), "%s", log);
        free(log);
}
END_TEST

START_TEST(test_usage)
{
        static const struct {
                const char *args;
                const char *message;
        } cases[] = {
                { "--events freeze", "freeze and thaw go together" },
                { "--events freeze,thaw,unfreeze", "unknown event 'unfreeze'" },
                { "--timeout freeze=0", "--timeout 'freeze=0': give seconds" },
                { "--timeout melt=3", "unknown event 'melt'" },
                { "--level middle", "--level 'middle'" },
                { "extra", "unexpected argument 'extra'" },
        };
        char *out;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = testbus_run(&tb, &out, "%s %s", testbus_path(false,
                                                "writers/vss-writer-hooks"), cases[i].args);
                ck_assert_msg(r == 2 && strstr(out, cases[i].message),
                              "%s: exit %d:\n%s", cases[i].args, r, out);
                free(out);
        }
        int r = testbus_run(&tb, &out, "%s --dir %s/none",
                            testbus_path(false, "writers/vss-writer-hooks"), tb.dir);
        ck_assert_msg(r == 1 && strstr(out, "/none: No such file or directory; create it"),
                      "exit %d:\n%s", r, out);
        free(out);
}
END_TEST

/* ---- the environment ------------------------------------------------------------------ */

/* A hook that saves its VSS_* variables to $T_DIR/env.EVENT. */
#define DUMP_ENV "env | grep '^VSS_' | sort > \"$T_DIR/env.$1\"\n"

/* The value of NAME in the dump of EVENT; "(unset)" when absent. malloc()ed. */
static char *env_of(const char *event, const char *name)
{
        char path[PATH_MAX], key[64];
        snprintf(path, sizeof(path), "%s/env.%s", tb.dir, event);
        snprintf(key, sizeof(key), "%s=", name);
        char *text = testbus_read_file(path), *value = NULL;
        ck_assert_msg(text[0], "no hook ran at %s", event);
        for (char *line = strtok(text, "\n"); line && !value; line = strtok(NULL, "\n"))
                if (strncmp(line, key, strlen(key)) == 0)
                        value = strdup(line + strlen(key));
        free(text);
        return value ? value : strdup("(unset)");
}

static void expect_env(const char *event, const char *name, const char *want)
{
        char *got = env_of(event, name);
        ck_assert_msg(strcmp(got, want) == 0, "%s at %s is '%s', wanted '%s'", name, event, got,
                      want);
        free(got);
}

START_TEST(test_environment)
{
        hook("10-env", DUMP_ENV);
        spawn_hooks("");

        struct created c;
        create_ok(&c, "/dev/fake/a /dev/fake/b");
        const char *events[] = { "prepare-backup", "prepare-snapshot", "freeze", "thaw",
                                 "post-snapshot" };
        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                expect_env(events[i], "VSS_EVENT", events[i]);
                expect_env(events[i], "VSS_SNAPSHOT_SET_ID", c.set_id);
                expect_env(events[i], "VSS_VOLUMES", "/dev/fake/a /dev/fake/b");
                expect_env(events[i], "VSS_VOLUME_COUNT", "2");
                expect_env(events[i], "VSS_VOLUME_0", "/dev/fake/a");
                expect_env(events[i], "VSS_VOLUME_1", "/dev/fake/b");
                expect_env(events[i], "VSS_MOUNT_0", ""); /* not mounted */
                expect_env(events[i], "VSS_MOUNT_1", "");
                expect_env(events[i], "VSS_VOLUME_7", "(unset)");
                expect_env(events[i], "VSS_BACKUP_SUCCEEDED", "(unset)");
        }

        /* The requester's verdict, at backup-complete. */
        free(expect_vssctl(0, NULL, "exec /dev/fake/a -- true"));
        expect_env("backup-complete", "VSS_BACKUP_SUCCEEDED", "1");
        expect_env("backup-complete", "VSS_VOLUME_COUNT", "1");
        free(expect_vssctl(3, NULL, "exec /dev/fake/a -- sh -c 'exit 3'"));
        expect_env("backup-complete", "VSS_BACKUP_SUCCEEDED", "0");
}
END_TEST

/* VSS_MOUNT_i: a volume mounted (in a mount namespace of the writer's own). */
START_TEST(test_environment_mount)
{
        char mnt[PATH_MAX], prefix[PATH_MAX * 2];

        hook("10-env", DUMP_ENV);
        snprintf(mnt, sizeof(mnt), "%s/mnt a", tb.dir);
        ck_assert_int_eq(mkdir(mnt, 0755), 0);
        /* tmpfs takes any source: this one is "/dev/fake/b", mounted at a path with a blank. */
        snprintf(prefix, sizeof(prefix),
                 "unshare -m --propagation private sh -c 'mount -t tmpfs /dev/fake/b \"%s\" && "
                 "exec \"$0\" \"$@\"'", mnt);
        spawn_hooks_with(prefix, "");

        struct created c;
        create_ok(&c, "/dev/fake/a /dev/fake/b");
        expect_env("freeze", "VSS_MOUNT_0", "");
        expect_env("freeze", "VSS_MOUNT_1", mnt);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("writer-hooks");
        TCase *tc = tcase_create("hooks");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_order);
        tcase_add_test(tc, test_veto);
        tcase_add_test(tc, test_freeze_timeout);
        tcase_add_test(tc, test_holder);
        tcase_add_test(tc, test_holder_abort);
        tcase_add_test(tc, test_holder_dies_before_thaw);
        tcase_add_test(tc, test_holder_dies_during_freeze);
        tcase_add_test(tc, test_abort_during_freeze);
        tcase_add_test(tc, test_vssd_restart);
        tcase_add_test(tc, test_qemu_ga);
        tcase_add_test(tc, test_usage);
        tcase_add_test(tc, test_environment);
        tcase_add_test(tc, test_environment_mount);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return vssctl_test_run(suite());
}
