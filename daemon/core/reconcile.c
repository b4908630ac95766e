/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reconcile.c: keeping the core's snapshots in step with what the providers
 * have: at startup (recover, then query, per provider) and, while snapshots
 * exist, every monitor_interval_ms (monitor(), or query() without it).
 *
 * A report (every snapshot one provider has) is reconciled with the rules:
 *   - reported and shown: its state, copy-on-write figures and exposed path
 *     follow the report (unless an op of its own runs: its completion says);
 *     turning invalid is logged as a warning;
 *   - reported and unknown: adopted, grouped by set id into sets without a
 *     session (ready), unless it belongs to a set being made here (that set's
 *     own machinery owns it). An adopted snapshot that is neither persistent
 *     nor no-auto-release belonged to a session of an earlier vssd, which is
 *     gone: it is deleted (VSS auto-release), with a notice;
 *   - shown and not reported: gone (a merge finished, or someone removed it),
 *     so the object goes, but only if it was published before the job was
 *     queued and no op runs on it. Jobs run one at a time in queue order, so a
 *     report describes the provider after every job queued before it: a set
 *     whose window job came first can publish its snapshots while the report
 *     is on its way, without them in it. Publication numbers (snap->seq
 *     against job->seq) tell those apart.
 *
 * Monitoring skips a tick while a set is between DoSnapshotSet's prepare and
 * its thaw: a monitor job queued then would wait on the provider thread ahead
 * of the set's hold window, and the writers, frozen by then, would stay
 * frozen for as long as monitor() takes (it may grow a copy-on-write store).
 * A tick is also skipped while the previous tick's jobs are still out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/core/internal.h"

struct SnapshotReport {
        struct vss_snapshot_info *infos; /* their strings are owned */
        size_t n, allocated;
};

/* --- reports (provider thread) ------------------------------------------------------------ */

static void report_info_free(struct vss_snapshot_info *c)
{
        free((char *)c->id);
        free((char *)c->set_id);
        free((char *)c->origin);
        free((char *)c->device);
        free((char *)c->exposed_path);
}

SnapshotReport *report_free(SnapshotReport *rep)
{
        if (!rep)
                return NULL;
        for (size_t i = 0; i < rep->n; i++)
                report_info_free(&rep->infos[i]);
        free(rep->infos);
        free(rep);
        return NULL;
}

/* The provider's strings live during the callback only: copy them. */
static int report_add(const struct vss_snapshot_info *info, void *userdata)
{
        SnapshotReport *rep = userdata;
        if (rep->n == rep->allocated) {
                size_t allocated = rep->allocated ? rep->allocated * 2 : 16;
                void *infos = realloc(rep->infos, allocated * sizeof(*rep->infos));
                if (!infos)
                        return -ENOMEM;
                rep->infos = infos;
                rep->allocated = allocated;
        }
        struct vss_snapshot_info *c = &rep->infos[rep->n];
        *c = *info;
        c->id = strdup(info->id ? info->id : "");
        c->set_id = strdup(info->set_id ? info->set_id : "");
        c->origin = strdup(info->origin ? info->origin : "");
        c->device = strdup(info->device ? info->device : "");
        c->exposed_path = strdup(info->exposed_path ? info->exposed_path : "");
        if (!c->id || !c->set_id || !c->origin || !c->device || !c->exposed_path) {
                report_info_free(c);
                return -ENOMEM;
        }
        rep->n++;
        return 0;
}

int report_execute(CoreJob *job)
{
        const struct vss_provider_ops *ops = job->provider->ops;
        int (*list)(void *, vss_snapshot_cb, void *, struct vss_error_buf *) =
                job->op == CORE_JOB_MONITOR && ops->monitor ? ops->monitor : ops->query;
        if (!list)
                return -EOPNOTSUPP;
        if (!(job->report = calloc(1, sizeof(*job->report))))
                return -ENOMEM;
        int r = list(job->provider_state, report_add, job->report, &job->err);
        if (r == -ENOMEM && !job->err.message[0])
                core_error(&job->err, r, "out of memory copying what provider '%s' reported",
                           job->provider->name);
        return r;
}

/* --- one report, on the main thread ---------------------------------------------------------- */

/* Ids become object paths: only the lowercase UUIDs the core makes are taken. */
static bool id_valid(const char *s)
{
        if (strlen(s) != CORE_UUID_LEN)
                return false;
        for (size_t i = 0; i < CORE_UUID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
                        return false;
        }
        return true;
}

