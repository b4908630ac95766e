/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * caller.c: who is calling. vssd authorizes every call by the caller's uid,
 * which dbus-daemon tells through GetConnectionCredentials, asked without
 * blocking: the loop must keep serving writers (a Thaw in the hold window)
 * while it waits. A caller's calls wait in arrival order until its uid is
 * known and are then dispatched as if they had just arrived; a call that
 * needs no uid passes at once unless earlier calls of the same caller wait,
 * so each caller is answered in the order it called.
 *
 * The uid, and what the authorizer makes of it (for vssd: the user's groups),
 * is kept per connection and dropped when the connection leaves the bus, as
 * dbus-daemon's own policy does: a user added to a group has the new rights
 * on its next connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dbus/bus-internal.h"
#include "daemon/util/log.h"

/* Calls one caller may have waiting for its uid; past this they are refused. */
#define CALLER_QUEUE_MAX 1024
/* dbus-daemon answers at once; this bounds a bus that does not. */
#define CREDENTIALS_TIMEOUT_MS 10000

static BusCaller *caller_find(Bus *bus, const char *name)
{
        for (BusCaller *c = bus->callers; c; c = c->next)
                if (name ? c->name && strcmp(c->name, name) == 0 : !c->name)
                        return c;
        return NULL;
}

/* Unlink and free C; calls still queued are dropped unanswered. */
static void caller_free(BusCaller *c)
{
        const BusAuthorizer *a = c->bus->authorizer;

        for (BusCaller **p = &c->bus->callers; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (c->pending) {
                dbus_pending_call_cancel(c->pending);
                dbus_pending_call_unref(c->pending);
        }
        for (size_t i = 0; i < c->n_queue; i++)
                dbus_message_unref(c->queue[i]);
        free(c->queue);
        if (c->identity && a && a->free_identity)
                a->free_identity(c->identity);
        free(c->name);
        free(c);
}

static void caller_fail(BusCaller *c, const char *format, ...)
        __attribute__((format(printf, 2, 3)));
static void caller_fail(BusCaller *c, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(c->failure, sizeof(c->failure), format, ap);
        va_end(ap);
        c->state = CALLER_FAILED;
        log_warning("cannot authorize calls from %s: %s", c->name ? c->name : "the peer",
                    c->failure);
}

/* The uid is known: let the authorizer look up what it needs, once. */
static void caller_set_uid(BusCaller *c, uid_t uid)
{
        const BusAuthorizer *a = c->bus->authorizer;
        int r = a && a->identify ? a->identify(uid, &c->identity, c->bus->authorizer_userdata)
                                 : 0;

        c->uid = uid;
        if (r < 0)
                caller_fail(c, "cannot look up uid %u in the user database: %s", (unsigned)uid,
                            strerror(-r));
        else
                c->state = CALLER_KNOWN;
}

static int credential(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        if (strcmp(key, "UnixUserID") == 0 &&
            dbus_message_iter_get_arg_type(value) == DBUS_TYPE_UINT32)
                dbus_message_iter_get_basic(value, (dbus_uint32_t *)userdata);
        return 0;
}

/* The answer to GetConnectionCredentials (NULL: none came). */
static void credentials_read(BusCaller *c, DBusMessage *reply)
{
        DBusMessageIter iter;
        dbus_uint32_t uid = (dbus_uint32_t)-1;
        const char *text = "";

        if (reply && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
                dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
                caller_fail(c, "the bus did not tell its uid: %s: %s",
                            dbus_message_get_error_name(reply), text);
                return;
        }
        if (reply && dbus_message_has_signature(reply, "a{sv}") &&
            dbus_message_iter_init(reply, &iter))
                bus_dict_foreach(NULL, &iter, credential, &uid);
        if (uid == (dbus_uint32_t)-1)
                caller_fail(c, "the bus did not tell its uid");
        else
                caller_set_uid(c, (uid_t)uid);
}

/* Dispatch what waited, in order; a caller that failed is forgotten after. */
static void caller_flush(BusCaller *c)
{
        DBusMessage **queue = c->queue;
        size_t n = c->n_queue;

        c->queue = NULL;
        c->n_queue = c->queue_size = 0;
        for (size_t i = 0; i < n; i++) {
                bus_dispatch_call(c->bus, queue[i], c);
                dbus_message_unref(queue[i]);
        }
        free(queue);
        if (c->state == CALLER_FAILED)
                caller_free(c);
}

static void credentials_done(DBusPendingCall *pending, void *userdata)
{
        BusCaller *c = userdata;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);

        /* libdbus holds its own reference while it notifies. */
        dbus_pending_call_unref(c->pending);
        c->pending = NULL;
        credentials_read(c, reply);
        if (reply)
                dbus_message_unref(reply);
        caller_flush(c);
}

/* Ask the bus for C's uid (a peer-to-peer connection knows its peer's at once). */
static int caller_ask(BusCaller *c)
{
        Bus *bus = c->bus;
        unsigned long uid;

        if (!bus->on_bus) {
                if (dbus_connection_get_unix_user(bus->conn, &uid))
                        caller_set_uid(c, (uid_t)uid);
                else
                        caller_fail(c, "the peer is not a local process with a uid");
                return 0;
        }
        if (!c->name) {
                caller_fail(c, "the call has no sender");
                return 0;
        }
        DBusMessage *msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                        DBUS_INTERFACE_DBUS,
                                                        "GetConnectionCredentials");
        const char *name = c->name;
        bool ok = msg && dbus_message_append_args(msg, DBUS_TYPE_STRING, &name,
                                                  DBUS_TYPE_INVALID) &&
                  dbus_connection_send_with_reply(bus->conn, msg, &c->pending,
                                                  CREDENTIALS_TIMEOUT_MS);
        if (msg)
                dbus_message_unref(msg);
        if (!ok)
                return -ENOMEM;
        if (!c->pending) { /* the connection is closing */
                caller_fail(c, "the bus connection is closing");
                return 0;
        }
        if (!dbus_pending_call_set_notify(c->pending, credentials_done, c, NULL))
                return -ENOMEM; /* caller_free() cancels it */
        c->state = CALLER_ASKING;
        return 0;
}

