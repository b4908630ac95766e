/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unexpose.c: "vssctl unexpose SNAPSHOT_ID": Unexpose, unmounting what
 * "vssctl expose" mounted.
 */
#include "vssctl.h"

int verb_unexpose(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "unexpose", { "snapshot id" }, 1, "(see 'vssctl list shadows')"
        };
        const char *id;
        vss_client *client;

        int r = vssctl_parse_verb(ctx, argc, argv, NULL, &spec, &id, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vss_client_unexpose_snapshot(client, id);
        if (r < 0)
                return vssctl_fail_snapshot(ctx, r, "unexpose", id);
        const char *const json[] = { "id", id, "exposed_path", "", NULL };
        return vssctl_print_result(ctx, json, "Snapshot %s is no longer exposed.\n", id);
}
