/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c: the libdbus-1 connection on the epoll loop (watches, timeouts,
 * dispatch status), bus names, client tracking and message helpers. Objects,
 * dispatch and properties are in object.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vss/vss.h>

#include "daemon/dbus/bus-internal.h"
#include "daemon/util/cleanup.h"
#include "daemon/util/log.h"

/* --- watches: one epoll source per DBusWatch, on a dup() of its fd ---------- */

/*
 * libdbus gives separate read and write watches for one socket; epoll takes
 * a file descriptor only once, so each watch gets its own dup().
 */
struct watch_data {
        Bus *bus;
        int fd;
        LoopSource *source; /* NULL while the watch is disabled */
};

static uint32_t watch_epoll_events(DBusWatch *watch)
{
        unsigned flags = dbus_watch_get_flags(watch);
        uint32_t events = 0;

        if (flags & DBUS_WATCH_READABLE)
                events |= EPOLLIN;
        if (flags & DBUS_WATCH_WRITABLE)
                events |= EPOLLOUT;
        return events;
}

static int watch_io(LoopSource *source, int fd, uint32_t revents, void *userdata)
{
        DBusWatch *watch = userdata;
        struct watch_data *wd = dbus_watch_get_data(watch);
        DBusConnection *conn = wd->bus->conn;
        unsigned flags = 0;

        if (revents & EPOLLIN)
                flags |= DBUS_WATCH_READABLE;
        if (revents & EPOLLOUT)
                flags |= DBUS_WATCH_WRITABLE;
        if (revents & EPOLLERR)
                flags |= DBUS_WATCH_ERROR;
        if (revents & EPOLLHUP)
                flags |= DBUS_WATCH_HANGUP;
        /* Handling may drop the last reference to the connection (disconnect). */
        dbus_connection_ref(conn);
        dbus_watch_handle(watch, flags);
        dbus_connection_unref(conn);
        return 0;
}

static int watch_sync(DBusWatch *watch)
{
        struct watch_data *wd = dbus_watch_get_data(watch);

        wd->source = loop_source_free(wd->source);
        if (!dbus_watch_get_enabled(watch))
                return 0;
        return loop_add_io(wd->bus->loop, &wd->source, wd->fd, watch_epoll_events(watch), watch_io,
                           watch);
}

static void watch_data_free(void *p)
{
        struct watch_data *wd = p;

        if (!wd)
                return;
        loop_source_free(wd->source);
        if (wd->fd >= 0)
                close(wd->fd);
        free(wd);
}

static dbus_bool_t watch_add(DBusWatch *watch, void *userdata)
{
        struct watch_data *wd = calloc(1, sizeof(*wd));

        if (!wd)
                return FALSE;
        wd->bus = userdata;
        wd->fd = fcntl(dbus_watch_get_unix_fd(watch), F_DUPFD_CLOEXEC, 3);
        if (wd->fd < 0) {
                free(wd);
                return FALSE;
        }
        dbus_watch_set_data(watch, wd, watch_data_free);
        return watch_sync(watch) >= 0;
}

static void watch_remove(DBusWatch *watch, void *userdata)
{
        struct watch_data *wd = dbus_watch_get_data(watch);

        if (wd)
                wd->source = loop_source_free(wd->source);
}

static void watch_toggled(DBusWatch *watch, void *userdata)
{
        if (watch_sync(watch) < 0)
                log_error("cannot update a D-Bus watch; the bus connection may stall");
}

/* --- timeouts: libdbus timeouts repeat until removed or disabled ----------- */

static int timeout_fire(LoopSource *source, void *userdata)
{
        DBusTimeout *timeout = userdata;

        /*
         * libdbus timeouts repeat: re-arm first, because handling may remove
         * and free the timeout (and then the remove callback disarms it).
         */
        int r = loop_source_set_timer(source, (uint64_t)dbus_timeout_get_interval(timeout) * 1000u);
        dbus_timeout_handle(timeout);
        return r;
}

static void timeout_source_free(void *source)
{
        loop_source_free(source);
}

static dbus_bool_t timeout_add(DBusTimeout *timeout, void *userdata)
{
        Bus *bus = userdata;
        LoopSource *source;
        uint64_t usec = dbus_timeout_get_enabled(timeout)
                                ? (uint64_t)dbus_timeout_get_interval(timeout) * 1000u
                                : 0;

        if (loop_add_timer(bus->loop, &source, usec, timeout_fire, timeout) < 0)
                return FALSE;
        dbus_timeout_set_data(timeout, source, timeout_source_free);
        return TRUE;
}

static void timeout_remove(DBusTimeout *timeout, void *userdata)
{
        LoopSource *source = dbus_timeout_get_data(timeout);

        if (source)
                loop_source_set_timer(source, 0);
}

static void timeout_toggled(DBusTimeout *timeout, void *userdata)
{
        LoopSource *source = dbus_timeout_get_data(timeout);
        uint64_t usec = dbus_timeout_get_enabled(timeout)
                                ? (uint64_t)dbus_timeout_get_interval(timeout) * 1000u
                                : 0;

        if (source)
                loop_source_set_timer(source, usec);
}

