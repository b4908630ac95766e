/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * create.c: "vssctl create [options] VOLUME...": one snapshot set of the
 * volumes through CreateSnapshotSet, printed as its id, context, attributes
 * and one line per snapshot. The snapshots outlive vssctl (no-auto-release):
 * a snapshot released when vssctl exits would be of no use to anyone, which
 * is what 'exec' is for. They do not outlive a reboot unless --persistent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

struct create_args {
        const char *context;         /* --context, or NULL for the default */
        bool persistent;             /* --persistent */
        bool no_writers;             /* --no-writers */
        const char *provider;        /* --provider */
        const char **exclude;        /* --exclude-writer..., NULL-terminated */
        size_t n_exclude;
        const char *attributes[4];   /* what vssctl asks for, NULL-terminated */
};

enum {
        OPT_CONTEXT = 'c',
        OPT_PERSISTENT = 'P',
        OPT_NO_WRITERS = 'n',
        OPT_PROVIDER = 'p',
        OPT_EXCLUDE_WRITER = 'x',
};

static const struct option create_long_options[] = {
        { "context", required_argument, NULL, OPT_CONTEXT },
        { "persistent", no_argument, NULL, OPT_PERSISTENT },
        { "no-writers", no_argument, NULL, OPT_NO_WRITERS },
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "exclude-writer", required_argument, NULL, OPT_EXCLUDE_WRITER },
        { 0 },
};

static int create_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct create_args *a = userdata;

        switch (c) {
        case OPT_CONTEXT:
                a->context = arg;
                break;
        case OPT_PERSISTENT:
                a->persistent = true;
                break;
        case OPT_NO_WRITERS:
                a->no_writers = true;
                break;
        case OPT_PROVIDER:
                a->provider = arg;
                break;
        case OPT_EXCLUDE_WRITER:
                /* The array has room for every argument (see verb_create()). */
                a->exclude[a->n_exclude++] = arg;
                break;
        }
        return VSSCTL_CONTINUE;
}

/*
 * The context and attributes: by default "backup" ("file-share-backup"
 * without writers), or "app-rollback" ("nas-rollback") with --persistent; a
 * --context replaces that choice. Always no-auto-release, so the snapshots
 * outlive vssctl; the flags add their attributes to any context.
 */
static void choose_context(struct create_args *a)
{
        size_t n = 0;

        if (!a->context) {
                if (a->persistent)
                        a->context = a->no_writers ? "nas-rollback" : "app-rollback";
                else
                        a->context = a->no_writers ? "file-share-backup" : "backup";
        }
        a->attributes[n++] = "no-auto-release";
        if (a->persistent)
                a->attributes[n++] = "persistent";
        if (a->no_writers)
                a->attributes[n++] = "no-writers";
        a->attributes[n] = NULL;
}

/* ---- output ----------------------------------------------------------------------------- */

/* "no-auto-release,persistent": what the snapshots got, as vssd lists them. */
static void print_attributes(FILE *out, vss_snapshot_info **snapshots, size_t n)
{
        fputs("Attributes:", out);
        for (char **v = n ? snapshots[0]->attributes : NULL; v && *v; v++)
                fprintf(out, "%s%s", v == snapshots[0]->attributes ? " " : ",", *v);
        fputc('\n', out);
}

static int print_table(FILE *out, const struct create_args *a, const char *set_id,
                       vss_snapshot_info **snapshots, size_t n)
{
        static const char *const headers[] = { "ID", "ORIGIN" };

        fprintf(out, "Snapshot set: %s\nContext: %s\n", set_id, a->context);
        print_attributes(out, snapshots, n);
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (table_add_cell(t, snapshots[i]->id) < 0 ||
                    table_add_cell(t, snapshots[i]->origin) < 0)
                        return -ENOMEM;
        return table_print(t, out);
}

