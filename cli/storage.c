/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage, as vssadmin has it: "vssctl list storage" and
 * "vssctl storage add|resize --for VOLUME --maxsize SIZE [--on DIR]
 * [--provider NAME]". add sets a volume's maximum (and diff area) on the
 * provider that would snapshot it; resize changes the maximum of a volume
 * that has shadow storage already, on the provider that keeps it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "storage.h"

#define _cleanup_free_ _cleanup_(freep)

static inline void storage_list_freep(vss_shadow_storage ***l)
{
        vss_shadow_storage_list_free(*l);
}

/* ---- list storage ----------------------------------------------------------------------- */

/* "15% (1.5 GiB)", "10G (10.0 GiB)", "unbounded"; just the setting when bytes are unknown. */
static int table_add_max(struct table *t, const vss_shadow_storage *s)
{
        char bytes[FORMAT_BYTES_MAX];

        if (s->max_bytes == VSS_SHADOW_STORAGE_UNBOUNDED || s->max_bytes == 0)
                return table_add_cell(t, s->max_size);
        return table_add_cellf(t, "%s (%s)", s->max_size,
                               format_bytes(bytes, sizeof(bytes), s->max_bytes));
}

static int table_add_bytes(struct table *t, uint64_t v)
{
        char buf[FORMAT_BYTES_MAX];
        return table_add_cell(t, format_bytes(buf, sizeof(buf), v));
}

