/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake.h: a snapshot provider with no device-mapper under it, so that the
 * coordinator can be tested on any machine; what its files share. Bus tests
 * dlopen it as build/tests/providers/fake.so; tests/unit/check_fake_provider.c
 * links it. Built a second time as "fake2" (build/tests/providers/pair/, beside
 * a link to fake.so), it is a second provider for the tests of vssd's choice
 * between providers. Never installed.
 *
 * It keeps sets and snapshots in memory and enforces the protocol of
 * <vss/provider.h> the way a real provider would, so a coordinator that calls
 * ops out of order gets -VSS_E_BAD_STATE here rather than on a real system.
 *
 * Configuration, from [provider.fake] in vssd.conf ([provider.fake2] for fake2.so,
 * the same code built with -DFAKE_NAME to test vssd's choice between providers):
 *   volumes=  comma-separated volume paths it supports; unset: any /dev/fake/...
 *   log=      file that gets one line per op call ("hold <set>"), written with
 *             one write(2) on an O_APPEND fd, so a test can check call order
 *   control=  file re-read at the start of every op (except fini), one fault
 *             per line: "fail OP [ERRNAME]" fails OP with -EIO or the named
 *             errno; "stall OP MS" makes OP wait MS milliseconds before its
 *             work. A stall is cut short by release() or abort() of the same
 *             set from another thread (the watchdog case), and the stalled op
 *             then returns -ECANCELED. "invalidate SNAPSHOT_ID" makes the next
 *             monitor() turn that snapshot invalid, its store full, as an
 *             overflowing copy-on-write store would. Lines starting with '#'
 *             are ignored.
 *   state=    file the snapshots (and enabled volumes) are saved to after
 *             every change, outside hold..release (the next op, or fini,
 *             saves what commit made), by atomic replace; loaded at init. So a
 *             restarted vssd finds them, as it would find a real provider's.
 * OP is the word the log uses: init, is_volume_supported, prepare, hold,
 * commit, release, finish, abort, delete, query, expose, unexpose, revert,
 * recover, monitor, enable_volume, disable_volume.
 *
 *   storage=  "none": the provider has no shadow storage (its list_storage and
 *             set_storage ops are NULL, as a provider without stores has)
 *   atomicity= "writers-only": prepare() reports VSS_ATOMICITY_WRITERS_ONLY, as
 *             a provider that snaps volumes one after the other would (LVM's
 *             classic snapshots); "one-instant" (the default) leaves it alone.
 *
 * finish() (after release, once) does nothing but log and check the order;
 * "fail finish" in the control file makes it fail, as an lvcreate would.
 *
 * Snapshots: prepare() names each one's device /dev/fake/snap-<id>; every
 * copy-on-write store is FAKE_COW_SIZE bytes with FAKE_COW_USED used. revert()
 * starts a merge: the snapshot is reported merging until the next monitor(),
 * which finishes the merge (the snapshot is gone then). enable_volume() takes
 * /dev/fakeplain/NAME and makes it the volume /dev/fake/NAME.
 *
 * Options (struct vss_option), as dm-thin takes them: enable_volume() takes
 * Label (any string; the log line shows every option as KEY=VALUE, so that a
 * test sees what arrived), ThinPool (a pool add_storage() made: the volume
 * lives in it, and the pool cannot be removed while it does) and Size (with
 * ThinPool: DEVICE is the NAME of a new blank volume, /dev/fake/NAME).
 * add_storage() makes a "pool" from Data and Metadata (required), DataSize
 * (default 1G), MetadataSize (default 64M) and ChunkSize; list_storage()
 * reports it as a thin-pool entry (data used: FAKE_THIN_USED per volume in
 * it; metadata used: FAKE_META_USED). An unknown key is refused (-EINVAL,
 * named). "storage=none" takes add_storage and remove_storage away too.
 *
 * Shadow storage: set_storage() keeps a maximum and a diff area per volume in
 * memory (and in the state file). Every fake volume is FAKE_VOLUME_SIZE bytes
 * (for "15%") and is "mounted" at /fake/NAME: a diff area under it lies on
 * the volume and is refused, as one under the default FAKE_DIFF_AREA is not.
 * A maximum below what the volume's snapshots use, a diff area moved while
 * the volume has snapshots and a size that is no size are refused too.
 *
 * The log, control and state files are test instrumentation: a real provider
 * must not touch files between hold and release, but this one is a fake.
 */
#ifndef VSS_TESTS_FAKE_H
#define VSS_TESTS_FAKE_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <vss/provider.h>

/* A second build (-DFAKE_NAME='"fake2"' -DFAKE_ID=...) is a second provider: fake2.so. */
#ifndef FAKE_NAME
#define FAKE_NAME "fake"
#define FAKE_ID "b174487d-9ce0-4bcd-b915-f31ece126eb6"
#endif
#define FAKE_WHO FAKE_NAME " provider: " /* how its messages begin */
#define FAKE_PREFIX "/dev/fake/"
#define FAKE_PLAIN_PREFIX "/dev/fakeplain/"
#define FAKE_COW_SIZE (1024ull * 1024 * 1024)
#define FAKE_COW_USED (64ull * 1024)
#define FAKE_VOLUME_SIZE (10ull * 1024 * 1024 * 1024)
#define FAKE_DIFF_AREA "/var/lib/fake/diff"
#define FAKE_MOUNT_PREFIX "/fake/"
#define FAKE_THIN_USED (64ull * 1024 * 1024)
#define FAKE_META_USED (2ull * 1024 * 1024)
#define LINE_MAX_LEN 8192   /* one log line; longer ones are cut, never split */
#define CONTROL_MAX_LEN 4096

enum set_phase {
        PHASE_PREPARED,
        PHASE_HELD,
        PHASE_COMMITTED,
        PHASE_RELEASED,
        PHASE_ABORTED,
};

struct fake_snapshot {
        char *id;
        char *origin;
        char *device;  /* /dev/fake/snap-<id> */
        char *exposed; /* mount point, NULL when not exposed */
        uint64_t creation_usec;
        enum vss_snapshot_state state;
        uint64_t cow_used;
        bool exists;   /* made by commit and not deleted, merged or aborted since */
};

struct fake_storage {
        char *volume;
        char *max_size;  /* as set; "unbounded" until one is */
        char *diff_area; /* FAKE_DIFF_AREA until one is set */
};

/* A "thin pool" add_storage() made. */
struct fake_pool {
        char *name;
        char *data, *metadata;            /* the Data and Metadata options */
        char *data_size, *metadata_size;  /* as given */
};

struct fake_set {
        char *id;
        uint32_t attributes;
        enum set_phase phase;
        bool finished;     /* finish() came, after release */
        unsigned inflight; /* ops on this set waiting in a stall */
        unsigned cancels;  /* bumped by release/abort: ends those stalls */
        size_t n_snaps;
        struct fake_snapshot *snaps; /* allocated by prepare: commit allocates nothing */
        struct fake_set *next;
};

struct fake {
        const struct vss_provider_host *host;
        char *volumes; /* copy of volumes=, or NULL */
        char *control; /* copy of control=, or NULL */
        int log_fd;    /* -1 without log= */
        char *state_path; /* copy of state=, or NULL */
        enum vss_set_atomicity atomicity; /* what prepare() reports (atomicity=) */
        bool dirty;       /* changed since the state file was written */
        char **enabled;   /* NAMEs of the enabled /dev/fakeplain/NAME */
        char **enabled_pools; /* beside each: the pool it lives in, or NULL */
        size_t n_enabled;
        struct fake_pool *pools; /* add_storage() */
        size_t n_pools;
        struct fake_storage *storage; /* set_storage() settings */
        size_t n_storage;
        pthread_mutex_t lock;
        pthread_cond_t wake; /* CLOCK_MONOTONIC; broadcast when a set is cancelled */
        struct fake_set *sets; /* in prepare order; freed only by fini */
};

/* One op call as the log shows it. */
struct line {
        const char *op;
        size_t len;
        char text[LINE_MAX_LEN];
};

struct fault {
        int fail;                /* 0 or a negative errno */
        unsigned long stall_ms;
        struct fake *invalidate; /* monitor(): where "invalidate" lines apply; else NULL */
};

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Hidden: fake.so and fake2.so are the same code in one vssd, and each must
 * call its own functions whatever the loader's symbol scope.
 */
#pragma GCC visibility push(hidden)

/* control.c */
void line_add(struct line *l, const char *word);
struct line *line_start(struct line *l, const char *op, const char *a1, const char *a2);
void log_write(struct fake *f, struct line *l);
int op_begin(struct fake *f, struct line *line, const char *set_id,
             struct vss_error_buf *err);
int op_end(struct fake *f, int r);
int op_end_saved(struct fake *f, int r);
const char *phase_to_string(enum set_phase phase);
void set_cancel(struct fake *f, struct fake_set *set);
__attribute__((format(printf, 3, 4)))
int set_error(struct vss_error_buf *err, int code, const char *format, ...);
struct fake_set *set_find(struct fake *f, const char *set_id);

/* sets.c */
int fake_abort(void *state, const char *set_id, struct vss_error_buf *err);
int fake_commit(void *state, const char *set_id, struct vss_error_buf *err);
int fake_finish(void *state, const char *set_id, struct vss_error_buf *err);
int fake_hold(void *state, const char *set_id, struct vss_error_buf *err);
int fake_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err);
int fake_prepare(void *state, struct vss_set_request *req,
                 struct vss_error_buf *err);
