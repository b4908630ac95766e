/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wrong-abi.c: a test plugin that is well formed in every way but one: its
 * descriptor claims VSS_PROVIDER_ABI_VERSION + 1, as a plugin built against a
 * newer provider.h would. vssd must refuse it at load time (ProviderAbiMismatch)
 * without calling any op. Never installed.
 *
 * The ops exist so that only the version is wrong; each fails with a message
 * saying the daemon should not have called it, so a loader that skips the
 * check is caught by whichever op it reaches first.
 */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>

#include <vss/provider.h>

#define NOT_REFUSED "wrong-abi provider: called although its ABI version is %d, not %d; " \
                    "vssd should have refused to load it"

static int refused(struct vss_error_buf *err)
{
        if (err)
                snprintf(err->message, sizeof(err->message), NOT_REFUSED,
                         VSS_PROVIDER_ABI_VERSION + 1, VSS_PROVIDER_ABI_VERSION);
        return -ENOEXEC;
}

static int wrong_init(const struct vss_provider_host *host, void **ret_state)
{
        if (host && host->log)
                host->log(LOG_ERR, NOT_REFUSED, VSS_PROVIDER_ABI_VERSION + 1,
                          VSS_PROVIDER_ABI_VERSION);
        return -ENOEXEC;
}

static void wrong_fini(void *state)
{
}

static int wrong_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        return refused(err);
}

static int wrong_prepare(void *state, struct vss_set_request *set,
                         struct vss_error_buf *err)
{
        return refused(err);
}

/* hold, commit, release, abort, delete, unexpose and revert share a signature. */
static int wrong_by_id(void *state, const char *id, struct vss_error_buf *err)
{
        return refused(err);
}

static int wrong_query(void *state, vss_snapshot_cb cb, void *userdata,
                       struct vss_error_buf *err)
{
        return refused(err);
}

static int wrong_expose(void *state, const char *snapshot_id, const char *mount_point,
                        struct vss_error_buf *err)
{
        return refused(err);
}

static int wrong_recover(void *state, struct vss_error_buf *err)
{
        return refused(err);
}

static const struct vss_provider_ops wrong_ops = {
        .init = wrong_init,
        .fini = wrong_fini,
        .is_volume_supported = wrong_is_volume_supported,
        .prepare = wrong_prepare,
        .hold = wrong_by_id,
        .commit = wrong_by_id,
        .release = wrong_by_id,
        .abort = wrong_by_id,
        .delete_snapshot = wrong_by_id,
        .query = wrong_query,
        .expose = wrong_expose,
        .unexpose = wrong_by_id,
        .revert = wrong_by_id,
        .recover = wrong_recover,
};

__attribute__((visibility("default")))
const struct vss_provider vss_provider_v4 = {
        .abi_version = VSS_PROVIDER_ABI_VERSION + 1,
        .name = "wrong-abi",
        .id = "5f0c1b8e-2d47-4c63-9a1e-7b3d9e4f6a21",
        .version = "1.0",
        .description = "Test plugin with a future ABI version; must be refused",
        .ops = &wrong_ops,
};
