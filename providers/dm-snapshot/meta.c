/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/dm-snapshot/meta.h"
#include "providers/common/util.h"

#define META_SUFFIX ".meta"

int meta_file(const char *diff_area, const char *snapshot_id, const char *suffix, char *buf,
              size_t size)
{
        return provider_printf(buf, size, "%s/%s%s%s", diff_area, DMSNAP_UUID_PREFIX,
                               snapshot_id, suffix);
}

int meta_write(const char *diff_area, const SnapMeta *m, struct vss_error_buf *err)
{
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        int r = meta_file(diff_area, m->snapshot_id, META_SUFFIX, path, sizeof(path));

        if (r < 0)
                return provider_error(err, r, "the diff-area path %s is too long", diff_area);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "we");
        if (!f)
                return provider_error(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
        fprintf(f, "snapshot=%s\nset=%s\norigin=%s\nattributes=%" PRIu32 "\n"
                "created=%" PRIu64 "\nmerge=%d\n", m->snapshot_id, m->set_id, m->origin,
                m->attributes, m->created_usec, (int)m->merge);
        /* Atomic replace: the old file or the new one, never half of either. */
        if (fflush(f) != 0 || fsync(fileno(f)) < 0 || ferror(f)) {
                r = -errno;
                fclose(f);
                unlink(tmp);
                return provider_error(err, r, "cannot write %s: %s", tmp, strerror(-r));
        }
        fclose(f);
        if (rename(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                return provider_error(err, r, "cannot rename %s to %s: %s", tmp, path,
                                      strerror(-r));
        }
        return 0;
}

static void meta_set(SnapMeta *m, const char *key, const char *value)
{
        if (strcmp(key, "snapshot") == 0)
                snprintf(m->snapshot_id, sizeof(m->snapshot_id), "%s", value);
        else if (strcmp(key, "set") == 0)
                snprintf(m->set_id, sizeof(m->set_id), "%s", value);
        else if (strcmp(key, "origin") == 0)
                snprintf(m->origin, sizeof(m->origin), "%s", value);
        else if (strcmp(key, "attributes") == 0)
                m->attributes = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(key, "created") == 0)
                m->created_usec = strtoull(value, NULL, 10);
        else if (strcmp(key, "merge") == 0)
                m->merge = (enum meta_merge)atoi(value);
}

int meta_read(const char *diff_area, const char *snapshot_id, SnapMeta *m)
{
        char path[PATH_MAX], line[512];
        FILE *f;

        if (meta_file(diff_area, snapshot_id, META_SUFFIX, path, sizeof(path)) < 0)
                return -ENAMETOOLONG;
        if (!(f = fopen(path, "re")))
                return -errno;
        memset(m, 0, sizeof(*m));
        snprintf(m->diff_area, sizeof(m->diff_area), "%s", diff_area);
        while (fgets(line, sizeof(line), f)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                eq[strcspn(eq + 1, "\n") + 1] = '\0';
                meta_set(m, line, eq + 1);
        }
        fclose(f);
        return strcmp(m->snapshot_id, snapshot_id) == 0 ? 0 : -EINVAL;
}

void meta_remove(const char *diff_area, const char *snapshot_id)
{
        char path[PATH_MAX];

        if (meta_file(diff_area, snapshot_id, ".cow", path, sizeof(path)) == 0)
                unlink(path);
        if (meta_file(diff_area, snapshot_id, META_SUFFIX, path, sizeof(path)) == 0)
                unlink(path);
}

/* "LVSS-<36>.meta" -> the id; NULL for other names. */
static const char *meta_name_id(const char *name, char *id)
{
        size_t pre = strlen(DMSNAP_UUID_PREFIX);

        if (strncmp(name, DMSNAP_UUID_PREFIX, pre) != 0 ||
            strlen(name) != pre + ID_LEN + strlen(META_SUFFIX) ||
            strcmp(name + pre + ID_LEN, META_SUFFIX) != 0)
                return NULL;
        memcpy(id, name + pre, ID_LEN);
        id[ID_LEN] = '\0';
        return id;
}

int meta_foreach(const char *diff_area, int (*cb)(const SnapMeta *meta, void *userdata),
                 void *userdata)
{
        DIR *d = opendir(diff_area);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while (r == 0 && (de = readdir(d))) {
                char id[ID_LEN + 1];
                SnapMeta m;
                if (meta_name_id(de->d_name, id) && meta_read(diff_area, id, &m) == 0)
                        r = cb(&m, userdata);
        }
        closedir(d);
        return r;
}
