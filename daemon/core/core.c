/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core.c: the coordinator's registry and the plumbing every part of the state
 * machine shares: configuration, providers, lookups, owners leaving, timers,
 * provider jobs, notifications and error texts.
 *
 * The core is single-threaded. It never blocks: provider ops run as jobs the
 * env executes elsewhere, timers are deadlines the env wakes it up for. One
 * thread of its own, the hold-window guard (guard.c), touches nothing but a
 * window job and its HoldWindow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "daemon/core/internal.h"

static const char oom_text[] = "out of memory while describing the error";

/* --- errors and strings ---------------------------------------------------------- */

int core_error(struct vss_error_buf *err, int r, const char *format, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(err->message, sizeof(err->message), format, ap);
                va_end(ap);
        }
        return r;
}

char *core_strdup_vprintf(const char *format, va_list ap)
{
        char *s = NULL;
        if (vasprintf(&s, format, ap) < 0)
                return (char *)oom_text;
        return s;
}

char *core_strdup_printf(const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        char *s = core_strdup_vprintf(format, ap);
        va_end(ap);
        return s;
}

char *core_string_free(char *s)
{
        if (s != oom_text)
                free(s);
        return NULL;
}

void core_notes_append(char **notes, const char *text)
{
        char *joined = *notes ? core_strdup_printf("%s; %s", *notes, text)
                              : core_strdup_printf("%s", text);
        core_string_free(*notes);
        *notes = joined;
}

/* --- clocks, ids ------------------------------------------------------------------- */

uint64_t core_now(Core *core)
{
        return core->env.now_ms(core->env.userdata);
}

uint64_t core_realtime_usec(Core *core)
{
        if (core->env.realtime_usec)
                return core->env.realtime_usec(core->env.userdata);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A random (version 4) UUID; ids only need to be unique, not secret. */
void core_uuid_new(char ret[CORE_UUID_LEN + 1])
{
        uint8_t b[16];
        if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
                /* Early boot without entropy: time and a counter still make ids unique. */
                static uint64_t counter;
                uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
                uint64_t c = ++counter;
                memcpy(b, &t, 8);
                memcpy(b + 8, &c, 8);
        }
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        snprintf(ret, CORE_UUID_LEN + 1,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                 b[12], b[13], b[14], b[15]);
}

uint64_t core_cookie_new(Core *core)
{
        return ++core->next_cookie;
}

/* --- notifications ------------------------------------------------------------------- */

void core_notify_added(Core *core, enum core_object_kind kind, void *object)
{
        if (core->env.object_added && !core->freeing)
                core->env.object_added(core->env.userdata, kind, object);
}

void core_notify_removed(Core *core, enum core_object_kind kind, void *object)
{
        if (core->env.object_removed && !core->freeing)
                core->env.object_removed(core->env.userdata, kind, object);
}

void core_notify_changed(Core *core, enum core_object_kind kind, void *object,
                         const char *property)
{
        if (core->env.property_changed && !core->freeing)
                core->env.property_changed(core->env.userdata, kind, object, property);
}

void core_call_complete(Core *core, void *call, int r, const char *message,
                        const char *id, unsigned n)
{
        CoreResult result = { .r = r, .message = message, .id = id, .n = n };
        if (core->env.call_complete && !core->freeing)
                core->env.call_complete(core->env.userdata, call, &result);
}

void core_log(Core *core, int priority, const char *format, ...)
{
        if (!core->env.log || core->freeing)
                return;
        va_list ap;
        va_start(ap, format);
        char *msg = core_strdup_vprintf(format, ap);
        va_end(ap);
        core->env.log(core->env.userdata, priority, msg);
        core_string_free(msg);
}

/* --- timers -------------------------------------------------------------------------- */

void core_timer_init(CoreTimer *t, void (*fire)(CoreTimer *t), void *data)
{
        *t = (CoreTimer){ .fire = fire, .data = data };
}

void core_timer_cancel(Core *core, CoreTimer *t)
{
        if (!t->armed)
                return;
        for (CoreTimer **p = &core->timers; *p; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        break;
                }
        t->armed = false;
        t->next = NULL;
}

