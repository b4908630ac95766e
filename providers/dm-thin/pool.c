/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pool.c: thin pools linux-vss makes and owns (vssctl storage add
 * --thin-pool): the data and metadata devices, or files on loop devices
 * attached again at every start; the pool device vss-pool-NAME with the
 * table
 *
 *   0 DATA_SECTORS thin-pool META DATA CHUNK LOW_WATER 1 error_if_no_space
 *
 * error_if_no_space: a full pool fails writes at once instead of queueing
 * them for ever (a hung origin); monitor.c and the refusal of sets above the
 * high-water mark keep it from getting there while snapshots can be dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <linux/fs.h>

#include "providers/common/size.h"
#include "providers/common/store.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

#define DEFAULT_CHUNK (64u * 1024)
#define META_BLOCK 4096u
/* dm-thin's limits on the metadata device: 2 MiB .. 16 GiB (more is never used). */
#define META_MIN (2ull << 20)
#define META_MAX (16ull << 30)

typedef unsigned long long ull;

/* --- names, records ---------------------------------------------------------------------- */

static int pool_read_status(const char *name, PoolStatus *st, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX];
        DmTable t = { 0 };
        int r;

        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, name)) < 0)
                return provider_error(err, r, "pool name %s too long", name);
        if ((r = dm_status_get(dm, &t, err)) < 0)
                return r;
        bool ok = t.n == 1 && strcmp(t.targets[0].type, "thin-pool") == 0 &&
                  pool_status_parse(t.targets[0].params, st);
        dm_table_free(&t);
        if (!ok)
                return provider_error(err, -EIO, "pool %s has failed (its status is not a "
                                      "working thin-pool's); check its metadata with "
                                      "thin_check and the kernel log", name);
        return 0;
}

int pool_get(DmThin *dt, const char *name, PoolRecord *p, PoolStatus *st,
             struct vss_error_buf *err)
{
        struct vss_error_buf why;
        int r;

        if (!thin_name_valid(name))
                return provider_error(err, -EINVAL, "'%s' is not a pool name: use letters, "
                                      "digits, '.', '_' and '-' (up to 64)", name);
        if ((r = record_read(dt->state_dir, RECORD_POOL, name, p, &why)) == -ENOENT)
                return provider_error(err, -ENOENT, "there is no thin pool %s (make it with "
                                      "vssctl storage add --thin-pool %s)", name, name);
        if (r < 0)
                return provider_error(err, r, "%s", why.message);
        if (st && (r = pool_activate(dt, p, err)) < 0)
                return r;
        return st ? pool_read_status(name, st, err) : 0;
}

int pool_take_id(DmThin *dt, const char *pool, uint32_t *id, struct vss_error_buf *err)
{
        PoolRecord p;
        int r = pool_get(dt, pool, &p, NULL, err);

        if (r < 0)
                return r;
        if (p.next_id > THIN_ID_MAX)
                return provider_error(err, -ENOSPC, "pool %s has used all %u thin device ids; "
                                      "make a new pool", pool, THIN_ID_MAX);
        *id = p.next_id++;
        return record_write(dt->state_dir, RECORD_POOL, pool, &p, err);
}

int pool_delete_id(const char *pool, uint32_t id, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX], msg[32];
        DmRawIoctl d;
        int fd, r;

        snprintf(msg, sizeof(msg), "delete %" PRIu32, id);
        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, pool)) < 0 ||
            (r = dm_raw_message_init(&d, dm, msg)) < 0)
                return provider_error(err, r, "pool name %s too long", pool);
        if ((fd = dm_control_open(err)) < 0)
                return fd;
        r = dm_raw_run(fd, &d);
        close(fd);
        /* ENODATA: the pool has no such id (deleted before a crash). */
        if (r < 0 && r != -ENODATA)
                return provider_error(err, r, "cannot send \"%s\" to pool %s: %s%s", msg, pool,
                                      strerror(-r), r == -EBUSY ? " (a device still uses it)"
                                                                : "");
        return 0;
}

int pool_thin_params(const char *pool, uint32_t id, char *buf, size_t size,
                     struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX];
        DmInfo info;
        int r;

        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, pool)) < 0 ||
            (r = dm_info_get(dm, &info, err)) < 0)
                return r;
        if (!info.exists || !info.live_table)
                return provider_error(err, -ENXIO, "pool %s is not active (/dev/mapper/%s is "
                                      "missing); see the log of vssd's start for why", pool, dm);
        return provider_printf(buf, size, "%u:%u %" PRIu32, info.major, info.minor, id);
}

/* --- the devices under a pool ------------------------------------------------------------- */

