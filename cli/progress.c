/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * progress.c: what vssctl says on stderr while vssd works for it: a line
 * when a step of a snapshot set has taken more than a second ("vssctl:
 * writers are freezing..."), and vssd's warnings. Never on stdout, which
 * belongs to the result (and to --json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

/* Below this a step is not worth a line: most sets are made well within it. */
#define PROGRESS_QUIET_MS 1000

/* What a set in STATE is waiting for, as the line says it. */
static const char *state_text(const char *state)
{
        static const struct {
                const char *state;
                const char *text;
        } texts[] = {
                { "created", "starting the snapshot set" },
                { "collecting", "asking the providers about the volumes" },
                { "preparing-backup", "writers are preparing for the backup" },
                { "prepared", "writers are prepared" },
                { "preparing-snapshot", "writers and providers are preparing the snapshots" },
                { "freezing", "writers are freezing" },
                { "committing", "taking the snapshots" },
                { "thawing", "writers are thawing" },
                { "post-snapshot", "writers are finishing (PostSnapshot)" },
                { "completing-backup", "writers are completing the backup" },
                { "aborting", "aborting the snapshot set" },
        };
        for (size_t i = 0; state && i < ELEMENTSOF(texts); i++)
                if (strcmp(texts[i].state, state) == 0)
                        return texts[i].text;
        return NULL;
}

void vssctl_progress(const char *set_id, const char *state, uint64_t elapsed_ms, void *userdata)
{
        struct vssctl_progress *p = userdata;
        const char *text = state ? state_text(state) : p->idle;

        if (elapsed_ms < PROGRESS_QUIET_MS || !text || strcmp(text, p->shown) == 0)
                return;
        snprintf(p->shown, sizeof(p->shown), "%s", text);
        fprintf(stderr, "vssctl: %s...\n", text);
        fflush(stderr);
}

void vssctl_print_warnings(const char *warnings)
{
        for (const char *line = warnings ? warnings : ""; *line;) {
                size_t len = strcspn(line, "\n");
                char *copy = len > 0 ? strndup(line, len) : NULL;
                if (copy) {
                        /* Writers' messages: nothing in them may drive the terminal. */
                        fputs("vssctl: warning: ", stderr);
                        terminal_fputs(copy, stderr);
                        fputc('\n', stderr);
                        free(copy);
                }
                line += len + (line[len] == '\n');
        }
}
