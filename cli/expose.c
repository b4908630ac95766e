/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * expose.c: "vssctl expose SNAPSHOT_ID [MOUNT_POINT]": Expose, a read-only
 * mount of the snapshot (vssd picks the mount options each file system
 * needs); prints where, so that "cd $(vssctl expose ID)" works.
 */
#include <stdlib.h>

#include "vssctl.h"

int verb_expose(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "expose", { "snapshot id", "mount point" }, 1, "(see 'vssctl list shadows')"
        };
        const char *operands[2];
        vss_client *client;
        char *path;

        int r = vssctl_parse_verb(ctx, argc, argv, NULL, &spec, operands, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vss_client_expose_snapshot(client, operands[0], operands[1], &path);
        if (r < 0)
                return vssctl_fail_snapshot(ctx, r, "expose", operands[0]);
        const char *const json[] = { "id", operands[0], "exposed_path", path, NULL };
        int status = vssctl_print_result(ctx, json, "%s\n", path);
        free(path);
        return status;
}
