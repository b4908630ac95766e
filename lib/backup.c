/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backup.c: the requester's session (vss_backup over org.linuxvss.Vss1.Backup,
 * like IVssBackupComponents) and the one-call CreateSnapshotSet. The calls
 * that wait for writers or providers go without a client-side timeout: vssd
 * bounds them itself (see requester.h); while they wait, a caller's progress
 * function hears how the snapshot set's State moves.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libvss-private.h"

struct vss_backup {
        unsigned n_ref;
        vss_client *client;
        char *object_path;
        char *set_id; /* after StartSnapshotSet */
        vss_progress_fn progress;
        void *progress_userdata;
};

VSS_EXPORT vss_backup *vss_backup_ref(vss_backup *backup)
{
        if (backup)
                backup->n_ref++;
        return backup;
}

VSS_EXPORT vss_backup *vss_backup_unref(vss_backup *backup)
{
        if (!backup || --backup->n_ref > 0)
                return NULL;
        vss_client_unref(backup->client);
        free(backup->object_path);
        free(backup->set_id);
        free(backup);
        return NULL;
}

VSS_EXPORT const char *vss_backup_get_object_path(const vss_backup *backup)
{
        return backup ? backup->object_path : NULL;
}

VSS_EXPORT const char *vss_backup_get_snapshot_set_id(const vss_backup *backup)
{
        return backup ? backup->set_id : NULL;
}

/* ---- waiting with progress ------------------------------------------------------------------ */

/* Who hears about a long call: FN, for the set at SET_PATH (NULL: any set). */
struct progress {
        vss_progress_fn fn;
        void *userdata;
        const char *set_path;
        uint64_t start_ms;
        char state[64]; /* the last State seen, "" before any */
        char set_id[64];
};

#define PROGRESS_TICK_MS 250
#define PROGRESS_MATCH                                                                      \
        "type='signal',sender='" VSS_BUS_NAME "',interface='" DBUS_INTERFACE_PROPERTIES      \
        "',member='PropertiesChanged',arg0='" VSS_IFACE_SNAPSHOT_SET "'"

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void progress_report(struct progress *p)
{
        p->fn(p->set_id[0] ? p->set_id : NULL, p->state[0] ? p->state : NULL,
              now_ms() - p->start_ms, p->userdata);
}

/* The new State in PropertiesChanged M of a set, or NULL. */
static const char *changed_state(DBusMessage *m)
{
        DBusMessageIter iter, array;

        if (!dbus_message_iter_init(m, &iter) || !dbus_message_iter_next(&iter) ||
            dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_ARRAY)
                return NULL;
        dbus_message_iter_recurse(&iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&array)) {
                DBusMessageIter entry, variant;
                const char *name, *value;
                dbus_message_iter_recurse(&array, &entry);
                dbus_message_iter_get_basic(&entry, &name);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &variant);
                if (strcmp(name, "State") != 0 ||
                    dbus_message_iter_get_arg_type(&variant) != DBUS_TYPE_STRING)
                        continue;
                dbus_message_iter_get_basic(&variant, &value);
                return value;
        }
        return NULL;
}

