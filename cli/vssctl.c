/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vssctl.c: vssctl's entry point: global options, the command table, usage
 * text, and what the verbs share: parsing operands, reaching vssd, reporting
 * results and failures. Each verb lives in its own file (create.c, delete.c,
 * disable.c, enable.c, exec.c, expose.c, list.c, recover.c, revert.c, status.c,
 * unexpose.c, volume.c for 'supported', writers.c; progress.c for what they
 * say on stderr while vssd works).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

#define PROGRAM "vssctl"

struct cmd {
        const char *name;
        int (*fn)(struct vssctl *ctx, int argc, char *argv[]);
        const char *args; /* for --help */
        const char *help;
};

static const struct cmd cmds[] = {
        { "create", verb_create, "[<options>] <volume>...",
          "create a snapshot set of the volumes that outlives vssctl (not a\n"
          "                          reboot: --persistent); options: --context <c>,\n"
          "                          --no-writers, --exclude-writer <w>, --provider <name>" },
        { "delete", verb_delete,
          "<id> | --set <id> | --for <volume> | --oldest [--for <volume>] | --all",
          "delete a snapshot, a set's, a volume's, the oldest, or all" },
        { "disable", verb_disable, "<volume>",
          "undo 'enable': remove the volume that wraps a plain device" },
        { "enable", verb_enable,
          "[--provider <name>] [--thin <pool> [--size <size>]] <device>|<name>",
          "make a plain block device snapshottable; prints the volume\n"
          "                          to mount and snapshot instead of <device>;\n"
          "                          --thin: copy it into a thin volume of <pool>,\n"
          "                          --size: a new blank thin volume <name>" },
        { "exec", verb_exec, "[<options>] <volume>... -- <command> [<arg>...]",
          "snapshot the volumes, expose them, run <command> on them and\n"
          "                          release them; options: --mount <dir>, --no-writers,\n"
          "                          --exclude-writer <w>, --provider <name>" },
        { "expose", verb_expose, "<snapshot-id> [<mount-point>]",
          "mount a snapshot read-only (by default under /run/vss/expose);\n"
          "                          prints where" },
        { "list", verb_list, "providers|shadows|sets|writers|storage|volumes",
          "list providers, snapshots (shadow copies), snapshot sets,\n"
          "                          writers, shadow storage, or the volumes and\n"
          "                          which provider can snapshot each" },
        { "recover", verb_recover, "",
          "roll back what an interrupted vssd left half-made (suspended\n"
          "                          volumes, unfinished snapshots); vssd does it at start" },
        { "revert", verb_revert, "<snapshot-id> [--wait]",
          "revert the snapshot's origin to it (a merge that runs in the\n"
          "                          background; --wait: until it is done)" },
        { "status", verb_status, "", "show vssd's version, limits, timeouts, provider directory" },
        { "storage", verb_storage, "add|resize --for <volume> --maxsize <size>",
          "set a volume's shadow storage: its maximum (10G, 15%, unbounded);\n"
          "                          add also: --on <dir> (diff area), --provider <name>\n"
          " storage add --thin-pool <name> --data <path> --metadata <path>\n"
          "                          make a thin pool (dm-thin) of a data and a metadata\n"
          "                          device or file; also: --data-size <size>,\n"
          "                          --metadata-size <size>, --chunk-size <size>,\n"
          "                          --provider <name>\n"
          " storage remove --thin-pool <name> [--provider <name>]\n"
          "                          remove a thin pool that holds no volume\n"
          " storage list             as 'list storage'" },
        { "supported", verb_supported, "<volume> [--provider <name>]",
          "tell whether each provider (or the one named) can snapshot <volume>" },
        { "unexpose", verb_unexpose, "<snapshot-id>", "unmount an exposed snapshot" },
        { "writers", verb_writers, "status",
          "ask every writer for its state (exit status 4 if one failed)" },
};

enum {
        OPT_JSON = 0x100,
        OPT_BUS,
        OPT_TIMEOUT,
};

static const struct option global_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "json", no_argument, NULL, OPT_JSON },
        { "bus", required_argument, NULL, OPT_BUS },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
};

/* Where descriptions start in --help. */
#define USAGE_COLUMN 24

