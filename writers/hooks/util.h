/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.h: cleanup helpers the files of vss-writer-hooks share. */
#ifndef VSS_HOOKS_UTIL_H
#define VSS_HOOKS_UTIL_H

#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

#endif
