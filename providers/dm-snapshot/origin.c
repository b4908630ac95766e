/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * origin.c: examine volumes, and put an origin back when its last snapshot
 * goes.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "providers/dm-snapshot/origin.h"
#include "providers/common/expose.h"
#include "providers/common/util.h"

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The provider's wrapper stacked on the plain device MAJOR:MINOR, if any. */
static bool wrapper_of(unsigned major, unsigned minor, char *name, size_t size)
{
        char path[64];
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major, minor);
        DIR *d = opendir(path);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                unsigned hmaj, hmin;
                char dev[PATH_MAX];
                DmInfo info;
                snprintf(dev, sizeof(dev), "%s/%s/dev", path, de->d_name);
                FILE *f = fopen(dev, "re");
                if (!f)
                        continue;
                int n = fscanf(f, "%u:%u", &hmaj, &hmin);
                fclose(f);
                if (n == 2 && dm_info_by_devnum(hmaj, hmin, &info, NULL) == 0 &&
                    has_prefix(info.uuid, UUID_WRAP)) {
                        snprintf(name, size, "%s", info.name);
                        found = true;
                }
        }
        closedir(d);
        return found;
}

static int refuse_plain_device(const char *volume, const struct stat *st,
                               struct vss_error_buf *err)
{
        char wrapper[DM_NAME_MAX], mnt[PATH_MAX];
        unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);

        if (wrapper_of(maj, min, wrapper, sizeof(wrapper)))
                return provider_error(err, 0, "%s is wrapped by /dev/mapper/%s: mount and "
                                      "snapshot /dev/mapper/%s instead", volume, wrapper, wrapper);
        if (expose_find(maj, min, mnt, sizeof(mnt)) == 0)
                return provider_error(err, 0, "%s is a plain block device, mounted at %s: a "
                                      "device-mapper snapshot needs a device-mapper layer under "
                                      "the file system; unmount it, run 'vssctl enable %s' and "
                                      "mount the volume it prints instead", volume, mnt, volume);
        return provider_error(err, 0, "%s is a plain block device: a device-mapper snapshot "
                              "needs a device-mapper layer under the file system; run 'vssctl "
                              "enable %s' and use the volume it prints", volume, volume);
}

/* Refusals by DM UUID: devices other tools (or the provider itself) own. */
static int refuse_by_uuid(const char *volume, const DmInfo *info, struct vss_error_buf *err)
{
        static const struct { const char *prefix, *why; } owners[] = {
                { "LVM-", "is an LVM logical volume: LVM must stay the owner of its "
                          "devices; snapshot it with the lvm provider: vssd picks it by "
                          "priority, or name it with --provider lvm" },
                { "CRYPT-", "is a dm-crypt device, which this provider does not stack on "
                            "yet; snapshot the device under it instead" },
                { "mpath-", "is a multipath device, which this provider does not stack on" },
                { UUID_SNAP, "is a snapshot made by linux-vss: snapshots of snapshots are "
                             "not supported" },
                { UUID_REAL, "is an internal device of linux-vss (the origin's old table)" },
        };
        for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
                if (has_prefix(info->uuid, owners[i].prefix))
                        return provider_error(err, 0, "%s (%s) %s", volume, info->name,
                                              owners[i].why);
        return 1;
}

/* 1 if TABLE is one the provider can stack on; fills the -real state. */
static int check_table(const char *volume, Origin *o, const DmTable *t,
                       struct vss_error_buf *err)
{
        if (t->n == 0)
                return provider_error(err, 0, "%s has no table loaded", volume);
        if (t->n == 1 && strcmp(t->targets[0].type, "snapshot-origin") == 0) {
                DmInfo real;
                unsigned maj, min;
                if (sscanf(t->targets[0].params, "%u:%u", &maj, &min) != 2 ||
                    dm_info_by_devnum(maj, min, &real, NULL) < 0 ||
                    strcmp(real.uuid, o->real_uuid) != 0)
                        return provider_error(err, 0, "%s is the origin of snapshots another "
                                              "tool made (%s); it cannot be snapshotted here",
                                              volume, t->targets[0].params);
                o->has_real = true;
                return 1;
        }
        for (size_t i = 0; i < t->n; i++) {
                const char *type = t->targets[i].type;
                if (strcmp(type, "snapshot-merge") == 0)
                        return provider_error(err, 0, "%s is being reverted to a snapshot "
                                              "(merging): wait until that finishes", volume);
                if (strcmp(type, "linear") != 0 && strcmp(type, "striped") != 0)
                        return provider_error(err, 0, "%s has a %s target in its table; this "
                                              "provider stacks on linear and striped devices "
                                              "only", volume, type);
        }
        return 1;
}

