/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dm.c: the device-mapper calls of linux-vss's providers (see dm.h).
 *
 * Every libdevmapper task goes through task_new() and task_run(), which turn
 * libdm's 1/0 into 0/-errno (dm_task_get_errno(), -EIO when libdm gives none),
 * and every failure through fail(), which names the step and the device.
 *
 * udev: the resume and remove tasks carry a udev cookie and we wait on it, so
 * the /dev/mapper node is there (or gone) when we return. The create task
 * carries none: DM_DEV_CREATE sends no uevent that would release it. A device created
 * live gets its node from that resume; one created inactive gets it from
 * libdm at once (DM_ADD_NODE_ON_CREATE), as udev's rules make none for a
 * device without a live table. With DM_DISABLE_UDEV=1 (no udev, as in the
 * test VM) libdm makes every node, and dm_udev_wait() is where it does so.
 *
 * The hold window does not use libdm at all: dm_switch_run() is one ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "daemon/util/cleanup.h"
#include "providers/common/dm.h"
#include "providers/common/util.h"

#define DM_CONTROL_PATH "/dev/mapper/control"
#define REMOVE_TRIES 10
#define REMOVE_RETRY_NSEC 100000000L /* 100 ms: long enough for a udev probe */

/* The steps a failure can name: "cannot <step> <device>: <reason>". */
typedef enum DmStep {
        STEP_INFO,
        STEP_TABLE,
        STEP_INACTIVE_TABLE,
        STEP_STATUS,
        STEP_CREATE,
        STEP_LOAD,
        STEP_CLEAR,
        STEP_SUSPEND,
        STEP_RESUME,
        STEP_REMOVE,
        STEP_MESSAGE,
} DmStep;

static const char *const step_text[] = {
        [STEP_INFO] = "read the state of",
        [STEP_TABLE] = "read the table of",
        [STEP_INACTIVE_TABLE] = "read the inactive table of",
        [STEP_STATUS] = "read the status of",
        [STEP_CREATE] = "create",
        [STEP_LOAD] = "load a table into",
        [STEP_CLEAR] = "clear the inactive table of",
        [STEP_SUSPEND] = "suspend",
        [STEP_RESUME] = "resume",
        [STEP_REMOVE] = "remove",
        [STEP_MESSAGE] = "send a message to",
};

/* While set, libdm's error lines are dropped (a remove we are going to retry). */
static bool log_quiet;

static void dm_task_destroyp(struct dm_task **t)
{
        if (*t)
                dm_task_destroy(*t);
}
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)

/* What to do about the usual failures, appended to the sentence. */
static const char *hint(DmStep step, int r)
{
        if (r == -ENAMETOOLONG)
                return " (device-mapper names have at most 127 bytes, uuids 128)";
        if (r == -ENXIO)
                return " (no such device-mapper device)";
        if (r == -EACCES || r == -EPERM)
                return " (device-mapper needs root)";
        if (r != -EBUSY)
                return "";
        switch (step) {
        case STEP_SUSPEND:
                return " (is its file system frozen already? thaw it, or suspend "
                       "without lockfs)";
        case STEP_REMOVE:
                return " (it is still open: unmount it or stop what uses it)";
        case STEP_CREATE:
                return " (a device with this name or uuid exists already)";
        default:
                return "";
        }
}

static int fail(struct vss_error_buf *err, int r, DmStep step, const char *name)
{
        return provider_error(err, r, "cannot %s %s: %s%s", step_text[step], name, strerror(-r),
                              hint(step, r));
}

static int check_name(const char *name)
{
        if (!name || !*name)
                return -EINVAL;
        return strlen(name) < DM_NAME_LEN ? 0 : -ENAMETOOLONG;
}

/* A task of TYPE on NAME (NULL: no device). */
static int task_new(struct dm_task **ret, int type, const char *name)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        if (name && (r = check_name(name)) < 0)
                return r;
        t = dm_task_create(type);
        if (!t)
                return -ENOMEM;
        if (name && !dm_task_set_name(t, name))
                return -EINVAL;
        *ret = TAKE_PTR(t);
        return 0;
}

