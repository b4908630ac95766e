/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.c: vssctl's tables and JSON writer (see output.h). Strings come
 * from the daemon and from plugins, so both printers make any byte sequence
 * safe: tables for a terminal, JSON for a parser.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/*
 * Length (1..4) of the valid UTF-8 sequence at S, its code point in
 * *RET_CP; 0 when S does not start one (overlong forms and surrogates are
 * not valid). Stops at a NUL, which is never a continuation byte.
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret_cp)
{
        size_t len;
        uint32_t cp, min;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f, min = 0x80;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f, min = 0x800;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07, min = 0x10000;
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return len;
}

/* C0, DEL and C1: what a terminal may take as a command. */
static bool is_control(uint32_t cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/* ---- tables ----------------------------------------------------------- */

struct table {
        size_t n_columns;
        bool has_header;
        enum table_align *align;
        char **cells; /* row-major, already escaped */
        size_t n_cells;
        size_t n_allocated;
        struct table_note *notes; /* in the order added, so by row */
        size_t n_notes;
};

struct table_note {
        size_t row; /* printed after this row (the header counts as row 0 when there is one) */
        char *text; /* already escaped */
};

/* A copy of S fit for a terminal: see output.h. KEEP_LINES lets \n and \t through. */
static char *terminal_escape_lines(const char *s, bool keep_lines)
{
        char *out = malloc(4 * strlen(s) + 1);
        if (!out)
                return NULL;
        char *o = out;
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                uint32_t cp = 0;
                size_t len = utf8_decode(p, &cp);
                bool plain = keep_lines && (cp == '\n' || cp == '\t');
                if (len > 0 && (plain || !is_control(cp))) {
                        memcpy(o, p, len);
                        o += len;
                        p += len;
                        continue;
                }
                /* Escape the whole sequence, or the one stray byte. */
                for (size_t i = 0; i < (len ? len : 1); i++)
                        o += sprintf(o, "\\x%02x", p[i]);
                p += len ? len : 1;
        }
        *o = '\0';
        return out;
}

static char *terminal_escape(const char *s)
{
        return terminal_escape_lines(s, false);
}

int terminal_fputs(const char *s, FILE *f)
{
        char *escaped = terminal_escape_lines(s ? s : "", true);
        if (!escaped)
                return -ENOMEM;
        fputs(escaped, f);
        free(escaped);
        return ferror(f) ? -EIO : 0;
}

/* Characters on screen; escaped cells are valid UTF-8 without controls. */
static size_t display_width(const char *s)
{
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

struct table *table_new(size_t n_columns, const char *const *headers)
{
        if (n_columns == 0)
                return NULL;
        struct table *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->align = calloc(n_columns, sizeof(*t->align));
        if (!t->align)
                return table_free(t);
        if (!headers)
                return t;
        t->has_header = true;
        for (size_t i = 0; i < n_columns; i++)
                if (table_add_cell(t, headers[i]) < 0)
                        return table_free(t);
        return t;
}

struct table *table_free(struct table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        for (size_t i = 0; i < t->n_notes; i++)
                free(t->notes[i].text);
        free(t->notes);
        free(t->align);
        free(t);
        return NULL;
}

int table_set_align(struct table *t, size_t column, enum table_align align)
{
        if (column >= t->n_columns)
                return -EINVAL;
        t->align[column] = align;
        return 0;
}

int table_add_cell(struct table *t, const char *s)
{
        if (t->n_cells == t->n_allocated) {
                size_t n = t->n_allocated ? 2 * t->n_allocated : 4 * t->n_columns;
                char **cells = realloc(t->cells, n * sizeof(*cells));
                if (!cells)
                        return -ENOMEM;
                t->cells = cells;
                t->n_allocated = n;
        }
        char *cell = terminal_escape(s ? s : "");
        if (!cell)
                return -ENOMEM;
        t->cells[t->n_cells++] = cell;
        return 0;
}

/* ADD (a cell or a note) of FORMAT filled in. */
static int table_add_vformat(struct table *t, int (*add)(struct table *t, const char *s),
                             const char *format, va_list ap)
{
        char *s;

        if (vasprintf(&s, format, ap) < 0)
                return -ENOMEM;
        int r = add(t, s);
        free(s);
        return r;
}

int table_add_cellf(struct table *t, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        int r = table_add_vformat(t, table_add_cell, format, ap);
        va_end(ap);
        return r;
}

int table_add_note(struct table *t, const char *s)
{
        if (t->n_cells == 0)
                return -EINVAL; /* no row to put it under */
        struct table_note *notes = realloc(t->notes, (t->n_notes + 1) * sizeof(*notes));
        if (!notes)
                return -ENOMEM;
        t->notes = notes;
        char *text = terminal_escape(s ? s : "");
        if (!text)
                return -ENOMEM;
        t->notes[t->n_notes++] = (struct table_note){ (t->n_cells - 1) / t->n_columns, text };
        return 0;
}

int table_add_notef(struct table *t, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        int r = table_add_vformat(t, table_add_note, format, ap);
        va_end(ap);
        return r;
}

size_t table_rows(const struct table *t)
{
        size_t rows = (t->n_cells + t->n_columns - 1) / t->n_columns;
        return t->has_header ? rows - 1 : rows;
}

static const char *table_cell(const struct table *t, size_t row, size_t column)
{
        size_t i = row * t->n_columns + column;
        return i < t->n_cells ? t->cells[i] : "";
}

static void table_print_row(const struct table *t, size_t row, const size_t *width, FILE *f)
{
        /* Stop after the last non-empty cell: no trailing blanks. */
        size_t last = t->n_columns;
        while (last > 0 && !*table_cell(t, row, last - 1))
                last--;

        for (size_t c = 0; c < last; c++) {
                const char *cell = table_cell(t, row, c);
                int pad = (int)(width[c] - display_width(cell));
                if (c > 0)
                        fputs("  ", f);
                if (t->align[c] == TABLE_ALIGN_RIGHT)
                        fprintf(f, "%*s%s", pad, "", cell);
                else if (c + 1 < last)
                        fprintf(f, "%s%*s", cell, pad, "");
                else
                        fputs(cell, f);
        }
        fputc('\n', f);
}

int table_print(const struct table *t, FILE *f)
{
        size_t rows = (t->n_cells + t->n_columns - 1) / t->n_columns;
        size_t *width = calloc(t->n_columns, sizeof(*width));
        if (!width)
                return -ENOMEM;

        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = display_width(t->cells[i]);
                if (w > width[i % t->n_columns])
                        width[i % t->n_columns] = w;
        }
        size_t note = 0;
        for (size_t row = 0; row < rows; row++) {
                table_print_row(t, row, width, f);
                for (; note < t->n_notes && t->notes[note].row == row; note++)
                        fprintf(f, "    %s\n", t->notes[note].text);
        }
        free(width);
        return ferror(f) ? -EIO : 0;
}

