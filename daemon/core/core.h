/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core.h: the VSS state machine, as the D-Bus layer drives it.
 *
 * The core knows nothing of D-Bus, device-mapper or wall clocks: it is
 * single-threaded and event-driven, but for one thread of its own, made by
 * core_new() and joined by core_free() (or by the last window job the env hands
 * back after it), that cuts a hold window short at its bound even when the
 * caller's loop is stuck. The caller hands it a CoreEnv (a
 * monotonic clock, one timer, a way to send writer events, a worker for provider
 * ops and a set of notifications) and feeds it what happens: method calls,
 * writer answers, owners leaving the bus, timers expiring and provider ops
 * finishing. Everything the core decides comes back through the env.
 *
 * Conventions: functions return 0 or a negative errno / -VSS_E_* code; on
 * failure they write a sentence into err (which may be NULL) naming what failed
 * and what to do. "sender" is the caller's unique bus name; calls on a session
 * or writer from anyone but its owner fail with -EACCES (the D-Bus layer may
 * pass the owner itself to let root through).
 *
 * Asynchronous calls take an opaque token "call" (the D-Bus layer's pending
 * method call). They either fail at once (negative return; the token is never
 * used) or return 0 and later report through env.call_complete(call, result)
 * exactly once. That report may come before the function returns (when nothing
 * had to be waited for), so keep the token ready before calling.
 *
 * Objects (CoreWriter, core_session, core_set, core_snapshot) are owned
 * by the core. Their fields above the "private" marker may be read by the
 * caller between calls; never write them, except userdata, which is the
 * caller's alone. A pointer stays valid until
 * env.object_removed() reports the object (or core_free()).
 */
#ifndef VSS_DAEMON_CORE_H
#define VSS_DAEMON_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vss/provider.h>
#include <vss/vss.h>

typedef struct Core Core;
typedef struct CoreConfig CoreConfig;
typedef struct CoreResult CoreResult;
typedef struct CoreEnv CoreEnv;
typedef struct CoreTimer CoreTimer;
typedef struct CoreProvider CoreProvider;
typedef struct CoreComponent CoreComponent;
typedef struct CoreComponentInfo CoreComponentInfo;
typedef struct CoreWriterInfo CoreWriterInfo;
typedef struct CoreWriter CoreWriter;
typedef struct CoreVolume CoreVolume;
typedef struct CoreSnapshot CoreSnapshot;
typedef struct CoreSet CoreSet;
typedef struct CoreSession CoreSession;
typedef struct CoreJob CoreJob;
typedef struct CoreCreateOptions CoreCreateOptions;

/* Private to daemon/core. */
typedef struct JobBatch JobBatch;
typedef struct SnapshotReport SnapshotReport;
typedef struct StorageReport StorageReport;
typedef struct WriterSend WriterSend;
typedef struct SetWriter SetWriter;
typedef struct SetProvider SetProvider;
typedef struct HoldWindow HoldWindow;
typedef struct SessionComponent SessionComponent;
typedef struct SessionScript SessionScript;

#define CORE_UUID_LEN 36 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase */

/* Defaults, as DESIGN.md gives them; core_config_set() enforces the ranges. */
#define CORE_FREEZE_TIMEOUT_MS_DEFAULT 60000u
#define CORE_HOLD_TIMEOUT_MS_DEFAULT 10000u
#define CORE_EVENT_TIMEOUT_MS_DEFAULT 60000u
#define CORE_MONITOR_INTERVAL_MS_DEFAULT 1000u

/* Where Expose mounts a snapshot when the caller names no mount point: DIR/<snapshot id>. */
#define CORE_EXPOSE_DIR "/run/vss/expose"

struct CoreConfig {
        uint32_t freeze_timeout_ms; /* per writer, Freeze sent .. Thaw sent; 1000..600000 */
        uint32_t hold_timeout_ms;   /* bound of the hold window; 100..60000 */
        uint32_t event_timeout_ms;  /* answer to any other event; 1000..3600000 */
        uint32_t monitor_interval_ms; /* provider monitor() while snapshots exist; 100..60000 */
};

/* Writer events; the names (core_event_to_string) are the D-Bus signal names. */
enum core_event {
        CORE_EVENT_IDENTIFY,
        CORE_EVENT_PREPARE_BACKUP,
        CORE_EVENT_PREPARE_SNAPSHOT,
        CORE_EVENT_FREEZE,
        CORE_EVENT_THAW,
        CORE_EVENT_POST_SNAPSHOT,
        CORE_EVENT_ABORT,           /* no answer expected */
        CORE_EVENT_BACKUP_COMPLETE,
        CORE_EVENT_BACKUP_SHUTDOWN, /* no answer expected */
        _CORE_EVENT_MAX,
};

