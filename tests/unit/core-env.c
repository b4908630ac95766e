/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core-env.c: the fake environment the check_core*.c tests drive the core
 * with; what it offers is described in core-env.h.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/core-env.h"

struct fake_env E;

/* Provider ops may run on a test's own thread (a hanging hold) while the env traces. */
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- trace -------------------------------------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
void trace_add(const char *format, ...)
{
        pthread_mutex_lock(&trace_lock);
        size_t len = strlen(E.trace);
        if (len)
                E.trace[len++] = ' ';
        va_list ap;
        va_start(ap, format);
        vsnprintf(E.trace + len, sizeof(E.trace) - len, format, ap);
        va_end(ap);
        pthread_mutex_unlock(&trace_lock);
}

void trace_clear(void)
{
        E.trace[0] = '\0';
}

/* Position of the first occurrence of WORD (a whole trace entry), or -1. */
long trace_pos(const char *word)
{
        size_t n = strlen(word);
        for (const char *p = E.trace; (p = strstr(p, word)); p++)
                if ((p == E.trace || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                        return p - E.trace;
        return -1;
}

long trace_last(const char *word)
{
        long last = -1, pos;
        size_t n = strlen(word);
        for (const char *p = E.trace; (p = strstr(p, word)); p++) {
                pos = p - E.trace;
                if ((p == E.trace || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                        last = pos;
        }
        return last;
}

bool trace_has(const char *word)
{
        return trace_pos(word) >= 0;
}

unsigned trace_count(const char *word)
{
        unsigned n = 0;
        size_t len = strlen(word);
        for (const char *p = E.trace; (p = strstr(p, word)); p++)
                if ((p == E.trace || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
                        n++;
        return n;
}

/* --- the env ------------------------------------------------------------------------------ */

static struct test_writer *tw_of(const CoreWriter *w)
{
        for (size_t i = 0; i < E.n_writers; i++)
                if (E.writers[i].w == w)
                        return &E.writers[i];
        return NULL;
}

static uint64_t env_now(void *u)
{
        return E.now;
}

static uint64_t env_realtime(void *u)
{
        return 1700000000000000ull + E.now * 1000;
}

static void env_timer_set(void *u, uint64_t deadline)
{
        E.deadline = deadline;
}

static int env_writer_send(void *u, const CoreWriter *w, enum core_event event,
                           uint64_t cookie, const CoreSet *set)
{
        if (E.refuse_sends)
                return -EIO;
        trace_add("%s:%s", w->name, core_event_to_string(event));
        struct test_writer *tw = tw_of(w);
        ck_assert_msg(tw, "event to a writer the test does not know");
        tw->n_events++;
        snprintf(tw->last_set, sizeof(tw->last_set), "%s", set ? set->id : "");
        if (event == CORE_EVENT_ABORT || event == CORE_EVENT_BACKUP_SHUTDOWN) {
                /* As a writer library would: the set's pending event is moot now. */
                if (tw->cookie && strcmp(tw->pending_set, tw->last_set) == 0) {
                        tw->cookie = 0;
                        tw->event = -1;
                }
                return 0;
        }
        ck_assert_msg(tw->cookie == 0, "%s got %s while %s was pending", w->name,
                      core_event_to_string(event), core_event_to_string(tw->event));
        tw->cookie = cookie;
        tw->event = (int)event;
        memcpy(tw->pending_set, tw->last_set, sizeof(tw->pending_set));
        return 0;
}

static int env_provider_run(void *u, CoreJob *job)
{
        if (E.refuse_jobs || (int)job->op == E.refuse_op)
                return -EAGAIN;
        ck_assert_uint_lt(E.n_jobs, MAX_JOBS);
        E.jobs[E.n_jobs++] = job;
        return 0;
}

static void env_watchdog(void *u, CoreJob *job)
{
        E.n_watchdog++;
        trace_add("watchdog");
        core_job_execute(job);
        core_job_complete(job);
}

static void objects_add(const char *token)
{
        size_t len = strlen(E.objects);
        snprintf(E.objects + len, sizeof(E.objects) - len, "%s%s", len ? " " : "", token);
}

static void env_added(void *u, enum core_object_kind kind, void *o)
{
        E.added[kind]++;
        if (kind == CORE_OBJECT_SET)
                objects_add("+set");
        if (kind == CORE_OBJECT_SNAPSHOT) {
                objects_add("+snapshot");
                E.added_without_device += !((CoreSnapshot *)o)->device[0];
        }
}

static void env_removed(void *u, enum core_object_kind kind, void *o)
{
        E.removed[kind]++;
        if (kind == CORE_OBJECT_SET || kind == CORE_OBJECT_SNAPSHOT)
                objects_add(kind == CORE_OBJECT_SET ? "-set" : "-snapshot");
        if (kind == CORE_OBJECT_WRITER)
                for (size_t i = 0; i < E.n_writers; i++)
                        if (E.writers[i].w == o)
                                E.writers[i].w = NULL; /* the core may free it any time now */
}

static void env_changed(void *u, enum core_object_kind kind, void *o, const char *property)
{
        E.changed[kind]++;
        if (kind == CORE_OBJECT_SET) {
                size_t len = strlen(E.set_changes);
                snprintf(E.set_changes + len, sizeof(E.set_changes) - len, "%s%s",
                         len ? " " : "", property);
        }
        if (kind == CORE_OBJECT_SET && strcmp(property, CORE_PROP_STATE) == 0) {
                size_t len = strlen(E.states);
                snprintf(E.states + len, sizeof(E.states) - len, "%s%s", len ? " " : "",
                         core_set_state_to_string(((CoreSet *)o)->state));
        }
}

static void env_call_complete(void *u, void *token, const CoreResult *res)
{
        struct call *c = token;
        ck_assert_msg(c, "a reply without a call token");
        c->count++;
        c->r = res->r;
        snprintf(c->message, sizeof(c->message), "%s", res->message ? res->message : "");
        snprintf(c->id, sizeof(c->id), "%s", res->id ? res->id : "");
        c->n = res->n;
}

/* /mnt/X/... lives on /dev/fake/X. */
static int env_volume_of_path(void *u, const char *path, char *buf, size_t size)
{
        if (strncmp(path, "/mnt/", 5) != 0)
                return -ENOENT;
        const char *end = strchr(path + 5, '/');
        int len = end ? (int)(end - path - 5) : (int)strlen(path + 5);
        snprintf(buf, size, "/dev/fake/%.*s", len, path + 5);
        return 0;
}

static void env_log(void *u, int priority, const char *message)
{
        size_t len = strlen(E.logs);
        snprintf(E.logs + len, sizeof(E.logs) - len, "%d %s\n", priority, message);
}

bool log_has(int priority, const char *needle)
{
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "%d ", priority);
        for (const char *line = E.logs; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                char *copy = strndup(line, len);
                bool found = strstr(copy, needle) &&
                             (priority < 0 || strncmp(copy, prefix, strlen(prefix)) == 0);
                free(copy);
                if (found)
                        return true;
                line += len + (end ? 1 : 0);
        }
        return false;
}

const CoreEnv env_template = {
        .now_ms = env_now,
        .realtime_usec = env_realtime,
        .timer_set = env_timer_set,
        .writer_send = env_writer_send,
        .provider_run = env_provider_run,
        .provider_watchdog = env_watchdog,
        .object_added = env_added,
        .object_removed = env_removed,
        .property_changed = env_changed,
        .call_complete = env_call_complete,
        .volume_of_path = env_volume_of_path,
        .log = env_log,
};

/* --- the fake providers ------------------------------------------------------------------- */

static bool initialising_other; /* both are the fake provider, which asks as "fake": tell them apart */

static const char *host_config_get(const char *provider, const char *key)
{
        if (strcmp(key, "control") == 0)
                return initialising_other ? E.other_control : E.control;
        if (strcmp(key, "log") == 0)
                return initialising_other ? E.other_log : E.log;
        if (strcmp(key, "volumes") == 0)
                return E.volumes_config;
        if (strcmp(key, "atomicity") == 0)
                return E.atomicity_config;
        return NULL;
}

static void host_log(int priority, const char *format, ...)
{
}

static const struct vss_provider_host host = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .log = host_log,
        .config_get = host_config_get,
};

static bool is_other(const char *provider)
{
        ck_assert_msg(strcmp(provider, "fake") == 0 || strcmp(provider, "other") == 0,
                      "no provider '%s' in the tests", provider);
        return strcmp(provider, "other") == 0;
}

/* Set the provider's faults: each argument one control-file line ("fail hold"). */
void fault_on(const char *provider, const char *line)
{
        FILE *f = fopen(is_other(provider) ? E.other_control : E.control, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", line);
        fclose(f);
}

void fault(const char *line)
{
        fault_on("fake", line);
}

void fault_clear(void)
{
        unlink(E.control);
        unlink(E.other_control);
}

/* Lines of PROVIDER's own log for OP (of SET_ID; NULL: any): the calls it got. */
unsigned log_count(const char *provider, const char *op, const char *set_id)
{
        FILE *f = fopen(is_other(provider) ? E.other_log : E.log, "r");
        char *line = NULL;
        size_t size = 0;
        unsigned n = 0;
        size_t len = strlen(op);
        while (f && getline(&line, &size, f) > 0) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, op, len) != 0 || (line[len] != ' ' && line[len] != '\0'))
                        continue;
                const char *arg = line[len] ? line + len + 1 : "";
                n += !set_id || strncmp(arg, set_id, strlen(set_id)) == 0;
        }
        free(line);
        if (f)
                fclose(f);
        return n;
}

/*
 * The core's provider ops, traced: each call appends "fake:hold" (or
 * "other:hold") to the trace, runs the real op, then the hooks.
 */
static const char *traced_name(void *state)
{
        return state == E.other_state ? "other" : "fake";
}

static int traced_done(void *state, const char *op, int r)
{
        char entry[64];
        snprintf(entry, sizeof(entry), "%s:%s", traced_name(state), op);
        if (E.after_op)
                E.after_op(entry);
        if (E.at_entry && strcmp(E.at_entry, entry) == 0) {
                E.at_entry = NULL;
                E.at_fn();
        }
        return r;
}

#define TRACED_SET_OP(op, fn)                                                          \
        static int traced_##fn(void *state, const char *id, struct vss_error_buf *err) \
        {                                                                              \
                trace_add("%s:%s", traced_name(state), op);                            \
                int r = vss_provider_v4.ops->fn(state, id, err);                       \
                return traced_done(state, op, r);                                      \
        }

TRACED_SET_OP("is_volume_supported", is_volume_supported)
TRACED_SET_OP("hold", hold)
TRACED_SET_OP("commit", commit)
TRACED_SET_OP("release", release)
TRACED_SET_OP("finish", finish)
TRACED_SET_OP("abort", abort)
TRACED_SET_OP("delete", delete_snapshot)
TRACED_SET_OP("unexpose", unexpose)
TRACED_SET_OP("revert", revert)
TRACED_SET_OP("disable_volume", disable_volume)

static int traced_expose(void *state, const char *id, const char *mount_point,
                         struct vss_error_buf *err)
{
        trace_add("%s:expose", traced_name(state));
        return traced_done(state, "expose",
                           vss_provider_v4.ops->expose(state, id, mount_point, err));
}

static int traced_recover(void *state, struct vss_error_buf *err)
{
        trace_add("%s:recover", traced_name(state));
        return traced_done(state, "recover", vss_provider_v4.ops->recover(state, err));
}

static int traced_query(void *state, vss_snapshot_cb cb, void *userdata,
                        struct vss_error_buf *err)
{
        trace_add("%s:query", traced_name(state));
        return traced_done(state, "query", vss_provider_v4.ops->query(state, cb, userdata, err));
}

static int traced_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                          struct vss_error_buf *err)
{
        trace_add("%s:monitor", traced_name(state));
        return traced_done(state, "monitor",
                           vss_provider_v4.ops->monitor(state, cb, userdata, err));
}

static int traced_enable_volume(void *state, const char *device,
                                const struct vss_option *options, size_t n_options,
                                char *volume, size_t size, struct vss_error_buf *err)
{
        trace_add("%s:enable_volume", traced_name(state));
        return traced_done(state, "enable_volume",
                           vss_provider_v4.ops->enable_volume(state, device, options, n_options,
                                                              volume, size, err));
}

static int traced_prepare(void *state, struct vss_set_request *set,
                          struct vss_error_buf *err)
{
        trace_add("%s:prepare", traced_name(state));
        return traced_done(state, "prepare", vss_provider_v4.ops->prepare(state, set, err));
}

static struct vss_provider_ops traced_ops;
static struct vss_provider_ops other_ops; /* "other"'s, once env_give_finish() set them apart */

/* Without finish, as most providers are: env_give_finish() adds it. */
static void traced_ops_init(void)
{
        traced_ops = *vss_provider_v4.ops;
        traced_ops.finish = NULL;
        traced_ops.is_volume_supported = traced_is_volume_supported;
        traced_ops.prepare = traced_prepare;
        traced_ops.hold = traced_hold;
        traced_ops.commit = traced_commit;
        traced_ops.release = traced_release;
        traced_ops.abort = traced_abort;
        traced_ops.delete_snapshot = traced_delete_snapshot;
        traced_ops.expose = traced_expose;
        traced_ops.unexpose = traced_unexpose;
        traced_ops.revert = traced_revert;
        traced_ops.recover = traced_recover;
        traced_ops.query = traced_query;
        traced_ops.monitor = traced_monitor;
        traced_ops.enable_volume = traced_enable_volume;
        traced_ops.disable_volume = traced_disable_volume;
}

struct vss_provider_ops *fake_ops(void)
{
        return &traced_ops;
}

void env_give_finish(const char *provider)
{
        bool other = is_other(provider);
        if (E.other_state && E.other.ops == &traced_ops) {
                other_ops = traced_ops; /* from now on, each its own */
                E.other.ops = &other_ops;
        }
        ck_assert_msg(!other || E.other_state, "add the other provider first");
        (other ? &other_ops : &traced_ops)->finish = traced_finish;
}

/* Add a second provider, "other", that takes /dev/other/a and /dev/other/b only. */
void env_add_other_provider(void)
{
        E.other = E.fake;
        E.other.name = "other";
        E.volumes_config = "/dev/other/a, /dev/other/b";
        initialising_other = true;
        ck_assert_int_eq(E.other.ops->init(&host, &E.other_state), 0);
        initialising_other = false;
        E.volumes_config = NULL;
        ck_assert_int_eq(core_provider_add(E.core, &E.other, E.other_state, NULL, NULL), 0);
}

/* --- setup -------------------------------------------------------------------------------- */

void env_setup_config(const CoreConfig *config)
{
        memset(&E, 0, sizeof(E));
        E.now = 1000;
        E.deadline = UINT64_MAX;
        E.stop_op = -1;
        E.refuse_op = -1;
        snprintf(E.dir, sizeof(E.dir), "/tmp/check_core.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(E.dir));
        snprintf(E.control, sizeof(E.control), "%s/control", E.dir);
        snprintf(E.log, sizeof(E.log), "%s/log", E.dir);
        snprintf(E.other_control, sizeof(E.other_control), "%s/other-control", E.dir);
        snprintf(E.other_log, sizeof(E.other_log), "%s/other-log", E.dir);
        traced_ops_init();
        E.fake = vss_provider_v4;
        E.fake.ops = &traced_ops;
        ck_assert_int_eq(core_new(&E.core, &env_template, config), 0);
        ck_assert_int_eq(vss_provider_v4.ops->init(&host, &E.fake_state), 0);
        ck_assert_int_eq(core_provider_add(E.core, &E.fake, E.fake_state, NULL, NULL), 0);
}

void env_setup(void)
{
        env_setup_config(NULL);
}

void env_teardown(void)
{
        /* Jobs the test left queued: the core is gone, so they are just freed. */
        size_t n = E.n_jobs;
        E.n_jobs = 0;
        E.core = core_free(E.core);
        for (size_t i = 0; i < n; i++)
                core_job_complete(E.jobs[i]);
        vss_provider_v4.ops->fini(E.fake_state);
        if (E.other_state)
                E.other.ops->fini(E.other_state);
        unlink(E.control);
        unlink(E.log);
        unlink(E.other_control);
        unlink(E.other_log);
        rmdir(E.dir);
}

/* --- driving ------------------------------------------------------------------------------ */

/* Run the oldest queued provider job to completion; false when none is queued. */
static bool run_job(void)
{
        if (E.n_jobs == 0 || (int)E.jobs[0]->op == E.stop_op)
                return false;
        CoreJob *job = E.jobs[0];
        memmove(E.jobs, E.jobs + 1, --E.n_jobs * sizeof(E.jobs[0]));
        core_job_execute(job); /* the traced ops say what it did */
        core_job_complete(job);
        return true;
}

/* Let the scripted writers answer and the provider work until nothing moves. */
void pump(void)
{
        for (bool moved = true; moved;) {
                moved = false;
                for (size_t i = 0; i < E.n_writers; i++) {
                        struct test_writer *tw = &E.writers[i];
                        if (!tw->w || !tw->cookie || tw->manual || tw->event == tw->silent_at)
                                continue;
                        bool fail = tw->event == tw->fail_at;
                        ck_assert_int_eq(tw_answer(tw, fail ? tw->failure : VSS_WF_NONE,
                                                   fail ? "vetoed by the test" : ""), 0);
                        moved = true;
                }
                if (!moved && !E.hold_jobs)
                        moved = run_job();
        }
}

/* Run the queued job even if pump() would stop at it, then pump. */
void run_job_now(void)
{
        int stop = E.stop_op;
        bool hold = E.hold_jobs;
        E.stop_op = -1;
        E.hold_jobs = false;
        ck_assert_msg(run_job(), "no provider job is queued");
        E.stop_op = stop;
        E.hold_jobs = hold;
        pump();
}

/* Let everything run to the end: no silent writers, no held jobs. */
void release_all(void)
{
        E.stop_op = -1;
        E.hold_jobs = false;
        for (size_t i = 0; i < E.n_writers; i++) {
                E.writers[i].silent_at = -1;
                E.writers[i].manual = false;
        }
        pump();
}

/* Move the clock by MS and fire what is due. */
void advance(uint64_t ms)
{
        E.now += ms;
        if (E.deadline <= E.now)
                core_dispatch_timers(E.core);
}

/* Once provider op ENTRY ("fake:commit") returns, run FN, before the core sees the result. */
void at_op(const char *entry, void (*fn)(void))
{
        E.at_entry = entry;
        E.at_fn = fn;
}

/* Move the clock by the hold-window bound: its timer fires. */
void pass_hold_bound(void)
{
        advance(core_config_get(E.core)->hold_timeout_ms);
}

void monitor_tick(void)
{
        advance(core_config_get(E.core)->monitor_interval_ms);
        pump();
}

/* Jobs still queued belong to the old core: freed as their completion finds it gone. */
void env_restart_core(void)
{
        size_t n = E.n_jobs;
        E.n_jobs = 0;
        E.core = core_free(E.core);
        for (size_t i = 0; i < n; i++)
                core_job_complete(E.jobs[i]);
        E.deadline = UINT64_MAX;
        ck_assert_int_eq(core_new(&E.core, &env_template, NULL), 0);
        ck_assert_int_eq(core_provider_add(E.core, &E.fake, E.fake_state, NULL, NULL), 0);
        if (E.other_state)
                ck_assert_int_eq(core_provider_add(E.core, &E.other, E.other_state, NULL, NULL),
                                 0);
}

int call_finish(struct call *c, int r, const struct vss_error_buf *err)
{
        if (r < 0) {
                snprintf(c->message, sizeof(c->message), "%s", err->message);
                return r;
        }
        pump();
        ck_assert_uint_eq(c->count, 1);
        return c->r;
}

int start_core(struct call *c)
{
        struct vss_error_buf err = { "" };
        memset(c, 0, sizeof(*c));
        return call_finish(c, core_start(E.core, c, &err), &err);
}

/* --- writers ------------------------------------------------------------------------------ */

struct test_writer *tw_add_full(const char *name, const char *instance,
                                enum vss_writer_level level, uint32_t freeze_timeout_ms)
{
        ck_assert_uint_lt(E.n_writers, MAX_WRITERS);
        struct test_writer *tw = &E.writers[E.n_writers++];
        *tw = (struct test_writer){ .fail_at = -1, .silent_at = -1, .event = -1 };
        snprintf(tw->owner, sizeof(tw->owner), ":1.%zu", 100 + E.n_writers);
        CoreWriterInfo info = {
                .name = name, .class_id = "5cd4c0b1-0000-4000-8000-000000000001",
                .instance_id = instance, .level = level, .freeze_timeout_ms = freeze_timeout_ms,
        };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_writer_register(E.core, tw->owner, &info, &tw->w, &err), 0);
        return tw;
}

struct test_writer *tw_add(const char *name, enum vss_writer_level level)
{
        char instance[64];
        snprintf(instance, sizeof(instance), "instance-%s", name);
        return tw_add_full(name, instance, level, 0);
}

/* Answer TW's pending event; the core's return code. */
int tw_answer(struct test_writer *tw, enum vss_writer_failure failure, const char *message)
{
        uint64_t cookie = tw->cookie;
        tw->cookie = 0;
        tw->event = -1;
        struct vss_error_buf err = { "" };
        return core_writer_answer(tw->w, tw->owner, cookie, failure, message, &err);
}

void tw_fail_at(struct test_writer *tw, enum core_event event, enum vss_writer_failure failure)
{
        tw->fail_at = (int)event;
        tw->failure = failure;
}

void tw_component(struct test_writer *tw, const char *name, const char *file)
{
        const char *files[] = { file };
        CoreComponentInfo c = { .logical_path = "", .name = name, .files = files,
                                         .n_files = 1 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &c, 1, NULL), 0);
}

