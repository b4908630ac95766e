/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vssctl.h: what vssctl's verbs share: the state global options set, the
 * option parser every verb runs (so global options work after the verb
 * too), and the one way to report failures and usage errors.
 */
#ifndef VSSCTL_H
#define VSSCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <vss/requester.h>

/* Exit status, as documented in --help. */
enum {
        EXIT_USAGE = 2,         /* unknown verb, missing argument, bad option */
        EXIT_UNSUPPORTED = 3,   /* 'supported': no provider can snapshot the volume */
        EXIT_WRITER_FAILED = 4, /* 'writers status': a writer is in a failed state */
        /* 'exec', as env(1) and timeout(1) report them; else COMMAND's own status */
        EXIT_EXEC_FAILED = 125,   /* no snapshots: COMMAND did not run */
        EXIT_EXEC_CANNOT = 126,   /* COMMAND exists but cannot be run */
        EXIT_EXEC_NOT_FOUND = 127,
};

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}

/* _cleanup_ helpers for the lists libvss returns that more than one verb reads. */
static inline void snapshot_list_freep(vss_snapshot_info ***l)
{
        vss_snapshot_info_list_free(*l);
}

static inline void provider_list_freep(vss_provider_info ***l)
{
        vss_provider_info_list_free(*l);
}

static inline void set_list_freep(vss_snapshot_set_info ***l)
{
        vss_snapshot_set_info_list_free(*l);
}

/* vssctl_parse_options(): carry on with the verb. */
#define VSSCTL_CONTINUE (-1)

struct vssctl {
        const char *bus_address; /* --bus, or NULL for the library's default */
        uint64_t timeout_ms;     /* --timeout, or 0 for the library's default */
        bool json;               /* --json */
        vss_client *client;      /* created by vssctl_client() */
};

/* Options of one verb, on top of the global ones; their getopt values stay below 0x100. */
struct verb_options {
        const struct option *long_options; /* terminated by an all-zero entry */
        const char *short_options;
        /* Handle option C (getopt's return) with ARG; returns VSSCTL_CONTINUE or an exit status. */
        int (*handle)(struct vssctl *ctx, int c, const char *arg, void *userdata);
        void *userdata;
};

/*
 * Parse ARGV (ARGV[0] being the verb) for global options and VERB's (may be
 * NULL), in any order; *RET_FIRST gets the index of the first operand.
 * Returns VSSCTL_CONTINUE, or the exit status (after --help, --version, or
 * a usage error, already reported).
 */
int vssctl_parse_options(struct vssctl *ctx, int argc, char *argv[],
                         const struct verb_options *verb, int *ret_first);

/*
 * Who takes part in a snapshot set, as create and exec are told: their
 * options --no-writers, --provider and --exclude-writer (repeatable), whose
 * getopt values are these.
 */
enum {
        OPT_NO_WRITERS = 'n',
        OPT_PROVIDER = 'p',
        OPT_EXCLUDE_WRITER = 'x',
};

#define SET_PARTICIPANT_OPTIONS                                                 \
        { "no-writers", no_argument, NULL, OPT_NO_WRITERS },                   \
        { "provider", required_argument, NULL, OPT_PROVIDER },                 \
        { "exclude-writer", required_argument, NULL, OPT_EXCLUDE_WRITER }

struct set_participants {
        bool no_writers;
        const char *provider; /* NULL: any provider that supports the volume */
        const char **exclude; /* writers' names, instance or class ids; NULL-terminated */
        size_t n_exclude;
};

/* Room for an --exclude-writer per argument of ARGC: 0 or -ENOMEM. */
int set_participants_init(struct set_participants *p, int argc);
void set_participants_done(struct set_participants *p);
/* Take option C with ARG if it is one of SET_PARTICIPANT_OPTIONS: true when it was. */
bool set_participants_option(struct set_participants *p, int c, const char *arg);
/* The writers to exclude as libvss takes them: NULL for none. */
const char *const *set_participants_excluded(const struct set_participants *p);

