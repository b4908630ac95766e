/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mdbwriter.h: the parts of vss-writer-mariadb (vss-writer-mariadb(8)) and
 * what they share:
 *
 *   conn.c      the one connection to the server (libmariadb), its settings
 *               and queries with error sentences
 *   stages.c    BACKUP STAGE START .. BLOCK_COMMIT and END, and the binary
 *               log position read while commits are blocked
 *   layout.c    the server's directories (Identify's component)
 *   position.c  the position file in the state directory, written after thaw
 *   main.c      options, the writer's events, the event loop
 *
 * Functions return 0 or -errno; on failure those that talk to the server
 * leave a sentence (what failed, the server's words) in mdb_error().
 */
#ifndef VSS_WRITER_MARIADB_H
#define VSS_WRITER_MARIADB_H

#include <stdbool.h>
#include <stddef.h>

#include "writers/common/log.h" /* "<N>message" lines on stderr, for journald */

/* --- conn.c ---------------------------------------------------------------------- */

/* How to reach the server; NULL strings: what the option files say. */
struct mdb_settings {
        const char *config;            /* an option file read instead of the defaults */
        const char *socket;            /* overrides the option files */
        const char *user;              /* overrides the option files */
        unsigned lock_wait_timeout_s;  /* the longest a stage waits before it vetoes */
};

enum mdb_stage {
        MDB_STAGE_NONE,
        MDB_STAGE_START,
        MDB_STAGE_FLUSH,
        MDB_STAGE_BLOCK_DDL,
        MDB_STAGE_BLOCK_COMMIT,
};

/* The connection; conn.c's, but for STAGE, which stages.c keeps. */
typedef struct Mdb {
        char *config, *socket, *user;
        unsigned lock_wait_timeout_s;
        struct st_mysql *mysql;   /* NULL when not connected */
        char *server_version;
        enum mdb_stage stage;     /* the one the session holds */
        unsigned err_no;
        char error[1024];
} Mdb;

/* Settings are copied; nothing is connected yet. -EINVAL for an unreadable config. */
int mdb_new(Mdb **ret, const struct mdb_settings *settings);
Mdb *mdb_free(Mdb *m);

/*
 * Make sure the connection is up: a ping on the open one, a new connection
 * if it dropped (never while a stage is open: that lock died with the old
 * session, and pretending otherwise would lie about the snapshot).
 */
int mdb_connect(Mdb *m);
/* Close the connection: the server ends the session and with it any stage. */
void mdb_disconnect(Mdb *m);
bool mdb_connected(const Mdb *m);

/* The sentence of the last failure. */
const char *mdb_error(const Mdb *m);
/* The server error number of the last failure (0 for none or a local one). */
unsigned mdb_errno(const Mdb *m);

/* Run SQL, which returns no rows. WHAT names it in the error ("BACKUP STAGE FLUSH"). */
int mdb_exec(Mdb *m, const char *what, const char *sql);
/*
 * The first row of SQL's result, N_COLS columns, as malloc()ed strings (NULL
 * for SQL NULL) into COLS; -ENODATA (and no error) when there is no row.
 */
int mdb_query_row(Mdb *m, const char *what, const char *sql, char **cols, size_t n_cols);
/* Set the sentence of a failure (printf format) and return -ERR. */
int mdb_fail(Mdb *m, int err, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* --- stages.c ---------------------------------------------------------------------- */

/* Where the binary log was while commits were blocked. */
struct mdb_position {
        bool binlog;          /* binary logging on */
        char *file;           /* SHOW MASTER STATUS File (NULL when off) */
        char *offset;         /* ... Position */
        char *gtid;           /* @@gtid_binlog_pos ("" when none yet) */
        char *server_version;
};
void mdb_position_clear(struct mdb_position *p);

/* The stage the session holds, as BACKUP STAGE names it ("none" before START, after END). */
const char *mdb_stage_name(enum mdb_stage stage);

/*
 * BACKUP STAGE START, FLUSH and BLOCK_DDL, each bounded by the lock wait
 * timeout. On failure the stages are ended again (BACKUP STAGE END, or the
 * connection closed if END fails too) and mdb_error() names the stage.
 */
int mdb_stages_prepare(Mdb *m);
/* BACKUP STAGE BLOCK_COMMIT, then the position into RET (ends the stages on failure). */
int mdb_stages_block_commit(Mdb *m, struct mdb_position *ret);
/* BACKUP STAGE END when a stage is open; 0 when none is. */
int mdb_stages_end(Mdb *m);

/* --- layout.c ---------------------------------------------------------------------- */

/*
 * The directories the server's data lives in: the data directory, InnoDB's
 * redo log, undo and system tablespace directories, Aria's log directory and
 * the binary log's; each once, absolute, without a trailing slash.
 * NULL-terminated, malloc()ed (free with mdb_strv_free).
 */
int mdb_layout(Mdb *m, char ***ret);
char **mdb_strv_free(char **v);

/* --- position.c -------------------------------------------------------------------- */

/* Write STATE_DIR/SET_ID.position (atomically) from P; the path into RET_PATH. */
int position_write(const char *state_dir, const char *set_id, const struct mdb_position *p,
                   char *ret_path, size_t size);
/* Remove STATE_DIR/SET_ID.position if there is one (an aborted set); 1 when removed. */
int position_remove(const char *state_dir, const char *set_id);

#endif