/* Is the set of an unknown snapshot made (not one being made here)? */
static bool set_is_made(const CoreSet *set)
{
        return !set->dead && set->state >= CORE_SET_READY &&
               set->state <= CORE_SET_BACKUP_COMPLETE;
}

static void reconcile_update(CoreSnapshot *snap, const struct vss_snapshot_info *info)
{
        Core *core = snap->set->core;
        if (snap->job || snap->deleting)
                return; /* the op's completion says what became of it */
        if (info->state == VSS_SNAPSHOT_INVALID && snap->state != VSS_SNAPSHOT_INVALID)
                core_log(core, LOG_WARNING, "snapshot %s of %s is invalid now (provider %s: %llu "
                         "of %llu bytes of its copy-on-write store used): its content is lost; "
                         "delete it, and give the next snapshots of %s a larger store", snap->id,
                         snap->origin, snap->provider->vp->name,
                         (unsigned long long)info->cow_used_bytes,
                         (unsigned long long)info->cow_size_bytes, snap->origin);
        snapshot_set_state(snap, info->state);
        snapshot_set_cow(snap, info->cow_used_bytes, info->cow_size_bytes);
        if (strcmp(info->exposed_path, snap->exposed_path) == 0)
                return;
        char *path = info->exposed_path[0] ? strdup(info->exposed_path) : NULL;
        if (!info->exposed_path[0] || path) /* out of memory: the next report tries again */
                snapshot_set_exposed(snap, path);
}

static void reconcile_adopt(Core *core, CoreProvider *p, const struct vss_snapshot_info *info)
{
        CoreSet *set = core_set_find(core, info->set_id);
        CoreSnapshot *snap;
        int r = set ? 0 : set_adopt(&set, core, info->set_id, info->attributes);
        if (r >= 0 && (r = snapshot_adopt(&snap, set, p, info)) >= 0 &&
            (r = set_adopt_volume(set, info->origin, info->id, p)) < 0)
                snapshot_free(snap);
        if (r >= 0)
                return;
        core_log(core, LOG_ERR, "out of memory adopting snapshot %s of %s (provider %s); it "
                 "stays unknown until the next report", info->id, info->origin, p->vp->name);
        if (set && set->hidden && !set->unpublished)
                set_maybe_free(set);
}

static void reconcile_one(Core *core, CoreProvider *p, const struct vss_snapshot_info *info,
                          int complaint)
{
        if (!id_valid(info->id) || !id_valid(info->set_id) || !info->origin[0]) {
                core_log(core, complaint, "provider %s reported a snapshot with a malformed id "
                         "\"%s\", set id \"%s\" or origin \"%s\"; ignoring it (the provider has "
                         "a bug)", p->vp->name, info->id, info->set_id, info->origin);
                return;
        }
        CoreSnapshot *snap = core_snapshot_find(core, info->id);
        if (snap && snap->provider == p) {
                reconcile_update(snap, info);
        } else if (snap) {
                core_log(core, complaint, "providers %s and %s both report snapshot %s; it "
                         "stays %s's", snap->provider->vp->name, p->vp->name, info->id,
                         snap->provider->vp->name);
        } else if (!snapshot_find_unpublished(core, info->id)) {
                CoreSet *set = core_set_find(core, info->set_id);
                if (!set || set_is_made(set))
                        reconcile_adopt(core, p, info);
        }
}

/* An adopted auto-release snapshot has nobody left to release it: vssd does. */
static void reconcile_adopted(CoreSnapshot *snap, JobBatch *batch)
{
        Core *core = snap->set->core;
        bool orphan = !snap->set->session && core_attributes_auto_release(snap->attributes) &&
                      snap->state != VSS_SNAPSHOT_MERGING; /* a merge consumes it anyway */
        if (!orphan) {
                core_log(core, LOG_INFO, "adopted snapshot %s of %s (set %s, provider %s)",
                         snap->id, snap->origin, snap->set->id, snap->provider->vp->name);
                return;
        }
        core_log(core, LOG_NOTICE, "snapshot %s of %s (set %s) belonged to a session of an "
                 "earlier vssd, which is gone: deleting it (auto-release; persistent and "
                 "no-auto-release snapshots survive a restart)", snap->id, snap->origin,
                 snap->set->id);
        snapshot_release(snap, batch);
}

