/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pgwriter.h: what the files of vss-writer-postgresql share: its settings,
 * the server's layout as Identify reports it, the backup held from
 * PrepareSnapshot to PostSnapshot, and logging.
 *
 *   main.c    options, the event callback and the loop
 *   config.c  the --config file
 *   pg.c      every libpq call: connect, layout, CHECKPOINT, pg_backup_start/stop
 *   label.c   the backup labels kept under the state directory
 */
#ifndef VSS_WRITERS_POSTGRESQL_PGWRITER_H
#define VSS_WRITERS_POSTGRESQL_PGWRITER_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "writers/common/log.h"

#define PGW_NAME "vss-writer-postgresql"
#define PGW_DEFAULT_STATE_DIR "/var/lib/vss/writers/postgresql"
#define PGW_DEFAULT_TIMEOUT_S 45 /* under vssd's EventTimeoutMs (60 s) */
#define PGW_MAX_FILES 64

struct pgw_settings {
        char *conninfo;      /* libpq connection string or database name; NULL: defaults */
        char *state_dir;
        char *instance_id;   /* NULL: "postgresql:<data directory>" */
        unsigned timeout_s;  /* statement_timeout of every statement */
};

/* Where the cluster keeps what a snapshot must hold (absolute paths). */
struct pgw_layout {
        char *data_dir;
        char *wal_dir;                    /* pg_wal, its symlink followed */
        char *tablespaces[PGW_MAX_FILES]; /* pg_tablespace_location() of each */
        size_t n_tablespaces;
        char *config[3];                  /* config_file, hba_file, ident_file outside data_dir */
        size_t n_config;
};

/* The connection of a set from PrepareSnapshot on; with a backup started, held to PostSnapshot. */
struct pgw_backup {
        PGconn *conn;
        char set_id[64];
        bool started;        /* pg_backup_start ran on conn */
};

/* Logging: writers/common/log.h ("<N>message" lines on stderr, for journald). */

/* --- config.c --- */
/*
 * Read PATH ("key = value" lines, # comments) into S, keys conninfo,
 * state_dir, instance_id, timeout; options given on the command line win
 * (fields already set are kept). 0, or -errno with a sentence in ERR.
 */
int pgw_config_read(struct pgw_settings *s, const char *path, char *err, size_t size);

/* --- pg.c --- */
/*
 * Connect as S says (application_name vss-writer-postgresql, the statement
 * timeout set). NULL with the server's message in ERR.
 */
PGconn *pgw_connect(const struct pgw_settings *s, char *err, size_t size);
/* The layout of the cluster CONN serves; 0 or -1 with the reason in ERR. */
int pgw_layout_read(PGconn *conn, struct pgw_layout *ret, char *err, size_t size);
void pgw_layout_clear(struct pgw_layout *l);
/* CHECKPOINT; 0 or -1 with the server's message in ERR. */
int pgw_checkpoint(PGconn *conn, char *err, size_t size);
/* Is WAL archiving on (archive_mode, and a command or library to archive with)? 1, 0, -1. */
int pgw_archiving(PGconn *conn, char *err, size_t size);
/* pg_backup_start(LABEL, fast => true); 0 or -1 with the server's message in ERR. */
int pgw_backup_start(PGconn *conn, const char *label, char *err, size_t size);
/*
 * pg_backup_stop(wait_for_archive => true): the backup label and the
 * tablespace map (may be "") it returns, malloc()ed; 0 or -1.
 */
int pgw_backup_stop(PGconn *conn, char **ret_label, char **ret_map, char *err, size_t size);
/* The one-line error message of CONN (libpq's ends in a newline). */
const char *pgw_error(PGconn *conn, char *buf, size_t size);

/* --- label.c --- */
/*
 * Keep LABEL (and MAP, when not empty) as DIR/SET_ID.backup_label and
 * DIR/SET_ID.tablespace_map, each written whole or not at all. 0 or -errno
 * with a sentence in ERR.
 */
int pgw_label_save(const char *dir, const char *set_id, const char *label, const char *map,
                   char *err, size_t size);

#endif
