/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus.c: the one path every libvss call takes to vssd: build the call, send
 * it and wait, turn a D-Bus error into a code and a sentence for the caller,
 * check the reply's signature; and the object path of a provider.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libvss-private.h"

DBusMessage *bus_new_call(const char *path, const char *interface, const char *method)
{
        return dbus_message_new_method_call(VSS_BUS_NAME, path, interface, method);
}

static bool has_prefix(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The code always comes from the one map in common/error.c. The errors the
 * bus sends (not vssd) get a sentence here, because their own messages talk
 * about names and rules; vssd's messages, already written for people, are
 * kept as they are.
 */
static int call_fail(vss_client *client, DBusMessage *call, const DBusError *err)
{
        const char *method = dbus_message_get_member(call);
        const char *name = err->name;
        const char *message = err->message && *err->message ? err->message : NULL;
        int code = vss_error_from_name(name);

        if (has_prefix(name, VSS_ERROR_PREFIX))
                return client_fail(client, code, name, "%s", message ? message : vss_strerror(code));
        /* A NoReply because vssd went away is not a timeout: say so. */
        if (dbus_error_has_name(err, DBUS_ERROR_NO_REPLY) &&
            has_prefix(message, "Message recipient disconnected"))
                return client_fail(client, -ECONNRESET, name,
                                   "vssd left the bus before answering %s; "
                                   "its log says why (journalctl -u vssd)",
                                   method);
        switch (code) {
        case -ECONNREFUSED:
                if (has_prefix(name, "org.freedesktop.DBus.Error.Spawn."))
                        return client_fail(client, code, name,
                                           "vssd could not be started on the bus at %s: %s",
                                           client->address, message ? message : name);
                return client_fail(client, code, name,
                                   "vssd (%s) is not running on the bus at %s", VSS_BUS_NAME,
                                   client->address);
        case -ETIMEDOUT:
                return client_fail(client, code, name, "vssd did not answer %s within %d.%03d s",
                                   method, client->timeout_ms / 1000, client->timeout_ms % 1000);
        case -ENOTCONN:
                return client_fail(client, code, name,
                                   "the connection to the bus at %s was lost", client->address);
        case -EACCES:
                return client_fail(client, code, name,
                                   "the bus policy does not let this user call %s on vssd: %s",
                                   method, message ? message : name);
        default:
                return client_fail(client, code, name, "%s",
                                   message ? message : vss_strerror(code));
        }
}

/* Drop what arrived meanwhile (NameAcquired, ...) so it does not pile up. */
static void drain(DBusConnection *conn)
{
        while (dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
                ;
}

int bus_call(vss_client *client, DBusMessage *call, const char *reply_signature,
             DBusMessage **ret_reply)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;
        DBusConnection *conn;

        client_clear_error(client);
        int r = client_connection(client, &conn);
        if (r < 0)
                return r;

        DBusMessage *reply = dbus_connection_send_with_reply_and_block(conn, call,
                                                                       client->timeout_ms, &err);
        drain(conn);
        if (!reply) {
                if (dbus_error_has_name(&err, DBUS_ERROR_NO_MEMORY))
                        return client_oom(client);
                return call_fail(client, call, &err);
        }
        r = bus_reply_check(client, call, reply, reply_signature);
        if (r < 0) {
                dbus_message_unref(reply);
                return r;
        }
        *ret_reply = reply;
        return 0;
}

int bus_reply_check(vss_client *client, DBusMessage *call, DBusMessage *reply,
                    const char *reply_signature)
{
        if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
                _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;
                dbus_set_error_from_message(&err, reply);
                return call_fail(client, call, &err);
        }
        if (!dbus_message_has_signature(reply, reply_signature))
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd answered %s with arguments '%s' where libvss expects "
                                   "'%s'; are vssd and libvss from the same release?",
                                   dbus_message_get_member(call),
                                   dbus_message_get_signature(reply), reply_signature);
        return 0;
}

int provider_object_path(const char *name, char **ret)
{
        static const char prefix[] = VSS_ROOT_PATH "/provider/";
        static const char hex[] = "0123456789abcdef";

        if (!name || !*name)
                return -EINVAL;
        char *path = malloc(sizeof(prefix) + 3 * strlen(name));
        if (!path)
                return -ENOMEM;
        char *p = stpcpy(path, prefix);
        for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9')) {
                        *p++ = (char)*s;
                        continue;
                }
                *p++ = '_';
                *p++ = hex[*s >> 4];
                *p++ = hex[*s & 15];
        }
        *p = '\0';
        *ret = path;
        return 0;
}
