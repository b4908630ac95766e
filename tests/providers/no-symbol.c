/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-symbol.c: a test plugin that loads fine with dlopen() but does not export
 * VSS_PROVIDER_SYMBOL ("vss_provider_v4"), so vssd's missing-symbol path is
 * exercised: it must refuse the file with a message naming it and the symbol,
 * and go on loading the other providers. Never installed.
 *
 * What it does export is the likeliest mistake: a descriptor under the
 * unversioned name "vss_provider". Its ops are NULL because no one may use it.
 */
#include <vss/provider.h>

__attribute__((visibility("default")))
const struct vss_provider vss_provider = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .name = "no-symbol",
        .id = "0e6a4d2c-8b51-4f3e-a7c9-1d2b3c4e5f60",
        .version = "1.0",
        .description = "Test plugin exporting the descriptor under the wrong name",
        .ops = NULL,
};
