/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * client.c: the vss_client object: its bus address, its private libdbus
 * connection (opened lazily, never shared, never exiting the process on
 * disconnect), its timeout, and the last error it saw.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "libvss-private.h"

/*
 * libdbus's own default lives in a private header; this is where every
 * current distribution puts the system bus (/var/run links to /run).
 */
#define SYSTEM_BUS_DEFAULT_ADDRESS "unix:path=/run/dbus/system_bus_socket"

static const char *default_address(void)
{
        /* secure_getenv: a setuid program must not be pointed at another bus. */
        const char *a = secure_getenv("VSS_BUS_ADDRESS");
        if (a && *a)
                return a;
        a = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
        if (a && *a)
                return a;
        return SYSTEM_BUS_DEFAULT_ADDRESS;
}

/* Reject what libdbus could not connect to anyway, before anything else. */
static int check_address(const char *address)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;
        DBusAddressEntry **entries;
        int n;

        if (!*address || !dbus_validate_utf8(address, NULL))
                return -EINVAL;
        if (!dbus_parse_address(address, &entries, &n, &err))
                return dbus_error_has_name(&err, DBUS_ERROR_NO_MEMORY) ? -ENOMEM : -EINVAL;
        dbus_address_entries_free(entries);
        return 0;
}

VSS_EXPORT int vss_client_new(vss_client **ret, const char *address)
{
        if (!ret)
                return -EINVAL;
        if (!address)
                address = default_address();
        int r = check_address(address);
        if (r < 0)
                return r;

        vss_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->address = strdup(address);
        if (!c->address) {
                free(c);
                return -ENOMEM;
        }
        c->n_ref = 1;
        c->timeout_ms = VSS_CLIENT_DEFAULT_TIMEOUT_MS;
        *ret = c;
        return 0;
}

VSS_EXPORT vss_client *vss_client_ref(vss_client *client)
{
        if (client)
                client->n_ref++;
        return client;
}

VSS_EXPORT vss_client *vss_client_unref(vss_client *client)
{
        if (!client || --client->n_ref > 0)
                return NULL;
        if (client->conn) {
                /* A private connection must be closed before its last unref. */
                dbus_connection_close(client->conn);
                dbus_connection_unref(client->conn);
        }
        client_clear_error(client);
        free(client->address);
        free(client);
        return NULL;
}

VSS_EXPORT int vss_client_set_timeout(vss_client *client, uint64_t timeout_ms)
{
        if (!client || timeout_ms > INT_MAX)
                return -EINVAL;
        client->timeout_ms = timeout_ms ? (int)timeout_ms : (int)VSS_CLIENT_DEFAULT_TIMEOUT_MS;
        return 0;
}

VSS_EXPORT uint64_t vss_client_get_timeout(const vss_client *client)
{
        return client ? (uint64_t)client->timeout_ms : 0;
}

VSS_EXPORT const char *vss_client_get_address(const vss_client *client)
{
        return client ? client->address : NULL;
}

VSS_EXPORT const char *vss_client_get_error_message(const vss_client *client)
{
        if (!client || client->error_code == 0)
                return NULL;
        /* Formatting the sentence may have failed for lack of memory. */
        return client->error_message ? client->error_message : vss_strerror(client->error_code);
}

VSS_EXPORT const char *vss_client_get_error_name(const vss_client *client)
{
        return client && client->error_code ? client->error_name : NULL;
}

void client_clear_error(vss_client *client)
{
        free(client->error_name);
        free(client->error_message);
        client->error_name = NULL;
        client->error_message = NULL;
        client->error_code = 0;
}

int client_fail(vss_client *client, int code, const char *name, const char *format, ...)
{
        va_list ap;
        char *message = NULL;

        client_clear_error(client);
        client->error_code = code;
        client->error_name = name ? strdup(name) : NULL;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);
        client->error_message = message;
        return code;
}

int client_oom(vss_client *client)
{
        return client_fail(client, -ENOMEM, NULL, "%s", vss_strerror(-ENOMEM));
}

static int connect_fail(vss_client *client, const DBusError *err)
{
        /* Whatever stopped us (no socket, refused, denied), the bus is out of reach. */
        int code = dbus_error_has_name(err, DBUS_ERROR_NO_MEMORY) ? -ENOMEM : -ENOTCONN;
        return client_fail(client, code, err->name, "cannot connect to the D-Bus bus at %s: %s",
                           client->address, err->message ? err->message : vss_strerror(code));
}

int client_connection(vss_client *client, DBusConnection **ret)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;

        if (client->conn) {
                if (!dbus_connection_get_is_connected(client->conn))
                        return client_fail(client, -ENOTCONN, DBUS_ERROR_DISCONNECTED,
                                           "the connection to the bus at %s was lost; "
                                           "create a new client to reconnect",
                                           client->address);
                *ret = client->conn;
                return 0;
        }

        DBusConnection *conn = dbus_connection_open_private(client->address, &err);
        if (!conn)
                return connect_fail(client, &err);
        /* A library must never take its caller down with the bus. */
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        if (!dbus_bus_register(conn, &err)) {
                dbus_connection_close(conn);
                dbus_connection_unref(conn);
                return connect_fail(client, &err);
        }
        client->conn = conn;
        *ret = conn;
        return 0;
}
