/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider-object.c: /org/linuxvss/Vss1/provider/<name>, interface
 * org.linuxvss.Vss1.Provider: one object per loaded plugin, with its shadow
 * storage (ListStorage, SetStorage) and the storage it makes (AddStorage,
 * RemoveStorage); and the coordinator's EnableVolume and DisableVolume,
 * which run on a provider.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"
#include "daemon/util/log.h"

struct ProviderObject {
        Manager *manager;
        Plugin *plugin;
        BusObject *object;
};

static int get_name(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_string(iter, p->plugin->provider->name) ? 0 : -ENOMEM;
}

static int get_id(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_string(iter, p->plugin->provider->id) ? 0 : -ENOMEM;
}

static int get_version(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_string(iter, p->plugin->provider->version) ? 0 : -ENOMEM;
}

static int get_description(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_string(iter, p->plugin->provider->description) ? 0 : -ENOMEM;
}

static int get_abi_version(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_uint32(iter, p->plugin->provider->abi_version) ? 0 : -ENOMEM;
}

/* The one in force: the plugin's, or vssd.conf's [provider.NAME] priority. */
static int get_priority(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_uint32(iter, p->plugin->priority) ? 0 : -ENOMEM;
}

static int get_path(DBusMessageIter *iter, void *userdata)
{
        ProviderObject *p = userdata;
        return bus_append_string(iter, p->plugin->path) ? 0 : -ENOMEM;
}

/* Asked on the provider thread like every provider op; the loop serves others meanwhile. */
static int method_is_volume_supported(BusCall *call, void *userdata)
{
        ProviderObject *p = userdata;
        CoreProvider *provider = core_provider_find(p->manager->core, p->plugin->provider->name);
        struct vss_error_buf err = { "" };
        const char *volume;

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &volume,
                              DBUS_TYPE_INVALID);
        if (volume[0] != '/')
                return bus_call_error(call, -EINVAL, "volume \"%s\" is not an absolute device "
                                      "path such as /dev/mapper/data", volume);
        if (!provider)
                return bus_call_error(call, -ENOENT, "provider %s is not registered with the "
                                      "coordinator", p->plugin->provider->name);
        Pending *pending = pending_new(call, REPLY_SUPPORTED);
        if (!pending)
                return -ENOMEM;
        return pending_started(pending, call,
                               core_provider_is_volume_supported(p->manager->core, provider,
                                                                 volume, pending, &err),
                               &err);
}

/* --- ListStorage, SetStorage ------------------------------------------------------------- */

/* A ListStorage call waiting for its provider job. */
struct storage_call {
        Bus *bus;
        DBusMessage *request;
};

static bool append_entry(DBusMessageIter *dict, const char *key, int type, const void *value)
{
        DBusMessageIter entry, variant;
        char sig[2] = { (char)type, '\0' };

        if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
            !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, sig, &variant))
                return false;
        bool ok = type == DBUS_TYPE_STRING ? bus_append_string(&variant, value)
                                           : bus_append_uint64(&variant, *(const uint64_t *)value);
        return dbus_message_iter_close_container(&entry, &variant) && ok &&
               dbus_message_iter_close_container(dict, &entry);
}

