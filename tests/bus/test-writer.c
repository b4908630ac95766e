/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-writer.c: a writer process on libvss whose behaviour each bus test
 * chooses on its command line: which events it vetoes, which one it never
 * answers, at which one it dies. It logs every event it receives as one
 * line "<name> <Event> <set-id>" ("-" for an empty set id) appended with one
 * write() to an O_APPEND file, so several writers can share a log and its
 * order is the order of arrival. With --check-succeeded, its BackupComplete
 * line ends in " succeeded=yes" or " succeeded=no": the set's
 * BackupSucceeded, read as a writer would when BackupComplete comes. Once
 * registered it writes its object path
 * to --ready-file (renamed into place, so a reader never sees half of it).
 * An Abort that comes with a message from libvss (it thawed on its own:
 * vssd did not send Thaw in time) adds the line "<name> note <message>".
 * With --own-loop it polls vss_writer_get_fd() in its own loop rather than
 * calling vss_writer_run(), as applications with a main loop of their own do.
 * --sigstop-at stops a process (vssd) the moment an event first arrives,
 * before the answer: a coordinator that hangs while it still owns its name.
 *
 * Exit status: 0 after SIGTERM/SIGINT or --exit-at; 1 when registration or
 * the connection fails (the reason on stderr); 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vss/requester.h>
#include <vss/writer.h>

#define N_EVENTS (VSS_WRITER_EVENT_BACKUP_SHUTDOWN + 1)

struct options {
        const char *name;
        const char *instance_id;
        const char *class_id;
        enum vss_writer_level level;
        uint32_t freeze_timeout_ms;
        const char *log;
        const char *ready_file;
        bool fail[N_EVENTS];
        enum vss_writer_failure failure[N_EVENTS];
        int hang;    /* event type, or -1 */
        int exit_at; /* event type, or -1 */
        bool check_succeeded;
        bool own_loop;
        int sigstop_at; /* event type, or -1 */
        pid_t sigstop_pid;
};

/* vssd may require a class id; tests that do not care get this one. */
#define TEST_CLASS_ID "4c1d7e57-0000-4000-8000-7e577e577e57"

static struct options opt = { .class_id = TEST_CLASS_ID, .level = VSS_LEVEL_BACK_END,
                              .hang = -1, .exit_at = -1, .sigstop_at = -1 };
static int log_fd = -1;
static vss_writer *volatile writer; /* for the signal handler */

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: test-writer --name N --instance ID [options]\n"
                "  --class-id ID               class id (default " TEST_CLASS_ID ")\n"
                "  --level front-end|back-end|system  (default back-end)\n"
                "  --freeze-timeout MS         the writer's freeze timeout\n"
                "  --log FILE                  append \"<name> <Event> <set-id>\" per event\n"
                "  --fail EVENT[:FAILURE]      veto EVENT (default RETRYABLE); repeatable\n"
                "  --hang EVENT                never answer EVENT\n"
                "  --exit-at EVENT             _exit(0) on receiving EVENT, unanswered\n"
                "  --sigstop-at EVENT:PID      SIGSTOP process PID (vssd) at the first EVENT\n"
                "  --component LOGICAL:NAME:FILE[,FILE...]   repeatable\n"
                "  --ready-file FILE           write the object path here once registered\n"
                "  --check-succeeded           log BackupComplete with the set's BackupSucceeded\n"
                "  --own-loop                  poll vss_writer_get_fd(), not vss_writer_run()\n"
                "  --bus ADDRESS               default $VSS_BUS_ADDRESS, else the system bus\n");
}

static __attribute__((noreturn)) void usage_error(const char *format, const char *arg)
{
        fprintf(stderr, "test-writer: ");
        fprintf(stderr, format, arg);
        fprintf(stderr, "\nTry 'test-writer --help'.\n");
        exit(2);
}

