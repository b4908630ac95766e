/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmtest.c: see vmtest.h. */
#include <check.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vss/provider.h>

#include "tests/vm/vmtest.h"

TestBus vm_bus;
static char *last_output;

static int vm_vsh(const char *format, va_list ap)
{
        char cmd[8192];

        vsnprintf(cmd, sizeof(cmd), format, ap);
        free(last_output);
        last_output = NULL;
        /*
         * testbus_run puts the bus address before the command and 2>&1 after
         * it; "true;" keeps that assignment off the subshell (where it is a
         * syntax error: the address is in our environment anyway, from
         * vmtest_start), and the subshell keeps the command's own redirections.
         */
        int r = testbus_run(&vm_bus, &last_output, "true; (%s)", cmd);
        if (last_output)
                for (size_t n = strlen(last_output); n > 0 && last_output[n - 1] == '\n'; n--)
                        last_output[n - 1] = '\0';
        return r;
}

int vm_sh(const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        int r = vm_vsh(format, ap);
        va_end(ap);
        return r;
}

const char *vm_out(void)
{
        return last_output ? last_output : "";
}

void vm_ok(const char *format, ...)
{
        char cmd[8192];
        va_list ap;

        va_start(ap, format);
        vsnprintf(cmd, sizeof(cmd), format, ap);
        va_end(ap);
        int r = vm_sh("%s", cmd);
        ck_assert_msg(r == 0, "command failed (%d): %s\n%s", r, cmd, vm_out());
}

/*
 * Remove whatever a test left: when an assertion fails Check ends the test's
 * process at once, so no teardown of that process can be relied on. Only in
 * the VM, where every vssd, dm device and loop device is the tests' own.
 */
static void clean_slate(void)
{
        if (!getenv("VSS_VM"))
                return;
        system("pkill -KILL -x vssd; pkill -KILL -x dbus-daemon; "
               "while m=$(findmnt -rn -o TARGET | grep '^" TEST_ROOT "' | sort -r | head -n1); "
               "[ -n \"$m\" ]; do umount -l \"$m\" || break; done; "
               "dmsetup remove_all --force >/dev/null 2>&1; losetup -D; "
               "rmdir " TEST_ROOT " 2>/dev/null; true");
}

void vmtest_start(const char *provider_config)
{
        char conf[4096], path[8192];

        ck_assert_msg(getenv("VSS_VM"), "run the device-mapper tests in the VM: tests/vm/check-dm");
        clean_slate();
        ck_assert_msg(system("test -z \"$(dmsetup ls 2>/dev/null | grep -v 'No devices')\"") == 0,
                      "dm devices left by an earlier test that cannot be removed");
        /* Commands find this tree's vssctl first. */
        snprintf(path, sizeof(path), "%s:%s", testbus_path(false, ""), getenv("PATH"));
        setenv("PATH", path, 1);
        ck_assert_int_eq(system("mkdir -p " TEST_ROOT " && mount -t tmpfs -o size=1G tmpfs "
                                TEST_ROOT " && mkdir -p " TEST_ROOT "/mnt " TEST_ROOT "/state"),
                         0);
        snprintf(conf, sizeof(conf),
                 "[daemon]\nprovider_dir = %s\nmonitor_interval_ms = 200\n"
                 "runtime_dir = " TEST_ROOT "/run\n\n"
                 "[provider.dm-snapshot]\nstate_dir = " TEST_ROOT "/state\n"
                 "enabled_dir = " TEST_ROOT "/state/enabled\n%s\n"
                 "[provider.dm-thin]\nstate_dir = " TEST_ROOT "/state/thin\n"
                 "journal_dir = " TEST_ROOT "/run/dm-thin\n",
                 testbus_daemon_path("providers"), provider_config ? provider_config : "");
        testbus_start(&vm_bus, conf);
        setenv("DBUS_SYSTEM_BUS_ADDRESS", vm_bus.address, 1);
        setenv("VSS_BUS_ADDRESS", vm_bus.address, 1);
}

void vmtest_teardown(void)
{
        testbus_stop(&vm_bus);
        clean_slate();
        free(last_output);
        last_output = NULL;
}

void vm_volume(Volume *v, const char *name, unsigned size_mb, const char *fstype)
{
        snprintf(v->name, sizeof(v->name), "%s", name);
        snprintf(v->mnt, sizeof(v->mnt), TEST_ROOT "/mnt/%s", name);
        vm_ok("truncate -s %uM " TEST_ROOT "/%s.img && losetup -f --show " TEST_ROOT "/%s.img",
              size_mb, name, name);
        snprintf(v->loop, sizeof(v->loop), "%s", vm_out());
        vm_ok("vssctl enable %s 2>/dev/null", v->loop);
        snprintf(v->volume, sizeof(v->volume), "%s", vm_out());
        ck_assert_msg(strncmp(v->volume, "/dev/mapper/vss-", 16) == 0, "enable gave '%s'",
                      v->volume);
        vm_mkfs_mount(v->volume, fstype, v->mnt);
}

void vm_create(char ids[][40], size_t n, const char *options, const char *volumes)
{
        /*
         * The rows of the table: the lines that start with a snapshot id. Progress
         * lines go to stderr (a step over a second: LVM's tools under TCG), which is
         * shown only when no id came.
         */
        vm_ok("vssctl create %s %s 2>" TEST_ROOT "/create.err | grep -oE "
              "'^[0-9a-f]{8}-[0-9a-f-]{27}' || { cat " TEST_ROOT "/create.err; false; }",
              options, volumes);
        const char *p = vm_out();
        for (size_t i = 0; i < n; i++) {
                size_t len = strcspn(p, "\n");
                ck_assert_msg(len == 36, "create printed no snapshot id %zu: %s", i, vm_out());
                memcpy(ids[i], p, 36);
                ids[i][36] = '\0';
                p += len + (p[len] == '\n');
        }
}

