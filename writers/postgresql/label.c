/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * label.c: the backup labels pg_backup_stop returns, kept beside the
 * snapshots (never in them: a backup_label inside the snapshot would make a
 * server started on it wait for archived WAL it may not have). Each file is
 * written to a temporary name, synced and renamed, so a reader finds it
 * whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writers/postgresql/pgwriter.h"

/* mkdir -p DIR, the last level mode 0750. */
static int make_dir(const char *dir)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(path, 0750) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int write_all(int fd, const char *text)
{
        size_t len = strlen(text);
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                text += n;
                len -= (size_t)n;
        }
        return 0;
}

/* DIR/NAME holds TEXT, whole. */
static int save(const char *dir, const char *name, const char *text)
{
        char path[PATH_MAX], tmp[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
            snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

int pgw_label_save(const char *dir, const char *set_id, const char *label, const char *map,
                   char *err, size_t size)
{
        char name[128];
        int r = make_dir(dir);
        if (r < 0) {
                snprintf(err, size, "cannot make the state directory %s: %s; make it writable "
                         "for this writer's user, or give another with --state-dir", dir,
                         strerror(-r));
                return r;
        }
        snprintf(name, sizeof(name), "%s.backup_label", set_id);
        r = save(dir, name, label);
        if (r >= 0 && map[0]) {
                snprintf(name, sizeof(name), "%s.tablespace_map", set_id);
                r = save(dir, name, map);
        }
        if (r < 0) {
                snprintf(err, size, "cannot write %s/%s: %s", dir, name, strerror(-r));
                return r;
        }
        /* The renames themselves last only once the directory is synced. */
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                fsync(fd);
                close(fd);
        }
        return 0;
}