static int parse_event(const char *s)
{
        int type = vss_writer_event_type_from_string(s);
        if (type < 0)
                usage_error("unknown event '%s' (Identify, PrepareBackup, PrepareSnapshot, "
                            "Freeze, Thaw, PostSnapshot, Abort, BackupComplete, BackupShutdown)",
                            s);
        return type;
}

static enum vss_writer_failure parse_failure(const char *s)
{
        for (int f = VSS_WF_NONE; f <= VSS_WF_NONRETRYABLE; f++)
                if (strcasecmp(vss_writer_failure_to_string(f), s) == 0)
                        return f;
        usage_error("unknown failure '%s' (INCONSISTENTSNAPSHOT, OUTOFRESOURCES, TIMEOUT, "
                    "RETRYABLE, NONRETRYABLE)", s);
}

static void parse_fail(char *arg)
{
        char *colon = strchr(arg, ':');
        if (colon)
                *colon = '\0';
        int type = parse_event(arg);
        opt.fail[type] = true;
        opt.failure[type] = colon ? parse_failure(colon + 1) : VSS_WF_RETRYABLE;
}

/* LOGICAL:NAME:FILE[,FILE...]; LOGICAL may be empty, FILE too (no files). */
static int add_component(vss_writer *w, char *arg)
{
        char *name = strchr(arg, ':');
        char *files = name ? strchr(name + 1, ':') : NULL;
        if (!name || !files)
                usage_error("--component '%s' is not LOGICAL:NAME:FILE[,FILE...]", arg);
        *name++ = '\0';
        *files++ = '\0';
        const char *list[64] = { NULL };
        size_t n = 0;
        for (char *f = strtok(files, ","); f && n < 63; f = strtok(NULL, ","))
                list[n++] = f;
        return vss_writer_add_component(w, arg, name, list);
}

/* EVENT:PID */
static void parse_sigstop(char *arg)
{
        char *colon = strchr(arg, ':'), *end;
        if (!colon)
                usage_error("--sigstop-at '%s' is not EVENT:PID", arg);
        *colon = '\0';
        opt.sigstop_at = parse_event(arg);
        errno = 0;
        long pid = strtol(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || pid <= 0)
                usage_error("--sigstop-at: '%s' is not a process id", colon + 1);
        opt.sigstop_pid = (pid_t)pid;
}

static const char *bus_address;

/* " succeeded=yes|no": set SET_ID's BackupSucceeded, as vssd lists it now. */
static const char *backup_succeeded(const char *set_id)
{
        vss_client *client = NULL;
        vss_snapshot_set_info **sets = NULL;
        const char *what = " succeeded=unknown";

        if (vss_client_new(&client, bus_address) >= 0 &&
            vss_client_list_snapshot_sets(client, &sets, NULL) >= 0)
                for (vss_snapshot_set_info **s = sets; *s; s++)
                        if (strcmp((*s)->id, set_id) == 0)
                                what = (*s)->backup_succeeded ? " succeeded=yes"
                                                              : " succeeded=no";
        vss_snapshot_set_info_list_free(sets);
        vss_client_unref(client);
        return what;
}

static void log_line(const char *line, int n)
{
        if (n < 0 || (size_t)n >= 1024)
                return;
        /* One write to an O_APPEND file: atomic, and seen at once by every reader. */
        if (write(log_fd, line, (size_t)n) != n)
                fprintf(stderr, "test-writer %s: cannot write the log: %s\n", opt.name,
                        strerror(errno));
}

static void log_event(vss_writer *w, const struct vss_writer_event *ev)
{
        char line[1024];

        if (log_fd < 0)
                return;
        const char *set = ev->snapshot_set_id[0] ? ev->snapshot_set_id : "-";
        bool check = opt.check_succeeded && ev->type == VSS_WRITER_EVENT_BACKUP_COMPLETE;
        log_line(line, snprintf(line, sizeof(line), "%s %s %s%s\n", opt.name,
                                vss_writer_event_type_to_string(ev->type), set,
                                check ? backup_succeeded(ev->snapshot_set_id) : ""));
        const char *note = vss_writer_get_error_message(w);
        if (ev->type == VSS_WRITER_EVENT_ABORT && note)
                log_line(line, snprintf(line, sizeof(line), "%s note %s\n", opt.name, note));
}

