/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c: a small recursive-descent JSON reader for LVM's reports (json.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lvm/json.h"

/* Deeper than any report: a bound, so hostile text cannot exhaust the stack. */
#define MAX_DEPTH 32

typedef struct Parser {
        const char *p;
        const char *array;  /* the key whose array elements are records */
        LvmRecord *records;
        size_t n, allocated;
        unsigned depth;
} Parser;

static void skip_blanks(Parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
                ps->p++;
}

static bool take(Parser *ps, char c)
{
        skip_blanks(ps);
        if (*ps->p != c)
                return false;
        ps->p++;
        return true;
}

static int hex4(const char *s, uint32_t *ret)
{
        uint32_t v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];
                int d = c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                        return -EBADMSG;
                v = v * 16 + (uint32_t)d;
        }
        *ret = v;
        return 0;
}

static size_t utf8_put(char *out, uint32_t cp)
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12);
                out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* \uXXXX at S (after the backslash and u), with a surrogate pair's second half. */
static int unicode_escape(const char **s, char *out, size_t *len)
{
        uint32_t cp, low;

        if (hex4(*s, &cp) < 0)
                return -EBADMSG;
        *s += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
                if ((*s)[0] != '\\' || (*s)[1] != 'u' || hex4(*s + 2, &low) < 0 ||
                    low < 0xdc00 || low >= 0xe000)
                        return -EBADMSG;
                *s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -EBADMSG;
        }
        if (cp == 0) /* a NUL would cut the C string short */
                return -EBADMSG;
        *len += utf8_put(out + *len, cp);
        return 0;
}

static int escape(const char **s, char *out, size_t *len)
{
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *c = strchr(from, **s);

        if (**s == 'u') {
                (*s)++;
                return unicode_escape(s, out, len);
        }
        if (!**s || !c)
                return -EBADMSG;
        out[(*len)++] = to[c - from];
        (*s)++;
        return 0;
}

/* A string at ps->p (its opening quote next); into *RET (malloc()ed) unless RET is NULL. */
static int string(Parser *ps, char **ret)
{
        const char *s;
        size_t len = 0;
        char *out;

        if (!take(ps, '"'))
                return -EBADMSG;
        s = ps->p;
        /* Decoded text is never longer than its escaped form. */
        out = malloc(strlen(s) + 1);
        if (!out)
                return -ENOMEM;
        while (*s != '"') {
                int r = 0;
                if ((unsigned char)*s < 0x20) /* the end of the text, or a raw control character */
                        r = -EBADMSG;
                else if (*s == '\\') {
                        s++;
                        r = escape(&s, out, &len);
                } else
                        out[len++] = *s++;
                if (r < 0) {
                        free(out);
                        return r;
                }
        }
        out[len] = '\0';
        ps->p = s + 1;
        if (ret)
                *ret = out;
        else
                free(out);
        return 0;
}

static int value(Parser *ps, bool record, bool target_array);

static int literal(Parser *ps)
{
        static const char *const words[] = { "true", "false", "null" };

        for (size_t i = 0; i < 3; i++)
                if (strncmp(ps->p, words[i], strlen(words[i])) == 0) {
                        ps->p += strlen(words[i]);
                        return 0;
                }
        return -EBADMSG;
}

static int number(Parser *ps)
{
        const char *start = ps->p;

        ps->p += *ps->p == '-';
        if (*ps->p < '0' || *ps->p > '9')
                return -EBADMSG;
        while (strchr("0123456789.eE+-", *ps->p) && *ps->p)
                ps->p++;
        return ps->p > start ? 0 : -EBADMSG;
}

static int record_add(LvmRecord *rec, char *key, char *val)
{
        char **k = realloc(rec->keys, (rec->n + 1) * sizeof(char *));
        if (k)
                rec->keys = k;
        char **v = k ? realloc(rec->values, (rec->n + 1) * sizeof(char *)) : NULL;
        if (!v) {
                free(key);
                free(val);
                return -ENOMEM;
        }
        rec->values = v;
        rec->keys[rec->n] = key;
        rec->values[rec->n++] = val;
        return 0;
}