/* Kept sorted; equal deadlines fire in the order they were armed. */
void core_timer_arm(Core *core, CoreTimer *t, uint64_t deadline_ms)
{
        core_timer_cancel(core, t);
        CoreTimer **p = &core->timers;
        while (*p && (*p)->deadline_ms <= deadline_ms)
                p = &(*p)->next;
        t->deadline_ms = deadline_ms;
        t->armed = true;
        t->next = *p;
        *p = t;
}

static void core_timer_update(Core *core)
{
        uint64_t deadline = core->timers ? core->timers->deadline_ms : UINT64_MAX;
        if (deadline == core->timer_deadline)
                return;
        core->timer_deadline = deadline;
        if (core->env.timer_set)
                core->env.timer_set(core->env.userdata, deadline);
}

void core_dispatch_timers(Core *core)
{
        core_enter(core);
        uint64_t now = core_now(core);
        while (core->timers && core->timers->deadline_ms <= now) {
                CoreTimer *t = core->timers;
                core->timers = t->next;
                t->armed = false;
                t->next = NULL;
                t->fire(t);
        }
        core_leave(core);
}

/* --- provider jobs ------------------------------------------------------------------- */

void core_options_free(struct vss_option *options, size_t n)
{
        for (size_t i = 0; options && i < n; i++) {
                free((char *)options[i].key);
                free((char *)options[i].value);
        }
        free(options);
}

int core_options_copy(CoreJob *job, const struct vss_option *options, size_t n)
{
        if (n == 0)
                return 0;
        struct vss_option *copy = calloc(n, sizeof(*copy));
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                copy[i].key = strdup(options[i].key);
                copy[i].value = strdup(options[i].value);
                if (!copy[i].key || !copy[i].value) {
                        core_options_free(copy, n);
                        return -ENOMEM;
                }
        }
        core_options_free(job->options, job->n_options);
        job->options = copy;
        job->n_options = n;
        return 0;
}

CoreJob *core_job_free(CoreJob *job)
{
        if (!job)
                return NULL;
        free(job->target);
        free(job->arg);
        free(job->arg2);
        core_options_free(job->options, job->n_options);
        core_string_free(job->reasons);
        report_free(job->report);
        storage_report_free(job->storage);
        for (size_t i = 0; i < job->request.n_volumes; i++) {
                free((char *)job->request.volumes[i].volume);
                free((char *)job->request.volumes[i].snapshot_id);
        }
        free((void *)job->request.volumes);
        window_unref(job->window);
        free(job);
        return NULL;
}

int core_job_new(CoreJob **ret, Core *core, enum core_job_op op,
                 CoreProvider *provider, const char *target,
                 void (*done)(CoreJob *job), void *owner)
{
        CoreJob *job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        job->target = strdup(target);
        if (!job->target) {
                free(job);
                return -ENOMEM;
        }
        job->op = op;
        job->provider = provider->vp;
        job->provider_state = provider->state;
        job->core = core;
        job->done = done;
        job->owner = owner;
        *ret = job;
        return 0;
}

static void core_job_unlink(CoreJob *job)
{
        for (CoreJob **p = &job->core->jobs; *p; p = &(*p)->next)
                if (*p == job) {
                        *p = job->next;
                        return;
                }
}

void core_job_start(CoreJob *job)
{
        Core *core = job->core;
        job->next = core->jobs;
        core->jobs = job;
        int r = core->env.provider_run(core->env.userdata, job);
        if (r < 0) {
                job->r = r;
                snprintf(job->err.message, sizeof(job->err.message),
                         "could not start %s on provider '%s': %s", core_job_op_to_string(job->op),
                         job->provider->name, vss_strerror(r));
                core_job_complete(job);
        }
}

void core_job_orphan(CoreJob *job)
{
        if (job)
                job->owner = NULL;
}

void core_job_watchdog(Core *core, CoreJob *job)
{
        if (!job)
                return;
        if (!core->env.provider_watchdog) {
                core_job_free(job);
                return;
        }
        job->next = core->jobs;
        core->jobs = job;
        core->env.provider_watchdog(core->env.userdata, job);
}

