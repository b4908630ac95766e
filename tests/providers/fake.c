/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake.c: a snapshot provider with no device-mapper under it, so that the
 * coordinator can be tested on any machine. Bus tests dlopen it as
 * build/tests/providers/fake.so; tests/unit/check_fake_provider.c links it.
 * Never installed.
 *
 * It keeps sets and snapshots in memory and enforces the protocol of
 * <vss/provider.h> the way a real provider would, so a coordinator that calls
 * ops out of order gets -VSS_E_BAD_STATE here rather than on a real system.
 *
 * Configuration, from [provider.fake] in vssd.conf:
 *   volumes=  comma-separated volume paths it supports; unset: any /dev/fake/...
 *   log=      file that gets one line per op call ("hold <set>"), written with
 *             one write(2) on an O_APPEND fd, so a test can check call order
 *   control=  file re-read at the start of every op (except fini), one fault
 *             per line: "fail OP [ERRNAME]" fails OP with -EIO or the named
 *             errno; "stall OP MS" makes OP wait MS milliseconds before its
 *             work. A stall is cut short by release() or abort() of the same
 *             set from another thread (the watchdog case), and the stalled op
 *             then returns -ECANCELED. Lines starting with '#' are ignored.
 * OP is the word the log uses: init, is_volume_supported, prepare, hold,
 * commit, release, abort, delete, query, expose, unexpose, revert, recover.
 *
 * The log and control files are test instrumentation: a real provider must not
 * touch files between hold and release, but this one is a fake.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <vss/provider.h>

#define FAKE_PREFIX "/dev/fake/"
#define LINE_MAX_LEN 8192   /* one log line; longer ones are cut, never split */
#define CONTROL_MAX_LEN 4096

enum set_phase {
        PHASE_PREPARED,
        PHASE_HELD,
        PHASE_COMMITTED,
        PHASE_RELEASED,
        PHASE_ABORTED,
};

struct fake_snapshot {
        char *id;
        char *origin;
        char *device;  /* /dev/fake/snap-<id> */
        char *exposed; /* mount point, NULL when not exposed */
        uint64_t creation_usec;
        bool exists;   /* made by commit and not deleted, reverted or aborted since */
};

struct fake_set {
        char *id;
        uint32_t attributes;
        enum set_phase phase;
        unsigned inflight; /* ops on this set waiting in a stall */
        unsigned cancels;  /* bumped by release/abort: ends those stalls */
        size_t n_snaps;
        struct fake_snapshot *snaps; /* allocated by prepare: commit allocates nothing */
        struct fake_set *next;
};

struct fake {
        const struct vss_provider_host *host;
        char *volumes; /* copy of volumes=, or NULL */
        char *control; /* copy of control=, or NULL */
        int log_fd;    /* -1 without log= */
        pthread_mutex_t lock;
        pthread_cond_t wake; /* CLOCK_MONOTONIC; broadcast when a set is cancelled */
        struct fake_set *sets; /* in prepare order; freed only by fini */
};

/* One op call as the log shows it. */
struct line {
        const char *op;
        size_t len;
        char text[LINE_MAX_LEN];
};

struct fault {
        int fail;                /* 0 or a negative errno */
        unsigned long stall_ms;
};

static const char *const control_ops[] = {
        "init", "is_volume_supported", "prepare", "hold", "commit", "release", "abort",
        "delete", "query", "expose", "unexpose", "revert", "recover",
};

static const struct {
        const char *name;
        int code;
} errno_names[] = {
        { "EIO", EIO }, { "EBUSY", EBUSY }, { "ENOSPC", ENOSPC },
        { "ENOMEM", ENOMEM }, { "EINVAL", EINVAL }, { "ETIMEDOUT", ETIMEDOUT },
};

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 3, 4)))
static int set_error(struct vss_error_buf *err, int code, const char *format, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(err->message, sizeof(err->message), format, ap);
                va_end(ap);
        }
        return code;
}

