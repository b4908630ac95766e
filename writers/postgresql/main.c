/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: vss-writer-postgresql, the VSS writer of a PostgreSQL cluster
 * (vss-writer-postgresql(8)). What it does at each event:
 *
 *   Identify         reads the cluster's layout (data directory, WAL directory,
 *                    tablespaces, configuration files) and reports it as the
 *                    components "cluster" and "config", so that vssd fails a
 *                    set that holds part of the cluster only
 *   PrepareSnapshot  CHECKPOINT (less WAL to replay when a snapshot is
 *                    started); with WAL archiving on, pg_backup_start instead,
 *                    on a connection held until PostSnapshot
 *   Freeze, Thaw     nothing: the set is taken in one instant, which PostgreSQL
 *                    recovers from as from a crash
 *   PostSnapshot     pg_backup_stop; its label is kept in the state directory
 *   Abort, BackupShutdown   closes the held connection: the backup ends
 *
 * Failures answer the event with the server's message.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vss/writer.h>

#include "writers/postgresql/pgwriter.h"

/* Names this kind of writer (VSS's writer class id): the same for every cluster. */
#define PGW_CLASS_ID "7f0b6c2e-3d41-4a8e-b5f9-2c6d8e1a4b70"

struct pgw {
        struct pgw_settings settings;
        struct pgw_backup backup;
};

static vss_writer *volatile the_writer; /* for the signal handler */


/* Fail the event EV with MESSAGE: logged, and sent as the reason. */
static int veto(vss_writer *w, const struct vss_writer_event *ev, int failure,
                const char *message)
{
        log_error("%s: failed: %s", vss_writer_event_type_to_string(ev->type), message);
        vss_writer_set_failure_message(w, "%s", message);
        return failure;
}

/* --- Identify ----------------------------------------------------------------------- */

/* The components from LAYOUT: "cluster" (all of it needed together) and "config". */
static int describe(vss_writer *w, const struct pgw_layout *l)
{
        const char *cluster[PGW_MAX_FILES + 3] = { l->data_dir };
        size_t n = 1;
        size_t len = strlen(l->data_dir);
        if (strncmp(l->wal_dir, l->data_dir, len) != 0 || l->wal_dir[len] != '/')
                cluster[n++] = l->wal_dir;
        for (size_t i = 0; i < l->n_tablespaces; i++)
                cluster[n++] = l->tablespaces[i];
        cluster[n] = NULL;
        int r = vss_writer_clear_components(w);
        if (r >= 0)
                r = vss_writer_add_component(w, "", "cluster", cluster);
        if (r >= 0 && l->n_config > 0) {
                const char *config[4] = { NULL };
                memcpy(config, l->config, l->n_config * sizeof(char *));
                r = vss_writer_add_component(w, "", "config", config);
        }
        return r;
}

static int on_identify(vss_writer *w, const struct vss_writer_event *ev, struct pgw *p)
{
        char err[2048];
        struct pgw_layout l;

        PGconn *conn = pgw_connect(&p->settings, err, sizeof(err));
        if (!conn)
                return veto(w, ev, VSS_WF_RETRYABLE, err);
        int r = pgw_layout_read(conn, &l, err, sizeof(err));
        PQfinish(conn);
        if (r < 0)
                return veto(w, ev, VSS_WF_NONRETRYABLE, err);
        r = describe(w, &l);
        if (r < 0) {
                snprintf(err, sizeof(err), "cannot describe the cluster's files: %s",
                         vss_writer_get_error_message(w) ? vss_writer_get_error_message(w)
                                                         : strerror(-r));
                pgw_layout_clear(&l);
                return veto(w, ev, VSS_WF_NONRETRYABLE, err);
        }
        log_info("Identify: data %s, WAL %s, %zu tablespace(s), %zu configuration file(s) "
                "outside the data directory", l.data_dir, l.wal_dir, l.n_tablespaces, l.n_config);
        pgw_layout_clear(&l);
        return VSS_WF_NONE;
}

/* --- the backup of one set ---------------------------------------------------------- */

/* Close the set's connection: a backup started on it ends with it. */
static void backup_end(struct pgw *p, const char *why)
{
        struct pgw_backup *b = &p->backup;
        if (!b->conn)
                return;
        if (b->started)
                log_info("%s: backup of set %s ended without pg_backup_stop (connection closed)",
                        why, b->set_id);
        PQfinish(b->conn);
        *b = (struct pgw_backup){ 0 };
}

/* A set id names files in the state directory: a UUID, nothing else. */
static bool set_id_valid(const char *id)
{
        if (!id[0] || strlen(id) >= sizeof(((struct pgw_backup *)0)->set_id))
                return false;
        return strspn(id, "0123456789abcdefABCDEF-") == strlen(id);
}