static int print_json(FILE *out, const struct create_args *a, const char *set_id,
                      const char *warnings, vss_snapshot_info **snapshots, size_t n)
{
        struct json j;

        json_init(&j, out);
        json_object_begin(&j, NULL);
        json_string(&j, "snapshot_set_id", set_id);
        json_string(&j, "context", a->context);
        json_array_begin(&j, "attributes");
        for (char **v = n ? snapshots[0]->attributes : NULL; v && *v; v++)
                json_string(&j, NULL, *v);
        json_array_end(&j);
        json_string(&j, "warnings", warnings);
        json_array_begin(&j, "snapshots");
        for (size_t i = 0; i < n; i++) {
                json_object_begin(&j, NULL);
                json_string(&j, "id", snapshots[i]->id);
                json_string(&j, "origin", snapshots[i]->origin);
                json_string(&j, "provider", snapshots[i]->provider);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

/* ---- the verb ------------------------------------------------------------------------------ */

/* Names the first volumes only: vssd's message says which one is at fault. */
static int create_fail(struct vssctl *ctx, int r, int n, char *volumes[])
{
        enum { SHOWN = 3 };
        char what[1024];
        int len = snprintf(what, sizeof(what), "cannot create a snapshot set of");
        for (int i = 0; i < n && i < SHOWN; i++)
                len += snprintf(what + len, sizeof(what) - (size_t)len, "%s %.200s",
                                i ? "," : "", volumes[i]);
        if (n > SHOWN)
                snprintf(what + len, sizeof(what) - (size_t)len, " and %d more", n - SHOWN);
        return vssctl_fail(ctx, r, what);
}

/* The set exists: show it. */
static int created(struct vssctl *ctx, vss_client *client, const struct create_args *a,
                   const char *set_id, const char *warnings)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **snapshots = NULL;
        size_t n;
        char what[256];

        vssctl_print_warnings(warnings);
        int r = vss_client_list_snapshots(client, set_id, &snapshots, &n);
        if (r < 0) {
                snprintf(what, sizeof(what), "snapshot set %s was created, but its snapshots "
                                             "cannot be listed",
                         set_id);
                return vssctl_fail(ctx, r, what);
        }
        r = ctx->json ? print_json(stdout, a, set_id, warnings, snapshots, n)
                      : print_table(stdout, a, set_id, snapshots, n);
        return vssctl_output_done(r);
}

static inline void freep(void *p)
{
        free(*(void **)p);
}

/* Parse and check the command line: VSSCTL_CONTINUE, or the exit status. */
static int create_parse(struct vssctl *ctx, int argc, char *argv[], struct create_args *a,
                        int *ret_first)
{
        const struct verb_options options = {
                .long_options = create_long_options,
                .handle = create_option,
                .userdata = a,
        };

        int r = vssctl_parse_options(ctx, argc, argv, &options, ret_first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (*ret_first >= argc)
                return vssctl_usage_error("'create' needs at least one volume, e.g. /dev/vg0/data");
        r = vssctl_check_not_empty("create", "volume", argc, argv, *ret_first);
        if (r != VSSCTL_CONTINUE)
                return r;
        choose_context(a);
        return VSSCTL_CONTINUE;
}

int verb_create(struct vssctl *ctx, int argc, char *argv[])
{
        struct create_args a = { 0 };
        struct vssctl_progress progress = { .idle = NULL };
        _cleanup_(freep) char *set_id = NULL, *warnings = NULL;
        vss_client *client;
        int first;

        /* Every argument could be an --exclude-writer. */
        _cleanup_(freep) const char **exclude = calloc((size_t)argc + 1, sizeof(*exclude));
        if (!exclude)
                return vssctl_output_done(-ENOMEM);
        a.exclude = exclude;
        int r = create_parse(ctx, argc, argv, &a, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;

        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;
        opts.context = a.context;
        opts.attributes = a.attributes;
        opts.provider = a.provider;
        opts.exclude_writers = a.n_exclude ? a.exclude : NULL;
        opts.progress = vssctl_progress;
        opts.progress_userdata = &progress;
        r = vss_client_create_snapshot_set(client, (const char *const *)argv + first,
                                           (size_t)(argc - first), &opts, &set_id, &warnings);
        if (r < 0)
                return create_fail(ctx, r, argc - first, argv + first);
        return created(ctx, client, &a, set_id, warnings);
}
