/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover-log.h: the tally every provider's recover() keeps: each action is
 * logged ("recover: ...", one line naming the device or file) and counted,
 * each failure logged and counted, and the first one kept to return, so a
 * failure does not stop recovery from putting the rest right.
 */
#ifndef VSS_PROVIDERS_COMMON_RECOVER_LOG_H
#define VSS_PROVIDERS_COMMON_RECOVER_LOG_H

#include <vss/provider.h>

typedef struct RecoverLog {
        unsigned n_actions;
        unsigned n_failed;
        int r;                      /* the first failure, 0 if none */
        struct vss_error_buf first; /* its sentence */
} RecoverLog;

/* Log one action taken ("recover: " FORMAT) and count it. */
void recover_log_act(RecoverLog *log, const char *format, ...)
        __attribute__((format(printf, 2, 3)));
/* Log the failure R explained by WHY; keep it if it is the first. */
void recover_log_failed(RecoverLog *log, int r, const struct vss_error_buf *why);

#endif
