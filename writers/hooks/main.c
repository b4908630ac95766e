/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: vss-writer-hooks, a VSS writer for any application: it runs the
 * executables of a directory at each event of a snapshot set (see
 * vss-writer-hooks(8)). This file: options, registration with vssd, and the
 * event loop (the libvss writer's descriptor, a signalfd for SIGCHLD and
 * SIGTERM, and the hooks' pipes and timers, all in one epoll set).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vss/requester.h>
#include <vss/writer.h>

#include "writers/hooks/child.h"
#include "writers/hooks/hooks.h"
#include "writers/common/log.h"
#include "writers/hooks/loop.h"

#ifndef VSS_SYSCONF_DIR
#define VSS_SYSCONF_DIR "/etc"
#endif
#define DEFAULT_DIR VSS_SYSCONF_DIR "/vss/writers.d"
/* Names this kind of writer (vssd wants a class id); never changes. */
#define HOOKS_CLASS_ID "c3fb8611-c311-40c4-b8b6-30ff0aee1af1"
/* Re-registering after vssd left: first after this long, doubling up to the maximum. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000

struct options {
        struct hooks_config hooks;
        const char *name;
        const char *instance_id;
        enum vss_writer_level level;
        bool freeze_timeout_set; /* --timeout gave freeze's: never lowered */
};

struct state {
        vss_writer *writer;
        struct hooks *hooks;
        struct source writer_src;
        struct source signal_src;
        struct source retry_timer;
        uint64_t retry_ms;
        bool registered;
        bool quit;
};

static struct state st;

/* --- options ----------------------------------------------------------------------- */

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: vss-writer-hooks [OPTION]...\n"
                "A VSS writer that runs the executables of a directory at each event of a\n"
                "snapshot set, with the event as their first argument.\n"
                "\n"
                "Options:\n"
                "  --dir DIR             the hooks (default " DEFAULT_DIR ")\n"
                "  --events LIST         run hooks only for these events (comma-separated:\n"
                "                        identify, prepare-backup, prepare-snapshot, freeze,\n"
                "                        thaw, post-snapshot, abort, backup-complete)\n"
                "  --qemu-ga             as --events freeze,thaw: qemu-guest-agent's\n"
                "                        fsfreeze-hook.d scripts\n"
                "  --timeout [EVENT=]SECONDS  how long each hook may run (default 10 s at\n"
                "                        freeze, thaw and abort, 30 s otherwise); repeatable\n"
                "  --name NAME           the writer's name (default hooks)\n"
                "  --instance-id ID      its instance id (default hooks:DIR)\n"
                "  --level LEVEL         front-end, back-end (default) or system\n"
                "  --bus ADDRESS         vssd's bus (default $VSS_BUS_ADDRESS, else the system bus)\n"
                "  -v, --verbose         log every hook run, skipped file and output line\n"
                "  -h, --help            this help\n"
                "      --version         the version\n");
}

static __attribute__((noreturn, format(printf, 1, 2))) void usage_error(const char *format, ...)
{
        va_list ap;

        fprintf(stderr, "vss-writer-hooks: ");
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'vss-writer-hooks --help'.\n");
        exit(2);
}

static uint64_t parse_seconds(const char *arg, const char *text)
{
        char *end;

        errno = 0;
        double s = strtod(text, &end);
        if (errno || end == text || *end || !(s > 0 && s <= 86400))
                usage_error("--timeout '%s': give seconds, more than 0 and at most 86400 "
                            "(e.g. 30, 2.5, freeze=20)", arg);
        uint64_t ms = (uint64_t)(s * 1000);
        return (double)ms < s * 1000 ? ms + 1 : ms; /* rounded up: never 0 */
}

