/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session-object.c: requester sessions, /org/linuxvss/Vss1/session/<n>,
 * interface org.linuxvss.Vss1.Backup (IVssBackupComponents), and the
 * coordinator methods that create them: StartBackup and CreateSnapshotSet.
 * Every check (owner, state, order) is the core's; this file translates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"

static CoreSession *session_of(void *userdata)
{
        return ((Exported *)userdata)->object;
}

static const char *sender_of(BusCall *call)
{
        return bus_call_get_sender(call);
}

/* --- options of StartBackup and CreateSnapshotSet -------------------------------------- */

struct session_options {
        enum core_context context;
        uint32_t attributes;
        const char *provider; /* NULL: any */
        bool provider_allowed;
        const char **attribute_names;
        const char **exclude_writers; /* ExcludeWriters; strings point into the message */
        size_t n_exclude_writers;
};

static int session_option(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        struct session_options *o = userdata;
        const char *s;

        if (strcmp(key, "Context") == 0) {
                int r = bus_variant_expect(call, key, value, "s");
                if (r < 0)
                        return r;
                dbus_message_iter_get_basic(value, &s);
                if ((r = core_context_from_string(s)) < 0)
                        return bus_call_error(call, -EINVAL, "unknown context \"%s\"; use backup, "
                                              "file-share-backup, app-rollback or nas-rollback",
                                              s);
                o->context = (enum core_context)r;
                return 0;
        }
        if (strcmp(key, "Attributes") == 0) {
                int r = bus_variant_expect(call, key, value, "as");
                free(o->attribute_names);
                o->attribute_names = NULL;
                if (r >= 0)
                        r = bus_read_strv(value, &o->attribute_names, NULL);
                return r >= 0 ? lifecycle_attributes_parse(call, o->attribute_names,
                                                           &o->attributes)
                              : r;
        }
        if (strcmp(key, "ExcludeWriters") == 0) {
                int r = bus_variant_expect(call, key, value, "as");
                free(o->exclude_writers);
                o->exclude_writers = NULL;
                if (r >= 0)
                        r = bus_read_strv(value, &o->exclude_writers, &o->n_exclude_writers);
                for (size_t i = 0; r >= 0 && i < o->n_exclude_writers; i++)
                        if (!o->exclude_writers[i][0])
                                r = bus_call_error(call, -EINVAL, "ExcludeWriters entry %zu is "
                                                   "empty; give a writer's name, instance id "
                                                   "or class id", i + 1);
                return r;
        }
        if (strcmp(key, "Provider") == 0 && o->provider_allowed) {
                int r = bus_variant_expect(call, key, value, "s");
                if (r >= 0)
                        dbus_message_iter_get_basic(value, &o->provider);
                return r;
        }
        return bus_call_error(call, -EINVAL, "unknown option \"%s\"; %s takes %s", key,
                              dbus_message_get_member(bus_call_get_message(call)),
                              o->provider_allowed ? "Context, Attributes, ExcludeWriters and "
                                                    "Provider"
                                                  : "Context, Attributes and ExcludeWriters");
}

/* Parse DICT into O; free O's lists with session_options_done() either way. */
static int session_options_parse(BusCall *call, DBusMessageIter *dict,
                                 struct session_options *o)
{
        int r = bus_dict_foreach(call, dict, session_option, o);
        free(o->attribute_names);
        o->attribute_names = NULL;
        return r;
}

static void session_options_done(struct session_options *o)
{
        free(o->exclude_writers);
        o->exclude_writers = NULL;
}

/* --- coordinator methods --------------------------------------------------------------- */

