/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_postgresql.c: vss-writer-postgresql against a real PostgreSQL 15 and
 * real dm snapshots, inside the test VM (tests/vm/check-dm).
 *
 * One throwaway cluster serves every test (initdb and pgbench -i take tens of
 * seconds under TCG): Check's unchecked fixture makes it once, in the test
 * runner, with its data on one ext4 volume and its WAL on another (initdb
 * --waldir), and removes it after the last test. Tests that change the
 * server's settings (archive_command, grants) put them back. What each test
 * does not share: its writer process, its vssctl runs, its copies.
 *
 * The runner's bus connection is never used by the tests (they are forked
 * children: reading it from two processes would tear its messages); a test
 * that waits for a signal opens its own connection.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

#define PGBIN "/usr/lib/postgresql/15/bin"
#define AS_PG "setpriv --reuid=postgres --regid=postgres --clear-groups "
#define SOCK TEST_ROOT "/sock"
#define PORT "5433"
#define PGDATA TEST_ROOT "/mnt/data/pgdata"
#define PGWAL TEST_ROOT "/mnt/wal/pg_wal"
#define PSQL AS_PG PGBIN "/psql -X -q -A -t -v ON_ERROR_STOP=1 -h " SOCK " -p " PORT " -d postgres "
#define ARCHIVE TEST_ROOT "/archive"
#define STATE TEST_ROOT "/pgstate"
#define ROLE_GRANTS "GRANT pg_checkpoint, pg_read_all_settings TO vss_backup; " \
        "GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean), pg_backup_stop(boolean) " \
        "TO vss_backup;"

static Volume data, wal;

/* --- the shared cluster ----------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void cluster_setup(void)
{
        struct timespec t0;

        vmtest_start(NULL);
        vm_volume(&data, "data", 192, "ext4");
        vm_volume(&wal, "wal", 192, "ext4");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vm_ok("mkdir -p " PGDATA " " PGWAL " " SOCK " " ARCHIVE " && chown postgres "
              PGDATA " " PGWAL " " SOCK " " ARCHIVE " && chmod 700 " PGDATA);
        /*
         * --no-sync: nothing crashes before the server starts (and dm's lockfs
         * syncs). 1 MiB WAL segments keep the WAL volume, and its copy, small.
         */
        vm_ok(AS_PG PGBIN "/initdb --no-sync -A trust -U postgres -D " PGDATA
              " --waldir=" PGWAL " --wal-segsize=1 2>&1");
        fprintf(stderr, "check_postgresql: initdb took %.1f s\n", seconds_since(&t0));
        /*
         * archive_mode needs a restart, archive_command only a reload: with the
         * mode on and no command, the writer sees no archiving until a test sets one.
         */
        vm_ok("printf '%%s\\n' \"listen_addresses = ''\" 'port = " PORT "' "
              "\"unix_socket_directories = '" SOCK "'\" 'shared_buffers = 16MB' "
              "'max_wal_size = 32MB' 'min_wal_size = 4MB' 'max_connections = 20' "
              "'archive_mode = on' \"archive_command = ''\" >> " PGDATA "/postgresql.conf");
        vm_ok(AS_PG PGBIN "/pg_ctl -w -t 120 -D " PGDATA " -l " TEST_ROOT "/server.log start");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vm_ok(AS_PG PGBIN "/pgbench -q -i -s 1 -h " SOCK " -p " PORT " postgres 2>&1");
        fprintf(stderr, "check_postgresql: pgbench -i took %.1f s\n", seconds_since(&t0));
        vm_ok(PSQL "-c 'CREATE ROLE vss_backup LOGIN; " ROLE_GRANTS "'");
}

static void cluster_teardown(void)
{
        vm_sh(AS_PG PGBIN "/pg_ctl -D " PGDATA " -m immediate stop");
        vmtest_teardown();
}

/* Each test's run time, for the figures in the report (TCG is slow: watch them). */
static struct timespec test_t0;

static void test_start(void)
{
        clock_gettime(CLOCK_MONOTONIC, &test_t0);
}

static void test_end(void)
{
        fprintf(stderr, "check_postgresql: test took %.1f s\n", seconds_since(&test_t0));
}

/* --- processes -------------------------------------------------------------------------- */

