/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.c: see error.h. */
#include <stdio.h>

#include "providers/common/error.h"

int provider_verror(struct vss_error_buf *err, int r, const char *format, va_list ap)
{
        if (err)
                vsnprintf(err->message, sizeof(err->message), format, ap);
        return r;
}

int provider_error(struct vss_error_buf *err, int r, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        provider_verror(err, r, format, ap);
        va_end(ap);
        return r;
}
