/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * volumes.c: "vssctl list volumes": every block device a snapshot could be
 * taken of (from /sys/class/block: whole disks, partitions, device-mapper
 * devices by their /dev/mapper name, loop devices with a backing file; not
 * ram or zram disks, nor unbound or empty devices), with its size, where it
 * is mounted and which provider would take it: as vssd chooses, the first
 * whose IsVolumeSupported says yes, asked by priority (highest first, ties
 * by name). Under each volume, why not the others: each refusal's reason
 * (what to change), and who else could but comes later.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "output.h"
#include "storage.h"

#define SYS_BLOCK "/sys/class/block"

/* One provider's answer for one volume. */
struct answer {
        const char *provider;
        uint32_t priority;
        bool supported;
        char *reason; /* why not; or why the question failed */
};

struct volume {
        char name[300];   /* canonical path */
        const char *type; /* "disk", "part", "dm", "loop" */
        char devnum[32];  /* "major:minor" */
        uint64_t bytes;
        char *mount_point; /* NULL when not mounted */
        struct answer *answers;
        const char *provider; /* the first that says yes, or NULL */
};

/* The first line of FILE into BUF without its newline; false when unreadable or empty. */
static bool read_line(const char *file, char *buf, size_t size)
{
        FILE *f = fopen(file, "re");
        bool ok = f && fgets(buf, (int)size, f);
        if (f)
                fclose(f);
        if (ok)
                buf[strcspn(buf, "\n")] = '\0';
        return ok && buf[0];
}

static bool sys_attr(const char *name, const char *attr, char *buf, size_t size)
{
        char path[512];
        snprintf(path, sizeof(path), SYS_BLOCK "/%s/%s", name, attr);
        return read_line(path, buf, size);
}

int blockdev_canonical(const char *volume, char *buf, size_t size)
{
        char sys[128], name[256], target[4096];
        struct stat st;
        int n;

        if (stat(volume, &st) == 0 && S_ISBLK(st.st_mode)) {
                snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm/name", major(st.st_rdev),
                         minor(st.st_rdev));
                if (read_line(sys, name, sizeof(name))) {
                        n = snprintf(buf, size, "/dev/mapper/%s", name);
                        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
                }
                snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
                         minor(st.st_rdev));
                const char *base = realpath(sys, target) ? strrchr(target, '/') : NULL;
                if (base) {
                        n = snprintf(buf, size, "/dev/%s", base + 1);
                        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
                }
        }
        n = snprintf(buf, size, "%s", volume);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Fill V for the entry NAME of /sys/class/block; false for what cannot be snapshotted. */
static bool volume_from_sysfs(const char *name, struct volume *v)
{
        char buf[256];

        if (name[0] == '.' || strncmp(name, "ram", 3) == 0 || strncmp(name, "zram", 4) == 0)
                return false;
        if (!sys_attr(name, "size", buf, sizeof(buf)) || strtoull(buf, NULL, 10) == 0 ||
            !sys_attr(name, "dev", v->devnum, sizeof(v->devnum)))
                return false; /* an empty drive, an unbound loop device */
        v->bytes = strtoull(buf, NULL, 10) * 512;
        if (strncmp(name, "loop", 4) == 0) {
                if (!sys_attr(name, "loop/backing_file", buf, sizeof(buf)))
                        return false;
                v->type = "loop";
        } else if (sys_attr(name, "dm/name", buf, sizeof(buf))) {
                snprintf(v->name, sizeof(v->name), "/dev/mapper/%s", buf);
                v->type = "dm";
                return true;
        } else {
                v->type = sys_attr(name, "partition", buf, sizeof(buf)) ? "part" : "disk";
        }
        snprintf(v->name, sizeof(v->name), "/dev/%s", name);
        return true;
}

/* Where DEVNUM is mounted (the first mount of it), from mountinfo; NULL if nowhere. */
static char *mount_point_of(const char *devnum)
{
        char *line = NULL, *found = NULL;
        size_t size = 0;
        FILE *f = fopen("/proc/self/mountinfo", "re");

        while (f && !found && getline(&line, &size, f) > 0) {
                char id[32], mnt[4096];
                /* "36 35 98:0 /root /mnt ..."; spaces in paths are written \040. */
                if (sscanf(line, "%*s %*s %31s %*s %4095s", id, mnt) == 2 &&
                    strcmp(id, devnum) == 0)
                        found = strdup(mnt);
        }
        free(line);
        if (f)
                fclose(f);
        return found;
}

static int volume_compare(const void *a, const void *b)
{
        return strcmp(((const struct volume *)a)->name, ((const struct volume *)b)->name);
}

static void volumes_free(struct volume *v, size_t n, size_t n_providers)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].mount_point);
                for (size_t j = 0; v[i].answers && j < n_providers; j++)
                        free(v[i].answers[j].reason);
                free(v[i].answers);
        }
        free(v);
}

/* Every snapshottable block device, sorted by name. */
static int volumes_scan(struct volume **ret, size_t *ret_n)
{
        DIR *d = opendir(SYS_BLOCK);
        struct volume *v = NULL;
        size_t n = 0;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                struct volume vol = { .name = "" };
                if (!volume_from_sysfs(de->d_name, &vol))
                        continue;
                struct volume *nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        closedir(d);
                        volumes_free(v, n, 0);
                        return -ENOMEM;
                }
                v = nv;
                vol.mount_point = mount_point_of(vol.devnum);
                v[n++] = vol;
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof(*v), volume_compare);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int provider_priority_compare(const void *a, const void *b)
{
        const vss_provider_info *pa = *(vss_provider_info *const *)a;
        const vss_provider_info *pb = *(vss_provider_info *const *)b;
        uint32_t xa = vss_provider_info_get_priority(pa), xb = vss_provider_info_get_priority(pb);

        if (xa != xb)
                return xa > xb ? -1 : 1;
        return strcmp(vss_provider_info_get_name(pa), vss_provider_info_get_name(pb));
}