static void usage(void)
{
        FILE *out = stdout;

        fputs("Usage:\n " PROGRAM " [options] <command> [<args>]\n\n", out);
        fputs("Control the linux-vss snapshot coordinator, vssd: create, list, expose, revert\n"
              "and delete snapshots, enable plain devices for them, and show vssd's providers\n"
              "and writers.\n\n", out);
        fputs("Commands:\n", out);
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++) {
                char synopsis[128];
                int n = snprintf(synopsis, sizeof(synopsis), "%s%s%s", cmds[i].name,
                                 *cmds[i].args ? " " : "", cmds[i].args);
                /* A long synopsis gets a line of its own. */
                if (n > USAGE_COLUMN)
                        fprintf(out, " %s\n %-*s %s\n", synopsis, USAGE_COLUMN, "", cmds[i].help);
                else
                        fprintf(out, " %-*s %s\n", USAGE_COLUMN, synopsis, cmds[i].help);
        }
        fputs("\nOptions:\n", out);
        fputs("     --json               print JSON instead of tables\n", out);
        fputs("     --bus <address>      D-Bus address of the bus vssd is on\n", out);
        fputs("                            (default: $VSS_BUS_ADDRESS, else the system bus)\n", out);
        fputs("     --timeout <secs>     how long to wait for each answer from vssd (default: 30;\n", out);
        fputs("                            'create' and 'exec' wait as long as vssd's own timeouts\n", out);
        fputs("                            allow,\n", out);
        fputs("                            'revert --wait' until the merge is done)\n", out);
        fputs(" -h, --help               display this help\n", out);
        fputs(" -V, --version            display version\n", out);
        fputs("\nExit status:\n", out);
        fputs(" 0  success\n", out);
        fputs(" 1  failure: vssd reported an error, or could not be reached\n", out);
        fputs(" 2  usage error: unknown command, missing or empty argument, bad option\n", out);
        fputs(" 3  'supported': no provider can snapshot the volume\n", out);
        fputs(" 4  'writers status': a writer is in a failed state\n", out);
        fputs(" 'exec': the exit status of <command> (128+N when signal N killed it); 125 when\n", out);
        fputs("    vssctl failed before it ran, 126 when it cannot be run, 127 when not found\n", out);
        fputs("\nFor more details see vssctl(8).\n", out);
}

