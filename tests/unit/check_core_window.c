/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_window.c: the hold window, one provider job across every
 * provider of the set: hold all, then commit all, then release all; a failure
 * at any op of any provider still releases what was held; the bound passing
 * (the watchdog) or AbortBackup at any op cuts it short; the window job and
 * the watchdog never both release a provider, also on real threads; and the
 * window allocates nothing. In a started core the guard thread releases a
 * stuck window at the bound on its own clock, with the main loop blocked.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/core-env.h"

/* One volume each of "fake" and "other": the window spans two providers, in that order. */
static const char *const mixed[] = { "/dev/fake/a", "/dev/other/a", NULL };

static const char *const providers[] = { "fake", "other" };

/* Everything up to the window, as the trace shows it. */
#define BEFORE "w:PrepareSnapshot fake:prepare other:prepare w:Freeze "
#define ALL_HELD "fake:hold other:hold"
#define ALL_COMMITTED ALL_HELD " fake:commit other:commit"

static CoreSession *two_provider_session(void)
{
        env_add_other_provider();
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, mixed);
        trace_clear();
        return s;
}

/* Each provider's own log shows the releases WINDOW (a trace) shows for it: one or none. */
static void assert_releases(const char *set_id, const char *window)
{
        for (size_t i = 0; i < ELEMENTSOF(providers); i++) {
                char word[32];
                unsigned expect = 0;
                snprintf(word, sizeof(word), "%s:release", providers[i]);
                for (const char *p = window; (p = strstr(p, word)); p++)
                        expect++;
                ck_assert_uint_le(expect, 1);
                ck_assert_uint_eq(log_count(providers[i], "release", set_id), expect);
        }
}

/* No provider got more than one release, and each that held got exactly one. */
static void assert_released_once(const char *set_id)
{
        for (size_t i = 0; i < ELEMENTSOF(providers); i++) {
                unsigned holds = log_count(providers[i], "hold", set_id);
                unsigned releases = log_count(providers[i], "release", set_id);
                ck_assert_msg(releases <= 1, "%s released %u times", providers[i], releases);
                ck_assert_msg(holds == 0 || releases == 1, "%s held but released %u times",
                              providers[i], releases);
        }
}

/* --- one job --------------------------------------------------------------------------- */

/* HoldWindowUsec: how long the volumes were held, measured around the provider calls. */
START_TEST(test_window_length_is_measured)
{
        CoreSession *s = two_provider_session();
        fault_on("other", "stall commit 50");
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_uint_eq(s->set->hold_window_usec, 0);
        run_job_now();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_ge(s->set->hold_window_usec, 50000);
        ck_assert_uint_lt(s->set->hold_window_usec, 10000000);
}
END_TEST

START_TEST(test_window_is_one_job_hold_all_commit_all_release_all)
{
        CoreSession *s = two_provider_session();
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_int_eq(s->set->state, CORE_SET_COMMITTING);
        ck_assert_uint_eq(E.n_jobs, 1);
        ck_assert_str_eq(core_job_op_to_string(E.jobs[0]->op), "window");
        ck_assert_str_eq(E.trace, "w:PrepareSnapshot fake:prepare other:prepare w:Freeze");
        ck_assert_uint_eq(E.deadline, E.now + 10000); /* the bound runs from here */
        trace_clear();
        run_job_now(); /* that one job, then whatever follows it */
        ck_assert_str_eq(E.trace, ALL_COMMITTED " fake:release other:release w:Thaw "
                         "w:PostSnapshot");
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_uint_eq(s->set->snapshots->creation_usec, 1700000000000000ull + E.now * 1000);
        for (size_t i = 0; i < ELEMENTSOF(providers); i++) {
                ck_assert_uint_eq(log_count(providers[i], "hold", s->set->id), 1);
                ck_assert_uint_eq(log_count(providers[i], "commit", s->set->id), 1);
                ck_assert_uint_eq(log_count(providers[i], "release", s->set->id), 1);
        }
        ck_assert_uint_eq(E.n_watchdog, 0);
}
END_TEST

