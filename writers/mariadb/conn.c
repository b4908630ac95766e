/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conn.c: vss-writer-mariadb's one connection to the server, through
 * libmariadb. Its settings come from the option files the mysql client reads
 * (groups [client], [client-server], [client-mariadb] and our own
 * [vss-writer-mariadb]), or from --config instead of them, with --socket and
 * --user on top.
 *
 * The connection is the backup lock: BACKUP STAGE belongs to this session,
 * and when the session ends (we close it, or the process dies and the
 * kernel closes the socket) the server ends the stages. So it is never
 * reconnected behind a stage's back: automatic reconnection stays off, and
 * a lost connection is reported, not mended, while a stage is open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>

#include "writers/mariadb/mdbwriter.h"

#define OPTION_GROUP "vss-writer-mariadb"
#define CONNECT_TIMEOUT_S 10u
/* Beyond the lock wait timeout, a statement's answer is this late only when the server hangs. */
#define READ_SLACK_S 30u

static char *strdup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

int mdb_new(Mdb **ret, const struct mdb_settings *s)
{
        if (s->config && access(s->config, R_OK) < 0) {
                int r = -errno;
                /* libmariadb would skip an unreadable file without a word. */
                fprintf(stderr, "vss-writer-mariadb: cannot read the option file %s: %s\n",
                        s->config, strerror(errno));
                return r;
        }
        Mdb *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = strdup_or_null(s->config);
        m->socket = strdup_or_null(s->socket);
        m->user = strdup_or_null(s->user);
        m->lock_wait_timeout_s = s->lock_wait_timeout_s;
        if ((s->config && !m->config) || (s->socket && !m->socket) || (s->user && !m->user)) {
                mdb_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

Mdb *mdb_free(Mdb *m)
{
        if (!m)
                return NULL;
        mdb_disconnect(m);
        free(m->config);
        free(m->socket);
        free(m->user);
        free(m);
        return NULL;
}

int mdb_fail(Mdb *m, int err, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(m->error, sizeof(m->error), format, ap);
        va_end(ap);
        return -err;
}

const char *mdb_error(const Mdb *m)
{
        return m->error;
}

unsigned mdb_errno(const Mdb *m)
{
        return m->err_no;
}

bool mdb_connected(const Mdb *m)
{
        return m->mysql != NULL;
}

void mdb_disconnect(Mdb *m)
{
        if (m->mysql)
                mysql_close(m->mysql);
        m->mysql = NULL;
        free(m->server_version);
        m->server_version = NULL;
        m->stage = MDB_STAGE_NONE; /* the server ends the session's stages with it */
}

/* Where we tried to connect, for the error sentence. */
static const char *describe_target(const Mdb *m, char *buf, size_t size)
{
        snprintf(buf, size, "%s%s%s%s", m->socket ? "socket " : "the server of ",
                 m->socket ? m->socket : m->config ? m->config : "the option files",
                 m->user ? " as " : "", m->user ? m->user : "");
        return buf;
}

static int open_connection(Mdb *m)
{
        char target[512];
        unsigned connect_s = CONNECT_TIMEOUT_S, read_s = m->lock_wait_timeout_s + READ_SLACK_S;
        my_bool no = 0;

        MYSQL *mysql = mysql_init(NULL);
        if (!mysql)
                return mdb_fail(m, ENOMEM, "cannot set up a MariaDB connection: out of memory");
        if (m->config)
                mysql_optionsv(mysql, MYSQL_READ_DEFAULT_FILE, m->config);
        mysql_optionsv(mysql, MYSQL_READ_DEFAULT_GROUP, OPTION_GROUP);
        mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
        mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &read_s);
        mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_s);
        mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &no);
        if (!mysql_real_connect(mysql, NULL, m->user, NULL, NULL, 0, m->socket, 0)) {
                m->err_no = mysql_errno(mysql);
                mdb_fail(m, ECONNREFUSED, "cannot connect to MariaDB (%s): %s",
                         describe_target(m, target, sizeof(target)), mysql_error(mysql));
                mysql_close(mysql);
                return -ECONNREFUSED;
        }
        m->mysql = mysql;
        m->server_version = strdup(mysql_get_server_info(mysql));
        if (!m->server_version) {
                mdb_disconnect(m);
                return mdb_fail(m, ENOMEM, "out of memory");
        }
        char sql[64];
        snprintf(sql, sizeof(sql), "SET SESSION lock_wait_timeout = %u", m->lock_wait_timeout_s);
        return mdb_exec(m, "setting the session's lock_wait_timeout", sql);
}

