/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_mariadb.c: vss-writer-mariadb against a real MariaDB server, inside
 * the test VM (tests/vm/check-dm): the server's data directory on an ext4
 * volume with real dm snapshots, vssd on a private bus, the writer logged in
 * as a user with exactly the grants vss-writer-mariadb(8) documents.
 *
 * The server is a throwaway mariadbd from the host's packages (socket only,
 * small buffers, binary log on). Its data directory is made once per VM boot
 * (mariadb-install-db, then the schema) and copied onto each test's volume.
 *
 * The workload: clients moving amounts between the rows of an InnoDB table
 * in transactions (the sum never changes), and one appending to a MyISAM
 * table. A MyISAM table is only clean in a copy taken while BACKUP STAGE
 * BLOCK_COMMIT held it, so CHECK TABLE on the copy shows the writer took part.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/vm/vmtest.h"

/* Outside TEST_ROOT, so they outlive one test: the template and the servers' pid files. */
#define MDB_DIR "/tmp/vss-mdb"
#define TEMPLATE MDB_DIR "/template"
#define ORIGIN_SOCK TEST_ROOT "/origin.sock"
#define COPY_SOCK TEST_ROOT "/copy.sock"
#define WRITER_CNF TEST_ROOT "/writer.cnf"
#define WRITER_LOG TEST_ROOT "/writer.log"
#define STATE_DIR TEST_ROOT "/writer-state"
#define ACCOUNTS 100
#define BALANCE 1000

/* The writer's user has exactly the grants the man page lists. */
static const char schema_sql[] =
        "CREATE USER 'vsstest'@'localhost' IDENTIFIED BY 'vss-test-pw';\n"
        "GRANT RELOAD, BINLOG MONITOR ON *.* TO 'vsstest'@'localhost';\n"
        "CREATE DATABASE w;\n"
        "USE w;\n"
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;\n"
        "INSERT INTO accounts SELECT seq, 1000 FROM seq_1_to_100;\n"
        "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, n BIGINT NOT NULL,\n"
        "                  pad VARCHAR(200), KEY (n)) ENGINE=MyISAM;\n"
        "DELIMITER //\n"
        /* Rows locked in id order: no deadlocks; any error rolls the whole transfer back. */
        "CREATE PROCEDURE transfer(a INT, b INT, x INT)\n"
        "BEGIN\n"
        "  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END;\n"
        "  START TRANSACTION;\n"
        "  UPDATE accounts SET balance = balance + IF(id = a, -x, x) WHERE id = LEAST(a, b);\n"
        "  UPDATE accounts SET balance = balance + IF(id = a, -x, x) WHERE id = GREATEST(a, b);\n"
        "  COMMIT;\n"
        "END//\n"
        "DELIMITER ;\n";

static Volume vol;
static pid_t writer_pid, loads[8];
static size_t n_loads;

/* --- servers ------------------------------------------------------------------------- */

/* Start mariadbd on DATADIR with socket SOCK; its pid file is MDB_DIR/NAME.pid. */
static void server_start(const char *name, const char *datadir, const char *sock,
                         const char *extra)
{
        vm_ok("rm -f %s; mariadbd --no-defaults --datadir=%s --socket=%s --skip-networking "
              "--user=root --innodb-log-file-size=8M --innodb-buffer-pool-size=16M "
              "--log-bin=binlog --server-id=1 --pid-file=" MDB_DIR "/%s.pid %s "
              ">" MDB_DIR "/%s.log 2>&1 & echo $! > " MDB_DIR "/%s.launch",
              sock, datadir, sock, name, extra ? extra : "", name, name);
        /* Ready when its socket is there; give up when the process is gone. */
        int r = vm_sh("for i in $(seq 1200); do [ -S %s ] && exit 0; "
                      "kill -0 $(cat " MDB_DIR "/%s.launch) 2>/dev/null || exit 1; sleep 0.1; "
                      "done; exit 1", sock, name);
        if (r != 0) {
                vm_sh("tail -n 20 " MDB_DIR "/%s.log", name);
                ck_abort_msg("mariadbd %s did not start on %s:\n%s", name, datadir, vm_out());
        }
}