static int task_run(struct dm_task *t)
{
        int e;

        if (dm_task_run(t))
                return 0;
        e = dm_task_get_errno(t);
        return e > 0 ? -e : -EIO;
}

/*
 * Run T (a resume or remove) with a udev cookie and wait for udev, or for
 * libdm without udev, to finish the /dev/mapper node. Without a cookie (the
 * semaphores ran out) libdm tells udev's rules to keep off and makes the
 * node itself.
 */
static int task_run_synced(struct dm_task *t)
{
        uint32_t cookie = 0;
        int r;

        if (!dm_task_set_cookie(t, &cookie, 0)) {
                provider_log(LOG_WARNING, "no udev cookie; libdevmapper makes the nodes itself");
                r = task_run(t);
                dm_task_update_nodes();
                return r;
        }
        r = task_run(t);
        /* Also after a failure: libdm released the cookie, this destroys it. */
        (void) dm_udev_wait(cookie);
        return r;
}

static void copy_str(char *dst, size_t size, const char *src)
{
        size_t n = src ? strnlen(src, size - 1) : 0;

        memcpy(dst, src ? src : "", n);
        dst[n] = '\0';
}

/* The info of a run INFO task; NAME for a device that does not exist. */
static int info_fill(struct dm_task *t, const char *name, DmInfo *ret)
{
        struct dm_info i;
        DmInfo out = { 0 };

        if (!dm_task_get_info(t, &i))
                return -EIO;
        out.exists = i.exists;
        copy_str(out.name, sizeof(out.name), name);
        if (i.exists) {
                out.suspended = i.suspended;
                out.live_table = i.live_table;
                out.inactive_table = i.inactive_table;
                out.read_only = i.read_only;
                out.open_count = i.open_count;
                out.major = i.major;
                out.minor = i.minor;
                out.event_nr = i.event_nr;
                copy_str(out.name, sizeof(out.name), dm_task_get_name(t));
                copy_str(out.uuid, sizeof(out.uuid), dm_task_get_uuid(t));
        }
        *ret = out;
        return 0;
}

/* --- libdevmapper's log --------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static void log_forward(int level, const char *file,
                                                              int line, int dm_errno_or_class,
                                                              const char *f, ...)
{
        char msg[1024];
        va_list ap;
        int prio;

        level &= 7; /* strip _LOG_STDERR, _LOG_ONCE and the like */
        if (level >= 7 || (log_quiet && level <= 3))
                return;
        prio = level <= 3 ? LOG_ERR : level == 4 ? LOG_WARNING : level == 5 ? LOG_NOTICE
                                                                            : LOG_INFO;
        va_start(ap, f);
        vsnprintf(msg, sizeof(msg), f, ap);
        va_end(ap);
        provider_log(prio, "libdevmapper: %s", msg);
}

void dm_log_setup(void)
{
        dm_log_with_errno_init(log_forward);
}

/* --- information ------------------------------------------------------------- */

int dm_info_get(const char *name, DmInfo *info, struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        r = task_new(&t, DM_DEVICE_INFO, name);
        if (r >= 0)
                r = task_run(t);
        if (r >= 0)
                r = info_fill(t, name, info);
        return r < 0 ? fail(err, r, STEP_INFO, name ? name : "(null)") : 0;
}

int dm_info_by_devnum(uint32_t major, uint32_t minor, DmInfo *info, struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        DmInfo out;
        int r;

        r = task_new(&t, DM_DEVICE_INFO, NULL);
        if (r >= 0 && !dm_task_set_major_minor(t, (int)major, (int)minor, 0))
                r = -EINVAL;
        if (r >= 0)
                r = task_run(t);
        if (r >= 0)
                r = info_fill(t, "", &out);
        if (r < 0)
                return provider_error(err, r, "cannot read the state of device %u:%u: %s", major,
                                      minor, strerror(-r));
        if (!out.exists)
                return provider_error(err, -ENODEV, "device %u:%u is not a device-mapper device",
                                      major, minor);
        *info = out;
        return 0;
}

