/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session.c: requester sessions (the Backup interface, like
 * IVssBackupComponents) and CreateSnapshotSet, which drives one internally.
 *
 * A session belongs to its owner's bus name and makes at most one snapshot set
 * at a time (a new one only after the previous aborted). It has at most one
 * asynchronous call pending: a second gets -EBUSY. The set does the work; the
 * session checks who calls, in which order, and what the selected components
 * need (every file of them on a volume of the set): those selected with
 * AddComponent and, of writers with none selected, each component with a file
 * on the set's volumes (VSS's implicit selection).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/internal.h"

/* A component selected with AddComponent. */
struct SessionComponent {
        char *instance_id;
        char *logical_path;
        char *name;
};

/* CreateSnapshotSet: the calls a script would make, made for it. */
enum script_step {
        SCRIPT_IDENTIFY, /* the writers' components, for the check at PrepareForBackup */
        SCRIPT_START,
        SCRIPT_ADD,
        SCRIPT_PREPARE,
        SCRIPT_SNAPSHOT,
};

struct SessionScript {
        void *call;
        char *notes;            /* the warnings of every step, for the one reply */
        char **volumes;
        size_t n_volumes;
        size_t next;
        CoreProvider *provider;
        enum script_step step;
};

static void script_result(CoreSession *s, int r, const char *message);

/* --- lifetime --------------------------------------------------------------------------- */

static SessionScript *script_free(SessionScript *sc)
{
        if (!sc)
                return NULL;
        for (size_t i = 0; i < sc->n_volumes; i++)
                free(sc->volumes[i]);
        free(sc->volumes);
        core_string_free(sc->notes);
        free(sc);
        return NULL;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

CoreSession *session_free(CoreSession *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_components; i++) {
                free(s->components[i].instance_id);
                free(s->components[i].logical_path);
                free(s->components[i].name);
        }
        free(s->components);
        strv_free(s->exclude_writers, s->n_exclude_writers);
        script_free(s->script);
        core_string_free(s->identify_failures);
        free(s->owner);
        free(s);
        return NULL;
}

static int session_new(CoreSession **ret, Core *core, const char *owner,
                       struct vss_error_buf *err)
{
        if (!owner || !owner[0])
                return core_error(err, -EINVAL, "a session needs an owner (the caller's bus name)");
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        CoreSession *s = calloc(1, sizeof(*s));
        if (!s || !(s->owner = strdup(owner))) {
                free(s);
                return core_error(err, -ENOMEM, "out of memory starting a backup session");
        }
        s->core = core;
        s->id = ++core->next_session_id;
        s->context = CORE_CONTEXT_BACKUP;
        s->attributes = core_context_attributes(s->context);
        s->state = CORE_SESSION_CREATED;
        CoreSession **tail = &core->sessions;
        while (*tail)
                tail = &(*tail)->next;
        *tail = s;
        core_notify_added(core, CORE_OBJECT_SESSION, s);
        *ret = s;
        return 0;
}

int core_session_new(CoreSession **ret, Core *core, const char *owner,
                     struct vss_error_buf *err)
{
        return session_new(ret, core, owner, err);
}

static void session_state(CoreSession *s, enum core_session_state state)
{
        if (s->state == state)
                return;
        s->state = state;
        core_notify_changed(s->core, CORE_OBJECT_SESSION, s, CORE_PROP_STATE);
}

/* --- calls -------------------------------------------------------------------------------- */

static int session_check(CoreSession *s, const char *sender, struct vss_error_buf *err)
{
        if (s->state == CORE_SESSION_ENDED)
                return core_error(err, -ENOENT, "session %llu has ended",
                                  (unsigned long long)s->id);
        if (!sender || strcmp(sender, s->owner) != 0)
                return core_error(err, -EACCES, "session %llu belongs to %s; %s may not use it",
                                  (unsigned long long)s->id, s->owner,
                                  sender ? sender : "(unknown)");
        return 0;
}

int core_session_check(CoreSession *s, const char *sender, struct vss_error_buf *err)
{
        return session_check(s, sender, err);
}

static int session_check_idle(CoreSession *s, const char *sender,
                              struct vss_error_buf *err)
{
        int r = session_check(s, sender, err);
        if (r < 0)
                return r;
        if (s->busy)
                return core_error(err, -EBUSY, "session %llu is still waiting for a previous "
                                  "call to finish; wait for its reply",
                                  (unsigned long long)s->id);
        return 0;
}

