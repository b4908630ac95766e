/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake.c: a snapshot provider with no device-mapper under it, so that the
 * coordinator can be tested on any machine. Bus tests dlopen it as
 * build/tests/providers/fake.so; tests/unit/check_fake_provider.c links it.
 * Built a second time as "fake2" (build/tests/providers/pair/, beside a link
 * to fake.so), it is a second provider for the tests of vssd's choice
 * between providers. Never installed.
 *
 * It keeps sets and snapshots in memory and enforces the protocol of
 * <vss/provider.h> the way a real provider would, so a coordinator that calls
 * ops out of order gets -VSS_E_BAD_STATE here rather than on a real system.
 *
 * Configuration, from [provider.fake] in vssd.conf ([provider.fake2] for fake2.so,
 * the same code built with -DFAKE_NAME to test vssd's choice between providers):
 *   volumes=  comma-separated volume paths it supports; unset: any /dev/fake/...
 *   log=      file that gets one line per op call ("hold <set>"), written with
 *             one write(2) on an O_APPEND fd, so a test can check call order
 *   control=  file re-read at the start of every op (except fini), one fault
 *             per line: "fail OP [ERRNAME]" fails OP with -EIO or the named
 *             errno; "stall OP MS" makes OP wait MS milliseconds before its
 *             work. A stall is cut short by release() or abort() of the same
 *             set from another thread (the watchdog case), and the stalled op
 *             then returns -ECANCELED. "invalidate SNAPSHOT_ID" makes the next
 *             monitor() turn that snapshot invalid, its store full, as an
 *             overflowing copy-on-write store would. Lines starting with '#'
 *             are ignored.
 *   state=    file the snapshots (and enabled volumes) are saved to after
 *             every change, outside hold..release (the next op, or fini,
 *             saves what commit made), by atomic replace; loaded at init. So a
 *             restarted vssd finds them, as it would find a real provider's.
 * OP is the word the log uses: init, is_volume_supported, prepare, hold,
 * commit, release, finish, abort, delete, query, expose, unexpose, revert,
 * recover, monitor, enable_volume, disable_volume.
 *
 *   storage=  "none": the provider has no shadow storage (its list_storage and
 *             set_storage ops are NULL, as a provider without stores has)
 *   atomicity= "writers-only": prepare() reports VSS_ATOMICITY_WRITERS_ONLY, as
 *             a provider that snaps volumes one after the other would (LVM's
 *             classic snapshots); "one-instant" (the default) leaves it alone.
 *
 * finish() (after release, once) does nothing but log and check the order;
 * "fail finish" in the control file makes it fail, as an lvcreate would.
 *
 * Snapshots: prepare() names each one's device /dev/fake/snap-<id>; every
 * copy-on-write store is FAKE_COW_SIZE bytes with FAKE_COW_USED used. revert()
 * starts a merge: the snapshot is reported merging until the next monitor(),
 * which finishes the merge (the snapshot is gone then). enable_volume() takes
 * /dev/fakeplain/NAME and makes it the volume /dev/fake/NAME.
 *
 * Options (struct vss_option), as dm-thin takes them: enable_volume() takes
 * Label (any string; the log line shows every option as KEY=VALUE, so that a
 * test sees what arrived), ThinPool (a pool add_storage() made: the volume
 * lives in it, and the pool cannot be removed while it does) and Size (with
 * ThinPool: DEVICE is the NAME of a new blank volume, /dev/fake/NAME).
 * add_storage() makes a "pool" from Data and Metadata (required), DataSize
 * (default 1G), MetadataSize (default 64M) and ChunkSize; list_storage()
 * reports it as a thin-pool entry (data used: FAKE_THIN_USED per volume in
 * it; metadata used: FAKE_META_USED). An unknown key is refused (-EINVAL,
 * named). "storage=none" takes add_storage and remove_storage away too.
 *
 * Shadow storage: set_storage() keeps a maximum and a diff area per volume in
 * memory (and in the state file). Every fake volume is FAKE_VOLUME_SIZE bytes
 * (for "15%") and is "mounted" at /fake/NAME: a diff area under it lies on
 * the volume and is refused, as one under the default FAKE_DIFF_AREA is not.
 * A maximum below what the volume's snapshots use, a diff area moved while
 * the volume has snapshots and a size that is no size are refused too.
 *
 * The log, control and state files are test instrumentation: a real provider
 * must not touch files between hold and release, but this one is a fake.
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

/* A second build (-DFAKE_NAME='"fake2"' -DFAKE_ID=...) is a second provider: fake2.so. */
#ifndef FAKE_NAME
#define FAKE_NAME "fake"
#define FAKE_ID "b174487d-9ce0-4bcd-b915-f31ece126eb6"
#endif
#define FAKE_WHO FAKE_NAME " provider: " /* how its messages begin */
#define FAKE_PREFIX "/dev/fake/"
#define FAKE_PLAIN_PREFIX "/dev/fakeplain/"
#define FAKE_COW_SIZE (1024ull * 1024 * 1024)
#define FAKE_COW_USED (64ull * 1024)
#define FAKE_VOLUME_SIZE (10ull * 1024 * 1024 * 1024)
#define FAKE_DIFF_AREA "/var/lib/fake/diff"
#define FAKE_MOUNT_PREFIX "/fake/"
#define FAKE_THIN_USED (64ull * 1024 * 1024)
#define FAKE_META_USED (2ull * 1024 * 1024)
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
        enum vss_snapshot_state state;
        uint64_t cow_used;
        bool exists;   /* made by commit and not deleted, merged or aborted since */
};

