/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * objects.c: what the files reading vssd's objects share: the property-table
 * parser every object kind uses (strings, numbers, object paths, string
 * arrays, booleans, the (ss) of LastFailure), Properties.GetAll, walking and listing
 * GetManagedObjects; and for the requester side the id <-> object path rule,
 * the options dictionary, and calls without a client-side timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libvss-private.h"

static void *field_at(void *out, size_t offset)
{
        return (char *)out + offset;
}

static int read_strv(vss_client *client, DBusMessageIter *variant, char ***ret)
{
        DBusMessageIter array;
        size_t n = 0;

        dbus_message_iter_recurse(variant, &array);
        for (DBusMessageIter i = array; dbus_message_iter_get_arg_type(&i) == DBUS_TYPE_STRING;
             dbus_message_iter_next(&i))
                n++;
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return client_oom(client);
        for (size_t k = 0; k < n; k++, dbus_message_iter_next(&array)) {
                const char *s;
                dbus_message_iter_get_basic(&array, &s);
                v[k] = strdup(s);
                if (!v[k]) {
                        objects_strv_free(v);
                        return client_oom(client);
                }
        }
        *ret = v;
        return 0;
}

static int replace_string(vss_client *client, char **field, const char *s)
{
        char *copy = strdup(s);
        if (!copy)
                return client_oom(client);
        free(*field);
        *field = copy;
        return 0;
}

/* VARIANT has P's signature (checked). */
static int field_set(vss_client *client, const struct field_spec *p, DBusMessageIter *variant,
                     void *out)
{
        void *field = field_at(out, p->offset);
        const char *s;

        switch (p->signature[0]) {
        case 'b': {
                dbus_bool_t b;
                dbus_message_iter_get_basic(variant, &b);
                *(bool *)field = b;
                return 0;
        }
        case 'u':
                dbus_message_iter_get_basic(variant, (dbus_uint32_t *)field);
                return 0;
        case 't':
                dbus_message_iter_get_basic(variant, (dbus_uint64_t *)field);
                return 0;
        case 'a': {
                char **v = NULL;
                int r = read_strv(client, variant, &v);
                if (r < 0)
                        return r;
                objects_strv_free(*(char ***)field);
                *(char ***)field = v;
                return 0;
        }
        case '(': {
                DBusMessageIter st;
                dbus_message_iter_recurse(variant, &st);
                dbus_message_iter_get_basic(&st, &s);
                int r = replace_string(client, field, s);
                if (r < 0)
                        return r;
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &s);
                return replace_string(client, field_at(out, p->offset2), s);
        }
        default: /* s, o */
                dbus_message_iter_get_basic(variant, &s);
                return replace_string(client, field, s);
        }
}

static int field_check_and_set(vss_client *client, const char *what, const struct field_spec *p,
                               DBusMessageIter *variant, void *out)
{
        char *signature = dbus_message_iter_get_signature(variant);
        if (!signature)
                return client_oom(client);
        bool ok = strcmp(signature, p->signature) == 0;
        int r = ok ? 0
                   : client_fail(client, -EBADMSG, NULL,
                                 "vssd sent property %s of %s as type '%s' where libvss "
                                 "expects '%s'; are vssd and libvss from the same release?",
                                 p->name, what, signature, p->signature);
        dbus_free(signature);
        return ok ? field_set(client, p, variant, out) : r;
}

/* Strings and arrays vssd did not send read as "" and {NULL}: never NULL. */
static int fields_fill_missing(vss_client *client, const struct field_spec *spec, size_t n_spec,
                               void *out)
{
        for (size_t i = 0; i < n_spec; i++) {
                char sig = spec[i].signature[0];
                if (sig == 'a') {
                        char ***v = field_at(out, spec[i].offset);
                        if (!*v && !(*v = calloc(1, sizeof(**v))))
                                return client_oom(client);
                        continue;
                }
                if (sig != 's' && sig != 'o' && sig != '(')
                        continue;
                char **s = field_at(out, spec[i].offset);
                if (!*s && replace_string(client, s, "") < 0)
                        return -ENOMEM;
                s = field_at(out, spec[i].offset2);
                if (sig == '(' && !*s && replace_string(client, s, "") < 0)
                        return -ENOMEM;
        }
        return 0;
}

