/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * origin.h: which volumes the provider can snapshot, and the names it gives
 * the devices it stacks on them.
 *
 * An origin is a device-mapper device whose table is linear or striped (the
 * provider copies that table to ORIGIN-real and makes ORIGIN a
 * snapshot-origin over it), or one it already made a snapshot-origin. LVM
 * logical volumes (LVM must stay the owner of their tables), encrypted and
 * multipath devices, the provider's own devices and plain block devices
 * (they need "vssctl enable" first) are refused with the reason.
 */
#ifndef VSS_DMSNAP_ORIGIN_H
#define VSS_DMSNAP_ORIGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "providers/common/dm.h"

/* DM UUIDs of the provider's devices: DMSNAP_UUID_PREFIX + kind. */
#define UUID_REAL "LVSS-real-"   /* + origin name */
#define UUID_SNAP "LVSS-snap-"   /* + set id - snapshot id - attributes (hex) */
#define UUID_WRAP "LVSS-wrap-"   /* + wrapped device's kernel name */
#define SNAP_NAME_PREFIX "vss-snap-" /* + snapshot id */
#define REAL_SUFFIX "-real"
/* Longest origin name: UUID_REAL + name must fit a DM UUID. */
#define ORIGIN_NAME_MAX (DM_UUID_MAX - 1 - (sizeof(UUID_REAL) - 1))

typedef struct Origin {
        DmInfo info;               /* the origin device */
        char real[DM_NAME_MAX];    /* NAME-real */
        char real_uuid[DM_UUID_MAX];
        bool has_real;             /* already a snapshot-origin over NAME-real */
        uint64_t sectors;          /* its size */
} Origin;

/*
 * Examine VOLUME (a device path): 1 and ORIGIN filled when the provider can
 * snapshot it, 0 with the reason in err when it cannot, <0 on errors.
 */
int origin_examine(const char *volume, Origin *origin, struct vss_error_buf *err);

/* NAME-real of the origin NAME as "major:minor" in BUF, as tables name devices. */
int origin_real_devnum(const char *name, char *buf, size_t size, struct vss_error_buf *err);

/*
 * Put the origin back as it was when its last snapshot is gone: if no
 * snapshot device of the provider refers to NAME-real any more, load
 * NAME-real's table into NAME again (a suspend with lockfs, so the file system
 * sees one consistent switch) and remove NAME-real. Nothing to do: 0.
 */
int origin_restore_if_unused(const char *name, struct vss_error_buf *err);

/* Does any snapshot device (live or inactive table) use the device MAJOR:MINOR as origin? */
int origin_real_in_use(uint32_t major, uint32_t minor, struct vss_error_buf *err);

#endif