const char *vm_snap_device(const char *id, char *buf, size_t size)
{
        snprintf(buf, size, "/dev/mapper/vss-snap-%s", id);
        return buf;
}

const char *vm_table(const char *name, char *buf, size_t size)
{
        vm_ok("dmsetup table %s", name);
        snprintf(buf, size, "%s", vm_out());
        return buf;
}

bool vm_dm_exists(const char *name)
{
        return vm_sh("dmsetup info %s >/dev/null 2>&1", name) == 0;
}

const char *vm_snapshot_prop(const char *id, const char *prop, char *buf, size_t size)
{
        char path[128];

        vm_snapshot_path(id, path, sizeof(path));
        buf[0] = '\0';
        if (vm_sh("busctl --system get-property org.linuxvss.Vss1 %s org.linuxvss.Vss1.Snapshot "
                  "%s", path, prop) == 0)
                snprintf(buf, size, "%s", vm_out());
        else /* vssd's answer for a snapshot it does not have (any more); else a failure */
                ck_assert_msg(strstr(vm_out(), "No object at"), "busctl get-property %s of %s: %s",
                              prop, path, vm_out());
        return buf;
}

void vm_mkfs_mount(const char *device, const char *fstype, const char *dir)
{
        vm_ok("mkfs.%s -q %s %s && mkdir -p %s && mount %s %s", fstype,
              strcmp(fstype, "xfs") == 0 ? "-f" : "-F", device, dir, device, dir);
}

const char *vm_snapshot_path(const char *id, char *buf, size_t size)
{
        snprintf(buf, size, "/org/linuxvss/Vss1/snapshot/%s", id);
        for (char *c = buf; *c; c++)
                if (*c == '-')
                        *c = '_';
        return buf;
}

uint64_t vm_snapshot_u64(const char *id, const char *prop)
{
        char buf[64];
        vm_snapshot_prop(id, prop, buf, sizeof(buf));
        /* busctl prints "t 12345" */
        return strtoull(buf + (buf[0] == 't' ? 2 : 0), NULL, 10);
}

bool vm_wait_u64_above(const char *id, const char *prop, uint64_t above, int timeout_ms)
{
        for (int waited = 0; waited <= timeout_ms; waited += 500) {
                if (vm_snapshot_u64(id, prop) > above)
                        return true;
                /* Woken by vssd's next PropertiesChanged, or after half a second. */
                vm_wait_changed(500);
        }
        return false;
}

void vm_wait_changed(int timeout_ms)
{
        DBusMessage *m = testbus_wait_signal(&vm_bus, "org.freedesktop.DBus.Properties",
                                             "PropertiesChanged", timeout_ms);
        if (m)
                dbus_message_unref(m);
}

pid_t vm_start_counter(char paths[][160], size_t n)
{
        ck_assert(n <= 8);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fds[8];
                for (size_t i = 0; i < n; i++)
                        fds[i] = open(paths[i], O_WRONLY | O_CREAT, 0644);
                for (unsigned long c = 1;; c++)
                        for (size_t i = 0; i < n; i++) {
                                char buf[32];
                                int len = snprintf(buf, sizeof(buf), "%020lu\n", c);
                                if (pwrite(fds[i], buf, (size_t)len, 0) != len)
                                        _exit(1);
                        }
        }
        return pid;
}

void vm_stop_child(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

int vmtest_run(const char *name, void (*setup)(void), const TTest *const *tests)
{
        return vmtest_run_fixture(name, setup, vmtest_teardown, tests);
}

int vmtest_run_fixture(const char *name, void (*setup)(void), void (*teardown)(void),
                       const TTest *const *tests)
{
        Suite *suite = suite_create(name);
        TCase *tc = tcase_create("vm");

        /* A failed test's process ends at once: setup cleans up after it (vmtest_start). */
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 240);
        for (; *tests; tests++)
                tcase_add_test(tc, *tests);
        suite_add_tcase(suite, tc);
        SRunner *sr = srunner_create(suite);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

const struct vss_provider *vm_provider_open(const char *name, const struct vss_provider_host *host,
                                            void **ret_state, void **ret_handle,
                                            struct vss_error_buf *err)
{
        char path[256];
        const struct vss_provider *prov;
        int r;

        snprintf(path, sizeof(path), "%s/providers/%s.so", getenv("VSS_BUILD"), name);
        *ret_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!*ret_handle) {
                snprintf(err->message, sizeof(err->message), "cannot load %s: %.200s", path,
                         dlerror());
                return NULL;
        }
        prov = dlsym(*ret_handle, VSS_PROVIDER_SYMBOL);
        if (!prov || prov->abi_version != VSS_PROVIDER_ABI_VERSION) {
                snprintf(err->message, sizeof(err->message), "%s has no provider of ABI %d", path,
                         VSS_PROVIDER_ABI_VERSION);
                return NULL;
        }
        if ((r = prov->ops->init(host, ret_state)) < 0) {
                snprintf(err->message, sizeof(err->message), "%s: init failed: %s", name,
                         strerror(-r));
                return NULL;
        }
        return prov;
}

void vm_provider_log(int prio, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "provider[%d]: ", prio);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