/*
 * Allocations counted while "counting" is on: this program's malloc family
 * interposes libc's (glibc supports that) and passes every call on.
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static bool counting;
static unsigned allocations;

void *malloc(size_t size)
{
        allocations += counting;
        return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
        allocations += counting;
        return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
        allocations += counting;
        return __libc_realloc(p, size);
}

void free(void *p)
{
        __libc_free(p);
}

/* The job that runs the window was made at DoSnapshotSet, and running it allocates nothing. */
START_TEST(test_window_allocates_nothing)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        env_add_other_provider();
        CoreSession *s = prepared_session(OWNER, mixed);
        tw->silent_at = CORE_EVENT_PREPARE_SNAPSHOT;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        CoreJob *made = s->set->window_job;
        ck_assert_ptr_nonnull(made);
        ck_assert_ptr_nonnull(s->set->watchdog_job);
        E.stop_op = CORE_JOB_WINDOW;
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        pump();
        ck_assert_uint_eq(E.n_jobs, 1);
        CoreJob *job = E.jobs[0];
        ck_assert_ptr_eq(job, made);
        E.n_jobs = 0;
        counting = true;
        free(malloc(1)); /* the count works (else this test would prove nothing) */
        ck_assert_uint_eq(allocations, 1);
        allocations = 0;
        core_job_execute(job); /* the whole window, on this thread */
        counting = false;
        ck_assert_uint_eq(allocations, 0);
        ck_assert_uint_eq(trace_count("fake:release") + trace_count("other:release"), 2);
        core_job_complete(job);
        release_all();
        ck_assert_int_eq(c.r, 0);
}
END_TEST

/* The env refusing the window job fails the set like a provider failing its hold. */
START_TEST(test_window_refused_fails_the_set)
{
        CoreSession *s = two_provider_session();
        E.refuse_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        assert_contains(c.message, "provider 'fake' failed to hold snapshot set");
        assert_contains(c.message, "could not start window");
        ck_assert_str_eq(E.trace, BEFORE "w:Abort fake:abort other:abort");
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_uint_eq(E.deadline, UINT64_MAX); /* the bound is off */
        ck_assert_uint_eq(E.n_watchdog, 0);
        ck_assert(creation_allowed());
}
END_TEST

/* --- failures at every op of every provider ---------------------------------------------- */

static const struct {
        const char *provider;
        const char *op;
        const char *window; /* the ops the window ran */
} failures[] = {
        { "fake", "hold", "fake:hold" },
        { "other", "hold", ALL_HELD " fake:release" },
        { "fake", "commit", ALL_HELD " fake:commit fake:release other:release" },
        { "other", "commit", ALL_COMMITTED " fake:release other:release" },
        { "fake", "release", ALL_COMMITTED " fake:release other:release" },
        { "other", "release", ALL_COMMITTED " fake:release other:release" },
};

/* Holding and committing stop at the failure; whatever was held is released; the set aborts. */
START_TEST(test_failure_in_window_releases_what_was_held)
{
        const char *provider = failures[_i].provider, *op = failures[_i].op;
        CoreSession *s = two_provider_session();
        char line[64], expect[512];
        snprintf(line, sizeof(line), "fail %s ENOSPC", op);
        fault_on(provider, line);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        snprintf(expect, sizeof(expect), "provider '%s' failed to %s snapshot set %s: fake "
                 "provider: injected failure at %s", provider, op, s->set->id, op);
        assert_contains(c.message, expect);
        snprintf(expect, sizeof(expect), BEFORE "%s w:Abort fake:abort other:abort",
                 failures[_i].window);
        ck_assert_str_eq(E.trace, expect);
        assert_releases(s->set->id, failures[_i].window);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert_uint_eq(E.n_watchdog, 0);
        ck_assert(creation_allowed());
}
END_TEST

/* The window came back failed and the abort is slow: the bound no longer applies. */
START_TEST(test_bound_is_off_once_the_window_is_back)
{
        CoreSession *s = two_provider_session();
        fault_on("other", "fail commit");
        E.stop_op = CORE_JOB_ABORT;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTING);
        pass_hold_bound();
        ck_assert_uint_eq(E.n_watchdog, 0);
        release_all();
        ck_assert_int_eq(c.r, -VSS_E_PROVIDER_FAILED);
        ck_assert_ptr_null(strstr(c.message, "bound"));
        assert_releases(s->set->id, "fake:release other:release");
}
END_TEST

