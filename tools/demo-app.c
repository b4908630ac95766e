/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * demo-app.c: the "application" of make demo, a stand-in for a database. It
 * appends numbered, checksummed records to a log on each volume it is given
 * (the same record to every log, in turn), and obeys a control socket the
 * way a database obeys its administrator: "freeze" makes it finish the
 * record it is writing, flush its logs and stop until "thaw". The sample
 * writer (examples/sample-writer.c) is its VSS writer and sends those.
 *
 *   demo-app run --control SOCKET [--ready FILE] [--interval MS] LOG...
 *   demo-app check LOG
 *
 * A record is one line, written with one write() to an O_APPEND file:
 *
 *   #0000042 2026-11-24 21:48:18.123456 sum=1a2b3c4d
 *
 * where sum is the FNV-1a hash of the text before " sum=". "check" reads a
 * log (from a snapshot) and tells whether it is a whole-record prefix of what
 * the application wrote: every line complete, its checksum right, the
 * numbers 1, 2, 3... It prints "consistent: N records, last #K" (exit 0) or
 * what is wrong (exit 1).
 *
 * The control protocol, one line each way: "freeze" -> "frozen K" (K: the
 * last record, in every log and on disk), "thaw" -> "thawed". One controller
 * at a time; when it disconnects while the application is frozen, the
 * application thaws by itself, so a crashed writer never stops it for good.
 *
 * run exits 0 on SIGTERM or SIGINT (after the record it is writing), 1 on
 * an I/O error, 2 on a usage error; once it listens and record #1 is in
 * every log it writes "ready" to FILE (a FIFO a script is reading, or a
 * plain file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOGS 16
#define RECORD_MAX 128

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
        stopping = 1;
}

static uint32_t fnv1a(const char *s, size_t n)
{
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

/* Record N, with its time stamp and checksum, into BUF; its length. */
static size_t record_format(char *buf, unsigned long long n)
{
        struct timespec ts;
        struct tm tm;
        char when[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        int len = snprintf(buf, RECORD_MAX, "#%07llu %s.%06ld", n, when, ts.tv_nsec / 1000);
        len += snprintf(buf + len, RECORD_MAX - (size_t)len, " sum=%08x\n",
                        fnv1a(buf, (size_t)len));
        return (size_t)len;
}

/* --- check ------------------------------------------------------------------------ */

/* One line of LOG (without its newline): 0 if it is record EXPECTED, else why not. */
static const char *record_check(const char *line, size_t len, unsigned long long expected)
{
        const char *sum = memmem(line, len, " sum=", 5);
        char *end;

        if (len < 2 || line[0] != '#' || !sum || line + len - sum != 13)
                return "not a record";
        errno = 0;
        unsigned long long n = strtoull(line + 1, &end, 10);
        if (errno || *end != ' ')
                return "no record number";
        if (strtoul(sum + 5, &end, 16) != fnv1a(line, (size_t)(sum - line)) || end != line + len)
                return "wrong checksum";
        if (n != expected)
                return "out of sequence";
        return NULL;
}

static int cmd_check(const char *path)
{
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t size = 0;
        ssize_t len;
        unsigned long long n = 0;

        if (!f) {
                fprintf(stderr, "demo-app: cannot open %s: %s\n", path, strerror(errno));
                return 1;
        }
        while ((len = getline(&line, &size, f)) > 0) {
                if (line[len - 1] != '\n') {
                        printf("inconsistent: the last line is half a record "
                               "(%zd bytes after record #%llu)\n", len, n);
                        break;
                }
                const char *why = record_check(line, (size_t)len - 1, n + 1);
                if (why) {
                        printf("inconsistent: line %llu: %s: %.*s\n", n + 1, why,
                               (int)len - 1, line);
                        break;
                }
                n++;
        }
        bool ok = len <= 0 && !ferror(f);
        if (ok)
                printf("consistent: %llu records, last #%llu\n", n, n);
        free(line);
        fclose(f);
        return ok ? 0 : 1;
}

/* --- run ------------------------------------------------------------------------- */

struct app {
        int logs[MAX_LOGS];
        size_t n_logs;
        int listen_fd;
        int client_fd; /* the controller (the writer), or -1 */
        unsigned long long last; /* the last record written to every log */
        int interval_ms;
};

/* Record last+1 to every log. A real database would commit a transaction here. */
static int app_write_record(struct app *a)
{
        char rec[RECORD_MAX];
        size_t len = record_format(rec, a->last + 1);

        for (size_t i = 0; i < a->n_logs; i++)
                if (write(a->logs[i], rec, len) != (ssize_t)len) {
                        fprintf(stderr, "demo-app: cannot write a record: %s\n",
                                strerror(errno ? errno : ENOSPC));
                        return -1;
                }
        a->last++;
        return 0;
}

static void app_send(struct app *a, const char *format, unsigned long long n)
{
        char line[64];
        int len = snprintf(line, sizeof(line), format, n);
        if (write(a->client_fd, line, (size_t)len) != len)
                fprintf(stderr, "demo-app: cannot answer the controller: %s\n", strerror(errno));
}

/* One command line from the controller into CMD; false when it hung up. */
static bool app_read_command(struct app *a, char *cmd, size_t size)
{
        ssize_t n = read(a->client_fd, cmd, size - 1);
        if (n <= 0) {
                close(a->client_fd);
                a->client_fd = -1;
                return false;
        }
        cmd[n] = '\0';
        cmd[strcspn(cmd, "\n")] = '\0';
        return true;
}

/*
 * Frozen: every record so far is whole and on disk; wait for "thaw" (or the
 * controller going away, or SIGTERM) without writing anything.
 */
static void app_freeze(struct app *a)
{
        char cmd[64];

        for (size_t i = 0; i < a->n_logs; i++)
                if (fdatasync(a->logs[i]) < 0)
                        fprintf(stderr, "demo-app: fdatasync: %s\n", strerror(errno));
        printf("[app] paused after record #%llu, logs flushed\n", a->last);
        app_send(a, "frozen %llu\n", a->last);
        while (!stopping) {
                struct pollfd p = { .fd = a->client_fd, .events = POLLIN };
                if (poll(&p, 1, -1) < 0)
                        continue; /* EINTR: look at stopping */
                if (!app_read_command(a, cmd, sizeof(cmd))) {
                        printf("[app] the writer went away while I was paused: resuming\n");
                        return;
                }
                if (strcmp(cmd, "thaw") == 0) {
                        app_send(a, "thawed\n", 0);
                        printf("[app] resumed\n");
                        return;
                }
                app_send(a, "error: frozen, expected thaw\n", 0);
        }
}

/* Between two records: a new controller, a command, or just the pace. */
static void app_wait(struct app *a)
{
        struct pollfd p[2] = { { .fd = a->listen_fd, .events = POLLIN },
                               { .fd = a->client_fd, .events = POLLIN } };
        char cmd[64];

        if (poll(p, a->client_fd >= 0 ? 2 : 1, a->interval_ms) <= 0)
                return;
        if (p[0].revents & POLLIN) {
                int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0 && a->client_fd >= 0)
                        close(fd); /* one controller at a time */
                else if (fd >= 0)
                        a->client_fd = fd;
        }
        if (a->client_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)) &&
            app_read_command(a, cmd, sizeof(cmd))) {
                if (strcmp(cmd, "freeze") == 0)
                        app_freeze(a);
                else
                        app_send(a, "error: unknown command\n", 0);
        }
}