static int examine_dm(const char *volume, Origin *o, struct vss_error_buf *err)
{
        DmTable t = { 0 };
        DmInfo other;
        int r;

        if ((r = refuse_by_uuid(volume, &o->info, err)) <= 0)
                return r;
        if (strlen(o->info.name) > ORIGIN_NAME_MAX ||
            strlen(o->info.name) + strlen(REAL_SUFFIX) >= DM_NAME_MAX)
                return provider_error(err, 0, "%s: the device-mapper name %s is too long to "
                                      "stack on (at most %zu characters)", volume, o->info.name,
                                      (size_t)ORIGIN_NAME_MAX - strlen(REAL_SUFFIX));
        snprintf(o->real, sizeof(o->real), "%s%s", o->info.name, REAL_SUFFIX);
        snprintf(o->real_uuid, sizeof(o->real_uuid), "%s%s", UUID_REAL, o->info.name);
        if (o->info.suspended)
                return provider_error(err, 0, "%s is suspended (another tool is changing it); "
                                      "try again once it is resumed", volume);
        if ((r = dm_table_get(o->info.name, false, &t, err)) < 0)
                return r;
        r = check_table(volume, o, &t, err);
        o->sectors = dm_table_size(&t);
        dm_table_free(&t);
        if (r <= 0)
                return r;
        if (!o->has_real) {
                if ((r = dm_info_get(o->real, &other, err)) < 0)
                        return r;
                if (other.exists)
                        return provider_error(err, 0, "%s: a device named %s exists already "
                                              "and is not a snapshot-origin's table linux-vss "
                                              "made; remove or rename it", volume, o->real);
        }
        return 1;
}

int origin_examine(const char *volume, Origin *o, struct vss_error_buf *err)
{
        struct stat st;
        int r;

        memset(o, 0, sizeof(*o));
        if (stat(volume, &st) < 0)
                return provider_error(err, 0, "%s does not exist (%s)", volume, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return provider_error(err, 0, "%s is not a block device", volume);
        r = dm_info_by_devnum(major(st.st_rdev), minor(st.st_rdev), &o->info, err);
        if (r == -ENODEV)
                return refuse_plain_device(volume, &st, err);
        if (r < 0)
                return r;
        return examine_dm(volume, o, err);
}

int origin_real_devnum(const char *name, char *buf, size_t size, struct vss_error_buf *err)
{
        char real_name[DM_NAME_MAX];
        DmInfo real;
        int r;

        if (provider_printf(real_name, sizeof(real_name), "%s%s", name, REAL_SUFFIX) < 0)
                return provider_error(err, -ENAMETOOLONG, "origin name %s too long", name);
        if ((r = dm_info_get(real_name, &real, err)) < 0)
                return r;
        if (!real.exists)
                return provider_error(err, -ENOENT, "%s is missing", real_name);
        return provider_printf(buf, size, "%" PRIu32 ":%" PRIu32, real.major, real.minor);
}

/* --- is NAME-real still needed? --------------------------------------------------- */

struct real_use {
        char devnum[32]; /* of NAME-real, as tables name devices */
        bool used;
};

static bool table_uses(const char *name, bool inactive, const char *devnum)
{
        DmTable t = { 0 };
        bool used = false;

        if (dm_table_get(name, inactive, &t, NULL) < 0)
                return false;
        for (size_t i = 0; i < t.n && !used; i++)
                used = strncmp(t.targets[i].params, devnum, strlen(devnum)) == 0 &&
                       t.targets[i].params[strlen(devnum)] == ' ';
        dm_table_free(&t);
        return used;
}

static int real_use_cb(const DmInfo *info, void *userdata)
{
        struct real_use *u = userdata;

        if (!has_prefix(info->uuid, UUID_SNAP))
                return 0;
        if ((info->live_table && table_uses(info->name, false, u->devnum)) ||
            (info->inactive_table && table_uses(info->name, true, u->devnum)))
                u->used = true;
        return u->used;
}

int origin_real_in_use(uint32_t major, uint32_t minor, struct vss_error_buf *err)
{
        struct real_use u = { .used = false };
        snprintf(u.devnum, sizeof(u.devnum), "%" PRIu32 ":%" PRIu32, major, minor);
        int r = dm_list(real_use_cb, &u, err);
        return r < 0 ? r : u.used;
}

/* Suspend with lockfs; an already frozen file system (EBUSY) is suspended as it is. */
static int suspend_origin(const char *name, struct vss_error_buf *err)
{
        int r = dm_suspend(name, true, err);
        return r == -EBUSY ? dm_suspend(name, false, err) : r;
}

static int swap_back(const char *name, const DmTable *table, struct vss_error_buf *err)
{
        int r = dm_load(name, table, false, err);
        if (r < 0)
                return r;
        if ((r = suspend_origin(name, err)) < 0) {
                dm_clear(name, NULL);
                return r;
        }
        return dm_resume(name, err);
}

int origin_restore_if_unused(const char *name, struct vss_error_buf *err)
{
        char real[DM_NAME_MAX];
        DmInfo info;
        DmTable live = { 0 }, old = { 0 };
        int r;

        if (provider_printf(real, sizeof(real), "%s%s", name, REAL_SUFFIX) < 0)
                return 0;
        if ((r = dm_info_get(real, &info, err)) < 0 || !info.exists)
                return r;
        if ((r = origin_real_in_use(info.major, info.minor, err)) != 0)
                return r < 0 ? r : 0;
        if ((r = dm_table_get(name, false, &live, err)) < 0)
                return r;
        bool is_origin = live.n == 1 && strcmp(live.targets[0].type, "snapshot-origin") == 0;
        bool merging = live.n == 1 && strcmp(live.targets[0].type, "snapshot-merge") == 0;
        dm_table_free(&live);
        if (merging) /* the merge owns the origin until it ends (snapshots.c finishes it) */
                return 0;
        if (is_origin) {
                if ((r = dm_table_get(real, false, &old, err)) < 0)
                        return r;
                r = swap_back(name, &old, err);
                dm_table_free(&old);
                if (r < 0)
                        return r;
        } else {
                /* Never switched (a set aborted before its window): drop the loaded table. */
                dm_clear(name, NULL);
        }
        return dm_remove(real, err);
}
