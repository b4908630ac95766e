/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: "vssctl supported VOLUME [--provider NAME]": asks each provider
 * (or the one named) whether it can snapshot VOLUME and shows why not, so an
 * administrator learns what to change before a backup fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage.h"
#include "output.h"
#include "vssctl.h"

/* One provider's answer. */
struct answer {
        const char *name;
        bool supported;
        char *reason; /* why not; "" when supported */
        char *error;  /* set when the question itself failed */
        int r;        /* and its code */
};

struct supported_args {
        const char *provider; /* --provider, or NULL for all */
        const char *volume;
        struct answer *answers;
        size_t n_answers;
};

static const struct option supported_long_options[] = {
        { "provider", required_argument, NULL, 'p' },
        { 0 },
};

static int supported_option(struct vssctl *ctx, int c, const char *arg, void *userdata)
{
        struct supported_args *a = userdata;

        if (c == 'p')
                a->provider = arg;
        return VSSCTL_CONTINUE;
}

static void answers_free(struct supported_args *a)
{
        for (size_t i = 0; i < a->n_answers; i++) {
                free(a->answers[i].reason);
                free(a->answers[i].error);
        }
        free(a->answers);
}

/*
 * Ask every provider in NAMES; a failure is kept in its answer, except for
 * a volume argument vssd or libvss rejects (-EINVAL): asking the next
 * provider would fail the same way, so that ends the command.
 */
static int ask_all(vss_client *client, struct supported_args *a, const char *const *names,
                   size_t n)
{
        a->answers = calloc(n ? n : 1, sizeof(*a->answers));
        if (!a->answers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++, a->n_answers++) {
                struct answer *ans = &a->answers[i];
                ans->name = names[i];
                int r = vss_client_is_volume_supported(client, names[i], a->volume,
                                                       &ans->supported, &ans->reason);
                if (r >= 0)
                        continue;
                ans->r = r;
                const char *why = vss_client_get_error_message(client);
                ans->error = strdup(why ? why : vss_strerror(r));
                if (!ans->error)
                        return -ENOMEM;
                if (r == -EINVAL)
                        return r;
        }
        return 0;
}

static int answers_print_table(const struct supported_args *a)
{
        static const char *const headers[] = { "PROVIDER", "SUPPORTED", "REASON" };

        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_answers; i++) {
                const struct answer *ans = &a->answers[i];
                const char *verdict = ans->error ? "error" : ans->supported ? "yes" : "no";
                if (table_add_cell(t, ans->name) < 0 || table_add_cell(t, verdict) < 0 ||
                    table_add_cell(t, ans->error ? ans->error : ans->reason) < 0)
                        return -ENOMEM;
        }
        return table_print(t, stdout);
}

static int answers_print_json(const struct supported_args *a, bool supported)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_string(&j, "volume", a->volume);
        json_bool(&j, "supported", supported);
        json_array_begin(&j, "providers");
        for (size_t i = 0; i < a->n_answers; i++) {
                const struct answer *ans = &a->answers[i];
                json_object_begin(&j, NULL);
                json_string(&j, "name", ans->name);
                json_bool(&j, "supported", ans->supported);
                if (ans->error)
                        json_string(&j, "error", ans->error);
                else
                        json_string(&j, "reason", ans->reason);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

/* 0 when any provider can do it; else 1 if a question failed, 3 if all said no. */
static int answers_status(const struct supported_args *a, bool *ret_supported)
{
        bool failed = false;

        *ret_supported = false;
        for (size_t i = 0; i < a->n_answers; i++) {
                if (a->answers[i].supported)
                        *ret_supported = true;
                failed = failed || a->answers[i].error;
        }
        return *ret_supported ? EXIT_SUCCESS : failed ? EXIT_FAILURE : EXIT_UNSUPPORTED;
}

static int print_answers(struct vssctl *ctx, const struct supported_args *a)
{
        bool supported;
        int status = answers_status(a, &supported);

        int r = ctx->json ? answers_print_json(a, supported) : answers_print_table(a);
        return r < 0 ? vssctl_output_done(r) : status;
}

/* With --provider, the one question failing is the command failing. */
static int ask_one(struct vssctl *ctx, vss_client *client, struct supported_args *a)
{
        const char *const names[] = { a->provider };
        char what[512];

        int r = ask_all(client, a, names, 1);
        if (r == -ENOMEM)
                return vssctl_output_done(r);
        if (!a->answers[0].error)
                return print_answers(ctx, a);

        snprintf(what, sizeof(what), "cannot ask provider '%s' about '%s'", a->provider,
                 a->volume);
        r = vssctl_fail(ctx, a->answers[0].r, what);
        if (a->answers[0].r == -ENOENT)
                fputs("See 'vssctl list providers' for the providers vssd has loaded.\n", stderr);
        return r;
}

static int ask_every_provider(struct vssctl *ctx, vss_client *client, struct supported_args *a)
{
        _cleanup_(provider_list_freep) vss_provider_info **providers = NULL;
        size_t n;

        int r = vss_client_list_providers(client, &providers, &n);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the providers of vssd");
        providers_sort_by_priority(providers, n); /* in the order vssd asks them */
        if (n == 0 && !ctx->json) {
                printf("No providers loaded: vssd cannot snapshot %s or any other volume.\n",
                       a->volume);
                return EXIT_UNSUPPORTED;
        }

        const char **names = calloc(n ? n : 1, sizeof(*names));
        if (!names)
                return vssctl_output_done(-ENOMEM);
        for (size_t i = 0; i < n; i++)
                names[i] = vss_provider_info_get_name(providers[i]);
        /* Answers point at the names, which live as long as PROVIDERS. */
        r = ask_all(client, a, names, n);
        free(names);
        if (r == -EINVAL) {
                char what[512];
                snprintf(what, sizeof(what), "cannot ask vssd about '%s'", a->volume);
                return vssctl_fail(ctx, r, what);
        }
        return r < 0 ? vssctl_output_done(r) : print_answers(ctx, a);
}

int verb_supported(struct vssctl *ctx, int argc, char *argv[])
{
        struct supported_args a = { 0 };
        const struct verb_options options = {
                .long_options = supported_long_options,
                .short_options = "p:",
                .handle = supported_option,
                .userdata = &a,
        };
        static const struct verb_operands spec = {
                "supported", { "volume" }, 1, "such as /dev/vg0/data"
        };
        vss_client *client;

        int r = vssctl_parse_verb(ctx, argc, argv, &options, &spec, &a.volume, &client);
        if (r != VSSCTL_CONTINUE)
                return r;
        r = a.provider ? ask_one(ctx, client, &a) : ask_every_provider(ctx, client, &a);
        answers_free(&a);
        return r;
}