/* PATH's block device: a device as it is, a file through its loop device (attached if not). */
static int backing_devnum(const char *path, bool file, CowStore *store, dev_t *ret,
                          struct vss_error_buf *err)
{
        struct stat st;
        int r;

        if (!file) {
                if (stat(path, &st) < 0)
                        return provider_error(err, -errno, "cannot find %s: %s", path,
                                              strerror(errno));
                if (!S_ISBLK(st.st_mode))
                        return provider_error(err, -ENOTBLK, "%s is no block device any more",
                                              path);
                *ret = st.st_rdev;
                return 0;
        }
        if (store_find(store, path, NULL) < 0 && (r = store_attach(store, path, err)) < 0)
                return r;
        if (stat(store->loop, &st) < 0)
                return provider_error(err, -errno, "cannot find %s (the loop device of %s): %s",
                                      store->loop, path, strerror(errno));
        *ret = st.st_rdev;
        return 0;
}

/* The size of the block device at NODE. */
static int device_bytes(const char *node, uint64_t *ret)
{
        int fd = open(node, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
        close(fd);
        return r;
}

static int pool_table(const PoolRecord *p, dev_t meta, dev_t data, uint64_t data_bytes,
                      unsigned high_water, DmTable *t)
{
        char params[128];
        uint64_t blocks = data_bytes / 512 / p->chunk_sectors;
        /* The kernel's event when free space falls below it; monitor.c acts before. */
        uint64_t low_water = blocks * (100 - high_water) / 100;

        snprintf(params, sizeof(params), "%u:%u %u:%u %" PRIu32 " %" PRIu64
                 " 1 error_if_no_space", major(meta), minor(meta), major(data), minor(data),
                 p->chunk_sectors, low_water);
        return dm_table_add(t, 0, blocks * p->chunk_sectors, "thin-pool", params);
}

int pool_activate(DmThin *dt, const PoolRecord *p, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX], uuid[DM_UUID_MAX];
        CowStore data = COW_STORE_INIT, meta = COW_STORE_INIT;
        dev_t data_dev = 0, meta_dev = 0;
        uint64_t bytes = 0;
        DmTable t = { 0 };
        DmInfo info;
        int r;

        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, p->name)) < 0 ||
            (r = thin_dm_name(uuid, sizeof(uuid), UUID_POOL, p->name)) < 0)
                return provider_error(err, r, "pool name %s too long", p->name);
        if ((r = dm_info_get(dm, &info, err)) < 0)
                return r;
        if (info.exists && info.live_table)
                return 0;
        if (info.exists && (r = dm_remove(dm, err)) < 0) /* a crash mid-activation */
                return r;
        if ((r = backing_devnum(p->metadata, p->metadata_file, &meta, &meta_dev, err)) < 0 ||
            (r = backing_devnum(p->data, p->data_file, &data, &data_dev, err)) < 0)
                goto out;
        if ((r = device_bytes(p->data_file ? data.loop : p->data, &bytes)) < 0) {
                r = provider_error(err, r, "cannot read the size of %s: %s", p->data,
                                   strerror(-r));
                goto out;
        }
        if ((r = pool_table(p, meta_dev, data_dev, bytes, dt->high_water,
                            &t)) < 0) {
                r = provider_error(err, r, "out of memory building the table of pool %s",
                                   p->name);
                goto out;
        }
        r = dm_create(dm, uuid, &t, false, true, err);
        if (r == 0)
                provider_log(LOG_INFO, "thin pool %s active as /dev/mapper/%s (%llu MiB of data)",
                             p->name, dm, (ull)(bytes >> 20));
out:
        dm_table_free(&t);
        /* The pool holds the loop devices now; on failure autoclear lets them go. */
        store_close(&data);
        store_close(&meta);
        return r;
}

static int activate_one(const void *rec, void *userdata)
{
        const PoolRecord *p = rec;
        struct vss_error_buf err;

        if (pool_activate(userdata, p, &err) < 0)
                provider_log(LOG_ERR, "cannot activate thin pool %s: %s", p->name, err.message);
        return 0;
}

void pool_activate_all(DmThin *dt)
{
        record_foreach(dt->state_dir, RECORD_POOL, activate_one, dt);
}

/* --- add ---------------------------------------------------------------------------------- */

typedef struct PoolOptions {
        const char *data, *metadata, *data_size, *metadata_size, *chunk_size;
} PoolOptions;

