/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor.c: what vssd calls every monitor interval while snapshots exist.
 *
 * A store starts small (initial_size) and grows each time it is
 * grow_at_percent full: the file is extended and LOOP_SET_CAPACITY tells the
 * loop device. No table reload is needed: the kernel's exception stores read
 * the store device's size on every chunk they allocate (dm-snap-persistent.c,
 * dm-snap-transient.c). Growth stays within the volume's maximum, which
 * bounds all its stores together (vssadmin's MaxSize; storage.c), and a
 * single store never grows past what its volume can need. A store that may
 * not grow is logged once, naming the maximum; if it fills, its snapshot
 * turns invalid, which the kernel does without harming the origin or the
 * other snapshots; the report then says so and vssd signals it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/common/size.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

#define GROW_ROUND (1024 * 1024) /* stores grow in whole MiB */

typedef unsigned long long ull;

/*
 * The most one store of a volume of BYTES can need: every chunk copied, plus
 * the exception store's metadata (16 bytes per 4 KiB chunk, 0.4%) and header.
 */
static uint64_t store_cap(uint64_t bytes)
{
        uint64_t cap = bytes + bytes / 128 + 2 * GROW_ROUND;
        return (cap + GROW_ROUND - 1) / GROW_ROUND * GROW_ROUND;
}

struct maintain {
        DmSnap *dm;
        StorageUse *uses; /* kept current as stores grow */
        size_t n_uses;
};

static void warn_at_maximum(DmSnap *dm, const Snap *s, const StorageUse *use, uint64_t max)
{
        if (!dmsnap_full_warn_once(dm, s->uuid.snapshot_id))
                return;
        provider_log(LOG_WARNING, "snapshot %s of /dev/mapper/%s: its store is %llu%% full and "
                     "cannot grow: the shadow storage of /dev/mapper/%s is at its maximum %s "
                     "(%llu of %llu bytes in %u store(s)); the snapshot becomes invalid when its "
                     "store fills. Raise the maximum (vssctl storage resize --for "
                     "/dev/mapper/%s --maxsize SIZE) or delete older snapshots",
                     s->uuid.snapshot_id, s->meta.origin, (ull)(s->used * 100 / s->size),
                     s->meta.origin, dmsnap_max_size(dm, s->meta.origin), (ull)use->allocated,
                     (ull)max, use->n, s->meta.origin);
}

static int grow_store(struct maintain *m, const Snap *s, struct vss_error_buf *err)
{
        char path[PATH_MAX];
        CowStore store = COW_STORE_INIT;
        DmTable t = { 0 };
        uint64_t initial, max, bytes, want;
        StorageUse *use = dmsnap_storage_use_find(m->uses, m->n_uses, s->meta.origin);
        int r;

        /* The snapshot is as big as its origin. */
        if ((r = dm_table_get(s->info.name, false, &t, err)) < 0)
                return r;
        bytes = dm_table_size(&t) * 512;
        dm_table_free(&t);
        if ((r = dmsnap_store_sizes(m->dm, s->meta.origin, bytes, &initial, &max, err)) < 0)
                return r;
        want = s->size * 2 < store_cap(bytes) ? s->size * 2 : store_cap(bytes);
        if (use && max != SIZE_UNBOUNDED) {
                uint64_t room = max > use->allocated ? max - use->allocated : 0;
                if (want > s->size + room)
                        want = (s->size + room) / GROW_ROUND * GROW_ROUND;
        }
        want = (want + GROW_ROUND - 1) / GROW_ROUND * GROW_ROUND;
        if (want <= s->size) {
                if (use && max != SIZE_UNBOUNDED && s->size < store_cap(bytes))
                        warn_at_maximum(m->dm, s, use, max);
                return 0; /* it may overflow, and vssd will say so */
        }
        if (!s->meta.diff_area[0])
                return provider_error(err, -ENOENT, "its meta file is gone: the store's "
                                      "directory is unknown");
        if ((r = meta_file(s->meta.diff_area, s->uuid.snapshot_id, ".cow", path,
                           sizeof(path))) < 0 ||
            (r = store_find(&store, path, err)) < 0 || (r = store_grow(&store, want, err)) < 0)
                return r;
        if (use)
                use->allocated += want - s->size;
        provider_log(LOG_INFO, "snapshot %s of %s: store grown to %" PRIu64 " MiB",
                     s->uuid.snapshot_id, s->meta.origin, want >> 20);
        return 0;
}

static int maintain_device(const DmInfo *info, void *userdata)
{
        struct maintain *m = userdata;
        struct vss_error_buf err;
        Snap s;

        if (!info->live_table || snap_load(m->dm, info, &s, NULL) < 0 || !s.valid)
                return 0;
        if (s.used * 100 >= s.size * m->dm->grow_at_percent && grow_store(m, &s, &err) < 0)
                provider_log(LOG_WARNING, "snapshot %s of %s: cannot grow its store: %s",
                             s.uuid.snapshot_id, s.meta.origin, err.message);
        return 0;
}

int dmsnap_monitor(DmSnap *dm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct maintain m = { dm, NULL, 0 };

        dmsnap_flush_sets(dm);
        /* Without the totals no store grows this time: better than passing a maximum. */
        if (dmsnap_storage_uses(dm, &m.uses, &m.n_uses) == 0)
                dm_list(maintain_device, &m, NULL);
        free(m.uses);
        dmsnap_merges_advance(dm);
        return dmsnap_query(dm, cb, userdata, err);
}
