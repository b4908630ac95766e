/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * error.h: the providers' one way to fail: write a sentence into the
 * caller's vss_error_buf (which may be NULL) and return the code, so that a
 * failure reads: return provider_error(err, -errno, "cannot ... %s", ...).
 * It allocates nothing: safe inside a hold window.
 */
#ifndef VSS_PROVIDERS_COMMON_ERROR_H
#define VSS_PROVIDERS_COMMON_ERROR_H

#include <stdarg.h>

#include <vss/provider.h>

int provider_error(struct vss_error_buf *err, int r, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
int provider_verror(struct vss_error_buf *err, int r, const char *format, va_list ap)
        __attribute__((format(printf, 3, 0)));

#endif
