/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h: what the files of daemon/core share and the D-Bus layer must not
 * use: the core itself, the helpers every module needs (errors, timers, provider
 * jobs, notifications) and the calls the modules make into each other.
 */
#ifndef VSS_DAEMON_CORE_INTERNAL_H
#define VSS_DAEMON_CORE_INTERNAL_H

#include <stdarg.h>

#include "daemon/core/core.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct WindowGuard WindowGuard;

struct Core {
        CoreEnv env;
        CoreConfig config;
        CoreProvider *providers;  /* in registration order (by priority): the default choice */
        CoreWriter *writers;      /* registered (not gone) */
        CoreSession *sessions;
        CoreSet *sets;
        CoreSet *creating;        /* the set holding the creation lock */
        CoreTimer *timers;        /* armed, by deadline */
        uint64_t timer_deadline;          /* last deadline given to env.timer_set */
        CoreJob *jobs;            /* handed to the env, not yet back */
        CoreJob *done;            /* back, waiting for the outermost core_leave() */
        CoreSession *dead_sessions; /* ended, freed by the outermost core_leave() */
        CoreSet *dead_sets;
        JobBatch *starting;       /* core_start() until it completes */
        CoreTimer monitor_timer;  /* armed while published snapshots exist */
        WindowGuard *guard;       /* the hold-window guard thread (guard.c) */
        unsigned monitor_jobs;            /* monitor jobs out: the next tick waits */
        uint64_t publish_seq;             /* last snapshot publication number */
        unsigned depth;                   /* nesting of core_enter() */
        bool freeing;                     /* core_free(): tell the env nothing */
        bool stopping;                    /* core_shutdown(): no more monitoring */
        bool started;                     /* core_start() was called */
        uint64_t next_writer_id;
        uint64_t next_session_id;
        uint64_t next_cookie;
};

/* --- core.c: helpers ---------------------------------------------------------- */

/*
 * Every public entry point runs between core_enter() and core_leave(). Work that
 * is unsafe deep in a call chain waits for the outermost leave: finished
 * provider jobs are processed, ended objects freed and the env's timer updated.
 */
void core_enter(Core *core);
void core_leave(Core *core);