static int session_need_set(CoreSession *s, struct vss_error_buf *err)
{
        if (!s->set)
                return core_error(err, -VSS_E_BAD_STATE, "session %llu has no snapshot set; "
                                  "call StartSnapshotSet first", (unsigned long long)s->id);
        return 0;
}

/* The pending call ends: to the script that drives the session, or to the caller. */
static void session_complete(CoreSession *s, int r, const char *message, const char *id)
{
        void *call = s->call;
        s->busy = false;
        s->call = NULL;
        if (s->script)
                script_result(s, r, message);
        else
                core_call_complete(s->core, call, r, message, id, 0);
}

void session_set_call_complete(CoreSession *s, int r, const char *message,
                               const char *id)
{
        if (s && s->busy && s->state == CORE_SESSION_IN_SET)
                session_complete(s, r, message, id);
}

/* Start an asynchronous set call: FN(set, err) with the session marked busy first. */
static int session_set_call(CoreSession *s, const char *sender, void *call,
                            int (*fn)(CoreSet *set, struct vss_error_buf *err),
                            struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r >= 0)
                r = session_need_set(s, err);
        if (r < 0)
                return r;
        core_enter(s->core);
        s->busy = true;
        s->call = call;
        r = fn(s->set, err);
        if (r < 0) {
                s->busy = false;
                s->call = NULL;
        }
        core_leave(s->core);
        return r;
}

/* --- context and metadata ----------------------------------------------------------------- */

int core_session_set_context(CoreSession *s, const char *sender, enum core_context context,
                             uint32_t attributes, struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r < 0)
                return r;
        if (s->state == CORE_SESSION_IN_SET)
                return core_error(err, -VSS_E_BAD_STATE, "SetContext must come before "
                                  "StartSnapshotSet; session %llu already has a snapshot set",
                                  (unsigned long long)s->id);
        if ((unsigned)context >= _CORE_CONTEXT_MAX)
                return core_error(err, -EINVAL, "context %d is unknown; use backup, "
                                  "file-share-backup, app-rollback or nas-rollback", (int)context);
        uint32_t known = VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE | VSS_ATTR_NO_WRITERS;
        if (attributes & ~known)
                return core_error(err, -EINVAL, "attributes 0x%x include unknown bits; known "
                                  "are 0x%x", attributes, known);
        s->context = context;
        s->attributes = core_context_attributes(context) | attributes;
        core_notify_changed(s->core, CORE_OBJECT_SESSION, s, CORE_PROP_CONTEXT);
        return 0;
}

bool core_session_excludes(const CoreSession *s, const CoreWriter *w)
{
        for (size_t i = 0; s && i < s->n_exclude_writers; i++) {
                const char *x = s->exclude_writers[i];
                if (strcmp(x, w->name) == 0 || strcmp(x, w->instance_id) == 0 ||
                    strcmp(x, w->class_id) == 0)
                        return true;
        }
        return false;
}

int core_session_set_exclude_writers(CoreSession *s, const char *sender,
                                     const char *const *names, size_t n,
                                     struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r < 0)
                return r;
        if (s->state == CORE_SESSION_IN_SET)
                return core_error(err, -VSS_E_BAD_STATE, "writers can only be excluded before "
                                  "StartSnapshotSet; session %llu already has a snapshot set",
                                  (unsigned long long)s->id);
        for (size_t i = 0; i < n; i++)
                if (!names[i] || !names[i][0])
                        return core_error(err, -EINVAL, "writer %zu to exclude is empty; give "
                                          "a writer's name, instance id or class id", i + 1);
        char **v = calloc(n ? n : 1, sizeof(*v));
        size_t k = 0;
        for (; v && k < n; k++)
                if (!(v[k] = strdup(names[k])))
                        break;
        if (!v || k < n) {
                strv_free(v, k);
                return core_error(err, -ENOMEM, "out of memory excluding writers");
        }
        strv_free(s->exclude_writers, s->n_exclude_writers);
        s->exclude_writers = v;
        s->n_exclude_writers = n;
        return 0;
}

