/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set.c: the state machine of one snapshot set (DESIGN.md section 4), in the
 * order a set lives it:
 *
 *   created -> collecting (AddToSnapshotSet: providers asked per volume)
 *   -> preparing-backup -> prepared (PrepareForBackup: writers PrepareBackup)
 *   -> preparing-snapshot (DoSnapshotSet: writers PrepareSnapshot, provider prepare)
 *   -> freezing (writers Freeze, front-end, then back-end, then system)
 *   -> committing (provider hold, commit, release: the bounded hold window, one
 *      job of window.c; then each provider's finish, writers still frozen)
 *   -> thawing (writers Thaw) -> post-snapshot (writers PostSnapshot)
 *   -> ready (snapshots exist) -> completing-backup -> backup-complete
 *   aborting -> aborted, from any state: every writer gets Abort (which thaws a
 *   frozen one) and every provider that prepared anything gets abort.
 *
 * Who takes part and how their answers count is set-writers.c's.
 *
 * Sets a provider reports that the core does not know (made by an earlier
 * vssd) are adopted by reconcile.c: they start ready, without a session.
 *
 * VSS rules: a Freeze or Thaw failure (or timeout, or the writer leaving) aborts
 * the set. So does a PrepareBackup or PrepareSnapshot failure of a writer with
 * a component selected in the set (with AddComponent, or implicitly: see
 * session.c), before anything is frozen: a writer that vetoes there (the
 * MariaDB writer's BACKUP STAGE stuck behind a long statement) would get no
 * Freeze, and its files would be snapshotted without its consistency. Other
 * PrepareBackup and PrepareSnapshot failures, and PostSnapshot and
 * BackupComplete ones, are recorded on the writer, reported with the call's
 * result, and the writer gets no further events of the set.
 *
 * Writers act in parallel within a phase; providers one after the other, in
 * the core's order (priority: see plugins.h), hold all before any commit, so
 * that the point in time is common to every volume. A provider that cannot
 * snapshot inside the window does it in finish() and says so in prepare():
 * the set's Atomicity is the weakest its providers report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/fault.h"
#include "daemon/core/internal.h"

struct SetProvider {
        CoreProvider *p;
        bool prepared; /* prepare started: an abort has something to undo */
};

static void set_job_done(CoreJob *job);
static void set_hold_timeout(CoreTimer *t);

/* --- lifetime ------------------------------------------------------------------------ */

/* A set in STATE with ID (NULL: a new one), listed in the core after the others. */
static CoreSet *set_alloc(Core *core, const char *id, uint32_t attributes,
                          enum core_set_state state)
{
        CoreSet *set = calloc(1, sizeof(*set));
        if (!set)
                return NULL;
        if (id)
                snprintf(set->id, sizeof(set->id), "%s", id);
        else
                core_uuid_new(set->id);
        set->core = core;
        set->attributes = attributes;
        set->state = state;
        core_timer_init(&set->hold_timer, set_hold_timeout, set);
        CoreSet **tail = &core->sets;
        while (*tail)
                tail = &(*tail)->next;
        *tail = set;
        return set;
}

int set_new(CoreSet **ret, CoreSession *session, struct vss_error_buf *err)
{
        Core *core = session->core;
        CoreSet *set = set_alloc(core, NULL, session->attributes, CORE_SET_CREATED);
        if (!set)
                return core_error(err, -ENOMEM, "out of memory starting a snapshot set");
        set->session = session;
        core->creating = set; /* VSS: one set is created at a time */
        core_notify_added(core, CORE_OBJECT_SET, set);
        *ret = set;
        return 0;
}

/* Adopted sets have no session and take no creation lock: they were made long ago. */
int set_adopt(CoreSet **ret, Core *core, const char *id, uint32_t attributes)
{
        CoreSet *set = set_alloc(core, id, attributes, CORE_SET_READY);
        if (!set)
                return -ENOMEM;
        set->hidden = true;
        *ret = set;
        return 0;
}

/* One more volume: VOLUME (taken on success) by P; NULL for out of memory. */
static CoreVolume *set_volume_push(CoreSet *set, char *volume, CoreProvider *p)
{
        CoreVolume *v = realloc(set->volumes, (set->n_volumes + 1) * sizeof(*v));
        if (!v)
                return NULL;
        set->volumes = v;
        v = &set->volumes[set->n_volumes++];
        *v = (CoreVolume){ .volume = volume, .provider = p };
        return v;
}

int set_adopt_volume(CoreSet *set, const char *volume, const char *snapshot_id,
                     CoreProvider *p)
{
        char *copy = strdup(volume);
        CoreVolume *v = copy ? set_volume_push(set, copy, p) : NULL;
        if (!v) {
                free(copy);
                return -ENOMEM;
        }
        snprintf(v->snapshot_id, sizeof(v->snapshot_id), "%s", snapshot_id);
        if (!set->hidden)
                core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_VOLUMES);
        return 0;
}

bool set_announce(CoreSet *set)
{
        if (!set->hidden)
                return false;
        set->hidden = false;
        core_notify_added(set->core, CORE_OBJECT_SET, set);
        return true;
}

CoreSet *set_free(CoreSet *set)
{
        if (!set)
                return NULL;
        Core *core = set->core;
        core_timer_cancel(core, &set->hold_timer);
        for (size_t i = 0; i < set->n_writers; i++) {
                core_timer_cancel(core, &set->writers[i].freeze_timer);
                writer_cancel(set->writers[i].w, set, NULL);
                writer_unref(set->writers[i].w);
        }
        while (set->snapshots)
                snapshot_free(set->snapshots);
        while (set->unpublished)
                snapshot_free(set->unpublished);
        core_job_orphan(set->job);
        core_job_free(set->window_job);
        core_job_free(set->watchdog_job);
        if (core->creating == set)
                core->creating = NULL;
        for (size_t i = 0; i < set->n_volumes; i++)
                free(set->volumes[i].volume);
        free(set->volumes);
        free(set->writers);
        free(set->providers);
        free(set->adding);
        core_string_free(set->adding_reasons);
        core_string_free(set->error_message);
        core_string_free(set->notes);
        free(set);
        return NULL;
}

/* Gone from the bus now, freed by the outermost core_leave(). */
void set_maybe_free(CoreSet *set)
{
        Core *core = set->core;
        if (set->dead || set->session || set->snapshots || set->job ||
            set->state == CORE_SET_ABORTING)
                return;
        for (CoreSet **p = &core->sets; *p; p = &(*p)->next)
                if (*p == set) {
                        *p = set->next; /* set->next stays: an iteration may stand on set */
                        break;
                }
        set->dead = true;
        set->dead_next = core->dead_sets;
        core->dead_sets = set;
        if (!set->hidden)
                core_notify_removed(core, CORE_OBJECT_SET, set);
}

static void set_state(CoreSet *set, enum core_set_state state)
{
        if (set->state == state)
                return;
        set->state = state;
        core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_STATE);
}