/* VSS_CTX_*: what a session's snapshots are for; each implies attributes. */
enum core_context {
        CORE_CONTEXT_BACKUP,            /* non-persistent, auto-release, writers */
        CORE_CONTEXT_FILE_SHARE_BACKUP, /* no writers */
        CORE_CONTEXT_APP_ROLLBACK,      /* persistent, no auto-release, writers */
        CORE_CONTEXT_NAS_ROLLBACK,      /* persistent, no auto-release, no writers */
        _CORE_CONTEXT_MAX,
};

enum core_session_state {
        CORE_SESSION_CREATED,   /* SetContext allowed */
        CORE_SESSION_GATHERING, /* Identify sent, answers awaited */
        CORE_SESSION_GATHERED,
        CORE_SESSION_IN_SET,    /* StartSnapshotSet called: see the set's state */
        CORE_SESSION_ENDED,     /* released or owner left; about to disappear */
};

/* One snapshot set; DESIGN.md section 4. core_set_state_to_string() names them. */
enum core_set_state {
        CORE_SET_CREATED,            /* StartSnapshotSet */
        CORE_SET_COLLECTING,         /* AddToSnapshotSet */
        CORE_SET_PREPARING_BACKUP,   /* PrepareForBackup: writers PrepareBackup */
        CORE_SET_PREPARED,
        CORE_SET_PREPARING_SNAPSHOT, /* DoSnapshotSet: writers PrepareSnapshot, provider prepare */
        CORE_SET_FREEZING,           /* writers Freeze, level by level */
        CORE_SET_COMMITTING,         /* provider hold, commit, release: the hold window */
        CORE_SET_THAWING,            /* writers Thaw */
        CORE_SET_POST_SNAPSHOT,      /* writers PostSnapshot */
        CORE_SET_READY,              /* snapshots exist; DoSnapshotSet returned */
        CORE_SET_COMPLETING_BACKUP,  /* BackupComplete: writers BackupComplete */
        CORE_SET_BACKUP_COMPLETE,
        CORE_SET_ABORTING,           /* writers told; waiting for the provider */
        CORE_SET_ABORTED,
        _CORE_SET_STATE_MAX,
};

enum core_object_kind {
        CORE_OBJECT_SESSION,
        CORE_OBJECT_SET,
        CORE_OBJECT_SNAPSHOT,
        CORE_OBJECT_WRITER,
};

/* Property names passed to env.property_changed (the D-Bus property names). */
#define CORE_PROP_STATE "State"               /* writer, session, set, snapshot */
#define CORE_PROP_LAST_FAILURE "LastFailure"  /* writer: failure code and message */
#define CORE_PROP_METADATA "Metadata"         /* writer */
#define CORE_PROP_CONTEXT "Context"           /* session: context and attributes */
#define CORE_PROP_SNAPSHOT_SET "SnapshotSet"  /* session */
#define CORE_PROP_VOLUMES "Volumes"           /* set */
#define CORE_PROP_ERROR "Error"               /* set: why it aborted */
#define CORE_PROP_HOLD_WINDOW "HoldWindowUsec" /* set: how long its volumes were held */
#define CORE_PROP_BACKUP_SUCCEEDED "BackupSucceeded" /* set: the requester's verdict */
#define CORE_PROP_ATOMICITY "Atomicity"       /* set: known once every provider prepared */
#define CORE_PROP_EXPOSED_PATH "ExposedPath"  /* snapshot */
#define CORE_PROP_COW_USED "CowUsedBytes"     /* snapshot */
#define CORE_PROP_COW_SIZE "CowSizeBytes"     /* snapshot */

/* The outcome of an asynchronous call. */
struct CoreResult {
        int r;               /* 0 or a negative code */
        const char *message; /* on failure: why; on success: non-fatal writer failures, or NULL */
        /*
         * AddToSnapshotSet: snapshot id; CreateSnapshotSet: set id; Expose: the
         * path; EnableVolume: the volume to use
         */
        const char *id;
        unsigned n;          /* DeleteSnapshots, core_start(): how many were deleted */
        /* core_storage_list(): the provider's shadow-storage associations */
        const struct vss_storage_info *storage;
        size_t n_storage;
};

/*
 * What the core needs from its caller. Every function is called on the
 * caller's (main) thread, from inside a core call; none may call back into the
 * core, except that provider_run/provider_watchdog may complete their job at
 * once (the core defers the completion until it is safe).
 */