/* libdm turns the kernel's ENXIO for INFO and STATUS into "exists: no"; undo it. */
static int exists(struct dm_task *t)
{
        struct dm_info i;

        if (!dm_task_get_info(t, &i))
                return -EIO;
        return i.exists ? 0 : -ENXIO;
}

/* The lines a run TABLE or STATUS task returned. */
static int table_collect(struct dm_task *t, DmTable *ret)
{
        _cleanup_(dm_table_free) DmTable out = { 0 };
        void *next = NULL;
        uint64_t start, length;
        char *type, *params;
        int r;

        do {
                type = params = NULL;
                next = dm_get_next_target(t, next, &start, &length, &type, &params);
                if (!type)
                        break;
                if ((r = dm_table_add(&out, start, length, type, params)) < 0)
                        return r;
        } while (next);
        *ret = out;
        out = (DmTable){ 0 };
        return 0;
}

static int table_read(const char *name, int type, bool inactive, DmTable *ret,
                      struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        DmStep step = type == DM_DEVICE_STATUS ? STEP_STATUS
                      : inactive               ? STEP_INACTIVE_TABLE
                                               : STEP_TABLE;
        int r;

        r = task_new(&t, type, name);
        if (r >= 0 && inactive && !dm_task_query_inactive_table(t))
                r = -EIO;
        if (r >= 0)
                r = task_run(t);
        if (r >= 0)
                r = exists(t);
        if (r >= 0)
                r = table_collect(t, ret);
        return r < 0 ? fail(err, r, step, name ? name : "(null)") : 0;
}

int dm_table_get(const char *name, bool inactive, DmTable *ret, struct vss_error_buf *err)
{
        return table_read(name, DM_DEVICE_TABLE, inactive, ret, err);
}

int dm_status_get(const char *name, DmTable *ret, struct vss_error_buf *err)
{
        return table_read(name, DM_DEVICE_STATUS, false, ret, err);
}

/* --- tables -------------------------------------------------------------------- */

void dm_table_free(DmTable *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++)
                free(t->targets[i].params);
        free(t->targets);
        t->targets = NULL;
        t->n = 0;
}

int dm_table_add(DmTable *t, uint64_t start, uint64_t length, const char *type,
                 const char *params)
{
        DmTarget *targets;
        char *p;

        if (!type || strlen(type) >= DM_MAX_TYPE_NAME)
                return -EINVAL;
        p = strdup(params ? params : "");
        if (!p)
                return -ENOMEM;
        targets = realloc(t->targets, (t->n + 1) * sizeof(*targets));
        if (!targets) {
                free(p);
                return -ENOMEM;
        }
        t->targets = targets;
        targets[t->n] = (DmTarget){ .start = start, .length = length, .params = p };
        copy_str(targets[t->n].type, sizeof(targets[t->n].type), type);
        t->n++;
        return 0;
}

uint64_t dm_table_size(const DmTable *t)
{
        uint64_t end = 0;

        for (size_t i = 0; i < t->n; i++)
                if (t->targets[i].start + t->targets[i].length > end)
                        end = t->targets[i].start + t->targets[i].length;
        return end;
}

/* --- changing devices ---------------------------------------------------------- */

/*
 * The device alone, no table. NODE_NOW: libdm makes its node at once, as udev
 * makes none for a device without a live table; otherwise the resume that
 * follows makes it (udev's symlink, or libdm's node without udev), as LVM does.
 */
