/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core-env.h: the fake environment every check_core*.c test drives
 * daemon/core/core.c with, so that each test file is its own program
 * with only its own tests. The environment:
 *   - a clock the test moves (advance()), firing due timers exactly at their
 *     deadline;
 *   - writers as scripted processes (tw_*): they answer every event at once,
 *     or fail one, or stay silent at one, or leave it to the test;
 *   - provider jobs queued and run on the test's thread by pump(), against the
 *     real fake provider (tests/providers/fake/) whose faults are set with
 *     fault("fail hold"); a second one, "other", has its own control and log
 *     files (fault_on(), log_count()); neither has a finish op unless a test
 *     gives it one (env_give_finish());
 *   - one trace string of what happened, in order: writer events as
 *     "name:Event", every provider op the core calls as "fake:hold" or
 *     "other:hold" (whichever job and thread calls it), and "watchdog" where
 *     the env is asked to run a watchdog job;
 *   - hooks that run right after a provider op returns (after_op, at_op()),
 *     as if what they do happened while the op ran;
 *   - what the core logs (E.logs, log_has()) and the order objects come and
 *     go in (E.objects: "+set +snapshot -snapshot -set");
 *   - a restart (env_restart_core()): a new core over the same providers, which
 *     keep their snapshots, as when vssd is restarted.
 * It lives in the global E, reset by env_setup() (a checked fixture, with
 * env_teardown()); tests read and set its fields directly.
 */
#ifndef VSS_TESTS_UNIT_CORE_ENV_H
#define VSS_TESTS_UNIT_CORE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/core/core.h"

#ifndef ELEMENTSOF
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define MAX_WRITERS 32
#define MAX_JOBS 256
#define TRACE_MAX 65536

/* The requester every test uses unless it needs a second one. */
#define OWNER ":1.1"

/* The fake provider (tests/providers/fake/), linked in. */
extern const struct vss_provider vss_provider_v4;

struct test_writer {
        CoreWriter *w;
        char owner[32];
        int fail_at;   /* event answered with failure, or -1 */
        enum vss_writer_failure failure;
        int silent_at; /* event never answered, or -1 */
        bool manual;   /* the test answers */
        uint64_t cookie; /* pending event, 0: none */
        int event;
        unsigned n_events;
        char last_set[CORE_UUID_LEN + 1];
        char pending_set[CORE_UUID_LEN + 1]; /* set of the pending event */
};

/* What a call's reply was; pass its address as the call token. */
struct call {
        unsigned count; /* replies: must end up 1 */
        int r;
        char message[2048];
        char id[64];
        unsigned n;
};

struct fake_env {
        Core *core;
        uint64_t now;
        uint64_t deadline;
        bool hold_jobs;                 /* pump() leaves provider jobs queued */
        int stop_op;                    /* pump() stops at a job of this op (-1: none) */
        int refuse_op;                  /* provider_run fails jobs of this op (-1: none) */
        CoreJob *jobs[MAX_JOBS];
        size_t n_jobs;
        unsigned n_watchdog;
        bool refuse_jobs;               /* provider_run fails */
        bool refuse_sends;              /* writer_send fails */
        struct test_writer writers[MAX_WRITERS];
        size_t n_writers;
        unsigned added[4], removed[4], changed[4];
        char trace[TRACE_MAX];
        char states[4096];              /* every State a set went through, in order */
        char set_changes[4096];         /* every set property changed, in order: "State ..." */
        char logs[TRACE_MAX];           /* what the core logged: "<priority> message" lines */
        char objects[4096];             /* "+set +snapshot -snapshot ...": in order */
        unsigned added_without_device;  /* snapshots announced before their device was known */
        char dir[64];
        char control[128];
        char log[128];
        char other_control[128];
        char other_log[128];
        const char *volumes_config;     /* volumes= of the provider being initialised */
        const char *atomicity_config;   /* atomicity= of the provider being initialised */
        void *fake_state;
        void *other_state;
        struct vss_provider fake;       /* the fake provider with its ops traced */
        struct vss_provider other;      /* a second fake, named "other", for /dev/other/... */
        void (*after_op)(const char *entry); /* after every provider op ("fake:hold") */
        const char *at_entry;           /* at_op(): once, after this op ... */
        void (*at_fn)(void);            /* ... run this */
};

extern struct fake_env E;

/* The env's callbacks, all into E; a test may copy it to break one. */
extern const CoreEnv env_template;

/* --- trace --- */

