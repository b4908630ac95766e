/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writer.c: the vss_writer object (include/vss/writer.h): registration with
 * vssd, the components sent with each Identify answer, and the event loop
 * side: reading vssd's unicast signals, running the application's callback,
 * answering, and noticing when vssd or the bus goes away.
 *
 * The connection and the last error live in an embedded vss_client (the
 * requester's object), so addresses, connecting and error messages work the
 * same for both. Replies are waited for with libdbus's blocking call, which
 * queues whatever else arrives meanwhile; such queued messages make no fd
 * readable, so the fd given to applications is an epoll instance over the
 * socket and an eventfd that libvss writes whenever messages wait in the
 * queue (and for vss_writer_stop()).
 *
 * A writer does not trust vssd to come back (writer.h, Timing): from each
 * Freeze it keeps its own deadline, the freeze timeout in force plus
 * VSS_WRITER_SELF_THAW_GRACE_MS, on a timerfd in the same epoll set, so it
 * fires for vss_writer_run() and for applications polling the fd alike. If
 * neither Thaw nor Abort came by then (vssd stopped or stuck while still on
 * the bus), the application gets an Abort and a late Thaw is failed with
 * VSS_WF_TIMEOUT, as a Windows writer answers VSS_E_WRITERERROR_TIMEOUT.
 * vssd's FreezeTimeoutMs is read before RegisterWriter and kept current from
 * its PropertiesChanged signals.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <vss/writer.h>

#include "libvss-private.h"

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH_LOCAL "/org/freedesktop/DBus/Local"
#define DBUS_IFACE_LOCAL "org.freedesktop.DBus.Local"
#define DBUS_IFACE_PEER "org.freedesktop.DBus.Peer"

struct component {
        char *logical_path;
        char *name;
        char **files; /* NULL-terminated */
        size_t n_files;
};

enum writer_state {
        WRITER_NEW,        /* not registered yet */
        WRITER_REGISTERED, /* vssd knows us */
        WRITER_LOST,       /* vssd left or the connection dropped */
};

struct vss_writer {
        unsigned n_ref;
        vss_client *client; /* address, connection, last error */
        char *name;
        char *instance_id;
        char *class_id;
        char *usage;
        enum vss_writer_level level;
        uint32_t freeze_timeout_ms;
        vss_writer_event_fn on_event;
        void *userdata;

        enum writer_state state;
        char *object_path; /* ours, from RegisterWriter */
        char *vssd_owner;  /* vssd's unique name: the only sender we accept */
        char *lost_reason;
        int socket_fd;     /* the connection's socket, in epoll_fd; -1 before connecting */
        bool watching;     /* the connection has our NameOwnerChanged match */

        struct component *components;
        size_t n_components;

        int epoll_fd;
        int event_fd;
        atomic_bool stop;

        bool in_callback;
        bool dispatching;
        char *failure_message;    /* set from a callback for its answer */
        uint64_t identify_cookie; /* the last Identify: answer it after SetMetadata */
        bool frozen;              /* Freeze seen, no Thaw or Abort since */
        char *frozen_set_id;

        /* Our own freeze deadline: timer_fd (in epoll_fd) is armed while frozen. */
        int timer_fd;
        uint32_t daemon_freeze_timeout_ms; /* vssd's FreezeTimeoutMs, kept current */
        uint32_t frozen_timeout_ms;        /* the freeze timeout in force at the last Freeze */
        uint64_t deadline_ms;              /* CLOCK_MONOTONIC ms when armed, else 0 */
        char *self_thawed_set_id;          /* the set we thawed on our own; NULL: none */
        uint64_t self_thawed_ms;           /* when we did */
};

static const char *const event_names[] = {
        [VSS_WRITER_EVENT_IDENTIFY] = "Identify",
        [VSS_WRITER_EVENT_PREPARE_BACKUP] = "PrepareBackup",
        [VSS_WRITER_EVENT_PREPARE_SNAPSHOT] = "PrepareSnapshot",
        [VSS_WRITER_EVENT_FREEZE] = "Freeze",
        [VSS_WRITER_EVENT_THAW] = "Thaw",
        [VSS_WRITER_EVENT_POST_SNAPSHOT] = "PostSnapshot",
        [VSS_WRITER_EVENT_ABORT] = "Abort",
        [VSS_WRITER_EVENT_BACKUP_COMPLETE] = "BackupComplete",
        [VSS_WRITER_EVENT_BACKUP_SHUTDOWN] = "BackupShutdown",
};

VSS_EXPORT const char *vss_writer_event_type_to_string(enum vss_writer_event_type type)
{
        return (unsigned)type < ELEMENTSOF(event_names) ? event_names[type] : "Unknown";
}

VSS_EXPORT int vss_writer_event_type_from_string(const char *s)
{
        for (size_t i = 0; s && i < ELEMENTSOF(event_names); i++)
                if (strcasecmp(event_names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

static bool event_is_answered(enum vss_writer_event_type type)
{
        return type != VSS_WRITER_EVENT_ABORT && type != VSS_WRITER_EVENT_BACKUP_SHUTDOWN;
}

/* --- small helpers ----------------------------------------------------------------- */

static bool utf8_ok(const char *s)
{
        return !s || dbus_validate_utf8(s, NULL);
}

/* A copy libdbus will accept: if S is not UTF-8, every non-ASCII byte becomes '?'. */
static char *utf8_sanitized(const char *s)
{
        char *copy = strdup(s ? s : "");
        if (!copy || dbus_validate_utf8(copy, NULL))
                return copy;
        for (char *p = copy; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        return copy;
}

static int strdup_or_null(const char *s, char **ret)
{
        *ret = NULL;
        if (!s || !*s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

/* Wake the application's poll on epoll_fd (also safe from a signal handler). */
static void writer_wake(vss_writer *w)
{
        uint64_t one = 1;
        ssize_t n = write(w->event_fd, &one, sizeof(one));
        (void)n; /* EAGAIN: the counter is already non-zero, which is all we need */
}

/* Messages a blocking call queued make no fd readable: wake the poll for them. */
static void writer_kick(vss_writer *w)
{
        if (w->client->conn &&
            dbus_connection_get_dispatch_status(w->client->conn) == DBUS_DISPATCH_DATA_REMAINS)
                writer_wake(w);
}

static void writer_drain_wakeups(vss_writer *w)
{
        uint64_t n;
        ssize_t r = read(w->event_fd, &n, sizeof(n));
        (void)r; /* EAGAIN: nothing was pending */
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds as seconds for messages: "60", "1.5". */
static const char *seconds(char *buf, size_t size, uint64_t ms)
{
        snprintf(buf, size, "%g", (double)ms / 1000.0);
        return buf;
}

/* The freeze timeout in force: ours, never above vssd's (as vssd computes it). */
static uint32_t writer_freeze_timeout(const vss_writer *w)
{
        uint32_t max = w->daemon_freeze_timeout_ms;
        return w->freeze_timeout_ms && w->freeze_timeout_ms < max ? w->freeze_timeout_ms : max;
}

/*
 * Arm the deadline IN_MS from now, or disarm it (0). Setting a timerfd also
 * clears an expiry not read yet, so a disarmed deadline never wakes anyone.
 */
static void writer_deadline_set(vss_writer *w, uint64_t in_ms)
{
        struct itimerspec its = { { 0, 0 }, { 0, 0 } };

        w->deadline_ms = in_ms ? now_ms() + in_ms : 0;
        if (in_ms) {
                its.it_value.tv_sec = (time_t)(w->deadline_ms / 1000);
                its.it_value.tv_nsec = (long)(w->deadline_ms % 1000) * 1000000;
        }
        /* Cannot fail: the fd is ours, the clock monotonic and the value in range. */
        (void)timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* --- lifetime ---------------------------------------------------------------------- */

static void components_free(struct component *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(c[i].logical_path);
                free(c[i].name);
                strv_free(c[i].files);
        }
        free(c);
}

/* The first release's structure; a later one may be larger (see SIZE). */
#define CONFIG_SIZE_V1 (offsetof(struct vss_writer_config, usage) + sizeof(const char *))

static int config_check(const struct vss_writer_config *info)
{
        if (!info || info->size < CONFIG_SIZE_V1)
                return -EINVAL;
        if (!info->name || !*info->name || !info->instance_id || !*info->instance_id)
                return -EINVAL;
        if ((unsigned)info->level > VSS_LEVEL_SYSTEM)
                return -EINVAL;
        if (!utf8_ok(info->name) || !utf8_ok(info->instance_id) || !utf8_ok(info->class_id) ||
            !utf8_ok(info->usage))
                return -EINVAL;
        return 0;
}

static int writer_copy_config(vss_writer *w, const struct vss_writer_config *info)
{
        w->level = info->level;
        w->freeze_timeout_ms = info->freeze_timeout_ms;
        w->name = strdup(info->name);
        w->instance_id = strdup(info->instance_id);
        if (!w->name || !w->instance_id)
                return -ENOMEM;
        if (strdup_or_null(info->class_id, &w->class_id) < 0 ||
            strdup_or_null(info->usage, &w->usage) < 0)
                return -ENOMEM;
        return 0;
}

static int writer_make_fds(vss_writer *w)
{
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epoll_fd < 0)
                return -errno;
        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->event_fd < 0)
                return -errno;
        struct epoll_event ev = { .events = EPOLLIN };
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->event_fd, &ev) < 0)
                return -errno;
        w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (w->timer_fd < 0)
                return -errno;
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, w->timer_fd, &ev) < 0)
                return -errno;
        return 0;
}

static vss_writer *writer_free(vss_writer *w);

static inline void writer_freep(vss_writer **w)
{
        writer_free(*w);
}

VSS_EXPORT int vss_writer_new(vss_writer **ret, const char *address,
                              const struct vss_writer_config *config, vss_writer_event_fn on_event,
                              void *userdata)
{
        if (!ret)
                return -EINVAL;
        int r = config_check(config);
        if (r < 0)
                return r;

        _cleanup_(writer_freep) vss_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->n_ref = 1;
        w->epoll_fd = w->event_fd = w->socket_fd = w->timer_fd = -1;
        atomic_init(&w->stop, false);
        w->on_event = on_event;
        w->userdata = userdata;
        r = vss_client_new(&w->client, address);
        if (r < 0)
                return r;
        r = writer_copy_config(w, config);
        if (r < 0)
                return r;
        r = writer_make_fds(w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

VSS_EXPORT vss_writer *vss_writer_ref(vss_writer *writer)
{
        if (writer)
                writer->n_ref++;
        return writer;
}

/* Best effort, without waiting: closing the connection unregisters anyway. */
static void writer_send_unregister(vss_writer *w)
{
        DBusConnection *conn = w->client->conn;
        if (w->state != WRITER_REGISTERED || !conn || !dbus_connection_get_is_connected(conn))
                return;
        DBusMessage *m = bus_new_call(w->object_path, VSS_IFACE_WRITER, "Unregister");
        if (!m)
                return;
        dbus_message_set_no_reply(m, TRUE);
        dbus_connection_send(conn, m, NULL);
        dbus_message_unref(m);
        dbus_connection_flush(conn);
}

static vss_writer *writer_free(vss_writer *w)
{
        if (!w)
                return NULL;
        if (w->client) {
                writer_send_unregister(w);
                vss_client_unref(w->client); /* closes the connection */
        }
        if (w->epoll_fd >= 0)
                close(w->epoll_fd);
        if (w->event_fd >= 0)
                close(w->event_fd);
        if (w->timer_fd >= 0)
                close(w->timer_fd);
        components_free(w->components, w->n_components);
        free(w->name);
        free(w->instance_id);
        free(w->class_id);
        free(w->usage);
        free(w->object_path);
        free(w->vssd_owner);
        free(w->lost_reason);
        free(w->failure_message);
        free(w->frozen_set_id);
        free(w->self_thawed_set_id);
        free(w);
        return NULL;
}

VSS_EXPORT vss_writer *vss_writer_unref(vss_writer *writer)
{
        if (!writer || --writer->n_ref > 0)
                return NULL;
        return writer_free(writer);
}

VSS_EXPORT const char *vss_writer_get_object_path(const vss_writer *writer)
{
        return writer ? writer->object_path : NULL;
}

VSS_EXPORT int vss_writer_get_fd(const vss_writer *writer)
{
        return writer ? writer->epoll_fd : -EINVAL;
}

VSS_EXPORT const char *vss_writer_get_error_message(const vss_writer *writer)
{
        return writer ? vss_client_get_error_message(writer->client) : NULL;
}

VSS_EXPORT const char *vss_writer_get_error_name(const vss_writer *writer)
{
        return writer ? vss_client_get_error_name(writer->client) : NULL;
}

/* --- calls to vssd ----------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Record why CALL failed. vssd's own errors are sentences already; the bus's
 * are explained here. WHAT says what the writer was doing ("register", ...).
 */
static int writer_call_fail(vss_writer *w, const char *what, const DBusError *err)
{
        const char *name = err->name;
        const char *message = err->message && *err->message ? err->message : NULL;
        int code = vss_error_from_name(name);
        vss_client *c = w->client;

        if (dbus_error_has_name(err, DBUS_ERROR_NO_MEMORY))
                return client_oom(c);
        if (has_prefix(name, VSS_ERROR_PREFIX))
                return client_fail(c, code, name, "writer '%s' could not %s: %s", w->name, what,
                                   message ? message : vss_strerror(code));
        if (dbus_error_has_name(err, DBUS_ERROR_NO_REPLY) &&
            has_prefix(message, "Message recipient disconnected"))
                return client_fail(c, -ECONNRESET, name,
                                   "writer '%s' could not %s: vssd left the bus before "
                                   "answering; its log says why (journalctl -u vssd)",
                                   w->name, what);
        switch (code) {
        case -ECONNREFUSED:
                return client_fail(c, code, name,
                                   "writer '%s' could not %s: vssd (%s) is not running on the "
                                   "bus at %s; start it (systemctl start vssd) and try again",
                                   w->name, what, VSS_BUS_NAME, c->address);
        case -ETIMEDOUT:
                return client_fail(c, code, name,
                                   "writer '%s' could not %s: vssd did not answer within "
                                   "%d.%03d s", w->name, what, c->timeout_ms / 1000,
                                   c->timeout_ms % 1000);
        case -ENOTCONN:
                return client_fail(c, code, name,
                                   "writer '%s' could not %s: the connection to the bus at %s "
                                   "was lost", w->name, what, c->address);
        case -EACCES:
                return client_fail(c, code, name,
                                   "writer '%s' could not %s: the bus policy does not allow "
                                   "it: %s", w->name, what, message ? message : name);
        default:
                return client_fail(c, code, name, "writer '%s' could not %s: %s", w->name, what,
                                   message ? message : vss_strerror(code));
        }
}

/* How long a call may wait: while frozen, never past our own deadline (a hung vssd). */
static int writer_call_timeout(const vss_writer *w)
{
        int timeout = w->client->timeout_ms;
        if (!w->deadline_ms)
                return timeout;
        uint64_t now = now_ms();
        uint64_t left = w->deadline_ms > now ? w->deadline_ms - now : 1;
        return timeout < 0 || left < (uint64_t)timeout ? (int)left : timeout;
}

/*
 * Send CALL and wait for the reply (signature REPLY_SIGNATURE). Unlike
 * bus_call() this dispatches nothing: events that arrive meanwhile stay
 * queued for vss_writer_dispatch(). RET_REPLY may be NULL.
 */
static int writer_call(vss_writer *w, DBusMessage *call, const char *what,
                       const char *reply_signature, DBusMessage **ret_reply)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;
        DBusConnection *conn;

        int r = client_connection(w->client, &conn);
        if (r < 0)
                return r;
        int saved_timeout = w->client->timeout_ms;
        w->client->timeout_ms = writer_call_timeout(w); /* also for the failure's message */
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(
                conn, call, w->client->timeout_ms, &err);
        writer_kick(w);
        if (!reply)
                r = writer_call_fail(w, what, &err);
        w->client->timeout_ms = saved_timeout;
        if (!reply)
                return r;
        if (!dbus_message_has_signature(reply, reply_signature)) {
                r = client_fail(w->client, -EBADMSG, NULL,
                                "writer '%s' could not %s: vssd answered with arguments '%s' "
                                "where libvss expects '%s'; are vssd and libvss from the same "
                                "release?",
                                w->name, what, dbus_message_get_signature(reply),
                                reply_signature);
                dbus_message_unref(reply);
                return r;
        }
        if (ret_reply)
                *ret_reply = reply;
        else
                dbus_message_unref(reply);
        return 0;
}

/* --- registration ------------------------------------------------------------------ */

static bool dict_append(DBusMessageIter *dict, const char *key, int type, const void *value)
{
        DBusMessageIter entry, variant;
        const char sig[2] = { (char)type, '\0' };

        return dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) &&
               dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) &&
               dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, sig, &variant) &&
               dbus_message_iter_append_basic(&variant, type, value) &&
               dbus_message_iter_close_container(&entry, &variant) &&
               dbus_message_iter_close_container(dict, &entry);
}

