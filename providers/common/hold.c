/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hold.c: the hold window's suspensions (see hold.h): each origin's atomic
 * state machine, the crew that suspends them together, and the providers'
 * lists of prepared sets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "common/fault.h"
#include "providers/common/hold.h"
#include "providers/common/util.h"

enum hold_state { HOLD_IDLE, HOLD_SUSPENDING, HOLD_HELD, HOLD_RELEASED };

/* The threads that suspend the origins of a set together, one per origin. */
typedef struct HoldCrew {
        pthread_mutex_t lock;
        pthread_cond_t wake;             /* go or quit was set; or the last member is done */
        bool go, quit;
        size_t n_threads;
        size_t running;                  /* members not done yet */
        pthread_t *threads;
        struct CrewSeat *seats;
} HoldCrew;

typedef struct CrewSeat {
        HoldCrew *crew;
        HoldWindow *w;
        HeldOrigin *origin;
} CrewSeat;

int hold_cancelled(const HoldWindow *w, struct vss_error_buf *err)
{
        return provider_error(err, -ECANCELED, "the hold of set %s was released", w->set_id);
}

bool hold_released(HoldWindow *w)
{
        return atomic_load(&w->released);
}

/* --- one origin ------------------------------------------------------------------ */

static int suspend_origin(HoldWindow *w, HeldOrigin *o, struct vss_error_buf *err)
{
        int expected = HOLD_IDLE;
        int r;

        if (!atomic_compare_exchange_strong(&o->state, &expected, HOLD_SUSPENDING))
                return hold_cancelled(w, err);
        r = dm_switch_run(w->control_fd, &o->suspend);
        if (r == -EBUSY) /* someone froze the file system already: suspend it as it is */
                r = dm_switch_run(w->control_fd, &o->suspend_frozen);
        expected = HOLD_SUSPENDING;
        if (r < 0) {
                atomic_compare_exchange_strong(&o->state, &expected, HOLD_RELEASED);
                return provider_error(err, r, "cannot suspend %s: %s", o->name, strerror(-r));
        }
        if (!atomic_compare_exchange_strong(&o->state, &expected, HOLD_HELD)) {
                /* Released while the suspend was in flight: undo it ourselves. */
                dm_switch_run(w->control_fd, &o->resume);
                return hold_cancelled(w, err);
        }
        VSS_FAULT("after-suspend-first");
        return 0;
}

/* Claim O's resume: true if it was held (and the caller must resume it). */
static bool claim_release(HeldOrigin *o)
{
        int s = atomic_load(&o->state);

        while (s != HOLD_RELEASED)
                if (atomic_compare_exchange_weak(&o->state, &s, HOLD_RELEASED))
                        return s == HOLD_HELD;
        return false;
}

/* --- the crew --------------------------------------------------------------------- */

static void *crew_member(void *arg)
{
        CrewSeat *seat = arg;
        HoldCrew *crew = seat->crew;

        pthread_mutex_lock(&crew->lock);
        while (!crew->go && !crew->quit)
                pthread_cond_wait(&crew->wake, &crew->lock);
        bool work = crew->go;
        pthread_mutex_unlock(&crew->lock);
        if (work)
                seat->origin->r = suspend_origin(seat->w, seat->origin, &seat->origin->err);
        pthread_mutex_lock(&crew->lock);
        if (--crew->running == 0)
                pthread_cond_broadcast(&crew->wake);
        /* Exit after the window (crew_end), not inside it: a thread's exit frees memory. */
        while (!crew->quit)
                pthread_cond_wait(&crew->wake, &crew->lock);
        pthread_mutex_unlock(&crew->lock);
        return NULL;
}

/* Wake the crew and wait until every origin's suspend returned. */
static void crew_hold(HoldCrew *crew)
{
        pthread_mutex_lock(&crew->lock);
        crew->go = true;
        pthread_cond_broadcast(&crew->wake);
        while (crew->running > 0)
                pthread_cond_wait(&crew->wake, &crew->lock);
        pthread_mutex_unlock(&crew->lock);
}

static void crew_end(HoldCrew *crew)
{
        if (!crew)
                return;
        pthread_mutex_lock(&crew->lock);
        crew->quit = true;
        pthread_cond_broadcast(&crew->wake);
        pthread_mutex_unlock(&crew->lock);
        for (size_t i = 0; i < crew->n_threads; i++)
                pthread_join(crew->threads[i], NULL);
        pthread_cond_destroy(&crew->wake);
        pthread_mutex_destroy(&crew->lock);
        free(crew->threads);
        free(crew->seats);
        free(crew);
}

