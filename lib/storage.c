/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage, per provider: ListStorage (one a{sv} per volume,
 * and per storage the provider made), SetStorage, and AddStorage and
 * RemoveStorage (a thin pool) on the provider's object.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "libvss-private.h"

#define ERROR_NOT_SUPPORTED "org.linuxvss.Vss1.Error.NotSupported"

static const struct field_spec storage_fields[] = {
        { "Volume", "s", offsetof(vss_shadow_storage, volume), 0 },
        { "DiffArea", "s", offsetof(vss_shadow_storage, diff_area), 0 },
        { "UsedBytes", "t", offsetof(vss_shadow_storage, used_bytes), 0 },
        { "AllocatedBytes", "t", offsetof(vss_shadow_storage, allocated_bytes), 0 },
        { "MaxSize", "s", offsetof(vss_shadow_storage, max_size), 0 },
        { "MaxBytes", "t", offsetof(vss_shadow_storage, max_bytes), 0 },
        { "Name", "s", offsetof(vss_shadow_storage, name), 0 },
        { "Kind", "s", offsetof(vss_shadow_storage, kind), 0 },
        { "MetadataUsedBytes", "t", offsetof(vss_shadow_storage, metadata_used_bytes), 0 },
        { "MetadataSizeBytes", "t", offsetof(vss_shadow_storage, metadata_size_bytes), 0 },
};

VSS_EXPORT vss_shadow_storage *vss_shadow_storage_free(vss_shadow_storage *storage)
{
        if (!storage)
                return NULL;
        objects_fields_free(storage_fields, ELEMENTSOF(storage_fields), storage);
        free(storage->provider);
        free(storage);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_shadow_storage *, vss_shadow_storage_free);
DEFINE_PUBLIC_LIST_FREE_FUNC(vss_shadow_storage, vss_shadow_storage_list_free,
                             vss_shadow_storage_free);

static int check_provider(vss_client *client, const char *provider)
{
        if (!*provider)
                return client_fail(client, -EINVAL, NULL, "the provider name is empty");
        return objects_check_string(client, "provider name", provider);
}

static int replace_string(char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

/* ListStorage of PROVIDER, appended to *LIST of *N. */
static int list_one(vss_client *client, const char *provider, vss_shadow_storage ***list,
                    size_t *n)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *path = NULL;
        DBusMessageIter iter, array;

        if (provider_object_path(provider, &path) < 0 ||
            !(call = bus_new_call(path, VSS_IFACE_PROVIDER, "ListStorage")))
                return client_oom(client);
        int r = objects_call_on(client, call, "aa{sv}", &reply, "vssd has no provider named '%s'",
                                provider);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_ARRAY;
             dbus_message_iter_next(&array)) {
                _cleanup_(vss_shadow_storage_freep) vss_shadow_storage *s = calloc(1, sizeof(*s));
                if (!s || !(s->provider = strdup(provider)))
                        return client_oom(client);
                r = objects_fields_parse(client, "a shadow storage entry", &array,
                                         storage_fields, ELEMENTSOF(storage_fields), s);
                if (r < 0)
                        return r;
                if (!*s->kind && replace_string(&s->kind, "diff-area") < 0)
                        return client_oom(client); /* a vssd before Kind was reported */
                r = objects_list_append(client, (void ***)list, n, s);
                if (r < 0)
                        return r;
                s = NULL;
        }
        return 0;
}

static int storage_compare(const void *a, const void *b)
{
        const vss_shadow_storage *sa = *(vss_shadow_storage *const *)a;
        const vss_shadow_storage *sb = *(vss_shadow_storage *const *)b;
        int c = strcmp(sa->volume, sb->volume);
        if (!c)
                c = strcmp(sa->name, sb->name);
        return c ? c : strcmp(sa->provider, sb->provider);
}

/* Every provider's, skipping those without shadow storage. */
static int list_all(vss_client *client, vss_shadow_storage ***list, size_t *n)
{
        vss_provider_info **providers = NULL;
        int r = vss_client_list_providers(client, &providers, NULL);

        for (vss_provider_info **p = providers; r >= 0 && p && *p; p++) {
                r = list_one(client, vss_provider_info_get_name(*p), list, n);
                if (r == -EOPNOTSUPP && client_error_is(client, ERROR_NOT_SUPPORTED)) {
                        client_clear_error(client);
                        r = 0;
                }
        }
        vss_provider_info_list_free(providers);
        return r;
}

VSS_EXPORT int vss_client_list_shadow_storage(vss_client *client, const char *provider,
                                              vss_shadow_storage ***ret_storage, size_t *ret_n)
{
        _cleanup_(vss_shadow_storage_list_freep) vss_shadow_storage **list = NULL;
        size_t n = 0;

        if (!client || !ret_storage)
                return -EINVAL;
        client_clear_error(client);
        if (provider && check_provider(client, provider) < 0)
                return -EINVAL;
        list = calloc(1, sizeof(*list));
        if (!list)
                return client_oom(client);
        int r = provider ? list_one(client, provider, &list, &n) : list_all(client, &list, &n);
        if (r < 0)
                return r;
        /* Stable order, whatever order the providers report in. */
        qsort(list, n, sizeof(*list), storage_compare);
        *ret_storage = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* The a{sv} of SetStorage: MaxSize and DiffArea, each only when given. */
static bool append_options(DBusMessageIter *iter, const char *max_size, const char *diff_area)
{
        const char *keys[2] = { "MaxSize", "DiffArea" }, *values[2] = { max_size, diff_area };
        DBusMessageIter dict, entry, variant;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return false;
        for (size_t i = 0; i < 2; i++) {
                if (!values[i])
                        continue;
                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
                    !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[i]) ||
                    !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &variant) ||
                    !dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &values[i]) ||
                    !dbus_message_iter_close_container(&entry, &variant) ||
                    !dbus_message_iter_close_container(&dict, &entry))
                        return false;
        }
        return dbus_message_iter_close_container(iter, &dict);
}