/* --- cut short at every op: the bound passing, AbortBackup --------------------------------- */

static const struct {
        const char *at;       /* the op that was running */
        const char *bound;    /* the window, the bound passing just before that op returned */
        const char *aborted;  /* the same with AbortBackup instead */
} cuts[] = {
        { "fake:hold", "fake:hold watchdog fake:release w:Abort",
          "fake:hold w:Abort fake:release" },
        { "other:hold", ALL_HELD " watchdog fake:release other:release w:Abort",
          ALL_HELD " w:Abort fake:release other:release" },
        { "fake:commit", ALL_HELD " fake:commit watchdog fake:release other:release w:Abort",
          ALL_HELD " fake:commit w:Abort fake:release other:release" },
        { "other:commit", ALL_COMMITTED " watchdog fake:release other:release w:Abort",
          ALL_COMMITTED " w:Abort fake:release other:release" },
        { "fake:release", ALL_COMMITTED " fake:release watchdog other:release w:Abort",
          ALL_COMMITTED " fake:release w:Abort other:release" },
        { "other:release", ALL_COMMITTED " fake:release other:release watchdog w:Abort",
          ALL_COMMITTED " fake:release other:release w:Abort" },
};

/*
 * The bound passes while an op runs: the watchdog releases whatever was held
 * and not yet released, the window holds and commits no more, the set fails.
 */
START_TEST(test_bound_passing_mid_window_releases_each_provider_once)
{
        CoreSession *s = two_provider_session();
        at_op(cuts[_i].at, pass_hold_bound);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_HOLD_TIMEOUT);
        char expect[512], provider[16], op[16];
        sscanf(cuts[_i].at, "%15[^:]:%15s", provider, op);
        snprintf(expect, sizeof(expect), "hold-window bound of 10000 ms (provider '%s' was "
                 "still in %s)", provider, op);
        assert_contains(c.message, expect);
        snprintf(expect, sizeof(expect), BEFORE "%s fake:abort other:abort", cuts[_i].bound);
        ck_assert_str_eq(E.trace, expect);
        ck_assert_uint_eq(E.n_watchdog, 1);
        assert_releases(s->set->id, cuts[_i].bound);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

static CoreSession *aborting;

static void abort_backup_now(void)
{
        ck_assert_int_eq(core_session_abort_backup(aborting, OWNER, NULL), 0);
}