/* --- dispatching: until no data remains, from a deferred source ------------- */

static int bus_dispatch(LoopSource *source, void *userdata)
{
        Bus *bus = userdata;

        dbus_connection_ref(bus->conn);
        while (dbus_connection_dispatch(bus->conn) == DBUS_DISPATCH_DATA_REMAINS)
                ;
        loop_source_set_enabled(source, false);
        dbus_connection_unref(bus->conn);
        return 0;
}

static void dispatch_status_changed(DBusConnection *conn, DBusDispatchStatus status,
                                    void *userdata)
{
        Bus *bus = userdata;

        if (status == DBUS_DISPATCH_DATA_REMAINS && bus->dispatch_source)
                loop_source_set_enabled(bus->dispatch_source, true);
}

/* --- filter: disconnect and clients leaving -------------------------------------- */

static DBusHandlerResult bus_filter(DBusConnection *conn, DBusMessage *msg, void *userdata)
{
        Bus *bus = userdata;
        const char *name, *old_owner, *new_owner;

        if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
                log_error("lost the D-Bus connection; exiting (systemd restarts vssd)");
                loop_exit(bus->loop, -ECONNRESET);
                return DBUS_HANDLER_RESULT_HANDLED;
        }
        if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
            dbus_message_has_sender(msg, DBUS_SERVICE_DBUS) &&
            dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                  &old_owner, DBUS_TYPE_STRING, &new_owner, DBUS_TYPE_INVALID) &&
            name[0] == ':' && new_owner[0] == '\0') {
                bus_callers_forget(bus, name);
                if (bus->name_lost_fn)
                        bus->name_lost_fn(name, bus->name_lost_userdata);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* --- connection ------------------------------------------------------------ */

static int bus_connect(DBusConnection **ret, const char *address)
{
        DBusError error;
        DBusConnection *conn;

        dbus_error_init(&error);
        if (address) {
                conn = dbus_connection_open_private(address, &error);
                if (conn && !dbus_bus_register(conn, &error)) {
                        dbus_connection_close(conn);
                        dbus_connection_unref(conn);
                        conn = NULL;
                }
        } else
                conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &error);
        if (!conn) {
                log_error("cannot connect to the %s bus%s%s: %s", address ? "given" : "system",
                          address ? " " : "", address ? address : "", error.message);
                dbus_error_free(&error);
                return -ECONNREFUSED;
        }
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        *ret = conn;
        return 0;
}

static int bus_attach(Bus *bus)
{
        int r = loop_add_defer(bus->loop, &bus->dispatch_source, bus_dispatch, bus);

        if (r < 0)
                return r;
        if (!dbus_connection_set_watch_functions(bus->conn, watch_add, watch_remove,
                                                 watch_toggled, bus, NULL) ||
            !dbus_connection_set_timeout_functions(bus->conn, timeout_add, timeout_remove,
                                                   timeout_toggled, bus, NULL) ||
            !dbus_connection_add_filter(bus->conn, bus_filter, bus, NULL))
                return -ENOMEM;
        bus->filter_added = true;
        dbus_connection_set_dispatch_status_function(bus->conn, dispatch_status_changed, bus,
                                                     NULL);
        /* Watch every client leaving: sessions and writers are tied to unique names. */
        if (bus->on_bus)
                dbus_bus_add_match(bus->conn,
                           "type='signal',sender='" DBUS_SERVICE_DBUS "',interface='"
                           DBUS_INTERFACE_DBUS "',member='NameOwnerChanged',arg2=''",
                           NULL);
        return bus_objects_attach(bus);
}

int bus_new_from_connection(Bus **ret, Loop *loop, DBusConnection *conn, bool on_bus,
                            const char *manager_path)
{
        Bus *bus = calloc(1, sizeof(*bus));
        int r;

        if (!bus)
                return -ENOMEM;
        bus->loop = loop;
        bus->conn = dbus_connection_ref(conn);
        bus->on_bus = on_bus;
        bus->manager_path = strdup(manager_path);
        r = bus->manager_path ? bus_attach(bus) : -ENOMEM;
        if (r < 0) {
                bus_free(bus);
                return r;
        }
        *ret = bus;
        return 0;
}

int bus_new(Bus **ret, Loop *loop, const char *address, const char *manager_path)
{
        DBusConnection *conn;
        int r = bus_connect(&conn, address);

        if (r < 0)
                return r;
        r = bus_new_from_connection(ret, loop, conn, true, manager_path);
        if (r < 0)
                dbus_connection_close(conn);
        dbus_connection_unref(conn);
        return r;
}