static void session_identify_counted(CoreSession *s)
{
        if (--s->n_identify > 0)
                return;
        session_state(s, CORE_SESSION_GATHERED);
        session_complete(s, 0, s->identify_failures, NULL);
}

void session_identify_answered(CoreSession *s, CoreWriter *w,
                               enum vss_writer_failure failure, const char *message)
{
        if (s->state != CORE_SESSION_GATHERING)
                return;
        if (failure != VSS_WF_NONE) {
                writer_fail(w, CORE_EVENT_IDENTIFY, failure, message);
                char *msg = core_strdup_printf("writer '%s' failed Identify (%s): %s", w->name,
                                               vss_writer_failure_to_string(w->failure), message);
                core_notes_append(&s->identify_failures, msg);
                core_string_free(msg);
        }
        session_identify_counted(s);
}

/* Identify to every writer taking part; CALL (or the script) completes with the failures. */
static void session_gather(CoreSession *s, void *call)
{
        Core *core = s->core;
        int r;
        core_enter(core);
        s->busy = true;
        s->call = call;
        s->identify_failures = core_string_free(s->identify_failures);
        session_state(s, CORE_SESSION_GATHERING);
        s->n_identify = 1; /* held until every Identify is out */
        for (CoreWriter *w = core->writers; w; w = w->next) {
                if (s->attributes & VSS_ATTR_NO_WRITERS)
                        break;
                if (core_session_excludes(s, w))
                        continue;
                s->n_identify++;
                r = writer_enqueue(w, CORE_EVENT_IDENTIFY, NULL, s, core->config.event_timeout_ms);
                if (r < 0)
                        session_identify_answered(s, w, VSS_WF_NONRETRYABLE, vss_strerror(r));
        }
        session_identify_counted(s);
        core_leave(core);
}

int core_session_gather_writer_metadata(CoreSession *s, const char *sender, void *call,
                                        struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r < 0)
                return r;
        if (s->state == CORE_SESSION_IN_SET)
                return core_error(err, -VSS_E_BAD_STATE, "GatherWriterMetadata must come before "
                                  "StartSnapshotSet");
        session_gather(s, call);
        return 0;
}

int core_session_add_component(CoreSession *s, const char *sender,
                               const char *instance_id, const char *logical_path,
                               const char *name, struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r < 0)
                return r;
        if (s->set && s->set->state > CORE_SET_COLLECTING)
                return core_error(err, -VSS_E_BAD_STATE, "AddComponent must come before "
                                  "PrepareForBackup");
        CoreWriter *w = writer_find_instance(s->core, instance_id);
        if (!w)
                return core_error(err, -ENOENT, "no writer with instance id %s is registered",
                                  instance_id ? instance_id : "(null)");
        if (core_session_excludes(s, w))
                return core_error(err, -EINVAL, "writer '%s' (instance %s) is excluded from "
                                  "session %llu (ExcludeWriters), so its components cannot be "
                                  "selected", w->name, w->instance_id,
                                  (unsigned long long)s->id);
        logical_path = logical_path ? logical_path : "";
        if (!name || !writer_find_component(w, logical_path, name))
                return core_error(err, -ENOENT, "writer '%s' has no component '%s%s%s'; see its "
                                  "Metadata", w->name, logical_path, logical_path[0] ? "\\" : "",
                                  name ? name : "(null)");
        for (size_t i = 0; i < s->n_components; i++) {
                SessionComponent *c = &s->components[i];
                if (strcmp(c->instance_id, instance_id) == 0 && strcmp(c->name, name) == 0 &&
                    strcmp(c->logical_path, logical_path) == 0)
                        return core_error(err, -EEXIST, "component '%s' of writer '%s' is "
                                          "already selected", name, w->name);
        }
        SessionComponent *c = realloc(s->components, (s->n_components + 1) * sizeof(*c));
        if (!c)
                return core_error(err, -ENOMEM, "out of memory selecting a component");
        s->components = c;
        c = &s->components[s->n_components];
        *c = (SessionComponent){ strdup(instance_id), strdup(logical_path), strdup(name) };
        if (!c->instance_id || !c->logical_path || !c->name) {
                free(c->instance_id);
                free(c->logical_path);
                free(c->name);
                return core_error(err, -ENOMEM, "out of memory selecting a component");
        }
        s->n_components++;
        return 0;
}

/* --- the snapshot set ------------------------------------------------------------------------ */

