/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json.h: the records of an LVM JSON report (lvs --reportformat json).
 *
 * lvs prints {"report": [{"lv": [{"lv_name":"x", ...}, ...]}]}, every value
 * a string. The parser reads the whole of any JSON text (objects, arrays,
 * strings with every escape, numbers, literals), so a report with more in it
 * (a "log" array, several reports) is read, not misread; each object that is
 * an element of an array under the key ARRAY becomes a record of its string
 * members. Malformed text is refused, never guessed at.
 */
#ifndef VSS_LVM_JSON_H
#define VSS_LVM_JSON_H

#include <stddef.h>

/* One object of a report: its string members, in order. */
typedef struct LvmRecord {
        size_t n;
        char **keys;
        char **values;
} LvmRecord;

/*
 * The records of TEXT under ARRAY ("lv"), into a malloc()ed array (*RET may
 * be NULL when there are none). -EBADMSG if TEXT is not one JSON value (with
 * blanks around it), -ENOMEM.
 */
int lvm_json_records(const char *text, const char *array, LvmRecord **ret, size_t *ret_n);
void lvm_records_free(LvmRecord *records, size_t n);
/* The value of KEY in R, or NULL when it has none. */
const char *lvm_record_get(const LvmRecord *r, const char *key);

#endif
