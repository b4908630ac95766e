/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.h: the VSS lifecycle on the bus. daemon/core decides everything;
 * these files give it a world (env.c: the clock, a loop timer, the provider
 * thread, unicast writer events) and show its objects on the bus, one file per
 * kind: session-object.c (interface Backup, StartBackup, CreateSnapshotSet),
 * set-object.c (SnapshotSet), snapshot-object.c (Snapshot, DeleteSnapshots),
 * writer-object.c (Writer, RegisterWriter), provider-object.c (Provider,
 * EnableVolume, DisableVolume).
 *
 * Every core object's userdata is its Exported: the bus object and what the
 * bus side adds to it. Exported objects are created and freed only by the
 * core's object_added / object_removed notifications.
 */
#ifndef VSS_DAEMON_LIFECYCLE_H
#define VSS_DAEMON_LIFECYCLE_H

#include "daemon/core/core.h"
#include "daemon/manager.h"

/* Room for any lifecycle object path. */
#define LIFECYCLE_PATH_MAX 128

typedef struct Exported {
        Manager *manager;
        enum core_object_kind kind;
        void *object;           /* CoreSession, CoreSet, CoreSnapshot or CoreWriter */
        BusObject *bus_object;
        /* writers only */
        char *usage;
        uint32_t pid, uid;      /* (uint32_t)-1 until the bus told us */
} Exported;

/* --- env.c ------------------------------------------------------------------------ */

/* Create the core, hand it the loaded providers and follow names leaving the bus. */
int lifecycle_start(Manager *m);
void lifecycle_stop(Manager *m);
/*
 * SIGTERM: end every session (writers thaw, sets being made abort), then leave
 * the loop once no provider op is in flight, or after a bound.
 */
void lifecycle_shutdown(Manager *m);
/* Give the core the timeouts in m->settings; -EINVAL with a message when out of range. */
int lifecycle_apply_settings(Manager *m, struct vss_error_buf *err);
/*
 * Recover and query every provider and adopt their snapshots (core_start());
 * once that is done, take the bus name: a client never sees a half-built view.
 */
int lifecycle_start_providers(Manager *m);

/* Object path of a core object, "/" for NULL. */
const char *lifecycle_path(enum core_object_kind kind, const void *object,
                           char buf[LIFECYCLE_PATH_MAX]);

/* The snapshot attribute bits of NAMES ("persistent", ...); -EINVAL naming the bad one. */
int lifecycle_attributes_parse(BusCall *call, const char *const *names, uint32_t *ret);
bool lifecycle_append_attributes(DBusMessageIter *iter, uint32_t attributes);

/* A volume from a caller, canonicalized (daemon/volume.h); -EINVAL for a relative path. */
int lifecycle_volume_arg(BusCall *call, const char *volume, char *buf, size_t size);

/*
 * An asynchronous core call. Create the token before the core call, then pass
 * the core's return value to pending_started(): on failure it answers CALL with
 * ERR's message, on success the core's call_complete answers it later (or
 * already did). KIND says what the reply carries.
 */
enum pending_reply {
        REPLY_EMPTY,
        REPLY_ID,          /* (s) the result's id */
        REPLY_WARNINGS,    /* (s) the result's message, "" when none */
        REPLY_SET,         /* (o s) set path from the result's id, warnings */
        REPLY_COUNT,       /* (u) the result's n */
        REPLY_SUPPORTED,   /* (b s) r == 1, reason */
};
typedef struct Pending Pending;
Pending *pending_new(BusCall *call, enum pending_reply kind);
int pending_started(Pending *p, BusCall *call, int r, const struct vss_error_buf *err);
/* A token for the daemon's own asynchronous core call: FN gets the result. */
typedef void (*pending_fn)(void *userdata, const CoreResult *result);
Pending *pending_new_internal(pending_fn fn, void *userdata);
/* Free a token the core refused (its call failed at once). */
void pending_free(Pending *p);

/* Answer CALL with the core's synchronous failure R and ERR's message. */
int lifecycle_error(BusCall *call, int r, const struct vss_error_buf *err);

/* --- one file per kind ------------------------------------------------------------------ */

/* What a writer's object adds once published (its pid and uid, asked of the bus). */
int writer_object_publish(Exported *e);
extern const BusInterface session_object_interface;
extern const BusInterface set_object_interface;
extern const BusInterface snapshot_object_interface;
extern const BusInterface writer_object_interface;
/* Unicast signal EVENT to the writer's owner. */
int writer_object_send(const CoreWriter *w, enum core_event event, uint64_t cookie,
                       const CoreSet *set);

/* Coordinator methods, each with the kind it creates. */
int method_start_backup(BusCall *call, void *userdata);
int method_create_snapshot_set(BusCall *call, void *userdata);
int method_register_writer(BusCall *call, void *userdata);
int method_delete_snapshots(BusCall *call, void *userdata);
int method_enable_volume(BusCall *call, void *userdata);
int method_disable_volume(BusCall *call, void *userdata);

#endif