/* AbortBackup while an op runs: no watchdog, but the window stops short all the same. */
START_TEST(test_abort_backup_mid_window_stops_it_short)
{
        aborting = two_provider_session();
        at_op(cuts[_i].at, abort_backup_now);
        struct call c;
        ck_assert_int_eq(do_snapshot(aborting, &c), -VSS_E_ABORTED);
        assert_contains(c.message, "AbortBackup");
        char expect[512];
        snprintf(expect, sizeof(expect), BEFORE "%s fake:abort other:abort", cuts[_i].aborted);
        ck_assert_str_eq(E.trace, expect);
        ck_assert_uint_eq(E.n_watchdog, 0);
        assert_releases(aborting->set->id, cuts[_i].aborted);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* --- real threads -------------------------------------------------------------------------- */

static void *window_thread(void *job)
{
        core_job_execute(job);
        return NULL;
}

/* Do-snapshot up to the window and hand its job to a thread of its own. */
static CoreJob *window_on_thread(CoreSession *s, struct call *c, pthread_t *thread)
{
        E.stop_op = CORE_JOB_WINDOW;
        ck_assert_int_eq(do_snapshot(s, c), 1);
        ck_assert_uint_eq(E.n_jobs, 1);
        CoreJob *job = E.jobs[0];
        E.n_jobs = 0;
        E.stop_op = -1;
        ck_assert_int_eq(pthread_create(thread, NULL, window_thread, job), 0);
        return job;
}

/* A commit hangs; the watchdog's release cuts it short and the window releases nothing. */
START_TEST(test_watchdog_cuts_a_hanging_commit_short)
{
        CoreSession *s = two_provider_session();
        fault_on("other", "stall commit 30000"); /* far past the test's own time limit */
        struct call c;
        pthread_t thread;
        CoreJob *job = window_on_thread(s, &c, &thread);
        for (int i = 0; i < 5000 && !log_count("other", "commit", NULL); i++)
                usleep(1000);
        ck_assert_uint_eq(log_count("other", "commit", NULL), 1);
        pass_hold_bound(); /* the watchdog releases from this thread */
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        ck_assert_int_eq(job->r, -ECANCELED);
        core_job_complete(job);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
        assert_contains(c.message, "provider 'other' was still in commit");
        ck_assert_uint_eq(log_count("fake", "release", NULL), 1);
        ck_assert_uint_eq(log_count("other", "release", NULL), 1);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* The watchdog fires at a different moment of the window each time: one release at most. */
START_TEST(test_watchdog_racing_the_window_never_releases_twice)
{
        env_add_other_provider();
        for (unsigned k = 0; k < 40; k++) {
                char owner[32];
                snprintf(owner, sizeof(owner), ":1.%u", 500 + k);
                CoreSession *s = prepared_session(owner, mixed);
                struct call c;
                pthread_t thread;
                CoreJob *job = window_on_thread(s, &c, &thread);
                usleep(k * 25);
                pass_hold_bound();
                ck_assert_int_eq(pthread_join(thread, NULL), 0);
                core_job_complete(job);
                pump();
                ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
                assert_released_once(s->set->id);
                ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
                ck_assert_uint_eq(provider_snapshots(), 0);
        }
        ck_assert_uint_eq(E.n_watchdog, 40);
}
END_TEST

/* --- the guard thread: the bound without the main loop ------------------------------------- */

#define BOUND_MS 200u  /* the guard tests' hold-window bound */
#define MARGIN_MS 1000u /* how late past it a release may come (DESIGN: bound + 1 s) */

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Releases as they return, whatever thread made them (E.after_op). */
static struct {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* on CLOCK_MONOTONIC */
        unsigned n;
        uint64_t last_usec;
} releases;

static void count_release(const char *entry)
{
        if (!strstr(entry, ":release"))
                return;
        pthread_mutex_lock(&releases.lock);
        releases.n++;
        releases.last_usec = now_usec();
        pthread_cond_broadcast(&releases.cond);
        pthread_mutex_unlock(&releases.lock);
}

/* Wait until N releases returned, at most TIMEOUT_MS; how many did. */
static unsigned wait_releases(unsigned n, unsigned timeout_ms)
{
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&releases.lock);
        while (releases.n < n &&
               pthread_cond_timedwait(&releases.cond, &releases.lock, &deadline) == 0)
                ;
        unsigned got = releases.n;
        pthread_mutex_unlock(&releases.lock);
        return got;
}

static void guard_setup(void)
{
        env_setup_config(&(CoreConfig){ .hold_timeout_ms = BOUND_MS });
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_mutex_init(&releases.lock, NULL);
        pthread_cond_init(&releases.cond, &attr);
        pthread_condattr_destroy(&attr);
        releases.n = 0;
        E.after_op = count_release;
}

/* A started core (its windows are guarded) with both providers and one writer, prepared. */
static CoreSession *guarded_session(void)
{
        env_add_other_provider();
        struct call started;
        ck_assert_int_eq(start_core(&started), 0);
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, mixed);
        trace_clear();
        return s;
}

/* Until PROVIDER's OP has begun (and stalls), on the provider's own log. */
static void wait_op_begun(const char *provider, const char *op)
{
        for (int i = 0; i < 5000 && !log_count(provider, op, NULL); i++)
                usleep(1000);
        ck_assert_uint_eq(log_count(provider, op, NULL), 1);
}

static const struct {
        const char *provider;
        const char *op;
        unsigned releases; /* the providers whose hold began */
} stalls[] = {
        { "fake", "hold", 1 },
        { "other", "hold", 2 },
        { "other", "commit", 2 },
};

/*
 * A provider op hangs and the main loop is stuck too (this thread neither
 * pumps nor moves the clock): the guard releases every provider whose hold
 * began, once, no sooner than the bound and within a second of it. When the
 * loop runs again, the set fails with the hold timeout naming the op.
 */
