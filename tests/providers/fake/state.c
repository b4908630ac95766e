/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.c: the state file that lets a restarted vssd find the snapshots again. */
#include "tests/providers/fake/fake.h"

/* --- the state file ------------------------------------------------------- */

/* One line per snapshot and per enabled volume, tab-separated; "-": not exposed. */
static void state_write(struct fake *f, FILE *out)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (snap->exists)
                                fprintf(out, "snapshot\t%s\t%s\t%s\t%u\t%llu\t%s\t%s\t%d\t%llu\n",
                                        snap->id, s->id, snap->origin, (unsigned)s->attributes,
                                        (unsigned long long)snap->creation_usec, snap->device,
                                        snap->exposed ? snap->exposed : "-", (int)snap->state,
                                        (unsigned long long)snap->cow_used);
                }
        for (size_t i = 0; i < f->n_enabled; i++)
                fprintf(out, "enabled\t%s%s%s\n", f->enabled[i], f->enabled_pools[i] ? "\t" : "",
                        f->enabled_pools[i] ? f->enabled_pools[i] : "");
        for (size_t i = 0; i < f->n_pools; i++)
                fprintf(out, "pool\t%s\t%s\t%s\t%s\t%s\n", f->pools[i].name, f->pools[i].data,
                        f->pools[i].metadata, f->pools[i].data_size, f->pools[i].metadata_size);
        for (size_t i = 0; i < f->n_storage; i++)
                fprintf(out, "storage\t%s\t%s\t%s\n", f->storage[i].volume,
                        f->storage[i].max_size, f->storage[i].diff_area);
}

/* Atomic replace: a reader sees the old file or the new one, never half of one. */
void state_save(struct fake *f)
{
        char tmp[4096];
        f->dirty = false;
        if (!f->state_path)
                return;
        snprintf(tmp, sizeof(tmp), "%s.tmp", f->state_path);
        FILE *out = fopen(tmp, "we");
        if (out)
                state_write(f, out);
        bool ok = out && fflush(out) == 0 && fsync(fileno(out)) == 0;
        if (out && fclose(out) != 0)
                ok = false;
        if (ok && rename(tmp, f->state_path) == 0)
                return;
        if (f->host && f->host->log)
                f->host->log(LOG_ERR, FAKE_WHO "cannot save its state to %s: %s",
                             f->state_path, strerror(errno));
        unlink(tmp);
}

/* A loaded set was made by an earlier instance: it is released. */
static struct fake_set *state_set(struct fake *f, const char *id, uint32_t attributes)
{
        struct fake_set *set = set_find(f, id);
        if (set)
                return set;
        if (!(set = calloc(1, sizeof(*set))) || !(set->id = strdup(id))) {
                free(set);
                return NULL;
        }
        set->attributes = attributes;
        set->phase = PHASE_RELEASED;
        sets_append(f, set);
        return set;
}

/* snapshot ID SET ORIGIN ATTRIBUTES CREATION DEVICE EXPOSED STATE COW_USED */
static int state_load_snapshot(struct fake *f, char **v)
{
        struct fake_set *set = state_set(f, v[2], (uint32_t)strtoul(v[4], NULL, 10));
        struct fake_snapshot *snaps = set ? realloc(set->snaps, (set->n_snaps + 1) *
                                                                sizeof(*snaps)) : NULL;
        if (!snaps)
                return -ENOMEM;
        set->snaps = snaps;
        bool exposed = strcmp(v[7], "-") != 0;
        struct fake_snapshot *snap = &snaps[set->n_snaps++]; /* freed with the set, even half-made */
        *snap = (struct fake_snapshot){
                .id = strdup(v[1]), .origin = strdup(v[3]), .device = strdup(v[6]),
                .exposed = exposed ? strdup(v[7]) : NULL,
                .creation_usec = strtoull(v[5], NULL, 10),
                .state = (enum vss_snapshot_state)atoi(v[8]),
                .cow_used = strtoull(v[9], NULL, 10), .exists = true,
        };
        return snap->id && snap->origin && snap->device && (!exposed || snap->exposed) ? 0
                                                                                  : -ENOMEM;
}

static int state_load_line(struct fake *f, char *line)
{
        char *v[11], *save = NULL;
        size_t n = 0;
        for (char *t = strtok_r(line, "\t", &save); t && n < 11; t = strtok_r(NULL, "\t", &save))
                v[n++] = t;
        if ((n == 2 || n == 3) && strcmp(v[0], "enabled") == 0)
                return enabled_add(f, v[1], n == 3 ? v[2] : NULL);
        if (n == 6 && strcmp(v[0], "pool") == 0)
                return fake_pool_add(f, v[1], v[2], v[3], v[4], v[5]);
        if (n == 4 && strcmp(v[0], "storage") == 0) {
                struct fake_storage *st = storage_find(f, v[1]) ? NULL : storage_add(f, v[1]);
                return st && storage_replace(&st->max_size, v[2]) == 0 &&
                       storage_replace(&st->diff_area, v[3]) == 0 ? 0 : -ENOMEM;
        }
        if (n == 10 && strcmp(v[0], "snapshot") == 0)
                return state_load_snapshot(f, v);
        return n == 0 ? 0 : -EINVAL;
}

int state_load(struct fake *f, struct vss_error_buf *err)
{
        FILE *in = fopen(f->state_path, "re");
        if (!in)
                return errno == ENOENT ? 0 : set_error(err, -errno, FAKE_WHO "cannot read "
                                                       "state file %s: %s", f->state_path,
                                                       strerror(errno));
        char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        int r = 0;
        while (r >= 0 && getline(&line, &size, in) > 0) {
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                r = state_load_line(f, line);
        }
        free(line);
        fclose(in);
        if (r == -EINVAL)
                return set_error(err, r, FAKE_WHO "state file %s line %u is malformed; "
                                 "remove the file to start afresh", f->state_path, lineno);
        if (r < 0)
                return set_error(err, r, FAKE_WHO "out of memory loading %s",
                                 f->state_path);
        return 0;
}
