/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: vssd's entry point: options, settings, the event loop, provider
 * plugins, the bus with its authorizer (access.c's rule of who may call
 * what), the bus objects, the providers' own snapshots, then the bus name
 * (taken last, so that a client activated by the name finds every object
 * already there, the snapshots made before this start included).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vss/vss.h>

#include "common/fault.h"
#include "daemon/lifecycle.h"
#include "daemon/recover.h"
#include "daemon/util/log.h"

struct options {
        const char *bus_address; /* NULL: the system bus */
        const char *config_path;
        int config_required;
        int verbose;
        int recover; /* --recover: roll back a stopped vssd's leftovers, then exit */
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: vssd [OPTIONS]\n"
                "\n"
                "The linux-vss snapshot coordinator: runs on the D-Bus system bus as\n"
                VSS_BUS_NAME " and coordinates requesters, writers and providers.\n"
                "\n"
                "Options:\n"
                "  -b, --bus ADDRESS    use the bus at ADDRESS instead of the system bus\n"
                "  -c, --config FILE    read FILE instead of " VSS_CONFIG_FILE "\n"
                "  -v, --verbose        log debug messages\n"
                "      --recover        do not start: roll back what a stopped or killed\n"
                "                       vssd left half-made (suspended volumes, unfinished\n"
                "                       snapshots), then exit (refused while vssd runs)\n"
                "  -h, --help           show this help and exit\n"
                "  -V, --version        show the version and exit\n"
                "\n"
                "Provider plugins are loaded from " VSS_PROVIDER_DIR "\n"
                "unless the configuration's provider_dir names another directory.\n"
                "\n"
                "Signals: SIGTERM and SIGINT stop vssd; SIGHUP re-reads the log level and\n"
                "timeouts from the configuration file.\n"
                "See vssd(8) and vssd.conf(5).\n");
}

