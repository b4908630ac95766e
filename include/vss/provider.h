/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider.h: the ABI between vssd and snapshot provider plugins.
 *
 * A provider is a shared object that vssd dlopen()s from its provider
 * directory. It exports one symbol, VSS_PROVIDER_SYMBOL, a const
 * struct vss_provider whose abi_version must equal VSS_PROVIDER_ABI_VERSION;
 * anything else is refused at load time. Bump the version (and the symbol
 * name) whenever a structure below changes layout or meaning.
 *
 * Threading: vssd calls every op from one provider thread, never two at once,
 * with one exception: release() and abort() may be called from a watchdog
 * thread while hold() or commit() is still running, when the hold window has
 * passed its bound. A provider must make those two safe in that case. That
 * thread is vssd's hold-window guard: it releases at the bound counted from
 * the first hold, even when the rest of vssd is stuck, and may come just
 * before a hold that was about to begin (that hold must then find the set
 * released, or undo its own suspend). The guard's stack and data exist
 * before prepare(), so memory locked from prepare() to release()
 * (mlockall(MCL_CURRENT)) covers them along with the provider's own.
 *
 * Errors: ops return 0 or a negative errno / -VSS_E_* code (see vss.h), and
 * on failure write a sentence into err->message that names the volume or
 * device, the step, and what the administrator can do.
 */
#ifndef VSS_PROVIDER_H
#define VSS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <vss/vss.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Version 2 (linux-vss 0.2): prepare() reports each snapshot's device,
 * monitor(), enable_volume() and disable_volume() were added.
 * Version 3: list_storage() and set_storage() (shadow storage, as vssadmin's
 * "ShadowStorage") were added.
 * Version 4: providers have a priority; enable_volume() takes options;
 * add_storage() and remove_storage() (storage a provider makes, such as a
 * thin pool); finish(); a set reports its atomicity; vss_storage_info names
 * its storage and its metadata usage.
 */
#define VSS_PROVIDER_ABI_VERSION 4
#define VSS_PROVIDER_SYMBOL "vss_provider_v4"

/* Snapshot attributes (VSS_VOLSNAP_ATTR_*). */
enum vss_snapshot_attr {
        VSS_ATTR_PERSISTENT = 1u << 0,      /* survives the requester and reboot */
        VSS_ATTR_NO_AUTO_RELEASE = 1u << 1, /* survives the requester's session */
        VSS_ATTR_NO_WRITERS = 1u << 2,      /* taken without writer involvement */
};

enum vss_snapshot_state {
        VSS_SNAPSHOT_VALID = 0,
        VSS_SNAPSHOT_INVALID = 1, /* e.g. its copy-on-write store overflowed */
        VSS_SNAPSHOT_MERGING = 2, /* being reverted into its origin */
};

#define VSS_ERROR_MESSAGE_MAX 512
#define VSS_DEVICE_PATH_MAX 256

/* Caller-owned room for an error sentence: no allocation inside the hold window. */
struct vss_error_buf {
        char message[VSS_ERROR_MESSAGE_MAX];
};

/* Services vssd offers to a provider. Valid from init() until fini() returns. */
struct vss_provider_host {
        uint32_t abi_version;
        /* syslog(3) priority; goes to the daemon's log. Never call it in the hold window. */
        void (*log)(int priority, const char *format, ...)
                __attribute__((format(printf, 2, 3)));
        /* Value of KEY in the [provider.NAME] section of vssd.conf, or NULL. */
        const char *(*config_get)(const char *provider_name, const char *key);
};

/* One volume of a set, as the coordinator asks for it. */
struct vss_volume_request {
        const char *volume;      /* canonical device path (see daemon/volume.c) */
        const char *snapshot_id; /* lowercase UUID chosen by the coordinator */
        /* Out, set by prepare(): the block device the snapshot will be, or "". */
        char device[VSS_DEVICE_PATH_MAX];
};

/*
 * What a set's point in time means across its volumes (the set's
 * "Atomicity"). A provider's prepare() lowers it when it cannot do better;
 * the coordinator reports the weakest of the set's providers.
 */
enum vss_set_atomicity {
        /* Every volume's origin suspended at once (hold..release): the
         * snapshots are one instant, crash-consistent across all volumes. */
        VSS_ATOMICITY_ONE_INSTANT = 0,
        /* Some volumes are snapped one after the other (LVM's classic
         * snapshots): each one is consistent in itself, and across volumes
         * only what the frozen writers wrote is consistent. */
        VSS_ATOMICITY_WRITERS_ONLY = 1,
};