int vssctl_usage_error(const char *format, ...)
{
        va_list ap;

        fputs(PROGRAM ": ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs("\nTry '" PROGRAM " --help' for more information.\n", stderr);
        return EXIT_USAGE;
}

/* Seconds, fractions allowed, as libdbus takes them: whole milliseconds up to INT_MAX. */
static int parse_timeout(const char *arg, uint64_t *ret_ms)
{
        char *end;

        errno = 0;
        double secs = strtod(arg, &end);
        if (errno != 0 || end == arg || *end || !(secs > 0) || secs > 2147483.0)
                return -EINVAL;
        uint64_t ms = (uint64_t)(secs * 1000.0 + 0.5);
        *ret_ms = ms ? ms : 1;
        return 0;
}

static int global_option(struct vssctl *ctx, int c, const char *arg)
{
        switch (c) {
        case 'h':
                usage();
                return EXIT_SUCCESS;
        case 'V':
                puts(PROGRAM " from linux-vss " VSS_VERSION);
                return EXIT_SUCCESS;
        case OPT_JSON:
                ctx->json = true;
                return VSSCTL_CONTINUE;
        case OPT_BUS:
                ctx->bus_address = arg;
                return VSSCTL_CONTINUE;
        case OPT_TIMEOUT:
                if (parse_timeout(arg, &ctx->timeout_ms) < 0)
                        return vssctl_usage_error("invalid --timeout '%s': give seconds, "
                                                  "more than 0 (e.g. 30 or 2.5)",
                                                  arg);
                return VSSCTL_CONTINUE;
        }
        return VSSCTL_CONTINUE;
}

/* getopt's complaint, in our words: opterr is off. */
static int option_error(int c, int optopt_, const char *arg)
{
        bool is_long = strncmp(arg, "--", 2) == 0;

        if (c == ':')
                return vssctl_usage_error("option '%s' requires an argument", arg);
        if (optopt_ && is_long)
                return vssctl_usage_error("option '%.*s' doesn't allow an argument",
                                          (int)strcspn(arg, "="), arg);
        if (optopt_)
                return vssctl_usage_error("invalid option -- '%c'", optopt_);
        return vssctl_usage_error("unrecognized option '%s'", arg);
}

/*
 * An option given "" (--provider "") is a mistake, usually an unset shell
 * variable: say so rather than let vssd guess what was meant, or treat it as
 * "not given".
 */
static int empty_option(int c, const struct option *options, int longindex)
{
        if (longindex >= 0)
                return vssctl_usage_error("option '--%s' must not be empty",
                                          options[longindex].name);
        return vssctl_usage_error("option '-%c' must not be empty", c);
}

/* Global options plus VERB's into one getopt table; NULL when there are too many. */
static struct option *merge_options(const struct verb_options *verb, struct option *buf,
                                    size_t n_buf)
{
        size_t n = ELEMENTSOF(global_options);

        memcpy(buf, global_options, sizeof(global_options));
        for (const struct option *o = verb ? verb->long_options : NULL; o && o->name; o++) {
                if (n + 1 >= n_buf)
                        return NULL;
                buf[n++] = *o;
        }
        buf[n] = (struct option){ 0 };
        return buf;
}

static int parse(struct vssctl *ctx, int argc, char *argv[], const struct verb_options *verb,
                 bool stop_at_operand, int *ret_first)
{
        struct option buf[32];
        char short_options[32];
        struct option *options = merge_options(verb, buf, ELEMENTSOF(buf));

        snprintf(short_options, sizeof(short_options), "%s:hV%s", stop_at_operand ? "+" : "",
                 verb && verb->short_options ? verb->short_options : "");
        if (!options)
                return vssctl_usage_error("internal error: too many options");

        optind = 0; /* GNU getopt: start afresh, the verb parses after main */
        opterr = 0;
        for (;;) {
                int longindex = -1;
                int c = getopt_long(argc, argv, short_options, options, &longindex);
                if (c == -1)
                        break;
                int r;
                if (c == '?' || c == ':')
                        r = option_error(c, optopt, argv[optind - 1]);
                else if (optarg && !*optarg)
                        r = empty_option(c, options, longindex);
                else if (c == 'h' || c == 'V' || c >= OPT_JSON)
                        r = global_option(ctx, c, optarg);
                else
                        r = verb->handle(ctx, c, optarg, verb->userdata);
                if (r != VSSCTL_CONTINUE)
                        return r;
        }
        *ret_first = optind;
        return VSSCTL_CONTINUE;
}

int vssctl_parse_options(struct vssctl *ctx, int argc, char *argv[],
                         const struct verb_options *verb, int *ret_first)
{
        return parse(ctx, argc, argv, verb, false, ret_first);
}

/* Like an empty option: most likely an unset shell variable, never what was meant. */
static int empty_operand(const char *verb, const char *what)
{
        return vssctl_usage_error("'%s': the %s must not be empty", verb, what);
}

int vssctl_check_not_empty(const char *verb, const char *what, int argc, char *argv[],
                           int first)
{
        for (int i = first; i < argc; i++)
                if (!*argv[i])
                        return empty_operand(verb, what);
        return VSSCTL_CONTINUE;
}

/* The N operands ARGV against SPEC: VSSCTL_CONTINUE, or the usage error reported. */
static int check_operands(const struct verb_operands *spec, int n, char *argv[])
{
        size_t n_names = spec->names[1] ? 2 : 1;

        if ((size_t)n < spec->n_required)
                return vssctl_usage_error("'%s' needs a %s%s%s", spec->verb,
                                          spec->names[n], spec->hint ? " " : "",
                                          spec->hint ? spec->hint : "");
        if ((size_t)n > n_names && n_names == 1)
                return vssctl_usage_error("'%s' takes one %s, got also '%s'", spec->verb,
                                          spec->names[0], argv[n_names]);
        if ((size_t)n > n_names)
                return vssctl_usage_error("'%s' takes a %s and a %s, got also '%s'", spec->verb,
                                          spec->names[0], spec->names[1], argv[n_names]);
        for (int i = 0; i < n; i++)
                if (!*argv[i])
                        return empty_operand(spec->verb, spec->names[i]);
        return VSSCTL_CONTINUE;
}

int vssctl_parse_verb(struct vssctl *ctx, int argc, char *argv[],
                      const struct verb_options *verb, const struct verb_operands *spec,
                      const char **ret, vss_client **ret_client)
{
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, verb, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = check_operands(spec, argc - first, argv + first);
        if (r != VSSCTL_CONTINUE)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(spec->names) && spec->names[i]; i++)
                ret[i] = first + (int)i < argc ? argv[first + i] : NULL;
        r = vssctl_client(ctx, ret_client);
        return r == 0 ? VSSCTL_CONTINUE : r;
}

/* Say which setting holds a bad address: --bus or one of the variables. */
static int bad_address(const struct vssctl *ctx)
{
        const char *origin = "--bus", *address = ctx->bus_address;

        if (!address) {
                origin = "$VSS_BUS_ADDRESS";
                address = getenv("VSS_BUS_ADDRESS");
        }
        if (!address || !*address) {
                origin = "$DBUS_SYSTEM_BUS_ADDRESS";
                address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        }
        return vssctl_usage_error("%s: '%s' is not a D-Bus address "
                                  "(like unix:path=/run/dbus/system_bus_socket)",
                                  origin, address ? address : "");
}

