/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * harness.h: bus tests run the real vssd on a private dbus-daemon whose
 * configuration has the system bus's default-deny rules plus the project's
 * own policy file (systemd/org.linuxvss.Vss1.conf), with the fake provider.
 *
 * Paths come from the environment make check sets: VSS_TOP (source tree)
 * and VSS_BUILD (build tree); both default to the current directory layout.
 */
#ifndef VSS_TESTS_BUS_HARNESS_H
#define VSS_TESTS_BUS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dbus/dbus.h>

typedef struct TestBus {
        char dir[64];              /* private temporary directory (short: socket paths) */
        char address[PATH_MAX];    /* of the private bus */
        char vssd_log[PATH_MAX];   /* vssd's stderr */
        char vssd_conf[PATH_MAX];
        pid_t bus_pid;
        pid_t vssd_pid;
        DBusConnection *conn;      /* the test's own connection, as root */
} TestBus;

/* FILE in the tree vssd and its providers come from (VSS_TEST_DAEMON_BUILD, else VSS_BUILD). */
const char *testbus_daemon_path(const char *file);

/* Start the bus only. */
void testbus_start_bus(TestBus *t);
/*
 * Start bus and vssd with the fake provider; EXTRA_CONFIG is appended to
 * vssd.conf (after [provider.fake]), with @DIR@ standing for T's directory.
 */
void testbus_start(TestBus *t, const char *extra_config);
/* Start vssd on T's bus and wait until it owns its name (or exits: returns false). */
bool testbus_start_vssd(TestBus *t, const char *const *extra_args);
/* SIGTERM vssd and return its exit status (-1 if it died of a signal). */
int testbus_stop_vssd(TestBus *t);
/* SIGKILL vssd, as a crash would end it: nothing it would do on the way out is done. */
void testbus_kill_vssd(TestBus *t);
/* Stop everything and remove the directory. */
void testbus_stop(TestBus *t);

/* Is vssd still running (not exited, not crashed)? */
bool testbus_vssd_alive(TestBus *t);

/* Synchronous call on vssd; returns the reply or error message (never NULL). */
DBusMessage *testbus_call(TestBus *t, const char *path, const char *iface, const char *method,
                          int first_arg_type, ...);
/* The same on another connection CONN. */
DBusMessage *testbus_call_on(DBusConnection *conn, const char *path, const char *iface,
                             const char *method, int first_arg_type, ...);
/* Send the method call MSG (taken) on CONN and wait for its reply. */
DBusMessage *testbus_send_msg(DBusConnection *conn, DBusMessage *msg);
/* Another client on T's bus (another requester); close it to leave the bus. */
DBusConnection *testbus_connect(TestBus *t);
void testbus_disconnect(DBusConnection *conn);

/*
 * Start build/tests/bus/test-writer with ARGS (shell words) and wait until its
 * writer object appears; the object path goes into RET_PATH.
 */