static const char *phase_to_string(enum set_phase phase)
{
        static const char *const names[] = {
                [PHASE_PREPARED] = "prepared", [PHASE_HELD] = "held",
                [PHASE_COMMITTED] = "committed", [PHASE_RELEASED] = "released",
                [PHASE_ABORTED] = "aborted",
        };
        return names[phase];
}

/* --- the call log --------------------------------------------------------- */

static void line_add(struct line *l, const char *word)
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

static struct line *line_start(struct line *l, const char *op, const char *a1, const char *a2)
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
static void log_write(struct fake *f, struct line *l)
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
                return set_error(err, -errno, "fake provider: cannot open control file %s: %s",
                                 path, strerror(errno));
        size_t len = 0;
        ssize_t n;
        while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(fd);
                        return set_error(err, r, "fake provider: cannot read control file %s: %s",
                                         path, strerror(-r));
                }
                len += (size_t)n;
        }
        close(fd);
        buf[len] = '\0';
        if (len == size - 1)
                return set_error(err, -EFBIG, "fake provider: control file %s is over %zu bytes",
                                 path, size - 1);
        return 0;
}

/* The faults the control file sets for OP now; read fresh for every call. */
static int control_read(struct fake *f, const char *op, struct fault *ret,
                        struct vss_error_buf *err)
{
        char buf[CONTROL_MAX_LEN];
        struct fault fault = { 0, 0 };
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
                                         "fake provider: control file %s line %u is not "
                                         "understood; write \"fail OP [ERRNAME]\" or "
                                         "\"stall OP MS\"", f->control, lineno);
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
static void set_cancel(struct fake *f, struct fake_set *set)
{
        set->cancels++;
        pthread_cond_broadcast(&f->wake);
}

static struct fake_set *set_find(struct fake *f, const char *set_id)
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
static int op_begin(struct fake *f, struct line *line, const char *set_id,
                    struct vss_error_buf *err)
{
        struct fault fault;

        pthread_mutex_lock(&f->lock);
        log_write(f, line);
        int r = control_read(f, line->op, &fault, err);
        if (r >= 0 && fault.stall_ms > 0) {
                r = stall(f, set_id ? set_find(f, set_id) : NULL, fault.stall_ms);
                if (r < 0)
                        set_error(err, r, "fake provider: %s of set %s was cancelled by "
                                  "release or abort while it stalled", line->op, set_id);
        }
        if (r >= 0 && fault.fail < 0)
                r = set_error(err, fault.fail, "fake provider: injected failure at %s",
                              line->op);
        if (r < 0)
                pthread_mutex_unlock(&f->lock);
        return r;
}

static int op_end(struct fake *f, int r)
{
        pthread_mutex_unlock(&f->lock);
        return r;
}

/* --- volumes -------------------------------------------------------------- */

/* Is VOLUME one of the comma-separated entries of LIST (blanks around them ignored)? */
static bool volume_listed(const char *list, const char *volume)
{
        size_t vlen = strlen(volume);
        for (const char *p = list; *p;) {
                p += strspn(p, " \t,");
                size_t len = strcspn(p, ",");
                size_t end = len;
                while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
                        end--;
                if (end > 0 && end == vlen && strncmp(p, volume, vlen) == 0)
                        return true;
                p += len;
        }
        return false;
}

static int volume_check(struct fake *f, const char *volume, struct vss_error_buf *err)
{
        if (f->volumes) {
                if (volume_listed(f->volumes, volume))
                        return 1;
                set_error(err, 0, "fake provider: %s is not in its volume list "
                          "(volumes= in [provider.fake])", volume);
                return 0;
        }
        if (strncmp(volume, FAKE_PREFIX, strlen(FAKE_PREFIX)) == 0)
                return 1;
        set_error(err, 0, "fake provider: %s is not under " FAKE_PREFIX " (list other volumes "
                  "with volumes= in [provider.fake])", volume);
        return 0;
}

static int fake_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "is_volume_supported", volume, NULL), NULL, err);
        if (r < 0)
                return r;
        if (!volume)
                return op_end(f, set_error(err, -EINVAL, "fake provider: no volume given"));
        return op_end(f, volume_check(f, volume, err));
}

