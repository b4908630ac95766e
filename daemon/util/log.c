/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: "<N>message" lines on stderr, one write(2) per line so lines never interleave. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/util/log.h"

static int max_priority = LOG_INFO;

void log_set_max_priority(int priority)
{
        max_priority = priority;
}

int log_get_max_priority(void)
{
        return max_priority;
}

void log_msgv(int priority, const char *format, va_list ap)
{
        char line[2048];

        if (priority > max_priority)
                return;
        int n = snprintf(line, sizeof(line), "<%d>", priority);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, format, ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2; /* truncated: still end the line */
        line[len++] = '\n';
        /* Best effort: a logger has nowhere to report its own failure. */
        ssize_t r = write(STDERR_FILENO, line, len);
        (void)r;
}

void log_msg(int priority, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        log_msgv(priority, format, ap);
        va_end(ap);
}

int log_error_errno(int err, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        log_msgv(LOG_ERR, format, ap);
        va_end(ap);
        return err;
}
