/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * meta.h: what the kernel does not remember about a snapshot, in a small file
 * beside its copy-on-write store: DIFF_AREA/LVSS-<snapshot id>.meta.
 *
 * The kernel's table list says which snapshots exist, of which origin, and
 * how full they are; the file adds the set, the attributes, the creation time
 * and a revert waiting for its origin. It is written with an atomic replace,
 * never inside the hold window: prepare writes it with created=0, and the
 * first provider call after the window fills in the time.
 */
#ifndef VSS_DMSNAP_META_H
#define VSS_DMSNAP_META_H

#include <limits.h>
#include <stdint.h>

#include "providers/common/dm.h"

#define ID_LEN 36

enum meta_merge {
        META_MERGE_NONE,
        META_MERGE_PENDING, /* revert asked while the origin was in use */
        META_MERGE_RUNNING, /* the origin is a snapshot-merge of the store */
};

typedef struct SnapMeta {
        char snapshot_id[ID_LEN + 1];
        char set_id[ID_LEN + 1];
        char origin[DM_NAME_MAX];   /* DM name of the origin */
        uint32_t attributes;        /* enum vss_snapshot_attr */
        uint64_t created_usec;      /* 0 until the set's window ended */
        enum meta_merge merge;
        char diff_area[PATH_MAX];   /* not in the file: the directory it was read from */
} SnapMeta;

/* DIFF_AREA/LVSS-<id><SUFFIX> into BUF (SUFFIX: ".cow" or ".meta"). */
int meta_file(const char *diff_area, const char *snapshot_id, const char *suffix, char *buf,
              size_t size);
int meta_write(const char *diff_area, const SnapMeta *meta, struct vss_error_buf *err);
/* -ENOENT when there is no file; -EINVAL when it is not one of ours. Sets m->diff_area. */
int meta_read(const char *diff_area, const char *snapshot_id, SnapMeta *meta);
/* Delete the store's file and the meta file of SNAPSHOT_ID; missing ones are fine. */
void meta_remove(const char *diff_area, const char *snapshot_id);
/* Every meta file in DIFF_AREA; CB returning non-zero stops and is returned. */
int meta_foreach(const char *diff_area, int (*cb)(const SnapMeta *meta, void *userdata),
                 void *userdata);

#endif