/* RegisterWriter's a{sv}: the keys docs/dbus-api.md lists; optional ones only when set. */
static DBusMessage *register_call_new(const vss_writer *w)
{
        DBusMessageIter iter, dict;
        const char *level = vss_writer_level_to_string(w->level);
        DBusMessage *m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "RegisterWriter");
        if (!m)
                return NULL;
        dbus_message_iter_init_append(m, &iter);
        bool ok = dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict) &&
                  dict_append(&dict, "Name", DBUS_TYPE_STRING, &w->name) &&
                  dict_append(&dict, "InstanceId", DBUS_TYPE_STRING, &w->instance_id) &&
                  dict_append(&dict, "Level", DBUS_TYPE_STRING, &level) &&
                  (!w->class_id || dict_append(&dict, "ClassId", DBUS_TYPE_STRING, &w->class_id)) &&
                  (!w->usage || dict_append(&dict, "Usage", DBUS_TYPE_STRING, &w->usage)) &&
                  (!w->freeze_timeout_ms || dict_append(&dict, "FreezeTimeoutMs",
                                                        DBUS_TYPE_UINT32, &w->freeze_timeout_ms)) &&
                  dbus_message_iter_close_container(&iter, &dict);
        if (!ok) {
                dbus_message_unref(m);
                return NULL;
        }
        return m;
}

