/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* intent.c: the dm-snapshot provider's intent journals (see intent.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "providers/dm-snapshot/intent.h"
#include "providers/common/util.h"

int intent_open(DmSnap *dm, Journal *j, const char *prefix, const char *id,
                struct vss_error_buf *err)
{
        return journal_open_for(j, DMSNAP_NAME, dm->journal_dir, prefix, id, err);
}

int intent_table_format(const DmTable *t, char **ret)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++)
                fprintf(f, "%s%" PRIu64 " %" PRIu64 " %s %s", i ? "\n" : "", t->targets[i].start,
                        t->targets[i].length, t->targets[i].type, t->targets[i].params);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}

static int target_parse(const char *line, DmTable *t)
{
        uint64_t start, length;
        char type[DM_MAX_TYPE_NAME];
        int n = 0;

        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %15s %n", &start, &length, type, &n) != 3 ||
            n == 0)
                return -EINVAL;
        return dm_table_add(t, start, length, type, line + n);
}

int intent_table_parse(const char *text, DmTable *ret)
{
        DmTable t = { 0 };
        char *copy = strdup(text), *save = NULL;
        int r = copy ? 0 : -ENOMEM;

        for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line && r == 0;
             line = strtok_r(NULL, "\n", &save))
                r = target_parse(line, &t);
        free(copy);
        if (r == 0 && t.n == 0)
                r = -EINVAL;
        if (r < 0) {
                dm_table_free(&t);
                return r;
        }
        *ret = t;
        return 0;
}
