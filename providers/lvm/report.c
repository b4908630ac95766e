/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.c: lvs's rows, snapshot names and tags (see report.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lvm/report.h"

const char LVM_REPORT_FIELDS[] =
        "vg_name,lv_name,lv_uuid,vg_uuid,lv_tags,origin,lv_attr,segtype,pool_lv,lv_dm_path,"
        "lv_size,vg_free,vg_extent_size,thin_id,data_percent,metadata_percent,"
        "lv_metadata_size,lv_active,lv_merging,lv_snapshot_invalid";

static int copy_field(const LvmRecord *rec, const char *key, char *buf, size_t size)
{
        const char *v = lvm_record_get(rec, key);

        if (!v || strlen(v) >= size)
                return -EINVAL;
        memcpy(buf, v, strlen(v) + 1);
        return 0;
}

/* A number of bytes (--units b --nosuffix), or "" as 0. */
static int u64_field(const LvmRecord *rec, const char *key, uint64_t *ret)
{
        const char *v = lvm_record_get(rec, key);
        char *end;

        if (!v)
                return -EINVAL;
        if (!*v) {
                *ret = 0;
                return 0;
        }
        if (*v < '0' || *v > '9')
                return -EINVAL;
        errno = 0;
        *ret = strtoull(v, &end, 10);
        return errno || *end ? -EINVAL : 0;
}

/* "13.67" as 1367; "" as -1. LVM prints two decimals, whatever the locale (LANG=C). */
static int percent_field(const LvmRecord *rec, const char *key, int32_t *ret)
{
        const char *v = lvm_record_get(rec, key);
        unsigned whole = 0, frac = 0;
        int n = 0;

        if (!v)
                return -EINVAL;
        if (!*v) {
                *ret = -1;
                return 0;
        }
        if (sscanf(v, "%3u.%2u%n", &whole, &frac, &n) != 2 || v[n] || whole > 100 ||
            strlen(strchr(v, '.') + 1) != 2)
                return -EINVAL;
        *ret = (int32_t)(whole * 100 + frac);
        return 0;
}

/* --binary: "1", "0", or "-1" (not applicable), "" for some; lv_active is a word. */
static bool flag_field(const LvmRecord *rec, const char *key)
{
        const char *v = lvm_record_get(rec, key);
        return v && strcmp(v, "1") == 0;
}

int lv_row_from_record(const LvmRecord *rec, LvRow *row)
{
        const char *active = lvm_record_get(rec, "lv_active");
        const char *thin_id = lvm_record_get(rec, "thin_id");
        uint64_t id = 0;

        memset(row, 0, sizeof(*row));
        if (copy_field(rec, "vg_name", row->vg, sizeof(row->vg)) < 0 ||
            copy_field(rec, "lv_name", row->name, sizeof(row->name)) < 0 ||
            copy_field(rec, "lv_uuid", row->uuid, sizeof(row->uuid)) < 0 ||
            copy_field(rec, "vg_uuid", row->vg_uuid, sizeof(row->vg_uuid)) < 0 ||
            copy_field(rec, "lv_tags", row->tags, sizeof(row->tags)) < 0 ||
            copy_field(rec, "origin", row->origin, sizeof(row->origin)) < 0 ||
            copy_field(rec, "lv_attr", row->attr, sizeof(row->attr)) < 0 ||
            copy_field(rec, "segtype", row->segtype, sizeof(row->segtype)) < 0 ||
            copy_field(rec, "pool_lv", row->pool, sizeof(row->pool)) < 0 ||
            copy_field(rec, "lv_dm_path", row->dm_path, sizeof(row->dm_path)) < 0 ||
            u64_field(rec, "lv_size", &row->size) < 0 ||
            u64_field(rec, "vg_free", &row->vg_free) < 0 ||
            u64_field(rec, "vg_extent_size", &row->vg_extent_size) < 0 ||
            u64_field(rec, "lv_metadata_size", &row->metadata_size) < 0 ||
            percent_field(rec, "data_percent", &row->data_hundredths) < 0 ||
            percent_field(rec, "metadata_percent", &row->metadata_hundredths) < 0 ||
            !active || !thin_id || (*thin_id && u64_field(rec, "thin_id", &id) < 0))
                return -EINVAL;
        row->thin_id = *thin_id ? (int64_t)id : -1;
        row->active = strcmp(active, "active") == 0 || strcmp(active, "1") == 0;
        row->merging = flag_field(rec, "lv_merging");
        row->invalid = flag_field(rec, "lv_snapshot_invalid");
        return 0;
}

int lv_rows_parse(const char *text, LvRow **ret, size_t *ret_n)
{
        LvmRecord *recs = NULL;
        LvRow *rows;
        size_t n = 0;
        int r = lvm_json_records(text, "lv", &recs, &n);

        if (r < 0)
                return r;
        rows = calloc(n ? n : 1, sizeof(*rows));
        if (!rows)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = lv_row_from_record(&recs[i], &rows[i]);
        lvm_records_free(recs, n);
        if (r < 0) {
                free(rows);
                return r;
        }
        *ret = rows;
        *ret_n = n;
        return 0;
}

