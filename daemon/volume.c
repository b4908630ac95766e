/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volume.c: canonical volume names, from sysfs and the mount table.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "daemon/volume.h"

static int copy_name(char *buf, size_t size, const char *prefix, const char *name)
{
        int n = snprintf(buf, size, "%s%s", prefix, name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Read the first line of FILE into BUF, without its newline. */
static bool read_line(const char *file, char *buf, size_t size)
{
        FILE *f = fopen(file, "re");
        if (!f)
                return false;
        bool ok = fgets(buf, (int)size, f) != NULL;
        fclose(f);
        if (ok)
                buf[strcspn(buf, "\n")] = '\0';
        return ok && buf[0];
}

/* The block device DEV as /dev/mapper/<name> or /dev/<kernel name>; -ENODEV if none. */
static int block_device_name(dev_t dev, char *buf, size_t size)
{
        char sys[128], name[256], target[PATH_MAX];

        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm/name", major(dev), minor(dev));
        if (read_line(sys, name, sizeof(name)))
                return copy_name(buf, size, "/dev/mapper/", name);
        snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(dev), minor(dev));
        if (!realpath(sys, target))
                return -ENODEV;
        return copy_name(buf, size, "/dev/", basename(target));
}

int volume_canonicalize(const char *volume, char *buf, size_t size)
{
        struct stat st;

        if (stat(volume, &st) == 0 && S_ISBLK(st.st_mode) &&
            block_device_name(st.st_rdev, buf, size) >= 0)
                return 0;
        return copy_name(buf, size, "", volume);
}

/* The source of the mount of device DEV, from /proc/self/mountinfo. */
static int mount_source(dev_t dev, char *buf, size_t size)
{
        char want[32], line[4096];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        int r = -ENODEV;

        if (!f)
                return -errno;
        snprintf(want, sizeof(want), "%u:%u", major(dev), minor(dev));
        while (r == -ENODEV && fgets(line, sizeof(line), f)) {
                char id[32], *sep = strstr(line, " - ");
                /* "36 35 98:0 /root /mnt ... - ext3 /dev/root rw" */
                if (sscanf(line, "%*s %*s %31s", id) != 1 || strcmp(id, want) != 0 || !sep)
                        continue;
                char source[PATH_MAX];
                if (sscanf(sep + 3, "%*s %4095s", source) == 1)
                        r = volume_canonicalize(source, buf, size);
        }
        fclose(f);
        return r;
}

int volume_of_path(const char *path, char *buf, size_t size)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (block_device_name(st.st_dev, buf, size) >= 0)
                return 0;
        return mount_source(st.st_dev, buf, size);
}
