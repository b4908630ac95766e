/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider-runner.c: a provider thread with a FIFO of jobs, watchdog threads,
 * and completions handed back to the main loop through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/provider-runner.h"

struct runner_job {
        void *job;
        runner_work_fn work;
        runner_done_fn done;
        struct runner_job *next;
};

/* A FIFO of jobs; the caller holds the runner's lock. */
struct job_queue {
        struct runner_job *head, *tail;
};

struct ProviderRunner {
        Loop *loop;
        LoopSource *wakeup_source;
        int wakeup_fd; /* eventfd: completions are waiting */
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t cond;  /* work queued, or stopping */
        bool stopping;
        unsigned watchdogs_running;
        struct job_queue todo; /* for the provider thread */
        struct job_queue done; /* for the main loop */
};

static void queue_push(struct job_queue *q, struct runner_job *j)
{
        j->next = NULL;
        if (q->tail)
                q->tail->next = j;
        else
                q->head = j;
        q->tail = j;
}

static struct runner_job *queue_pop(struct job_queue *q)
{
        struct runner_job *j = q->head;

        if (j) {
                q->head = j->next;
                if (!q->head)
                        q->tail = NULL;
        }
        return j;
}

/* Hand a finished job to the main loop (called on provider or watchdog threads). */
static void runner_finish(ProviderRunner *r, struct runner_job *j)
{
        uint64_t one = 1;

        pthread_mutex_lock(&r->lock);
        queue_push(&r->done, j);
        pthread_mutex_unlock(&r->lock);
        /* An eventfd write cannot block or fail short of a counter overflow. */
        ssize_t n = write(r->wakeup_fd, &one, sizeof(one));
        (void)n;
}

static void *provider_thread(void *userdata)
{
        ProviderRunner *r = userdata;

        pthread_mutex_lock(&r->lock);
        for (;;) {
                struct runner_job *j = queue_pop(&r->todo);
                if (!j) {
                        if (r->stopping)
                                break;
                        pthread_cond_wait(&r->cond, &r->lock);
                        continue;
                }
                pthread_mutex_unlock(&r->lock);
                j->work(j->job);
                runner_finish(r, j);
                pthread_mutex_lock(&r->lock);
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

/* Run the completions of Q's jobs, in finishing order, and free them. */
static void queue_complete(struct job_queue *q)
{
        for (struct runner_job *j; (j = queue_pop(q));) {
                j->done(j->job);
                free(j);
        }
}

/* Main loop: complete every job finished so far. */
static int runner_wakeup(LoopSource *source, int fd, uint32_t revents, void *userdata)
{
        ProviderRunner *r = userdata;
        uint64_t count;
        struct job_queue done;

        if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
                return -errno;
        pthread_mutex_lock(&r->lock);
        done = r->done;
        r->done = (struct job_queue){ NULL, NULL };
        pthread_mutex_unlock(&r->lock);
        queue_complete(&done);
        return 0;
}

int provider_runner_new(ProviderRunner **ret, Loop *loop)
{
        ProviderRunner *r = calloc(1, sizeof(*r));
        int err;

        if (!r)
                return -ENOMEM;
        r->loop = loop;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->cond, NULL);
        r->wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->wakeup_fd < 0) {
                err = -errno;
                provider_runner_free(r);
                return err;
        }
        err = loop_add_io(loop, &r->wakeup_source, r->wakeup_fd, EPOLLIN, runner_wakeup, r);
        if (err >= 0) {
                err = -pthread_create(&r->thread, NULL, provider_thread, r);
                r->thread_started = err >= 0;
        }
        if (err < 0) {
                provider_runner_free(r);
                return err;
        }
        *ret = r;
        return 0;
}

ProviderRunner *provider_runner_free(ProviderRunner *r)
{
        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_broadcast(&r->cond);
        /* Watchdog threads are detached: wait until none still uses the runner. */
        while (r->watchdogs_running > 0)
                pthread_cond_wait(&r->cond, &r->lock);
        pthread_mutex_unlock(&r->lock);
        /* The thread leaves only once its queue is empty: every job is done now. */
        if (r->thread_started)
                pthread_join(r->thread, NULL);
        /*
         * A completion may submit a next job (the next provider of a set being
         * undone): with the thread gone it runs here, so nothing is dropped and
         * every caller is answered.
         */
        for (;;) {
                queue_complete(&r->done);
                struct runner_job *j = queue_pop(&r->todo);
                if (!j)
                        break;
                j->work(j->job);
                queue_push(&r->done, j);
        }
        loop_source_free(r->wakeup_source);
        if (r->wakeup_fd >= 0)
                close(r->wakeup_fd);
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}

static struct runner_job *job_new(void *job, runner_work_fn work, runner_done_fn done)
{
        struct runner_job *j = calloc(1, sizeof(*j));

        if (j)
                *j = (struct runner_job){ .job = job, .work = work, .done = done };
        return j;
}

int provider_runner_submit(ProviderRunner *r, void *job, runner_work_fn work,
                           runner_done_fn done)
{
        struct runner_job *j = job_new(job, work, done);

        if (!j)
                return -ENOMEM;
        pthread_mutex_lock(&r->lock);
        queue_push(&r->todo, j);
        pthread_cond_signal(&r->cond);
        pthread_mutex_unlock(&r->lock);
        return 0;
}

struct watchdog_start {
        ProviderRunner *runner;
        struct runner_job *job;
};

static void *watchdog_thread(void *userdata)
{
        struct watchdog_start *w = userdata;
        ProviderRunner *r = w->runner;

        w->job->work(w->job->job);
        runner_finish(r, w->job);
        free(w);
        pthread_mutex_lock(&r->lock);
        r->watchdogs_running--;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

int provider_runner_watchdog(ProviderRunner *r, void *job, runner_work_fn work,
                             runner_done_fn done)
{
        struct watchdog_start *w = calloc(1, sizeof(*w));
        pthread_attr_t attr;
        pthread_t thread;

        if (!w || !(w->job = job_new(job, work, done))) {
                free(w);
                return -ENOMEM;
        }
        w->runner = r;
        pthread_mutex_lock(&r->lock);
        r->watchdogs_running++;
        pthread_mutex_unlock(&r->lock);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&thread, &attr, watchdog_thread, w);
        pthread_attr_destroy(&attr);
        if (err != 0) {
                pthread_mutex_lock(&r->lock);
                r->watchdogs_running--;
                pthread_mutex_unlock(&r->lock);
                free(w->job);
                free(w);
                return -err;
        }
        return 0;
}
