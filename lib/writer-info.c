/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writer-info.c: the writers registered with vssd, as a requester or an
 * administrator sees them (vssadmin list writers): listed from
 * ObjectManager.GetManagedObjects into vss_writer_info. The writer side of
 * libvss, for programs that are writers, is writer.h.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "libvss-private.h"

static const struct field_spec writer_fields[] = {
        { "Name", "s", offsetof(vss_writer_info, name), 0 },
        { "InstanceId", "s", offsetof(vss_writer_info, instance_id), 0 },
        { "ClassId", "s", offsetof(vss_writer_info, class_id), 0 },
        { "Level", "s", offsetof(vss_writer_info, level), 0 },
        { "Usage", "s", offsetof(vss_writer_info, usage), 0 },
        { "FreezeTimeoutMs", "u", offsetof(vss_writer_info, freeze_timeout_ms), 0 },
        { "State", "s", offsetof(vss_writer_info, state), 0 },
        { "LastFailure", "(ss)", offsetof(vss_writer_info, last_failure),
          offsetof(vss_writer_info, last_failure_message) },
        { "Pid", "u", offsetof(vss_writer_info, pid), 0 },
        { "Uid", "u", offsetof(vss_writer_info, uid), 0 },
};

VSS_EXPORT vss_writer_info *vss_writer_info_free(vss_writer_info *writer)
{
        if (writer) {
                objects_fields_free(writer_fields, ELEMENTSOF(writer_fields), writer);
                free(writer->object_path);
                free(writer);
        }
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vss_writer_info *, vss_writer_info_free);
DEFINE_PUBLIC_LIST_FREE_FUNC(vss_writer_info, vss_writer_info_list_free, vss_writer_info_free);

/* An objects_item_fn: a vss_writer_info from each Writer interface. */
static int writer_info_new(vss_client *client, const char *object_path, const char *interface,
                           DBusMessageIter *props, void *userdata, void **ret)
{
        if (strcmp(interface, VSS_IFACE_WRITER) != 0)
                return 0;
        _cleanup_(vss_writer_info_freep) vss_writer_info *w = calloc(1, sizeof(*w));
        if (!w || !(w->object_path = strdup(object_path)))
                return client_oom(client);
        /* Unknown unless vssd says: 0 would read as root. */
        w->pid = w->uid = UINT32_MAX;
        int r = objects_fields_parse(client, object_path, props, writer_fields,
                                     ELEMENTSOF(writer_fields), w);
        if (r < 0)
                return r;
        /* An empty failure is how a writer says NONE (docs/dbus-api.md, Answer). */
        if (!*w->last_failure) {
                char *none = strdup("NONE");
                if (!none)
                        return client_oom(client);
                free(w->last_failure);
                w->last_failure = none;
        }
        w->state_code = objects_writer_state(w->state);
        w->last_failure_code = objects_writer_failure(w->last_failure);
        *ret = TAKE_PTR(w);
        return 0;
}

static int writer_compare(const void *a, const void *b)
{
        const vss_writer_info *wa = *(vss_writer_info *const *)a;
        const vss_writer_info *wb = *(vss_writer_info *const *)b;
        int c = strcmp(wa->name, wb->name);
        if (c == 0)
                c = strcmp(wa->instance_id, wb->instance_id);
        return c ? c : strcmp(wa->object_path, wb->object_path);
}

VSS_EXPORT int vss_client_list_writers(vss_client *client, vss_writer_info ***ret_writers,
                                       size_t *ret_n)
{
        _cleanup_(vss_writer_info_list_freep) vss_writer_info **list = NULL;
        size_t n;

        if (!client || !ret_writers)
                return -EINVAL;
        int r = objects_list(client, writer_info_new, NULL, (void ***)&list, &n);
        if (r < 0)
                return r;
        qsort(list, n, sizeof(*list), writer_compare);
        *ret_writers = TAKE_PTR(list);
        if (ret_n)
                *ret_n = n;
        return 0;
}