static int create_bare(const char *name, const char *uuid, bool node_now,
                       struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        r = task_new(&t, DM_DEVICE_CREATE, name);
        if (r >= 0 && uuid && *uuid) {
                if (strlen(uuid) >= DM_UUID_LEN)
                        r = -ENAMETOOLONG;
                else if (!dm_task_set_uuid(t, uuid))
                        r = -EINVAL;
        }
        if (r >= 0 && !dm_task_set_add_node(t, node_now ? DM_ADD_NODE_ON_CREATE
                                                         : DM_ADD_NODE_ON_RESUME))
                r = -EIO;
        if (r >= 0)
                r = task_run(t);
        dm_task_update_nodes();
        return r < 0 ? fail(err, r, STEP_CREATE, name ? name : "(null)") : 0;
}

/*
 * Not one DM_DEVICE_CREATE with the table: libdm resumes that, and its
 * errno would be the resume's. Create, load, resume: each step names itself,
 * and a failure after the first removes the device again.
 */
int dm_create(const char *name, const char *uuid, const DmTable *table, bool read_only,
              bool resume, struct vss_error_buf *err)
{
        bool live = table && resume;
        int r;

        if ((r = create_bare(name, uuid, !live, err)) < 0)
                return r;
        if (!table)
                return 0;
        r = dm_load(name, table, read_only, err);
        if (r >= 0 && live)
                r = dm_resume(name, err);
        if (r < 0)
                (void) dm_remove(name, NULL);
        return r;
}