/* Stop every server a test (or a failed one before it) started: by their pid files. */
static void servers_kill(void)
{
        vm_sh("for f in " MDB_DIR "/*.launch; do [ -e \"$f\" ] || continue; "
              "p=$(cat \"$f\"); kill -KILL $p 2>/dev/null; "
              "while kill -0 $p 2>/dev/null; do sleep 0.05; done; rm -f \"$f\"; done");
}

/* Stop the server NAME (SIGKILL: the tests never need its files afterwards). */
static void server_stop(const char *name)
{
        vm_ok("p=$(cat " MDB_DIR "/%s.launch) && kill -KILL $p && "
              "while kill -0 $p 2>/dev/null; do sleep 0.05; done; rm -f " MDB_DIR "/%s.launch",
              name, name);
}

/* One SQL statement through the mariadb client as root; its output (tab-separated). */
static int sql(const char *sock, const char *statement)
{
        return vm_sh("mariadb -S %s -N -B -e \"%s\" 2>&1", sock, statement);
}

static void sql_ok(const char *sock, const char *statement)
{
        ck_assert_msg(sql(sock, statement) == 0, "%s failed: %s", statement, vm_out());
}

static long sql_long(const char *sock, const char *statement)
{
        sql_ok(sock, statement);
        return atol(vm_out());
}

/* Made once per VM boot: mariadb-install-db, then the schema, in MDB_DIR/template. */
static void template_make(void)
{
        if (access(TEMPLATE, F_OK) == 0)
                return;
        vm_ok("mkdir -p " MDB_DIR " && rm -rf " TEMPLATE ".tmp && mariadb-install-db "
              "--no-defaults --datadir=" TEMPLATE ".tmp --user=root "
              "--auth-root-authentication-method=socket --skip-test-db "
              "--innodb-log-file-size=8M --innodb-buffer-pool-size=16M >" MDB_DIR
              "/install.log 2>&1");
        FILE *f = fopen(MDB_DIR "/schema.sql", "we");
        ck_assert_ptr_nonnull(f);
        fputs(schema_sql, f);
        ck_assert_int_eq(fclose(f), 0);
        server_start("template", TEMPLATE ".tmp", MDB_DIR "/template.sock", NULL);
        vm_ok("mariadb -S " MDB_DIR "/template.sock < " MDB_DIR "/schema.sql && "
              "mariadb-admin -S " MDB_DIR "/template.sock shutdown");
        servers_kill();
        vm_ok("mv " TEMPLATE ".tmp " TEMPLATE);
}

/* --- the writer and the workload ------------------------------------------------------ */