static int options_parse(const char *name, const struct vss_option *o, size_t n,
                         PoolOptions *po, struct vss_error_buf *err)
{
        static const char *const keys[] = { "Data", "Metadata", "DataSize", "MetadataSize",
                                            "ChunkSize" };

        memset(po, 0, sizeof(*po));
        for (size_t i = 0; i < n; i++) {
                const char **slot[] = { &po->data, &po->metadata, &po->data_size,
                                        &po->metadata_size, &po->chunk_size };
                size_t k;
                for (k = 0; k < 5 && strcmp(o[i].key, keys[k]) != 0; k++)
                        ;
                if (k == 5)
                        return provider_error(err, -EINVAL, "cannot make thin pool %s: dm-thin "
                                              "takes no option '%s' (it knows Data, Metadata, "
                                              "DataSize, MetadataSize and ChunkSize)", name,
                                              o[i].key);
                *slot[k] = o[i].value;
        }
        if (!po->data || !po->metadata)
                return provider_error(err, -EINVAL, "cannot make thin pool %s: give both its "
                                      "data (--data PATH) and its metadata (--metadata PATH), "
                                      "each a block device or a file", name);
        return 0;
}

/* One of the pool's two devices, as add_storage() sets it up. */
typedef struct PoolDevice {
        const char *what;          /* "data", "metadata" */
        const char *path;
        const char *size;          /* the option, or NULL */
        bool file, created;
        CowStore store;
} PoolDevice;

/* A block device nobody uses (O_EXCL), or an existing file, or a new sparse file. */
static int device_setup(const char *pool, PoolDevice *d, uint64_t min, uint64_t max,
                        struct vss_error_buf *err)
{
        struct stat st;
        uint64_t bytes;
        int r;

        if (d->path[0] != '/' || strchr(d->path, '\n'))
                return provider_error(err, -EINVAL, "cannot make thin pool %s: its %s %s is not "
                                      "an absolute path", pool, d->what, d->path);
        int found = stat(d->path, &st) == 0 ? 0 : -errno;

        if (found < 0 && found != -ENOENT)
                return provider_error(err, found, "cannot make thin pool %s: cannot look at its "
                                      "%s %s: %s", pool, d->what, d->path, strerror(-found));
        if (found == 0 && d->size)
                return provider_error(err, -EEXIST, "cannot make thin pool %s: its %s %s exists "
                                      "already: leave out its size, or name a new file", pool,
                                      d->what, d->path);
        if (found == 0 && S_ISBLK(st.st_mode)) {
                int fd = open(d->path, O_RDWR | O_EXCL | O_CLOEXEC);
                if (fd < 0)
                        return provider_error(err, -errno, "cannot make thin pool %s: its %s "
                                              "device %s is in use or cannot be opened (%s)",
                                              pool, d->what, d->path, strerror(errno));
                r = ioctl(fd, BLKGETSIZE64, &bytes) < 0 ? -errno : 0;
                close(fd);
                if (r == 0 && bytes < min)
                        r = provider_error(err, -ENOSPC, "cannot make thin pool %s: its %s "
                                           "device %s has %llu bytes, less than the %llu it "
                                           "needs", pool, d->what, d->path, (ull)bytes, (ull)min);
                return r;
        }
        if (found == 0 && !S_ISREG(st.st_mode))
                return provider_error(err, -EINVAL, "cannot make thin pool %s: its %s %s is "
                                      "neither a block device nor a file", pool, d->what,
                                      d->path);
        d->file = true;
        if (found == 0)
                return store_attach(&d->store, d->path, err); /* an existing file */
        if (!d->size)
                return provider_error(err, -EINVAL, "cannot make thin pool %s: %s does not "
                                      "exist; give its size (--%s-size SIZE) to have it made",
                                      pool, d->path, strcmp(d->what, "data") ? "metadata" : "data");
        if (size_parse(d->size, 0, &bytes) < 0 || bytes == SIZE_UNBOUNDED || bytes < min ||
            bytes > max)
                return provider_error(err, -EINVAL, "cannot make thin pool %s: %s is not a %s "
                                      "size from %llu MiB to %llu GiB (write it as 512M or 2G)",
                                      pool, d->size, d->what, (ull)(min >> 20), (ull)(max >> 30));
        char dir[PATH_MAX], base[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", d->path);
        snprintf(base, sizeof(base), "%s", d->path);
        if ((r = store_create(&d->store, dirname(dir), basename(base), bytes, err)) < 0)
                return r;
        d->created = true;
        return 0;
}

static void device_undo(PoolDevice *d)
{
        struct vss_error_buf err;

        if (d->created && store_destroy(&d->store, &err) < 0)
                provider_log(LOG_WARNING, "%s", err.message);
        store_close(&d->store);
}

/* dm-thin formats a metadata device whose first block is zero, and only then. */
static int metadata_zero(const char *pool, PoolDevice *m, struct vss_error_buf *err)
{
        static const char zero[META_BLOCK];
        const char *node = m->file ? m->store.loop : m->path;
        int fd = open(node, O_WRONLY | O_CLOEXEC | (m->file ? 0 : O_EXCL));
        int r = 0;

        if (fd < 0)
                return provider_error(err, -errno, "cannot make thin pool %s: cannot open %s: %s",
                                      pool, node, strerror(errno));
        if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) || fsync(fd) < 0)
                r = provider_error(err, -EIO, "cannot make thin pool %s: cannot clear the first "
                                   "block of %s: %s", pool, node, strerror(errno));
        close(fd);
        return r;
}

