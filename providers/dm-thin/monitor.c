/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor.c: what vssd calls every monitor interval while snapshots exist,
 * and the room check before a set.
 *
 * A pool above its high-water mark ([provider.dm-thin] high_water_percent,
 * of its data or of its metadata) first grows, when its data is a file and
 * max_data_size allows (the file is extended, the loop device told, the
 * pool's table reloaded with the new length); otherwise its oldest valid
 * snapshot is dropped (its device removed, its thin id deleted) and
 * reported invalid from then on, as a copy-on-write store that overflowed
 * is. So the origins never meet a full pool while there is a snapshot to
 * drop; and if one does (no snapshot left, writes faster than the monitor),
 * error_if_no_space fails its writes at once rather than hanging them.
 * A set is refused while its pool is above the mark.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/common/expose.h"
#include "providers/common/size.h"
#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

#define GROW_MIN (64ull << 20)
#define GROW_ROUND (1ull << 20)

typedef unsigned long long ull;

int monitor_check_room(DmThin *dt, const char *pool, struct vss_error_buf *err)
{
        PoolRecord p;
        PoolStatus st;
        int r = pool_get(dt, pool, &p, &st, err);

        if (r < 0)
                return r;
        if (st.read_only || st.needs_check)
                return provider_error(err, -EROFS, "thin pool %s is read-only%s: no snapshot "
                                      "can be made in it; see the kernel log", pool,
                                      st.needs_check ? " and needs thin_check" : "");
        unsigned pct = pool_status_percent(&st);
        if (st.out_of_space || pct >= dt->high_water)
                return provider_error(err, -ENOSPC, "thin pool %s is %u%% full (data %llu of "
                                      "%llu blocks, metadata %llu of %llu), at or above its "
                                      "high-water mark of %u%%: the set is refused so that its "
                                      "volumes never meet a full pool; delete snapshots or grow "
                                      "the pool", pool, pct, (ull)st.data_used,
                                      (ull)st.data_total, (ull)st.meta_used, (ull)st.meta_total,
                                      dt->high_water);
        return 0;
}

/* The size P's data may grow to: max_data_size[.NAME]; 0 when it may not grow. */
static uint64_t grow_limit(DmThin *dt, const PoolRecord *p)
{
        const char *max = thin_config(dt, "max_data_size", p->name);
        uint64_t bytes;

        if (!p->data_file || !max)
                return 0;
        if (size_parse(max, 0, &bytes) < 0) {
                provider_log(LOG_ERR, "[provider.%s] max_data_size = %s is not a size; write it "
                             "as 20G or unbounded", THIN_NAME, max);
                return 0;
        }
        return bytes;
}

static bool try_grow(DmThin *dt, PoolRecord *p, const PoolStatus *st)
{
        struct vss_error_buf err;
        uint64_t size = st->data_total * p->chunk_sectors * 512, limit = grow_limit(dt, p);
        uint64_t step = size / 4 > GROW_MIN ? size / 4 : GROW_MIN;
        uint64_t want = size + step < limit ? size + step : limit;

        want = want / GROW_ROUND * GROW_ROUND;
        if (want <= size)
                return false;
        if (pool_grow(dt, p, want, &err) < 0) {
                provider_log(LOG_WARNING, "thin pool %s is above its high-water mark and cannot "
                             "grow: %s", p->name, err.message);
                return false;
        }
        provider_log(LOG_NOTICE, "thin pool %s grown from %llu to %llu MiB of data (it was "
                     "above its high-water mark of %u%%)", p->name, (ull)(size >> 20),
                     (ull)(want >> 20), dt->high_water);
        return true;
}

struct oldest {
        const char *pool;
        SnapRecord best;
        bool found;
};

static int find_oldest(const void *rec, void *userdata)
{
        const SnapRecord *s = rec;
        struct oldest *o = userdata;
        char name[DM_NAME_MAX], mnt[PATH_MAX];
        DmInfo info;

        if (s->invalid || !s->created_usec || strcmp(s->pool, o->pool) != 0 ||
            (o->found && s->created_usec >= o->best.created_usec))
                return 0;
        /* An exposed one cannot lose its device: the next oldest goes instead. */
        if (thin_dm_name(name, sizeof(name), TSNAP_PREFIX, s->id) == 0 &&
            dm_info_get(name, &info, NULL) == 0 && info.exists &&
            (info.open_count > 0 || expose_find(info.major, info.minor, mnt, sizeof(mnt)) == 0))
                return 0;
        o->best = *s;
        o->found = true;
        return 0;
}

/* Drop the oldest snapshot of P: its blocks go back to the pool; it stays, invalid. */
static void drop_oldest(DmThin *dt, const PoolRecord *p, unsigned pct)
{
        struct oldest o = { .pool = p->name };
        struct vss_error_buf err;
        char name[DM_NAME_MAX];

        record_foreach(dt->state_dir, RECORD_SNAPSHOT, find_oldest, &o);
        if (!o.found) {
                provider_log(LOG_WARNING, "thin pool %s is %u%% full and has no snapshot left to "
                             "drop: its volumes fail writes (error_if_no_space) once it is full; "
                             "grow it or free space", p->name, pct);
                return;
        }
        thin_dm_name(name, sizeof(name), TSNAP_PREFIX, o.best.id);
        if (dm_remove(name, &err) < 0 || pool_delete_id(p->name, o.best.thin_id, &err) < 0) {
                provider_log(LOG_ERR, "cannot drop snapshot %s of %s from the full pool %s: %s",
                             o.best.id, o.best.origin, p->name, err.message);
                return;
        }
        o.best.invalid = true;
        if (record_write(dt->state_dir, RECORD_SNAPSHOT, o.best.id, &o.best, &err) < 0)
                provider_log(LOG_ERR, "%s", err.message);
        provider_log(LOG_WARNING, "thin pool %s was %u%% full (high-water mark %u%%): its oldest "
                     "snapshot %s of %s was dropped and is invalid now; delete it, and grow the "
                     "pool or keep fewer snapshots", p->name, pct, dt->high_water, o.best.id,
                     o.best.origin);
}

static int watch_pool(const void *rec, void *userdata)
{
        PoolRecord p = *(const PoolRecord *)rec;
        DmThin *dt = userdata;
        PoolStatus st;

        if (pool_get(dt, p.name, &p, &st, NULL) < 0)
                return 0;
        unsigned pct = pool_status_percent(&st);
        if (pct < dt->high_water && !st.out_of_space)
                return 0;
        /* Growing helps only data; a full metadata device needs snapshots gone. */
        bool data_high = st.data_used * 100 >= st.data_total * dt->high_water || st.out_of_space;
        bool meta_high = st.meta_used * 100 >= st.meta_total * dt->high_water;
        if (!meta_high && data_high && try_grow(dt, &p, &st))
                return 0;
        drop_oldest(dt, &p, pct);
        return 0;
}

int thin_monitor(DmThin *dt, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        thin_flush_sets(dt);
        record_foreach(dt->state_dir, RECORD_POOL, watch_pool, dt);
        return thin_query(dt, cb, userdata, err);
}
