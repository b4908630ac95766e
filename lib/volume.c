/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: enabling a plain block device for snapshots (EnableVolume: the
 * provider wraps it in a volume of its own) and undoing it (DisableVolume).
 */
#include <errno.h>

#include "libvss-private.h"

/*
 * METHOD(s NAME, a{sv} {Provider: PROVIDER}) on the coordinator. WHAT names
 * NAME's kind in messages ("device", "volume").
 */
static int volume_call(vss_client *client, const char *method, const char *what,
                       const char *name, const char *provider, const char *reply_signature,
                       DBusMessage **ret_reply)
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
        if (r < 0)
                return r;

        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, method);
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name) ||
            !objects_append_options(&iter, NULL, NULL, provider))
                return client_oom(client);
        return bus_call(client, m, reply_signature, ret_reply);
}

VSS_EXPORT int vss_client_enable_volume(vss_client *client, const char *device,
                                        const char *provider, char **ret_volume)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !device || !ret_volume)
                return -EINVAL;
        int r = volume_call(client, "EnableVolume", "device", device, provider, "s", &reply);
        if (r < 0)
                return r;
        return objects_reply_string(client, reply, ret_volume);
}

VSS_EXPORT int vss_client_disable_volume(vss_client *client, const char *volume,
                                         const char *provider)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !volume)
                return -EINVAL;
        return volume_call(client, "DisableVolume", "volume", volume, provider, "", &reply);
}