static int chunk_parse(const char *pool, const char *s, uint32_t *ret, struct vss_error_buf *err)
{
        uint64_t bytes = DEFAULT_CHUNK;
        char *end;

        /* size_parse rounds to MiB: chunks are KiB, so they are read here. */
        if (s) {
                unsigned long long v = strtoull(s, &end, 10);
                bytes = (end[0] == 'K' || end[0] == 'k') && !end[1] ? v * 1024
                      : (end[0] == 'M' || end[0] == 'm') && !end[1] ? v << 20
                      : !end[0] && end != s ? v : 0;
        }
        if (bytes < DEFAULT_CHUNK || bytes > (1u << 30) || bytes % DEFAULT_CHUNK)
                return provider_error(err, -EINVAL, "cannot make thin pool %s: chunk size %s is "
                                      "not a multiple of 64K from 64K to 1G (write it as 64K, "
                                      "256K, 1M)", pool, s);
        *ret = (uint32_t)(bytes / 512);
        return 0;
}

int pool_add(DmThin *dt, const char *name, const struct vss_option *options, size_t n,
             struct vss_error_buf *err)
{
        PoolDevice data = { .what = "data", .store = COW_STORE_INIT };
        PoolDevice meta = { .what = "metadata", .store = COW_STORE_INIT };
        PoolRecord p = { .next_id = 1 }, old;
        PoolOptions po;
        int r;

        if (!thin_name_valid(name))
                return provider_error(err, -EINVAL, "'%s' is not a pool name: use letters, "
                                      "digits, '.', '_' and '-' (up to 64)", name);
        if ((r = options_parse(name, options, n, &po, err)) < 0 ||
            (r = chunk_parse(name, po.chunk_size, &p.chunk_sectors, err)) < 0)
                return r;
        if (record_read(dt->state_dir, RECORD_POOL, name, &old, NULL) != -ENOENT)
                return provider_error(err, -EEXIST, "thin pool %s exists already (vssctl "
                                      "storage list shows it)", name);
        if (strcmp(po.data, po.metadata) == 0)
                return provider_error(err, -EINVAL, "cannot make thin pool %s: data and "
                                      "metadata must be two devices or files", name);
        data.path = po.data, data.size = po.data_size;
        meta.path = po.metadata, meta.size = po.metadata_size;
        snprintf(p.name, sizeof(p.name), "%s", name);
        snprintf(p.data, sizeof(p.data), "%s", po.data);
        snprintf(p.metadata, sizeof(p.metadata), "%s", po.metadata);
        if ((r = device_setup(name, &meta, META_MIN, META_MAX, err)) < 0 ||
            (r = device_setup(name, &data, (uint64_t)p.chunk_sectors * 512 * 16, UINT64_MAX / 2,
                              err)) < 0 ||
            (r = metadata_zero(name, &meta, err)) < 0)
                goto fail;
        p.data_file = data.file, p.metadata_file = meta.file;
        if ((r = record_write(dt->state_dir, RECORD_POOL, name, &p, err)) < 0)
                goto fail;
        if ((r = pool_activate(dt, &p, err)) < 0) {
                record_remove(dt->state_dir, RECORD_POOL, name, NULL);
                goto fail;
        }
        store_close(&data.store);
        store_close(&meta.store);
        provider_log(LOG_NOTICE, "thin pool %s made (data %s, metadata %s, chunk %" PRIu32
                     " KiB)", name, p.data, p.metadata, p.chunk_sectors / 2);
        return 0;
fail:
        device_undo(&data);
        device_undo(&meta);
        return r;
}

/* --- remove --------------------------------------------------------------------------------- */

struct pool_users {
        const char *pool;
        char first[THIN_NAME_MAX + ID_LEN + 16];
        unsigned n;
};

