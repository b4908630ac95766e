/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sample-writer.c: a VSS writer on libvss, as an application would ship one,
 * written to be read. It speaks for an application that appends records to
 * logs (make demo's tools/demo-app: a stand-in for a database) and makes the
 * snapshots of those logs *application-consistent*: at Freeze it asks the
 * application to finish the record it is writing, flush, and stop; only then
 * does it answer Freeze, and vssd snapshots the volumes; at Thaw it lets the
 * application go on. Without a writer a snapshot holds what the file system
 * had at that instant: consistent for the file system, but possibly half a
 * transaction for the application.
 *
 * The writer talks to the application over the application's control socket,
 * as a database's writer talks to the database ("freeze" -> "frozen K",
 * "thaw" -> "thawed"; see tools/demo-app.c). It never stops the application
 * with SIGSTOP: a process stopped in the middle of a write() would leave half
 * a record in the snapshot.
 *
 *   sample-writer --control SOCKET [--ready FILE] [--bus ADDRESS] FILE...
 *
 * FILE... are the application's files, announced to backup programs as the
 * writer's component. Once registered it writes its D-Bus object path to
 * FILE (a FIFO a script is reading, or a plain file). It runs until SIGTERM
 * or SIGINT (exit 0); 1 when it cannot reach vssd or the application.
 *
 * Build: cc sample-writer.c -o sample-writer $(pkg-config --cflags --libs libvss)
 * (in this tree: make build/examples/sample-writer).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vss/writer.h>

/* Names this kind of writer; a real writer picks its own UUID once, forever. */
#define SAMPLE_CLASS_ID "a3f1c9e2-5b7d-4e8a-9c61-0d2e4f6a8b10"

/*
 * How long the application may take to reach a record boundary and flush. It
 * has to be well under vssd's freeze timeout, and short: every volume of the
 * set waits for the slowest writer.
 */
#define APP_TIMEOUT_MS 10000

struct sample {
        const char *control;   /* the application's control socket */
        int app_fd;            /* connected to it, or -1 */
        bool app_frozen;       /* we froze it and have not thawed it yet */
};

static vss_writer *volatile the_writer; /* for the signal handler */

static void say(const char *format, const char *arg)
{
        printf("[writer] ");
        printf(format, arg);
        putchar('\n');
}

static int app_connect(struct sample *s)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (s->app_fd >= 0) {
                /* Idle, the application sends nothing: anything readable means it hung up. */
                struct pollfd p = { .fd = s->app_fd, .events = POLLIN };
                if (poll(&p, 1, 0) == 0)
                        return 0;
                close(s->app_fd);
                s->app_fd = -1;
        }
        if (strlen(s->control) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, s->control);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        s->app_fd = fd;
        return 0;
}

/*
 * Send COMMAND to the application and wait, at most APP_TIMEOUT_MS, for its
 * one-line answer into ANSWER. 0, or -errno (-ETIMEDOUT, -ECONNRESET when it
 * hung up; the connection is then dropped and made again next time).
 */
static int app_request(struct sample *s, const char *command, char *answer, size_t size)
{
        int r = app_connect(s);
        if (r < 0)
                return r;
        size_t len = strlen(command);
        if (write(s->app_fd, command, len) != (ssize_t)len) {
                r = -errno;
                goto drop;
        }
        struct pollfd p = { .fd = s->app_fd, .events = POLLIN };
        r = poll(&p, 1, APP_TIMEOUT_MS);
        if (r <= 0) {
                r = r == 0 ? -ETIMEDOUT : -errno;
                goto drop;
        }
        ssize_t n = read(s->app_fd, answer, size - 1);
        if (n <= 0) {
                r = n == 0 ? -ECONNRESET : -errno;
                goto drop;
        }
        answer[n] = '\0';
        answer[strcspn(answer, "\n")] = '\0';
        return 0;
drop:
        close(s->app_fd);
        s->app_fd = -1;
        return r;
}

/*
 * Freeze: the application finishes its record, flushes and stops. Answer
 * only once it has: vssd snapshots the volumes right after every writer
 * answered. A failure here vetoes the snapshot set (it is aborted, the other
 * writers thaw), which is right: a snapshot of an application that did not
 * pause would not be what the backup promises.
 */
static int on_freeze(vss_writer *w, struct sample *s)
{
        char answer[64];

        int r = app_request(s, "freeze\n", answer, sizeof(answer));
        if (r < 0) {
                vss_writer_set_failure_message(w, "the application did not pause (%s on %s)",
                                               strerror(-r), s->control);
                return r == -ETIMEDOUT ? VSS_WF_TIMEOUT : VSS_WF_RETRYABLE;
        }
        if (strncmp(answer, "frozen ", 7) != 0) {
                vss_writer_set_failure_message(w, "the application answered '%s' to freeze",
                                               answer);
                return VSS_WF_NONRETRYABLE;
        }
        s->app_frozen = true;
        say("Freeze: the application paused after record #%s; answering Freeze",
            answer + 7);
        return VSS_WF_NONE;
}

/*
 * Thaw (and Abort, which may come while frozen): let the application go on.
 * If the application cannot be told, it resumes by itself once our
 * connection closes, so dropping the connection is the fallback.
 */
