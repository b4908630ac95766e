/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * env.c: the world daemon/core lives in (its CoreEnv): the monotonic clock,
 * one loop timer, provider jobs on the provider thread, writer events as
 * unicast signals, replies to pending calls, and the bus objects that mirror
 * the core's objects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"
#include "daemon/provider-runner.h"
#include "daemon/util/log.h"
#include "daemon/volume.h"

/* --- paths and names ---------------------------------------------------------------- */

/* UUIDs become path elements with '-' written as '_'. */
static const char *uuid_path(const char *prefix, const char *id, char buf[LIFECYCLE_PATH_MAX])
{
        int n = snprintf(buf, LIFECYCLE_PATH_MAX, "%s%s", prefix, id);
        for (char *p = buf + n - strlen(id); *p; p++)
                if (*p == '-')
                        *p = '_';
        return buf;
}

const char *lifecycle_path(enum core_object_kind kind, const void *object,
                           char buf[LIFECYCLE_PATH_MAX])
{
        if (!object)
                return strcpy(buf, "/");
        switch (kind) {
        case CORE_OBJECT_SESSION:
                snprintf(buf, LIFECYCLE_PATH_MAX, VSS_ROOT_PATH "/session/%llu",
                         (unsigned long long)((const CoreSession *)object)->id);
                return buf;
        case CORE_OBJECT_WRITER:
                snprintf(buf, LIFECYCLE_PATH_MAX, VSS_ROOT_PATH "/writer/%llu",
                         (unsigned long long)((const CoreWriter *)object)->id);
                return buf;
        case CORE_OBJECT_SET:
                return uuid_path(VSS_ROOT_PATH "/set/", ((const CoreSet *)object)->id, buf);
        default:
                return uuid_path(VSS_ROOT_PATH "/snapshot/", ((const CoreSnapshot *)object)->id,
                                 buf);
        }
}

static const struct {
        const char *name;
        uint32_t bit;
} attribute_names[] = {
        { "persistent", VSS_ATTR_PERSISTENT },
        { "no-auto-release", VSS_ATTR_NO_AUTO_RELEASE },
        { "no-writers", VSS_ATTR_NO_WRITERS },
};

int lifecycle_attributes_parse(BusCall *call, const char *const *names, uint32_t *ret)
{
        uint32_t bits = 0;
        for (; names && *names; names++) {
                size_t i = 0;
                while (i < 3 && strcmp(attribute_names[i].name, *names) != 0)
                        i++;
                if (i == 3)
                        return bus_call_error(call, -EINVAL, "unknown snapshot attribute \"%s\"; "
                                              "use persistent, no-auto-release or no-writers",
                                              *names);
                bits |= attribute_names[i].bit;
        }
        *ret = bits;
        return 0;
}

bool lifecycle_append_attributes(DBusMessageIter *iter, uint32_t attributes)
{
        const char *names[3];
        size_t n = 0;
        for (size_t i = 0; i < 3; i++)
                if (attributes & attribute_names[i].bit)
                        names[n++] = attribute_names[i].name;
        return bus_append_strv(iter, names, n);
}

int lifecycle_volume_arg(BusCall *call, const char *volume, char *buf, size_t size)
{
        if (volume[0] != '/')
                return bus_call_error(call, -EINVAL, "volume \"%s\" is not an absolute device "
                                      "path such as /dev/mapper/data", volume);
        if (volume_canonicalize(volume, buf, size) < 0)
                return bus_call_error(call, -EINVAL, "volume path \"%.64s...\" is too long",
                                      volume);
        return 0;
}

int lifecycle_error(BusCall *call, int r, const struct vss_error_buf *err)
{
        return err && err->message[0] ? bus_call_error(call, r, "%s", err->message) : r;
}

/* --- pending calls ---------------------------------------------------------------- */

struct Pending {
        Bus *bus;
        DBusMessage *request;   /* NULL: the daemon's own call (fn) */
        enum pending_reply kind;
        pending_fn fn;
        void *userdata;
};

Pending *pending_new(BusCall *call, enum pending_reply kind)
{
        Pending *p = malloc(sizeof(*p));
        if (p)
                *p = (Pending){ .bus = bus_call_get_bus(call),
                                .request = dbus_message_ref(bus_call_get_message(call)),
                                .kind = kind };
        return p;
}

