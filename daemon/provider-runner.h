/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider-runner.h: runs provider operations off the main loop.
 *
 * Provider ops may block (a device-mapper suspend waits for I/O to drain), and
 * the loop must keep serving D-Bus meanwhile. Jobs run one at a time, in
 * submission order, on a single provider thread (the one-op-at-a-time rule of
 * provider.h); each job's completion then runs on the main loop, woken
 * through an eventfd.
 *
 * The watchdog path runs one job at once on a thread of its own, even while
 * the provider thread is stuck in an op: the release of a hold window that
 * passed its bound (provider.h allows release/abort concurrently for this).
 * It serves only windows the core's own guard thread does not watch
 * (daemon/core/guard.c), which releases without this loop or a new thread.
 */
#ifndef VSS_DAEMON_PROVIDER_RUNNER_H
#define VSS_DAEMON_PROVIDER_RUNNER_H

#include "daemon/util/loop.h"

typedef struct ProviderRunner ProviderRunner;

/* WORK runs on a provider thread; DONE runs on the main loop afterwards. */
typedef void (*runner_work_fn)(void *job);
typedef void (*runner_done_fn)(void *job);

int provider_runner_new(ProviderRunner **ret, Loop *loop);
/*
 * Let queued and running jobs finish, run their completions here (so that no
 * job is lost), and stop the thread. Free the runner before what DONEs use.
 */
ProviderRunner *provider_runner_free(ProviderRunner *runner);

/* Queue JOB behind every job submitted before it. */
int provider_runner_submit(ProviderRunner *runner, void *job, runner_work_fn work,
                           runner_done_fn done);
/* Run JOB now on its own thread, whatever the provider thread is doing. */
int provider_runner_watchdog(ProviderRunner *runner, void *job, runner_work_fn work,
                             runner_done_fn done);

#endif