/* A dropped connection cannot be reopened: a registration after that needs a new client. */
static int writer_fresh_client(vss_writer *w)
{
        vss_client *c = w->client;
        if (!c->conn || dbus_connection_get_is_connected(c->conn))
                return 0;
        vss_client *fresh;
        int r = vss_client_new(&fresh, c->address);
        if (r < 0)
                return client_fail(c, r, NULL, "writer '%s' could not register: %s", w->name,
                                   vss_strerror(r));
        if (w->socket_fd >= 0)
                epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, w->socket_fd, NULL);
        w->socket_fd = -1;
        w->watching = false;
        vss_client_unref(c);
        w->client = fresh;
        return 0;
}

/* Hear of vssd leaving the bus (added before RegisterWriter, so no leaving goes unseen). */
static int writer_watch_vssd(vss_writer *w, DBusConnection *conn)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;

        if (w->watching)
                return 0;
        dbus_bus_add_match(conn,
                           "type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',"
                           "member='NameOwnerChanged',arg0='" VSS_BUS_NAME "'",
                           &err);
        if (!dbus_error_is_set(&err))
                dbus_bus_add_match(conn,
                                   "type='signal',sender='" VSS_BUS_NAME "',path='" VSS_ROOT_PATH
                                   "',interface='" DBUS_INTERFACE_PROPERTIES "',"
                                   "member='PropertiesChanged',arg0='" VSS_IFACE_COORDINATOR "'",
                                   &err);
        if (dbus_error_is_set(&err))
                return writer_call_fail(w, "watch vssd on the bus", &err);
        w->watching = true;
        return 0;
}