struct fake_storage {
        char *volume;
        char *max_size;  /* as set; "unbounded" until one is */
        char *diff_area; /* FAKE_DIFF_AREA until one is set */
};

/* A "thin pool" add_storage() made. */
struct fake_pool {
        char *name;
        char *data, *metadata;            /* the Data and Metadata options */
        char *data_size, *metadata_size;  /* as given */
};

struct fake_set {
        char *id;
        uint32_t attributes;
        enum set_phase phase;
        bool finished;     /* finish() came, after release */
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
        char *state_path; /* copy of state=, or NULL */
        enum vss_set_atomicity atomicity; /* what prepare() reports (atomicity=) */
        bool dirty;       /* changed since the state file was written */
        char **enabled;   /* NAMEs of the enabled /dev/fakeplain/NAME */
        char **enabled_pools; /* beside each: the pool it lives in, or NULL */
        size_t n_enabled;
        struct fake_pool *pools; /* add_storage() */
        size_t n_pools;
        struct fake_storage *storage; /* set_storage() settings */
        size_t n_storage;
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
        struct fake *invalidate; /* monitor(): where "invalidate" lines apply; else NULL */
};

static const char *const control_ops[] = {
        "init", "is_volume_supported", "prepare", "hold", "commit", "release", "finish", "abort",
        "delete", "query", "expose", "unexpose", "revert", "recover", "monitor",
        "enable_volume", "disable_volume", "list_storage", "set_storage", "add_storage",
        "remove_storage",
};

static void snapshot_invalidate(struct fake *f, const char *id);

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

static int op_end(struct fake *f, int r)
{
        pthread_mutex_unlock(&f->lock);
        return r;
}

static void state_save(struct fake *f);

/* op_end() of the ops never called in a hold window: they write the state file. */
static int op_end_saved(struct fake *f, int r)
{
        if (f->dirty)
                state_save(f);
        return op_end(f, r);
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
                set_error(err, 0, FAKE_WHO "%s is not in its volume list "
                          "(volumes= in [provider." FAKE_NAME "])", volume);
                return 0;
        }
        if (strncmp(volume, FAKE_PREFIX, strlen(FAKE_PREFIX)) == 0)
                return 1;
        set_error(err, 0, FAKE_WHO "%s is not under " FAKE_PREFIX " (list other volumes "
                  "with volumes= in [provider." FAKE_NAME "])", volume);
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
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "no volume given"));
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

/* Forget a snapshot: delete, a finished merge and abort. */
static void snapshot_remove(struct fake *f, struct fake_snapshot *snap)
{
        if (snap->exists)
                f->dirty = true;
        snap->exists = false;
        free(snap->exposed);
        snap->exposed = NULL;
}

/* An "invalidate" control line, at monitor(): the store of ID overflowed. */
static void snapshot_invalidate(struct fake *f, const char *id)
{
        struct fake_snapshot *snap = snapshot_find(f, id);
        if (!snap || snap->state != VSS_SNAPSHOT_VALID)
                return;
        snap->state = VSS_SNAPSHOT_INVALID;
        snap->cow_used = FAKE_COW_SIZE;
        f->dirty = true;
}

/* The existing snapshot ID, or NULL with the reason for -ENOENT in err. */
static struct fake_snapshot *snapshot_lookup(struct fake *f, const char *id,
                                             struct vss_error_buf *err)
{
        struct fake_snapshot *snap = id ? snapshot_find(f, id) : NULL;
        if (!snap)
                set_error(err, -ENOENT, FAKE_WHO "snapshot %s does not exist; it may "
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

/* Sets stay in the order they came: query reports in that order. */
static void sets_append(struct fake *f, struct fake_set *set)
{
        struct fake_set **tail = &f->sets;
        while (*tail)
                tail = &(*tail)->next;
        *tail = set;
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
                else
                        snprintf(req->volumes[i].device, sizeof(req->volumes[i].device), "%s",
                                 snap->device);
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
                return set_error(err, -EINVAL, FAKE_WHO "volume %zu of set %s has no "
                                 "path or no snapshot id", i, req->set_id);
        if (volume_check(f, v->volume, err) != 1)
                return -VSS_E_VOLUME_NOT_SUPPORTED; /* err holds the reason */
        for (size_t j = 0; j < i; j++) {
                if (strcmp(req->volumes[j].volume, v->volume) == 0)
                        return set_error(err, -VSS_E_VOLUME_IN_SET, FAKE_WHO "%s is "
                                         "twice in set %s", v->volume, req->set_id);
                if (strcmp(req->volumes[j].snapshot_id, v->snapshot_id) == 0)
                        return set_error(err, -EEXIST, FAKE_WHO "snapshot id %s is "
                                         "twice in set %s", v->snapshot_id, req->set_id);
        }
        if (snapshot_id_taken(f, v->snapshot_id))
                return set_error(err, -EEXIST, FAKE_WHO "snapshot id %s of set %s is "
                                 "already in use", v->snapshot_id, req->set_id);
        return 0;
}

static int prepare_check(struct fake *f, const struct vss_set_request *req,
                         struct vss_error_buf *err)
{
        struct fake_set *old = set_find(f, req->set_id);
        if (old)
                return set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "prepare of set %s, "
                                 "which was prepared before (it is %s); a set is prepared "
                                 "once", req->set_id, phase_to_string(old->phase));
        if (req->n_volumes == 0 || !req->volumes)
                return set_error(err, -EINVAL, FAKE_WHO "prepare of set %s with no "
                                 "volumes", req->set_id);
        if (req->n_volumes > VSS_MAX_VOLUMES_PER_SET)
                return set_error(err, -VSS_E_MAX_VOLUMES, FAKE_WHO "set %s has %zu "
                                 "volumes, more than %d", req->set_id, req->n_volumes,
                                 VSS_MAX_VOLUMES_PER_SET);
        for (size_t i = 0; i < req->n_volumes; i++) {
                int r = prepare_check_volume(f, req, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fake_prepare(void *state, struct vss_set_request *req,
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
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "prepare without "
                                           "a set id"));
        r = prepare_check(f, req, err);
        if (r < 0)
                return op_end(f, r);

        struct fake_set *set;
        r = set_new(req, &set);
        if (r < 0)
                return op_end(f, set_error(err, r, FAKE_WHO "out of memory preparing "
                                           "set %s", req->set_id));
        sets_append(f, set);
        /* An out field of a request the ABI hands over as const, as volumes[].device is. */
        req->atomicity = f->atomicity;
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
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "%s of set "
                                           "%s, which was never prepared; prepare it first",
                                           op, set_id ? set_id : "(null)"));
        *ret = set;
        return 0;
}

