/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * layout.c: where a MariaDB server keeps what a copy of it needs, as the
 * server itself says (so a my.cnf we cannot read, or a path given on
 * mariadbd's command line, is still right): the data directory, InnoDB's
 * redo log, undo tablespace and system tablespace directories, Aria's log
 * directory, and the binary log's files and index. Relative settings are
 * relative to the data directory. tmpdir is left out on purpose: what is
 * there is gone after a restart anyway.
 *
 * Not covered: tables created with DATA DIRECTORY / INDEX DIRECTORY
 * elsewhere (vss-writer-mariadb(8) says so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writers/mariadb/mdbwriter.h"

enum { L_DATADIR, L_REDO, L_UNDO, L_DATA_HOME, L_ARIA, L_BINLOG, L_BINLOG_INDEX, N_LAYOUT };

static const char layout_sql[] =
        "SELECT @@datadir, @@innodb_log_group_home_dir, @@innodb_undo_directory, "
        "@@innodb_data_home_dir, @@aria_log_dir_path, "
        "IF(@@log_bin, @@log_bin_basename, NULL), IF(@@log_bin, @@log_bin_index, NULL)";

char **mdb_strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
        return NULL;
}

/*
 * PATH (relative to DATADIR unless absolute) as an absolute path without "."
 * components, repeated or trailing slashes; with DIRNAME, its directory.
 */
static char *normalize(const char *datadir, const char *path, bool dirname)
{
        size_t size = strlen(datadir) + strlen(path) + 2;
        char *joined = malloc(size), *out = malloc(size);
        if (!joined || !out) {
                free(joined);
                free(out);
                return NULL;
        }
        snprintf(joined, size, "%s/%s", path[0] == '/' ? "" : datadir, path);
        size_t n = 0;
        for (char *save = NULL, *c = strtok_r(joined, "/", &save); c;
             c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                n += (size_t)sprintf(out + n, "/%s", c);
        }
        free(joined);
        if (dirname && n > 0)
                *strrchr(out, '/') = '\0';
        if (out[0] == '\0')
                strcpy(out, "/");
        return out;
}

static bool strv_contains(char **v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static int build(Mdb *m, char **cols, char ***ret)
{
        char **v = calloc(N_LAYOUT + 1, sizeof(*v));
        size_t n = 0;

        if (!v)
                return mdb_fail(m, ENOMEM, "out of memory");
        for (int i = 0; i < N_LAYOUT; i++) {
                bool is_file = i == L_BINLOG || i == L_BINLOG_INDEX;
                if (is_file && !cols[i])
                        continue; /* binary logging is off */
                /* NULL or "": the default, which is the data directory itself. */
                const char *p = cols[i] && cols[i][0] ? cols[i] : cols[L_DATADIR];
                char *path = normalize(cols[L_DATADIR], p, is_file);
                if (!path) {
                        mdb_strv_free(v);
                        return mdb_fail(m, ENOMEM, "out of memory");
                }
                if (strv_contains(v, n, path))
                        free(path);
                else
                        v[n++] = path;
        }
        *ret = v;
        return 0;
}

int mdb_layout(Mdb *m, char ***ret)
{
        char *cols[N_LAYOUT] = { NULL };

        int r = mdb_connect(m);
        if (r < 0)
                return r;
        r = mdb_query_row(m, "reading the server's directories", layout_sql, cols, N_LAYOUT);
        if (r == -ENODATA)
                return mdb_fail(m, EIO, "the server did not say where its data directory is");
        if (r < 0)
                return r;
        if (!cols[L_DATADIR] || cols[L_DATADIR][0] != '/')
                r = mdb_fail(m, EIO, "the server's data directory '%s' is not an absolute path",
                             cols[L_DATADIR] ? cols[L_DATADIR] : "(null)");
        else
                r = build(m, cols, ret);
        for (int i = 0; i < N_LAYOUT; i++)
                free(cols[i]);
        return r;
}