/*
 * vssd's FreezeTimeoutMs, for our own deadline. Read after the match above
 * and before RegisterWriter: a change after this comes as PropertiesChanged,
 * and a failure here leaves nothing registered.
 */
static int writer_read_freeze_timeout(vss_writer *w)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *call =
                bus_new_call(VSS_ROOT_PATH, DBUS_INTERFACE_PROPERTIES, "Get");
        const char *iface = VSS_IFACE_COORDINATOR, *prop = "FreezeTimeoutMs";
        DBusMessageIter iter, variant;
        dbus_uint32_t ms = 0;

        if (!call || !dbus_message_append_args(call, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                                               &prop, DBUS_TYPE_INVALID))
                return client_oom(w->client);
        int r = writer_call(w, call, "read vssd's FreezeTimeoutMs", "v", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &variant);
        if (dbus_message_iter_get_arg_type(&variant) == DBUS_TYPE_UINT32)
                dbus_message_iter_get_basic(&variant, &ms);
        if (ms == 0)
                return client_fail(w->client, -EBADMSG, NULL,
                                   "writer '%s' could not register: vssd's FreezeTimeoutMs is "
                                   "not a number of milliseconds; are vssd and libvss from the "
                                   "same release?", w->name);
        w->daemon_freeze_timeout_ms = ms;
        return 0;
}

static int writer_watch_socket(vss_writer *w, DBusConnection *conn)
{
        int fd;
        if (w->socket_fd >= 0)
                return 0;
        if (!dbus_connection_get_socket(conn, &fd))
                return client_fail(w->client, -ENOTCONN, NULL,
                                   "writer '%s' could not register: the bus connection has no "
                                   "socket", w->name);
        struct epoll_event ev = { .events = EPOLLIN };
        if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
                return client_fail(w->client, -errno, NULL,
                                   "writer '%s' could not watch its bus connection: %s",
                                   w->name, strerror(errno));
        w->socket_fd = fd;
        return 0;
}

/* Keep the object path and vssd's unique name from RegisterWriter's reply. */
static int writer_take_registration(vss_writer *w, DBusMessage *reply)
{
        const char *path = NULL;
        const char *sender = dbus_message_get_sender(reply);

        dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
        char *p = path ? strdup(path) : NULL;
        char *s = sender ? strdup(sender) : NULL;
        if (!p || !s) {
                free(p);
                free(s);
                return client_oom(w->client);
        }
        free(w->object_path);
        free(w->vssd_owner);
        w->object_path = p;
        w->vssd_owner = s;
        return 0;
}