/* Show what was adopted: sets first, so that a snapshot's set exists when it appears. */
static void reconcile_publish(Core *core, JobBatch *batch)
{
        for (CoreSet *set = core->sets; set; set = set->next)
                if (set->unpublished && set_is_made(set))
                        set_announce(set);
        for (CoreSet *set = core->sets; set; set = set->next)
                while (set->unpublished && set_is_made(set)) {
                        CoreSnapshot *snap = set->unpublished;
                        snapshot_publish(snap, snap->creation_usec);
                        reconcile_adopted(snap, batch);
                }
}

static bool report_has(const SnapshotReport *rep, const char *id)
{
        for (size_t i = 0; i < rep->n; i++)
                if (strcmp(rep->infos[i].id, id) == 0)
                        return true;
        return false;
}

static void reconcile_drop(CoreSnapshot *snap)
{
        Core *core = snap->set->core;
        if (snap->state == VSS_SNAPSHOT_MERGING)
                core_log(core, LOG_INFO, "the merge of snapshot %s into %s is done", snap->id,
                         snap->origin);
        else
                core_log(core, LOG_WARNING, "snapshot %s of %s is gone from provider %s "
                         "(removed outside vssd?); dropping it", snap->id, snap->origin,
                         snap->provider->vp->name);
        snapshot_free(snap);
}

/* P's snapshots it no longer reports, shown before the report was asked for, are gone. */
static void reconcile_vanished(Core *core, CoreProvider *p, const SnapshotReport *rep,
                               uint64_t seq)
{
        for (CoreSet *set = core->sets, *next_set; set; set = next_set) {
                next_set = set->next;
                bool dropped = false;
                for (CoreSnapshot *snap = set->snapshots, *next; snap; snap = next) {
                        next = snap->next;
                        if (snap->provider != p || snap->seq > seq || snap->job ||
                            snap->deleting || report_has(rep, snap->id))
                                continue;
                        reconcile_drop(snap);
                        dropped = true;
                }
                if (dropped)
                        set_maybe_free(set);
        }
}

/* JOB's report from P; BATCH counts the deletions of adopted auto-release snapshots. */
static void reconcile(Core *core, CoreProvider *p, const CoreJob *job, JobBatch *batch)
{
        const SnapshotReport *rep = job->report;
        /* Startup problems are worth a warning; the same one every monitor tick is not. */
        int complaint = job->op == CORE_JOB_QUERY ? LOG_WARNING : LOG_DEBUG;
        for (size_t i = 0; i < rep->n; i++)
                reconcile_one(core, p, &rep->infos[i], complaint);
        reconcile_publish(core, batch);
        reconcile_vanished(core, p, rep, job->seq);
}

/* --- startup ---------------------------------------------------------------------------------- */

static void startup_job_done(CoreJob *job)
{
        Core *core = job->core;
        CoreProvider *p = job->owner;
        JobBatch *batch = core->starting;
        if (job->r < 0) {
                bool recover = job->op == CORE_JOB_RECOVER;
                char *msg = core_strdup_printf("provider '%s' could not %s: %s; vssd goes on "
                                               "without %s", p->vp->name,
                                               recover ? "recover what a stopped vssd left "
                                                         "half-made" : "list its snapshots",
                                               core_job_error(job),
                                               recover ? "that" : "them");
                batch_fail(batch, job->r, msg); /* core_start()'s caller logs it */
                core_string_free(msg);
        } else if (job->op == CORE_JOB_QUERY) {
                reconcile(core, p, job, batch);
        }
        batch_step(batch);
}

static void startup_job(Core *core, CoreProvider *p, enum core_job_op op)
{
        CoreJob *job;
        if (core_job_new(&job, core, op, p, p->vp->name, startup_job_done, p) < 0) {
                batch_fail(core->starting, -ENOMEM, "out of memory starting the providers");
                return;
        }
        job->seq = core->publish_seq;
        batch_hold(core->starting);
        core_job_start(job);
}

/* The jobs of all providers are queued at once: the provider thread runs them in order. */
int core_start(Core *core, void *call, struct vss_error_buf *err)
{
        /* A second recover() could roll back what this vssd is doing. */
        if (core->started)
                return core_error(err, -EALREADY, "the providers were started already");
        if (!batch_new(core, call, &core->starting))
                return core_error(err, -ENOMEM, "out of memory starting the providers");
        core->started = true;
        core_enter(core);
        for (CoreProvider *p = core->providers; p; p = p->next) {
                startup_job(core, p, CORE_JOB_RECOVER);
                if (p->vp->ops->query)
                        startup_job(core, p, CORE_JOB_QUERY);
        }
        batch_step(core->starting);
        core_leave(core);
        return 0;
}

/* --- recovery on demand (Manager.Recover) ------------------------------------------------- */