static int bad_phase(struct fake_set *set, const char *op, const char *needs,
                     struct vss_error_buf *err)
{
        return set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "%s of set %s, which is %s; "
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
                set->snaps[i].state = VSS_SNAPSHOT_VALID;
                set->snaps[i].cow_used = FAKE_COW_USED;
        }
        set->phase = PHASE_COMMITTED;
        f->dirty = true; /* saved by the next op outside the window */
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

/* After a release that followed a commit; what LVM's classic snapshots would do here. */
static int fake_finish(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "finish", set_id, &set, err);
        if (r < 0)
                return r;
        bool made = set->n_snaps > 0 && set->snaps[0].exists; /* commit came before */
        if (set->phase != PHASE_RELEASED || !made || set->finished)
                return op_end(f, bad_phase(set, "finish", "finish comes once, after a commit "
                                           "and its release", err));
        set->finished = true;
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
                snapshot_remove(f, &set->snaps[i]);
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
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is being "
                                           "merged into its origin; it goes when the merge "
                                           "is done", snapshot_id));
        snapshot_remove(f, snap);
        return op_end_saved(f, 0);
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
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "expose of snapshot "
                                           "%s without a mount point", snapshot_id));
        if (snap->exposed)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is "
                                           "already exposed at %s; unexpose it first",
                                           snapshot_id, snap->exposed));
        if (snap->state == VSS_SNAPSHOT_MERGING)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is being "
                                           "merged into its origin", snapshot_id));
        snap->exposed = strdup(mount_point);
        if (!snap->exposed)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory "
                                           "exposing snapshot %s", snapshot_id));
        f->dirty = true;
        return op_end_saved(f, 0);
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
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "snapshot "
                                           "%s is not exposed", snapshot_id));
        free(snap->exposed);
        snap->exposed = NULL;
        f->dirty = true;
        return op_end_saved(f, 0);
}

/*
 * A merge folds the snapshot back into its origin, which consumes the snapshot:
 * merging until the next monitor(), which finishes it.
 */
static int fake_revert(void *state, const char *snapshot_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r;
        struct fake_snapshot *snap = snapshot_op_begin(f, &line, "revert", snapshot_id,
                                                       NULL, err, &r);
        if (!snap)
                return r;
        if (snap->state != VSS_SNAPSHOT_VALID)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "snapshot %s "
                                           "is %s; only a valid snapshot can be reverted",
                                           snapshot_id, snap->state == VSS_SNAPSHOT_MERGING
                                                   ? "being merged already" : "invalid"));
        if (snap->exposed)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "snapshot %s is exposed "
                                           "at %s; unexpose it first", snapshot_id,
                                           snap->exposed));
        snap->state = VSS_SNAPSHOT_MERGING;
        f->dirty = true;
        return op_end_saved(f, 0);
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
                                .state = snap->state,
                                .cow_used_bytes = snap->cow_used,
                                .cow_size_bytes = FAKE_COW_SIZE,
                        };
                }
        *ret = infos;
        *ret_n = n;
        return 0;
}

/* Report every snapshot to CB; called with the lock held (by op_begin), which it drops. */
static int snapshots_report(struct fake *f, vss_snapshot_cb cb, void *userdata,
                            struct vss_error_buf *err)
{
        struct vss_snapshot_info *infos;
        size_t n;
        int r = op_end_saved(f, snapshots_copy(f, &infos, &n));
        if (r < 0)
                return set_error(err, r, FAKE_WHO "out of memory listing snapshots");
        for (size_t i = 0; cb && r == 0 && i < n; i++)
                r = cb(&infos[i], userdata);
        free(infos);
        return r;
}

static int fake_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "query", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        return snapshots_report(f, cb, userdata, err);
}

/* Housekeeping, then the report: merges revert() started are done by now. */
static int fake_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                        struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "monitor", NULL, NULL), NULL, err);
        if (r < 0)
                return r; /* "invalidate" lines were applied by op_begin */
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && s->snaps[i].state == VSS_SNAPSHOT_MERGING)
                                snapshot_remove(f, &s->snaps[i]);
        return snapshots_report(f, cb, userdata, err);
}

/* --- enabled volumes ------------------------------------------------------ */

static int enabled_find(struct fake *f, const char *name)
{
        for (size_t i = 0; i < f->n_enabled; i++)
                if (strcmp(f->enabled[i], name) == 0)
                        return (int)i;
        return -1;
}

