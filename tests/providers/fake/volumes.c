/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volumes.c: enable_volume and disable_volume, and the pools volumes live in. */
#include "tests/providers/fake/fake.h"

/* --- enabled volumes ------------------------------------------------------ */

static int enabled_find(struct fake *f, const char *name)
{
        for (size_t i = 0; i < f->n_enabled; i++)
                if (strcmp(f->enabled[i], name) == 0)
                        return (int)i;
        return -1;
}

int enabled_add(struct fake *f, const char *name, const char *pool)
{
        size_t n = f->n_enabled + 1;
        char **v = realloc(f->enabled, n * sizeof(*v));
        if (v)
                f->enabled = v;
        char **p = v ? realloc(f->enabled_pools, n * sizeof(*p)) : NULL;
        if (!p)
                return -ENOMEM;
        f->enabled_pools = p;
        v[f->n_enabled] = strdup(name);
        p[f->n_enabled] = pool ? strdup(pool) : NULL;
        f->n_enabled++; /* counted now, so that fake_free() frees a half-made one */
        return v[n - 1] && (!pool || p[n - 1]) ? 0 : -ENOMEM;
}

static bool volume_has_snapshots(struct fake *f, const char *volume)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0)
                                return true;
        return false;
}

/* --- pools (add_storage) ----------------------------------------------------- */

struct fake_pool *pool_find(struct fake *f, const char *name)
{
        for (size_t i = 0; i < f->n_pools; i++)
                if (strcmp(f->pools[i].name, name) == 0)
                        return &f->pools[i];
        return NULL;
}

void pool_free_fields(struct fake_pool *p)
{
        free(p->name);
        free(p->data);
        free(p->metadata);
        free(p->data_size);
        free(p->metadata_size);
}

int fake_pool_add(struct fake *f, const char *name, const char *data, const char *metadata,
                  const char *data_size, const char *metadata_size)
{
        struct fake_pool *v = realloc(f->pools, (f->n_pools + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        f->pools = v;
        struct fake_pool *p = &v[f->n_pools++]; /* counted now: fake_free() frees a half-made one */
        *p = (struct fake_pool){ strdup(name), strdup(data), strdup(metadata), strdup(data_size),
                                 strdup(metadata_size) };
        return p->name && p->data && p->metadata && p->data_size && p->metadata_size ? 0
                                                                                    : -ENOMEM;
}

/* The volumes enabled in pool NAME. */
size_t pool_volumes(struct fake *f, const char *name)
{
        size_t n = 0;
        for (size_t i = 0; i < f->n_enabled; i++)
                n += f->enabled_pools[i] && strcmp(f->enabled_pools[i], name) == 0;
        return n;
}

/*
 * The value of each option of OPTIONS into the slot of its key in KEYS (N
 * of them, NULL-terminated); an unknown key is refused, naming it and the
 * keys taken. The log LINE gets every option as KEY=VALUE.
 */
int fake_options_read(const struct vss_option *options, size_t n_options,
                      const char *const *keys, const char **values, struct line *line,
                      const char *what, struct vss_error_buf *err)
{
        char known[256] = "";
        for (size_t k = 0; keys[k]; k++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         k ? ", " : "", keys[k]);
        for (size_t i = 0; i < n_options; i++) {
                size_t k = 0;
                while (keys[k] && strcmp(keys[k], options[i].key) != 0)
                        k++;
                if (!keys[k])
                        return set_error(err, -EINVAL, FAKE_WHO "cannot %s: unknown option "
                                         "\"%s\"; it takes %s", what, options[i].key, known);
                values[k] = options[i].value;
        }
        for (size_t i = 0; i < n_options; i++) {
                char word[1024];
                snprintf(word, sizeof(word), "%s=%s", options[i].key, options[i].value);
                line_add(line, word);
        }
        return 0;
}

/*
 * /dev/fakeplain/NAME becomes the volume /dev/fake/NAME; with ThinPool it
 * lives in that pool, and with Size too DEVICE is the NAME of a new volume.
 */
int fake_enable_volume(void *state, const char *device, const struct vss_option *options,
                       size_t n_options, char *volume, size_t size,
                       struct vss_error_buf *err)
{
        static const char *const keys[] = { "Label", "ThinPool", "Size", NULL };
        const char *values[3] = { NULL, NULL, NULL };
        struct fake *f = state;
        struct line line;
        char what[512];
        snprintf(what, sizeof(what), "enable %s", device ? device : "(null)");
        line_start(&line, "enable_volume", device, NULL);
        int r = fake_options_read(options, n_options, keys, values, &line, what, err);
        if (r < 0)
                return r;
        const char *pool = values[1];
        if (values[2] && !pool)
                return set_error(err, -EINVAL, FAKE_WHO "cannot %s: Size makes a new volume in "
                                 "a pool: give ThinPool too", what);
        if ((r = op_begin(f, &line, NULL, err)) < 0)
                return r;
        size_t plen = strlen(FAKE_PLAIN_PREFIX);
        const char *name = !device ? NULL : values[2] ? device
                         : strncmp(device, FAKE_PLAIN_PREFIX, plen) == 0 ? device + plen : NULL;
        if (!name || !name[0] || strchr(name, '/'))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot enable %s: it "
                                           "wraps only " FAKE_PLAIN_PREFIX "NAME devices (as "
                                           FAKE_PREFIX "NAME)%s", device ? device : "(null)",
                                           values[2] ? ", and a new volume's NAME has no '/'"
                                                     : ""));
        if (pool && !pool_find(f, pool))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: there is no "
                                           "pool '%s' (add_storage makes one)", what, pool));
        if (enabled_find(f, name) >= 0)
                return op_end(f, set_error(err, -EEXIST, FAKE_WHO "%s is enabled "
                                           "already, as " FAKE_PREFIX "%s; use that volume",
                                           device, name));
        if ((size_t)snprintf(volume, size, FAKE_PREFIX "%s", name) >= size)
                return op_end(f, set_error(err, -ENAMETOOLONG, FAKE_WHO "the volume "
                                           "name for %s is too long", device));
        if (enabled_add(f, name, pool) < 0)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory "
                                           "enabling %s", device));
        f->dirty = true;
        return op_end_saved(f, 0);
}

int fake_disable_volume(void *state, const char *volume, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "disable_volume", volume, NULL), NULL, err);
        if (r < 0)
                return r;
        size_t plen = strlen(FAKE_PREFIX);
        int i = volume && strncmp(volume, FAKE_PREFIX, plen) == 0
                        ? enabled_find(f, volume + plen) : -1;
        if (i < 0)
                return op_end(f, set_error(err, -ENOENT, FAKE_WHO "%s is not an enabled "
                                           "volume (EnableVolume makes " FAKE_PREFIX "NAME of "
                                           FAKE_PLAIN_PREFIX "NAME)", volume ? volume : "(null)"));
        if (volume_has_snapshots(f, volume))
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "%s still has "
                                           "snapshots; delete them first", volume));
        free(f->enabled[i]);
        free(f->enabled_pools[i]);
        memmove(f->enabled + i, f->enabled + i + 1, (f->n_enabled - i - 1) * sizeof(char *));
        memmove(f->enabled_pools + i, f->enabled_pools + i + 1,
                (f->n_enabled - i - 1) * sizeof(char *));
        f->n_enabled--;
        f->dirty = true;
        return op_end_saved(f, 0);
}