bool lv_row_is_thin(const LvRow *row)
{
        return strcmp(row->segtype, "thin") == 0;
}

bool lv_row_is_classic_snapshot(const LvRow *row)
{
        /* lv_attr's first letter: s snapshot, S merging snapshot (segtype says "linear"). */
        return row->attr[0] == 's' || row->attr[0] == 'S';
}

/* --- tags ----------------------------------------------------------------------------- */

/* The tag of TAGS at P, LEN characters long: the comma-separated list's next element. */
static const char *tag_next(const char *p, size_t *len)
{
        *len = strcspn(p, ",");
        return p;
}

bool tags_have(const char *tags, const char *tag)
{
        size_t len;

        for (const char *p = tags; *p; p += len + (p[len] == ',')) {
                tag_next(p, &len);
                if (len == strlen(tag) && strncmp(p, tag, len) == 0)
                        return true;
        }
        return false;
}

bool tags_value(const char *tags, const char *key, char *buf, size_t size)
{
        size_t len, klen = strlen(key);

        for (const char *p = tags; *p; p += len + (p[len] == ',')) {
                tag_next(p, &len);
                if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=' &&
                    len - klen - 1 < size) {
                        memcpy(buf, p + klen + 1, len - klen - 1);
                        buf[len - klen - 1] = '\0';
                        return true;
                }
        }
        return false;
}

static bool id_valid(const char *id)
{
        if (strlen(id) != LVM_ID_LEN)
                return false;
        for (size_t i = 0; i < LVM_ID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]) || !id[i])
                        return false;
        }
        return true;
}

bool snap_tags_parse(const char *tags, SnapTags *ret)
{
        char attributes[16], created[32], *end;

        memset(ret, 0, sizeof(*ret));
        if (!tags_have(tags, "vss") ||
            !tags_value(tags, "vss_set", ret->set_id, sizeof(ret->set_id)) ||
            !tags_value(tags, "vss_snapshot", ret->snapshot_id, sizeof(ret->snapshot_id)) ||
            !id_valid(ret->set_id) || !id_valid(ret->snapshot_id) ||
            !tags_value(tags, "vss_attributes", attributes, sizeof(attributes)))
                return false;
        ret->attributes = (uint32_t)strtoul(attributes, &end, 16);
        if (*end || !attributes[0])
                return false;
        if (tags_value(tags, "vss_created", created, sizeof(created))) {
                ret->created_usec = strtoull(created, &end, 10);
                ret->complete = !*end && created[0];
        }
        return true;
}

int snap_lv_name(const char *id, char *buf, size_t size)
{
        size_t n = 0;

        if (!id_valid(id) || size < strlen(SNAP_LV_PREFIX) + 33)
                return -EINVAL;
        n = (size_t)snprintf(buf, size, "%s", SNAP_LV_PREFIX);
        for (const char *c = id; *c; c++)
                if (*c != '-')
                        buf[n++] = *c;
        buf[n] = '\0';
        return 0;
}

static size_t mangle(char *out, const char *name)
{
        size_t n = 0;

        for (const char *c = name; *c; c++) {
                out[n++] = *c;
                if (*c == '-')
                        out[n++] = '-';
        }
        return n;
}

int lv_dm_path(const char *vg, const char *lv, char *buf, size_t size)
{
        static const char dir[] = "/dev/mapper/";
        size_t need = sizeof(dir) + 2 * (strlen(vg) + strlen(lv)) + 1;
        size_t n = sizeof(dir) - 1;

        if (need > size)
                return -ENAMETOOLONG;
        memcpy(buf, dir, n);
        n += mangle(buf + n, vg);
        buf[n++] = '-';
        n += mangle(buf + n, lv);
        buf[n] = '\0';
        return 0;
}

int maxsize_to_tag(const char *max_size, char *buf, size_t size)
{
        size_t len = strlen(max_size);

        if (len == 0 || strspn(max_size, "0123456789abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ%") != len)
                return -EINVAL;
        if (max_size[len - 1] != '%')
                return snprintf(buf, size, "%s", max_size) < (int)size ? 0 : -ENAMETOOLONG;
        return snprintf(buf, size, "%.*spct", (int)(len - 1), max_size) < (int)size
                       ? 0 : -ENAMETOOLONG;
}

int maxsize_from_tag(const char *value, char *buf, size_t size)
{
        size_t len = strlen(value);

        if (len > 3 && strcmp(value + len - 3, "pct") == 0)
                return snprintf(buf, size, "%.*s%%", (int)(len - 3), value) < (int)size
                               ? 0 : -ENAMETOOLONG;
        return snprintf(buf, size, "%s", value) < (int)size ? 0 : -ENAMETOOLONG;
}
