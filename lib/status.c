/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status.c: the coordinator's properties (version, ABI, limits, timeouts,
 * provider directory) read in one Properties.GetAll into a vss_status.
 */
#include <errno.h>
#include <stddef.h>

#include "libvss-private.h"

static const struct prop_spec status_props[] = {
        { "Version", DBUS_TYPE_STRING, offsetof(vss_status, version) },
        { "ProviderAbiVersion", DBUS_TYPE_UINT32, offsetof(vss_status, provider_abi_version) },
        { "MaxVolumesPerSet", DBUS_TYPE_UINT32, offsetof(vss_status, max_volumes_per_set) },
        { "FreezeTimeoutMs", DBUS_TYPE_UINT32, offsetof(vss_status, freeze_timeout_ms) },
        { "HoldTimeoutMs", DBUS_TYPE_UINT32, offsetof(vss_status, hold_timeout_ms) },
        { "ProviderDirectory", DBUS_TYPE_STRING, offsetof(vss_status, provider_directory) },
};

VSS_EXPORT vss_status *vss_status_free(vss_status *status)
{
        if (status) {
                props_free(status_props, ELEMENTSOF(status_props), status);
                free(status);
        }
        return NULL;
}

static inline void vss_status_freep(vss_status **s)
{
        vss_status_free(*s);
}

VSS_EXPORT int vss_client_get_status(vss_client *client, vss_status **ret_status)
{
        if (!client || !ret_status)
                return -EINVAL;

        _cleanup_(vss_status_freep) vss_status *status = calloc(1, sizeof(*status));
        if (!status)
                return client_oom(client);
        int r = bus_get_all(client, VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "the coordinator",
                            status_props, ELEMENTSOF(status_props), status);
        if (r < 0)
                return r;
        *ret_status = TAKE_PTR(status);
        return 0;
}
