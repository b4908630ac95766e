/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * window.c: the hold window of a snapshot set as one provider job, and the
 * watchdog job that cuts it short when it passes its bound.
 *
 * While origins are suspended nothing may be allocated and every moment
 * counts, so the window never goes back to the main loop between steps: one
 * job, allocated with everything it touches before the window opens (set.c),
 * holds every provider of the set in order, then commits every one, then
 * releases every one it held, all on the provider thread. A failure anywhere
 * stops holding and committing but still releases what was held; the first
 * failure (provider, op, message) is the job's result.
 *
 * Past the bound the window is cancelled (a flag the window job checks
 * before every hold and commit) and every provider whose hold has begun is
 * released from another thread. In a started core that is the guard thread
 * (guard.c): the window job arms it as its first hold begins and disarms it
 * when it ends, so the bound holds on its own clock even when the main loop
 * is stuck; the main loop's hold timer then only fails the set. Otherwise
 * the main loop's timer runs the watchdog job on the env's watchdog thread.
 * The threads share the per-provider flags below, and whoever claims a
 * provider's release (atomic_exchange on "settled") is the only one to call
 * it; the provider ABI allows release from another thread while hold or
 * commit still runs.
 *
 * One race no flag can close: the watchdog may release a provider whose hold
 * was decided but not yet entered, so that the hold lands after the release.
 * The provider abort that follows every watchdog (set.c) resumes what such a
 * late hold suspended.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/core/internal.h"

enum window_op {
        WINDOW_HOLD,
        WINDOW_COMMIT,
        WINDOW_RELEASE,
};

typedef struct WindowProvider {
        const struct vss_provider *vp; /* copied: valid even after core_free() */
        void *state;
        atomic_bool started; /* its hold is decided: the watchdog may release it */
        atomic_bool settled; /* its release is claimed, or moot: by one thread only */
} WindowProvider;

struct HoldWindow {
        unsigned n_ref;         /* the jobs sharing it: both complete on the main thread */
        atomic_bool cancel;     /* hold and commit no more, only release */
        atomic_size_t at;       /* provider the window job is at, for the timeout message */
        atomic_int op;          /* enum window_op it runs there */
        uint64_t open_usec;     /* first hold to last release; read once the job came back */
        /* The guard: set on the main thread before the window job starts. */
        WindowGuard *guard;     /* NULL: none watches this window */
        uint32_t bound_ms;
        atomic_bool guarded;    /* the window job armed the guard */
        atomic_bool expired;    /* the guard cut it short: where it was then */
        atomic_bool closed;     /* the window job is past disarming: "expired" is final */
        atomic_size_t expired_at;
        atomic_int expired_op;
        /* The guard's first failed release; read only once the job came back. */
        int guard_r;
        struct vss_error_buf guard_err;
        /* The window job's first failure; read only once the job came back. */
        size_t failed;
        const char *failed_op;  /* NULL: none */
        /* Room for the messages of later failures, one per thread: they are dropped. */
        struct vss_error_buf window_scratch;
        struct vss_error_buf watchdog_scratch;
        struct vss_error_buf guard_scratch;
        size_t n_providers;
        WindowProvider providers[];
};

static const char *const op_names[] = {
        [WINDOW_HOLD] = "hold", [WINDOW_COMMIT] = "commit", [WINDOW_RELEASE] = "release",
};

/* --- lifetime (main thread) ---------------------------------------------------------- */

HoldWindow *window_new(size_t n_providers)
{
        HoldWindow *w = calloc(1, sizeof(*w) + n_providers * sizeof(w->providers[0]));
        if (!w)
                return NULL;
        w->n_ref = 1;
        w->n_providers = n_providers;
        atomic_init(&w->cancel, false);
        atomic_init(&w->at, 0);
        atomic_init(&w->op, WINDOW_HOLD);
        atomic_init(&w->guarded, false);
        atomic_init(&w->expired, false);
        atomic_init(&w->closed, false);
        atomic_init(&w->expired_at, 0);
        atomic_init(&w->expired_op, WINDOW_HOLD);
        for (size_t i = 0; i < n_providers; i++) {
                atomic_init(&w->providers[i].started, false);
                atomic_init(&w->providers[i].settled, false);
        }
        return w;
}

