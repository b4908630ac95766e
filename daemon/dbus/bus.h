/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.h: vssd's D-Bus layer on libdbus-1.
 *
 * Each interface is declared once, as const tables of methods, properties and
 * signals with argument names and signatures. The same tables drive dispatch
 * (the call's signature is checked before a handler runs), Properties
 * Get/GetAll/Set, PropertiesChanged, ObjectManager and the Introspect XML, so
 * what the daemon says it implements is exactly what it does.
 *
 * The connection is driven by the daemon's epoll loop (watches, timeouts and
 * the dispatch status), never blocks, and all object paths are served by one
 * fallback handler that looks objects up in the registry.
 */
#ifndef VSS_DBUS_BUS_H
#define VSS_DBUS_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dbus/dbus.h>

#include "daemon/util/loop.h"

typedef struct Bus Bus;
typedef struct BusObject BusObject;
typedef struct BusCall BusCall;

typedef struct BusArg {
        const char *name;
        const char *signature; /* one complete type */
} BusArg;

#define BUS_ARGS(...) ((const BusArg[]){ __VA_ARGS__, { NULL, NULL } })
#define BUS_NO_ARGS ((const BusArg[]){ { NULL, NULL } })

/*
 * A method handler. Reply with bus_call_reply*() or keep the request with
 * bus_call_defer() and answer later; return a negative code to fail (with
 * bus_call_error() first for a message naming the problem). Returning >= 0
 * without replying sends an empty reply.
 */
typedef int (*bus_method_fn)(BusCall *call, void *userdata);

/* Append the property's value (of its declared signature) to ITER. */
typedef int (*bus_property_get_fn)(DBusMessageIter *iter, void *userdata);
/* Read the new value from ITER (already checked against the signature). */
typedef int (*bus_property_set_fn)(BusCall *call, DBusMessageIter *iter, void *userdata);

enum bus_property_flags {
        BUS_PROPERTY_EMITS_CHANGE = 1u << 0, /* PropertiesChanged carries the new value */
        BUS_PROPERTY_CONST = 1u << 1,        /* never changes while the object exists */
};

/*
 * Who may call a method. vssd authorizes every call by the caller's uid
 * (the bus policy lets everyone send); the classes between ROOT and ANYONE
 * are the daemon's authorizer's to decide (bus_set_authorizer()).
 */
enum bus_access {
        BUS_ACCESS_ROOT = 0, /* root only: what a method not marked gets */
        BUS_ACCESS_ANYONE,   /* any local user (listing, reading); the uid is not asked */
        BUS_ACCESS_BACKUP,   /* root or the backup group: make, expose, delete snapshots */
        BUS_ACCESS_WRITER,   /* root or the writer group: take part as a writer */
};

typedef struct BusMethod {
        const char *name;
        const BusArg *in;
        const BusArg *out;
        bus_method_fn fn;
        unsigned access; /* enum bus_access; last, so that 0 (root only) is the default */
} BusMethod;

typedef struct BusProperty {
        const char *name;
        const char *signature;
        bus_property_get_fn get;
        bus_property_set_fn set; /* NULL: read-only */
        unsigned flags;
} BusProperty;

typedef struct BusSignal {
        const char *name;
        const BusArg *args;
} BusSignal;

typedef struct BusInterface {
        const char *name;
        const BusMethod *methods;       /* terminated by { NULL } */
        const BusProperty *properties;  /* terminated by { NULL } */
        const BusSignal *signals;       /* terminated by { NULL } */
} BusInterface;

/* --- connection ------------------------------------------------------------ */

/*
 * Connect to ADDRESS (NULL: the system bus), register on it and attach to
 * LOOP. The object manager is served at MANAGER_PATH. Exit-on-disconnect is
 * off: a lost bus ends the loop through the disconnect callback instead.
 */
int bus_new(Bus **ret, Loop *loop, const char *address, const char *manager_path);
/*
 * Serve objects on an existing connection (ON_BUS false: a peer-to-peer
 * connection, as the unit tests use; no names, no client tracking).
 */
int bus_new_from_connection(Bus **ret, Loop *loop, DBusConnection *conn, bool on_bus,
                            const char *manager_path);
Bus *bus_free(Bus *bus);

/* Request NAME (do not queue); -EEXIST when another process owns it. */
int bus_request_name(Bus *bus, const char *name);
/* Does anyone own NAME now? (Blocks on the bus: for startup only.) */
bool bus_name_has_owner(Bus *bus, const char *name);
DBusConnection *bus_get_connection(Bus *bus);
const char *bus_get_unique_name(Bus *bus);

/* Called when a unique name leaves the bus (NameOwnerChanged to ""). */
typedef void (*bus_name_lost_fn)(const char *unique_name, void *userdata);
void bus_set_name_lost_handler(Bus *bus, bus_name_lost_fn fn, void *userdata);

/*
 * The daemon's rule for who may call what. The D-Bus layer learns each
 * caller's uid without blocking (GetConnectionCredentials; on a peer-to-peer
 * connection, the peer's), asks IDENTIFY once per connection for what CHECK
 * needs (for vssd: the user's name and groups) and drops it with
 * FREE_IDENTITY when the connection leaves the bus. CHECK decides each call
 * whose access class is not BUS_ACCESS_ANYONE: 0 to allow, -EACCES with a
 * message in ERR naming WHAT (the method) and what is missing. A caller's
 * calls wait, in order, while its uid is being asked.
 *
 * Without an authorizer only root may call anything not BUS_ACCESS_ANYONE.
 * Set it before the loop serves calls: setting it forgets every caller.
 */