/* --- snapshots ------------------------------------------------------------ */

/* A snapshot id is taken while its snapshot exists or its set may still create it. */
static bool snapshot_id_taken(struct fake *f, const char *id)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (strcmp(s->snaps[i].id, id) == 0 &&
                            (s->snaps[i].exists || s->phase <= PHASE_HELD))
                                return true;
        return false;
}

static struct fake_snapshot *snapshot_find(struct fake *f, const char *id)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].id, id) == 0)
                                return &s->snaps[i];
        return NULL;
}

/* Forget a snapshot: delete, revert (a merge consumes it) and abort. */
static void snapshot_remove(struct fake_snapshot *snap)
{
        snap->exists = false;
        free(snap->exposed);
        snap->exposed = NULL;
}

/* The existing snapshot ID, or NULL with the reason for -ENOENT in err. */
static struct fake_snapshot *snapshot_lookup(struct fake *f, const char *id,
                                             struct vss_error_buf *err)
{
        struct fake_snapshot *snap = id ? snapshot_find(f, id) : NULL;
        if (!snap)
                set_error(err, -ENOENT, "fake provider: snapshot %s does not exist; it may "
                          "have been deleted already", id ? id : "(null)");
        return snap;
}

/* --- sets ----------------------------------------------------------------- */

static struct fake_set *set_free(struct fake_set *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n_snaps; i++) {
                free(set->snaps[i].id);
                free(set->snaps[i].origin);
                free(set->snaps[i].device);
                free(set->snaps[i].exposed);
        }
        free(set->snaps);
        free(set->id);
        free(set);
        return NULL;
}

/* Everything the set will need is allocated here, so commit allocates nothing. */
static int set_new(const struct vss_set_request *req, struct fake_set **ret)
{
        struct fake_set *set = calloc(1, sizeof(*set));
        if (!set)
                return -ENOMEM;
        set->attributes = req->attributes;
        set->phase = PHASE_PREPARED;
        set->id = strdup(req->set_id);
        set->snaps = calloc(req->n_volumes, sizeof(*set->snaps));
        bool ok = set->id && set->snaps;
        if (set->snaps)
                set->n_snaps = req->n_volumes;
        for (size_t i = 0; ok && i < req->n_volumes; i++) {
                struct fake_snapshot *snap = &set->snaps[i];
                snap->id = strdup(req->volumes[i].snapshot_id);
                snap->origin = strdup(req->volumes[i].volume);
                ok = snap->id && snap->origin &&
                     asprintf(&snap->device, FAKE_PREFIX "snap-%s", snap->id) >= 0;
                if (!ok)
                        snap->device = NULL; /* asprintf leaves it undefined on failure */
        }
        if (!ok) {
                set_free(set);
                return -ENOMEM;
        }
        *ret = set;
        return 0;
}

static int prepare_check_volume(struct fake *f, const struct vss_set_request *req, size_t i,
                                struct vss_error_buf *err)
{
        const struct vss_volume_request *v = &req->volumes[i];
        if (!v->volume || !v->snapshot_id)
                return set_error(err, -EINVAL, "fake provider: volume %zu of set %s has no "
                                 "path or no snapshot id", i, req->set_id);
        if (volume_check(f, v->volume, err) != 1)
                return -VSS_E_VOLUME_NOT_SUPPORTED; /* err holds the reason */
        for (size_t j = 0; j < i; j++) {
                if (strcmp(req->volumes[j].volume, v->volume) == 0)
                        return set_error(err, -VSS_E_VOLUME_IN_SET, "fake provider: %s is "
                                         "twice in set %s", v->volume, req->set_id);
                if (strcmp(req->volumes[j].snapshot_id, v->snapshot_id) == 0)
                        return set_error(err, -EEXIST, "fake provider: snapshot id %s is "
                                         "twice in set %s", v->snapshot_id, req->set_id);
        }
        if (snapshot_id_taken(f, v->snapshot_id))
                return set_error(err, -EEXIST, "fake provider: snapshot id %s of set %s is "
                                 "already in use", v->snapshot_id, req->set_id);
        return 0;
}

