/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scripts.c: the hook directory, read afresh at each event so that a hook
 * added or removed takes effect at the next snapshot set without a restart.
 * The names skipped are the ones qemu-guest-agent's fsfreeze-hook skips in
 * fsfreeze-hook.d, plus dotfiles and every dpkg/ucf leftover, so that a
 * directory shared with qemu-ga runs the same hooks under both.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writers/common/log.h"
#include "writers/hooks/scripts.h"

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool script_name_ignored(const char *name)
{
        static const char *const suffixes[] = {
                "~", ".bak", ".orig", ".rpmnew", ".rpmorig", ".rpmsave", ".sample", ".swp",
        };
        if (name[0] == '.')
                return true;
        /* .dpkg-old, .dpkg-new, .dpkg-dist, .dpkg-tmp, .ucf-old, ... */
        if (strstr(name, ".dpkg-") || strstr(name, ".ucf-"))
                return true;
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
                if (has_suffix(name, suffixes[i]))
                        return true;
        return false;
}

void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is NAME in DIR (open as DIR_FD) an executable regular file? Says why not at debug level. */
static bool is_hook(int dir_fd, const char *dir, const char *name)
{
        struct stat st;

        if (script_name_ignored(name)) {
                log_debug("skipping %s/%s: a backup or package manager leftover, not a hook",
                          dir, name);
                return false;
        }
        if (fstatat(dir_fd, name, &st, 0) < 0) {
                log_debug("skipping %s/%s: %s", dir, name, strerror(errno));
                return false;
        }
        if (!S_ISREG(st.st_mode)) {
                log_debug("skipping %s/%s: not a regular file", dir, name);
                return false;
        }
        if (faccessat(dir_fd, name, X_OK, 0) < 0 || !(st.st_mode & 0111)) {
                log_debug("skipping %s/%s: not executable (chmod +x to make it a hook)", dir,
                          name);
                return false;
        }
        return true;
}

int scripts_list(const char *dir, char ***ret, size_t *ret_n)
{
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *e;
        int r = 0;

        if (!d)
                return -errno;
        while ((errno = 0, e = readdir(d))) {
                if (!is_hook(dirfd(d), dir, e->d_name))
                        continue;
                if (n + 2 > allocated) {
                        size_t more = allocated ? 2 * allocated : 16;
                        char **grown = realloc(names, more * sizeof(char *));
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        names = grown;
                        allocated = more;
                }
                if (!(names[n] = strdup(e->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                names[++n] = NULL;
        }
        if (r == 0 && errno)
                r = -errno;
        closedir(d);
        if (r == 0 && !names && !(names = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                strv_free(names);
                return r;
        }
        qsort(names, n, sizeof(char *), compare_names);
        *ret = names;
        *ret_n = n;
        return 0;
}
