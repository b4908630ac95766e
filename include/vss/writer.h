/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writer.h: the libvss writer API, for the databases and services that take
 * part in snapshots. vssd tells each writer, in order, to describe itself,
 * prepare, freeze, thaw and finish; the writer answers every event with
 * success or a failure (a veto). See libvss-writer(3) for a whole example.
 *
 * Use:
 *   vss_writer_new()        describe the writer, give it one event callback
 *   vss_writer_add_component()   (optional) what it would like backed up
 *   vss_writer_register()   join vssd on the bus (RegisterWriter)
 *   vss_writer_run()        or: poll vss_writer_get_fd() in your own loop and
 *                           call vss_writer_dispatch() when it is readable
 *   vss_writer_unref()      leave (Unregister) and close
 *
 * Conventions are requester.h's: opaque reference-counted objects; 0 or a
 * negative -errno / -VSS_E_* code; output parameters written only on
 * success; after a failure vss_writer_get_error_message() holds a sentence
 * saying what failed and what to do (print it as is). Codes besides those
 * requester.h lists: -ENOTCONN also when vssd left the bus, -EEXIST when the
 * instance id is taken, -EBUSY for a call not allowed inside a callback.
 *
 * Threads: a vss_writer is used from one thread at a time, and callbacks run
 * in the thread that calls vss_writer_dispatch() or vss_writer_run(). The one
 * exception is vss_writer_stop(), which any thread or a signal handler may
 * call.
 *
 * Timing: the Freeze callback must return quickly (flush and block writes,
 * then return; never wait for something that may itself wait on the frozen
 * data). The writer stays frozen after it answers Freeze, until the Thaw or
 * Abort callback; vssd aborts the set when the writer's freeze timeout
 * (vss_writer_config.freeze_timeout_ms, capped by the daemon's FreezeTimeoutMs,
 * default 60 s) passes before Thaw. Every other event must be answered
 * within the daemon's EventTimeoutMs (default 60 s), else vssd counts it as a
 * failure with VSS_WF_TIMEOUT. If vssd leaves the bus or the connection drops
 * while the writer is frozen, libvss calls the callback with an Abort event
 * (cookie 0) before vss_writer_dispatch() reports -ENOTCONN, so the writer
 * always thaws.
 *
 * Nor does a writer trust a vssd that stays on the bus but stops answering
 * (stopped, stuck): from each Freeze event libvss keeps its own deadline, the
 * freeze timeout in force (the smaller of freeze_timeout_ms and the daemon's
 * FreezeTimeoutMs, which libvss reads at registration and follows when it
 * changes) plus VSS_WRITER_SELF_THAW_GRACE_MS, so that a live vssd's own
 * Abort comes first. If neither Thaw nor Abort has come by then, libvss
 * calls the callback with an Abort event (cookie 0): thaw. During that
 * callback, and after the vss_writer_dispatch() that ran it (which returns
 * 0), vss_writer_get_error_message() says "writer 'NAME': no Thaw within its
 * freeze timeout of N s; thawed on its own; the snapshot set will fail for
 * this writer". A Thaw of that set that comes later is not passed on: libvss
 * answers it with VSS_WF_TIMEOUT ("thawed on its own N s earlier"), so the
 * set fails and the requester learns this writer's data may be inconsistent
 * in it (Windows' VSS_E_WRITERERROR_TIMEOUT); vssd's Abort of the set is not
 * passed on either (the application had its Abort). While frozen, a call
 * libvss makes to vssd (answering an event) waits no longer than this
 * deadline. The deadline is a timer inside the fd of vss_writer_get_fd(): it
 * works for vss_writer_run() and for your own poll loop alike, as long as
 * the loop calls vss_writer_dispatch() when the fd is readable.
 */
#ifndef VSS_WRITER_H
#define VSS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vss/vss.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One writer's registration with vssd and its connection. */
typedef struct vss_writer vss_writer;

/*
 * The events vssd sends, in the order a backup sends them (Abort may come at
 * any point after PrepareBackup; BackupShutdown when the requester's session
 * ends). The names (vss_writer_event_type_to_string()) are the D-Bus signal
 * names. Later releases may add types: treat an unknown type as success.
 */
enum vss_writer_event_type {
        VSS_WRITER_EVENT_IDENTIFY = 0,         /* components are sent with the answer */
        VSS_WRITER_EVENT_PREPARE_BACKUP = 1,
        VSS_WRITER_EVENT_PREPARE_SNAPSHOT = 2,
        VSS_WRITER_EVENT_FREEZE = 3,           /* flush, stop writing, return quickly */
        VSS_WRITER_EVENT_THAW = 4,             /* resume writing */
        VSS_WRITER_EVENT_POST_SNAPSHOT = 5,
        VSS_WRITER_EVENT_ABORT = 6,            /* not answered: undo, thaw if frozen */
        VSS_WRITER_EVENT_BACKUP_COMPLETE = 7,
        VSS_WRITER_EVENT_BACKUP_SHUTDOWN = 8,  /* not answered */
};

/*
 * What a writer says about itself at registration; read by vss_writer_new()
 * only. Start from VSS_WRITER_CONFIG_INIT: it sets SIZE (which lets the
 * structure grow in later releases) and the level most writers want, e.g.
 *
 *     struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
 *     cfg.name = "PostgreSQL";
 *     cfg.instance_id = "postgresql@15-main";
 *
 * (Named "config" because requester.h's vss_writer_info is the listing of a
 * registered writer, as vss_client_list_writers() returns it.)
 */
struct vss_writer_config {
        size_t size;             /* sizeof(struct vss_writer_config) */
        const char *name;        /* required: e.g. "PostgreSQL" */
        const char *instance_id; /* required: unique among vssd's writers */
        const char *class_id;    /* NULL or "": none (a UUID naming the writer's kind) */
        enum vss_writer_level level; /* when it freezes: front-end, back-end, then system */
        uint32_t freeze_timeout_ms;  /* 0: the daemon's; never above it */
        const char *usage;           /* NULL or free text: "user-data", "system-service" */
};
#define VSS_WRITER_CONFIG_INIT                                                              \
        { .size = sizeof(struct vss_writer_config), .level = VSS_LEVEL_BACK_END }

/* One event, valid only during the callback (copy what you keep). */
struct vss_writer_event {
        enum vss_writer_event_type type;
        uint64_t cookie;             /* for vss_writer_answer(); 0 for Abort, BackupShutdown */
        const char *snapshot_set_id; /* the set's UUID; "" for Identify */
        const char *const *volumes;  /* the set's volumes, NULL-terminated; empty for Identify */
        size_t n_volumes;
};

/*
 * How long past its freeze timeout a frozen writer waits for Thaw or Abort
 * before it thaws on its own (see Timing above), in milliseconds.
 */
#define VSS_WRITER_SELF_THAW_GRACE_MS 2000u

/*
 * A callback's return value that answers nothing now: the application will
 * call vss_writer_answer() with the event's cookie later (from another part
 * of its event loop). Distinct from every VSS_WF_* value and -errno.
 */
#define VSS_WRITER_ANSWER_LATER 0x100

/*
 * Called for every event. Return VSS_WF_NONE to succeed, a VSS_WF_* failure
 * to fail (veto) the event, with a reason from
 * vss_writer_set_failure_message(), or VSS_WRITER_ANSWER_LATER. A negative
 * errno is accepted too: -ENOMEM and -ENOSPC answer VSS_WF_OUT_OF_RESOURCES,
 * -ETIMEDOUT VSS_WF_TIMEOUT, any other VSS_WF_NONRETRYABLE (the message
 * defaults to the errno's text). The return value of Abort and
 * BackupShutdown is ignored. The callback may call vss_writer_answer(),
 * vss_writer_set_failure_message(), the component functions and
 * vss_writer_stop(); not vss_writer_dispatch(), vss_writer_run() or
 * vss_writer_register() (-EBUSY).
 */
typedef int (*vss_writer_event_fn)(vss_writer *writer, const struct vss_writer_event *event,
                                   void *userdata);

/*
 * A writer for vssd on the bus at ADDRESS (NULL: $VSS_BUS_ADDRESS if set,
 * else the system bus). Nothing is sent yet: see vss_writer_register().
 * ON_EVENT may be NULL: every event then succeeds (a writer that only lists
 * components). Returns -EINVAL for a CONFIG whose size is not set, a missing
 * name or instance id, a string that is not UTF-8, an out-of-range level, or
 * an address that is not a D-Bus address; -ENOMEM; or -errno when an eventfd
 * or epoll instance cannot be made.
 */
VSS_EXPORT int vss_writer_new(vss_writer **ret, const char *address,
                              const struct vss_writer_config *config,
                              vss_writer_event_fn on_event,
                              void *userdata);
VSS_EXPORT vss_writer *vss_writer_ref(vss_writer *writer);
/* Dropping the last reference unregisters (best effort, without waiting) and closes. */
VSS_EXPORT vss_writer *vss_writer_unref(vss_writer *writer);

/*
 * Connect and call RegisterWriter. Fails with a message when the bus cannot
 * be reached (-ENOTCONN), vssd is not running (-ECONNREFUSED), the instance
 * id is taken (-EEXIST), vssd refuses the configuration (-EINVAL). -EALREADY when
 * registered. After vssd left (dispatch returned -ENOTCONN) it registers
 * again, on a new connection if the old one dropped; the fd of
 * vss_writer_get_fd() stays the same.
 */
VSS_EXPORT int vss_writer_register(vss_writer *writer);

/* The writer's D-Bus object (/org/linuxvss/Vss1/writer/<n>); NULL until registered. */
VSS_EXPORT const char *vss_writer_get_object_path(const vss_writer *writer);

/*
 * Add a component: what a backup of this writer should hold. LOGICAL_PATH
 * may be NULL or "" (top level); NAME is required; FILES is a NULL-terminated
 * list of absolute paths (may be NULL). The components go to vssd
 * (SetMetadata) just before each Identify answer, so they may change while
 * registered. -EEXIST for a second component with the same logical path and
 * name; -EINVAL for a relative or non-UTF-8 path.
 */
VSS_EXPORT int vss_writer_add_component(vss_writer *writer, const char *logical_path,
                                        const char *name, const char *const *files);
/* Forget every component (the next Identify answer sends none). */
VSS_EXPORT int vss_writer_clear_components(vss_writer *writer);

/*
 * From within a callback: the reason sent with its failure (printf format;
 * replaces an earlier one; bytes that are not UTF-8 become '?'). -EINVAL
 * outside a callback.
 */
VSS_EXPORT int vss_writer_set_failure_message(vss_writer *writer, const char *format, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * Answer the event that carried COOKIE (after its callback returned
 * VSS_WRITER_ANSWER_LATER): FAILURE is VSS_WF_NONE for success; MESSAGE may
 * be NULL. The components go first if the event was an Identify. Waits for
 * vssd's reply (it replies at once). -VSS_E_STALE_COOKIE with a message when
 * vssd no longer waits for that answer (already answered, or too late: the
 * event timed out); -EINVAL for cookie 0 or an unknown failure.
 */
VSS_EXPORT int vss_writer_answer(vss_writer *writer, uint64_t cookie,
                                 enum vss_writer_failure failure, const char *message);

/*
 * A descriptor for the application's own poll loop: wait for it to be
 * readable (POLLIN / EPOLLIN), then call vss_writer_dispatch(). It is an
 * epoll descriptor over the bus connection and an internal eventfd, so it
 * also wakes for messages libvss already read while waiting for a reply, and
 * for vss_writer_stop(). Valid from vss_writer_new() to the last unref; do
 * not read from it or close it.
 */
VSS_EXPORT int vss_writer_get_fd(const vss_writer *writer);

/*
 * Read what has arrived without waiting, run the callback for each event, and
 * send the answers. Returns 0; or -ENOTCONN with a message when the
 * connection dropped or vssd left the bus (the registration is gone: see
 * vss_writer_register()); -EBUSY from within a callback. An answer vssd
 * refused (e.g. StaleCookie, because it came after the event's timeout) does
 * not fail dispatch: it returns 0 and vss_writer_get_error_message() says
 * what happened.
 */
VSS_EXPORT int vss_writer_dispatch(vss_writer *writer);

/*
 * Poll and dispatch until vss_writer_stop() or a failure. Returns 0 when
 * stopped, else dispatch's error (-ENOTCONN: vssd left or the bus dropped).
 */
VSS_EXPORT int vss_writer_run(vss_writer *writer);

/*
 * Make vss_writer_run() return 0 (at once if it is not running: the next run
 * returns immediately). Safe from a signal handler and from any thread (it
 * only sets an atomic flag and writes to an eventfd), as long as WRITER is
 * not being freed meanwhile. Also wakes a poll on vss_writer_get_fd().
 */
VSS_EXPORT void vss_writer_stop(vss_writer *writer);

/* The last failure's sentence and D-Bus error name (NULL when none); see requester.h. */
VSS_EXPORT const char *vss_writer_get_error_message(const vss_writer *writer);
VSS_EXPORT const char *vss_writer_get_error_name(const vss_writer *writer);

/* "Identify", "Freeze", ... (the signal names); "Unknown" out of range. */
VSS_EXPORT const char *vss_writer_event_type_to_string(enum vss_writer_event_type type);
/* The inverse (case-insensitive); -EINVAL for an unknown name. */
VSS_EXPORT int vss_writer_event_type_from_string(const char *s);

#ifdef __cplusplus
}
#endif

#endif
