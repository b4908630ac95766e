/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot-actions.c: what a requester does with one snapshot: Expose,
 * Unexpose and Revert on its object, and waiting for a revert's merge to end
 * by listening to vssd's signals rather than asking again and again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "libvss-private.h"

#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"

/* METHOD on snapshot ID's object, with the string ARG unless NULL. */
static int snapshot_call(vss_client *client, const char *id, const char *method, const char *arg,
                         const char *reply_signature, DBusMessage **ret_reply)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_free_ char *path = NULL;

        client_clear_error(client);
        int r = objects_id_path(client, id, "snapshot", "snapshot", &path);
        if (r < 0)
                return r;
        m = bus_new_call(path, VSS_IFACE_SNAPSHOT, method);
        if (!m || (arg && !dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID)))
                return client_oom(client);
        return objects_call_on(client, m, reply_signature, ret_reply,
                               "vssd has no snapshot with id %s (it was deleted, or merged "
                               "into its origin)",
                               id);
}

VSS_EXPORT int vss_client_expose_snapshot(vss_client *client, const char *id,
                                          const char *mount_point, char **ret_path)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !id)
                return -EINVAL;
        /* "" is how the D-Bus call says "vssd chooses". */
        if (!mount_point)
                mount_point = "";
        int r = objects_check_string(client, "mount point", mount_point);
        if (r >= 0)
                r = snapshot_call(client, id, "Expose", mount_point, "s", &reply);
        if (r < 0)
                return r;
        return objects_reply_string(client, reply, ret_path);
}

VSS_EXPORT int vss_client_unexpose_snapshot(vss_client *client, const char *id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !id)
                return -EINVAL;
        return snapshot_call(client, id, "Unexpose", NULL, "", &reply);
}

VSS_EXPORT int vss_client_revert_snapshot(vss_client *client, const char *id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!client || !id)
                return -EINVAL;
        return snapshot_call(client, id, "Revert", NULL, "", &reply);
}

/* ---- waiting for a merge ----------------------------------------------------------------- */

/*
 * What the connection's filter saw while waiting. Changes are kept in the
 * order they came and applied after the snapshot was read: a change older
 * than that read is then overtaken by the later ones, so the snapshot ends
 * up as vssd last announced it.
 */
struct merge_watch {
        const char *path;
        char *owner;           /* vssd's unique name: only its signals count */
        DBusMessage **changes; /* PropertiesChanged of the snapshot, referenced */
        size_t n_changes;
        bool gone;             /* InterfacesRemoved for it */
        bool vssd_left;
        bool oom;
};

static void watch_keep_change(struct merge_watch *w, DBusMessage *m)
{
        const char *interface = NULL;

        if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &interface, DBUS_TYPE_INVALID) ||
            strcmp(interface, VSS_IFACE_SNAPSHOT) != 0)
                return;
        DBusMessage **v = realloc(w->changes, (w->n_changes + 1) * sizeof(*v));
        if (!v) {
                w->oom = true;
                return;
        }
        v[w->n_changes++] = dbus_message_ref(m);
        w->changes = v;
}

/* NameOwnerChanged from the bus: did the vssd we watch leave? */
static bool watch_owner_left(const struct merge_watch *w, DBusMessage *m)
{
        const char *name, *old_owner, *new_owner;

        return w->owner && dbus_message_has_sender(m, DBUS_SERVICE_DBUS) &&
               dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                     &old_owner, DBUS_TYPE_STRING, &new_owner,
                                     DBUS_TYPE_INVALID) &&
               strcmp(name, VSS_BUS_NAME) == 0 && strcmp(old_owner, w->owner) == 0;
}