int method_start_backup(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct session_options o = { CORE_CONTEXT_BACKUP };
        struct vss_error_buf err = { "" };
        DBusMessageIter iter;
        CoreSession *s;
        char path[LIFECYCLE_PATH_MAX];

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        int r = session_options_parse(call, &iter, &o);
        if (r < 0) {
                session_options_done(&o);
                return r;
        }
        r = core_session_new(&s, m->core, sender_of(call), &err);
        if (r >= 0 && ((r = core_session_set_context(s, sender_of(call), o.context,
                                                     o.attributes, &err)) < 0 ||
                       (r = core_session_set_exclude_writers(s, sender_of(call),
                                                             o.exclude_writers,
                                                             o.n_exclude_writers, &err)) < 0))
                core_session_release(s, sender_of(call), NULL, NULL);
        session_options_done(&o);
        if (r < 0)
                return lifecycle_error(call, r, &err);
        const char *p = lifecycle_path(CORE_OBJECT_SESSION, s, path);
        return bus_call_reply(call, DBUS_TYPE_OBJECT_PATH, &p, DBUS_TYPE_INVALID);
}

/* The volumes, canonicalized; the strings are malloc()ed. */
static int volumes_read(BusCall *call, DBusMessageIter *iter, char ***ret, size_t *ret_n)
{
        const char **given;
        size_t n;
        int r = bus_read_strv(iter, &given, &n);
        if (r < 0)
                return r;
        char **v = calloc(n + 1, sizeof(*v));
        for (size_t i = 0; v && r >= 0 && i < n; i++) {
                char buf[4096];
                r = lifecycle_volume_arg(call, given[i], buf, sizeof(buf));
                if (r >= 0 && !(v[i] = strdup(buf)))
                        r = -ENOMEM;
        }
        free(given);
        if (!v || r < 0) {
                for (size_t i = 0; v && i < n; i++)
                        free(v[i]);
                free(v);
                return v ? r : -ENOMEM;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int method_create_snapshot_set(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct session_options o = { CORE_CONTEXT_BACKUP, .provider_allowed = true };
        struct vss_error_buf err = { "" };
        DBusMessageIter iter;
        char **volumes = NULL;
        size_t n = 0;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        int r = volumes_read(call, &iter, &volumes, &n);
        dbus_message_iter_next(&iter);
        if (r >= 0)
                r = session_options_parse(call, &iter, &o);
        if (r >= 0) {
                CoreCreateOptions options = { o.context, o.attributes, o.provider,
                                              o.exclude_writers, o.n_exclude_writers };
                Pending *p = pending_new(call, REPLY_SET);
                r = p ? pending_started(p, call,
                                        core_create_snapshot_set(m->core, sender_of(call),
                                                                 (const char *const *)volumes,
                                                                 n, &options, p, &err),
                                        &err)
                      : -ENOMEM;
        }
        session_options_done(&o);
        for (size_t i = 0; volumes && i < n; i++)
                free(volumes[i]);
        free(volumes);
        return r;
}

/* --- Backup methods ------------------------------------------------------------------------ */

static int method_set_context(BusCall *call, void *userdata)
{
        DBusMessageIter iter;
        const char *context;
        const char **names;
        uint32_t attributes;
        struct vss_error_buf err = { "" };

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        dbus_message_iter_get_basic(&iter, &context);
        dbus_message_iter_next(&iter);
        int ctx = core_context_from_string(context);
        if (ctx < 0)
                return bus_call_error(call, -EINVAL, "unknown context \"%s\"; use backup, "
                                      "file-share-backup, app-rollback or nas-rollback", context);
        int r = bus_read_strv(&iter, &names, NULL);
        if (r < 0)
                return r;
        r = lifecycle_attributes_parse(call, names, &attributes);
        free(names);
        if (r >= 0 && (r = core_session_set_context(session_of(userdata), sender_of(call),
                                                    (enum core_context)ctx, attributes,
                                                    &err)) < 0)
                return lifecycle_error(call, r, &err);
        return r;
}

/* An asynchronous core call without arguments: METHOD(session, sender, token, err). */
static int session_async(BusCall *call, void *userdata, enum pending_reply kind,
                         int (*method)(CoreSession *, const char *, void *,
                                       struct vss_error_buf *))
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, kind);
        if (!p)
                return -ENOMEM;
        return pending_started(p, call, method(session_of(userdata), sender_of(call), p, &err),
                               &err);
}

static int method_gather_writer_metadata(BusCall *call, void *userdata)
{
        return session_async(call, userdata, REPLY_EMPTY, core_session_gather_writer_metadata);
}