void providers_sort_by_priority(vss_provider_info **providers, size_t n)
{
        if (n > 1)
                qsort(providers, n, sizeof(*providers), provider_priority_compare);
}

/* Ask every provider about V, by priority; a failed question is kept as its reason. */
static int volume_ask(vss_client *client, struct volume *v, vss_provider_info **providers,
                      size_t n_providers)
{
        v->answers = calloc(n_providers ? n_providers : 1, sizeof(*v->answers));
        if (!v->answers)
                return -ENOMEM;
        for (size_t i = 0; i < n_providers; i++) {
                struct answer *a = &v->answers[i];
                a->provider = vss_provider_info_get_name(providers[i]);
                a->priority = vss_provider_info_get_priority(providers[i]);
                int r = vss_client_is_volume_supported(client, a->provider, v->name,
                                                       &a->supported, &a->reason);
                if (r < 0) {
                        const char *why = vss_client_get_error_message(client);
                        a->reason = strdup(why ? why : vss_strerror(r));
                        if (!a->reason)
                                return -ENOMEM;
                }
                if (a->supported && !v->provider)
                        v->provider = a->provider;
        }
        return 0;
}

/*
 * Under V's row, one line per provider that does not take it: "dm-snapshot:
 * why not", or, for one that could but comes later, who comes first.
 */
static int table_add_reasons(struct table *t, const struct volume *v, size_t n_providers)
{
        const struct answer *taker = NULL;

        for (size_t i = 0; i < n_providers; i++) {
                const struct answer *a = &v->answers[i];
                int r;
                if (a->supported && !taker) {
                        taker = a;
                        continue;
                }
                if (a->supported)
                        r = table_add_notef(t, "%s: can snapshot it too, but %s comes first "
                                            "(priority %u, against %u)", a->provider,
                                            taker->provider, taker->priority, a->priority);
                else
                        r = table_add_notef(t, "%s: %s", a->provider, a->reason ? a->reason : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int volumes_print_table(const struct volume *v, size_t n, size_t n_providers)
{
        static const char *const headers[] = { "VOLUME", "TYPE", "SIZE", "MOUNTED ON",
                                               "PROVIDER" };
        char size[FORMAT_BYTES_MAX];

        if (n == 0) {
                puts("No block devices.");
                return 0;
        }
        if (n_providers == 0)
                puts("vssd has no provider loaded: no volume can be snapshotted (see "
                     "'vssctl status' for where it looks).");
        _cleanup_(table_freep) struct table *t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return -ENOMEM;
        table_set_align(t, 2, TABLE_ALIGN_RIGHT);
        for (size_t i = 0; i < n; i++)
                if (table_add_cell(t, v[i].name) < 0 || table_add_cell(t, v[i].type) < 0 ||
                    table_add_cell(t, format_bytes(size, sizeof(size), v[i].bytes)) < 0 ||
                    table_add_cell(t, v[i].mount_point ? v[i].mount_point : "-") < 0 ||
                    table_add_cell(t, v[i].provider ? v[i].provider : "-") < 0 ||
                    table_add_reasons(t, &v[i], n_providers) < 0)
                        return -ENOMEM;
        return table_print(t, stdout);
}

static int volumes_print_json(const struct volume *v, size_t n, size_t n_providers)
{
        struct json j;

        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        json_array_begin(&j, "volumes");
        for (size_t i = 0; i < n; i++) {
                json_object_begin(&j, NULL);
                json_string(&j, "volume", v[i].name);
                json_string(&j, "type", v[i].type);
                json_uint(&j, "size_bytes", v[i].bytes);
                json_string(&j, "mount_point", v[i].mount_point);
                json_string(&j, "provider", v[i].provider);
                json_array_begin(&j, "providers");
                for (size_t k = 0; k < n_providers; k++) {
                        json_object_begin(&j, NULL);
                        json_string(&j, "name", v[i].answers[k].provider);
                        json_uint(&j, "priority", v[i].answers[k].priority);
                        json_bool(&j, "supported", v[i].answers[k].supported);
                        json_string(&j, "reason", v[i].answers[k].reason
                                                          ? v[i].answers[k].reason : "");
                        json_object_end(&j);
                }
                json_array_end(&j);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_object_end(&j);
        return json_finish(&j);
}

int list_volumes(struct vssctl *ctx, vss_client *client)
{
        _cleanup_(provider_list_freep) vss_provider_info **providers = NULL;
        struct volume *v = NULL;
        size_t n = 0, n_providers = 0;

        int r = vss_client_list_providers(client, &providers, &n_providers);
        if (r < 0)
                return vssctl_fail(ctx, r, "cannot list the providers of vssd");
        providers_sort_by_priority(providers, n_providers);
        r = volumes_scan(&v, &n);
        if (r < 0) {
                fprintf(stderr, "vssctl: cannot list the block devices in " SYS_BLOCK ": %s\n",
                        strerror(-r));
                return EXIT_FAILURE;
        }
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = volume_ask(client, &v[i], providers, n_providers);
        if (r >= 0)
                r = ctx->json ? volumes_print_json(v, n, n_providers)
                              : volumes_print_table(v, n, n_providers);
        volumes_free(v, n, n_providers);
        return vssctl_output_done(r);
}