static DBusHandlerResult watch_filter(DBusConnection *conn, DBusMessage *m, void *userdata)
{
        struct merge_watch *w = userdata;
        const char *path;

        if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS, "NameOwnerChanged")) {
                w->vssd_left = w->vssd_left || watch_owner_left(w, m);
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        }
        /* Anyone may send us a signal: believe vssd's alone. */
        if (!w->owner || !dbus_message_has_sender(m, w->owner))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        if (dbus_message_is_signal(m, OBJECT_MANAGER, "InterfacesRemoved"))
                w->gone = w->gone || (dbus_message_get_args(m, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                                            DBUS_TYPE_INVALID) &&
                                      strcmp(path, w->path) == 0);
        else if (dbus_message_is_signal(m, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged") &&
                 dbus_message_has_path(m, w->path))
                watch_keep_change(w, m);
        /* Others may want it too. */
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* The match rules: vssd leaving the bus, the snapshot's removal, its changes. */
static int watch_rules(const char *path, char *rules[3])
{
        if (asprintf(&rules[0], "type='signal',sender='%s',interface='%s',"
                                "member='NameOwnerChanged',arg0='%s'",
                     DBUS_SERVICE_DBUS, DBUS_INTERFACE_DBUS, VSS_BUS_NAME) < 0)
                return -ENOMEM;
        if (asprintf(&rules[1], "type='signal',sender='%s',interface='%s',"
                                "member='InterfacesRemoved',path='%s'",
                     VSS_BUS_NAME, OBJECT_MANAGER, VSS_ROOT_PATH) < 0)
                return -ENOMEM;
        if (asprintf(&rules[2], "type='signal',sender='%s',interface='%s',"
                                "member='PropertiesChanged',path='%s'",
                     VSS_BUS_NAME, DBUS_INTERFACE_PROPERTIES, path) < 0)
                return -ENOMEM;
        return 0;
}

struct watch_setup {
        DBusConnection *conn;
        struct merge_watch w;
        char *rules[3];
        size_t n_added;
        bool filter_added;
};

static void watch_setup_done(struct watch_setup *ws)
{
        if (ws->filter_added)
                dbus_connection_remove_filter(ws->conn, watch_filter, &ws->w);
        /* Without an error to fill, libdbus sends these without waiting for the bus. */
        for (size_t i = 0; i < ws->n_added; i++)
                dbus_bus_remove_match(ws->conn, ws->rules[i], NULL);
        for (size_t i = 0; i < ELEMENTSOF(ws->rules); i++)
                free(ws->rules[i]);
        for (size_t i = 0; i < ws->w.n_changes; i++)
                dbus_message_unref(ws->w.changes[i]);
        free(ws->w.changes);
        free(ws->w.owner);
}

/* Add the match rules up to (not including) number END. */
static int watch_add_rules(vss_client *client, struct watch_setup *ws, size_t end)
{
        _cleanup_(dbus_error_freep) DBusError err = DBUS_ERROR_INIT;

        for (; ws->n_added < end; ws->n_added++) {
                dbus_bus_add_match(ws->conn, ws->rules[ws->n_added], &err);
                if (dbus_error_is_set(&err))
                        return client_fail(client, vss_error_from_name(err.name), err.name,
                                           "cannot listen to vssd's signals on the bus at %s: %s",
                                           client->address, err.message);
        }
        return 0;
}

/* GetNameOwner: the unique name vssd's signals come from. */
static int watch_get_owner(vss_client *client, struct merge_watch *w)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        const char *name = VSS_BUS_NAME;

        m = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                         "GetNameOwner");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
                return client_oom(client);
        int r = bus_call(client, m, "s", &reply);
        return r < 0 ? r : objects_reply_string(client, reply, &w->owner);
}

/*
 * Listen before looking, so that nothing happening in between is missed: for
 * vssd leaving first, then who vssd is, then for what it says.
 */
static int watch_start(vss_client *client, struct watch_setup *ws)
{
        int r = client_connection(client, &ws->conn);
        if (r < 0)
                return r;
        if (!dbus_connection_add_filter(ws->conn, watch_filter, &ws->w, NULL))
                return client_oom(client);
        ws->filter_added = true;
        if (watch_rules(ws->w.path, ws->rules) < 0)
                return client_oom(client);
        r = watch_add_rules(client, ws, 1);
        if (r >= 0)
                r = watch_get_owner(client, &ws->w);
        if (r >= 0)
                r = watch_add_rules(client, ws, ELEMENTSOF(ws->rules));
        return r;
}

