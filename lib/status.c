/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status.c: the coordinator itself: its properties (version, ABI, limits,
 * timeouts, monitor interval, provider directory) read in one
 * Properties.GetAll into a vss_status, and Recover.
 */
#include <errno.h>
#include <stddef.h>

#include "libvss-private.h"

static const struct field_spec status_fields[] = {
        { "Version", "s", offsetof(vss_status, version), 0 },
        { "ProviderAbiVersion", "u", offsetof(vss_status, provider_abi_version), 0 },
        { "MaxVolumesPerSet", "u", offsetof(vss_status, max_volumes_per_set), 0 },
        { "FreezeTimeoutMs", "u", offsetof(vss_status, freeze_timeout_ms), 0 },
        { "HoldTimeoutMs", "u", offsetof(vss_status, hold_timeout_ms), 0 },
        { "ProviderDirectory", "s", offsetof(vss_status, provider_directory), 0 },
        { "EventTimeoutMs", "u", offsetof(vss_status, event_timeout_ms), 0 },
        { "MonitorIntervalMs", "u", offsetof(vss_status, monitor_interval_ms), 0 },
};

VSS_EXPORT vss_status *vss_status_free(vss_status *status)
{
        if (status) {
                objects_fields_free(status_fields, ELEMENTSOF(status_fields), status);
                free(status);
        }
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_status *, vss_status_free);

VSS_EXPORT int vss_client_get_status(vss_client *client, vss_status **ret_status)
{
        if (!client || !ret_status)
                return -EINVAL;

        _cleanup_(vss_status_freep) vss_status *status = calloc(1, sizeof(*status));
        if (!status)
                return client_oom(client);
        int r = objects_get_all(client, VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "the coordinator",
                                status_fields, ELEMENTSOF(status_fields), status);
        if (r < 0)
                return r;
        *ret_status = TAKE_PTR(status);
        return 0;
}

VSS_EXPORT int vss_client_recover(vss_client *client, unsigned *ret_fixed)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        dbus_uint32_t fixed = 0;

        if (!client)
                return -EINVAL;
        client_clear_error(client);
        call = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "Recover");
        if (!call)
                return client_oom(client);
        int r = bus_call(client, call, "u", &reply);
        if (r < 0)
                return r;
        dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &fixed, DBUS_TYPE_INVALID);
        if (ret_fixed)
                *ret_fixed = fixed;
        return 0;
}