static DBusHandlerResult progress_filter(DBusConnection *conn, DBusMessage *m, void *userdata)
{
        struct progress *p = userdata;
        const char *path = dbus_message_get_path(m), *state;
        _cleanup_free_ char *id = NULL;

        if (!dbus_message_is_signal(m, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged") ||
            !path || (p->set_path && strcmp(path, p->set_path) != 0) ||
            !(state = changed_state(m)) || objects_path_to_id(path, "set", &id) < 0)
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        snprintf(p->state, sizeof(p->state), "%s", state);
        snprintf(p->set_id, sizeof(p->set_id), "%s", id);
        progress_report(p);
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* Send CALL and dispatch until its reply came, telling P what happens meanwhile. */
static int wait_reply(vss_client *client, DBusConnection *conn, DBusMessage *call,
                      struct progress *p, DBusMessage **ret)
{
        DBusPendingCall *pending = NULL;

        if (!dbus_connection_send_with_reply(conn, call, &pending, DBUS_TIMEOUT_INFINITE) ||
            !pending)
                return client_oom(client);
        progress_report(p);
        uint64_t next_tick = p->start_ms + PROGRESS_TICK_MS;
        while (!dbus_pending_call_get_completed(pending)) {
                uint64_t now = now_ms();
                int slice = next_tick > now ? (int)(next_tick - now) : 0;
                if (!dbus_connection_read_write_dispatch(conn, slice))
                        break; /* disconnected: the pending call completes with an error */
                if (now_ms() >= next_tick) {
                        progress_report(p);
                        next_tick += PROGRESS_TICK_MS;
                }
        }
        dbus_pending_call_block(pending);
        *ret = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        return *ret ? 0 : client_fail(client, -ECONNRESET, NULL,
                                      "the connection to vssd was lost during %s",
                                      dbus_message_get_member(call));
}

/*
 * objects_call_long() reporting to P (NULL, or without a function: just that).
 * The match rule is added without waiting: the bus handles it before the call
 * it precedes, so no State change of the call is missed.
 */
static int call_long_progress(vss_client *client, DBusMessage *m, const char *reply_signature,
                              struct progress *p, DBusMessage **ret_reply)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusConnection *conn;

        if (!p || !p->fn)
                return objects_call_long(client, m, reply_signature, ret_reply);
        client_clear_error(client);
        int r = client_connection(client, &conn);
        if (r < 0)
                return r;
        if (!dbus_connection_add_filter(conn, progress_filter, p, NULL))
                return client_oom(client);
        dbus_bus_add_match(conn, PROGRESS_MATCH, NULL);
        p->start_ms = now_ms();
        r = wait_reply(client, conn, m, p, &reply);
        dbus_bus_remove_match(conn, PROGRESS_MATCH, NULL);
        dbus_connection_remove_filter(conn, progress_filter, p);
        if (r < 0)
                return r;
        r = bus_reply_check(client, m, reply, reply_signature);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* ---- calls ------------------------------------------------------------------------------- */

/* The progress of B's long calls: for its set once it has one. */
static struct progress backup_progress(const vss_backup *b, char *path_buf, size_t size)
{
        struct progress p = { .fn = b->progress, .userdata = b->progress_userdata };
        _cleanup_free_ char *path = NULL;
        if (b->set_id && objects_id_to_path(b->set_id, "set", &path) >= 0) {
                snprintf(path_buf, size, "%s", path);
                p.set_path = path_buf;
        }
        return p;
}

/*
 * bus_call(), or when LONG a call without client timeout that reports to P
 * (may be NULL), with an unknown object explained.
 */
static int call(vss_client *client, DBusMessage *m, bool long_call, struct progress *p,
                const char *reply_signature, DBusMessage **ret_reply)
{
        int r = long_call ? call_long_progress(client, m, reply_signature, p, ret_reply)
                          : bus_call(client, m, reply_signature, ret_reply);
        if (r < 0 && client_error_is(client, DBUS_ERROR_UNKNOWN_OBJECT))
                return client_fail(client, -ENOENT, DBUS_ERROR_UNKNOWN_OBJECT,
                                   "%s no longer exists on vssd: it was released, or vssd "
                                   "restarted; start again",
                                   dbus_message_get_path(m));
        return r;
}

static DBusMessage *backup_new_call(vss_backup *b, const char *method)
{
        return bus_new_call(b->object_path, VSS_IFACE_BACKUP, method);
}

/* METHOD of session B without arguments, through call(). */
static int backup_call(vss_backup *b, const char *method, bool long_call,
                       const char *reply_signature, DBusMessage **ret_reply)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        char set_path[256];
        struct progress p = backup_progress(b, set_path, sizeof(set_path));

        client_clear_error(b->client);
        m = backup_new_call(b, method);
        if (!m)
                return client_oom(b->client);
        return call(b->client, m, long_call, &p, reply_signature, ret_reply);
}

/*
 * A step vssd bounds itself (no client-side timeout), answered with nothing
 * (SIGNATURE "") or a string, such as warnings, copied to *RET (may be NULL).
 */
static int backup_simple(vss_backup *b, const char *method, const char *reply_signature,
                         char **ret)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!b)
                return -EINVAL;
        int r = backup_call(b, method, true, reply_signature, &reply);
        if (r < 0 || !*reply_signature)
                return r;
        return objects_reply_string(b->client, reply, ret);
}