int core_session_start_snapshot_set(CoreSession *s, const char *sender,
                                    CoreSet **ret, struct vss_error_buf *err)
{
        Core *core = s->core;
        int r = session_check_idle(s, sender, err);
        if (r < 0)
                return r;
        if (s->set && s->set->state != CORE_SET_ABORTED)
                return core_error(err, -VSS_E_BAD_STATE, "session %llu already has snapshot set "
                                  "%s (%s); a session makes one set at a time",
                                  (unsigned long long)s->id, s->set->id,
                                  core_set_state_to_string(s->set->state));
        if (core->creating)
                return core_error(err, -VSS_E_SET_IN_PROGRESS, "snapshot set %s is being "
                                  "created; retry once its DoSnapshotSet has returned",
                                  core->creating->id);
        core_enter(core);
        CoreSet *set;
        r = set_new(&set, s, err);
        if (r >= 0) {
                if (s->set) { /* the aborted one goes once nothing else needs it */
                        s->set->session = NULL;
                        set_maybe_free(s->set);
                }
                s->set = set;
                session_state(s, CORE_SESSION_IN_SET);
                core_notify_changed(core, CORE_OBJECT_SESSION, s, CORE_PROP_SNAPSHOT_SET);
                if (ret)
                        *ret = set;
        }
        core_leave(core);
        return r;
}

int core_session_add_to_snapshot_set(CoreSession *s, const char *sender,
                                     const char *volume, const char *provider, void *call,
                                     struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r >= 0)
                r = session_need_set(s, err);
        if (r < 0)
                return r;
        if (!volume || !volume[0])
                return core_error(err, -EINVAL, "AddToSnapshotSet needs a volume");
        CoreProvider *p = NULL;
        if (provider && provider[0] && !(p = core_provider_find(s->core, provider)))
                return core_error(err, -ENOENT, "no provider named '%s' is loaded", provider);
        core_enter(s->core);
        s->busy = true;
        s->call = call;
        r = set_add_volume(s->set, volume, p, err);
        if (r < 0) {
                s->busy = false;
                s->call = NULL;
        }
        core_leave(s->core);
        return r;
}

/* --- components that must lie inside the set ------------------------------------------------ */

/* The volume of FILE into VOLUME; a sentence naming FILE, component and writer on failure. */
static int session_file_volume(CoreSession *s, const CoreWriter *w, const CoreComponent *comp,
                               const char *file, char volume[PATH_MAX],
                               struct vss_error_buf *err)
{
        Core *core = s->core;
        int r = core->env.volume_of_path
                ? core->env.volume_of_path(core->env.userdata, file, volume, PATH_MAX)
                : -EOPNOTSUPP;
        if (r < 0)
                return core_error(err, r, "cannot tell which volume holds %s (component '%s' of "
                                  "writer '%s'): %s", file, comp->name, w->name, vss_strerror(r));
        return 0;
}

/*
 * Every file of COMP on a volume of the set, else -VSS_E_INCONSISTENT naming
 * the first one outside and what to do: add its volume, or (for a component
 * the session did not select itself) leave its writer out.
 */
static int session_component_inside(CoreSession *s, const CoreWriter *w,
                                    const CoreComponent *comp, bool implicit,
                                    struct vss_error_buf *err)
{
        for (size_t i = 0; i < comp->n_files; i++) {
                char volume[PATH_MAX];
                int r = session_file_volume(s, w, comp, comp->files[i], volume, err);
                if (r < 0)
                        return r;
                if (set_has_volume(s->set, volume))
                        continue;
                if (!implicit)
                        return core_error(err, -VSS_E_INCONSISTENT, "component '%s' of writer "
                                          "'%s' has %s on volume %s, which is not in snapshot "
                                          "set %s; add %s with AddToSnapshotSet", comp->name,
                                          w->name, comp->files[i], volume, s->set->id, volume);
                return core_error(err, -VSS_E_INCONSISTENT, "component '%s' of writer '%s' "
                                  "lies partly in snapshot set %s: %s is on volume %s, which "
                                  "is not in the set, so the snapshots would not agree; add %s "
                                  "to the set, or leave the writer out with --exclude-writer "
                                  "%s (ExcludeWriters)", comp->name, w->name, s->set->id,
                                  comp->files[i], volume, volume, w->name);
        }
        return 0;
}