int objects_fields_parse(vss_client *client, const char *what, DBusMessageIter *iter,
                         const struct field_spec *spec, size_t n_spec, void *out)
{
        DBusMessageIter array;

        if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_ARRAY ||
            dbus_message_iter_get_element_type(iter) != DBUS_TYPE_DICT_ENTRY)
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd sent the properties of %s in an unexpected form", what);

        dbus_message_iter_recurse(iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&array)) {
                DBusMessageIter entry, variant;
                const char *name;

                dbus_message_iter_recurse(&array, &entry);
                dbus_message_iter_get_basic(&entry, &name);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &variant);
                for (size_t i = 0; i < n_spec; i++) {
                        if (strcmp(spec[i].name, name) != 0)
                                continue;
                        int r = field_check_and_set(client, what, &spec[i], &variant, out);
                        if (r < 0)
                                return r;
                        break;
                }
        }
        return fields_fill_missing(client, spec, n_spec, out);
}

void objects_fields_free(const struct field_spec *spec, size_t n_spec, void *out)
{
        for (size_t i = 0; i < n_spec; i++) {
                char sig = spec[i].signature[0];
                if (sig == 'a') {
                        char ***v = field_at(out, spec[i].offset);
                        objects_strv_free(*v);
                        *v = NULL;
                } else if (sig == 's' || sig == 'o' || sig == '(') {
                        char **s = field_at(out, spec[i].offset);
                        free(*s);
                        *s = NULL;
                        if (sig == '(') {
                                s = field_at(out, spec[i].offset2);
                                free(*s);
                                *s = NULL;
                        }
                }
        }
}

int objects_get_all(vss_client *client, const char *path, const char *interface,
                    const char *what, const struct field_spec *spec, size_t n_spec, void *out)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter;

        call = bus_new_call(path, DBUS_INTERFACE_PROPERTIES, "GetAll");
        if (!call || !dbus_message_append_args(call, DBUS_TYPE_STRING, &interface,
                                               DBUS_TYPE_INVALID))
                return client_oom(client);
        int r = bus_call(client, call, "a{sv}", &reply);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &iter);
        return objects_fields_parse(client, what, &iter, spec, n_spec, out);
}