/* The id of the set at PATH, METHOD's answer; -EBADMSG when PATH is not a set's. */
static int reply_set_id(vss_client *client, const char *method, const char *path, char **ret)
{
        int r = objects_path_to_id(path, "set", ret);
        if (r == -ENOMEM)
                return client_oom(client);
        if (r < 0)
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd answered %s with '%s', which is not a "
                                   "snapshot set's path",
                                   method, path);
        return 0;
}

/* ---- options ------------------------------------------------------------------------------ */

/* struct vss_create_options as far as the caller's SIZE says, the rest NULL. */
struct options {
        const char *context;
        const char *const *attributes;
        const char *provider;
        const char *const *exclude_writers;
        vss_progress_fn progress;
        void *progress_userdata;
};

/* The fields of struct vss_create_options each release had. */
#define OPTIONS_SIZE_V1 (offsetof(struct vss_create_options, provider) + sizeof(const char *))
#define OPTIONS_SIZE_V3 (offsetof(struct vss_create_options, progress_userdata) + sizeof(void *))

static int options_read(vss_client *client, const struct vss_create_options *opts,
                        struct options *ret)
{
        *ret = (struct options){ NULL };
        if (!opts)
                return 0;
        if (opts->size < OPTIONS_SIZE_V1)
                return client_fail(client, -EINVAL, NULL,
                                   "struct vss_create_options has size %zu: set .size to "
                                   "sizeof(struct vss_create_options)",
                                   opts->size);
        *ret = (struct options){ .context = opts->context, .attributes = opts->attributes,
                                 .provider = opts->provider };
        if (opts->size >= OPTIONS_SIZE_V3) {
                ret->exclude_writers = opts->exclude_writers;
                ret->progress = opts->progress;
                ret->progress_userdata = opts->progress_userdata;
        }
        int r = ret->context ? objects_check_string(client, "context", ret->context) : 0;
        if (r >= 0)
                r = objects_check_strv(client, "attribute", ret->attributes);
        if (r >= 0 && ret->provider)
                r = objects_check_string(client, "provider name", ret->provider);
        if (r >= 0)
                r = objects_check_strv(client, "writer to exclude", ret->exclude_writers);
        return r;
}

/* One {sv} entry of DICT whose value is the string VALUE, or the list LIST. */
static bool append_entry(DBusMessageIter *dict, const char *key, const char *value,
                         const char *const *list)
{
        DBusMessageIter entry, variant;

        if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
                return false;
        if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
            !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, value ? "s" : "as",
                                              &variant)) {
                dbus_message_iter_abandon_container(dict, &entry);
                return false;
        }
        bool ok = value ? dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &value)
                        : objects_append_strv(&variant, list);
        if (!ok) {
                dbus_message_iter_abandon_container(&entry, &variant);
                dbus_message_iter_abandon_container(dict, &entry);
                return false;
        }
        return dbus_message_iter_close_container(&entry, &variant) &&
               dbus_message_iter_close_container(dict, &entry);
}

/* The a{sv} of StartBackup and CreateSnapshotSet: each option only when given. */
static bool append_options(DBusMessageIter *iter, const struct options *o)
{
        DBusMessageIter dict;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{sv}", &dict))
                return false;
        bool ok = (!o->context || append_entry(&dict, "Context", o->context, NULL)) &&
                  (!o->attributes || append_entry(&dict, "Attributes", NULL, o->attributes)) &&
                  (!o->provider || append_entry(&dict, "Provider", o->provider, NULL)) &&
                  (!o->exclude_writers ||
                   append_entry(&dict, "ExcludeWriters", NULL, o->exclude_writers));
        if (!ok) {
                dbus_message_iter_abandon_container(iter, &dict);
                return false;
        }
        return dbus_message_iter_close_container(iter, &dict);
}

/* ---- the session -------------------------------------------------------------------------- */

