/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop.h: the daemon's event loop: epoll over file descriptors, one-shot
 * monotonic timers (timerfd), signals (signalfd) and deferred work that runs
 * before the loop sleeps. Everything runs on one thread; nothing here blocks
 * except epoll_wait itself.
 *
 * A source may be freed from any callback, including its own and including
 * while another of its events is pending in the same wake-up: freeing only
 * unlinks it, and the memory is released after the batch.
 */
#ifndef VSS_UTIL_LOOP_H
#define VSS_UTIL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>

typedef struct Loop Loop;
typedef struct LoopSource LoopSource;

typedef int (*loop_io_fn)(LoopSource *source, int fd, uint32_t revents, void *userdata);
typedef int (*loop_timer_fn)(LoopSource *source, void *userdata);
typedef int (*loop_signal_fn)(LoopSource *source, const struct signalfd_siginfo *si,
                              void *userdata);
typedef int (*loop_defer_fn)(LoopSource *source, void *userdata);

int loop_new(Loop **ret);
/* Frees every source still attached. */
Loop *loop_free(Loop *loop);

/* Watch FD for EVENTS (EPOLLIN, EPOLLOUT...); the loop does not own FD. */
int loop_add_io(Loop *loop, LoopSource **ret, int fd, uint32_t events, loop_io_fn fn,
                void *userdata);
int loop_source_set_io_events(LoopSource *source, uint32_t events);

/* One-shot timer USEC microseconds from now; 0 creates it disarmed. */
int loop_add_timer(Loop *loop, LoopSource **ret, uint64_t usec, loop_timer_fn fn,
                   void *userdata);
/* Re-arm to fire USEC from now; 0 disarms. */
int loop_source_set_timer(LoopSource *source, uint64_t usec);

/* Block SIGNALS for the process and deliver them through FN. */
int loop_add_signals(Loop *loop, LoopSource **ret, const int *signals, size_t n_signals,
                     loop_signal_fn fn, void *userdata);

/* Work to run before the loop sleeps, on every iteration while enabled. */
int loop_add_defer(Loop *loop, LoopSource **ret, loop_defer_fn fn, void *userdata);
void loop_source_set_enabled(LoopSource *source, bool enabled);

/* Detach and free (later, if the loop is dispatching); accepts NULL; returns NULL. */
LoopSource *loop_source_free(LoopSource *source);
void *loop_source_get_userdata(LoopSource *source);

/* Run until loop_exit(); returns its code. A callback returning <0 is logged. */
int loop_run(Loop *loop);
void loop_exit(Loop *loop, int code);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t loop_now_usec(void);

#endif