bool set_is_auto_release(const CoreSet *set)
{
        return core_attributes_auto_release(set->attributes);
}

bool set_is_snapshotting(const CoreSet *set)
{
        return set->state >= CORE_SET_PREPARING_SNAPSHOT && set->state <= CORE_SET_THAWING;
}

bool set_is_over(const CoreSet *set)
{
        return set->dead || set->state == CORE_SET_ABORTING || set->state == CORE_SET_ABORTED;
}

/* The caller's asynchronous call ended; non-fatal writer failures go with it. */
static void set_call_done(CoreSet *set, int r, const char *message, const char *id)
{
        session_set_call_complete(set->session, r, message, id);
}

static void set_notes_reset(CoreSet *set)
{
        set->notes = core_string_free(set->notes);
}

/* --- collecting volumes ----------------------------------------------------------------- */

bool set_has_volume(const CoreSet *set, const char *volume)
{
        if (set->adding && strcmp(set->adding, volume) == 0)
                return true;
        for (size_t i = 0; i < set->n_volumes; i++)
                if (strcmp(set->volumes[i].volume, volume) == 0)
                        return true;
        return false;
}

static void set_add_finish(CoreSet *set, int r, const char *message, const char *id);

static void set_check_next(CoreSet *set)
{
        CoreJob *job;
        int r = core_job_new(&job, set->core, CORE_JOB_IS_VOLUME_SUPPORTED, set->adding_next,
                             set->adding, set_job_done, set);
        if (r < 0) {
                set_add_finish(set, r, "out of memory asking the providers about the volume", NULL);
                return;
        }
        set->job = job;
        core_job_start(job);
}