/* One thread per origin, with small stacks: their memory is locked for the window. */
static int crew_new(HoldWindow *w, struct vss_error_buf *err)
{
        HoldCrew *crew = calloc(1, sizeof(*crew));
        pthread_attr_t attr;
        int r = 0;

        if (!crew || !(crew->threads = calloc(w->n, sizeof(pthread_t))) ||
            !(crew->seats = calloc(w->n, sizeof(CrewSeat)))) {
                if (crew)
                        free(crew->threads);
                free(crew);
                return provider_error(err, -ENOMEM, "out of memory preparing set %s", w->set_id);
        }
        pthread_mutex_init(&crew->lock, NULL);
        pthread_cond_init(&crew->wake, NULL);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        /* Members wait for go or quit, which only come after this returns. */
        for (size_t i = 0; i < w->n && r == 0; i++) {
                crew->seats[i] = (CrewSeat){ crew, w, &w->origins[i] };
                r = -pthread_create(&crew->threads[i], &attr, crew_member, &crew->seats[i]);
                crew->n_threads += r == 0;
        }
        crew->running = crew->n_threads;
        pthread_attr_destroy(&attr);
        w->crew = crew;
        return r < 0 ? provider_error(err, r, "cannot start the threads that suspend the "
                                      "volumes of set %s: %s", w->set_id, strerror(-r)) : 0;
}

/* --- the window ---------------------------------------------------------------------- */

int hold_init(HoldWindow *w, const char *set_id, size_t max, struct vss_error_buf *err)
{
        *w = (HoldWindow){ .control_fd = -1, .max = max };
        atomic_init(&w->released, false);
        snprintf(w->set_id, sizeof(w->set_id), "%s", set_id);
        if (max && !(w->origins = calloc(max, sizeof(HeldOrigin))))
                return provider_error(err, -ENOMEM, "out of memory preparing set %s", set_id);
        return 0;
}

HeldOrigin *hold_add(HoldWindow *w, const char *name, struct vss_error_buf *err)
{
        if (w->n == w->max) {
                provider_error(err, -EINVAL, "set %s holds %zu volumes already", w->set_id,
                               w->max);
                return NULL;
        }
        HeldOrigin *o = &w->origins[w->n];
        if (provider_printf(o->name, sizeof(o->name), "%s", name) < 0 ||
            dm_switch_init(&o->suspend, name, true, false) < 0 ||
            dm_switch_init(&o->suspend_frozen, name, true, true) < 0 ||
            dm_switch_init(&o->resume, name, false, false) < 0) {
                provider_error(err, -ENAMETOOLONG, "device-mapper name %s too long", name);
                return NULL;
        }
        atomic_init(&o->state, HOLD_IDLE);
        w->n++;
        return o;
}

int hold_arm(HoldWindow *w, struct vss_error_buf *err)
{
        int r;

        if ((w->control_fd = dm_control_open(err)) < 0)
                return w->control_fd;
        if (w->n > 1 && (r = crew_new(w, err)) < 0)
                return r;
        /* The window must not wait on page faults: lock memory until release. */
        w->locked = w->n > 0 && mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
        if (w->n > 0 && !w->locked)
                provider_log(LOG_WARNING, "cannot lock memory for the hold window of set %s: %m",
                             w->set_id);
        return 0;
}

int hold_suspend_all(HoldWindow *w, struct vss_error_buf *err)
{
        int r = 0;

        if (hold_released(w))
                return hold_cancelled(w, err);
        if (!w->crew) {
                for (size_t i = 0; r == 0 && i < w->n; i++)
                        r = suspend_origin(w, &w->origins[i], err);
        } else {
                crew_hold(w->crew);
                for (size_t i = 0; r == 0 && i < w->n; i++)
                        if (w->origins[i].r < 0) {
                                memcpy(err, &w->origins[i].err, sizeof(*err));
                                r = w->origins[i].r;
                        }
        }
        if (r == 0)
                VSS_FAULT("after-suspend-all");
        return r;
}

static void unlock_memory(HoldWindow *w)
{
        if (w->locked) {
                w->locked = false;
                munlockall();
        }
}

int hold_release(HoldWindow *w, struct vss_error_buf *err)
{
        int first = 0;

        atomic_store(&w->released, true);
        for (size_t i = 0; w->control_fd >= 0 && i < w->n; i++) {
                HeldOrigin *o = &w->origins[i];
                if (!claim_release(o))
                        continue;
                int r = dm_switch_run(w->control_fd, &o->resume);
                if (r < 0 && first == 0)
                        first = provider_error(err, r, "cannot resume %s: %s", o->name,
                                               strerror(-r));
        }
        unlock_memory(w);
        return first;
}

void hold_free(HoldWindow *w)
{
        crew_end(w->crew);
        w->crew = NULL;
        if (w->control_fd >= 0)
                close(w->control_fd);
        w->control_fd = -1;
        unlock_memory(w);
        free(w->origins);
        w->origins = NULL;
        w->n = w->max = 0;
}

/* --- the provider's prepared sets ------------------------------------------------------ */

void hold_list_add(HoldList l, HoldWindow *w)
{
        pthread_mutex_lock(l.lock);
        w->next = *l.head;
        *l.head = w;
        pthread_mutex_unlock(l.lock);
}

HoldWindow *hold_list_find(HoldList l, const char *set_id)
{
        HoldWindow *w;

        pthread_mutex_lock(l.lock);
        for (w = *l.head; w && strcmp(w->set_id, set_id) != 0; w = w->next)
                ;
        pthread_mutex_unlock(l.lock);
        return w;
}

void hold_list_remove(HoldList l, HoldWindow *w)
{
        pthread_mutex_lock(l.lock);
        for (HoldWindow **p = l.head; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        pthread_mutex_unlock(l.lock);
}
