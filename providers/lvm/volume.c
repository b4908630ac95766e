/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: which volumes the lvm provider takes.
 *
 * A volume is LVM's when its DM UUID is LVM-<VG uuid><LV uuid> (32
 * characters each, no dashes); a suffix (-real, -cow, -tpool, -tdata...)
 * marks a device LVM uses inside another LV. Anything else is answered at
 * once, without running an LVM tool: vssd asks this provider first about
 * every volume (its priority is above dm-snapshot's). For an LV, lvs says
 * what it is: linear and striped LVs get classic snapshots, thin LVs thin
 * ones; snapshots, pools, RAID, mirrors, caches and VDO are refused with
 * what to do instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "providers/common/util.h"
#include "providers/lvm/lvm.h"

#define UUID_PREFIX "LVM-"
#define UUID_PART 32 /* a VG's or LV's uuid without its dashes */

/* The VG of the LVM dm device NAME: up to the first single dash, "--" read as "-". */
static int dm_name_vg(const char *name, char *buf, size_t size)
{
        size_t n = 0;

        for (const char *c = name; *c; c++) {
                if (*c == '-' && c[1] == '-')
                        c++;
                else if (*c == '-')
                        break;
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                buf[n++] = *c;
        }
        buf[n] = '\0';
        return n ? 0 : -EINVAL;
}

static void uuid_undash(const char *uuid, char *buf)
{
        size_t n = 0;

        for (const char *c = uuid; *c && n < UUID_PART; c++)
                if (*c != '-')
                        buf[n++] = *c;
        buf[n] = '\0';
}

static LvRow *row_by_uuid(LvRow *rows, size_t n, const char *lv_part)
{
        char u[UUID_PART + 1];

        for (size_t i = 0; i < n; i++) {
                uuid_undash(rows[i].uuid, u);
                if (strcmp(u, lv_part) == 0)
                        return &rows[i];
        }
        return NULL;
}

/* Why a segment type other than linear, striped and thin is refused, and what to do. */
static const char *segtype_advice(const char *segtype)
{
        if (strcmp(segtype, "thin-pool") == 0)
                return "a thin pool holds volumes: snapshot the thin volumes in it";
        if (strncmp(segtype, "raid", 4) == 0 || strcmp(segtype, "mirror") == 0)
                return "RAID and mirror LVs are not supported yet; snapshot them with "
                       "lvcreate --snapshot outside linux-vss";
        if (strncmp(segtype, "cache", 5) == 0 || strcmp(segtype, "writecache") == 0)
                return "cached LVs are not supported; detach the cache (lvconvert "
                       "--splitcache) or snapshot it outside linux-vss";
        return "the lvm provider snapshots linear, striped and thin LVs only";
}

/* A thin LV's pool: active, with the -tpool device LVM made for it. */
static int check_pool(const char *volume, LvRow *rows, size_t n, LvmVolume *v,
                      struct vss_error_buf *err)
{
        char want[DM_UUID_MAX], vg_part[UUID_PART + 1], pool_part[UUID_PART + 1], path[300];
        LvRow *pool = lv_rows_find(rows, n, v->lv.vg, v->lv.pool);
        DmInfo info;
        int r;

        if (v->lv.thin_id < 0 || !pool)
                return provider_error(err, 0, "%s (%s/%s): lvs shows no thin device id or pool "
                                      "for this thin LV", volume, v->lv.vg, v->lv.name);
        if (lv_dm_path(pool->vg, pool->name, path, sizeof(path)) < 0 ||
            provider_printf(v->pool_dm, sizeof(v->pool_dm), "%s-tpool",
                            path + strlen("/dev/mapper/")) < 0)
                return provider_error(err, 0, "%s: the pool's device-mapper name is too long",
                                      volume);
        uuid_undash(pool->vg_uuid, vg_part);
        uuid_undash(pool->uuid, pool_part);
        snprintf(want, sizeof(want), UUID_PREFIX "%s%s-tpool", vg_part, pool_part);
        if ((r = dm_info_get(v->pool_dm, &info, err)) < 0)
                return r;
        if (!info.exists || strcmp(info.uuid, want) != 0)
                return provider_error(err, 0, "%s: the device of its thin pool %s/%s (%s) is not "
                                      "active as LVM makes it; reactivate the pool (lvchange "
                                      "-an, -ay)", volume, pool->vg, pool->name, v->pool_dm);
        return 1;
}

/* 1 if ROW (the LV behind VOLUME) is one the provider can snapshot. */
static int check_lv(Lvm *lvm, const char *volume, LvRow *rows, size_t n, LvmVolume *v,
                    struct vss_error_buf *err)
{
        const LvRow *lv = &v->lv;
        uint64_t size;

        if (tags_have(lv->tags, "vss"))
                return provider_error(err, 0, "%s is a snapshot made by linux-vss: snapshots "
                                      "of snapshots are not supported", volume);
        if (lv_row_is_classic_snapshot(lv))
                return provider_error(err, 0, "%s (%s/%s) is an LVM snapshot: snapshot its "
                                      "origin %s instead", volume, lv->vg, lv->name, lv->origin);
        if (lv->attr[0] == 'O' || lv->merging)
                return provider_error(err, 0, "%s (%s/%s) is being reverted to a snapshot "
                                      "(merging): wait until that finishes", volume, lv->vg,
                                      lv->name);
        if (lv_row_is_thin(lv)) {
                v->thin = true;
                return check_pool(volume, rows, n, v, err);
        }
        if (strcmp(lv->segtype, "linear") != 0 && strcmp(lv->segtype, "striped") != 0)
                return provider_error(err, 0, "%s (%s/%s) is an LVM %s LV: %s", volume, lv->vg,
                                      lv->name, lv->segtype, segtype_advice(lv->segtype));
        int r = lvm_new_snapshot_size(lvm, rows, n, lv, &size, err);
        return r == -ENOSPC ? 0 : r < 0 ? r : 1;
}

/* The LV behind the dm device INFO: its VG's rows into *RET_ROWS and its own. */
static int lookup_lv(Lvm *lvm, const char *volume, const DmInfo *info, LvmLookup *l,
                     struct vss_error_buf *err)
{
        char vg[LVM_NAME_MAX];
        int r;

        if (dm_name_vg(info->name, vg, sizeof(vg)) < 0)
                return provider_error(err, 0, "%s: %s is not a device-mapper name LVM gives",
                                      volume, info->name);
        if ((r = lvm_lvs(lvm, vg, &l->rows, &l->n, err)) < 0)
                return r;
        l->lv = row_by_uuid(l->rows, l->n, info->uuid + strlen(UUID_PREFIX) + UUID_PART);
        if (!l->lv)
                return provider_error(err, 0, "%s (%s) has an LVM device-mapper UUID, but lvs "
                                      "shows no such LV in volume group %s", volume, info->name,
                                      vg);
        l->info = *info;
        return 1;
}

int lvm_volume_lookup(Lvm *lvm, const char *volume, LvmLookup *l, struct vss_error_buf *err)
{
        struct stat st;
        DmInfo info;
        int r;

        memset(l, 0, sizeof(*l));
        if (stat(volume, &st) < 0)
                return provider_error(err, 0, "%s does not exist (%s)", volume, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return provider_error(err, 0, "%s is not a block device", volume);
        r = dm_info_by_devnum(major(st.st_rdev), minor(st.st_rdev), &info, NULL);
        if (r == -ENODEV || (r == 0 && strncmp(info.uuid, UUID_PREFIX, strlen(UUID_PREFIX)) != 0))
                return provider_error(err, 0, "%s is not an LVM logical volume", volume);
        if (r < 0)
                return provider_error(err, r, "%s: cannot read its device-mapper state: %s",
                                      volume, strerror(-r));
        if (strlen(info.uuid) != strlen(UUID_PREFIX) + 2 * UUID_PART)
                return provider_error(err, 0, "%s (%s) is a device LVM uses inside another LV "
                                      "(UUID %s): snapshot the LV itself", volume, info.name,
                                      info.uuid);
        return lookup_lv(lvm, volume, &info, l, err);
}

void lvm_lookup_free(LvmLookup *l)
{
        free(l->rows);
        memset(l, 0, sizeof(*l));
}

int lvm_volume_examine(Lvm *lvm, const char *volume, LvmVolume *v, struct vss_error_buf *err)
{
        LvmLookup l;
        int r = lvm_volume_lookup(lvm, volume, &l, err);

        memset(v, 0, sizeof(*v));
        if (r > 0 && l.info.suspended)
                r = provider_error(err, 0, "%s is suspended (LVM or another tool is changing "
                                   "it); try again once it is resumed", volume);
        if (r > 0) {
                v->lv = *l.lv;
                snprintf(v->dm_name, sizeof(v->dm_name), "%s", l.info.name);
                r = check_lv(lvm, volume, l.rows, l.n, v, err);
        }
        lvm_lookup_free(&l);
        return r;
}
