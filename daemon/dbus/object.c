/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * object.c: the object registry and the one generic dispatcher. Every call
 * reaches bus_dispatch_call() (through caller.c, which holds a caller's calls
 * while its uid is being asked), which finds the object and the method in
 * the interface tables, authorizes the caller for the method's access class,
 * checks the signature, runs the handler and makes sure every call gets
 * exactly one reply. Properties, ObjectManager and Introspectable are
 * implemented here, from the same tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/dbus/bus-internal.h"
#include "daemon/util/cleanup.h"
#include "daemon/util/log.h"

#define DBUS_INTERFACE_OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"

static void message_unrefp(DBusMessage **m)
{
        if (*m)
                dbus_message_unref(*m);
}
#define _cleanup_message_ _cleanup_(message_unrefp)

/* --- registry ------------------------------------------------------------------ */

static BusObject *bus_find_object(Bus *bus, const char *path)
{
        for (BusObject *o = bus->objects; o; o = o->next)
                if (strcmp(o->path, path) == 0)
                        return o;
        return NULL;
}

int bus_object_new(Bus *bus, BusObject **ret, const char *path)
{
        if (!dbus_validate_path(path, NULL))
                return -EINVAL;
        if (bus_find_object(bus, path))
                return -EEXIST;
        BusObject *o = calloc(1, sizeof(*o));
        if (!o || !(o->path = strdup(path))) {
                free(o);
                return -ENOMEM;
        }
        o->bus = bus;
        o->next = bus->objects;
        bus->objects = o;
        *ret = o;
        return 0;
}

int bus_object_add_interface(BusObject *o, const BusInterface *iface, void *userdata)
{
        if (o->n_ifaces >= BUS_MAX_INTERFACES)
                return -E2BIG;
        o->ifaces[o->n_ifaces] = iface;
        o->userdata[o->n_ifaces] = userdata;
        o->n_ifaces++;
        return 0;
}

const char *bus_object_get_path(const BusObject *o)
{
        return o->path;
}

static bool object_is_managed(const BusObject *o)
{
        size_t n = strlen(o->bus->manager_path);

        return strncmp(o->path, o->bus->manager_path, n) == 0 && o->path[n] == '/';
}

static int object_iface_index(const BusObject *o, const char *name)
{
        for (size_t i = 0; i < o->n_ifaces; i++)
                if (strcmp(o->ifaces[i]->name, name) == 0)
                        return (int)i;
        return -1;
}

/* --- properties ------------------------------------------------------------------- */

static const BusProperty *iface_find_property(const BusInterface *iface, const char *name)
{
        for (const BusProperty *p = iface->properties; p && p->name; p++)
                if (strcmp(p->name, name) == 0)
                        return p;
        return NULL;
}

static int append_property_value(DBusMessageIter *iter, const BusProperty *p, void *userdata)
{
        DBusMessageIter variant;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, p->signature, &variant))
                return -ENOMEM;
        int r = p->get(&variant, userdata);
        if (r < 0) {
                dbus_message_iter_abandon_container(iter, &variant);
                return r;
        }
        return dbus_message_iter_close_container(iter, &variant) ? 0 : -ENOMEM;
}

static int append_dict_entry(DBusMessageIter *dict, const BusProperty *p, void *userdata)
{
        DBusMessageIter entry;

        if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
            !bus_append_string(&entry, p->name))
                return -ENOMEM;
        int r = append_property_value(&entry, p, userdata);
        if (r < 0) {
                dbus_message_iter_abandon_container(dict, &entry);
                return r;
        }
        return dbus_message_iter_close_container(dict, &entry) ? 0 : -ENOMEM;
}

