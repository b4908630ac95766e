/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c: the dm-snapshot provider's descriptor, its configuration
 * ([provider.dm-snapshot] in vssd.conf, see vss-dm-snapshot(8)) and the op
 * table, which hands each op to the file of its concern.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "providers/dm-snapshot/dmsnap.h"
#include "providers/common/size.h"
#include "providers/common/store.h"
#include "providers/common/util.h"

#define DEFAULT_STATE_DIR "/var/lib/vss"
/* Read at boot before /var may be mounted (systemd/vss-wrappers): on the root file system. */
#define DEFAULT_ENABLED_DIR VSS_SYSCONF_DIR "/vss/enabled"
#define DEFAULT_INITIAL_SIZE "10%"
/* tmpfs: a journal must outlive vssd, never wait on a frozen volume, and go at a reboot. */
#define DEFAULT_JOURNAL_DIR "/run/vss/dm-snapshot"

static const char *config_get(DmSnap *dm, const char *key, const char *fallback)
{
        const char *v = dm->host->config_get ? dm->host->config_get(DMSNAP_NAME, key) : NULL;
        return v ? v : fallback;
}

const char *dmsnap_config_volume(DmSnap *dm, const char *key, const char *name)
{
        char per_volume[256];
        const char *v = NULL;

        if (provider_printf(per_volume, sizeof(per_volume), "%s.%s", key, name) == 0)
                v = config_get(dm, per_volume, NULL);
        return v ? v : config_get(dm, key, NULL);
}

int dmsnap_store_sizes(DmSnap *dm, const char *name, uint64_t bytes, uint64_t *initial,
                       uint64_t *max, struct vss_error_buf *err)
{
        const char *init = dmsnap_config_volume(dm, "initial_size", name);
        const char *limit = dmsnap_max_size(dm, name);

        if (!init)
                init = DEFAULT_INITIAL_SIZE;
        if (size_parse(init, bytes, initial) < 0 || *initial == SIZE_UNBOUNDED)
                return provider_error(err, -EINVAL, "[provider.%s] initial_size = %s is not a "
                                      "size; write it as 512M, 2G or 10%% (of the volume) in "
                                      "vssd.conf", DMSNAP_NAME, init);
        /* Settings made at run time were checked then: only vssd.conf's can be wrong. */
        if (size_parse(limit, bytes, max) < 0)
                return provider_error(err, -EINVAL, "[provider.%s] max_size = %s is not a size; "
                                      "write it as 512M, 2G, 10%% (of the volume) or unbounded "
                                      "in vssd.conf", DMSNAP_NAME, limit);
        if (*max < MIN_STORE_BYTES)
                *max = MIN_STORE_BYTES;
        if (*initial < MIN_STORE_BYTES)
                *initial = MIN_STORE_BYTES;
        if (*initial > *max)
                *initial = *max;
        return 0;
}

static int config_load(DmSnap *dm)
{
        const char *state = config_get(dm, "state_dir", DEFAULT_STATE_DIR);
        const char *grow = config_get(dm, "grow_at_percent", "75");
        char *end;

        if (provider_printf(dm->state_dir, sizeof(dm->state_dir), "%s", state) < 0 ||
            provider_printf(dm->enabled_dir, sizeof(dm->enabled_dir), "%s",
                            config_get(dm, "enabled_dir", DEFAULT_ENABLED_DIR)) < 0 ||
            provider_printf(dm->diff_area, sizeof(dm->diff_area), "%s",
                            config_get(dm, "diff_area", "")) < 0 ||
            provider_printf(dm->journal_dir, sizeof(dm->journal_dir), "%s",
                            config_get(dm, "journal_dir", DEFAULT_JOURNAL_DIR)) < 0)
                return -ENAMETOOLONG;
        if (dm->journal_dir[0] != '/') {
                provider_log(LOG_ERR, "[provider.%s] journal_dir = %s: use an absolute path, on "
                             "tmpfs (default " DEFAULT_JOURNAL_DIR ")", DMSNAP_NAME,
                             dm->journal_dir);
                return -EINVAL;
        }
        if (!dm->diff_area[0])
                snprintf(dm->diff_area, sizeof(dm->diff_area), "%s/diff", state);
        dm->grow_at_percent = (unsigned)strtoul(grow, &end, 10);
        if (*end || dm->grow_at_percent < 10 || dm->grow_at_percent > 95) {
                provider_log(LOG_ERR, "[provider.%s] grow_at_percent = %s: use 10..95",
                             DMSNAP_NAME, grow);
                return -EINVAL;
        }
        /* 4 KiB: the page size, so a small write copies no more than it must. */
        dm->chunk_sectors = 8;
        return 0;
}