VSS_EXPORT int vss_writer_register(vss_writer *writer)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusConnection *conn;
        vss_writer *w = writer;

        if (!w)
                return -EINVAL;
        client_clear_error(w->client);
        if (w->dispatching)
                return client_fail(w->client, -EBUSY, NULL,
                                   "writer '%s' cannot register from within its callback",
                                   w->name);
        if (w->state == WRITER_REGISTERED)
                return client_fail(w->client, -EALREADY, NULL,
                                   "writer '%s' is already registered as %s", w->name,
                                   w->object_path);
        int r = writer_fresh_client(w);
        if (r >= 0)
                r = client_connection(w->client, &conn);
        if (r >= 0)
                r = writer_watch_socket(w, conn);
        if (r >= 0)
                r = writer_watch_vssd(w, conn);
        if (r >= 0)
                r = writer_read_freeze_timeout(w);
        if (r < 0)
                return r;

        call = register_call_new(w);
        if (!call)
                return client_oom(w->client);
        /* vssd's own sentences (e.g. for a taken instance id) say what to do. */
        r = writer_call(w, call, "register", "o", &reply);
        if (r < 0)
                return r;
        r = writer_take_registration(w, reply);
        if (r < 0)
                return r;
        w->state = WRITER_REGISTERED;
        w->frozen = false;
        writer_deadline_set(w, 0);
        free(w->self_thawed_set_id);
        w->self_thawed_set_id = NULL;
        w->identify_cookie = 0;
        atomic_store(&w->stop, false);
        writer_kick(w);
        return 0;
}

/* --- components -------------------------------------------------------------------- */

static int component_check(vss_writer *w, const char *logical_path, const char *name,
                           const char *const *files)
{
        if (!name || !*name || !utf8_ok(name) || !utf8_ok(logical_path))
                return client_fail(w->client, -EINVAL, NULL,
                                   "writer '%s': a component needs a name, and its name and "
                                   "logical path must be UTF-8", w->name);
        for (const char *const *f = files; f && *f; f++)
                if ((*f)[0] != '/' || !utf8_ok(*f))
                        return client_fail(w->client, -EINVAL, NULL,
                                           "writer '%s': file '%s' of component '%s' must be "
                                           "an absolute UTF-8 path",
                                           w->name, *f, name);
        for (size_t i = 0; i < w->n_components; i++)
                if (strcmp(w->components[i].name, name) == 0 &&
                    strcmp(w->components[i].logical_path, logical_path ? logical_path : "") == 0)
                        return client_fail(w->client, -EEXIST, NULL,
                                           "writer '%s' already has component '%s' at '%s'",
                                           w->name, name, logical_path ? logical_path : "");
        return 0;
}

static int component_fill(struct component *c, const char *logical_path, const char *name,
                          const char *const *files)
{
        size_t n = 0;
        while (files && files[n])
                n++;
        c->logical_path = strdup(logical_path ? logical_path : "");
        c->name = strdup(name);
        c->files = calloc(n + 1, sizeof(char *));
        if (!c->logical_path || !c->name || !c->files)
                return -ENOMEM;
        for (; c->n_files < n; c->n_files++)
                if (!(c->files[c->n_files] = strdup(files[c->n_files])))
                        return -ENOMEM;
        return 0;
}

VSS_EXPORT int vss_writer_add_component(vss_writer *writer, const char *logical_path,
                                        const char *name, const char *const *files)
{
        if (!writer)
                return -EINVAL;
        client_clear_error(writer->client);
        int r = component_check(writer, logical_path, name, files);
        if (r < 0)
                return r;
        struct component *grown = realloc(writer->components,
                                          (writer->n_components + 1) * sizeof(*grown));
        if (!grown)
                return client_oom(writer->client);
        writer->components = grown;
        struct component *c = &grown[writer->n_components];
        *c = (struct component){ 0 };
        if (component_fill(c, logical_path, name, files) < 0) {
                /* Only its strings: the array stays as it was. */
                free(c->logical_path);
                free(c->name);
                strv_free(c->files);
                return client_oom(writer->client);
        }
        writer->n_components++;
        return 0;
}

VSS_EXPORT int vss_writer_clear_components(vss_writer *writer)
{
        if (!writer)
                return -EINVAL;
        components_free(writer->components, writer->n_components);
        writer->components = NULL;
        writer->n_components = 0;
        return 0;
}

static bool metadata_append(const vss_writer *w, DBusMessage *m)
{
        DBusMessageIter iter, array, entry, files;

        dbus_message_iter_init_append(m, &iter);
        if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(ssas)", &array))
                return false;
        for (size_t i = 0; i < w->n_components; i++) {
                const struct component *c = &w->components[i];
                if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry) ||
                    !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &c->logical_path) ||
                    !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &c->name) ||
                    !dbus_message_iter_open_container(&entry, DBUS_TYPE_ARRAY, "s", &files))
                        return false;
                for (size_t j = 0; j < c->n_files; j++)
                        if (!dbus_message_iter_append_basic(&files, DBUS_TYPE_STRING,
                                                            &c->files[j]))
                                return false;
                if (!dbus_message_iter_close_container(&entry, &files) ||
                    !dbus_message_iter_close_container(&array, &entry))
                        return false;
        }
        return dbus_message_iter_close_container(&iter, &array);
}

static int writer_send_metadata(vss_writer *w)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call =
                bus_new_call(w->object_path, VSS_IFACE_WRITER, "SetMetadata");
        if (!call || !metadata_append(w, call))
                return client_oom(w->client);
        return writer_call(w, call, "send its components (SetMetadata)", "", NULL);
}

/* --- answers ----------------------------------------------------------------------- */

