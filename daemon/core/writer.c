/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writer.c: the writer registry and the event conversation with each writer.
 *
 * A writer handles one event at a time: events from different sets or sessions
 * (a GatherWriterMetadata while another requester's set freezes) queue behind
 * the pending one. Each sent event carries a fresh cookie; only the owner may
 * answer it, only once, and only while it is pending. The answer (or a timeout,
 * or the writer leaving) goes to whoever waits for it: a set or a session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/internal.h"

struct WriterSend {
        enum core_event event;
        uint64_t cookie;
        uint32_t timeout_ms;           /* answer deadline; 0: the waiter keeps its own */
        CoreSet *set;          /* who waits for the answer: a set ... */
        CoreSession *session;  /* ... or a session (Identify) */
        WriterSend *next;
};

static void writer_pump(CoreWriter *w);
static void writer_timeout(CoreTimer *t);

/* --- lifetime ---------------------------------------------------------------------- */

static void components_free(CoreComponent *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(c[i].logical_path);
                free(c[i].name);
                for (size_t j = 0; j < c[i].n_files; j++)
                        free(c[i].files[j]);
                free(c[i].files);
        }
        free(c);
}

static void writer_drop_events(CoreWriter *w)
{
        core_timer_cancel(w->core, &w->timer);
        free(w->current);
        w->current = NULL;
        while (w->queue) {
                WriterSend *s = w->queue;
                w->queue = s->next;
                free(s);
        }
}

static CoreWriter *writer_free(CoreWriter *w)
{
        if (!w)
                return NULL;
        writer_drop_events(w);
        components_free(w->components, w->n_components);
        free(w->owner);
        free(w->name);
        free(w->class_id);
        free(w->instance_id);
        free(w->failure_message);
        free(w);
        return NULL;
}

CoreWriter *writer_ref(CoreWriter *w)
{
        w->n_ref++;
        return w;
}

CoreWriter *writer_unref(CoreWriter *w)
{
        if (w && --w->n_ref == 0)
                writer_free(w);
        return NULL;
}

static int writer_info_check(Core *core, const char *owner,
                             const CoreWriterInfo *info, struct vss_error_buf *err)
{
        if (!owner || !owner[0])
                return core_error(err, -EINVAL, "a writer needs an owner (the caller's bus name)");
        if (!info->name || !info->name[0])
                return core_error(err, -EINVAL, "a writer needs a non-empty name");
        if (!info->class_id || !info->class_id[0] || !info->instance_id || !info->instance_id[0])
                return core_error(err, -EINVAL, "writer '%s' needs a class id and an instance id",
                                  info->name);
        if ((unsigned)info->level > VSS_LEVEL_SYSTEM)
                return core_error(err, -EINVAL, "writer '%s' has level %d; use front-end, "
                                  "back-end or system", info->name, (int)info->level);
        CoreWriter *other = writer_find_instance(core, info->instance_id);
        if (other)
                return core_error(err, -EEXIST, "instance id %s is already registered by writer "
                                  "'%s' (%s); each writer instance needs its own id",
                                  info->instance_id, other->name, other->owner);
        return 0;
}

int core_writer_register(Core *core, const char *owner, const CoreWriterInfo *info,
                         CoreWriter **ret, struct vss_error_buf *err)
{
        int r = writer_info_check(core, owner, info, err);
        if (r < 0)
                return r;
        CoreWriter *w = calloc(1, sizeof(*w));
        if (!w)
                return core_error(err, -ENOMEM, "out of memory registering writer '%s'",
                                  info->name);
        w->core = core;
        w->n_ref = 1; /* the registry's */
        w->owner = strdup(owner);
        w->name = strdup(info->name);
        w->class_id = strdup(info->class_id);
        w->instance_id = strdup(info->instance_id);
        w->failure_message = strdup("");
        if (!w->owner || !w->name || !w->class_id || !w->instance_id || !w->failure_message) {
                writer_free(w);
                return core_error(err, -ENOMEM, "out of memory registering writer '%s'",
                                  info->name);
        }
        w->level = info->level;
        w->freeze_timeout_ms = info->freeze_timeout_ms;
        w->state = VSS_WS_STABLE;
        w->id = ++core->next_writer_id;
        core_timer_init(&w->timer, writer_timeout, w);
        CoreWriter **tail = &core->writers;
        while (*tail)
                tail = &(*tail)->next;
        *tail = w;
        core_notify_added(core, CORE_OBJECT_WRITER, w);
        if (ret)
                *ret = w;
        return 0;
}