void window_set_provider(HoldWindow *w, size_t i, const CoreProvider *p)
{
        w->providers[i].vp = p->vp;
        w->providers[i].state = p->state;
}

HoldWindow *window_ref(HoldWindow *w)
{
        w->n_ref++;
        return w;
}

HoldWindow *window_unref(HoldWindow *w)
{
        if (w && --w->n_ref == 0) {
                guard_unref(w->guard);
                free(w);
        }
        return NULL;
}

void window_guard(CoreJob *job, Core *core)
{
        HoldWindow *w = job->window;
        if (!core->started || w->guard)
                return;
        w->guard = guard_ref(core->guard);
        w->bound_ms = core->config.hold_timeout_ms;
}

bool window_guarded(const CoreJob *job)
{
        return atomic_load(&job->window->guarded);
}

bool window_expired(const CoreJob *job)
{
        return atomic_load(&job->window->expired);
}

bool window_closed_in_time(const CoreJob *job)
{
        HoldWindow *w = job->window;
        return atomic_load(&w->guarded) && atomic_load(&w->closed) && !atomic_load(&w->expired);
}

const char *window_expire_error(const CoreJob *job)
{
        HoldWindow *w = job->window;
        if (w->guard_r >= 0)
                return NULL;
        return w->guard_err.message[0] ? w->guard_err.message : vss_strerror(w->guard_r);
}

void window_cancel(CoreJob *job)
{
        atomic_store(&job->window->cancel, true);
}

size_t window_progress(const CoreJob *job, const char **ret_op)
{
        HoldWindow *w = job->window;
        if (atomic_load(&w->expired)) {
                *ret_op = op_names[atomic_load(&w->expired_op)];
                return atomic_load(&w->expired_at);
        }
        *ret_op = op_names[atomic_load(&w->op)];
        return atomic_load(&w->at);
}

uint64_t window_open_usec(const CoreJob *job)
{
        return job->window->open_usec;
}

/* A job the env refused never ran: it failed before its first hold. */
size_t window_failure(const CoreJob *job, const char **ret_op)
{
        HoldWindow *w = job->window;
        *ret_op = w->failed_op ? w->failed_op : op_names[WINDOW_HOLD];
        return w->failed_op ? w->failed : 0;
}

/* --- the provider side (provider or watchdog thread) ----------------------------------- */

/* One op of one provider, into ERR; touches nothing shared. */
static int window_call(const WindowProvider *p, enum window_op op, const char *set_id,
                       struct vss_error_buf *err)
{
        const struct vss_provider_ops *ops = p->vp->ops;
        int (*fn)(void *, const char *, struct vss_error_buf *) =
                op == WINDOW_HOLD ? ops->hold : op == WINDOW_COMMIT ? ops->commit : ops->release;
        err->message[0] = '\0';
        int r = fn ? fn(p->state, set_id, err) : -EOPNOTSUPP;
        if (r == -EOPNOTSUPP && !err->message[0])
                snprintf(err->message, sizeof(err->message), "provider '%s' has no %s "
                         "operation", p->vp->name, op_names[op]);
        return r;
}

/* The window job's step OP on provider I; the first failure becomes the job's result. */
static int window_step(CoreJob *job, size_t i, enum window_op op)
{
        HoldWindow *w = job->window;
        atomic_store(&w->at, i);
        atomic_store(&w->op, (int)op);
        int r = window_call(&w->providers[i], op, job->target,
                            w->failed_op ? &w->window_scratch : &job->err);
        if (r < 0 && !w->failed_op) {
                w->failed = i;
                w->failed_op = op_names[op];
                job->r = r;
        }
        return r;
}

/*
 * Hold every provider in order; returns how many are held. "started" is set
 * before the cancel check, and the core and the guard set cancel before they
 * look at "started": so when this check sees no cancel, the watchdog or the
 * guard, if it comes, will see "started" and release the provider. Nothing is
 * ever held unwatched.
 */