static void parse_timeout(struct options *o, const char *arg)
{
        const char *eq = strchr(arg, '=');

        if (!eq) {
                uint64_t ms = parse_seconds(arg, arg);
                for (int i = 0; i < HOOKS_N_EVENTS; i++)
                        o->hooks.timeout_ms[i] = ms;
                o->freeze_timeout_set = true;
                return;
        }
        char word[32];
        snprintf(word, sizeof(word), "%.*s", (int)(eq - arg), arg);
        int type = hooks_event_from_word(word);
        if (type < 0)
                usage_error("--timeout '%s': unknown event '%s' (identify, prepare-backup, "
                            "prepare-snapshot, freeze, thaw, post-snapshot, abort, "
                            "backup-complete)", arg, word);
        o->hooks.timeout_ms[type] = parse_seconds(arg, eq + 1);
        if (type == VSS_WRITER_EVENT_FREEZE)
                o->freeze_timeout_set = true;
}

static void parse_events(struct options *o, const char *arg)
{
        char *copy = strdup(arg), *save = NULL;

        if (!copy)
                usage_error("out of memory");
        memset(o->hooks.events, 0, sizeof(o->hooks.events));
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                int type = hooks_event_from_word(w);
                if (type < 0)
                        usage_error("--events: unknown event '%s' (identify, prepare-backup, "
                                    "prepare-snapshot, freeze, thaw, post-snapshot, abort, "
                                    "backup-complete)", w);
                o->hooks.events[type] = true;
        }
        free(copy);
        /* A hook that froze must hear thaw, and thaw means nothing without freeze. */
        if (o->hooks.events[VSS_WRITER_EVENT_FREEZE] != o->hooks.events[VSS_WRITER_EVENT_THAW])
                usage_error("--events '%s': freeze and thaw go together (a hook that froze must "
                            "be told to thaw)", arg);
}

/* DIR as an absolute, canonical path: hooks run in /, and the instance id names it. */
static char *check_dir(const char *dir)
{
        struct stat s;
        char *real = realpath(dir, NULL);

        if (!real || stat(real, &s) < 0 || !S_ISDIR(s.st_mode)) {
                fprintf(stderr, "vss-writer-hooks: --dir %s: %s; create it (root-owned, "
                        "mode 0755) or give another directory\n", dir,
                        real ? "not a directory" : strerror(errno));
                free(real);
                exit(1);
        }
        if (s.st_mode & S_IWOTH)
                log_warning("%s is writable by everyone: anyone could add a hook that runs as "
                            "this writer; chmod o-w it", real);
        return real;
}

enum { OPT_DIR = 256, OPT_EVENTS, OPT_QEMU_GA, OPT_TIMEOUT, OPT_NAME, OPT_INSTANCE, OPT_LEVEL,
       OPT_BUS, OPT_VERSION };

