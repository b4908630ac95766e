/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c: the lvm provider's descriptor, its configuration ([provider.lvm]
 * in vssd.conf, see vss-lvm(8)) and the op table, which hands each op to the
 * file of its concern.
 *
 * Where the lvm program is missing the provider still loads, takes no
 * volume (saying why) and has no snapshots: vssd loads every provider it
 * finds, on machines with LVM or without.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "providers/common/util.h"
#include "providers/lvm/lvm.h"

#define DEFAULT_BINARY "/sbin/lvm"
/* tmpfs: a journal must outlive vssd, never wait on a frozen volume, and go at a reboot. */
#define DEFAULT_JOURNAL_DIR "/run/vss/lvm"
/*
 * Always: LVM must not read a device another provider's window suspended
 * (lvs would wait for the resume). The administrator's lvm_config follows.
 */
#define BUILTIN_CONFIG "devices{ignore_suspended_devices=1}"

static const char *config_get(Lvm *lvm, const char *key, const char *fallback)
{
        const char *v = lvm->host->config_get ? lvm->host->config_get(LVM_PROVIDER_NAME, key)
                                              : NULL;
        return v ? v : fallback;
}

static int config_error(const char *key, const char *value, const char *what)
{
        provider_log(LOG_ERR, "[provider.%s] %s = %s: %s", LVM_PROVIDER_NAME, key, value, what);
        return -EINVAL;
}

static int config_load(Lvm *lvm)
{
        const char *grow = config_get(lvm, "grow_at_percent", "75");
        const char *extra = config_get(lvm, "lvm_config", "");
        char *end;

        if (provider_printf(lvm->binary, sizeof(lvm->binary), "%s",
                            config_get(lvm, "lvm_binary", DEFAULT_BINARY)) < 0 ||
            provider_printf(lvm->config, sizeof(lvm->config), "%s%s%s", BUILTIN_CONFIG,
                            extra[0] ? " " : "", extra) < 0 ||
            provider_printf(lvm->journal_dir, sizeof(lvm->journal_dir), "%s",
                            config_get(lvm, "journal_dir", DEFAULT_JOURNAL_DIR)) < 0 ||
            provider_printf(lvm->initial_size, sizeof(lvm->initial_size), "%s",
                            config_get(lvm, "initial_size", "20%")) < 0 ||
            provider_printf(lvm->max_size, sizeof(lvm->max_size), "%s",
                            config_get(lvm, "max_size", "unbounded")) < 0)
                return config_error("(a setting)", "...", "too long");
        if (lvm->journal_dir[0] != '/')
                return config_error("journal_dir", lvm->journal_dir, "use an absolute path, on "
                                    "tmpfs (default " DEFAULT_JOURNAL_DIR ")");
        if (lvm->binary[0] != '/')
                return config_error("lvm_binary", lvm->binary, "use an absolute path");
        lvm->grow_at_percent = (unsigned)strtoul(grow, &end, 10);
        if (*end || !grow[0] || lvm->grow_at_percent < 10 || lvm->grow_at_percent > 95)
                return config_error("grow_at_percent", grow, "use 10..95");
        return 0;
}

static int lvm_init(const struct vss_provider_host *host, void **ret_state)
{
        Lvm *lvm = calloc(1, sizeof(*lvm));
        int r;

        if (!lvm)
                return -ENOMEM;
        lvm->host = host;
        provider_set_logger(host->log);
        dm_log_setup();
        pthread_mutex_init(&lvm->lock, NULL);
        if ((r = config_load(lvm)) < 0) {
                pthread_mutex_destroy(&lvm->lock);
                free(lvm);
                return r;
        }
        *ret_state = lvm;
        return 0;
}

static void lvm_fini(void *state)
{
        Lvm *lvm = state;

        lvm_free_sets(lvm);
        pthread_mutex_destroy(&lvm->lock);
        free(lvm);
}

/* Is LVM here at all? Without it there is nothing to take and nothing to report. */
static bool lvm_present(Lvm *lvm)
{
        return access(lvm->binary, X_OK) == 0;
}

static int op_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        LvmVolume v;
        int r = lvm_volume_examine(state, volume, &v, err);

        /* lvm_volume_examine() runs no tool for a volume that is not an LV. */
        if (r < 0 && !lvm_present(state))
                return provider_error(err, 0, "%s: the LVM tools (%s) are not installed",
                                      volume, ((Lvm *)state)->binary);
        return r;
}

static int op_prepare(void *state, struct vss_set_request *set, struct vss_error_buf *err)
{
        return lvm_prepare(state, set, err);
}

static int op_hold(void *state, const char *set_id, struct vss_error_buf *err)
{
        return lvm_hold(state, set_id, err);
}

static int op_commit(void *state, const char *set_id, struct vss_error_buf *err)
{
        return lvm_commit(state, set_id, err);
}

static int op_release(void *state, const char *set_id, struct vss_error_buf *err)
{
        return lvm_release(state, set_id, err);
}

static int op_finish(void *state, const char *set_id, struct vss_error_buf *err)
{
        return lvm_finish(state, set_id, err);
}

static int op_abort(void *state, const char *set_id, struct vss_error_buf *err)
{
        return lvm_abort(state, set_id, err);
}

static int op_delete(void *state, const char *id, struct vss_error_buf *err)
{
        return lvm_delete(state, id, err);
}

static int op_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        return lvm_present(state) ? lvm_query(state, cb, userdata, err) : 0;
}

static int op_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                      struct vss_error_buf *err)
{
        return lvm_present(state) ? lvm_monitor(state, cb, userdata, err) : 0;
}

static int op_expose(void *state, const char *id, const char *mount_point,
                     struct vss_error_buf *err)
{
        return lvm_expose(state, id, mount_point, err);
}

static int op_unexpose(void *state, const char *id, struct vss_error_buf *err)
{
        return lvm_unexpose(state, id, err);
}

static int op_revert(void *state, const char *id, struct vss_error_buf *err)
{
        return lvm_revert(state, id, err);
}

static int op_recover(void *state, struct vss_error_buf *err)
{
        return lvm_present(state) ? lvm_recover(state, err) : 0;
}

static int op_list_storage(void *state, vss_storage_cb cb, void *userdata,
                           struct vss_error_buf *err)
{
        return lvm_present(state) ? lvm_list_storage(state, cb, userdata, err) : 0;
}

static int op_set_storage(void *state, const char *volume, const char *max_size,
                          const char *diff_area, struct vss_error_buf *err)
{
        return lvm_set_storage(state, volume, max_size, diff_area, err);
}

static const struct vss_provider_ops lvm_ops = {
        .init = lvm_init,
        .fini = lvm_fini,
        .is_volume_supported = op_is_volume_supported,
        .prepare = op_prepare,
        .hold = op_hold,
        .commit = op_commit,
        .release = op_release,
        .finish = op_finish,
        .abort = op_abort,
        .delete_snapshot = op_delete,
        .query = op_query,
        .expose = op_expose,
        .unexpose = op_unexpose,
        .revert = op_revert,
        .recover = op_recover,
        .monitor = op_monitor,
        .list_storage = op_list_storage,
        .set_storage = op_set_storage,
};

VSS_EXPORT const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = LVM_PROVIDER_NAME,
        .id = "8f3e2a61-4b7c-4d19-a5e0-6c2d9b1f7a34",
        .version = VSS_VERSION,
        .priority = 200,
        .description = "LVM logical volumes: thin snapshots of thin LVs, classic snapshots "
                       "of linear and striped LVs, all made through the LVM tools",
        .ops = &lvm_ops,
};