static size_t window_hold_all(CoreJob *job)
{
        HoldWindow *w = job->window;
        size_t i;
        for (i = 0; i < w->n_providers; i++) {
                WindowProvider *p = &w->providers[i];
                atomic_store(&p->started, true);
                if (atomic_load(&w->cancel) || window_step(job, i, WINDOW_HOLD) < 0) {
                        /* Not held (a failed hold is undone by the abort): no release. */
                        atomic_exchange(&p->settled, true);
                        break;
                }
        }
        return i;
}

/* Commit every provider; false when cancelled or one failed. */
static bool window_commit_all(CoreJob *job)
{
        HoldWindow *w = job->window;
        for (size_t i = 0; i < w->n_providers; i++)
                if (atomic_load(&w->cancel) || window_step(job, i, WINDOW_COMMIT) < 0)
                        return false;
        return true;
}

/* Release the first N providers (those held) unless the watchdog claimed one first. */
static void window_release_held(CoreJob *job, size_t n)
{
        HoldWindow *w = job->window;
        for (size_t i = 0; i < n; i++)
                if (!atomic_exchange(&w->providers[i].settled, true))
                        window_step(job, i, WINDOW_RELEASE);
}

/*
 * The provider thread's own clock, not the env's: the window's length is the
 * figure administrators and bench/hold want, and the main loop's clock cannot
 * see inside the job. clock_gettime allocates nothing.
 */
static uint64_t monotonic_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void window_run(CoreJob *job)
{
        HoldWindow *w = job->window;
        uint64_t start = monotonic_usec();
        /* From the first hold on, the bound holds on the guard's clock, not the main loop's. */
        if (w->guard)
                atomic_store(&w->guarded, guard_arm(w->guard, job,
                                                    start + (uint64_t)w->bound_ms * 1000u));
        size_t held = window_hold_all(job);
        bool made = held == w->n_providers && window_commit_all(job);
        window_release_held(job, held);
        w->open_usec = monotonic_usec() - start;
        if (atomic_load(&w->guarded))
                guard_disarm(w->guard, job); /* after it, the guard touches nothing of ours */
        atomic_store(&w->closed, true);
        if (!made && !w->failed_op) {
                job->r = -ECANCELED;
                snprintf(job->err.message, sizeof(job->err.message), "the hold window of "
                         "snapshot set %s was cut short before every snapshot was made",
                         job->target);
        }
}

/*
 * Release every provider of W whose hold began and nobody released, for
 * SET_ID; the first failure goes into *R and ERR, later ones into SCRATCH.
 */
static void window_release_started(HoldWindow *w, const char *set_id, int *r,
                                   struct vss_error_buf *err, struct vss_error_buf *scratch)
{
        for (size_t i = 0; i < w->n_providers; i++) {
                WindowProvider *p = &w->providers[i];
                if (!atomic_load(&p->started) || atomic_exchange(&p->settled, true))
                        continue;
                int k = window_call(p, WINDOW_RELEASE, set_id, *r < 0 ? scratch : err);
                if (k < 0 && *r >= 0)
                        *r = k;
        }
}

/* The env's watchdog thread; no one waits for the result. */
static void window_watchdog_run(CoreJob *job)
{
        HoldWindow *w = job->window;
        window_release_started(w, job->target, &job->r, &job->err, &w->watchdog_scratch);
}

/*
 * Cancel first, then look at "started" (see window_hold_all()); where the
 * window was is kept for the set's message, which the main loop may only
 * write much later.
 */
void window_expire(CoreJob *job)
{
        HoldWindow *w = job->window;
        atomic_store(&w->cancel, true);
        atomic_store(&w->expired_at, atomic_load(&w->at));
        atomic_store(&w->expired_op, atomic_load(&w->op));
        atomic_store(&w->expired, true);
        w->guard_r = 0;
        window_release_started(w, job->target, &w->guard_r, &w->guard_err, &w->guard_scratch);
}

void window_execute(CoreJob *job)
{
        job->r = 0;
        job->err.message[0] = '\0';
        if (job->op == CORE_JOB_WINDOW)
                window_run(job);
        else
                window_watchdog_run(job);
}