struct CoreEnv {
        void *userdata;
        /* Monotonic clock, milliseconds. */
        uint64_t (*now_ms)(void *userdata);
        /* Wall clock for creation times, microseconds; NULL: CLOCK_REALTIME. */
        uint64_t (*realtime_usec)(void *userdata);
        /*
         * The core keeps its timers itself and wants one wake-up: call
         * core_dispatch_timers() once now_ms() >= deadline_ms. UINT64_MAX: none.
         * Each call replaces the previous deadline.
         */
        void (*timer_set)(void *userdata, uint64_t deadline_ms);
        /*
         * Send EVENT with COOKIE to writer W (a unicast signal to w->owner). SET
         * is the set it concerns (its id and volumes go with the event), NULL
         * for Identify. A negative return counts as the writer failing it.
         */
        int (*writer_send)(void *userdata, const CoreWriter *w, enum core_event event,
                           uint64_t cookie, const CoreSet *set);
        /*
         * Run JOB asynchronously: call core_job_execute(job) on the provider
         * thread (one op at a time), then hand it back on this thread with
         * core_job_complete(job). A negative return means it could not be
         * queued; the core then treats the op as failed with that code.
         */
        int (*provider_run)(void *userdata, CoreJob *job);
        /*
         * The hold window passed its bound while hold, commit or release is
         * still running: run core_job_execute(job) (a release of the set) now,
         * on a thread other than the provider thread, then core_job_complete().
         * Only for a window the core's guard thread does not watch: before
         * core_start(), or should the guard be busy with another window.
         */
        void (*provider_watchdog)(void *userdata, CoreJob *job);
        /* Objects appearing, disappearing and changing (for InterfacesAdded etc.). */
        void (*object_added)(void *userdata, enum core_object_kind kind, void *object);
        void (*object_removed)(void *userdata, enum core_object_kind kind, void *object);
        void (*property_changed)(void *userdata, enum core_object_kind kind, void *object,
                                 const char *property);
        /* Reply to the asynchronous call CALL; RESULT is valid during the call only. */
        void (*call_complete)(void *userdata, void *call, const CoreResult *result);
        /*
         * The volume (as requesters name volumes in AddToSnapshotSet) holding
         * PATH, written into BUF; 0 or a negative errno. Used to check that
         * selected components lie inside the set.
         */
        int (*volume_of_path)(void *userdata, const char *path, char *buf, size_t size);
        /*
         * What happened without a caller to tell (a snapshot turning invalid,
         * one adopted or dropped, a provider failing to report): MESSAGE at
         * syslog PRIORITY. NULL: dropped.
         */
        void (*log)(void *userdata, int priority, const char *message);
};

/* A deadline the core keeps (private; embedded in the objects that use it). */
struct CoreTimer {
        uint64_t deadline_ms;
        bool armed;
        void (*fire)(CoreTimer *t);
        void *data;
        CoreTimer *next; /* in the core's list of armed timers */
};

/* A loaded provider plugin. */
struct CoreProvider {
        const struct vss_provider *vp;
        void *state; /* what vp->ops->init() returned */
        /* private */
        bool monitor_failing;   /* its last monitor failed (logged once per streak) */
        CoreProvider *next;
};

/* A writer component (Identify metadata). */
struct CoreComponent {
        char *logical_path; /* "" for a top-level component */
        char *name;
        char **files;       /* paths (files or directories) it keeps data in */
        size_t n_files;
};

/* Component as the caller passes it in; copied by the core. */
struct CoreComponentInfo {
        const char *logical_path;
        const char *name;
        const char *const *files;
        size_t n_files;
};

struct CoreWriterInfo {
        const char *name;
        const char *class_id;
        const char *instance_id;        /* unique among registered writers */
        enum vss_writer_level level;
        uint32_t freeze_timeout_ms;     /* 0: the configured default; never above it */
};

struct CoreWriter {
        uint64_t id;                    /* object number: .../writer/<id> */
        char *owner;                    /* unique bus name of the writer process */
        char *name;
        char *class_id;
        char *instance_id;
        enum vss_writer_level level;
        uint32_t freeze_timeout_ms;     /* as asked; 0: default (see core_writer_freeze_timeout) */
        enum vss_writer_state state;
        enum vss_writer_failure failure;
        char *failure_message;          /* "" when none */
        CoreComponent *components;
        size_t n_components;
        bool gone;                      /* unregistered or left the bus */
        void *userdata;                 /* the caller's (set in object_added); core ignores it */
        /* private */
        Core *core;
        unsigned n_ref;
        WriterSend *current;    /* event sent, answer awaited */
        WriterSend *queue;      /* events waiting for the current one */
        CoreTimer timer;        /* answer deadline of current */
        CoreWriter *next;
};

/* One volume of a set and the snapshot it will get. */
struct CoreVolume {
        char *volume;
        char snapshot_id[CORE_UUID_LEN + 1];
        CoreProvider *provider;
};

