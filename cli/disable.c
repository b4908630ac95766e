/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disable.c: "vssctl disable VOLUME": DisableVolume, the undoing of
 * "vssctl enable": the wrapping volume goes and the plain device is used
 * directly again.
 */
#include <stdio.h>

#include "vssctl.h"

int verb_disable(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "disable", { "volume" }, 1, "(the one 'vssctl enable' printed)"
        };
        const char *volume;
        vss_client *client;
        char what[512];

        int r = vssctl_parse_verb(ctx, argc, argv, NULL, &spec, &volume, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vss_client_disable_volume(client, volume, NULL);
        if (r < 0) {
                snprintf(what, sizeof(what), "cannot disable %s", volume);
                return vssctl_fail(ctx, r, what);
        }
        const char *const json[] = { "volume", volume, NULL };
        return vssctl_print_result(ctx, json, "Disabled %s: use the device it wrapped directly "
                                              "again.\n", volume);
}
