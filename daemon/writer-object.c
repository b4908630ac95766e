/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writer-object.c: writers, /org/linuxvss/Vss1/writer/<n>, interface
 * org.linuxvss.Vss1.Writer, and the coordinator's RegisterWriter. Events
 * reach a writer as signals addressed to its owner alone; it answers each with
 * Answer(cookie, ...) on its object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vss/vss.h>

#include "daemon/lifecycle.h"
#include "daemon/util/log.h"

static CoreWriter *writer_of(void *userdata)
{
        return ((Exported *)userdata)->object;
}

/* --- RegisterWriter -------------------------------------------------------------------- */

struct writer_options {
        CoreWriterInfo info;
        const char *usage;
};

static int writer_string_option(BusCall *call, const char *key, DBusMessageIter *value,
                                const char **target)
{
        int r = bus_variant_expect(call, key, value, "s");
        if (r >= 0)
                dbus_message_iter_get_basic(value, target);
        return r;
}

static int writer_level_option(BusCall *call, const char *key, DBusMessageIter *value,
                               enum vss_writer_level *target)
{
        const char *s;
        int r = writer_string_option(call, key, value, &s);
        if (r >= 0 && (r = vss_writer_level_from_string(s)) < 0)
                return bus_call_error(call, -EINVAL, "unknown writer level \"%s\"; use "
                                      "front-end, back-end or system", s);
        if (r >= 0)
                *target = (enum vss_writer_level)r;
        return r;
}

static int writer_option(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        struct writer_options *o = userdata;
        int r;

        if (strcmp(key, "Name") == 0)
                return writer_string_option(call, key, value, &o->info.name);
        if (strcmp(key, "InstanceId") == 0)
                return writer_string_option(call, key, value, &o->info.instance_id);
        if (strcmp(key, "ClassId") == 0)
                return writer_string_option(call, key, value, &o->info.class_id);
        if (strcmp(key, "Usage") == 0)
                return writer_string_option(call, key, value, &o->usage);
        if (strcmp(key, "Level") == 0)
                return writer_level_option(call, key, value, &o->info.level);
        if (strcmp(key, "FreezeTimeoutMs") == 0) {
                if ((r = bus_variant_expect(call, key, value, "u")) >= 0)
                        dbus_message_iter_get_basic(value, &o->info.freeze_timeout_ms);
                return r;
        }
        return bus_call_error(call, -EINVAL, "unknown writer option \"%s\"; RegisterWriter "
                              "takes Name, InstanceId, ClassId, Level, FreezeTimeoutMs and "
                              "Usage", key);
}

/* The pid and uid behind the writer's connection, asked without blocking the loop. */
struct credentials_query {
        Manager *manager;
        uint64_t writer_id;
};

static int credential(BusCall *call, const char *key, DBusMessageIter *value, void *userdata)
{
        Exported *e = userdata;
        if (dbus_message_iter_get_arg_type(value) != DBUS_TYPE_UINT32)
                return 0;
        if (strcmp(key, "UnixUserID") == 0)
                dbus_message_iter_get_basic(value, &e->uid);
        else if (strcmp(key, "ProcessID") == 0)
                dbus_message_iter_get_basic(value, &e->pid);
        return 0;
}

static void credentials_parse(DBusMessage *reply, Exported *e)
{
        DBusMessageIter iter;

        if (dbus_message_iter_init(reply, &iter) &&
            strcmp(dbus_message_get_signature(reply), "a{sv}") == 0)
                bus_dict_foreach(NULL, &iter, credential, e);
}

static void credentials_done(DBusPendingCall *pending, void *userdata)
{
        static const char *const names[] = { "Pid", "Uid", NULL };
        struct credentials_query *q = userdata;
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        CoreWriter *w = q->manager->core ? core_writer_find(q->manager->core, q->writer_id)
                                         : NULL;
        Exported *e = w ? w->userdata : NULL;

        if (reply && e && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                credentials_parse(reply, e);
                bus_object_emit_properties_changed(e->bus_object, &writer_object_interface,
                                                   names);
        }
        if (reply)
                dbus_message_unref(reply);
}

