/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage, as vssadmin calls it: per volume, the diff area
 * its copy-on-write stores go to and the maximum all of them together may
 * grow to (monitor.c grows stores within it; prepare gives a new store only
 * the room left). vssd.conf gives the defaults; what an administrator sets at
 * run time ("vssctl storage") overrides them and is kept in
 * STATE_DIR/storage, written by atomic replace:
 *
 *   # comment
 *   NAME<TAB>MAX_SIZE<TAB>DIFF_AREA      ("-": the vssd.conf value)
 *
 * A volume's meta files live beside its stores, so every lookup of a
 * snapshot's files searches the default diff area and each one set here.
 * Moving a volume's diff area is refused while it has snapshots: their
 * stores would be left where nothing looks for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/common/size.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

#define SETTINGS_FILE "storage"
#define DEFAULT_MAX_SIZE "unbounded"

typedef unsigned long long ull;

/* --- settings ------------------------------------------------------------------------- */

static StorageSetting *setting_find(const DmSnap *dm, const char *name)
{
        for (size_t i = 0; i < dm->n_storage; i++)
                if (strcmp(dm->storage[i].name, name) == 0)
                        return &dm->storage[i];
        return NULL;
}

const char *dmsnap_diff_area(const DmSnap *dm, const char *name)
{
        const StorageSetting *s = setting_find(dm, name);
        return s && s->diff_area[0] ? s->diff_area : dm->diff_area;
}

const char *dmsnap_max_size(DmSnap *dm, const char *name)
{
        const StorageSetting *s = setting_find(dm, name);
        if (s && s->max_size[0])
                return s->max_size;
        const char *v = dmsnap_config_volume(dm, "max_size", name);
        return v ? v : DEFAULT_MAX_SIZE;
}

void dmsnap_storage_free(DmSnap *dm)
{
        free(dm->storage);
        dm->storage = NULL;
        dm->n_storage = 0;
}

static int settings_path(const DmSnap *dm, char *buf, size_t size)
{
        return provider_printf(buf, size, "%s/" SETTINGS_FILE, dm->state_dir);
}

/* A diff area an administrator may name: absolute, and nothing the file format uses. */
static bool diff_area_valid(const char *dir)
{
        return dir[0] == '/' && strlen(dir) < PATH_MAX && !strpbrk(dir, "\t\n");
}

/* "NAME MAX DIFF_AREA" into S; false when malformed. */
static bool setting_parse(char *line, StorageSetting *s)
{
        char *save = NULL;
        char *name = strtok_r(line, "\t", &save), *max = strtok_r(NULL, "\t", &save);
        char *dir = strtok_r(NULL, "\n", &save);
        uint64_t bytes;

        if (!name || !max || !dir || strlen(name) >= sizeof(s->name) ||
            strlen(max) >= sizeof(s->max_size))
                return false;
        if (strcmp(max, "-") != 0 && size_parse(max, 1, &bytes) < 0)
                return false;
        if (strcmp(dir, "-") != 0 && !diff_area_valid(dir))
                return false;
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
        snprintf(s->max_size, sizeof(s->max_size), "%s", strcmp(max, "-") ? max : "");
        snprintf(s->diff_area, sizeof(s->diff_area), "%s", strcmp(dir, "-") ? dir : "");
        return true;
}