static int start_backup(vss_client *client, const struct options *o, vss_backup **ret)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter;
        const char *path;

        if (o->provider)
                return client_fail(client, -EINVAL, NULL,
                                   "StartBackup takes no provider: name it in "
                                   "vss_backup_add_to_snapshot_set()");
        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "StartBackup");
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!append_options(&iter, o))
                return client_oom(client);
        int r = bus_call(client, m, "o", &reply);
        if (r < 0)
                return r;
        (void)dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);

        vss_backup *b = calloc(1, sizeof(*b));
        if (!b || !(b->object_path = strdup(path))) {
                free(b);
                return client_oom(client);
        }
        b->n_ref = 1;
        b->client = vss_client_ref(client);
        b->progress = o->progress;
        b->progress_userdata = o->progress_userdata;
        *ret = b;
        return 0;
}

VSS_EXPORT int vss_client_start_backup(vss_client *client, const char *context,
                                       const char *const *attributes, vss_backup **ret)
{
        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;
        struct options o;

        if (!client || !ret)
                return -EINVAL;
        client_clear_error(client);
        opts.context = context;
        opts.attributes = attributes;
        int r = options_read(client, &opts, &o);
        return r < 0 ? r : start_backup(client, &o, ret);
}

VSS_EXPORT int vss_client_start_backup_with_options(vss_client *client,
                                                    const struct vss_create_options *opts,
                                                    vss_backup **ret)
{
        struct options o;

        if (!client || !ret)
                return -EINVAL;
        client_clear_error(client);
        int r = options_read(client, opts, &o);
        return r < 0 ? r : start_backup(client, &o, ret);
}

VSS_EXPORT int vss_backup_set_context(vss_backup *backup, const char *context,
                                      const char *const *attributes)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter;

        if (!backup || !context)
                return -EINVAL;
        vss_client *client = backup->client;
        client_clear_error(client);
        int r = objects_check_string(client, "context", context);
        if (r >= 0)
                r = objects_check_strv(client, "attribute", attributes);
        if (r < 0)
                return r;
        m = backup_new_call(backup, "SetContext");
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &context) ||
            !objects_append_strv(&iter, attributes))
                return client_oom(client);
        return call(client, m, false, NULL, "", &reply);
}

VSS_EXPORT int vss_backup_gather_writer_metadata(vss_backup *backup)
{
        return backup_simple(backup, "GatherWriterMetadata", "", NULL);
}

VSS_EXPORT int vss_backup_add_component(vss_backup *backup, const char *instance_id,
                                        const char *logical_path, const char *name)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!backup || !instance_id || !logical_path || !name)
                return -EINVAL;
        vss_client *client = backup->client;
        client_clear_error(client);
        const char *const args[] = { instance_id, logical_path, name, NULL };
        int r = objects_check_strv(client, "component argument", args);
        if (r < 0)
                return r;
        m = backup_new_call(backup, "AddComponent");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &instance_id, DBUS_TYPE_STRING,
                                            &logical_path, DBUS_TYPE_STRING, &name,
                                            DBUS_TYPE_INVALID))
                return client_oom(client);
        return call(client, m, false, NULL, "", &reply);
}

VSS_EXPORT int vss_backup_start_snapshot_set(vss_backup *backup, char **ret_set_id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *id = NULL;
        const char *path;

        if (!backup)
                return -EINVAL;
        int r = backup_call(backup, "StartSnapshotSet", false, "o", &reply);
        if (r < 0)
                return r;
        (void)dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
        r = reply_set_id(backup->client, "StartSnapshotSet", path, &id);
        if (r < 0)
                return r;
        if (ret_set_id && !(*ret_set_id = strdup(id)))
                return client_oom(backup->client);
        free(backup->set_id);
        backup->set_id = TAKE_PTR(id);
        return 0;
}