static int method_prepare_for_backup(BusCall *call, void *userdata)
{
        return session_async(call, userdata, REPLY_WARNINGS, core_session_prepare_for_backup);
}

static int method_do_snapshot_set(BusCall *call, void *userdata)
{
        return session_async(call, userdata, REPLY_WARNINGS, core_session_do_snapshot_set);
}

static int method_backup_complete(BusCall *call, void *userdata)
{
        return session_async(call, userdata, REPLY_WARNINGS, core_session_backup_complete);
}

static bool append_writer_status(DBusMessageIter *array, const CoreWriter *w)
{
        DBusMessageIter st;
        char path[LIFECYCLE_PATH_MAX];

        return dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, NULL, &st) &&
               bus_append_object_path(&st, lifecycle_path(CORE_OBJECT_WRITER, w, path)) &&
               bus_append_string(&st, w->name) && bus_append_string(&st, w->instance_id) &&
               bus_append_string(&st, vss_writer_state_to_string(w->state)) &&
               bus_append_string(&st, vss_writer_failure_to_string(w->failure)) &&
               bus_append_string(&st, w->failure_message) &&
               dbus_message_iter_close_container(array, &st);
}

static int method_gather_writer_status(BusCall *call, void *userdata)
{
        Exported *e = userdata;
        struct vss_error_buf err = { "" };
        DBusMessageIter iter, array;

        int r = core_session_check(e->object, sender_of(call), &err);
        if (r < 0)
                return lifecycle_error(call, r, &err);
        DBusMessage *reply = bus_call_new_reply(call);
        if (!reply)
                return -ENOMEM;
        dbus_message_iter_init_append(reply, &iter);
        bool ok = dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(osssss)", &array);
        for (CoreWriter *w = core_writer_first(e->manager->core); ok && w; w = w->next)
                ok = append_writer_status(&array, w);
        ok = ok && dbus_message_iter_close_container(&iter, &array);
        r = ok ? bus_call_send_reply(call, reply) : -ENOMEM;
        dbus_message_unref(reply);
        return r;
}

static int method_add_component(BusCall *call, void *userdata)
{
        const char *instance, *logical_path, *name;
        struct vss_error_buf err = { "" };

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &instance,
                              DBUS_TYPE_STRING, &logical_path, DBUS_TYPE_STRING, &name,
                              DBUS_TYPE_INVALID);
        int r = core_session_add_component(session_of(userdata), sender_of(call), instance,
                                           logical_path, name, &err);
        return r < 0 ? lifecycle_error(call, r, &err) : 0;
}

static int method_start_snapshot_set(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        char path[LIFECYCLE_PATH_MAX];
        CoreSet *set;

        int r = core_session_start_snapshot_set(session_of(userdata), sender_of(call), &set,
                                                &err);
        if (r < 0)
                return lifecycle_error(call, r, &err);
        const char *p = lifecycle_path(CORE_OBJECT_SET, set, path);
        return bus_call_reply(call, DBUS_TYPE_OBJECT_PATH, &p, DBUS_TYPE_INVALID);
}

static int method_add_to_snapshot_set(BusCall *call, void *userdata)
{
        const char *volume, *provider;
        struct vss_error_buf err = { "" };
        char canonical[4096];

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &volume,
                              DBUS_TYPE_STRING, &provider, DBUS_TYPE_INVALID);
        int r = lifecycle_volume_arg(call, volume, canonical, sizeof(canonical));
        if (r < 0)
                return r;
        Pending *p = pending_new(call, REPLY_ID);
        if (!p)
                return -ENOMEM;
        r = core_session_add_to_snapshot_set(session_of(userdata), sender_of(call), canonical,
                                             provider[0] ? provider : NULL, p, &err);
        return pending_started(p, call, r, &err);
}

static int method_set_backup_succeeded(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        dbus_bool_t succeeded;

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_BOOLEAN, &succeeded,
                              DBUS_TYPE_INVALID);
        int r = core_session_set_backup_succeeded(session_of(userdata), sender_of(call),
                                                  succeeded, &err);
        return r < 0 ? lifecycle_error(call, r, &err) : 0;
}

