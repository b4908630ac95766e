/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: roll back what a crashed vssd left half-made (vssd calls
 * recover() at start, before it looks at the snapshots; vssd --recover and
 * vssctl recover call it too, so it must be safe to run again and again).
 *
 * First the intent journals (recover-journal.c): they name every device a
 * set, a delete or a revert was changing, even an origin without the
 * provider's DM UUID and a store whose snapshot device was never made. Then
 * the kernel's dm list, for what no journal names (a vssd older than the
 * journals, a journal directory lost):
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

#include "providers/dm-snapshot/recover.h"
#include "providers/common/util.h"

void recovery_failed(Recovery *rc, int r)
{
        recover_log_failed(&rc->log, r, rc->err);
}

void recovery_resume(Recovery *rc, const char *name, const char *what)
{
        DmInfo info;
        int r;

        if (dm_info_get(name, &info, NULL) < 0 || !info.exists || !info.suspended)
                return;
        if ((r = dm_resume(name, rc->err)) < 0)
                return recovery_failed(rc, r);
        recover_log_act(&rc->log, "resumed %s %s, left suspended by a crash", what, name);
}

void recovery_restore_origin(Recovery *rc, const char *name)
{
        char real[DM_NAME_MAX];
        DmInfo info;
        int r;

        if (provider_printf(real, sizeof(real), "%s%s", name, REAL_SUFFIX) < 0 ||
            dm_info_get(real, &info, NULL) < 0 || !info.exists)
                return;
        if ((r = origin_restore_if_unused(name, rc->err)) < 0)
                return recovery_failed(rc, r);
        if (dm_info_get(real, &info, NULL) == 0 && !info.exists)
                recover_log_act(&rc->log, "restored the table of origin %s (no snapshot of it is "
                                "left)", name);
}

static int resume_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;
        SnapUuid u;

        if (strncmp(info->uuid, UUID_REAL, strlen(UUID_REAL)) == 0)
                recovery_resume(rc, info->uuid + strlen(UUID_REAL), "origin");
        else if (snap_uuid_parse(info->uuid, &u) && info->suspended && info->live_table)
                recovery_resume(rc, info->name, "snapshot device");
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
                return provider_error(rc->err, -ENOMEM, "out of memory");
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
        else
                recover_log_act(&rc->log, "removed snapshot device %s of unfinished set %s",
                                info->name, u.set_id);
        return 0;
}

static int restore_cb(const DmInfo *info, void *userdata)
{
        Recovery *rc = userdata;

        if (strncmp(info->uuid, UUID_REAL, strlen(UUID_REAL)) == 0)
                recovery_restore_origin(rc, info->uuid + strlen(UUID_REAL));
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
                provider_log(LOG_WARNING, "recover: persistent snapshot %s of %s has no device "
                             "(after a reboot?); its store is kept in %s", m->snapshot_id,
                             m->origin, m->diff_area);
                return 0;
        }
        meta_remove(m->diff_area, m->snapshot_id);
        recover_log_act(&rc->log, "deleted the store and meta file of snapshot %s in %s: it has no "
                        "device", m->snapshot_id, m->diff_area);
        return 0;
}

int dmsnap_recover(DmSnap *dm, struct vss_error_buf *err)
{
        Recovery rc = { .dm = dm, .err = err };
        int r;

        /* A live vssd's finished sets are written out first: their journals go with it. */
        dmsnap_flush_sets(dm);
        if ((r = recover_journals(&rc)) < 0 || (r = dm_list(resume_cb, &rc, err)) < 0 ||
            (r = dm_list(unfinished_cb, &rc, err)) < 0 ||
            (r = dm_list(remove_unfinished_cb, &rc, err)) < 0 ||
            (r = dm_list(restore_cb, &rc, err)) < 0 ||
            (r = dmsnap_meta_foreach(dm, files_cb, &rc)) < 0) {
                free(rc.unfinished);
                return r;
        }
        free(rc.unfinished);
        if (rc.log.n_actions || rc.log.n_failed)
                provider_log(rc.log.n_failed ? LOG_ERR : LOG_NOTICE, "recover: %u action(s) "
                             "taken on what an earlier vssd left, %u failed", rc.log.n_actions,
                             rc.log.n_failed);
        if (rc.log.r < 0)
                provider_error(err, rc.log.r, "recovery failed %u step(s) of what an earlier vssd "
                               "left; the first: %.300s. What it could not do stays in the "
                               "journals of %s for the next try", rc.log.n_failed,
                               rc.log.first.message, dm->journal_dir);
        /* What it put right, for Manager.Recover's answer (provider.h). */
        return rc.log.r < 0 ? rc.log.r : (int)rc.log.n_actions;
}
