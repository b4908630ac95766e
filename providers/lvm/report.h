/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.h: what lvs says about logical volumes, and the names and tags the
 * provider gives its snapshots.
 *
 * The provider keeps no state of its own about snapshots: each is an LV
 * named vss-<snapshot id without dashes>, with tags that carry the rest
 * (LVM's tag alphabet is [A-Za-z0-9_+.-/=!:&#]):
 *
 *   vss                   every snapshot of the provider (lvs @vss lists them)
 *   vss_set=SET           its set's id
 *   vss_snapshot=ID       its own id
 *   vss_attributes=HEX    enum vss_snapshot_attr
 *   vss_created=USEC      when it was taken (realtime, microseconds); added
 *                         when the snapshot is complete: an LV without it is
 *                         a set still being made, or left by a crash
 *
 * and an origin may carry vss_maxsize=SIZE (vssctl storage resize), its
 * shadow storage's maximum, a percent sign written "pct" ("15pct").
 */
#ifndef VSS_LVM_REPORT_H
#define VSS_LVM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/lvm/json.h"

#define LVM_ID_LEN 36
#define LVM_NAME_MAX 128   /* VG and LV names, with the NUL */
#define LVM_UUID_MAX 40    /* "xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx", with the NUL */
#define LVM_TAGS_MAX 2048
#define SNAP_LV_PREFIX "vss-"

/* One LV, as the fields of LVM_REPORT_FIELDS show it (sizes in bytes). */
typedef struct LvRow {
        char vg[LVM_NAME_MAX];
        char name[LVM_NAME_MAX];     /* hidden LVs are in brackets: "[pool_tdata]" */
        char uuid[LVM_UUID_MAX];
        char vg_uuid[LVM_UUID_MAX];
        char tags[LVM_TAGS_MAX];     /* comma-separated */
        char origin[LVM_NAME_MAX];   /* a snapshot's origin LV, or "" */
        char attr[16];               /* lv_attr: "Vwi-aotz--" */
        char segtype[32];            /* "linear", "striped", "thin", "thin-pool", ... */
        char pool[LVM_NAME_MAX];     /* a thin LV's pool, or "" */
        char dm_path[256];           /* /dev/mapper/VG-LV, dashes doubled */
        uint64_t size;
        uint64_t vg_free, vg_extent_size;
        int64_t thin_id;             /* -1: not a thin LV */
        int32_t data_hundredths;     /* data_percent x 100; -1 when LVM shows none */
        int32_t metadata_hundredths; /* metadata_percent x 100 (pools); -1: none */
        uint64_t metadata_size;      /* a thin pool's metadata LV */
        bool active;
        bool merging;                /* a snapshot being merged into its origin */
        bool invalid;                /* a classic snapshot whose store overflowed */
} LvRow;

/* The fields lvs is asked for (-o), in the order LvRow reads them. */
extern const char LVM_REPORT_FIELDS[];

/* A record of lvs's JSON report as a row; -EINVAL if a field is missing or malformed. */
int lv_row_from_record(const LvmRecord *rec, LvRow *row);
/* The rows of lvs's JSON output TEXT, into a malloc()ed array; -EBADMSG, -EINVAL. */
int lv_rows_parse(const char *text, LvRow **ret, size_t *ret_n);

/* Is ROW a snapshot LV, a thin one, or an LV the provider may take? */
bool lv_row_is_thin(const LvRow *row);
bool lv_row_is_classic_snapshot(const LvRow *row);

/* The parts of a snapshot's tags. */
typedef struct SnapTags {
        char set_id[LVM_ID_LEN + 1];
        char snapshot_id[LVM_ID_LEN + 1];
        uint32_t attributes;
        uint64_t created_usec;
        bool complete;               /* vss_created is there */
} SnapTags;

/* True if TAGS (lv_tags) mark a snapshot of the provider; its parts into RET. */
bool snap_tags_parse(const char *tags, SnapTags *ret);
/* Does TAGS hold TAG exactly? */
bool tags_have(const char *tags, const char *tag);
/* The value of the tag KEY=... in TAGS into BUF; false if it has none. */
bool tags_value(const char *tags, const char *key, char *buf, size_t size);

/* The snapshot LV's name for snapshot ID: vss-<32 hex digits>. */
int snap_lv_name(const char *id, char *buf, size_t size);
/* /dev/mapper/VG-LV with LVM's mangling (a dash in either name is doubled). */
int lv_dm_path(const char *vg, const char *lv, char *buf, size_t size);

/* A maximum as vssctl writes it ("15%", "10G", "unbounded") as a tag value, and back. */
int maxsize_to_tag(const char *max_size, char *buf, size_t size);
int maxsize_from_tag(const char *value, char *buf, size_t size);

#endif
