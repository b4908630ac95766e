/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recover-log.c: the tally of a provider's recovery (see recover-log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "providers/common/recover-log.h"
#include "providers/common/util.h"

void recover_log_act(RecoverLog *log, const char *format, ...)
{
        char line[768];
        va_list ap;

        va_start(ap, format);
        vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        provider_log(LOG_NOTICE, "recover: %s", line);
        log->n_actions++;
}

void recover_log_failed(RecoverLog *log, int r, const struct vss_error_buf *why)
{
        provider_log(LOG_ERR, "recover: %s", why->message);
        log->n_failed++;
        if (log->r == 0) {
                log->r = r;
                log->first = *why;
        }
}