static int on_prepare_snapshot(vss_writer *w, const struct vss_writer_event *ev, struct pgw *p)
{
        char err[2048], label[128];

        if (!set_id_valid(ev->snapshot_set_id))
                return veto(w, ev, VSS_WF_NONRETRYABLE, "the snapshot set id is not a UUID");
        backup_end(p, "PrepareSnapshot"); /* one left from a set that never finished */
        PGconn *conn = pgw_connect(&p->settings, err, sizeof(err));
        if (!conn)
                return veto(w, ev, VSS_WF_RETRYABLE, err);
        int archiving = pgw_archiving(conn, err, sizeof(err));
        if (archiving == 0) {
                int r = pgw_checkpoint(conn, err, sizeof(err));
                PQfinish(conn);
                if (r < 0)
                        return veto(w, ev, VSS_WF_NONRETRYABLE, err);
                log_info("PrepareSnapshot: checkpoint done (set %s)", ev->snapshot_set_id);
                return VSS_WF_NONE;
        }
        snprintf(label, sizeof(label), "vss set %s", ev->snapshot_set_id);
        if (archiving < 0 || pgw_backup_start(conn, label, err, sizeof(err)) < 0) {
                PQfinish(conn);
                return veto(w, ev, VSS_WF_NONRETRYABLE, err);
        }
        p->backup = (struct pgw_backup){ .conn = conn, .started = true };
        snprintf(p->backup.set_id, sizeof(p->backup.set_id), "%s", ev->snapshot_set_id);
        log_info("PrepareSnapshot: WAL archiving is on: backup '%s' started (fast checkpoint "
                "done); held until PostSnapshot", label);
        return VSS_WF_NONE;
}

static int on_post_snapshot(vss_writer *w, const struct vss_writer_event *ev, struct pgw *p)
{
        struct pgw_backup *b = &p->backup;
        char err[2048];
        char *label = NULL, *map = NULL;

        if (!b->conn || strcmp(b->set_id, ev->snapshot_set_id) != 0) {
                log_debug("PostSnapshot: no backup was started for set %s", ev->snapshot_set_id);
                return VSS_WF_NONE;
        }
        int r = pgw_backup_stop(b->conn, &label, &map, err, sizeof(err));
        b->started = false; /* ended either way: stopped, or failing it ends the session's */
        backup_end(p, "PostSnapshot");
        if (r < 0)
                return veto(w, ev, VSS_WF_NONRETRYABLE, err);
        r = pgw_label_save(p->settings.state_dir, ev->snapshot_set_id, label, map, err,
                           sizeof(err));
        free(label);
        free(map);
        if (r < 0)
                return veto(w, ev, VSS_WF_NONRETRYABLE, err);
        log_info("PostSnapshot: backup stopped; its label is %s/%s.backup_label",
                p->settings.state_dir, ev->snapshot_set_id);
        return VSS_WF_NONE;
}

static int on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        struct pgw *p = userdata;
        const char *name = vss_writer_event_type_to_string(ev->type);

        switch (ev->type) {
        case VSS_WRITER_EVENT_IDENTIFY:
                return on_identify(w, ev, p);
        case VSS_WRITER_EVENT_PREPARE_SNAPSHOT:
                return on_prepare_snapshot(w, ev, p);
        case VSS_WRITER_EVENT_POST_SNAPSHOT:
                return on_post_snapshot(w, ev, p);
        case VSS_WRITER_EVENT_ABORT:
        case VSS_WRITER_EVENT_BACKUP_SHUTDOWN:
                if (p->backup.conn && strcmp(p->backup.set_id, ev->snapshot_set_id) == 0)
                        backup_end(p, name);
                log_info("%s: set %s", name, ev->snapshot_set_id);
                return VSS_WF_NONE;
        case VSS_WRITER_EVENT_FREEZE:
        case VSS_WRITER_EVENT_THAW:
                /* The set is one instant for every volume: nothing to hold still. */
                log_debug("%s: nothing to do (crash-consistent set)", name);
                return VSS_WF_NONE;
        default:
                log_info("%s: set %s", name, ev->snapshot_set_id);
                return VSS_WF_NONE;
        }
}

/* --- options and the loop ------------------------------------------------------------- */

static void on_signal(int sig)
{
        vss_writer_stop(the_writer);
}

static __attribute__((noreturn)) void usage(int status)
{
        FILE *out = status ? stderr : stdout;
        if (status) {
                fprintf(out, "Try '%s --help' for more information.\n", PGW_NAME);
                exit(status);
        }
        fprintf(out,
                "Usage: %s [OPTION]...\n"
                "The VSS writer of a PostgreSQL cluster: its files as components, a checkpoint\n"
                "(or, with WAL archiving, a backup label) for every snapshot set.\n\n"
                "  -c, --config FILE       settings (conninfo, state_dir, instance_id, timeout)\n"
                "  -d, --dbname CONNINFO   libpq connection string or database name (default:\n"
                "                          PG* variables, else database postgres on the local\n"
                "                          socket as the current user)\n"
                "      --state-dir DIR     where backup labels are kept (default %s)\n"
                "      --instance-id ID    the writer's instance id (default postgresql:DATADIR)\n"
                "      --timeout SECONDS   statement timeout (default %d)\n"
                "      --bus ADDRESS       vssd's bus (default $VSS_BUS_ADDRESS, else the system bus)\n"
                "  -v, --verbose           log every event\n"
                "  -h, --help              this text\n"
                "  -V, --version           the version\n\n"
                "See vss-writer-postgresql(8).\n",
                PGW_NAME, PGW_DEFAULT_STATE_DIR, PGW_DEFAULT_TIMEOUT_S);
        exit(0);
}