struct CoreSnapshot {
        char id[CORE_UUID_LEN + 1];
        CoreSet *set;
        char *origin;                   /* the volume */
        CoreProvider *provider;
        uint32_t attributes;            /* enum vss_snapshot_attr */
        uint64_t creation_usec;         /* CLOCK_REALTIME */
        enum vss_snapshot_state state;
        char device[VSS_DEVICE_PATH_MAX]; /* the snapshot's block device (from prepare), or "" */
        char *exposed_path;             /* where it is mounted; "" when not exposed */
        uint64_t cow_used_bytes;        /* copy-on-write store, as the provider last said */
        uint64_t cow_size_bytes;
        bool deleting;                  /* a delete is running or waits for the op running */
        void *userdata;                 /* the caller's (set in object_added); core ignores it */
        /* private */
        bool releasing;                 /* auto-release: unmount first if exposed, then delete */
        CoreJob *job;                   /* the provider op running on it (one at a time) */
        void *call;                     /* the call waiting for that op (not for deletes) */
        JobBatch *batch;                /* the deletion it counts in */
        bool delete_waiting;            /* deletion asked while another op ran */
        uint64_t seq;                   /* publication number (see reconcile.c) */
        CoreSnapshot *next;     /* in set->snapshots */
};

struct CoreSet {
        char id[CORE_UUID_LEN + 1];
        enum core_set_state state;
        uint32_t attributes;            /* enum vss_snapshot_attr */
        CoreVolume *volumes;
        size_t n_volumes;
        CoreSession *session;   /* NULL once its session ended */
        CoreSnapshot *snapshots;
        int error;                      /* why it aborted, or 0 */
        uint64_t hold_window_usec;      /* first hold to last release; 0 until it closed */
        bool backup_succeeded;          /* SetBackupSucceeded: the requester's verdict */
        /*
         * The weakest its providers' prepare() reported: what its point in time
         * means across volumes. Valid once atomicity_known (every provider
         * prepared; never for an adopted set).
         */
        enum vss_set_atomicity atomicity;
        bool atomicity_known;
        char *error_message;
        void *userdata;                 /* the caller's (set in object_added); core ignores it */
        /* private */
        Core *core;
        char *adding;                   /* volume being checked by AddToSnapshotSet */
        CoreProvider *adding_only; /* the provider asked for, or NULL: any */
        CoreProvider *adding_next; /* next provider to ask */
        char *adding_reasons;
        int adding_error;
        SetWriter *writers;     /* participants, enlisted at PrepareForBackup */
        size_t n_writers;
        size_t n_waiting;               /* answers the current phase waits for */
        int level;                      /* FREEZING: the level being frozen */
        SetProvider *providers; /* distinct providers of the volumes */
        size_t n_providers;
        size_t step;                    /* provider index of the running prepare or abort */
        CoreJob *job;           /* at most one op in flight */
        CoreJob *window_job;    /* the hold window, allocated at DoSnapshotSet, until it runs */
        CoreJob *watchdog_job;  /* its watchdog release, until the bound passes */
        CoreTimer hold_timer;
        enum core_set_state abort_from;
        bool abort_failed;              /* a provider abort failed: snapshots may remain */
        char *notes;                    /* non-fatal writer failures of the running call */
        CoreSnapshot *unpublished; /* allocated before the hold, shown at READY */
        uint64_t commit_usec;
        bool hidden;                    /* adopted, not announced yet */
        bool dead;
        CoreSet *dead_next;     /* in the core's list of sets to free */
        CoreSet *next;
};

struct CoreSession {
        uint64_t id;                    /* object number: .../session/<id> */
        char *owner;
        enum core_context context;
        uint32_t attributes;
        enum core_session_state state;
        CoreSet *set;           /* current set, or NULL */
        char **exclude_writers;         /* ExcludeWriters: names, instance or class ids */
        size_t n_exclude_writers;
        void *userdata;                 /* the caller's (set in object_added); core ignores it */
        /* private */
        Core *core;
        SessionComponent *components; /* AddComponent selections */
        size_t n_components;
        bool busy;                      /* an asynchronous call is pending */
        void *call;
        size_t n_identify;              /* Identify answers awaited */
        char *identify_failures;
        SessionScript *script;  /* CreateSnapshotSet driving this session */
        CoreSession *dead_next; /* in the core's list of sessions to free */
        CoreSession *next;
};

/* --- the core ---------------------------------------------------------------- */

/*
 * ENV is copied; CONFIG may be NULL (defaults), zero fields take defaults.
 * Starts the hold-window guard thread: a negative errno when it cannot.
 */