/* Apply the changes kept so far to S: 1 if there were any, 0 if not, or an error. */
static int watch_apply(vss_client *client, struct merge_watch *w, vss_snapshot_info *s)
{
        size_t n = w->n_changes;

        if (w->oom)
                return client_oom(client);
        for (size_t i = 0; i < n; i++) {
                DBusMessageIter iter;
                dbus_message_iter_init(w->changes[i], &iter);
                dbus_message_iter_next(&iter); /* the interface, checked by the filter */
                int r = snapshot_info_update(client, w->path, &iter, s);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++)
                dbus_message_unref(w->changes[i]);
        w->n_changes = 0;
        return n > 0;
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* How long the next read may block: -1 for ever, or what is left until DEADLINE (>= 0). */
static int wait_slice(uint64_t deadline)
{
        if (!deadline)
                return -1;
        uint64_t now = now_ms();
        if (now >= deadline)
                return 0;
        return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

static int merge_stopped(vss_client *client, const vss_snapshot_info *s)
{
        return client_fail(client, -VSS_E_BAD_STATE, NULL,
                           "snapshot %s is %s, not merging: %s", s->id,
                           *s->state ? s->state : "in an unknown state",
                           strcmp(s->state, "valid") == 0
                                   ? "revert it first"
                                   : "the merge stopped; vssd's log says why (journalctl -u vssd)");
}

struct merge_wait {
        vss_client *client;
        struct watch_setup *ws;
        vss_snapshot_info *snapshot;
        uint64_t timeout_ms;
        vss_merge_progress_fn progress;
        void *userdata;
};

static int vssd_left(vss_client *client, const char *id)
{
        return client_fail(client, -ECONNRESET, NULL,
                           "vssd left the bus while snapshot %s was merging; its log says why "
                           "(journalctl -u vssd)",
                           id);
}

/*
 * The snapshot's object went: a finished merge, or vssd stopping (which
 * removes every object before it leaves the bus). vssd answering a Ping
 * tells them apart, as a vssd that stops no longer answers anything.
 */
static int merge_confirm(vss_client *client, const struct merge_watch *w, const char *id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        m = bus_new_call("/", "org.freedesktop.DBus.Peer", "Ping");
        if (!m)
                return client_oom(client);
        int r = bus_call(client, m, "", &reply);
        if (r == -ENOMEM || r == -ETIMEDOUT)
                return r;
        if (r < 0 || w->vssd_left)
                return vssd_left(client, id);
        return 1;
}

/* One round: what came in, then whether the wait is over (1), goes on (0) or failed. */
static int merge_check(const struct merge_wait *mw, bool first)
{
        vss_client *client = mw->client;
        const vss_snapshot_info *s = mw->snapshot;

        int r = watch_apply(client, &mw->ws->w, mw->snapshot);
        if (r < 0)
                return r;
        if (mw->ws->w.gone)
                return merge_confirm(client, &mw->ws->w, s->id);
        if (mw->ws->w.vssd_left)
                return vssd_left(client, s->id);
        if (!first && r == 0)
                return 0;
        if (strcmp(s->state, "merging") != 0)
                return merge_stopped(client, s);
        if (mw->progress)
                mw->progress(s, mw->userdata);
        return 0;
}

static int merge_loop(const struct merge_wait *mw)
{
        uint64_t deadline = mw->timeout_ms ? now_ms() + mw->timeout_ms : 0;

        for (bool first = true;; first = false) {
                int r = merge_check(mw, first);
                if (r != 0)
                        return r < 0 ? r : 0;
                int slice = wait_slice(deadline);
                if (slice == 0)
                        return client_fail(mw->client, -ETIMEDOUT, NULL,
                                           "snapshot %s was still merging after %" PRIu64
                                           " ms; the merge goes on",
                                           mw->snapshot->id, mw->timeout_ms);
                if (!dbus_connection_read_write_dispatch(mw->ws->conn, slice))
                        return client_fail(mw->client, -ENOTCONN, DBUS_ERROR_DISCONNECTED,
                                           "the connection to the bus at %s was lost",
                                           mw->client->address);
        }
}

VSS_EXPORT int vss_client_wait_snapshot_merged(vss_client *client, const char *id,
                                               uint64_t timeout_ms,
                                               vss_merge_progress_fn progress, void *userdata)
{
        _cleanup_(vss_snapshot_info_freep) vss_snapshot_info *s = NULL;
        _cleanup_free_ char *path = NULL;
        struct watch_setup ws = { 0 };

        if (!client || !id)
                return -EINVAL;
        client_clear_error(client);
        int r = objects_id_path(client, id, "snapshot", "snapshot", &path);
        if (r < 0)
                return r;
        ws.w.path = path;
        r = watch_start(client, &ws);
        if (r >= 0)
                r = snapshot_info_get(client, path, &s);
        /* Gone before we looked: the merge is over, unless vssd is stopping. */
        if (r < 0 && client_error_is(client, DBUS_ERROR_UNKNOWN_OBJECT))
                r = merge_confirm(client, &ws.w, id);
        if (r == 0) {
                struct merge_wait mw = { client, &ws, s, timeout_ms, progress, userdata };
                r = merge_loop(&mw);
        }
        watch_setup_done(&ws);
        return r < 0 ? r : 0;
}
