/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_loop.c: vssd's event loop (daemon/util/loop.c). The daemon's
 * timeouts (freeze, hold window), its signals (SIGTERM, SIGHUP) and the D-Bus
 * connection all ride on it, so: timers fire in deadline order and can be
 * re-armed or disarmed, a source freed (or re-armed) by an earlier callback of
 * the same wake-up is not dispatched, signals arrive through signalfd instead
 * of killing the process, deferred work runs before the loop sleeps, a failing
 * callback does not stop the loop, and loop_free() releases every fd.
 *
 * Waits are on events (timers, pipes); the only clock wait makes timers expire
 * before the loop runs, so that they land in one epoll batch.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "daemon/util/loop.h"

#define MSEC 1000u

static Loop *loop;
static LoopSource *guard;

static int guard_fired(LoopSource *s, void *userdata)
{
        loop_exit(loop, -ETIMEDOUT);
        return 0;
}

static void setup(void)
{
        ck_assert_int_eq(loop_new(&loop), 0);
        /* A broken loop fails by this exit code, long before Check's timeout. */
        ck_assert_int_eq(loop_add_timer(loop, &guard, 10000 * MSEC, guard_fired, NULL), 0);
}

static void teardown(void)
{
        loop = loop_free(loop);
}

/* Sleep until CLOCK_MONOTONIC reaches DEADLINE_USEC (a deadline, not a guess). */
static void wait_until(uint64_t deadline_usec)
{
        struct timespec ts = { .tv_sec = (time_t)(deadline_usec / 1000000u),
                               .tv_nsec = (long)(deadline_usec % 1000000u) * 1000 };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int count_open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* --- timers ------------------------------------------------------------------- */

struct order {
        int seen[16];
        struct tagged *fired[16];
        uint64_t at[16];
        int n;
        int exit_after;
};

struct tagged {
        struct order *order;
        int tag;
        LoopSource *other; /* for the callbacks that act on another source */
        uint64_t earliest, latest; /* bounds of its deadline */
};

static int record_timer(LoopSource *s, void *userdata)
{
        struct tagged *t = userdata;

        t->order->at[t->order->n] = loop_now_usec();
        t->order->fired[t->order->n] = t;
        t->order->seen[t->order->n++] = t->tag;
        if (t->order->n == t->order->exit_after)
                loop_exit(loop, 0);
        return 0;
}

/* A timer TAG ms from now; its deadline is known within the time creating it takes. */
static void add_tagged_timer(struct tagged *t)
{
        uint64_t delay = (uint64_t)t->tag * MSEC;

        t->earliest = loop_now_usec() + delay;
        ck_assert_int_eq(loop_add_timer(loop, NULL, delay, record_timer, t), 0);
        t->latest = loop_now_usec() + delay;
}

/*
 * None fired early, and none fired after a timer whose deadline was certainly
 * later than its own (on a loaded machine creating the timers can take long
 * enough to make two deadlines too close to call; those may go either way).
 */
static void assert_deadline_order(const struct order *o)
{
        for (int i = 0; i < o->n; i++) {
                ck_assert_uint_ge(o->at[i], o->fired[i]->earliest);
                for (int j = i + 1; j < o->n; j++)
                        ck_assert_msg(o->fired[j]->latest >= o->fired[i]->earliest,
                                      "the %d ms timer fired after the %d ms one, although due "
                                      "%llu us before it", o->fired[j]->tag, o->fired[i]->tag,
                                      (unsigned long long)(o->fired[i]->earliest -
                                                           o->fired[j]->latest));
        }
}

START_TEST(test_timers_fire_in_deadline_order)
{
        struct order o = { .exit_after = 3 };
        struct tagged t[3] = { { &o, 30, NULL, 0, 0 }, { &o, 10, NULL, 0, 0 },
                               { &o, 20, NULL, 0, 0 } };

        /* Created out of order on purpose. */
        for (int i = 0; i < 3; i++)
                add_tagged_timer(&t[i]);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(o.n, 3);
        assert_deadline_order(&o);
}
END_TEST

/* Already expired when the loop wakes: one batch, still in deadline order. */
START_TEST(test_expired_timers_in_one_batch_keep_order)
{
        struct order o = { .exit_after = 4 };
        struct tagged t[4] = { { &o, 8, NULL, 0, 0 }, { &o, 2, NULL, 0, 0 },
                               { &o, 6, NULL, 0, 0 }, { &o, 4, NULL, 0, 0 } };

        for (int i = 0; i < 4; i++)
                add_tagged_timer(&t[i]);
        wait_until(t[0].latest + 10 * MSEC);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(o.n, 4);
        assert_deadline_order(&o);
}
END_TEST

static int exit_with_7(LoopSource *s, void *userdata)
{
        loop_exit(loop, 7);
        return 0;
}

START_TEST(test_exit_code_returned)
{
        ck_assert_int_eq(loop_add_timer(loop, NULL, 1, exit_with_7, NULL), 0);
        ck_assert_int_eq(loop_run(loop), 7);
}
END_TEST

static int count_and_fail(LoopSource *s, void *userdata)
{
        (*(int *)userdata)++;
        return 0;
}

START_TEST(test_disarmed_timers_do_not_fire)
{
        int zero_fired = 0, disarmed_fired = 0;
        LoopSource *armed_later;

        /* usec 0: created disarmed. */
        ck_assert_int_eq(loop_add_timer(loop, NULL, 0, count_and_fail, &zero_fired), 0);
        ck_assert_int_eq(loop_add_timer(loop, &armed_later, 5 * MSEC, count_and_fail,
                                        &disarmed_fired), 0);
        ck_assert_int_eq(loop_source_set_timer(armed_later, 0), 0);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 40 * MSEC, exit_with_7, NULL), 0);
        ck_assert_int_eq(loop_run(loop), 7);
        ck_assert_int_eq(zero_fired, 0);
        ck_assert_int_eq(disarmed_fired, 0);
}
END_TEST