VSS_EXPORT int vss_writer_set_failure_message(vss_writer *writer, const char *format, ...)
{
        va_list ap;
        char *text = NULL;

        if (!writer || !format || !writer->in_callback)
                return -EINVAL;
        va_start(ap, format);
        int n = vasprintf(&text, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *clean = utf8_sanitized(text);
        free(text);
        if (!clean)
                return -ENOMEM;
        free(writer->failure_message);
        writer->failure_message = clean;
        return 0;
}

static int writer_send_answer(vss_writer *w, uint64_t cookie, enum vss_writer_failure failure,
                              const char *message)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_free_ char *text = utf8_sanitized(message);
        const char *failure_name = vss_writer_failure_to_string(failure);
        dbus_uint64_t c = cookie;
        char what[64];
        int r_meta = 0;

        if (!text)
                return client_oom(w->client);
        if (cookie == w->identify_cookie) {
                w->identify_cookie = 0;
                /* Answer even so: vssd then has the answer and the reason in our error. */
                r_meta = writer_send_metadata(w);
        }
        call = bus_new_call(w->object_path, VSS_IFACE_WRITER, "Answer");
        if (!call || !dbus_message_append_args(call, DBUS_TYPE_UINT64, &c, DBUS_TYPE_STRING,
                                               &failure_name, DBUS_TYPE_STRING, &text,
                                               DBUS_TYPE_INVALID))
                return client_oom(w->client);
        snprintf(what, sizeof(what), "answer event %llu", (unsigned long long)cookie);
        if (r_meta < 0) {
                /* Keep the SetMetadata error unless the answer fails too. */
                const char *e = vss_writer_get_error_message(w);
                _cleanup_free_ char *saved = e ? strdup(e) : NULL;
                int r = writer_call(w, call, what, "", NULL);
                if (r < 0)
                        return r;
                return client_fail(w->client, r_meta, NULL, "%s",
                                   saved ? saved : vss_strerror(r_meta));
        }
        return writer_call(w, call, what, "", NULL);
}

static int writer_check_registered(vss_writer *w)
{
        if (w->state == WRITER_REGISTERED)
                return 0;
        if (w->state == WRITER_LOST)
                return client_fail(w->client, -ENOTCONN, NULL, "%s",
                                   w->lost_reason ? w->lost_reason : "vssd left the bus");
        return client_fail(w->client, -ENOTCONN, NULL,
                           "writer '%s' is not registered with vssd; call "
                           "vss_writer_register() first", w->name);
}

VSS_EXPORT int vss_writer_answer(vss_writer *writer, uint64_t cookie,
                                 enum vss_writer_failure failure, const char *message)
{
        if (!writer)
                return -EINVAL;
        client_clear_error(writer->client);
        if (cookie == 0 || (unsigned)failure > VSS_WF_NONRETRYABLE)
                return client_fail(writer->client, -EINVAL, NULL,
                                   "writer '%s': cannot answer cookie %llu with failure %d: "
                                   "the cookie must come from an answered event and the "
                                   "failure be a VSS_WF_* value",
                                   writer->name, (unsigned long long)cookie, (int)failure);
        int r = writer_check_registered(writer);
        if (r < 0)
                return r;
        return writer_send_answer(writer, cookie, failure, message);
}

/* --- events ------------------------------------------------------------------------ */

/* vssd going away while we are frozen must still thaw the application. */
static void writer_lost(vss_writer *w, const char *format, ...)
        __attribute__((format(printf, 2, 3)));

static int writer_run_callback(vss_writer *w, const struct vss_writer_event *ev)
{
        free(w->failure_message);
        w->failure_message = NULL;
        if (!w->on_event)
                return VSS_WF_NONE;
        w->in_callback = true;
        int r = w->on_event(w, ev, w->userdata);
        w->in_callback = false;
        return r;
}

static void writer_synthesize_abort(vss_writer *w)
{
        static const char *const no_volumes[] = { NULL };

        if (!w->frozen)
                return;
        w->frozen = false;
        writer_deadline_set(w, 0);
        struct vss_writer_event ev = {
                .type = VSS_WRITER_EVENT_ABORT,
                .snapshot_set_id = w->frozen_set_id ? w->frozen_set_id : "",
                .volumes = no_volumes,
        };
        (void)writer_run_callback(w, &ev);
}

static void writer_lost(vss_writer *w, const char *format, ...)
{
        va_list ap;
        char *reason = NULL;

        if (w->state == WRITER_LOST)
                return;
        w->state = WRITER_LOST;
        va_start(ap, format);
        if (vasprintf(&reason, format, ap) < 0)
                reason = NULL;
        va_end(ap);
        free(w->lost_reason);
        w->lost_reason = reason;
        writer_synthesize_abort(w);
}

/* A callback's return value as (failure, message); message may stay NULL. */
static enum vss_writer_failure answer_from_return(vss_writer *w, int r, const char **message)
{
        *message = w->failure_message;
        if (r >= VSS_WF_NONE && r <= VSS_WF_NONRETRYABLE)
                return (enum vss_writer_failure)r;
        if (r < 0) {
                if (!*message)
                        *message = vss_strerror(r);
                if (r == -ENOMEM || r == -ENOSPC)
                        return VSS_WF_OUT_OF_RESOURCES;
                return r == -ETIMEDOUT ? VSS_WF_TIMEOUT : VSS_WF_NONRETRYABLE;
        }
        if (!*message)
                *message = "the writer's callback returned a value that is no VSS_WF_* code";
        return VSS_WF_NONRETRYABLE;
}

/*
 * Track freezing, so that a lost or hung vssd can still thaw us. The deadline
 * starts when Freeze arrives, as vssd's own timer starts when it sends it: it
 * bounds the Freeze callback and the wait for Thaw together.
 */
static void writer_track(vss_writer *w, const struct vss_writer_event *ev)
{
        if (ev->type == VSS_WRITER_EVENT_FREEZE) {
                free(w->frozen_set_id);
                w->frozen_set_id = strdup(ev->snapshot_set_id);
                free(w->self_thawed_set_id);
                w->self_thawed_set_id = NULL;
                w->frozen = true;
                w->frozen_timeout_ms = writer_freeze_timeout(w);
                writer_deadline_set(w, (uint64_t)w->frozen_timeout_ms +
                                               VSS_WRITER_SELF_THAW_GRACE_MS);
        } else if (ev->type == VSS_WRITER_EVENT_THAW || ev->type == VSS_WRITER_EVENT_ABORT) {
                w->frozen = false;
                writer_deadline_set(w, 0);
        }
}

/*
 * Our deadline passed (TIMER_FD readable) with neither Thaw nor Abort: vssd
 * is stopped or stuck while still on the bus. Thaw the application (Abort)
 * with the reason in the writer's error message, readable in the callback.
 */
