/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * size.h: the one parser of store sizes, for vssd.conf (initial_size,
 * max_size) and for what an administrator sets at run time (vssctl storage).
 */
#ifndef VSS_PROVIDERS_COMMON_SIZE_H
#define VSS_PROVIDERS_COMMON_SIZE_H

#include <stdint.h>

/* What size_parse() gives for "unbounded": no limit. */
#define SIZE_UNBOUNDED UINT64_MAX

/*
 * S as bytes, rounded up to whole MiB: a number of bytes ("4096"), with a
 * K, M, G or T suffix (powers of 1024; "B" or "iB" may follow, any case:
 * "512M", "2GiB", "10gb"), a percentage of VOLUME_BYTES ("15%"), or
 * "unbounded" (SIZE_UNBOUNDED). -EINVAL for anything else (blanks, a sign,
 * a fraction, an unknown suffix), -ERANGE when it does not fit 64 bits.
 */
int size_parse(const char *s, uint64_t volume_bytes, uint64_t *ret);

#endif