/* --- requesters --------------------------------------------------------------------------- */

CoreSession *session_open(const char *owner)
{
        CoreSession *s;
        ck_assert_int_eq(core_session_new(&s, E.core, owner, NULL), 0);
        return s;
}

CoreSet *set_start(CoreSession *s)
{
        CoreSet *set;
        struct vss_error_buf err = { "" };
        int r = core_session_start_snapshot_set(s, s->owner, &set, &err);
        ck_assert_msg(r == 0, "StartSnapshotSet: %s", err.message);
        return set;
}

/* AddToSnapshotSet, pumped to its reply; returns the reply's code (or the call's). */
int add_volume(CoreSession *s, const char *volume, struct call *c)
{
        struct call local = { 0 };
        c = c ? c : &local;
        struct vss_error_buf err = { "" };
        int r = core_session_add_to_snapshot_set(s, s->owner, volume, NULL, c, &err);
        if (r < 0) {
                snprintf(c->message, sizeof(c->message), "%s", err.message);
                return c->r = r;
        }
        pump();
        ck_assert_uint_eq(c->count, 1);
        return c->r;
}

typedef int (*async_fn)(CoreSession *s, const char *sender, void *call,
                        struct vss_error_buf *err);

/* An asynchronous session call, pumped; the reply lands in C (sync failures too). */
static int call_pumped(async_fn fn, CoreSession *s, struct call *c)
{
        struct vss_error_buf err = { "" };
        memset(c, 0, sizeof(*c));
        int r = fn(s, s->owner, c, &err);
        if (r < 0) {
                snprintf(c->message, sizeof(c->message), "%s", err.message);
                c->count = 1;
                return c->r = r;
        }
        pump();
        return c->count ? c->r : 1; /* 1: no reply yet */
}