static void writer_check_deadline(vss_writer *w)
{
        uint64_t expiries;
        char timeout[32];

        if (read(w->timer_fd, &expiries, sizeof(expiries)) != (ssize_t)sizeof(expiries))
                return; /* EAGAIN: not expired, or disarmed since */
        if (!w->frozen || w->state != WRITER_REGISTERED)
                return;
        client_fail(w->client, -ETIMEDOUT, NULL,
                    "writer '%s': no Thaw within its freeze timeout of %s s; thawed on its own; "
                    "the snapshot set will fail for this writer",
                    w->name, seconds(timeout, sizeof(timeout), w->frozen_timeout_ms));
        writer_synthesize_abort(w);
        /* Remember the set, to fail its late Thaw (no allocation: the id moves). */
        free(w->self_thawed_set_id);
        w->self_thawed_set_id = TAKE_PTR(w->frozen_set_id);
        w->self_thawed_ms = now_ms();
}

/* Answer (never a lost vssd, only what it refused): dispatch carries on. */
static int writer_answer_after_callback(vss_writer *w, uint64_t cookie, int r)
{
        const char *message;
        enum vss_writer_failure failure = answer_from_return(w, r, &message);
        int q = writer_send_answer(w, cookie, failure, message);
        if (q == -ENOTCONN || q == -ECONNRESET || q == -ECONNREFUSED)
                writer_lost(w, "writer '%s': vssd left the bus while it answered event %llu; "
                               "register again when vssd is back", w->name,
                            (unsigned long long)cookie);
        return q;
}

/*
 * An event of the set we thawed on our own: its Thaw fails with
 * VSS_WF_TIMEOUT (the writer's data may be inconsistent in that set: the
 * requester must learn it), and its Abort is not passed on (the application
 * had its Abort). True when EV was handled here.
 */
static bool writer_after_self_thaw(vss_writer *w, const struct vss_writer_event *ev)
{
        char ago[32], timeout[32];

        if (!w->self_thawed_set_id || strcmp(ev->snapshot_set_id, w->self_thawed_set_id) != 0)
                return false;
        if (ev->type == VSS_WRITER_EVENT_ABORT)
                return true;
        if (ev->type != VSS_WRITER_EVENT_THAW)
                return false;
        free(w->failure_message);
        if (asprintf(&w->failure_message,
                     "writer '%s' thawed on its own %s s earlier: no Thaw came within its freeze "
                     "timeout of %s s, so its data in this snapshot set may be inconsistent",
                     w->name, seconds(ago, sizeof(ago), now_ms() - w->self_thawed_ms),
                     seconds(timeout, sizeof(timeout), w->frozen_timeout_ms)) < 0)
                w->failure_message = NULL; /* out of memory: it still fails, without a reason */
        writer_answer_after_callback(w, ev->cookie, VSS_WF_TIMEOUT);
        return true;
}

/* One of vssd's signals: (t cookie, s snapshot_set_id, as volumes). */
static void writer_handle_event(vss_writer *w, DBusMessage *m)
{
        DBusMessageIter iter, array;
        dbus_uint64_t cookie;
        const char *set_id;

        if (!dbus_message_has_signature(m, "tsas"))
                return; /* not an event this library knows how to read */
        int type = vss_writer_event_type_from_string(dbus_message_get_member(m));
        dbus_message_iter_init(m, &iter);
        dbus_message_iter_get_basic(&iter, &cookie);
        dbus_message_iter_next(&iter);
        dbus_message_iter_get_basic(&iter, &set_id);
        dbus_message_iter_next(&iter);
        if (type < 0) {
                /* A newer vssd's event: a writer without a handler succeeds. */
                if (cookie)
                        writer_answer_after_callback(w, cookie, VSS_WF_NONE);
                return;
        }
        if (!event_is_answered(type))
                cookie = 0;

        int n = dbus_message_iter_get_element_count(&iter);
        _cleanup_free_ const char **volumes = calloc((size_t)n + 1, sizeof(char *));
        if (!volumes) {
                if (cookie)
                        writer_send_answer(w, cookie, VSS_WF_OUT_OF_RESOURCES,
                                           "libvss ran out of memory reading the event");
                return;
        }
        dbus_message_iter_recurse(&iter, &array);
        for (int i = 0; i < n; i++, dbus_message_iter_next(&array))
                dbus_message_iter_get_basic(&array, &volumes[i]);

        struct vss_writer_event ev = { .type = type, .cookie = cookie,
                                       .snapshot_set_id = set_id, .volumes = volumes,
                                       .n_volumes = (size_t)n };
        if (writer_after_self_thaw(w, &ev))
                return;
        if (type == VSS_WRITER_EVENT_IDENTIFY)
                w->identify_cookie = cookie;
        writer_track(w, &ev);
        int r = writer_run_callback(w, &ev);
        if (cookie && r != VSS_WRITER_ANSWER_LATER && w->state == WRITER_REGISTERED)
                writer_answer_after_callback(w, cookie, r);
}

static void writer_name_owner_changed(vss_writer *w, DBusMessage *m)
{
        const char *name, *old_owner, *new_owner;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                   &old_owner, DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID))
                return;
        if (strcmp(name, VSS_BUS_NAME) != 0 || !w->vssd_owner ||
            strcmp(old_owner, w->vssd_owner) != 0)
                return;
        writer_lost(w, "writer '%s': vssd left the bus, and the registration with it; "
                       "register again when vssd is back",
                    w->name);
}