typedef int (*target_op_fn)(void *state, const char *target, struct vss_error_buf *err);

/* The op of the provider that takes the job's target alone, or NULL. */
static target_op_fn job_target_op(const struct vss_provider_ops *ops, enum core_job_op op)
{
        switch (op) {
        case CORE_JOB_IS_VOLUME_SUPPORTED:
                return ops->is_volume_supported;
        case CORE_JOB_ABORT:
                return ops->abort;
        case CORE_JOB_FINISH:
                return ops->finish;
        case CORE_JOB_DELETE:
                return ops->delete_snapshot;
        case CORE_JOB_UNEXPOSE:
                return ops->unexpose;
        case CORE_JOB_REVERT:
                return ops->revert;
        case CORE_JOB_DISABLE_VOLUME:
                return ops->disable_volume;
        default:
                return NULL;
        }
}

void core_job_execute(CoreJob *job)
{
        const struct vss_provider_ops *ops = job->provider->ops;
        void *state = job->provider_state;
        const char *t = job->target;
        struct vss_error_buf *err = &job->err;
        int r = -EOPNOTSUPP;

        err->message[0] = '\0';
        switch (job->op) {
        case CORE_JOB_PREPARE:
                r = ops->prepare ? ops->prepare(state, &job->request, err) : r;
                break;
        case CORE_JOB_WINDOW:
        case CORE_JOB_WATCHDOG_RELEASE:
                window_execute(job); /* several providers: it reports for itself */
                return;
        case CORE_JOB_EXPOSE:
                r = ops->expose ? ops->expose(state, t, job->arg, err) : r;
                break;
        case CORE_JOB_RECOVER:
                r = ops->recover ? ops->recover(state, err) : 0; /* none: nothing to roll back */
                break;
        case CORE_JOB_QUERY:
        case CORE_JOB_MONITOR:
                r = report_execute(job);
                break;
        case CORE_JOB_ENABLE_VOLUME:
                r = ops->enable_volume ? ops->enable_volume(state, t, job->options,
                                                            job->n_options, job->volume,
                                                            sizeof(job->volume), err) : r;
                break;
        case CORE_JOB_ADD_STORAGE:
                r = ops->add_storage ? ops->add_storage(state, t, job->options, job->n_options,
                                                        err) : r;
                break;
        case CORE_JOB_REMOVE_STORAGE:
                r = ops->remove_storage ? ops->remove_storage(state, t, err) : r;
                break;
        case CORE_JOB_LIST_STORAGE:
                r = storage_report_execute(job);
                break;
        case CORE_JOB_SET_STORAGE:
                r = ops->set_storage ? ops->set_storage(state, t, job->arg, job->arg2, err) : r;
                break;
        default: {
                target_op_fn fn = job_target_op(ops, job->op);
                if (fn)
                        r = fn(state, t, err);
                else if (job->op == CORE_JOB_ABORT || job->op == CORE_JOB_FINISH)
                        r = 0; /* no such op: nothing to undo, nothing to finish */
                break;
        }
        }
        if (r == -EOPNOTSUPP && !err->message[0])
                snprintf(err->message, sizeof(err->message), "provider '%s' has no %s operation",
                         job->provider->name, core_job_op_to_string(job->op));
        job->r = r;
}

const char *core_job_error(const CoreJob *job)
{
        return job->err.message[0] ? job->err.message : vss_strerror(job->r);
}

/* Queued, not run: the env may complete a job from inside provider_run. */
void core_job_complete(CoreJob *job)
{
        Core *core = job->core;
        if (!core) {
                core_job_free(job); /* the core went away meanwhile */
                return;
        }
        core_job_unlink(job);
        job->done_next = NULL;
        CoreJob **tail = &core->done;
        while (*tail)
                tail = &(*tail)->done_next;
        *tail = job;
        if (core->depth == 0) {
                core_enter(core);
                core_leave(core);
        }
}