static int method_abort_backup(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        int r = core_session_abort_backup(session_of(userdata), sender_of(call), &err);
        return r < 0 ? lifecycle_error(call, r, &err) : 0;
}

/* Answered once the auto-release deletions are done: then they are gone for the caller. */
static int method_release(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, REPLY_EMPTY);

        if (!p)
                return -ENOMEM;
        return pending_started(p, call, core_session_release(session_of(userdata),
                                                             sender_of(call), p, &err),
                               &err);
}

/* --- properties ------------------------------------------------------------------------------ */

static int get_owner(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, session_of(userdata)->owner) ? 0 : -ENOMEM;
}

static int get_context(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, core_context_to_string(session_of(userdata)->context))
                       ? 0 : -ENOMEM;
}

static int get_attributes(DBusMessageIter *iter, void *userdata)
{
        return lifecycle_append_attributes(iter, session_of(userdata)->attributes) ? 0 : -ENOMEM;
}

static int get_state(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, core_session_state_to_string(session_of(userdata)->state))
                       ? 0 : -ENOMEM;
}

static int get_snapshot_set(DBusMessageIter *iter, void *userdata)
{
        char path[LIFECYCLE_PATH_MAX];
        return bus_append_object_path(iter, lifecycle_path(CORE_OBJECT_SET,
                                                           session_of(userdata)->set, path))
                       ? 0 : -ENOMEM;
}

#define WARNINGS BUS_ARGS({ "warnings", "s" })

const BusInterface session_object_interface = {
        .name = VSS_IFACE_BACKUP,
        .methods = (const BusMethod[]){
                { "SetContext", BUS_ARGS({ "context", "s" }, { "attributes", "as" }),
                  BUS_NO_ARGS, method_set_context, BUS_ACCESS_BACKUP },
                { "GatherWriterMetadata", BUS_NO_ARGS, BUS_NO_ARGS,
                  method_gather_writer_metadata, BUS_ACCESS_BACKUP },
                { "GatherWriterStatus", BUS_NO_ARGS, BUS_ARGS({ "writers", "a(osssss)" }),
                  method_gather_writer_status, BUS_ACCESS_BACKUP },
                { "AddComponent", BUS_ARGS({ "instance_id", "s" }, { "logical_path", "s" },
                                           { "name", "s" }),
                  BUS_NO_ARGS, method_add_component, BUS_ACCESS_BACKUP },
                { "StartSnapshotSet", BUS_NO_ARGS, BUS_ARGS({ "set", "o" }),
                  method_start_snapshot_set, BUS_ACCESS_BACKUP },
                { "AddToSnapshotSet", BUS_ARGS({ "volume", "s" }, { "provider", "s" }),
                  BUS_ARGS({ "snapshot_id", "s" }), method_add_to_snapshot_set,
                  BUS_ACCESS_BACKUP },
                { "PrepareForBackup", BUS_NO_ARGS, WARNINGS, method_prepare_for_backup,
                  BUS_ACCESS_BACKUP },
                { "DoSnapshotSet", BUS_NO_ARGS, WARNINGS, method_do_snapshot_set, BUS_ACCESS_BACKUP },
                { "BackupComplete", BUS_NO_ARGS, WARNINGS, method_backup_complete, BUS_ACCESS_BACKUP },
                { "SetBackupSucceeded", BUS_ARGS({ "succeeded", "b" }), BUS_NO_ARGS,
                  method_set_backup_succeeded, BUS_ACCESS_BACKUP },
                { "AbortBackup", BUS_NO_ARGS, BUS_NO_ARGS, method_abort_backup, BUS_ACCESS_BACKUP },
                { "Release", BUS_NO_ARGS, BUS_NO_ARGS, method_release, BUS_ACCESS_BACKUP },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Owner", "s", get_owner, NULL, BUS_PROPERTY_CONST },
                { "Context", "s", get_context, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Attributes", "as", get_attributes, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "State", "s", get_state, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "SnapshotSet", "o", get_snapshot_set, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { NULL } },
        .signals = (const BusSignal[]){ { NULL } },
};
