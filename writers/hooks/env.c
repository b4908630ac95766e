/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * env.c: the environment of a hook, and the mount points it names, read
 * from /proc/self/mountinfo once per event.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "writers/hooks/env.h"
#include "writers/common/log.h"
#include "writers/hooks/scripts.h"

extern char **environ;

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo; undo it in place. */
static void unescape(char *s)
{
        char *o = s;
        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
}

struct volume_key {
        const char *path;
        char real[PATH_MAX]; /* its canonical path, or "" */
        dev_t rdev;          /* a block device's number, or 0 */
};

/* Does the mount (device MAJ:MIN, source SOURCE) hold the volume K? */
static bool mount_matches(const struct volume_key *k, unsigned maj, unsigned min,
                          const char *source)
{
        char real[PATH_MAX];

        if (k->rdev && makedev(maj, min) == k->rdev)
                return true;
        if (strcmp(source, k->path) == 0)
                return true;
        return k->real[0] && realpath(source, real) && strcmp(real, k->real) == 0;
}

static void key_init(struct volume_key *k, const char *volume)
{
        struct stat st;

        k->path = volume;
        k->rdev = stat(volume, &st) == 0 && S_ISBLK(st.st_mode) ? st.st_rdev : 0;
        if (!realpath(volume, k->real))
                k->real[0] = '\0';
}

/*
 * One mountinfo line: "36 35 98:0 /root /mnt opts... - ext3 /dev/root rw";
 * the mount's device, root, mount point and source into the out parameters.
 */
static bool parse_line(char *line, unsigned *maj, unsigned *min, char **root, char **point,
                       char **source)
{
        char *sep = strstr(line, " - ");
        char *save = NULL;

        if (!sep)
                return false;
        *sep = '\0';
        if (!strtok_r(line, " ", &save) || !strtok_r(NULL, " ", &save))
                return false;
        char *dev = strtok_r(NULL, " ", &save);
        *root = strtok_r(NULL, " ", &save);
        *point = strtok_r(NULL, " ", &save);
        save = NULL;
        if (!dev || !*root || !*point || sscanf(dev, "%u:%u", maj, min) != 2)
                return false;
        if (!strtok_r(sep + 3, " \n", &save) || !(*source = strtok_r(NULL, " \n", &save)))
                return false;
        unescape(*root);
        unescape(*point);
        unescape(*source);
        return true;
}

/* Fill empty MOUNTS[i] from mountinfo; WHOLE: only mounts of a file system's root. */
static int scan_mountinfo(struct volume_key *keys, char **mounts, size_t n, bool whole)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char *line = NULL;
        size_t size = 0;
        int r = 0;

        if (!f)
                return -errno;
        while (r == 0 && getline(&line, &size, f) > 0) {
                unsigned maj, min;
                char *root, *point, *source;
                if (!parse_line(line, &maj, &min, &root, &point, &source))
                        continue;
                if (whole && strcmp(root, "/") != 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        if (mounts[i][0] || !mount_matches(&keys[i], maj, min, source))
                                continue;
                        char *copy = strdup(point);
                        if (!copy) {
                                r = -ENOMEM;
                                break;
                        }
                        free(mounts[i]);
                        mounts[i] = copy;
                }
        }
        free(line);
        fclose(f);
        return r;
}

char **mounts_of_volumes(const char *const *volumes, size_t n)
{
        char **mounts = calloc(n + 1, sizeof(char *));
        struct volume_key *keys = calloc(n ? n : 1, sizeof(*keys));
        int r = mounts && keys ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < n; i++) {
                key_init(&keys[i], volumes[i]);
                if (!(mounts[i] = strdup("")))
                        r = -ENOMEM;
        }
        if (r == 0 && n > 0)
                r = scan_mountinfo(keys, mounts, n, true);
        if (r == 0 && n > 0)
                r = scan_mountinfo(keys, mounts, n, false);
        free(keys);
        if (r == -ENOMEM) {
                strv_free(mounts);
                return NULL;
        }
        if (r < 0)
                log_warning("cannot read /proc/self/mountinfo (%s): hooks get VSS_MOUNT_* "
                            "empty", strerror(-r));
        return mounts;
}

/* Append "NAME=VALUE" to ENV (room is there); false: no memory. */
static bool env_add(char **env, size_t *n, const char *name, const char *value)
{
        if (asprintf(&env[*n], "%s=%s", name, value) < 0) {
                env[*n] = NULL;
                return false;
        }
        env[++*n] = NULL;
        return true;
}

static bool env_keep(const char *entry)
{
        return strncmp(entry, "VSS_", 4) != 0 || strncmp(entry, "VSS_BUS_ADDRESS=", 16) == 0;
}

/* "a b c": the volumes, space-separated; malloc()ed. */
static char *join(const char *const *v, size_t n)
{
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 1;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s%s", i ? " " : "", v[i]);
        return s;
}

char **env_build(const struct hook_env *e)
{
        size_t n_environ = 0, n = 0;
        while (environ && environ[n_environ])
                n_environ++;
        char **env = calloc(n_environ + 6 + 2 * e->n_volumes + 1, sizeof(char *));
        char *volumes = join(e->volumes, e->n_volumes);
        char count[32], name[64];
        bool ok = env && volumes;

        for (size_t i = 0; ok && i < n_environ; i++)
                if (env_keep(environ[i]) && !(env[n++] = strdup(environ[i])))
                        ok = false;
        snprintf(count, sizeof(count), "%zu", e->n_volumes);
        ok = ok && env_add(env, &n, "VSS_EVENT", e->event) &&
             env_add(env, &n, "VSS_SNAPSHOT_SET_ID", e->set_id) &&
             env_add(env, &n, "VSS_VOLUMES", volumes) &&
             env_add(env, &n, "VSS_VOLUME_COUNT", count);
        for (size_t i = 0; ok && i < e->n_volumes; i++) {
                snprintf(name, sizeof(name), "VSS_VOLUME_%zu", i);
                ok = env_add(env, &n, name, e->volumes[i]);
                snprintf(name, sizeof(name), "VSS_MOUNT_%zu", i);
                ok = ok && env_add(env, &n, name, e->mounts ? e->mounts[i] : "");
        }
        if (ok && e->backup_succeeded >= 0)
                ok = env_add(env, &n, "VSS_BACKUP_SUCCEEDED", e->backup_succeeded ? "1" : "0");
        free(volumes);
        if (!ok) {
                strv_free(env);
                return NULL;
        }
        return env;
}
