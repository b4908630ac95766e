/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: "<N>message" lines on stderr, one write(2) per line so lines never interleave. */
#include <stdio.h>
#include <unistd.h>

#include "writers/common/log.h"

static int max_priority = LOG_INFO;

void log_set_max_priority(int priority)
{
        max_priority = priority;
}

void log_msg(int priority, const char *format, ...)
{
        char line[2048];
        va_list ap;

        if (priority > max_priority)
                return;
        int n = snprintf(line, sizeof(line), "<%d>", priority);
        va_start(ap, format);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, format, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2; /* truncated: still end the line */
        line[len++] = '\n';
        /* Best effort: a logger has nowhere to report its own failure. */
        ssize_t r = write(STDERR_FILENO, line, len);
        (void)r;
}
