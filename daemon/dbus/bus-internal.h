/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-internal.h: what bus.c, object.c and caller.c share; not for the rest
 * of the daemon.
 */
#ifndef VSS_DBUS_BUS_INTERNAL_H
#define VSS_DBUS_BUS_INTERNAL_H

#include <fcntl.h>

#include "daemon/dbus/bus.h"

#define BUS_MAX_INTERFACES 8

typedef struct BusCaller BusCaller;

struct Bus {
        Loop *loop;
        DBusConnection *conn;
        bool on_bus; /* false: a peer-to-peer connection (unit tests) */
        bool filter_added;        /* bus_filter is on conn */
        bool fallback_registered; /* bus_handle_message serves "/" on conn */
        LoopSource *dispatch_source;
        char *manager_path;
        BusObject *objects; /* registry, most recent first */
        bus_name_lost_fn name_lost_fn;
        void *name_lost_userdata;
        bool leaving; /* bus_leave(): objects go without InterfacesRemoved */
        const BusAuthorizer *authorizer; /* NULL: root only */
        void *authorizer_userdata;
        BusCaller *callers; /* callers whose uid was asked (caller.c) */
};

struct BusObject {
        Bus *bus;
        char *path;
        const BusInterface *ifaces[BUS_MAX_INTERFACES];
        void *userdata[BUS_MAX_INTERFACES];
        size_t n_ifaces;
        bool published;
        BusObject *next;
};

struct BusCall {
        Bus *bus;
        DBusMessage *msg;
        BusCaller *caller; /* NULL: the caller's uid was not asked (yet) */
        bool needs_caller; /* stopped before doing anything: the uid is needed first */
        bool replied;
        bool deferred;
        char error[512];
};

/* Answer REQUEST with error NAME (a full name, UTF-8 MESSAGE) unless it wants no reply. */
int bus_send_error_name(Bus *bus, DBusMessage *request, const char *name, const char *message);

/* Register the fallback handler that serves every path. */
int bus_objects_attach(Bus *bus);
/*
 * Dispatch the method call MSG as CALLER. -EAGAIN, with nothing done, when
 * the call needs the caller's uid and CALLER is NULL; else it is answered
 * (or deferred by its handler).
 */
int bus_dispatch_call(Bus *bus, DBusMessage *msg, BusCaller *caller);

/* --- caller.c: each caller's uid, asked once, and the calls waiting for it --- */

enum caller_state {
        CALLER_ASKING, /* GetConnectionCredentials is under way; calls queue */
        CALLER_KNOWN,  /* uid and identity known */
        CALLER_FAILED, /* the uid could not be learnt (FAILURE says why) */
};

struct BusCaller {
        Bus *bus;
        char *name; /* unique bus name; NULL for the peer of a peer-to-peer connection */
        enum caller_state state;
        uid_t uid;
        void *identity; /* the authorizer's, for CALLER_KNOWN */
        char failure[256];
        DBusPendingCall *pending;
        DBusMessage **queue; /* calls in arrival order, while CALLER_ASKING */
        size_t n_queue;
        size_t queue_size;
        BusCaller *next;
};

/* A method call arrived: dispatch it now, or queue it behind its sender's earlier ones. */
void bus_callers_handle(Bus *bus, DBusMessage *msg);
/* NAME left the bus: forget its uid; calls still waiting for it are dropped. */
void bus_callers_forget(Bus *bus, const char *name);
void bus_callers_free(Bus *bus);
/* May CALLER make a call of class ACCESS? 0, or -EACCES with ERR filled. */
int bus_caller_check(const BusCaller *caller, unsigned access, const char *what, char *err,
                     size_t err_size);

#endif
