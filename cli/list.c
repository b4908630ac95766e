/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * list.c: "vssctl list <what>": one table entry per kind of object vssd
 * lists (providers, shadows, sets, writers; storage and volumes live in
 * storage.c and volumes.c), each printed as a table or as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "storage.h"
#include "vssctl.h"

static int providers_print_table(vss_provider_info **providers, size_t n)
{
        static const char *const headers[] = { "NAME",  "PRIORITY", "VERSION",
                                               "ABI",   "ID",       "DESCRIPTION" };

        if (n == 0) {
                /* Say where vssd looks, so the next step is obvious. */
                puts("No providers loaded (vssd loads them from the directory "
                     "'vssctl status' shows).");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align(t, 1, TABLE_ALIGN_RIGHT);
        table_set_align(t, 3, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++) {
                const vss_provider_info *p = providers[i];
                if (table_add_cell(t, vss_provider_info_get_name(p)) < 0 ||
                    table_add_cellf(t, "%u", vss_provider_info_get_priority(p)) < 0 ||
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
                json_uint(&j, "priority", vss_provider_info_get_priority(p));
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
        providers_sort_by_priority(providers, n);
        return vssctl_output_done(ctx->json ? providers_print_json(providers, n)
                                            : providers_print_table(providers, n));
}

/* ---- what the tables below share ------------------------------------------------------- */

/* "a,b,c" for a string list; "-" when empty, so columns stay readable. */
static char *strv_join(char *const *v)
{
        size_t len = 2;
        for (char *const *s = v; s && *s; s++)
                len += strlen(*s) + 1;
        char *out = malloc(len);
        if (!out)
                return NULL;
        char *o = out;
        for (char *const *s = v; s && *s; s++)
                o += sprintf(o, "%s%s", o == out ? "" : ",", *s);
        if (o == out)
                strcpy(out, "-");
        return out;
}

static int table_add_strv(struct table *t, char *const *v)
{
        char *s = strv_join(v);
        int r = s ? table_add_cell(t, s) : -ENOMEM;
        free(s);
        return r;
}

/* Local time to the second, as ls -l --time-style=long-iso; "-" when unknown. */
static int table_add_time(struct table *t, uint64_t usec)
{
        char buf[64];
        time_t secs = (time_t)(usec / 1000000);
        struct tm tm;

        if (usec == 0 || !localtime_r(&secs, &tm) ||
            strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return table_add_cell(t, "-");
        return table_add_cell(t, buf);
}

/* JSON: the time as microseconds and as RFC 3339 in UTC (null when unknown). */
static void json_time(struct json *j, uint64_t usec)
{
        char buf[64];
        time_t secs = (time_t)(usec / 1000000);
        struct tm tm;

        json_uint(j, "creation_time_usec", usec);
        if (usec == 0 || !gmtime_r(&secs, &tm) ||
            strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                json_string(j, "creation_time", NULL);
        else
                json_string(j, "creation_time", buf);
}

static void json_strv(struct json *j, const char *key, char *const *v)
{
        json_array_begin(j, key);
        for (char *const *s = v; s && *s; s++)
                json_string(j, NULL, *s);
        json_array_end(j);
}

/* ---- shadows (snapshots) ----------------------------------------------------------------- */

/* A string vssd may leave empty ("not exposed"); "-" keeps the columns readable. */
static int table_add_or_dash(struct table *t, const char *s)
{
        return table_add_cell(t, *s ? s : "-");
}

/* "12.0 MiB/1.0 GiB" of the copy-on-write store; "-" for a provider without one. */
static int table_add_cow(struct table *t, const vss_snapshot_info *s)
{
        char used[FORMAT_BYTES_MAX], size[FORMAT_BYTES_MAX];

        if (s->cow_size_bytes == 0)
                return table_add_cell(t, "-");
        return table_add_cellf(t, "%s/%s", format_bytes(used, sizeof(used), s->cow_used_bytes),
                               format_bytes(size, sizeof(size), s->cow_size_bytes));
}

static int snapshots_print_table(vss_snapshot_info **snapshots, size_t n)
{
        static const char *const headers[] = { "ID",      "SET",      "ORIGIN",   "DEVICE",
                                               "CREATED", "STATE",    "COW USED", "EXPOSED",
                                               "PROVIDER", "ATTRIBUTES" };

        if (n == 0) {
                puts("No shadow copies.");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const vss_snapshot_info *s = snapshots[i];
                if (table_add_cell(t, s->id) < 0 || table_add_cell(t, s->set_id) < 0 ||
                    table_add_cell(t, s->origin) < 0 || table_add_or_dash(t, s->device) < 0 ||
                    table_add_time(t, s->creation_time_usec) < 0 ||
                    table_add_cell(t, s->state) < 0 || table_add_cow(t, s) < 0 ||
                    table_add_or_dash(t, s->exposed_path) < 0 ||
                    table_add_cell(t, s->provider) < 0 || table_add_strv(t, s->attributes) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static int snapshots_print_json(vss_snapshot_info **snapshots, size_t n)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "snapshots");
        for (size_t i = 0; i < n; i++) {
                const vss_snapshot_info *s = snapshots[i];
                json_object_begin(&j, NULL);
                json_string(&j, "id", s->id);
                json_string(&j, "snapshot_set_id", s->set_id);
                json_string(&j, "origin", s->origin);
                json_string(&j, "provider", s->provider);
                json_strv(&j, "attributes", s->attributes);
                json_time(&j, s->creation_time_usec);
                json_string(&j, "state", s->state);
                json_string(&j, "device", s->device);
                json_string(&j, "exposed_path", s->exposed_path);
                json_uint(&j, "cow_used_bytes", s->cow_used_bytes);
                json_uint(&j, "cow_size_bytes", s->cow_size_bytes);
                json_string(&j, "object_path", s->object_path);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

static int list_shadows(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **snapshots = NULL;
        size_t n;

        int r = vss_client_list_snapshots(client, NULL, &snapshots, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the shadow copies");
        return vssctl_output_done(ctx->json ? snapshots_print_json(snapshots, n)
                                            : snapshots_print_table(snapshots, n));
}

/* ---- snapshot sets ------------------------------------------------------------------------- */

static int sets_print_table(vss_snapshot_set_info **sets, size_t n)
{
        static const char *const headers[] = { "ID",         "STATE",     "CREATED",
                                               "VOLUMES",    "ATTRIBUTES", "ATOMICITY",
                                               "ERROR" };

        if (n == 0) {
                puts("No snapshot sets.");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const vss_snapshot_set_info *s = sets[i];
                if (table_add_cell(t, s->id) < 0 || table_add_cell(t, s->state) < 0 ||
                    table_add_time(t, s->creation_time_usec) < 0 ||
                    table_add_strv(t, s->volumes) < 0 || table_add_strv(t, s->attributes) < 0 ||
                    table_add_or_dash(t, s->atomicity) < 0 || table_add_cell(t, s->error) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static int sets_print_json(vss_snapshot_set_info **sets, size_t n)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "snapshot_sets");
        for (size_t i = 0; i < n; i++) {
                const vss_snapshot_set_info *s = sets[i];
                json_object_begin(&j, NULL);
                json_string(&j, "id", s->id);
                json_string(&j, "state", s->state);
                json_strv(&j, "volumes", s->volumes);
                json_strv(&j, "attributes", s->attributes);
                json_string(&j, "atomicity", *s->atomicity ? s->atomicity : NULL);
                json_string(&j, "error", s->error);
                json_time(&j, s->creation_time_usec);
                json_string(&j, "object_path", s->object_path);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

static int list_sets(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(set_list_freep) vss_snapshot_set_info **sets = NULL;
        size_t n;

        int r = vss_client_list_snapshot_sets(client, &sets, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the snapshot sets");
        return vssctl_output_done(ctx->json ? sets_print_json(sets, n)
                                            : sets_print_table(sets, n));
}

/* ---- writers ------------------------------------------------------------------------------- */

static inline void writer_list_freep(vss_writer_info ***l)
{
        vss_writer_info_list_free(*l);
}

/* A pid or uid; "-" when vssd does not know it. */
static int table_add_id(struct table *t, uint32_t id)
{
        return id == UINT32_MAX ? table_add_cell(t, "-") : table_add_cellf(t, "%u", id);
}

/* "NONE", or "TIMEOUT: the writer's message". */
static int table_add_failure(struct table *t, const vss_writer_info *w)
{
        if (!*w->last_failure_message)
                return table_add_cell(t, w->last_failure);
        return table_add_cellf(t, "%s: %s", w->last_failure, w->last_failure_message);
}

static int writers_print_table(vss_writer_info **writers, size_t n)
{
        static const char *const headers[] = { "NAME", "INSTANCE ID", "LEVEL", "STATE",
                                               "PID",  "UID",         "FREEZE TIMEOUT",
                                               "USAGE", "LAST FAILURE" };

        if (n == 0) {
                puts("No writers registered.");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t c = 4; c <= 6; c++)
                table_set_align(t, c, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++) {
                const vss_writer_info *w = writers[i];
                uint32_t ms = w->freeze_timeout_ms;
                if (table_add_cell(t, w->name) < 0 || table_add_cell(t, w->instance_id) < 0 ||
                    table_add_cell(t, w->level) < 0 || table_add_cell(t, w->state) < 0 ||
                    table_add_id(t, w->pid) < 0 || table_add_id(t, w->uid) < 0 ||
                    (ms % 1000 ? table_add_cellf(t, "%u ms", ms)
                               : table_add_cellf(t, "%u s", ms / 1000)) < 0 ||
                    table_add_cell(t, *w->usage ? w->usage : "-") < 0 ||
                    table_add_failure(t, w) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static void json_id(struct json *j, const char *key, uint32_t id)
{
        if (id == UINT32_MAX)
                json_string(j, key, NULL);
        else
                json_uint(j, key, id);
}

static int writers_print_json(vss_writer_info **writers, size_t n)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "writers");
        for (size_t i = 0; i < n; i++) {
                const vss_writer_info *w = writers[i];
                json_object_begin(&j, NULL);
                json_string(&j, "name", w->name);
                json_string(&j, "instance_id", w->instance_id);
                json_string(&j, "class_id", w->class_id);
                json_string(&j, "level", w->level);
                json_string(&j, "usage", w->usage);
                json_string(&j, "state", w->state);
                json_string(&j, "last_failure", w->last_failure);
                json_string(&j, "last_failure_message", w->last_failure_message);
                json_id(&j, "pid", w->pid);
                json_id(&j, "uid", w->uid);
                json_uint(&j, "freeze_timeout_ms", w->freeze_timeout_ms);
                json_string(&j, "object_path", w->object_path);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

static int list_writers(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(writer_list_freep) vss_writer_info **writers = NULL;
        size_t n;

        int r = vss_client_list_writers(client, &writers, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the writers");
        return vssctl_output_done(ctx->json ? writers_print_json(writers, n)
                                            : writers_print_table(writers, n));
}

/* ---- the verb ------------------------------------------------------------------------------ */

/* What "list" can list. "shadows" is VSS's word (vssadmin list shadows). */
static const struct list_cmd {
        const char *name;
        int (*fn)(struct vssctl *ctx, vss_client *client);
        bool alias; /* accepted, not offered in messages */
} list_cmds[] = {
        { "providers", list_providers, false },
        { "shadows", list_shadows, false },
        { "snapshots", list_shadows, true },
        { "sets", list_sets, false },
        { "writers", list_writers, false },
        { "storage", list_storage, false },
        { "shadowstorage", list_storage, true }, /* vssadmin list shadowstorage */
        { "volumes", list_volumes, false },
};

static const struct list_cmd *list_cmd_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(list_cmds); i++)
                if (strcmp(list_cmds[i].name, name) == 0)
                        return &list_cmds[i];
        return NULL;
}

/* "providers, shadows, sets, writers": for usage errors. */
static const char *list_cmd_names(char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(list_cmds) && len < size; i++)
                if (!list_cmds[i].alias)
                        len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
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
