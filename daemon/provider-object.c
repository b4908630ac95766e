/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider-object.c: /org/linuxvss/Vss1/provider/<name>, interface
 * org.linuxvss.Vss1.Provider: one object per loaded plugin; and the
 * coordinator's EnableVolume and DisableVolume, which run on a provider.
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

/* --- EnableVolume, DisableVolume --------------------------------------------------------- */

static int volume_option(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        const char **provider = userdata;

        if (strcmp(key, "Provider") != 0)
                return bus_call_error(call, -EINVAL, "unknown option \"%s\"; %s takes Provider",
                                      key, dbus_message_get_member(bus_call_get_message(call)));
        int r = bus_variant_expect(call, key, value, "s");
        if (r >= 0)
                dbus_message_iter_get_basic(value, provider);
        return r;
}

/* (s device_or_volume, a{sv} options): checked like every volume argument, then the core. */
static int volume_method(BusCall *call, Manager *m, bool enable)
{
        struct vss_error_buf err = { "" };
        const char *arg, *provider = NULL;
        char volume[4096];
        DBusMessageIter iter;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        dbus_message_iter_get_basic(&iter, &arg);
        dbus_message_iter_next(&iter);
        int r = lifecycle_volume_arg(call, arg, volume, sizeof(volume));
        if (r >= 0)
                r = bus_dict_foreach(call, &iter, volume_option, &provider);
        if (r < 0)
                return r;
        Pending *p = pending_new(call, enable ? REPLY_ID : REPLY_EMPTY);
        if (!p)
                return -ENOMEM;
        r = enable ? core_volume_enable(m->core, volume, provider, p, &err)
                   : core_volume_disable(m->core, volume, provider, p, &err);
        return pending_started(p, call, r, &err);
}

int method_enable_volume(BusCall *call, void *userdata)
{
        return volume_method(call, userdata, true);
}

int method_disable_volume(BusCall *call, void *userdata)
{
        return volume_method(call, userdata, false);
}

static const BusInterface provider_interface = {
        .name = VSS_IFACE_PROVIDER,
        .methods = (const BusMethod[]){
                { "IsVolumeSupported", BUS_ARGS({ "volume", "s" }),
                  BUS_ARGS({ "supported", "b" }, { "reason", "s" }), method_is_volume_supported },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Name", "s", get_name, NULL, BUS_PROPERTY_CONST },
                { "Id", "s", get_id, NULL, BUS_PROPERTY_CONST },
                { "Version", "s", get_version, NULL, BUS_PROPERTY_CONST },
                { "Description", "s", get_description, NULL, BUS_PROPERTY_CONST },
                { "AbiVersion", "u", get_abi_version, NULL, BUS_PROPERTY_CONST },
                { "Path", "s", get_path, NULL, BUS_PROPERTY_CONST },
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