typedef struct BusAuthorizer {
        int (*identify)(uid_t uid, void **ret_identity, void *userdata);
        int (*check)(const void *identity, unsigned access, const char *what, char *err,
                     size_t err_size, void *userdata);
        void (*free_identity)(void *identity);
} BusAuthorizer;
void bus_set_authorizer(Bus *bus, const BusAuthorizer *authorizer, void *userdata);

/* --- objects ----------------------------------------------------------------- */

int bus_object_new(Bus *bus, BusObject **ret, const char *path);
int bus_object_add_interface(BusObject *object, const BusInterface *iface, void *userdata);
/* Make the object visible: announced with InterfacesAdded. */
int bus_object_publish(BusObject *object);
/* Remove the object (InterfacesRemoved if it was published); NULL-safe. */
BusObject *bus_object_free(BusObject *object);
/*
 * The daemon is leaving the bus: objects freed from now on are not announced
 * as removed. They did not go away, the daemon did, which NameOwnerChanged
 * tells every client; a persistent snapshot announced as removed would be a
 * lie a client might act on (a merge taken for finished, say).
 */
void bus_leave(Bus *bus);
const char *bus_object_get_path(const BusObject *object);

/* PropertiesChanged for the NULL-terminated list NAMES of IFACE on OBJECT. */
int bus_object_emit_properties_changed(BusObject *object, const BusInterface *iface,
                                       const char *const *names);
/* Emit signal NAME of IFACE; DESTINATION NULL broadcasts, else unicast. */
int bus_object_emit_signal(BusObject *object, const BusInterface *iface, const char *name,
                           const char *destination, int first_arg_type, ...);

/* Escape S into one object path element ([A-Za-z0-9_], '_xx' for others). */
int bus_path_escape(const char *s, char *buf, size_t size);

/* --- calls ------------------------------------------------------------------ */

DBusMessage *bus_call_get_message(BusCall *call);
const char *bus_call_get_sender(BusCall *call);
Bus *bus_call_get_bus(BusCall *call);
/*
 * The caller's uid: known for every call that needed authorizing; -ENODATA
 * for a BUS_ACCESS_ANYONE call from a caller whose uid was never asked.
 */
int bus_call_get_uid(BusCall *call, uid_t *ret);

/* Record the error message for a failing return code; returns CODE. */
int bus_call_error(BusCall *call, int code, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
/* Reply with basic-typed arguments (dbus_message_append_args style). */
int bus_call_reply(BusCall *call, int first_arg_type, ...);
/* Reply with a message built by the handler (from bus_call_new_reply()). */
DBusMessage *bus_call_new_reply(BusCall *call);
int bus_call_send_reply(BusCall *call, DBusMessage *reply);
/* Keep the request to answer later with bus_send / bus_send_error; returns a ref. */
DBusMessage *bus_call_defer(BusCall *call);

/* Send MSG; for deferred replies and signals. */
int bus_send(Bus *bus, DBusMessage *msg);
/* Answer REQUEST with the error for CODE and MESSAGE (NULL: the code's text). */
int bus_send_error(Bus *bus, DBusMessage *request, int code, const char *message);

/* --- helpers for appending values --------------------------------------------- */

/* Append a string, replacing invalid UTF-8 (which would make libdbus abort). */
bool bus_append_string(DBusMessageIter *iter, const char *s);
bool bus_append_uint32(DBusMessageIter *iter, uint32_t v);
bool bus_append_int32(DBusMessageIter *iter, int32_t v);
bool bus_append_uint64(DBusMessageIter *iter, uint64_t v);
bool bus_append_bool(DBusMessageIter *iter, bool v);
bool bus_append_object_path(DBusMessageIter *iter, const char *path);

/* --- reading container arguments (args.c) -------------------------------------- */

/*
 * Walk the a{sv} at ARRAY: FN gets each key and an iterator on the variant's
 * content; a negative return stops the walk and is returned. CALL is only
 * passed on to FN (NULL for a dictionary that is not a call's argument).
 */
typedef int (*bus_dict_fn)(BusCall *call, const char *key, DBusMessageIter *value,
                           void *userdata);
int bus_dict_foreach(BusCall *call, DBusMessageIter *array, bus_dict_fn fn, void *userdata);
/* 0 when VALUE (inside a variant) has SIGNATURE; else -EINVAL naming option KEY. */
int bus_variant_expect(BusCall *call, const char *key, DBusMessageIter *value,
                       const char *signature);
/*
 * The strings of the array at ARRAY (type as) as a NULL-terminated vector
 * whose strings point into the message: free only the vector.
 */
int bus_read_strv(DBusMessageIter *array, const char ***ret, size_t *ret_n);
/* Append N strings as an array (as). */
bool bus_append_strv(DBusMessageIter *iter, const char *const *strv, size_t n);

/* --- introspection (introspect.c) ---------------------------------------------- */

/*
 * Introspection XML for PATH with IFACES (may be empty) and the direct child
 * node names CHILDREN; *ret is malloc()ed.
 */
int bus_introspect_xml(char **ret, const BusInterface *const *ifaces, size_t n_ifaces,
                       bool object_manager, const char *const *children, size_t n_children);
/* Concatenated signature of ARGS into BUF; -ENOBUFS when it does not fit. */
int bus_args_signature(const BusArg *args, char *buf, size_t size);

#endif