/* a{sv} of the properties of IFACE in NAMES (NULL: all of them). */
static int append_properties(DBusMessageIter *iter, const BusInterface *iface, void *userdata,
                             const char *const *names)
{
        DBusMessageIter dict;
        int r = 0;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return -ENOMEM;
        for (const BusProperty *p = iface->properties; p && p->name && r >= 0; p++) {
                bool wanted = !names;
                for (size_t i = 0; names && names[i]; i++)
                        wanted = wanted || strcmp(names[i], p->name) == 0;
                if (wanted)
                        r = append_dict_entry(&dict, p, userdata);
        }
        if (r < 0) {
                dbus_message_iter_abandon_container(iter, &dict);
                return r;
        }
        return dbus_message_iter_close_container(iter, &dict) ? 0 : -ENOMEM;
}

/* a{sa{sv}}: every interface of O with its properties. */
static int append_interfaces(DBusMessageIter *iter, const BusObject *o)
{
        DBusMessageIter dict, entry;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sa{sv}}", &dict))
                return -ENOMEM;
        for (size_t i = 0; i < o->n_ifaces; i++) {
                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
                    !bus_append_string(&entry, o->ifaces[i]->name) ||
                    append_properties(&entry, o->ifaces[i], o->userdata[i], NULL) < 0 ||
                    !dbus_message_iter_close_container(&dict, &entry)) {
                        dbus_message_iter_abandon_container(iter, &dict);
                        return -ENOMEM;
                }
        }
        return dbus_message_iter_close_container(iter, &dict) ? 0 : -ENOMEM;
}

/* --- calls ----------------------------------------------------------------------- */

DBusMessage *bus_call_get_message(BusCall *call)
{
        return call->msg;
}

const char *bus_call_get_sender(BusCall *call)
{
        return dbus_message_get_sender(call->msg);
}

Bus *bus_call_get_bus(BusCall *call)
{
        return call->bus;
}

int bus_call_get_uid(BusCall *call, uid_t *ret)
{
        if (!call->caller || call->caller->state != CALLER_KNOWN)
                return -ENODATA;
        *ret = call->caller->uid;
        return 0;
}

int bus_call_error(BusCall *call, int code, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(call->error, sizeof(call->error), format, ap);
        va_end(ap);
        return code;
}

DBusMessage *bus_call_new_reply(BusCall *call)
{
        return dbus_message_new_method_return(call->msg);
}

int bus_call_send_reply(BusCall *call, DBusMessage *reply)
{
        call->replied = true;
        if (dbus_message_get_no_reply(call->msg))
                return 0;
        return bus_send(call->bus, reply);
}

int bus_call_reply(BusCall *call, int first_arg_type, ...)
{
        _cleanup_message_ DBusMessage *reply = bus_call_new_reply(call);
        va_list ap;

        if (!reply)
                return -ENOMEM;
        va_start(ap, first_arg_type);
        dbus_bool_t ok = dbus_message_append_args_valist(reply, first_arg_type, ap);
        va_end(ap);
        if (!ok)
                return -ENOMEM;
        return bus_call_send_reply(call, reply);
}

DBusMessage *bus_call_defer(BusCall *call)
{
        call->deferred = true;
        return dbus_message_ref(call->msg);
}

