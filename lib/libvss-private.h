/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvss-private.h: what the files of libvss share and no client sees: the
 * client structure, the call helper over libdbus, the property-table parser,
 * the GetManagedObjects walker and cleanup helpers. Nothing here is exported
 * (lib/libvss.sym decides).
 */
#ifndef VSS_LIBVSS_PRIVATE_H
#define VSS_LIBVSS_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* FUNCp(TYPE *p): FUNC(*p) unless NULL, a _cleanup_ helper for FUNC (as systemd's). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                             \
        static inline void func##p(type *p)                                                  \
        {                                                                                    \
                if (*p)                                                                      \
                        func(*p);                                                            \
        }

/*
 * The exported NAME: free a NULL-terminated array of TYPE * (NULL is fine)
 * with FREE_ONE on each entry, return NULL; and its _cleanup_ helper NAMEp.
 */
#define DEFINE_PUBLIC_LIST_FREE_FUNC(type, name, free_one)                                  \
        VSS_EXPORT type **name(type **list)                                                  \
        {                                                                                    \
                for (type **p = list; p && *p; p++)                                          \
                        free_one(*p);                                                        \
                free(list);                                                                  \
                return NULL;                                                                 \
        }                                                                                    \
        DEFINE_TRIVIAL_CLEANUP_FUNC(type **, name)

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

DEFINE_TRIVIAL_CLEANUP_FUNC(DBusMessage *, dbus_message_unref);

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

/* Whether the client's last failure was the D-Bus error NAME. */
static inline bool client_error_is(const vss_client *client, const char *name)
{
        return client->error_name && strcmp(client->error_name, name) == 0;
}

/* The client's private connection, opened on first use. */
int client_connection(vss_client *client, DBusConnection **ret);

/*
 * Send CALL to vssd, wait for the reply (the client's timeout), and check it
 * has signature REPLY_SIGNATURE. Clears the client's last error first and
 * records the new one on failure. Takes no ownership of CALL.
 */
int bus_call(vss_client *client, DBusMessage *call, const char *reply_signature,
             DBusMessage **ret_reply);
/*
 * REPLY (to CALL) as bus_call() takes it: an error recorded on CLIENT with
 * its sentence, or a signature other than REPLY_SIGNATURE refused; else 0.
 */
int bus_reply_check(vss_client *client, DBusMessage *call, DBusMessage *reply,
                    const char *reply_signature);

/* A new method call to vssd; NULL on lack of memory. */
DBusMessage *bus_new_call(const char *path, const char *interface, const char *method);

/* Object path of provider NAME: every byte outside [A-Za-z0-9] becomes _xx. */
int provider_object_path(const char *name, char **ret);

/* ---- lib/objects.c: what the files reading vssd's objects share ----------------------- */

/*
 * One property a field table maps into a C structure, by D-Bus signature:
 * "s" and "o" into char *, "u" into uint32_t, "t" into uint64_t, "as" into a
 * NULL-terminated char **, "(ss)" into two char * (OFFSET and OFFSET2).
 */
struct field_spec {
        const char *name;
        const char *signature;
        size_t offset;
        size_t offset2;
};

/*
 * Fill OUT from an a{sv} (ITER points at the array) following SPEC: unknown
 * properties are skipped, so a newer vssd still works; missing strings read
 * "", missing arrays empty, missing numbers keep OUT's value. WHAT names the
 * object in messages.
 */
int objects_fields_parse(vss_client *client, const char *what, DBusMessageIter *iter,
                         const struct field_spec *spec, size_t n_spec, void *out);
/* Free what SPEC describes in OUT. */
void objects_fields_free(const struct field_spec *spec, size_t n_spec, void *out);

/* Properties.GetAll(INTERFACE) on PATH, parsed into OUT by objects_fields_parse(). */
int objects_get_all(vss_client *client, const char *path, const char *interface,
                    const char *what, const struct field_spec *spec, size_t n_spec, void *out);

/*
 * ObjectManager.GetManagedObjects on the root, then FN once per interface of
 * every object, PROPS pointing at that interface's a{sv}. FN returns 0 or a
 * negative code (recorded with client_fail()), which stops the walk.
 */
typedef int (*objects_fn)(vss_client *client, const char *object_path, const char *interface,
                          DBusMessageIter *props, void *userdata);