int set_add_volume(CoreSet *set, const char *volume, CoreProvider *only,
                   struct vss_error_buf *err)
{
        if (set->state != CORE_SET_CREATED && set->state != CORE_SET_COLLECTING)
                return core_error(err, -VSS_E_BAD_STATE, "volumes can only be added before "
                                  "PrepareForBackup; snapshot set %s is %s", set->id,
                                  core_set_state_to_string(set->state));
        if (set->n_volumes + (set->adding ? 1 : 0) >= VSS_MAX_VOLUMES_PER_SET)
                return core_error(err, -VSS_E_MAX_VOLUMES, "snapshot set %s already holds %d "
                                  "volumes, the maximum; %s was not added; use a second set",
                                  set->id, VSS_MAX_VOLUMES_PER_SET, volume);
        if (set_has_volume(set, volume))
                return core_error(err, -VSS_E_VOLUME_IN_SET, "volume %s is already in snapshot "
                                  "set %s; add each volume once", volume, set->id);
        if (!set->core->providers)
                return core_error(err, -VSS_E_VOLUME_NOT_SUPPORTED, "no provider is loaded, so "
                                  "%s cannot be snapshotted; check ProviderDirectory", volume);
        if (!(set->adding = strdup(volume)))
                return core_error(err, -ENOMEM, "out of memory adding %s", volume);
        set->adding_only = only;
        set->adding_next = only ? only : set->core->providers;
        set->adding_error = 0;
        set->adding_reasons = core_string_free(set->adding_reasons);
        set_check_next(set);
        return 0;
}

/* Clean up first: the reply may bring the next AddToSnapshotSet (CreateSnapshotSet). */
static void set_add_finish(CoreSet *set, int r, const char *message, const char *id)
{
        free(set->adding);
        set->adding = NULL;
        set->adding_reasons = core_string_free(set->adding_reasons);
        set_call_done(set, r, message, id);
}

static void set_volume_accept(CoreSet *set, CoreProvider *p)
{
        CoreVolume *v = set_volume_push(set, set->adding, p);
        if (!v) {
                set_add_finish(set, -ENOMEM, "out of memory adding the volume", NULL);
                return;
        }
        core_uuid_new(v->snapshot_id);
        set->adding = NULL;
        set_state(set, CORE_SET_COLLECTING);
        core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_VOLUMES);
        char id[CORE_UUID_LEN + 1];
        memcpy(id, v->snapshot_id, sizeof(id)); /* the next add may move the array */
        set_add_finish(set, 0, NULL, id);
}

/* One provider answered whether it can snapshot the volume; else ask the next one. */
static void set_check_done(CoreSet *set, CoreJob *job)
{
        CoreProvider *p = set->adding_next;
        if (job->r == 1) {
                set_volume_accept(set, p);
                return;
        }
        char *why = core_strdup_printf("%s: %s", p->vp->name, job->err.message[0] ?
                                       job->err.message : vss_strerror(job->r));
        core_notes_append(&set->adding_reasons, why);
        core_string_free(why);
        /* A clear "no" outweighs errors; else the first error is the answer. */
        if (job->r >= 0)
                set->adding_error = 1;
        else if (!set->adding_error)
                set->adding_error = job->r;
        set->adding_next = set->adding_only ? NULL : p->next;
        if (set->adding_next) {
                set_check_next(set);
                return;
        }
        char *msg = core_strdup_printf("no provider can snapshot %s: %s", set->adding,
                                       set->adding_reasons);
        set_add_finish(set, set->adding_error < 0 ? set->adding_error
                                                  : -VSS_E_VOLUME_NOT_SUPPORTED, msg, NULL);
        core_string_free(msg);
}

/* --- PrepareForBackup ------------------------------------------------------------------- */

int set_prepare_backup(CoreSet *set, struct vss_error_buf *err)
{
        if (set->state != CORE_SET_COLLECTING)
                return core_error(err, -VSS_E_BAD_STATE, "PrepareForBackup needs a snapshot set "
                                  "with volumes; set %s is %s%s", set->id,
                                  core_set_state_to_string(set->state),
                                  set->state == CORE_SET_CREATED ? ": call AddToSnapshotSet" : "");
        set_notes_reset(set);
        if (!(set->attributes & VSS_ATTR_NO_WRITERS) && set_enlist_writers(set) < 0)
                return core_error(err, -ENOMEM, "out of memory enlisting writers");
        set_state(set, CORE_SET_PREPARING_BACKUP);
        set_send(set, CORE_EVENT_PREPARE_BACKUP);
        return 0;
}