int core_new(Core **ret, const CoreEnv *env, const CoreConfig *config);
/* Frees everything without notifying; jobs in flight are dropped when they complete. */
Core *core_free(Core *core);

const CoreConfig *core_config_get(const Core *core);
/*
 * Replace the configuration (zero fields take the defaults); -EINVAL (message
 * names the field) when out of range.
 */
int core_config_set(Core *core, const CoreConfig *config,
                    struct vss_error_buf *err);

/*
 * Register a loaded plugin; -VSS_E_ABI_MISMATCH, -EEXIST on a duplicate name.
 * Providers are asked in the order they were added, and the first that can
 * takes a volume (AddToSnapshotSet, CreateSnapshotSet, EnableVolume without a
 * provider named): the daemon adds them by priority, highest first (plugins.h).
 */
int core_provider_add(Core *core, const struct vss_provider *vp, void *state,
                      CoreProvider **ret, struct vss_error_buf *err);
CoreProvider *core_provider_first(Core *core);
/*
 * Provider.IsVolumeSupported (async, on the provider thread like every op):
 * the result's r is 1 (supported), 0 (not: message says why) or an error.
 */
int core_provider_is_volume_supported(Core *core, CoreProvider *provider, const char *volume,
                                      void *call, struct vss_error_buf *err);
CoreProvider *core_provider_find(Core *core, const char *name);

/* The owner's unique name left the bus: its sessions end, its writers leave. */
void core_owner_vanished(Core *core, const char *owner);
/*
 * The daemon is stopping: every session ends as if its owner had left (sets
 * being made abort and their writers thaw; auto-release snapshots are
 * deleted). Wait for core_is_idle() before core_free(), so that what this
 * started on the providers finishes.
 */
void core_shutdown(Core *core);
/* No provider job is out or waiting to be processed. */
bool core_is_idle(const Core *core);

/*
 * Startup (async), once the providers are added: each provider, in order,
 * runs recover() (rolling back what a crashed vssd left half-made), then
 * query(); what query reports and the core does not know is adopted: grouped
 * by set id into sets without a session (state ready) and announced with
 * object_added. An adopted snapshot that is neither persistent nor
 * no-auto-release belonged to a session of an earlier vssd, which is gone:
 * it is deleted through its provider (VSS auto-release), with a notice in the
 * log. CALL completes once every provider answered and those deletions are
 * done; the result's r and message collect what failed (a provider failing
 * does not stop the others: the daemon goes on without what it knows), n
 * counts the deletions. From then on, while snapshots exist, providers are
 * monitored every monitor_interval_ms (reconcile.c), and the guard thread
 * watches every hold window (window.c). Once per core: -EALREADY.
 */
int core_start(Core *core, void *call, struct vss_error_buf *err);

/*
 * Manager.Recover: every provider's recover() again, as at startup, without
 * the query that follows it (nothing the core knows is touched: recover()
 * only rolls back what no live set owns). CALL completes with n = what the
 * providers fixed. -EBUSY while starting; -VSS_E_SET_IN_PROGRESS while a set
 * is being created (its half-made state would look like a crash's).
 */
int core_recover(Core *core, void *call, struct vss_error_buf *err);

/* Fire the timers that are due (the env's timer_set deadline passed). */
void core_dispatch_timers(Core *core);

/* Lookups and iteration (follow ->next); NULL when absent. */
CoreWriter *core_writer_first(Core *core);
CoreWriter *core_writer_find(Core *core, uint64_t id);
CoreSession *core_session_first(Core *core);
CoreSession *core_session_find(Core *core, uint64_t id);
CoreSet *core_set_first(Core *core);
CoreSet *core_set_find(Core *core, const char *id);
CoreSnapshot *core_snapshot_find(Core *core, const char *id);

/* --- provider jobs (the env runs them) ----------------------------------------- */

enum core_job_op {
        CORE_JOB_IS_VOLUME_SUPPORTED,
        CORE_JOB_PREPARE,
        CORE_JOB_WINDOW,           /* hold, commit, release every provider of a set */
        CORE_JOB_FINISH,           /* after the window, writers still frozen (optional op) */
        CORE_JOB_WATCHDOG_RELEASE, /* release what the window holds, past its bound */
        CORE_JOB_ABORT,
        CORE_JOB_DELETE,
        CORE_JOB_EXPOSE,
        CORE_JOB_UNEXPOSE,
        CORE_JOB_REVERT,
        CORE_JOB_RECOVER,
        CORE_JOB_QUERY,
        CORE_JOB_MONITOR,          /* monitor(), or query() when the provider has none */
        CORE_JOB_ENABLE_VOLUME,
        CORE_JOB_DISABLE_VOLUME,
        CORE_JOB_LIST_STORAGE,
        CORE_JOB_SET_STORAGE,
        CORE_JOB_ADD_STORAGE,
        CORE_JOB_REMOVE_STORAGE,
};

