/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * revert.c: "vssctl revert SNAPSHOT_ID [--wait]": Revert, which merges the
 * snapshot back into its origin in the background (vssadmin revert shadow).
 * With --wait, vssctl follows the merge through vssd's signals and shows how
 * much copy-on-write data is left whenever vssd reports a change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

static const struct option revert_long_options[] = {
        { "wait", no_argument, NULL, 'w' },
        { 0 },
};

static int revert_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        if (c == 'w')
                *(bool *)userdata = true;
        return VSSCTL_CONTINUE;
}

/* What the messages need of snapshot ID, as vssd lists it; "" when it does not. */
struct target {
        char origin[4096];
        bool merging; /* reverted already: --wait only follows the merge */
};

static int find_target(struct vssctl *ctx, vss_client *client, const char *id,
                       struct target *ret)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **snapshots = NULL;

        int r = vss_client_list_snapshots(client, NULL, &snapshots, NULL);
        if (r < 0)
                return vssctl_fail_snapshot(ctx, r, "revert to", id);
        *ret = (struct target){ .merging = false };
        for (vss_snapshot_info **s = snapshots; *s; s++)
                if (strcmp((*s)->id, id) == 0) {
                        snprintf(ret->origin, sizeof(ret->origin), "%s", (*s)->origin);
                        ret->merging = strcmp((*s)->state, "merging") == 0;
                }
        return 0;
}

struct progress {
        bool started;
        bool shown; /* a line about COW_USED_BYTES */
        uint64_t cow_used_bytes;
};

/*
 * A vss_merge_progress_fn: the first call, once vssctl listens to vssd,
 * announces the wait; then a line whenever the data left to merge changed.
 * Progress goes to stderr: stdout is the result's.
 */
static void show_progress(const vss_snapshot_info *s, void *userdata)
{
        struct progress *p = userdata;
        char used[FORMAT_BYTES_MAX];

        if (!p->started) {
                fprintf(stderr, "Reverting %s to snapshot %s...\n", s->origin, s->id);
                p->started = true;
        }
        /* A provider without a copy-on-write store has nothing to count. */
        if (s->cow_size_bytes > 0 && (!p->shown || s->cow_used_bytes != p->cow_used_bytes)) {
                fprintf(stderr, "  %s left to merge\n",
                        format_bytes(used, sizeof(used), s->cow_used_bytes));
                p->shown = true;
                p->cow_used_bytes = s->cow_used_bytes;
        }
        fflush(stderr);
}

static int revert_wait(struct vssctl *ctx, vss_client *client, const char *id,
                       const char *origin)
{
        struct progress p = { 0 };

        int r = vss_client_wait_snapshot_merged(client, id, 0, ctx->json ? NULL : show_progress,
                                                &p);
        if (r < 0)
                return vssctl_fail_snapshot(ctx, r, "finish the merge of", id);
        const char *const json[] = { "id", id, "origin", origin, "state", "merged", NULL };
        return vssctl_print_result(ctx, json, "Reverted %s to snapshot %s.\n", origin, id);
}

int verb_revert(struct vssctl *ctx, int argc, char *argv[])
{
        static const struct verb_operands spec = {
                "revert", { "snapshot id" }, 1, "(see 'vssctl list shadows')"
        };
        bool wait = false;
        const struct verb_options options = {
                .long_options = revert_long_options,
                .handle = revert_option,
                .userdata = &wait,
        };
        const char *id;
        vss_client *client;
        struct target t;

        int r = vssctl_parse_verb(ctx, argc, argv, &options, &spec, &id, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = find_target(ctx, client, id, &t);
        if (r != 0)
                return r;
        r = wait && t.merging ? 0 : vss_client_revert_snapshot(client, id);
        if (r < 0)
                return vssctl_fail_snapshot(ctx, r, "revert to", id);
        if (wait)
                return revert_wait(ctx, client, id, t.origin);
        const char *const json[] = { "id", id, "origin", t.origin, "state", "merging", NULL };
        return vssctl_print_result(ctx, json,
                                   "Reverting %s to snapshot %s: the merge runs in the "
                                   "background, and the snapshot leaves 'vssctl list shadows' "
                                   "when it is done ('vssctl revert --wait' follows it).\n",
                                   t.origin, id);
}