/* One association as an a{sv}: the names docs/dbus-api.md gives. */
static bool append_storage(DBusMessageIter *array, const struct vss_storage_info *info)
{
        DBusMessageIter dict;

        if (!dbus_message_iter_open_container(array, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return false;
        bool ok = append_entry(&dict, "Volume", DBUS_TYPE_STRING, info->volume) &&
                  append_entry(&dict, "DiffArea", DBUS_TYPE_STRING, info->diff_area) &&
                  append_entry(&dict, "UsedBytes", DBUS_TYPE_UINT64, &info->used_bytes) &&
                  append_entry(&dict, "AllocatedBytes", DBUS_TYPE_UINT64,
                               &info->allocated_bytes) &&
                  append_entry(&dict, "MaxSize", DBUS_TYPE_STRING, info->max_size) &&
                  append_entry(&dict, "MaxBytes", DBUS_TYPE_UINT64, &info->max_bytes) &&
                  append_entry(&dict, "Name", DBUS_TYPE_STRING, info->name) &&
                  append_entry(&dict, "Kind", DBUS_TYPE_STRING, info->kind) &&
                  append_entry(&dict, "MetadataUsedBytes", DBUS_TYPE_UINT64,
                               &info->metadata_used_bytes) &&
                  append_entry(&dict, "MetadataSizeBytes", DBUS_TYPE_UINT64,
                               &info->metadata_size_bytes);
        return dbus_message_iter_close_container(array, &dict) && ok;
}

static DBusMessage *storage_reply_new(DBusMessage *request, const CoreResult *res)
{
        DBusMessage *reply = dbus_message_new_method_return(request);
        DBusMessageIter iter, array;
        bool ok = reply != NULL;

        if (ok) {
                dbus_message_iter_init_append(reply, &iter);
                ok = dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "a{sv}", &array);
        }
        for (size_t i = 0; ok && i < res->n_storage; i++)
                ok = append_storage(&array, &res->storage[i]);
        if (ok)
                ok = dbus_message_iter_close_container(&iter, &array);
        if (!ok && reply) {
                dbus_message_unref(reply);
                reply = NULL;
        }
        return reply;
}

static void storage_listed(void *userdata, const CoreResult *res)
{
        struct storage_call *sc = userdata;

        if (res->r < 0) {
                bus_send_error(sc->bus, sc->request, res->r, res->message);
        } else {
                DBusMessage *reply = storage_reply_new(sc->request, res);
                if (reply)
                        bus_send(sc->bus, reply);
                else
                        bus_send_error(sc->bus, sc->request, -ENOMEM, NULL);
                if (reply)
                        dbus_message_unref(reply);
        }
        dbus_message_unref(sc->request);
        free(sc);
}

static CoreProvider *provider_of(BusCall *call, ProviderObject *p)
{
        CoreProvider *provider = core_provider_find(p->manager->core, p->plugin->provider->name);
        if (!provider)
                bus_call_error(call, -ENOENT, "provider %s is not registered with the "
                               "coordinator", p->plugin->provider->name);
        return provider;
}

/* Asked on the provider thread, in turn with the snapshot work: the provider's own figures. */
static int method_list_storage(BusCall *call, void *userdata)
{
        ProviderObject *p = userdata;
        struct vss_error_buf err = { "" };
        CoreProvider *provider = provider_of(call, p);
        if (!provider)
                return -ENOENT;
        struct storage_call *sc = calloc(1, sizeof(*sc));
        Pending *pending = sc ? pending_new_internal(storage_listed, sc) : NULL;
        if (!pending) {
                free(sc);
                return -ENOMEM;
        }
        sc->bus = bus_call_get_bus(call);
        sc->request = dbus_message_ref(bus_call_get_message(call));
        int r = core_storage_list(p->manager->core, provider, pending, &err);
        if (r < 0) {
                pending_free(pending);
                dbus_message_unref(sc->request);
                free(sc);
                return lifecycle_error(call, r, &err);
        }
        dbus_message_unref(bus_call_defer(call)); /* sc has its own reference */
        return 0;
}

struct storage_options {
        const char *max_size, *diff_area;
};

static int storage_option(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        struct storage_options *o = userdata;
        const char **slot = strcmp(key, "MaxSize") == 0    ? &o->max_size
                          : strcmp(key, "DiffArea") == 0 ? &o->diff_area
                                                         : NULL;
        if (!slot)
                return bus_call_error(call, -EINVAL, "unknown option \"%s\"; SetStorage takes "
                                      "MaxSize and DiffArea", key);
        int r = bus_variant_expect(call, key, value, "s");
        if (r < 0)
                return r;
        dbus_message_iter_get_basic(value, slot);
        if (!**slot)
                return bus_call_error(call, -EINVAL, "option %s is empty; %s", key,
                                      slot == &o->max_size ? "give a size such as 10G, 15%% or "
                                                             "unbounded"
                                                           : "give a directory");
        if (slot == &o->diff_area && o->diff_area[0] != '/')
                return bus_call_error(call, -EINVAL, "DiffArea \"%s\" is not an absolute path",
                                      o->diff_area);
        return 0;
}

/*
 * The arguments (s volume, a{sv} options) of SetStorage and DisableVolume:
 * the volume checked and canonicalized like every volume
 * argument into VOLUME, then each option through OPTION.
 */
static int read_volume_and_options(BusCall *call, char *volume, size_t size, bus_dict_fn option,
                                   void *userdata)
{
        const char *arg;
        DBusMessageIter iter;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        dbus_message_iter_get_basic(&iter, &arg);
        dbus_message_iter_next(&iter);
        int r = lifecycle_volume_arg(call, arg, volume, size);
        return r < 0 ? r : bus_dict_foreach(call, &iter, option, userdata);
}

static int method_set_storage(BusCall *call, void *userdata)
{
        ProviderObject *p = userdata;
        struct vss_error_buf err = { "" };
        struct storage_options o = { NULL, NULL };
        char volume[4096];

        int r = read_volume_and_options(call, volume, sizeof(volume), storage_option, &o);
        if (r < 0)
                return r;
        if (!o.max_size && !o.diff_area)
                return bus_call_error(call, -EINVAL, "SetStorage needs MaxSize, DiffArea or "
                                      "both in its options");
        CoreProvider *provider = provider_of(call, p);
        if (!provider)
                return -ENOENT;
        Pending *pending = pending_new(call, REPLY_EMPTY);
        if (!pending)
                return -ENOMEM;
        return pending_started(pending, call,
                               core_storage_set(p->manager->core, provider, volume, o.max_size,
                                                o.diff_area, pending, &err),
                               &err);
}

/* --- options a provider judges (EnableVolume's, AddStorage's) ------------------------------ */

#define PROVIDER_OPTIONS_MAX 32

/*
 * A call's options as the provider gets them (struct vss_option: the D-Bus
 * name and its string, pointing into the message), and its own Provider
 * option when it takes one. The provider refuses keys it does not know.
 */
struct provider_options {
        bool takes_provider;
        const char *provider;
        struct vss_option items[PROVIDER_OPTIONS_MAX];
        size_t n;
};

static int provider_option(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        struct provider_options *o = userdata;
        int r = bus_variant_expect(call, key, value, "s");
        if (r < 0)
                return r;
        if (o->takes_provider && strcmp(key, "Provider") == 0) {
                dbus_message_iter_get_basic(value, &o->provider);
                return 0;
        }
        for (size_t i = 0; i < o->n; i++)
                if (strcmp(o->items[i].key, key) == 0)
                        return bus_call_error(call, -EINVAL, "option %s is given twice", key);
        if (o->n == PROVIDER_OPTIONS_MAX)
                return bus_call_error(call, -EINVAL, "more than %d options given",
                                      PROVIDER_OPTIONS_MAX);
        o->items[o->n].key = key;
        dbus_message_iter_get_basic(value, &o->items[o->n].value);
        o->n++;
        return 0;
}

/* The arguments (s first, a{sv} options): FIRST, then the options into O. */
static int read_arg_and_options(BusCall *call, const char **first, struct provider_options *o)
{
        DBusMessageIter iter;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        dbus_message_iter_get_basic(&iter, first);
        dbus_message_iter_next(&iter);
        return bus_dict_foreach(call, &iter, provider_option, o);
}

/* --- EnableVolume, DisableVolume --------------------------------------------------------- */

/*
 * EnableVolume's device: a path, canonicalized as every volume argument; or,
 * with options for the provider, the name of a volume it makes (dm-thin's
 * Size), passed as it is.
 */
static int enable_device_arg(BusCall *call, const char *arg, size_t n_options, char *buf,
                             size_t size)
{
        if (arg[0] == '/' || strchr(arg, '/'))
                return lifecycle_volume_arg(call, arg, buf, size);
        if (n_options == 0 || !arg[0])
                return bus_call_error(call, -EINVAL, "\"%s\" is not an absolute device path "
                                      "such as /dev/sdb1; a name alone is for a provider that "
                                      "makes a new volume, with its options (dm-thin: ThinPool "
                                      "and Size)", arg);
        if ((size_t)snprintf(buf, size, "%s", arg) >= size)
                return bus_call_error(call, -EINVAL, "the volume name \"%.64s...\" is too long",
                                      arg);
        return 0;
}

int method_enable_volume(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct vss_error_buf err = { "" };
        struct provider_options o = { .takes_provider = true };
        const char *arg;
        char device[4096];

        int r = read_arg_and_options(call, &arg, &o);
        if (r >= 0)
                r = enable_device_arg(call, arg, o.n, device, sizeof(device));
        if (r < 0)
                return r;
        Pending *p = pending_new(call, REPLY_ID);
        if (!p)
                return -ENOMEM;
        r = core_volume_enable(m->core, device, o.items, o.n, o.provider, p, &err);
        return pending_started(p, call, r, &err);
}

static int disable_option(BusCall *call, const char *key, DBusMessageIter *value,
                          void *userdata)
{
        const char **provider = userdata;

        if (strcmp(key, "Provider") != 0)
                return bus_call_error(call, -EINVAL, "unknown option \"%s\"; DisableVolume "
                                      "takes Provider", key);
        int r = bus_variant_expect(call, key, value, "s");
        if (r >= 0)
                dbus_message_iter_get_basic(value, provider);
        return r;
}

int method_disable_volume(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct vss_error_buf err = { "" };
        const char *provider = NULL;
        char volume[4096];

        int r = read_volume_and_options(call, volume, sizeof(volume), disable_option, &provider);
        if (r < 0)
                return r;
        Pending *p = pending_new(call, REPLY_EMPTY);
        if (!p)
                return -ENOMEM;
        r = core_volume_disable(m->core, volume, provider, p, &err);
        return pending_started(p, call, r, &err);
}

/* --- AddStorage, RemoveStorage ------------------------------------------------------------ */

/* The provider makes storage NAME from the options (dm-thin: a pool from Data, Metadata...). */
static int method_add_storage(BusCall *call, void *userdata)
{
        ProviderObject *p = userdata;
        struct vss_error_buf err = { "" };
        struct provider_options o = { .takes_provider = false };
        const char *name;

        int r = read_arg_and_options(call, &name, &o);
        if (r < 0)
                return r;
        CoreProvider *provider = provider_of(call, p);
        if (!provider)
                return -ENOENT;
        Pending *pending = pending_new(call, REPLY_EMPTY);
        if (!pending)
                return -ENOMEM;
        return pending_started(pending, call,
                               core_storage_add(p->manager->core, provider, name, o.items, o.n,
                                                pending, &err),
                               &err);
}

static int method_remove_storage(BusCall *call, void *userdata)
{
        ProviderObject *p = userdata;
        struct vss_error_buf err = { "" };
        const char *name;

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &name,
                              DBUS_TYPE_INVALID);
        CoreProvider *provider = provider_of(call, p);
        if (!provider)
                return -ENOENT;
        Pending *pending = pending_new(call, REPLY_EMPTY);
        if (!pending)
                return -ENOMEM;
        return pending_started(pending, call,
                               core_storage_remove(p->manager->core, provider, name, pending,
                                                   &err),
                               &err);
}

