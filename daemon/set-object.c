/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set-object.c: snapshot sets, /org/linuxvss/Vss1/set/<id>, interface
 * org.linuxvss.Vss1.SnapshotSet.
 */
#include <errno.h>
#include <stdlib.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"

static CoreSet *set_of(void *userdata)
{
        return ((Exported *)userdata)->object;
}

static int get_id(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, set_of(userdata)->id) ? 0 : -ENOMEM;
}

static int get_state(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, core_set_state_to_string(set_of(userdata)->state))
                       ? 0 : -ENOMEM;
}

static int get_volumes(DBusMessageIter *iter, void *userdata)
{
        const CoreSet *set = set_of(userdata);
        const char **names = calloc(set->n_volumes + 1, sizeof(*names));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < set->n_volumes; i++)
                names[i] = set->volumes[i].volume;
        bool ok = bus_append_strv(iter, names, set->n_volumes);
        free(names);
        return ok ? 0 : -ENOMEM;
}

static int get_attributes(DBusMessageIter *iter, void *userdata)
{
        return lifecycle_append_attributes(iter, set_of(userdata)->attributes) ? 0 : -ENOMEM;
}

static int get_session(DBusMessageIter *iter, void *userdata)
{
        char path[LIFECYCLE_PATH_MAX];
        return bus_append_object_path(iter, lifecycle_path(CORE_OBJECT_SESSION,
                                                           set_of(userdata)->session, path))
                       ? 0 : -ENOMEM;
}

static int get_hold_window(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint64(iter, set_of(userdata)->hold_window_usec) ? 0 : -ENOMEM;
}

static int get_backup_succeeded(DBusMessageIter *iter, void *userdata)
{
        return bus_append_bool(iter, set_of(userdata)->backup_succeeded) ? 0 : -ENOMEM;
}

/* "" until every provider prepared, and for an adopted set: nobody told vssd. */
static int get_atomicity(DBusMessageIter *iter, void *userdata)
{
        const CoreSet *set = set_of(userdata);
        return bus_append_string(iter, set->atomicity_known
                                               ? core_atomicity_to_string(set->atomicity) : "")
                       ? 0 : -ENOMEM;
}

static int get_error(DBusMessageIter *iter, void *userdata)
{
        const CoreSet *set = set_of(userdata);
        return bus_append_string(iter, set->error ? set->error_message : "") ? 0 : -ENOMEM;
}

static int method_delete(BusCall *call, void *userdata)
{
        Exported *e = userdata;
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, REPLY_COUNT);

        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_snapshots_delete(e->manager->core, CORE_DELETE_SET,
                                                              set_of(e)->id, p, &err),
                               &err);
}

const BusInterface set_object_interface = {
        .name = VSS_IFACE_SNAPSHOT_SET,
        .methods = (const BusMethod[]){
                { "Delete", BUS_NO_ARGS, BUS_ARGS({ "deleted", "u" }), method_delete,
                  BUS_ACCESS_BACKUP },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Id", "s", get_id, NULL, BUS_PROPERTY_CONST },
                { "State", "s", get_state, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Volumes", "as", get_volumes, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Attributes", "as", get_attributes, NULL, BUS_PROPERTY_CONST },
                { "Session", "o", get_session, NULL, 0 },
                { "Error", "s", get_error, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "HoldWindowUsec", "t", get_hold_window, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "BackupSucceeded", "b", get_backup_succeeded, NULL,
                  BUS_PROPERTY_EMITS_CHANGE },
                { "Atomicity", "s", get_atomicity, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { NULL } },
        .signals = (const BusSignal[]){ { NULL } },
};