VSS_EXPORT int vss_client_set_shadow_storage(vss_client *client, const char *provider,
                                             const char *volume, const char *max_size,
                                             const char *diff_area)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *path = NULL;
        DBusMessageIter iter;

        if (!client || !provider || !volume)
                return -EINVAL;
        client_clear_error(client);
        if (!max_size && !diff_area)
                return client_fail(client, -EINVAL, NULL,
                                   "give a maximum size, a diff area or both to set");
        if (!*volume)
                return client_fail(client, -EINVAL, NULL, "no volume given");
        int r = check_provider(client, provider);
        if (r >= 0)
                r = objects_check_string(client, "volume", volume);
        if (r >= 0 && max_size)
                r = objects_check_string(client, "maximum size", max_size);
        if (r >= 0 && diff_area)
                r = objects_check_string(client, "diff area", diff_area);
        if (r < 0)
                return r;
        if (provider_object_path(provider, &path) < 0 ||
            !(call = bus_new_call(path, VSS_IFACE_PROVIDER, "SetStorage")))
                return client_oom(client);
        dbus_message_iter_init_append(call, &iter);
        if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &volume) ||
            !append_options(&iter, max_size, diff_area))
                return client_oom(client);
        return objects_call_on(client, call, "", &reply, "vssd has no provider named '%s'",
                               provider);
}

/* ---- storage a provider makes: AddStorage, RemoveStorage -------------------------------- */

/* METHOD(NAME[, OPTIONS]) on PROVIDER's object; ADD: AddStorage (with the a{sv}). */
static int storage_made_call(vss_client *client, const char *provider, bool add,
                             const char *name, const struct vss_client_option *options,
                             size_t n_options)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *path = NULL;
        DBusMessageIter iter;

        if (provider_object_path(provider, &path) < 0 ||
            !(call = bus_new_call(path, VSS_IFACE_PROVIDER, add ? "AddStorage" : "RemoveStorage")))
                return client_oom(client);
        dbus_message_iter_init_append(call, &iter);
        if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name) ||
            (add && !provider_options_append(&iter, NULL, options, n_options)))
                return client_oom(client);
        return objects_call_on(client, call, "", &reply, "vssd has no provider named '%s'",
                               provider);
}

/* The coordinator's Providers: the loaded providers in the order vssd asks them. */
struct provider_order {
        char **names;
};

static const struct field_spec order_fields[] = {
        { "Providers", "as", offsetof(struct provider_order, names), 0 },
};

/*
 * PROVIDER, or each provider in vssd's order until one makes storage (does
 * not answer NotSupported): its answer is final. *RET_PROVIDER: who answered.
 */
static int storage_made(vss_client *client, const char *provider, bool add, const char *name,
                        const struct vss_client_option *options, size_t n_options,
                        char **ret_provider)
{
        struct provider_order order = { NULL };
        const char *taker = provider;

        int r = provider ? storage_made_call(client, provider, add, name, options, n_options)
                         : objects_get_all(client, VSS_ROOT_PATH, VSS_IFACE_COORDINATOR,
                                           "the coordinator", order_fields,
                                           ELEMENTSOF(order_fields), &order);
        for (char **p = order.names; !provider && r >= 0 && p && *p; p++) {
                taker = *p;
                r = storage_made_call(client, *p, add, name, options, n_options);
                if (r != -EOPNOTSUPP || !client_error_is(client, ERROR_NOT_SUPPORTED))
                        break;
                taker = NULL;
                r = 0;
        }
        if (r >= 0 && !taker)
                r = client_fail(client, -EOPNOTSUPP, ERROR_NOT_SUPPORTED,
                                "no loaded provider makes storage of its own (a provider "
                                "such as dm-thin does; 'vssctl list providers' shows those "
                                "loaded)");
        if (r >= 0 && ret_provider && !(*ret_provider = strdup(taker)))
                r = client_oom(client);
        objects_fields_free(order_fields, ELEMENTSOF(order_fields), &order);
        return r;
}

static int storage_made_check(vss_client *client, const char *provider, const char *name)
{
        client_clear_error(client);
        if (!*name)
                return client_fail(client, -EINVAL, NULL, "no storage name given");
        int r = objects_check_string(client, "storage name", name);
        if (r >= 0 && provider)
                r = check_provider(client, provider);
        return r;
}

VSS_EXPORT int vss_client_add_storage(vss_client *client, const char *provider, const char *name,
                                      const struct vss_client_option *options, size_t n_options,
                                      char **ret_provider)
{
        if (!client || !name)
                return -EINVAL;
        int r = storage_made_check(client, provider, name);
        if (r >= 0)
                r = provider_options_check(client, options, n_options);
        if (r < 0)
                return r;
        return storage_made(client, provider, true, name, options, n_options, ret_provider);
}

VSS_EXPORT int vss_client_remove_storage(vss_client *client, const char *provider,
                                         const char *name, char **ret_provider)
{
        if (!client || !name)
                return -EINVAL;
        int r = storage_made_check(client, provider, name);
        if (r < 0)
                return r;
        return storage_made(client, provider, false, name, NULL, 0, ret_provider);
}