int mdb_connect(Mdb *m)
{
        m->err_no = 0;
        m->error[0] = '\0';
        if (m->mysql && mysql_ping(m->mysql) == 0)
                return 0;
        if (m->mysql) {
                char lost[512];
                snprintf(lost, sizeof(lost), "%s", mysql_error(m->mysql));
                enum mdb_stage held = m->stage;
                mdb_disconnect(m);
                if (held != MDB_STAGE_NONE)
                        return mdb_fail(m, ECONNRESET, "the connection to MariaDB was lost "
                                        "while it held BACKUP STAGE %s (%s): the server ended "
                                        "the stages", mdb_stage_name(held), lost);
                log_info("the connection to MariaDB was lost (%s); connecting again", lost);
        }
        return open_connection(m);
}

/* Record the server's error for WHAT; a lost connection is closed (and its stages with it). */
static int query_failed(Mdb *m, const char *what)
{
        unsigned e = mysql_errno(m->mysql);
        enum mdb_stage held = m->stage;

        m->err_no = e;
        mdb_fail(m, EIO, "%s failed: %s (MariaDB error %u)", what, mysql_error(m->mysql), e);
        if (e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST) {
                mdb_disconnect(m);
                if (held != MDB_STAGE_NONE) {
                        size_t n = strlen(m->error);
                        snprintf(m->error + n, sizeof(m->error) - n, "; the connection is "
                                 "gone, and BACKUP STAGE %s with it", mdb_stage_name(held));
                }
                return -ECONNRESET;
        }
        return -EIO;
}

int mdb_exec(Mdb *m, const char *what, const char *sql)
{
        if (!m->mysql)
                return mdb_fail(m, ENOTCONN, "%s: not connected to MariaDB", what);
        log_debug("SQL: %s", sql);
        if (mysql_real_query(m->mysql, sql, strlen(sql)) != 0)
                return query_failed(m, what);
        MYSQL_RES *res = mysql_store_result(m->mysql);
        if (res)
                mysql_free_result(res);
        else if (mysql_errno(m->mysql) != 0)
                return query_failed(m, what);
        return 0;
}

int mdb_query_row(Mdb *m, const char *what, const char *sql, char **cols, size_t n_cols)
{
        if (!m->mysql)
                return mdb_fail(m, ENOTCONN, "%s: not connected to MariaDB", what);
        log_debug("SQL: %s", sql);
        if (mysql_real_query(m->mysql, sql, strlen(sql)) != 0)
                return query_failed(m, what);
        MYSQL_RES *res = mysql_store_result(m->mysql);
        if (!res)
                return mysql_errno(m->mysql) ? query_failed(m, what)
                                             : mdb_fail(m, EIO, "%s returned no result", what);
        int r = 0;
        MYSQL_ROW row = mysql_fetch_row(res);
        if (!row)
                r = -ENODATA;
        else if (mysql_num_fields(res) < n_cols)
                r = mdb_fail(m, EIO, "%s returned %u columns, not %zu", what,
                             mysql_num_fields(res), n_cols);
        for (size_t i = 0; r == 0 && i < n_cols; i++) {
                cols[i] = row[i] ? strdup(row[i]) : NULL;
                if (row[i] && !cols[i]) {
                        while (i > 0)
                                free(cols[--i]);
                        r = mdb_fail(m, ENOMEM, "%s: out of memory", what);
                }
        }
        mysql_free_result(res);
        return r;
}
