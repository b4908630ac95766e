/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.c: vssd's lock, `vssd --recover` and Manager.Recover (recover.h
 * says why each exists).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/lifecycle.h"
#include "daemon/plugins.h"
#include "daemon/recover.h"
#include "daemon/util/log.h"

/* --- the lock ------------------------------------------------------------------------ */

/* The pid a holder wrote into the lock file, or 0. */
static long lock_holder(int fd)
{
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int recover_lock(const char *runtime_dir, int *ret_fd, char *err, size_t err_size)
{
        char path[PATH_MAX + 16];

        if (mkdir(runtime_dir, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                snprintf(err, err_size, "cannot create the runtime directory %s: %s; create it "
                         "or set runtime_dir in vssd.conf", runtime_dir, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/vssd.lock", runtime_dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "cannot open %s: %s", path, strerror(-r));
                return r;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                long pid = lock_holder(fd);
                if (r == -EBUSY)
                        snprintf(err, err_size, "another vssd (pid %ld) holds %s and owns the "
                                 "snapshot devices; stop it first, or ask it: vssctl recover",
                                 pid, path);
                else
                        snprintf(err, err_size, "cannot lock %s: %s", path, strerror(-r));
                close(fd);
                return r;
        }
        char pid[32];
        int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len)
                log_warning("cannot write the pid into %s: %s", path, strerror(errno));
        *ret_fd = fd;
        return 0;
}

/* --- vssd --recover ------------------------------------------------------------------ */

static bool recover_plugin(const Plugin *plugin)
{
        const struct vss_provider *vp = plugin->provider;
        struct vss_error_buf err = { "" };

        if (!vp->ops->recover)
                return true;
        int r = vp->ops->recover(plugin->state, &err);
        if (r < 0) {
                log_error("provider %s could not recover: %s", vp->name,
                          err.message[0] ? err.message : vss_strerror(r));
                return false;
        }
        if (r > 0)
                log_notice("provider %s: %d leftover(s) of an interrupted vssd put right",
                           vp->name, r);
        else
                log_info("provider %s: nothing to recover", vp->name);
        return true;
}

int recover_offline(const Settings *settings)
{
        PluginList plugins = { 0 };
        char err[512];
        int lock_fd;
        bool ok = true;

        if (recover_lock(settings->runtime_dir, &lock_fd, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 1;
        }
        plugins_set_config(settings->config);
        if (plugins_load_dir(&plugins, settings->provider_dir) < 0)
                ok = false; /* logged; recover with what loaded */
        for (size_t i = 0; i < plugins.n; i++)
                ok = recover_plugin(plugins.items[i]) && ok;
        plugins_free(&plugins);
        close(lock_fd);
        return ok ? 0 : 1;
}

/* --- Manager.Recover ------------------------------------------------------------------ */

int recover_method(BusCall *call, void *userdata)
{
        Manager *m = userdata;
        struct vss_error_buf err = { "" };
        Pending *p = pending_new(call, REPLY_COUNT);

        if (!p)
                return -ENOMEM;
        log_info("recovery asked for by %s", bus_call_get_sender(call));
        return pending_started(p, call, core_recover(m->core, p, &err), &err);
}
