/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h: the daemon's logger. Lines go to stderr prefixed with "<N>", the
 * syslog priority, which journald (and systemd's stderr capture) turns back
 * into a level; outside systemd the prefix is still easy to grep.
 */
#ifndef VSS_UTIL_LOG_H
#define VSS_UTIL_LOG_H

#include <stdarg.h>
#include <syslog.h>

void log_set_max_priority(int priority);
int log_get_max_priority(void);

void log_msg(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));
void log_msgv(int priority, const char *format, va_list ap);

/* Log at LOG_ERR and return ERR (a negative code), for "return log_err_code(...)". */
int log_error_errno(int err, const char *format, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
