/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c: the dm-thin provider's descriptor, its configuration
 * ([provider.dm-thin] in vssd.conf, see vss-dm-thin(8)), start (pools,
 * volumes and persistent snapshots brought back) and the op table, which
 * hands each op to the file of its concern.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "providers/common/util.h"
#include "providers/dm-thin/thin.h"

#define DEFAULT_STATE_DIR "/var/lib/vss/dm-thin"
/* tmpfs: a journal must outlive vssd, never wait on a frozen volume, and go at a reboot. */
#define DEFAULT_JOURNAL_DIR "/run/vss/dm-thin"
#define DEFAULT_HIGH_WATER "90"

const char *thin_config(DmThin *dt, const char *key, const char *name)
{
        char per[256];
        const char *v = NULL;

        if (!dt->host->config_get)
                return NULL;
        if (name && provider_printf(per, sizeof(per), "%s.%s", key, name) == 0)
                v = dt->host->config_get(THIN_NAME, per);
        return v ? v : dt->host->config_get(THIN_NAME, key);
}

int thin_dm_name(char *buf, size_t size, const char *prefix, const char *name)
{
        return provider_printf(buf, size, "%s%s", prefix, name);
}

bool thin_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > THIN_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               n;
}

uint64_t thin_now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int thin_journal_open(DmThin *dt, Journal *j, const char *prefix, const char *id,
                      struct vss_error_buf *err)
{
        return journal_open_for(j, THIN_NAME, dt->journal_dir, prefix, id, err);
}

static int config_load(DmThin *dt)
{
        const char *state = thin_config(dt, "state_dir", NULL);
        const char *journal = thin_config(dt, "journal_dir", NULL);
        const char *hw = thin_config(dt, "high_water_percent", NULL);
        char *end;

        if (provider_printf(dt->state_dir, sizeof(dt->state_dir), "%s",
                            state ? state : DEFAULT_STATE_DIR) < 0 ||
            provider_printf(dt->journal_dir, sizeof(dt->journal_dir), "%s",
                            journal ? journal : DEFAULT_JOURNAL_DIR) < 0)
                return -ENAMETOOLONG;
        if (dt->state_dir[0] != '/' || dt->journal_dir[0] != '/') {
                provider_log(LOG_ERR, "[provider.%s] state_dir and journal_dir must be absolute "
                             "paths (journal_dir on tmpfs)", THIN_NAME);
                return -EINVAL;
        }
        hw = hw ? hw : DEFAULT_HIGH_WATER;
        dt->high_water = (unsigned)strtoul(hw, &end, 10);
        if (*end || end == hw || dt->high_water < 50 || dt->high_water > 98) {
                provider_log(LOG_ERR, "[provider.%s] high_water_percent = %s: use 50..98",
                             THIN_NAME, hw);
                return -EINVAL;
        }
        return 0;
}

static int activate_volume(const void *rec, void *userdata)
{
        const VolumeRecord *v = rec;
        struct vss_error_buf err;

        if (volume_activate(userdata, v, &err) < 0)
                provider_log(LOG_ERR, "cannot activate thin volume %s: %s", v->name, err.message);
        return 0;
}

static int thin_init(const struct vss_provider_host *host, void **ret_state)
{
        DmThin *dt = calloc(1, sizeof(*dt));
        int r;

        if (!dt)
                return -ENOMEM;
        dt->host = host;
        provider_set_logger(host->log);
        dm_log_setup();
        pthread_mutex_init(&dt->lock, NULL);
        if ((r = config_load(dt)) < 0) {
                pthread_mutex_destroy(&dt->lock);
                free(dt);
                return r;
        }
        /* After a reboot nothing is active: pools first, then what lives in them. */
        pool_activate_all(dt);
        record_foreach(dt->state_dir, RECORD_VOLUME, activate_volume, dt);
        snap_activate_all(dt);
        *ret_state = dt;
        return 0;
}

static void thin_fini(void *state)
{
        DmThin *dt = state;

        thin_flush_sets(dt);
        thin_free_sets(dt);
        pthread_mutex_destroy(&dt->lock);
        free(dt);
}