int fake_release(void *state, const char *set_id, struct vss_error_buf *err);
struct fake_set *fake_set_free(struct fake_set *set);
void sets_append(struct fake *f, struct fake_set *set);
void snapshot_invalidate(struct fake *f, const char *id);
struct fake_snapshot *snapshot_lookup(struct fake *f, const char *id,
                                      struct vss_error_buf *err);
void snapshot_remove(struct fake *f, struct fake_snapshot *snap);
int volume_check(struct fake *f, const char *volume, struct vss_error_buf *err);

/* snapshots.c */
int fake_delete_snapshot(void *state, const char *snapshot_id, struct vss_error_buf *err);
int fake_expose(void *state, const char *snapshot_id, const char *mount_point,
                struct vss_error_buf *err);
int fake_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                 struct vss_error_buf *err);
int fake_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err);
int fake_revert(void *state, const char *snapshot_id, struct vss_error_buf *err);
int fake_unexpose(void *state, const char *snapshot_id, struct vss_error_buf *err);

/* volumes.c */
int enabled_add(struct fake *f, const char *name, const char *pool);
int fake_disable_volume(void *state, const char *volume, struct vss_error_buf *err);
int fake_enable_volume(void *state, const char *device, const struct vss_option *options,
                       size_t n_options, char *volume, size_t size,
                       struct vss_error_buf *err);
