/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop.c: epoll + timerfd + signalfd event loop (see loop.h for the contract). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/util/cleanup.h"
#include "daemon/util/log.h"
#include "daemon/util/loop.h"

enum source_type { SOURCE_IO, SOURCE_TIMER, SOURCE_SIGNAL, SOURCE_DEFER };

struct LoopSource {
        Loop *loop;
        enum source_type type;
        int fd;       /* watched fd (io) or owned timerfd/signalfd */
        bool owns_fd;
        bool enabled; /* defer sources */
        bool dead;    /* freed while dispatching; memory released after the batch */
        union {
                loop_io_fn io;
                loop_timer_fn timer;
                loop_signal_fn signal;
                loop_defer_fn defer;
        } fn;
        void *userdata;
        /*
         * In loop->sources; kept when the source is freed, so that a walk over
         * the list (loop_run_defers) can go on from a source freed under it.
         */
        LoopSource *next;
        LoopSource *next_dead; /* in loop->graveyard */
};

struct Loop {
        int epoll_fd;
        LoopSource *sources;
        LoopSource *graveyard;
        bool exiting;
        int exit_code;
};

uint64_t loop_now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int loop_new(Loop **ret)
{
        Loop *loop = calloc(1, sizeof(*loop));

        if (!loop)
                return -ENOMEM;
        loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (loop->epoll_fd < 0) {
                int r = -errno;
                free(loop);
                return r;
        }
        *ret = loop;
        return 0;
}

static void source_release(LoopSource *s)
{
        if (s->owns_fd && s->fd >= 0)
                close(s->fd);
        free(s);
}

static void loop_collect_garbage(Loop *loop)
{
        while (loop->graveyard) {
                LoopSource *s = loop->graveyard;
                loop->graveyard = s->next_dead;
                source_release(s);
        }
}

Loop *loop_free(Loop *loop)
{
        if (!loop)
                return NULL;
        while (loop->sources)
                loop_source_free(loop->sources);
        loop_collect_garbage(loop);
        close(loop->epoll_fd);
        free(loop);
        return NULL;
}

static int source_new(Loop *loop, LoopSource **ret, enum source_type type, int fd,
                      bool owns_fd, void *userdata)
{
        LoopSource *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->loop = loop;
        s->type = type;
        s->fd = fd;
        s->owns_fd = owns_fd;
        s->userdata = userdata;
        s->next = loop->sources;
        loop->sources = s;
        *ret = s;
        return 0;
}