struct rearm {
        int fired;
        int times;
        uint64_t interval;
};

static int rearm_timer(LoopSource *s, void *userdata)
{
        struct rearm *r = userdata;

        if (++r->fired == r->times)
                loop_exit(loop, 0);
        else
                ck_assert_int_eq(loop_source_set_timer(s, r->interval), 0);
        return 0;
}

START_TEST(test_timer_rearmed_from_its_callback)
{
        struct rearm r = { .times = 5, .interval = 2 * MSEC };
        LoopSource *t;

        /* Disarmed at first, armed later: how the daemon sets a hold-window bound. */
        ck_assert_int_eq(loop_add_timer(loop, &t, 0, rearm_timer, &r), 0);
        ck_assert_int_eq(loop_source_set_timer(t, 1), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(r.fired, 5);
}
END_TEST

static int free_other_timer(LoopSource *s, void *userdata)
{
        struct tagged *t = userdata;

        record_timer(s, userdata);
        loop_source_free(t->other);
        return 0;
}

static int rearm_other_timer(LoopSource *s, void *userdata)
{
        struct tagged *t = userdata;

        record_timer(s, userdata);
        ck_assert_int_eq(loop_source_set_timer(t->other, 15 * MSEC), 0);
        return 0;
}

/* The earlier timer cancels the later one; both had expired before the wake-up. */
START_TEST(test_timer_freed_in_same_batch_not_dispatched)
{
        struct order o = { .exit_after = -1 };
        struct tagged first = { &o, 1, NULL, 0, 0 }, second = { &o, 2, NULL, 0, 0 };

        /* Created in deadline order, so the order holds however long creating takes. */
        ck_assert_int_eq(loop_add_timer(loop, NULL, 1 * MSEC, free_other_timer, &first), 0);
        ck_assert_int_eq(loop_add_timer(loop, &first.other, 2 * MSEC, record_timer, &second), 0);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 30 * MSEC, exit_with_7, NULL), 0);
        wait_until(loop_now_usec() + 10 * MSEC);
        ck_assert_int_eq(loop_run(loop), 7);
        ck_assert_int_eq(o.n, 1);
        ck_assert_int_eq(o.seen[0], 1);
}
END_TEST