/* Answer with a standard org.freedesktop.DBus.Error.* name. */
static int call_fail_standard(BusCall *call, const char *name, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static int call_fail_standard(BusCall *call, const char *name, const char *format, ...)
{
        char text[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        call->replied = true;
        if (dbus_message_get_no_reply(call->msg))
                return 0;
        _cleanup_message_ DBusMessage *reply = dbus_message_new_error(
                call->msg, name, dbus_validate_utf8(text, NULL) ? text : "invalid request");
        return reply ? bus_send(call->bus, reply) : -ENOMEM;
}

/*
 * May the caller make this call of class ACCESS (WHAT names it)? 1: go on;
 * 0: refused, and answered; -EAGAIN: nothing done, the caller's uid is needed
 * first (the call waits for it and comes back).
 */
static int call_authorize(BusCall *call, unsigned access, const char *what)
{
        char err[512] = "";

        if (access == BUS_ACCESS_ANYONE)
                return 1;
        if (!call->caller) {
                call->needs_caller = true;
                return -EAGAIN;
        }
        int r = bus_caller_check(call->caller, access, what, err, sizeof(err));
        if (r >= 0)
                return 1;
        call->replied = true;
        log_notice("refused %s on %s to %s: %s", what, dbus_message_get_path(call->msg),
                   call->caller->name ? call->caller->name : "the peer",
                   err[0] ? err : vss_strerror(r));
        bus_send_error(call->bus, call->msg, r, err[0] ? err : NULL);
        return 0;
}

/* The one place where a handler's outcome becomes exactly one reply. */
static void call_finish(BusCall *call, int r)
{
        if (call->replied || call->deferred)
                return;
        if (r >= 0) {
                if (bus_call_reply(call, DBUS_TYPE_INVALID) >= 0)
                        return;
                r = -ENOMEM;
        }
        call->replied = true;
        log_debug("%s on %s failed: %s", dbus_message_get_member(call->msg),
                  dbus_message_get_path(call->msg), call->error[0] ? call->error : vss_strerror(r));
        bus_send_error(call->bus, call->msg, r, call->error[0] ? call->error : NULL);
}

/* --- org.freedesktop.DBus.Properties ------------------------------------------------ */

static int properties_lookup(BusCall *call, BusObject *o, const char *iface_name,
                             const char *prop_name, int *ret_index, const BusProperty **ret_prop)
{
        int i = object_iface_index(o, iface_name);

        if (i < 0)
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_INTERFACE,
                                          "Object %s has no interface %s", o->path, iface_name);
        const BusProperty *p = iface_find_property(o->ifaces[i], prop_name);
        if (!p)
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_PROPERTY,
                                          "Interface %s has no property %s", iface_name,
                                          prop_name);
        *ret_index = i;
        *ret_prop = p;
        return 1;
}

static int properties_get(BusCall *call, BusObject *o)
{
        const char *iface_name, *prop_name;
        const BusProperty *p;
        DBusMessageIter iter;
        int i;

        dbus_message_get_args(call->msg, NULL, DBUS_TYPE_STRING, &iface_name, DBUS_TYPE_STRING,
                              &prop_name, DBUS_TYPE_INVALID);
        if (properties_lookup(call, o, iface_name, prop_name, &i, &p) <= 0)
                return 0;
        _cleanup_message_ DBusMessage *reply = bus_call_new_reply(call);
        if (!reply)
                return -ENOMEM;
        dbus_message_iter_init_append(reply, &iter);
        int r = append_property_value(&iter, p, o->userdata[i]);
        return r < 0 ? r : bus_call_send_reply(call, reply);
}

static int properties_get_all(BusCall *call, BusObject *o)
{
        const char *iface_name;
        DBusMessageIter iter;

        dbus_message_get_args(call->msg, NULL, DBUS_TYPE_STRING, &iface_name, DBUS_TYPE_INVALID);
        int i = object_iface_index(o, iface_name);
        if (i < 0)
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_INTERFACE,
                                          "Object %s has no interface %s", o->path, iface_name);
        _cleanup_message_ DBusMessage *reply = bus_call_new_reply(call);
        if (!reply)
                return -ENOMEM;
        dbus_message_iter_init_append(reply, &iter);
        int r = append_properties(&iter, o->ifaces[i], o->userdata[i], NULL);
        return r < 0 ? r : bus_call_send_reply(call, reply);
}