static int count_volume(const void *rec, void *userdata)
{
        const VolumeRecord *v = rec;
        struct pool_users *u = userdata;

        if (strcmp(v->pool, u->pool) == 0 && u->n++ == 0)
                snprintf(u->first, sizeof(u->first), "volume %s", v->name);
        return 0;
}

static int count_snapshot(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        struct pool_users *u = userdata;

        if (strcmp(s->pool, u->pool) == 0 && u->n++ == 0)
                snprintf(u->first, sizeof(u->first), "snapshot %s", s->id);
        return 0;
}

int pool_remove(DmThin *dt, const char *name, struct vss_error_buf *err)
{
        struct pool_users u = { .pool = name };
        char dm[DM_NAME_MAX];
        PoolRecord p;
        int r;

        if ((r = pool_get(dt, name, &p, NULL, err)) < 0)
                return r;
        record_foreach(dt->state_dir, RECORD_VOLUME, count_volume, &u);
        record_foreach(dt->state_dir, RECORD_SNAPSHOT, count_snapshot, &u);
        if (u.n)
                return provider_error(err, -EBUSY, "thin pool %s still holds %u volume(s) or "
                                      "snapshot(s), %s first: delete its snapshots and disable "
                                      "its volumes (vssctl disable) first", name, u.n, u.first);
        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, name)) < 0 ||
            (r = dm_remove(dm, err)) < 0)
                return r;
        /* The loop devices go by themselves (autoclear); the files are the administrator's. */
        if ((r = record_remove(dt->state_dir, RECORD_POOL, name, err)) < 0)
                return r;
        provider_log(LOG_NOTICE, "thin pool %s removed; %s and %s are left as they are", name,
                     p.data, p.metadata);
        return 0;
}

/* --- growth and usage ------------------------------------------------------------------------ */

int pool_grow(DmThin *dt, PoolRecord *p, uint64_t bytes, struct vss_error_buf *err)
{
        char dm[DM_NAME_MAX];
        CowStore data = COW_STORE_INIT, meta = COW_STORE_INIT;
        dev_t data_dev, meta_dev;
        DmTable t = { 0 };
        int r;

        if (!p->data_file)
                return provider_error(err, -EOPNOTSUPP, "pool %s has a data device, not a file: "
                                      "it cannot grow by itself", p->name);
        if ((r = thin_dm_name(dm, sizeof(dm), POOL_PREFIX, p->name)) < 0 ||
            (r = store_find(&data, p->data, err)) < 0 || (r = store_grow(&data, bytes, err)) < 0 ||
            (r = backing_devnum(p->data, true, &data, &data_dev, err)) < 0 ||
            (r = backing_devnum(p->metadata, p->metadata_file, &meta, &meta_dev, err)) < 0)
                return r;
        if (pool_table(p, meta_dev, data_dev, bytes, dt->high_water, &t) < 0)
                r = provider_error(err, -ENOMEM, "out of memory building the table of pool %s",
                                   p->name);
        /* The pool reads its data device's new size when it resumes with the longer table. */
        if (r == 0 && (r = dm_load(dm, &t, false, err)) == 0 &&
            (r = dm_suspend(dm, false, err)) == 0)
                r = dm_resume(dm, err);
        dm_table_free(&t);
        return r;
}

struct list_pools {
        DmThin *dt;
        vss_storage_cb cb;
        void *userdata;
};

static int list_pool(const void *rec, void *userdata)
{
        const PoolRecord *p = rec;
        struct list_pools *l = userdata;
        char where[2 * PATH_MAX + 16];
        PoolStatus st;
        uint64_t chunk = (uint64_t)p->chunk_sectors * 512;

        if (pool_read_status(p->name, &st, NULL) < 0)
                memset(&st, 0, sizeof(st));
        snprintf(where, sizeof(where), "%s (metadata %s)", p->data, p->metadata);
        struct vss_storage_info info = {
                .volume = "", .name = p->name, .kind = "thin-pool", .diff_area = where,
                .used_bytes = st.data_used * chunk, .allocated_bytes = st.data_total * chunk,
                .max_size = "", .max_bytes = st.data_total * chunk,
                .metadata_used_bytes = st.meta_used * META_BLOCK,
                .metadata_size_bytes = st.meta_total * META_BLOCK,
        };
        return l->cb(&info, l->userdata);
}

int pool_list_storage(DmThin *dt, vss_storage_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct list_pools l = { dt, cb, userdata };
        int r = record_foreach(dt->state_dir, RECORD_POOL, list_pool, &l);

        return r < 0 ? provider_error(err, r, "cannot list the pools in %s/pools: %s",
                                      dt->state_dir, strerror(-r))
                     : 0;
}