struct CoreJob {
        /* Input: read-only for the env. */
        enum core_job_op op;
        const struct vss_provider *provider; /* copied: valid even after core_free();
                                              * window jobs: the first of the set's */
        void *provider_state;
        char *target;                  /* volume, device, set id, snapshot id or provider name */
        char *arg;                     /* CORE_JOB_EXPOSE: the mount point;
                                        * CORE_JOB_SET_STORAGE: the maximum, or NULL */
        char *arg2;                    /* CORE_JOB_SET_STORAGE: the diff area, or NULL */
        /* CORE_JOB_ENABLE_VOLUME, CORE_JOB_ADD_STORAGE: the caller's options (owned) */
        struct vss_option *options;
        size_t n_options;
        struct vss_set_request request; /* CORE_JOB_PREPARE */
        /* Output of core_job_execute(). */
        int r;
        struct vss_error_buf err;
        char volume[VSS_DEVICE_PATH_MAX]; /* CORE_JOB_ENABLE_VOLUME */
        SnapshotReport *report;        /* CORE_JOB_QUERY, CORE_JOB_MONITOR */
        StorageReport *storage;        /* CORE_JOB_LIST_STORAGE */
        /* private */
        uint64_t seq;                  /* CORE_JOB_MONITOR: last publication before it was queued */
        /* CORE_JOB_ENABLE_VOLUME, CORE_JOB_DISABLE_VOLUME: no provider was named, so a
         * "not mine" answer asks the next one (volume.c); the answers so far */
        bool pass_on;
        char *reasons;
        Core *core;             /* NULL once the core is freed */
        void (*done)(CoreJob *job);
        void *owner;                   /* NULL once the owner is gone */
        HoldWindow *window;     /* CORE_JOB_WINDOW, CORE_JOB_WATCHDOG_RELEASE: shared */
        CoreJob *next;         /* in core->jobs or core->done */
        CoreJob *done_next;
};

/* Run the op (any thread; touches only the job, its HoldWindow and the providers). */
void core_job_execute(CoreJob *job);
/* Hand a finished job back (main thread); frees it. */
void core_job_complete(CoreJob *job);

const char *core_job_op_to_string(enum core_job_op op);

/* --- writers ------------------------------------------------------------------- */

/* RegisterWriter. -EEXIST when the instance id is taken, -EINVAL on bad info. */
int core_writer_register(Core *core, const char *owner, const CoreWriterInfo *info,
                         CoreWriter **ret, struct vss_error_buf *err);
/* The writer leaves: as if its owner left the bus. */
int core_writer_unregister(CoreWriter *w, const char *sender, struct vss_error_buf *err);
/* Replace the writer's components (sent with, or before, the Identify answer). */
int core_writer_set_metadata(CoreWriter *w, const char *sender,
                             const CoreComponentInfo *components, size_t n,
                             struct vss_error_buf *err);
/*
 * The writer answers its pending event COOKIE: VSS_WF_NONE or why it failed.
 * -EACCES from a non-owner; -VSS_E_STALE_COOKIE when COOKIE is not pending
 * (answered already, timed out, cancelled, never sent): nothing changes then.
 */
int core_writer_answer(CoreWriter *w, const char *sender, uint64_t cookie,
                       enum vss_writer_failure failure, const char *message,
                       struct vss_error_buf *err);
/* The freeze timeout in force for W: its own, capped by the configured one. */
uint32_t core_writer_freeze_timeout(const CoreWriter *w);

/* --- sessions (the Backup interface) --------------------------------------------- */

/*
 * May SENDER use session S (its owner, and the session not ended)? For calls
 * that read what the core already shows (GatherWriterStatus).
 */
int core_session_check(CoreSession *s, const char *sender, struct vss_error_buf *err);
/* StartBackup. */
int core_session_new(CoreSession **ret, Core *core, const char *owner,
                     struct vss_error_buf *err);
/*
 * Release: like the owner leaving (abort a set in progress, auto-release).
 * The session ends at once; CALL (may be NULL: nobody waits) completes once
 * the auto-release deletions are done, with n counting them (a failed one:
 * its error), so that a caller that saw the reply no longer finds them.
 */
int core_session_release(CoreSession *s, const char *sender, void *call,
                         struct vss_error_buf *err);
/* SetContext: ATTRIBUTES are added to those the context implies. Before StartSnapshotSet. */
int core_session_set_context(CoreSession *s, const char *sender, enum core_context context,
                             uint32_t attributes, struct vss_error_buf *err);