/* Write a message into ERR (may be NULL); returns R. */
int core_error(struct vss_error_buf *err, int r, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
/* Like asprintf(); on out-of-memory returns a static fallback text, never NULL. */
char *core_strdup_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
char *core_strdup_vprintf(const char *format, va_list ap);
/* Free a string from core_strdup_printf(); NULL-safe; returns NULL. */
char *core_string_free(char *s);
/* Append ", TEXT" (or TEXT) to *NOTES. */
void core_notes_append(char **notes, const char *text);

uint64_t core_now(Core *core);
uint64_t core_realtime_usec(Core *core);
void core_uuid_new(char ret[CORE_UUID_LEN + 1]);
uint64_t core_cookie_new(Core *core);

void core_timer_init(CoreTimer *t, void (*fire)(CoreTimer *t), void *data);
void core_timer_arm(Core *core, CoreTimer *t, uint64_t deadline_ms);
void core_timer_cancel(Core *core, CoreTimer *t);

void core_notify_added(Core *core, enum core_object_kind kind, void *object);
void core_notify_removed(Core *core, enum core_object_kind kind, void *object);
void core_notify_changed(Core *core, enum core_object_kind kind, void *object,
                         const char *property);
void core_call_complete(Core *core, void *call, int r, const char *message,
                        const char *id, unsigned n);
/*
 * -EBUSY once core_shutdown() ran: nothing new may start then (a session, a
 * set, a provider job), as it would outlive the loop that has to finish it.
 */
int core_check_running(Core *core, struct vss_error_buf *err);
/* env.log, formatted. */
void core_log(Core *core, int priority, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
/* The provider's message of a failed JOB, or the code's text. */
const char *core_job_error(const CoreJob *job);
/* Not persistent, not no-auto-release: goes when its session does (VSS auto-release). */
bool core_attributes_auto_release(uint32_t attributes);

/* A provider job owned by OWNER; DONE runs when it comes back (unless orphaned). */
int core_job_new(CoreJob **ret, Core *core, enum core_job_op op,
                 CoreProvider *provider, const char *target,
                 void (*done)(CoreJob *job), void *owner);
CoreJob *core_job_free(CoreJob *job);
/* Copy N OPTIONS into JOB's (replacing them); -ENOMEM leaves JOB as it was. */
int core_options_copy(CoreJob *job, const struct vss_option *options, size_t n);
void core_options_free(struct vss_option *options, size_t n);
/* Hand JOB to the env; a refusal completes it with that error. */
void core_job_start(CoreJob *job);
/* The owner goes away: the job's result will be dropped. */
void core_job_orphan(CoreJob *job);
/* Hand the (preallocated) watchdog JOB to the env, fire and forget; NULL-safe. */
void core_job_watchdog(Core *core, CoreJob *job);

/* --- batch.c ------------------------------------------------------------------ */

/*
 * A JobBatch counts provider jobs one outcome waits for (the deletions of one
 * DeleteSnapshots call, core_start()'s recover and query jobs and the
 * deletions they lead to). It starts held once, so that it cannot complete
 * while jobs are still being started: release that hold with batch_step().
 * When the count reaches zero, CALL completes with the first failure, every
 * failure's message and n_done; without a call, failures are logged. Then the
 * batch frees itself and clears *REF, if set.
 */
JobBatch *batch_new(Core *core, void *call, JobBatch **ref);
/* One more job to wait for; NULL-safe. */
void batch_hold(JobBatch *batch);
/* One job is back (or the initial hold is released); NULL-safe. */
void batch_step(JobBatch *batch);
/* Record a failure (the first R is the result); NULL-safe. */
void batch_fail(JobBatch *batch, int r, const char *message);
/* Count N things done (n of the result); NULL-safe. */
void batch_count(JobBatch *batch, unsigned n);
/* Free without completing (core_free()). */
JobBatch *batch_free(JobBatch *batch);

/* --- guard.c ------------------------------------------------------------------ */

/*
 * The hold-window guard: a thread that runs window_expire() on the window
 * job it watches once its deadline passes, whatever the main loop is doing.
 * guard_new() starts the thread (core_new()); refs change on the main thread
 * only, and the last guard_unref() stops and joins it.
 */
int guard_new(WindowGuard **ret);
WindowGuard *guard_ref(WindowGuard *g);
WindowGuard *guard_unref(WindowGuard *g);
/*
 * Provider thread, allocation-free: watch window job JOB until DEADLINE_USEC
 * (CLOCK_MONOTONIC). false: the guard watches another window already.
 */
bool guard_arm(WindowGuard *g, CoreJob *job, uint64_t deadline_usec);
/* Provider thread: stop watching JOB; waits while the guard is releasing it. */
void guard_disarm(WindowGuard *g, CoreJob *job);

/* --- window.c ----------------------------------------------------------------- */

/*
 * What a hold window's two jobs share: N_PROVIDERS slots, filled with
 * window_set_provider(). Referenced by each job; refs change on the main
 * thread only. NULL on out-of-memory.
 */
HoldWindow *window_new(size_t n_providers);
void window_set_provider(HoldWindow *w, size_t i, const CoreProvider *p);
HoldWindow *window_ref(HoldWindow *w);
HoldWindow *window_unref(HoldWindow *w);
/*
 * Main thread, before the window job starts: CORE's guard thread watches it
 * from its first hold for the hold-window bound in force now. A core that was
 * never started (core_start()) has the state machine's own tests driving the
 * bound with their clock: its windows are released by env.provider_watchdog.
 */
void window_guard(CoreJob *job, Core *core);
/* The guard thread, past the bound: cancel, and release what the window holds. */
void window_expire(CoreJob *job);
/* Main thread: the guard took the window (it releases at the bound, not the env). */
bool window_guarded(const CoreJob *job);
/* Main thread: the guard cut the window short at the bound. */
bool window_expired(const CoreJob *job);
/*
 * Main thread: the window job is over, and the guard watched it to its end
 * without the bound passing (its completion may still be on its way).
 */
bool window_closed_in_time(const CoreJob *job);
/* Once the window job came back: the guard's first failed release, or NULL. */
const char *window_expire_error(const CoreJob *job);
/* core_job_execute() of CORE_JOB_WINDOW and CORE_JOB_WATCHDOG_RELEASE. */
void window_execute(CoreJob *job);
/* Any time, main thread: the window job holds and commits no more, only releases. */
void window_cancel(CoreJob *job);
/*
 * Provider index and op the window job is at (for messages; may lag a step);
 * once the guard cut it short, where it was at that moment.
 */
size_t window_progress(const CoreJob *job, const char **ret_op);
/* Once the window job came back failed: provider index and op of the first failure. */
size_t window_failure(const CoreJob *job, const char **ret_op);
/* How long the window job held the volumes, first hold to last release. */
uint64_t window_open_usec(const CoreJob *job);

/* --- writer.c ----------------------------------------------------------------- */

CoreWriter *writer_ref(CoreWriter *w);
CoreWriter *writer_unref(CoreWriter *w);
CoreWriter *writer_find_instance(Core *core, const char *instance_id);
const CoreComponent *writer_find_component(const CoreWriter *w,
                                                   const char *logical_path, const char *name);
/*
 * Send EVENT, whose answer SET (or SESSION, for Identify) waits for; queued
 * behind the writer's pending event, if any. The answer, a timeout after
 * TIMEOUT_MS (0: none) or the writer leaving reaches set_writer_answered() or
 * session_identify_answered(). <0: could not be sent; nothing will arrive.
 */
int writer_enqueue(CoreWriter *w, enum core_event event, CoreSet *set,
                   CoreSession *session, uint32_t timeout_ms);
/* Send an event that is not answered (Abort, BackupShutdown). */
void writer_notify(CoreWriter *w, enum core_event event, CoreSet *set);
/* Forget the pending and queued events SET (or SESSION) waits for. */
void writer_cancel(CoreWriter *w, CoreSet *set, CoreSession *session);
void writer_set_state(CoreWriter *w, enum vss_writer_state state);
void writer_fail(CoreWriter *w, enum core_event event, enum vss_writer_failure failure,
                 const char *message);
void writer_clear_failure(CoreWriter *w);
void writer_gone(CoreWriter *w);
/* core_free(): forget every pending event, so that nothing is delivered any more. */
void writers_drop_events(Core *core);
void writer_free_all(Core *core);

/* --- set.c -------------------------------------------------------------------- */

int set_new(CoreSet **ret, CoreSession *session, struct vss_error_buf *err);
/* A set found on a provider (reconcile.c): ready, no session, hidden until set_announce(). */
int set_adopt(CoreSet **ret, Core *core, const char *id, uint32_t attributes);
/* Record VOLUME (snapshot SNAPSHOT_ID by P) among an adopted set's volumes. */
int set_adopt_volume(CoreSet *set, const char *volume, const char *snapshot_id,
                     CoreProvider *p);
/* Announce a hidden set (object_added); false when it was announced already. */
bool set_announce(CoreSet *set);
/* Between DoSnapshotSet and the end of Thaw: monitoring would delay its window. */
bool set_is_snapshotting(const CoreSet *set);
/* Free SET now if nothing holds it any more (deferred to core_leave()). */
void set_maybe_free(CoreSet *set);
/* Free now, without telling anyone (core_leave(), core_free()); NULL-safe. */
CoreSet *set_free(CoreSet *set);
bool set_has_volume(const CoreSet *set, const char *volume);
bool set_is_auto_release(const CoreSet *set);
int set_add_volume(CoreSet *set, const char *volume, CoreProvider *only,
                   struct vss_error_buf *err);
int set_prepare_backup(CoreSet *set, struct vss_error_buf *err);
int set_do_snapshot(CoreSet *set, struct vss_error_buf *err);
int set_backup_complete(CoreSet *set, struct vss_error_buf *err);
void set_abort(CoreSet *set, int r, const char *message);
/* BATCH (may be NULL) counts the auto-release deletions this starts. */
void set_session_ended(CoreSet *set, JobBatch *batch);
void set_writer_answered(CoreSet *set, CoreWriter *w, enum core_event event,
                         enum vss_writer_failure failure, const char *message);
void set_writer_left(CoreSet *set, CoreWriter *w);

/* set.c and set-writers.c between themselves. */
/* A writer taking part in the set. */
struct SetWriter {
        CoreSet *set;
        CoreWriter *w;
        bool failed;  /* failed an event of this set: gets only Abort from now on */
        bool selected; /* has a component in the set: failing before Freeze aborts it */
        bool waiting; /* its answer to the current phase is awaited */
        bool frozen;  /* Freeze sent, Thaw not yet */
        CoreTimer freeze_timer; /* Freeze sent .. Thaw sent */
};
bool set_is_over(const CoreSet *set);
void set_phase_done(CoreSet *set); /* the last answer of the phase came */
int set_enlist_writers(CoreSet *set);
bool set_writer_eligible(const SetWriter *p, enum core_event event, int level);
void set_send(CoreSet *set, enum core_event event);

/* --- session.c ------------------------------------------------------------------ */

/* The pending set call (AddToSnapshotSet .. BackupComplete) of S finished. */
void session_set_call_complete(CoreSession *s, int r, const char *message,
                               const char *id);
void session_identify_answered(CoreSession *s, CoreWriter *w,
                               enum vss_writer_failure failure, const char *message);
/* Does S select a component of W: with AddComponent, or (none so) implicitly? */
bool session_selects_writer(CoreSession *s, const CoreWriter *w);
/* BATCH (may be NULL) counts the auto-release deletions this starts. */
void session_end(CoreSession *s, const char *why, JobBatch *batch);
CoreSession *session_free(CoreSession *s);

/* --- snapshot.c ------------------------------------------------------------------ */

/* Allocate the snapshot volume V will get, kept unpublished in SET until it exists. */
int snapshot_new(CoreSnapshot **ret, CoreSet *set, const CoreVolume *v);
/* The same for a snapshot a provider reported (reconcile.c), with what it reported. */
int snapshot_adopt(CoreSnapshot **ret, CoreSet *set, CoreProvider *p,
                   const struct vss_snapshot_info *info);
/* Show it: the set's commit made it (or it was adopted). Allocates nothing. */
void snapshot_publish(CoreSnapshot *snap, uint64_t creation_usec);
bool snapshot_is_published(const CoreSnapshot *snap);
/* A snapshot that exists only unpublished, in a set being made; NULL if none. */
CoreSnapshot *snapshot_find_unpublished(Core *core, const char *id);
/* Take PATH (malloc()ed; NULL: not exposed) as the exposed path; notifies a change. */
void snapshot_set_exposed(CoreSnapshot *snap, char *path);
/* Set a field and notify when it changed. */
void snapshot_set_state(CoreSnapshot *snap, enum vss_snapshot_state state);
void snapshot_set_cow(CoreSnapshot *snap, uint64_t used, uint64_t size);
/* Drop the object (the snapshot itself is gone or never was). */
CoreSnapshot *snapshot_free(CoreSnapshot *snap);
/* Delete SNAP through its provider, counted in BATCH; after the op running on it, if any. */
void snapshot_delete(CoreSnapshot *snap, JobBatch *batch);
/* snapshot_delete() for auto-release: an exposed snapshot is unmounted first. */
void snapshot_release(CoreSnapshot *snap, JobBatch *batch);
/* A deletion of SNAP is running or waiting for the op running. */
bool snapshot_delete_pending(const CoreSnapshot *snap);
/* Delete every snapshot of SET through the provider (auto-release), counted in BATCH. */
void snapshots_release(CoreSet *set, JobBatch *batch);

/* --- storage.c ------------------------------------------------------------------ */

/* core_job_execute() of CORE_JOB_LIST_STORAGE: the provider's list, copied. */
int storage_report_execute(CoreJob *job);
StorageReport *storage_report_free(StorageReport *report);

/* --- reconcile.c ------------------------------------------------------------------ */

/* core_job_execute() of CORE_JOB_QUERY and CORE_JOB_MONITOR: the report, copied. */
int report_execute(CoreJob *job);
SnapshotReport *report_free(SnapshotReport *report);
void monitor_init(Core *core);
/* A snapshot was published: make sure the monitor timer runs. */
void monitor_schedule(Core *core);
/* The configured interval changed: the next tick comes at the new one. */
void monitor_reschedule(Core *core);

#endif