static int caller_new(Bus *bus, const char *name, BusCaller **ret)
{
        BusCaller *c = calloc(1, sizeof(*c));

        if (!c || (name && !(c->name = strdup(name)))) {
                free(c);
                return -ENOMEM;
        }
        c->bus = bus;
        c->next = bus->callers;
        bus->callers = c;
        int r = caller_ask(c);
        if (r < 0) {
                caller_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static void caller_enqueue(BusCaller *c, DBusMessage *msg)
{
        if (c->n_queue >= CALLER_QUEUE_MAX) {
                bus_send_error_name(c->bus, msg, DBUS_ERROR_LIMITS_EXCEEDED,
                                    "too many calls are waiting while vssd learns the "
                                    "caller's uid; wait for the replies before calling more");
                return;
        }
        if (c->n_queue == c->queue_size) {
                size_t size = c->queue_size ? c->queue_size * 2 : 8;
                DBusMessage **q = realloc(c->queue, size * sizeof(*q));
                if (!q) {
                        bus_send_error(c->bus, msg, -ENOMEM, NULL);
                        return;
                }
                c->queue = q;
                c->queue_size = size;
        }
        c->queue[c->n_queue++] = dbus_message_ref(msg);
}

void bus_callers_handle(Bus *bus, DBusMessage *msg)
{
        const char *sender = dbus_message_get_sender(msg);
        BusCaller *c = caller_find(bus, sender);

        if (c && c->state == CALLER_ASKING) {
                caller_enqueue(c, msg);
                return;
        }
        if (bus_dispatch_call(bus, msg, c) != -EAGAIN)
                return;
        /* The call needs the uid, which was never asked: ask, once per caller. */
        int r = caller_new(bus, sender, &c);
        if (r < 0) {
                bus_send_error(bus, msg, r, "vssd cannot check the caller's rights now: out of "
                               "memory; try again");
                return;
        }
        if (c->state == CALLER_ASKING) {
                caller_enqueue(c, msg);
                return;
        }
        bus_dispatch_call(bus, msg, c);
        if (c->state == CALLER_FAILED)
                caller_free(c);
}

void bus_callers_forget(Bus *bus, const char *name)
{
        BusCaller *c = caller_find(bus, name);

        if (!c)
                return;
        if (c->n_queue > 0)
                log_notice("dropped %zu call(s) from %s: it left the bus before vssd learnt "
                           "its uid", c->n_queue, name);
        caller_free(c);
}

void bus_callers_free(Bus *bus)
{
        while (bus->callers)
                caller_free(bus->callers);
}

int bus_caller_check(const BusCaller *c, unsigned access, const char *what, char *err,
                     size_t err_size)
{
        const BusAuthorizer *a = c->bus->authorizer;

        if (access == BUS_ACCESS_ANYONE)
                return 0;
        if (c->state != CALLER_KNOWN) {
                snprintf(err, err_size, "%s is refused: vssd cannot tell who is calling (%s); "
                         "try again", what, c->failure);
                return -EACCES;
        }
        if (a && a->check)
                return a->check(c->identity, access, what, err, err_size,
                                c->bus->authorizer_userdata);
        if (c->uid == 0)
                return 0;
        snprintf(err, err_size, "%s is for root only; uid %u is not root", what,
                 (unsigned)c->uid);
        return -EACCES;
}

void bus_set_authorizer(Bus *bus, const BusAuthorizer *authorizer, void *userdata)
{
        /* Identities made by another authorizer mean nothing to this one. */
        bus_callers_free(bus);
        bus->authorizer = authorizer;
        bus->authorizer_userdata = userdata;
}