static void credentials_ask(Exported *e)
{
        const CoreWriter *w = e->object;
        DBusMessage *msg = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                        DBUS_INTERFACE_DBUS,
                                                        "GetConnectionCredentials");
        DBusPendingCall *pending = NULL;
        struct credentials_query *q = malloc(sizeof(*q));

        if (msg && q && dbus_message_append_args(msg, DBUS_TYPE_STRING, &w->owner,
                                                 DBUS_TYPE_INVALID) &&
            dbus_connection_send_with_reply(bus_get_connection(e->manager->bus), msg, &pending,
                                            5000) && pending) {
                *q = (struct credentials_query){ e->manager, w->id };
                if (dbus_pending_call_set_notify(pending, credentials_done, q, free))
                        q = NULL;
                dbus_pending_call_unref(pending);
        }
        free(q);
        if (msg)
                dbus_message_unref(msg);
}

int method_register_writer(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct writer_options o = { .info = { .class_id = "", .level = VSS_LEVEL_BACK_END },
                                    .usage = "" };
        struct vss_error_buf err = { "" };
        DBusMessageIter iter;
        char path[LIFECYCLE_PATH_MAX];
        CoreWriter *w;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        int r = bus_dict_foreach(call, &iter, writer_option, &o);
        if (r < 0)
                return r;
        if (!o.info.name || !o.info.instance_id)
                return bus_call_error(call, -EINVAL, "RegisterWriter needs the options Name and "
                                      "InstanceId (a unique id of this writer instance)");
        if (!o.info.class_id[0])
                o.info.class_id = o.info.name; /* writers of one kind share a name */
        r = core_writer_register(m->core, bus_call_get_sender(call), &o.info, &w, &err);
        if (r < 0)
                return lifecycle_error(call, r, &err);
        Exported *e = w->userdata;
        if (e && !(e->usage = strdup(o.usage))) {
                core_writer_unregister(w, bus_call_get_sender(call), NULL);
                return -ENOMEM;
        }
        log_info("writer '%s' (%s) registered by %s", w->name, w->instance_id, w->owner);
        const char *p = lifecycle_path(CORE_OBJECT_WRITER, w, path);
        return bus_call_reply(call, DBUS_TYPE_OBJECT_PATH, &p, DBUS_TYPE_INVALID);
}

int writer_object_publish(Exported *e)
{
        credentials_ask(e);
        return 0;
}

/* --- events -------------------------------------------------------------------------------- */

int writer_object_send(const CoreWriter *w, enum core_event event, uint64_t cookie,
                       const CoreSet *set)
{
        const Exported *e = w->userdata;
        const char *set_id = set ? set->id : "";
        size_t n = set ? set->n_volumes : 0;
        dbus_uint64_t c = cookie;

        if (!e)
                return -ENOTCONN;
        const char **volumes = calloc(n + 1, sizeof(*volumes));
        if (!volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                volumes[i] = set->volumes[i].volume;
        int r = bus_object_emit_signal(e->bus_object, &writer_object_interface,
                                       core_event_to_string(event), w->owner, DBUS_TYPE_UINT64,
                                       &c, DBUS_TYPE_STRING, &set_id, DBUS_TYPE_ARRAY,
                                       DBUS_TYPE_STRING, &volumes, (int)n, DBUS_TYPE_INVALID);
        free(volumes);
        return r;
}

/* --- methods -------------------------------------------------------------------------------- */

static int failure_from_string(const char *s)
{
        if (!s[0])
                return VSS_WF_NONE;
        for (int f = VSS_WF_NONE; f <= VSS_WF_NONRETRYABLE; f++)
                if (strcmp(s, vss_writer_failure_to_string((enum vss_writer_failure)f)) == 0)
                        return f;
        return -EINVAL;
}

static int method_answer(BusCall *call, void *userdata)
{
        dbus_uint64_t cookie;
        const char *failure, *message;
        struct vss_error_buf err = { "" };

        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_UINT64, &cookie,
                              DBUS_TYPE_STRING, &failure, DBUS_TYPE_STRING, &message,
                              DBUS_TYPE_INVALID);
        int f = failure_from_string(failure);
        if (f < 0)
                return bus_call_error(call, -EINVAL, "unknown writer failure \"%s\"; use NONE, "
                                      "INCONSISTENTSNAPSHOT, OUTOFRESOURCES, TIMEOUT, RETRYABLE "
                                      "or NONRETRYABLE", failure);
        int r = core_writer_answer(writer_of(userdata), bus_call_get_sender(call), cookie,
                                   (enum vss_writer_failure)f, message, &err);
        return r < 0 ? lifecycle_error(call, r, &err) : 0;
}