Pending *pending_new_internal(pending_fn fn, void *userdata)
{
        Pending *p = malloc(sizeof(*p));
        if (p)
                *p = (Pending){ .fn = fn, .userdata = userdata };
        return p;
}

void pending_free(Pending *p)
{
        if (p->request)
                dbus_message_unref(p->request);
        free(p);
}

int pending_started(Pending *p, BusCall *call, int r, const struct vss_error_buf *err)
{
        if (r < 0) {
                pending_free(p);
                return lifecycle_error(call, r, err);
        }
        dbus_message_unref(bus_call_defer(call)); /* p has its own reference */
        return 0;
}

static bool pending_append(Pending *p, DBusMessageIter *iter, const CoreResult *res)
{
        char path[LIFECYCLE_PATH_MAX];
        const char *warnings = res->message ? res->message : "";

        switch (p->kind) {
        case REPLY_EMPTY:
                return true;
        case REPLY_ID:
                return bus_append_string(iter, res->id);
        case REPLY_WARNINGS:
                return bus_append_string(iter, warnings);
        case REPLY_SET:
                return bus_append_object_path(iter, uuid_path(VSS_ROOT_PATH "/set/",
                                                              res->id ? res->id : "", path)) &&
                       bus_append_string(iter, warnings);
        case REPLY_COUNT:
                return bus_append_uint32(iter, res->n);
        default:
                return bus_append_bool(iter, res->r == 1) &&
                       bus_append_string(iter, res->r == 1 ? "" : warnings);
        }
}

static void env_call_complete(void *userdata, void *call, const CoreResult *res)
{
        Pending *p = call;
        DBusMessageIter iter;

        if (p->fn) {
                p->fn(p->userdata, res);
        } else if (res->r < 0) {
                bus_send_error(p->bus, p->request, res->r, res->message);
        } else if (!dbus_message_get_no_reply(p->request)) {
                DBusMessage *reply = dbus_message_new_method_return(p->request);
                if (reply)
                        dbus_message_iter_init_append(reply, &iter);
                if (reply && pending_append(p, &iter, res))
                        bus_send(p->bus, reply);
                else
                        bus_send_error(p->bus, p->request, -ENOMEM, NULL);
                if (reply)
                        dbus_message_unref(reply);
        }
        pending_free(p);
}

/* --- clock, timer, provider jobs --------------------------------------------------- */

static uint64_t env_now_ms(void *userdata)
{
        return loop_now_usec() / 1000;
}

static int on_core_timer(LoopSource *source, void *userdata)
{
        Manager *m = userdata;
        core_dispatch_timers(m->core);
        return 0;
}

static void env_timer_set(void *userdata, uint64_t deadline_ms)
{
        Manager *m = userdata;
        uint64_t now = env_now_ms(m);

        if (deadline_ms == UINT64_MAX)
                loop_source_set_timer(m->core_timer, 0);
        else /* 0 would disarm: a due deadline fires in 1 us */
                loop_source_set_timer(m->core_timer,
                                      deadline_ms > now ? (deadline_ms - now) * 1000 : 1);
}

static void job_work(void *job)
{
        core_job_execute(job);
}

static void job_done(void *job)
{
        core_job_complete(job);
}

static int env_provider_run(void *userdata, CoreJob *job)
{
        Manager *m = userdata;
        return provider_runner_submit(m->runner, job, job_work, job_done);
}

static void env_provider_watchdog(void *userdata, CoreJob *job)
{
        Manager *m = userdata;
        /* Release first, log after: the volumes may still be suspended. */
        int r = provider_runner_watchdog(m->runner, job, job_work, job_done);
        if (r >= 0) {
                log_warning("hold window of %s past its bound: releasing on the watchdog "
                            "thread", job->target);
        } else {
                /* No thread to spare: release from here rather than not at all. */
                log_error("cannot start the watchdog thread (%s); releasing on the main thread",
                          vss_strerror(r));
                core_job_execute(job);
                core_job_complete(job);
        }
}

static int env_writer_send(void *userdata, const CoreWriter *w, enum core_event event,
                           uint64_t cookie, const CoreSet *set)
{
        return writer_object_send(w, event, cookie, set);
}

static int env_volume_of_path(void *userdata, const char *path, char *buf, size_t size)
{
        return volume_of_path(path, buf, size);
}

static void env_log(void *userdata, int priority, const char *message)
{
        log_msg(priority, "%s", message);
}

