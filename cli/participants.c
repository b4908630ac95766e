/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * participants.c: the options create and exec share, saying who takes part
 * in a snapshot set: --no-writers, --provider, --exclude-writer.
 */
#include <errno.h>
#include <stdlib.h>

#include "vssctl.h"

int set_participants_init(struct set_participants *p, int argc)
{
        /* Every argument could be an --exclude-writer. */
        *p = (struct set_participants){ .exclude = calloc((size_t)argc + 1, sizeof(char *)) };
        return p->exclude ? 0 : -ENOMEM;
}

void set_participants_done(struct set_participants *p)
{
        free(p->exclude);
        p->exclude = NULL;
}

bool set_participants_option(struct set_participants *p, int c, const char *arg)
{
        switch (c) {
        case OPT_NO_WRITERS:
                p->no_writers = true;
                return true;
        case OPT_PROVIDER:
                p->provider = arg;
                return true;
        case OPT_EXCLUDE_WRITER:
                p->exclude[p->n_exclude++] = arg;
                return true;
        }
        return false;
}

const char *const *set_participants_excluded(const struct set_participants *p)
{
        return p->n_exclude ? p->exclude : NULL;
}