static int prepare_check(struct fake *f, const struct vss_set_request *req,
                         struct vss_error_buf *err)
{
        struct fake_set *old = set_find(f, req->set_id);
        if (old)
                return set_error(err, -VSS_E_BAD_STATE, "fake provider: prepare of set %s, "
                                 "which was prepared before (it is %s); a set is prepared "
                                 "once", req->set_id, phase_to_string(old->phase));
        if (req->n_volumes == 0 || !req->volumes)
                return set_error(err, -EINVAL, "fake provider: prepare of set %s with no "
                                 "volumes", req->set_id);
        if (req->n_volumes > VSS_MAX_VOLUMES_PER_SET)
                return set_error(err, -VSS_E_MAX_VOLUMES, "fake provider: set %s has %zu "
                                 "volumes, more than %d", req->set_id, req->n_volumes,
                                 VSS_MAX_VOLUMES_PER_SET);
        for (size_t i = 0; i < req->n_volumes; i++) {
                int r = prepare_check_volume(f, req, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fake_prepare(void *state, const struct vss_set_request *req,
                        struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        bool valid = req && req->set_id;

        line_start(&line, "prepare", valid ? req->set_id : NULL, NULL);
        for (size_t i = 0; valid && req->volumes && i < req->n_volumes; i++)
                line_add(&line, req->volumes[i].volume);
        int r = op_begin(f, &line, NULL, err);
        if (r < 0)
                return r;
        if (!valid)
                return op_end(f, set_error(err, -EINVAL, "fake provider: prepare without "
                                           "a set id"));
        r = prepare_check(f, req, err);
        if (r < 0)
                return op_end(f, r);

        struct fake_set *set;
        r = set_new(req, &set);
        if (r < 0)
                return op_end(f, set_error(err, r, "fake provider: out of memory preparing "
                                           "set %s", req->set_id));
        struct fake_set **tail = &f->sets;
        while (*tail)
                tail = &(*tail)->next;
        *tail = set;
        return op_end(f, 0);
}

/* Common start of hold, commit and release: the set, or BAD_STATE when it is unknown. */
static int set_op_begin(struct fake *f, const char *op, const char *set_id,
                        struct fake_set **ret, struct vss_error_buf *err)
{
        struct line line;
        int r = op_begin(f, line_start(&line, op, set_id, NULL), set_id, err);
        if (r < 0)
                return r;
        struct fake_set *set = set_id ? set_find(f, set_id) : NULL;
        if (!set)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, "fake provider: %s of set "
                                           "%s, which was never prepared; prepare it first",
                                           op, set_id ? set_id : "(null)"));
        *ret = set;
        return 0;
}

static int bad_phase(struct fake_set *set, const char *op, const char *needs,
                     struct vss_error_buf *err)
{
        return set_error(err, -VSS_E_BAD_STATE, "fake provider: %s of set %s, which is %s; "
                         "%s", op, set->id, phase_to_string(set->phase), needs);
}

static int fake_hold(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "hold", set_id, &set, err);
        if (r < 0)
                return r;
        if (set->phase != PHASE_PREPARED)
                return op_end(f, bad_phase(set, "hold", "hold comes once, after prepare", err));
        set->phase = PHASE_HELD;
        return op_end(f, 0);
}

static int fake_commit(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "commit", set_id, &set, err);
        if (r < 0)
                return r;
        if (set->phase != PHASE_HELD)
                return op_end(f, bad_phase(set, "commit", "commit comes once, after hold", err));

        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
        for (size_t i = 0; i < set->n_snaps; i++) {
                set->snaps[i].exists = true;
                set->snaps[i].creation_usec = usec;
        }
        set->phase = PHASE_COMMITTED;
        return op_end(f, 0);
}

/*
 * Valid after hold (with or without commit: without is the failure path) and,
 * for the watchdog, while a hold of the set is still stalled in another thread.
 */