/* --- objects ------------------------------------------------------------------------ */

static void **object_userdata(enum core_object_kind kind, void *object)
{
        switch (kind) {
        case CORE_OBJECT_SESSION:
                return &((CoreSession *)object)->userdata;
        case CORE_OBJECT_SET:
                return &((CoreSet *)object)->userdata;
        case CORE_OBJECT_SNAPSHOT:
                return &((CoreSnapshot *)object)->userdata;
        default:
                return &((CoreWriter *)object)->userdata;
        }
}

static const BusInterface *object_interface(enum core_object_kind kind)
{
        static const BusInterface *const ifaces[] = {
                [CORE_OBJECT_SESSION] = &session_object_interface,
                [CORE_OBJECT_SET] = &set_object_interface,
                [CORE_OBJECT_SNAPSHOT] = &snapshot_object_interface,
                [CORE_OBJECT_WRITER] = &writer_object_interface,
        };
        return ifaces[kind];
}

static void env_object_added(void *userdata, enum core_object_kind kind, void *object)
{
        char path[LIFECYCLE_PATH_MAX];
        Exported *e = calloc(1, sizeof(*e));
        int r = -ENOMEM;

        if (e) {
                *e = (Exported){ .manager = userdata, .kind = kind, .object = object,
                                 .pid = UINT32_MAX, .uid = UINT32_MAX };
                r = bus_object_new(e->manager->bus, &e->bus_object,
                                   lifecycle_path(kind, object, path));
        }
        if (r >= 0)
                r = bus_object_add_interface(e->bus_object, object_interface(kind), e);
        if (r >= 0 && kind == CORE_OBJECT_WRITER)
                r = writer_object_publish(e);
        if (r >= 0)
                r = bus_object_publish(e->bus_object);
        if (r < 0) {
                /* The core goes on; the object is just not visible on the bus. */
                log_error("cannot publish %s: %s", path, vss_strerror(r));
                if (e) {
                        bus_object_free(e->bus_object);
                        free(e->usage);
                        free(e);
                }
                return;
        }
        *object_userdata(kind, object) = e;
}

static void env_object_removed(void *userdata, enum core_object_kind kind, void *object)
{
        Exported *e = *object_userdata(kind, object);
        if (!e)
                return;
        bus_object_free(e->bus_object);
        free(e->usage);
        free(e);
        *object_userdata(kind, object) = NULL;
}

static void env_property_changed(void *userdata, enum core_object_kind kind, void *object,
                                 const char *property)
{
        Exported *e = *object_userdata(kind, object);
        const char *names[] = { property, NULL, NULL };

        if (!e)
                return;
        if (strcmp(property, CORE_PROP_CONTEXT) == 0)
                names[1] = "Attributes"; /* SetContext changes both */
        bus_object_emit_properties_changed(e->bus_object, object_interface(kind), names);
}

/* --- start and stop ------------------------------------------------------------------- */

static void on_name_lost(const char *unique_name, void *userdata)
{
        Manager *m = userdata;
        core_owner_vanished(m->core, unique_name);
}

int lifecycle_apply_settings(Manager *m, struct vss_error_buf *err)
{
        CoreConfig config = {
                .freeze_timeout_ms = m->settings.freeze_timeout_ms,
                .hold_timeout_ms = m->settings.hold_timeout_ms,
                .event_timeout_ms = m->settings.event_timeout_ms,
                .monitor_interval_ms = m->settings.monitor_interval_ms,
        };
        return core_config_set(m->core, &config, err);
}

int lifecycle_start(Manager *m)
{
        const CoreEnv env = {
                .userdata = m,
                .now_ms = env_now_ms,
                .timer_set = env_timer_set,
                .writer_send = env_writer_send,
                .provider_run = env_provider_run,
                .provider_watchdog = env_provider_watchdog,
                .object_added = env_object_added,
                .object_removed = env_object_removed,
                .property_changed = env_property_changed,
                .call_complete = env_call_complete,
                .volume_of_path = env_volume_of_path,
                .log = env_log,
        };
        struct vss_error_buf err = { "" };
        int r = loop_add_timer(m->loop, &m->core_timer, 0, on_core_timer, m);

        if (r >= 0)
                r = core_new(&m->core, &env, NULL);
        if (r >= 0)
                r = lifecycle_apply_settings(m, &err);
        for (size_t i = 0; r >= 0 && i < m->plugins.n; i++) {
                const Plugin *p = m->plugins.items[i];
                r = core_provider_add(m->core, p->provider, p->state, NULL, &err);
        }
        if (r < 0)
                return log_error_errno(r, "cannot start the coordinator: %s",
                                       err.message[0] ? err.message : vss_strerror(r));
        bus_set_name_lost_handler(m->bus, on_name_lost, m);
        return 0;
}

