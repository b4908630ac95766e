/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: roll back what a crashed vssd left half-made (vssd calls
 * recover() at start, before it looks at the snapshots).
 *
 * The kernel's table list tells the state of every set, because prepare
 * creates all of a set's snapshot devices (tables inactive) before its
 * window, and commit makes them all live: a set with a snapshot device that
 * has no live table never finished, and all of it goes. In order:
 *   1. resume every suspended origin (a crash inside the window) and every
 *      suspended snapshot device (a crash while a revert started);
 *   2. remove the snapshot devices of unfinished sets;
 *   3. put back origins whose NAME-real no snapshot uses any more;
 *   4. delete stores and meta files that have no snapshot device, unless
 *      they belong to a persistent snapshot (a reboot ended its device;
 *      it is kept for reactivation) or to a running merge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/dm-snapshot/util.h"

typedef struct Recovery {
        DmSnap *dm;
        char (*unfinished)[ID_LEN + 1]; /* set ids */
        size_t n_unfinished;
        unsigned n_fixed;
        int r; /* first failure */
        struct vss_error_buf *err;
} Recovery;

static void recovery_failed(Recovery *rc, int r)
{
        dmsnap_log(LOG_ERR, "recover: %s", rc->err->message);
        if (rc->r == 0)
                rc->r = r;
}

static void resume_if_suspended(Recovery *rc, const char *name, const char *what)
{
        DmInfo info;
        int r;

        if (dm_info_get(name, &info, NULL) < 0 || !info.exists || !info.suspended)
                return;
        if ((r = dm_resume(name, rc->err)) < 0)
                return recovery_failed(rc, r);
        dmsnap_log(LOG_NOTICE, "recover: resumed %s %s, left suspended by a crash", what, name);
        rc->n_fixed++;
}

static int resume_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        SnapUuid u;

        if (strncmp(info->uuid, UUID_REAL, strlen(UUID_REAL)) == 0)
                resume_if_suspended(rc, info->uuid + strlen(UUID_REAL), "origin");
        else if (snap_uuid_parse(info->uuid, &u) && info->suspended && info->live_table)
                resume_if_suspended(rc, info->name, "snapshot");
        return 0;
}

static bool is_unfinished(const Recovery *rc, const char *set_id)
{
        for (size_t i = 0; i < rc->n_unfinished; i++)
                if (strcmp(rc->unfinished[i], set_id) == 0)
                        return true;
        return false;
}

static int unfinished_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        SnapUuid u;

        if (!snap_uuid_parse(info->uuid, &u) || info->live_table ||
            is_unfinished(rc, u.set_id))
                return 0;
        void *p = realloc(rc->unfinished, (rc->n_unfinished + 1) * sizeof(*rc->unfinished));
        if (!p)
                return dmsnap_error(rc->err, -ENOMEM, "out of memory");
        rc->unfinished = p;
        snprintf(rc->unfinished[rc->n_unfinished++], ID_LEN + 1, "%s", u.set_id);
        return 0;
}

static int remove_unfinished_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        SnapUuid u;
        int r;

        if (!snap_uuid_parse(info->uuid, &u) || !is_unfinished(rc, u.set_id))
                return 0;
        if ((r = dmsnap_snapshot_remove(rc->dm, u.snapshot_id, NULL, rc->err)) < 0)
                recovery_failed(rc, r);
        else {
                dmsnap_log(LOG_NOTICE, "recover: removed snapshot %s of unfinished set %s",
                           u.snapshot_id, u.set_id);
                rc->n_fixed++;
        }
        return 0;
}

static int restore_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        int r;

        if (strncmp(info->uuid, UUID_REAL, strlen(UUID_REAL)) == 0 &&
            (r = origin_restore_if_unused(info->uuid + strlen(UUID_REAL), rc->err)) < 0)
                recovery_failed(rc, r);
        return 0;
}

static int files_cb(const SnapMeta *m, void *userdata)
{
        Recovery *rc = userdata;
        char name[DM_NAME_MAX];
        DmInfo info;

        snprintf(name, sizeof(name), "%s%s", SNAP_NAME_PREFIX, m->snapshot_id);
        if (m->merge == META_MERGE_RUNNING || dm_info_get(name, &info, NULL) < 0 || info.exists)
                return 0;
        if ((m->attributes & VSS_ATTR_PERSISTENT) && m->created_usec != 0) {
                dmsnap_log(LOG_WARNING, "recover: persistent snapshot %s of %s has no device "
                           "(after a reboot?); its store is kept in %s", m->snapshot_id,
                           m->origin, m->diff_area);
                return 0;
        }
        meta_remove(m->diff_area, m->snapshot_id);
        rc->n_fixed++;
        return 0;
}

int dmsnap_recover(DmSnap *dm, struct vss_error_buf *err)
{
        Recovery rc = { .dm = dm, .err = err };
        int r;

        if ((r = dm_list(resume_cb, &rc, err)) < 0 || (r = dm_list(unfinished_cb, &rc, err)) < 0 ||
            (r = dm_list(remove_unfinished_cb, &rc, err)) < 0 ||
            (r = dm_list(restore_cb, &rc, err)) < 0 ||
            (r = dmsnap_meta_foreach(dm, files_cb, &rc)) < 0) {
                free(rc.unfinished);
                return r;
        }
        free(rc.unfinished);
        if (rc.n_fixed)
                dmsnap_log(LOG_NOTICE, "recover: %u leftovers of an earlier vssd cleaned up",
                           rc.n_fixed);
        return rc.r;
}