int objects_foreach(vss_client *client, objects_fn fn, void *userdata);

/*
 * Make a new item in *RET from the a{sv} PROPS of INTERFACE on OBJECT_PATH,
 * or leave *RET NULL to skip that one (another interface, filtered out).
 */
typedef int (*objects_item_fn)(vss_client *client, const char *object_path,
                               const char *interface, DBusMessageIter *props, void *userdata,
                               void **ret);
/*
 * objects_foreach() collecting what NEW_ITEM makes into *LIST, a new
 * NULL-terminated array of *N items (allocated even when empty). Clears the
 * client's last error first. *LIST and *N are set on failure too: the caller
 * frees the list either way.
 */
int objects_list(vss_client *client, objects_item_fn new_item, void *userdata, void ***list,
                 size_t *n);

/* Append ITEM to the NULL-terminated *LIST of *N; on failure ITEM stays the caller's. */
int objects_list_append(vss_client *client, void ***list, size_t *n, void *item);

/* "/org/linuxvss/Vss1/<kind>/<id with _>" <-> the id (UUID): -EINVAL when not one. */
int objects_path_to_id(const char *path, const char *kind, char **ret);
int objects_id_to_path(const char *id, const char *kind, char **ret);

/* objects_id_to_path() for an id the caller gave: client_fail(-EINVAL) naming WHAT when bad. */
int objects_id_path(vss_client *client, const char *id, const char *kind, const char *what,
                    char **ret);

/*
 * bus_call() on one of vssd's objects, where UnknownObject means the thing
 * the caller named is gone: -ENOENT with the sentence GONE_FORMAT instead of
 * the bus's words about object paths.
 */
int objects_call_on(vss_client *client, DBusMessage *call, const char *reply_signature,
                    DBusMessage **ret_reply, const char *gone_format, ...)
        __attribute__((format(printf, 5, 6)));

/* Copy the one string of REPLY (checked by bus_call()) to *RET (may be NULL). */
int objects_reply_string(vss_client *client, DBusMessage *reply, char **ret);

void objects_strv_free(char **v);

/* bus_call() without a client-side timeout, for the calls vssd bounds itself. */
int objects_call_long(vss_client *client, DBusMessage *call, const char *reply_signature,
                      DBusMessage **ret_reply);

/* Append an "as" from a NULL-terminated list (NULL: empty); false on lack of memory. */
bool objects_append_strv(DBusMessageIter *iter, const char *const *v);
/*
 * Append the a{sv} of StartBackup and CreateSnapshotSet: Context,
 * Attributes and Provider, each only when not NULL;
 * false on lack of memory.
 */
bool objects_append_options(DBusMessageIter *iter, const char *context,
                            const char *const *attributes, const char *provider);
/* lib/volume.c: OPTIONS for a provider checked (keys non-empty, not "Provider", UTF-8). */
int provider_options_check(vss_client *client, const struct vss_client_option *options,
                           size_t n);
/* The a{sv} of Provider (when not NULL) and OPTIONS, strings; false on lack of memory. */
bool provider_options_append(DBusMessageIter *iter, const char *provider,
                             const struct vss_client_option *options, size_t n);
/* Check a caller's string list is valid UTF-8: 0 or client_fail(-EINVAL) naming WHAT. */
int objects_check_strv(vss_client *client, const char *what, const char *const *v);
int objects_check_string(vss_client *client, const char *what, const char *s);

/* The enum of a writer state or failure name as vssd sends it (VSS_WS_UNKNOWN, NONRETRYABLE). */
enum vss_writer_state objects_writer_state(const char *s);
enum vss_writer_failure objects_writer_failure(const char *s);

/* ---- lib/snapshots.c ------------------------------------------------------------------- */

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_snapshot_info *, vss_snapshot_info_free);

/* Fill SNAPSHOT from the a{sv} PROPS of its Snapshot interface (all or only changed ones). */
int snapshot_info_update(vss_client *client, const char *object_path, DBusMessageIter *props,
                         vss_snapshot_info *snapshot);
/* The snapshot at OBJECT_PATH, by Properties.GetAll. */
int snapshot_info_get(vss_client *client, const char *object_path, vss_snapshot_info **ret);

#endif
