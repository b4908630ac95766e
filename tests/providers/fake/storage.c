/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage.c: shadow storage (list_storage, set_storage), pools (add_storage, remove_storage). */
#include "tests/providers/fake/fake.h"

/* --- shadow storage -------------------------------------------------------- */

struct fake_storage *storage_find(struct fake *f, const char *volume)
{
        for (size_t i = 0; i < f->n_storage; i++)
                if (strcmp(f->storage[i].volume, volume) == 0)
                        return &f->storage[i];
        return NULL;
}

/* A new entry with the defaults; NULL on out-of-memory. */
struct fake_storage *storage_add(struct fake *f, const char *volume)
{
        struct fake_storage *v = realloc(f->storage, (f->n_storage + 1) * sizeof(*v));
        if (!v)
                return NULL;
        f->storage = v;
        struct fake_storage *st = &v[f->n_storage];
        *st = (struct fake_storage){ strdup(volume), strdup("unbounded"),
                                     strdup(FAKE_DIFF_AREA) };
        f->n_storage++; /* counted now, so that fake_free() frees a half-made one */
        return st->volume && st->max_size && st->diff_area ? st : NULL;
}

/* "unbounded", "15%" of FAKE_VOLUME_SIZE, or bytes with K, M, G or T: exact, no rounding. */
static int fake_size_parse(const char *s, uint64_t *ret)
{
        char *end;
        if (strcmp(s, "unbounded") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (*s < '0' || *s > '9')
                return -EINVAL;
        unsigned long long v = strtoull(s, &end, 10);
        const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
        if (*end == '%' && !end[1])
                v = FAKE_VOLUME_SIZE * v / 100;
        else if (u && *u && !end[1])
                v <<= 10 * (u - units + 1);
        else if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* What the volume's existing snapshots use and how many stores they have. */
static uint64_t storage_used(struct fake *f, const char *volume, size_t *n)
{
        uint64_t used = 0;
        *n = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0) {
                                used += s->snaps[i].cow_used;
                                (*n)++;
                        }
        return used;
}

static int storage_report(struct fake *f, const char *volume, const char *max_size,
                          const char *diff_area, vss_storage_cb cb, void *userdata)
{
        size_t n;
        uint64_t max = 0;
        struct vss_storage_info info = { .volume = volume, .diff_area = diff_area,
                                         .max_size = max_size };
        info.used_bytes = storage_used(f, volume, &n);
        info.allocated_bytes = n * FAKE_COW_SIZE;
        fake_size_parse(max_size, &max);
        info.max_bytes = max;
        return cb(&info, userdata);
}

/* The first existing snapshot of VOLUME, so that each volume is reported once. */
static const struct fake_snapshot *first_snapshot_of(struct fake *f, const char *volume)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0)
                                return &s->snaps[i];
        return NULL;
}

static int pools_report(struct fake *f, vss_storage_cb cb, void *userdata);

/* Settings first, in the order they were made; then volumes that only have snapshots; pools. */
int fake_list_storage(void *state, vss_storage_cb cb, void *userdata,
                      struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "list_storage", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        /* The callback runs under the lock: it only copies (vssd's core does). */
        for (size_t i = 0; r >= 0 && i < f->n_storage; i++)
                r = storage_report(f, f->storage[i].volume, f->storage[i].max_size,
                                   f->storage[i].diff_area, cb, userdata);
        for (struct fake_set *s = f->sets; r >= 0 && s; s = s->next)
                for (size_t i = 0; r >= 0 && i < s->n_snaps; i++) {
                        const char *origin = s->snaps[i].origin;
                        if (s->snaps[i].exists && !storage_find(f, origin) &&
                            first_snapshot_of(f, origin) == &s->snaps[i])
                                r = storage_report(f, origin, "unbounded", FAKE_DIFF_AREA, cb,
                                                   userdata);
                }
        if (r >= 0)
                r = pools_report(f, cb, userdata);
        return op_end(f, r < 0 ? set_error(err, r, FAKE_WHO "cannot report its "
                                           "storage: %s", strerror(-r)) : 0);
}

static int storage_check(struct fake *f, const char *volume, const char *max_size,
                         const char *diff_area, struct vss_error_buf *err)
{
        size_t n;
        uint64_t max, used = storage_used(f, volume, &n);
        if (volume_check(f, volume, err) <= 0)
                return set_error(err, -EINVAL, FAKE_WHO "%s has no shadow storage here: "
                                 "it is no fake volume", volume);
        if (max_size && fake_size_parse(max_size, &max) < 0)
                return set_error(err, -EINVAL, FAKE_WHO "the maximum \"%s\" is not a size",
                                 max_size);
        if (max_size && max < used)
                return set_error(err, -EINVAL, FAKE_WHO "the maximum %s of %s is below the "
                                 "%llu bytes its %zu snapshot(s) already use", max_size, volume,
                                 (unsigned long long)used, n);
        const char *name = volume + strlen(FAKE_PREFIX);
        size_t mlen = strlen(FAKE_MOUNT_PREFIX), nlen = strlen(name);
        if (diff_area && strncmp(diff_area, FAKE_MOUNT_PREFIX, mlen) == 0 &&
            strncmp(diff_area + mlen, name, nlen) == 0 &&
            (diff_area[mlen + nlen] == '\0' || diff_area[mlen + nlen] == '/'))
                return set_error(err, -EINVAL, FAKE_WHO "the diff area %s cannot hold "
                                 "snapshots of %s: it is on that volume itself", diff_area,
                                 volume);
        struct fake_storage *st = storage_find(f, volume);
        const char *now = st ? st->diff_area : FAKE_DIFF_AREA;
        if (diff_area && n > 0 && strcmp(diff_area, now) != 0)
                return set_error(err, -EBUSY, FAKE_WHO "%s has %zu snapshot(s) with "
                                 "their stores in %s; delete them first", volume, n, now);
        return 0;
}