/* --- DoSnapshotSet: providers ------------------------------------------------------------- */

static bool set_uses_provider(const CoreSet *set, const CoreProvider *p)
{
        for (size_t i = 0; i < set->n_volumes; i++)
                if (set->volumes[i].provider == p)
                        return true;
        return false;
}

/* The distinct providers of the volumes, in the core's order: prepare, window, finish go so. */
static int set_providers_collect(CoreSet *set)
{
        set->providers = calloc(set->n_volumes, sizeof(*set->providers));
        if (!set->providers)
                return -ENOMEM;
        for (CoreProvider *p = set->core->providers; p; p = p->next)
                if (set_uses_provider(set, p))
                        set->providers[set->n_providers++].p = p;
        return 0;
}

/* The volumes of SET that provider P snapshots, as prepare() takes them. */
static int set_request_fill(CoreSet *set, CoreProvider *p, CoreJob *job)
{
        struct vss_volume_request *v = calloc(set->n_volumes, sizeof(*v));
        if (!v)
                return -ENOMEM;
        job->request = (struct vss_set_request){ .set_id = job->target,
                                                 .attributes = set->attributes, .volumes = v };
        for (size_t i = 0; i < set->n_volumes; i++) {
                if (set->volumes[i].provider != p)
                        continue;
                struct vss_volume_request *req = &v[job->request.n_volumes++];
                req->volume = strdup(set->volumes[i].volume);
                req->snapshot_id = strdup(set->volumes[i].snapshot_id);
                if (!req->volume || !req->snapshot_id)
                        return -ENOMEM; /* the job frees what was copied */
        }
        return 0;
}

/* Prepare on the provider at set->step. */
static void set_prepare_start(CoreSet *set)
{
        SetProvider *sp = &set->providers[set->step];
        CoreJob *job;
        int r = core_job_new(&job, set->core, CORE_JOB_PREPARE, sp->p, set->id, set_job_done,
                             set);
        if (r >= 0 && (r = set_request_fill(set, sp->p, job)) < 0)
                core_job_free(job);
        if (r < 0) {
                set_abort(set, r, "out of memory starting a provider operation");
                return;
        }
        sp->prepared = true;
        set->job = job;
        core_job_start(job);
}

/*
 * The hold window's job and its watchdog's, sharing one HoldWindow: allocated
 * here, long before the window opens, as nothing may be allocated inside it.
 */
static int set_window_new(CoreSet *set)
{
        HoldWindow *w = window_new(set->n_providers);
        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < set->n_providers; i++)
                window_set_provider(w, i, set->providers[i].p);
        CoreProvider *first = set->providers[0].p;
        int r = core_job_new(&set->window_job, set->core, CORE_JOB_WINDOW, first, set->id,
                             set_job_done, set);
        if (r >= 0) {
                set->window_job->window = window_ref(w);
                r = core_job_new(&set->watchdog_job, set->core, CORE_JOB_WATCHDOG_RELEASE, first,
                                 set->id, NULL, NULL);
        }
        if (r >= 0)
                set->watchdog_job->window = window_ref(w);
        window_unref(w);
        return r;
}

/* Undo what set_do_snapshot() allocated. */
static void set_snapshot_alloc_undo(CoreSet *set)
{
        while (set->unpublished)
                snapshot_free(set->unpublished);
        set->window_job = core_job_free(set->window_job);
        set->watchdog_job = core_job_free(set->watchdog_job);
        free(set->providers);
        set->providers = NULL;
        set->n_providers = 0;
}

/* --- DoSnapshotSet: the phases ---------------------------------------------------------- */