static int fake_release(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "release", set_id, &set, err);
        if (r < 0)
                return r;
        bool holding = set->phase == PHASE_HELD || set->phase == PHASE_COMMITTED ||
                       (set->phase == PHASE_PREPARED && set->inflight > 0);
        if (!holding)
                return op_end(f, bad_phase(set, "release", "release comes once, after hold",
                                           err));
        set->phase = PHASE_RELEASED;
        set_cancel(f, set);
        return op_end(f, 0);
}

static int fake_abort(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "abort", set_id, NULL), set_id, err);
        if (r < 0)
                return r;
        struct fake_set *set = set_id ? set_find(f, set_id) : NULL;
        if (!set)
                return op_end(f, 0); /* nothing was made, so nothing to undo */
        for (size_t i = 0; i < set->n_snaps; i++)
                snapshot_remove(&set->snaps[i]);
        set->phase = PHASE_ABORTED;
        set_cancel(f, set);
        return op_end(f, 0);
}

/* --- single snapshots ----------------------------------------------------- */

/* Begin OP on snapshot SNAPSHOT_ID; NULL, with *RET_R the op's result, if it cannot go on. */
static struct fake_snapshot *snapshot_op_begin(struct fake *f, struct line *line, const char *op,
                                               const char *snapshot_id, const char *extra,
                                               struct vss_error_buf *err, int *ret_r)
{
        int r = op_begin(f, line_start(line, op, snapshot_id, extra), NULL, err);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        struct fake_snapshot *snap = snapshot_lookup(f, snapshot_id, err);
        if (!snap)
                *ret_r = op_end(f, -ENOENT);
        return snap;
}

static int fake_delete_snapshot(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "delete", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        snapshot_remove(snap);
        return op_end(f, 0);
}

static int fake_expose(void *state, const char *snapshot_id, const char *mount_point,
                       struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "expose", snapshot_id,
                                                       mount_point, err, &r);
        if (!snap)
                return r;
        if (!mount_point || !mount_point[0])
                return op_end(f, set_error(err, -EINVAL, "fake provider: expose of snapshot "
                                           "%s without a mount point", snapshot_id));
        if (snap->exposed)
                return op_end(f, set_error(err, -EBUSY, "fake provider: snapshot %s is "
                                           "already exposed at %s; unexpose it first",
                                           snapshot_id, snap->exposed));
        snap->exposed = strdup(mount_point);
        if (!snap->exposed)
                return op_end(f, set_error(err, -ENOMEM, "fake provider: out of memory "
                                           "exposing snapshot %s", snapshot_id));
        return op_end(f, 0);
}

static int fake_unexpose(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "unexpose", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        if (!snap->exposed)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, "fake provider: snapshot "
                                           "%s is not exposed", snapshot_id));
        free(snap->exposed);
        snap->exposed = NULL;
        return op_end(f, 0);
}

/* A merge folds the snapshot back into its origin, which consumes the snapshot. */
static int fake_revert(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "revert", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        snapshot_remove(snap);
        return op_end(f, 0);
}

/* --- query ---------------------------------------------------------------- */

static char *pack_string(char **p, const char *s)
{
        size_t n = strlen(s) + 1;
        char *copy = memcpy(*p, s, n);
        *p += n;
        return copy;
}

/*
 * Copy every snapshot into one block (infos first, then their strings), so
 * the callback runs without the lock and may call ops itself (delete, say).
 */
static int snapshots_copy(struct fake *f, struct vss_snapshot_info **ret, size_t *ret_n)
{
        size_t n = 0, bytes = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (!snap->exists)
                                continue;
                        n++;
                        bytes += strlen(snap->id) + strlen(s->id) + strlen(snap->origin) +
                                 strlen(snap->device) +
                                 (snap->exposed ? strlen(snap->exposed) : 0) + 5;
                }
        struct vss_snapshot_info *infos = malloc(n * sizeof(*infos) + bytes + 1);
        if (!infos)
                return -ENOMEM;
        char *p = (char *)(infos + n);
        size_t k = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (!snap->exists)
                                continue;
                        infos[k++] = (struct vss_snapshot_info){
                                .id = pack_string(&p, snap->id),
                                .set_id = pack_string(&p, s->id),
                                .origin = pack_string(&p, snap->origin),
                                .device = pack_string(&p, snap->device),
                                .exposed_path = pack_string(&p, snap->exposed ? snap->exposed : ""),
                                .creation_usec = snap->creation_usec,
                                .attributes = s->attributes,
                                .state = VSS_SNAPSHOT_VALID,
                        };
                }
        *ret = infos;
        *ret_n = n;
        return 0;
}