START_TEST(test_guard_releases_while_the_loop_is_blocked)
{
        CoreSession *s = guarded_session();
        char line[64], expect[256];
        snprintf(line, sizeof(line), "stall %s 30000", stalls[_i].op);
        fault_on(stalls[_i].provider, line);
        struct call c;
        pthread_t thread;
        uint64_t start = now_usec();
        CoreJob *job = window_on_thread(s, &c, &thread);
        ck_assert_uint_eq(wait_releases(stalls[_i].releases, BOUND_MS + 10000),
                          stalls[_i].releases);
        uint64_t took_ms = (releases.last_usec - start) / 1000;
        printf("guard: %s stalled in %s, released %" PRIu64 " ms after the window began "
               "(bound %u ms)\n", stalls[_i].provider, stalls[_i].op, took_ms, BOUND_MS);
        ck_assert_uint_ge(took_ms, BOUND_MS);
        ck_assert_uint_le(took_ms, BOUND_MS + MARGIN_MS);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        ck_assert_int_eq(job->r, -ECANCELED);
        ck_assert_uint_eq(c.count, 0); /* the loop has seen nothing yet */
        ck_assert_uint_eq(E.n_watchdog, 0);
        core_job_complete(job); /* the loop runs again */
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
        snprintf(expect, sizeof(expect), "hold-window bound of %u ms (provider '%s' was still "
                 "in %s)", BOUND_MS, stalls[_i].provider, stalls[_i].op);
        assert_contains(c.message, expect);
        ck_assert_ptr_null(strstr(c.message, "releasing them failed"));
        ck_assert(log_has(LOG_WARNING, "released by the guard thread"));
        assert_released_once(s->set->id);
        ck_assert_uint_eq(E.n_watchdog, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert(trace_pos("w:Abort") > trace_last("fake:release"));
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

/* With the loop healthy, its timer fails the set at once but leaves the release to the guard. */
START_TEST(test_loop_timer_only_reports_a_guarded_window)
{
        CoreSession *s = guarded_session();
        fault_on("other", "stall hold 30000");
        struct call c;
        pthread_t thread;
        CoreJob *job = window_on_thread(s, &c, &thread);
        wait_op_begun("other", "hold");
        pass_hold_bound();
        ck_assert_uint_eq(E.n_watchdog, 0); /* no thread made past the bound */
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTING);
        ck_assert_uint_eq(wait_releases(2, BOUND_MS + 10000), 2);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        core_job_complete(job);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
        assert_contains(c.message, "provider 'other' was still in hold");
        ck_assert_uint_eq(trace_count("w:Abort"), 1);
        assert_released_once(s->set->id);
        ck_assert_uint_eq(E.n_watchdog, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/*
 * The window ended well within its bound, but the loop was stuck past it:
 * its timer fires before it sees the job back. The guard watched the whole
 * window, so no timeout is declared and the set is made.
 */
START_TEST(test_late_loop_does_not_fail_a_window_that_ended_in_time)
{
        CoreSession *s = guarded_session();
        struct call c;
        pthread_t thread;
        CoreJob *job = window_on_thread(s, &c, &thread);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        ck_assert_int_eq(job->r, 0);
        pass_hold_bound(); /* the loop wakes up late: the timer is due before the job is seen */
        ck_assert_int_eq(s->set->state, CORE_SET_COMMITTING);
        core_job_complete(job);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        ck_assert_uint_eq(E.n_watchdog, 0);
        ck_assert(!trace_has("w:Abort"));
        ck_assert_uint_eq(provider_snapshots(), 1);
}
END_TEST

/*
 * Windows that end a little before or after the bound: the guard fires at
 * every moment of them, or not at all. Each provider is released once; a set
 * the guard cut short fails with the timeout and keeps no snapshot, any other
 * one is made.
 */
START_TEST(test_guard_racing_the_window_never_releases_twice)
{
        env_add_other_provider();
        struct call started;
        ck_assert_int_eq(start_core(&started), 0);
        unsigned made = 0, cut = 0;
        for (unsigned k = 0; k < 16; k++) {
                char owner[32], line[64];
                snprintf(owner, sizeof(owner), ":1.%u", 600 + k);
                CoreSession *s = prepared_session(owner, mixed);
                fault_clear();
                snprintf(line, sizeof(line), "stall commit %u", BOUND_MS - 80 + 10 * k);
                fault_on("other", line);
                size_t before = provider_snapshots();
                struct call c;
                pthread_t thread;
                CoreJob *job = window_on_thread(s, &c, &thread);
                ck_assert_int_eq(pthread_join(thread, NULL), 0);
                core_job_complete(job);
                pump();
                assert_released_once(s->set->id);
                if (c.r == 0) {
                        made++;
                        ck_assert_int_eq(s->set->state, CORE_SET_READY);
                        ck_assert_uint_eq(provider_snapshots(), before + 1);
                } else {
                        cut++;
                        ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
                        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
                        ck_assert_uint_eq(provider_snapshots(), before);
                }
        }
        printf("guard race: %u sets made, %u cut short at the bound\n", made, cut);
        ck_assert_uint_gt(made, 0);
        ck_assert_uint_gt(cut, 0);
        ck_assert_uint_eq(E.n_watchdog, 0);
}
END_TEST

/* core_free() while a guarded window hangs: the guard still releases it, then is joined. */
START_TEST(test_guard_outlives_the_core_while_a_window_is_out)
{
        CoreSession *s = guarded_session();
        fault_on("other", "stall hold 30000");
        struct call c;
        pthread_t thread;
        CoreJob *job = window_on_thread(s, &c, &thread);
        wait_op_begun("other", "hold");
        E.core = core_free(E.core);
        ck_assert_uint_eq(wait_releases(2, BOUND_MS + 10000), 2);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        core_job_complete(job); /* the core is gone: freed, and the guard with it */
        ck_assert_uint_eq(c.count, 0);
        ck_assert_uint_eq(log_count("fake", "release", NULL), 1);
        ck_assert_uint_eq(log_count("other", "release", NULL), 1);
}
END_TEST

/* --- lifetime ------------------------------------------------------------------------------ */

/* core_free() with the window job still out (and its watchdog back or never run): no leak. */
START_TEST(test_free_with_window_in_flight)
{
        CoreSession *s = two_provider_session();
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        if (_i)
                pass_hold_bound();
        ck_assert_uint_eq(E.n_watchdog, (unsigned)_i);
        ck_assert_uint_eq(E.n_jobs, 1);
        E.core = core_free(E.core); /* teardown hands the window job back afterwards */
        ck_assert_uint_eq(c.count, 0);
}
END_TEST

static Suite *window_suite(void)
{
        Suite *s = suite_create("core-window");
        TCase *tc = tcase_create("window");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_window_is_one_job_hold_all_commit_all_release_all);
        tcase_add_test(tc, test_window_length_is_measured);
        tcase_add_test(tc, test_window_allocates_nothing);
        tcase_add_test(tc, test_window_refused_fails_the_set);
        tcase_add_loop_test(tc, test_failure_in_window_releases_what_was_held, 0,
                            ELEMENTSOF(failures));
        tcase_add_test(tc, test_bound_is_off_once_the_window_is_back);
        tcase_add_loop_test(tc, test_bound_passing_mid_window_releases_each_provider_once, 0,
                            ELEMENTSOF(cuts));
        tcase_add_loop_test(tc, test_abort_backup_mid_window_stops_it_short, 0, ELEMENTSOF(cuts));
        tcase_add_loop_test(tc, test_free_with_window_in_flight, 0, 2);
        suite_add_tcase(s, tc);

        tc = tcase_create("threads");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_watchdog_cuts_a_hanging_commit_short);
        tcase_add_test(tc, test_watchdog_racing_the_window_never_releases_twice);
        tcase_set_timeout(tc, 60); /* valgrind */
        suite_add_tcase(s, tc);

        tc = tcase_create("guard");
        tcase_add_checked_fixture(tc, guard_setup, env_teardown);
        tcase_add_loop_test(tc, test_guard_releases_while_the_loop_is_blocked, 0,
                            ELEMENTSOF(stalls));
        tcase_add_test(tc, test_loop_timer_only_reports_a_guarded_window);
        tcase_add_test(tc, test_late_loop_does_not_fail_a_window_that_ended_in_time);
        tcase_add_test(tc, test_guard_racing_the_window_never_releases_twice);
        tcase_add_test(tc, test_guard_outlives_the_core_while_a_window_is_out);
        tcase_set_timeout(tc, 60); /* valgrind */
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(window_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
