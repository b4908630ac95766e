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
 * Past the bound the core sets the cancel flag, which the window job checks
 * before every hold and commit, and runs the watchdog job on another thread:
 * it releases every provider whose hold has begun. The two threads share the
 * per-provider flags below, and whoever claims a provider's release
 * (atomic_exchange on "settled") is the only one to call it; the provider ABI
 * allows release from the watchdog while hold or commit still runs.
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
        /* The window job's first failure; read only once the job came back. */
        size_t failed;
        const char *failed_op;  /* NULL: none */
        /* Room for the messages of later failures, one per thread: they are dropped. */
        struct vss_error_buf window_scratch;
        struct vss_error_buf watchdog_scratch;
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
        if (w && --w->n_ref == 0)
                free(w);
        return NULL;
}

void window_cancel(CoreJob *job)
{
        atomic_store(&job->window->cancel, true);
}

size_t window_progress(const CoreJob *job, const char **ret_op)
{
        HoldWindow *w = job->window;
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
 * before the cancel check, and the core sets cancel before it starts the
 * watchdog: so when this check sees no cancel, the watchdog, if it comes, will
 * see "started" and release the provider. Nothing is ever held unwatched.
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
        size_t held = window_hold_all(job);
        bool made = held == w->n_providers && window_commit_all(job);
        window_release_held(job, held);
        w->open_usec = monotonic_usec() - start;
        if (!made && !w->failed_op) {
                job->r = -ECANCELED;
                snprintf(job->err.message, sizeof(job->err.message), "the hold window of "
                         "snapshot set %s was cut short before every snapshot was made",
                         job->target);
        }
}

/* Release every provider whose hold began and nobody released; no one waits for the result. */
static void window_watchdog_run(CoreJob *job)
{
        HoldWindow *w = job->window;
        for (size_t i = 0; i < w->n_providers; i++) {
                WindowProvider *p = &w->providers[i];
                if (!atomic_load(&p->started) || atomic_exchange(&p->settled, true))
                        continue;
                int r = window_call(p, WINDOW_RELEASE, job->target,
                                    job->r < 0 ? &w->watchdog_scratch : &job->err);
                if (r < 0 && job->r >= 0)
                        job->r = r;
        }
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