/* Components of SetMetadata; strings point into the message. */
struct components {
        CoreComponentInfo *items;
        size_t n;
};

static void components_free(struct components *c)
{
        for (size_t i = 0; i < c->n; i++)
                free((void *)c->items[i].files);
        free(c->items);
}

static int components_read(DBusMessageIter *array, struct components *c)
{
        DBusMessageIter it, st;
        size_t n = 0;

        dbus_message_iter_recurse(array, &it);
        for (; dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRUCT; dbus_message_iter_next(&it))
                n++;
        if (!(c->items = calloc(n ? n : 1, sizeof(*c->items))))
                return -ENOMEM;
        dbus_message_iter_recurse(array, &it);
        for (; c->n < n; c->n++, dbus_message_iter_next(&it)) {
                CoreComponentInfo *ci = &c->items[c->n];
                const char **files;
                dbus_message_iter_recurse(&it, &st);
                dbus_message_iter_get_basic(&st, &ci->logical_path);
                dbus_message_iter_next(&st);
                dbus_message_iter_get_basic(&st, &ci->name);
                dbus_message_iter_next(&st);
                if (bus_read_strv(&st, &files, &ci->n_files) < 0)
                        return -ENOMEM;
                ci->files = files;
        }
        return 0;
}

static int method_set_metadata(BusCall *call, void *userdata)
{
        struct components c = { NULL, 0 };
        struct vss_error_buf err = { "" };
        DBusMessageIter iter;

        dbus_message_iter_init(bus_call_get_message(call), &iter);
        int r = components_read(&iter, &c);
        if (r >= 0 && (r = core_writer_set_metadata(writer_of(userdata), bus_call_get_sender(call),
                                                    c.items, c.n, &err)) < 0)
                r = lifecycle_error(call, r, &err);
        components_free(&c);
        return r;
}

static int method_unregister(BusCall *call, void *userdata)
{
        struct vss_error_buf err = { "" };
        int r = core_writer_unregister(writer_of(userdata), bus_call_get_sender(call), &err);
        return r < 0 ? lifecycle_error(call, r, &err) : 0;
}

/* --- properties ------------------------------------------------------------------------------ */

#define WRITER_STRING_GETTER(fn, expr)                                                      \
        static int fn(DBusMessageIter *iter, void *userdata)                                \
        {                                                                                   \
                const CoreWriter *w = writer_of(userdata);                                  \
                return bus_append_string(iter, (expr)) ? 0 : -ENOMEM;                       \
        }

WRITER_STRING_GETTER(get_name, w->name)
WRITER_STRING_GETTER(get_instance_id, w->instance_id)
WRITER_STRING_GETTER(get_class_id, w->class_id)
WRITER_STRING_GETTER(get_level, vss_writer_level_to_string(w->level))
WRITER_STRING_GETTER(get_state, vss_writer_state_to_string(w->state))

static int get_usage(DBusMessageIter *iter, void *userdata)
{
        const Exported *e = userdata;
        return bus_append_string(iter, e->usage ? e->usage : "") ? 0 : -ENOMEM;
}