int vssctl_client(struct vssctl *ctx, vss_client **ret)
{
        if (!ctx->client) {
                int r = vss_client_new(&ctx->client, ctx->bus_address);
                if (r == -EINVAL)
                        return bad_address(ctx);
                if (r < 0) {
                        fprintf(stderr, PROGRAM ": cannot set up a client for vssd: %s\n",
                                vss_strerror(r));
                        return EXIT_FAILURE;
                }
                /* parse_timeout() kept it in the library's range. */
                if (ctx->timeout_ms)
                        (void)vss_client_set_timeout(ctx->client, ctx->timeout_ms);
        }
        *ret = ctx->client;
        return 0;
}

int vssctl_fail(struct vssctl *ctx, int r, const char *what)
{
        const char *why = ctx->client ? vss_client_get_error_message(ctx->client) : NULL;

        /* vssd's messages may quote a writer's: nothing in them may drive the terminal. */
        fprintf(stderr, PROGRAM ": %s: ", what);
        terminal_fputs(why ? why : vss_strerror(r), stderr);
        fputc('\n', stderr);
        switch (r) {
        case -ECONNREFUSED:
                fputs("Start it with 'systemctl start vssd', or use --bus ADDRESS "
                      "if it runs on another bus.\n", stderr);
                break;
        case -ENOTCONN:
                fputs("Is the D-Bus daemon running? Use --bus ADDRESS (or $VSS_BUS_ADDRESS) "
                      "to reach vssd on another bus.\n", stderr);
                break;
        case -ETIMEDOUT:
                fputs("If vssd is only slow, allow it more time with --timeout SECS.\n", stderr);
                break;
        }
        return EXIT_FAILURE;
}

int vssctl_fail_snapshot(struct vssctl *ctx, int r, const char *action, const char *id)
{
        char what[512];

        snprintf(what, sizeof(what), "cannot %s snapshot %s", action, id);
        int status = vssctl_fail(ctx, r, what);
        if (r == -ENOENT)
                fputs("See 'vssctl list shadows' for the snapshots vssd has.\n", stderr);
        return status;
}

int vssctl_print_result(const struct vssctl *ctx, const char *const *json, const char *format,
                        ...)
{
        if (ctx->json) {
                struct json j;
                json_init(&j, stdout);
                json_object_begin(&j, NULL);
                for (const char *const *p = json; p[0]; p += 2)
                        json_string(&j, p[0], p[1]);
                json_object_end(&j);
                return vssctl_output_done(json_finish(&j));
        }

        char *text;
        va_list ap;
        va_start(ap, format);
        int n = vasprintf(&text, format, ap);
        va_end(ap);
        if (n < 0)
                return vssctl_output_done(-ENOMEM);
        /* Paths come from vssd: nothing in them may drive the terminal. */
        int r = terminal_fputs(text, stdout);
        free(text);
        return vssctl_output_done(r);
}

int vssctl_output_done(int r)
{
        /* Write errors are reported once, by close_stdout(). */
        if (r < 0 && r != -EIO)
                fprintf(stderr, PROGRAM ": cannot print the result: %s\n", vss_strerror(r));
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static const struct cmd *cmd_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (strcmp(cmds[i].name, name) == 0)
                        return &cmds[i];
        return NULL;
}

/* A full disk or a closed pipe must not look like success to a script. */
static int close_stdout(int status)
{
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (errno != EPIPE)
                        fprintf(stderr, PROGRAM ": cannot write output: %s\n", strerror(errno));
                return EXIT_FAILURE;
        }
        return status;
}

int main(int argc, char *argv[])
{
        struct vssctl ctx = { 0 };
        int first = argc;

        /* Options before the verb; the verb parses the rest, globals included. */
        int r = parse(&ctx, argc, argv, NULL, true, &first);
        if (r == VSSCTL_CONTINUE) {
                const struct cmd *cmd = first < argc ? cmd_find(argv[first]) : NULL;
                if (first >= argc)
                        r = vssctl_usage_error("no command given");
                else if (!cmd)
                        r = vssctl_usage_error("unknown command '%s'", argv[first]);
                else
                        r = cmd->fn(&ctx, argc - first, argv + first);
        }
        vss_client_unref(ctx.client);
        return close_stdout(r);
}
