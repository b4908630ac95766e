/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pg.c: every libpq call of vss-writer-postgresql. Each function runs one
 * short exchange on a connection the caller owns and turns a failure into
 * the server's own message (permission denied, the server is not running...),
 * which the writer sends to vssd as its reason.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writers/postgresql/pgwriter.h"

const char *pgw_error(PGconn *conn, char *buf, size_t size)
{
        snprintf(buf, size, "%s", conn ? PQerrorMessage(conn) : "out of memory");
        size_t n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        /* libpq puts "ERROR:  " before the server's text: the text is what matters. */
        if (strncmp(buf, "ERROR:  ", 8) == 0)
                memmove(buf, buf + 8, strlen(buf + 8) + 1);
        return buf;
}

static int fail(char *err, size_t size, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t size, const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        vsnprintf(err, size, format, ap);
        va_end(ap);
        return -1;
}

/* Run SQL (with N_PARAMS text PARAMS) expecting rows or a command; NULL with ERR filled. */
static PGresult *exec(PGconn *conn, const char *what, const char *sql, int n_params,
                      const char *const *params, char *err, size_t size)
{
        char msg[1024];
        PGresult *res = PQexecParams(conn, sql, n_params, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (res && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
                return res;
        fail(err, size, "%s failed: %s", what, pgw_error(conn, msg, sizeof(msg)));
        PQclear(res);
        return NULL;
}

PGconn *pgw_connect(const struct pgw_settings *s, char *err, size_t size)
{
        const char *dbname = s->conninfo;
        /* Default: the local socket as the current OS user, in database postgres. */
        if (!dbname && !getenv("PGDATABASE"))
                dbname = "postgres";
        /* Ours first: a value in the user's connection string replaces it. */
        const char *keys[] = { "connect_timeout", "fallback_application_name",
                               dbname ? "dbname" : NULL, NULL };
        const char *values[] = { "10", PGW_NAME, dbname, NULL };
        char msg[1024];

        PGconn *conn = PQconnectdbParams(keys, values, 1);
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
                fail(err, size, "cannot connect to PostgreSQL: %s", pgw_error(conn, msg,
                                                                                sizeof(msg)));
                PQfinish(conn);
                return NULL;
        }
        char timeout[32];
        snprintf(timeout, sizeof(timeout), "%u", s->timeout_s * 1000);
        const char *params[] = { timeout };
        PGresult *res = exec(conn, "setting statement_timeout",
                             "SELECT set_config('statement_timeout', $1, false)", 1, params,
                             err, size);
        if (!res) {
                PQfinish(conn);
                return NULL;
        }
        PQclear(res);
        return conn;
}

void pgw_layout_clear(struct pgw_layout *l)
{
        free(l->data_dir);
        free(l->wal_dir);
        for (size_t i = 0; i < l->n_tablespaces; i++)
                free(l->tablespaces[i]);
        for (size_t i = 0; i < l->n_config; i++)
                free(l->config[i]);
        *l = (struct pgw_layout){ 0 };
}

static bool inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * pg_wal with its symlink followed (initdb --waldir puts the WAL on another
 * volume). Reading the link needs access to the data directory (the writer
 * running as the server's OS user); without it the unresolved path is given:
 * vssd follows the link itself when it places the file on a volume.
 */
static char *wal_dir(const char *data_dir)
{
        char path[PATH_MAX], real[PATH_MAX];
        snprintf(path, sizeof(path), "%s/pg_wal", data_dir);
        if (realpath(path, real))
                return strdup(real);
        log_debug("cannot follow %s (%s); giving it as it is", path, strerror(errno));
        return strdup(path);
}

static int layout_settings(PGconn *conn, struct pgw_layout *l, char *err, size_t size)
{
        PGresult *res = exec(conn, "reading data_directory and the configuration files",
                             "SELECT current_setting('data_directory'), "
                             "current_setting('config_file'), current_setting('hba_file'), "
                             "current_setting('ident_file')", 0, NULL, err, size);
        if (!res)
                return -1;
        l->data_dir = strdup(PQgetvalue(res, 0, 0));
        for (int i = 1; i < 4 && l->data_dir; i++) {
                const char *file = PQgetvalue(res, 0, i);
                /* Those in the data directory come with it. */
                if (file[0] == '/' && !inside(file, l->data_dir))
                        l->config[l->n_config++] = strdup(file);
        }
        PQclear(res);
        l->wal_dir = l->data_dir ? wal_dir(l->data_dir) : NULL;
        for (size_t i = 0; i < l->n_config; i++)
                if (!l->config[i])
                        return fail(err, size, "out of memory");
        return l->wal_dir ? 0 : fail(err, size, "out of memory");
}

static int layout_tablespaces(PGconn *conn, struct pgw_layout *l, char *err, size_t size)
{
        /* In-place tablespaces (a relative location) live in the data directory. */
        PGresult *res = exec(conn, "listing the tablespaces",
                             "SELECT pg_tablespace_location(oid) FROM pg_tablespace "
                             "WHERE pg_tablespace_location(oid) LIKE '/%' ORDER BY spcname",
                             0, NULL, err, size);
        if (!res)
                return -1;
        int n = PQntuples(res);
        if (n > PGW_MAX_FILES) {
                PQclear(res);
                return fail(err, size, "the cluster has %d tablespaces; this writer handles at "
                            "most %d", n, PGW_MAX_FILES);
        }
        for (int i = 0; i < n; i++)
                if (!(l->tablespaces[l->n_tablespaces++] = strdup(PQgetvalue(res, i, 0)))) {
                        PQclear(res);
                        return fail(err, size, "out of memory");
                }
        PQclear(res);
        return 0;
}

int pgw_layout_read(PGconn *conn, struct pgw_layout *ret, char *err, size_t size)
{
        struct pgw_layout l = { 0 };
        if (layout_settings(conn, &l, err, size) < 0 ||
            layout_tablespaces(conn, &l, err, size) < 0) {
                pgw_layout_clear(&l);
                return -1;
        }
        *ret = l;
        return 0;
}

int pgw_checkpoint(PGconn *conn, char *err, size_t size)
{
        PGresult *res = exec(conn, "CHECKPOINT", "CHECKPOINT", 0, NULL, err, size);
        PQclear(res);
        return res ? 0 : -1;
}

int pgw_archiving(PGconn *conn, char *err, size_t size)
{
        /* archive_library is new in PostgreSQL 15: missing_ok makes it NULL before. */
        PGresult *res = exec(conn, "reading the archiving settings",
                             "SELECT current_setting('archive_mode') <> 'off' AND "
                             "(current_setting('archive_command') <> '' OR "
                             "coalesce(current_setting('archive_library', true), '') <> '')",
                             0, NULL, err, size);
        if (!res)
                return -1;
        int on = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        return on;
}

int pgw_backup_start(PGconn *conn, const char *label, char *err, size_t size)
{
        const char *params[] = { label };
        /* The non-exclusive backup of 9.6 to 14 had these names. */
        const char *sql = PQserverVersion(conn) >= 150000
                                  ? "SELECT pg_backup_start($1, fast => true)"
                                  : "SELECT pg_start_backup($1, true, false)";
        PGresult *res = exec(conn, "pg_backup_start", sql, 1, params, err, size);
        PQclear(res);
        return res ? 0 : -1;
}

int pgw_backup_stop(PGconn *conn, char **ret_label, char **ret_map, char *err, size_t size)
{
        const char *sql = PQserverVersion(conn) >= 150000
                                  ? "SELECT labelfile, spcmapfile FROM pg_backup_stop(true)"
                                  : "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, true)";
        PGresult *res = exec(conn, "pg_backup_stop", sql, 0, NULL, err, size);
        if (!res)
                return -1;
        char *label = strdup(PQgetvalue(res, 0, 0));
        char *map = strdup(PQgetvalue(res, 0, 1));
        PQclear(res);
        if (!label || !map) {
                free(label);
                free(map);
                return fail(err, size, "out of memory");
        }
        *ret_label = label;
        *ret_map = map;
        return 0;
}
