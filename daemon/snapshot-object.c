/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot-object.c: snapshots, /org/linuxvss/Vss1/snapshot/<id>, interface
 * org.linuxvss.Vss1.Snapshot (Delete, Expose, Unexpose, Revert: each a
 * provider job the core runs and answers), and the coordinator's
 * DeleteSnapshots.
 */
#include <errno.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"

static CoreSnapshot *snapshot_of(void *userdata)
{
        return ((Exported *)userdata)->object;
}

static int get_id(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->id) ? 0 : -ENOMEM;
}

static int get_set(DBusMessageIter *iter, void *userdata)
{
        char path[LIFECYCLE_PATH_MAX];
        return bus_append_object_path(iter, lifecycle_path(CORE_OBJECT_SET,
                                                           snapshot_of(userdata)->set, path))
                       ? 0 : -ENOMEM;
}

static int get_set_id(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->set->id) ? 0 : -ENOMEM;
}

static int get_origin(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->origin) ? 0 : -ENOMEM;
}

static int get_provider(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->provider->vp->name) ? 0 : -ENOMEM;
}

static int get_attributes(DBusMessageIter *iter, void *userdata)
{
        return lifecycle_append_attributes(iter, snapshot_of(userdata)->attributes) ? 0
                                                                                   : -ENOMEM;
}

static int get_creation_time(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint64(iter, snapshot_of(userdata)->creation_usec) ? 0 : -ENOMEM;
}

static int get_state(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, core_snapshot_state_to_string(snapshot_of(userdata)->state))
                       ? 0 : -ENOMEM;
}

static int get_device(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->device) ? 0 : -ENOMEM;
}

static int get_exposed_path(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, snapshot_of(userdata)->exposed_path) ? 0 : -ENOMEM;
}

static int get_cow_used(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint64(iter, snapshot_of(userdata)->cow_used_bytes) ? 0 : -ENOMEM;
}

static int get_cow_size(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint64(iter, snapshot_of(userdata)->cow_size_bytes) ? 0 : -ENOMEM;
}

static int method_expose(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        const char *mount_point;

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &mount_point,
                              DBUS_TYPE_INVALID);
        Pending *p = pending_new(call, REPLY_ID);
        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_snapshot_expose(snapshot_of(userdata), mount_point,
                                                             p, &err), &err);
}

static int method_unexpose(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, REPLY_EMPTY);

        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_snapshot_unexpose(snapshot_of(userdata), p, &err),
                               &err);
}

static int method_revert(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, REPLY_EMPTY);

        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_snapshot_revert(snapshot_of(userdata), p, &err),
                               &err);
}

static int snapshots_delete(BusCall *call, Manager *m, enum core_delete_by by, const char *key,
                            enum pending_reply kind)
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, kind);

        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_snapshots_delete(m->core, by, key, p, &err), &err);
}

static int method_delete(BusCall *call, void *userdata)
{
        Exported *e = userdata;
        return snapshots_delete(call, e->manager, CORE_DELETE_SNAPSHOT, snapshot_of(e)->id,
                                REPLY_EMPTY);
}

int method_delete_snapshots(BusCall *call, void *userdata)
{
        static const char *const kinds[] = {
                [CORE_DELETE_SNAPSHOT] = "snapshot",
                [CORE_DELETE_SET] = "set",
                [CORE_DELETE_VOLUME] = "volume",
        };
        const char *by, *key;
        char volume[4096];

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &by,
                              DBUS_TYPE_STRING, &key, DBUS_TYPE_INVALID);
        for (size_t i = 0; i < 3; i++) {
                if (strcmp(by, kinds[i]) != 0)
                        continue;
                if (i == CORE_DELETE_VOLUME) {
                        int r = lifecycle_volume_arg(call, key, volume, sizeof(volume));
                        if (r < 0)
                                return r;
                        key = volume;
                }
                return snapshots_delete(call, userdata, (enum core_delete_by)i, key,
                                        REPLY_COUNT);
        }
        return bus_call_error(call, -EINVAL, "DeleteSnapshots cannot delete by \"%s\"; use "
                              "snapshot, set or volume", by);
}

const BusInterface snapshot_object_interface = {
        .name = VSS_IFACE_SNAPSHOT,
        .methods = (const BusMethod[]){
                { "Delete", BUS_NO_ARGS, BUS_NO_ARGS, method_delete, BUS_ACCESS_BACKUP },
                { "Expose", BUS_ARGS({ "mount_point", "s" }), BUS_ARGS({ "path", "s" }),
                  method_expose, BUS_ACCESS_BACKUP },
                { "Unexpose", BUS_NO_ARGS, BUS_NO_ARGS, method_unexpose, BUS_ACCESS_BACKUP },
                { "Revert", BUS_NO_ARGS, BUS_NO_ARGS, method_revert, BUS_ACCESS_ROOT },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Id", "s", get_id, NULL, BUS_PROPERTY_CONST },
                { "SnapshotSet", "o", get_set, NULL, BUS_PROPERTY_CONST },
                { "SnapshotSetId", "s", get_set_id, NULL, BUS_PROPERTY_CONST },
                { "Origin", "s", get_origin, NULL, BUS_PROPERTY_CONST },
                { "Provider", "s", get_provider, NULL, BUS_PROPERTY_CONST },
                { "Attributes", "as", get_attributes, NULL, BUS_PROPERTY_CONST },
                { "CreationTime", "t", get_creation_time, NULL, BUS_PROPERTY_CONST },
                { "State", "s", get_state, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Device", "s", get_device, NULL, BUS_PROPERTY_CONST },
                { "ExposedPath", "s", get_exposed_path, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "CowUsedBytes", "t", get_cow_used, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "CowSizeBytes", "t", get_cow_size, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { NULL } },
        .signals = (const BusSignal[]){ { NULL } },
};
