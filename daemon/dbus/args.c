/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * args.c: reading the container arguments handlers get (a{sv} options, as
 * lists). Dispatch has already checked the call's signature, so these only
 * check what a signature cannot say: the type inside each variant.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dbus/bus.h"

int bus_dict_foreach(BusCall *call, DBusMessageIter *array, bus_dict_fn fn, void *userdata)
{
        DBusMessageIter entries;

        dbus_message_iter_recurse(array, &entries);
        for (; dbus_message_iter_get_arg_type(&entries) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&entries)) {
                DBusMessageIter entry, value;
                const char *key;

                dbus_message_iter_recurse(&entries, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &value);
                int r = fn(call, key, &value, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_variant_expect(BusCall *call, const char *key, DBusMessageIter *value,
                       const char *signature)
{
        char *have = dbus_message_iter_get_signature(value);
        bool ok = have && strcmp(have, signature) == 0;
        int r = ok ? 0 : bus_call_error(call, -EINVAL, "option %s must be of type '%s', not "
                                        "'%s'", key, signature, have ? have : "?");
        dbus_free(have);
        return r;
}

int bus_read_strv(DBusMessageIter *array, const char ***ret, size_t *ret_n)
{
        DBusMessageIter it;
        size_t n = 0;

        dbus_message_iter_recurse(array, &it);
        for (; dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRING; dbus_message_iter_next(&it))
                n++;
        const char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        dbus_message_iter_recurse(array, &it);
        for (size_t i = 0; i < n; i++, dbus_message_iter_next(&it))
                dbus_message_iter_get_basic(&it, &v[i]);
        *ret = v;
        if (ret_n)
                *ret_n = n;
        return 0;
}

bool bus_append_strv(DBusMessageIter *iter, const char *const *strv, size_t n)
{
        DBusMessageIter array;

        if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s", &array))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!bus_append_string(&array, strv[i])) {
                        dbus_message_iter_abandon_container(iter, &array);
                        return false;
                }
        return dbus_message_iter_close_container(iter, &array);
}