/* Re-arming a timer that is pending in the batch postpones it: no stale firing. */
START_TEST(test_timer_rearmed_in_same_batch_fires_at_new_deadline)
{
        struct order o = { .exit_after = 2 };
        struct tagged first = { &o, 1, NULL, 0, 0 }, second = { &o, 2, NULL, 0, 0 };

        ck_assert_int_eq(loop_add_timer(loop, NULL, 1 * MSEC, rearm_other_timer, &first), 0);
        ck_assert_int_eq(loop_add_timer(loop, &first.other, 2 * MSEC, record_timer, &second), 0);
        wait_until(loop_now_usec() + 10 * MSEC);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(o.n, 2);
        ck_assert_int_eq(o.seen[0], 1);
        ck_assert_int_eq(o.seen[1], 2);
        /* The second fired 15 ms after the first re-armed it, not at its old deadline. */
        ck_assert_uint_ge(o.at[1] - o.at[0], 15 * MSEC);
}
END_TEST

/* --- io ----------------------------------------------------------------------- */

struct pipe_io {
        int fds[2];
        LoopSource *source;
        int calls;
        uint32_t revents;
        struct pipe_io *victim;
};

static void pipe_open(struct pipe_io *p)
{
        ck_assert_int_eq(pipe2(p->fds, O_CLOEXEC | O_NONBLOCK), 0);
}

static void pipe_close(struct pipe_io *p)
{
        close(p->fds[0]);
        if (p->fds[1] >= 0)
                close(p->fds[1]);
}

static int io_free_victim(LoopSource *s, int fd, uint32_t revents, void *userdata)
{
        struct pipe_io *p = userdata;

        p->calls++;
        p->victim->source = loop_source_free(p->victim->source);
        loop_exit(loop, 0); /* the rest of the batch is still dispatched */
        return 0;
}

/*
 * Two sources readable in the same wake-up; whichever runs first frees the
 * other, which must then not run (its memory is still valid, but it is dead).
 */
START_TEST(test_io_freed_in_same_batch_not_dispatched)
{
        struct pipe_io a = { 0 }, b = { 0 };

        pipe_open(&a);
        pipe_open(&b);
        a.victim = &b;
        b.victim = &a;
        ck_assert_int_eq(write(a.fds[1], "x", 1), 1);
        ck_assert_int_eq(write(b.fds[1], "x", 1), 1);
        ck_assert_int_eq(loop_add_io(loop, &a.source, a.fds[0], EPOLLIN, io_free_victim, &a), 0);
        ck_assert_int_eq(loop_add_io(loop, &b.source, b.fds[0], EPOLLIN, io_free_victim, &b), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(a.calls + b.calls, 1);
        pipe_close(&a);
        pipe_close(&b);
}
END_TEST

static int io_free_self(LoopSource *s, int fd, uint32_t revents, void *userdata)
{
        struct pipe_io *p = userdata;

        p->calls++;
        p->source = loop_source_free(s);
        return 0;
}

/* A source freeing itself is not called again although its fd stays readable. */
START_TEST(test_io_free_self)
{
        struct pipe_io p = { 0 };

        pipe_open(&p);
        ck_assert_int_eq(write(p.fds[1], "x", 1), 1);
        ck_assert_int_eq(loop_add_io(loop, &p.source, p.fds[0], EPOLLIN, io_free_self, &p), 0);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 30 * MSEC, exit_with_7, NULL), 0);
        ck_assert_int_eq(loop_run(loop), 7);
        ck_assert_int_eq(p.calls, 1);
        pipe_close(&p);
}
END_TEST

static int io_record(LoopSource *s, int fd, uint32_t revents, void *userdata)
{
        struct pipe_io *p = userdata;

        p->calls++;
        p->revents = revents;
        loop_exit(loop, 0);
        return 0;
}