struct vss_set_request {
        const char *set_id; /* lowercase UUID chosen by the coordinator */
        uint32_t attributes; /* enum vss_snapshot_attr */
        size_t n_volumes;
        struct vss_volume_request *volumes;
        /* Out, set by prepare(); VSS_ATOMICITY_ONE_INSTANT when left alone. */
        enum vss_set_atomicity atomicity;
};

/*
 * Options of an operation (EnableVolume's, AddStorage's), as the caller gave
 * them on the bus: KEY is the D-Bus option name ("ThinPool", "Size"), VALUE
 * its string. A provider refuses a key it does not know, naming it.
 */
struct vss_option {
        const char *key;
        const char *value;
};

/* What query() reports per snapshot; strings valid during the callback only. */
struct vss_snapshot_info {
        const char *id;
        const char *set_id;
        const char *origin;       /* the volume it is a snapshot of */
        const char *device;       /* block device holding the snapshot */
        const char *exposed_path; /* mount point, or "" */
        uint64_t creation_usec;   /* CLOCK_REALTIME, microseconds */
        uint32_t attributes;      /* enum vss_snapshot_attr */
        enum vss_snapshot_state state;
        uint64_t cow_used_bytes;  /* 0 when the provider has no such notion */
        uint64_t cow_size_bytes;
};

typedef int (*vss_snapshot_cb)(const struct vss_snapshot_info *info, void *userdata);

/* A maximum that is no limit: vss_storage_info.max_bytes of "unbounded". */
#define VSS_STORAGE_UNBOUNDED UINT64_MAX

/*
 * One shadow-storage association (vssadmin's "ShadowStorage"), as
 * list_storage() reports it: where the copy-on-write stores of VOLUME go and
 * how large they may grow in total. Strings valid during the callback only.
 */
struct vss_storage_info {
        const char *volume;       /* canonical device path; "" for a pool's entry */
        const char *name;         /* storage add_storage() made (a thin pool), or "" */
        const char *kind;         /* "diff-area" (per-volume stores), "thin-pool" */
        const char *diff_area;    /* where its stores go (a directory, a device) */
        uint64_t used_bytes;      /* data its snapshots wrote into their stores */
        uint64_t allocated_bytes; /* the stores' total size now */
        const char *max_size;     /* the maximum as set: "15%", "10G", "unbounded" */
        uint64_t max_bytes;       /* that maximum in bytes; VSS_STORAGE_UNBOUNDED */
        uint64_t metadata_used_bytes; /* a pool's metadata device: used, size; else 0 */
        uint64_t metadata_size_bytes;
};

typedef int (*vss_storage_cb)(const struct vss_storage_info *info, void *userdata);

struct vss_provider_ops {
        /* Set up provider state; *ret_state is handed back to every op. */
        int (*init)(const struct vss_provider_host *host, void **ret_state);
        void (*fini)(void *state);

        /* 1: supported; 0: not, with the reason in err; <0: could not tell. */
        int (*is_volume_supported)(void *state, const char *volume, struct vss_error_buf *err);

        /*
         * The set, in order: prepare (slow work: stores, devices, tables), hold
         * (suspend every origin: the point in time), commit (create every
         * snapshot), release (resume every origin). hold..release must not
         * allocate, do file-system I/O or log. After a successful release the
         * set's snapshots exist like any other.
         */
        int (*prepare)(void *state, struct vss_set_request *set, struct vss_error_buf *err);
        int (*hold)(void *state, const char *set_id, struct vss_error_buf *err);
        int (*commit)(void *state, const char *set_id, struct vss_error_buf *err);
        int (*release)(void *state, const char *set_id, struct vss_error_buf *err);
        /*
         * Optional. Called once every provider of the set released, while
         * the writers are still frozen, on a set that went through the
         * window without failure: a provider that cannot snapshot some
         * volumes inside the window (LVM's classic snapshots, which lvcreate
         * makes one after another) makes them here, and says so with
         * VSS_ATOMICITY_WRITERS_ONLY from prepare(). May allocate, fork and
         * log. On failure the coordinator aborts the set. NULL: nothing to do.
         */
        int (*finish)(void *state, const char *set_id, struct vss_error_buf *err);
        /*
         * Undo whatever the set reached: resume held origins, delete its
         * snapshots, free prepared resources. Idempotent; valid in any state,
         * including after a successful release.
         */
        int (*abort)(void *state, const char *set_id, struct vss_error_buf *err);

