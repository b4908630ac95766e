/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: vss-writer-mariadb, the VSS writer of a MariaDB server
 * (vss-writer-mariadb(8)). What it does at each event:
 *
 *   Identify         asks the server where its files are and reports them as
 *                    the component "server" (see layout.c)
 *   PrepareBackup    makes sure the server can be reached
 *   PrepareSnapshot  BACKUP STAGE START, FLUSH, BLOCK_DDL (see stages.c); a
 *                    stage that waits longer than the lock wait timeout vetoes
 *   Freeze           BACKUP STAGE BLOCK_COMMIT, and reads the binary log
 *                    position while commits are blocked
 *   Thaw             BACKUP STAGE END
 *   PostSnapshot     writes the position into the state directory
 *   Abort, BackupShutdown   BACKUP STAGE END if a stage is still held
 *
 * The stages live in this process's connection: if it dies, the server
 * ends the session and every stage with it, so a dead writer never leaves
 * the database blocked.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysqld_error.h>
#include <vss/writer.h>

#include "writers/mariadb/mdbwriter.h"

/* Names this kind of writer (VSS's writer class id): the same for every server. */
#define MDB_CLASS_ID "2b8e5d1c-6f3a-4c97-a0d4-9e71b5c3f862"
#define DEFAULT_STATE_DIR "/var/lib/vss/writers/mariadb"
#define DEFAULT_INSTANCE "mariadb"
#define DEFAULT_LOCK_WAIT_TIMEOUT_S 5u

struct options {
        struct mdb_settings db;
        const char *state_dir;
        const char *instance;
        const char *bus;
        unsigned freeze_timeout_s;
};

struct mdbw {
        struct options opt;
        Mdb *db;
        struct mdb_position pos; /* read at Freeze, written at PostSnapshot */
        char set_id[64];         /* the set POS belongs to ("" for none) */
};

static vss_writer *volatile the_writer; /* for the signal handler */

/* How a failed statement should be reported: can a retry help? */
static enum vss_writer_failure failure_of(const Mdb *db)
{
        switch (mdb_errno(db)) {
        case ER_ACCESS_DENIED_ERROR:
        case ER_SPECIFIC_ACCESS_DENIED_ERROR:
        case ER_DBACCESS_DENIED_ERROR:
        case ER_PARSE_ERROR:
                return VSS_WF_NONRETRYABLE; /* a grant or an old server: the admin's move */
        default:
                return VSS_WF_RETRYABLE; /* a lock wait, a restart: the next try may pass */
        }
}

/* Fail EV with the database's last error: logged, and sent as the reason. */
static int veto(vss_writer *w, const struct vss_writer_event *ev, struct mdbw *s)
{
        const char *name = vss_writer_event_type_to_string(ev->type);
        log_error("%s: vetoed: %s", name, mdb_error(s->db));
        vss_writer_set_failure_message(w, "%s", mdb_error(s->db));
        return failure_of(s->db);
}

/* --- events -------------------------------------------------------------------------- */

static int on_identify(vss_writer *w, const struct vss_writer_event *ev, struct mdbw *s)
{
        char **dirs = NULL;

        if (mdb_layout(s->db, &dirs) < 0)
                return veto(w, ev, s); /* the components of the last Identify stay */
        vss_writer_clear_components(w);
        int r = vss_writer_add_component(w, "", "server", (const char *const *)dirs);
        if (r < 0) {
                log_error("Identify: cannot list the component: %s",
                          vss_writer_get_error_message(w));
                mdb_strv_free(dirs);
                return r;
        }
        for (char **d = dirs; *d; d++)
                log_debug("Identify: component server holds %s", *d);
        mdb_strv_free(dirs);
        return VSS_WF_NONE;
}

static int on_prepare_snapshot(vss_writer *w, const struct vss_writer_event *ev,
                               struct mdbw *s)
{
        mdb_position_clear(&s->pos);
        s->set_id[0] = '\0';
        if (mdb_stages_prepare(s->db) < 0)
                return veto(w, ev, s);
        log_info("PrepareSnapshot: set %s: BACKUP STAGE START, FLUSH, BLOCK_DDL held "
                 "(DDL blocked)", ev->snapshot_set_id);
        return VSS_WF_NONE;
}

