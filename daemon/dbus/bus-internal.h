/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-internal.h: what bus.c and object.c share; not for the rest of the daemon. */
#ifndef VSS_DBUS_BUS_INTERNAL_H
#define VSS_DBUS_BUS_INTERNAL_H

#include <fcntl.h>

#include "daemon/dbus/bus.h"

#define BUS_MAX_INTERFACES 8

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
        bool replied;
        bool deferred;
        char error[512];
};

/* Register the fallback handler that serves every path. */
int bus_objects_attach(Bus *bus);

#endif
