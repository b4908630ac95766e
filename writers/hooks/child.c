/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* child.c: running one hook, reading its output, reaping it. See child.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "writers/hooks/child.h"
#include "writers/common/log.h"

static struct child *children; /* every child not yet freed */

static void child_maybe_free(struct child *c)
{
        if (c->fn || c->busy || !c->exited || c->out.src.fd >= 0 || c->err.src.fd >= 0)
                return;
        for (struct child **p = &children; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (c->stdin_fd >= 0)
                close(c->stdin_fd);
        free(c->name);
        free(c->event);
        free(c);
}

/* Tell the owner (if any) that something changed; C may be freed afterwards. */
static void child_notify(struct child *c)
{
        if (c->fn) {
                c->busy++;
                c->fn(c, c->userdata);
                c->busy--;
        }
        child_maybe_free(c);
}

static void stream_close(struct stream *s)
{
        if (s->src.fd < 0)
                return;
        loop_remove(&s->src);
        close(s->src.fd);
        s->src.fd = -1;
}

static void tail_add(struct child *c, const char *line)
{
        snprintf(c->tail[c->n_tail % CHILD_TAIL_LINES], sizeof(c->tail[0]), "%s", line);
        c->n_tail++;
}

/* One whole line (without its newline) of the child's output. */
static void stream_line(struct stream *s, char *line)
{
        struct child *c = s->child;
        size_t len = strlen(line);

        while (len > 0 && strchr(" \t\r", line[len - 1]))
                line[--len] = '\0';
        if (s->is_stderr) {
                log_info("hook %s (%s): %s", c->name, c->event, line);
                if (len > 0)
                        tail_add(c, line + strspn(line, " \t"));
                return;
        }
        if (!c->ready && strcmp(line, "READY") == 0) {
                /* Read only as it exited, the exit tells: its owner sees "ready" there. */
                c->ready = true;
                if (!c->exited)
                        child_notify(c);
                return;
        }
        log_debug("hook %s (%s) printed: %s", c->name, c->event, line);
}

/* Split what the buffer holds into lines; a line longer than the buffer is cut. */
static void stream_split(struct stream *s, bool flush)
{
        size_t start = 0;
        for (size_t i = 0; i < s->len; i++)
                if (s->buf[i] == '\n') {
                        s->buf[i] = '\0';
                        stream_line(s, s->buf + start);
                        start = i + 1;
                }
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
        if (s->len > 0 && (flush || s->len == sizeof(s->buf) - 1)) {
                s->buf[s->len] = '\0';
                s->len = 0;
                stream_line(s, s->buf);
        }
}

/* Read what is there now; at end of file, close. */
static void stream_drain(struct stream *s)
{
        while (s->src.fd >= 0) {
                ssize_t n = read(s->src.fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        stream_split(s, true);
                        stream_close(s);
                        return;
                }
                s->len += (size_t)n;
                stream_split(s, false);
        }
}

static void stream_ready(struct source *src, uint32_t events)
{
        struct stream *s = container_of(src, struct stream, src);
        struct child *c = s->child;

        c->busy++;
        stream_drain(s);
        c->busy--;
        child_maybe_free(c);
}

static int stream_open(struct child *c, struct stream *s, int fd, bool is_stderr)
{
        s->child = c;
        s->is_stderr = is_stderr;
        s->src.fd = fd;
        s->src.fn = stream_ready;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return loop_add(&s->src);
}

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0) {
                        close(p[i]);
                        p[i] = -1;
                }
}

/* The attributes every hook starts with: its own process group, default signals. */
static int spawn_attr(posix_spawnattr_t *attr)
{
        sigset_t none, defaults;

        sigemptyset(&none);
        sigemptyset(&defaults);
        /* We block these for our signalfd and ignore SIGPIPE; a hook expects neither. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaddset(&defaults, sig);
        int r = posix_spawnattr_init(attr);
        if (r == 0)
                r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                           POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = posix_spawnattr_setpgroup(attr, 0);
        if (r == 0)
                r = posix_spawnattr_setsigmask(attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(attr, &defaults);
        return -r;
}

static int spawn_actions(posix_spawn_file_actions_t *fa, int in, int out, int err)
{
        int r = posix_spawn_file_actions_init(fa);
        if (r == 0)
                r = in >= 0 ? posix_spawn_file_actions_adddup2(fa, in, 0)
                            : posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(fa, out, 1);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(fa, err, 2);
        if (r == 0)
                r = posix_spawn_file_actions_addchdir_np(fa, "/");
        return -r;
}

static int child_start(struct child *c, const char *path, char *const *env, bool with_stdin)
{
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        char *argv[] = { (char *)path, c->event, NULL };
        int r = 0;

        if ((with_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
            pipe2(err, O_CLOEXEC) < 0)
                r = -errno;
        if (r == 0 && (r = spawn_attr(&attr)) == 0) {
                if ((r = spawn_actions(&fa, in[0], out[1], err[1])) == 0) {
                        r = -posix_spawn(&c->pid, path, &fa, &attr, argv, env);
                        posix_spawn_file_actions_destroy(&fa);
                }
                posix_spawnattr_destroy(&attr);
        }
        if (r == 0) {
                c->stdin_fd = in[1];
                in[1] = -1;
                r = stream_open(c, &c->out, out[0], false);
                out[0] = -1;
                if (r == 0)
                        r = stream_open(c, &c->err, err[0], true);
                err[0] = -1;
                /* Started: a stream we cannot watch costs its lines, not the hook. */
                if (r < 0)
                        log_warning("cannot read the output of hook %s: %s", c->name,
                                    strerror(-r));
                r = 0;
        }
        close_pair(in);
        close_pair(out);
        close_pair(err);
        return r;
}

