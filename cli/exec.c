/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exec.c: "vssctl exec [options] VOLUME... -- COMMAND [ARG...]": the VSS
 * backup flow around one command (vshadow -exec, diskshadow's exec). A
 * session takes a non-persistent, auto-release snapshot set (StartBackup in
 * context backup, GatherWriterMetadata, StartSnapshotSet, AddToSnapshotSet
 * per volume, PrepareForBackup, DoSnapshotSet), exposes every snapshot, runs
 * COMMAND (no shell) with the snapshots in its environment, tells the
 * writers how it went (SetBackupSucceeded, BackupComplete), unexposes and
 * releases the set. vssctl exits with COMMAND's status.
 *
 * The snapshots belong to vssctl's connection: if vssctl dies, even by
 * SIGKILL, vssd releases them (auto-release). A SIGTERM, SIGINT, SIGHUP or
 * SIGQUIT while COMMAND runs is passed on to COMMAND, and vssctl releases the
 * set once COMMAND has ended.
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

struct exec_args {
        const char *mount;           /* --mount DIR, or NULL: vssd's default */
        struct set_participants who; /* --no-writers, --provider, --exclude-writer */
        char **volumes;              /* operands before "--" */
        size_t n_volumes;
        char **command;              /* after "--", NULL-terminated */
};

/* One volume of the set, as COMMAND's environment gives it. */
struct exec_volume {
        char *snapshot_id;
        char *origin;
        char *device;
        char *mount;                 /* where it is exposed; NULL: not (yet) */
};

enum {
        OPT_MOUNT = 'm',
};

static const struct option exec_long_options[] = {
        { "mount", required_argument, NULL, OPT_MOUNT },
        SET_PARTICIPANT_OPTIONS,
        { 0 },
};

static int exec_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct exec_args *a = userdata;

        switch (c) {
        case OPT_MOUNT:
                a->mount = arg;
                break;
        default:
                set_participants_option(&a->who, c, arg);
        }
        return VSSCTL_CONTINUE;
}

