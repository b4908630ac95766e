/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * expose.h: mount a snapshot read-only where an administrator can read it.
 *
 * The snapshot of a file system is a second copy of it, with the same UUID
 * and, when it was taken live, a journal that needs replaying. So the
 * file system type is probed with libblkid and each type gets the options
 * that let a read-only copy mount beside its origin: xfs "nouuid,norecovery",
 * ext3/ext4 "noload". A type that cannot (btrfs refuses a second device with
 * the same fsid while the origin is mounted) is refused with the reason.
 */
#ifndef VSS_PROVIDERS_COMMON_EXPOSE_H
#define VSS_PROVIDERS_COMMON_EXPOSE_H

#include <stddef.h>

#include <vss/provider.h>

/*
 * The file system type on DEVICE ("ext4", "xfs", ...) into BUF, probed with
 * libblkid. -ENODATA if there is none, -ENOTUNIQ if signatures of several
 * file systems make it ambiguous, -EIO if the device cannot be read,
 * -ENAMETOOLONG if BUF is too small; a sentence naming DEVICE in ERR.
 */
int expose_probe(const char *device, char *buf, size_t size, struct vss_error_buf *err);
/*
 * The mount options for a read-only copy of a file system of TYPE ("" when
 * it needs none: ext2, vfat, exfat); NULL if such a copy cannot be mounted
 * beside its origin (btrfs) or the type is unknown.
 */
const char *expose_options(const char *type);
/*
 * Mount DEVICE read-only, nodev, nosuid and noexec at MOUNT_POINT, an
 * absolute path, made (mode 0755, with its parents) if missing; it must be
 * an empty directory and not a mount point already. Fails with
 * expose_probe()'s codes, -EOPNOTSUPP for a type expose_options() has no
 * options for, -EINVAL for a relative MOUNT_POINT, -EBUSY if it is a mount
 * point, -ENOTEMPTY if it holds files, or mount(2)'s -errno (-EBUSY: DEVICE
 * is mounted read-write elsewhere); then nothing is mounted, and a directory
 * this call made is removed again (not the parents it made).
 */
int expose_mount(const char *device, const char *mount_point, struct vss_error_buf *err);
/*
 * Unmount MOUNT_POINT, not lazily: -EBUSY, with the reason, if a process has
 * files open there; -EINVAL if nothing is mounted there (or the directory is
 * missing). Then removes the directory if it is empty.
 */
int expose_unmount(const char *mount_point, struct vss_error_buf *err);
/*
 * Where the block device MAJOR:MINOR is mounted, unescaped (the first such
 * line of /proc/self/mountinfo); -ENOENT if nowhere, -ENAMETOOLONG if BUF is
 * too small.
 */
int expose_find(unsigned major, unsigned minor, char *buf, size_t size);

#endif
