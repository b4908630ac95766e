/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guard.c: the hold-window guard, a thread that ends a window at its bound
 * without the main loop.
 *
 * The main loop's hold timer cannot release volumes while the loop itself is
 * stuck (a slow NSS lookup on the bus, a bug), and every file system of the
 * set stays frozen meanwhile. So the core keeps a thread of its own, made
 * once by core_new() while nothing is suspended: the window job arms it on
 * the provider thread as its first hold begins, with a CLOCK_MONOTONIC
 * deadline, and disarms it when it ends. Past the deadline the guard runs
 * window_expire() on that job (window.c): no more holds or commits, and every
 * provider whose hold began is released once, by whichever thread claims it.
 *
 * Nothing here allocates, logs or touches a file once the thread runs: arm and
 * disarm are a mutex and a condition variable. Its stack and this structure
 * exist before any set is prepared, so a provider's mlockall(MCL_CURRENT)
 * for the window (dm-snapshot's prepare) covers them as it covers the code.
 *
 * Lifetime: the core holds a reference and each HoldWindow that may arm the
 * guard another (main thread only), so a window job still out after
 * core_free() keeps it; the last reference stops and joins the thread.
 * Disarm waits while the guard is releasing on the job's behalf, so the job
 * and its HoldWindow outlive every use the guard makes of them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/core/internal.h"

/* Room for a provider's release (a few ioctls); the default 8 MiB would all be locked. */
#define GUARD_STACK_SIZE (256u * 1024u)

struct WindowGuard {
        unsigned n_ref;          /* main thread only */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;     /* for the guard: armed, disarmed or stopping (monotonic) */
        pthread_cond_t idle;     /* for disarm: the guard is done releasing */
        CoreJob *job;            /* the window job watched, or NULL */
        struct timespec deadline;
        bool firing;             /* window_expire(job) runs */
        bool stopping;
};

static bool deadline_passed(const struct timespec *deadline)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec > deadline->tv_sec ||
               (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *guard_thread(void *userdata)
{
        WindowGuard *g = userdata;
        pthread_mutex_lock(&g->lock);
        while (!g->stopping) {
                if (!g->job) {
                        pthread_cond_wait(&g->wake, &g->lock);
                        continue;
                }
                if (!deadline_passed(&g->deadline)) {
                        /* Woken early (disarmed, stopping) or spuriously: look again. */
                        pthread_cond_timedwait(&g->wake, &g->lock, &g->deadline);
                        continue;
                }
                CoreJob *job = g->job;
                g->firing = true;
                pthread_mutex_unlock(&g->lock);
                window_expire(job);
                pthread_mutex_lock(&g->lock);
                g->firing = false;
                g->job = NULL;
                pthread_cond_broadcast(&g->idle);
        }
        pthread_mutex_unlock(&g->lock);
        return NULL;
}

/* The thread gets no signal: they belong to the main loop (signalfd). */
static int guard_thread_start(WindowGuard *g)
{
        pthread_attr_t attr;
        sigset_t all, old;
        int r = -pthread_attr_init(&attr);
        if (r < 0)
                return r;
        r = -pthread_attr_setstacksize(&attr, GUARD_STACK_SIZE);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (r >= 0)
                r = -pthread_create(&g->thread, &attr, guard_thread, g);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r >= 0)
                pthread_setname_np(g->thread, "vss-guard");
        return r;
}

int guard_new(WindowGuard **ret)
{
        WindowGuard *g = calloc(1, sizeof(*g));
        pthread_condattr_t attr;
        if (!g)
                return -ENOMEM;
        g->n_ref = 1;
        pthread_mutex_init(&g->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&g->wake, &attr);
        pthread_condattr_destroy(&attr);
        pthread_cond_init(&g->idle, NULL);
        int r = guard_thread_start(g);
        if (r < 0) {
                pthread_cond_destroy(&g->idle);
                pthread_cond_destroy(&g->wake);
                pthread_mutex_destroy(&g->lock);
                free(g);
                return r;
        }
        *ret = g;
        return 0;
}

WindowGuard *guard_ref(WindowGuard *g)
{
        if (g)
                g->n_ref++;
        return g;
}

WindowGuard *guard_unref(WindowGuard *g)
{
        if (!g || --g->n_ref > 0)
                return NULL;
        /* No HoldWindow is left, so no window job can arm it any more. */
        pthread_mutex_lock(&g->lock);
        g->stopping = true;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->thread, NULL);
        pthread_cond_destroy(&g->idle);
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
}

bool guard_arm(WindowGuard *g, CoreJob *job, uint64_t deadline_usec)
{
        pthread_mutex_lock(&g->lock);
        bool free_to_arm = !g->job; /* one window at a time; else the caller goes unguarded */
        if (free_to_arm) {
                g->job = job;
                g->deadline.tv_sec = (time_t)(deadline_usec / 1000000u);
                g->deadline.tv_nsec = (long)(deadline_usec % 1000000u) * 1000;
                pthread_cond_signal(&g->wake);
        }
        pthread_mutex_unlock(&g->lock);
        return free_to_arm;
}

void guard_disarm(WindowGuard *g, CoreJob *job)
{
        pthread_mutex_lock(&g->lock);
        while (g->job == job && g->firing)
                pthread_cond_wait(&g->idle, &g->lock);
        if (g->job == job) {
                g->job = NULL;
                pthread_cond_signal(&g->wake);
        }
        pthread_mutex_unlock(&g->lock);
}