static int writer_check_sender(const CoreWriter *w, const char *sender,
                               struct vss_error_buf *err)
{
        if (w->gone)
                return core_error(err, -ENOENT, "writer '%s' has left", w->name);
        if (!sender || strcmp(sender, w->owner) != 0)
                return core_error(err, -EACCES, "writer '%s' belongs to %s; %s may not act for "
                                  "it", w->name, w->owner, sender ? sender : "(unknown)");
        return 0;
}

int core_writer_unregister(CoreWriter *w, const char *sender, struct vss_error_buf *err)
{
        int r = writer_check_sender(w, sender, err);
        if (r < 0)
                return r;
        Core *core = w->core;
        core_enter(core);
        writer_gone(w);
        core_leave(core);
        return 0;
}

void writers_drop_events(Core *core)
{
        for (CoreWriter *w = core->writers; w; w = w->next)
                writer_drop_events(w);
}

void writer_free_all(Core *core)
{
        while (core->writers) {
                CoreWriter *w = core->writers;
                core->writers = w->next;
                writer_free(w); /* regardless of references: everything else is gone */
        }
}

/* --- lookups and metadata ------------------------------------------------------------- */

CoreWriter *writer_find_instance(Core *core, const char *instance_id)
{
        for (CoreWriter *w = core->writers; w; w = w->next)
                if (instance_id && strcmp(w->instance_id, instance_id) == 0)
                        return w;
        return NULL;
}

const CoreComponent *writer_find_component(const CoreWriter *w,
                                                   const char *logical_path, const char *name)
{
        for (size_t i = 0; i < w->n_components; i++)
                if (strcmp(w->components[i].logical_path, logical_path ? logical_path : "") == 0 &&
                    strcmp(w->components[i].name, name) == 0)
                        return &w->components[i];
        return NULL;
}

static int component_check(const CoreWriter *w, const CoreComponentInfo *in,
                           size_t i, struct vss_error_buf *err)
{
        if (!in[i].name || !in[i].name[0])
                return core_error(err, -EINVAL, "component %zu of writer '%s' has no name", i,
                                  w->name);
        for (size_t j = 0; j < in[i].n_files; j++)
                if (!in[i].files[j] || in[i].files[j][0] != '/')
                        return core_error(err, -EINVAL, "file '%s' of component '%s' of writer "
                                          "'%s' is not an absolute path",
                                          in[i].files[j] ? in[i].files[j] : "(null)",
                                          in[i].name, w->name);
        for (size_t k = 0; k < i; k++)
                if (strcmp(in[k].name, in[i].name) == 0 &&
                    strcmp(in[k].logical_path ? in[k].logical_path : "",
                           in[i].logical_path ? in[i].logical_path : "") == 0)
                        return core_error(err, -EINVAL, "writer '%s' lists component '%s' twice",
                                          w->name, in[i].name);
        return 0;
}

static int component_copy(CoreComponent *c, const CoreComponentInfo *in)
{
        c->logical_path = strdup(in->logical_path ? in->logical_path : "");
        c->name = strdup(in->name);
        c->files = calloc(in->n_files ? in->n_files : 1, sizeof(char *));
        if (!c->logical_path || !c->name || !c->files)
                return -ENOMEM;
        for (; c->n_files < in->n_files; c->n_files++)
                if (!(c->files[c->n_files] = strdup(in->files[c->n_files])))
                        return -ENOMEM;
        return 0;
}