static void parse_options(int argc, char **argv, struct options *o)
{
        static const struct option long_options[] = {
                { "dir", required_argument, NULL, OPT_DIR },
                { "events", required_argument, NULL, OPT_EVENTS },
                { "qemu-ga", no_argument, NULL, OPT_QEMU_GA },
                { "timeout", required_argument, NULL, OPT_TIMEOUT },
                { "name", required_argument, NULL, OPT_NAME },
                { "instance-id", required_argument, NULL, OPT_INSTANCE },
                { "level", required_argument, NULL, OPT_LEVEL },
                { "bus", required_argument, NULL, OPT_BUS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { NULL, 0, NULL, 0 },
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
                switch (c) {
                case OPT_DIR: o->hooks.dir = optarg; break;
                case OPT_EVENTS: parse_events(o, optarg); break;
                case OPT_QEMU_GA: parse_events(o, "freeze,thaw"); break;
                case OPT_TIMEOUT: parse_timeout(o, optarg); break;
                case OPT_NAME: o->name = optarg; break;
                case OPT_INSTANCE: o->instance_id = optarg; break;
                case OPT_LEVEL:
                        if ((level = vss_writer_level_from_string(optarg)) < 0)
                                usage_error("--level '%s': use front-end, back-end or system",
                                            optarg);
                        o->level = (enum vss_writer_level)level;
                        break;
                case OPT_BUS: o->hooks.bus = optarg; break;
                case 'v': log_set_max_priority(LOG_DEBUG); break;
                case 'h': usage(stdout); exit(0);
                case OPT_VERSION: printf("vss-writer-hooks %s\n", VSS_VERSION); exit(0);
                default: usage(stderr); exit(2);
                }
        }
        if (optind < argc)
                usage_error("unexpected argument '%s'", argv[optind]);
        if (!o->name[0])
                usage_error("--name must not be empty");
        if (o->instance_id && !o->instance_id[0])
                usage_error("--instance-id must not be empty");
}

static void options_init(struct options *o)
{
        *o = (struct options){ .name = "hooks", .level = VSS_LEVEL_BACK_END };
        o->hooks.dir = DEFAULT_DIR;
        for (int i = 0; i < HOOKS_N_EVENTS; i++) {
                o->hooks.events[i] = true;
                o->hooks.timeout_ms[i] = 30000;
        }
        o->hooks.timeout_ms[VSS_WRITER_EVENT_FREEZE] = 10000;
        o->hooks.timeout_ms[VSS_WRITER_EVENT_THAW] = 10000;
        o->hooks.timeout_ms[VSS_WRITER_EVENT_ABORT] = 10000;
}

/* --- the freeze timeout ------------------------------------------------------------- */

/*
 * vssd aborts the set when the writer has not thawed within its freeze
 * timeout, which the hooks' freeze runs use up. Once registered, read the one
 * in force: lower our default freeze timeout to half of it, or warn when the
 * administrator's --timeout freeze= is longer.
 */
static void fit_freeze_timeout(struct options *o, const char *bus, const char *object_path)
{
        vss_client *client = NULL;
        vss_writer_info **writers = NULL;
        uint32_t in_force = 0;

        if (vss_client_new(&client, bus) >= 0 && vss_client_list_writers(client, &writers,
                                                                         NULL) >= 0)
                for (vss_writer_info **w = writers; *w; w++)
                        if (strcmp((*w)->object_path, object_path) == 0)
                                in_force = (*w)->freeze_timeout_ms;
        vss_writer_info_list_free(writers);
        vss_client_unref(client);
        uint64_t *ms = &o->hooks.timeout_ms[VSS_WRITER_EVENT_FREEZE];
        if (in_force == 0 || *ms < in_force / 2 + 1)
                return;
        if (!o->freeze_timeout_set) {
                *ms = in_force / 2;
                log_info("each hook may take %.1f s at freeze (half of vssd's freeze timeout "
                         "of %.1f s)", (double)*ms / 1000, (double)in_force / 1000);
        } else if (*ms >= in_force)
                log_warning("--timeout freeze=%.1f is not shorter than vssd's freeze timeout "
                            "(%.1f s): a slow hook makes vssd abort the set before its own "
                            "timeout ends it", (double)*ms / 1000, (double)in_force / 1000);
}

/* --- the loop ---------------------------------------------------------------------- */

static void on_retry(struct source *src, uint32_t events)
{
        timer_ack(src);
        int r = vss_writer_register(st.writer);
        if (r >= 0) {
                st.registered = true;
                st.retry_ms = RETRY_FIRST_MS;
                log_info("registered with vssd again as %s",
                         vss_writer_get_object_path(st.writer));
                return;
        }
        log_debug("cannot register yet (%s); next try in %.0f s",
                  vss_writer_get_error_message(st.writer), (double)st.retry_ms / 1000);
        timer_arm_ms(&st.retry_timer, st.retry_ms);
        st.retry_ms = st.retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : st.retry_ms * 2;
}

static void on_writer(struct source *src, uint32_t events)
{
        int r = vss_writer_dispatch(st.writer);
        if (r != -ENOTCONN || !st.registered)
                return;
        /* libvss already told us Abort if we were frozen: the hooks thaw meanwhile. */
        st.registered = false;
        st.retry_ms = RETRY_FIRST_MS;
        log_warning("%s (trying in %.0f s)", vss_writer_get_error_message(st.writer),
                    (double)st.retry_ms / 1000);
        timer_arm_ms(&st.retry_timer, st.retry_ms);
}

static void on_signal(struct source *src, uint32_t events)
{
        struct signalfd_siginfo si;

        while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) {
                        children_reap();
                        continue;
                }
                if (st.quit)
                        continue;
                static bool once;
                if (once) {
                        /* Holders let go by themselves: their stdin closes as we exit. */
                        log_warning("second %s: exiting without waiting for the hooks",
                                    strsignal((int)si.ssi_signo));
                        st.quit = true;
                        continue;
                }
                once = true;
                log_info("%s: stopping once the hooks are done", strsignal((int)si.ssi_signo));
                hooks_stop(st.hooks);
        }
}