static int op_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        VolumeRecord v;
        DmInfo info;

        return volume_examine(state, volume, &v, &info, err);
}

static int op_prepare(void *state, struct vss_set_request *set, struct vss_error_buf *err)
{
        return thin_prepare(state, set, err);
}

static int op_hold(void *state, const char *set_id, struct vss_error_buf *err)
{
        return thin_hold(state, set_id, err);
}

static int op_commit(void *state, const char *set_id, struct vss_error_buf *err)
{
        return thin_commit(state, set_id, err);
}

static int op_release(void *state, const char *set_id, struct vss_error_buf *err)
{
        return thin_release(state, set_id, err);
}

static int op_abort(void *state, const char *set_id, struct vss_error_buf *err)
{
        return thin_abort(state, set_id, err);
}

static int op_delete(void *state, const char *id, struct vss_error_buf *err)
{
        return thin_delete(state, id, err);
}

static int op_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        return thin_query(state, cb, userdata, err);
}

static int op_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                      struct vss_error_buf *err)
{
        return thin_monitor(state, cb, userdata, err);
}

static int op_expose(void *state, const char *id, const char *mount_point,
                     struct vss_error_buf *err)
{
        return thin_expose(state, id, mount_point, err);
}

static int op_unexpose(void *state, const char *id, struct vss_error_buf *err)
{
        return thin_unexpose(state, id, err);
}

static int op_revert(void *state, const char *id, struct vss_error_buf *err)
{
        return thin_revert(state, id, err);
}

static int op_recover(void *state, struct vss_error_buf *err)
{
        return thin_recover(state, err);
}

static int op_enable(void *state, const char *device, const struct vss_option *options,
                     size_t n_options, char *volume, size_t size, struct vss_error_buf *err)
{
        return volume_enable(state, device, options, n_options, volume, size, err);
}

static int op_disable(void *state, const char *volume, struct vss_error_buf *err)
{
        return volume_disable(state, volume, err);
}

static int op_list_storage(void *state, vss_storage_cb cb, void *userdata,
                           struct vss_error_buf *err)
{
        return pool_list_storage(state, cb, userdata, err);
}

/* Thin volumes have no per-volume store to bound: their snapshots share the pool. */
static int op_set_storage(void *state, const char *volume, const char *max_size,
                          const char *diff_area, struct vss_error_buf *err)
{
        (void)state, (void)max_size, (void)diff_area;
        return provider_error(err, -EOPNOTSUPP, "%s: dm-thin keeps no diff area or maximum per "
                              "volume; its snapshots share their pool, which grows up to "
                              "[provider.dm-thin] max_data_size and drops its oldest snapshot "
                              "when full (see vss-dm-thin(8))", volume);
}

static int op_add_storage(void *state, const char *name, const struct vss_option *options,
                          size_t n_options, struct vss_error_buf *err)
{
        return pool_add(state, name, options, n_options, err);
}

static int op_remove_storage(void *state, const char *name, struct vss_error_buf *err)
{
        return pool_remove(state, name, err);
}

static const struct vss_provider_ops thin_ops = {
        .init = thin_init,
        .fini = thin_fini,
        .is_volume_supported = op_is_volume_supported,
        .prepare = op_prepare,
        .hold = op_hold,
        .commit = op_commit,
        .release = op_release,
        .abort = op_abort,
        .delete_snapshot = op_delete,
        .query = op_query,
        .expose = op_expose,
        .unexpose = op_unexpose,
        .revert = op_revert,
        .recover = op_recover,
        .monitor = op_monitor,
        .enable_volume = op_enable,
        .disable_volume = op_disable,
        .list_storage = op_list_storage,
        .set_storage = op_set_storage,
        .add_storage = op_add_storage,
        .remove_storage = op_remove_storage,
};

VSS_EXPORT const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = THIN_NAME,
        .id = "8e3b2a41-6c0d-4f57-9a1e-2d7c5b9f0e63",
        .version = VSS_VERSION,
        .priority = 300,
        .description = "device-mapper thin snapshots (create_snap in pools linux-vss makes "
                       "from devices or files)",
        .ops = &thin_ops,
};
