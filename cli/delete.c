/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * delete.c: "vssctl delete SHADOW | --set SET | --for VOLUME |
 * --oldest [--for VOLUME] | --all" (vssadmin delete shadows): one way to
 * name each thing, DeleteSnapshots underneath, and how many snapshots went.
 * A named snapshot or set that does not exist is an error; --for, --oldest
 * and --all that find nothing to delete say so and succeed, so that cleanup
 * scripts can run them unconditionally.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

struct delete_args {
        const char *set;    /* --set */
        const char *volume; /* --for */
        bool oldest;        /* --oldest */
        bool all;           /* --all */
        const char *shadow; /* the operand */
};

static const struct option delete_long_options[] = {
        { "set", required_argument, NULL, 's' },
        { "for", required_argument, NULL, 'f' },
        { "oldest", no_argument, NULL, 'o' },
        { "all", no_argument, NULL, 'a' },
        { 0 },
};

static int delete_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct delete_args *a = userdata;

        switch (c) {
        case 's':
                a->set = arg;
                break;
        case 'f':
                a->volume = arg;
                break;
        case 'o':
                a->oldest = true;
                break;
        case 'a':
                a->all = true;
                break;
        }
        return VSSCTL_CONTINUE;
}

#define DELETE_FORMS "a snapshot id, --set SET, --for VOLUME, --oldest [--for VOLUME] or --all"

static int delete_parse(struct vssctl *ctx, int argc, char *argv[], struct delete_args *a)
{
        const struct verb_options options = {
                .long_options = delete_long_options,
                .handle = delete_option,
                .userdata = a,
        };
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, &options, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first + 1 < argc)
                return vssctl_usage_error("'delete' takes one snapshot id, got also '%s'",
                                          argv[first + 1]);
        if (first < argc && !*argv[first])
                return vssctl_usage_error("'delete': the snapshot id must not be empty");
        a->shadow = first < argc ? argv[first] : NULL;
        /* --for alone, or to narrow --oldest; every other form stands alone. */
        unsigned n = !!a->shadow + !!a->set + a->oldest + a->all + (a->volume && !a->oldest);
        if (n == 0)
                return vssctl_usage_error("'delete' needs what to delete: " DELETE_FORMS);
        if (n > 1)
                return vssctl_usage_error("'delete' takes one of " DELETE_FORMS);
        return VSSCTL_CONTINUE;
}

static int print_deleted(const struct vssctl *ctx, unsigned deleted, const vss_snapshot_info *s)
{
        if (ctx->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                json_uint(&j, "deleted", deleted);
                if (s) {
                        json_string(&j, "id", s->id);
                        json_string(&j, "origin", s->origin);
                }
                json_object_end(&j);
                return json_finish(&j);
        }
        if (s)
                printf("Deleted 1 snapshot (%s of ", s->id);
        else
                printf("Deleted %u snapshot%s.\n", deleted, deleted == 1 ? "" : "s");
        if (s && terminal_fputs(s->origin, stdout) >= 0)
                fputs(").\n", stdout);
        return ferror(stdout) ? -EIO : 0;
}

/* Nothing matched --all, --for or --oldest: no error, as the goal is met. */
static int print_nothing(const struct vssctl *ctx, const char *volume)
{
        if (ctx->json)
                return print_deleted(ctx, 0, NULL);
        fputs("No snapshots", stdout);
        if (volume) {
                fputs(" of ", stdout);
                terminal_fputs(volume, stdout);
        }
        fputs(" to delete.\n", stdout);
        return ferror(stdout) ? -EIO : 0;
}

static int delete_fail(struct vssctl *ctx, int r, const char *what_format, const char *key)
{
        char what[512];

        snprintf(what, sizeof(what), what_format, key);
        int status = vssctl_fail(ctx, r, what);
        if (r == -ENOENT)
                fputs("See 'vssctl list shadows' and 'vssctl list sets' for what vssd has.\n",
                      stderr);
        return status;
}

