/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * position.c: the writer's backup metadata, one small file per snapshot set,
 * STATE_DIR/<set id>.position: where the binary log was while commits were
 * blocked, i.e. the point in the binary log the snapshots hold (what a new
 * replica made from them starts from, or where a point-in-time recovery
 * replays from). It is written after Thaw, never into the snapshot: the
 * snapshot is taken while commits are blocked, and a file written then would
 * be on a frozen volume, or missing from a snapshot it describes.
 *
 * Lines of KEY=VALUE, replaced atomically (a reader sees the old file or the
 * new one, never half of one):
 *   set=<uuid>  time=<UTC, ISO 8601>  server_version=...
 *   log_bin=ON|OFF  binlog_file=...  binlog_position=...  gtid_binlog_pos=...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "writers/mariadb/mdbwriter.h"

static int position_path(const char *state_dir, const char *set_id, const char *suffix,
                         char *buf, size_t size)
{
        /* The set id comes from vssd, but a path is a path: no slashes, no dot files. */
        if (!set_id[0] || strchr(set_id, '/') || set_id[0] == '.')
                return -EINVAL;
        int n = snprintf(buf, size, "%s/%s.position%s", state_dir, set_id, suffix);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const char *s, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, s, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                s += n;
                len -= (size_t)n;
        }
        return 0;
}

static int format_position(const char *set_id, const struct mdb_position *p, char *buf,
                           size_t size)
{
        char when[32];
        time_t now = time(NULL);
        struct tm tm;

        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        int n = snprintf(buf, size,
                         "# vss-writer-mariadb: the binary log position of snapshot set %s\n"
                         "set=%s\ntime=%s\nserver_version=%s\nlog_bin=%s\n"
                         "binlog_file=%s\nbinlog_position=%s\ngtid_binlog_pos=%s\n",
                         set_id, set_id, when, p->server_version ? p->server_version : "",
                         p->binlog ? "ON" : "OFF", p->file ? p->file : "",
                         p->offset ? p->offset : "", p->gtid ? p->gtid : "");
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

int position_write(const char *state_dir, const char *set_id, const struct mdb_position *p,
                   char *ret_path, size_t size)
{
        char path[4096], tmp[4096], text[2048];

        int r = position_path(state_dir, set_id, "", path, sizeof(path));
        if (r < 0 || (r = position_path(state_dir, set_id, ".tmp", tmp, sizeof(tmp))) < 0)
                return r;
        int len = format_position(set_id, p, text, sizeof(text));
        if (len < 0)
                return len;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        r = write_all(fd, text, (size_t)len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        /* The rename itself survives a crash once the directory is synced too. */
        int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        snprintf(ret_path, size, "%s", path);
        return 0;
}

int position_remove(const char *state_dir, const char *set_id)
{
        char path[4096];

        int r = position_path(state_dir, set_id, "", path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}