static void core_jobs_process(Core *core)
{
        while (core->done) {
                CoreJob *job = core->done;
                core->done = job->done_next;
                if (job->owner && job->done)
                        job->done(job);
                core_job_free(job);
        }
}

/* --- nesting ------------------------------------------------------------------------- */

void core_enter(Core *core)
{
        core->depth++;
}

void core_leave(Core *core)
{
        if (core->depth > 1) {
                core->depth--;
                return;
        }
        core_jobs_process(core);
        while (core->dead_sessions) {
                CoreSession *s = core->dead_sessions;
                core->dead_sessions = s->dead_next;
                session_free(s);
        }
        while (core->dead_sets) {
                CoreSet *set = core->dead_sets;
                core->dead_sets = set->dead_next;
                set_free(set);
        }
        core->depth--;
        core_timer_update(core);
}

/* --- the core -------------------------------------------------------------------------- */

static int core_config_check(const CoreConfig *c, struct vss_error_buf *err)
{
        if (c->freeze_timeout_ms < 1000 || c->freeze_timeout_ms > 600000)
                return core_error(err, -EINVAL, "FreezeTimeoutMs %u is out of range: use "
                                  "1000..600000", c->freeze_timeout_ms);
        if (c->hold_timeout_ms < 100 || c->hold_timeout_ms > 60000)
                return core_error(err, -EINVAL, "HoldTimeoutMs %u is out of range: use "
                                  "100..60000", c->hold_timeout_ms);
        if (c->event_timeout_ms < 1000 || c->event_timeout_ms > 3600000)
                return core_error(err, -EINVAL, "EventTimeoutMs %u is out of range: use "
                                  "1000..3600000", c->event_timeout_ms);
        if (c->monitor_interval_ms < 100 || c->monitor_interval_ms > 60000)
                return core_error(err, -EINVAL, "MonitorIntervalMs %u is out of range: use "
                                  "100..60000", c->monitor_interval_ms);
        return 0;
}

/* Zero fields take the defaults (a caller that predates a field need not know it). */
static CoreConfig core_config_defaults(const CoreConfig *config)
{
        CoreConfig c = config ? *config : (CoreConfig){ 0 };
        if (!c.freeze_timeout_ms)
                c.freeze_timeout_ms = CORE_FREEZE_TIMEOUT_MS_DEFAULT;
        if (!c.hold_timeout_ms)
                c.hold_timeout_ms = CORE_HOLD_TIMEOUT_MS_DEFAULT;
        if (!c.event_timeout_ms)
                c.event_timeout_ms = CORE_EVENT_TIMEOUT_MS_DEFAULT;
        if (!c.monitor_interval_ms)
                c.monitor_interval_ms = CORE_MONITOR_INTERVAL_MS_DEFAULT;
        return c;
}

int core_config_set(Core *core, const CoreConfig *config,
                    struct vss_error_buf *err)
{
        CoreConfig c = core_config_defaults(config);
        int r = core_config_check(&c, err);
        if (r < 0)
                return r;
        bool interval_changed = c.monitor_interval_ms != core->config.monitor_interval_ms;
        core->config = c;
        if (interval_changed) {
                core_enter(core);
                monitor_reschedule(core);
                core_leave(core);
        }
        return 0;
}

const CoreConfig *core_config_get(const Core *core)
{
        return &core->config;
}

int core_new(Core **ret, const CoreEnv *env, const CoreConfig *config)
{
        if (!env || !env->now_ms || !env->provider_run || !env->writer_send)
                return -EINVAL;
        CoreConfig c = core_config_defaults(config);
        if (core_config_check(&c, NULL) < 0)
                return -EINVAL;

        Core *core = calloc(1, sizeof(*core));
        if (!core)
                return -ENOMEM;
        /* Now, while nothing is suspended: no thread is made when a window needs one. */
        int r = guard_new(&core->guard);
        if (r < 0) {
                free(core);
                return r;
        }
        core->env = *env;
        core->config = c;
        core->timer_deadline = UINT64_MAX;
        monitor_init(core);
        *ret = core;
        return 0;
}