static int properties_set(BusCall *call, BusObject *o)
{
        const char *iface_name, *prop_name;
        const BusProperty *p;
        DBusMessageIter iter, variant;
        int i;

        dbus_message_iter_init(call->msg, &iter);
        dbus_message_iter_get_basic(&iter, &iface_name);
        dbus_message_iter_next(&iter);
        dbus_message_iter_get_basic(&iter, &prop_name);
        dbus_message_iter_next(&iter);
        if (properties_lookup(call, o, iface_name, prop_name, &i, &p) <= 0)
                return 0;
        if (!p->set)
                return call_fail_standard(call, DBUS_ERROR_PROPERTY_READ_ONLY,
                                          "Property %s of %s is read-only", prop_name, iface_name);
        dbus_message_iter_recurse(&iter, &variant);
        _cleanup_free_ char *sig = dbus_message_iter_get_signature(&variant);
        if (!sig)
                return -ENOMEM;
        if (strcmp(sig, p->signature) != 0)
                return call_fail_standard(call, DBUS_ERROR_INVALID_ARGS,
                                          "Property %s has type '%s', not '%s'", prop_name,
                                          p->signature, sig);
        int r = p->set(call, &variant, o->userdata[i]);
        if (r < 0)
                return r;
        if (p->flags & BUS_PROPERTY_EMITS_CHANGE)
                bus_object_emit_properties_changed(o, o->ifaces[i],
                                                   (const char *const[]){ p->name, NULL });
        return 0;
}

/* --- org.freedesktop.DBus.ObjectManager ---------------------------------------------- */

static int object_manager_get_managed_objects(BusCall *call)
{
        DBusMessageIter iter, dict, entry;
        _cleanup_message_ DBusMessage *reply = bus_call_new_reply(call);

        if (!reply)
                return -ENOMEM;
        dbus_message_iter_init_append(reply, &iter);
        if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{oa{sa{sv}}}", &dict))
                return -ENOMEM;
        for (BusObject *o = call->bus->objects; o; o = o->next) {
                if (!o->published || !object_is_managed(o))
                        continue;
                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
                    !bus_append_object_path(&entry, o->path) || append_interfaces(&entry, o) < 0 ||
                    !dbus_message_iter_close_container(&dict, &entry)) {
                        dbus_message_iter_abandon_container(&iter, &dict);
                        return -ENOMEM;
                }
        }
        if (!dbus_message_iter_close_container(&iter, &dict))
                return -ENOMEM;
        return bus_call_send_reply(call, reply);
}

/* --- org.freedesktop.DBus.Introspectable ----------------------------------------------- */

static void children_free(char **children, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(children[i]);
        free(children);
}

static bool children_contain(char **children, size_t n, const char *name, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(children[i]) == len && strncmp(children[i], name, len) == 0)
                        return true;
        return false;
}

/* The distinct next path elements below PATH (its child nodes), malloc()ed. */
static int collect_children(Bus *bus, const char *path, char ***ret, size_t *ret_n)
{
        size_t n = 0, plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
        char **children = NULL;

        for (BusObject *o = bus->objects; o; o = o->next) {
                if (!o->published || strncmp(o->path, path, plen) != 0 || o->path[plen] != '/')
                        continue;
                const char *start = o->path + plen + 1;
                size_t len = strcspn(start, "/");
                if (children_contain(children, n, start, len))
                        continue;
                char **grown = realloc(children, (n + 1) * sizeof(*children));
                if (!grown || !(grown[n] = strndup(start, len))) {
                        children_free(grown ? grown : children, n);
                        return -ENOMEM;
                }
                children = grown;
                n++;
        }
        *ret = children;
        *ret_n = n;
        return 0;
}

static int introspect(BusCall *call, BusObject *o, const char *path)
{
        _cleanup_free_ char *xml = NULL;
        char **children;
        size_t n;
        int r = collect_children(call->bus, path, &children, &n);

        if (r < 0)
                return r;
        if (!o && n == 0)
                r = call_fail_standard(call, DBUS_ERROR_UNKNOWN_OBJECT, "No object at %s", path);
        else
                r = bus_introspect_xml(&xml, o ? o->ifaces : NULL, o ? o->n_ifaces : 0,
                                       strcmp(path, call->bus->manager_path) == 0,
                                       (const char *const *)children, n);
        children_free(children, n);
        if (r < 0 || !xml)
                return r;
        const char *x = xml;
        return bus_call_reply(call, DBUS_TYPE_STRING, &x, DBUS_TYPE_INVALID);
}

/* --- dispatch --------------------------------------------------------------------- */

