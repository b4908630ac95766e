/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * requester.h: the libvss requester API, for programs that ask vssd for
 * snapshots (backup tools, vssctl, scripts). Writers use writer.h; both share
 * vss_client and the conventions below.
 *
 * Objects are opaque and reference counted: *_ref() returns its argument,
 * *_unref() returns NULL and accepts NULL. Functions return 0 on success or a
 * negative code on failure: -errno, or -VSS_E_* (see vss.h); vss_strerror()
 * turns either into text. Output parameters (ret_*) are written only on
 * success. The library never aborts on lack of memory (-ENOMEM instead).
 *
 * Codes every call that talks to vssd may return, besides the daemon's own:
 *   -ENOTCONN      the bus could not be reached (or the connection dropped)
 *   -ECONNREFUSED  vssd is not running on that bus
 *   -ETIMEDOUT     vssd did not answer within the client's timeout
 *   -EBADMSG       vssd answered with something this library does not understand
 *   -EINVAL        an argument is not valid (e.g. a string that is not UTF-8)
 * After any failure vss_client_get_error_message() holds a sentence saying
 * what failed and, when vssd sent it, vssd's own explanation: print it as is.
 *
 * A vss_client is not thread-safe: use it from one thread at a time.
 */
#ifndef VSS_REQUESTER_H
#define VSS_REQUESTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vss/vss.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to vssd. */
typedef struct vss_client vss_client;

/* One provider plugin loaded by vssd, as listed by vss_client_list_providers(). */
typedef struct vss_provider_info vss_provider_info;

/* Default time to wait for each reply from vssd. */
#define VSS_CLIENT_DEFAULT_TIMEOUT_MS 30000u

/*
 * Create a client for vssd on the bus at ADDRESS (a D-Bus address such as
 * "unix:path=/run/dbus/system_bus_socket"); NULL means $VSS_BUS_ADDRESS if
 * set, else the system bus ($DBUS_SYSTEM_BUS_ADDRESS or its default).
 *
 * Nothing is sent yet: the private connection is opened by the first call
 * that needs it, so a bus that cannot be reached is reported by that call,
 * with a message, like any other failure. Returns -EINVAL for an address that
 * is not a D-Bus address, -ENOMEM.
 */
int vss_client_new(vss_client **ret, const char *address);
vss_client *vss_client_ref(vss_client *client);
/* Dropping the last reference closes the connection. */
vss_client *vss_client_unref(vss_client *client);

/* How long each call waits for vssd; 0 restores the default. -EINVAL above INT_MAX. */
int vss_client_set_timeout(vss_client *client, uint64_t timeout_ms);
uint64_t vss_client_get_timeout(const vss_client *client);

/* The bus address the client uses (after the defaults above were applied). */
const char *vss_client_get_address(const vss_client *client);

/*
 * The last failure on CLIENT: a sentence ("what failed, on what, what to do")
 * and, when vssd or the bus sent an error, its D-Bus error name. NULL when
 * the last call succeeded. Valid until the next call on CLIENT.
 */
const char *vss_client_get_error_message(const vss_client *client);
const char *vss_client_get_error_name(const vss_client *client);

/*
 * The coordinator's properties. The library allocates it and only ever
 * appends fields, so programs built against an older header keep working.
 * Strings are never NULL.
 */
typedef struct vss_status {
        char *version;                /* vssd version */
        uint32_t provider_abi_version; /* plugin ABI the daemon loads */
        uint32_t max_volumes_per_set;
        uint32_t freeze_timeout_ms;   /* default per-writer freeze timeout */
        uint32_t hold_timeout_ms;     /* bound of the hold window */
        char *provider_directory;     /* where plugins are loaded from */
        uint32_t event_timeout_ms;    /* how long writers may take for events other than Freeze */
        uint32_t monitor_interval_ms; /* how often vssd checks snapshots (COW usage, merges) */
} vss_status;

int vss_client_get_status(vss_client *client, vss_status **ret_status);
vss_status *vss_status_free(vss_status *status);

/*
 * Have every provider roll back what an interrupted vssd left half-made
 * (Manager.Recover; vssd does it at every start too): suspended volumes
 * resumed, unfinished snapshots removed; finished snapshots stay.
 * *RET_FIXED (may be NULL) gets how many things were put right; each is in
 * vssd's log. Root only; -VSS_E_SET_IN_PROGRESS while a set is being created.
 */
