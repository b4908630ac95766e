/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * intent.h: the lvm provider's intent journals (providers/common/journal.h),
 * in [provider.lvm] journal_dir, one per set: JOURNAL_DIR/<set id>.journal,
 * from prepare until the set is finished or undone. recover.c reads them
 * after a crash. Each record is written before the step it names:
 *
 *   set SET ATTRIBUTES(hex) N            prepare begins, N volumes
 *   thin SNAPSHOT VG LV ORIGIN_DM POOL_DM ORIGIN_ID
 *                                        lvcreate makes the thin snapshot VG/LV of
 *                                        the LV whose device is ORIGIN_DM (thin id
 *                                        ORIGIN_ID) in the pool device POOL_DM
 *   ids SNAPSHOT SNAP_ID                 LVM gave it the thin id SNAP_ID: the window
 *                                        will suspend ORIGIN_DM, send POOL_DM "delete
 *                                        SNAP_ID" and "create_snap SNAP_ID ORIGIN_ID"
 *                                        and resume ORIGIN_DM
 *   ready USEC                           prepare is done: the window may come
 *   thick SNAPSHOT VG LV                 finish makes the classic snapshot VG/LV
 *
 * Everything a set made carries its tags (report.h), so undoing it is:
 * resume the origins it names, put back any thin id a window deleted, and
 * lvremove every LV tagged vss_set=SET.
 */
#ifndef VSS_LVM_INTENT_H
#define VSS_LVM_INTENT_H

#define INTENT_SET "set"
#define INTENT_THIN "thin"
#define INTENT_IDS "ids"
#define INTENT_READY "ready"
#define INTENT_THICK "thick"

#endif