static void recover_job_done(CoreJob *job)
{
        JobBatch *batch = job->owner;
        if (job->r < 0) {
                char *msg = core_strdup_printf("provider '%s' could not recover: %s",
                                               job->provider->name, core_job_error(job));
                batch_fail(batch, job->r, msg);
                core_string_free(msg);
        } else {
                batch_count(batch, (unsigned)job->r); /* recover() returns what it fixed */
        }
        batch_step(batch);
}

int core_recover(Core *core, void *call, struct vss_error_buf *err)
{
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (!core->started || core->starting)
                return core_error(err, -EBUSY, "vssd is still starting, and recovers as it "
                                  "starts; try again once it is up");
        /* A set being made has kernel state a recovery would take for a crash's leftovers. */
        if (core->creating)
                return core_error(err, -VSS_E_SET_IN_PROGRESS, "snapshot set %s is being "
                                  "created, and recovering now would roll it back; try again "
                                  "when it is done", core->creating->id);
        JobBatch *batch = batch_new(core, call, NULL);
        if (!batch)
                return core_error(err, -ENOMEM, "out of memory starting recovery");
        core_enter(core);
        for (CoreProvider *p = core->providers; p; p = p->next) {
                CoreJob *job;
                if (core_job_new(&job, core, CORE_JOB_RECOVER, p, p->vp->name,
                                 recover_job_done, batch) < 0) {
                        batch_fail(batch, -ENOMEM, "out of memory starting recovery");
                        break;
                }
                batch_hold(batch);
                core_job_start(job);
        }
        batch_step(batch);
        core_leave(core);
        return 0;
}

/* --- monitoring --------------------------------------------------------------------------------- */

static void monitor_job_done(CoreJob *job)
{
        Core *core = job->core;
        CoreProvider *p = job->owner;
        core->monitor_jobs--;
        if (job->r < 0) {
                if (!p->monitor_failing)
                        core_log(core, LOG_WARNING, "provider '%s' could not report its "
                                 "snapshots: %s; their state is not followed until it can",
                                 p->vp->name, core_job_error(job));
                p->monitor_failing = true;
                return;
        }
        if (p->monitor_failing)
                core_log(core, LOG_INFO, "provider '%s' reports its snapshots again",
                         p->vp->name);
        p->monitor_failing = false;
        JobBatch *batch = batch_new(core, NULL, NULL); /* logs failed deletions */
        reconcile(core, p, job, batch);
        batch_step(batch);
}

static void monitor_start(Core *core, CoreProvider *p)
{
        CoreJob *job;
        if (core_job_new(&job, core, CORE_JOB_MONITOR, p, p->vp->name, monitor_job_done,
                         p) < 0)
                return; /* the next tick tries again */
        job->seq = core->publish_seq;
        core->monitor_jobs++;
        core_job_start(job);
}

/* Any snapshot at all (P NULL), or any of provider P. */
static bool core_has_snapshots(const Core *core, const CoreProvider *p)
{
        for (const CoreSet *set = core->sets; set; set = set->next)
                for (const CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        if (!p || snap->provider == p)
                                return true;
        return false;
}

static bool monitor_would_delay_a_window(const Core *core)
{
        for (const CoreSet *set = core->sets; set; set = set->next)
                if (set_is_snapshotting(set))
                        return true;
        return false;
}

static void monitor_tick(CoreTimer *t)
{
        Core *core = t->data;
        if (core->stopping || !core_has_snapshots(core, NULL))
                return; /* the next publication arms it again */
        monitor_schedule(core);
        if (core->monitor_jobs > 0 || monitor_would_delay_a_window(core))
                return;
        /* Only providers with snapshots (provider.h): a provider with none may
         * have a costly query (the lvm provider runs lvs, a second under TCG). */
        for (CoreProvider *p = core->providers; p; p = p->next)
                if ((p->vp->ops->monitor || p->vp->ops->query) && core_has_snapshots(core, p))
                        monitor_start(core, p);
}

void monitor_init(Core *core)
{
        core_timer_init(&core->monitor_timer, monitor_tick, core);
}

void monitor_schedule(Core *core)
{
        if (!core->monitor_timer.armed && !core->stopping)
                core_timer_arm(core, &core->monitor_timer,
                               core_now(core) + core->config.monitor_interval_ms);
}

void monitor_reschedule(Core *core)
{
        if (!core->monitor_timer.armed)
                return;
        core_timer_cancel(core, &core->monitor_timer);
        monitor_schedule(core);
}
