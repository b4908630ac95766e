/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.h: one name per volume. Requesters may name a volume by any of its
 * device nodes (/dev/mapper/data, /dev/dm-3, a udev symlink) and writers name
 * files; the core compares volumes as strings, so both are turned into the
 * same canonical name first: /dev/mapper/<name> for device-mapper devices,
 * /dev/<kernel name> for other block devices.
 */
#ifndef VSS_DAEMON_VOLUME_H
#define VSS_DAEMON_VOLUME_H

#include <stddef.h>

/*
 * The canonical name of VOLUME into BUF. A path that is not a block device
 * (it may not exist here at all: a provider may know volumes by other names)
 * is copied unchanged, so that the providers judge it. -ENAMETOOLONG.
 */
int volume_canonicalize(const char *volume, char *buf, size_t size);

/*
 * The canonical name of the volume holding PATH (a file or directory) into
 * BUF; for file systems without a block device of their own (btrfs
 * subvolumes, overlay, tmpfs) the source of the mount. -errno of stat(), or
 * -ENODEV when nothing is mounted from that device.
 */
int volume_of_path(const char *path, char *buf, size_t size);

#endif