/* ITER points at one object's a{sa{sv}}. */
static int foreach_interface(vss_client *client, const char *object_path, DBusMessageIter *iter,
                             objects_fn fn, void *userdata)
{
        DBusMessageIter ifaces;

        dbus_message_iter_recurse(iter, &ifaces);
        for (; dbus_message_iter_get_arg_type(&ifaces) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&ifaces)) {
                DBusMessageIter entry;
                const char *interface;

                dbus_message_iter_recurse(&ifaces, &entry);
                dbus_message_iter_get_basic(&entry, &interface);
                dbus_message_iter_next(&entry);
                int r = fn(client, object_path, interface, &entry, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int objects_foreach(vss_client *client, objects_fn fn, void *userdata)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter, objects;

        call = bus_new_call(VSS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                            "GetManagedObjects");
        if (!call)
                return client_oom(client);
        int r = bus_call(client, call, "a{oa{sa{sv}}}", &reply);
        if (r < 0)
                return r;

        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &objects);
        for (; dbus_message_iter_get_arg_type(&objects) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&objects)) {
                DBusMessageIter entry;
                const char *object_path;

                dbus_message_iter_recurse(&objects, &entry);
                dbus_message_iter_get_basic(&entry, &object_path);
                dbus_message_iter_next(&entry);
                r = foreach_interface(client, object_path, &entry, fn, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct list_walk {
        objects_item_fn new_item;
        void *userdata;
        void ***list;
        size_t *n;
};

static int list_walk_one(vss_client *client, const char *object_path, const char *interface,
                         DBusMessageIter *props, void *userdata)
{
        struct list_walk *w = userdata;

        /* Room first, so that no item is ever made without a place to go. */
        void **l = realloc(*w->list, (*w->n + 2) * sizeof(*l));
        if (!l)
                return client_oom(client);
        *w->list = l;
        int r = w->new_item(client, object_path, interface, props, w->userdata, &l[*w->n]);
        if (r >= 0 && l[*w->n])
                l[++*w->n] = NULL;
        return r;
}

int objects_list(vss_client *client, objects_item_fn new_item, void *userdata, void ***list,
                 size_t *n)
{
        struct list_walk w = { new_item, userdata, list, n };

        client_clear_error(client);
        *n = 0;
        *list = calloc(1, sizeof(**list));
        if (!*list)
                return client_oom(client);
        return objects_foreach(client, list_walk_one, &w);
}

int objects_list_append(vss_client *client, void ***list, size_t *n, void *item)
{
        void **l = realloc(*list, (*n + 2) * sizeof(*l));
        if (!l)
                return client_oom(client);
        l[(*n)++] = item;
        l[*n] = NULL;
        *list = l;
        return 0;
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int objects_path_to_id(const char *path, const char *kind, char **ret)
{
        size_t root = strlen(VSS_ROOT_PATH), k = strlen(kind);

        if (strncmp(path, VSS_ROOT_PATH, root) != 0 || path[root] != '/' ||
            strncmp(path + root + 1, kind, k) != 0 || path[root + 1 + k] != '/')
                return -EINVAL;
        const char *id = path + root + k + 2;
        if (!*id)
                return -EINVAL;
        char *copy = strdup(id);
        if (!copy)
                return -ENOMEM;
        for (char *c = copy; *c; c++) {
                if (*c == '_')
                        *c = '-';
                else if (!is_alnum(*c)) {
                        free(copy);
                        return -EINVAL;
                }
        }
        *ret = copy;
        return 0;
}

int objects_id_to_path(const char *id, const char *kind, char **ret)
{
        char *path;

        if (!*id)
                return -EINVAL;
        for (const char *c = id; *c; c++)
                if (!is_alnum(*c) && *c != '-')
                        return -EINVAL;
        if (asprintf(&path, VSS_ROOT_PATH "/%s/%s", kind, id) < 0)
                return -ENOMEM;
        for (char *c = path + strlen(path) - strlen(id); *c; c++)
                if (*c == '-')
                        *c = '_';
        *ret = path;
        return 0;
}

int objects_id_path(vss_client *client, const char *id, const char *kind, const char *what,
                    char **ret)
{
        if (!*id)
                return client_fail(client, -EINVAL, NULL, "no %s id given", what);
        int r = objects_id_to_path(id, kind, ret);
        if (r == -ENOMEM)
                return client_oom(client);
        if (r < 0)
                return client_fail(client, -EINVAL, NULL, "'%s' is not a %s id (a UUID)", id,
                                   what);
        return 0;
}

int objects_call_on(vss_client *client, DBusMessage *call, const char *reply_signature,
                    DBusMessage **ret_reply, const char *gone_format, ...)
{
        int r = bus_call(client, call, reply_signature, ret_reply);
        if (r >= 0 || !client_error_is(client, DBUS_ERROR_UNKNOWN_OBJECT))
                return r;

        /* The bus's words name an object path; the caller's name what the user asked for. */
        _cleanup_free_ char *message = NULL;
        va_list ap;
        va_start(ap, gone_format);
        r = vasprintf(&message, gone_format, ap);
        va_end(ap);
        if (r < 0)
                return client_oom(client);
        return client_fail(client, -ENOENT, DBUS_ERROR_UNKNOWN_OBJECT, "%s", message);
}

int objects_reply_string(vss_client *client, DBusMessage *reply, char **ret)
{
        const char *s;

        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID))
                return client_fail(client, -EBADMSG, NULL, "vssd's answer could not be read");
        if (!ret)
                return 0;
        char *copy = strdup(s);
        if (!copy)
                return client_oom(client);
        *ret = copy;
        return 0;
}

void objects_strv_free(char **v)
{
        for (char **s = v; s && *s; s++)
                free(*s);
        free(v);
}

int objects_call_long(vss_client *client, DBusMessage *call, const char *reply_signature,
                      DBusMessage **ret_reply)
{
        int saved = client->timeout_ms;

        client->timeout_ms = DBUS_TIMEOUT_INFINITE;
        int r = bus_call(client, call, reply_signature, ret_reply);
        client->timeout_ms = saved;
        return r;
}

bool objects_append_strv(DBusMessageIter *iter, const char *const *v)
{
        DBusMessageIter array;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s", &array))
                return false;
        for (const char *const *s = v; s && *s; s++)
                if (!dbus_message_iter_append_basic(&array, DBUS_TYPE_STRING, s)) {
                        dbus_message_iter_abandon_container(iter, &array);
                        return false;
                }
        return dbus_message_iter_close_container(iter, &array);
}

/* One {sv} entry whose value has SIGNATURE; VALUE is a string, or a strv for "as". */
static bool append_entry(DBusMessageIter *dict, const char *key, const char *signature,
                         const void *value)
{
        DBusMessageIter entry, variant;

        if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
                return false;
        if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
            !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, signature, &variant)) {
                dbus_message_iter_abandon_container(dict, &entry);
                return false;
        }
        bool ok = signature[0] == 'a'
                          ? objects_append_strv(&variant, value)
                          : dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &value);
        if (!ok || !dbus_message_iter_close_container(&entry, &variant)) {
                dbus_message_iter_abandon_container(&entry, &variant);
                dbus_message_iter_abandon_container(dict, &entry);
                return false;
        }
        return dbus_message_iter_close_container(dict, &entry);
}

