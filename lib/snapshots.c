/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshots.c: the snapshots and snapshot sets vssd knows of, listed from
 * ObjectManager.GetManagedObjects into vss_snapshot_info and
 * vss_snapshot_set_info, and DeleteSnapshots.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "libvss-private.h"

/* ---- snapshots --------------------------------------------------------------------------- */

static const struct field_spec snapshot_fields[] = {
        { "Id", "s", offsetof(vss_snapshot_info, id), 0 },
        { "SnapshotSet", "o", offsetof(vss_snapshot_info, set_object_path), 0 },
        { "SnapshotSetId", "s", offsetof(vss_snapshot_info, set_id), 0 },
        { "Origin", "s", offsetof(vss_snapshot_info, origin), 0 },
        { "Provider", "s", offsetof(vss_snapshot_info, provider), 0 },
        { "Attributes", "as", offsetof(vss_snapshot_info, attributes), 0 },
        { "CreationTime", "t", offsetof(vss_snapshot_info, creation_time_usec), 0 },
        { "State", "s", offsetof(vss_snapshot_info, state), 0 },
        { "Device", "s", offsetof(vss_snapshot_info, device), 0 },
        { "ExposedPath", "s", offsetof(vss_snapshot_info, exposed_path), 0 },
        { "CowUsedBytes", "t", offsetof(vss_snapshot_info, cow_used_bytes), 0 },
        { "CowSizeBytes", "t", offsetof(vss_snapshot_info, cow_size_bytes), 0 },
};

VSS_EXPORT vss_snapshot_info *vss_snapshot_info_free(vss_snapshot_info *snapshot)
{
        if (snapshot) {
                objects_fields_free(snapshot_fields, ELEMENTSOF(snapshot_fields), snapshot);
                free(snapshot->object_path);
                free(snapshot);
        }
        return NULL;
}

DEFINE_PUBLIC_LIST_FREE_FUNC(vss_snapshot_info, vss_snapshot_info_list_free,
                             vss_snapshot_info_free);

int snapshot_info_update(vss_client *client, const char *object_path, DBusMessageIter *props,
                         vss_snapshot_info *snapshot)
{
        return objects_fields_parse(client, object_path, props, snapshot_fields,
                                    ELEMENTSOF(snapshot_fields), snapshot);
}