int vss_client_recover(vss_client *client, unsigned *ret_fixed);

/*
 * The providers vssd has loaded, sorted by name, as a NULL-terminated array
 * of references; RET_N (may be NULL) gets their number. Free the array with
 * vss_provider_info_list_free(), or keep single entries with
 * vss_provider_info_ref() first.
 */
int vss_client_list_providers(vss_client *client, vss_provider_info ***ret_providers,
                              size_t *ret_n);
vss_provider_info **vss_provider_info_list_free(vss_provider_info **providers);

vss_provider_info *vss_provider_info_ref(vss_provider_info *provider);
vss_provider_info *vss_provider_info_unref(vss_provider_info *provider);
/* Properties of org.linuxvss.Vss1.Provider; strings are never NULL. */
const char *vss_provider_info_get_name(const vss_provider_info *provider);
const char *vss_provider_info_get_id(const vss_provider_info *provider);
const char *vss_provider_info_get_version(const vss_provider_info *provider);
const char *vss_provider_info_get_description(const vss_provider_info *provider);
uint32_t vss_provider_info_get_abi_version(const vss_provider_info *provider);
const char *vss_provider_info_get_path(const vss_provider_info *provider);
/*
 * Its priority (libvss 0.4): of the providers that can snapshot a volume,
 * vssd lets the one of highest priority take it (ties: by name).
 */
uint32_t vss_provider_info_get_priority(const vss_provider_info *provider);
/* The provider's D-Bus object path, e.g. /org/linuxvss/Vss1/provider/dm_2dsnapshot. */
const char *vss_provider_info_get_object_path(const vss_provider_info *provider);

/*
 * Ask provider PROVIDER_NAME whether it can snapshot VOLUME (a device path).
 * *RET_SUPPORTED is set; *RET_REASON (may be NULL) gets a malloc'd sentence
 * saying why not, "" when supported. -ENOENT when no such provider is loaded.
 */
int vss_client_is_volume_supported(vss_client *client, const char *provider_name,
                                   const char *volume, bool *ret_supported, char **ret_reason);

/* ---- snapshots, sets and writers as vssd lists them ------------------------------------ */

/*
 * The structures below are allocated by the library, which only ever appends
 * fields to them (lists are arrays of pointers, never of structures), so a
 * program built against an older header keeps working. Strings are never
 * NULL ("" when vssd did not say); string arrays are NULL-terminated and
 * never NULL. Ids are the UUIDs VSS calls snapshot and set ids.
 *
 * Each list is a NULL-terminated array; free it with its *_list_free(). To
 * keep one entry beyond the list, move it out of the array (shifting the rest
 * down) and free it later with its *_free().
 */

/* One snapshot ("shadow copy"), as vss_client_list_snapshots() lists it. */
typedef struct vss_snapshot_info {
        char *object_path;           /* /org/linuxvss/Vss1/snapshot/<id with _> */
        char *id;
        char *set_id;
        char *set_object_path;
        char *origin;                /* the volume it is a snapshot of */
        char *provider;              /* name of the provider that made it */
        char **attributes;           /* "persistent", "no-auto-release", "no-writers" */
        uint64_t creation_time_usec; /* microseconds since the epoch */
        char *state;                 /* "valid", "invalid", "merging" */
        char *device;                /* the snapshot's block device (read-only view) */
        char *exposed_path;          /* where it is mounted; "" when not exposed */
        uint64_t cow_used_bytes;     /* copy-on-write store in use; 0 when the provider has none */
        uint64_t cow_size_bytes;     /* and its size */
} vss_snapshot_info;

/*
 * The snapshots vssd knows of, every one or (SET_ID not NULL) those of one
 * set. Sorted by set, sets oldest first, and by origin within a set.
 */
int vss_client_list_snapshots(vss_client *client, const char *set_id,
                              vss_snapshot_info ***ret_snapshots, size_t *ret_n);
vss_snapshot_info *vss_snapshot_info_free(vss_snapshot_info *snapshot);
vss_snapshot_info **vss_snapshot_info_list_free(vss_snapshot_info **snapshots);

