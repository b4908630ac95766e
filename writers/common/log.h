/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h: the writers' logger (vss-writer-hooks, -postgresql, -mariadb).
 * Lines go to stderr prefixed with "<N>", the syslog priority, which
 * journald turns back into a level (as vssd's).
 */
#ifndef VSS_WRITERS_LOG_H
#define VSS_WRITERS_LOG_H

#include <stdarg.h>
#include <syslog.h>

void log_set_max_priority(int priority);
void log_msg(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
