/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_provider_runner.c: provider jobs run off the main loop, one at a time
 * in order, their completions come back on the loop's thread, a watchdog job
 * runs while the provider thread is stuck, and freeing loses no job.
 */
#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "daemon/provider-runner.h"

struct job {
        int id;
        pthread_t work_thread;
        pthread_t done_thread;
        int *order;   /* shared log of work order */
        int *n_order;
        int *n_done;
        Loop *loop;
        int exit_after; /* loop_exit when this many jobs are done */
};

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void work(void *userdata)
{
        struct job *j = userdata;

        j->work_thread = pthread_self();
        pthread_mutex_lock(&order_lock);
        j->order[(*j->n_order)++] = j->id;
        pthread_mutex_unlock(&order_lock);
}

static void done(void *userdata)
{
        struct job *j = userdata;

        j->done_thread = pthread_self();
        if (++*j->n_done == j->exit_after && j->loop)
                loop_exit(j->loop, 0);
}

START_TEST(test_jobs_run_in_order_off_the_loop)
{
        enum { N = 50 };
        struct job jobs[N];
        int order[N], n_order = 0, n_done = 0;
        Loop *loop;
        ProviderRunner *r;

        ck_assert_int_eq(loop_new(&loop), 0);
        ck_assert_int_eq(provider_runner_new(&r, loop), 0);
        for (int i = 0; i < N; i++) {
                jobs[i] = (struct job){ .id = i, .order = order, .n_order = &n_order,
                                        .n_done = &n_done, .loop = loop, .exit_after = N };
                ck_assert_int_eq(provider_runner_submit(r, &jobs[i], work, done), 0);
        }
        ck_assert_int_eq(loop_run(loop), 0);
        ck_assert_int_eq(n_done, N);
        for (int i = 0; i < N; i++) {
                ck_assert_int_eq(order[i], i);
                ck_assert(!pthread_equal(jobs[i].work_thread, pthread_self()));
                ck_assert(pthread_equal(jobs[i].done_thread, pthread_self()));
                /* One provider thread: never two ops at once. */
                ck_assert(pthread_equal(jobs[i].work_thread, jobs[0].work_thread));
        }
        provider_runner_free(r);
        loop_free(loop);
}
END_TEST

/* A job that blocks until a watchdog job releases it, as a stalled hold would. */
struct gate {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool open;
        bool blocked_finished;
        bool watchdog_finished;
        Loop *loop;
};

static void blocked_work(void *userdata)
{
        struct gate *g = userdata;

        pthread_mutex_lock(&g->lock);
        while (!g->open)
                pthread_cond_wait(&g->cond, &g->lock);
        pthread_mutex_unlock(&g->lock);
}

static void blocked_done(void *userdata)
{
        struct gate *g = userdata;

        g->blocked_finished = true;
        if (g->watchdog_finished)
                loop_exit(g->loop, 0);
}

static void watchdog_work(void *userdata)
{
        struct gate *g = userdata;

        pthread_mutex_lock(&g->lock);
        g->open = true;
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->lock);
}

static void watchdog_done(void *userdata)
{
        struct gate *g = userdata;

        g->watchdog_finished = true;
        if (g->blocked_finished)
                loop_exit(g->loop, 0);
}

START_TEST(test_watchdog_runs_while_provider_thread_is_stuck)
{
        struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false,
                          false, NULL };
        ProviderRunner *r;

        ck_assert_int_eq(loop_new(&g.loop), 0);
        ck_assert_int_eq(provider_runner_new(&r, g.loop), 0);
        ck_assert_int_eq(provider_runner_submit(r, &g, blocked_work, blocked_done), 0);
        /* Would wait forever behind the blocked job if it went through the queue. */
        ck_assert_int_eq(provider_runner_watchdog(r, &g, watchdog_work, watchdog_done), 0);
        ck_assert_int_eq(loop_run(g.loop), 0);
        ck_assert(g.blocked_finished && g.watchdog_finished);
        provider_runner_free(r);
        loop_free(g.loop);
}
END_TEST

START_TEST(test_free_completes_every_job)
{
        enum { N = 20 };
        struct job jobs[N];
        int order[N], n_order = 0, n_done = 0;
        Loop *loop;
        ProviderRunner *r;

        ck_assert_int_eq(loop_new(&loop), 0);
        ck_assert_int_eq(provider_runner_new(&r, loop), 0);
        for (int i = 0; i < N; i++) {
                jobs[i] = (struct job){ .id = i, .order = order, .n_order = &n_order,
                                        .n_done = &n_done };
                ck_assert_int_eq(provider_runner_submit(r, &jobs[i], work, done), 0);
        }
        /* The loop never ran: freeing must still run every job and its completion. */
        provider_runner_free(r);
        ck_assert_int_eq(n_order, N);
        ck_assert_int_eq(n_done, N);
        loop_free(loop);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("provider runner");
        TCase *tc = tcase_create("runner");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_jobs_run_in_order_off_the_loop);
        tcase_add_test(tc, test_watchdog_runs_while_provider_thread_is_stuck);
        tcase_add_test(tc, test_free_completes_every_job);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
