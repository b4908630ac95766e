/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * writers.c: "vssctl writers status" (vssadmin list writers): a session that
 * asks every writer to identify itself (GatherWriterMetadata), reads their
 * states (GatherWriterStatus) and ends (Release); then one row per writer.
 * Exit status EXIT_WRITER_FAILED when any writer is in a failed state, for
 * monitoring scripts. Unlike 'list writers', which shows what vssd last
 * saw, this asks the writers now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "vssctl.h"

static inline void writer_status_list_freep(vss_writer_status ***l)
{
        vss_writer_status_list_free(*l);
}

static bool is_failed(const vss_writer_status *w)
{
        return strncmp(w->state, "FAILED_AT_", 10) == 0;
}

/* By name, then instance id, as 'list writers' shows them. */
static int writer_compare(const void *a, const void *b)
{
        const vss_writer_status *wa = *(vss_writer_status *const *)a;
        const vss_writer_status *wb = *(vss_writer_status *const *)b;
        int c = strcmp(wa->name, wb->name);
        return c ? c : strcmp(wa->instance_id, wb->instance_id);
}

static int status_print_table(vss_writer_status **writers, size_t n)
{
        static const char *const headers[] = { "NAME", "INSTANCE ID", "STATE", "LAST FAILURE" };

        if (n == 0) {
                puts("No writers registered.");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const vss_writer_status *w = writers[i];
                if (table_add_cell(t, w->name) < 0 || table_add_cell(t, w->instance_id) < 0 ||
                    table_add_cell(t, w->state) < 0 ||
                    (*w->message ? table_add_cellf(t, "%s: %s", w->failure, w->message)
                                 : table_add_cell(t, w->failure)) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static int status_print_json(vss_writer_status **writers, size_t n, size_t n_failed)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "writers");
        for (size_t i = 0; i < n; i++) {
                const vss_writer_status *w = writers[i];
                json_object_begin(&j, NULL);
                json_string(&j, "name", w->name);
                json_string(&j, "instance_id", w->instance_id);
                json_string(&j, "state", w->state);
                json_bool(&j, "failed", is_failed(w));
                json_string(&j, "last_failure", w->failure);
                json_string(&j, "last_failure_message", w->message);
                json_string(&j, "object_path", w->object_path);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_uint(&j, "failed", n_failed);
        json_object_end(&j);
        return json_finish(&j);
}

/* Identify, then read the states; the session ends either way. */
static int gather(struct vssctl *ctx, vss_client *client, vss_writer_status ***ret, size_t *n)
{
        struct vssctl_progress progress = { .idle = "writers are identifying" };
        struct vss_create_options opts = VSS_CREATE_OPTIONS_INIT;
        vss_backup *b;

        opts.progress = vssctl_progress;
        opts.progress_userdata = &progress;
        int r = vss_client_start_backup_with_options(client, &opts, &b);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot start a session to ask the writers");
        r = vss_backup_gather_writer_metadata(b);
        if (r < 0)
                vssctl_fail(ctx, r, "cannot gather the writers' metadata");
        else if ((r = vss_backup_gather_writer_status(b, ret, n)) < 0)
                vssctl_fail(ctx, r, "cannot gather the writers' status");
        /* Nothing to release but the session object: a failure here changes nothing shown. */
        (void)vss_backup_release(b);
        vss_backup_unref(b);
        return r < 0 ? EXIT_FAILURE : 0;
}

static int writers_status(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(writer_status_list_freep) vss_writer_status **writers = NULL;
        size_t n, n_failed = 0;

        int r = gather(ctx, client, &writers, &n);
        if (r != 0)
                return r;
        qsort(writers, n, sizeof(*writers), writer_compare);
        for (size_t i = 0; i < n; i++)
                n_failed += is_failed(writers[i]);
        int status = vssctl_output_done(ctx->json ? status_print_json(writers, n, n_failed)
                                                  : status_print_table(writers, n));
        return status == EXIT_SUCCESS && n_failed ? EXIT_WRITER_FAILED : status;
}

int verb_writers(struct vssctl *ctx, int argc, char *argv[])
{
        vss_client *client;
        int first;

        int r = vssctl_parse_options(ctx, argc, argv, NULL, &first);
        if (r != VSSCTL_CONTINUE)
                return r;
        if (first >= argc)
                return vssctl_usage_error("'writers' needs what to do: status");
        if (strcmp(argv[first], "status") != 0)
                return vssctl_usage_error("'writers' cannot '%s'; it can: status", argv[first]);
        if (first + 1 < argc)
                return vssctl_usage_error("'writers status' takes no more arguments, got '%s'",
                                          argv[first + 1]);
        r = vssctl_client(ctx, &client);
        if (r != 0)
                return r;
        return writers_status(ctx, client);
}
