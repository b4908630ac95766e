/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control.c: the call log, the control file (faults, stalls), the entry and exit of every op. */
#include "tests/providers/fake/fake.h"

static const char *const control_ops[] = {
        "init", "is_volume_supported", "prepare", "hold", "commit", "release", "finish", "abort",
        "delete", "query", "expose", "unexpose", "revert", "recover", "monitor",
        "enable_volume", "disable_volume", "list_storage", "set_storage", "add_storage",
        "remove_storage",
};

static const struct {
        const char *name;
        int code;
} errno_names[] = {
        { "EIO", EIO }, { "EBUSY", EBUSY }, { "ENOSPC", ENOSPC },
        { "ENOMEM", ENOMEM }, { "EINVAL", EINVAL }, { "ETIMEDOUT", ETIMEDOUT },
        { "ENOENT", ENOENT },
        /* "not mine": vssd asks the next provider (EnableVolume, DisableVolume) */
        { "VOLUME_NOT_SUPPORTED", VSS_E_VOLUME_NOT_SUPPORTED },
};

int set_error(struct vss_error_buf *err, int code, const char *format, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(err->message, sizeof(err->message), format, ap);
                va_end(ap);
        }
        return code;
}

const char *phase_to_string(enum set_phase phase)
{
        static const char *const names[] = {
                [PHASE_PREPARED] = "prepared", [PHASE_HELD] = "held",
                [PHASE_COMMITTED] = "committed", [PHASE_RELEASED] = "released",
                [PHASE_ABORTED] = "aborted",
        };
        return names[phase];
}

/* --- the call log --------------------------------------------------------- */

void line_add(struct line *l, const char *word)
{
        if (!word)
                return;
        /* Keep room for the newline that log_write() adds. */
        int n = snprintf(l->text + l->len, sizeof(l->text) - 1 - l->len, "%s%s",
                         l->len ? " " : "", word);
        if (n > 0)
                l->len += (size_t)n;
        if (l->len > sizeof(l->text) - 2)
                l->len = sizeof(l->text) - 2;
}

struct line *line_start(struct line *l, const char *op, const char *a1, const char *a2)
{
        l->op = op;
        l->len = 0;
        l->text[0] = '\0';
        line_add(l, op);
        line_add(l, a1);
        line_add(l, a2);
        return l;
}

/* One write(2) per line: O_APPEND makes it land whole even with several writers. */
void log_write(struct fake *f, struct line *l)
{
        if (f->log_fd < 0)
                return;
        l->text[l->len] = '\n';
        ssize_t n = write(f->log_fd, l->text, l->len + 1);
        (void)n; /* nowhere to report it; a test reading the log will notice */
        l->text[l->len] = '\0';
}

/* --- the control file ----------------------------------------------------- */

static int errno_from_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTS(errno_names); i++)
                if (strcmp(errno_names[i].name, name) == 0)
                        return -errno_names[i].code;
        return 0;
}

static bool control_op_known(const char *op)
{
        for (size_t i = 0; i < ELEMENTS(control_ops); i++)
                if (strcmp(control_ops[i], op) == 0)
                        return true;
        return false;
}

/* Apply one line to FAULT if it names OP; -EINVAL when it is not understood. */
static int control_parse_line(char *s, const char *op, struct fault *fault)
{
        const char *sep = " \t\r";
        char *save = NULL;
        char *verb = strtok_r(s, sep, &save);
        if (!verb || verb[0] == '#')
                return 0;
        char *target = strtok_r(NULL, sep, &save);
        char *arg = strtok_r(NULL, sep, &save);
        if (strcmp(verb, "invalidate") == 0) {
                if (!target || arg)
                        return -EINVAL;
                if (fault->invalidate)
                        snapshot_invalidate(fault->invalidate, target);
                return 0;
        }
        if (!target || !control_op_known(target) || strtok_r(NULL, sep, &save))
                return -EINVAL;
        bool match = strcmp(target, op) == 0;

        if (strcmp(verb, "fail") == 0) {
                int code = arg ? errno_from_name(arg) : -EIO;
                if (code == 0)
                        return -EINVAL;
                if (match)
                        fault->fail = code;
                return 0;
        }
        if (strcmp(verb, "stall") == 0) {
                char *end = NULL;
                if (!arg || arg[0] < '0' || arg[0] > '9')
                        return -EINVAL;
                errno = 0;
                unsigned long ms = strtoul(arg, &end, 10);
                if (errno != 0 || *end != '\0')
                        return -EINVAL;
                if (match)
                        fault->stall_ms = ms;
                return 0;
        }
        return -EINVAL;
}

