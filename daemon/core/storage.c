/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage (vssadmin's "ShadowStorage"): where a provider
 * puts a volume's copy-on-write stores and how large they may grow in total,
 * and the storage a provider makes itself (dm-thin's pools: AddStorage,
 * RemoveStorage). Listing, setting, adding and removing are provider jobs
 * like any other op, so they run on the provider thread in turn with the
 * snapshot work; the core only checks that the provider has the notion at
 * all and that a name is sane, and hands the answers back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/core/internal.h"

struct StorageReport {
        struct vss_storage_info *items; /* their strings are owned */
        size_t n, allocated;
};

/* --- the report (provider thread) ------------------------------------------------------- */

StorageReport *storage_report_free(StorageReport *rep)
{
        if (!rep)
                return NULL;
        for (size_t i = 0; i < rep->n; i++) {
                free((char *)rep->items[i].volume);
                free((char *)rep->items[i].name);
                free((char *)rep->items[i].kind);
                free((char *)rep->items[i].diff_area);
                free((char *)rep->items[i].max_size);
        }
        free(rep->items);
        free(rep);
        return NULL;
}

/* The provider's strings live during the callback only: copy them. */
static int storage_report_add(const struct vss_storage_info *info, void *userdata)
{
        StorageReport *rep = userdata;
        if (rep->n == rep->allocated) {
                size_t allocated = rep->allocated ? rep->allocated * 2 : 8;
                void *items = realloc(rep->items, allocated * sizeof(*rep->items));
                if (!items)
                        return -ENOMEM;
                rep->items = items;
                rep->allocated = allocated;
        }
        struct vss_storage_info *c = &rep->items[rep->n];
        *c = *info;
        c->volume = strdup(info->volume ? info->volume : "");
        c->name = strdup(info->name ? info->name : "");
        c->kind = strdup(info->kind && info->kind[0] ? info->kind : "diff-area");
        c->diff_area = strdup(info->diff_area ? info->diff_area : "");
        c->max_size = strdup(info->max_size ? info->max_size : "");
        rep->n++; /* counted now, so that a half-copied entry is freed with the report */
        return c->volume && c->name && c->kind && c->diff_area && c->max_size ? 0 : -ENOMEM;
}

int storage_report_execute(CoreJob *job)
{
        const struct vss_provider_ops *ops = job->provider->ops;
        if (!ops->list_storage)
                return -EOPNOTSUPP;
        job->storage = calloc(1, sizeof(*job->storage));
        if (!job->storage)
                return -ENOMEM;
        int r = ops->list_storage(job->provider_state, storage_report_add, job->storage,
                                  &job->err);
        if (r == -ENOMEM && !job->err.message[0])
                snprintf(job->err.message, sizeof(job->err.message),
                         "out of memory copying the storage list of provider '%s'",
                         job->provider->name);
        return r;
}

/* --- the calls (main thread) ------------------------------------------------------------- */

static int storage_unsupported(const CoreProvider *p, struct vss_error_buf *err)
{
        return core_error(err, -EOPNOTSUPP, "provider '%s' has no shadow storage to list or "
                          "set: it keeps no copy-on-write stores of its own", p->vp->name);
}

static void storage_list_done(CoreJob *job)
{
        Core *core = job->core;
        char *msg = NULL;
        if (job->r < 0)
                msg = core_strdup_printf("provider '%s' could not list its shadow storage: %s",
                                         job->provider->name, core_job_error(job));
        CoreResult result = { .r = job->r < 0 ? job->r : 0, .message = msg };
        if (job->r >= 0 && job->storage) {
                result.storage = job->storage->items;
                result.n_storage = job->storage->n;
        }
        if (core->env.call_complete && !core->freeing)
                core->env.call_complete(core->env.userdata, job->owner, &result);
        core_string_free(msg);
}

static void storage_set_done(CoreJob *job)
{
        Core *core = job->core;
        char *msg = NULL;
        if (job->r < 0)
                msg = core_strdup_printf("provider '%s' could not change the shadow storage of "
                                         "%s: %s", job->provider->name, job->target,
                                         core_job_error(job));
        else
                core_log(core, LOG_INFO, "shadow storage of %s on provider '%s' set:%s%s%s%s",
                         job->target, job->provider->name, job->arg ? " maximum " : "",
                         job->arg ? job->arg : "", job->arg2 ? " diff area " : "",
                         job->arg2 ? job->arg2 : "");
        core_call_complete(core, job->owner, job->r < 0 ? job->r : 0, msg, NULL, 0);
        core_string_free(msg);
}

static int storage_job(Core *core, CoreProvider *p, enum core_job_op op, const char *target,
                       void (*done)(CoreJob *job), CoreJob **ret, void *call,
                       struct vss_error_buf *err)
{
        if (!p || !call)
                return core_error(err, -EINVAL, "no provider or call given");
        int r = core_check_running(core, err);
        if (r < 0)
                return r;
        if (!p->vp->ops->list_storage || !p->vp->ops->set_storage)
                return storage_unsupported(p, err);
        if (core_job_new(ret, core, op, p, target, done, call) < 0)
                return core_error(err, -ENOMEM, "out of memory asking provider '%s' about its "
                                  "shadow storage", p->vp->name);
        return 0;
}

static void storage_job_start(Core *core, CoreJob *job)
{
        core_enter(core);
        core_job_start(job);
        core_leave(core);
}

int core_storage_list(Core *core, CoreProvider *provider, void *call, struct vss_error_buf *err)
{
        CoreJob *job;
        int r = storage_job(core, provider, CORE_JOB_LIST_STORAGE, "", storage_list_done, &job,
                            call, err);
        if (r < 0)
                return r;
        storage_job_start(core, job);
        return 0;
}

int core_storage_set(Core *core, CoreProvider *provider, const char *volume,
                     const char *max_size, const char *diff_area, void *call,
                     struct vss_error_buf *err)
{
        CoreJob *job;
        if (!volume || volume[0] != '/')
                return core_error(err, -EINVAL, "SetStorage needs an absolute device path");
        if (!max_size && !diff_area)
                return core_error(err, -EINVAL, "SetStorage needs MaxSize, DiffArea or both");
        int r = storage_job(core, provider, CORE_JOB_SET_STORAGE, volume, storage_set_done, &job,
                            call, err);
        if (r < 0)
                return r;
        if ((max_size && !(job->arg = strdup(max_size))) ||
            (diff_area && !(job->arg2 = strdup(diff_area)))) {
                core_job_free(job);
                return core_error(err, -ENOMEM, "out of memory asking provider '%s' about %s",
                                  provider->vp->name, volume);
        }
        storage_job_start(core, job);
        return 0;
}

/* --- storage the provider makes (AddStorage, RemoveStorage) ------------------------------ */

/* 1..64 of [A-Za-z0-9_.+-]: a dm name part, a file name, safe in any message. */
static int storage_check_name(const char *op, const char *name, struct vss_error_buf *err)
{
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len > 64)
                return core_error(err, -EINVAL, "%s needs a name of 1 to 64 characters, not %zu",
                                  op, len);
        size_t ok = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789_.+-");
        if (ok < len)
                return core_error(err, -EINVAL, "%s: the name \"%.64s\" has '%c' at %zu; use "
                                  "letters, digits and _ . + - only", op, name, name[ok],
                                  ok + 1);
        return 0;
}

