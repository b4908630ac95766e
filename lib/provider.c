/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider.c: the providers vssd has loaded, as vss_provider_info objects
 * built from ObjectManager.GetManagedObjects, and the per-provider question
 * IsVolumeSupported.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "libvss-private.h"

struct vss_provider_info {
        unsigned n_ref;
        char *object_path;
        char *name;
        char *id;
        char *version;
        char *description;
        char *path;
        uint32_t abi_version;
};

static const struct prop_spec provider_props[] = {
        { "Name", DBUS_TYPE_STRING, offsetof(vss_provider_info, name) },
        { "Id", DBUS_TYPE_STRING, offsetof(vss_provider_info, id) },
        { "Version", DBUS_TYPE_STRING, offsetof(vss_provider_info, version) },
        { "Description", DBUS_TYPE_STRING, offsetof(vss_provider_info, description) },
        { "AbiVersion", DBUS_TYPE_UINT32, offsetof(vss_provider_info, abi_version) },
        { "Path", DBUS_TYPE_STRING, offsetof(vss_provider_info, path) },
};

VSS_EXPORT vss_provider_info *vss_provider_info_ref(vss_provider_info *provider)
{
        if (provider)
                provider->n_ref++;
        return provider;
}

VSS_EXPORT vss_provider_info *vss_provider_info_unref(vss_provider_info *provider)
{
        if (!provider || --provider->n_ref > 0)
                return NULL;
        props_free(provider_props, ELEMENTSOF(provider_props), provider);
        free(provider->object_path);
        free(provider);
        return NULL;
}

static inline void vss_provider_info_unrefp(vss_provider_info **p)
{
        vss_provider_info_unref(*p);
}

VSS_EXPORT vss_provider_info **vss_provider_info_list_free(vss_provider_info **providers)
{
        for (vss_provider_info **p = providers; p && *p; p++)
                vss_provider_info_unref(*p);
        free(providers);
        return NULL;
}

static inline void vss_provider_info_list_freep(vss_provider_info ***l)
{
        vss_provider_info_list_free(*l);
}

VSS_EXPORT const char *vss_provider_info_get_name(const vss_provider_info *provider)
{
        return provider ? provider->name : NULL;
}

VSS_EXPORT const char *vss_provider_info_get_id(const vss_provider_info *provider)
{
        return provider ? provider->id : NULL;
}

VSS_EXPORT const char *vss_provider_info_get_version(const vss_provider_info *provider)
{
        return provider ? provider->version : NULL;
}

VSS_EXPORT const char *vss_provider_info_get_description(const vss_provider_info *provider)
{
        return provider ? provider->description : NULL;
}

VSS_EXPORT uint32_t vss_provider_info_get_abi_version(const vss_provider_info *provider)
{
        return provider ? provider->abi_version : 0;
}

VSS_EXPORT const char *vss_provider_info_get_path(const vss_provider_info *provider)
{
        return provider ? provider->path : NULL;
}

VSS_EXPORT const char *vss_provider_info_get_object_path(const vss_provider_info *provider)
{
        return provider ? provider->object_path : NULL;
}

