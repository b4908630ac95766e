/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cleanup.h: scope-bound cleanup (GCC/Clang cleanup attribute) and TAKE_PTR,
 * so every early return frees what the function owns.
 */
#ifndef VSS_UTIL_CLEANUP_H
#define VSS_UTIL_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Hand ownership out of a _cleanup_ variable: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                                                                         \
        ({                                                                                   \
                __typeof__(p) _taken = (p);                                                  \
                (p) = NULL;                                                                  \
                _taken;                                                                      \
        })

#define TAKE_FD(fd)                                                                         \
        ({                                                                                   \
                int _taken_fd = (fd);                                                        \
                (fd) = -1;                                                                   \
                _taken_fd;                                                                   \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Defines type##_freep for a destructor "type *type##_free(type *)". */
#define DEFINE_FREEP(type, func)                                                            \
        static inline void func##p(type **p)                                                 \
        {                                                                                    \
                if (*p)                                                                      \
                        func(*p);                                                            \
        }

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