static int get_freeze_timeout(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, core_writer_freeze_timeout(writer_of(userdata))) ? 0
                                                                                       : -ENOMEM;
}

static int get_pid(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, ((Exported *)userdata)->pid) ? 0 : -ENOMEM;
}

static int get_uid(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, ((Exported *)userdata)->uid) ? 0 : -ENOMEM;
}

static int get_last_failure(DBusMessageIter *iter, void *userdata)
{
        const CoreWriter *w = writer_of(userdata);
        DBusMessageIter st;

        return dbus_message_iter_open_container(iter, DBUS_TYPE_STRUCT, NULL, &st) &&
                               bus_append_string(&st, vss_writer_failure_to_string(w->failure)) &&
                               bus_append_string(&st, w->failure_message) &&
                               dbus_message_iter_close_container(iter, &st)
                       ? 0 : -ENOMEM;
}

static bool append_component(DBusMessageIter *array, const CoreComponent *c)
{
        DBusMessageIter st;

        return dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, NULL, &st) &&
               bus_append_string(&st, c->logical_path) && bus_append_string(&st, c->name) &&
               bus_append_strv(&st, (const char *const *)c->files, c->n_files) &&
               dbus_message_iter_close_container(array, &st);
}

static int get_metadata(DBusMessageIter *iter, void *userdata)
{
        const CoreWriter *w = writer_of(userdata);
        DBusMessageIter array;
        bool ok = dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(ssas)", &array);

        for (size_t i = 0; ok && i < w->n_components; i++)
                ok = append_component(&array, &w->components[i]);
        return ok && dbus_message_iter_close_container(iter, &array) ? 0 : -ENOMEM;
}

#define EVENT_ARGS BUS_ARGS({ "cookie", "t" }, { "snapshot_set_id", "s" }, { "volumes", "as" })

const BusInterface writer_object_interface = {
        .name = VSS_IFACE_WRITER,
        .methods = (const BusMethod[]){
                { "Answer", BUS_ARGS({ "cookie", "t" }, { "failure", "s" }, { "message", "s" }),
                  BUS_NO_ARGS, method_answer, BUS_ACCESS_WRITER },
                { "SetMetadata", BUS_ARGS({ "components", "a(ssas)" }), BUS_NO_ARGS,
                  method_set_metadata, BUS_ACCESS_WRITER },
                { "Unregister", BUS_NO_ARGS, BUS_NO_ARGS, method_unregister, BUS_ACCESS_WRITER },
                { NULL } },
        .properties = (const BusProperty[]){
                { "Name", "s", get_name, NULL, BUS_PROPERTY_CONST },
                { "InstanceId", "s", get_instance_id, NULL, BUS_PROPERTY_CONST },
                { "ClassId", "s", get_class_id, NULL, BUS_PROPERTY_CONST },
                { "Level", "s", get_level, NULL, BUS_PROPERTY_CONST },
                { "Usage", "s", get_usage, NULL, BUS_PROPERTY_CONST },
                { "FreezeTimeoutMs", "u", get_freeze_timeout, NULL, 0 },
                { "State", "s", get_state, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "LastFailure", "(ss)", get_last_failure, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Pid", "u", get_pid, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Uid", "u", get_uid, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Metadata", "a(ssas)", get_metadata, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { NULL } },
        .signals = (const BusSignal[]){
                { "Identify", EVENT_ARGS },
                { "PrepareBackup", EVENT_ARGS },
                { "PrepareSnapshot", EVENT_ARGS },
                { "Freeze", EVENT_ARGS },
                { "Thaw", EVENT_ARGS },
                { "PostSnapshot", EVENT_ARGS },
                { "Abort", EVENT_ARGS },
                { "BackupComplete", EVENT_ARGS },
                { "BackupShutdown", EVENT_ARGS },
                { NULL } },
};