int set_do_snapshot(CoreSet *set, struct vss_error_buf *err)
{
        if (set->state != CORE_SET_PREPARED)
                return core_error(err, -VSS_E_BAD_STATE, "DoSnapshotSet needs a prepared "
                                  "snapshot set; set %s is %s%s", set->id,
                                  core_set_state_to_string(set->state),
                                  set->state < CORE_SET_PREPARED ? ": call PrepareForBackup" : "");
        /* Everything the window and the snapshots need is allocated now, none of it later. */
        int r = set_providers_collect(set);
        for (size_t i = 0; r >= 0 && i < set->n_volumes; i++)
                r = snapshot_new(NULL, set, &set->volumes[i]);
        if (r >= 0)
                r = set_window_new(set);
        if (r < 0) {
                set_snapshot_alloc_undo(set);
                return core_error(err, r, "out of memory preparing snapshot set %s", set->id);
        }
        set_notes_reset(set);
        set_state(set, CORE_SET_PREPARING_SNAPSHOT);
        set_send(set, CORE_EVENT_PREPARE_SNAPSHOT);
        return 0;
}

/*
 * All writers frozen: the hold window opens, bounded by the guard thread from
 * its first hold and by the hold timer here; one job runs it.
 */
static void set_window_open(CoreSet *set)
{
        set_state(set, CORE_SET_COMMITTING);
        core_timer_arm(set->core, &set->hold_timer,
                       core_now(set->core) + set->core->config.hold_timeout_ms);
        set->job = set->window_job;
        set->window_job = NULL;
        window_guard(set->job, set->core);
        core_job_start(set->job);
        VSS_FAULT("window-open");
}

/* Front-end writers all freeze before any back-end one, back-end before system. */
static void set_freeze_next_level(CoreSet *set)
{
        while (++set->level <= VSS_LEVEL_SYSTEM)
                for (size_t i = 0; i < set->n_writers; i++)
                        if (set_writer_eligible(&set->writers[i], CORE_EVENT_FREEZE, set->level)) {
                                set_send(set, CORE_EVENT_FREEZE);
                                return;
                        }
        set_window_open(set);
}

/* The fault point after every writer of LEVEL answered Freeze (common/fault.h). */
static void set_fault_after_freeze(int level)
{
        static const char *const points[] = {
                [VSS_LEVEL_FRONT_END] = "after-freeze-front-end",
                [VSS_LEVEL_BACK_END] = "after-freeze-back-end",
                [VSS_LEVEL_SYSTEM] = "after-freeze-system",
        };
        if (level >= 0 && level <= VSS_LEVEL_SYSTEM)
                VSS_FAULT(points[level]);
}

static void set_ready(CoreSet *set)
{
        while (set->unpublished)
                snapshot_publish(set->unpublished, set->commit_usec);
        set_state(set, CORE_SET_READY);
        if (set->core->creating == set)
                set->core->creating = NULL;
        set_call_done(set, 0, set->notes, NULL);
}

void set_phase_done(CoreSet *set)
{
        switch (set->state) {
        case CORE_SET_PREPARING_BACKUP:
                set_state(set, CORE_SET_PREPARED);
                set_call_done(set, 0, set->notes, NULL);
                break;
        case CORE_SET_PREPARING_SNAPSHOT:
                set->step = 0;
                set_prepare_start(set);
                break;
        case CORE_SET_FREEZING:
                set_fault_after_freeze(set->level);
                set_freeze_next_level(set);
                break;
        case CORE_SET_THAWING:
                set_state(set, CORE_SET_POST_SNAPSHOT);
                set_send(set, CORE_EVENT_POST_SNAPSHOT);
                break;
        case CORE_SET_POST_SNAPSHOT:
                set_ready(set);
                break;
        case CORE_SET_COMPLETING_BACKUP:
                set_state(set, CORE_SET_BACKUP_COMPLETE);
                set_call_done(set, 0, set->notes, NULL);
                break;
        default:
                break;
        }
}

/* The devices prepare() says the snapshots will be: known before the set is shown. */
static void set_devices_take(CoreSet *set, const CoreJob *job)
{
        for (size_t i = 0; i < job->request.n_volumes; i++) {
                const struct vss_volume_request *v = &job->request.volumes[i];
                for (CoreSnapshot *snap = set->unpublished; snap; snap = snap->next)
                        if (strcmp(snap->id, v->snapshot_id) == 0)
                                snprintf(snap->device, sizeof(snap->device), "%.*s",
                                         (int)sizeof(v->device), v->device);
        }
}

/* What one provider's prepare() says of the point in time; the set keeps the weakest. */
static void set_atomicity_take(CoreSet *set, const CoreJob *job)
{
        enum vss_set_atomicity a = job->request.atomicity;
        if ((unsigned)a > VSS_ATOMICITY_WRITERS_ONLY)
                a = VSS_ATOMICITY_WRITERS_ONLY; /* a value this vssd does not know: assume less */
        if (a > set->atomicity)
                set->atomicity = a;
}

