/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status.c: "vssctl status": the coordinator's version, provider ABI, limits,
 * timeouts, monitor interval and provider directory, as a table or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "vssctl.h"

static inline void vss_status_freep(vss_status **s)
{
        vss_status_free(*s);
}

/* Whole seconds read better; anything else is shown exactly. */
static void format_duration(char *buf, size_t size, uint32_t ms)
{
        if (ms % 1000 == 0)
                snprintf(buf, size, "%u s", ms / 1000);
        else
                snprintf(buf, size, "%u ms", ms);
}

static int status_print_table(const vss_status *s)
{
        char abi[16], max[16], freeze[24], hold[24], event[24], monitor[24];

        snprintf(abi, sizeof(abi), "%u", s->provider_abi_version);
        snprintf(max, sizeof(max), "%u", s->max_volumes_per_set);
        format_duration(freeze, sizeof(freeze), s->freeze_timeout_ms);
        format_duration(hold, sizeof(hold), s->hold_timeout_ms);
        format_duration(event, sizeof(event), s->event_timeout_ms);
        format_duration(monitor, sizeof(monitor), s->monitor_interval_ms);
        const char *const rows[][2] = {
                { "Version:", s->version },
                { "Provider ABI:", abi },
                { "Max volumes per set:", max },
                { "Freeze timeout:", freeze },
                { "Hold timeout:", hold },
                { "Event timeout:", event },
                { "Monitor interval:", monitor },
                { "Provider directory:", s->provider_directory },
        };

        _cleanup_(table_freep) struct table *t = table_new(2, NULL);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                if (table_add_cell(t, rows[i][0]) < 0 || table_add_cell(t, rows[i][1]) < 0)
                        return -ENOMEM;
        return table_print(t, stdout);
}

static int status_print_json(const vss_status *s)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_string(&j, "version", s->version);
        json_uint(&j, "provider_abi_version", s->provider_abi_version);
        json_uint(&j, "max_volumes_per_set", s->max_volumes_per_set);
        json_uint(&j, "freeze_timeout_ms", s->freeze_timeout_ms);
        json_uint(&j, "hold_timeout_ms", s->hold_timeout_ms);
        json_uint(&j, "event_timeout_ms", s->event_timeout_ms);
        json_uint(&j, "monitor_interval_ms", s->monitor_interval_ms);
        json_string(&j, "provider_directory", s->provider_directory);
        json_object_end(&j);
        return json_finish(&j);
}

int verb_status(struct vssctl *ctx, int argc, char *argv[])
{
        _cleanup_(vss_status_freep) vss_status *status = NULL;
        vss_client *client;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, NULL, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first < argc)
                return vssctl_usage_error("'status' takes no arguments, got '%s'", argv[first]);

        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        r = vss_client_get_status(client, &status);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot read the status of vssd");

        return vssctl_output_done(ctx->json ? status_print_json(status)
                                            : status_print_table(status));
}
