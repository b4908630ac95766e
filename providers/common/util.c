/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <limits.h>

#include "providers/common/error.h"
#include "providers/common/util.h"

static void (*logger)(int priority, const char *format, ...);

void provider_set_logger(void (*log)(int priority, const char *format, ...))
{
        logger = log;
}

void provider_log(int priority, const char *format, ...)
{
        char line[1024];
        va_list ap;

        if (!logger)
                return;
        va_start(ap, format);
        vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        logger(priority, "%s", line);
}

int provider_printf(char *buf, size_t size, const char *format, ...)
{
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(buf, size, format, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        return (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* mkdir -p with MODE for each missing component. */
int provider_mkdir_parents(const char *dir, mode_t mode)
{
        char buf[PATH_MAX];
        int r = provider_printf(buf, sizeof(buf), "%s", dir);
        if (r < 0)
                return r;
        if (!buf[0])
                return -ENOENT;
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (c == '\0')
                        return 0;
                *p = c;
        }
}
