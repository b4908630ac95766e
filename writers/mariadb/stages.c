/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stages.c: MariaDB's BACKUP STAGE sequence (10.4.1 and later), the server's
 * own protocol for taking a copy of a running server:
 *
 *   START         blocks purges of redo logs the copy needs
 *   FLUSH         flushes and closes the non-transactional tables not in use
 *   BLOCK_DDL     waits for running DDL to end and blocks new DDL (and writes
 *                 to non-transactional tables that are in use)
 *   BLOCK_COMMIT  blocks commits and the binary log, and flushes and marks
 *                 closed every non-transactional table: from here the files
 *                 on disk are a consistent server, MyISAM and Aria included
 *   END           lets everything go on
 *
 * Every stage waits for locks at most the session's lock_wait_timeout, so a
 * stage that a long statement or a LOCK TABLES holds up fails in seconds
 * with "Lock wait timeout exceeded" rather than making every client wait
 * behind it. Each failure ends the stages before it is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "writers/mariadb/mdbwriter.h"

static const char *const stage_names[] = {
        [MDB_STAGE_NONE] = "none",
        [MDB_STAGE_START] = "START",
        [MDB_STAGE_FLUSH] = "FLUSH",
        [MDB_STAGE_BLOCK_DDL] = "BLOCK_DDL",
        [MDB_STAGE_BLOCK_COMMIT] = "BLOCK_COMMIT",
};

const char *mdb_stage_name(enum mdb_stage stage)
{
        return stage <= MDB_STAGE_BLOCK_COMMIT ? stage_names[stage] : "unknown";
}

/*
 * After a failure: END, so that nothing stays blocked; if even END fails, the
 * connection is closed, which ends the stages on the server's side. The
 * failure's sentence is kept.
 */
static void end_after_failure(Mdb *m)
{
        char saved[sizeof(m->error)];
        unsigned saved_errno = m->err_no;

        if (m->stage == MDB_STAGE_NONE)
                return;
        memcpy(saved, m->error, sizeof(saved));
        if (mdb_stages_end(m) < 0) {
                log_warning("%s; closing the connection instead, which ends the stages",
                            mdb_error(m));
                mdb_disconnect(m);
        }
        memcpy(m->error, saved, sizeof(saved));
        m->err_no = saved_errno;
}

/* BACKUP STAGE NEXT, the stage after the one held. */
static int stage_enter(Mdb *m, enum mdb_stage next)
{
        char sql[64], what[128];

        snprintf(sql, sizeof(sql), "BACKUP STAGE %s", mdb_stage_name(next));
        snprintf(what, sizeof(what), "BACKUP STAGE %s (lock_wait_timeout %u s)",
                 mdb_stage_name(next), m->lock_wait_timeout_s);
        int r = mdb_exec(m, what, sql);
        if (r < 0 && mdb_errno(m) == ER_LOCK_WAIT_TIMEOUT) {
                size_t n = strlen(m->error);
                snprintf(m->error + n, sizeof(m->error) - n, "; a running statement, "
                         "transaction or LOCK TABLES holds a lock this stage waits for: "
                         "try again later, or raise --lock-wait-timeout");
        }
        if (r < 0) {
                end_after_failure(m);
                return r;
        }
        m->stage = next;
        log_debug("holding BACKUP STAGE %s", mdb_stage_name(next));
        return 0;
}

int mdb_stages_prepare(Mdb *m)
{
        if (m->stage != MDB_STAGE_NONE)
                return mdb_fail(m, EBUSY, "BACKUP STAGE %s is still held from an earlier "
                                "event; it must end first", mdb_stage_name(m->stage));
        int r = mdb_connect(m);
        if (r < 0)
                return r;
        for (enum mdb_stage s = MDB_STAGE_START; s <= MDB_STAGE_BLOCK_DDL; s++)
                if ((r = stage_enter(m, s)) < 0)
                        return r;
        return 0;
}

void mdb_position_clear(struct mdb_position *p)
{
        free(p->file);
        free(p->offset);
        free(p->gtid);
        free(p->server_version);
        *p = (struct mdb_position){ 0 };
}

/* The binary log's position, read while BLOCK_COMMIT holds it still. */
static int read_position(Mdb *m, struct mdb_position *p)
{
        char *v[2] = { NULL, NULL };

        int r = mdb_query_row(m, "reading the binary log settings",
                              "SELECT @@log_bin, @@gtid_binlog_pos", v, 2);
        if (r < 0)
                return r == -ENODATA ? mdb_fail(m, EIO, "SELECT @@log_bin returned no row") : r;
        p->binlog = v[0] && strcmp(v[0], "1") == 0;
        free(v[0]);
        p->gtid = v[1] ? v[1] : strdup("");
        p->server_version = strdup(m->server_version ? m->server_version : "");
        if (!p->gtid || !p->server_version)
                return mdb_fail(m, ENOMEM, "out of memory");
        if (!p->binlog)
                return 0;
        /* SHOW MASTER STATUS needs BINLOG MONITOR (REPLICATION CLIENT before 10.5). */
        r = mdb_query_row(m, "SHOW MASTER STATUS", "SHOW MASTER STATUS", v, 2);
        if (r == -ENODATA)
                return mdb_fail(m, EIO, "SHOW MASTER STATUS returned no row although "
                                "log_bin is on");
        if (r < 0)
                return r;
        p->file = v[0];
        p->offset = v[1];
        return 0;
}

int mdb_stages_block_commit(Mdb *m, struct mdb_position *ret)
{
        struct mdb_position p = { 0 };

        if (m->stage != MDB_STAGE_BLOCK_DDL)
                return mdb_fail(m, EPROTO, "cannot block commits: BACKUP STAGE BLOCK_DDL is "
                                "not held (PrepareSnapshot did not succeed, or the connection "
                                "was lost since)");
        int r = stage_enter(m, MDB_STAGE_BLOCK_COMMIT);
        if (r < 0)
                return r;
        if ((r = read_position(m, &p)) < 0) {
                mdb_position_clear(&p);
                end_after_failure(m);
                return r;
        }
        *ret = p;
        return 0;
}

int mdb_stages_end(Mdb *m)
{
        if (m->stage == MDB_STAGE_NONE)
                return 0;
        enum mdb_stage held = m->stage;
        /* No ping first: a reconnect here would only hide that the stages were lost. */
        int r = mdb_exec(m, "BACKUP STAGE END", "BACKUP STAGE END");
        if (r < 0)
                return r;
        m->stage = MDB_STAGE_NONE;
        log_debug("BACKUP STAGE END (was %s)", mdb_stage_name(held));
        return 0;
}
