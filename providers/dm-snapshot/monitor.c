/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor.c: what vssd calls every monitor interval while snapshots exist.
 *
 * A store starts small (initial_size) and grows, up to max_size, each time
 * it is grow_at_percent full: the file is extended and LOOP_SET_CAPACITY
 * tells the loop device. No table reload is needed: the kernel's exception
 * stores read the store device's size on every chunk they allocate
 * (dm-snap-persistent.c, dm-snap-transient.c). A store that fills anyway
 * turns its snapshot invalid, which the kernel does without harming the
 * origin; the report then says so and vssd signals it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/dm-snapshot/store.h"
#include "providers/dm-snapshot/util.h"

#define GROW_ROUND (1024 * 1024) /* stores grow in whole MiB */

static int grow_store(DmSnap *dm, const Snap *s, struct vss_error_buf *err)
{
        char path[PATH_MAX];
        CowStore store = COW_STORE_INIT;
        DmTable t = { 0 };
        uint64_t initial, max, want;
        int r;

        /* The snapshot is as big as its origin. */
        if ((r = dm_table_get(s->info.name, false, &t, err)) < 0)
                return r;
        r = dmsnap_store_sizes(dm, s->meta.origin, dm_table_size(&t) * 512, &initial, &max, err);
        dm_table_free(&t);
        if (r < 0)
                return r;
        if (s->size >= max)
                return 0; /* as big as allowed: it may overflow, and vssd will say so */
        want = s->size * 2 < max ? s->size * 2 : max;
        want = (want + GROW_ROUND - 1) / GROW_ROUND * GROW_ROUND;
        if ((r = meta_file(dm->diff_area, s->uuid.snapshot_id, ".cow", path, sizeof(path))) < 0 ||
            (r = store_find(&store, path, err)) < 0 || (r = store_grow(&store, want, err)) < 0)
                return r;
        dmsnap_log(LOG_INFO, "snapshot %s of %s: store grown to %" PRIu64 " MiB",
                   s->uuid.snapshot_id, s->meta.origin, want >> 20);
        return 0;
}

static int maintain_device(const DmInfo *info, void *userdata)
{
        DmSnap *dm = userdata;
        struct vss_error_buf err;
        Snap s;

        if (!info->live_table || snap_load(dm, info, &s, NULL) < 0 || !s.valid)
                return 0;
        if (s.used * 100 >= s.size * dm->grow_at_percent && grow_store(dm, &s, &err) < 0)
                dmsnap_log(LOG_WARNING, "snapshot %s of %s: cannot grow its store: %s",
                           s.uuid.snapshot_id, s.meta.origin, err.message);
        return 0;
}

int dmsnap_monitor(DmSnap *dm, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        dmsnap_flush_sets(dm);
        dm_list(maintain_device, dm, NULL);
        dmsnap_merges_advance(dm);
        return dmsnap_query(dm, cb, userdata, err);
}