/*
 * ExcludeWriters: the writers whose name, instance id or class id is one of
 * the N NAMES take no part in the session: no Identify, no set events, and
 * their components cannot be selected (VSS's DisableWriterClasses and
 * DisableWriterInstances). Replaces the previous list; before StartSnapshotSet.
 * A name that matches no registered writer is no error: PrepareForBackup
 * warns about it, as the writer may register meanwhile.
 */
int core_session_set_exclude_writers(CoreSession *s, const char *sender,
                                     const char *const *names, size_t n,
                                     struct vss_error_buf *err);
/* Does session S leave writer W out (ExcludeWriters)? */
bool core_session_excludes(const CoreSession *s, const CoreWriter *w);
/* GatherWriterMetadata (async): Identify to every writer; completes when all answered. */
int core_session_gather_writer_metadata(CoreSession *s, const char *sender, void *call,
                                        struct vss_error_buf *err);
/* AddComponent: select a component of writer INSTANCE_ID for the backup. */
int core_session_add_component(CoreSession *s, const char *sender,
                               const char *instance_id, const char *logical_path,
                               const char *name, struct vss_error_buf *err);
/* StartSnapshotSet; -VSS_E_SET_IN_PROGRESS while another set is being created. */
int core_session_start_snapshot_set(CoreSession *s, const char *sender,
                                    CoreSet **ret, struct vss_error_buf *err);
/*
 * AddToSnapshotSet (async: the providers are asked whether they can snapshot
 * VOLUME); PROVIDER: a provider name, or NULL for the first that can. The
 * result's id is the snapshot id the volume will get.
 */
int core_session_add_to_snapshot_set(CoreSession *s, const char *sender,
                                     const char *volume, const char *provider, void *call,
                                     struct vss_error_buf *err);
/*
 * PrepareForBackup (async): checks components, then writers PrepareBackup.
 * The components that must lie wholly on volumes of the set
 * (-VSS_E_INCONSISTENT naming the file and the volume missing): those
 * selected with AddComponent and, of each writer taking part that has none
 * selected, every component with a file on a volume of the set (VSS's
 * implicit selection; from the writer's last Identify answer).
 */
int core_session_prepare_for_backup(CoreSession *s, const char *sender, void *call,
                                    struct vss_error_buf *err);
/* DoSnapshotSet (async): completes when the snapshots exist, or with why not. */
int core_session_do_snapshot_set(CoreSession *s, const char *sender, void *call,
                                 struct vss_error_buf *err);
/* BackupComplete (async): writers BackupComplete. */
int core_session_backup_complete(CoreSession *s, const char *sender, void *call,
                                 struct vss_error_buf *err);
/*
 * SetBackupSucceeded: the requester's verdict on the backup it made of the
 * set's snapshots, shown as the set's BackupSucceeded for writers to read at
 * BackupComplete. Once the snapshots exist (ready), before BackupComplete.
 */
int core_session_set_backup_succeeded(CoreSession *s, const char *sender, bool succeeded,
                                      struct vss_error_buf *err);
/* AbortBackup: aborts the set from whatever state it is in; a pending call fails. */
int core_session_abort_backup(CoreSession *s, const char *sender,
                              struct vss_error_buf *err);

struct CoreCreateOptions {
        enum core_context context;
        uint32_t attributes;  /* added to the context's */
        const char *provider; /* NULL: any */
        const char *const *exclude_writers; /* see core_session_set_exclude_writers() */
        size_t n_exclude_writers;
};

/*
 * CreateSnapshotSet (async): a session owned by OWNER (announced with
 * object_added like any other), driven through GatherWriterMetadata (whose
 * failures become warnings), StartSnapshotSet, AddToSnapshotSet per volume,
 * PrepareForBackup (with its component check) and DoSnapshotSet. The
 * result's id is the set id. On success the session stays: it holds the
 * snapshots until OWNER leaves (auto-release, per the context); no
 * BackupComplete is sent, as no backup was made. On failure it ends.
 */
int core_create_snapshot_set(Core *core, const char *owner, const char *const *volumes,
                             size_t n_volumes, const CoreCreateOptions *options,
                             void *call, struct vss_error_buf *err);

/* --- snapshots ------------------------------------------------------------------ */

enum core_delete_by {
        CORE_DELETE_SNAPSHOT, /* KEY is a snapshot id */
        CORE_DELETE_SET,      /* KEY is a set id: all its snapshots */
        CORE_DELETE_VOLUME,   /* KEY is a volume: all its snapshots */
};

/*
 * DeleteSnapshots / Snapshot.Delete (async); the result's n counts deletions.
 * Snapshots being merged (Revert) are not deleted: the merge consumes them.
 */
