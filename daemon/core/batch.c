/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * batch.c: one outcome waiting for several provider jobs (internal.h says
 * how a JobBatch is used). DeleteSnapshots by set or volume starts one delete
 * per snapshot and replies once; core_start() waits for every provider's
 * recover and query and for the deletions they lead to.
 */
#include <stdlib.h>
#include <syslog.h>

#include "daemon/core/internal.h"

struct JobBatch {
        Core *core;
        void *call;          /* NULL: nobody waits; failures are logged */
        JobBatch **ref;      /* cleared when the batch completes */
        unsigned n_pending;
        unsigned n_done;
        int r;               /* the first failure */
        char *message;
};

JobBatch *batch_new(Core *core, void *call, JobBatch **ref)
{
        JobBatch *batch = calloc(1, sizeof(*batch));
        if (!batch)
                return NULL;
        batch->core = core;
        batch->call = call;
        batch->ref = ref;
        batch->n_pending = 1; /* held until every job is started */
        if (ref)
                *ref = batch;
        return batch;
}

JobBatch *batch_free(JobBatch *batch)
{
        if (!batch)
                return NULL;
        if (batch->ref)
                *batch->ref = NULL;
        core_string_free(batch->message);
        free(batch);
        return NULL;
}

void batch_hold(JobBatch *batch)
{
        if (batch)
                batch->n_pending++;
}

void batch_step(JobBatch *batch)
{
        if (!batch || --batch->n_pending > 0)
                return;
        if (batch->call)
                core_call_complete(batch->core, batch->call, batch->r, batch->message, NULL,
                                   batch->n_done);
        else if (batch->r < 0)
                core_log(batch->core, LOG_ERR, "%s", batch->message);
        batch_free(batch);
}

void batch_fail(JobBatch *batch, int r, const char *message)
{
        if (!batch)
                return;
        if (!batch->r)
                batch->r = r;
        core_notes_append(&batch->message, message);
}

void batch_count(JobBatch *batch, unsigned n)
{
        if (batch)
                batch->n_done += n;
}