static int listen_on(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "demo-app: socket path too long: %s\n", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
                fprintf(stderr, "demo-app: cannot listen on %s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

static int say_ready(const char *path)
{
        FILE *f = fopen(path, "we");
        if (!f || fprintf(f, "ready\n") < 0 || fclose(f) != 0) {
                fprintf(stderr, "demo-app: cannot write %s: %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int cmd_run(struct app *a, const char *control, const char *ready)
{
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll wakes */

        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);

        a->listen_fd = listen_on(control);
        if (a->listen_fd < 0 || app_write_record(a) < 0) /* ready: record #1 is there */
                return 1;
        if (ready && say_ready(ready) < 0)
                return 1;
        while (!stopping) {
                app_wait(a);
                if (!stopping && app_write_record(a) < 0)
                        return 1;
        }
        unlink(control);
        printf("[app] stopped after record #%llu\n", a->last);
        return 0;
}

static __attribute__((noreturn)) void usage(int status)
{
        fprintf(status ? stderr : stdout,
                "Usage: demo-app run --control SOCKET [--ready FILE] [--interval MS] LOG...\n"
                "       demo-app check LOG\n");
        exit(status);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "control", required_argument, NULL, 'c' },
                { "ready", required_argument, NULL, 'r' },
                { "interval", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct app a = { .client_fd = -1, .interval_ms = 20 };
        const char *control = NULL, *ready = NULL;
        int c;

        if (argc >= 2 && strcmp(argv[1], "check") == 0) {
                if (argc != 3)
                        usage(2);
                return cmd_check(argv[2]);
        }
        if (argc < 2 || strcmp(argv[1], "run") != 0)
                usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2);
        optind = 2;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (c) {
                case 'c': control = optarg; break;
                case 'r': ready = optarg; break;
                case 'i': a.interval_ms = atoi(optarg); break;
                case 'h': usage(0);
                default: usage(2);
                }
        }
        if (!control || optind == argc || argc - optind > MAX_LOGS || a.interval_ms < 1)
                usage(2);
        for (int i = optind; i < argc; i++) {
                a.logs[a.n_logs] = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
                                                         O_CLOEXEC, 0644);
                if (a.logs[a.n_logs++] < 0) {
                        fprintf(stderr, "demo-app: cannot open %s: %s\n", argv[i],
                                strerror(errno));
                        return 1;
                }
        }
        return cmd_run(&a, control, ready);
}
