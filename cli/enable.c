/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enable.c: "vssctl enable DEVICE [--provider NAME]": EnableVolume. A plain
 * block device (a partition, a loop device) cannot get a snapshot layer
 * under a mounted file system, so the provider wraps it in a volume of its
 * own, which the user mounts and names in snapshot sets from then on.
 */
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "vssctl.h"

static const struct option enable_long_options[] = {
        { "provider", required_argument, NULL, 'p' },
        { 0 },
};

static int enable_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        if (c == 'p')
                *(const char **)userdata = arg;
        return VSSCTL_CONTINUE;
}

/*
 * The volume alone on stdout, so that "vol=$(vssctl enable /dev/sdb1)" works;
 * what to do with it goes to stderr.
 */
static int print_enabled(const struct vssctl *ctx, const char *device, const char *volume)
{
        const char *const json[] = { "device", device, "volume", volume, NULL };

        int status = vssctl_print_result(ctx, json, "%s\n", volume);
        if (status == EXIT_SUCCESS && !ctx->json) {
                fputs("Mount ", stderr);
                terminal_fputs(volume, stderr);
                fputs(" instead of ", stderr);
                terminal_fputs(device, stderr);
                fputs(" from now on, and name it in snapshot sets (vssctl create ", stderr);
                terminal_fputs(volume, stderr);
                fputs(").\n", stderr);
        }
        return status;
}

int verb_enable(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "enable", { "device" }, 1, "such as /dev/sdb1 (its file system unmounted)"
        };
        const char *provider = NULL, *device;
        const struct verb_options options = {
                .long_options = enable_long_options,
                .short_options = "p:",
                .handle = enable_option,
                .userdata = &provider,
        };
        vss_client *client;
        char *volume, what[512];

        int r = vssctl_parse_verb(ctx, argc, argv, &options, &spec, &device, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vss_client_enable_volume(client, device, provider, &volume);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot enable %s for snapshots", device);
                return vssctl_fail(ctx, r, what);
        }
        int status = print_enabled(ctx, device, volume);
        free(volume);
        return status;
}
