/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvss-private.h: what the files of libvss share and no client sees: the
 * client structure, the call helper over libdbus, the property-table parser
 * and cleanup helpers. Nothing here is exported (lib/libvss.sym decides).
 */
#ifndef VSS_LIBVSS_PRIVATE_H
#define VSS_LIBVSS_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include <dbus/dbus.h>

#include <vss/requester.h>

/* The library is built with -fvisibility=hidden; this marks its API. */
#ifndef VSS_EXPORT
#define VSS_EXPORT __attribute__((visibility("default")))
#endif

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Hand ownership out of a _cleanup_ variable: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                                                                         \
        ({                                                                                   \
                __typeof__(p) _taken = (p);                                                  \
                (p) = NULL;                                                                  \
                _taken;                                                                      \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void dbus_message_unrefp(DBusMessage **m)
{
        if (*m)
                dbus_message_unref(*m);
}

static inline void dbus_error_freep(DBusError *e)
{
        dbus_error_free(e);
}

struct vss_client {
        unsigned n_ref;
        char *address;
        DBusConnection *conn; /* NULL until the first call */
        int timeout_ms;
        /* The last failure, for vss_client_get_error_message(). */
        int error_code;
        char *error_name;
        char *error_message;
};

/*
 * Record a failure on CLIENT and return CODE (negative), so that callers can
 * write "return client_fail(c, -EINVAL, NULL, "...")". NAME is the D-Bus
 * error name when one was received.
 */
int client_fail(vss_client *client, int code, const char *name, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
void client_clear_error(vss_client *client);
/* client_fail() for lack of memory. */
int client_oom(vss_client *client);

/* The client's private connection, opened on first use. */
int client_connection(vss_client *client, DBusConnection **ret);

/*
 * Send CALL to vssd, wait for the reply (the client's timeout), and check it
 * has signature REPLY_SIGNATURE. Clears the client's last error first and
 * records the new one on failure. Takes no ownership of CALL.
 */
int bus_call(vss_client *client, DBusMessage *call, const char *reply_signature,
             DBusMessage **ret_reply);

/* A new method call to vssd; NULL on lack of memory. */
DBusMessage *bus_new_call(const char *path, const char *interface, const char *method);

/* One property a table maps into a C structure. */
struct prop_spec {
        const char *name;
        int type; /* DBUS_TYPE_STRING (into char *) or DBUS_TYPE_UINT32 */
        size_t offset;
};

/*
 * Fill OUT from an a{sv} dictionary (ITER points at the array) following
 * SPEC; unknown properties are skipped, so a newer vssd still works. Strings
 * missing from the dictionary are set to "".
 */
int props_parse(vss_client *client, const char *what, DBusMessageIter *iter,
                const struct prop_spec *spec, size_t n_spec, void *out);
/* Free the strings SPEC describes in OUT. */
void props_free(const struct prop_spec *spec, size_t n_spec, void *out);

/* Properties.GetAll(INTERFACE) on PATH, parsed into OUT by props_parse(). */
int bus_get_all(vss_client *client, const char *path, const char *interface, const char *what,
                const struct prop_spec *spec, size_t n_spec, void *out);

/* Object path of provider NAME: every byte outside [A-Za-z0-9] becomes _xx. */
int provider_object_path(const char *name, char **ret);

#endif