int prepare(CoreSession *s, struct call *c)
{
        return call_pumped(core_session_prepare_for_backup, s, c);
}

int do_snapshot(CoreSession *s, struct call *c)
{
        return call_pumped(core_session_do_snapshot_set, s, c);
}

int backup_complete(CoreSession *s, struct call *c)
{
        return call_pumped(core_session_backup_complete, s, c);
}

/* A session with a set of VOLUMES (NULL-terminated), prepared. */
CoreSession *prepared_session(const char *owner, const char *const *volumes)
{
        CoreSession *s = session_open(owner);
        struct call c;
        set_start(s);
        for (size_t i = 0; volumes[i]; i++)
                ck_assert_int_eq(add_volume(s, volumes[i], NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
        return s;
}

const char *const two_volumes[] = { "/dev/fake/a", "/dev/fake/b", NULL };

/* A session whose set of two volumes is made (state ready). */
CoreSession *ready_session(const char *owner)
{
        CoreSession *s = prepared_session(owner, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        return s;
}

size_t count_snapshots(void)
{
        size_t n = 0;
        for (CoreSet *set = core_set_first(E.core); set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        n++;
        return n;
}

size_t count_sets(void)
{
        size_t n = 0;
        for (CoreSet *set = core_set_first(E.core); set; set = set->next)
                n++;
        return n;
}

size_t count_sessions(void)
{
        size_t n = 0;
        for (CoreSession *s = core_session_first(E.core); s; s = s->next)
                n++;
        return n;
}

/* Snapshots the fake provider itself still has (it is asked, not the core). */
static int fake_count_cb(const struct vss_snapshot_info *info, void *userdata)
{
        (*(size_t *)userdata)++;
        return 0;
}

size_t provider_snapshots(void)
{
        size_t n = 0;
        struct vss_error_buf err;
        ck_assert_int_eq(vss_provider_v4.ops->query(E.fake_state, fake_count_cb, &n, &err), 0);
        return n;
}

/* Could another requester start a set now? Tried with a throw-away session. */
bool creation_allowed(void)
{
        CoreSession *s = session_open(":1.999");
        CoreSet *set;
        int r = core_session_start_snapshot_set(s, ":1.999", &set, NULL);
        ck_assert_int_eq(core_session_release(s, ":1.999", NULL, NULL), 0);
        pump();
        return r == 0;
}

void assert_contains(const char *haystack, const char *needle)
{
        ck_assert_msg(strstr(haystack, needle), "\"%s\" does not mention \"%s\"", haystack, needle);
}
