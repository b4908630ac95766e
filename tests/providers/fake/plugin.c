/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.c: init, fini, recover, and the descriptor vssd loads. */
#include "tests/providers/fake/fake.h"

/* --- life cycle ----------------------------------------------------------- */

static int fake_recover(void *state, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "recover", NULL, NULL), NULL, err);
        if (r < 0)
                return r;
        return op_end_saved(f, 0); /* nothing is half-made: commit is all or nothing */
}

void fake_free(struct fake *f)
{
        while (f->sets) {
                struct fake_set *next = f->sets->next;
                fake_set_free(f->sets);
                f->sets = next;
        }
        if (f->log_fd >= 0)
                close(f->log_fd);
        pthread_cond_destroy(&f->wake);
        pthread_mutex_destroy(&f->lock);
        for (size_t i = 0; i < f->n_enabled; i++) {
                free(f->enabled[i]);
                free(f->enabled_pools[i]);
        }
        free(f->enabled);
        free(f->enabled_pools);
        for (size_t i = 0; i < f->n_pools; i++)
                pool_free_fields(&f->pools[i]);
        free(f->pools);
        for (size_t i = 0; i < f->n_storage; i++) {
                free(f->storage[i].volume);
                free(f->storage[i].max_size);
                free(f->storage[i].diff_area);
        }
        free(f->storage);
        free(f->state_path);
        free(f->volumes);
        free(f->control);
        free(f);
}

static void fake_fini(void *state)
{
        struct fake *f = state;
        struct line line;
        if (!f)
                return;
        log_write(f, line_start(&line, "fini", NULL, NULL));
        if (f->dirty)
                state_save(f);
        fake_free(f);
}

static int config_copy(const struct vss_provider_host *host, const char *key, char **ret)
{
        const char *value = host && host->config_get ? host->config_get(FAKE_NAME, key) : NULL;
        *ret = NULL;
        if (value && !(*ret = strdup(value)))
                return -ENOMEM;
        return 0;
}

/* atomicity=: "one-instant" (or unset) or "writers-only"; else -EINVAL, logged. */
static int atomicity_config(const struct vss_provider_host *host,
                            enum vss_set_atomicity *ret)
{
        const char *value = host && host->config_get ? host->config_get(FAKE_NAME, "atomicity")
                                                     : NULL;
        *ret = VSS_ATOMICITY_ONE_INSTANT;
        if (!value || strcmp(value, "one-instant") == 0)
                return 0;
        if (strcmp(value, "writers-only") == 0) {
                *ret = VSS_ATOMICITY_WRITERS_ONLY;
                return 0;
        }
        if (host && host->log)
                host->log(LOG_ERR, FAKE_WHO "atomicity = %s is neither one-instant nor "
                          "writers-only", value);
        return -EINVAL;
}

/* Allocate F with its lock, condition and configuration; no op is run yet. */
static int fake_new(const struct vss_provider_host *host, struct fake **ret)
{
        struct fake *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->host = host;
        f->log_fd = -1;
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* stalls ignore clock jumps */
        pthread_cond_init(&f->wake, &attr);
        pthread_condattr_destroy(&attr);
        pthread_mutex_init(&f->lock, NULL);

        char *log_path = NULL;
        int r = atomicity_config(host, &f->atomicity);
        if (r >= 0)
                r = config_copy(host, "volumes", &f->volumes);
        if (r >= 0)
                r = config_copy(host, "control", &f->control);
        if (r >= 0)
                r = config_copy(host, "state", &f->state_path);
        if (r >= 0)
                r = config_copy(host, "log", &log_path);
        if (r >= 0 && log_path) {
                f->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (f->log_fd < 0) {
                        r = -errno;
                        if (host && host->log)
                                host->log(LOG_ERR, FAKE_WHO "cannot open log file %s: %s",
                                          log_path, strerror(-r));
                }
        }
        free(log_path);
        if (r < 0) {
                fake_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

static struct vss_provider_ops fake_ops;

static int fake_init(const struct vss_provider_host *host, void **ret_state)
{
        struct fake *f;
        struct vss_error_buf err = { "" };
        struct line line;
        int r = fake_new(host, &f);
        if (r < 0)
                return r;
        r = op_begin(f, line_start(&line, "init", NULL, NULL), NULL, &err);
        if (r < 0) {
                if (host && host->log)
                        host->log(LOG_ERR, "%s", err.message);
                fake_free(f);
                return r;
        }
        if (f->state_path && (r = state_load(f, &err)) < 0) {
                op_end(f, r);
                if (host && host->log)
                        host->log(LOG_ERR, "%s", err.message);
                fake_free(f);
                return r;
        }
        op_end(f, 0);
        const char *storage = host && host->config_get ? host->config_get(FAKE_NAME, "storage")
                                                       : NULL;
        bool none = storage && strcmp(storage, "none") == 0;
        fake_ops.list_storage = none ? NULL : fake_list_storage;
        fake_ops.set_storage = none ? NULL : fake_set_storage;
        fake_ops.add_storage = none ? NULL : fake_add_storage;
        fake_ops.remove_storage = none ? NULL : fake_remove_storage;
        *ret_state = f;
        return 0;
}

/* Not const: "storage=none" takes the storage ops away (see the top). */
static struct vss_provider_ops fake_ops = {
        .init = fake_init,
        .fini = fake_fini,
        .is_volume_supported = fake_is_volume_supported,
        .prepare = fake_prepare,
        .hold = fake_hold,
        .commit = fake_commit,
        .release = fake_release,
        .finish = fake_finish,
        .abort = fake_abort,
        .delete_snapshot = fake_delete_snapshot,
        .query = fake_query,
        .expose = fake_expose,
        .unexpose = fake_unexpose,
        .revert = fake_revert,
        .recover = fake_recover,
        .monitor = fake_monitor,
        .enable_volume = fake_enable_volume,
        .disable_volume = fake_disable_volume,
        .list_storage = fake_list_storage,
        .set_storage = fake_set_storage,
        .add_storage = fake_add_storage,
        .remove_storage = fake_remove_storage,
};

__attribute__((visibility("default")))
const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = FAKE_NAME,
        .id = FAKE_ID,
        .version = "1.0",
        .priority = 100,
        .description = "In-memory provider for tests: no device-mapper, faults on demand",
        .ops = &fake_ops,
};