static int storage_print_table(vss_shadow_storage **list, size_t n)
{
        static const char *const headers[] = { "VOLUME", "PROVIDER", "DIFF AREA", "USED",
                                               "ALLOCATED", "MAXIMUM" };

        if (n == 0) {
                puts("No shadow storage (set some with 'vssctl storage add').");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align(t, 3, TABLE_ALIGN_RIGHT);
        table_set_align(t, 4, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++) {
                const vss_shadow_storage *s = list[i];
                if (table_add_cell(t, s->volume) < 0 || table_add_cell(t, s->provider) < 0 ||
                    table_add_cell(t, s->diff_area) < 0 || table_add_bytes(t, s->used_bytes) < 0 ||
                    table_add_bytes(t, s->allocated_bytes) < 0 || table_add_max(t, s) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static void storage_json(struct json *j, const vss_shadow_storage *s)
{
        json_object_begin(j, NULL);
        json_string(j, "volume", s->volume);
        json_string(j, "provider", s->provider);
        json_string(j, "diff_area", s->diff_area);
        json_uint(j, "used_bytes", s->used_bytes);
        json_uint(j, "allocated_bytes", s->allocated_bytes);
        json_string(j, "max_size", s->max_size);
        /* null: no limit ("unbounded"), or a percentage of a volume that is not there. */
        if (s->max_bytes == VSS_SHADOW_STORAGE_UNBOUNDED || s->max_bytes == 0)
                json_string(j, "max_bytes", NULL);
        else
                json_uint(j, "max_bytes", s->max_bytes);
        json_object_end(j);
}

static int storage_print_json(vss_shadow_storage **list, size_t n)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "storage");
        for (size_t i = 0; i < n; i++)
                storage_json(&j, list[i]);
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

int list_storage(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(storage_list_freep) vss_shadow_storage **list = NULL;
        size_t n;

        int r = vss_client_list_shadow_storage(client, NULL, &list, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the shadow storage");
        return vssctl_output_done(ctx->json ? storage_print_json(list, n)
                                            : storage_print_table(list, n));
}

/* ---- storage add | resize ------------------------------------------------------------------ */

struct storage_args {
        const char *volume, *max_size, *diff_area, *provider;
};

static const struct option storage_long_options[] = {
        { "for", required_argument, NULL, 'f' },
        { "maxsize", required_argument, NULL, 'm' },
        { "on", required_argument, NULL, 'o' },
        { "provider", required_argument, NULL, 'p' },
        { 0 },
};

static int storage_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct storage_args *a = userdata;

        switch (c) {
        case 'f': a->volume = arg; break;
        case 'm': a->max_size = arg; break;
        case 'o': a->diff_area = arg; break;
        case 'p': a->provider = arg; break;
        }
        return VSSCTL_CONTINUE;
}

/* The entry of VOLUME in LIST, of PROVIDER (NULL: any); NULL if none. */
static const vss_shadow_storage *storage_find(vss_shadow_storage **list, const char *volume,
                                              const char *provider)
{
        for (vss_shadow_storage **s = list; s && *s; s++)
                if (strcmp((*s)->volume, volume) == 0 &&
                    (!provider || strcmp((*s)->provider, provider) == 0))
                        return *s;
        return NULL;
}

/* resize: the provider that keeps VOLUME's shadow storage, into *RET (a copy). */
static int resize_provider(struct vssctl *ctx, vss_client *client, const struct storage_args *a,
                           const char *volume, char **ret)
{
        _cleanup_(storage_list_freep) vss_shadow_storage **list = NULL;
        char what[512];

        int r = vss_client_list_shadow_storage(client, a->provider, &list, NULL);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot resize the shadow storage of %.400s", volume);
                return vssctl_fail(ctx, r, what);
        }
        const vss_shadow_storage *s = storage_find(list, volume, NULL);
        if (!s) {
                fprintf(stderr, "vssctl: cannot resize the shadow storage of %s: it has none%s%s; "
                        "create it with 'vssctl storage add --for %s --maxsize %s'\n", volume,
                        a->provider ? " on provider " : "", a->provider ? a->provider : "",
                        volume, a->max_size);
                return EXIT_FAILURE;
        }
        if (!(*ret = strdup(s->provider)))
                return vssctl_fail(ctx, -ENOMEM, "cannot resize the shadow storage");
        return 0;
}

/* add: the first provider (by name) that can snapshot VOLUME, into *RET. */
static int add_provider(struct vssctl *ctx, vss_client *client, const char *volume, char **ret)
{
        _cleanup_(provider_list_freep) vss_provider_info **providers = NULL;
        char why[2048] = "", what[512];
        size_t len = 0;

        snprintf(what, sizeof(what), "cannot add shadow storage for %.400s", volume);
        int r = vss_client_list_providers(client, &providers, NULL);
        for (vss_provider_info **p = providers; r >= 0 && p && *p; p++) {
                const char *name = vss_provider_info_get_name(*p);
                _cleanup_free_ char *reason = NULL;
                bool supported;
                r = vss_client_is_volume_supported(client, name, volume, &supported, &reason);
                if (r >= 0 && supported)
                        return (*ret = strdup(name)) ? 0 : vssctl_fail(ctx, -ENOMEM, what);
                if (r >= 0 && len < sizeof(why))
                        len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s: %s",
                                                len ? "; " : "", name, reason);
        }
        if (r < 0)
                return vssctl_fail(ctx, r, what);
        fprintf(stderr, "vssctl: %s: no provider can snapshot it (%s)\n", what,
                len ? why : "no providers are loaded");
        return EXIT_FAILURE;
}

/* What the volume has now, as 'list storage' shows it. */
static int print_result(struct vssctl *ctx, vss_client *client, const char *provider,
                        const char *volume)
{
        _cleanup_(storage_list_freep) vss_shadow_storage **list = NULL;

        int r = vss_client_list_shadow_storage(client, provider, &list, NULL);
        if (r < 0)
                return vssctl_fail(ctx, r, "the shadow storage was set, but cannot be listed");
        vss_shadow_storage *s = (vss_shadow_storage *)storage_find(list, volume, NULL);
        vss_shadow_storage *one[2] = { s, NULL };
        size_t n = s ? 1 : 0;
        return vssctl_output_done(ctx->json ? storage_print_json(one, n)
                                            : storage_print_table(one, n));
}

/* The subcommand and its options: VSSCTL_CONTINUE, or the usage error reported. */
static int check_args(const char *sub, const struct storage_args *a)
{
        if (strcmp(sub, "add") != 0 && strcmp(sub, "resize") != 0)
                return vssctl_usage_error("'storage' can add or resize, not '%s'", sub);
        if (!a->volume)
                return vssctl_usage_error("'storage %s' needs --for VOLUME", sub);
        if (!a->max_size)
                return vssctl_usage_error("'storage %s' needs --maxsize SIZE (such as 10G, 15%% "
                                          "or unbounded)", sub);
        if (a->diff_area && strcmp(sub, "resize") == 0)
                return vssctl_usage_error("'storage resize' changes only the maximum; the "
                                          "diff area is set by 'storage add --on DIR'");
        return VSSCTL_CONTINUE;
}

int verb_storage(struct vssctl *ctx, int argc, char *argv[])
{
        struct storage_args a = { NULL, NULL, NULL, NULL };
        const struct verb_options options = {
                .long_options = storage_long_options,
                .short_options = "",
                .handle = storage_option,
                .userdata = &a,
        };
        _cleanup_free_ char *provider = NULL;
        char volume[4096], what[4200];
        vss_client *client;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, &options, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first >= argc)
                return vssctl_usage_error("'storage' needs to know what to do: add or resize");
        if (first + 1 < argc)
                return vssctl_usage_error("'storage %s' takes no operands, got '%s'", argv[first],
                                          argv[first + 1]);
        bool resize = strcmp(argv[first], "resize") == 0;
        if ((r = check_args(argv[first], &a)) != VSSCTL_CONTINUE)
                return r;
        if (blockdev_canonical(a.volume, volume, sizeof(volume)) < 0)
                return vssctl_usage_error("the volume path '%.64s...' is too long", a.volume);
        if ((r = vssctl_client(ctx, &client)) != 0)
                return r;
        r = resize ? resize_provider(ctx, client, &a, volume, &provider)
                   : a.provider ? ((provider = strdup(a.provider)) ? 0 : -ENOMEM)
                                : add_provider(ctx, client, volume, &provider);
        if (r == -ENOMEM)
                return vssctl_fail(ctx, r, "cannot set the shadow storage");
        if (r != 0)
                return r;
        r = vss_client_set_shadow_storage(client, provider, volume, a.max_size, a.diff_area);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot %s the shadow storage of %s",
                         resize ? "resize" : "add", volume);
                return vssctl_fail(ctx, r, what);
        }
        return print_result(ctx, client, provider, volume);
}