static size_t count_snapshots(Core *core)
{
        size_t n = 0;
        for (CoreSet *set = core_set_first(core); set; set = set->next)
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        n++;
        return n;
}

/* The providers' snapshots are adopted: only now may clients come (see main.c). */
static void on_providers_started(void *userdata, const CoreResult *res)
{
        Manager *m = userdata;

        if (res->r < 0)
                log_error("starting without part of what the providers have: %s",
                          res->message ? res->message : vss_strerror(res->r));
        if (res->n)
                log_notice("deleted %u snapshot(s) left by sessions of an earlier vssd", res->n);
        if (m->stopping)
                return; /* asked to stop meanwhile: no clients any more */
        int r = bus_request_name(m->bus, VSS_BUS_NAME);
        if (r < 0) {
                loop_exit(m->loop, r);
                return;
        }
        log_info("vssd %s ready as %s: %zu provider(s), %zu snapshot(s)", VSS_VERSION,
                 VSS_BUS_NAME, m->plugins.n, count_snapshots(m->core));
}

int lifecycle_start_providers(Manager *m)
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new_internal(on_providers_started, m);

        if (!p)
                return log_error_errno(-ENOMEM, "out of memory starting the providers");
        int r = core_start(m->core, p, &err);
        if (r < 0) {
                pending_free(p);
                return log_error_errno(r, "cannot start the providers: %s", err.message);
        }
        return 0;
}

/* Before the loop sleeps, while stopping: are the providers done? */
static int on_stop_check(LoopSource *source, void *userdata)
{
        Manager *m = userdata;
        if (core_is_idle(m->core)) {
                log_info("sessions ended and provider operations finished; stopping");
                loop_exit(m->loop, 0);
        }
        return 0;
}

static int on_stop_timeout(LoopSource *source, void *userdata)
{
        Manager *m = userdata;
        log_error("a provider operation is still running %u ms after the stop began; "
                  "stopping without it (vssd recovers what it left at the next start)",
                  m->settings.hold_timeout_ms + 10000);
        loop_exit(m->loop, 0);
        return 0;
}

void lifecycle_shutdown(Manager *m)
{
        if (m->stopping) {
                log_info("asked again: stopping now");
                loop_exit(m->loop, 0);
                return;
        }
        m->stopping = true;
        core_shutdown(m->core);
        /* A hold window in flight ends within its bound; its abort shortly after. */
        uint64_t bound_usec = (m->settings.hold_timeout_ms + 10000ull) * 1000;
        if (loop_add_defer(m->loop, &m->stop_check, on_stop_check, m) < 0 ||
            loop_add_timer(m->loop, &m->stop_timer, bound_usec, on_stop_timeout, m) < 0)
                loop_exit(m->loop, 0);
}

/* core_free() tells nobody: take the bus objects down first (silently: bus_leave()). */
static void lifecycle_unpublish_all(Manager *m)
{
        for (CoreSession *s = core_session_first(m->core); s; s = s->next)
                env_object_removed(m, CORE_OBJECT_SESSION, s);
        for (CoreSet *set = core_set_first(m->core); set; set = set->next) {
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        env_object_removed(m, CORE_OBJECT_SNAPSHOT, snap);
                env_object_removed(m, CORE_OBJECT_SET, set);
        }
        for (CoreWriter *w = core_writer_first(m->core); w; w = w->next)
                env_object_removed(m, CORE_OBJECT_WRITER, w);
}

/* After the provider runner is gone: every job came back, nothing more will. */
void lifecycle_stop(Manager *m)
{
        if (m->bus)
                bus_set_name_lost_handler(m->bus, NULL, NULL);
        if (m->core)
                lifecycle_unpublish_all(m);
        m->core = core_free(m->core);
        m->core_timer = loop_source_free(m->core_timer);
        m->stop_check = loop_source_free(m->stop_check);
        m->stop_timer = loop_source_free(m->stop_timer);
}