static int session_component_check(CoreSession *s, const SessionComponent *c,
                                   struct vss_error_buf *err)
{
        CoreWriter *w = writer_find_instance(s->core, c->instance_id);
        const CoreComponent *comp = w ? writer_find_component(w, c->logical_path, c->name)
                                      : NULL;
        if (!comp)
                return core_error(err, -ENOENT, "selected component '%s' (writer instance %s) "
                                  "no longer exists; its writer left or changed its metadata",
                                  c->name, c->instance_id);
        return session_component_inside(s, w, comp, false, err);
}

static bool session_selected_any(const CoreSession *s, const CoreWriter *w)
{
        for (size_t i = 0; i < s->n_components; i++)
                if (strcmp(s->components[i].instance_id, w->instance_id) == 0)
                        return true;
        return false;
}

/*
 * Does COMP have a file on a volume of the set? A file whose volume cannot be
 * told does not count: the component may lie wholly elsewhere, and nothing
 * of it is then snapshotted. (Once it counts, every file must be told.)
 */
static bool session_component_touches(CoreSession *s, const CoreWriter *w,
                                      const CoreComponent *comp)
{
        for (size_t i = 0; i < comp->n_files; i++) {
                char volume[PATH_MAX];
                if (session_file_volume(s, w, comp, comp->files[i], volume, NULL) >= 0 &&
                    set_has_volume(s->set, volume))
                        return true;
        }
        return false;
}

/*
 * VSS's implicit selection: of a writer the session selected no component
 * of (and did not exclude), every component with a file on a volume of the
 * set is selected, so that a set holding part of a database (its data but
 * not its WAL) fails instead of giving a backup that cannot be restored.
 * The components are those of the writer's last Identify answer.
 */