static int settings_add(DmSnap *dm, const StorageSetting *s)
{
        StorageSetting *v = realloc(dm->storage, (dm->n_storage + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        dm->storage = v;
        dm->storage[dm->n_storage++] = *s;
        return 0;
}

int dmsnap_storage_load(DmSnap *dm)
{
        char path[PATH_MAX], line[PATH_MAX + 256];
        unsigned lineno = 0;
        int r = 0;

        if (settings_path(dm, path, sizeof(path)) < 0)
                return -ENAMETOOLONG;
        FILE *f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                provider_log(LOG_ERR, "cannot read the shadow storage settings %s: %s", path,
                             strerror(errno));
                return -errno;
        }
        while (r == 0 && fgets(line, sizeof(line), f)) {
                StorageSetting s;
                lineno++;
                if (line[0] == '#' || line[0] == '\n')
                        continue;
                if (!setting_parse(line, &s)) {
                        provider_log(LOG_ERR, "%s line %u is malformed (want NAME, MAX_SIZE and "
                                     "DIFF_AREA separated by tabs); fix it or remove the line, "
                                     "then restart vssd", path, lineno);
                        r = -EINVAL;
                } else {
                        r = settings_add(dm, &s);
                }
        }
        fclose(f);
        return r;
}

static void settings_write(const DmSnap *dm, const StorageSetting *v, size_t n, FILE *f)
{
        fputs("# linux-vss dm-snapshot shadow storage, set with \"vssctl storage\".\n"
              "# Written by vssd: change it with vssctl. NAME<TAB>MAX_SIZE<TAB>DIFF_AREA, "
              "\"-\": the vssd.conf value.\n", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s\t%s\t%s\n", v[i].name, v[i].max_size[0] ? v[i].max_size : "-",
                        v[i].diff_area[0] ? v[i].diff_area : "-");
}

/* Fsync the directory, so that the rename survives a crash. */
static int dir_sync(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd < 0 || fsync(fd) < 0 ? -errno : 0;
        if (fd >= 0)
                close(fd);
        return r;
}

/* Replace the settings file with V: the old file or the new one, never half of either. */
static int settings_save(const DmSnap *dm, const StorageSetting *v, size_t n,
                         struct vss_error_buf *err)
{
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        int r = provider_mkdir_parents(dm->state_dir, 0755);

        if (r < 0)
                return provider_error(err, r, "cannot create the state directory %s: %s",
                                      dm->state_dir, strerror(-r));
        if (settings_path(dm, path, sizeof(path)) < 0)
                return provider_error(err, -ENAMETOOLONG, "state_dir %s is too long",
                                      dm->state_dir);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "we");
        if (!f)
                return provider_error(err, -errno, "cannot write %s: %s", tmp, strerror(errno));
        settings_write(dm, v, n, f);
        r = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0 ? -errno : 0;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return provider_error(err, r ? r : -EIO, "cannot save the shadow storage settings "
                                      "to %s: %s", path, strerror(r ? -r : EIO));
        }
        if ((r = dir_sync(dm->state_dir)) < 0)
                return provider_error(err, r, "cannot sync %s after saving %s: %s", dm->state_dir,
                                      path, strerror(-r));
        return 0;
}

/* --- meta files in every diff area ----------------------------------------------------- */

/* Does an earlier entry (the default, or setting I < J) name the diff area of J already? */
static bool diff_area_seen(const DmSnap *dm, size_t j)
{
        const char *dir = dm->storage[j].diff_area;
        if (!dir[0] || strcmp(dir, dm->diff_area) == 0)
                return true;
        for (size_t i = 0; i < j; i++)
                if (strcmp(dm->storage[i].diff_area, dir) == 0)
                        return true;
        return false;
}

int dmsnap_meta_find(DmSnap *dm, const char *id, SnapMeta *m)
{
        int r = meta_read(dm->diff_area, id, m);
        for (size_t i = 0; r < 0 && i < dm->n_storage; i++)
                if (!diff_area_seen(dm, i))
                        r = meta_read(dm->storage[i].diff_area, id, m);
        return r;
}

int dmsnap_meta_foreach(DmSnap *dm, int (*cb)(const SnapMeta *m, void *userdata),
                        void *userdata)
{
        int r = meta_foreach(dm->diff_area, cb, userdata);
        for (size_t i = 0; r == 0 && i < dm->n_storage; i++)
                if (!diff_area_seen(dm, i))
                        r = meta_foreach(dm->storage[i].diff_area, cb, userdata);
        return r;
}