static int control_load(const char *path, char *buf, size_t size, struct vss_error_buf *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0; /* no file: no faults */
        if (fd < 0)
                return set_error(err, -errno, FAKE_WHO "cannot open control file %s: %s",
                                 path, strerror(errno));
        size_t len = 0;
        ssize_t n;
        while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return set_error(err, r, FAKE_WHO "cannot read control file %s: %s",
                                         path, strerror(-r));
                }
                len += (size_t)n;
        }
        close(fd);
        buf[len] = '\0';
        if (len == size - 1)
                return set_error(err, -EFBIG, FAKE_WHO "control file %s is over %zu bytes",
                                 path, size - 1);
        return 0;
}

/* The faults the control file sets for OP now; read fresh for every call. */
static int control_read(struct fake *f, const char *op, struct fault *ret,
                        struct vss_error_buf *err)
{
        char buf[CONTROL_MAX_LEN];
        struct fault fault = { 0, 0, strcmp(op, "monitor") == 0 ? f : NULL };
        buf[0] = '\0';
        if (f->control) {
                int r = control_load(f->control, buf, sizeof(buf), err);
                if (r < 0)
                        return r;
        }
        unsigned lineno = 1;
        for (char *s = buf, *next; *s; s = next, lineno++) {
                next = strchr(s, '\n');
                next = next ? (*next = '\0', next + 1) : s + strlen(s);
                if (control_parse_line(s, op, &fault) < 0)
                        return set_error(err, -EINVAL,
                                         FAKE_WHO "control file %s line %u is not "
                                         "understood; write \"fail OP [ERRNAME]\", "
                                         "\"stall OP MS\" or \"invalidate SNAPSHOT_ID\"",
                                         f->control, lineno);
        }
        *ret = fault;
        return 0;
}

/* --- stalls and the common entry of every op ------------------------------ */

static void timespec_add_ms(struct timespec *ts, unsigned long ms)
{
        ts->tv_sec += (time_t)(ms / 1000);
        ts->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/*
 * Wait MS with f->lock held (the wait drops it, so release/abort can run).
 * Returns -ECANCELED when SET was released or aborted meanwhile. Without a
 * set there is nothing to cancel by, and the whole stall is served.
 */
static int stall(struct fake *f, struct fake_set *set, unsigned long ms)
{
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        timespec_add_ms(&deadline, ms);
        unsigned start = set ? set->cancels : 0;
        int r = 0;

        if (set)
                set->inflight++;
        while (r != ETIMEDOUT && !(set && set->cancels != start))
                r = pthread_cond_timedwait(&f->wake, &f->lock, &deadline);
        if (set)
                set->inflight--;
        return set && set->cancels != start ? -ECANCELED : 0;
}

/* Called by release and abort with the lock held: ends stalls of other ops on SET. */
void set_cancel(struct fake *f, struct fake_set *set)
{
        set->cancels++;
        pthread_cond_broadcast(&f->wake);
}

struct fake_set *set_find(struct fake *f, const char *set_id)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                if (strcmp(s->id, set_id) == 0)
                        return s;
        return NULL;
}

/*
 * Entry of every op but fini: log the call, then apply its faults. Returns 0
 * with f->lock held, or an error with err filled and the lock released. The
 * log line is written under the lock, so once a test sees it, a release()
 * from another thread can only get in after the op has begun its stall.
 */
int op_begin(struct fake *f, struct line *line, const char *set_id,
             struct vss_error_buf *err)
{
        struct fault fault;

        pthread_mutex_lock(&f->lock);
        log_write(f, line);
        int r = control_read(f, line->op, &fault, err);
        if (r >= 0 && fault.stall_ms > 0) {
                r = stall(f, set_id ? set_find(f, set_id) : NULL, fault.stall_ms);
                if (r < 0)
                        set_error(err, r, FAKE_WHO "%s of set %s was cancelled by "
                                  "release or abort while it stalled", line->op, set_id);
        }
        if (r >= 0 && fault.fail < 0)
                r = set_error(err, fault.fail, FAKE_WHO "injected failure at %s",
                              line->op);
        if (r < 0)
                pthread_mutex_unlock(&f->lock);
        return r;
}

int op_end(struct fake *f, int r)
{
        pthread_mutex_unlock(&f->lock);
        return r;
}

/* op_end() of the ops never called in a hold window: they write the state file. */
int op_end_saved(struct fake *f, int r)
{
        if (f->dirty)
                state_save(f);
        return op_end(f, r);
}