static int on_freeze(vss_writer *w, const struct vss_writer_event *ev, struct mdbw *s)
{
        if (mdb_stages_block_commit(s->db, &s->pos) < 0)
                return veto(w, ev, s);
        snprintf(s->set_id, sizeof(s->set_id), "%s", ev->snapshot_set_id);
        if (s->pos.binlog)
                log_info("Freeze: set %s: BACKUP STAGE BLOCK_COMMIT held (commits blocked); "
                         "binary log at %s:%s, gtid_binlog_pos '%s'", ev->snapshot_set_id,
                         s->pos.file, s->pos.offset, s->pos.gtid);
        else
                log_info("Freeze: set %s: BACKUP STAGE BLOCK_COMMIT held (commits blocked); "
                         "binary logging is off", ev->snapshot_set_id);
        return VSS_WF_NONE;
}

static int on_thaw(vss_writer *w, const struct vss_writer_event *ev, struct mdbw *s)
{
        if (mdb_stages_end(s->db) < 0) {
                /* The stages may have ended before the snapshots were taken. */
                mdb_disconnect(s->db);
                return veto(w, ev, s);
        }
        log_info("Thaw: set %s: BACKUP STAGE END (commits and DDL go on)",
                 ev->snapshot_set_id);
        return VSS_WF_NONE;
}

static int on_post_snapshot(vss_writer *w, const struct vss_writer_event *ev, struct mdbw *s)
{
        char path[4096];

        if (strcmp(s->set_id, ev->snapshot_set_id) != 0)
                return VSS_WF_NONE; /* not frozen by us for this set: nothing to record */
        int r = position_write(s->opt.state_dir, s->set_id, &s->pos, path, sizeof(path));
        if (r < 0) {
                log_error("PostSnapshot: cannot write the position of set %s into %s: %s",
                          s->set_id, s->opt.state_dir, strerror(-r));
                vss_writer_set_failure_message(w, "cannot write the binary log position "
                                               "into %s: %s", s->opt.state_dir, strerror(-r));
                return r;
        }
        log_info("PostSnapshot: set %s: position written to %s", s->set_id, path);
        return VSS_WF_NONE;
}

/*
 * Abort, BackupShutdown and exit: no stage may outlive the backup. An aborted
 * set (FORGET) also loses its position file: there is no snapshot for it.
 */
static void end_stages(struct mdbw *s, const char *event, const char *set_id, bool forget)
{
        enum mdb_stage held = s->db->stage;
        if (held != MDB_STAGE_NONE) {
                if (mdb_stages_end(s->db) < 0) {
                        log_warning("%s: %s; closing the connection, which ends the stages",
                                    event, mdb_error(s->db));
                        mdb_disconnect(s->db);
                }
                log_info("%s: set %s: BACKUP STAGE END (was %s)", event, set_id,
                         mdb_stage_name(held));
        }
        if (forget && set_id[0] && position_remove(s->opt.state_dir, set_id) > 0)
                log_info("%s: set %s: its position file is removed", event, set_id);
        if (strcmp(s->set_id, set_id) == 0) {
                mdb_position_clear(&s->pos);
                s->set_id[0] = '\0';
        }
}

static int on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        struct mdbw *s = userdata;
        const char *name = vss_writer_event_type_to_string(ev->type);

        switch (ev->type) {
        case VSS_WRITER_EVENT_IDENTIFY:
                return on_identify(w, ev, s);
        case VSS_WRITER_EVENT_PREPARE_BACKUP:
                if (mdb_connect(s->db) < 0)
                        return veto(w, ev, s);
                log_info("%s: set %s", name, ev->snapshot_set_id);
                return VSS_WF_NONE;
        case VSS_WRITER_EVENT_PREPARE_SNAPSHOT:
                return on_prepare_snapshot(w, ev, s);
        case VSS_WRITER_EVENT_FREEZE:
                return on_freeze(w, ev, s);
        case VSS_WRITER_EVENT_THAW:
                return on_thaw(w, ev, s);
        case VSS_WRITER_EVENT_POST_SNAPSHOT:
                return on_post_snapshot(w, ev, s);
        case VSS_WRITER_EVENT_ABORT:
        case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
                end_stages(s, name, ev->snapshot_set_id,
                           ev->type == VSS_WRITER_EVENT_ABORT);
                return VSS_WF_NONE;
        default:
                /* BackupComplete, and events a later libvss adds: nothing to do. */
                log_info("%s: set %s", name, ev->snapshot_set_id);
                return VSS_WF_NONE;
        }
}