static int dmsnap_init(const struct vss_provider_host *host, void **ret_state)
{
        DmSnap *dm = calloc(1, sizeof(*dm));
        int r;

        if (!dm)
                return -ENOMEM;
        dm->host = host;
        provider_set_logger(host->log);
        dm_log_setup();
        pthread_mutex_init(&dm->lock, NULL);
        if ((r = config_load(dm)) < 0 || (r = dmsnap_storage_load(dm)) < 0) {
                dmsnap_storage_free(dm);
                pthread_mutex_destroy(&dm->lock);
                free(dm);
                return r;
        }
        *ret_state = dm;
        return 0;
}

static void dmsnap_fini(void *state)
{
        DmSnap *dm = state;

        dmsnap_flush_sets(dm);
        dmsnap_free_sets(dm);
        dmsnap_storage_free(dm);
        pthread_mutex_destroy(&dm->lock);
        free(dm);
}

static int op_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        DmSnap *dm = state;
        Origin origin;
        int r = origin_examine(volume, &origin, err);

        if (r <= 0)
                return r;
        /* Refuse now, not at DoSnapshotSet, when the diff area lies on this volume. */
        dev_t dev = makedev(origin.info.major, origin.info.minor);
        return store_dir_check(dmsnap_diff_area(dm, origin.info.name), &dev, 1, err) < 0 ? 0
                                                                                          : 1;
}

static int op_prepare(void *state, struct vss_set_request *set, struct vss_error_buf *err)
{
        return dmsnap_prepare(state, set, err);
}

static int op_hold(void *state, const char *set_id, struct vss_error_buf *err)
{
        return dmsnap_hold(state, set_id, err);
}

static int op_commit(void *state, const char *set_id, struct vss_error_buf *err)
{
        return dmsnap_commit(state, set_id, err);
}

static int op_release(void *state, const char *set_id, struct vss_error_buf *err)
{
        return dmsnap_release(state, set_id, err);
}

static int op_abort(void *state, const char *set_id, struct vss_error_buf *err)
{
        return dmsnap_abort(state, set_id, err);
}

static int op_delete(void *state, const char *id, struct vss_error_buf *err)
{
        return dmsnap_delete(state, id, err);
}

static int op_query(void *state, vss_snapshot_cb cb, void *userdata, struct vss_error_buf *err)
{
        return dmsnap_query(state, cb, userdata, err);
}

static int op_monitor(void *state, vss_snapshot_cb cb, void *userdata,
                      struct vss_error_buf *err)
{
        return dmsnap_monitor(state, cb, userdata, err);
}

static int op_expose(void *state, const char *id, const char *mount_point,
                     struct vss_error_buf *err)
{
        return dmsnap_expose(state, id, mount_point, err);
}

static int op_unexpose(void *state, const char *id, struct vss_error_buf *err)
{
        return dmsnap_unexpose(state, id, err);
}

static int op_revert(void *state, const char *id, struct vss_error_buf *err)
{
        return dmsnap_revert(state, id, err);
}

static int op_recover(void *state, struct vss_error_buf *err)
{
        return dmsnap_recover(state, err);
}

static int op_enable(void *state, const char *device, const struct vss_option *options,
                     size_t n_options, char *volume, size_t size, struct vss_error_buf *err)
{
        /* "Not mine": without a named provider, vssd asks the next one. */
        if (n_options > 0)
                return provider_error(err, -VSS_E_VOLUME_NOT_SUPPORTED, "dm-snapshot takes no "
                                      "option such as '%s' (it wraps DEVICE as it is)",
                                      options[0].key);
        return dmsnap_enable(state, device, volume, size, err);
}

static int op_disable(void *state, const char *volume, struct vss_error_buf *err)
{
        return dmsnap_disable(state, volume, err);
}

static int op_list_storage(void *state, vss_storage_cb cb, void *userdata,
                           struct vss_error_buf *err)
{
        return dmsnap_list_storage(state, cb, userdata, err);
}

static int op_set_storage(void *state, const char *volume, const char *max_size,
                          const char *diff_area, struct vss_error_buf *err)
{
        return dmsnap_set_storage(state, volume, max_size, diff_area, err);
}

static const struct vss_provider_ops dmsnap_ops = {
        .init = dmsnap_init,
        .fini = dmsnap_fini,
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
};

VSS_EXPORT const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = DMSNAP_NAME,
        .id = "5d1c3f7e-8a2b-4c6d-9e0f-1a2b3c4d5e6f",
        .version = VSS_VERSION,
        .priority = 100,
        .description = "device-mapper snapshots (snapshot-origin over a copy-on-write store "
                       "on a loop device)",
        .ops = &dmsnap_ops,
};