int storage_replace(char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

int fake_set_storage(void *state, const char *volume, const char *max_size,
                     const char *diff_area, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        line_start(&line, "set_storage", volume, max_size ? max_size : "-");
        line_add(&line, diff_area ? diff_area : "-");
        int r = op_begin(f, &line, NULL, err);
        if (r < 0)
                return r;
        if (!volume || (!max_size && !diff_area))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "set_storage needs a "
                                           "volume and a maximum or a diff area"));
        if ((r = storage_check(f, volume, max_size, diff_area, err)) < 0)
                return op_end(f, r);
        struct fake_storage *st = storage_find(f, volume);
        if (!st)
                st = storage_add(f, volume);
        if (!st || (max_size && storage_replace(&st->max_size, max_size) < 0) ||
            (diff_area && storage_replace(&st->diff_area, diff_area) < 0))
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory"));
        f->dirty = true;
        return op_end_saved(f, 0);
}

/* --- add_storage, remove_storage -------------------------------------------- */

/* A pool's entry of list_storage(), as dm-thin reports one. */
static int pool_report(struct fake *f, const struct fake_pool *p, vss_storage_cb cb,
                       void *userdata)
{
        uint64_t data = 0, metadata = 0;
        fake_size_parse(p->data_size, &data);
        fake_size_parse(p->metadata_size, &metadata);
        struct vss_storage_info info = {
                .volume = "", .name = p->name, .kind = "thin-pool", .diff_area = p->data,
                .used_bytes = pool_volumes(f, p->name) * FAKE_THIN_USED,
                .allocated_bytes = data, .max_size = p->data_size, .max_bytes = data,
                .metadata_used_bytes = FAKE_META_USED, .metadata_size_bytes = metadata,
        };
        return cb(&info, userdata);
}

static int pools_report(struct fake *f, vss_storage_cb cb, void *userdata)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < f->n_pools; i++)
                r = pool_report(f, &f->pools[i], cb, userdata);
        return r;
}

int fake_add_storage(void *state, const char *name, const struct vss_option *options,
                     size_t n_options, struct vss_error_buf *err)
{
        static const char *const keys[] = { "Data", "Metadata", "DataSize", "MetadataSize",
                                            "ChunkSize", NULL };
        const char *v[5] = { NULL, NULL, "1G", "64M", NULL };
        struct fake *f = state;
        struct line line;
        char what[256];
        uint64_t bytes;
        snprintf(what, sizeof(what), "add pool %s", name ? name : "(null)");
        line_start(&line, "add_storage", name, NULL);
        int r = fake_options_read(options, n_options, keys, v, &line, what, err);
        if (r < 0)
                return r;
        if ((r = op_begin(f, &line, NULL, err)) < 0)
                return r;
        if (!name || !v[0] || !v[1])
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: give Data and "
                                           "Metadata", what));
        for (size_t k = 2; k < 5; k++)
                if (v[k] && fake_size_parse(v[k], &bytes) < 0)
                        return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: %s "
                                                   "\"%s\" is not a size", what, keys[k], v[k]));
        if (pool_find(f, name))
                return op_end(f, set_error(err, -EEXIST, FAKE_WHO "cannot %s: it exists "
                                           "already", what));
        if (fake_pool_add(f, name, v[0], v[1], v[2], v[3]) < 0)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory"));
        f->dirty = true;
        return op_end_saved(f, 0);
}

int fake_remove_storage(void *state, const char *name, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "remove_storage", name, NULL), NULL, err);
        if (r < 0)
                return r;
        struct fake_pool *p = name ? pool_find(f, name) : NULL;
        if (!p)
                return op_end(f, set_error(err, -ENOENT, FAKE_WHO "there is no pool '%s'",
                                           name ? name : "(null)"));
        size_t n = pool_volumes(f, name);
        if (n)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "pool '%s' still holds %zu "
                                           "volume(s); disable them first", name, n));
        pool_free_fields(p);
        memmove(p, p + 1, (size_t)(f->pools + f->n_pools - p - 1) * sizeof(*p));
        f->n_pools--;
        f->dirty = true;
        return op_end_saved(f, 0);
}