Bus *bus_free(Bus *bus)
{
        if (!bus)
                return NULL;
        while (bus->objects)
                bus_object_free(bus->objects);
        bus_callers_free(bus);
        if (bus->conn) {
                /* The caller may hold the connection: leave nothing pointing at BUS. */
                if (bus->filter_added)
                        dbus_connection_remove_filter(bus->conn, bus_filter, bus);
                if (bus->fallback_registered)
                        dbus_connection_unregister_object_path(bus->conn, "/");
                dbus_connection_set_watch_functions(bus->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_set_timeout_functions(bus->conn, NULL, NULL, NULL, NULL, NULL);
                dbus_connection_set_dispatch_status_function(bus->conn, NULL, NULL, NULL);
                dbus_connection_close(bus->conn);
                dbus_connection_unref(bus->conn);
        }
        loop_source_free(bus->dispatch_source);
        free(bus->manager_path);
        free(bus);
        return NULL;
}

int bus_request_name(Bus *bus, const char *name)
{
        DBusError error;

        dbus_error_init(&error);
        int r = dbus_bus_request_name(bus->conn, name, DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);
        if (r < 0) {
                log_error("cannot request bus name %s: %s", name, error.message);
                int code = strcmp(error.name, DBUS_ERROR_ACCESS_DENIED) == 0 ? -EACCES : -EIO;
                if (code == -EACCES)
                        log_error("is the D-Bus policy file org.linuxvss.Vss1.conf installed?");
                dbus_error_free(&error);
                return code;
        }
        if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER &&
            r != DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
                log_error("bus name %s is owned by another process; is vssd already running?",
                          name);
                return -EEXIST;
        }
        return 0;
}

void bus_leave(Bus *bus)
{
        if (bus)
                bus->leaving = true;
}

bool bus_name_has_owner(Bus *bus, const char *name)
{
        return bus->on_bus && dbus_bus_name_has_owner(bus->conn, name, NULL);
}

DBusConnection *bus_get_connection(Bus *bus)
{
        return bus->conn;
}

const char *bus_get_unique_name(Bus *bus)
{
        return bus->on_bus ? dbus_bus_get_unique_name(bus->conn) : NULL;
}

void bus_set_name_lost_handler(Bus *bus, bus_name_lost_fn fn, void *userdata)
{
        bus->name_lost_fn = fn;
        bus->name_lost_userdata = userdata;
}

/* --- sending -------------------------------------------------------------- */

int bus_send(Bus *bus, DBusMessage *msg)
{
        return dbus_connection_send(bus->conn, msg, NULL) ? 0 : -ENOMEM;
}

/* "InvalidArgs" or a full foreign name: the one place codes become names. */
static void error_name_for(int code, char *buf, size_t size)
{
        snprintf(buf, size, VSS_ERROR_PREFIX "%s", vss_error_to_name(code));
}

int bus_send_error_name(Bus *bus, DBusMessage *request, const char *name, const char *message)
{
        if (dbus_message_get_no_reply(request))
                return 0;
        DBusMessage *reply = dbus_message_new_error(request, name, message);
        if (!reply)
                return -ENOMEM;
        int r = bus_send(bus, reply);
        dbus_message_unref(reply);
        return r;
}

int bus_send_error(Bus *bus, DBusMessage *request, int code, const char *message)
{
        char name[128];

        error_name_for(code, name, sizeof(name));
        if (!message || !dbus_validate_utf8(message, NULL))
                message = vss_strerror(code);
        return bus_send_error_name(bus, request, name, message);
}

/* --- appending ------------------------------------------------------------ */

bool bus_append_string(DBusMessageIter *iter, const char *s)
{
        if (!s)
                s = "";
        if (dbus_validate_utf8(s, NULL))
                return dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &s);
        /* Text from a device or a plugin can be anything: replace bytes >= 0x80. */
        _cleanup_free_ char *copy = strdup(s);
        if (!copy)
                return false;
        for (char *p = copy; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        const char *c = copy;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &c);
}

bool bus_append_object_path(DBusMessageIter *iter, const char *path)
{
        if (!dbus_validate_path(path, NULL))
                return false;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_OBJECT_PATH, &path);
}

bool bus_append_uint32(DBusMessageIter *iter, uint32_t v)
{
        dbus_uint32_t x = v;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_UINT32, &x);
}

bool bus_append_int32(DBusMessageIter *iter, int32_t v)
{
        dbus_int32_t x = v;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_INT32, &x);
}

bool bus_append_uint64(DBusMessageIter *iter, uint64_t v)
{
        dbus_uint64_t x = v;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_UINT64, &x);
}

bool bus_append_bool(DBusMessageIter *iter, bool v)
{
        dbus_bool_t x = v;
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_BOOLEAN, &x);
}

int bus_path_escape(const char *s, char *buf, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t len = 0;

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9');
                size_t need = plain ? 1 : 3;
                if (len + need + 1 > size)
                        return -ENOBUFS;
                if (plain)
                        buf[len++] = (char)c;
                else {
                        buf[len++] = '_';
                        buf[len++] = hex[c >> 4];
                        buf[len++] = hex[c & 15];
                }
        }
        if (len == 0) { /* an empty element is not a valid path */
                if (size < 2)
                        return -ENOBUFS;
                buf[len++] = '_';
        }
        buf[len] = '\0';
        return 0;
}