static int enabled_add(struct fake *f, const char *name, const char *pool)
{
        size_t n = f->n_enabled + 1;
        char **v = realloc(f->enabled, n * sizeof(*v));
        if (v)
                f->enabled = v;
        char **p = v ? realloc(f->enabled_pools, n * sizeof(*p)) : NULL;
        if (!p)
                return -ENOMEM;
        f->enabled_pools = p;
        v[f->n_enabled] = strdup(name);
        p[f->n_enabled] = pool ? strdup(pool) : NULL;
        f->n_enabled++; /* counted now, so that fake_free() frees a half-made one */
        return v[n - 1] && (!pool || p[n - 1]) ? 0 : -ENOMEM;
}

static bool volume_has_snapshots(struct fake *f, const char *volume)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0)
                                return true;
        return false;
}

/* --- pools (add_storage) ----------------------------------------------------- */

static struct fake_pool *pool_find(struct fake *f, const char *name)
{
        for (size_t i = 0; i < f->n_pools; i++)
                if (strcmp(f->pools[i].name, name) == 0)
                        return &f->pools[i];
        return NULL;
}

static void pool_free_fields(struct fake_pool *p)
{
        free(p->name);
        free(p->data);
        free(p->metadata);
        free(p->data_size);
        free(p->metadata_size);
}

static int pool_add(struct fake *f, const char *name, const char *data, const char *metadata,
                    const char *data_size, const char *metadata_size)
{
        struct fake_pool *v = realloc(f->pools, (f->n_pools + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        f->pools = v;
        struct fake_pool *p = &v[f->n_pools++]; /* counted now: fake_free() frees a half-made one */
        *p = (struct fake_pool){ strdup(name), strdup(data), strdup(metadata), strdup(data_size),
                                 strdup(metadata_size) };
        return p->name && p->data && p->metadata && p->data_size && p->metadata_size ? 0
                                                                                    : -ENOMEM;
}

/* The volumes enabled in pool NAME. */
static size_t pool_volumes(struct fake *f, const char *name)
{
        size_t n = 0;
        for (size_t i = 0; i < f->n_enabled; i++)
                n += f->enabled_pools[i] && strcmp(f->enabled_pools[i], name) == 0;
        return n;
}

/*
 * The value of each option of OPTIONS into the slot of its key in KEYS (N
 * of them, NULL-terminated); an unknown key is refused, naming it and the
 * keys taken. The log LINE gets every option as KEY=VALUE.
 */
static int options_read(const struct vss_option *options, size_t n_options,
                        const char *const *keys, const char **values, struct line *line,
                        const char *what, struct vss_error_buf *err)
{
        char known[256] = "";
        for (size_t k = 0; keys[k]; k++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                         k ? ", " : "", keys[k]);
        for (size_t i = 0; i < n_options; i++) {
                size_t k = 0;
                while (keys[k] && strcmp(keys[k], options[i].key) != 0)
                        k++;
                if (!keys[k])
                        return set_error(err, -EINVAL, FAKE_WHO "cannot %s: unknown option "
                                         "\"%s\"; it takes %s", what, options[i].key, known);
                values[k] = options[i].value;
        }
        for (size_t i = 0; i < n_options; i++) {
                char word[1024];
                snprintf(word, sizeof(word), "%s=%s", options[i].key, options[i].value);
                line_add(line, word);
        }
        return 0;
}

/*
 * /dev/fakeplain/NAME becomes the volume /dev/fake/NAME; with ThinPool it
 * lives in that pool, and with Size too DEVICE is the NAME of a new volume.
 */
static int fake_enable_volume(void *state, const char *device, const struct vss_option *options,
                              size_t n_options, char *volume, size_t size,
                              struct vss_error_buf *err)
{
        static const char *const keys[] = { "Label", "ThinPool", "Size", NULL };
        const char *values[3] = { NULL, NULL, NULL };
        struct fake *f = state;
        struct line line;
        char what[512];
        snprintf(what, sizeof(what), "enable %s", device ? device : "(null)");
        line_start(&line, "enable_volume", device, NULL);
        int r = options_read(options, n_options, keys, values, &line, what, err);
        if (r < 0)
                return r;
        const char *pool = values[1];
        if (values[2] && !pool)
                return set_error(err, -EINVAL, FAKE_WHO "cannot %s: Size makes a new volume in "
                                 "a pool: give ThinPool too", what);
        if ((r = op_begin(f, &line, NULL, err)) < 0)
                return r;
        size_t plen = strlen(FAKE_PLAIN_PREFIX);
        const char *name = !device ? NULL : values[2] ? device
                         : strncmp(device, FAKE_PLAIN_PREFIX, plen) == 0 ? device + plen : NULL;
        if (!name || !name[0] || strchr(name, '/'))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot enable %s: it "
                                           "wraps only " FAKE_PLAIN_PREFIX "NAME devices (as "
                                           FAKE_PREFIX "NAME)%s", device ? device : "(null)",
                                           values[2] ? ", and a new volume's NAME has no '/'"
                                                     : ""));
        if (pool && !pool_find(f, pool))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: there is no "
                                           "pool '%s' (add_storage makes one)", what, pool));
        if (enabled_find(f, name) >= 0)
                return op_end(f, set_error(err, -EEXIST, FAKE_WHO "%s is enabled "
                                           "already, as " FAKE_PREFIX "%s; use that volume",
                                           device, name));
        if ((size_t)snprintf(volume, size, FAKE_PREFIX "%s", name) >= size)
                return op_end(f, set_error(err, -ENAMETOOLONG, FAKE_WHO "the volume "
                                           "name for %s is too long", device));
        if (enabled_add(f, name, pool) < 0)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory "
                                           "enabling %s", device));
        f->dirty = true;
        return op_end_saved(f, 0);
}