bool objects_append_options(DBusMessageIter *iter, const char *context,
                            const char *const *attributes, const char *provider)
{
        DBusMessageIter dict;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return false;
        if ((context && !append_entry(&dict, "Context", "s", context)) ||
            (attributes && !append_entry(&dict, "Attributes", "as", attributes)) ||
            (provider && !append_entry(&dict, "Provider", "s", provider))) {
                dbus_message_iter_abandon_container(iter, &dict);
                return false;
        }
        return dbus_message_iter_close_container(iter, &dict);
}

int objects_check_string(vss_client *client, const char *what, const char *s)
{
        if (!dbus_validate_utf8(s, NULL))
                return client_fail(client, -EINVAL, NULL, "the %s is not valid UTF-8", what);
        return 0;
}

int objects_check_strv(vss_client *client, const char *what, const char *const *v)
{
        for (const char *const *s = v; s && *s; s++) {
                int r = objects_check_string(client, what, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

enum vss_writer_state objects_writer_state(const char *s)
{
        for (int i = VSS_WS_STABLE; i <= VSS_WS_FAILED_AT_BACKUPSHUTDOWN; i++)
                if (strcmp(vss_writer_state_to_string((enum vss_writer_state)i), s) == 0)
                        return (enum vss_writer_state)i;
        return VSS_WS_UNKNOWN;
}

enum vss_writer_failure objects_writer_failure(const char *s)
{
        if (!*s)
                return VSS_WF_NONE;
        for (int i = VSS_WF_NONE; i <= VSS_WF_NONRETRYABLE; i++)
                if (strcmp(vss_writer_failure_to_string((enum vss_writer_failure)i), s) == 0)
                        return (enum vss_writer_failure)i;
        return VSS_WF_NONRETRYABLE;
}
