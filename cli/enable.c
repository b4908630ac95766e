/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enable.c: "vssctl enable [--provider NAME] [--thin POOL [--size SIZE]]
 * DEVICE|NAME": EnableVolume. A plain block device (a partition, a loop
 * device) cannot get a snapshot layer under a mounted file system, so a
 * provider wraps it in a volume of its own (dm-snapshot), or copies it into
 * a thin volume of pool POOL (dm-thin, --thin), which the user mounts and
 * names in snapshot sets from then on. With --size, NAME is a new, blank
 * thin volume of that size.
 */
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "vssctl.h"

struct enable_args {
        const char *provider, *pool, *size;
};

static const struct option enable_long_options[] = {
        { "provider", required_argument, NULL, 'p' },
        { "thin", required_argument, NULL, 't' },
        { "size", required_argument, NULL, 's' },
        { 0 },
};

static int enable_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct enable_args *a = userdata;

        switch (c) {
        case 'p': a->provider = arg; break;
        case 't': a->pool = arg; break;
        case 's': a->size = arg; break;
        }
        return VSSCTL_CONTINUE;
}

/*
 * The volume alone on stdout, so that "vol=$(vssctl enable /dev/sdb1)" works;
 * what to do with it goes to stderr.
 */
static int print_enabled(const struct vssctl *ctx, const char *device, const char *volume,
                         bool made)
{
        const char *const json[] = { "device", device, "volume", volume, NULL };

        int status = vssctl_print_result(ctx, json, "%s\n", volume);
        if (status != EXIT_SUCCESS || ctx->json)
                return status;
        if (made) {
                fputs("Make a file system on ", stderr);
                terminal_fputs(volume, stderr);
                fputs(", mount it, and name it in snapshot sets (vssctl create ", stderr);
        } else {
                fputs("Mount ", stderr);
                terminal_fputs(volume, stderr);
                fputs(" instead of ", stderr);
                terminal_fputs(device, stderr);
                fputs(" from now on, and name it in snapshot sets (vssctl create ", stderr);
        }
        terminal_fputs(volume, stderr);
        fputs(").\n", stderr);
        return status;
}

int verb_enable(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "enable", { "device" }, 1, "such as /dev/sdb1 (its file system unmounted), or "
                "with --thin and --size the name of a new volume"
        };
        struct enable_args a = { NULL, NULL, NULL };
        const struct verb_options options = {
                .long_options = enable_long_options,
                .short_options = "p:",
                .handle = enable_option,
                .userdata = &a,
        };
        struct vss_client_option opts[2];
        size_t n = 0;
        const char *device;
        vss_client *client;
        char *volume, what[512];

        int r = vssctl_parse_verb(ctx, argc, argv, &options, &spec, &device, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (a.size && !a.pool)
                return vssctl_usage_error("'enable --size' makes a new thin volume: give its "
                                          "pool with --thin POOL");
        if (a.pool)
                opts[n++] = (struct vss_client_option){ "ThinPool", a.pool };
        if (a.size)
                opts[n++] = (struct vss_client_option){ "Size", a.size };
        r = vss_client_enable_volume_with_options(client, device, a.provider, opts, n, &volume);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot enable %s for snapshots", device);
                return vssctl_fail(ctx, r, what);
        }
        int status = print_enabled(ctx, device, volume, a.size != NULL);
        free(volume);
        return status;
}