START_TEST(test_io_events_changed)
{
        struct pipe_io p = { 0 };
        LoopSource *w;

        pipe_open(&p);
        /* The write end is writable at once, but nobody asked for EPOLLOUT yet. */
        ck_assert_int_eq(loop_add_io(loop, &w, p.fds[1], 0, io_record, &p), 0);
        ck_assert_int_eq(loop_source_set_io_events(w, EPOLLOUT), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(p.calls, 1);
        ck_assert(p.revents & EPOLLOUT);
        pipe_close(&p);
}
END_TEST

START_TEST(test_io_hangup_reported)
{
        struct pipe_io p = { 0 };

        pipe_open(&p);
        ck_assert_int_eq(loop_add_io(loop, NULL, p.fds[0], EPOLLIN, io_record, &p), 0);
        close(p.fds[1]);
        p.fds[1] = -1;
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert(p.revents & EPOLLHUP);
        pipe_close(&p);
}
END_TEST

START_TEST(test_io_bad_fd_refused)
{
        struct pipe_io p = { 0 };
        LoopSource *sentinel = (LoopSource *)&p, *s = sentinel;

        ck_assert_int_eq(loop_add_io(loop, &s, -1, EPOLLIN, io_record, &p), -EBADF);
        ck_assert_ptr_eq(s, sentinel);
        /* epoll takes an fd once: why bus.c dup()s each D-Bus watch's fd. */
        pipe_open(&p);
        ck_assert_int_eq(loop_add_io(loop, NULL, p.fds[0], EPOLLIN, io_record, &p), 0);
        ck_assert_int_eq(loop_add_io(loop, &s, p.fds[0], EPOLLOUT, io_record, &p), -EEXIST);
        ck_assert_ptr_eq(s, sentinel);
        pipe_close(&p);
        /* The refused sources are released by loop_free() (valgrind checks it). */
}
END_TEST

static int io_fail(LoopSource *s, int fd, uint32_t revents, void *userdata)
{
        struct pipe_io *p = userdata;
        char c;

        p->calls++;
        ck_assert_int_eq(read(fd, &c, 1), 1);
        return -EIO;
}

/* A failing handler is logged; the daemon keeps serving. */
START_TEST(test_failing_callback_does_not_stop_loop)
{
        struct pipe_io p = { 0 };
        char logged[512] = "";
        int saved = dup(STDERR_FILENO), logfd[2];

        pipe_open(&p);
        ck_assert_int_eq(pipe2(logfd, O_CLOEXEC | O_NONBLOCK), 0);
        ck_assert_int_eq(dup2(logfd[1], STDERR_FILENO), STDERR_FILENO);
        ck_assert_int_eq(write(p.fds[1], "x", 1), 1);
        ck_assert_int_eq(loop_add_io(loop, NULL, p.fds[0], EPOLLIN, io_fail, &p), 0);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 20 * MSEC, exit_with_7, NULL), 0);
        int r = loop_run(loop);
        ssize_t n = read(logfd[0], logged, sizeof(logged) - 1);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(logfd[0]);
        close(logfd[1]);
        ck_assert_int_eq(r, 7);
        ck_assert_int_eq(p.calls, 1);
        ck_assert_int_gt(n, 0);
        ck_assert_msg(strstr(logged, strerror(EIO)), "logged: %s", logged);
        pipe_close(&p);
}
END_TEST

/* --- signals ------------------------------------------------------------------ */

struct sigs {
        int signo[4];
        int value[4];
        pid_t pid[4];
        int n;
};

static int on_signal(LoopSource *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct sigs *g = userdata;

        g->signo[g->n] = (int)si->ssi_signo;
        g->value[g->n] = si->ssi_int;
        g->pid[g->n] = (pid_t)si->ssi_pid;
        if (++g->n == 2)
                loop_exit(loop, 0);
        return 0;
}