/* ITER points at the a{sv} of the Provider interface of OBJECT_PATH. */
static int provider_info_new(vss_client *client, const char *object_path, DBusMessageIter *iter,
                             vss_provider_info **ret)
{
        _cleanup_(vss_provider_info_unrefp) vss_provider_info *p = calloc(1, sizeof(*p));
        if (!p)
                return client_oom(client);
        p->n_ref = 1;
        p->object_path = strdup(object_path);
        if (!p->object_path)
                return client_oom(client);
        int r = props_parse(client, object_path, iter, provider_props,
                            ELEMENTSOF(provider_props), p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Append P to the NULL-terminated *LIST of *N entries; takes P either way. */
static int list_append(vss_client *client, vss_provider_info ***list, size_t *n,
                       vss_provider_info *p)
{
        vss_provider_info **l = realloc(*list, (*n + 2) * sizeof(*l));
        if (!l) {
                vss_provider_info_unref(p);
                return client_oom(client);
        }
        l[(*n)++] = p;
        l[*n] = NULL;
        *list = l;
        return 0;
}

/* ITER points at one object's a{sa{sv}}: keep it if it is a provider. */
static int parse_object(vss_client *client, const char *object_path, DBusMessageIter *iter,
                        vss_provider_info ***list, size_t *n)
{
        DBusMessageIter ifaces;

        dbus_message_iter_recurse(iter, &ifaces);
        for (; dbus_message_iter_get_arg_type(&ifaces) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&ifaces)) {
                DBusMessageIter entry;
                const char *interface;
                vss_provider_info *p = NULL;

                dbus_message_iter_recurse(&ifaces, &entry);
                dbus_message_iter_get_basic(&entry, &interface);
                if (strcmp(interface, VSS_IFACE_PROVIDER) != 0)
                        continue;
                dbus_message_iter_next(&entry);
                int r = provider_info_new(client, object_path, &entry, &p);
                if (r < 0)
                        return r;
                return list_append(client, list, n, p);
        }
        return 0;
}

static int provider_compare(const void *a, const void *b)
{
        const vss_provider_info *pa = *(vss_provider_info *const *)a;
        const vss_provider_info *pb = *(vss_provider_info *const *)b;
        int c = strcmp(pa->name, pb->name);
        return c ? c : strcmp(pa->object_path, pb->object_path);
}

VSS_EXPORT int vss_client_list_providers(vss_client *client, vss_provider_info ***ret_providers,
                                         size_t *ret_n)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_(vss_provider_info_list_freep) vss_provider_info **list = NULL;
        DBusMessageIter iter, objects;
        size_t n = 0;

        if (!client || !ret_providers)
                return -EINVAL;
        call = bus_new_call(VSS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                            "GetManagedObjects");
        if (!call)
                return client_oom(client);
        int r = bus_call(client, call, "a{oa{sa{sv}}}", &reply);
        if (r < 0)
                return r;

        /* An empty list is still an allocated, NULL-terminated array. */
        list = calloc(1, sizeof(*list));
        if (!list)
                return client_oom(client);
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &objects);
        for (; dbus_message_iter_get_arg_type(&objects) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&objects)) {
                DBusMessageIter entry;
                const char *object_path;

                dbus_message_iter_recurse(&objects, &entry);
                dbus_message_iter_get_basic(&entry, &object_path);
                dbus_message_iter_next(&entry);
                r = parse_object(client, object_path, &entry, &list, &n);
                if (r < 0)
                        return r;
        }
        /* Stable order, whatever order vssd keeps its objects in. */
        qsort(list, n, sizeof(*list), provider_compare);
        *ret_providers = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return 0;
}

static int check_volume_args(vss_client *client, const char *provider_name, const char *volume)
{
        if (!*provider_name || !dbus_validate_utf8(provider_name, NULL))
                return client_fail(client, -EINVAL, NULL,
                                   "the provider name is empty or not valid UTF-8");
        if (!dbus_validate_utf8(volume, NULL))
                return client_fail(client, -EINVAL, NULL,
                                   "the volume name is not valid UTF-8; name the device by "
                                   "another path (e.g. under /dev/disk/by-id)");
        return 0;
}

VSS_EXPORT int vss_client_is_volume_supported(vss_client *client, const char *provider_name,
                                              const char *volume, bool *ret_supported,
                                              char **ret_reason)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *path = NULL;
        dbus_bool_t supported;
        const char *reason;

        if (!client || !provider_name || !volume || !ret_supported)
                return -EINVAL;
        client_clear_error(client);
        int r = check_volume_args(client, provider_name, volume);
        if (r < 0)
                return r;
        r = provider_object_path(provider_name, &path);
        if (r < 0)
                return client_oom(client);

        call = bus_new_call(path, VSS_IFACE_PROVIDER, "IsVolumeSupported");
        if (!call || !dbus_message_append_args(call, DBUS_TYPE_STRING, &volume, DBUS_TYPE_INVALID))
                return client_oom(client);
        r = bus_call(client, call, "bs", &reply);
        /* Here an unknown object can only mean one thing. */
        if (r < 0 && client->error_name &&
            strcmp(client->error_name, DBUS_ERROR_UNKNOWN_OBJECT) == 0)
                return client_fail(client, -ENOENT, DBUS_ERROR_UNKNOWN_OBJECT,
                                   "vssd has no provider named '%s'", provider_name);
        if (r < 0)
                return r;

        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &supported, DBUS_TYPE_STRING,
                                   &reason, DBUS_TYPE_INVALID))
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd's answer to IsVolumeSupported could not be read");
        if (ret_reason) {
                char *copy = strdup(reason);
                if (!copy)
                        return client_oom(client);
                *ret_reason = copy;
        }
        *ret_supported = supported;
        return 0;
}
