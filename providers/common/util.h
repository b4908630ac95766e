/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.h: small helpers every provider's files use: errors (error.h), the
 * daemon's log, bounded formatting, mkdir -p.
 */
#ifndef VSS_PROVIDERS_COMMON_UTIL_H
#define VSS_PROVIDERS_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <vss/provider.h>

#include "providers/common/error.h"

/* The prefix of every DM UUID and file linux-vss's providers create. */
#define DMSNAP_UUID_PREFIX "LVSS-"

/*
 * Log through the daemon (set up by init; never call it in the hold window).
 * One logger per plugin: each .so links its own copy of this file.
 */
void provider_log(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));
void provider_set_logger(void (*log)(int priority, const char *format, ...));

/* snprintf that reports truncation as -ENAMETOOLONG instead of cutting. */
int provider_printf(char *buf, size_t size, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* mkdir -p: every missing component of DIR with MODE; 0 or -errno. */
int provider_mkdir_parents(const char *dir, mode_t mode);

#endif