static void record_clear(LvmRecord *rec)
{
        for (size_t i = 0; i < rec->n; i++) {
                free(rec->keys[i]);
                free(rec->values[i]);
        }
        free(rec->keys);
        free(rec->values);
        *rec = (LvmRecord){ 0 };
}

static int records_push(Parser *ps, LvmRecord *rec)
{
        if (ps->n == ps->allocated) {
                size_t a = ps->allocated ? 2 * ps->allocated : 16;
                LvmRecord *r = realloc(ps->records, a * sizeof(*r));
                if (!r)
                        return -ENOMEM;
                ps->records = r;
                ps->allocated = a;
        }
        ps->records[ps->n++] = *rec;
        *rec = (LvmRecord){ 0 };
        return 0;
}

/* One member "KEY": VALUE; a record keeps its string values. */
static int member(Parser *ps, LvmRecord *rec)
{
        char *key = NULL, *val = NULL;
        int r = string(ps, &key);

        if (r < 0)
                return r;
        if (!take(ps, ':')) {
                free(key);
                return -EBADMSG;
        }
        skip_blanks(ps);
        if (rec && *ps->p == '"') {
                if ((r = string(ps, &val)) < 0) {
                        free(key);
                        return r;
                }
                return record_add(rec, key, val);
        }
        r = value(ps, false, strcmp(key, ps->array) == 0);
        free(key);
        return r;
}

static int object(Parser *ps, bool record)
{
        LvmRecord rec = { 0 };
        int r = 0;

        if (!take(ps, '{'))
                return -EBADMSG;
        if (!take(ps, '}')) {
                do
                        r = member(ps, record ? &rec : NULL);
                while (r == 0 && take(ps, ','));
                if (r == 0 && !take(ps, '}'))
                        r = -EBADMSG;
        }
        if (r == 0 && record)
                r = records_push(ps, &rec);
        record_clear(&rec);
        return r;
}

static int array(Parser *ps, bool target)
{
        int r = 0;

        if (!take(ps, '['))
                return -EBADMSG;
        if (take(ps, ']'))
                return 0;
        do
                r = value(ps, target, false);
        while (r == 0 && take(ps, ','));
        return r < 0 ? r : take(ps, ']') ? 0 : -EBADMSG;
}

/* A value; RECORD: an element of the target array, TARGET_ARRAY: the array itself. */
static int value(Parser *ps, bool record, bool target_array)
{
        int r;

        if (++ps->depth > MAX_DEPTH)
                return -EBADMSG;
        skip_blanks(ps);
        switch (*ps->p) {
        case '{':
                r = object(ps, record);
                break;
        case '[':
                r = array(ps, target_array);
                break;
        case '"':
                r = string(ps, NULL);
                break;
        case 't': case 'f': case 'n':
                r = literal(ps);
                break;
        default:
                r = number(ps);
        }
        ps->depth--;
        return r;
}

int lvm_json_records(const char *text, const char *array, LvmRecord **ret, size_t *ret_n)
{
        Parser ps = { .p = text, .array = array };
        int r = value(&ps, false, false);

        skip_blanks(&ps);
        if (r == 0 && *ps.p)
                r = -EBADMSG;
        if (r < 0) {
                lvm_records_free(ps.records, ps.n);
                return r;
        }
        *ret = ps.records;
        *ret_n = ps.n;
        return 0;
}

void lvm_records_free(LvmRecord *records, size_t n)
{
        for (size_t i = 0; i < n; i++)
                record_clear(&records[i]);
        free(records);
}

const char *lvm_record_get(const LvmRecord *r, const char *key)
{
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->keys[i], key) == 0)
                        return r->values[i];
        return NULL;
}