static int on_thaw(vss_writer *w, struct sample *s, const char *event)
{
        char answer[64];

        if (!s->app_frozen)
                return VSS_WF_NONE;
        s->app_frozen = false;
        int r = app_request(s, "thaw\n", answer, sizeof(answer));
        if (r < 0 || strcmp(answer, "thawed") != 0) {
                if (s->app_fd >= 0) {
                        close(s->app_fd);
                        s->app_fd = -1;
                }
                vss_writer_set_failure_message(w, "the application did not confirm the thaw");
                return VSS_WF_RETRYABLE;
        }
        say("%s: the application writes again", event);
        return VSS_WF_NONE;
}

static int on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        struct sample *s = userdata;
        const char *name = vss_writer_event_type_to_string(ev->type);

        switch (ev->type) {
        case VSS_WRITER_EVENT_PREPARE_SNAPSHOT:
                /* Slow work goes here, before the freeze: make sure we can reach the app. */
                if (app_connect(s) < 0) {
                        vss_writer_set_failure_message(w, "the application is not running "
                                                          "(no control socket %s)", s->control);
                        return VSS_WF_RETRYABLE;
                }
                say("%s: the application is ready to pause", name);
                return VSS_WF_NONE;
        case VSS_WRITER_EVENT_FREEZE:
                return on_freeze(w, s);
        case VSS_WRITER_EVENT_THAW:
        case VSS_WRITER_EVENT_ABORT:
                return on_thaw(w, s, name);
        case VSS_WRITER_EVENT_PREPARE_BACKUP:
                printf("[writer] %s: set %s of", name, ev->snapshot_set_id);
                for (size_t i = 0; i < ev->n_volumes; i++)
                        printf(" %s", ev->volumes[i]);
                putchar('\n');
                return VSS_WF_NONE;
        case VSS_WRITER_EVENT_IDENTIFY:
                return VSS_WF_NONE; /* libvss sends the component with the answer */
        default:
                /* PostSnapshot, BackupComplete, BackupShutdown, and any
                 * event a later libvss adds: nothing to do, succeed. */
                say("%s", name);
                return VSS_WF_NONE;
        }
}

static void on_signal(int sig)
{
        vss_writer_stop(the_writer); /* async-signal-safe: run() returns 0 */
}

static int say_ready(const char *path, const char *object_path)
{
        FILE *f = fopen(path, "we");
        if (!f || fprintf(f, "%s\n", object_path) < 0 || fclose(f) != 0)
                return -errno;
        return 0;
}

static int fail(vss_writer *w, const char *what)
{
        fprintf(stderr, "sample-writer: %s: %s\n", what, vss_writer_get_error_message(w));
        vss_writer_unref(w);
        return 1;
}

static __attribute__((noreturn)) void usage(int status)
{
        fprintf(status ? stderr : stdout,
                "Usage: sample-writer --control SOCKET [--ready FILE] [--bus ADDRESS] FILE...\n");
        exit(status);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "control", required_argument, NULL, 'c' },
                { "ready", required_argument, NULL, 'r' },
                { "bus", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct sample s = { .app_fd = -1 };
        const char *ready = NULL, *bus = NULL;
        vss_writer *w = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (c) {
                case 'c': s.control = optarg; break;
                case 'r': ready = optarg; break;
                case 'b': bus = optarg; break;
                case 'h': usage(0);
                default: usage(2);
                }
        }
        if (!s.control || optind == argc)
                usage(2);
        setvbuf(stdout, NULL, _IOLBF, 0);

        /* Who we are: a back-end writer (a database freezes after its front-ends). */
        struct vss_writer_config cfg = VSS_WRITER_CONFIG_INIT;
        cfg.name = "SampleWriter";
        cfg.instance_id = "sample-writer@demo";
        cfg.class_id = SAMPLE_CLASS_ID;
        cfg.level = VSS_LEVEL_BACK_END;
        cfg.freeze_timeout_ms = 30000; /* thaw within 30 s or vssd aborts the set */
        cfg.usage = "user-data";
        if ((r = vss_writer_new(&w, bus, &cfg, on_event, &s)) < 0) {
                fprintf(stderr, "sample-writer: %s\n", vss_strerror(r));
                return 1;
        }

        /* What a backup of this application must hold: its logs. */
        if (vss_writer_add_component(w, "", "logs", (const char *const *)argv + optind) < 0)
                return fail(w, "cannot describe the component");

        /* Refuse to start without the application: a writer for nothing is a lie. */
        if ((r = app_connect(&s)) < 0) {
                fprintf(stderr, "sample-writer: cannot reach the application at %s: %s\n",
                        s.control, strerror(-r));
                vss_writer_unref(w);
                return 1;
        }

        the_writer = w;
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN); /* a dead application is an error from write(), not a kill */

        if (vss_writer_register(w) < 0)
                return fail(w, "cannot register with vssd");
        say("registered as %s", vss_writer_get_object_path(w));
        if (ready && say_ready(ready, vss_writer_get_object_path(w)) < 0) {
                fprintf(stderr, "sample-writer: cannot write %s: %s\n", ready, strerror(errno));
                vss_writer_unref(w);
                return 1;
        }

        /* Events until SIGTERM; libvss calls on_event for each and sends the answers. */
        if (vss_writer_run(w) < 0)
                return fail(w, "stopped");
        the_writer = NULL;
        vss_writer_unref(w); /* unregisters */
        if (s.app_fd >= 0)
                close(s.app_fd); /* would thaw the application, had we left it frozen */
        return 0;
}
