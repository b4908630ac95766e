/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backup.c: the requester's session (vss_backup over org.linuxvss.Vss1.Backup,
 * like IVssBackupComponents) and the one-call CreateSnapshotSet. The calls
 * that wait for writers or providers go without a client-side timeout: vssd
 * bounds them itself (see requester.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "libvss-private.h"

struct vss_backup {
        unsigned n_ref;
        vss_client *client;
        char *object_path;
        char *set_id; /* after StartSnapshotSet */
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

/* ---- calls ------------------------------------------------------------------------------- */

/* bus_call(), or objects_call_long() when LONG, with an unknown object explained. */
static int call(vss_client *client, DBusMessage *m, bool long_call, const char *reply_signature,
                DBusMessage **ret_reply)
{
        int r = long_call ? objects_call_long(client, m, reply_signature, ret_reply)
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

        client_clear_error(b->client);
        m = backup_new_call(b, method);
        if (!m)
                return client_oom(b->client);
        return call(b->client, m, long_call, reply_signature, ret_reply);
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

VSS_EXPORT int vss_client_start_backup(vss_client *client, const char *context,
                                       const char *const *attributes, vss_backup **ret)
{
        _cleanup_(dbus_message_unrefp) DBusMessage *m = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        DBusMessageIter iter;
        const char *path;

        if (!client || !ret)
                return -EINVAL;
        client_clear_error(client);
        int r = context ? objects_check_string(client, "context", context) : 0;
        if (r >= 0)
                r = objects_check_strv(client, "attribute", attributes);
        if (r < 0)
                return r;

        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "StartBackup");
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!objects_append_options(&iter, context, attributes, NULL))
                return client_oom(client);
        r = bus_call(client, m, "o", &reply);
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
        *ret = b;
        return 0;
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
        return call(client, m, false, "", &reply);
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
        return call(client, m, false, "", &reply);
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
        r = call(client, m, false, "s", &reply);
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

/* The fields of struct vss_create_options the first release had. */
#define CREATE_OPTIONS_SIZE_V1 (offsetof(struct vss_create_options, provider) + sizeof(const char *))

static int check_create_args(vss_client *client, const char *const *volumes, size_t n,
                             const struct vss_create_options *opts)
{
        if (opts && opts->size < CREATE_OPTIONS_SIZE_V1)
                return client_fail(client, -EINVAL, NULL,
                                   "struct vss_create_options has size %zu: set .size to "
                                   "sizeof(struct vss_create_options)",
                                   opts->size);
        for (size_t i = 0; i < n; i++) {
                if (!volumes[i])
                        return client_fail(client, -EINVAL, NULL, "volume %zu is NULL", i + 1);
                int r = objects_check_string(client, "volume name", volumes[i]);
                if (r < 0)
                        return r;
        }
        if (!opts)
                return 0;
        int r = opts->context ? objects_check_string(client, "context", opts->context) : 0;
        if (r >= 0)
                r = objects_check_strv(client, "attribute", opts->attributes);
        if (r >= 0 && opts->provider)
                r = objects_check_string(client, "provider name", opts->provider);
        return r;
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

        if (!client || (!volumes && n > 0) || !ret_set_id)
                return -EINVAL;
        client_clear_error(client);
        int r = check_create_args(client, volumes, n, opts);
        if (r < 0)
                return r;

        m = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "CreateSnapshotSet");
        if (!m)
                return client_oom(client);
        dbus_message_iter_init_append(m, &iter);
        if (!append_volumes(&iter, volumes, n) ||
            !objects_append_options(&iter, opts ? opts->context : NULL,
                                    opts ? opts->attributes : NULL, opts ? opts->provider : NULL))
                return client_oom(client);
        r = objects_call_long(client, m, "os", &reply);
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