/* Append one entry to E.trace. */
__attribute__((format(printf, 1, 2)))
void trace_add(const char *format, ...);
void trace_clear(void);
/* Position of the first (trace_pos) or last (trace_last) occurrence of WORD as a
 * whole trace entry, or -1. */
long trace_pos(const char *word);
long trace_last(const char *word);
bool trace_has(const char *word);
unsigned trace_count(const char *word);

/* --- the fake provider and setup --- */

/* Set the provider's faults: each call one control-file line ("fail hold"). */
void fault(const char *line);
/* The same for PROVIDER, "fake" or "other". */
void fault_on(const char *provider, const char *line);
void fault_clear(void);
/* Lines of PROVIDER's own log for OP (of SET_ID; NULL: any): the calls it got. */
unsigned log_count(const char *provider, const char *op, const char *set_id);
/* Add a second provider, "other", that takes /dev/other/a and /dev/other/b only. */
void env_add_other_provider(void);
/* A fresh E with a core (CONFIG, or the defaults for NULL) and the fake provider. */
void env_setup_config(const CoreConfig *config);
void env_setup(void);
void env_teardown(void);

/* --- driving --- */

/* Let the scripted writers answer and the provider work until nothing moves. */
void pump(void);
/* Run the queued job even if pump() would stop at it, then pump. */
void run_job_now(void);
/* Let everything run to the end: no silent writers, no held jobs. */
void release_all(void);
/* Move the clock by MS and fire what is due. */
void advance(uint64_t ms);
/* Once provider op ENTRY ("fake:commit") returns, run FN, before the core sees the result. */
void at_op(const char *entry, void (*fn)(void));
/* Move the clock by the hold-window bound: its timer fires. */
void pass_hold_bound(void);
/* Move the clock by the monitor interval and let what it starts run. */
void monitor_tick(void);
/* vssd restarting: core_free() (which tells nobody), then a fresh core over the same providers. */
void env_restart_core(void);
/* core_start(), pumped; its reply into C; the call's return or the reply's code. */
/* An asynchronous core call C started with result R: its reply (pumped), or R and ERR. */
int call_finish(struct call *c, int r, const struct vss_error_buf *err);
int start_core(struct call *c);
/* The traced ops the core sees (a test may clear one: a provider without that op). */
struct vss_provider_ops *fake_ops(void);
/*
 * Give PROVIDER ("fake" or "other", added already) the finish op, traced as
 * "fake:finish"; neither has it otherwise. Gives it to that one alone.
 */
void env_give_finish(const char *provider);
/* Did the core log a line with NEEDLE (at PRIORITY; -1: any)? */
bool log_has(int priority, const char *needle);

/* --- writers --- */

/* Register a scripted writer that answers every event at once. */
struct test_writer *tw_add_full(const char *name, const char *instance,
                                enum vss_writer_level level, uint32_t freeze_timeout_ms);
struct test_writer *tw_add(const char *name, enum vss_writer_level level);
/* Answer TW's pending event; the core's return code. */
int tw_answer(struct test_writer *tw, enum vss_writer_failure failure, const char *message);
/* Make TW answer EVENT with FAILURE. */
void tw_fail_at(struct test_writer *tw, enum core_event event, enum vss_writer_failure failure);
/* Give TW one component NAME with one FILE. */
void tw_component(struct test_writer *tw, const char *name, const char *file);

/* --- requesters --- */

CoreSession *session_open(const char *owner);
CoreSet *set_start(CoreSession *s);
/* AddToSnapshotSet, pumped to its reply; returns the reply's code (or the call's). */
int add_volume(CoreSession *s, const char *volume, struct call *c);
/* These calls, pumped; the reply lands in C (sync failures too); 1: no reply yet. */
int prepare(CoreSession *s, struct call *c);
int do_snapshot(CoreSession *s, struct call *c);
int backup_complete(CoreSession *s, struct call *c);
/* A session with a set of VOLUMES (NULL-terminated), prepared. */
CoreSession *prepared_session(const char *owner, const char *const *volumes);
/* "/dev/fake/a", "/dev/fake/b", NULL */
extern const char *const two_volumes[];
/* A session whose set of two volumes is made (state ready). */
CoreSession *ready_session(const char *owner);

/* --- counting and asserting --- */

size_t count_snapshots(void);
size_t count_sets(void);
size_t count_sessions(void);
/* Snapshots the fake provider itself still has (it is asked, not the core). */
size_t provider_snapshots(void);
/* Could another requester start a set now? Tried with a throw-away session. */
bool creation_allowed(void);
void assert_contains(const char *haystack, const char *needle);

#endif
