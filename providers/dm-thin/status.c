/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status.c: a thin-pool's status line, as the kernel reports it
 * (Documentation/admin-guide/device-mapper/thin-provisioning.rst):
 *
 *   <transaction id> <used metadata>/<total metadata> <used data>/<total data>
 *   <held metadata root> ro|rw|out_of_data_space [no_]discard_passdown
 *   [error|queue]_if_no_space needs_check|- <metadata low watermark>
 *
 * or "Fail" / "Error" for a pool that broke. Pure: tests/unit/check_thin_status.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "providers/dm-thin/thin.h"

bool pool_status_parse(const char *params, PoolStatus *st)
{
        char mode[32] = "", discard[32] = "", space[32] = "", check[32] = "";
        unsigned long long tid;
        char held[32];

        memset(st, 0, sizeof(*st));
        /* <transaction id> <used>/<total metadata> <used>/<total data> <held root> <mode> ... */
        int n = sscanf(params, "%llu %" SCNu64 "/%" SCNu64 " %" SCNu64 "/%" SCNu64
                       " %31s %31s %31s %31s %31s", &tid, &st->meta_used, &st->meta_total,
                       &st->data_used, &st->data_total, held, mode, discard, space, check);
        if (n < 7 || st->meta_total == 0 || st->data_total == 0 ||
            st->meta_used > st->meta_total || st->data_used > st->data_total) {
                memset(st, 0, sizeof(*st));
                return false;
        }
        st->read_only = strcmp(mode, "ro") == 0;
        st->out_of_space = strcmp(mode, "out_of_data_space") == 0;
        st->needs_check = strcmp(check, "needs_check") == 0;
        st->ok = strcmp(mode, "rw") == 0 || st->out_of_space || st->read_only;
        return st->ok;
}

unsigned pool_status_percent(const PoolStatus *st)
{
        if (!st->ok)
                return 0;
        uint64_t d = st->data_used * 100 / st->data_total;
        uint64_t m = st->meta_used * 100 / st->meta_total;
        return (unsigned)(d > m ? d : m);
}

