/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.h: how vssctl prints: aligned tables for people, JSON for programs.
 * Independent of libvss, so its unit test links this file alone.
 */
#ifndef VSSCTL_OUTPUT_H
#define VSSCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A table: cells are added left to right, top to bottom, and printed with
 * every column as wide as its widest cell (in characters, not bytes), two
 * spaces between columns and no trailing blanks. Control characters and
 * bytes that are not UTF-8 are shown as \xNN, so that a string from the
 * daemon can never move the terminal's cursor.
 */
struct table;

enum table_align {
        TABLE_ALIGN_LEFT,
        TABLE_ALIGN_RIGHT, /* numbers */
};

/* HEADERS: N_COLUMNS titles, or NULL for a table without a header line. */
struct table *table_new(size_t n_columns, const char *const *headers);
struct table *table_free(struct table *t);
int table_set_align(struct table *t, size_t column, enum table_align align);
/* NULL prints as an empty cell. */
int table_add_cell(struct table *t, const char *s);
int table_add_cellf(struct table *t, const char *format, ...)
        __attribute__((format(printf, 2, 3)));
/*
 * A line printed under the last row added, indented by four spaces and not
 * part of any column (a reason too long for one); several stay in order.
 */
int table_add_note(struct table *t, const char *s);
int table_add_notef(struct table *t, const char *format, ...)
        __attribute__((format(printf, 2, 3)));
/* Number of rows added, the header not counted. */
size_t table_rows(const struct table *t);
/* 0, or -EIO when writing failed. */
int table_print(const struct table *t, FILE *f);

/* Room format_bytes() needs: "1023.9 KiB" and "16.0 EiB" with the NUL. */
#define FORMAT_BYTES_MAX 16

/*
 * BYTES for people, in IEC units with one decimal ("512 B", "1.5 MiB",
 * "20.0 GiB"), rounded to the nearest tenth; returns BUF.
 */
char *format_bytes(char *buf, size_t size, uint64_t bytes);

/*
 * Write S (a message from the daemon, which may quote a writer) with the
 * escaping tables use, but keeping newlines and tabs: 0, -ENOMEM or -EIO.
 */
int terminal_fputs(const char *s, FILE *f);

static inline void table_freep(struct table **t)
{
        table_free(*t);
}

/*
 * A streaming JSON writer that indents like jq. KEY names the member inside
 * an object and must be NULL inside an array and at the top.
 */
struct json {
        FILE *f;
        unsigned depth;
        bool first; /* nothing written yet in the current container */
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
/* NULL writes null. */
void json_string(struct json *j, const char *key, const char *value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_bool(struct json *j, const char *key, bool value);
/* Ends the document with a newline: 0, or -EIO when writing failed. */
int json_finish(struct json *j);

/*
 * S as a JSON string literal, quotes included: " and \ escaped, control
 * characters as \n, \t, ... or \u00XX, UTF-8 kept as is, and every byte
 * that is not part of valid UTF-8 as \ufffd so the output is always JSON.
 */
void json_write_string(FILE *f, const char *s);

#endif
