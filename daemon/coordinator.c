/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * coordinator.c: the root object /org/linuxvss/Vss1, interface
 * org.linuxvss.Vss1: the daemon's version, limits and timeouts, and the
 * table of its methods (implemented in the file of the kind each deals with).
 */
#include <errno.h>

#include <vss/provider.h>
#include <vss/vss.h>

#include "daemon/lifecycle.h"
#include "daemon/recover.h"
#include "daemon/util/cleanup.h"
#include "daemon/util/log.h"

static int get_version(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, VSS_VERSION) ? 0 : -ENOMEM;
}

static int get_abi_version(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, VSS_PROVIDER_ABI_VERSION) ? 0 : -ENOMEM;
}

static int get_max_volumes(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, VSS_MAX_VOLUMES_PER_SET) ? 0 : -ENOMEM;
}

static int get_provider_dir(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return bus_append_string(iter, m->settings.provider_dir) ? 0 : -ENOMEM;
}

/* The loaded providers in the order vssd asks them (the default choice first). */
static int get_providers(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        const char *names[256];
        size_t n = 0;

        for (CoreProvider *p = core_provider_first(m->core); p && n < ELEMENTSOF(names);
             p = p->next)
                names[n++] = p->vp->name;
        return bus_append_strv(iter, names, n) ? 0 : -ENOMEM;
}

static int get_freeze_timeout(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return bus_append_uint32(iter, m->settings.freeze_timeout_ms) ? 0 : -ENOMEM;
}

static int get_hold_timeout(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return bus_append_uint32(iter, m->settings.hold_timeout_ms) ? 0 : -ENOMEM;
}

static int get_event_timeout(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return bus_append_uint32(iter, m->settings.event_timeout_ms) ? 0 : -ENOMEM;
}

static int get_monitor_interval(DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return bus_append_uint32(iter, m->settings.monitor_interval_ms) ? 0 : -ENOMEM;
}

/*
 * A timeout property: in [MIN, MAX] milliseconds or InvalidArgs naming the
 * range. The core takes it at once; sets already running keep their timers.
 */
static int set_timeout(Manager *m, BusCall *call, DBusMessageIter *iter, const char *name,
                       unsigned min, unsigned max, unsigned *target)
{
        dbus_uint32_t v;

        dbus_message_iter_get_basic(iter, &v);
        if (v < min || v > max)
                return bus_call_error(call, -EINVAL, "%s must be between %u and %u ms, not %u",
                                      name, min, max, (unsigned)v);
        log_info("%s set to %u ms by %s", name, (unsigned)v, bus_call_get_sender(call));
        *target = v;
        return lifecycle_apply_settings(m, NULL);
}

static int set_freeze_timeout(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return set_timeout(m, call, iter, "FreezeTimeoutMs", VSS_FREEZE_TIMEOUT_MS_MIN,
                           VSS_FREEZE_TIMEOUT_MS_MAX, &m->settings.freeze_timeout_ms);
}

static int set_hold_timeout(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return set_timeout(m, call, iter, "HoldTimeoutMs", VSS_HOLD_TIMEOUT_MS_MIN,
                           VSS_HOLD_TIMEOUT_MS_MAX, &m->settings.hold_timeout_ms);
}

static int set_event_timeout(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return set_timeout(m, call, iter, "EventTimeoutMs", VSS_EVENT_TIMEOUT_MS_MIN,
                           VSS_EVENT_TIMEOUT_MS_MAX, &m->settings.event_timeout_ms);
}

static int set_monitor_interval(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        Manager *m = userdata;
        return set_timeout(m, call, iter, "MonitorIntervalMs", VSS_MONITOR_INTERVAL_MS_MIN,
                           VSS_MONITOR_INTERVAL_MS_MAX, &m->settings.monitor_interval_ms);
}

static const BusInterface coordinator_interface = {
        .name = VSS_IFACE_COORDINATOR,
        .methods = (const BusMethod[]){
                { "StartBackup", BUS_ARGS({ "options", "a{sv}" }), BUS_ARGS({ "session", "o" }),
                  method_start_backup, BUS_ACCESS_BACKUP },
                { "CreateSnapshotSet", BUS_ARGS({ "volumes", "as" }, { "options", "a{sv}" }),
                  BUS_ARGS({ "set", "o" }, { "warnings", "s" }), method_create_snapshot_set,
                  BUS_ACCESS_BACKUP },
                { "RegisterWriter", BUS_ARGS({ "info", "a{sv}" }), BUS_ARGS({ "writer", "o" }),
                  method_register_writer, BUS_ACCESS_WRITER },
                { "DeleteSnapshots", BUS_ARGS({ "by", "s" }, { "key", "s" }),
                  BUS_ARGS({ "deleted", "u" }), method_delete_snapshots, BUS_ACCESS_BACKUP },
                { "EnableVolume", BUS_ARGS({ "device", "s" }, { "options", "a{sv}" }),
                  BUS_ARGS({ "volume", "s" }), method_enable_volume, BUS_ACCESS_ROOT },
                { "DisableVolume", BUS_ARGS({ "volume", "s" }, { "options", "a{sv}" }),
                  BUS_NO_ARGS, method_disable_volume, BUS_ACCESS_ROOT },
                { "Recover", BUS_NO_ARGS, BUS_ARGS({ "fixed", "u" }), recover_method,
                  BUS_ACCESS_ROOT },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Version", "s", get_version, NULL, BUS_PROPERTY_CONST },
                { "ProviderAbiVersion", "u", get_abi_version, NULL, BUS_PROPERTY_CONST },
                { "MaxVolumesPerSet", "u", get_max_volumes, NULL, BUS_PROPERTY_CONST },
                { "FreezeTimeoutMs", "u", get_freeze_timeout, set_freeze_timeout,
                  BUS_PROPERTY_EMITS_CHANGE },
                { "HoldTimeoutMs", "u", get_hold_timeout, set_hold_timeout,
                  BUS_PROPERTY_EMITS_CHANGE },
                { "EventTimeoutMs", "u", get_event_timeout, set_event_timeout,
                  BUS_PROPERTY_EMITS_CHANGE },
                { "MonitorIntervalMs", "u", get_monitor_interval, set_monitor_interval,
                  BUS_PROPERTY_EMITS_CHANGE },
                { "ProviderDirectory", "s", get_provider_dir, NULL, BUS_PROPERTY_CONST },
                { "Providers", "as", get_providers, NULL, BUS_PROPERTY_CONST },
                { NULL } },
        .signals = (const BusSignal[]){ { NULL } },
};

int coordinator_publish(Manager *m)
{
        int r = bus_object_new(m->bus, &m->root, VSS_ROOT_PATH);

        if (r >= 0)
                r = bus_object_add_interface(m->root, &coordinator_interface, m);
        if (r >= 0)
                r = bus_object_publish(m->root);
        return r;
}

void coordinator_emit_timeouts_changed(Manager *m)
{
        static const char *const names[] = { "FreezeTimeoutMs", "HoldTimeoutMs",
                                             "EventTimeoutMs", "MonitorIntervalMs", NULL };

        bus_object_emit_properties_changed(m->root, &coordinator_interface, names);
}