/* One provider prepared; the next one, or the writers freeze. */
static void set_prepare_done(CoreSet *set, const CoreJob *job)
{
        set_devices_take(set, job);
        set_atomicity_take(set, job);
        if (++set->step < set->n_providers) {
                set_prepare_start(set);
                return;
        }
        set->atomicity_known = true;
        core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_ATOMICITY);
        VSS_FAULT("after-prepare");
        set->level = -1;
        set_state(set, CORE_SET_FREEZING);
        set_freeze_next_level(set);
}

static void set_thaw(CoreSet *set)
{
        set_state(set, CORE_SET_THAWING);
        set_send(set, CORE_EVENT_THAW);
        VSS_FAULT("during-thaw");
}

/*
 * The finish of the provider at set->step, or of the next one that has the
 * op; once none is left, the writers thaw. Their freeze timers still run: a
 * finish that takes longer than a writer may stay frozen fails the set.
 */
static void set_finish_next(CoreSet *set)
{
        for (; set->step < set->n_providers; set->step++) {
                CoreProvider *p = set->providers[set->step].p;
                CoreJob *job;
                if (!p->vp->ops->finish)
                        continue;
                if (core_job_new(&job, set->core, CORE_JOB_FINISH, p, set->id, set_job_done,
                                 set) < 0) {
                        set_abort(set, -ENOMEM, "out of memory starting a provider operation");
                        return;
                }
                set->job = job;
                core_job_start(job);
                return;
        }
        set_thaw(set);
}

static void set_finish_done(CoreSet *set)
{
        core_log(set->core, LOG_INFO, "provider '%s' finished snapshot set %s",
                 set->providers[set->step].p->vp->name, set->id);
        set->step++;
        set_finish_next(set);
}

/* The window job came back whole: every volume was held, snapshotted and released. */
static void set_window_closed(CoreSet *set, CoreJob *job)
{
        set->commit_usec = core_realtime_usec(set->core);
        set->hold_window_usec = window_open_usec(job);
        core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_HOLD_WINDOW);
        set->step = 0;
        set_finish_next(set);
}

/* Prepare, the window or a finish failed: the set aborts, naming the provider and its op. */
static void set_provider_failed(CoreSet *set, CoreJob *job)
{
        const char *op = core_job_op_to_string(job->op);
        size_t i = job->op == CORE_JOB_WINDOW ? window_failure(job, &op) : set->step;
        char *msg = core_strdup_printf("provider '%s' failed to %s snapshot set %s: %s",
                                       set->providers[i].p->vp->name, op, set->id,
                                       job->err.message[0] ? job->err.message
                                                           : vss_strerror(job->r));
        if (job->op == CORE_JOB_FINISH) /* after the window: the volumes were snapshotted */
                core_log(set->core, LOG_ERR, "%s; aborting the set", msg);
        set_abort(set, -VSS_E_PROVIDER_FAILED, msg);
        core_string_free(msg);
}

static void set_abort_job_done(CoreSet *set, CoreJob *job);
static void set_window_back(CoreSet *set, CoreJob *window);

static void set_job_done(CoreJob *job)
{
        CoreSet *set = job->owner;
        if (job->op == CORE_JOB_WINDOW)
                set_window_back(set, job); /* while set->job is it: an abort waits for it */
        set->job = NULL;
        if (job->op == CORE_JOB_IS_VOLUME_SUPPORTED) {
                set_check_done(set, job);
                return;
        }
        if (job->op == CORE_JOB_WINDOW) { /* closed, however it went: bound and watchdog moot */
                core_timer_cancel(set->core, &set->hold_timer);
                set->watchdog_job = core_job_free(set->watchdog_job);
        }
        if (set->state == CORE_SET_ABORTING)
                set_abort_job_done(set, job);
        else if (job->r < 0)
                set_provider_failed(set, job);
        else if (job->op == CORE_JOB_WINDOW)
                set_window_closed(set, job);
        else if (job->op == CORE_JOB_FINISH)
                set_finish_done(set);
        else
                set_prepare_done(set, job);
}

