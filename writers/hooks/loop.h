/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop.h: the writer's one event loop, an epoll set of sources: the libvss
 * writer's descriptor, a signalfd, the pipes of running scripts and timers.
 * Single-threaded: every callback runs from loop_run_once().
 */
#ifndef VSS_HOOKS_LOOP_H
#define VSS_HOOKS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct source;
typedef void (*source_fn)(struct source *s, uint32_t events);

/* Embed one in whatever owns the descriptor; FN gets it back (container_of). */
struct source {
        int fd;
        source_fn fn;
};

int loop_init(void);
void loop_done(void);
/* Watch S->fd for input (and hang-up); -errno. */
int loop_add(struct source *s);
/* Stop watching S (before closing its fd). */
void loop_remove(struct source *s);
/* Wait for the next events (at most TIMEOUT_MS, -1: no limit) and run their callbacks. */
int loop_run_once(int timeout_ms);

/* A timer source: a CLOCK_MONOTONIC timerfd. */
int timer_new(struct source *s, source_fn fn);
/* Fire once, MS milliseconds from now (0: disarm). */
int timer_arm_ms(struct source *s, uint64_t ms);
/* Read the expiry count (call from the callback). */
void timer_ack(struct source *s);
void timer_free(struct source *s);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t now_ms(void);

#endif