pid_t testbus_spawn_writer(TestBus *t, char *ret_path, size_t size, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
/*
 * Wait for ObjectManager signal MEMBER (InterfacesAdded or InterfacesRemoved)
 * about an object under PREFIX; its path into BUF (may be NULL).
 */
bool testbus_wait_object(TestBus *t, const char *member, const char *prefix, char *buf,
                         size_t size, int timeout_ms);
/* SIGTERM PID and reap it (<= 0: nothing). */
void testbus_kill(pid_t pid);
/* Wait for PropertiesChanged on PATH setting string property PROP to VALUE. */
bool testbus_wait_property(TestBus *t, const char *path, const char *prop, const char *value,
                           int timeout_ms);
/* Wait for PropertiesChanged on PATH that changes PROP; the signal (unref it) or NULL. */
DBusMessage *testbus_wait_changed(TestBus *t, const char *path, const char *prop,
                                  int timeout_ms);
/* The value PropertiesChanged SIG gives PROP, of type u or t; false when it has none. */
bool testbus_changed_uint(DBusMessage *sig, const char *prop, uint64_t *ret);

/* REPLY is a method return; else fail the test naming WHAT and the error. */
void testbus_expect_ok(DBusMessage *reply, const char *what);
/*
 * REPLY is the error NAME (org.linuxvss.Vss1.Error.NAME, or a full name) and
 * its message contains NEEDLE (may be NULL); unrefs REPLY.
 */
void testbus_expect_error(DBusMessage *reply, const char *name, const char *needle);
/* Property PROP of IFACE on PATH: a string or object path (malloc()ed), or a u or t. */
char *testbus_get_string(TestBus *t, const char *path, const char *iface, const char *prop);
uint64_t testbus_get_uint(TestBus *t, const char *path, const char *iface, const char *prop);
/* Append an a{sv} of N string values to MSG (KEYS, VALUES may be NULL when N is 0). */
void testbus_append_options(DBusMessage *msg, const char *const *keys,
                            const char *const *values, int n);
/* The whole of file PATH, malloc()ed ("" when it does not exist). */
char *testbus_read_file(const char *path);

/* Golden file tests/bus/golden/NAME with @PROVIDER_DIR@ filled in; malloc()ed. */
char *testbus_golden(const char *name);

/* The error name of REPLY, or NULL for a method return. */
const char *testbus_error_name(DBusMessage *reply);
/* The error message text of REPLY, or "". */
const char *testbus_error_text(DBusMessage *reply);

/* Run a shell command with DBUS_SYSTEM_BUS_ADDRESS set to the private bus; exit status. */
int testbus_run(TestBus *t, char **ret_output, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* Does vssd's log contain NEEDLE? */
bool testbus_log_contains(TestBus *t, const char *needle);

/* Wait (dispatching) for a signal matching RULE, up to TIMEOUT_MS; NULL on timeout. */
DBusMessage *testbus_wait_signal(TestBus *t, const char *iface, const char *member,
                                 int timeout_ms);

/* Absolute path of FILE in the build (or, with SRC, the source) tree. */
const char *testbus_path(bool src, const char *file);

/* --- callers of other uids (the authorization tests) ------------------------------ */

/*
 * Let processes of any uid reach T's bus: its directory becomes searchable
 * and its socket writable by all (only for tests; files in it stay private).
 */
void testbus_open_to_all(TestBus *t);
/*
 * What a child process running as another uid does on its own connection to
 * the bus: call, and testbus_report() each reply the parent should see. It
 * must not use Check's asserts (it is not the test's process).
 */
typedef void (*testbus_child_fn)(DBusConnection *conn, int report_fd, void *userdata);
/*
 * Fork a child that drops to UID (its primary group, no other: setgroups,
 * setgid, setuid), joins T's bus and runs FN; the replies it reports go into
 * REPLIES (at most MAX, unref each), in the order reported. Fails the test
 * when the child cannot drop privileges or join the bus, or dies.
 */
size_t testbus_run_as(TestBus *t, uid_t uid, testbus_child_fn fn, void *userdata,
                      DBusMessage **replies, size_t max);
/* In the child: hand REPLY (not taken) to the parent. */
void testbus_report(int report_fd, DBusMessage *reply);
/* In the child: send MSG (taken) and wait for its reply; NULL when none came. */
DBusMessage *testbus_child_call(DBusConnection *conn, DBusMessage *msg);
/* One call made by UID on a fresh connection; its reply (unref it). */
DBusMessage *testbus_call_as(TestBus *t, uid_t uid, DBusMessage *msg);
/*
 * UID sends MSGS (N of them, taken) at once on a fresh connection, without
 * waiting between them; the replies, in the order they came, into REPLIES.
 */
void testbus_pipeline_as(TestBus *t, uid_t uid, DBusMessage **msgs, size_t n,
                         DBusMessage **replies);

#endif