static bool parse_timeout(const char *arg, unsigned *ret)
{
        char *end;
        unsigned long t = strtoul(arg, &end, 10);
        if (!arg[0] || *end || t < 1 || t > 3600)
                return false;
        *ret = (unsigned)t;
        return true;
}

/* Options, then the --config file (options win), then defaults. Exits 2 on bad usage. */
static void parse(int argc, char **argv, struct pgw_settings *s, const char **ret_bus)
{
        enum { OPT_STATE_DIR = 0x100, OPT_INSTANCE, OPT_TIMEOUT, OPT_BUS };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "dbname", required_argument, NULL, 'd' },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "instance-id", required_argument, NULL, OPT_INSTANCE },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "bus", required_argument, NULL, OPT_BUS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        const char *config = NULL;
        char err[1024];
        int c;

        while ((c = getopt_long(argc, argv, "c:d:vhV", options, NULL)) != -1) {
                switch (c) {
                case 'c': config = optarg; break;
                case 'd': s->conninfo = strdup(optarg); break;
                case OPT_STATE_DIR: s->state_dir = strdup(optarg); break;
                case OPT_INSTANCE: s->instance_id = strdup(optarg); break;
                case OPT_TIMEOUT:
                        if (!parse_timeout(optarg, &s->timeout_s)) {
                                fprintf(stderr, "%s: --timeout takes seconds, 1 to 3600, not "
                                        "'%s'\n", PGW_NAME, optarg);
                                usage(2);
                        }
                        break;
                case OPT_BUS: *ret_bus = optarg; break;
                case 'v': log_set_max_priority(LOG_DEBUG); break;
                case 'h': usage(0);
                case 'V': printf("%s %s\n", PGW_NAME, VSS_VERSION); exit(0);
                default: usage(2);
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", PGW_NAME, argv[optind]);
                usage(2);
        }
        if (s->state_dir && s->state_dir[0] != '/') {
                fprintf(stderr, "%s: --state-dir must be an absolute path, not '%s'\n",
                        PGW_NAME, s->state_dir);
                usage(2);
        }
        if (config && pgw_config_read(s, config, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\n", PGW_NAME, err);
                exit(2);
        }
        if (!s->state_dir)
                s->state_dir = strdup(PGW_DEFAULT_STATE_DIR);
        if (!s->timeout_s)
                s->timeout_s = PGW_DEFAULT_TIMEOUT_S;
}

/* Reach the server once before registering: a writer for nothing would be a lie. */
static int check_server(struct pgw *p)
{
        char err[2048];
        struct pgw_layout l;

        PGconn *conn = pgw_connect(&p->settings, err, sizeof(err));
        if (!conn) {
                log_error("%s", err);
                return -1;
        }
        int version = PQserverVersion(conn);
        int r = pgw_layout_read(conn, &l, err, sizeof(err));
        PQfinish(conn);
        if (r < 0) {
                log_error("%s (see PRIVILEGES in vss-writer-postgresql(8))", err);
                return -1;
        }
        log_info("PostgreSQL %d.%d serves %s", version / 10000, version % 10000, l.data_dir);
        if (!p->settings.instance_id &&
            asprintf(&p->settings.instance_id, "postgresql:%s", l.data_dir) < 0)
                p->settings.instance_id = NULL;
        pgw_layout_clear(&l);
        return p->settings.instance_id ? 0 : -1;
}

static int fail(vss_writer *w, const char *what)
{
        log_error("%s: %s", what, vss_writer_get_error_message(w));
        return 1;
}

static int run(struct pgw *p, const char *bus)
{
        vss_writer *w = NULL;
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        cfg.name = "PostgreSQL";
        cfg.instance_id = p->settings.instance_id;
        cfg.class_id = PGW_CLASS_ID;
        cfg.level = VSS_LEVEL_BACK_END;
        cfg.usage = "user-data";
        int r = vss_writer_new(&w, bus, &cfg, on_event, p);
        if (r < 0) {
                log_error("cannot make the writer: %s", vss_strerror(r));
                return 1;
        }
        the_writer = w;
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        if (vss_writer_register(w) < 0)
                r = fail(w, "cannot register with vssd");
        else {
                log_info("registered as %s (instance %s)", vss_writer_get_object_path(w),
                        cfg.instance_id);
                r = vss_writer_run(w) < 0 ? fail(w, "stopped") : 0;
        }
        backup_end(p, "exit");
        the_writer = NULL;
        vss_writer_unref(w);
        return r;
}

int main(int argc, char **argv)
{
        struct pgw p = { 0 };
        const char *bus = NULL;

        parse(argc, argv, &p.settings, &bus);
        signal(SIGPIPE, SIG_IGN);
        if (check_server(&p) < 0)
                return 1;
        int r = run(&p, bus);
        free(p.settings.conninfo);
        free(p.settings.state_dir);
        free(p.settings.instance_id);
        return r;
}