/* --- start ---------------------------------------------------------------------------- */

/* The grants BACKUP STAGE and SHOW MASTER STATUS need; a warning now beats a veto later. */
static void check_privileges(Mdb *db)
{
        char *v[3] = { NULL, NULL, NULL };

        if (mdb_query_row(db, "reading the user's privileges",
                          "SELECT COALESCE(SUM(PRIVILEGE_TYPE = 'RELOAD'), 0), "
                          "COALESCE(SUM(PRIVILEGE_TYPE IN ('BINLOG MONITOR', 'SUPER')), 0), "
                          "@@log_bin FROM information_schema.USER_PRIVILEGES", v, 3) < 0) {
                log_warning("cannot check the user's privileges: %s", mdb_error(db));
                return;
        }
        if (v[0] && strcmp(v[0], "0") == 0)
                log_warning("the MariaDB user lacks the RELOAD privilege (unless a role grants "
                            "it), which BACKUP STAGE needs: every PrepareSnapshot will fail; "
                            "GRANT RELOAD ON *.* TO it (see vss-writer-mariadb(8))");
        if (v[1] && strcmp(v[1], "0") == 0 && v[2] && strcmp(v[2], "1") == 0)
                log_warning("the MariaDB user lacks the BINLOG MONITOR privilege (unless a role "
                            "grants it), which reading the binary log position needs: every "
                            "Freeze will fail; GRANT BINLOG MONITOR ON *.* TO it");
        for (int i = 0; i < 3; i++)
                free(v[i]);
}

static int check_state_dir(const char *dir)
{
        if (dir[0] != '/') {
                fprintf(stderr, "vss-writer-mariadb: --state-dir '%s' is not an absolute path\n",
                        dir);
                return -EINVAL;
        }
        if (access(dir, W_OK | X_OK) < 0) {
                fprintf(stderr, "vss-writer-mariadb: cannot write to the state directory %s: "
                        "%s; create it (writable by this user) or pass --state-dir\n", dir,
                        strerror(errno));
                return -errno;
        }
        return 0;
}

static void on_signal(int sig)
{
        vss_writer_stop(the_writer); /* async-signal-safe: run() returns 0 */
}

static int run_writer(struct mdbw *s)
{
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        vss_writer *w = NULL;

        cfg.name = "MariaDB";
        cfg.instance_id = s->opt.instance;
        cfg.class_id = MDB_CLASS_ID;
        cfg.level = VSS_LEVEL_BACK_END;
        cfg.freeze_timeout_ms = s->opt.freeze_timeout_s * 1000u;
        cfg.usage = "database";
        int r = vss_writer_new(&w, s->opt.bus, &cfg, on_event, s);
        if (r < 0) {
                fprintf(stderr, "vss-writer-mariadb: %s\n", vss_strerror(r));
                return 1;
        }
        the_writer = w;
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        if ((r = vss_writer_register(w)) < 0) {
                fprintf(stderr, "vss-writer-mariadb: cannot register with vssd: %s\n",
                        vss_writer_get_error_message(w));
        } else {
                log_info("registered as %s (instance %s); lock_wait_timeout %u s, state in %s",
                         vss_writer_get_object_path(w), s->opt.instance,
                         s->opt.db.lock_wait_timeout_s, s->opt.state_dir);
                if ((r = vss_writer_run(w)) < 0)
                        log_error("stopped: %s", vss_writer_get_error_message(w));
        }
        /* Whatever ended the loop, the server must not stay blocked. */
        end_stages(s, "exit", "", false);
        the_writer = NULL;
        vss_writer_unref(w);
        return r < 0 ? 1 : 0;
}

