/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.c: shadow storage, as vssadmin has it: "vssctl list storage" (also
 * "vssctl storage list") and "vssctl storage add|resize --for VOLUME
 * --maxsize SIZE [--on DIR] [--provider NAME]". add sets a volume's maximum
 * (and diff area) on the provider that would snapshot it; resize changes the
 * maximum of a volume that has shadow storage already, on the provider that
 * keeps it. And the storage a provider makes itself: "vssctl storage add
 * --thin-pool NAME --data PATH --metadata PATH [--data-size S]
 * [--metadata-size S] [--chunk-size S] [--provider NAME]" and "vssctl
 * storage remove --thin-pool NAME [--provider NAME]" (AddStorage and
 * RemoveStorage: without --provider, the first provider in vssd's order that
 * makes storage takes it).
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

/* Storage a provider made (a thin pool) has a name; a volume's diff area has none. */
static bool storage_is_made(const vss_shadow_storage *s)
{
        return s->name && s->name[0];
}

/* The volumes' diff areas (MADE false) or the providers' pools (MADE true); how many. */
static int storage_print_part(vss_shadow_storage **list, size_t n, bool made, size_t *ret_n)
{
        static const char *const area_headers[] = { "VOLUME", "PROVIDER", "DIFF AREA", "USED",
                                                    "ALLOCATED", "MAXIMUM" };
        static const char *const made_headers[] = { "NAME", "KIND", "PROVIDER", "DATA",
                                                    "DATA USED", "DATA SIZE", "METADATA USED",
                                                    "METADATA SIZE" };
        size_t columns = made ? ELEMENTSOF(made_headers) : ELEMENTSOF(area_headers);
        _cleanup_(table_freep) struct table *t = table_new(columns, made ? made_headers
                                                                         : area_headers);
        *ret_n = 0;
        if (!t)
                return -ENOMEM;
        /* The sizes: USED, ALLOCATED of a diff area; DATA USED and on of a pool. */
        for (size_t c = made ? 4 : 3; c < (made ? columns : 5); c++)
                table_set_align(t, c, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++) {
                const vss_shadow_storage *s = list[i];
                if (storage_is_made(s) != made)
                        continue;
                (*ret_n)++;
                if (made ? table_add_cell(t, s->name) < 0 || table_add_cell(t, s->kind) < 0 ||
                                   table_add_cell(t, s->provider) < 0 ||
                                   table_add_cell(t, s->diff_area) < 0 ||
                                   table_add_bytes(t, s->used_bytes) < 0 ||
                                   table_add_bytes(t, s->allocated_bytes) < 0 ||
                                   table_add_bytes(t, s->metadata_used_bytes) < 0 ||
                                   table_add_bytes(t, s->metadata_size_bytes) < 0
                         : table_add_cell(t, s->volume) < 0 || table_add_cell(t, s->provider) < 0 ||
                                   table_add_cell(t, s->diff_area) < 0 ||
                                   table_add_bytes(t, s->used_bytes) < 0 ||
                                   table_add_bytes(t, s->allocated_bytes) < 0 ||
                                   table_add_max(t, s) < 0)
                        return -ENOMEM;
        }
        return *ret_n ? table_print(t, stdout) : 0;
}

/* The diff areas, then (after a blank line) the pools; a sentence when there is neither. */
static int storage_print_table(vss_shadow_storage **list, size_t n)
{
        size_t areas, made;

        if (n == 0) {
                puts("No shadow storage (set some with 'vssctl storage add').");
                return 0;
        }
        int r = storage_print_part(list, n, false, &areas);
        if (r >= 0 && areas < n)
                fputs(areas ? "\n" : "", stdout);
        return r < 0 ? r : storage_print_part(list, n, true, &made);
}