/* One snapshot set, as vss_client_list_snapshot_sets() lists it. */
typedef struct vss_snapshot_set_info {
        char *object_path;           /* /org/linuxvss/Vss1/set/<id with _> */
        char *id;
        char *state;                 /* "created" ... "ready", "aborted": see docs/dbus-api.md */
        char **volumes;
        char **attributes;
        char *error;                 /* why it aborted, "" otherwise */
        char *session_object_path;   /* the session that made it; "/" once that ended */
        uint64_t creation_time_usec; /* of its oldest snapshot; 0 while it has none */
        bool backup_succeeded;       /* the requester's verdict (vss_backup_set_backup_succeeded) */
        /*
         * What the set's point in time means across its volumes (libvss 0.4):
         * "one-instant" (every volume at one instant), "writers-only" (the
         * volumes one after another, with the writers frozen throughout: only
         * what they wrote is consistent across volumes), or "" until its
         * providers prepared it, and for a set made by an earlier vssd.
         */
        char *atomicity;
} vss_snapshot_set_info;

/* The snapshot sets vssd knows of, oldest first; sets without snapshots last, by id. */
int vss_client_list_snapshot_sets(vss_client *client, vss_snapshot_set_info ***ret_sets,
                                  size_t *ret_n);
vss_snapshot_set_info *vss_snapshot_set_info_free(vss_snapshot_set_info *set);
vss_snapshot_set_info **vss_snapshot_set_info_list_free(vss_snapshot_set_info **sets);

/* One registered writer, as vss_client_list_writers() lists it. */
typedef struct vss_writer_info {
        char *object_path;           /* /org/linuxvss/Vss1/writer/<n> */
        char *name;
        char *instance_id;
        char *class_id;
        char *level;                 /* "front-end", "back-end", "system" */
        char *usage;                 /* free text, e.g. "user-data" */
        char *state;                 /* "STABLE", "FAILED_AT_FREEZE", ... */
        enum vss_writer_state state_code; /* VSS_WS_UNKNOWN for a name libvss does not know */
        char *last_failure;          /* "NONE", "TIMEOUT", ... */
        enum vss_writer_failure last_failure_code;
        char *last_failure_message;
        uint32_t pid;                /* (uint32_t)-1 when vssd does not know */
        uint32_t uid;                /* (uint32_t)-1 when vssd does not know */
        uint32_t freeze_timeout_ms;  /* the one in force for this writer */
} vss_writer_info;

/* The writers registered with vssd, sorted by name and instance id. */
int vss_client_list_writers(vss_client *client, vss_writer_info ***ret_writers, size_t *ret_n);
vss_writer_info *vss_writer_info_free(vss_writer_info *writer);
vss_writer_info **vss_writer_info_list_free(vss_writer_info **writers);

/* What vss_client_delete_snapshots() deletes by. */
enum vss_delete_by {
        VSS_DELETE_SNAPSHOT = 0, /* KEY is a snapshot id */
        VSS_DELETE_SET = 1,      /* KEY is a set id: every snapshot of the set */
        VSS_DELETE_VOLUME = 2,   /* KEY is a volume: every snapshot of it */
};

/*
 * Delete snapshots (DeleteSnapshots); *RET_DELETED (may be NULL) gets how
 * many went. -ENOENT for an id vssd does not know, -VSS_E_BAD_STATE for a
 * snapshot whose set is still being made.
 */
int vss_client_delete_snapshots(vss_client *client, enum vss_delete_by by, const char *key,
                                unsigned *ret_deleted);

/* ---- using snapshots and volumes ------------------------------------------------------ */

/*
 * The calls on one snapshot fail with -ENOENT for an id vssd does not know
 * (-EINVAL for one that is not a UUID), -EBUSY while another operation runs
 * on the snapshot, and -VSS_E_BAD_STATE when its state does not allow the
 * call (the message says why and what to do).
 */

/*
 * Expose snapshot ID: mount it read-only at MOUNT_POINT (an absolute path; NULL
 * or "" lets vssd choose /run/vss/expose/<id>). *RET_PATH (may be NULL;
 * malloc'd) gets where it is mounted. -VSS_E_BAD_STATE when it is exposed
 * already (unexpose it first), merging or invalid.
 */
int vss_client_expose_snapshot(vss_client *client, const char *id, const char *mount_point,
                               char **ret_path);
/* Unexpose snapshot ID: unmount it. -VSS_E_BAD_STATE when it is not exposed. */
int vss_client_unexpose_snapshot(vss_client *client, const char *id);