static const char *base_name(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* Several volumes under one --mount: each gets DIR/<its base name>, which must differ. */
static int check_mount_names(const struct exec_args *a)
{
        if (a->mount && a->mount[0] != '/')
                return vssctl_usage_error("--mount '%s' is not an absolute path", a->mount);
        for (size_t i = 0; a->mount && a->n_volumes > 1 && i < a->n_volumes; i++)
                for (size_t k = 0; k < i; k++)
                        if (strcmp(base_name(a->volumes[i]), base_name(a->volumes[k])) == 0)
                                return vssctl_usage_error(
                                        "'%s' and '%s' would both be mounted at %s/%s; "
                                        "snapshot them with two 'exec' runs, or without --mount",
                                        a->volumes[k], a->volumes[i], a->mount,
                                        base_name(a->volumes[i]));
        return VSSCTL_CONTINUE;
}

/*
 * "VOLUME... -- COMMAND [ARG...]": the "--" is found before getopt runs,
 * because getopt moves operands around it and forgets where it was.
 */
static int exec_parse(struct vssctl *ctx, int argc, char *argv[], struct exec_args *a)
{
        const struct verb_options options = {
                .long_options = exec_long_options,
                .handle = exec_option,
                .userdata = a,
        };
        int dashes = 1, first;

        while (dashes < argc && strcmp(argv[dashes], "--") != 0)
                dashes++;
        int r = vssctl_parse_options(ctx, dashes, argv, &options, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (dashes >= argc)
                return vssctl_usage_error("'exec' needs '--' and the command to run after the "
                                          "volumes, e.g. vssctl exec /dev/vg0/data -- tar ...");
        if (first >= dashes)
                return vssctl_usage_error("'exec' needs at least one volume before '--'");
        if (dashes + 1 >= argc)
                return vssctl_usage_error("'exec' needs a command after '--'");
        r = vssctl_check_not_empty("exec", "volume", dashes, argv, first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (!argv[dashes + 1][0])
                return vssctl_usage_error("'exec': the command must not be empty");
        a->volumes = argv + first;
        a->n_volumes = (size_t)(dashes - first);
        a->command = argv + dashes + 1;
        return check_mount_names(a);
}

/* ---- the set ------------------------------------------------------------------------------ */

struct exec_run {
        struct vssctl *ctx;
        const struct exec_args *args;
        vss_client *client;
        vss_backup *backup;
        struct vssctl_progress progress;
        struct exec_volume *v;       /* one per volume, in the order given */
};

static void run_free(struct exec_run *run)
{
        for (size_t i = 0; run->v && i < run->args->n_volumes; i++) {
                free(run->v[i].snapshot_id);
                free(run->v[i].origin);
                free(run->v[i].device);
                free(run->v[i].mount);
        }
        free(run->v);
        vss_backup_unref(run->backup);
}

/* A step failed: say what, and EXIT_EXEC_FAILED (COMMAND does not run). */
static int step_fail(struct exec_run *run, int r, const char *what)
{
        vssctl_fail(run->ctx, r, what);
        return EXIT_EXEC_FAILED;
}

/* The step STEP (one of vss_backup_*() that report warnings): print them; its result. */
static int with_warnings(vss_backup *b, int (*step)(vss_backup *, char **))
{
        char *warnings = NULL;
        int r = step(b, &warnings);
        if (r >= 0)
                vssctl_print_warnings(warnings);
        free(warnings);
        return r;
}

/* StartBackup .. StartSnapshotSet: 0 or the exit status. */
static int start_session(struct exec_run *run)
{
        const struct exec_args *a = run->args;
        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;

        opts.context = a->who.no_writers ? "file-share-backup" : "backup";
        opts.exclude_writers = set_participants_excluded(&a->who);
        opts.progress = vssctl_progress;
        opts.progress_userdata = &run->progress;
        int r = vss_client_start_backup_with_options(run->client, &opts, &run->backup);
        if (r < 0)
                return step_fail(run, r, "cannot start a backup session");
        run->progress.idle = "writers are identifying";
        r = vss_backup_gather_writer_metadata(run->backup);
        run->progress.idle = NULL;
        if (r < 0)
                return step_fail(run, r, "cannot gather the writers' metadata");
        r = vss_backup_start_snapshot_set(run->backup, NULL);
        if (r < 0)
                return step_fail(run, r, "cannot start a snapshot set");
        return 0;
}

/* AddToSnapshotSet for every volume, then PrepareForBackup and DoSnapshotSet. */
static int make_set(struct exec_run *run)
{
        const struct exec_args *a = run->args;
        char what[4200];

        run->v = calloc(a->n_volumes, sizeof(*run->v));
        if (!run->v)
                return step_fail(run, -ENOMEM, "cannot start");
        for (size_t i = 0; i < a->n_volumes; i++) {
                int r = vss_backup_add_to_snapshot_set(run->backup, a->volumes[i], a->who.provider,
                                                       &run->v[i].snapshot_id);
                if (r < 0) {
                        snprintf(what, sizeof(what), "cannot add %s to the snapshot set",
                                 a->volumes[i]);
                        return step_fail(run, r, what);
                }
        }
        int r = with_warnings(run->backup, vss_backup_prepare_for_backup);
        if (r < 0)
                return step_fail(run, r, "cannot prepare the backup");
        r = with_warnings(run->backup, vss_backup_do_snapshot_set);
        if (r < 0)
                return step_fail(run, r, "cannot make the snapshots");
        return 0;
}

/* Origin and device of each snapshot, as vssd lists them. */
static int read_snapshots(struct exec_run *run)
{
        _cleanup_(snapshot_list_freep) vss_snapshot_info **list = NULL;
        const char *set_id = vss_backup_get_snapshot_set_id(run->backup);

        int r = vss_client_list_snapshots(run->client, set_id, &list, NULL);
        if (r < 0)
                return step_fail(run, r, "the snapshots were made, but cannot be listed");
        for (size_t i = 0; i < run->args->n_volumes; i++) {
                struct exec_volume *v = &run->v[i];
                for (vss_snapshot_info **s = list; *s && !v->origin; s++)
                        if (strcmp((*s)->id, v->snapshot_id) == 0) {
                                v->origin = strdup((*s)->origin);
                                v->device = strdup((*s)->device);
                                if (!v->origin || !v->device)
                                        return step_fail(run, -ENOMEM, "cannot list snapshots");
                        }
                if (!v->origin)
                        return step_fail(run, -ENOENT, "a snapshot of the set went away");
        }
        return 0;
}

/* Expose every snapshot: at --mount (DIR/<base name> for several), or vssd's default. */
static int expose_all(struct exec_run *run)
{
        const struct exec_args *a = run->args;
        char where[4096];

        for (size_t i = 0; i < a->n_volumes; i++) {
                const char *mount = NULL;
                if (a->mount && a->n_volumes == 1)
                        mount = a->mount;
                else if (a->mount) {
                        snprintf(where, sizeof(where), "%s/%s", a->mount,
                                 base_name(a->volumes[i]));
                        mount = where;
                }
                int r = vss_client_expose_snapshot(run->client, run->v[i].snapshot_id, mount,
                                                   &run->v[i].mount);
                if (r < 0) {
                        vssctl_fail_snapshot(run->ctx, r, "expose", run->v[i].snapshot_id);
                        return EXIT_EXEC_FAILED;
                }
        }
        return 0;
}

/* ---- COMMAND ------------------------------------------------------------------------------ */

static int setenvf(const char *name_format, size_t i, const char *value)
{
        char name[64];
        snprintf(name, sizeof(name), name_format, i);
        return setenv(name, value ? value : "", 1);
}

static int set_environment(const struct exec_run *run)
{
        char count[32];
        int r = 0;

        snprintf(count, sizeof(count), "%zu", run->args->n_volumes);
        r |= setenv("VSS_SNAPSHOT_SET_ID", vss_backup_get_snapshot_set_id(run->backup), 1);
        r |= setenv("VSS_VOLUME_COUNT", count, 1);
        for (size_t i = 0; i < run->args->n_volumes; i++) {
                const struct exec_volume *v = &run->v[i];
                r |= setenvf("VSS_VOLUME_%zu", i, v->origin);
                r |= setenvf("VSS_SNAPSHOT_ID_%zu", i, v->snapshot_id);
                r |= setenvf("VSS_SNAPSHOT_DEVICE_%zu", i, v->device);
                r |= setenvf("VSS_MOUNT_%zu", i, v->mount);
        }
        return r ? -ENOMEM : 0;
}

static volatile sig_atomic_t child_pid;

/* A signal for vssctl while COMMAND runs is for COMMAND: vssctl waits, then releases. */
static void forward_signal(int sig)
{
        if (child_pid > 0)
                kill((pid_t)child_pid, sig);
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static __attribute__((noreturn)) void child(char **command)
{
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                signal(forwarded[i], SIG_DFL);
        execvp(command[0], command);
        int e = errno;
        fprintf(stderr, "vssctl: cannot run '%s': %s\n", command[0], strerror(e));
        _exit(e == ENOENT ? EXIT_EXEC_NOT_FOUND : EXIT_EXEC_CANNOT);
}

/* COMMAND's exit status, 128+N when signal N killed it (as the shell says). */
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
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_FAILURE;
}

static int run_command(char **command)
{
        struct sigaction forward = { .sa_handler = forward_signal }, old[ELEMENTSOF(forwarded)];

        fflush(stdout);
        fflush(stderr);
        sigemptyset(&forward.sa_mask);
        /* Installed before the fork: a signal that comes meanwhile is not lost. */
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaction(forwarded[i], &forward, &old[i]);
        pid_t pid = fork();
        if (pid == 0)
                child(command);
        int status;
        if (pid < 0) {
                fprintf(stderr, "vssctl: cannot start '%s': %s\n", command[0], strerror(errno));
                status = EXIT_EXEC_CANNOT;
        } else {
                child_pid = pid;
                status = wait_child(pid);
                child_pid = 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaction(forwarded[i], &old[i], NULL);
        return status;
}

/* ---- the end ------------------------------------------------------------------------------ */

static void warn(struct exec_run *run, int r, const char *what)
{
        const char *why = vss_client_get_error_message(run->client);
        fprintf(stderr, "vssctl: warning: %s: ", what);
        terminal_fputs(why ? why : vss_strerror(r), stderr);
        fputc('\n', stderr);
}

/* Tell the writers how COMMAND went; a failure here does not change its status. */
static void complete(struct exec_run *run, bool succeeded)
{
        int r = vss_backup_set_backup_succeeded(run->backup, succeeded);
        if (r < 0) {
                warn(run, r, "cannot tell the writers how the backup went");
                return;
        }
        r = with_warnings(run->backup, vss_backup_backup_complete);
        if (r < 0)
                warn(run, r, "BackupComplete failed");
}

/*
 * Unexpose what was exposed, then Release: the set goes now, not when
 * vssctl's connection closes, so the next command sees it gone.
 */
static void release(struct exec_run *run)
{
        char what[256];

        for (size_t i = 0; run->v && i < run->args->n_volumes; i++) {
                if (!run->v[i].mount)
                        continue;
                int r = vss_client_unexpose_snapshot(run->client, run->v[i].snapshot_id);
                if (r < 0) {
                        snprintf(what, sizeof(what), "cannot unmount %.200s", run->v[i].mount);
                        warn(run, r, what);
                }
        }
        int r = run->backup ? vss_backup_release(run->backup) : 0;
        if (r < 0) {
                warn(run, r, "cannot release the snapshot set");
                if (r != -ECONNREFUSED && r != -ECONNRESET && r != -ENOTCONN)
                        fputs("vssd releases it when vssctl's connection closes.\n", stderr);
        }
}

/* Everything but the options' memory: the exit status. */
static int exec_main(struct vssctl *ctx, int argc, char *argv[], struct exec_args *a)
{
        struct exec_run run = { .ctx = ctx, .args = a };

        int r = exec_parse(ctx, argc, argv, a);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = vssctl_client(ctx, &run.client);
        if (r != 0)
                return r == EXIT_USAGE ? r : EXIT_EXEC_FAILED;

        int status = start_session(&run);
        if (status == 0)
                status = make_set(&run);
        if (status == 0)
                status = read_snapshots(&run);
        if (status == 0)
                status = expose_all(&run);
        if (status == 0 && set_environment(&run) < 0)
                status = step_fail(&run, -ENOMEM, "cannot set the command's environment");
        if (status == 0) {
                status = run_command(a->command);
                complete(&run, status == 0);
        }
        release(&run);
        run_free(&run);
        return status;
}

int verb_exec(struct vssctl *ctx, int argc, char *argv[])
{
        struct exec_args a = { 0 };

        if (set_participants_init(&a.who, argc) < 0)
                return vssctl_output_done(-ENOMEM);
        int status = exec_main(ctx, argc, argv, &a);
        set_participants_done(&a.who);
        return status;
}
