/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: EnableVolume and DisableVolume. A plain block device cannot get a
 * device-mapper layer under a mounted file system, so a provider that needs
 * one wraps the device in a volume it owns, which the administrator mounts
 * instead (DESIGN.md section 5); dm-thin makes a thin volume instead.
 * Disabling undoes either.
 *
 * One provider job at a time: through the provider asked for, or each
 * provider with the op in the core's order (priority) until one takes the
 * device. A provider says "not mine" with -VSS_E_VOLUME_NOT_SUPPORTED (for
 * DisableVolume also -ENOENT: it enabled no such volume), and the next one
 * is asked; any other answer is final, so that a provider's real refusal
 * (a device in use, a bad option) is what the caller sees.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/core/internal.h"

static const char *volume_verb(enum core_job_op op)
{
        return op == CORE_JOB_ENABLE_VOLUME ? "enable" : "disable";
}

static bool provider_has(const CoreProvider *p, enum core_job_op op)
{
        const struct vss_provider_ops *ops = p->vp->ops;
        return op == CORE_JOB_ENABLE_VOLUME ? ops->enable_volume != NULL
                                            : ops->disable_volume != NULL;
}

/* The provider after AFTER (NULL: from the first) that has OP, or NULL. */
static CoreProvider *volume_next_provider(Core *core, const CoreProvider *after,
                                          enum core_job_op op)
{
        for (CoreProvider *p = after ? after->next : core->providers; p; p = p->next)
                if (provider_has(p, op))
                        return p;
        return NULL;
}

/* None of the loaded providers has OP: say which are loaded. */
static int volume_no_provider(Core *core, enum core_job_op op, struct vss_error_buf *err)
{
        char names[VSS_ERROR_MESSAGE_MAX] = "";
        size_t len = 0;
        for (CoreProvider *p = core->providers; p && len < sizeof(names); p = p->next)
                len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                        len ? ", " : "", p->vp->name);
        return core_error(err, -EOPNOTSUPP, "no loaded provider can %s volumes (loaded: %s): "
                          "they snapshot volumes as they are; install a provider that wraps "
                          "plain devices, such as dm-snapshot", volume_verb(op),
                          names[0] ? names : "none");
}

/* The provider to ask first: the one named NAME, or the first that has the op. */
static int volume_provider(Core *core, const char *name, enum core_job_op op,
                           CoreProvider **ret, struct vss_error_buf *err)
{
        if (name) {
                CoreProvider *p = core_provider_find(core, name);
                if (!p)
                        return core_error(err, -ENOENT, "no provider named '%s' is loaded; the "
                                          "objects under /org/linuxvss/Vss1/provider/ are",
                                          name);
                if (!provider_has(p, op))
                        return core_error(err, -EOPNOTSUPP, "provider '%s' cannot %s volumes: "
                                          "it snapshots volumes as they are", name,
                                          volume_verb(op));
                *ret = p;
                return 0;
        }
        *ret = volume_next_provider(core, NULL, op);
        return *ret ? 0 : volume_no_provider(core, op, err);
}

/* A volume with snapshots, or in a set being made, must stay as it is. */
static int volume_check_unused(Core *core, const char *volume, struct vss_error_buf *err)
{
        size_t n = 0;
        for (CoreSet *set = core->sets; set; set = set->next) {
                if (set->state < CORE_SET_READY && set_has_volume(set, volume))
                        return core_error(err, -EBUSY, "volume %s is in snapshot set %s, which "
                                          "is being made; disable it once the set is done",
                                          volume, set->id);
                for (CoreSnapshot *snap = set->snapshots; snap; snap = snap->next)
                        n += strcmp(snap->origin, volume) == 0;
        }
        if (n)
                return core_error(err, -EBUSY, "volume %s still has %zu snapshot(s); delete "
                                  "them first (DeleteSnapshots by volume)", volume, n);
        return 0;
}

/* The provider said the device or volume is not one it handles. */
static bool volume_not_mine(const CoreJob *job)
{
        return job->r == -VSS_E_VOLUME_NOT_SUPPORTED ||
               (job->op == CORE_JOB_DISABLE_VOLUME && job->r == -ENOENT);
}

static void volume_job_done(CoreJob *job);

/*
 * JOB's provider passed: ask the next one with a job that inherits the
 * options and the reasons so far. false when there is no next provider (or
 * vssd is stopping): JOB's answer completes the call.
 */
