/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop.c: an epoll set over sources, and timerfd timers for it. */
#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "writers/hooks/loop.h"

static int epoll_fd = -1;

int loop_init(void)
{
        epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        return epoll_fd < 0 ? -errno : 0;
}

void loop_done(void)
{
        if (epoll_fd >= 0)
                close(epoll_fd);
        epoll_fd = -1;
}

int loop_add(struct source *s)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s->fd, &ev) < 0 ? -errno : 0;
}

void loop_remove(struct source *s)
{
        if (s->fd >= 0)
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
}

int loop_run_once(int timeout_ms)
{
        struct epoll_event ev;

        /*
         * One event per wait: a callback may remove and free another source
         * (a script's pipe when the script is done), and a batch of events
         * would then still point at it.
         */
        int n = epoll_wait(epoll_fd, &ev, 1, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        if (n == 1) {
                struct source *s = ev.data.ptr;
                s->fn(s, ev.events);
        }
        return 0;
}

int timer_new(struct source *s, source_fn fn)
{
        s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->fd < 0)
                return -errno;
        s->fn = fn;
        int r = loop_add(s);
        if (r < 0) {
                close(s->fd);
                s->fd = -1;
        }
        return r;
}

int timer_arm_ms(struct source *s, uint64_t ms)
{
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 },
        };
        return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void timer_ack(struct source *s)
{
        uint64_t expirations;
        ssize_t r = read(s->fd, &expirations, sizeof(expirations));
        (void)r; /* EAGAIN: disarmed or re-armed meanwhile */
}

void timer_free(struct source *s)
{
        if (s->fd < 0)
                return;
        loop_remove(s);
        close(s->fd);
        s->fd = -1;
}

uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
