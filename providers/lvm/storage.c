/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage of LVM volumes (vssadmin's "ShadowStorage").
 *
 * A classic snapshot's copy-on-write store is an LV in its origin's volume
 * group, so the "diff area" of an LV is its VG's free space, and what an
 * administrator sets is the maximum of all the LV's snapshots together:
 * "15%" of the origin, "10G", or "unbounded". It is kept in LVM, as the tag
 * vss_maxsize on the origin (report.h), so it follows the VG wherever it
 * goes; without one, [provider.lvm] max_size applies. Snapshots of thin LVs
 * take blocks from their pool as the origin changes: they have no store of
 * their own, and their pool is listed (kind "thin-pool") instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/common/size.h"
#include "providers/common/util.h"
#include "providers/lvm/lvm.h"

typedef unsigned long long ull;

void lvm_max_size(Lvm *lvm, const LvRow *origin, char *buf, size_t size)
{
        char tag[32];

        if (!tags_value(origin->tags, "vss_maxsize", tag, sizeof(tag)) ||
            maxsize_from_tag(tag, buf, size) < 0)
                snprintf(buf, size, "%s", lvm->max_size);
}

static bool is_our_snapshot_of(const LvRow *row, const LvRow *origin)
{
        return lv_row_is_classic_snapshot(row) && strcmp(row->vg, origin->vg) == 0 &&
               strcmp(row->origin, origin->name) == 0 && tags_have(row->tags, "vss");
}

void lvm_snapshot_use(const LvRow *rows, size_t n, const LvRow *origin, uint64_t *allocated,
                      uint64_t *used, unsigned *count)
{
        *allocated = *used = 0;
        *count = 0;
        for (size_t i = 0; i < n; i++)
                if (is_our_snapshot_of(&rows[i], origin)) {
                        *allocated += rows[i].size;
                        if (rows[i].data_hundredths > 0)
                                *used += rows[i].size / 10000 * (uint64_t)rows[i].data_hundredths;
                        (*count)++;
                }
}

/* ORIGIN's maximum in bytes (SIZE_UNBOUNDED), and the text it was written as. */
static int max_bytes(Lvm *lvm, const LvRow *origin, char *text, size_t size, uint64_t *ret,
                     struct vss_error_buf *err)
{
        lvm_max_size(lvm, origin, text, size);
        if (size_parse(text, origin->size, ret) < 0)
                return provider_error(err, -EINVAL, "the maximum %s of %s/%s is not a size; set "
                                      "it again (vssctl storage resize) or fix [provider.lvm] "
                                      "max_size", text, origin->vg, origin->name);
        return 0;
}

static uint64_t round_down(uint64_t v, uint64_t unit)
{
        return unit ? v / unit * unit : v;
}

int lvm_new_snapshot_size(Lvm *lvm, const LvRow *rows, size_t n, const LvRow *origin,
                          uint64_t *ret, struct vss_error_buf *err)
{
        char max_text[32];
        uint64_t initial, max, allocated, used, room, size;
        unsigned count;
        int r;

        if (size_parse(lvm->initial_size, origin->size, &initial) < 0 ||
            initial == SIZE_UNBOUNDED)
                return provider_error(err, -EINVAL, "[provider.lvm] initial_size = %s is not a "
                                      "size; write it as 512M, 2G or 20%% (of the volume) in "
                                      "vssd.conf", lvm->initial_size);
        if ((r = max_bytes(lvm, origin, max_text, sizeof(max_text), &max, err)) < 0)
                return r;
        lvm_snapshot_use(rows, n, origin, &allocated, &used, &count);
        room = max == SIZE_UNBOUNDED ? UINT64_MAX : max > allocated ? max - allocated : 0;
        size = initial < MIN_SNAPSHOT_BYTES ? MIN_SNAPSHOT_BYTES : initial;
        if (size > room)
                size = room;
        if (size < MIN_SNAPSHOT_BYTES)
                return provider_error(err, -ENOSPC, "the shadow storage of %s/%s is full: its %u "
                                      "snapshot(s) take %llu bytes and its maximum is %s (%llu "
                                      "bytes); delete older snapshots or raise it (vssctl "
                                      "storage resize --for %s --maxsize SIZE)", origin->vg,
                                      origin->name, count, (ull)allocated, max_text, (ull)max,
                                      origin->dm_path);
        if (size > origin->vg_free)
                size = round_down(origin->vg_free, origin->vg_extent_size);
        if (size < MIN_SNAPSHOT_BYTES)
                return provider_error(err, -ENOSPC, "volume group %s has %llu bytes free, and a "
                                      "snapshot of %s/%s needs at least %u: add a physical "
                                      "volume (vgextend) or free space in it", origin->vg,
                                      (ull)origin->vg_free, origin->vg, origin->name,
                                      MIN_SNAPSHOT_BYTES);
        *ret = round_down(size, origin->vg_extent_size);
        return 0;
}

/* --- list ------------------------------------------------------------------------- */

static int list_origin(Lvm *lvm, const LvRow *rows, size_t n, const LvRow *origin,
                       vss_storage_cb cb, void *userdata)
{
        char max_text[32];
        uint64_t max, allocated, used;
        unsigned count;
        struct vss_storage_info si;

        lvm_snapshot_use(rows, n, origin, &allocated, &used, &count);
        if (count == 0 && !tags_value(origin->tags, "vss_maxsize", max_text, sizeof(max_text)))
                return 0;
        if (max_bytes(lvm, origin, max_text, sizeof(max_text), &max, NULL) < 0)
                max = SIZE_UNBOUNDED;
        si = (struct vss_storage_info){
                .volume = origin->dm_path, .name = "", .kind = "diff-area",
                .diff_area = origin->vg, .used_bytes = used, .allocated_bytes = allocated,
                .max_size = max_text, .max_bytes = max,
        };
        return cb(&si, userdata);
}

/* A pool that holds snapshots of the provider: its data and metadata use. */
static int list_pool(const LvRow *rows, size_t n, const LvRow *pool, vss_storage_cb cb,
                     void *userdata)
{
        char name[2 * LVM_NAME_MAX];
        bool used = false;

        for (size_t i = 0; i < n && !used; i++)
                used = lv_row_is_thin(&rows[i]) && strcmp(rows[i].vg, pool->vg) == 0 &&
                       strcmp(rows[i].pool, pool->name) == 0 && tags_have(rows[i].tags, "vss");
        if (!used)
                return 0;
        snprintf(name, sizeof(name), "%s/%s", pool->vg, pool->name);
        struct vss_storage_info si = {
                .volume = "", .name = name, .kind = "thin-pool", .diff_area = "",
                .used_bytes = pool->data_hundredths > 0
                                      ? pool->size / 10000 * (uint64_t)pool->data_hundredths : 0,
                .allocated_bytes = pool->size, .max_size = "", .max_bytes = pool->size,
                .metadata_used_bytes = pool->metadata_hundredths > 0
                                       ? pool->metadata_size / 10000 *
                                                 (uint64_t)pool->metadata_hundredths : 0,
                .metadata_size_bytes = pool->metadata_size,
        };
        return cb(&si, userdata);
}

int lvm_list_storage(Lvm *lvm, vss_storage_cb cb, void *userdata, struct vss_error_buf *err)
{
        LvRow *rows = NULL;
        size_t n = 0;
        int r = lvm_lvs(lvm, NULL, &rows, &n, err);

        for (size_t i = 0; r == 0 && i < n; i++) {
                const LvRow *lv = &rows[i];
                if (strcmp(lv->segtype, "thin-pool") == 0)
                        r = list_pool(rows, n, lv, cb, userdata);
                else if (!lv_row_is_classic_snapshot(lv) && !lv_row_is_thin(lv))
                        r = list_origin(lvm, rows, n, lv, cb, userdata);
        }
        free(rows);
        return r < 0 ? r : 0;
}

/* --- set --------------------------------------------------------------------------- */

static int check_diff_area(const char *volume, const LvRow *lv, const char *diff_area,
                           struct vss_error_buf *err)
{
        if (!diff_area || strcmp(diff_area, lv->vg) == 0)
                return 0;
        return provider_error(err, -EINVAL, "%s: snapshots of an LVM volume are LVs in its own "
                              "volume group %s, so its diff area is %s and cannot be %s; to give "
                              "them more room, add a physical volume (vgextend %s DEVICE)",
                              volume, lv->vg, lv->vg, diff_area, lv->vg);
}

static int write_max(Lvm *lvm, const LvRow *lv, const char *max_size, struct vss_error_buf *err)
{
        char tag[64], old_tag[64], old[32], full[2 * LVM_NAME_MAX];
        const char *args[10];
        size_t k = 0;

        if (maxsize_to_tag(max_size, tag + 12, sizeof(tag) - 12) < 0)
                return provider_error(err, -EINVAL, "%s is not a maximum", max_size);
        memcpy(tag, "vss_maxsize=", 12);
        snprintf(full, sizeof(full), "%s/%s", lv->vg, lv->name);
        args[k++] = "lvchange";
        if (tags_value(lv->tags, "vss_maxsize", old, sizeof(old))) {
                snprintf(old_tag, sizeof(old_tag), "vss_maxsize=%s", old);
                args[k++] = "--deltag";
                args[k++] = old_tag;
        }
        args[k++] = "--addtag";
        args[k++] = tag;
        args[k++] = full;
        args[k] = NULL;
        return lvm_run(lvm, args, NULL, err);
}

static int check_max(const char *volume, const LvmLookup *l, const char *max_size,
                     struct vss_error_buf *err)
{
        uint64_t max, allocated, used;
        unsigned count;
        int r = size_parse(max_size, l->lv->size, &max);

        if (r < 0)
                return provider_error(err, -EINVAL, "%s is not a maximum: write 512M, 10G, 15%% "
                                      "(of the volume) or unbounded", max_size);
        lvm_snapshot_use(l->rows, l->n, l->lv, &allocated, &used, &count);
        if (max != SIZE_UNBOUNDED && max < allocated)
                return provider_error(err, -EINVAL, "%s: its %u snapshot(s) take %llu bytes "
                                      "already, more than %s (%llu bytes); delete snapshots "
                                      "first or choose a larger maximum", volume, count,
                                      (ull)allocated, max_size, (ull)max);
        return 0;
}

int lvm_set_storage(Lvm *lvm, const char *volume, const char *max_size, const char *diff_area,
                    struct vss_error_buf *err)
{
        LvmLookup l;
        int r = lvm_volume_lookup(lvm, volume, &l, err);

        if (r == 0)
                r = -VSS_E_VOLUME_NOT_SUPPORTED;
        if (r > 0 && lv_row_is_thin(l.lv))
                r = provider_error(err, -EINVAL, "%s is a thin LV: its snapshots share the "
                                   "blocks of its pool %s/%s and have no storage of their own; "
                                   "to give them room, extend the pool (lvextend)", volume,
                                   l.lv->vg, l.lv->pool);
        if (r > 0)
                r = check_diff_area(volume, l.lv, diff_area, err);
        if (r == 0 && max_size && (r = check_max(volume, &l, max_size, err)) == 0)
                r = write_max(lvm, l.lv, max_size, err);
        lvm_lookup_free(&l);
        return r;
}