/*
 * Revert snapshot ID's origin to the snapshot (a merge: the origin's file
 * system must not be mounted). Returns once the merge has started: the
 * snapshot's state is then "merging", and the snapshot disappears when the
 * merge is done; vss_client_wait_snapshot_merged() waits for that.
 * -VSS_E_BAD_STATE when it is exposed (unexpose it first), merging already,
 * or invalid.
 */
int vss_client_revert_snapshot(vss_client *client, const char *id);

/*
 * Called by vss_client_wait_snapshot_merged() with the snapshot as vssd
 * shows it: once at the start, then after each change vssd announces (its
 * cow_used_bytes shrinks as the merge proceeds). SNAPSHOT is valid during the
 * call only.
 */
typedef void (*vss_merge_progress_fn)(const vss_snapshot_info *snapshot, void *userdata);

/*
 * Wait until the merge of snapshot ID is done, i.e. vssd has removed the
 * snapshot, by listening to vssd's signals (no polling). 0 as well when the
 * snapshot was already gone. -VSS_E_BAD_STATE when the snapshot is not, or no
 * longer, merging (the message names its state), -ECONNRESET when vssd left
 * the bus, -ETIMEDOUT after TIMEOUT_MS (0: no limit; the client's own timeout
 * bounds each call, not the wait). PROGRESS may be NULL.
 */
int vss_client_wait_snapshot_merged(vss_client *client, const char *id, uint64_t timeout_ms,
                                    vss_merge_progress_fn progress, void *userdata);

/*
 * Enable DEVICE (a plain block device, e.g. a partition) for snapshots: the
 * provider wraps it in a layer of its own, and *RET_VOLUME (malloc'd) gets the
 * volume to use instead of DEVICE from now on: to mount, and to name in
 * snapshot sets. PROVIDER NULL lets the first provider that can do it take it.
 * The file system on DEVICE must not be mounted meanwhile. -ENOENT when no
 * provider PROVIDER is loaded, -EOPNOTSUPP when no provider (or not PROVIDER)
 * wraps devices; the provider's own refusals (a device it cannot wrap, one
 * enabled already) with the code and message it gives.
 */
int vss_client_enable_volume(vss_client *client, const char *device, const char *provider,
                             char **ret_volume);
/*
 * Undo vss_client_enable_volume(): VOLUME (the one it returned) goes, DEVICE
 * is to be used directly again. VOLUME must have no snapshots and must not be
 * mounted (-EBUSY otherwise). PROVIDER: as above.
 */
int vss_client_disable_volume(vss_client *client, const char *volume, const char *provider);

/* ---- creating snapshots --------------------------------------------------------------- */

/*
 * Timeouts: the calls that wait for writers or providers (GatherWriterMetadata,
 * PrepareForBackup, DoSnapshotSet, BackupComplete, AbortBackup, Release and
 * CreateSnapshotSet) wait without a client-side limit: vssd bounds each of them
 * itself (the writers' freeze timeouts, EventTimeoutMs, the hold window), and
 * a shorter client timeout would only abandon a set vssd is still making. If
 * vssd leaves the bus, they fail at once with -ECONNRESET. Every other call
 * uses the client's timeout.
 *
 * Ownership: a session, and the snapshot set it makes, belong to the client's
 * connection. When the connection closes (the last vss_client_unref(), or the
 * process exits) the session ends as if vss_backup_release() had been called:
 * a set still being made aborts, and the snapshots of an auto-release context
 * ("backup", "file-share-backup", without the "persistent" or
 * "no-auto-release" attribute) are deleted. Keep the client alive for as long
 * as such snapshots are needed.
 */

/* A requester session (org.linuxvss.Vss1.Backup), like IVssBackupComponents. */
typedef struct vss_backup vss_backup;

/*
 * Start a session (StartBackup). CONTEXT: "backup" (NULL), "file-share-backup",
 * "app-rollback" or "nas-rollback"; ATTRIBUTES: a NULL-terminated list added to
 * the context's ("persistent", "no-auto-release", "no-writers"), or NULL. The
 * session keeps a reference to CLIENT.
 */
int vss_client_start_backup(vss_client *client, const char *context,
                            const char *const *attributes, vss_backup **ret);