static int fake_disable_volume(void *state, const char *volume, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "disable_volume", volume, NULL), NULL, err);
        if (r < 0)
                return r;
        size_t plen = strlen(FAKE_PREFIX);
        int i = volume && strncmp(volume, FAKE_PREFIX, plen) == 0
                        ? enabled_find(f, volume + plen) : -1;
        if (i < 0)
                return op_end(f, set_error(err, -ENOENT, FAKE_WHO "%s is not an enabled "
                                           "volume (EnableVolume makes " FAKE_PREFIX "NAME of "
                                           FAKE_PLAIN_PREFIX "NAME)", volume ? volume : "(null)"));
        if (volume_has_snapshots(f, volume))
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "%s still has "
                                           "snapshots; delete them first", volume));
        free(f->enabled[i]);
        free(f->enabled_pools[i]);
        memmove(f->enabled + i, f->enabled + i + 1, (f->n_enabled - i - 1) * sizeof(char *));
        memmove(f->enabled_pools + i, f->enabled_pools + i + 1,
                (f->n_enabled - i - 1) * sizeof(char *));
        f->n_enabled--;
        f->dirty = true;
        return op_end_saved(f, 0);
}

/* --- shadow storage -------------------------------------------------------- */

static struct fake_storage *storage_find(struct fake *f, const char *volume)
{
        for (size_t i = 0; i < f->n_storage; i++)
                if (strcmp(f->storage[i].volume, volume) == 0)
                        return &f->storage[i];
        return NULL;
}

/* A new entry with the defaults; NULL on out-of-memory. */
static struct fake_storage *storage_add(struct fake *f, const char *volume)
{
        struct fake_storage *v = realloc(f->storage, (f->n_storage + 1) * sizeof(*v));
        if (!v)
                return NULL;
        f->storage = v;
        struct fake_storage *st = &v[f->n_storage];
        *st = (struct fake_storage){ strdup(volume), strdup("unbounded"),
                                     strdup(FAKE_DIFF_AREA) };
        f->n_storage++; /* counted now, so that fake_free() frees a half-made one */
        return st->volume && st->max_size && st->diff_area ? st : NULL;
}

/* "unbounded", "15%" of FAKE_VOLUME_SIZE, or bytes with K, M, G or T: exact, no rounding. */
static int fake_size_parse(const char *s, uint64_t *ret)
{
        char *end;
        if (strcmp(s, "unbounded") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (*s < '0' || *s > '9')
                return -EINVAL;
        unsigned long long v = strtoull(s, &end, 10);
        const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
        if (*end == '%' && !end[1])
                v = FAKE_VOLUME_SIZE * v / 100;
        else if (u && *u && !end[1])
                v <<= 10 * (u - units + 1);
        else if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* What the volume's existing snapshots use and how many stores they have. */
static uint64_t storage_used(struct fake *f, const char *volume, size_t *n)
{
        uint64_t used = 0;
        *n = 0;
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0) {
                                used += s->snaps[i].cow_used;
                                (*n)++;
                        }
        return used;
}

static int storage_report(struct fake *f, const char *volume, const char *max_size,
                          const char *diff_area, vss_storage_cb cb, void *userdata)
{
        size_t n;
        uint64_t max = 0;
        struct vss_storage_info info = { .volume = volume, .diff_area = diff_area,
                                         .max_size = max_size };
        info.used_bytes = storage_used(f, volume, &n);
        info.allocated_bytes = n * FAKE_COW_SIZE;
        fake_size_parse(max_size, &max);
        info.max_bytes = max;
        return cb(&info, userdata);
}

/* The first existing snapshot of VOLUME, so that each volume is reported once. */
static const struct fake_snapshot *first_snapshot_of(struct fake *f, const char *volume)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].origin, volume) == 0)
                                return &s->snaps[i];
        return NULL;
}

static int pools_report(struct fake *f, vss_storage_cb cb, void *userdata);

/* Settings first, in the order they were made; then volumes that only have snapshots; pools. */
static int fake_list_storage(void *state, vss_storage_cb cb, void *userdata,
                             struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "list_storage", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        /* The callback runs under the lock: it only copies (vssd's core does). */
        for (size_t i = 0; r >= 0 && i < f->n_storage; i++)
                r = storage_report(f, f->storage[i].volume, f->storage[i].max_size,
                                   f->storage[i].diff_area, cb, userdata);
        for (struct fake_set *s = f->sets; r >= 0 && s; s = s->next)
                for (size_t i = 0; r >= 0 && i < s->n_snaps; i++) {
                        const char *origin = s->snaps[i].origin;
                        if (s->snaps[i].exists && !storage_find(f, origin) &&
                            first_snapshot_of(f, origin) == &s->snaps[i])
                                r = storage_report(f, origin, "unbounded", FAKE_DIFF_AREA, cb,
                                                   userdata);
                }
        if (r >= 0)
                r = pools_report(f, cb, userdata);
        return op_end(f, r < 0 ? set_error(err, r, FAKE_WHO "cannot report its "
                                           "storage: %s", strerror(-r)) : 0);
}

