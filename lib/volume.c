/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: enabling a plain block device for snapshots (EnableVolume: the
 * provider wraps it in a volume of its own, or makes a new volume with its
 * options) and undoing it (DisableVolume); and the options handed to a
 * provider as they are, which storage.c's AddStorage shares.
 */
#include <errno.h>
#include <string.h>

#include "libvss-private.h"

int provider_options_check(vss_client *client, const struct vss_client_option *options,
                           size_t n)
{
        if (n && !options)
                return client_fail(client, -EINVAL, NULL, "%zu options but no array of them", n);
        for (size_t i = 0; i < n; i++) {
                const struct vss_client_option *o = &options[i];
                if (!o->key || !*o->key || !o->value)
                        return client_fail(client, -EINVAL, NULL, "option %zu has no %s", i + 1,
                                           o->key && *o->key ? "value" : "name");
                if (strcmp(o->key, "Provider") == 0)
                        return client_fail(client, -EINVAL, NULL, "name the provider with the "
                                           "provider argument, not an option");
                int r = objects_check_string(client, "option name", o->key);
                if (r >= 0)
                        r = objects_check_string(client, "option value", o->value);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool provider_options_append(DBusMessageIter *iter, const char *provider,
                             const struct vss_client_option *options, size_t n)
{
        DBusMessageIter dict;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return false;
        for (size_t i = 0; i <= n; i++) {
                const char *key = i < n ? options[i].key : "Provider";
                const char *value = i < n ? options[i].value : provider;
                DBusMessageIter entry, variant;
                if (!value)
                        continue;
                if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
                    !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
                    !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &variant) ||
                    !dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &value) ||
                    !dbus_message_iter_close_container(&entry, &variant) ||
                    !dbus_message_iter_close_container(&dict, &entry)) {
                        dbus_message_iter_abandon_container(iter, &dict);
                        return false;
                }
        }
        return dbus_message_iter_close_container(iter, &dict);
}

/*
 * METHOD(s NAME, a{sv} {Provider: PROVIDER, OPTIONS...}) on the coordinator.
 * WHAT names NAME's kind in messages ("device", "volume").
 */
static int volume_call(vss_client *client, const char *method, const char *what,
                       const char *name, const char *provider,
                       const struct vss_client_option *options, size_t n_options,
                       const char *reply_signature, DBusMessage **ret_reply)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        DBusMessageIter iter;

        client_clear_error(client);
        if (!*name)
                return client_fail(client, -EINVAL, NULL, "no %s given to %s", what, method);
        if (provider && !*provider)
                return client_fail(client, -EINVAL, NULL,
                                   "the provider name is empty: name one, or pass NULL for any");
        int r = objects_check_string(client, what, name);
        if (r >= 0 && provider)
                r = objects_check_string(client, "provider name", provider);
        if (r >= 0)
                r = provider_options_check(client, options, n_options);
        if (r < 0)
                return r;

        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, method);
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name) ||
            !provider_options_append(&iter, provider, options, n_options))
                return client_oom(client);
        return bus_call(client, m, reply_signature, ret_reply);
}

VSS_EXPORT int vss_client_enable_volume_with_options(vss_client *client, const char *device,
                                                     const char *provider,
                                                     const struct vss_client_option *options,
                                                     size_t n_options, char **ret_volume)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !device || !ret_volume)
                return -EINVAL;
        int r = volume_call(client, "EnableVolume", "device", device, provider, options,
                            n_options, "s", &reply);
        if (r < 0)
                return r;
        return objects_reply_string(client, reply, ret_volume);
}

VSS_EXPORT int vss_client_enable_volume(vss_client *client, const char *device,
                                        const char *provider, char **ret_volume)
{
        return vss_client_enable_volume_with_options(client, device, provider, NULL, 0,
                                                     ret_volume);
}

VSS_EXPORT int vss_client_disable_volume(vss_client *client, const char *volume,
                                         const char *provider)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !volume)
                return -EINVAL;
        return volume_call(client, "DisableVolume", "volume", volume, provider, NULL, 0, "",
                           &reply);
}