static int setup_signals(void)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN); /* a closed pipe is an error from write(), not our death */
        st.signal_src.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (st.signal_src.fd < 0)
                return -errno;
        st.signal_src.fn = on_signal;
        return loop_add(&st.signal_src);
}

static int start(struct options *o)
{
        _Static_assert(sizeof(HOOKS_CLASS_ID) == 37, "a UUID");
        char *instance = NULL;
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        int r;

        if (!o->instance_id && asprintf(&instance, "hooks:%s", o->hooks.dir) < 0)
                return -ENOMEM;
        cfg.name = o->name;
        cfg.instance_id = o->instance_id ? o->instance_id : instance;
        cfg.class_id = HOOKS_CLASS_ID;
        cfg.level = o->level;
        cfg.usage = "hook scripts";
        r = vss_writer_new(&st.writer, o->hooks.bus, &cfg, hooks_on_event, st.hooks);
        if (r < 0) {
                fprintf(stderr, "vss-writer-hooks: %s%s\n", vss_strerror(r),
                        r == -EINVAL ? " (is --bus a D-Bus address?)" : "");
                free(instance);
                return r;
        }
        hooks_set_writer(st.hooks, st.writer);
        r = vss_writer_register(st.writer);
        if (r < 0) {
                fprintf(stderr, "vss-writer-hooks: cannot register with vssd: %s\n",
                        vss_writer_get_error_message(st.writer));
                free(instance);
                return r;
        }
        st.registered = true;
        log_info("registered as %s (%s, instance %s), hooks in %s",
                 vss_writer_get_object_path(st.writer), o->name, cfg.instance_id, o->hooks.dir);
        free(instance);
        fit_freeze_timeout(o, o->hooks.bus, vss_writer_get_object_path(st.writer));
        st.writer_src.fd = vss_writer_get_fd(st.writer);
        st.writer_src.fn = on_writer;
        return loop_add(&st.writer_src);
}

int main(int argc, char **argv)
{
        struct options o;
        int r;

        options_init(&o);
        parse_options(argc, argv, &o);
        char *dir = check_dir(o.hooks.dir);
        o.hooks.dir = dir;
        if ((r = loop_init()) < 0 || (r = setup_signals()) < 0 ||
            (r = timer_new(&st.retry_timer, on_retry)) < 0 ||
            (r = hooks_new(&st.hooks, &o.hooks)) < 0) {
                fprintf(stderr, "vss-writer-hooks: cannot set up its event loop: %s\n",
                        strerror(-r));
                return 1;
        }
        r = start(&o);
        while (r >= 0 && !st.quit) {
                hooks_pump(st.hooks);
                if (hooks_done(st.hooks))
                        break;
                if ((r = loop_run_once(-1)) < 0)
                        log_error("cannot wait for events: %s", strerror(-r));
        }
        /* Unregister first: vssd must not send events the hooks can no longer get. */
        st.writer = vss_writer_unref(st.writer);
        hooks_set_writer(st.hooks, NULL);
        st.hooks = hooks_free(st.hooks);
        children_free_all();
        timer_free(&st.retry_timer);
        loop_done();
        free(dir);
        return r < 0 ? 1 : 0;
}
