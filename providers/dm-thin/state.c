/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.c: the dm-thin provider's records under state_dir (state.h). One
 * table of fields per kind drives both the text format and the parser.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "providers/common/util.h"
#include "providers/dm-thin/state.h"

#define RECORD_MAX 8192

enum field_type { F_STR, F_BOOL, F_U32, F_HEX32, F_U64 };

typedef struct Field {
        const char *key;
        enum field_type type;
        size_t offset, size;
} Field;

#define STR(T, m) { #m, F_STR, offsetof(T, m), sizeof(((T *)0)->m) }
#define NUM(T, m, t) { #m, t, offsetof(T, m), sizeof(((T *)0)->m) }

static const Field pool_fields[] = {
        STR(PoolRecord, name), STR(PoolRecord, data), NUM(PoolRecord, data_file, F_BOOL),
        STR(PoolRecord, metadata), NUM(PoolRecord, metadata_file, F_BOOL),
        NUM(PoolRecord, chunk_sectors, F_U32), NUM(PoolRecord, next_id, F_U32),
};
static const Field volume_fields[] = {
        STR(VolumeRecord, name), STR(VolumeRecord, pool), NUM(VolumeRecord, id, F_U32),
        NUM(VolumeRecord, sectors, F_U64),
};
static const Field snap_fields[] = {
        STR(SnapRecord, id), STR(SnapRecord, set_id), STR(SnapRecord, pool),
        STR(SnapRecord, origin), NUM(SnapRecord, thin_id, F_U32),
        NUM(SnapRecord, attributes, F_HEX32), NUM(SnapRecord, sectors, F_U64),
        NUM(SnapRecord, created_usec, F_U64), NUM(SnapRecord, invalid, F_BOOL),
};

static const struct {
        const char *dir;
        const Field *fields;
        size_t n, size;
} kinds[] = {
        [RECORD_POOL] = { "pools", pool_fields, sizeof(pool_fields) / sizeof(Field),
                          sizeof(PoolRecord) },
        [RECORD_VOLUME] = { "volumes", volume_fields, sizeof(volume_fields) / sizeof(Field),
                            sizeof(VolumeRecord) },
        [RECORD_SNAPSHOT] = { "snapshots", snap_fields, sizeof(snap_fields) / sizeof(Field),
                              sizeof(SnapRecord) },
};

static int field_format(const Field *f, const void *rec, char *buf, size_t size)
{
        const char *p = (const char *)rec + f->offset;

        switch (f->type) {
        case F_STR:
                if (strchr(p, '\n'))
                        return -EINVAL;
                return provider_printf(buf, size, "%s=%s\n", f->key, p);
        case F_BOOL:
                return provider_printf(buf, size, "%s=%d\n", f->key, *(const bool *)p ? 1 : 0);
        case F_U32:
                return provider_printf(buf, size, "%s=%" PRIu32 "\n", f->key, *(const uint32_t *)p);
        case F_HEX32:
                return provider_printf(buf, size, "%s=%" PRIx32 "\n", f->key, *(const uint32_t *)p);
        case F_U64:
                return provider_printf(buf, size, "%s=%" PRIu64 "\n", f->key, *(const uint64_t *)p);
        }
        return -EINVAL;
}

int record_format(enum record_kind kind, const void *rec, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < kinds[kind].n; i++) {
                int r = field_format(&kinds[kind].fields[i], rec, buf + len, size - len);
                if (r < 0)
                        return r;
                len += strlen(buf + len);
        }
        return 0;
}

static int number_parse(const char *s, int base, uint64_t max, uint64_t *ret)
{
        char *end;

        if (!*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, base);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int field_parse(const Field *f, const char *value, void *rec)
{
        char *p = (char *)rec + f->offset;
        uint64_t v;
        int r;

        switch (f->type) {
        case F_STR:
                return provider_printf(p, f->size, "%s", value) < 0 ? -EINVAL : 0;
        case F_BOOL:
                if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
                        return -EINVAL;
                *(bool *)p = value[0] == '1';
                return 0;
        case F_U32:
        case F_HEX32:
                if ((r = number_parse(value, f->type == F_HEX32 ? 16 : 10, UINT32_MAX, &v)) < 0)
                        return r;
                *(uint32_t *)p = (uint32_t)v;
                return 0;
        case F_U64:
                if ((r = number_parse(value, 10, UINT64_MAX, &v)) < 0)
                        return r;
                *(uint64_t *)p = v;
                return 0;
        }
        return -EINVAL;
}

int record_parse(enum record_kind kind, const char *text, void *rec)
{
        const Field *fields = kinds[kind].fields;
        size_t n = kinds[kind].n;
        bool seen[16] = { false };
        char line[PATH_MAX + 64];

        memset(rec, 0, kinds[kind].size);
        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                if (p[len] != '\n' || len >= sizeof(line))
                        return -EINVAL; /* a cut last line, or far too long */
                memcpy(line, p, len);
                line[len] = '\0';
                p += len + 1;
                char *eq = strchr(line, '=');
                if (!eq)
                        return -EINVAL;
                *eq = '\0';
                size_t i;
                for (i = 0; i < n && strcmp(fields[i].key, line) != 0; i++)
                        ;
                if (i == n || seen[i] || field_parse(&fields[i], eq + 1, rec) < 0)
                        return -EINVAL;
                seen[i] = true;
        }
        for (size_t i = 0; i < n; i++)
                if (!seen[i])
                        return -EINVAL;
        return 0;
}