static void storage_json(struct json *j, const vss_shadow_storage *s)
{
        json_object_begin(j, NULL);
        json_string(j, "volume", s->volume);
        json_string(j, "name", s->name);
        json_string(j, "kind", s->kind);
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
        json_uint(j, "metadata_used_bytes", s->metadata_used_bytes);
        json_uint(j, "metadata_size_bytes", s->metadata_size_bytes);
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

enum { POOL_DATA, POOL_METADATA, POOL_DATA_SIZE, POOL_METADATA_SIZE, POOL_CHUNK_SIZE, N_POOL };
/* Their getopt codes (below 0x100: the codes above are vssctl's global options). */
static const int pool_codes[N_POOL] = { 'd', 'M', 'D', 'S', 'c' };

/* The option names AddStorage takes for a thin pool, and vssctl's for them. */
static const char *const pool_keys[N_POOL] = { "Data", "Metadata", "DataSize", "MetadataSize",
                                               "ChunkSize" };
static const char *const pool_flags[N_POOL] = { "--data", "--metadata", "--data-size",
                                                "--metadata-size", "--chunk-size" };

struct storage_args {
        const char *volume, *max_size, *diff_area, *provider;
        const char *pool;          /* --thin-pool */
        const char *pool_opts[N_POOL];
};

static const struct option storage_long_options[] = {
        { "for", required_argument, NULL, 'f' },
        { "maxsize", required_argument, NULL, 'm' },
        { "on", required_argument, NULL, 'o' },
        { "provider", required_argument, NULL, 'p' },
        { "thin-pool", required_argument, NULL, 't' },
        { "data", required_argument, NULL, 'd' },
        { "metadata", required_argument, NULL, 'M' },
        { "data-size", required_argument, NULL, 'D' },
        { "metadata-size", required_argument, NULL, 'S' },
        { "chunk-size", required_argument, NULL, 'c' },
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
        case 't': a->pool = arg; break;
        default:
                for (size_t k = 0; k < N_POOL; k++)
                        if (c == pool_codes[k])
                                a->pool_opts[k] = arg;
                break;
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

/* ---- storage add --thin-pool, storage remove ----------------------------------------------- */

/* The pool as 'list storage' shows it, after "Added ..." on stderr. */
static int pool_print(struct vssctl *ctx, vss_client *client, const char *provider,
                      const char *name)
{
        _cleanup_(storage_list_freep) vss_shadow_storage **list = NULL;
        vss_shadow_storage *one[2] = { NULL, NULL };

        int r = vss_client_list_shadow_storage(client, provider, &list, NULL);
        if (r < 0)
                return vssctl_fail(ctx, r, "the pool was added, but cannot be listed");
        for (vss_shadow_storage **s = list; s && *s && !one[0]; s++)
                if (storage_is_made(*s) && strcmp((*s)->name, name) == 0)
                        one[0] = *s;
        size_t n = one[0] ? 1 : 0;
        return vssctl_output_done(ctx->json ? storage_print_json(one, n)
                                            : storage_print_table(one, n));
}

static int pool_add(struct vssctl *ctx, vss_client *client, const struct storage_args *a)
{
        struct vss_client_option opts[N_POOL];
        _cleanup_free_ char *provider = NULL;
        char what[512];
        size_t n = 0;

        for (size_t k = 0; k < N_POOL; k++)
                if (a->pool_opts[k])
                        opts[n++] = (struct vss_client_option){ pool_keys[k], a->pool_opts[k] };
        int r = vss_client_add_storage(client, a->provider, a->pool, opts, n, &provider);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot add thin pool %s", a->pool);
                return vssctl_fail(ctx, r, what);
        }
        if (!ctx->json) {
                fputs("Added thin pool ", stderr);
                terminal_fputs(a->pool, stderr);
                fputs(" on provider ", stderr);
                terminal_fputs(provider, stderr);
                fputs("; make volumes in it with 'vssctl enable --thin ", stderr);
                terminal_fputs(a->pool, stderr);
                fputs(" ...'.\n", stderr);
        }
        return pool_print(ctx, client, provider, a->pool);
}

static int pool_remove(struct vssctl *ctx, vss_client *client, const struct storage_args *a)
{
        _cleanup_free_ char *provider = NULL;
        char what[512];

        int r = vss_client_remove_storage(client, a->provider, a->pool, &provider);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot remove thin pool %s", a->pool);
                return vssctl_fail(ctx, r, what);
        }
        const char *const json[] = { "name", a->pool, "provider", provider, NULL };
        return vssctl_print_result(ctx, json, "Removed thin pool %s from provider %s.\n",
                                   a->pool, provider);
}

/* ---- the verb ------------------------------------------------------------------------------- */

/* A pool option given: the first one's flag, or NULL. */
static const char *pool_option_given(const struct storage_args *a)
{
        for (size_t k = 0; k < N_POOL; k++)
                if (a->pool_opts[k])
                        return pool_flags[k];
        return NULL;
}

