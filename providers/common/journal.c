/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journal.c: intent journals of providers (see journal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "providers/common/error.h"
#include "providers/common/journal.h"
#include "providers/common/util.h"

#define FIELDS_MAX 64
/* An empty field (a NUL is no byte of any field, so this is unambiguous). */
#define EMPTY_FIELD "\\x00"

/* --- the directory ------------------------------------------------------------------ */

static int mkdir_parents(const char *dir)
{
        char buf[PATH_MAX];

        if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (c == '\0')
                        return 0;
                *p = c;
        }
}

/* Root writes journals and acts on them: nobody else may plant one. */
static int dir_check(const char *dir, struct vss_error_buf *err)
{
        struct stat st;
        int r;

        if (dir[0] != '/')
                return provider_error(err, -EINVAL, "journal directory %s is not an absolute "
                                     "path; set journal_dir to one in vssd.conf", dir);
        if ((r = mkdir_parents(dir)) < 0)
                return provider_error(err, r, "cannot make the journal directory %s: %s", dir,
                                     strerror(-r));
        if (lstat(dir, &st) < 0)
                return provider_error(err, -errno, "cannot examine the journal directory %s: %s",
                                     dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return provider_error(err, -ENOTDIR, "journal directory %s is not a directory; "
                                     "remove it or set journal_dir elsewhere in vssd.conf", dir);
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return provider_error(err, -EPERM, "journal directory %s may be written by "
                                     "others (owner %u, mode %04o); make it owned by uid %u "
                                     "with mode 0700", dir, (unsigned)st.st_uid,
                                     (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
        return 0;
}

/* --- writing ------------------------------------------------------------------------ */

int journal_open(Journal *j, const char *dir, const char *name, struct vss_error_buf *err)
{
        char path[PATH_MAX];
        int r, fd;

        if (!name[0] || strchr(name, '/') || name[0] == '.')
                return provider_error(err, -EINVAL, "'%s' is not a journal name", name);
        if (snprintf(path, sizeof(path), "%s/%s" JOURNAL_SUFFIX, dir, name) >=
            (int)sizeof(path))
                return provider_error(err, -ENAMETOOLONG, "journal directory %s: path too long",
                                     dir);
        if ((r = dir_check(dir, err)) < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return provider_error(err, -errno, "cannot open the journal %s: %s", path,
                                     strerror(errno));
        if (j->fd >= 0)
                close(j->fd);
        j->fd = fd;
        memcpy(j->path, path, sizeof(path));
        return 0;
}

/* Room FIELD takes escaped. */
static size_t escaped_len(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += (unsigned char)*s <= ' ' || *s == '\\' || *s == 0x7f ? 4 : 1;
        return n ? n : strlen(EMPTY_FIELD);
}

static char *escape_into(char *out, const char *s)
{
        static const char hex[] = "0123456789abcdef";

        if (!*s)
                return stpcpy(out, EMPTY_FIELD);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c <= ' ' || c == '\\' || c == 0x7f) {
                        *out++ = '\\';
                        *out++ = 'x';
                        *out++ = hex[c >> 4];
                        *out++ = hex[c & 15];
                } else {
                        *out++ = (char)c;
                }
        }
        return out;
}

/* One write(2); a short one is cut back off, so no half record stays in the middle. */
static int write_record(Journal *j, const char *line, size_t len, struct vss_error_buf *err)
{
        struct stat st;

        if (fstat(j->fd, &st) < 0)
                return provider_error(err, -errno, "cannot examine the journal %s: %s", j->path,
                                     strerror(errno));
        ssize_t n = write(j->fd, line, len);
        if (n == (ssize_t)len)
                return 0;
        int r = n < 0 ? -errno : -ENOSPC;
        if (n > 0)
                (void)!ftruncate(j->fd, st.st_size);
        return provider_error(err, r, "cannot write to the journal %s: %s", j->path,
                             strerror(-r));
}

int journal_append_fields(Journal *j, const char *const *fields, size_t n,
                          struct vss_error_buf *err)
{
        size_t len = 1;

        if (j->fd < 0)
                return provider_error(err, -EBADF, "journal %s is not open", j->path);
        if (n == 0 || !fields[0][0])
                return provider_error(err, -EINVAL, "a journal record needs a kind");
        for (size_t i = 0; i < n; i++)
                len += escaped_len(fields[i]) + 1;
        char *line = malloc(len), *p = line;
        if (!line)
                return provider_error(err, -ENOMEM, "out of memory writing the journal %s",
                                     j->path);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        *p++ = ' ';
                p = escape_into(p, fields[i]);
        }
        *p++ = '\n';
        int r = write_record(j, line, (size_t)(p - line), err);
        free(line);
        return r;
}

int journal_append(Journal *j, struct vss_error_buf *err, const char *kind, ...)
{
        const char *fields[FIELDS_MAX];
        size_t n = 0;
        va_list ap;

        fields[n++] = kind;
        va_start(ap, kind);
        for (const char *f; (f = va_arg(ap, const char *));)
                if (n < FIELDS_MAX)
                        fields[n++] = f;
                else
                        n = FIELDS_MAX + 1;
        va_end(ap);
        if (n > FIELDS_MAX)
                return provider_error(err, -E2BIG, "a journal record has at most %d fields",
                                     FIELDS_MAX);
        return journal_append_fields(j, fields, n, err);
}

void journal_close(Journal *j)
{
        if (j->fd >= 0)
                close(j->fd);
        j->fd = -1;
}

int journal_unlink(const char *path, struct vss_error_buf *err)
{
        if (path[0] && unlink(path) < 0 && errno != ENOENT)
                return provider_error(err, -errno, "cannot remove the journal %s: %s", path,
                                     strerror(errno));
        return 0;
}

int journal_remove(Journal *j, struct vss_error_buf *err)
{
        journal_close(j);
        int r = journal_unlink(j->path, err);
        if (r == 0)
                j->path[0] = '\0';
        return r;
}

int journal_open_for(Journal *j, const char *provider, const char *dir, const char *prefix,
                     const char *id, struct vss_error_buf *err)
{
        char name[NAME_MAX + 1];
        struct vss_error_buf why;

        if (provider_printf(name, sizeof(name), "%s%s", prefix, id) < 0)
                return provider_error(err, -ENAMETOOLONG, "journal name %s%s too long", prefix,
                                      id);
        int r = journal_open(j, dir, name, &why);
        return r < 0 ? provider_error(err, r, "%.400s ([provider.%s] journal_dir)", why.message,
                                      provider)
                     : 0;
}

void journal_done(Journal *j)
{
        struct vss_error_buf err;

        if (journal_remove(j, &err) < 0)
                provider_log(LOG_WARNING, "%s; the next recovery removes it", err.message);
}

/* --- reading ------------------------------------------------------------------------ */

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Unescape S in place; false when it is not a field journal_append wrote. */
static bool unescape(char *s)
{
        char *out = s;

        if (strcmp(s, EMPTY_FIELD) == 0) {
                s[0] = '\0';
                return true;
        }
        for (; *s; s++) {
                if (*s != '\\') {
                        *out++ = *s;
                        continue;
                }
                int hi, lo;
                if (s[1] != 'x' || (hi = hex_value(s[2])) < 0 || (lo = hex_value(s[3])) < 0 ||
                    (hi == 0 && lo == 0))
                        return false;
                *out++ = (char)(hi << 4 | lo);
                s += 3;
        }
        *out = '\0';
        return true;
}

static void record_free(JournalRecord *r)
{
        for (size_t i = 0; i < r->n; i++)
                free(r->fields[i]);
        free(r->fields);
}

/* LINE (no newline) into R; -EINVAL when it is not a record. */
static int record_parse(char *line, JournalRecord *r)
{
        size_t n = 1;

        for (char *c = line; *c; c++)
                n += *c == ' ';
        if (!line[0] || !(r->fields = calloc(n, sizeof(char *))))
                return line[0] ? -ENOMEM : -EINVAL;
        r->n = 0;
        for (char *save = NULL, *f = strtok_r(line, " ", &save); f;
             f = strtok_r(NULL, " ", &save)) {
                if (!unescape(f) || !(r->fields[r->n] = strdup(f))) {
                        record_free(r);
                        return -EINVAL;
                }
                r->n++;
        }
        return r->n > 0 ? 0 : -EINVAL;
}

static int file_add(JournalFile *f, JournalRecord *r)
{
        void *p = realloc(f->records, (f->n + 1) * sizeof(*f->records));

        if (!p)
                return -ENOMEM;
        f->records = p;
        f->records[f->n++] = *r;
        return 0;
}

static int read_records(FILE *in, JournalFile *f)
{
        char *line = NULL;
        size_t size = 0;
        ssize_t len;
        int r = 0;

        while (r == 0 && (len = getline(&line, &size, in)) > 0) {
                JournalRecord rec;
                if (line[len - 1] != '\n') {
                        f->torn = true; /* a crash in the middle of the last write */
                        break;
                }
                line[len - 1] = '\0';
                if (memchr(line, '\0', (size_t)len - 1)) {
                        f->torn = true;
                        continue;
                }
                r = record_parse(line, &rec);
                if (r == -EINVAL) {
                        f->torn = true; /* not ours: left out, as a torn one */
                        r = 0;
                } else if (r == 0 && (r = file_add(f, &rec)) < 0) {
                        record_free(&rec);
                }
        }
        free(line);
        return r;
}

int journal_read(const char *path, JournalFile *ret)
{
        JournalFile f = { .n = 0 };
        const char *base = strrchr(path, '/');
        int r;

        base = base ? base + 1 : path;
        size_t len = strlen(base), suffix = strlen(JOURNAL_SUFFIX);
        if (len > suffix && strcmp(base + len - suffix, JOURNAL_SUFFIX) == 0)
                len -= suffix;
        snprintf(f.path, sizeof(f.path), "%s", path);
        snprintf(f.name, sizeof(f.name), "%.*s", (int)len, base);
        FILE *in = fopen(path, "re");
        if (!in)
                return -errno;
        r = read_records(in, &f);
        fclose(in);
        if (r < 0) {
                journal_file_free(&f);
                return r;
        }
        *ret = f;
        return 0;
}

void journal_file_free(JournalFile *f)
{
        for (size_t i = 0; i < f->n; i++)
                record_free(&f->records[i]);
        free(f->records);
        f->records = NULL;
        f->n = 0;
}

static bool is_journal(const char *name)
{
        size_t len = strlen(name), suffix = strlen(JOURNAL_SUFFIX);
        return name[0] != '.' && len > suffix &&
               strcmp(name + len - suffix, JOURNAL_SUFFIX) == 0;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(((const JournalFile *)a)->name, ((const JournalFile *)b)->name);
}

int journal_read_dir(const char *dir, JournalFile **ret, size_t *ret_n)
{
        JournalFile *files = NULL;
        size_t n = 0;
        struct dirent *de;
        int r = 0;
        DIR *d = opendir(dir);

        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while (r == 0 && (de = readdir(d))) {
                char path[PATH_MAX];
                JournalFile f;
                if (!is_journal(de->d_name) ||
                    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
                        continue;
                if ((r = journal_read(path, &f)) == -ENOENT) {
                        r = 0; /* removed while we looked */
                        continue;
                }
                void *p = r == 0 ? realloc(files, (n + 1) * sizeof(*files)) : NULL;
                if (r == 0 && !p) {
                        journal_file_free(&f);
                        r = -ENOMEM;
                } else if (r == 0) {
                        files = p;
                        files[n++] = f;
                }
        }
        closedir(d);
        if (r < 0) {
                journal_files_free(files, n);
                return r;
        }
        if (n > 1)
                qsort(files, n, sizeof(*files), by_name);
        *ret = files;
        *ret_n = n;
        return 0;
}

void journal_files_free(JournalFile *files, size_t n)
{
        for (size_t i = 0; i < n; i++)
                journal_file_free(&files[i]);
        free(files);
}

const char *journal_field(const JournalRecord *r, size_t i)
{
        return i < r->n ? r->fields[i] : "";
}

bool journal_is(const JournalRecord *r, const char *kind, size_t n_fields)
{
        return r->n >= 1 + n_fields && strcmp(r->fields[0], kind) == 0;
}