/* --- files ---------------------------------------------------------------------------- */

static int record_dir(const char *state_dir, enum record_kind kind, char *buf, size_t size)
{
        return provider_printf(buf, size, "%s/%s", state_dir, kinds[kind].dir);
}

static int record_path(const char *state_dir, enum record_kind kind, const char *name, char *buf,
                       size_t size)
{
        if (!name[0] || strchr(name, '/') || name[0] == '.')
                return -EINVAL;
        return provider_printf(buf, size, "%s/%s/%s", state_dir, kinds[kind].dir, name);
}

static int write_all(int fd, const char *text)
{
        for (size_t len = strlen(text), done = 0; done < len;) {
                ssize_t w = write(fd, text + done, len - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                done += (size_t)w;
        }
        return 0;
}

static int fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int record_write(const char *state_dir, enum record_kind kind, const char *name, const void *rec,
                 struct vss_error_buf *err)
{
        char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 8], text[RECORD_MAX];
        int fd, r;

        if (record_dir(state_dir, kind, dir, sizeof(dir)) < 0 ||
            record_path(state_dir, kind, name, path, sizeof(path)) < 0 ||
            provider_printf(tmp, sizeof(tmp), "%s.new", path) < 0)
                return provider_error(err, -ENAMETOOLONG, "cannot record %s in %s: the path is "
                                      "too long or the name is not a file name", name, state_dir);
        if ((r = record_format(kind, rec, text, sizeof(text))) < 0)
                return provider_error(err, r, "cannot record %s: a value holds a newline or is "
                                      "too long", name);
        if ((r = provider_mkdir_parents(dir, 0700)) < 0)
                return provider_error(err, r, "cannot make %s ([provider.dm-thin] state_dir): %s",
                                      dir, strerror(-r));
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return provider_error(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
        r = write_all(fd, text);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r == 0)
                r = fsync_dir(dir);
        if (r < 0) {
                unlink(tmp);
                return provider_error(err, r, "cannot write %s: %s", path, strerror(-r));
        }
        return 0;
}

static int read_text(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : 0;
                        close(fd);
                        buf[len] = '\0';
                        return r;
                }
                len += (size_t)n;
                if (len == size - 1) {
                        close(fd);
                        return -EFBIG;
                }
        }
}

int record_read(const char *state_dir, enum record_kind kind, const char *name, void *rec,
                struct vss_error_buf *err)
{
        char path[PATH_MAX], text[RECORD_MAX];
        int r;

        if (record_path(state_dir, kind, name, path, sizeof(path)) < 0)
                return provider_error(err, -EINVAL, "'%s' is not a name the provider records",
                                      name);
        if ((r = read_text(path, text, sizeof(text))) == -ENOENT)
                return provider_error(err, r, "%s is not recorded (%s missing)", name, path);
        if (r < 0)
                return provider_error(err, r, "cannot read %s: %s", path, strerror(-r));
        if (record_parse(kind, text, rec) < 0)
                return provider_error(err, -EINVAL, "%s is damaged: a key is missing, unknown or "
                                      "has a bad value; restore it from a backup", path);
        return 0;
}

int record_remove(const char *state_dir, enum record_kind kind, const char *name,
                  struct vss_error_buf *err)
{
        char dir[PATH_MAX], path[PATH_MAX];

        if (record_dir(state_dir, kind, dir, sizeof(dir)) < 0 ||
            record_path(state_dir, kind, name, path, sizeof(path)) < 0)
                return provider_error(err, -EINVAL, "'%s' is not a name the provider records",
                                      name);
        if (unlink(path) < 0 && errno != ENOENT)
                return provider_error(err, -errno, "cannot remove %s: %s", path, strerror(errno));
        fsync_dir(dir);
        return 0;
}

int record_foreach(const char *state_dir, enum record_kind kind,
                   int (*cb)(const void *rec, void *userdata), void *userdata)
{
        char dir[PATH_MAX];
        union {
                PoolRecord pool;
                VolumeRecord volume;
                SnapRecord snap;
        } rec;
        struct vss_error_buf err;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (record_dir(state_dir, kind, dir, sizeof(dir)) < 0)
                return -ENAMETOOLONG;
        if (!(d = opendir(dir)))
                return errno == ENOENT ? 0 : -errno;
        while (r == 0 && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || (len > 4 && strcmp(de->d_name + len - 4, ".new") == 0))
                        continue;
                if (record_read(state_dir, kind, de->d_name, &rec, &err) < 0) {
                        provider_log(LOG_ERR, "%s", err.message);
                        continue;
                }
                r = cb(&rec, userdata);
        }
        closedir(d);
        return r;
}
