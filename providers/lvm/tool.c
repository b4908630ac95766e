/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool.c: running the LVM tools, and lvs's report.
 *
 * Each command is `lvm COMMAND ARGS... --config CONFIG`, started with
 * posix_spawn (never a shell: names and tags go as they are), with default
 * signals and an empty signal mask (vssd blocks some for its signalfd), stdin
 * /dev/null, and stdout and stderr in memory files read after it exits: a
 * pipe would wait on a background poller that lvconvert --background leaves
 * holding it. LVM_SUPPRESS_FD_WARNINGS keeps LVM from listing our descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/common/util.h"
#include "providers/lvm/lvm.h"

extern char **environ;

#define MAX_ARGS 64

static int spawn_attr_init(posix_spawnattr_t *attr)
{
        sigset_t empty, all;
        int r;

        sigemptyset(&empty);
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        if ((r = posix_spawnattr_init(attr)) != 0)
                return -r;
        if ((r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) ||
            (r = posix_spawnattr_setsigmask(attr, &empty)) ||
            (r = posix_spawnattr_setsigdefault(attr, &all))) {
                posix_spawnattr_destroy(attr);
                return -r;
        }
        return 0;
}

/* The whole of memory file FD, NUL-terminated and malloc()ed. */
static char *memfd_text(int fd)
{
        struct stat st;
        char *text;
        ssize_t got = 0;

        if (fstat(fd, &st) < 0 || !(text = malloc((size_t)st.st_size + 1)))
                return NULL;
        while (got < st.st_size) {
                ssize_t k = pread(fd, text + got, (size_t)(st.st_size - got), got);
                if (k <= 0)
                        break;
                got += k;
        }
        text[got] = '\0';
        return text;
}

/* What LVM said on stderr, warnings left out, lines joined: for an error message. */
static void stderr_summary(const char *text, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        for (const char *line = text; *line && n + 1 < size;) {
                size_t len = strcspn(line, "\n");
                const char *s = line;
                while (*s == ' ' && s < line + len)
                        s++;
                size_t slen = len - (size_t)(s - line);
                if (slen && strncmp(s, "WARNING", 7) != 0) {
                        int k = snprintf(buf + n, size - n, "%s%.*s", n ? "; " : "", (int)slen, s);
                        n = k < 0 ? n : n + (size_t)k >= size ? size - 1 : n + (size_t)k;
                }
                line += len + (line[len] == '\n');
        }
}

/* argv for posix_spawn: lvm, the command's arguments, --config. */
static int build_argv(Lvm *lvm, const char *const *args, char **argv)
{
        size_t n = 0;

        argv[n++] = lvm->binary;
        for (size_t i = 0; args[i]; i++) {
                if (n + 3 >= MAX_ARGS)
                        return -E2BIG;
                argv[n++] = (char *)args[i];
        }
        if (lvm->config[0]) {
                argv[n++] = (char *)"--config";
                argv[n++] = lvm->config;
        }
        argv[n] = NULL;
        return 0;
}

/* environ with LVM_SUPPRESS_FD_WARNINGS=1 and LC_ALL=C (lvs's decimals), malloc()ed. */
static char **child_environ(void)
{
        size_t n = 0, k = 0;
        char **env;

        while (environ && environ[n])
                n++;
        if (!(env = calloc(n + 3, sizeof(char *))))
                return NULL;
        env[k++] = (char *)"LVM_SUPPRESS_FD_WARNINGS=1";
        env[k++] = (char *)"LC_ALL=C";
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "LC_ALL=", 7) != 0)
                        env[k++] = environ[i];
        return env;
}

static int spawn_wait(Lvm *lvm, char **argv, int out, int errfd, int *status)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        char **env = child_environ();
        pid_t pid;
        int r;

        if (!env)
                return -ENOMEM;
        if ((r = spawn_attr_init(&attr)) < 0) {
                free(env);
                return r;
        }
        r = -posix_spawn_file_actions_init(&fa);
        if (r == 0 && !(r = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
            !(r = -posix_spawn_file_actions_adddup2(&fa, out, 1)))
                r = -posix_spawn_file_actions_adddup2(&fa, errfd, 2);
        if (r == 0)
                r = -posix_spawn(&pid, lvm->binary, &fa, &attr, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        free(env);
        if (r < 0)
                return r;
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int lvm_run(Lvm *lvm, const char *const *args, char **ret_out, struct vss_error_buf *err)
{
        char *argv[MAX_ARGS], said[400];
        int out = -1, errfd = -1, status = 0, r;

        if ((r = build_argv(lvm, args, argv)) < 0)
                return provider_error(err, r, "lvm %s: too many arguments", args[0]);
        out = memfd_create("lvm-stdout", MFD_CLOEXEC);
        errfd = memfd_create("lvm-stderr", MFD_CLOEXEC);
        if (out < 0 || errfd < 0)
                r = -errno;
        else
                r = spawn_wait(lvm, argv, out, errfd, &status);
        if (r < 0) {
                if (out >= 0)
                        close(out);
                if (errfd >= 0)
                        close(errfd);
                return provider_error(err, r, "cannot run %s %s: %s%s", lvm->binary, args[0],
                                      strerror(-r), r == -ENOENT ? " (is lvm2 installed? "
                                      "[provider.lvm] lvm_binary names the program)" : "");
        }
        char *text = memfd_text(errfd), *output = memfd_text(out);
        close(out);
        close(errfd);
        stderr_summary(text ? text : "", said, sizeof(said));
        free(text);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(output);
                return provider_error(err, -EIO, "lvm %s %s failed (%s %d): %s", args[0],
                                      args[1] ? args[1] : "", WIFEXITED(status) ? "exit status"
                                      : "signal", WIFEXITED(status) ? WEXITSTATUS(status)
                                      : WTERMSIG(status), said[0] ? said : "it said nothing");
        }
        if (ret_out && !output)
                return provider_error(err, -ENOMEM, "out of memory reading lvm %s", args[0]);
        if (ret_out)
                *ret_out = output;
        else
                free(output);
        return 0;
}

int lvm_lvs(Lvm *lvm, const char *vg, LvRow **ret, size_t *ret_n, struct vss_error_buf *err)
{
        const char *args[] = { "lvs", "-a", "--reportformat", "json", "--binary", "--units", "b",
                               "--nosuffix", "-o", LVM_REPORT_FIELDS, vg, NULL };
        char *out = NULL;
        int r = lvm_run(lvm, args, &out, err);

        if (r < 0)
                return r;
        r = lv_rows_parse(out, ret, ret_n);
        free(out);
        if (r < 0)
                return provider_error(err, r, "cannot read what lvs reported (%s): is this "
                                      "LVM too old for --reportformat json (2.02.158 or later)?",
                                      strerror(-r));
        return 0;
}

LvRow *lv_rows_find(LvRow *rows, size_t n, const char *vg, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].vg, vg) == 0 && strcmp(rows[i].name, name) == 0)
                        return &rows[i];
        return NULL;
}