/* Create S's epoll registration; on failure S is freed. */
static int source_watch(LoopSource *s, uint32_t events, LoopSource **ret)
{
        struct epoll_event ev = { .events = events, .data.ptr = s };

        if (epoll_ctl(s->loop->epoll_fd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
                int r = -errno;
                loop_source_free(s); /* released after the current batch */
                return r;
        }
        if (ret)
                *ret = s;
        return 0;
}

int loop_add_io(Loop *loop, LoopSource **ret, int fd, uint32_t events, loop_io_fn fn,
                void *userdata)
{
        LoopSource *s;
        int r = source_new(loop, &s, SOURCE_IO, fd, false, userdata);

        if (r < 0)
                return r;
        s->fn.io = fn;
        return source_watch(s, events, ret);
}

int loop_source_set_io_events(LoopSource *s, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = s };

        return epoll_ctl(s->loop->epoll_fd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

int loop_add_timer(Loop *loop, LoopSource **ret, uint64_t usec, loop_timer_fn fn,
                   void *userdata)
{
        LoopSource *s;
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

        if (fd < 0)
                return -errno;
        int r = source_new(loop, &s, SOURCE_TIMER, fd, true, userdata);
        if (r < 0) {
                close(fd);
                return r;
        }
        s->fn.timer = fn;
        r = loop_source_set_timer(s, usec);
        if (r < 0) {
                loop_source_free(s);
                return r;
        }
        return source_watch(s, EPOLLIN, ret);
}

int loop_source_set_timer(LoopSource *s, uint64_t usec)
{
        struct itimerspec its = { 0 };

        /* A zero it_value disarms; so a due-now timer gets the smallest delay instead. */
        if (usec > 0) {
                its.it_value.tv_sec = (time_t)(usec / 1000000u);
                its.it_value.tv_nsec = (long)(usec % 1000000u) * 1000;
        }
        return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_signals(Loop *loop, LoopSource **ret, const int *signals, size_t n_signals,
                     loop_signal_fn fn, void *userdata)
{
        sigset_t mask;
        LoopSource *s;

        sigemptyset(&mask);
        for (size_t i = 0; i < n_signals; i++)
                sigaddset(&mask, signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        int r = source_new(loop, &s, SOURCE_SIGNAL, fd, true, userdata);
        if (r < 0) {
                close(fd);
                return r;
        }
        s->fn.signal = fn;
        return source_watch(s, EPOLLIN, ret);
}

int loop_add_defer(Loop *loop, LoopSource **ret, loop_defer_fn fn, void *userdata)
{
        LoopSource *s;
        int r = source_new(loop, &s, SOURCE_DEFER, -1, false, userdata);

        if (r < 0)
                return r;
        s->fn.defer = fn;
        s->enabled = true;
        if (ret)
                *ret = s;
        return 0;
}

void loop_source_set_enabled(LoopSource *s, bool enabled)
{
        s->enabled = enabled;
}

void *loop_source_get_userdata(LoopSource *s)
{
        return s->userdata;
}

LoopSource *loop_source_free(LoopSource *s)
{
        if (!s || s->dead)
                return NULL;
        Loop *loop = s->loop;
        for (LoopSource **p = &loop->sources; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        if (s->type != SOURCE_DEFER)
                epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
        s->dead = true;
        s->next_dead = loop->graveyard;
        loop->graveyard = s;
        return NULL;
}

void loop_exit(Loop *loop, int code)
{
        loop->exiting = true;
        loop->exit_code = code;
}

static int source_dispatch(LoopSource *s, uint32_t revents)
{
        switch (s->type) {
        case SOURCE_IO:
                return s->fn.io(s, s->fd, revents, s->userdata);
        case SOURCE_TIMER: {
                uint64_t expirations;
                if (read(s->fd, &expirations, sizeof(expirations)) < 0)
                        return errno == EAGAIN ? 0 : -errno;
                return s->fn.timer(s, s->userdata);
        }
        case SOURCE_SIGNAL: {
                struct signalfd_siginfo si;
                if (read(s->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                        return errno == EAGAIN ? 0 : -errno;
                return s->fn.signal(s, &si, s->userdata);
        }
        case SOURCE_DEFER:
                return s->fn.defer(s, s->userdata);
        }
        return 0;
}

/* Run enabled defer sources; returns whether any is still enabled afterwards. */
static bool loop_run_defers(Loop *loop)
{
        bool pending = false;

        /*
         * A callback may free any source, S included: freed sources keep their
         * memory and their NEXT until the batch ends, so the walk goes on from
         * S, skipping the dead, and runs each defer at most once.
         */
        for (LoopSource *s = loop->sources; s; s = s->next) {
                if (s->dead || s->type != SOURCE_DEFER || !s->enabled)
                        continue;
                int r = source_dispatch(s, 0);
                if (r < 0)
                        log_warning("deferred work failed: %s", strerror(-r));
                if (!s->dead && s->enabled)
                        pending = true;
        }
        return pending;
}

int loop_run(Loop *loop)
{
        struct epoll_event events[32];

        while (!loop->exiting) {
                bool pending = loop_run_defers(loop);
                loop_collect_garbage(loop);
                if (loop->exiting)
                        break;
                int n = epoll_wait(loop->epoll_fd, events, ELEMENTSOF(events), pending ? 0 : -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < n; i++) {
                        LoopSource *s = events[i].data.ptr;
                        if (s->dead)
                                continue;
                        int r = source_dispatch(s, events[i].events);
                        if (r < 0)
                                log_warning("event handler failed: %s", strerror(-r));
                }
                loop_collect_garbage(loop);
        }
        return loop->exit_code;
}
