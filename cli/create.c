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
        struct set_participants who; /* --no-writers, --provider, --exclude-writer */
        const char *attributes[4];   /* what vssctl asks for, NULL-terminated */
};

enum {
        OPT_CONTEXT = 'c',
        OPT_PERSISTENT = 'P',
};

static const struct option create_long_options[] = {
        { "context", required_argument, NULL, OPT_CONTEXT },
        { "persistent", no_argument, NULL, OPT_PERSISTENT },
        SET_PARTICIPANT_OPTIONS,
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
        default:
                set_participants_option(&a->who, c, arg);
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
                        a->context = a->who.no_writers ? "nas-rollback" : "app-rollback";
                else
                        a->context = a->who.no_writers ? "file-share-backup" : "backup";
        }
        a->attributes[n++] = "no-auto-release";
        if (a->persistent)
                a->attributes[n++] = "persistent";
        if (a->who.no_writers)
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

/*
 * What the set's point in time means across its volumes ("one-instant",
 * "writers-only"): vssd keeps it on the set. "" if it cannot be read.
 */
static char *set_atomicity(vss_client *client, const char *set_id)
{
        _cleanup_(set_list_freep) vss_snapshot_set_info **sets = NULL;
        size_t n = 0;

        if (vss_client_list_snapshot_sets(client, &sets, &n) < 0)
                return strdup("");
        for (size_t i = 0; i < n; i++)
                if (strcmp(sets[i]->id, set_id) == 0)
                        return strdup(sets[i]->atomicity);
        return strdup("");
}

static int print_table(FILE *out, const struct create_args *a, const char *set_id,
                       const char *atomicity, vss_snapshot_info **snapshots, size_t n)
{
        static const char *const headers[] = { "ID", "ORIGIN" };

        fprintf(out, "Snapshot set: %s\nContext: %s\n", set_id, a->context);
        print_attributes(out, snapshots, n);
        if (*atomicity)
                fprintf(out, "Atomicity: %s\n", atomicity);
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
                      const char *atomicity, const char *warnings, vss_snapshot_info **snapshots,
                      size_t n)
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
        json_string(&j, "atomicity", *atomicity ? atomicity : NULL);
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
        _cleanup_(freep) char *atomicity = set_atomicity(client, set_id);
        if (!atomicity)
                return vssctl_output_done(-ENOMEM);
        r = ctx->json ? print_json(stdout, a, set_id, atomicity, warnings, snapshots, n)
                      : print_table(stdout, a, set_id, atomicity, snapshots, n);
        return vssctl_output_done(r);
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

/* Make the set of the volumes VOLUMES and print it: the exit status. */
static int create_run(struct vssctl *ctx, vss_client *client, struct create_args *a,
                      int n_volumes, char **volumes)
{
        struct vssctl_progress progress = { .idle = NULL };
        _cleanup_(freep) char *set_id = NULL, *warnings = NULL;
        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;

        opts.context = a->context;
        opts.attributes = a->attributes;
        opts.provider = a->who.provider;
        opts.exclude_writers = set_participants_excluded(&a->who);
        opts.progress = vssctl_progress;
        opts.progress_userdata = &progress;
        int r = vss_client_create_snapshot_set(client, (const char *const *)volumes,
                                               (size_t)n_volumes, &opts, &set_id, &warnings);
        if (r < 0)
                return create_fail(ctx, r, n_volumes, volumes);
        return created(ctx, client, a, set_id, warnings);
}

int verb_create(struct vssctl *ctx, int argc, char *argv[])
{
        struct create_args a = { 0 };
        vss_client *client;
        int first;

        if (set_participants_init(&a.who, argc) < 0)
                return vssctl_output_done(-ENOMEM);
        int r = create_parse(ctx, argc, argv, &a, &first);
        if (r == VSSCTL_CONTINUE) {
                r = vssctl_client(ctx, &client);
                if (r == 0)
                        r = create_run(ctx, client, &a, argc - first, argv + first);
        }
        set_participants_done(&a.who);
        return r;
}