Core *core_free(Core *core)
{
        if (!core)
                return NULL;
        core->depth++;
        core->freeing = true; /* nothing below may reach the env */
        writers_drop_events(core);
        while (core->sessions) {
                CoreSession *s = core->sessions;
                core->sessions = s->next;
                session_free(s);
        }
        while (core->sets) {
                CoreSet *set = core->sets;
                core->sets = set->next;
                set_free(set);
        }
        writer_free_all(core);
        batch_free(core->starting); /* after the sets: their deletions step it */
        for (CoreJob *job = core->jobs; job; job = job->next)
                job->core = NULL; /* freed when the env hands them back */
        while (core->done) {
                CoreJob *job = core->done;
                core->done = job->done_next;
                core_job_free(job);
        }
        while (core->providers) {
                CoreProvider *p = core->providers;
                core->providers = p->next;
                free(p);
        }
        /* Joined here, or by the last window job still out once the env hands it back. */
        guard_unref(core->guard);
        free(core);
        return NULL;
}

/* --- providers ------------------------------------------------------------------------- */

int core_provider_add(Core *core, const struct vss_provider *vp, void *state,
                      CoreProvider **ret, struct vss_error_buf *err)
{
        if (!vp || !vp->name || !vp->ops)
                return core_error(err, -EINVAL, "provider descriptor without name or ops");
        if (vp->abi_version != VSS_PROVIDER_ABI_VERSION)
                return core_error(err, -VSS_E_ABI_MISMATCH, "provider '%s' was built for ABI "
                                  "%u, vssd speaks %u; rebuild the plugin", vp->name,
                                  vp->abi_version, VSS_PROVIDER_ABI_VERSION);
        if (core_provider_find(core, vp->name))
                return core_error(err, -EEXIST, "a provider named '%s' is already loaded; "
                                  "remove the duplicate plugin", vp->name);
        CoreProvider *p = calloc(1, sizeof(*p));
        if (!p)
                return core_error(err, -ENOMEM, "out of memory adding provider '%s'", vp->name);
        p->vp = vp;
        p->state = state;
        CoreProvider **tail = &core->providers;
        while (*tail)
                tail = &(*tail)->next;
        *tail = p;
        if (ret)
                *ret = p;
        return 0;
}

CoreProvider *core_provider_first(Core *core)
{
        return core->providers;
}

/* A "no" comes with the provider's reason; an error says who failed on what. */
static void core_volume_check_done(CoreJob *job)
{
        char *msg = job->r >= 0 ? NULL
                                : core_strdup_printf("provider %s could not examine %s: %s",
                                                     job->provider->name, job->target,
                                                     job->err.message[0] ? job->err.message
                                                                         : vss_strerror(job->r));
        core_call_complete(job->core, job->owner, job->r, msg ? msg : job->err.message, NULL, 0);
        core_string_free(msg);
}

int core_provider_is_volume_supported(Core *core, CoreProvider *provider, const char *volume,
                                      void *call, struct vss_error_buf *err)
{
        CoreJob *job;
        if (!volume || !volume[0] || !call)
                return core_error(err, -EINVAL, "IsVolumeSupported needs a volume");
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (core_job_new(&job, core, CORE_JOB_IS_VOLUME_SUPPORTED, provider, volume,
                         core_volume_check_done, call) < 0)
                return core_error(err, -ENOMEM, "out of memory asking about %s", volume);
        core_enter(core);
        core_job_start(job);
        core_leave(core);
        return 0;
}

CoreProvider *core_provider_find(Core *core, const char *name)
{
        for (CoreProvider *p = core->providers; p; p = p->next)
                if (name && strcmp(p->vp->name, name) == 0)
                        return p;
        return NULL;
}

/* --- lookups --------------------------------------------------------------------------- */

CoreWriter *core_writer_first(Core *core)
{
        return core->writers;
}

CoreWriter *core_writer_find(Core *core, uint64_t id)
{
        for (CoreWriter *w = core->writers; w; w = w->next)
                if (w->id == id)
                        return w;
        return NULL;
}