int child_spawn(struct child **ret, const char *dir, const char *name, const char *event,
                char *const *env, bool with_stdin, child_fn fn, void *userdata)
{
        char *path = NULL;
        struct child *c = calloc(1, sizeof(*c));

        if (!c || asprintf(&path, "%s/%s", dir, name) < 0) {
                free(c);
                return -ENOMEM;
        }
        c->stdin_fd = c->out.src.fd = c->err.src.fd = -1;
        c->name = strdup(name);
        c->event = strdup(event);
        int r = c->name && c->event ? child_start(c, path, env, with_stdin) : -ENOMEM;
        if (r < 0) {
                if (r != -ENOMEM)
                        log_error("cannot run hook %s %s: %s%s", path, event, strerror(-r),
                                  r == -ENOEXEC ? " (a script needs a #! line)" : "");
                free(path);
                for (int i = 0; i < 2; i++)
                        stream_close(i ? &c->err : &c->out);
                if (c->stdin_fd >= 0)
                        close(c->stdin_fd);
                free(c->name);
                free(c->event);
                free(c);
                return r;
        }
        log_debug("hook %s %s started (pid %d)", path, event, (int)c->pid);
        free(path);
        c->fn = fn;
        c->userdata = userdata;
        c->next = children;
        children = c;
        *ret = c;
        return 0;
}

void child_close_stdin(struct child *c)
{
        if (c->stdin_fd >= 0) {
                close(c->stdin_fd);
                c->stdin_fd = -1;
        }
}

void child_kill(struct child *c, int sig)
{
        /* While unreaped, its pid (and so its group id) cannot have been reused. */
        if (!c->exited && kill(-c->pid, sig) < 0 && errno != ESRCH)
                log_warning("cannot signal hook %s (process group %d): %s", c->name,
                            (int)c->pid, strerror(errno));
}

void child_disown(struct child *c)
{
        c->fn = NULL;
        c->userdata = NULL;
        child_maybe_free(c);
}

static struct child *child_find(pid_t pid)
{
        for (struct child *c = children; c; c = c->next)
                if (c->pid == pid && !c->exited)
                        return c;
        return NULL;
}

void children_reap(void)
{
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                struct child *c = child_find(pid);
                if (!c)
                        continue;
                c->exited = true;
                c->status = status;
                /* What it wrote last belongs to its message: read it before telling. */
                c->busy++;
                stream_drain(&c->err);
                stream_drain(&c->out);
                c->busy--;
                child_notify(c);
        }
}

void children_kill_all(int sig)
{
        for (struct child *c = children; c; c = c->next)
                child_kill(c, sig);
}

void children_free_all(void)
{
        while (children) {
                struct child *c = children;
                stream_close(&c->out);
                stream_close(&c->err);
                c->fn = NULL;
                c->busy = 0;
                c->exited = true;
                child_maybe_free(c);
        }
}

char *child_stderr_tail(const struct child *c)
{
        unsigned n = c->n_tail < CHILD_TAIL_LINES ? c->n_tail : CHILD_TAIL_LINES;
        size_t size = 1;
        for (unsigned i = 0; i < n; i++)
                size += strlen(c->tail[(c->n_tail - n + i) % CHILD_TAIL_LINES]) + 2;
        char *s = malloc(size), *p = s;
        if (!s)
                return NULL;
        *p = '\0';
        for (unsigned i = 0; i < n; i++)
                p += sprintf(p, "%s%s", i ? "; " : "",
                             c->tail[(c->n_tail - n + i) % CHILD_TAIL_LINES]);
        return s;
}

void child_describe_exit(const struct child *c, char *buf, size_t size)
{
        if (!c->exited)
                snprintf(buf, size, "still running");
        else if (WIFEXITED(c->status))
                snprintf(buf, size, "exit status %d", WEXITSTATUS(c->status));
        else if (WIFSIGNALED(c->status))
                snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(c->status),
                         strsignal(WTERMSIG(c->status)));
        else
                snprintf(buf, size, "wait status %#x", (unsigned)c->status);
}