/* 0: run; 1: exit 0 (help/version printed); <0: usage error (exit 2). */
static int parse_options(int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                { "bus", required_argument, NULL, 'b' },
                { "config", required_argument, NULL, 'c' },
                { "verbose", no_argument, NULL, 'v' },
                { "recover", no_argument, NULL, 'R' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        *o = (struct options){ .config_path = VSS_CONFIG_FILE };
        while ((c = getopt_long(argc, argv, "b:c:vhV", longopts, NULL)) >= 0) {
                switch (c) {
                case 'b': o->bus_address = optarg; break;
                case 'c': o->config_path = optarg; o->config_required = 1; break;
                case 'v': o->verbose = 1; break;
                case 'R': o->recover = 1; break;
                case 'h': usage(stdout); return 1;
                case 'V': printf("vssd %s\n", VSS_VERSION); return 1;
                default: return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vssd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* SIGHUP: take the new log level, timeouts and interval; the rest needs a restart. */
static void manager_reload(Manager *m, const struct options *o)
{
        Settings fresh;
        char err[512] = "";

        if (settings_load(&fresh, o->config_path, o->config_required, err, sizeof(err)) < 0) {
                log_error("reload refused, keeping the current settings: %s", err);
                return;
        }
        bool changed = m->settings.freeze_timeout_ms != fresh.freeze_timeout_ms ||
                       m->settings.hold_timeout_ms != fresh.hold_timeout_ms ||
                       m->settings.event_timeout_ms != fresh.event_timeout_ms ||
                       m->settings.monitor_interval_ms != fresh.monitor_interval_ms;
        m->settings.freeze_timeout_ms = fresh.freeze_timeout_ms;
        m->settings.hold_timeout_ms = fresh.hold_timeout_ms;
        m->settings.event_timeout_ms = fresh.event_timeout_ms;
        m->settings.monitor_interval_ms = fresh.monitor_interval_ms;
        lifecycle_apply_settings(m, NULL); /* in the same ranges: cannot fail */
        m->settings.log_priority = fresh.log_priority;
        if (changed)
                coordinator_emit_timeouts_changed(m);
        if (!o->verbose)
                log_set_max_priority(fresh.log_priority);
        if (strcmp(m->settings.backup_group, fresh.backup_group) != 0 ||
            strcmp(m->settings.writer_group, fresh.writer_group) != 0)
                log_warning("backup_group and writer_group changes need a restart; vssd keeps "
                            "'%s' and '%s'", m->settings.backup_group, m->settings.writer_group);
        settings_done(&fresh);
        log_info("reloaded %s (provider_dir, backup_group and writer_group changes need a "
                 "restart)", o->config_path);
}

struct signal_context {
        Manager *manager;
        const struct options *options;
};

static int on_signal(LoopSource *source, const struct signalfd_siginfo *si, void *userdata)
{
        struct signal_context *ctx = userdata;

        if (si->ssi_signo == SIGHUP) {
                manager_reload(ctx->manager, ctx->options);
                return 0;
        }
        log_info("received %s, stopping", strsignal((int)si->ssi_signo));
        lifecycle_shutdown(ctx->manager);
        return 0;
}

static int manager_start(Manager *m, const struct options *o, struct signal_context *sig)
{
        static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
        char err[512];
        int r;

        /* Before any provider starts: one vssd at a time owns their kernel state. */
        r = recover_lock(m->settings.runtime_dir, &m->lock_fd, err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        r = loop_new(&m->loop);
        if (r >= 0)
                r = loop_add_signals(m->loop, NULL, signals, 3, on_signal, sig);
        if (r < 0)
                return log_error_errno(r, "cannot set up the event loop: %s", strerror(-r));
        r = provider_runner_new(&m->runner, m->loop);
        if (r < 0)
                return log_error_errno(r, "cannot start the provider thread: %s", strerror(-r));
        plugins_set_config(m->settings.config);
        r = plugins_load_dir(&m->plugins, m->settings.provider_dir);
        if (r == -ENOMEM)
                return r;
        r = access_new(&m->access, m->settings.backup_group, m->settings.writer_group);
        if (r < 0)
                return log_error_errno(r, "cannot set up authorization: %s", strerror(-r));
        r = bus_new(&m->bus, m->loop, o->bus_address, VSS_ROOT_PATH);
        if (r < 0)
                return r;
        bus_set_authorizer(m->bus, &access_bus_authorizer, m->access);
        /*
         * A second vssd must not touch the providers: their recover() would roll
         * back what the running one is doing. (Two starting at the same instant
         * could both pass; the bus name then refuses the second.)
         */
        if (bus_name_has_owner(m->bus, VSS_BUS_NAME))
                return log_error_errno(-EEXIST, "bus name %s is owned by another process; is "
                                       "vssd already running?", VSS_BUS_NAME);
        r = lifecycle_start(m);
        if (r < 0)
                return r;
        r = coordinator_publish(m);
        if (r >= 0)
                r = provider_objects_publish(m);
        if (r < 0)
                return log_error_errno(r, "cannot publish objects: %s", vss_strerror(r));
        /* The name is taken once the providers' snapshots are adopted (env.c). */
        return lifecycle_start_providers(m);
}

static void manager_stop(Manager *m)
{
        m->stopping = true; /* a startup finishing now must not take the name */
        /* First: running provider jobs finish and answer their callers on the bus. */
        m->runner = provider_runner_free(m->runner);
        bus_leave(m->bus); /* what still exists is not announced as removed */
        lifecycle_stop(m);
        provider_objects_free(m);
        bus_object_free(m->root);
        m->bus = bus_free(m->bus);
        m->access = access_free(m->access); /* after the bus: it frees the identities */
        plugins_free(&m->plugins);
        m->loop = loop_free(m->loop);
        settings_done(&m->settings);
        if (m->lock_fd >= 0)
                close(m->lock_fd);
}

int main(int argc, char **argv)
{
        struct options o;
        Manager m = { .lock_fd = -1 };
        struct signal_context sig = { &m, &o };
        char err[512] = "";

        int r = parse_options(argc, argv, &o);
        if (r != 0) {
                if (r < 0)
                        fprintf(stderr, "Try 'vssd --help' for more information.\n");
                return r < 0 ? 2 : 0;
        }
        r = settings_load(&m.settings, o.config_path, o.config_required, err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                return 1;
        }
        log_set_max_priority(o.verbose ? LOG_DEBUG : m.settings.log_priority);
        if (o.recover) {
                r = recover_offline(&m.settings);
                settings_done(&m.settings);
                return r;
        }
        r = manager_start(&m, &o, &sig);
        if (r >= 0) {
#ifdef VSS_FAULT_INJECTION
                log_warning("this vssd is a fault-injection test build (VSS_FAULT=%s): never "
                            "run it on a machine whose data matters", vss_fault_setting());
#endif
                log_info("vssd %s starting on %s with %zu provider(s)", VSS_VERSION,
                         o.bus_address ? o.bus_address : "the system bus", m.plugins.n);
                r = loop_run(m.loop);
        }
        manager_stop(&m);
        return r < 0 ? 1 : 0;
}