static const BusMethod *object_find_method(BusObject *o, const char *iface, const char *member,
                                           void **ret_userdata)
{
        for (size_t i = 0; i < o->n_ifaces; i++) {
                if (iface && strcmp(o->ifaces[i]->name, iface) != 0)
                        continue;
                for (const BusMethod *m = o->ifaces[i]->methods; m && m->name; m++)
                        if (strcmp(m->name, member) == 0) {
                                *ret_userdata = o->userdata[i];
                                return m;
                        }
        }
        return NULL;
}

static bool call_check_signature(BusCall *call, const char *expected)
{
        if (dbus_message_has_signature(call->msg, expected))
                return true;
        call_fail_standard(call, DBUS_ERROR_INVALID_ARGS,
                           "Invalid arguments for %s: expected signature '%s', got '%s'",
                           dbus_message_get_member(call->msg), expected,
                           dbus_message_get_signature(call->msg));
        return false;
}

/* Properties.* and Introspect: standard interfaces served from the tables. */
static int dispatch_standard(BusCall *call, BusObject *o, const char *path, const char *iface,
                             const char *member, bool *handled)
{
        bool manager = strcmp(path, call->bus->manager_path) == 0;

        *handled = true;
        if (strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0 && strcmp(member, "Introspect") == 0)
                return call_check_signature(call, "") ? introspect(call, o, path) : 0;
        if (o && strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0) {
                if (strcmp(member, "Get") == 0)
                        return call_check_signature(call, "ss") ? properties_get(call, o) : 0;
                if (strcmp(member, "GetAll") == 0)
                        return call_check_signature(call, "s") ? properties_get_all(call, o) : 0;
                if (strcmp(member, "Set") == 0) {
                        int r = call_authorize(call, BUS_ACCESS_ROOT, "Properties.Set");
                        if (r <= 0)
                                return r;
                        return call_check_signature(call, "ssv") ? properties_set(call, o) : 0;
                }
        }
        if (manager && strcmp(iface, DBUS_INTERFACE_OBJECT_MANAGER) == 0 &&
            strcmp(member, "GetManagedObjects") == 0)
                return call_check_signature(call, "") ? object_manager_get_managed_objects(call)
                                                      : 0;
        /* An interface the object does have (Introspect says so), a member it does not. */
        if (o && (strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0 ||
                  strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0 ||
                  (manager && strcmp(iface, DBUS_INTERFACE_OBJECT_MANAGER) == 0)))
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_METHOD,
                                          "No method %s on %s of %s", member, iface, path);
        *handled = false;
        return 0;
}

static int dispatch_method(BusCall *call, BusObject *o, const char *iface, const char *member)
{
        void *userdata = NULL;
        char signature[256];

        if (iface && object_iface_index(o, iface) < 0)
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_INTERFACE,
                                          "Object %s has no interface %s", o->path, iface);
        const BusMethod *m = object_find_method(o, iface, member, &userdata);
        if (!m)
                return call_fail_standard(call, DBUS_ERROR_UNKNOWN_METHOD,
                                          "No method %s on %s of %s", member,
                                          iface ? iface : "any interface", o->path);
        int r = call_authorize(call, m->access, m->name);
        if (r <= 0)
                return r;
        if (bus_args_signature(m->in, signature, sizeof(signature)) < 0)
                return -EINVAL;
        if (!call_check_signature(call, signature))
                return 0;
        return m->fn(call, userdata);
}

int bus_dispatch_call(Bus *bus, DBusMessage *msg, BusCaller *caller)
{
        BusCall call = { .bus = bus, .msg = msg, .caller = caller };
        const char *path = dbus_message_get_path(msg);
        const char *iface = dbus_message_get_interface(msg);
        const char *member = dbus_message_get_member(msg);
        bool handled = false;
        int r = 0;

        BusObject *o = bus_find_object(bus, path);
        if (o && !o->published)
                o = NULL;
        if (iface)
                r = dispatch_standard(&call, o, path, iface, member, &handled);
        if (!handled) {
                if (o)
                        r = dispatch_method(&call, o, iface, member);
                else
                        r = call_fail_standard(&call, DBUS_ERROR_UNKNOWN_OBJECT,
                                               "No object at %s", path);
        }
        /* A handler's own -EAGAIN is a failure like any other; only this flag defers. */
        if (call.needs_caller)
                return -EAGAIN;
        call_finish(&call, r);
        return 0;
}