static bool volume_ask_next(CoreJob *job)
{
        Core *core = job->core;
        CoreProvider *p = core->providers;
        while (p && p->vp != job->provider)
                p = p->next;
        char *why = core_strdup_printf("%s: %s", job->provider->name, core_job_error(job));
        core_notes_append(&job->reasons, why);
        core_string_free(why);
        CoreProvider *next = p ? volume_next_provider(core, p, job->op) : NULL;
        CoreJob *ask;
        if (!next || core->stopping ||
            core_job_new(&ask, core, job->op, next, job->target, volume_job_done, job->owner) < 0)
                return false;
        ask->pass_on = true;
        ask->reasons = job->reasons;
        ask->options = job->options;
        ask->n_options = job->n_options;
        job->reasons = NULL;
        job->options = NULL;
        job->n_options = 0;
        core_job_start(ask);
        return true;
}

/* The message of a failed JOB: the provider's refusal, or every provider's "not mine". */
static char *volume_failure(const CoreJob *job)
{
        if (job->pass_on && volume_not_mine(job) && job->reasons)
                return core_strdup_printf(job->op == CORE_JOB_ENABLE_VOLUME
                                                  ? "no provider can enable %s: %s"
                                                  : "no provider has enabled %s: %s",
                                          job->target, job->reasons);
        return core_strdup_printf("provider '%s' could not %s %s: %s", job->provider->name,
                                  volume_verb(job->op), job->target, core_job_error(job));
}

static void volume_job_done(CoreJob *job)
{
        Core *core = job->core;
        bool enable = job->op == CORE_JOB_ENABLE_VOLUME;
        job->volume[sizeof(job->volume) - 1] = '\0';
        if (job->pass_on && volume_not_mine(job) && volume_ask_next(job))
                return;
        int r = job->r;
        char *msg = NULL;
        if (r < 0)
                msg = volume_failure(job);
        else if (enable && !job->volume[0])
                msg = core_strdup_printf("provider '%s' enabled %s but named no volume to use; "
                                         "report this bug of the provider", job->provider->name,
                                         job->target);
        if (enable && r >= 0 && msg)
                r = -VSS_E_PROVIDER_FAILED;
        if (r >= 0)
                core_log(core, LOG_INFO, "provider '%s' %sd %s%s%s", job->provider->name,
                         volume_verb(job->op), job->target, enable ? " as " : "",
                         enable ? job->volume : "");
        core_call_complete(core, job->owner, r, msg, enable && r >= 0 ? job->volume : NULL, 0);
        core_string_free(msg);
}

/* An absolute path; for EnableVolume with options also a new volume's name (no '/'). */
static int volume_check_target(enum core_job_op op, const char *target, size_t n_options,
                               struct vss_error_buf *err)
{
        bool enable = op == CORE_JOB_ENABLE_VOLUME;
        if (target && target[0] == '/')
                return 0;
        if (enable && n_options > 0 && target && target[0] && !strchr(target, '/'))
                return 0;
        if (enable)
                return core_error(err, -EINVAL, "EnableVolume needs an absolute device path%s, "
                                  "not \"%s\"", n_options ? " or a new volume's name without "
                                  "'/'" : " (a name alone is for a provider that makes new "
                                  "volumes, with its options, such as ThinPool)",
                                  target ? target : "");
        return core_error(err, -EINVAL, "DisableVolume needs an absolute device path, not "
                          "\"%s\"", target ? target : "");
}

static int volume_job(Core *core, enum core_job_op op, const char *target,
                      const struct vss_option *options, size_t n_options, const char *provider,
                      void *call, struct vss_error_buf *err)
{
        CoreProvider *p = NULL;
        CoreJob *job = NULL;
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (!call)
                return core_error(err, -EINVAL, "no call given");
        r = volume_check_target(op, target, n_options, err);
        if (r >= 0)
                r = volume_provider(core, provider, op, &p, err);
        if (r >= 0 && op == CORE_JOB_DISABLE_VOLUME)
                r = volume_check_unused(core, target, err);
        if (r < 0)
                return r;
        if (core_job_new(&job, core, op, p, target, volume_job_done, call) < 0 ||
            core_options_copy(job, options, n_options) < 0) {
                core_job_free(job);
                return core_error(err, -ENOMEM, "out of memory asking provider '%s' about %s",
                                  p->vp->name, target);
        }
        job->pass_on = provider == NULL;
        core_enter(core);
        core_job_start(job);
        core_leave(core);
        return 0;
}

int core_volume_enable(Core *core, const char *device, const struct vss_option *options,
                       size_t n_options, const char *provider, void *call,
                       struct vss_error_buf *err)
{
        return volume_job(core, CORE_JOB_ENABLE_VOLUME, device, options, n_options, provider,
                          call, err);
}

int core_volume_disable(Core *core, const char *volume, const char *provider, void *call,
                        struct vss_error_buf *err)
{
        return volume_job(core, CORE_JOB_DISABLE_VOLUME, volume, NULL, 0, provider, call, err);
}
