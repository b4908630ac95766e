/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: "vssctl recover": Manager.Recover, vssd's providers rolling
 * back what an interrupted vssd left half-made (vssd does it at every start;
 * this is for an administrator who wants it now, e.g. after repairing a
 * device a recovery had failed on). With vssd not running, `vssd --recover`
 * does the same offline.
 */
#include <stdio.h>

#include "output.h"
#include "vssctl.h"

int verb_recover(struct vssctl *ctx, int argc, char *argv[])
{
        vss_client *client;
        unsigned fixed;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, NULL, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first < argc)
                return vssctl_usage_error("'recover' takes no arguments, got '%s'", argv[first]);
        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        r = vss_client_recover(client, &fixed);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot recover");
        if (ctx->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_uint(&j, "fixed", fixed);
                json_object_end(&j);
                return vssctl_output_done(json_finish(&j));
        }
        if (fixed == 0)
                printf("Nothing to recover: no volume is left suspended and no snapshot "
                       "half-made.\n");
        else
                printf("Put right %u leftover(s) of an interrupted operation; vssd's log names "
                       "each (journalctl -u vssd).\n", fixed);
        return vssctl_output_done(0);
}