int snapshot_info_get(vss_client *client, const char *object_path, vss_snapshot_info **ret)
{
        _cleanup_(vss_snapshot_info_freep) vss_snapshot_info *s = calloc(1, sizeof(*s));
        if (!s || !(s->object_path = strdup(object_path)))
                return client_oom(client);
        int r = objects_get_all(client, object_path, VSS_IFACE_SNAPSHOT, object_path,
                                snapshot_fields, ELEMENTSOF(snapshot_fields), s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* An objects_item_fn: a vss_snapshot_info from each Snapshot of set USERDATA (NULL: any). */
static int snapshot_info_new(vss_client *client, const char *object_path, const char *interface,
                             DBusMessageIter *props, void *userdata, void **ret)
{
        const char *set_id = userdata;

        if (strcmp(interface, VSS_IFACE_SNAPSHOT) != 0)
                return 0;
        _cleanup_(vss_snapshot_info_freep) vss_snapshot_info *s = calloc(1, sizeof(*s));
        if (!s || !(s->object_path = strdup(object_path)))
                return client_oom(client);
        int r = snapshot_info_update(client, object_path, props, s);
        if (r < 0)
                return r;
        if (!set_id || strcmp(s->set_id, set_id) == 0)
                *ret = TAKE_PTR(s);
        return 0;
}

/* A snapshot with its set's age: every snapshot of a set sorts together. */
struct snapshot_key {
        vss_snapshot_info *s;
        uint64_t set_time;
};

static int snapshot_key_compare(const void *a, const void *b)
{
        const struct snapshot_key *ka = a, *kb = b;
        if (ka->set_time != kb->set_time)
                return ka->set_time < kb->set_time ? -1 : 1;
        int c = strcmp(ka->s->set_id, kb->s->set_id);
        if (c == 0)
                c = strcmp(ka->s->origin, kb->s->origin);
        return c ? c : strcmp(ka->s->id, kb->s->id);
}

/* Oldest first by set (a set's age is its oldest snapshot's), then by origin. */
static int snapshots_sort(vss_client *client, vss_snapshot_info **list, size_t n)
{
        struct snapshot_key *keys = calloc(n ? n : 1, sizeof(*keys));
        if (!keys)
                return client_oom(client);
        for (size_t i = 0; i < n; i++) {
                keys[i] = (struct snapshot_key){ list[i], list[i]->creation_time_usec };
                for (size_t k = 0; k < n; k++)
                        if (strcmp(list[k]->set_id, list[i]->set_id) == 0 &&
                            list[k]->creation_time_usec < keys[i].set_time)
                                keys[i].set_time = list[k]->creation_time_usec;
        }
        qsort(keys, n, sizeof(*keys), snapshot_key_compare);
        for (size_t i = 0; i < n; i++)
                list[i] = keys[i].s;
        free(keys);
        return 0;
}

VSS_EXPORT int vss_client_list_snapshots(vss_client *client, const char *set_id,
                                         vss_snapshot_info ***ret_snapshots, size_t *ret_n)
{
        _cleanup_(vss_snapshot_info_list_freep) vss_snapshot_info **list = NULL;
        size_t n;

        if (!client || !ret_snapshots)
                return -EINVAL;
        int r = objects_list(client, snapshot_info_new, (void *)set_id, (void ***)&list, &n);
        if (r >= 0)
                r = snapshots_sort(client, list, n);
        if (r < 0)
                return r;
        *ret_snapshots = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* ---- snapshot sets ------------------------------------------------------------------------ */

static const struct field_spec set_fields[] = {
        { "Id", "s", offsetof(vss_snapshot_set_info, id), 0 },
        { "State", "s", offsetof(vss_snapshot_set_info, state), 0 },
        { "Volumes", "as", offsetof(vss_snapshot_set_info, volumes), 0 },
        { "Attributes", "as", offsetof(vss_snapshot_set_info, attributes), 0 },
        { "Session", "o", offsetof(vss_snapshot_set_info, session_object_path), 0 },
        { "Error", "s", offsetof(vss_snapshot_set_info, error), 0 },
        { "BackupSucceeded", "b", offsetof(vss_snapshot_set_info, backup_succeeded), 0 },
        { "Atomicity", "s", offsetof(vss_snapshot_set_info, atomicity), 0 },
};

VSS_EXPORT vss_snapshot_set_info *vss_snapshot_set_info_free(vss_snapshot_set_info *set)
{
        if (set) {
                objects_fields_free(set_fields, ELEMENTSOF(set_fields), set);
                free(set->object_path);
                free(set);
        }
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_snapshot_set_info *, vss_snapshot_set_info_free);
DEFINE_PUBLIC_LIST_FREE_FUNC(vss_snapshot_set_info, vss_snapshot_set_info_list_free,
                             vss_snapshot_set_info_free);

/* What a set's age needs from each snapshot. */
struct snapshot_time {
        char *set_id;
        uint64_t creation_time_usec;
};

static const struct field_spec snapshot_time_fields[] = {
        { "SnapshotSetId", "s", offsetof(struct snapshot_time, set_id), 0 },
        { "CreationTime", "t", offsetof(struct snapshot_time, creation_time_usec), 0 },
};

struct snapshot_times {
        struct snapshot_time *v;
        size_t n;
};

static int snapshot_times_add(vss_client *client, const char *object_path,
                              DBusMessageIter *props, struct snapshot_times *times)
{
        struct snapshot_time t = { 0 };

        int r = objects_fields_parse(client, object_path, props, snapshot_time_fields,
                                     ELEMENTSOF(snapshot_time_fields), &t);
        if (r < 0) {
                objects_fields_free(snapshot_time_fields, ELEMENTSOF(snapshot_time_fields), &t);
                return r;
        }
        struct snapshot_time *v = realloc(times->v, (times->n + 1) * sizeof(*v));
        if (!v) {
                objects_fields_free(snapshot_time_fields, ELEMENTSOF(snapshot_time_fields), &t);
                return client_oom(client);
        }
        v[times->n++] = t;
        times->v = v;
        return 0;
}

/*
 * An objects_item_fn: a vss_snapshot_set_info from each SnapshotSet
 * interface, and the time of each Snapshot into USERDATA's snapshot_times.
 */
static int set_info_new(vss_client *client, const char *object_path, const char *interface,
                        DBusMessageIter *props, void *userdata, void **ret)
{
        if (strcmp(interface, VSS_IFACE_SNAPSHOT) == 0)
                return snapshot_times_add(client, object_path, props, userdata);
        if (strcmp(interface, VSS_IFACE_SNAPSHOT_SET) != 0)
                return 0;

        _cleanup_(vss_snapshot_set_info_freep) vss_snapshot_set_info *s = calloc(1, sizeof(*s));
        if (!s || !(s->object_path = strdup(object_path)))
                return client_oom(client);
        int r = objects_fields_parse(client, object_path, props, set_fields,
                                     ELEMENTSOF(set_fields), s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* Sets with snapshots oldest first, then the others (still being made), by id. */
static int set_compare(const void *a, const void *b)
{
        const vss_snapshot_set_info *sa = *(vss_snapshot_set_info *const *)a;
        const vss_snapshot_set_info *sb = *(vss_snapshot_set_info *const *)b;
        uint64_t ta = sa->creation_time_usec ? sa->creation_time_usec : UINT64_MAX;
        uint64_t tb = sb->creation_time_usec ? sb->creation_time_usec : UINT64_MAX;
        if (ta != tb)
                return ta < tb ? -1 : 1;
        return strcmp(sa->id, sb->id);
}

/* A set's age is its oldest snapshot's. */
static void sets_sort(vss_snapshot_set_info **list, size_t n, const struct snapshot_times *times)
{
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < times->n; k++) {
                        const struct snapshot_time *t = &times->v[k];
                        uint64_t *age = &list[i]->creation_time_usec;
                        if (strcmp(t->set_id, list[i]->id) == 0 && t->creation_time_usec &&
                            (*age == 0 || t->creation_time_usec < *age))
                                *age = t->creation_time_usec;
                }
        qsort(list, n, sizeof(*list), set_compare);
}

VSS_EXPORT int vss_client_list_snapshot_sets(vss_client *client,
                                             vss_snapshot_set_info ***ret_sets, size_t *ret_n)
{
        _cleanup_(vss_snapshot_set_info_list_freep) vss_snapshot_set_info **list = NULL;
        struct snapshot_times times = { 0 };
        size_t n;

        if (!client || !ret_sets)
                return -EINVAL;
        int r = objects_list(client, set_info_new, &times, (void ***)&list, &n);
        if (r >= 0)
                sets_sort(list, n, &times);
        for (size_t k = 0; k < times.n; k++)
                free(times.v[k].set_id);
        free(times.v);
        if (r < 0)
                return r;
        *ret_sets = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* ---- deleting ----------------------------------------------------------------------------- */

VSS_EXPORT int vss_client_delete_snapshots(vss_client *client, enum vss_delete_by by,
                                           const char *key, unsigned *ret_deleted)
{
        static const char *const by_names[] = {
                [VSS_DELETE_SNAPSHOT] = "snapshot",
                [VSS_DELETE_SET] = "set",
                [VSS_DELETE_VOLUME] = "volume",
        };
        _cleanup_(dbus_message_unrefp) DBusMessage *call = NULL;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply = NULL;
        dbus_uint32_t deleted;

        if (!client || !key || (unsigned)by >= ELEMENTSOF(by_names))
                return -EINVAL;
        client_clear_error(client);
        const char *by_name = by_names[by];
        if (!*key)
                return client_fail(client, -EINVAL, NULL, "no %s given to delete snapshots by",
                                   by == VSS_DELETE_VOLUME ? "volume" : "id");
        int r = objects_check_string(client, by == VSS_DELETE_VOLUME ? "volume" : "id", key);
        if (r < 0)
                return r;

        call = bus_new_call(VSS_ROOT_PATH, VSS_IFACE_COORDINATOR, "DeleteSnapshots");
        if (!call || !dbus_message_append_args(call, DBUS_TYPE_STRING, &by_name, DBUS_TYPE_STRING,
                                               &key, DBUS_TYPE_INVALID))
                return client_oom(client);
        r = bus_call(client, call, "u", &reply);
        if (r < 0)
                return r;
        if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &deleted, DBUS_TYPE_INVALID))
                return client_fail(client, -EBADMSG, NULL,
                                   "vssd's answer to DeleteSnapshots could not be read");
        if (ret_deleted)
                *ret_deleted = deleted;
        return 0;
}