static int storage_check(struct fake *f, const char *volume, const char *max_size,
                         const char *diff_area, struct vss_error_buf *err)
{
        size_t n;
        uint64_t max, used = storage_used(f, volume, &n);
        if (volume_check(f, volume, err) <= 0)
                return set_error(err, -EINVAL, FAKE_WHO "%s has no shadow storage here: "
                                 "it is no fake volume", volume);
        if (max_size && fake_size_parse(max_size, &max) < 0)
                return set_error(err, -EINVAL, FAKE_WHO "the maximum \"%s\" is not a size",
                                 max_size);
        if (max_size && max < used)
                return set_error(err, -EINVAL, FAKE_WHO "the maximum %s of %s is below the "
                                 "%llu bytes its %zu snapshot(s) already use", max_size, volume,
                                 (unsigned long long)used, n);
        const char *name = volume + strlen(FAKE_PREFIX);
        size_t mlen = strlen(FAKE_MOUNT_PREFIX), nlen = strlen(name);
        if (diff_area && strncmp(diff_area, FAKE_MOUNT_PREFIX, mlen) == 0 &&
            strncmp(diff_area + mlen, name, nlen) == 0 &&
            (diff_area[mlen + nlen] == '\0' || diff_area[mlen + nlen] == '/'))
                return set_error(err, -EINVAL, FAKE_WHO "the diff area %s cannot hold "
                                 "snapshots of %s: it is on that volume itself", diff_area,
                                 volume);
        struct fake_storage *st = storage_find(f, volume);
        const char *now = st ? st->diff_area : FAKE_DIFF_AREA;
        if (diff_area && n > 0 && strcmp(diff_area, now) != 0)
                return set_error(err, -EBUSY, FAKE_WHO "%s has %zu snapshot(s) with "
                                 "their stores in %s; delete them first", volume, n, now);
        return 0;
}

static int storage_replace(char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int fake_set_storage(void *state, const char *volume, const char *max_size,
                            const char *diff_area, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        line_start(&line, "set_storage", volume, max_size ? max_size : "-");
        line_add(&line, diff_area ? diff_area : "-");
        int r = op_begin(f, &line, NULL, err);
        if (r < 0)
                return r;
        if (!volume || (!max_size && !diff_area))
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "set_storage needs a "
                                           "volume and a maximum or a diff area"));
        if ((r = storage_check(f, volume, max_size, diff_area, err)) < 0)
                return op_end(f, r);
        struct fake_storage *st = storage_find(f, volume);
        if (!st)
                st = storage_add(f, volume);
        if (!st || (max_size && storage_replace(&st->max_size, max_size) < 0) ||
            (diff_area && storage_replace(&st->diff_area, diff_area) < 0))
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory"));
        f->dirty = true;
        return op_end_saved(f, 0);
}

/* --- add_storage, remove_storage -------------------------------------------- */

/* A pool's entry of list_storage(), as dm-thin reports one. */
static int pool_report(struct fake *f, const struct fake_pool *p, vss_storage_cb cb,
                       void *userdata)
{
        uint64_t data = 0, metadata = 0;
        fake_size_parse(p->data_size, &data);
        fake_size_parse(p->metadata_size, &metadata);
        struct vss_storage_info info = {
                .volume = "", .name = p->name, .kind = "thin-pool", .diff_area = p->data,
                .used_bytes = pool_volumes(f, p->name) * FAKE_THIN_USED,
                .allocated_bytes = data, .max_size = p->data_size, .max_bytes = data,
                .metadata_used_bytes = FAKE_META_USED, .metadata_size_bytes = metadata,
        };
        return cb(&info, userdata);
}

static int pools_report(struct fake *f, vss_storage_cb cb, void *userdata)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < f->n_pools; i++)
                r = pool_report(f, &f->pools[i], cb, userdata);
        return r;
}

static int fake_add_storage(void *state, const char *name, const struct vss_option *options,
                            size_t n_options, struct vss_error_buf *err)
{
        static const char *const keys[] = { "Data", "Metadata", "DataSize", "MetadataSize",
                                            "ChunkSize", NULL };
        const char *v[5] = { NULL, NULL, "1G", "64M", NULL };
        struct fake *f = state;
        struct line line;
        char what[256];
        uint64_t bytes;
        snprintf(what, sizeof(what), "add pool %s", name ? name : "(null)");
        line_start(&line, "add_storage", name, NULL);
        int r = options_read(options, n_options, keys, v, &line, what, err);
        if (r < 0)
                return r;
        if ((r = op_begin(f, &line, NULL, err)) < 0)
                return r;
        if (!name || !v[0] || !v[1])
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: give Data and "
                                           "Metadata", what));
        for (size_t k = 2; k < 5; k++)
                if (v[k] && fake_size_parse(v[k], &bytes) < 0)
                        return op_end(f, set_error(err, -EINVAL, FAKE_WHO "cannot %s: %s "
                                                   "\"%s\" is not a size", what, keys[k], v[k]));
        if (pool_find(f, name))
                return op_end(f, set_error(err, -EEXIST, FAKE_WHO "cannot %s: it exists "
                                           "already", what));
        if (pool_add(f, name, v[0], v[1], v[2], v[3]) < 0)
                return op_end(f, set_error(err, -ENOMEM, FAKE_WHO "out of memory"));
        f->dirty = true;
        return op_end_saved(f, 0);
}