VSS_EXPORT int vss_backup_add_to_snapshot_set(vss_backup *backup, const char *volume,
                                              const char *provider, char **ret_snapshot_id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;

        if (!backup || !volume)
                return -EINVAL;
        vss_client *client = backup->client;
        client_clear_error(client);
        if (!provider)
                provider = "";
        int r = objects_check_string(client, "volume name", volume);
        if (r >= 0)
                r = objects_check_string(client, "provider name", provider);
        if (r < 0)
                return r;
        m = backup_new_call(backup, "AddToSnapshotSet");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &volume, DBUS_TYPE_STRING,
                                            &provider, DBUS_TYPE_INVALID))
                return client_oom(client);
        r = call(client, m, false, NULL, "s", &reply);
        if (r < 0)
                return r;
        return objects_reply_string(client, reply, ret_snapshot_id);
}

VSS_EXPORT int vss_backup_prepare_for_backup(vss_backup *backup, char **ret_warnings)
{
        return backup_simple(backup, "PrepareForBackup", "s", ret_warnings);
}

VSS_EXPORT int vss_backup_do_snapshot_set(vss_backup *backup, char **ret_warnings)
{
        return backup_simple(backup, "DoSnapshotSet", "s", ret_warnings);
}

VSS_EXPORT int vss_backup_backup_complete(vss_backup *backup, char **ret_warnings)
{
        return backup_simple(backup, "BackupComplete", "s", ret_warnings);
}

VSS_EXPORT int vss_backup_set_backup_succeeded(vss_backup *backup, bool succeeded)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        dbus_bool_t b = succeeded;

        if (!backup)
                return -EINVAL;
        client_clear_error(backup->client);
        m = backup_new_call(backup, "SetBackupSucceeded");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_BOOLEAN, &b, DBUS_TYPE_INVALID))
                return client_oom(backup->client);
        return call(backup->client, m, false, NULL, "", &reply);
}

VSS_EXPORT int vss_backup_abort(vss_backup *backup)
{
        return backup_simple(backup, "AbortBackup", "", NULL);
}

VSS_EXPORT int vss_backup_release(vss_backup *backup)
{
        return backup_simple(backup, "Release", "", NULL);
}

/* ---- writer status ------------------------------------------------------------------------ */

VSS_EXPORT vss_writer_status *vss_writer_status_free(vss_writer_status *status)
{
        if (status) {
                free(status->object_path);
                free(status->name);
                free(status->instance_id);
                free(status->state);
                free(status->failure);
                free(status->message);
                free(status);
        }
        return NULL;
}

DEFINE_PUBLIC_LIST_FREE_FUNC(vss_writer_status, vss_writer_status_list_free,
                             vss_writer_status_free);

/* ITER points at one (osssss). */
static vss_writer_status *writer_status_new(DBusMessageIter *iter)
{
        DBusMessageIter st;
        const char *s[6];

        dbus_message_iter_recurse(iter, &st);
        for (size_t i = 0; i < ELEMENTSOF(s); i++, dbus_message_iter_next(&st))
                dbus_message_iter_get_basic(&st, &s[i]);

        vss_writer_status *w = calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->object_path = strdup(s[0]);
        w->name = strdup(s[1]);
        w->instance_id = strdup(s[2]);
        w->state = strdup(s[3]);
        w->failure = strdup(*s[4] ? s[4] : "NONE");
        w->message = strdup(s[5]);
        if (!w->object_path || !w->name || !w->instance_id || !w->state || !w->failure ||
            !w->message)
                return vss_writer_status_free(w);
        w->state_code = objects_writer_state(w->state);
        w->failure_code = objects_writer_failure(w->failure);
        return w;
}

VSS_EXPORT int vss_backup_gather_writer_status(vss_backup *backup,
                                               vss_writer_status ***ret_writers, size_t *ret_n)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter, array;
        size_t n = 0;

        if (!backup || !ret_writers)
                return -EINVAL;
        vss_client *client = backup->client;
        int r = backup_call(backup, "GatherWriterStatus", false, "a(osssss)", &reply);
        if (r < 0)
                return r;

        vss_writer_status **list = calloc(1, sizeof(*list));
        if (!list)
                return client_oom(client);
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
             dbus_message_iter_next(&array)) {
                vss_writer_status *w = writer_status_new(&array);
                if (!w || objects_list_append(client, (void ***)&list, &n, w) < 0) {
                        vss_writer_status_free(w);
                        vss_writer_status_list_free(list);
                        return client_oom(client);
                }
        }
        *ret_writers = list;
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* ---- the one-call lifecycle ------------------------------------------------------------------ */