static pid_t spawn(const char *command, const char *log)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                setsid();
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                execl("/bin/sh", "sh", "-c", command, (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* vss-writer-mariadb, registered with vssd when this returns. */
static void writer_start(unsigned lock_wait_timeout)
{
        char cmd[1024], path[256];

        snprintf(cmd, sizeof(cmd), "exec %s --config " WRITER_CNF " --state-dir " STATE_DIR
                 " --lock-wait-timeout %u", testbus_path(false, "writers/vss-writer-mariadb"),
                 lock_wait_timeout);
        writer_pid = spawn(cmd, WRITER_LOG);
        if (!testbus_wait_object(&vm_bus, "InterfacesAdded", "/org/linuxvss/Vss1/writer", path,
                                 sizeof(path), 60000)) {
                vm_sh("cat " WRITER_LOG);
                ck_abort_msg("vss-writer-mariadb did not register:\n%s", vm_out());
        }
}

static void load_start(const char *command)
{
        ck_assert_uint_lt(n_loads, sizeof(loads) / sizeof(loads[0]));
        loads[n_loads++] = spawn(command, "/dev/null");
}

/* N clients moving amounts between accounts, and one appending to the MyISAM log. */
static void workload_start(int n)
{
        char cmd[1024];

        for (int i = 0; i < n; i++) {
                snprintf(cmd, sizeof(cmd),
                         "awk -v seed=%d 'BEGIN { srand(seed); for (;;) { "
                         "a = int(rand() * %d) + 1; b = int(rand() * %d) + 1; "
                         "if (a != b) print \"CALL transfer(\" a \",\" b \",\" "
                         "int(rand() * 50) + 1 \");\" } }' | mariadb --force -S " ORIGIN_SOCK
                         " w", i + 1, ACCOUNTS, ACCOUNTS);
                load_start(cmd);
        }
        load_start("awk 'BEGIN { for (i = 1;; i++) print \"INSERT INTO log (n, pad) VALUES (\" "
                   "i \", REPEAT(CHAR(120), \" i % 200 \"));\" }' | mariadb --force -S "
                   ORIGIN_SOCK " w");
}

static void workload_stop(void)
{
        for (size_t i = 0; i < n_loads; i++) {
                kill(-loads[i], SIGKILL);
                waitpid(loads[i], NULL, 0);
        }
        n_loads = 0;
}

/* --- fixture ------------------------------------------------------------------------- */

static void setup(void)
{
        servers_kill(); /* a failed test's, before vmtest_start removes their volumes */
        vmtest_start(NULL);
        template_make();
        vm_volume(&vol, "db", 384, "ext4");
        vm_ok("cp -a " TEMPLATE " %s/data && mkdir -p " STATE_DIR, vol.mnt);
        FILE *f = fopen(WRITER_CNF, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[client]\nsocket = " ORIGIN_SOCK "\n\n[vss-writer-mariadb]\n"
                   "user = vsstest\npassword = vss-test-pw\n");
        ck_assert_int_eq(fclose(f), 0);
        char datadir[256];
        snprintf(datadir, sizeof(datadir), "%s/data", vol.mnt);
        server_start("origin", datadir, ORIGIN_SOCK, NULL);
}

static void teardown(void)
{
        workload_stop();
        if (writer_pid > 0) {
                kill(writer_pid, SIGKILL);
                waitpid(writer_pid, NULL, 0);
                writer_pid = 0;
        }
        servers_kill();
        vmtest_teardown();
}

/* --- checks of a copy ---------------------------------------------------------------- */

/* Start a second server on the copy at DIR; the InnoDB invariant must hold there. */
static void copy_start_and_check_invariant(const char *name, const char *dir)
{
        /* No automatic MyISAM repair: CHECK TABLE must see the table as it was copied. */
        server_start(name, dir, COPY_SOCK, "--myisam-recover-options=OFF");
        sql_ok(COPY_SOCK, "SELECT SUM(balance), COUNT(*) FROM w.accounts");
        char want[64];
        snprintf(want, sizeof(want), "%d\t%d", ACCOUNTS * BALANCE, ACCOUNTS);
        ck_assert_msg(strcmp(vm_out(), want) == 0, "the copy's accounts: %s (want %s)",
                      vm_out(), want);
        /* The transfers had been running: the copy is of a busy server. */
        long moved = sql_long(COPY_SOCK, "SELECT COUNT(*) FROM w.accounts WHERE balance <> 1000");
        ck_assert_msg(moved > 10, "only %ld accounts moved in the copy", moved);
}

/* CHECK TABLE of every table of the copy's server: the lines that are not "<table> OK". */
static const char *copy_check_tables(void)
{
        vm_sh("mariadb-check -S " COPY_SOCK " --all-databases --check 2>&1 | grep -v ' OK$'");
        return vm_out();
}

/* The value of KEY= in the writer's position file of set SET. */
static const char *position_value(const char *set, const char *key, char *buf, size_t size)
{
        vm_ok("sed -n 's/^%s=//p' " STATE_DIR "/%s.position", key, set);
        snprintf(buf, size, "%s", vm_out());
        return buf;
}

/* --- scenarios ----------------------------------------------------------------------- */

/* Wait until the MyISAM log of the origin has more than N rows. */
static void wait_log_rows(long n)
{
        vm_ok("for i in $(seq 900); do [ $(mariadb -S " ORIGIN_SOCK " -N -e "
              "'SELECT COUNT(*) FROM w.log') -gt %ld ] && exit 0; sleep 0.1; done; exit 1", n);
}

/*
 * The whole job, and its control: a busy server; a backup run through vssd
 * with the writer, whose copy recovers with the invariant intact and every
 * table clean, and whose binary log position (recorded after thaw) is where
 * the copy's binary log ends; then the same backup without the writer, whose
 * copy keeps the InnoDB invariant (crash recovery) but has a MyISAM table
 * that was never closed.
 */
START_TEST(test_backup_is_consistent_only_with_the_writer)
{
        char set[64], gtid[128], file[64];

        writer_start(10);
        workload_start(4);
        wait_log_rows(300);
        vm_ok("vssctl exec %s -- sh -c 'echo $VSS_SNAPSHOT_SET_ID > " TEST_ROOT "/set && "
              "cp -a \"$VSS_MOUNT_0/data\" " TEST_ROOT "/copy' 2>&1", vol.volume);
        ck_assert_msg(!strstr(vm_out(), "warning"), "vssctl exec: %s", vm_out());
        vm_ok("cat " TEST_ROOT "/set");
        snprintf(set, sizeof(set), "%s", vm_out());
        /* The origin goes on after the snapshot. */
        wait_log_rows(sql_long(ORIGIN_SOCK, "SELECT COUNT(*) FROM w.log") + 50);
        vm_ok("vssctl exec --exclude-writer MariaDB %s -- sh -c 'cp -a \"$VSS_MOUNT_0/data\" "
              TEST_ROOT "/copy-bare' 2>&1", vol.volume);
        workload_stop();

        copy_start_and_check_invariant("copy", TEST_ROOT "/copy");
        const char *bad = copy_check_tables();
        ck_assert_msg(bad[0] == '\0', "CHECK TABLE on the copy:\n%s", bad);
        ck_assert_int_gt(sql_long(COPY_SOCK, "SELECT COUNT(*) FROM w.log"), 300);
        position_value(set, "gtid_binlog_pos", gtid, sizeof(gtid));
        position_value(set, "binlog_file", file, sizeof(file));
        ck_assert_msg(gtid[0] && strncmp(file, "binlog.", 7) == 0, "position: %s %s", file,
                      gtid);
        sql_ok(COPY_SOCK, "SELECT @@gtid_binlog_pos");
        ck_assert_str_eq(vm_out(), gtid);
        vm_ok("grep -c -e 'Freeze: set %s: BACKUP STAGE BLOCK_COMMIT held' "
              "-e 'Thaw: set %s: BACKUP STAGE END' " WRITER_LOG, set, set);
        ck_assert_str_eq(vm_out(), "2");
        server_stop("copy");

        copy_start_and_check_invariant("copy-bare", TEST_ROOT "/copy-bare");
        bad = copy_check_tables();
        ck_assert_msg(strstr(bad, "w.log\n") && strstr(bad, "hasn't closed the table properly"),
                      "CHECK TABLE on the copy taken without the writer:\n%s", bad);
}
END_TEST

/*
 * A statement that keeps BACKUP STAGE BLOCK_DDL waiting (a long write to a
 * MyISAM table): the writer gives up after its lock wait timeout and vetoes
 * PrepareSnapshot with the server's words; the stages are over on the server.
 * Its component (the data directory) is in the set, so the set fails whole
 * before anything is frozen, and leaves no snapshot.
 */
START_TEST(test_stage_stuck_behind_a_long_statement_vetoes)
{
        writer_start(2);
        load_start("mariadb -S " ORIGIN_SOCK " -e 'INSERT INTO w.log (n) SELECT SLEEP(120)'");
        vm_ok("for i in $(seq 300); do [ $(mariadb -S " ORIGIN_SOCK " -N -e \"SELECT COUNT(*) "
              "FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO w.log%%'\") = 1 ] "
              "&& exit 0; sleep 0.1; done; exit 1");

        time_t start = time(NULL);
        int r = vm_sh("vssctl create %s 2>&1", vol.volume);
        time_t took = time(NULL) - start;
        ck_assert_msg(r == 1 && strstr(vm_out(), "writer 'MariaDB' failed PrepareSnapshot") &&
                      strstr(vm_out(), "BACKUP STAGE BLOCK_DDL (lock_wait_timeout 2 s) failed: "
                                       "Lock wait timeout exceeded") &&
                      strstr(vm_out(), "--exclude-writer MariaDB"),
                      "vssctl create: exit %d: %s", r, vm_out());
        ck_assert_msg(took < 30, "the veto took %ld s", (long)took);
        ck_assert_msg(vm_sh("dmsetup ls | grep -q vss-snap-") != 0, "snapshot devices left");
        vm_ok("vssctl list shadows");
        ck_assert_str_eq(vm_out(), "No shadow copies.");
        vm_ok("vssctl list writers");
        ck_assert_msg(strstr(vm_out(), "FAILED_AT_PREPARE_SNAPSHOT"), "writers: %s", vm_out());

        /* No stage is left: another backup may start at once (it would wait for ours). */
        vm_ok("mariadb -S " ORIGIN_SOCK " -u vsstest -pvss-test-pw -e "
              "'SET SESSION lock_wait_timeout = 2; BACKUP STAGE START; BACKUP STAGE END' 2>&1");
        workload_stop();
}
END_TEST

/*
 * The writer dies while frozen (SIGKILL between Freeze and Thaw; a second
 * writer at the system level keeps the set in its freeze meanwhile): the
 * server ends its session, so commits go on at once, and vssd aborts the set.
 */
START_TEST(test_writer_killed_while_frozen_unlocks_and_aborts)
{
        char slow[256];

        writer_start(10);
        pid_t tw = testbus_spawn_writer(&vm_bus, slow, sizeof(slow),
                                        "--name slow --instance slow --level system "
                                        "--hang Freeze");
        vm_sh("rm -f " TEST_ROOT "/create.out; (vssctl create %s > " TEST_ROOT "/create.out "
              "2>&1; echo \"exit $?\" >> " TEST_ROOT "/create.out) >/dev/null 2>&1 &",
              vol.volume);
        vm_ok("for i in $(seq 600); do grep -q 'Freeze: set .*BLOCK_COMMIT held' " WRITER_LOG
              " && exit 0; sleep 0.1; done; exit 1");

        /* Frozen: a commit waits for the writer's BLOCK_COMMIT. */
        const char *insert = "SET SESSION lock_wait_timeout = %u; "
                             "INSERT INTO w.accounts VALUES (1000, 0)";
        char stmt[256];
        snprintf(stmt, sizeof(stmt), insert, 1u);
        ck_assert_int_ne(sql(ORIGIN_SOCK, stmt), 0);
        ck_assert_msg(strstr(vm_out(), "Lock wait timeout"), "commit while frozen: %s",
                      vm_out());

        kill(writer_pid, SIGKILL);
        waitpid(writer_pid, NULL, 0);
        writer_pid = 0;
        snprintf(stmt, sizeof(stmt), insert, 10u);
        time_t start = time(NULL);
        sql_ok(ORIGIN_SOCK, stmt);
        ck_assert_msg(time(NULL) - start < 5, "the commit took %ld s",
                      (long)(time(NULL) - start));

        vm_ok("for i in $(seq 600); do grep -q '^exit' " TEST_ROOT "/create.out && exit 0; "
              "sleep 0.1; done; exit 1");
        vm_ok("cat " TEST_ROOT "/create.out");
        ck_assert_msg(strstr(vm_out(), "writer 'MariaDB' failed Thaw") &&
                      strstr(vm_out(), "left the bus while frozen") &&
                      strstr(vm_out(), "exit 1"), "vssctl create: %s", vm_out());
        vm_ok("dmsetup ls | grep -c vss-snap- || true");
        ck_assert_str_eq(vm_out(), "0");
        testbus_kill(tw);
}
END_TEST

int main(void)
{
        return vmtest_run_fixture("mariadb", setup, teardown,
                                  (const TTest *const[]){
                                          test_backup_is_consistent_only_with_the_writer,
                                          test_stage_stuck_behind_a_long_statement_vetoes,
                                          test_writer_killed_while_frozen_unlocks_and_aborts,
                                          NULL });
}
