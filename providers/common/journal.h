/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal.h: intent journals of providers, for recovery after a crash.
 *
 * A provider writes a journal before it changes the kernel, one record
 * before each step, so that the next vssd (or vssd --recover) knows what a
 * crashed one was doing and can undo it: which devices it made, which it
 * suspended, which tables it replaced. One journal is one file,
 * DIR/NAME.journal, in a directory of the provider's own on tmpfs (/run: a
 * journal must never live on a volume that may be frozen). The provider
 * removes it when the work it describes is finished or undone.
 *
 * A record is one line: its kind and its fields, separated by spaces, each
 * escaped so that it holds no space, control character or backslash (\xHH),
 * so any string (a device-mapper table, a path) is one field. Each record is
 * appended with one write(2) to a file opened O_APPEND; a write cut short
 * (the file system full) is truncated away, and a reader ignores a last line
 * without its newline, so a crash in the middle of a write costs at most the
 * record being written, which described a step not yet taken. tmpfs needs no
 * fsync: a journal has to survive the process, not the machine.
 *
 * The module allocates, logs nothing (but journal_done) and touches files:
 * never call it in a hold window.
 */
#ifndef VSS_PROVIDERS_COMMON_JOURNAL_H
#define VSS_PROVIDERS_COMMON_JOURNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <vss/provider.h>

#define JOURNAL_SUFFIX ".journal"

/* A journal being written. */
typedef struct Journal {
        int fd;              /* -1 when closed */
        char path[PATH_MAX]; /* "" until opened; kept after journal_close() */
} Journal;

#define JOURNAL_INIT { .fd = -1, .path = "" }

/*
 * Open DIR/NAME.journal to append to (created 0600 if missing; an existing
 * one is appended to). DIR and its missing parents are made with mode 0700;
 * DIR must be a directory of this user that no one else may write to.
 * NAME must be a plain file name. On failure J is untouched.
 */
int journal_open(Journal *j, const char *dir, const char *name, struct vss_error_buf *err);
/* Append a record of kind KIND with the fields that follow, up to a NULL. */
int journal_append(Journal *j, struct vss_error_buf *err, const char *kind, ...)
        __attribute__((sentinel));
/* The same with the N strings of FIELDS (FIELDS[0] is the kind). */
int journal_append_fields(Journal *j, const char *const *fields, size_t n,
                          struct vss_error_buf *err);
/* Close the file and keep it (its path stays in J, for journal_remove()). */
void journal_close(Journal *j);
/* Close and delete it: the work it describes is finished or undone. Missing: 0. */
int journal_remove(Journal *j, struct vss_error_buf *err);
/*
 * journal_open() of DIR/PREFIXID.journal for the provider PROVIDER, whose
 * setting [provider.PROVIDER] journal_dir named DIR: a failure says which
 * setting, where journal_open()'s sentence names only the directory.
 */
int journal_open_for(Journal *j, const char *provider, const char *dir, const char *prefix,
                     const char *id, struct vss_error_buf *err);
/*
 * journal_remove() when the work is done; a failure is only logged (the one
 * thing this module logs), since the next recovery removes the file.
 */
void journal_done(Journal *j);

/* One record read back: FIELDS[0] is its kind. */
typedef struct JournalRecord {
        size_t n;
        char **fields;
} JournalRecord;

/* One journal read back. */
typedef struct JournalFile {
        char name[NAME_MAX + 1]; /* without JOURNAL_SUFFIX */
        char path[PATH_MAX];
        JournalRecord *records;
        size_t n;
        bool torn;               /* its last line was cut short, and is left out */
} JournalFile;

/* Read the journal at PATH: every whole record, in order. */
int journal_read(const char *path, JournalFile *ret);
void journal_file_free(JournalFile *f);

/*
 * Read every journal in DIR, sorted by name, into a malloc()ed array; a
 * missing DIR has none. Files not ending in JOURNAL_SUFFIX are left alone.
 */
int journal_read_dir(const char *dir, JournalFile **ret, size_t *ret_n);
void journal_files_free(JournalFile *files, size_t n);

/* Field I of record R, or "" when it has fewer fields. */
const char *journal_field(const JournalRecord *r, size_t i);
/* Record R is of kind KIND with at least N_FIELDS fields after the kind. */
bool journal_is(const JournalRecord *r, const char *kind, size_t n_fields);

/* Delete DIR/NAME.journal, for a reader done with it. Missing: 0. */
int journal_unlink(const char *path, struct vss_error_buf *err);

#endif