/* Does snapshot S (not being merged: the merge consumes it) belong to VOLUME (NULL: any)? */
static bool snapshot_matches(const vss_snapshot_info *s, const char *volume, const char *real)
{
        if (strcmp(s->state, "merging") == 0)
                return false;
        return !volume || strcmp(s->origin, volume) == 0 || (real && strcmp(s->origin, real) == 0);
}

/* --oldest [--for VOLUME]: the snapshot with the earliest CreationTime. */
static int delete_oldest(struct vssctl *ctx, vss_client *client, const char *volume)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **list = NULL;
        char real[PATH_MAX];
        const vss_snapshot_info *oldest = NULL;

        int r = vss_client_list_snapshots(client, NULL, &list, NULL);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the snapshots");
        /* vssd names volumes by their canonical path; so may the user, or not. */
        bool has_real = volume && realpath(volume, real);
        for (vss_snapshot_info **s = list; *s; s++)
                if (snapshot_matches(*s, volume, has_real ? real : NULL) &&
                    (!oldest || (*s)->creation_time_usec < oldest->creation_time_usec ||
                     ((*s)->creation_time_usec == oldest->creation_time_usec &&
                      strcmp((*s)->id, oldest->id) < 0)))
                        oldest = *s;
        if (!oldest)
                return vssctl_output_done(print_nothing(ctx, volume));
        r = vss_client_delete_snapshots(client, VSS_DELETE_SNAPSHOT, oldest->id, NULL);
        if (r < 0)
                return delete_fail(ctx, r, "cannot delete snapshot %s", oldest->id);
        return vssctl_output_done(print_deleted(ctx, 1, oldest));
}

/* --all: set by set, so that one call removes each set whole. */
static int delete_all(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **list = NULL;
        unsigned total = 0;

        int r = vss_client_list_snapshots(client, NULL, &list, NULL);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the snapshots");
        for (vss_snapshot_info **s = list; *s; s++) {
                bool seen = !snapshot_matches(*s, NULL, NULL);
                for (vss_snapshot_info **t = list; t < s && !seen; t++)
                        seen = snapshot_matches(*t, NULL, NULL) &&
                               strcmp((*t)->set_id, (*s)->set_id) == 0;
                if (seen)
                        continue;
                unsigned n = 0;
                r = vss_client_delete_snapshots(client, VSS_DELETE_SET, (*s)->set_id, &n);
                if (r == -ENOENT) /* gone meanwhile: as good as deleted */
                        continue;
                if (r < 0) {
                        if (total > 0)
                                fprintf(stderr, "vssctl: %u snapshot%s deleted before this "
                                        "failure.\n", total, total == 1 ? " was" : "s were");
                        return delete_fail(ctx, r, "cannot delete the snapshots of set %s",
                                           (*s)->set_id);
                }
                total += n;
        }
        return vssctl_output_done(total ? print_deleted(ctx, total, NULL)
                                        : print_nothing(ctx, NULL));
}

int verb_delete(struct vssctl *ctx, int argc, char *argv[])
{
        struct delete_args a = { 0 };
        vss_client *client;
        unsigned deleted;

        int r = delete_parse(ctx, argc, argv, &a);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        if (a.oldest)
                return delete_oldest(ctx, client, a.volume);
        if (a.all)
                return delete_all(ctx, client);
        if (a.shadow) {
                r = vss_client_delete_snapshots(client, VSS_DELETE_SNAPSHOT, a.shadow, &deleted);
                if (r < 0)
                        return delete_fail(ctx, r, "cannot delete snapshot %s", a.shadow);
        } else if (a.set) {
                r = vss_client_delete_snapshots(client, VSS_DELETE_SET, a.set, &deleted);
                if (r < 0)
                        return delete_fail(ctx, r, "cannot delete the snapshots of set %s",
                                           a.set);
        } else {
                r = vss_client_delete_snapshots(client, VSS_DELETE_VOLUME, a.volume, &deleted);
                if (r == -ENOENT)
                        return vssctl_output_done(print_nothing(ctx, a.volume));
                if (r < 0)
                        return delete_fail(ctx, r, "cannot delete the snapshots of %s",
                                           a.volume);
        }
        return vssctl_output_done(print_deleted(ctx, deleted, NULL));
}