        int (*delete_snapshot)(void *state, const char *snapshot_id, struct vss_error_buf *err);
        int (*query)(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
        int (*expose)(void *state, const char *snapshot_id, const char *mount_point,
                      struct vss_error_buf *err);
        int (*unexpose)(void *state, const char *snapshot_id, struct vss_error_buf *err);
        int (*revert)(void *state, const char *snapshot_id, struct vss_error_buf *err);
        /*
         * Roll back anything a crashed daemon left half-made: resume what it
         * suspended, remove what an unfinished set made, keep what finished.
         * Called at start, by `vssd --recover` (vssd not running; ExecStopPost=)
         * and by Manager.Recover (never while a set is being created). Log
         * each action. Returns how many things it put right (0: nothing was
         * left), or a negative code.
         */
        int (*recover)(void *state, struct vss_error_buf *err);

        /*
         * Called periodically (vssd's monitor_interval_ms) while snapshots of
         * this provider exist: keep them healthy (grow copy-on-write stores
         * before they fill, finish merges) and report every snapshot as
         * query() does, so that vssd sees usage and state changes (a store
         * that overflowed: VSS_SNAPSHOT_INVALID). NULL: vssd calls query().
         */
        int (*monitor)(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);

        /*
         * Make DEVICE snapshottable (a plain block device gets a layer the
         * provider owns; dm-thin makes a thin volume), with the caller's
         * OPTIONS (n_options of them, see struct vss_option); the volume to
         * use instead, to mount and to name in sets, goes into VOLUME. Must
         * survive reboots. NULL: the provider needs no such step.
         * disable_volume() undoes it (the volume must have no snapshots and
         * must not be in use).
         */
        int (*enable_volume)(void *state, const char *device, const struct vss_option *options,
                             size_t n_options, char *volume, size_t size,
                             struct vss_error_buf *err);
        int (*disable_volume)(void *state, const char *volume, struct vss_error_buf *err);

        /*
         * Shadow storage (ABI 3). list_storage() reports every volume the
         * provider keeps storage settings or stores for. set_storage() sets
         * VOLUME's maximum (MAX_SIZE: bytes with a K, M, G or T suffix, a
         * percentage of the volume such as "15%", or "unbounded"; NULL keeps
         * it) and diff area (DIFF_AREA, NULL keeps it). The maximum bounds
         * the total of all the volume's stores. What set_storage() sets must
         * survive restarts and take effect for existing snapshots too; bad
         * input (a maximum below what is used, a diff area on the volume)
         * is refused with a message and changes nothing. Both NULL: the
         * provider has no such notion (vssd answers NotSupported); a
         * provider has both or neither.
         */
        int (*list_storage)(void *state, vss_storage_cb cb, void *userdata,
                            struct vss_error_buf *err);
        int (*set_storage)(void *state, const char *volume, const char *max_size,
                           const char *diff_area, struct vss_error_buf *err);

        /*
         * Storage the provider makes and owns (ABI 4), such as a thin pool
         * from a data and a metadata device or file: add_storage() makes
         * NAME from OPTIONS (provider-specific keys, refused when unknown)
         * and keeps it across reboots; list_storage() reports it;
         * remove_storage() undoes it, refused (-EBUSY) while any volume
         * lives in it. Both NULL: the provider makes no storage; a
         * provider has both or neither.
         */
        int (*add_storage)(void *state, const char *name, const struct vss_option *options,
                           size_t n_options, struct vss_error_buf *err);
        int (*remove_storage)(void *state, const char *name, struct vss_error_buf *err);
};

struct vss_provider {
        uint32_t abi_version; /* VSS_PROVIDER_ABI_VERSION */
        const char *name;     /* short, [a-z0-9-]: "dm-snapshot" */
        const char *id;       /* stable UUID of the provider */
        const char *version;
        const char *description;
        /*
         * Which provider takes a volume several support: the highest
         * priority (vssd.conf's [provider.NAME] priority overrides it), as
         * VSS prefers hardware to software to system providers. Specialised
         * providers rank above dm-snapshot (100), which takes any dm volume.
         */
        uint32_t priority;
        const struct vss_provider_ops *ops;
};

#ifdef __cplusplus
}
#endif

#endif
