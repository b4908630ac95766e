/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * create.c: "vssctl create [options] VOLUME...": one snapshot set of the
 * volumes through CreateSnapshotSet, printed as its id and one line per
 * snapshot. Snapshots of an auto-release context live only as long as
 * vssctl's connection: with --exec CMD, vssctl keeps it open while CMD runs
 * (the VSS backup flow, like vshadow -exec); without --exec it makes
 * persistent snapshots and refuses an auto-release context.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"
#include "vssctl.h"

struct create_args {
        const char *context;      /* --context, or NULL for the default */
        const char **attributes;  /* --attribute..., NULL-terminated */
        size_t n_attributes;
        bool no_writers;          /* --no-writers */
        const char *provider;     /* --provider */
        const char *exec;         /* --exec */
};

enum {
        OPT_CONTEXT = 'c',
        OPT_ATTRIBUTE = 'a',
        OPT_NO_WRITERS = 'n',
        OPT_PROVIDER = 'p',
        OPT_EXEC = 'e',
};

static const struct option create_long_options[] = {
        { "context", required_argument, NULL, OPT_CONTEXT },
        { "attribute", required_argument, NULL, OPT_ATTRIBUTE },
        { "no-writers", no_argument, NULL, OPT_NO_WRITERS },
        { "provider", required_argument, NULL, OPT_PROVIDER },
        { "exec", required_argument, NULL, OPT_EXEC },
        { 0 },
};

static int create_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct create_args *a = userdata;

        switch (c) {
        case OPT_CONTEXT:
                a->context = arg;
                break;
        case OPT_ATTRIBUTE:
                /* The array has room for every argument (see verb_create()). */
                a->attributes[a->n_attributes++] = arg;
                break;
        case OPT_NO_WRITERS:
                a->no_writers = true;
                break;
        case OPT_PROVIDER:
                a->provider = arg;
                break;
        case OPT_EXEC:
                a->exec = arg;
                break;
        }
        return VSSCTL_CONTINUE;
}

static bool has_attribute(const struct create_args *a, const char *name)
{
        for (size_t i = 0; i < a->n_attributes; i++)
                if (strcmp(a->attributes[i], name) == 0)
                        return true;
        return false;
}

/* Snapshots of these contexts go when their session's owner leaves the bus. */
static bool is_auto_release(const struct create_args *a)
{
        bool auto_context = strcmp(a->context, "backup") == 0 ||
                            strcmp(a->context, "file-share-backup") == 0;
        return auto_context && !has_attribute(a, "persistent") &&
               !has_attribute(a, "no-auto-release");
}

/*
 * The context: with --exec the VSS backup contexts (released when CMD is
 * done), else the persistent rollback ones; --no-writers picks the variant
 * without writers, or adds the attribute to a context given explicitly.
 */
static int choose_context(struct create_args *a)
{
        if (!a->context) {
                if (a->exec)
                        a->context = a->no_writers ? "file-share-backup" : "backup";
                else
                        a->context = a->no_writers ? "nas-rollback" : "app-rollback";
        } else if (a->no_writers && !has_attribute(a, "no-writers")) {
                a->attributes[a->n_attributes++] = "no-writers";
        }
        if (!a->exec && is_auto_release(a))
                return vssctl_usage_error(
                        "context '%s' is auto-release: its snapshots would be deleted as soon as "
                        "vssctl exits.\nUse --exec CMD to work on them while they exist, or a "
                        "persistent context (app-rollback, or nas-rollback without writers)",
                        a->context);
        return VSSCTL_CONTINUE;
}

/* ---- output ----------------------------------------------------------------------------- */

static int print_table(FILE *out, const struct create_args *a, const char *set_id,
                       vss_snapshot_info **snapshots, size_t n)
{
        static const char *const headers[] = { "ID", "ORIGIN" };

        fprintf(out, "Snapshot set: %s\nContext: %s\n", set_id, a->context);
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
                      const char *warnings, vss_snapshot_info **snapshots, size_t n)
{
        struct json j;

        json_init(&j, out);
        json_object_begin(&j, NULL);
        json_string(&j, "snapshot_set_id", set_id);
        json_string(&j, "context", a->context);
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

/* Non-fatal writer failures, one "vssctl: warning:" line each, escaped as tables are. */
static void print_warnings(const char *warnings)
{
        for (const char *line = warnings; *line;) {
                size_t len = strcspn(line, "\n");
                char *copy = len > 0 ? strndup(line, len) : NULL;
                if (copy) {
                        fputs("vssctl: warning: ", stderr);
                        terminal_fputs(copy, stderr);
                        fputc('\n', stderr);
                        free(copy);
                }
                line += len + (line[len] == '\n');
        }
}

/* ---- --exec ------------------------------------------------------------------------------ */

static volatile sig_atomic_t child_pid;

/* A TERM or HUP for vssctl is for CMD: vssctl itself waits for it to end. */
static void forward_signal(int sig)
{
        if (child_pid > 0)
                kill((pid_t)child_pid, sig);
}

/* "a b c" from every snapshot's id (ORIGIN false) or origin. */
static char *join_snapshots(vss_snapshot_info **snapshots, size_t n, bool origin)
{
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(origin ? snapshots[i]->origin : snapshots[i]->id) + 1;
        char *out = malloc(len), *o = out;
        if (!out)
                return NULL;
        *o = '\0';
        for (size_t i = 0; i < n; i++)
                o += sprintf(o, "%s%s", i ? " " : "",
                             origin ? snapshots[i]->origin : snapshots[i]->id);
        return out;
}

static int set_environment(const char *set_id, vss_snapshot_info **snapshots, size_t n)
{
        char *ids = join_snapshots(snapshots, n, false);
        char *volumes = join_snapshots(snapshots, n, true);
        int r = ids && volumes && setenv("VSS_SNAPSHOT_SET_ID", set_id, 1) == 0 &&
                                setenv("VSS_SNAPSHOT_IDS", ids, 1) == 0 &&
                                setenv("VSS_VOLUMES", volumes, 1) == 0
                        ? 0
                        : -ENOMEM;
        free(ids);
        free(volumes);
        return r;
}

/* Wait for PID as system(3) does: vssctl outlives CMD whatever the terminal sends. */
static int wait_child(pid_t pid)
{
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        fprintf(stderr, "vssctl: cannot wait for the command: %s\n",
                                strerror(errno));
                        return EXIT_FAILURE;
                }
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status); /* as the shell reports it */
        return EXIT_FAILURE;
}