/* PropertiesChanged of vssd's root object: keep its FreezeTimeoutMs current. */
static void writer_coordinator_changed(vss_writer *w, DBusMessage *m)
{
        DBusMessageIter iter, dict, entry, variant;
        const char *iface, *key;

        if (!dbus_message_has_signature(m, "sa{sv}as"))
                return;
        dbus_message_iter_init(m, &iter);
        dbus_message_iter_get_basic(&iter, &iface);
        if (strcmp(iface, VSS_IFACE_COORDINATOR) != 0)
                return;
        dbus_message_iter_next(&iter);
        dbus_message_iter_recurse(&iter, &dict);
        for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                dbus_uint32_t ms = 0;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &variant);
                if (strcmp(key, "FreezeTimeoutMs") != 0 ||
                    dbus_message_iter_get_arg_type(&variant) != DBUS_TYPE_UINT32)
                        continue;
                dbus_message_iter_get_basic(&variant, &ms);
                if (ms > 0) /* a Freeze already here keeps its deadline, as vssd its timer */
                        w->daemon_freeze_timeout_ms = ms;
        }
}

/* Nobody should call methods on a writer; answer rather than let them time out. */
static void writer_refuse_call(vss_writer *w, DBusMessage *m)
{
        DBusMessage *reply;

        if (dbus_message_get_no_reply(m))
                return;
        if (dbus_message_is_method_call(m, DBUS_IFACE_PEER, "Ping"))
                reply = dbus_message_new_method_return(m);
        else
                reply = dbus_message_new_error(m, DBUS_ERROR_UNKNOWN_METHOD,
                                               "a libvss writer has no D-Bus methods");
        if (!reply)
                return;
        dbus_connection_send(w->client->conn, reply, NULL);
        dbus_message_unref(reply);
}

static bool is_from(DBusMessage *m, const char *sender)
{
        const char *s = dbus_message_get_sender(m);
        return s && sender && strcmp(s, sender) == 0;
}

static void writer_handle_message(vss_writer *w, DBusMessage *m)
{
        int type = dbus_message_get_type(m);
        const char *path = dbus_message_get_path(m);

        if (type == DBUS_MESSAGE_TYPE_METHOD_CALL) {
                writer_refuse_call(w, m);
                return;
        }
        if (type != DBUS_MESSAGE_TYPE_SIGNAL)
                return; /* a late reply to a call that timed out */
        if (dbus_message_is_signal(m, DBUS_IFACE_LOCAL, "Disconnected") &&
            dbus_message_has_path(m, DBUS_PATH_LOCAL))
                writer_lost(w, "writer '%s': the connection to the bus at %s was lost; "
                               "register again when the bus is back",
                            w->name, w->client->address);
        else if (dbus_message_is_signal(m, DBUS_NAME, "NameOwnerChanged") &&
                 is_from(m, DBUS_NAME))
                writer_name_owner_changed(w, m);
        else if (is_from(m, w->vssd_owner) && dbus_message_has_path(m, VSS_ROOT_PATH) &&
                 dbus_message_is_signal(m, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"))
                writer_coordinator_changed(w, m);
        else if (is_from(m, w->vssd_owner) && path && strcmp(path, w->object_path) == 0 &&
                 dbus_message_has_interface(m, VSS_IFACE_WRITER))
                writer_handle_event(w, m); /* only vssd's current owner, only our object */
}

/*
 * Read the socket once, without waiting, and handle every queued message.
 * Once vssd is lost they are only dropped: left queued (or a dead socket
 * left in the epoll set) they would keep the application's poll spinning.
 */
static void writer_dispatch_queue(vss_writer *w)
{
        DBusConnection *conn = w->client->conn;
        DBusMessage *m;

        dbus_connection_read_write(conn, 0);
        while ((m = dbus_connection_pop_message(conn))) {
                if (w->state == WRITER_REGISTERED)
                        writer_handle_message(w, m);
                dbus_message_unref(m);
        }
        if (dbus_connection_get_is_connected(conn))
                return;
        if (w->state == WRITER_REGISTERED)
                writer_lost(w, "writer '%s': the connection to the bus at %s was lost; "
                               "register again when the bus is back",
                            w->name, w->client->address);
        if (w->socket_fd >= 0)
                epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, w->socket_fd, NULL);
        w->socket_fd = -1;
}

VSS_EXPORT int vss_writer_dispatch(vss_writer *writer)
{
        vss_writer *w = writer;

        if (!w)
                return -EINVAL;
        if (w->dispatching)
                return client_fail(w->client, -EBUSY, NULL,
                                   "writer '%s' cannot dispatch from within its callback",
                                   w->name);
        client_clear_error(w->client);
        writer_drain_wakeups(w);
        if (w->state == WRITER_NEW || !w->client->conn) {
                writer_check_deadline(w); /* never armed here: only empties the fd */
                return writer_check_registered(w);
        }

        vss_writer_ref(w);
        w->dispatching = true;
        writer_dispatch_queue(w);
        /* After the messages: a Thaw that did come in time wins over the deadline. */
        writer_check_deadline(w);
        w->dispatching = false;
        int r = 0;
        if (w->state == WRITER_LOST)
                r = writer_check_registered(w);
        else
                writer_kick(w);
        vss_writer_unref(w);
        return r;
}

VSS_EXPORT int vss_writer_run(vss_writer *writer)
{
        if (!writer)
                return -EINVAL;
        vss_writer_ref(writer);
        int r;
        for (;;) {
                if (atomic_exchange(&writer->stop, false)) {
                        r = 0;
                        break;
                }
                r = vss_writer_dispatch(writer);
                if (r < 0)
                        break;
                if (atomic_exchange(&writer->stop, false))
                        break;
                struct pollfd p = { .fd = writer->epoll_fd, .events = POLLIN };
                if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                        r = client_fail(writer->client, -errno, NULL,
                                        "writer '%s' could not wait for events: %s",
                                        writer->name, strerror(errno));
                        break;
                }
        }
        vss_writer_unref(writer);
        return r;
}

VSS_EXPORT void vss_writer_stop(vss_writer *writer)
{
        if (!writer)
                return;
        int saved = errno; /* a signal handler must leave errno as it found it */
        atomic_store(&writer->stop, true);
        writer_wake(writer);
        errno = saved;
}