static int fake_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        struct vss_snapshot_info *infos;
        size_t n;
        int r = op_begin(f, line_start(&line, "query", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        r = op_end(f, snapshots_copy(f, &infos, &n));
        if (r < 0)
                return set_error(err, r, "fake provider: out of memory listing snapshots");
        for (size_t i = 0; cb && r == 0 && i < n; i++)
                r = cb(&infos[i], userdata);
        free(infos);
        return r;
}

/* --- life cycle ----------------------------------------------------------- */

static int fake_recover(void *state, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "recover", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        return op_end(f, 0); /* nothing survives a crash: all state was in memory */
}

static void fake_free(struct fake *f)
{
        while (f->sets) {
                struct fake_set *next = f->sets->next;
                set_free(f->sets);
                f->sets = next;
        }
        if (f->log_fd >= 0)
                close(f->log_fd);
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        free(f->volumes);
        free(f->control);
        free(f);
}

static void fake_fini(void *state)
{
        struct fake *f = state;
        struct line line;
        if (!f)
                return;
        log_write(f, line_start(&line, "fini", NULL, NULL));
        fake_free(f);
}

static int config_copy(const struct vss_provider_host *host, const char *key, char **ret)
{
        const char *value = host && host->config_get ? host->config_get("fake", key) : NULL;
        *ret = NULL;
        if (value && !(*ret = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* Allocate F with its lock, condition and configuration; no op is run yet. */
static int fake_new(const struct vss_provider_host *host, struct fake **ret)
{
        struct fake *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->host = host;
        f->log_fd = -1;
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* stalls ignore clock jumps */
        pthread_cond_init(&f->wake, &attr);
        pthread_condattr_destroy(&attr);
        pthread_mutex_init(&f->lock, NULL);

        char *log_path = NULL;
        int r = config_copy(host, "volumes", &f->volumes);
        if (r >= 0)
                r = config_copy(host, "control", &f->control);
        if (r >= 0)
                r = config_copy(host, "log", &log_path);
        if (r >= 0 && log_path) {
                f->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (f->log_fd < 0) {
                        r = -errno;
                        if (host && host->log)
                                host->log(LOG_ERR, "fake provider: cannot open log file %s: %s",
                                          log_path, strerror(-r));
                }
        }
        free(log_path);
        if (r < 0) {
                fake_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

static int fake_init(const struct vss_provider_host *host, void **ret_state)
{
        struct fake *f;
        struct vss_error_buf err = { "" };
        struct line line;
        int r = fake_new(host, &f);
        if (r < 0)
                return r;
        r = op_begin(f, line_start(&line, "init", NULL, NULL), NULL, &err);
        if (r < 0) {
                if (host && host->log)
                        host->log(LOG_ERR, "%s", err.message);
                fake_free(f);
                return r;
        }
        op_end(f, 0);
        *ret_state = f;
        return 0;
}

static const struct vss_provider_ops fake_ops = {
        .init = fake_init,
        .fini = fake_fini,
        .is_volume_supported = fake_is_volume_supported,
        .prepare = fake_prepare,
        .hold = fake_hold,
        .commit = fake_commit,
        .release = fake_release,
        .abort = fake_abort,
        .delete_snapshot = fake_delete_snapshot,
        .query = fake_query,
        .expose = fake_expose,
        .unexpose = fake_unexpose,
        .revert = fake_revert,
        .recover = fake_recover,
};

__attribute__((visibility("default")))
const struct vss_provider vss_provider_v1 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = "fake",
        .id = "b174487d-9ce0-4bcd-b915-f31ece126eb6",
        .version = "1.0",
        .description = "In-memory provider for tests: no device-mapper, faults on demand",
        .ops = &fake_ops,
};