int core_writer_set_metadata(CoreWriter *w, const char *sender,
                             const CoreComponentInfo *components, size_t n,
                             struct vss_error_buf *err)
{
        int r = writer_check_sender(w, sender, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = component_check(w, components, i, err);
        if (r < 0)
                return r;
        CoreComponent *c = calloc(n ? n : 1, sizeof(*c));
        r = c ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = component_copy(&c[i], &components[i]);
        if (r < 0) {
                components_free(c, n);
                return core_error(err, r, "out of memory storing the metadata of writer '%s'",
                                  w->name);
        }
        components_free(w->components, w->n_components);
        w->components = c;
        w->n_components = n;
        core_notify_changed(w->core, CORE_OBJECT_WRITER, w, CORE_PROP_METADATA);
        return 0;
}

uint32_t core_writer_freeze_timeout(const CoreWriter *w)
{
        uint32_t max = w->core->config.freeze_timeout_ms;
        return w->freeze_timeout_ms && w->freeze_timeout_ms < max ? w->freeze_timeout_ms : max;
}

/* --- state -------------------------------------------------------------------------- */

void writer_set_state(CoreWriter *w, enum vss_writer_state state)
{
        if (w->state == state)
                return;
        w->state = state;
        core_notify_changed(w->core, CORE_OBJECT_WRITER, w, CORE_PROP_STATE);
}

static enum vss_writer_state writer_failed_state(enum core_event event)
{
        switch (event) {
        case CORE_EVENT_IDENTIFY:
                return VSS_WS_FAILED_AT_IDENTIFY;
        case CORE_EVENT_PREPARE_BACKUP:
                return VSS_WS_FAILED_AT_PREPARE_BACKUP;
        case CORE_EVENT_PREPARE_SNAPSHOT:
                return VSS_WS_FAILED_AT_PREPARE_SNAPSHOT;
        case CORE_EVENT_FREEZE:
                return VSS_WS_FAILED_AT_FREEZE;
        case CORE_EVENT_THAW:
                return VSS_WS_FAILED_AT_THAW;
        case CORE_EVENT_POST_SNAPSHOT:
                return VSS_WS_FAILED_AT_POST_SNAPSHOT;
        case CORE_EVENT_BACKUP_COMPLETE:
                return VSS_WS_FAILED_AT_BACKUP_COMPLETE;
        default:
                return VSS_WS_FAILED_AT_BACKUPSHUTDOWN;
        }
}

void writer_fail(CoreWriter *w, enum core_event event, enum vss_writer_failure failure,
                 const char *message)
{
        char *copy = strdup(message ? message : "");
        if (copy) {
                free(w->failure_message);
                w->failure_message = copy;
        }
        w->failure = failure != VSS_WF_NONE ? failure : VSS_WF_NONRETRYABLE;
        writer_set_state(w, writer_failed_state(event));
        core_notify_changed(w->core, CORE_OBJECT_WRITER, w, CORE_PROP_LAST_FAILURE);
}

void writer_clear_failure(CoreWriter *w)
{
        if (w->failure == VSS_WF_NONE && !w->failure_message[0])
                return;
        w->failure = VSS_WF_NONE;
        w->failure_message[0] = '\0';
        core_notify_changed(w->core, CORE_OBJECT_WRITER, w, CORE_PROP_LAST_FAILURE);
}

/* --- events --------------------------------------------------------------------------- */

static int writer_transmit(CoreWriter *w, WriterSend *s)
{
        Core *core = w->core;
        if (core->freeing)
                return -ESHUTDOWN;
        int r = core->env.writer_send(core->env.userdata, w, s->event, s->cookie, s->set);
        if (r < 0)
                return r;
        w->current = s;
        if (s->timeout_ms)
                core_timer_arm(core, &w->timer, core_now(core) + s->timeout_ms);
        return 0;
}

/* Hand the outcome of S to its waiter; S is freed first, W kept alive throughout. */
static void writer_deliver(CoreWriter *w, WriterSend *s,
                           enum vss_writer_failure failure, const char *message)
{
        enum core_event event = s->event;
        CoreSet *set = s->set;
        CoreSession *session = s->session;
        free(s);
        writer_ref(w);
        if (set)
                set_writer_answered(set, w, event, failure, message);
        else if (session)
                session_identify_answered(session, w, failure, message);
        writer_unref(w);
}

static void writer_pump(CoreWriter *w)
{
        while (!w->current && w->queue) {
                WriterSend *s = w->queue;
                w->queue = s->next;
                s->next = NULL;
                int r = writer_transmit(w, s);
                if (r < 0) {
                        char *msg = core_strdup_printf("could not send %s: %s",
                                                       core_event_to_string(s->event),
                                                       vss_strerror(r));
                        writer_deliver(w, s, VSS_WF_NONRETRYABLE, msg);
                        core_string_free(msg);
                }
        }
}

int writer_enqueue(CoreWriter *w, enum core_event event, CoreSet *set,
                   CoreSession *session, uint32_t timeout_ms)
{
        if (w->gone)
                return -ENOTCONN;
        WriterSend *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (WriterSend){ .event = event, .cookie = core_cookie_new(w->core),
                                   .timeout_ms = timeout_ms, .set = set, .session = session };
        WriterSend **tail = &w->queue;
        while (*tail)
                tail = &(*tail)->next;
        *tail = s;
        if (w->current || w->queue != s) {
                writer_pump(w); /* older events go first */
                return 0;
        }
        w->queue = NULL;
        int r = writer_transmit(w, s);
        if (r < 0)
                free(s);
        return r;
}

void writer_notify(CoreWriter *w, enum core_event event, CoreSet *set)
{
        Core *core = w->core;
        if (w->gone || core->freeing)
                return;
        /* Not answered: a failure to send changes nothing the core could act on. */
        (void)core->env.writer_send(core->env.userdata, w, event, core_cookie_new(core), set);
}

static bool send_matches(const WriterSend *s, const CoreSet *set,
                         const CoreSession *session)
{
        return (set && s->set == set) || (session && s->session == session);
}

void writer_cancel(CoreWriter *w, CoreSet *set, CoreSession *session)
{
        for (WriterSend **p = &w->queue; *p;) {
                WriterSend *s = *p;
                if (send_matches(s, set, session)) {
                        *p = s->next;
                        free(s);
                } else
                        p = &s->next;
        }
        if (w->current && send_matches(w->current, set, session)) {
                core_timer_cancel(w->core, &w->timer);
                free(w->current);
                w->current = NULL;
                writer_pump(w);
        }
}

static void writer_timeout(CoreTimer *t)
{
        CoreWriter *w = t->data;
        WriterSend *s = w->current;
        if (!s)
                return;
        w->current = NULL;
        char *msg = core_strdup_printf("did not answer %s within %u ms",
                                       core_event_to_string(s->event), s->timeout_ms);
        writer_ref(w);
        writer_deliver(w, s, VSS_WF_TIMEOUT, msg);
        core_string_free(msg);
        writer_pump(w);
        writer_unref(w);
}

int core_writer_answer(CoreWriter *w, const char *sender, uint64_t cookie,
                       enum vss_writer_failure failure, const char *message,
                       struct vss_error_buf *err)
{
        int r = writer_check_sender(w, sender, err);
        if (r < 0)
                return r;
        if ((unsigned)failure > VSS_WF_NONRETRYABLE)
                return core_error(err, -EINVAL, "failure code %u is not a VSS_WF_* value",
                                  (unsigned)failure);
        WriterSend *s = w->current;
        if (!s || s->cookie != cookie)
                return core_error(err, -VSS_E_STALE_COOKIE, "cookie %llu is not the pending "
                                  "event of writer '%s' (%s%s): it was answered already, timed "
                                  "out or cancelled", (unsigned long long)cookie, w->name,
                                  s ? "pending: " : "no event pending",
                                  s ? core_event_to_string(s->event) : "");
        Core *core = w->core;
        core_enter(core);
        w->current = NULL;
        core_timer_cancel(core, &w->timer);
        writer_ref(w);
        writer_deliver(w, s, failure, message ? message : "");
        writer_pump(w);
        writer_unref(w);
        core_leave(core);
        return 0;
}

/* Unregistered or its owner left: pending events fail, sets learn it is gone. */
void writer_gone(CoreWriter *w)
{
        Core *core = w->core;
        if (w->gone)
                return;
        w->gone = true;
        for (CoreWriter **p = &core->writers; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        w->next = NULL;
        core_notify_removed(core, CORE_OBJECT_WRITER, w);
        core_timer_cancel(core, &w->timer);

        /* Take the events first: delivering one may cancel others. */
        WriterSend *list = w->current;
        if (list)
                list->next = w->queue;
        else
                list = w->queue;
        w->current = w->queue = NULL;
        while (list) {
                WriterSend *s = list;
                list = s->next;
                char *msg = core_strdup_printf("left the bus before answering %s",
                                               core_event_to_string(s->event));
                writer_deliver(w, s, VSS_WF_NONRETRYABLE, msg);
                core_string_free(msg);
        }
        for (CoreSet *set = core->sets; set; set = set->next)
                set_writer_left(set, w);
        writer_unref(w); /* the registry's reference */
}