START_TEST(test_signals_through_signalfd)
{
        static const int signals[] = { SIGUSR1, SIGUSR2 };
        struct sigs g = { 0 };
        sigset_t blocked;

        ck_assert_int_eq(loop_add_signals(loop, NULL, signals, 2, on_signal, &g), 0);
        /* Blocked for the process: the default action (terminate) never happens. */
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &blocked), 0);
        ck_assert(sigismember(&blocked, SIGUSR1));
        ck_assert(sigismember(&blocked, SIGUSR2));
        ck_assert_int_eq(sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 22 }), 0);
        ck_assert_int_eq(sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 11 }), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(g.n, 2);
        /* Both arrive, each once, with who sent them. */
        ck_assert_int_eq(g.signo[0] + g.signo[1], SIGUSR1 + SIGUSR2);
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(g.value[i], g.signo[i] == SIGUSR1 ? 11 : 22);
                ck_assert_int_eq(g.pid[i], getpid());
        }
}
END_TEST

/* --- defer -------------------------------------------------------------------- */

struct defers {
        int runs[4];
        int iteration_runs[4]; /* runs during the first pass */
        LoopSource *src[4];
        int stop_after;
};

static int defer_count(LoopSource *s, void *userdata)
{
        int *runs = userdata;

        if (++*runs == 3)
                loop_exit(loop, 0);
        return 0;
}

/* Deferred work keeps the loop from sleeping: no other source ever fires here. */
START_TEST(test_defer_runs_every_iteration_while_enabled)
{
        int runs = 0, disabled_runs = 0;
        LoopSource *d, *off;

        ck_assert_int_eq(loop_add_defer(loop, &off, defer_count, &disabled_runs), 0);
        loop_source_set_enabled(off, false);
        ck_assert_int_eq(loop_add_defer(loop, &d, defer_count, &runs), 0);
        ck_assert_ptr_eq(loop_source_get_userdata(d), &runs);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(runs, 3);
        ck_assert_int_eq(disabled_runs, 0);
}
END_TEST

static int defer_once(LoopSource *s, void *userdata)
{
        (*(int *)userdata)++;
        loop_source_set_enabled(s, false);
        loop_exit(loop, 0);
        return 0;
}

static int enable_defer(LoopSource *s, void *userdata)
{
        loop_source_set_enabled(userdata, true);
        return 0;
}

/* How bus.c dispatches: an event enables the defer, which runs before sleeping. */
START_TEST(test_defer_enabled_by_event)
{
        int runs = 0;
        LoopSource *d;

        ck_assert_int_eq(loop_add_defer(loop, &d, defer_once, &runs), 0);
        loop_source_set_enabled(d, false);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 5 * MSEC, enable_defer, d), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(runs, 1);
}
END_TEST

struct defer_ctx {
        struct defers *d;
        int index;
};

static int defer_a_frees_b(LoopSource *s, void *userdata)
{
        struct defer_ctx *c = userdata;

        c->d->runs[c->index]++;
        if (c->d->runs[c->index] == 1)
                c->d->src[1] = loop_source_free(c->d->src[1]);
        return 0;
}

static int defer_plain(LoopSource *s, void *userdata)
{
        struct defer_ctx *c = userdata;

        c->d->runs[c->index]++;
        if (c->index == c->d->stop_after)
                loop_exit(loop, 0);
        return 0;
}

/*
 * In one pass over the deferred work, A frees B: B must not run, and A and C
 * run once each (each is "work to run before the loop sleeps", not twice).
 */
START_TEST(test_defer_freed_by_earlier_defer)
{
        struct defers d = { .stop_after = 2 };
        struct defer_ctx ca = { &d, 0 }, cb = { &d, 1 }, cc = { &d, 2 };

        /* Newest first in the loop: created C, B, A to run A, B, C. */
        ck_assert_int_eq(loop_add_defer(loop, &d.src[2], defer_plain, &cc), 0);
        ck_assert_int_eq(loop_add_defer(loop, &d.src[1], defer_plain, &cb), 0);
        ck_assert_int_eq(loop_add_defer(loop, &d.src[0], defer_a_frees_b, &ca), 0);
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(d.runs[1], 0);
        ck_assert_int_eq(d.runs[2], 1);
        ck_assert_msg(d.runs[0] == 1, "A ran %d times in one pass", d.runs[0]);
}
END_TEST