/* Run the shell line CMD in the background, its output into LOG; the pid. */
static pid_t spawn(const char *log, const char *cmd)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(127);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        return pid;
}

static void stop(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

#define WRITER_LOG TEST_ROOT "/writer.log"

/* The writer with libpq connection string CONNINFO, once vssd shows it registered. */
static pid_t start_writer(const char *conninfo)
{
        char cmd[1024];
        TestBus own = vm_bus;

        /* Our own connection, subscribed before the writer starts: no signal is missed. */
        own.conn = testbus_connect(&vm_bus);
        unlink(WRITER_LOG); /* each test reads only its own writer's log */
        dbus_bus_add_match(own.conn, "type='signal',sender='org.linuxvss.Vss1'", NULL);
        snprintf(cmd, sizeof(cmd), "exec %s -v --state-dir " STATE " -d '%s'",
                 testbus_path(false, "writers/vss-writer-postgresql"), conninfo);
        pid_t pid = spawn(WRITER_LOG, cmd);
        bool registered = testbus_wait_object(&own, "InterfacesAdded",
                                              "/org/linuxvss/Vss1/writer/", NULL, 0, 30000);
        testbus_disconnect(own.conn);
        char *log = testbus_read_file(WRITER_LOG);
        ck_assert_msg(registered, "the writer did not register:\n%s", log);
        free(log);
        return pid;
}

static bool writer_logged(const char *needle)
{
        char *log = testbus_read_file(WRITER_LOG);
        bool found = strstr(log, needle) != NULL;
        free(log);
        return found;
}

/* The one value SQL returns, from the shared server. */
static const char *sql(const char *query)
{
        vm_ok(PSQL "-c \"%s\"", query);
        return vm_out();
}

/* Wait (bounded) until SQL says "t": for a server-side state with no event to wait on. */
static bool sql_becomes_true(const char *query, int timeout_ms)
{
        for (int waited = 0; waited <= timeout_ms; waited += 100) {
                if (vm_sh(PSQL "-c \"%s\"", query) == 0 && strcmp(vm_out(), "t") == 0)
                        return true;
                usleep(100000);
        }
        return false;
}

static void set_archiving(bool on)
{
        if (on)
                sql("ALTER SYSTEM SET archive_command = 'cp %p " ARCHIVE "/%f'");
        else
                sql("ALTER SYSTEM RESET archive_command");
        sql("SELECT pg_reload_conf()");
        /* The reload is asynchronous: wait until a new session sees it. */
        ck_assert(sql_becomes_true(on ? "SELECT current_setting('archive_command') <> ''"
                                      : "SELECT current_setting('archive_command') = ''", 10000));
}

/* --- a set under load, started as a second server ------------------------------------------ */

#define COPY TEST_ROOT "/copy"
#define PSQL_COPY AS_PG PGBIN "/psql -X -q -A -t -v ON_ERROR_STOP=1 -h " COPY "/sock -p 5434 " \
        "-d postgres "

/* Copy the exposed snapshots (the command vssctl exec runs) and point pg_wal at the copy. */
static void copy_set(void)
{
        vm_ok("rm -rf " COPY " && mkdir -p " COPY "/data " COPY "/wal " COPY "/sock && "
              "vssctl exec %s %s -- sh -c 'cp -a \"$VSS_MOUNT_0\"/pgdata " COPY "/data/ && "
              "cp -a \"$VSS_MOUNT_1\"/pg_wal " COPY "/wal/' 2>&1",
              data.volume, wal.volume);
        vm_ok("ln -sfn " COPY "/wal/pg_wal " COPY "/data/pgdata/pg_wal && "
              "rm -f " COPY "/data/pgdata/postmaster.pid && chown postgres " COPY " " COPY "/sock");
}

START_TEST(test_set_under_load_recovers_consistent)
{
        pid_t writer = start_writer("host=" SOCK " port=" PORT " user=postgres");
        pid_t bench = spawn(TEST_ROOT "/pgbench.log", "exec " AS_PG PGBIN "/pgbench -n -c 2 "
                            "-T 600 -h " SOCK " -p " PORT " postgres");
        ck_assert_msg(sql_becomes_true("SELECT count(*) > 20 FROM pgbench_history", 60000),
                      "pgbench made no progress");
        copy_set();
        stop(bench);
        ck_assert(writer_logged("PrepareSnapshot: checkpoint done"));
        ck_assert(writer_logged("data " PGDATA ", WAL " PGWAL));

        vm_ok(AS_PG PGBIN "/pg_ctl -w -t 120 -D " COPY "/data/pgdata -l " COPY "/server.log "
              "-o \"-p 5434 -k " COPY "/sock -c archive_mode=off\" start");
        char *log = testbus_read_file(COPY "/server.log");
        ck_assert_msg(strstr(log, "automatic recovery in progress"), "%s", log);
        free(log);
        /* pgbench's invariant: every balance moved is in the history, in the same transaction. */
        vm_ok(PSQL_COPY "-c \"SELECT (SELECT sum(abalance) FROM pgbench_accounts) = h.s AND "
              "(SELECT sum(tbalance) FROM pgbench_tellers) = h.s AND "
              "(SELECT sum(bbalance) FROM pgbench_branches) = h.s AND h.n > 20 "
              "FROM (SELECT sum(delta) AS s, count(*) AS n FROM pgbench_history) h\"");
        ck_assert_msg(strcmp(vm_out(), "t") == 0, "the invariant fails: %s", vm_out());
        /* amcheck: every pgbench index agrees with its table (an error fails psql). */
        vm_ok(PSQL_COPY "-c 'CREATE EXTENSION amcheck' -c \"SELECT count(bt_index_check(c.oid, "
              "true)) FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
              "WHERE a.amname = 'btree' AND c.relname LIKE 'pgbench%%'\"");
        ck_assert_str_eq(vm_out(), "3");
        vm_ok(PSQL_COPY "-c 'SELECT count(*) FROM pgbench_accounts'");
        ck_assert_str_eq(vm_out(), "100000");
        vm_sh(AS_PG PGBIN "/pg_ctl -D " COPY "/data/pgdata -m immediate stop");
        stop(writer);
}
END_TEST

/* --- a set without the WAL volume ------------------------------------------------------------ */

START_TEST(test_set_without_wal_volume_is_inconsistent)
{
        pid_t writer = start_writer("host=" SOCK " port=" PORT " user=postgres");
        int r = vm_sh("vssctl create %s 2>&1", data.volume);
        char want[512];
        snprintf(want, sizeof(want), "%s is on volume %s", PGWAL, wal.volume);
        ck_assert_msg(r == 1 && strstr(vm_out(), "component 'cluster' of writer 'PostgreSQL'") &&
                      strstr(vm_out(), want) &&
                      strstr(vm_out(), "--exclude-writer PostgreSQL"), "exit %d: %s", r,
                      vm_out());
        ck_assert_msg(vm_sh("dmsetup ls | grep -q vss-snap") != 0, "snapshot devices left");
        vm_ok("vssctl list shadows");
        ck_assert_str_eq(vm_out(), "No shadow copies.");
        ck_assert(!writer_logged("PrepareSnapshot"));
        stop(writer);
}
END_TEST

/* --- the least-privilege role, with WAL archiving ------------------------------------------- */

#define AS_ROLE "host=" SOCK " port=" PORT " user=vss_backup dbname=postgres"

START_TEST(test_least_privilege_role_keeps_the_backup_label)
{
        ck_assert_str_eq(sql("SELECT rolsuper FROM pg_roles WHERE rolname = 'vss_backup'"), "f");
        set_archiving(true);
        pid_t writer = start_writer(AS_ROLE);
        char set[64] = "";
        vm_ok("vssctl create %s %s", data.volume, wal.volume);
        const char *line = strstr(vm_out(), "Snapshot set: ");
        ck_assert_msg(line && !strstr(vm_out(), "failed"), "%s", vm_out());
        snprintf(set, sizeof(set), "%.36s", line + 14);
        char *label = NULL, path[256];
        snprintf(path, sizeof(path), STATE "/%s.backup_label", set);
        label = testbus_read_file(path);
        ck_assert_msg(strstr(label, "START WAL LOCATION") && strstr(label, "LABEL: vss set ") &&
                      strstr(label, set), "%s: '%s'", path, label);
        free(label);
        /* pg_backup_stop waited for the archive: the backup's history file is there. */
        vm_ok("ls " ARCHIVE " | grep -c '\\.backup$'");
        ck_assert(writer_logged("backup 'vss set "));
        /* Never in the snapshot: the data volume has no backup_label. */
        ck_assert_int_ne(vm_sh("test -e " PGDATA "/backup_label"), 0);
        ck_assert_str_eq(sql("SELECT count(*) FROM pg_stat_activity "
                             "WHERE application_name = 'vss-writer-postgresql'"), "0");
        vm_ok("vssctl delete --all");

        /* Each grant is needed: without EXECUTE on pg_backup_start the writer vetoes
         * PrepareSnapshot, and since its components are in the set, the set fails. */
        sql("REVOKE EXECUTE ON FUNCTION pg_backup_start(text, boolean) FROM vss_backup");
        int r = vm_sh("vssctl create %s %s 2>&1", data.volume, wal.volume);
        char *out = strdup(vm_out());
        sql("GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO vss_backup");
        ck_assert_msg(r != 0 && strstr(out, "permission denied for function pg_backup_start"),
                      "exit %d: %s", r, out);
        free(out);
        vm_ok("vssctl list shadows");
        ck_assert_str_eq(vm_out(), "No shadow copies.");
        stop(writer);

        /* ... and without pg_read_all_settings it cannot even learn where the data lies. */
        sql("REVOKE pg_read_all_settings FROM vss_backup");
        r = vm_sh("%s --state-dir " STATE " -d '" AS_ROLE "' 2>&1",
                  testbus_path(false, "writers/vss-writer-postgresql"));
        out = strdup(vm_out());
        sql("GRANT pg_read_all_settings TO vss_backup");
        ck_assert_msg(r == 1 && strstr(out, "pg_read_all_settings") &&
                      strstr(out, "data_directory"), "exit %d: %s", r, out);
        free(out);
        set_archiving(false);
}
END_TEST

/* --- Abort ends the backup -------------------------------------------------------------------- */

START_TEST(test_abort_closes_the_held_connection)
{
        set_archiving(true);
        vm_ok("rm -rf " STATE);
        pid_t writer = start_writer("host=" SOCK " port=" PORT " user=postgres");
        /* A front-end writer that vetoes Freeze: the set aborts after PrepareSnapshot. */
        char path[256];
        pid_t veto = testbus_spawn_writer(&vm_bus, path, sizeof(path),
                                          "--name veto --instance veto-1 --level front-end "
                                          "--fail Freeze");
        int r = vm_sh("vssctl create %s %s 2>&1", data.volume, wal.volume);
        ck_assert_msg(r != 0 && strstr(vm_out(), "veto"), "exit %d: %s", r, vm_out());
        ck_assert(sql_becomes_true("SELECT count(*) = 0 FROM pg_stat_activity "
                                   "WHERE application_name = 'vss-writer-postgresql'", 10000));
        ck_assert(writer_logged("backup 'vss set "));
        ck_assert(writer_logged("ended without pg_backup_stop"));
        /* The server has no backup going on: a new one starts and stops cleanly. */
        ck_assert_str_eq(sql("SELECT pg_backup_start('after abort', true) IS NOT NULL, "
                             "(pg_backup_stop(false)).lsn IS NOT NULL"), "t|t");
        /* No label: the backup never stopped. */
        ck_assert_int_ne(vm_sh("ls " STATE "/*.backup_label"), 0);
        stop(veto);
        stop(writer);
        set_archiving(false);
}
END_TEST

int main(void)
{
        Suite *suite = suite_create("postgresql");
        TCase *tc = tcase_create("vm");

        /* One cluster for all tests (see the top of the file); each test its own writer. */
        tcase_add_unchecked_fixture(tc, cluster_setup, cluster_teardown);
        tcase_add_checked_fixture(tc, test_start, test_end);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_set_under_load_recovers_consistent);
        tcase_add_test(tc, test_set_without_wal_volume_is_inconsistent);
        tcase_add_test(tc, test_least_privilege_role_keeps_the_backup_label);
        tcase_add_test(tc, test_abort_closes_the_held_connection);
        suite_add_tcase(suite, tc);
        SRunner *sr = srunner_create(suite);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