/* ---- numbers ---------------------------------------------------------- */

char *format_bytes(char *buf, size_t size, uint64_t bytes)
{
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        uint64_t unit = 1024, tenths = 0;
        size_t k = 0;

        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64 " B", bytes);
                return buf;
        }
        for (;; k++, unit *= 1024) {
                /* In two steps: bytes * 10 would overflow near the top of the range. */
                tenths = bytes / unit * 10 + (bytes % unit * 10 + unit / 2) / unit;
                /* 1023.95 KiB rounds to 1024.0 KiB: that is 1.0 MiB. */
                if (tenths < 10240 || k + 1 == sizeof(units) / sizeof(units[0]))
                        break;
        }
        snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10, units[k]);
        return buf;
}

/* ---- JSON ------------------------------------------------------------- */

void json_write_string(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");

        fputc('"', f);
        while (*p) {
                uint32_t cp = 0;
                size_t len = utf8_decode(p, &cp);
                if (len == 0) {
                        fputs("\\ufffd", f); /* U+FFFD REPLACEMENT CHARACTER */
                        p++;
                        continue;
                }
                switch (cp) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (cp < 0x20 || cp == 0x7f)
                                fprintf(f, "\\u%04" PRIx32, cp);
                        else
                                fwrite(p, 1, len, f);
                }
                p += len;
        }
        fputc('"', f);
}

void json_init(struct json *j, FILE *f)
{
        *j = (struct json){ .f = f, .first = true };
}

static void json_newline(struct json *j)
{
        fputc('\n', j->f);
        for (unsigned i = 0; i < j->depth; i++)
                fputs("  ", j->f);
}

/* Separator, indentation and key of the next value. */
static void json_member(struct json *j, const char *key)
{
        if (j->depth > 0) {
                if (!j->first)
                        fputc(',', j->f);
                json_newline(j);
        }
        j->first = false;
        if (key) {
                json_write_string(j->f, key);
                fputs(": ", j->f);
        }
}

static void json_open(struct json *j, const char *key, char bracket)
{
        json_member(j, key);
        fputc(bracket, j->f);
        j->depth++;
        j->first = true;
}

static void json_close(struct json *j, char bracket)
{
        j->depth--;
        if (!j->first)
                json_newline(j);
        fputc(bracket, j->f);
        j->first = false;
}

void json_object_begin(struct json *j, const char *key)
{
        json_open(j, key, '{');
}

void json_object_end(struct json *j)
{
        json_close(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
        json_open(j, key, '[');
}

void json_array_end(struct json *j)
{
        json_close(j, ']');
}

void json_string(struct json *j, const char *key, const char *value)
{
        json_member(j, key);
        if (value)
                json_write_string(j->f, value);
        else
                fputs("null", j->f);
}

void json_uint(struct json *j, const char *key, uint64_t value)
{
        json_member(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void json_bool(struct json *j, const char *key, bool value)
{
        json_member(j, key);
        fputs(value ? "true" : "false", j->f);
}

int json_finish(struct json *j)
{
        fputc('\n', j->f);
        return ferror(j->f) ? -EIO : 0;
}
