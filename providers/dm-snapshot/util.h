/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util.h: small helpers every file of the dm-snapshot provider uses.
 */
#ifndef VSS_DMSNAP_UTIL_H
#define VSS_DMSNAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <vss/provider.h>

/* The prefix of every DM UUID and file the provider creates. */
#define DMSNAP_UUID_PREFIX "LVSS-"

/*
 * Write a sentence into ERR (may be NULL) and return R (a negative errno or
 * -VSS_E_* code), so that a failure reads: return dmsnap_error(err, -r, ...).
 * Formats with vsnprintf into the caller's buffer: no allocation.
 */
int dmsnap_error(struct vss_error_buf *err, int r, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* Log through the daemon (set up by init; never call it in the hold window). */
void dmsnap_log(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));
void dmsnap_set_logger(void (*log)(int priority, const char *format, ...));

/* snprintf that reports truncation as -ENAMETOOLONG instead of cutting. */
int dmsnap_printf(char *buf, size_t size, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* mkdir -p: every missing component of DIR with MODE; 0 or -errno. */
int dmsnap_mkdir_parents(const char *dir, mode_t mode);

#endif