int dm_load(const char *name, const DmTable *table, bool read_only, struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        r = task_new(&t, DM_DEVICE_RELOAD, name);
        if (r >= 0 && read_only && !dm_task_set_ro(t))
                r = -EIO;
        for (size_t i = 0; r >= 0 && i < table->n; i++) {
                const DmTarget *g = &table->targets[i];
                if (!dm_task_add_target(t, g->start, g->length, g->type, g->params))
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = task_run(t);
        return r < 0 ? fail(err, r, STEP_LOAD, name ? name : "(null)") : 0;
}

/* A task with nothing but a name to run: clear, suspend, resume, remove. */
static int simple(int type, const char *name, bool lockfs, DmStep step,
                  struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        r = task_new(&t, type, name);
        if (r >= 0 && type == DM_DEVICE_SUSPEND && !lockfs && !dm_task_skip_lockfs(t))
                r = -EIO;
        if (r >= 0 && type == DM_DEVICE_RESUME &&
            !dm_task_set_add_node(t, DM_ADD_NODE_ON_RESUME))
                r = -EIO;
        if (r >= 0)
                r = type == DM_DEVICE_RESUME || type == DM_DEVICE_REMOVE ? task_run_synced(t)
                                                                         : task_run(t);
        return r < 0 ? fail(err, r, step, name ? name : "(null)") : 0;
}

int dm_clear(const char *name, struct vss_error_buf *err)
{
        return simple(DM_DEVICE_CLEAR, name, false, STEP_CLEAR, err);
}

int dm_suspend(const char *name, bool lockfs, struct vss_error_buf *err)
{
        return simple(DM_DEVICE_SUSPEND, name, lockfs, STEP_SUSPEND, err);
}

int dm_resume(const char *name, struct vss_error_buf *err)
{
        return simple(DM_DEVICE_RESUME, name, false, STEP_RESUME, err);
}

int dm_remove(const char *name, struct vss_error_buf *err)
{
        const struct timespec pause = { .tv_sec = 0, .tv_nsec = REMOVE_RETRY_NSEC };
        DmInfo info;
        int r;

        if ((r = check_name(name)) < 0)
                return fail(err, r, STEP_REMOVE, name ? name : "(null)");
        /* Look first: a remove of a missing device would log an error. */
        if ((r = dm_info_get(name, &info, err)) < 0)
                return r;
        if (!info.exists)
                return 0;
        for (int i = 1;; i++) {
                log_quiet = i < REMOVE_TRIES;
                r = simple(DM_DEVICE_REMOVE, name, false, STEP_REMOVE, err);
                log_quiet = false;
                if (r != -EBUSY || i == REMOVE_TRIES)
                        break;
                nanosleep(&pause, NULL);
        }
        return r == -ENXIO ? 0 : r;
}

int dm_message(const char *name, const char *message, struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        int r;

        r = task_new(&t, DM_DEVICE_TARGET_MSG, name);
        if (r >= 0 && (!dm_task_set_sector(t, 0) || !dm_task_set_message(t, message)))
                r = -ENOMEM;
        if (r >= 0)
                r = task_run(t);
        if (r < 0)
                return provider_error(err, r, "cannot send \"%s\" to %s: %s%s",
                                      message ? message : "", name ? name : "(null)",
                                      strerror(-r), hint(STEP_MESSAGE, r));
        return 0;
}

int dm_list(int (*cb)(const DmInfo *info, void *userdata), void *userdata,
            struct vss_error_buf *err)
{
        _cleanup_dm_task_ struct dm_task *t = NULL;
        struct dm_names *names;
        unsigned next = 0;
        int r;

        r = task_new(&t, DM_DEVICE_LIST, NULL);
        if (r >= 0)
                r = task_run(t);
        if (r < 0)
                return provider_error(err, r, "cannot list the device-mapper devices: %s",
                                      strerror(-r));
        names = dm_task_get_names(t);
        if (!names || !names->dev)
                return 0;
        do {
                DmInfo info;
                names = (struct dm_names *)((char *)names + next);
                if ((r = dm_info_get(names->name, &info, err)) < 0)
                        return r;
                /* Gone since the list was made: not an error. */
                if (info.exists && (r = cb(&info, userdata)) != 0)
                        return r;
                next = names->next;
        } while (next);
        return 0;
}

int dm_node_path(const char *name, char *buf, size_t size)
{
        int r = check_name(name);

        return r < 0 ? r : provider_printf(buf, size, "%s/%s", dm_dir(), name);
}

/* --- the hold window ------------------------------------------------------------ */

/* The control node's device number: sysfs, then /proc/misc, then the fixed one. */
static dev_t control_devnum(void)
{
        unsigned maj = 10, min = 236; /* MISC_MAJOR, MAPPER_CTRL_MINOR */
        char name[64];
        FILE *f;

        f = fopen("/sys/class/misc/device-mapper/dev", "re");
        if (f) {
                if (fscanf(f, "%u:%u", &maj, &min) != 2)
                        maj = 10, min = 236;
                fclose(f);
                return makedev(maj, min);
        }
        f = fopen("/proc/misc", "re");
        if (!f)
                return makedev(maj, min);
        for (unsigned m; fscanf(f, "%u %63s", &m, name) == 2;)
                if (strcmp(name, "device-mapper") == 0) {
                        min = m;
                        break;
                }
        fclose(f);
        return makedev(maj, min);
}

int dm_control_open(struct vss_error_buf *err)
{
        int fd = open(DM_CONTROL_PATH, O_RDWR | O_CLOEXEC);
        bool made_dir = false, made = false;

        if (fd < 0 && errno == ENOENT) {
                /* Opening 10:236 loads dm-mod if it is a module. */
                made_dir = mkdir("/dev/mapper", 0755) == 0;
                if (mknod(DM_CONTROL_PATH, S_IFCHR | 0600, control_devnum()) == 0)
                        made = true;
                else if (errno != EEXIST)
                        return provider_error(err, -errno, "cannot make %s: %s", DM_CONTROL_PATH,
                                              strerror(errno));
                fd = open(DM_CONTROL_PATH, O_RDWR | O_CLOEXEC);
        }
        if (fd < 0) {
                int r = -errno;
                /* No device-mapper after all: leave /dev as it was. */
                if (made)
                        (void) unlink(DM_CONTROL_PATH);
                if (made_dir)
                        (void) rmdir("/dev/mapper");
                return provider_error(err, r,
                                      "cannot open %s: %s (is device-mapper, the dm_mod "
                                      "module, in the kernel? are we root?)",
                                      DM_CONTROL_PATH, strerror(-r));
        }
        return fd;
}

int dm_switch_init(DmSwitch *sw, const char *name, bool suspend, bool skip_lockfs)
{
        int r = check_name(name);

        if (r < 0)
                return r;
        memset(sw, 0, sizeof(*sw));
        /*
         * The oldest interface that has DM_DEV_SUSPEND, as libdm asks for: the
         * kernel refuses a minor version newer than its own.
         */
        sw->io.version[0] = DM_VERSION_MAJOR;
        sw->io.data_size = sizeof(sw->io);
        sw->io.data_start = sizeof(sw->io);
        memcpy(sw->io.name, name, strlen(name) + 1);
        if (suspend)
                sw->io.flags = DM_SUSPEND_FLAG | (skip_lockfs ? DM_SKIP_LOCKFS_FLAG : 0);
        return 0;
}

int dm_switch_run(int control_fd, DmSwitch *sw)
{
        /* The kernel writes its answer back: keep SW as prepared for the next run. */
        struct dm_ioctl io = sw->io;

        return ioctl(control_fd, DM_DEV_SUSPEND, &io) < 0 ? -errno : 0;
}

/*
 * Target messages and table loads as prepared ioctls. The layout is the
 * kernel's (dm-ioctl.h): a struct dm_ioctl whose data_start points at a
 * dm_target_msg or a dm_target_spec, each followed by its NUL-terminated
 * text, the whole padded to 8 bytes.
 */
static int raw_init(DmRawIoctl *d, unsigned long request, const char *name, size_t payload)
{
        size_t len = strlen(name);

        if (len >= sizeof(d->u.io.name) || sizeof(d->u.io) + payload > sizeof(d->u))
                return -ENAMETOOLONG;
        memset(d, 0, sizeof(*d));
        d->request = request;
        /* The oldest interface that has the ioctl: the kernel refuses a newer minor. */
        d->u.io.version[0] = DM_VERSION_MAJOR;
        d->u.io.data_start = sizeof(d->u.io);
        d->u.io.data_size = (uint32_t)((sizeof(d->u.io) + payload + 7) & ~(size_t)7);
        memcpy(d->u.io.name, name, len + 1);
        return 0;
}

int dm_raw_message_init(DmRawIoctl *d, const char *name, const char *message)
{
        size_t len = strlen(message) + 1;
        int r = raw_init(d, DM_TARGET_MSG, name, sizeof(struct dm_target_msg) + len);

        if (r < 0)
                return r;
        struct dm_target_msg *m = (struct dm_target_msg *)(d->u.bytes + d->u.io.data_start);
        m->sector = 0;
        memcpy(m->message, message, len);
        return 0;
}

int dm_raw_load_init(DmRawIoctl *d, const char *name, uint64_t sectors, const char *type,
                     const char *params, bool read_only)
{
        size_t len = strlen(params) + 1;
        size_t spec_len = (sizeof(struct dm_target_spec) + len + 7) & ~(size_t)7;
        int r;

        if (strlen(type) >= sizeof(((struct dm_target_spec *)0)->target_type))
                return -ENAMETOOLONG;
        if ((r = raw_init(d, DM_TABLE_LOAD, name, spec_len)) < 0)
                return r;
        d->u.io.target_count = 1;
        d->u.io.flags = read_only ? DM_READONLY_FLAG : 0;
        struct dm_target_spec *t = (struct dm_target_spec *)(d->u.bytes + d->u.io.data_start);
        t->sector_start = 0;
        t->length = sectors;
        t->next = (uint32_t)spec_len;
        memcpy(t->target_type, type, strlen(type) + 1);
        memcpy((char *)(t + 1), params, len);
        return 0;
}

int dm_raw_run(int control_fd, const DmRawIoctl *d)
{
        /* The kernel writes its answer back: keep D as prepared for the next run. */
        DmRawIoctl copy;

        memcpy(&copy.u, &d->u, d->u.io.data_size);
        return ioctl(control_fd, d->request, &copy.u) < 0 ? -errno : 0;
}