int fake_options_read(const struct vss_option *options, size_t n_options,
                      const char *const *keys, const char **values, struct line *line,
                      const char *what, struct vss_error_buf *err);
int fake_pool_add(struct fake *f, const char *name, const char *data, const char *metadata,
                  const char *data_size, const char *metadata_size);
struct fake_pool *pool_find(struct fake *f, const char *name);
void pool_free_fields(struct fake_pool *p);
size_t pool_volumes(struct fake *f, const char *name);

/* storage.c */
int fake_add_storage(void *state, const char *name, const struct vss_option *options,
                     size_t n_options, struct vss_error_buf *err);
int fake_list_storage(void *state, vss_storage_cb cb, void *userdata,
                      struct vss_error_buf *err);
int fake_remove_storage(void *state, const char *name, struct vss_error_buf *err);
int fake_set_storage(void *state, const char *volume, const char *max_size,
                     const char *diff_area, struct vss_error_buf *err);
struct fake_storage *storage_add(struct fake *f, const char *volume);
struct fake_storage *storage_find(struct fake *f, const char *volume);
int storage_replace(char **field, const char *value);

/* state.c */
int state_load(struct fake *f, struct vss_error_buf *err);
void state_save(struct fake *f);

/* plugin.c */
void fake_free(struct fake *f);

#pragma GCC visibility pop

#endif