static int on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        log_event(w, ev);
        if ((int)ev->type == opt.exit_at)
                _exit(0); /* a crash in the middle of the event: nothing answered */
        if ((int)ev->type == opt.sigstop_at) {
                opt.sigstop_at = -1; /* once */
                if (kill(opt.sigstop_pid, SIGSTOP) < 0)
                        fprintf(stderr, "test-writer %s: cannot stop process %d: %s\n",
                                opt.name, (int)opt.sigstop_pid, strerror(errno));
        }
        if ((int)ev->type == opt.hang)
                return VSS_WRITER_ANSWER_LATER; /* ... and never answer */
        if ((unsigned)ev->type < N_EVENTS && opt.fail[ev->type]) {
                vss_writer_set_failure_message(w, "test writer %s vetoes %s", opt.name,
                                               vss_writer_event_type_to_string(ev->type));
                return opt.failure[ev->type];
        }
        return VSS_WF_NONE;
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
        stopping = 1;
        vss_writer_stop(writer); /* also wakes a poll on its fd */
}

/* What an application with its own main loop does instead of vss_writer_run(). */
static int own_loop(vss_writer *w)
{
        struct pollfd p = { .fd = vss_writer_get_fd(w), .events = POLLIN };

        while (!stopping) {
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                int r = vss_writer_dispatch(w);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_ready_file(const char *path, const char *object_path)
{
        char tmp[4096];
        struct stat st;

        /* A FIFO: a reader (a script) is blocked on it, waiting for this line. */
        if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
                FILE *fifo = fopen(path, "we");
                if (!fifo)
                        return -errno;
                fprintf(fifo, "%s\n", object_path);
                return fclose(fifo) == 0 ? 0 : -errno;
        }

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "%s\n", object_path);
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                return -errno;
        return 0;
}

enum { OPT_NAME = 256, OPT_INSTANCE, OPT_CLASS_ID, OPT_LEVEL, OPT_FREEZE_TIMEOUT, OPT_LOG,
       OPT_FAIL, OPT_HANG, OPT_EXIT_AT, OPT_COMPONENT, OPT_READY_FILE, OPT_BUS,
       OPT_CHECK_SUCCEEDED, OPT_OWN_LOOP, OPT_SIGSTOP_AT };