static int session_implicit_check(CoreSession *s, const CoreWriter *w,
                                  struct vss_error_buf *err)
{
        if (w->gone || core_session_excludes(s, w) || session_selected_any(s, w))
                return 0;
        for (size_t i = 0; i < w->n_components; i++) {
                const CoreComponent *comp = &w->components[i];
                if (!session_component_touches(s, w, comp))
                        continue;
                int r = session_component_inside(s, w, comp, true, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * At PrepareForBackup, after the check: the writers whose failure before
 * Freeze aborts the set (set.c) are those with a component in it.
 */
bool session_selects_writer(CoreSession *s, const CoreWriter *w)
{
        if (session_selected_any(s, w))
                return true;
        for (size_t i = 0; i < w->n_components; i++)
                if (session_component_touches(s, w, &w->components[i]))
                        return true;
        return false;
}

/* What PrepareForBackup checks before the writers hear of it (nothing without writers). */
static int session_components_check(CoreSession *s, struct vss_error_buf *err)
{
        int r = 0;
        if (s->set->state != CORE_SET_COLLECTING || (s->set->attributes & VSS_ATTR_NO_WRITERS))
                return 0;
        for (size_t i = 0; r >= 0 && i < s->n_components; i++)
                r = session_component_check(s, &s->components[i], err);
        for (CoreWriter *w = s->core->writers; r >= 0 && w; w = w->next)
                r = session_implicit_check(s, w, err);
        return r;
}

int core_session_prepare_for_backup(CoreSession *s, const char *sender, void *call,
                                    struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r >= 0)
                r = session_need_set(s, err);
        if (r >= 0)
                r = session_components_check(s, err);
        if (r < 0)
                return r;
        return session_set_call(s, sender, call, set_prepare_backup, err);
}

int core_session_do_snapshot_set(CoreSession *s, const char *sender, void *call,
                                 struct vss_error_buf *err)
{
        return session_set_call(s, sender, call, set_do_snapshot, err);
}

int core_session_backup_complete(CoreSession *s, const char *sender, void *call,
                                 struct vss_error_buf *err)
{
        return session_set_call(s, sender, call, set_backup_complete, err);
}

int core_session_set_backup_succeeded(CoreSession *s, const char *sender, bool succeeded,
                                      struct vss_error_buf *err)
{
        int r = session_check_idle(s, sender, err);
        if (r >= 0)
                r = session_need_set(s, err);
        if (r < 0)
                return r;
        if (s->set->state != CORE_SET_READY)
                return core_error(err, -VSS_E_BAD_STATE, "SetBackupSucceeded needs a snapshot "
                                  "set whose snapshots exist and whose BackupComplete has not "
                                  "been called; set %s is %s", s->set->id,
                                  core_set_state_to_string(s->set->state));
        if (s->set->backup_succeeded != succeeded) {
                s->set->backup_succeeded = succeeded;
                core_notify_changed(s->core, CORE_OBJECT_SET, s->set, CORE_PROP_BACKUP_SUCCEEDED);
        }
        return 0;
}

static void session_cancel_identify(CoreSession *s)
{
        for (CoreWriter *w = s->core->writers; w; w = w->next)
                writer_cancel(w, NULL, s);
}

int core_session_abort_backup(CoreSession *s, const char *sender,
                              struct vss_error_buf *err)
{
        int r = session_check(s, sender, err);
        if (r < 0)
                return r;
        core_enter(s->core);
        if (s->state == CORE_SESSION_GATHERING) {
                session_cancel_identify(s);
                session_state(s, CORE_SESSION_CREATED);
                session_complete(s, -VSS_E_ABORTED, "the requester aborted the backup "
                                 "(AbortBackup) while writers were identifying", NULL);
        }
        if (s->set)
                set_abort(s->set, -VSS_E_ABORTED, "the requester aborted the backup (AbortBackup)");
        core_leave(s->core);
        return 0;
}

/* --- the end ------------------------------------------------------------------------------- */

/* Released or its owner left: the pending call fails, the set learns, the object goes. */
void session_end(CoreSession *s, const char *why, JobBatch *batch)
{
        Core *core = s->core;
        if (s->state == CORE_SESSION_ENDED)
                return;
        bool gathering = s->state == CORE_SESSION_GATHERING;
        s->state = CORE_SESSION_ENDED;
        if (gathering)
                session_cancel_identify(s);
        if (s->busy) {
                char *msg = core_strdup_printf("session %llu ended (%s) before the call finished",
                                               (unsigned long long)s->id, why);
                session_complete(s, -VSS_E_ABORTED, msg, NULL);
                core_string_free(msg);
        }
        CoreSet *set = s->set;
        s->set = NULL;
        if (set)
                set_session_ended(set, batch);
        for (CoreSession **p = &core->sessions; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next; /* s->next stays: an iteration may stand on s */
                        break;
                }
        s->dead_next = core->dead_sessions;
        core->dead_sessions = s;
        core_notify_removed(core, CORE_OBJECT_SESSION, s);
}

int core_session_release(CoreSession *s, const char *sender, void *call,
                         struct vss_error_buf *err)
{
        Core *core = s->core;
        int r = session_check(s, sender, err);
        if (r < 0)
                return r;
        JobBatch *batch = call ? batch_new(core, call, NULL) : NULL;
        if (call && !batch)
                return core_error(err, -ENOMEM, "out of memory releasing session %llu",
                                  (unsigned long long)s->id);
        core_enter(core);
        session_end(s, "released", batch);
        batch_step(batch);
        core_leave(core);
        return 0;
}

/* --- CreateSnapshotSet ----------------------------------------------------------------------- */

static void script_note(SessionScript *sc, const char *message)
{
        if (message && message[0])
                core_notes_append(&sc->notes, message);
}

static void script_finish(CoreSession *s, int r, const char *message)
{
        SessionScript *sc = s->script;
        s->script = NULL;
        if (r >= 0) {
                script_note(sc, message);
                message = sc->notes;
        }
        core_call_complete(s->core, sc->call, r, message, r >= 0 && s->set ? s->set->id : NULL, 0);
        script_free(sc);
        if (r < 0)
                session_end(s, "CreateSnapshotSet failed", NULL);
}

/* Make the next call; its result comes back through script_result(). */
static void script_next(CoreSession *s)
{
        SessionScript *sc = s->script;
        struct vss_error_buf err = { "" };
        int r = 0;
        if (sc->step == SCRIPT_START) { /* the one step that answers at once */
                r = core_session_start_snapshot_set(s, s->owner, NULL, &err);
                if (r < 0) {
                        script_finish(s, r, err.message);
                        return;
                }
                sc->step = SCRIPT_ADD;
        }
        s->busy = true;
        switch (sc->step) {
        case SCRIPT_IDENTIFY:
                session_gather(s, NULL);
                return;
        case SCRIPT_START:
                break;
        case SCRIPT_ADD:
                r = set_add_volume(s->set, sc->volumes[sc->next], sc->provider, &err);
                break;
        case SCRIPT_PREPARE:
                r = session_components_check(s, &err);
                if (r >= 0)
                        r = set_prepare_backup(s->set, &err);
                break;
        case SCRIPT_SNAPSHOT:
                r = set_do_snapshot(s->set, &err);
                break;
        }
        if (r < 0) {
                s->busy = false;
                script_finish(s, r, err.message);
        }
}

static void script_result(CoreSession *s, int r, const char *message)
{
        SessionScript *sc = s->script;
        if (r < 0 || sc->step == SCRIPT_SNAPSHOT) {
                script_finish(s, r, message);
                return;
        }
        script_note(sc, message); /* PrepareForBackup's warnings count too */
        if (sc->step == SCRIPT_ADD && ++sc->next < sc->n_volumes) {
                script_next(s);
                return;
        }
        sc->step++;
        script_next(s);
}

static int script_check(Core *core, const char *const *volumes, size_t n,
                        const CoreCreateOptions *o, struct vss_error_buf *err)
{
        if (n == 0)
                return core_error(err, -EINVAL, "CreateSnapshotSet needs at least one volume");
        if (n > VSS_MAX_VOLUMES_PER_SET)
                return core_error(err, -VSS_E_MAX_VOLUMES, "%zu volumes given; a snapshot set "
                                  "holds at most %d", n, VSS_MAX_VOLUMES_PER_SET);
        for (size_t i = 0; i < n; i++) {
                if (!volumes[i] || !volumes[i][0])
                        return core_error(err, -EINVAL, "volume %zu is empty", i);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(volumes[i], volumes[j]) == 0)
                                return core_error(err, -VSS_E_VOLUME_IN_SET, "volume %s is "
                                                  "given twice; list each volume once",
                                                  volumes[i]);
        }
        if (o && o->provider && o->provider[0] && !core_provider_find(core, o->provider))
                return core_error(err, -ENOENT, "no provider named '%s' is loaded", o->provider);
        if (core->creating)
                return core_error(err, -VSS_E_SET_IN_PROGRESS, "snapshot set %s is being "
                                  "created; retry once it is done", core->creating->id);
        return 0;
}

static int script_new(Core *core, const char *const *volumes, size_t n,
                      const CoreCreateOptions *o, void *call,
                      SessionScript **ret)
{
        SessionScript *sc = calloc(1, sizeof(*sc));
        if (!sc || !(sc->volumes = calloc(n, sizeof(char *)))) {
                free(sc);
                return -ENOMEM;
        }
        for (; sc->n_volumes < n; sc->n_volumes++)
                if (!(sc->volumes[sc->n_volumes] = strdup(volumes[sc->n_volumes]))) {
                        script_free(sc);
                        return -ENOMEM;
                }
        sc->call = call;
        sc->provider = o && o->provider && o->provider[0] ? core_provider_find(core, o->provider)
                                                          : NULL;
        *ret = sc;
        return 0;
}

int core_create_snapshot_set(Core *core, const char *owner, const char *const *volumes,
                             size_t n_volumes, const CoreCreateOptions *options,
                             void *call, struct vss_error_buf *err)
{
        CoreCreateOptions o = options ? *options : (CoreCreateOptions){ 0 };
        int r = script_check(core, volumes, n_volumes, &o, err);
        CoreSession *s = NULL;
        SessionScript *sc;
        if (r < 0)
                return r;
        if (script_new(core, volumes, n_volumes, &o, call, &sc) < 0)
                return core_error(err, -ENOMEM, "out of memory creating a snapshot set");
        core_enter(core);
        r = session_new(&s, core, owner, err);
        if (r >= 0)
                r = core_session_set_context(s, owner, o.context, o.attributes, err);
        if (r >= 0)
                r = core_session_set_exclude_writers(s, owner, o.exclude_writers,
                                                     o.n_exclude_writers, err);
        if (r < 0) {
                script_free(sc);
                if (s)
                        session_end(s, "CreateSnapshotSet failed", NULL);
                core_leave(core);
                return r;
        }
        s->script = sc;
        script_next(s);
        core_leave(core);
        return 0;
}