static DBusHandlerResult bus_handle_message(DBusConnection *conn, DBusMessage *msg,
                                            void *userdata)
{
        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        /* Now, or once the caller's uid is known (caller.c). */
        bus_callers_handle(userdata, msg);
        return DBUS_HANDLER_RESULT_HANDLED;
}

int bus_objects_attach(Bus *bus)
{
        static const DBusObjectPathVTable vtable = { .message_function = bus_handle_message };

        if (!dbus_connection_register_fallback(bus->conn, "/", &vtable, bus))
                return -ENOMEM;
        bus->fallback_registered = true;
        return 0;
}

/* --- signals --------------------------------------------------------------------- */

static int emit_interfaces_signal(BusObject *o, bool added)
{
        DBusMessageIter iter, array;
        _cleanup_message_ DBusMessage *sig = dbus_message_new_signal(
                o->bus->manager_path, DBUS_INTERFACE_OBJECT_MANAGER,
                added ? "InterfacesAdded" : "InterfacesRemoved");

        if (!sig)
                return -ENOMEM;
        dbus_message_iter_init_append(sig, &iter);
        if (!bus_append_object_path(&iter, o->path))
                return -ENOMEM;
        if (added)
                return append_interfaces(&iter, o) < 0 ? -ENOMEM : bus_send(o->bus, sig);
        if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s", &array))
                return -ENOMEM;
        for (size_t i = 0; i < o->n_ifaces; i++)
                if (!bus_append_string(&array, o->ifaces[i]->name)) {
                        dbus_message_iter_abandon_container(&iter, &array);
                        return -ENOMEM;
                }
        if (!dbus_message_iter_close_container(&iter, &array))
                return -ENOMEM;
        return bus_send(o->bus, sig);
}

int bus_object_publish(BusObject *o)
{
        if (o->published)
                return 0;
        o->published = true;
        return object_is_managed(o) ? emit_interfaces_signal(o, true) : 0;
}

BusObject *bus_object_free(BusObject *o)
{
        if (!o)
                return NULL;
        if (o->published && object_is_managed(o) && !o->bus->leaving)
                emit_interfaces_signal(o, false);
        for (BusObject **p = &o->bus->objects; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        break;
                }
        free(o->path);
        free(o);
        return NULL;
}

int bus_object_emit_properties_changed(BusObject *o, const BusInterface *iface,
                                       const char *const *names)
{
        DBusMessageIter iter, invalidated;
        int i = object_iface_index(o, iface->name);

        if (i < 0 || !o->published)
                return i < 0 ? -EINVAL : 0;
        _cleanup_message_ DBusMessage *sig =
                dbus_message_new_signal(o->path, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        if (!sig)
                return -ENOMEM;
        dbus_message_iter_init_append(sig, &iter);
        if (!bus_append_string(&iter, iface->name) ||
            append_properties(&iter, iface, o->userdata[i], names) < 0 ||
            !dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s", &invalidated) ||
            !dbus_message_iter_close_container(&iter, &invalidated))
                return -ENOMEM;
        return bus_send(o->bus, sig);
}

int bus_object_emit_signal(BusObject *o, const BusInterface *iface, const char *name,
                           const char *destination, int first_arg_type, ...)
{
        _cleanup_message_ DBusMessage *sig = dbus_message_new_signal(o->path, iface->name, name);
        va_list ap;

        if (!sig || (destination && !dbus_message_set_destination(sig, destination)))
                return -ENOMEM;
        va_start(ap, first_arg_type);
        dbus_bool_t ok = dbus_message_append_args_valist(sig, first_arg_type, ap);
        va_end(ap);
        return ok ? bus_send(o->bus, sig) : -ENOMEM;
}