vss_backup *vss_backup_ref(vss_backup *backup);
/*
 * Dropping the last reference sends nothing: the session lives on until
 * vss_backup_release() or until the client's connection closes.
 */
vss_backup *vss_backup_unref(vss_backup *backup);

/* The session's D-Bus object path, e.g. /org/linuxvss/Vss1/session/3. */
const char *vss_backup_get_object_path(const vss_backup *backup);
/* The id of the set vss_backup_start_snapshot_set() started; NULL before. */
const char *vss_backup_get_snapshot_set_id(const vss_backup *backup);

/* SetContext: change context and attributes before vss_backup_start_snapshot_set(). */
int vss_backup_set_context(vss_backup *backup, const char *context,
                           const char *const *attributes);

/* Identify every writer; returns when all answered. No client timeout. */
int vss_backup_gather_writer_metadata(vss_backup *backup);

/* One writer's status, as vss_backup_gather_writer_status() reports it. */
typedef struct vss_writer_status {
        char *object_path;
        char *name;
        char *instance_id;
        char *state;                     /* "STABLE", "FAILED_AT_FREEZE", ... */
        enum vss_writer_state state_code; /* VSS_WS_UNKNOWN for a name libvss does not know */
        char *failure;                   /* "NONE", "TIMEOUT", ... */
        enum vss_writer_failure failure_code;
        char *message;                   /* the writer's failure message, "" when none */
} vss_writer_status;

/* GatherWriterStatus: every writer's state and last failure, as a NULL-terminated list. */
int vss_backup_gather_writer_status(vss_backup *backup, vss_writer_status ***ret_writers,
                                    size_t *ret_n);
vss_writer_status *vss_writer_status_free(vss_writer_status *status);
vss_writer_status **vss_writer_status_list_free(vss_writer_status **list);

/* Select a component a writer reported, by writer instance id, logical path and name. */
int vss_backup_add_component(vss_backup *backup, const char *instance_id,
                             const char *logical_path, const char *name);

/*
 * StartSnapshotSet: *RET_SET_ID (may be NULL; malloc'd) gets the new set's id.
 * -VSS_E_SET_IN_PROGRESS while another set is being created: retry later.
 */
int vss_backup_start_snapshot_set(vss_backup *backup, char **ret_set_id);

/*
 * AddToSnapshotSet: add VOLUME (a device path); PROVIDER NULL lets the first
 * provider that supports it take it. *RET_SNAPSHOT_ID (may be NULL; malloc'd)
 * gets the id the snapshot will have. -VSS_E_VOLUME_NOT_SUPPORTED (the message
 * says why, per provider), -VSS_E_VOLUME_IN_SET, -VSS_E_MAX_VOLUMES.
 */
int vss_backup_add_to_snapshot_set(vss_backup *backup, const char *volume,
                                   const char *provider, char **ret_snapshot_id);

/*
 * The steps that involve writers. Each *RET_WARNINGS (may be NULL; malloc'd)
 * gets the non-fatal writer failures, "" when none. A failure that stops the
 * set (a Freeze veto, a timeout, a provider error) is returned as an error.
 */
int vss_backup_prepare_for_backup(vss_backup *backup, char **ret_warnings);
int vss_backup_do_snapshot_set(vss_backup *backup, char **ret_warnings);
int vss_backup_backup_complete(vss_backup *backup, char **ret_warnings);

/* AbortBackup: abort the set from any state; writers get Abort. */
int vss_backup_abort(vss_backup *backup);
/* Release: end the session now, as if the connection had closed (see above). */
int vss_backup_release(vss_backup *backup);

/*
 * Called while a call that waits for writers or providers runs (see
 * Timeouts), when one is given in struct vss_create_options: at once with
 * STATE NULL, each time a snapshot set's State changes (SET_ID and STATE as
 * vssd sends them: "freezing", "committing", ...), and every quarter of a
 * second with the last state seen, so that a program can say what is going
 * on once a step takes long. ELAPSED_MS counts from the start of the call.
 * The strings are valid during the call only.
 */
typedef void (*vss_progress_fn)(const char *set_id, const char *state, uint64_t elapsed_ms,
                                void *userdata);

/*
 * Options of vss_client_create_snapshot_set() and
 * vss_client_start_backup_with_options(). Set SIZE to sizeof(struct
 * vss_create_options) (VSS_CREATE_OPTIONS_INIT does): it tells the library
 * which fields the caller knows, so the structure can grow. NULL fields take
 * vssd's defaults.
 */