static int fake_remove_storage(void *state, const char *name, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "remove_storage", name, NULL), NULL, err);
        if (r < 0)
                return r;
        struct fake_pool *p = name ? pool_find(f, name) : NULL;
        if (!p)
                return op_end(f, set_error(err, -ENOENT, FAKE_WHO "there is no pool '%s'",
                                           name ? name : "(null)"));
        size_t n = pool_volumes(f, name);
        if (n)
                return op_end(f, set_error(err, -EBUSY, FAKE_WHO "pool '%s' still holds %zu "
                                           "volume(s); disable them first", name, n));
        pool_free_fields(p);
        memmove(p, p + 1, (size_t)(f->pools + f->n_pools - p - 1) * sizeof(*p));
        f->n_pools--;
        f->dirty = true;
        return op_end_saved(f, 0);
}

/* --- the state file ------------------------------------------------------- */

/* One line per snapshot and per enabled volume, tab-separated; "-": not exposed. */
static void state_write(struct fake *f, FILE *out)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++) {
                        struct fake_snapshot *snap = &s->snaps[i];
                        if (snap->exists)
                                fprintf(out, "snapshot\t%s\t%s\t%s\t%u\t%llu\t%s\t%s\t%d\t%llu\n",
                                        snap->id, s->id, snap->origin, (unsigned)s->attributes,
                                        (unsigned long long)snap->creation_usec, snap->device,
                                        snap->exposed ? snap->exposed : "-", (int)snap->state,
                                        (unsigned long long)snap->cow_used);
                }
        for (size_t i = 0; i < f->n_enabled; i++)
                fprintf(out, "enabled\t%s%s%s\n", f->enabled[i], f->enabled_pools[i] ? "\t" : "",
                        f->enabled_pools[i] ? f->enabled_pools[i] : "");
        for (size_t i = 0; i < f->n_pools; i++)
                fprintf(out, "pool\t%s\t%s\t%s\t%s\t%s\n", f->pools[i].name, f->pools[i].data,
                        f->pools[i].metadata, f->pools[i].data_size, f->pools[i].metadata_size);
        for (size_t i = 0; i < f->n_storage; i++)
                fprintf(out, "storage\t%s\t%s\t%s\n", f->storage[i].volume,
                        f->storage[i].max_size, f->storage[i].diff_area);
}

/* Atomic replace: a reader sees the old file or the new one, never half of one. */
static void state_save(struct fake *f)
{
        char tmp[4096];
        f->dirty = false;
        if (!f->state_path)
                return;
        snprintf(tmp, sizeof(tmp), "%s.tmp", f->state_path);
        FILE *out = fopen(tmp, "we");
        if (out)
                state_write(f, out);
        bool ok = out && fflush(out) == 0 && fsync(fileno(out)) == 0;
        if (out && fclose(out) != 0)
                ok = false;
        if (ok && rename(tmp, f->state_path) == 0)
                return;
        if (f->host && f->host->log)
                f->host->log(LOG_ERR, FAKE_WHO "cannot save its state to %s: %s",
                             f->state_path, strerror(errno));
        unlink(tmp);
}

/* A loaded set was made by an earlier instance: it is released. */
static struct fake_set *state_set(struct fake *f, const char *id, uint32_t attributes)
{
        struct fake_set *set = set_find(f, id);
        if (set)
                return set;
        if (!(set = calloc(1, sizeof(*set))) || !(set->id = strdup(id))) {
                free(set);
                return NULL;
        }
        set->attributes = attributes;
        set->phase = PHASE_RELEASED;
        sets_append(f, set);
        return set;
}

/* snapshot ID SET ORIGIN ATTRIBUTES CREATION DEVICE EXPOSED STATE COW_USED */
static int state_load_snapshot(struct fake *f, char **v)
{
        struct fake_set *set = state_set(f, v[2], (uint32_t)strtoul(v[4], NULL, 10));
        struct fake_snapshot *snaps = set ? realloc(set->snaps, (set->n_snaps + 1) *
                                                                sizeof(*snaps)) : NULL;
        if (!snaps)
                return -ENOMEM;
        set->snaps = snaps;
        bool exposed = strcmp(v[7], "-") != 0;
        struct fake_snapshot *snap = &snaps[set->n_snaps++]; /* freed with the set, even half-made */
        *snap = (struct fake_snapshot){
                .id = strdup(v[1]), .origin = strdup(v[3]), .device = strdup(v[6]),
                .exposed = exposed ? strdup(v[7]) : NULL,
                .creation_usec = strtoull(v[5], NULL, 10),
                .state = (enum vss_snapshot_state)atoi(v[8]),
                .cow_used = strtoull(v[9], NULL, 10), .exists = true,
        };
        return snap->id && snap->origin && snap->device && (!exposed || snap->exposed) ? 0
                                                                                  : -ENOMEM;
}

static int state_load_line(struct fake *f, char *line)
{
        char *v[11], *save = NULL;
        size_t n = 0;
        for (char *t = strtok_r(line, "\t", &save); t && n < 11; t = strtok_r(NULL, "\t", &save))
                v[n++] = t;
        if ((n == 2 || n == 3) && strcmp(v[0], "enabled") == 0)
                return enabled_add(f, v[1], n == 3 ? v[2] : NULL);
        if (n == 6 && strcmp(v[0], "pool") == 0)
                return pool_add(f, v[1], v[2], v[3], v[4], v[5]);
        if (n == 4 && strcmp(v[0], "storage") == 0) {
                struct fake_storage *st = storage_find(f, v[1]) ? NULL : storage_add(f, v[1]);
                return st && storage_replace(&st->max_size, v[2]) == 0 &&
                       storage_replace(&st->diff_area, v[3]) == 0 ? 0 : -ENOMEM;
        }
        if (n == 10 && strcmp(v[0], "snapshot") == 0)
                return state_load_snapshot(f, v);
        return n == 0 ? 0 : -EINVAL;
}