static void storage_made_done(CoreJob *job)
{
        Core *core = job->core;
        bool add = job->op == CORE_JOB_ADD_STORAGE;
        char *msg = NULL;
        if (job->r < 0)
                msg = core_strdup_printf("provider '%s' could not %s storage '%s': %s",
                                         job->provider->name, add ? "add" : "remove",
                                         job->target, core_job_error(job));
        else
                core_log(core, LOG_INFO, "provider '%s' %s storage '%s'", job->provider->name,
                         add ? "added" : "removed", job->target);
        core_call_complete(core, job->owner, job->r < 0 ? job->r : 0, msg, NULL, 0);
        core_string_free(msg);
}

static int storage_made_job(Core *core, CoreProvider *p, enum core_job_op op, const char *name,
                            const struct vss_option *options, size_t n_options, void *call,
                            struct vss_error_buf *err)
{
        const char *method = op == CORE_JOB_ADD_STORAGE ? "AddStorage" : "RemoveStorage";
        CoreJob *job = NULL;
        if (!p || !call)
                return core_error(err, -EINVAL, "no provider or call given");
        int r = core_check_running(core, err);
        if (r >= 0)
                r = storage_check_name(method, name, err);
        if (r < 0)
                return r;
        if (!p->vp->ops->add_storage || !p->vp->ops->remove_storage)
                return core_error(err, -EOPNOTSUPP, "provider '%s' makes no storage of its own "
                                  "(it has no %s); a provider such as dm-thin does", p->vp->name,
                                  op == CORE_JOB_ADD_STORAGE ? "add_storage" : "remove_storage");
        if (core_job_new(&job, core, op, p, name, storage_made_done, call) < 0 ||
            core_options_copy(job, options, n_options) < 0) {
                core_job_free(job);
                return core_error(err, -ENOMEM, "out of memory asking provider '%s' to %s "
                                  "storage '%s'", p->vp->name,
                                  op == CORE_JOB_ADD_STORAGE ? "add" : "remove", name);
        }
        storage_job_start(core, job);
        return 0;
}

int core_storage_add(Core *core, CoreProvider *provider, const char *name,
                     const struct vss_option *options, size_t n_options, void *call,
                     struct vss_error_buf *err)
{
        return storage_made_job(core, provider, CORE_JOB_ADD_STORAGE, name, options, n_options,
                                call, err);
}

int core_storage_remove(Core *core, CoreProvider *provider, const char *name, void *call,
                        struct vss_error_buf *err)
{
        return storage_made_job(core, provider, CORE_JOB_REMOVE_STORAGE, name, NULL, 0, call,
                                err);
}