static const BusInterface provider_interface = {
        .name = VSS_IFACE_PROVIDER,
        .methods = (const BusMethod[]){
                { "IsVolumeSupported", BUS_ARGS({ "volume", "s" }),
                  BUS_ARGS({ "supported", "b" }, { "reason", "s" }), method_is_volume_supported,
                  BUS_ACCESS_ANYONE },
                { "ListStorage", BUS_NO_ARGS, BUS_ARGS({ "storage", "aa{sv}" }),
                  method_list_storage, BUS_ACCESS_ANYONE },
                { "SetStorage", BUS_ARGS({ "volume", "s" }, { "options", "a{sv}" }), BUS_NO_ARGS,
                  method_set_storage, BUS_ACCESS_ROOT },
                { "AddStorage", BUS_ARGS({ "name", "s" }, { "options", "a{sv}" }), BUS_NO_ARGS,
                  method_add_storage, BUS_ACCESS_ROOT },
                { "RemoveStorage", BUS_ARGS({ "name", "s" }), BUS_NO_ARGS,
                  method_remove_storage, BUS_ACCESS_ROOT },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Name", "s", get_name, NULL, BUS_PROPERTY_CONST },
                { "Id", "s", get_id, NULL, BUS_PROPERTY_CONST },
                { "Version", "s", get_version, NULL, BUS_PROPERTY_CONST },
                { "Description", "s", get_description, NULL, BUS_PROPERTY_CONST },
                { "AbiVersion", "u", get_abi_version, NULL, BUS_PROPERTY_CONST },
                { "Path", "s", get_path, NULL, BUS_PROPERTY_CONST },
                { "Priority", "u", get_priority, NULL, BUS_PROPERTY_CONST },
                { NULL } },
        .signals = (const BusSignal[]){ { NULL } },
};