/*
 * The operands of a verb without options of its own beyond VERB's: the first
 * N_REQUIRED of NAMES must be there, the others may be, and none may be "".
 * NAMES are what messages call them ("snapshot id"); HINT (may be NULL) says
 * where to find a value when one is missing.
 */
struct verb_operands {
        const char *verb;
        const char *names[2];
        size_t n_required;
        const char *hint;
};

/*
 * vssctl_parse_options(), then the operands against SPEC into RET (one per
 * name, NULL for an optional one not given), and the client into
 * *RET_CLIENT. Returns VSSCTL_CONTINUE, or the exit status (reported).
 */
int vssctl_parse_verb(struct vssctl *ctx, int argc, char *argv[],
                      const struct verb_options *verb, const struct verb_operands *spec,
                      const char **ret, vss_client **ret_client);

/* A usage error naming WHAT when any of ARGV[FIRST..ARGC) is "": VSSCTL_CONTINUE or 2. */
int vssctl_check_not_empty(const char *verb, const char *what, int argc, char *argv[],
                           int first);

/* The client, created on first use: 0, or the exit status after reporting why not. */
int vssctl_client(struct vssctl *ctx, vss_client **ret);

/*
 * Report "vssctl: WHAT: <why>" for error R of the client, plus a hint on
 * what to do when vssd cannot be reached; returns EXIT_FAILURE.
 */
int vssctl_fail(struct vssctl *ctx, int r, const char *what);
/* vssctl_fail() for "cannot ACTION snapshot ID", with a hint when vssd has no such snapshot. */
int vssctl_fail_snapshot(struct vssctl *ctx, int r, const char *action, const char *id);
/*
 * Print a verb's result: with --json an object of the string pairs JSON (key,
 * value, ..., NULL), else the text FORMAT makes, escaped for the terminal.
 * Returns the exit status.
 */
int vssctl_print_result(const struct vssctl *ctx, const char *const *json, const char *format,
                        ...) __attribute__((format(printf, 3, 4)));
/* Exit status after printing a result that returned R (0 or -errno, reported). */
int vssctl_output_done(int r);
/* Print each line of WARNINGS (vssd's, ';'-joined or one a line) as "vssctl: warning: ...". */
void vssctl_print_warnings(const char *warnings);

/*
 * Progress of the calls that wait for writers or providers, on stderr and
 * only once a step has taken more than a second: a vss_progress_fn, with a
 * struct vssctl_progress as userdata. IDLE is what to say while no set state
 * is known yet (e.g. "writers are identifying").
 */
struct vssctl_progress {
        const char *idle;
        char shown[96]; /* the last line printed */
};
void vssctl_progress(const char *set_id, const char *state, uint64_t elapsed_ms, void *userdata);

/* Report a usage error with the --help hint; returns EXIT_USAGE. */
int vssctl_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Verbs: return the exit status. */
int verb_list(struct vssctl *ctx, int argc, char *argv[]);
int verb_status(struct vssctl *ctx, int argc, char *argv[]);
int verb_supported(struct vssctl *ctx, int argc, char *argv[]);
int verb_create(struct vssctl *ctx, int argc, char *argv[]);
int verb_delete(struct vssctl *ctx, int argc, char *argv[]);
int verb_enable(struct vssctl *ctx, int argc, char *argv[]);
int verb_disable(struct vssctl *ctx, int argc, char *argv[]);
int verb_recover(struct vssctl *ctx, int argc, char *argv[]);
int verb_expose(struct vssctl *ctx, int argc, char *argv[]);
int verb_unexpose(struct vssctl *ctx, int argc, char *argv[]);
int verb_revert(struct vssctl *ctx, int argc, char *argv[]);
int verb_storage(struct vssctl *ctx, int argc, char *argv[]);
int verb_exec(struct vssctl *ctx, int argc, char *argv[]);
int verb_writers(struct vssctl *ctx, int argc, char *argv[]);

#endif
