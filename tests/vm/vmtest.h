/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtest.h: helpers of the device-mapper tests that run inside the test VM
 * (tests/vm/check-dm): volumes on loop devices, vssd with the dm-snapshot
 * provider on a private bus, shell steps with their output.
 *
 * Each test gets a fresh directory, TEST_ROOT, with tmpfs under it (the guest's
 * /tmp): images, mount points, the diff area and the provider's state. The
 * kernel's device-mapper and loop devices are shared by all tests of a run, so
 * vmtest_teardown() removes every one of them.
 */
#ifndef VSS_TESTS_VM_VMTEST_H
#define VSS_TESTS_VM_VMTEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/bus/harness.h"

/* Of <vss/provider.h>, which a requester's test (check_soak) must not include. */
struct vss_provider;
struct vss_provider_host;
struct vss_error_buf;

#define TEST_ROOT "/tmp/vmt"

typedef struct Volume {
        char name[32];       /* "a", "b"... */
        char loop[32];       /* /dev/loopN */
        char volume[128];    /* /dev/mapper/vss-loopN, what sets name */
        char mnt[128];       /* TEST_ROOT/mnt/NAME */
} Volume;

extern TestBus vm_bus;

/* Start the bus and vssd with the dm-snapshot provider; EXTRA goes into its section. */
void vmtest_start(const char *provider_config);
/* Stop vssd and the bus; remove every dm device, loop device and mount of the test. */
void vmtest_teardown(void);

/*
 * A provider the test loads itself, as vssd does (to play a vssd killed in
 * the window, or to read what vssd does not show): build/providers/NAME.so,
 * initialised with HOST; its descriptor, or NULL with why in ERR. Its state
 * and dlopen handle are returned for fini() and dlclose().
 */
const struct vss_provider *vm_provider_open(const char *name, const struct vss_provider_host *host,
                                            void **ret_state, void **ret_handle,
                                            struct vss_error_buf *err);
/* A provider host's log for such a provider: stderr, as "provider[PRIO]: ...". */
void vm_provider_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run a shell command (bus address set); its exit status; output into a static buffer. */
int vm_sh(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* The output of the last vm_sh, trailing newline stripped. */
const char *vm_out(void);
/* vm_sh that must succeed; fails the test with the command and its output. */
void vm_ok(const char *format, ...) __attribute__((format(printf, 1, 2)));

/*
 * A volume of SIZE_MB on a loop device, enabled (vssctl enable), with a file
 * system FSTYPE ("ext4", "xfs") made and mounted at TEST_ROOT/mnt/NAME.
 */
void vm_volume(Volume *v, const char *name, unsigned size_mb, const char *fstype);

/* vssctl create VOLUMES... (extra options first); the snapshot ids, in order, into IDS. */
void vm_create(char ids[][40], size_t n, const char *options, const char *volumes);
/* /dev/mapper/vss-snap-ID */
const char *vm_snap_device(const char *id, char *buf, size_t size);
/* The live table of dm device NAME. */
const char *vm_table(const char *name, char *buf, size_t size);
/* Is dm device NAME there? */
bool vm_dm_exists(const char *name);
/* D-Bus property PROP of snapshot ID as busctl prints it, "" if vssd has no such snapshot. */
const char *vm_snapshot_prop(const char *id, const char *prop, char *buf, size_t size);

/* Make a file system FSTYPE on DEVICE and mount it at DIR. */
void vm_mkfs_mount(const char *device, const char *fstype, const char *dir);
/* The object path of snapshot ID. */
const char *vm_snapshot_path(const char *id, char *buf, size_t size);
/* A "t" property of snapshot ID (0 on error). */
uint64_t vm_snapshot_u64(const char *id, const char *prop);
/* Wait, on vssd's PropertiesChanged signals, until PROP of ID exceeds ABOVE. */
bool vm_wait_u64_above(const char *id, const char *prop, uint64_t above, int timeout_ms);
/* Wait for vssd's next PropertiesChanged signal, or TIMEOUT_MS. */
void vm_wait_changed(int timeout_ms);

/*
 * A child writing counter c = 1, 2, ... to every file of PATHS (at most 8)
 * in turn, each a pwrite of one block at offset 0; its pid.
 */
pid_t vm_start_counter(char paths[][160], size_t n);
/* Kill child PID and reap it. */
void vm_stop_child(pid_t pid);

/* Run TESTS (NULL-terminated) with SETUP before each; the exit status for main(). */
int vmtest_run(const char *name, void (*setup)(void), const TTest *const *tests);
/* The same with a TEARDOWN of the program's own (which must call vmtest_teardown()). */
int vmtest_run_fixture(const char *name, void (*setup)(void), void (*teardown)(void),
                       const TTest *const *tests);

#endif