CoreSession *core_session_first(Core *core)
{
        return core->sessions;
}

CoreSession *core_session_find(Core *core, uint64_t id)
{
        for (CoreSession *s = core->sessions; s; s = s->next)
                if (s->id == id)
                        return s;
        return NULL;
}

CoreSet *core_set_first(Core *core)
{
        return core->sets;
}

CoreSet *core_set_find(Core *core, const char *id)
{
        for (CoreSet *set = core->sets; set; set = set->next)
                if (id && strcmp(set->id, id) == 0)
                        return set;
        return NULL;
}

CoreSnapshot *core_snapshot_find(Core *core, const char *id)
{
        for (CoreSet *set = core->sets; set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        if (id && strcmp(snap->id, id) == 0)
                                return snap;
        return NULL;
}

/* --- owners ------------------------------------------------------------------------------ */

/* Sessions first: their sets abort cleanly before the owner's writers count as failed. */
void core_owner_vanished(Core *core, const char *owner)
{
        core_enter(core);
        CoreSession *s = core->sessions;
        while (s) {
                CoreSession *next = s->next;
                if (strcmp(s->owner, owner) == 0)
                        session_end(s, "its owner left the bus", NULL);
                s = next;
        }
        CoreWriter *w = core->writers;
        while (w) {
                CoreWriter *next = w->next;
                if (strcmp(w->owner, owner) == 0)
                        writer_gone(w);
                w = next;
        }
        core_leave(core);
}

int core_check_running(Core *core, struct vss_error_buf *err)
{
        if (core->stopping)
                return core_error(err, -EBUSY, "vssd is stopping, and starts nothing new; try "
                                  "again once it is back");
        return 0;
}

/* vssd is stopping: as if every requester had left the bus. */
void core_shutdown(Core *core)
{
        core_enter(core);
        core->stopping = true;
        core_timer_cancel(core, &core->monitor_timer);
        CoreSession *s = core->sessions;
        while (s) {
                CoreSession *next = s->next;
                session_end(s, "vssd is stopping", NULL);
                s = next;
        }
        core_leave(core);
}

bool core_is_idle(const Core *core)
{
        return !core->jobs && !core->done;
}

/* --- names ------------------------------------------------------------------------------- */

bool core_attributes_auto_release(uint32_t attributes)
{
        return !(attributes & (VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE));
}

const char *core_job_op_to_string(enum core_job_op op)
{
        static const char *const names[] = {
                [CORE_JOB_IS_VOLUME_SUPPORTED] = "is_volume_supported",
                [CORE_JOB_PREPARE] = "prepare", [CORE_JOB_WINDOW] = "window",
                [CORE_JOB_FINISH] = "finish",
                [CORE_JOB_WATCHDOG_RELEASE] = "watchdog-release",
                [CORE_JOB_ABORT] = "abort", [CORE_JOB_DELETE] = "delete",
                [CORE_JOB_EXPOSE] = "expose", [CORE_JOB_UNEXPOSE] = "unexpose",
                [CORE_JOB_REVERT] = "revert", [CORE_JOB_RECOVER] = "recover",
                [CORE_JOB_QUERY] = "query", [CORE_JOB_MONITOR] = "monitor",
                [CORE_JOB_ENABLE_VOLUME] = "enable_volume",
                [CORE_JOB_DISABLE_VOLUME] = "disable_volume",
                [CORE_JOB_LIST_STORAGE] = "list_storage",
                [CORE_JOB_SET_STORAGE] = "set_storage",
                [CORE_JOB_ADD_STORAGE] = "add_storage",
                [CORE_JOB_REMOVE_STORAGE] = "remove_storage",
        };
        return (unsigned)op < ELEMENTSOF(names) ? names[op] : "unknown";
}

const char *core_event_to_string(enum core_event event)
{
        static const char *const names[] = {
                [CORE_EVENT_IDENTIFY] = "Identify",
                [CORE_EVENT_PREPARE_BACKUP] = "PrepareBackup",
                [CORE_EVENT_PREPARE_SNAPSHOT] = "PrepareSnapshot",
                [CORE_EVENT_FREEZE] = "Freeze",
                [CORE_EVENT_THAW] = "Thaw",
                [CORE_EVENT_POST_SNAPSHOT] = "PostSnapshot",
                [CORE_EVENT_ABORT] = "Abort",
                [CORE_EVENT_BACKUP_COMPLETE] = "BackupComplete",
                [CORE_EVENT_BACKUP_SHUTDOWN] = "BackupShutdown",
        };
        return (unsigned)event < ELEMENTSOF(names) ? names[event] : "Unknown";
}

static const char *const context_names[] = {
        [CORE_CONTEXT_BACKUP] = "backup",
        [CORE_CONTEXT_FILE_SHARE_BACKUP] = "file-share-backup",
        [CORE_CONTEXT_APP_ROLLBACK] = "app-rollback",
        [CORE_CONTEXT_NAS_ROLLBACK] = "nas-rollback",
};

const char *core_context_to_string(enum core_context context)
{
        return (unsigned)context < ELEMENTSOF(context_names) ? context_names[context] : "unknown";
}

int core_context_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(context_names); i++)
                if (strcmp(context_names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

/* As VSS_CTX_* combine VSS_VOLSNAP_ATTR_* bits. */
uint32_t core_context_attributes(enum core_context context)
{
        switch (context) {
        case CORE_CONTEXT_FILE_SHARE_BACKUP:
                return VSS_ATTR_NO_WRITERS;
        case CORE_CONTEXT_APP_ROLLBACK:
                return VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE;
        case CORE_CONTEXT_NAS_ROLLBACK:
                return VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE | VSS_ATTR_NO_WRITERS;
        default:
                return 0;
        }
}

const char *core_session_state_to_string(enum core_session_state state)
{
        static const char *const names[] = {
                [CORE_SESSION_CREATED] = "created", [CORE_SESSION_GATHERING] = "gathering",
                [CORE_SESSION_GATHERED] = "gathered", [CORE_SESSION_IN_SET] = "in-set",
                [CORE_SESSION_ENDED] = "ended",
        };
        return (unsigned)state < ELEMENTSOF(names) ? names[state] : "unknown";
}

const char *core_set_state_to_string(enum core_set_state state)
{
        static const char *const names[] = {
                [CORE_SET_CREATED] = "created",
                [CORE_SET_COLLECTING] = "collecting",
                [CORE_SET_PREPARING_BACKUP] = "preparing-backup",
                [CORE_SET_PREPARED] = "prepared",
                [CORE_SET_PREPARING_SNAPSHOT] = "preparing-snapshot",
                [CORE_SET_FREEZING] = "freezing",
                [CORE_SET_COMMITTING] = "committing",
                [CORE_SET_THAWING] = "thawing",
                [CORE_SET_POST_SNAPSHOT] = "post-snapshot",
                [CORE_SET_READY] = "ready",
                [CORE_SET_COMPLETING_BACKUP] = "completing-backup",
                [CORE_SET_BACKUP_COMPLETE] = "backup-complete",
                [CORE_SET_ABORTING] = "aborting",
                [CORE_SET_ABORTED] = "aborted",
        };
        return (unsigned)state < ELEMENTSOF(names) ? names[state] : "unknown";
}

const char *core_snapshot_state_to_string(enum vss_snapshot_state state)
{
        static const char *const names[] = {
                [VSS_SNAPSHOT_VALID] = "valid",
                [VSS_SNAPSHOT_INVALID] = "invalid",
                [VSS_SNAPSHOT_MERGING] = "merging",
        };
        return (unsigned)state < ELEMENTSOF(names) ? names[state] : "unknown";
}

const char *core_atomicity_to_string(enum vss_set_atomicity atomicity)
{
        static const char *const names[] = {
                [VSS_ATOMICITY_ONE_INSTANT] = "one-instant",
                [VSS_ATOMICITY_WRITERS_ONLY] = "writers-only",
        };
        return (unsigned)atomicity < ELEMENTSOF(names) ? names[atomicity] : "unknown";
}