/* add --thin-pool and remove: VSSCTL_CONTINUE, or the usage error reported. */
static int check_pool_args(const char *sub, const struct storage_args *a)
{
        bool add = strcmp(sub, "add") == 0;
        const char *extra = pool_option_given(a);

        if (!a->pool)
                return vssctl_usage_error("'storage remove' needs --thin-pool NAME");
        if (a->volume || a->max_size || a->diff_area)
                return vssctl_usage_error("'storage %s --thin-pool' is about a pool, not a "
                                          "volume's diff area: leave out %s", sub,
                                          a->volume ? "--for" : a->max_size ? "--maxsize"
                                                                            : "--on");
        if (!add && extra)
                return vssctl_usage_error("'storage remove' takes only --thin-pool and "
                                          "--provider, not %s", extra);
        if (add && (!a->pool_opts[POOL_DATA] || !a->pool_opts[POOL_METADATA]))
                return vssctl_usage_error("'storage add --thin-pool' needs --data PATH and "
                                          "--metadata PATH (block devices, or files to make)");
        return VSSCTL_CONTINUE;
}

/* The subcommand and its options: VSSCTL_CONTINUE, or the usage error reported. */
static int check_args(const char *sub, const struct storage_args *a)
{
        if (strcmp(sub, "add") != 0 && strcmp(sub, "resize") != 0 && strcmp(sub, "remove") != 0)
                return vssctl_usage_error("'storage' can add, resize, remove or list, not '%s'",
                                          sub);
        if (a->pool || strcmp(sub, "remove") == 0)
                return strcmp(sub, "resize") == 0
                               ? vssctl_usage_error("'storage resize' changes a volume's "
                                                    "maximum, not a pool")
                               : check_pool_args(sub, a);
        if (pool_option_given(a))
                return vssctl_usage_error("%s is for a thin pool: give --thin-pool NAME",
                                          pool_option_given(a));
        if (!a->volume)
                return vssctl_usage_error("'storage %s' needs --for VOLUME (or --thin-pool "
                                          "NAME for a pool)", sub);
        if (!a->max_size)
                return vssctl_usage_error("'storage %s' needs --maxsize SIZE (such as 10G, 15%% "
                                          "or unbounded)", sub);
        if (a->diff_area && strcmp(sub, "resize") == 0)
                return vssctl_usage_error("'storage resize' changes only the maximum; the "
                                          "diff area is set by 'storage add --on DIR'");
        return VSSCTL_CONTINUE;
}

/* add | resize --for VOLUME: the volume's shadow storage on its provider. */
static int diff_area_set(struct vssctl *ctx, vss_client *client, const char *sub,
                         const struct storage_args *a)
{
        _cleanup_free_ char *provider = NULL;
        char volume[4096], what[4200];
        bool resize = strcmp(sub, "resize") == 0;
        int r;

        if (blockdev_canonical(a->volume, volume, sizeof(volume)) < 0)
                return vssctl_usage_error("the volume path '%.64s...' is too long", a->volume);
        r = resize ? resize_provider(ctx, client, a, volume, &provider)
                   : a->provider ? ((provider = strdup(a->provider)) ? 0 : -ENOMEM)
                                 : add_provider(ctx, client, volume, &provider);
        if (r == -ENOMEM)
                return vssctl_fail(ctx, r, "cannot set the shadow storage");
        if (r != 0)
                return r;
        r = vss_client_set_shadow_storage(client, provider, volume, a->max_size, a->diff_area);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot %s the shadow storage of %s",
                         resize ? "resize" : "add", volume);
                return vssctl_fail(ctx, r, what);
        }
        return print_result(ctx, client, provider, volume);
}

int verb_storage(struct vssctl *ctx, int argc, char *argv[])
{
        struct storage_args a = { 0 };
        const struct verb_options options = {
                .long_options = storage_long_options,
                .short_options = "",
                .handle = storage_option,
                .userdata = &a,
        };
        vss_client *client;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, &options, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first >= argc)
                return vssctl_usage_error("'storage' needs to know what to do: add, resize, "
                                          "remove or list");
        if (first + 1 < argc)
                return vssctl_usage_error("'storage %s' takes no operands, got '%s'", argv[first],
                                          argv[first + 1]);
        const char *sub = argv[first];
        bool list = strcmp(sub, "list") == 0;
        if (list && (a.volume || a.max_size || a.diff_area || a.provider || a.pool ||
                     pool_option_given(&a)))
                return vssctl_usage_error("'storage list' takes no options but --json");
        if (!list && (r = check_args(sub, &a)) != VSSCTL_CONTINUE)
                return r;
        if ((r = vssctl_client(ctx, &client)) != 0)
                return r;
        if (list)
                return list_storage(ctx, client);
        if (a.pool)
                return strcmp(sub, "add") == 0 ? pool_add(ctx, client, &a)
                                               : pool_remove(ctx, client, &a);
        return diff_area_set(ctx, client, sub, &a);
}
