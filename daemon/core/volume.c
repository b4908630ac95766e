/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: EnableVolume and DisableVolume. A plain block device cannot get a
 * device-mapper layer under a mounted file system, so a provider that needs
 * one wraps the device in a volume it owns, which the administrator mounts
 * instead (DESIGN.md section 5); disabling undoes that. One provider job
 * each, through the provider asked for or the first that has the op.
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

/* The provider to run OP: the one named NAME, or the first that has the op. */
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
        for (CoreProvider *p = core->providers; p; p = p->next)
                if (provider_has(p, op)) {
                        *ret = p;
                        return 0;
                }
        return volume_no_provider(core, op, err);
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

static void volume_job_done(CoreJob *job)
{
        Core *core = job->core;
        bool enable = job->op == CORE_JOB_ENABLE_VOLUME;
        job->volume[sizeof(job->volume) - 1] = '\0';
        int r = job->r;
        char *msg = NULL;
        if (r < 0)
                msg = core_strdup_printf("provider '%s' could not %s %s: %s", job->provider->name,
                                         volume_verb(job->op), job->target, core_job_error(job));
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

static int volume_job(Core *core, enum core_job_op op, const char *target, const char *provider,
                      void *call, struct vss_error_buf *err)
{
        CoreProvider *p = NULL;
        CoreJob *job;
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (!target || target[0] != '/' || !call)
                return core_error(err, -EINVAL, "%sVolume needs an absolute device path",
                                  op == CORE_JOB_ENABLE_VOLUME ? "Enable" : "Disable");
        r = volume_provider(core, provider, op, &p, err);
        if (r >= 0 && op == CORE_JOB_DISABLE_VOLUME)
                r = volume_check_unused(core, target, err);
        if (r < 0)
                return r;
        if (core_job_new(&job, core, op, p, target, volume_job_done, call) < 0)
                return core_error(err, -ENOMEM, "out of memory asking provider '%s' about %s",
                                  p->vp->name, target);
        core_enter(core);
        core_job_start(job);
        core_leave(core);
        return 0;
}

int core_volume_enable(Core *core, const char *device, const char *provider, void *call,
                       struct vss_error_buf *err)
{
        return volume_job(core, CORE_JOB_ENABLE_VOLUME, device, provider, call, err);
}

int core_volume_disable(Core *core, const char *volume, const char *provider, void *call,
                        struct vss_error_buf *err)
{
        return volume_job(core, CORE_JOB_DISABLE_VOLUME, volume, provider, call, err);
}