static const struct option long_options[] = {
        { "name", required_argument, NULL, OPT_NAME },
        { "instance", required_argument, NULL, OPT_INSTANCE },
        { "class-id", required_argument, NULL, OPT_CLASS_ID },
        { "level", required_argument, NULL, OPT_LEVEL },
        { "freeze-timeout", required_argument, NULL, OPT_FREEZE_TIMEOUT },
        { "log", required_argument, NULL, OPT_LOG },
        { "fail", required_argument, NULL, OPT_FAIL },
        { "hang", required_argument, NULL, OPT_HANG },
        { "exit-at", required_argument, NULL, OPT_EXIT_AT },
        { "component", required_argument, NULL, OPT_COMPONENT },
        { "ready-file", required_argument, NULL, OPT_READY_FILE },
        { "bus", required_argument, NULL, OPT_BUS },
        { "check-succeeded", no_argument, NULL, OPT_CHECK_SUCCEEDED },
        { "own-loop", no_argument, NULL, OPT_OWN_LOOP },
        { "sigstop-at", required_argument, NULL, OPT_SIGSTOP_AT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
};

static char *components[64];
static size_t n_components;

static void parse_options(int argc, char **argv)
{
        int c, level;
        unsigned long ms;
        char *end;

        while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
                switch (c) {
                case OPT_NAME: opt.name = optarg; break;
                case OPT_INSTANCE: opt.instance_id = optarg; break;
                case OPT_CLASS_ID: opt.class_id = optarg; break;
                case OPT_LEVEL:
                        level = vss_writer_level_from_string(optarg);
                        if (level < 0)
                                usage_error("unknown level '%s' (front-end, back-end, system)",
                                            optarg);
                        opt.level = (enum vss_writer_level)level;
                        break;
                case OPT_FREEZE_TIMEOUT:
                        errno = 0;
                        ms = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || ms > UINT32_MAX)
                                usage_error("--freeze-timeout '%s' is not a number of ms",
                                            optarg);
                        opt.freeze_timeout_ms = (uint32_t)ms;
                        break;
                case OPT_LOG: opt.log = optarg; break;
                case OPT_FAIL: parse_fail(optarg); break;
                case OPT_HANG: opt.hang = parse_event(optarg); break;
                case OPT_EXIT_AT: opt.exit_at = parse_event(optarg); break;
                case OPT_COMPONENT:
                        if (n_components == 64)
                                usage_error("at most 64 --component options (%s)", optarg);
                        components[n_components++] = optarg;
                        break;
                case OPT_READY_FILE: opt.ready_file = optarg; break;
                case OPT_BUS: bus_address = optarg; break;
                case OPT_CHECK_SUCCEEDED: opt.check_succeeded = true; break;
                case OPT_OWN_LOOP: opt.own_loop = true; break;
                case OPT_SIGSTOP_AT: parse_sigstop(optarg); break;
                case 'h': usage(stdout); exit(0);
                default: usage(stderr); exit(2);
                }
        }
        if (optind < argc)
                usage_error("unexpected argument '%s'", argv[optind]);
        if (!opt.name || !opt.instance_id)
                usage_error("%s", "--name and --instance are required");
}

static int fail(vss_writer *w, const char *what, int r)
{
        const char *msg = w ? vss_writer_get_error_message(w) : NULL;
        fprintf(stderr, "test-writer %s: %s: %s\n", opt.name, what, msg ? msg : strerror(-r));
        vss_writer_unref(w);
        return 1;
}

int main(int argc, char **argv)
{
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        vss_writer *w = NULL;

        parse_options(argc, argv);
        if (opt.log) {
                log_fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (log_fd < 0) {
                        fprintf(stderr, "test-writer %s: cannot open log %s: %s\n", opt.name,
                                opt.log, strerror(errno));
                        return 1;
                }
        }
        cfg.name = opt.name;
        cfg.instance_id = opt.instance_id;
        cfg.class_id = opt.class_id;
        cfg.level = opt.level;
        cfg.freeze_timeout_ms = opt.freeze_timeout_ms;
        cfg.usage = "test";
        int r = vss_writer_new(&w, bus_address, &cfg, on_event, NULL);
        if (r < 0)
                return fail(NULL, "cannot create the writer (is --bus a D-Bus address?)", r);
        for (size_t i = 0; i < n_components; i++)
                if ((r = add_component(w, components[i])) < 0)
                        return fail(w, "cannot add a component", r);

        writer = w;
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = vss_writer_register(w);
        if (r < 0)
                return fail(w, "cannot register", r);
        if (opt.ready_file && (r = write_ready_file(opt.ready_file,
                                                    vss_writer_get_object_path(w))) < 0) {
                fprintf(stderr, "test-writer %s: cannot write %s: %s\n", opt.name,
                        opt.ready_file, strerror(-r));
                vss_writer_unref(w);
                return 1;
        }
        r = opt.own_loop ? own_loop(w) : vss_writer_run(w);
        if (r < 0)
                return fail(w, "stopped", r);
        writer = NULL;
        vss_writer_unref(w);
        if (log_fd >= 0)
                close(log_fd);
        return 0;
}
