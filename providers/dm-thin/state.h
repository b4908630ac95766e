/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.h: what the dm-thin provider keeps under its state_dir, one small
 * file per object, written with an atomic replace (a temporary file,
 * fsync, rename, fsync of the directory):
 *
 *   STATE_DIR/pools/NAME       a pool: its data and metadata (devices or
 *                              files), chunk size, and the next thin id
 *   STATE_DIR/volumes/NAME     a thin volume: its pool, thin id and size
 *   STATE_DIR/snapshots/ID     a snapshot: set, pool, thin id, origin
 *                              volume, attributes, creation time, invalid
 *
 * A file is "key=value" lines; every key of its kind must be there and no
 * other, so a damaged file is refused rather than half read. Values hold no
 * newline (names and paths with one are refused before they get here).
 */
#ifndef VSS_DMTHIN_STATE_H
#define VSS_DMTHIN_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vss/provider.h>

#define THIN_NAME_MAX 64
#define ID_LEN 36

typedef struct PoolRecord {
        char name[THIN_NAME_MAX + 1];
        char data[PATH_MAX];      /* a block device, or a file on a loop device */
        char metadata[PATH_MAX];
        bool data_file, metadata_file;
        uint32_t chunk_sectors;
        uint32_t next_id;         /* thin ids below it may be in use: never reused */
} PoolRecord;

typedef struct VolumeRecord {
        char name[THIN_NAME_MAX + 1];
        char pool[THIN_NAME_MAX + 1];
        uint32_t id;
        uint64_t sectors;
} VolumeRecord;

typedef struct SnapRecord {
        char id[ID_LEN + 1];
        char set_id[ID_LEN + 1];
        char pool[THIN_NAME_MAX + 1];
        char origin[THIN_NAME_MAX + 1]; /* the thin volume's name */
        uint32_t thin_id;
        uint32_t attributes;      /* enum vss_snapshot_attr */
        uint64_t sectors;
        uint64_t created_usec;    /* 0 until its set's window ended */
        bool invalid;             /* dropped to keep the pool from filling */
} SnapRecord;

enum record_kind { RECORD_POOL, RECORD_VOLUME, RECORD_SNAPSHOT };

/* Pure: the text of a record, and back (-EINVAL: a key missing, unknown or bad). */
int record_format(enum record_kind kind, const void *rec, char *buf, size_t size);
int record_parse(enum record_kind kind, const char *text, void *rec);

/* Files: NAME of KIND under STATE_DIR. read: -ENOENT when missing. */
int record_write(const char *state_dir, enum record_kind kind, const char *name, const void *rec,
                 struct vss_error_buf *err);
int record_read(const char *state_dir, enum record_kind kind, const char *name, void *rec,
                struct vss_error_buf *err);
int record_remove(const char *state_dir, enum record_kind kind, const char *name,
                  struct vss_error_buf *err);
/* Every record of KIND (unreadable ones logged and skipped); CB non-zero stops. */
int record_foreach(const char *state_dir, enum record_kind kind,
                   int (*cb)(const void *rec, void *userdata), void *userdata);

#endif