int core_snapshots_delete(Core *core, enum core_delete_by by, const char *key, void *call,
                          struct vss_error_buf *err);

/*
 * Snapshot.Expose (async): mount SNAP read-only at MOUNT_POINT, an absolute
 * path ("" or NULL: CORE_EXPOSE_DIR/<id>); the provider makes the directory.
 * The result's id is the path; ExposedPath changes. Refused (-VSS_E_BAD_STATE,
 * -EBUSY, -EINVAL, nothing changed) for a snapshot exposed already, invalid,
 * being merged, being deleted, busy with another op or whose set is still being
 * made.
 */
int core_snapshot_expose(CoreSnapshot *snap, const char *mount_point, void *call,
                         struct vss_error_buf *err);
/* Snapshot.Unexpose (async): unmount it; refused when it is not exposed. */
int core_snapshot_unexpose(CoreSnapshot *snap, void *call, struct vss_error_buf *err);
/*
 * Snapshot.Revert (async): merge SNAP back into its origin. On success its
 * state is "merging"; once the provider no longer reports it (monitoring),
 * the merge is done and the object goes away. Refused for an invalid or
 * exposed snapshot.
 */
int core_snapshot_revert(CoreSnapshot *snap, void *call, struct vss_error_buf *err);

/* --- volumes ------------------------------------------------------------------------ */

/*
 * EnableVolume (async): PROVIDER (a name) makes DEVICE snapshottable with
 * OPTIONS (N_OPTIONS, copied; handed to its enable_volume op); the result's
 * id is the volume to use instead. PROVIDER NULL: each provider with the op,
 * in the core's order, until one answers other than
 * -VSS_E_VOLUME_NOT_SUPPORTED (which passes to the next; when all do, that
 * code with every reason). DEVICE is an absolute path, or with options a
 * name without '/'. -EOPNOTSUPP naming the providers when none has the op.
 */
int core_volume_enable(Core *core, const char *device, const struct vss_option *options,
                       size_t n_options, const char *provider, void *call,
                       struct vss_error_buf *err);
/*
 * DisableVolume (async): undo EnableVolume. PROVIDER NULL: each provider
 * with a disable_volume op in turn, while they answer "not mine"
 * (-VSS_E_VOLUME_NOT_SUPPORTED or -ENOENT). -EBUSY while VOLUME has
 * snapshots or is in a set being made.
 */
int core_volume_disable(Core *core, const char *volume, const char *provider, void *call,
                        struct vss_error_buf *err);

/* --- shadow storage ----------------------------------------------------------------- */

/*
 * Provider.ListStorage (async): PROVIDER's shadow-storage associations, in
 * the result's storage and n_storage. -EOPNOTSUPP naming the provider when
 * it has no such notion (no list_storage op).
 */
int core_storage_list(Core *core, CoreProvider *provider, void *call, struct vss_error_buf *err);
/*
 * Provider.SetStorage (async): the maximum MAX_SIZE and the diff area
 * DIFF_AREA (each NULL: unchanged, not both) of VOLUME's shadow storage on
 * PROVIDER. -EOPNOTSUPP as core_storage_list(); the provider's refusals
 * come back as its error.
 */
int core_storage_set(Core *core, CoreProvider *provider, const char *volume,
                     const char *max_size, const char *diff_area, void *call,
                     struct vss_error_buf *err);
/*
 * Provider.AddStorage (async): PROVIDER makes the storage NAME (a thin pool)
 * from OPTIONS (N_OPTIONS, copied). NAME is 1..64 of [A-Za-z0-9_.+-]
 * (-EINVAL before the provider is asked). -EOPNOTSUPP naming the provider
 * when it makes no storage (no add_storage op).
 */
int core_storage_add(Core *core, CoreProvider *provider, const char *name,
                     const struct vss_option *options, size_t n_options, void *call,
                     struct vss_error_buf *err);
/* Provider.RemoveStorage (async): undo core_storage_add(); the same checks. */
int core_storage_remove(Core *core, CoreProvider *provider, const char *name, void *call,
                        struct vss_error_buf *err);

/* --- names ------------------------------------------------------------------------ */

const char *core_event_to_string(enum core_event event);
const char *core_context_to_string(enum core_context context);
int core_context_from_string(const char *s);
uint32_t core_context_attributes(enum core_context context);
const char *core_session_state_to_string(enum core_session_state state);
const char *core_set_state_to_string(enum core_set_state state);
const char *core_snapshot_state_to_string(enum vss_snapshot_state state);
/* "one-instant", "writers-only": the set property Atomicity. */
const char *core_atomicity_to_string(enum vss_set_atomicity atomicity);

#endif