/* --- options ------------------------------------------------------------------------- */

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: vss-writer-mariadb [options]\n"
                "The VSS writer of a MariaDB server: BACKUP STAGE around vssd's snapshots.\n\n"
                "  -c, --config FILE            read this option file instead of the defaults\n"
                "                               (groups [client] and [vss-writer-mariadb])\n"
                "      --defaults-file FILE     the same\n"
                "  -S, --socket PATH            the server's socket\n"
                "  -u, --user NAME              the MariaDB user (default: the login name)\n"
                "      --lock-wait-timeout SEC  longest wait of a stage before it vetoes "
                "(default %u)\n"
                "      --freeze-timeout SEC     longest freeze; 0: vssd's (default 0)\n"
                "      --state-dir DIR          position files (default " DEFAULT_STATE_DIR ")\n"
                "      --instance-id ID         the writer's instance id (default "
                DEFAULT_INSTANCE ")\n"
                "      --bus ADDRESS            vssd's bus (default $VSS_BUS_ADDRESS, else the "
                "system bus)\n"
                "  -v, --verbose                log every statement\n"
                "  -h, --help                   show this help\n"
                "  -V, --version                show the version\n",
                DEFAULT_LOCK_WAIT_TIMEOUT_S);
}

static __attribute__((noreturn)) void usage_error(const char *format, const char *arg)
{
        fprintf(stderr, "vss-writer-mariadb: ");
        fprintf(stderr, format, arg);
        fprintf(stderr, "\nTry 'vss-writer-mariadb --help'.\n");
        exit(2);
}

static unsigned parse_seconds(const char *option, const char *arg, unsigned min)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-' || v < min || v > 86400) {
                char msg[128];
                snprintf(msg, sizeof(msg), "%s '%%s' is not a number of seconds (%u to 86400)",
                         option, min);
                usage_error(msg, arg);
        }
        return (unsigned)v;
}

enum { OPT_LOCK_WAIT = 256, OPT_FREEZE_TIMEOUT, OPT_STATE_DIR, OPT_INSTANCE, OPT_BUS };

static void parse_options(int argc, char **argv, struct options *o)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "defaults-file", required_argument, NULL, 'c' },
                { "socket", required_argument, NULL, 'S' },
                { "user", required_argument, NULL, 'u' },
                { "lock-wait-timeout", required_argument, NULL, OPT_LOCK_WAIT },
                { "freeze-timeout", required_argument, NULL, OPT_FREEZE_TIMEOUT },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "instance-id", required_argument, NULL, OPT_INSTANCE },
                { "bus", required_argument, NULL, OPT_BUS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:S:u:vhV", options, NULL)) != -1) {
                if (optarg && !optarg[0])
                        usage_error("%san option's value is empty (an unset variable?)", "");
                switch (c) {
                case 'c': o->db.config = optarg; break;
                case 'S': o->db.socket = optarg; break;
                case 'u': o->db.user = optarg; break;
                case OPT_LOCK_WAIT:
                        o->db.lock_wait_timeout_s = parse_seconds("--lock-wait-timeout",
                                                                  optarg, 1);
                        break;
                case OPT_FREEZE_TIMEOUT:
                        o->freeze_timeout_s = parse_seconds("--freeze-timeout", optarg, 0);
                        break;
                case OPT_STATE_DIR: o->state_dir = optarg; break;
                case OPT_INSTANCE: o->instance = optarg; break;
                case OPT_BUS: o->bus = optarg; break;
                case 'v': log_set_max_priority(LOG_DEBUG); break;
                case 'h': usage(stdout); exit(0);
                case 'V': printf("vss-writer-mariadb %s\n", VSS_VERSION); exit(0);
                default: usage(stderr); exit(2);
                }
        }
        if (optind < argc)
                usage_error("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
        struct mdbw s = { .opt = { .db = { .lock_wait_timeout_s = DEFAULT_LOCK_WAIT_TIMEOUT_S },
                                   .state_dir = DEFAULT_STATE_DIR,
                                   .instance = DEFAULT_INSTANCE } };
        char **dirs = NULL;

        parse_options(argc, argv, &s.opt);
        if (check_state_dir(s.opt.state_dir) < 0 || mdb_new(&s.db, &s.opt.db) < 0)
                return 1;
        /* Refuse to start without the server: a writer for nothing would be a lie. */
        if (mdb_layout(s.db, &dirs) < 0) {
                fprintf(stderr, "vss-writer-mariadb: %s\n", mdb_error(s.db));
                mdb_free(s.db);
                return 1;
        }
        log_info("connected to MariaDB %s; its data in %s", s.db->server_version, dirs[0]);
        mdb_strv_free(dirs);
        check_privileges(s.db);
        int status = run_writer(&s);
        mdb_position_clear(&s.pos);
        mdb_free(s.db);
        return status;
}
