/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * list.c: "vssctl list <what>": one table entry per kind of object vssd
 * lists (providers now; shadows, sets and writers to come), each printed as
 * a table or as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

static inline void provider_list_freep(vss_provider_info ***l)
{
        vss_provider_info_list_free(*l);
}

static int providers_print_table(vss_provider_info **providers, size_t n)
{
        static const char *const headers[] = { "NAME", "VERSION", "ABI", "ID", "DESCRIPTION" };

        if (n == 0) {
                /* Say where vssd looks, so the next step is obvious. */
                puts("No providers loaded (vssd loads them from the directory "
                     "'vssctl status' shows).");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align(t, 2, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++) {
                const vss_provider_info *p = providers[i];
                if (table_add_cell(t, vss_provider_info_get_name(p)) < 0 ||
                    table_add_cell(t, vss_provider_info_get_version(p)) < 0 ||
                    table_add_cellf(t, "%u", vss_provider_info_get_abi_version(p)) < 0 ||
                    table_add_cell(t, vss_provider_info_get_id(p)) < 0 ||
                    table_add_cell(t, vss_provider_info_get_description(p)) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static int providers_print_json(vss_provider_info **providers, size_t n)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "providers");
        for (size_t i = 0; i < n; i++) {
                const vss_provider_info *p = providers[i];
                json_object_begin(&j, NULL);
                json_string(&j, "name", vss_provider_info_get_name(p));
                json_string(&j, "id", vss_provider_info_get_id(p));
                json_string(&j, "version", vss_provider_info_get_version(p));
                json_string(&j, "description", vss_provider_info_get_description(p));
                json_uint(&j, "abi_version", vss_provider_info_get_abi_version(p));
                json_string(&j, "path", vss_provider_info_get_path(p));
                json_string(&j, "object_path", vss_provider_info_get_object_path(p));
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

static int list_providers(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(provider_list_freep) vss_provider_info **providers = NULL;
        size_t n;

        int r = vss_client_list_providers(client, &providers, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the providers of vssd");
        return vssctl_output_done(ctx->json ? providers_print_json(providers, n)
                                            : providers_print_table(providers, n));
}

/* What "list" can list; add shadows, sets, writers here. */
static const struct list_cmd {
        const char *name;
        int (*fn)(struct vssctl *ctx, vss_client *client);
} list_cmds[] = {
        { "providers", list_providers },
};

static const struct list_cmd *list_cmd_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(list_cmds); i++)
                if (strcmp(list_cmds[i].name, name) == 0)
                        return &list_cmds[i];
        return NULL;
}

/* "providers, writers": for usage errors. */
static const char *list_cmd_names(char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(list_cmds) && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                        list_cmds[i].name);
        return buf;
}

int verb_list(struct vssctl *ctx, int argc, char *argv[])
{
        char names[128];
        vss_client *client;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, NULL, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first >= argc)
                return vssctl_usage_error("'list' needs to know what to list: %s",
                                          list_cmd_names(names, sizeof(names)));
        const struct list_cmd *cmd = list_cmd_find(argv[first]);
        if (!cmd)
                return vssctl_usage_error("cannot list '%s'; can list: %s", argv[first],
                                          list_cmd_names(names, sizeof(names)));
        if (first + 1 < argc)
                return vssctl_usage_error("'list %s' takes no more arguments, got '%s'",
                                          cmd->name, argv[first + 1]);

        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        return cmd->fn(ctx, client);
}
