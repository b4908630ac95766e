/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * child.h: one run of one hook: the process (leader of its own process
 * group, so that a timeout kills whatever it started), its stdout and
 * stderr read line by line into the log, the last lines of stderr kept for a
 * failure message, a READY line on stdout noticed (holder mode), and its
 * stdin: /dev/null, or a pipe whose end the writer holds until it lets a
 * holder go.
 *
 * The pipes are read until their end, not until the hook exits: a hook may
 * leave a process behind that keeps them (qemu-ga's mysql-flush.sh leaves its
 * mysql client holding the lock), and that process must not die of SIGPIPE
 * for writing a line after its parent exited.
 */
#ifndef VSS_HOOKS_CHILD_H
#define VSS_HOOKS_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "writers/hooks/loop.h"

#define CHILD_TAIL_LINES 4
#define CHILD_LINE_MAX 1024

struct child;
/* Called when the child printed READY, and when it exited (reaped). */
typedef void (*child_fn)(struct child *c, void *userdata);

struct stream {
        struct source src;
        struct child *child;
        bool is_stderr;
        size_t len;
        char buf[CHILD_LINE_MAX];
};

struct child {
        char *name;        /* the hook's file name, for messages */
        char *event;       /* the word it runs with */
        pid_t pid;
        int stdin_fd;      /* our end of its stdin; -1 */
        struct stream out, err;
        bool ready;        /* it printed READY */
        bool exited;
        int status;        /* waitpid()'s, once exited */
        char tail[CHILD_TAIL_LINES][256]; /* the last lines of stderr, a ring */
        unsigned n_tail;   /* lines ever put in the ring */
        child_fn fn;       /* NULL once disowned */
        void *userdata;
        unsigned busy;     /* inside its own callback: not freed yet */
        struct child *next;
};

/*
 * Run DIR/NAME with EVENT as its argument, environment ENV, in / and in a
 * process group of its own; stdin a pipe when WITH_STDIN (holder mode), else
 * /dev/null. FN is told of READY and of the exit. -errno with the reason
 * logged when it cannot be started (ENOENT, EACCES, ENOEXEC: no #! line).
 */
int child_spawn(struct child **ret, const char *dir, const char *name, const char *event,
                char *const *env, bool with_stdin, child_fn fn, void *userdata);
/* Close our end of its stdin: a holder sees end of file and lets go. */
void child_close_stdin(struct child *c);
/* Send SIG to its whole process group (nothing once it exited and was reaped). */
void child_kill(struct child *c, int sig);
/* The owner is done with C: no more callbacks; freed once exited and its pipes closed. */
void child_disown(struct child *c);
/* Reap every child that exited (on SIGCHLD) and tell its owner. */
void children_reap(void);
/* Kill every child's process group (at a forced exit). */
void children_kill_all(int sig);
/* Forget every child (at exit): close our ends, free; processes are left alone. */
void children_free_all(void);

/* Its last lines of stderr joined with "; ", trimmed; "" when none. malloc()ed. */
char *child_stderr_tail(const struct child *c);
/* "exit status 3", "killed by signal 9 (Killed)". */
void child_describe_exit(const struct child *c, char *buf, size_t size);

#endif