static int defer_free_self(LoopSource *s, void *userdata)
{
        (*(int *)userdata)++;
        loop_source_free(s);
        return 0;
}

START_TEST(test_defer_free_self)
{
        int runs = 0;
        LoopSource *d;

        ck_assert_int_eq(loop_add_defer(loop, &d, defer_free_self, &runs), 0);
        ck_assert_int_eq(loop_add_timer(loop, NULL, 10 * MSEC, exit_with_7, NULL), 0);
        ck_assert_int_eq(loop_run(loop), 7);
        ck_assert_int_eq(runs, 1);
}
END_TEST

/* --- life cycle ---------------------------------------------------------------- */

START_TEST(test_free_releases_every_fd)
{
        static const int signals[] = { SIGUSR1 };
        struct pipe_io p = { 0 };
        Loop *l;
        int runs = 0;

        pipe_open(&p);
        int before = count_open_fds();
        ck_assert_int_eq(loop_new(&l), 0);
        ck_assert_int_eq(loop_add_io(l, NULL, p.fds[0], EPOLLIN, io_record, &p), 0);
        ck_assert_int_eq(loop_add_timer(l, NULL, 1000 * MSEC, guard_fired, NULL), 0);
        ck_assert_int_eq(loop_add_timer(l, NULL, 0, guard_fired, NULL), 0);
        ck_assert_int_eq(loop_add_signals(l, NULL, signals, 1, on_signal, NULL), 0);
        ck_assert_int_eq(loop_add_defer(l, &(LoopSource *){ NULL }, defer_count, &runs), 0);
        ck_assert_int_gt(count_open_fds(), before);
        ck_assert_ptr_null(loop_free(l));
        ck_assert_int_eq(count_open_fds(), before);
        /* The io source's fd belongs to the caller and stays open. */
        ck_assert_int_eq(fcntl(p.fds[0], F_GETFD), FD_CLOEXEC);
        pipe_close(&p);
        ck_assert_ptr_null(loop_free(NULL));
        ck_assert_ptr_null(loop_source_free(NULL));
}
END_TEST

START_TEST(test_now_is_monotonic)
{
        uint64_t a = loop_now_usec(), b = loop_now_usec();

        ck_assert_uint_gt(a, 0);
        ck_assert_uint_ge(b, a);
}
END_TEST

static Suite *loop_suite(void)
{
        Suite *s = suite_create("loop");
        TCase *tc = tcase_create("timers");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_timers_fire_in_deadline_order);
        tcase_add_test(tc, test_expired_timers_in_one_batch_keep_order);
        tcase_add_test(tc, test_exit_code_returned);
        tcase_add_test(tc, test_disarmed_timers_do_not_fire);
        tcase_add_test(tc, test_timer_rearmed_from_its_callback);
        tcase_add_test(tc, test_timer_freed_in_same_batch_not_dispatched);
        tcase_add_test(tc, test_timer_rearmed_in_same_batch_fires_at_new_deadline);
        tcase_add_test(tc, test_now_is_monotonic);
        suite_add_tcase(s, tc);

        tc = tcase_create("io");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_io_freed_in_same_batch_not_dispatched);
        tcase_add_test(tc, test_io_free_self);
        tcase_add_test(tc, test_io_events_changed);
        tcase_add_test(tc, test_io_hangup_reported);
        tcase_add_test(tc, test_io_bad_fd_refused);
        tcase_add_test(tc, test_failing_callback_does_not_stop_loop);
        suite_add_tcase(s, tc);

        tc = tcase_create("signals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_signals_through_signalfd);
        suite_add_tcase(s, tc);

        tc = tcase_create("defer");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_defer_runs_every_iteration_while_enabled);
        tcase_add_test(tc, test_defer_enabled_by_event);
        tcase_add_test(tc, test_defer_freed_by_earlier_defer);
        tcase_add_test(tc, test_defer_free_self);
        suite_add_tcase(s, tc);

        tc = tcase_create("lifecycle");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_free_releases_every_fd);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(loop_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