struct vss_create_options {
        size_t size;
        const char *context;           /* NULL: "backup" */
        const char *const *attributes; /* NULL-terminated, added to the context's; or NULL */
        const char *provider;          /* use only this provider; NULL: any (create only) */
        /* Since LIBVSS_3: */
        /*
         * NULL-terminated names, instance ids or class ids of writers that take
         * no part (ExcludeWriters: no events, their components cannot be
         * selected); a name no writer has is a warning, not an error. NULL: none.
         */
        const char *const *exclude_writers;
        vss_progress_fn progress;      /* NULL: none */
        void *progress_userdata;
};
#define VSS_CREATE_OPTIONS_INIT { .size = sizeof(struct vss_create_options) }

/*
 * CreateSnapshotSet: the whole lifecycle in one call (StartBackup,
 * StartSnapshotSet, AddToSnapshotSet for each of the N VOLUMES,
 * PrepareForBackup, DoSnapshotSet). Returns when the snapshots exist, with
 * *RET_SET_ID (malloc'd) and *RET_WARNINGS (may be NULL; malloc'd; "" when no
 * writer failed). OPTS NULL: vssd's defaults (context "backup").
 *
 * The session vssd creates for it belongs to CLIENT's connection: with an
 * auto-release context (the default!) the snapshots are deleted as soon as
 * the connection closes, i.e. at the last vss_client_unref() or when the
 * process exits. Use a persistent context ("app-rollback", "nas-rollback")
 * for snapshots that must outlive the program. No client timeout (see above).
 */
int vss_client_create_snapshot_set(vss_client *client, const char *const *volumes, size_t n,
                                   const struct vss_create_options *opts, char **ret_set_id,
                                   char **ret_warnings);

/* ---- since LIBVSS_3 ------------------------------------------------------------------- */

/*
 * vss_client_start_backup() with OPTS (NULL: the defaults): context,
 * attributes and writers to exclude; OPTS->progress is called during the
 * session's calls that wait for writers or providers. OPTS->provider must be
 * NULL (-EINVAL): name the provider in vss_backup_add_to_snapshot_set().
 */
int vss_client_start_backup_with_options(vss_client *client,
                                         const struct vss_create_options *opts,
                                         vss_backup **ret);

/*
 * SetBackupSucceeded: tell the writers whether the backup made from the
 * set's snapshots succeeded (VSS's SetBackupSucceeded); they read it as the
 * set's BackupSucceeded when BackupComplete comes. Once the snapshots exist,
 * before vss_backup_backup_complete(); -VSS_E_BAD_STATE otherwise.
 */
int vss_backup_set_backup_succeeded(vss_backup *backup, bool succeeded);

/*
 * End the session that created set SET_ID now, as vss_backup_release() does:
 * for a set made by vss_client_create_snapshot_set(), whose session has no
 * vss_backup. Only the connection that created the set may do it. Returns
 * when the snapshots of an auto-release context are gone; 0 as well when the
 * session had already ended.
 */
int vss_client_release_snapshot_set(vss_client *client, const char *set_id);

/* ---- shadow storage ------------------------------------------------------------------- */

/*
 * Shadow storage (vssadmin's "ShadowStorage"): per volume, where a provider
 * keeps the copy-on-write stores of its snapshots (the diff area) and how
 * large they may grow in total. Not every provider has it: one that makes no
 * stores of its own answers NotSupported (-EOPNOTSUPP).
 */

/* No limit: vss_shadow_storage.max_bytes of the maximum "unbounded". */
#define VSS_SHADOW_STORAGE_UNBOUNDED UINT64_MAX