/* Run CMD with /bin/sh -c; its exit status (128+N when killed by signal N). */
static int run_command(const char *cmd)
{
        struct sigaction ignore = { .sa_handler = SIG_IGN }, forward = { .sa_handler = forward_signal };
        struct sigaction old_int, old_quit, old_term, old_hup;

        fflush(stdout);
        fflush(stderr);
        sigemptyset(&forward.sa_mask);
        sigaction(SIGINT, &ignore, &old_int);
        sigaction(SIGQUIT, &ignore, &old_quit);
        sigaction(SIGTERM, &forward, &old_term);
        sigaction(SIGHUP, &forward, &old_hup);

        pid_t pid = fork();
        if (pid == 0) {
                /* Ignored signals stay ignored across exec: give CMD the usual ones. */
                signal(SIGINT, SIG_DFL);
                signal(SIGQUIT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                fprintf(stderr, "vssctl: cannot run /bin/sh: %s\n", strerror(errno));
                _exit(127);
        }
        int status;
        if (pid < 0) {
                fprintf(stderr, "vssctl: cannot start the command: %s\n", strerror(errno));
                status = EXIT_FAILURE;
        } else {
                child_pid = pid;
                status = wait_child(pid);
                child_pid = 0;
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        return status;
}

/* The snapshots go now rather than when vssctl's connection closes, so a next command sees that. */
static void release_set(vss_client *client, const char *set_id)
{
        int r = vss_client_release_snapshot_set(client, set_id);
        if (r < 0) {
                const char *why = vss_client_get_error_message(client);
                fprintf(stderr, "vssctl: warning: cannot release snapshot set %s: ", set_id);
                terminal_fputs(why ? why : vss_strerror(r), stderr);
                fputc('\n', stderr);
                /* When vssd itself is gone, its recovery at start handles the set. */
                if (r != -ECONNREFUSED && r != -ECONNRESET && r != -ENOTCONN)
                        fputs("vssd releases it when vssctl's connection closes.\n", stderr);
        }
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

/* The set exists: show it, then run CMD when asked. */
static int created(struct vssctl *ctx, vss_client *client, const struct create_args *a,
                   const char *set_id, const char *warnings)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **snapshots = NULL;
        size_t n;
        char what[256];

        print_warnings(warnings);
        int r = vss_client_list_snapshots(client, set_id, &snapshots, &n);
        if (r < 0) {
                snprintf(what, sizeof(what), "snapshot set %s was created, but its snapshots "
                                             "cannot be listed",
                         set_id);
                return vssctl_fail(ctx, r, what);
        }
        /* With --exec, stdout belongs to CMD (think tar c ... > backup.tar). */
        FILE *out = a->exec ? stderr : stdout;
        r = ctx->json ? print_json(out, a, set_id, warnings, snapshots, n)
                      : print_table(out, a, set_id, snapshots, n);
        if (!a->exec || r < 0)
                return vssctl_output_done(r);

        if (set_environment(set_id, snapshots, n) < 0)
                return vssctl_output_done(-ENOMEM);
        int status = run_command(a->exec);
        release_set(client, set_id);
        return status;
}

static inline void freep(void *p)
{
        free(*(void **)p);
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
        return r != VSSCTL_CONTINUE ? r : choose_context(a);
}

int verb_create(struct vssctl *ctx, int argc, char *argv[])
{
        struct create_args a = { 0 };
        _cleanup_(freep) char *set_id = NULL, *warnings = NULL;
        vss_client *client;
        int first;

        /* Every argument could be an --attribute, plus the "no-writers" we may add. */
        _cleanup_(freep) const char **attributes = calloc((size_t)argc + 2, sizeof(*attributes));
        if (!attributes)
                return vssctl_output_done(-ENOMEM);
        a.attributes = attributes;
        int r = create_parse(ctx, argc, argv, &a, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;

        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;
        opts.context = a.context;
        opts.attributes = a.n_attributes ? a.attributes : NULL;
        opts.provider = a.provider;
        r = vss_client_create_snapshot_set(client, (const char *const *)argv + first,
                                           (size_t)(argc - first), &opts, &set_id, &warnings);
        if (r < 0)
                return create_fail(ctx, r, argc - first, argv + first);
        return created(ctx, client, &a, set_id, warnings);
}