static int state_load(struct fake *f, struct vss_error_buf *err)
{
        FILE *in = fopen(f->state_path, "re");
        if (!in)
                return errno == ENOENT ? 0 : set_error(err, -errno, FAKE_WHO "cannot read "
                                                       "state file %s: %s", f->state_path,
                                                       strerror(errno));
        char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        int r = 0;
        while (r >= 0 && getline(&line, &size, in) > 0) {
                lineno++;
                line[strcspn(line, "\n")] = '\0';
                r = state_load_line(f, line);
        }
        free(line);
        fclose(in);
        if (r == -EINVAL)
                return set_error(err, r, FAKE_WHO "state file %s line %u is malformed; "
                                 "remove the file to start afresh", f->state_path, lineno);
        if (r < 0)
                return set_error(err, r, FAKE_WHO "out of memory loading %s",
                                 f->state_path);
        return 0;
}

/* --- life cycle ----------------------------------------------------------- */

static int fake_recover(void *state, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "recover", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        return op_end_saved(f, 0); /* nothing is half-made: commit is all or nothing */
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
        for (size_t i = 0; i < f->n_enabled; i++) {
                free(f->enabled[i]);
                free(f->enabled_pools[i]);
        }
        free(f->enabled);
        free(f->enabled_pools);
        for (size_t i = 0; i < f->n_pools; i++)
                pool_free_fields(&f->pools[i]);
        free(f->pools);
        for (size_t i = 0; i < f->n_storage; i++) {
                free(f->storage[i].volume);
                free(f->storage[i].max_size);
                free(f->storage[i].diff_area);
        }
        free(f->storage);
        free(f->state_path);
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
        if (f->dirty)
                state_save(f);
        fake_free(f);
}

static int config_copy(const struct vss_provider_host *host, const char *key, char **ret)
{
        const char *value = host && host->config_get ? host->config_get(FAKE_NAME, key) : NULL;
        *ret = NULL;
        if (value && !(*ret = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* atomicity=: "one-instant" (or unset) or "writers-only"; else -EINVAL, logged. */
static int atomicity_config(const struct vss_provider_host *host,
                            enum vss_set_atomicity *ret)
{
        const char *value = host && host->config_get ? host->config_get(FAKE_NAME, "atomicity")
                                                     : NULL;
        *ret = VSS_ATOMICITY_ONE_INSTANT;
        if (!value || strcmp(value, "one-instant") == 0)
                return 0;
        if (strcmp(value, "writers-only") == 0) {
                *ret = VSS_ATOMICITY_WRITERS_ONLY;
                return 0;
        }
        if (host && host->log)
                host->log(LOG_ERR, FAKE_WHO "atomicity = %s is neither one-instant nor "
                          "writers-only", value);
        return -EINVAL;
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
        int r = atomicity_config(host, &f->atomicity);
        if (r >= 0)
                r = config_copy(host, "volumes", &f->volumes);
        if (r >= 0)
                r = config_copy(host, "control", &f->control);
        if (r >= 0)
                r = config_copy(host, "state", &f->state_path);
        if (r >= 0)
                r = config_copy(host, "log", &log_path);
        if (r >= 0 && log_path) {
                f->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (f->log_fd < 0) {
                        r = -errno;
                        if (host && host->log)
                                host->log(LOG_ERR, FAKE_WHO "cannot open log file %s: %s",
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

static struct vss_provider_ops fake_ops;

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
        if (f->state_path && (r = state_load(f, &err)) < 0) {
                op_end(f, r);
                if (host && host->log)
                        host->log(LOG_ERR, "%s", err.message);
                fake_free(f);
                return r;
        }
        op_end(f, 0);
        const char *storage = host && host->config_get ? host->config_get(FAKE_NAME, "storage")
                                                       : NULL;
        bool none = storage && strcmp(storage, "none") == 0;
        fake_ops.list_storage = none ? NULL : fake_list_storage;
        fake_ops.set_storage = none ? NULL : fake_set_storage;
        fake_ops.add_storage = none ? NULL : fake_add_storage;
        fake_ops.remove_storage = none ? NULL : fake_remove_storage;
        *ret_state = f;
        return 0;
}

/* Not const: "storage=none" takes the storage ops away (see the top). */
static struct vss_provider_ops fake_ops = {
        .init = fake_init,
        .fini = fake_fini,
        .is_volume_supported = fake_is_volume_supported,
        .prepare = fake_prepare,
        .hold = fake_hold,
        .commit = fake_commit,
        .release = fake_release,
        .finish = fake_finish,
        .abort = fake_abort,
        .delete_snapshot = fake_delete_snapshot,
        .query = fake_query,
        .expose = fake_expose,
        .unexpose = fake_unexpose,
        .revert = fake_revert,
        .recover = fake_recover,
        .monitor = fake_monitor,
        .enable_volume = fake_enable_volume,
        .disable_volume = fake_disable_volume,
        .list_storage = fake_list_storage,
        .set_storage = fake_set_storage,
        .add_storage = fake_add_storage,
        .remove_storage = fake_remove_storage,
};

__attribute__((visibility("default")))
const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = FAKE_NAME,
        .id = FAKE_ID,
        .version = "1.0",
        .priority = 100,
        .description = "In-memory provider for tests: no device-mapper, faults on demand",
        .ops = &fake_ops,
};
