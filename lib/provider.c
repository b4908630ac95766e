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
        uint32_t priority;
};

static const struct field_spec provider_fields[] = {
        { "Name", "s", offsetof(vss_provider_info, name), 0 },
        { "Id", "s", offsetof(vss_provider_info, id), 0 },
        { "Version", "s", offsetof(vss_provider_info, version), 0 },
        { "Description", "s", offsetof(vss_provider_info, description), 0 },
        { "AbiVersion", "u", offsetof(vss_provider_info, abi_version), 0 },
        { "Path", "s", offsetof(vss_provider_info, path), 0 },
        { "Priority", "u", offsetof(vss_provider_info, priority), 0 },
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
        objects_fields_free(provider_fields, ELEMENTSOF(provider_fields), provider);
        free(provider->object_path);
        free(provider);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_provider_info *, vss_provider_info_unref);
DEFINE_PUBLIC_LIST_FREE_FUNC(vss_provider_info, vss_provider_info_list_free,
                             vss_provider_info_unref);

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

VSS_EXPORT uint32_t vss_provider_info_get_priority(const vss_provider_info *provider)
{
        return provider ? provider->priority : 0;
}

VSS_EXPORT const char *vss_provider_info_get_object_path(const vss_provider_info *provider)
{
        return provider ? provider->object_path : NULL;
}

/* An objects_item_fn: a vss_provider_info from each Provider interface. */
static int provider_info_new(vss_client *client, const char *object_path, const char *interface,
                             DBusMessageIter *props, void *userdata, void **ret)
{
        if (strcmp(interface, VSS_IFACE_PROVIDER) != 0)
                return 0;
        _cleanup_(vss_provider_info_unrefp) vss_provider_info *p = calloc(1, sizeof(*p));
        if (!p)
                return client_oom(client);
        p->n_ref = 1;
        p->object_path = strdup(object_path);
        if (!p->object_path)
                return client_oom(client);
        int r = objects_fields_parse(client, object_path, props, provider_fields,
                                     ELEMENTSOF(provider_fields), p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
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
        _cleanup_(vss_provider_info_list_freep) vss_provider_info **list = NULL;
        size_t n;

        if (!client || !ret_providers)
                return -EINVAL;
        int r = objects_list(client, provider_info_new, NULL, (void ***)&list, &n);
        if (r < 0)
                return r;
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
        r = objects_call_on(client, call, "bs", &reply, "vssd has no provider named '%s'",
                            provider_name);
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