static int provider_object_publish(Manager *m, Plugin *plugin, ProviderObject **ret)
{
        char element[256], path[512];
        ProviderObject *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        p->manager = m;
        p->plugin = plugin;
        r = bus_path_escape(plugin->provider->name, element, sizeof(element));
        if (r >= 0) {
                snprintf(path, sizeof(path), VSS_ROOT_PATH "/provider/%s", element);
                r = bus_object_new(m->bus, &p->object, path);
        }
        if (r >= 0)
                r = bus_object_add_interface(p->object, &provider_interface, p);
        if (r >= 0)
                r = bus_object_publish(p->object);
        if (r < 0) {
                bus_object_free(p->object);
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int provider_objects_publish(Manager *m)
{
        m->provider_objects = calloc(m->plugins.n ? m->plugins.n : 1, sizeof(ProviderObject *));
        if (!m->provider_objects)
                return -ENOMEM;
        for (size_t i = 0; i < m->plugins.n; i++) {
                int r = provider_object_publish(m, m->plugins.items[i],
                                                &m->provider_objects[i]);
                if (r < 0)
                        return log_error_errno(r, "cannot publish provider %s: %s",
                                               m->plugins.items[i]->provider->name,
                                               vss_strerror(r));
                m->n_provider_objects++;
        }
        return 0;
}

void provider_objects_free(Manager *m)
{
        for (size_t i = 0; i < m->n_provider_objects; i++) {
                bus_object_free(m->provider_objects[i]->object);
                free(m->provider_objects[i]);
        }
        free(m->provider_objects);
        m->provider_objects = NULL;
        m->n_provider_objects = 0;
}
