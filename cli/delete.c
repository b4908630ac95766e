/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * delete.c: "vssctl delete --snapshot ID | --set ID | --volume VOLUME":
 * DeleteSnapshots, and how many snapshots went (vssadmin delete shadows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "vssctl.h"

struct delete_args {
        enum vss_delete_by by;
        const char *key;
        const char *option; /* as given, for messages */
        unsigned n_given;
};

static const struct option delete_long_options[] = {
        { "snapshot", required_argument, NULL, 's' },
        { "set", required_argument, NULL, 't' },
        { "volume", required_argument, NULL, 'v' },
        { 0 },
};

static int delete_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct delete_args *a = userdata;

        switch (c) {
        case 's':
                a->by = VSS_DELETE_SNAPSHOT;
                a->option = "--snapshot";
                break;
        case 't':
                a->by = VSS_DELETE_SET;
                a->option = "--set";
                break;
        case 'v':
                a->by = VSS_DELETE_VOLUME;
                a->option = "--volume";
                break;
        default:
                return VSSCTL_CONTINUE;
        }
        a->key = arg;
        a->n_given++;
        return VSSCTL_CONTINUE;
}

static int print_result(const struct vssctl *ctx, unsigned deleted)
{
        if (!ctx->json) {
                printf("Deleted %u snapshot%s.\n", deleted, deleted == 1 ? "" : "s");
                return ferror(stdout) ? -EIO : 0;
        }
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_uint(&j, "deleted", deleted);
        json_object_end(&j);
        return json_finish(&j);
}

static int delete_fail(struct vssctl *ctx, int r, const struct delete_args *a)
{
        char what[512];

        if (a->by == VSS_DELETE_SNAPSHOT)
                snprintf(what, sizeof(what), "cannot delete snapshot %s", a->key);
        else if (a->by == VSS_DELETE_SET)
                snprintf(what, sizeof(what), "cannot delete the snapshots of set %s", a->key);
        else
                snprintf(what, sizeof(what), "cannot delete the snapshots of %s", a->key);
        int status = vssctl_fail(ctx, r, what);
        if (r == -ENOENT)
                fputs("See 'vssctl list shadows' and 'vssctl list sets' for what vssd has.\n",
                      stderr);
        return status;
}

int verb_delete(struct vssctl *ctx, int argc, char *argv[])
{
        struct delete_args a = { 0 };
        const struct verb_options options = {
                .long_options = delete_long_options,
                .handle = delete_option,
                .userdata = &a,
        };
        vss_client *client;
        unsigned deleted;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, &options, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (a.n_given == 0)
                return vssctl_usage_error("'delete' needs what to delete: --snapshot ID, "
                                          "--set ID or --volume VOLUME");
        if (a.n_given > 1)
                return vssctl_usage_error("'delete' takes one of --snapshot, --set and --volume, "
                                          "once");
        if (first < argc)
                return vssctl_usage_error("'delete' takes no arguments besides %s, got '%s'",
                                          a.option, argv[first]);

        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        r = vss_client_delete_snapshots(client, a.by, a.key, &deleted);
        if (r < 0)
                return delete_fail(ctx, r, &a);
        return vssctl_output_done(print_result(ctx, deleted));
}
