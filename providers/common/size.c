/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size.c: store sizes as administrators write them (see size.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/common/size.h"

#define MIB (1024u * 1024u)

/* The power of 1024 of a unit ("K", "MiB", "gb"), or -1. */
static int unit_shift(const char *u)
{
        static const char units[] = "KMGT";
        const char *p;

        if (!*u)
                return 0;
        p = strchr(units, toupper((unsigned char)*u));
        if (!p || !*p)
                return -1;
        u++;
        if (strcasecmp(u, "") != 0 && strcasecmp(u, "B") != 0 && strcasecmp(u, "iB") != 0)
                return -1;
        return 10 * (int)(p - units + 1);
}

int size_parse(const char *s, uint64_t volume_bytes, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "unbounded") == 0) {
                *ret = SIZE_UNBOUNDED;
                return 0;
        }
        if (!isdigit((unsigned char)s[0]))
                return -EINVAL; /* strtoull would take blanks and a sign */
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -ERANGE;
        if (*end == '%' && end[1] == '\0') {
                /* Exact for any volume up to 2^64 / 100 percent, far beyond real disks. */
                unsigned __int128 b = (unsigned __int128)volume_bytes * v / 100;
                if (b > UINT64_MAX - MIB)
                        return -ERANGE;
                v = (unsigned long long)b;
        } else {
                int shift = unit_shift(end);
                if (shift < 0)
                        return -EINVAL;
                if (shift && v > (UINT64_MAX - MIB) >> shift)
                        return -ERANGE;
                v <<= shift;
        }
        if (v > UINT64_MAX - MIB)
                return -ERANGE;
        *ret = (v + MIB - 1) / MIB * MIB;
        return 0;
}