void dmsnap_meta_remove(DmSnap *dm, const char *id)
{
        meta_remove(dm->diff_area, id);
        for (size_t i = 0; i < dm->n_storage; i++)
                if (!diff_area_seen(dm, i))
                        meta_remove(dm->storage[i].diff_area, id);
}

/* --- usage --------------------------------------------------------------------------- */

struct uses {
        DmSnap *dm;
        StorageUse *v;
        size_t n;
};

StorageUse *dmsnap_storage_use_find(StorageUse *uses, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(uses[i].name, name) == 0)
                        return &uses[i];
        return NULL;
}

/* The size of S's store file: an invalid snapshot's status no longer says. */
static uint64_t store_bytes(const Snap *s)
{
        char path[PATH_MAX];
        struct stat st;

        if (s->meta.diff_area[0] &&
            meta_file(s->meta.diff_area, s->uuid.snapshot_id, ".cow", path, sizeof(path)) == 0 &&
            stat(path, &st) == 0)
                return (uint64_t)st.st_size;
        return s->size;
}

static int uses_add(const DmInfo *info, void *userdata)
{
        struct uses *u = userdata;
        Snap s;

        if (!info->live_table || snap_load(u->dm, info, &s, NULL) < 0 || !s.meta.origin[0])
                return 0;
        StorageUse *use = dmsnap_storage_use_find(u->v, u->n, s.meta.origin);
        if (!use) {
                StorageUse *v = realloc(u->v, (u->n + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                u->v = v;
                use = &v[u->n++];
                memset(use, 0, sizeof(*use));
                snprintf(use->name, sizeof(use->name), "%s", s.meta.origin);
        }
        use->used += s.used;
        use->allocated += store_bytes(&s);
        use->n++;
        return 0;
}

int dmsnap_storage_uses(DmSnap *dm, StorageUse **ret, size_t *ret_n)
{
        struct uses u = { dm, NULL, 0 };
        int r = dm_list(uses_add, &u, NULL);

        if (r < 0) {
                free(u.v);
                return r;
        }
        *ret = u.v;
        *ret_n = u.n;
        return 0;
}

bool dmsnap_full_warn_once(DmSnap *dm, const char *id)
{
        unsigned n = dm->n_full_warned < FULL_WARNED_MAX ? dm->n_full_warned : FULL_WARNED_MAX;
        for (unsigned i = 0; i < n; i++)
                if (strcmp(dm->full_warned[i], id) == 0)
                        return false;
        snprintf(dm->full_warned[dm->n_full_warned++ % FULL_WARNED_MAX], ID_LEN + 1, "%s", id);
        return true;
}

/* --- ListStorage ---------------------------------------------------------------------- */

/* The maximum of NAME in bytes; 0 when a percentage of a volume that is not there. */
static uint64_t max_bytes_of(DmSnap *dm, const char *name, const char *max)
{
        DmTable t = { 0 };
        uint64_t bytes = 0, v = 0;

        if (strchr(max, '%') && dm_table_get(name, false, &t, NULL) == 0)
                bytes = dm_table_size(&t) * 512;
        dm_table_free(&t);
        if (size_parse(max, bytes, &v) < 0 || (strchr(max, '%') && bytes == 0))
                return 0;
        return v;
}

static int report_one(DmSnap *dm, const char *name, const StorageUse *use, vss_storage_cb cb,
                      void *userdata)
{
        char volume[DM_NAME_MAX + 16];
        const char *max = dmsnap_max_size(dm, name);

        snprintf(volume, sizeof(volume), "/dev/mapper/%s", name);
        struct vss_storage_info info = {
                .volume = volume,
                .diff_area = dmsnap_diff_area(dm, name),
                .used_bytes = use ? use->used : 0,
                .allocated_bytes = use ? use->allocated : 0,
                .max_size = max,
                .max_bytes = max_bytes_of(dm, name, max),
        };
        return cb(&info, userdata);
}

int dmsnap_list_storage(DmSnap *dm, vss_storage_cb cb, void *userdata,
                        struct vss_error_buf *err)
{
        StorageUse *uses;
        size_t n;
        int r;

        dmsnap_flush_sets(dm);
        if ((r = dmsnap_storage_uses(dm, &uses, &n)) < 0)
                return provider_error(err, r, "cannot read the snapshots' stores: %s",
                                      strerror(-r));
        /* First what was set, in the order it was; then volumes that only have snapshots. */
        for (size_t i = 0; r == 0 && i < dm->n_storage; i++)
                r = report_one(dm, dm->storage[i].name,
                               dmsnap_storage_use_find(uses, n, dm->storage[i].name), cb,
                               userdata);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (!setting_find(dm, uses[i].name))
                        r = report_one(dm, uses[i].name, &uses[i], cb, userdata);
        free(uses);
        return r;
}

/* --- SetStorage ----------------------------------------------------------------------- */

/* MAX for the volume O, whose snapshots use USED bytes: refuse what cannot work. */
static int check_max(const Origin *o, const char *max, const StorageUse *use,
                     struct vss_error_buf *err)
{
        uint64_t bytes;
        int r = size_parse(max, o->sectors * 512, &bytes);

        if (r < 0 || strlen(max) >= sizeof(((StorageSetting *)0)->max_size))
                return provider_error(err, -EINVAL, "the maximum \"%s\" is not a size: write it "
                                      "as bytes with K, M, G or T (10G), a percentage of the "
                                      "volume (15%%) or unbounded", max);
        if (bytes < MIN_STORE_BYTES)
                return provider_error(err, -EINVAL, "the maximum %s of /dev/mapper/%s is %llu "
                                      "bytes; it must be at least 8M, the smallest store",
                                      max, o->info.name, (ull)bytes);
        if (use && bytes != SIZE_UNBOUNDED && bytes < use->used)
                return provider_error(err, -EINVAL, "the maximum %s (%llu bytes) of "
                                      "/dev/mapper/%s is below the %llu bytes its %u snapshot(s) "
                                      "already use; choose at least that much, or delete "
                                      "snapshots first (vssctl delete --for /dev/mapper/%s)",
                                      max, (ull)bytes, o->info.name, (ull)use->used, use->n,
                                      o->info.name);
        return 0;
}

/* rmdir what store_dir_check() created for DIR from FIRST_MISSING on, deepest first. */
static void dir_uncreate(const char *dir, size_t first_missing)
{
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", dir);
        while (strlen(buf) >= first_missing && rmdir(buf) == 0) {
                char *slash = strrchr(buf, '/');
                if (!slash || slash == buf)
                        break;
                *slash = '\0';
        }
}

/* Length of DIR's longest prefix that exists; strlen(DIR) + 1 when all of it does. */
static size_t dir_first_missing(const char *dir)
{
        char buf[PATH_MAX];
        struct stat st;
        snprintf(buf, sizeof(buf), "%s", dir);
        if (stat(buf, &st) == 0)
                return strlen(dir) + 1;
        size_t missing = strlen(buf);
        for (char *slash; (slash = strrchr(buf, '/')) && slash != buf;) {
                *slash = '\0';
                if (stat(buf, &st) == 0)
                        break;
                missing = strlen(buf);
        }
        return missing;
}

/* May DIR hold the stores of O? As prepare checks it; nothing is left behind on refusal. */
static int check_diff_area(DmSnap *dm, const Origin *o, const char *dir, const StorageUse *use,
                           struct vss_error_buf *err)
{
        if (!diff_area_valid(dir))
                return provider_error(err, -EINVAL, "the diff area \"%s\" must be an absolute "
                                      "path without tabs or newlines", dir);
        const char *now = dmsnap_diff_area(dm, o->info.name);
        if (use && strcmp(now, dir) != 0)
                return provider_error(err, -EBUSY, "/dev/mapper/%s has %u snapshot(s) with their "
                                      "stores in %s; delete them first (vssctl delete --for "
                                      "/dev/mapper/%s) to move its shadow storage to %s",
                                      o->info.name, use->n, now, o->info.name, dir);
        dev_t dev = makedev(o->info.major, o->info.minor);
        size_t missing = dir_first_missing(dir);
        int r = store_dir_check(dir, &dev, 1, err);
        if (r < 0) {
                dir_uncreate(dir, missing);
                /* Its advice is about vssd.conf; here the administrator chose the directory. */
                char *hint = strstr(err->message, "; set diff_area in");
                if (hint)
                        snprintf(hint, sizeof(err->message) - (size_t)(hint - err->message),
                                 "; choose a directory on another file system");
        }
        return r;
}

/* "dir/" -> "dir": one spelling per directory, so that lookups compare equal. */
static void dir_normalize(char *buf, size_t size, const char *dir)
{
        snprintf(buf, size, "%s", dir);
        for (size_t n = strlen(buf); n > 1 && buf[n - 1] == '/'; n--)
                buf[n - 1] = '\0';
}

/* The settings with NAME's replaced by S (or added): saved, then taken. */
static int settings_replace(DmSnap *dm, const StorageSetting *s, struct vss_error_buf *err)
{
        size_t n = dm->n_storage;
        StorageSetting *v = malloc((n + 1) * sizeof(*v));
        StorageSetting *old = setting_find(dm, s->name);

        if (!v)
                return provider_error(err, -ENOMEM, "out of memory saving the shadow storage of "
                                      "/dev/mapper/%s", s->name);
        if (n)
                memcpy(v, dm->storage, n * sizeof(*v));
        if (old)
                v[old - dm->storage] = *s;
        else
                v[n++] = *s;
        int r = settings_save(dm, v, n, err);
        if (r < 0) {
                free(v);
                return r;
        }
        free(dm->storage);
        dm->storage = v;
        dm->n_storage = n;
        return 0;
}

int dmsnap_set_storage(DmSnap *dm, const char *volume, const char *max_size,
                       const char *diff_area, struct vss_error_buf *err)
{
        char dir[PATH_MAX];
        StorageUse *uses = NULL;
        size_t n = 0;
        Origin o;

        dmsnap_flush_sets(dm);
        int r = origin_examine(volume, &o, err);
        if (r == 0)
                return provider_error(err, -VSS_E_VOLUME_NOT_SUPPORTED, "%s cannot have shadow "
                                      "storage on dm-snapshot: %.400s", volume, err->message);
        if (r < 0)
                return r;
        if ((r = dmsnap_storage_uses(dm, &uses, &n)) < 0)
                return provider_error(err, r, "cannot read the stores of %s: %s", volume,
                                      strerror(-r));
        const StorageUse *use = dmsnap_storage_use_find(uses, n, o.info.name);
        StorageSetting s = { "", "", "" };
        const StorageSetting *old = setting_find(dm, o.info.name);
        if (old)
                s = *old;
        snprintf(s.name, sizeof(s.name), "%s", o.info.name);
        if (max_size && (r = check_max(&o, max_size, use, err)) == 0)
                snprintf(s.max_size, sizeof(s.max_size), "%s", max_size);
        if (r == 0 && diff_area) {
                dir_normalize(dir, sizeof(dir), diff_area);
                if ((r = check_diff_area(dm, &o, dir, use, err)) == 0)
                        snprintf(s.diff_area, sizeof(s.diff_area), "%s", dir);
        }
        free(uses);
        if (r < 0 || (r = settings_replace(dm, &s, err)) < 0)
                return r;
        provider_log(LOG_INFO, "shadow storage of /dev/mapper/%s: maximum %s, diff area %s",
                     s.name, dmsnap_max_size(dm, s.name), dmsnap_diff_area(dm, s.name));
        return 0;
}