/* One volume's shadow storage, as vss_client_list_shadow_storage() lists it. */
typedef struct vss_shadow_storage {
        char *provider;           /* the provider that keeps it */
        char *volume;             /* the volume whose snapshots use it */
        char *diff_area;          /* where its stores go */
        uint64_t used_bytes;      /* data its snapshots wrote into their stores */
        uint64_t allocated_bytes; /* the stores' total size now */
        char *max_size;           /* the maximum as set: "15%", "10G", "unbounded" */
        uint64_t max_bytes;       /* in bytes; VSS_SHADOW_STORAGE_UNBOUNDED; 0 when it cannot
                                   * be computed (a percentage of a volume not there) */
        /* Since LIBVSS_4: storage a provider made (vss_client_add_storage()) has an entry
         * of its own, with volume "" and its name; used_bytes, allocated_bytes and
         * max_bytes are then its data device's use and size. */
        char *name;               /* the storage's name (a thin pool's), or "" */
        char *kind;               /* "diff-area" (a volume's stores) or "thin-pool" */
        uint64_t metadata_used_bytes; /* a pool's metadata device: used, size; else 0 */
        uint64_t metadata_size_bytes;
} vss_shadow_storage;

/*
 * The shadow storage of provider PROVIDER (-ENOENT when none is loaded by
 * that name, -EOPNOTSUPP when it has no shadow storage), or with PROVIDER
 * NULL of every provider that has it. Sorted by volume, then provider.
 */
int vss_client_list_shadow_storage(vss_client *client, const char *provider,
                                   vss_shadow_storage ***ret_storage, size_t *ret_n);
vss_shadow_storage *vss_shadow_storage_free(vss_shadow_storage *storage);
vss_shadow_storage **vss_shadow_storage_list_free(vss_shadow_storage **storage);

/*
 * Set VOLUME's shadow storage on provider PROVIDER: its maximum MAX_SIZE
 * (bytes with K, M, G or T, a percentage of the volume such as "15%", or
 * "unbounded") and its diff area DIFF_AREA (a directory); either may be NULL
 * to keep what is set, not both. The provider keeps it across restarts and
 * applies it to existing snapshots too. Refusals (-EINVAL: a maximum below
 * what the volume's snapshots use, a diff area on the volume itself; -EBUSY:
 * moving the diff area of a volume that has snapshots) change nothing and
 * say why in vss_client_get_error_message(). Needs root.
 */
int vss_client_set_shadow_storage(vss_client *client, const char *provider, const char *volume,
                                  const char *max_size, const char *diff_area);

/* ---- since LIBVSS_4: provider options, storage a provider makes ----------------------- */

/*
 * An option handed to a provider as it is: KEY is the name the provider
 * documents ("ThinPool", "Data"), VALUE its string. The provider refuses a
 * key it does not know, naming it.
 */
struct vss_client_option {
        const char *key;
        const char *value;
};

/*
 * vss_client_enable_volume() with the N_OPTIONS OPTIONS for the provider
 * (dm-thin: ThinPool, Size). With options, DEVICE may be a name without '/'
 * for a provider that makes a new volume of that name (dm-thin with Size).
 * PROVIDER NULL: vssd asks the providers in its order (the coordinator's
 * Providers property) until one does not answer -VSS_E_VOLUME_NOT_SUPPORTED
 * ("not mine"); when every one does, that code with each one's reason.
 */
int vss_client_enable_volume_with_options(vss_client *client, const char *device,
                                          const char *provider,
                                          const struct vss_client_option *options,
                                          size_t n_options, char **ret_volume);

/*
 * Make storage NAME (1 to 64 of A-Z a-z 0-9 _ . + -) on provider PROVIDER
 * from OPTIONS: dm-thin makes a thin pool from Data and Metadata (block
 * devices or files) and DataSize, MetadataSize, ChunkSize. The provider
 * keeps it across reboots; vss_client_list_shadow_storage() lists it.
 * PROVIDER NULL: the first provider, in vssd's order (the coordinator's
 * Providers property), that makes storage at all (the others answer
 * NotSupported); *RET_PROVIDER (malloc'd; may be NULL) says which one took
 * it. -EOPNOTSUPP when none does (or not PROVIDER), -ENOENT when no
 * provider PROVIDER is loaded; the provider's refusals with its code and
 * message (-EEXIST: NAME exists). Needs root.
 */
int vss_client_add_storage(vss_client *client, const char *provider, const char *name,
                           const struct vss_client_option *options, size_t n_options,
                           char **ret_provider);
/*
 * Remove storage NAME that vss_client_add_storage() made (what becomes of
 * its devices and files, the provider's manual says). -EBUSY while volumes
 * live in it. PROVIDER and *RET_PROVIDER as there.
 */
int vss_client_remove_storage(vss_client *client, const char *provider, const char *name,
                              char **ret_provider);

#ifdef __cplusplus
}
#endif

#endif