static int check_volumes(vss_client *client, const char *const *volumes, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (!volumes[i])
                        return client_fail(client, -EINVAL, NULL, "volume %zu is NULL", i + 1);
                int r = objects_check_string(client, "volume name", volumes[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool append_volumes(DBusMessageIter *iter, const char *const *volumes, size_t n)
{
        DBusMessageIter array;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s", &array))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!dbus_message_iter_append_basic(&array, DBUS_TYPE_STRING, &volumes[i])) {
                        dbus_message_iter_abandon_container(iter, &array);
                        return false;
                }
        return dbus_message_iter_close_container(iter, &array);
}

VSS_EXPORT int vss_client_create_snapshot_set(vss_client *client, const char *const *volumes,
                                              size_t n, const struct vss_create_options *opts,
                                              char **ret_set_id, char **ret_warnings)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *id = NULL, *warnings_copy = NULL;
        DBusMessageIter iter;
        const char *path, *warnings;
        struct options o;

        if (!client || (!volumes && n > 0) || !ret_set_id)
                return -EINVAL;
        client_clear_error(client);
        int r = check_volumes(client, volumes, n);
        if (r >= 0)
                r = options_read(client, opts, &o);
        if (r < 0)
                return r;

        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "CreateSnapshotSet");
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!append_volumes(&iter, volumes, n) || !append_options(&iter, &o))
                return client_oom(client);
        /* Creation is serialized: the set whose State moves is the one being made. */
        struct progress p = { .fn = o.progress, .userdata = o.progress_userdata };
        r = call_long_progress(client, m, "os", &p, &reply);
        if (r < 0)
                return r;
        (void)dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_STRING,
                                    &warnings, DBUS_TYPE_INVALID);
        r = reply_set_id(client, "CreateSnapshotSet", path, &id);
        if (r < 0)
                return r;
        if (ret_warnings && !(warnings_copy = strdup(warnings)))
                return client_oom(client);
        *ret_set_id = TAKE_PTR(id);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings_copy);
        return 0;
}

/* The Session property of set PATH into *RET ("/" once it ended). */
static int set_session(vss_client *client, const char *set_id, const char *path, char **ret)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        const char *interface = VSS_IFACE_SNAPSHOT_SET, *property = "Session", *session;
        DBusMessageIter iter, variant;

        m = bus_new_call(path, DBUS_INTERFACE_PROPERTIES, "Get");
        if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &interface, DBUS_TYPE_STRING,
                                            &property, DBUS_TYPE_INVALID))
                return client_oom(client);
        int r = objects_call_on(client, m, "v", &reply, "vssd has no snapshot set %s", set_id);
        if (r < 0)
                return r;
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &variant);
        if (dbus_message_iter_get_arg_type(&variant) != DBUS_TYPE_OBJECT_PATH)
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd sent the Session of set %s with an unexpected type",
                                   set_id);
        dbus_message_iter_get_basic(&variant, &session);
        *ret = strdup(session);
        return *ret ? 0 : client_oom(client);
}

VSS_EXPORT int vss_client_release_snapshot_set(vss_client *client, const char *set_id)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        _cleanup_free_ char *path = NULL, *session = NULL;

        if (!client || !set_id)
                return -EINVAL;
        client_clear_error(client);
        int r = objects_id_path(client, set_id, "set", "snapshot set", &path);
        if (r < 0)
                return r;
        r = set_session(client, set_id, path, &session);
        if (r < 0)
                return r;
        if (strcmp(session, "/") == 0)
                return 0;

        m = bus_new_call(session, VSS_IFACE_BACKUP, "Release");
        if (!m)
                return client_oom(client);
        r = objects_call_long(client, m, "", &reply);
        /* It ended meanwhile: what was asked is done. */
        if (r < 0 && client_error_is(client, DBUS_ERROR_UNKNOWN_OBJECT)) {
                client_clear_error(client);
                return 0;
        }
        return r;
}