/*
 * The hold window passed its bound: cancel it; a window the guard thread
 * watches is released by the guard on its own clock, any other one by the
 * env's watchdog now, before anything else (the volumes are still
 * suspended). Then the set fails.
 */
static void set_hold_bound_passed(CoreSet *set, CoreJob *window)
{
        Core *core = set->core;
        bool guarded = window_guarded(window);
        core_timer_cancel(core, &set->hold_timer);
        window_cancel(window);
        if (!guarded)
                core_job_watchdog(core, set->watchdog_job);
        else
                core_job_free(set->watchdog_job);
        set->watchdog_job = NULL;
        const char *op;
        size_t i = window_progress(window, &op);
        char *msg = core_strdup_printf("the volumes of snapshot set %s stayed suspended past the "
                                       "hold-window bound of %u ms (provider '%s' was still in "
                                       "%s); the provider was told to release them; check the "
                                       "provider or raise HoldTimeoutMs", set->id,
                                       core->config.hold_timeout_ms,
                                       set->providers[i].p->vp->name, op);
        if (guarded)
                core_log(core, LOG_WARNING, "hold window of snapshot set %s past its bound: "
                         "released by the guard thread", set->id);
        if (set->state == CORE_SET_ABORTING)
                core_notes_append(&set->error_message, msg);
        else
                set_abort(set, -VSS_E_HOLD_TIMEOUT, msg);
        core_string_free(msg);
}

static void set_hold_timeout(CoreTimer *t)
{
        CoreSet *set = t->data;
        CoreJob *window = set->job; /* armed only while the window job is out */
        /* Only this loop was late (stuck): the guard saw the window end within its bound. */
        if (window_closed_in_time(window))
                return;
        set_hold_bound_passed(set, window);
}

/*
 * The window job is back. If the guard cut it short while this loop could
 * not see the bound pass (it was stuck), the set fails now as the timer would
 * have failed it; a release the guard could not do is added to the message.
 */
static void set_window_back(CoreSet *set, CoreJob *window)
{
        if (window_expired(window) && set->hold_timer.armed)
                set_hold_bound_passed(set, window);
        const char *failed = window_expire_error(window);
        if (failed) {
                char *msg = core_strdup_printf("releasing them failed: %s; run Recover", failed);
                core_notes_append(&set->error_message, msg);
                core_string_free(msg);
        }
}

/* --- BackupComplete ------------------------------------------------------------------------ */

int set_backup_complete(CoreSet *set, struct vss_error_buf *err)
{
        if (set->state != CORE_SET_READY)
                return core_error(err, -VSS_E_BAD_STATE, "BackupComplete needs a snapshot set "
                                  "whose snapshots exist; set %s is %s", set->id,
                                  core_set_state_to_string(set->state));
        set_notes_reset(set);
        set_state(set, CORE_SET_COMPLETING_BACKUP);
        set_send(set, CORE_EVENT_BACKUP_COMPLETE);
        return 0;
}

/* --- abort ----------------------------------------------------------------------------------- */

/* Abort before cancelling: the writer must not see a queued event of another set first. */
static void set_abort_writers(CoreSet *set)
{
        bool tell = set->abort_from < CORE_SET_BACKUP_COMPLETE;
        for (size_t i = 0; i < set->n_writers; i++) {
                SetWriter *p = &set->writers[i];
                core_timer_cancel(set->core, &p->freeze_timer);
                if (tell)
                        writer_notify(p->w, CORE_EVENT_ABORT, set);
                writer_cancel(p->w, set, NULL);
                p->waiting = false;
                p->frozen = false;
                if (tell && !p->failed)
                        writer_set_state(p->w, VSS_WS_STABLE);
        }
}

static bool set_provider_needs_abort(const CoreSet *set, const SetProvider *sp)
{
        if (!sp->prepared)
                return false;
        if (set->abort_from < CORE_SET_READY)
                return true; /* creation unfinished: undo all of it */
        return set_is_auto_release(set); /* made: only auto-release snapshots go */
}

static void set_abort_finish(CoreSet *set)
{
        set->window_job = core_job_free(set->window_job); /* never opened */
        set->watchdog_job = core_job_free(set->watchdog_job);
        bool gone = set->abort_from >= CORE_SET_READY && set_is_auto_release(set) &&
                    !set->abort_failed;
        for (CoreSnapshot *snap = set->snapshots, *next; snap; snap = next) {
                next = snap->next;
                if (gone)
                        snapshot_free(snap);
                else
                        snap->deleting = snapshot_delete_pending(snap);
        }
        while (set->unpublished)
                snapshot_free(set->unpublished);
        set_state(set, CORE_SET_ABORTED);
        if (set->core->creating == set)
                set->core->creating = NULL;
        set_call_done(set, set->error, set->error_message, NULL);
        set_maybe_free(set);
}

static void set_abort_next(CoreSet *set)
{
        for (; set->step < set->n_providers; set->step++) {
                SetProvider *sp = &set->providers[set->step];
                CoreJob *job;
                if (!set_provider_needs_abort(set, sp))
                        continue;
                sp->prepared = false;
                if (core_job_new(&job, set->core, CORE_JOB_ABORT, sp->p, set->id, set_job_done,
                                 set) < 0) {
                        set->abort_failed = true;
                        continue;
                }
                set->job = job;
                core_job_start(job);
                return;
        }
        set_abort_finish(set);
}

static void set_abort_providers(CoreSet *set)
{
        set->step = 0;
        set_abort_next(set);
}

static void set_abort_job_done(CoreSet *set, CoreJob *job)
{
        if (job->op != CORE_JOB_ABORT) {
                /* The op that was running when the abort came is over: now undo. */
                set_abort_providers(set);
                return;
        }
        if (job->r < 0) {
                set->abort_failed = true;
                char *msg = core_strdup_printf("provider '%s' could not undo it: %s; run "
                                               "Recover", set->providers[set->step].p->vp->name,
                                               job->err.message[0] ? job->err.message
                                                                   : vss_strerror(job->r));
                core_notes_append(&set->error_message, msg);
                core_string_free(msg);
        }
        set->step++;
        set_abort_next(set);
}

/*
 * Abort from whatever state the set is in: writers get Abort (a frozen one
 * thaws), a provider op in flight finishes first (a hold window is cut short:
 * no more holds or commits, only releases), then every provider that prepared
 * anything aborts. The pending call gets R and MESSAGE at the end.
 */
void set_abort(CoreSet *set, int r, const char *message)
{
        if (set_is_over(set))
                return;
        set->abort_from = set->state;
        set->error = r;
        core_string_free(set->error_message);
        set->error_message = core_strdup_printf("%s", message);
        set_state(set, CORE_SET_ABORTING);
        core_notify_changed(set->core, CORE_OBJECT_SET, set, CORE_PROP_ERROR);
        set_abort_writers(set);
        if (set->abort_from >= CORE_SET_READY && set_is_auto_release(set))
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        snap->deleting = true;
        if (set->job && set->job->op == CORE_JOB_WINDOW)
                window_cancel(set->job); /* the set is lost: suspend no longer than needed */
        if (set->job && set->job->op == CORE_JOB_IS_VOLUME_SUPPORTED) {
                /* Asking changes nothing: no need to wait for the answer. */
                core_job_orphan(set->job);
                set->job = NULL;
                free(set->adding);
                set->adding = NULL;
        }
        if (!set->job)
                set_abort_providers(set);
}

/* --- the end of the session ----------------------------------------------------------------- */

/*
 * Its session was released or its owner left: a set being created aborts; a
 * made one tells its writers the backup is over and, unless persistent or
 * no-auto-release, loses its snapshots (VSS auto-release).
 */
void set_session_ended(CoreSet *set, JobBatch *batch)
{
        set->session = NULL;
        if (set->state >= CORE_SET_READY && set->state <= CORE_SET_BACKUP_COMPLETE) {
                for (size_t i = 0; i < set->n_writers; i++) {
                        SetWriter *p = &set->writers[i];
                        writer_notify(p->w, CORE_EVENT_BACKUP_SHUTDOWN, set);
                        writer_cancel(p->w, set, NULL);
                        p->waiting = false;
                        if (!p->failed)
                                writer_set_state(p->w, VSS_WS_STABLE);
                }
                if (set_is_auto_release(set))
                        snapshots_release(set, batch);
        } else if (!set_is_over(set)) {
                set_abort(set, -VSS_E_ABORTED, "the requester's session ended (released, or "
                          "its owner left the bus) before the snapshot set was made");
        }
        set_maybe_free(set);
}
