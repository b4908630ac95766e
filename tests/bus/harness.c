/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* harness.c: private dbus-daemon + real vssd for the bus tests (see harness.h). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/bus/harness.h"

/*
 * VSS_TEST_DAEMON_BUILD: the build tree vssd and its providers come from,
 * when it is not VSS_BUILD (the fault-injection build, build/fault; a
 * sanitizer build). Everything else (vssctl, test-writer) stays VSS_BUILD's.
 */
const char *testbus_daemon_path(const char *file)
{
        static char buf[4][PATH_MAX];
        static int next;
        const char *root = getenv("VSS_TEST_DAEMON_BUILD");

        if (!root || !*root)
                return testbus_path(false, file);
        char *out = buf[next++ % 4];
        snprintf(out, PATH_MAX, "%s/%s", root, file);
        return out;
}

const char *testbus_path(bool src, const char *file)
{
        static char buf[4][PATH_MAX];
        static int next;
        const char *root = getenv(src ? "VSS_TOP" : "VSS_BUILD");
        char cwd[PATH_MAX];

        if (!root) {
                ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
                if (!src)
                        strcat(cwd, "/build");
                root = cwd;
        }
        char *out = buf[next++ % 4];
        snprintf(out, PATH_MAX, "%s/%s", root, file);
        return out;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "cannot write %s: %s", path, strerror(errno));
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

/* Fill the bus configuration template with our directory and the policy file. */
static void write_bus_conf(TestBus *t, const char *conf)
{
        char tmpl[16384], out[20000];
        FILE *f = fopen(testbus_path(true, "tests/bus/bus.conf.in"), "re");

        ck_assert_ptr_nonnull(f);
        size_t n = fread(tmpl, 1, sizeof(tmpl) - 1, f);
        fclose(f);
        tmpl[n] = '\0';
        char *o = out;
        for (char *p = tmpl; *p;) {
                if (strncmp(p, "@DIR@", 5) == 0) {
                        o += sprintf(o, "%s", t->dir);
                        p += 5;
                } else if (strncmp(p, "@POLICY@", 8) == 0) {
                        o += sprintf(o, "%s", testbus_path(true, "systemd/org.linuxvss.Vss1.conf"));
                        p += 8;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        write_file(conf, out);
}

void testbus_start_bus(TestBus *t)
{
        char conf[PATH_MAX + 16];
        int pipefd[2];
        DBusError error;

        memset(t, 0, sizeof(*t));
        snprintf(t->dir, sizeof(t->dir), "/tmp/vss-bus-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->dir));
        snprintf(conf, sizeof(conf), "%s/bus.conf", t->dir);
        write_bus_conf(t, conf);
        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        t->bus_pid = fork();
        ck_assert_int_ge(t->bus_pid, 0);
        if (t->bus_pid == 0) {
                char fdarg[32], log[PATH_MAX];
                /* Keep the bus's own complaints (fd limits as non-systemd root) out of the report. */
                snprintf(log, sizeof(log), "%s/bus.log", t->dir);
                int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                dup2(logfd, STDERR_FILENO);
                dup2(pipefd[1], 3);
                snprintf(fdarg, sizeof(fdarg), "--print-address=3");
                execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", "--nosyslog",
                       fdarg, "--config-file", conf, (char *)NULL);
                _exit(127);
        }
        close(pipefd[1]);
        ssize_t len = read(pipefd[0], t->address, sizeof(t->address) - 1);
        close(pipefd[0]);
        ck_assert_msg(len > 0, "dbus-daemon did not start (is the dbus package installed?)");
        t->address[strcspn(t->address, "\n")] = '\0';
        dbus_error_init(&error);
        t->conn = dbus_connection_open_private(t->address, &error);
        ck_assert_msg(t->conn && dbus_bus_register(t->conn, &error), "cannot join the test bus: %s",
                      error.message);
        dbus_connection_set_exit_on_disconnect(t->conn, FALSE);
}

/* TEXT with every @DIR@ replaced by T's directory, into OUT. */
static void fill_dir(const TestBus *t, const char *text, char *out, size_t size)
{
        size_t len = 0;
        for (const char *p = text; *p && len + sizeof(t->dir) < size;) {
                if (strncmp(p, "@DIR@", 5) == 0) {
                        len += (size_t)snprintf(out + len, size - len, "%s", t->dir);
                        p += 5;
                } else {
                        out[len++] = *p++;
                }
        }
        out[len] = '\0';
}

static void write_vssd_conf(TestBus *t, const char *extra)
{
        char text[8192], filled[4096];

        fill_dir(t, extra ? extra : "", filled, sizeof(filled));
        snprintf(t->vssd_conf, sizeof(t->vssd_conf), "%s/vssd.conf", t->dir);
        snprintf(text, sizeof(text),
                 "[daemon]\nprovider_dir = %s\nruntime_dir = %s/run\n\n[provider.fake]\n"
                 "log = %s/fake.log\ncontrol = %s/fake.control\n%s",
                 testbus_daemon_path("tests/providers"), t->dir, t->dir, t->dir, filled);
        write_file(t->vssd_conf, text);
}

static bool wait_name_owned(TestBus *t, int timeout_ms)
{
        struct timespec start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (dbus_bus_name_has_owner(t->conn, "org.linuxvss.Vss1", NULL))
                        return true;
                if (!testbus_vssd_alive(t))
                        return false;
                DBusMessage *sig = testbus_wait_signal(t, "org.freedesktop.DBus",
                                                       "NameOwnerChanged", 200);
                if (sig)
                        dbus_message_unref(sig);
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
                    timeout_ms)
                        return false;
        }
}

/* VSS_TEST_VALGRIND=1: vssd runs under memcheck; a leak or error fails the test at stop. */
static bool valgrind_wanted(void)
{
        const char *v = getenv("VSS_TEST_VALGRIND");
        return v && strcmp(v, "1") == 0;
}

#define VALGRIND_FAILED 99

bool testbus_start_vssd(TestBus *t, const char *const *extra_args)
{
        const char *argv[24];
        size_t n = 0;

        if (valgrind_wanted()) {
                argv[n++] = "valgrind";
                argv[n++] = "-q";
                argv[n++] = "--leak-check=full";
                argv[n++] = "--errors-for-leak-kinds=definite";
                argv[n++] = "--error-exitcode=99";
        }
        argv[n++] = testbus_daemon_path("vssd");
        argv[n++] = "--bus";
        argv[n++] = t->address;
        argv[n++] = "--config";
        argv[n++] = t->vssd_conf;
        argv[n++] = "--verbose";

        for (; extra_args && *extra_args && n < 23; extra_args++)
                argv[n++] = *extra_args;
        argv[n] = NULL;
        snprintf(t->vssd_log, sizeof(t->vssd_log), "%s/vssd.log", t->dir);
        dbus_bus_add_match(t->conn, "type='signal',sender='org.freedesktop.DBus',"
                           "member='NameOwnerChanged',arg0='org.linuxvss.Vss1'", NULL);
        /* Objects appearing and changing: what tests wait for instead of sleeping. */
        dbus_bus_add_match(t->conn, "type='signal',sender='org.linuxvss.Vss1'", NULL);
        t->vssd_pid = fork();
        ck_assert_int_ge(t->vssd_pid, 0);
        if (t->vssd_pid == 0) {
                int fd = open(t->vssd_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                dup2(fd, STDERR_FILENO);
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        return wait_name_owned(t, 10000);
}

void testbus_start(TestBus *t, const char *extra_config)
{
        testbus_start_bus(t);
        write_vssd_conf(t, extra_config);
        ck_assert_msg(testbus_start_vssd(t, NULL), "vssd did not take its bus name; log: %s",
                      t->vssd_log);
}

bool testbus_vssd_alive(TestBus *t)
{
        int status;

        return t->vssd_pid > 0 && waitpid(t->vssd_pid, &status, WNOHANG) == 0;
}

int testbus_stop_vssd(TestBus *t)
{
        int status;

        if (t->vssd_pid <= 0)
                return -1;
        kill(t->vssd_pid, SIGTERM);
        pid_t r = waitpid(t->vssd_pid, &status, 0);
        t->vssd_pid = 0;
        if (r < 0)
                return -1; /* already reaped by testbus_vssd_alive(): it had exited */
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void testbus_kill_vssd(TestBus *t)
{
        if (t->vssd_pid <= 0)
                return;
        kill(t->vssd_pid, SIGKILL);
        waitpid(t->vssd_pid, NULL, 0);
        t->vssd_pid = 0;
}

void testbus_stop(TestBus *t)
{
        char cmd[PATH_MAX + 16];

        bool was_running = t->vssd_pid > 0 && testbus_vssd_alive(t);
        int status = testbus_stop_vssd(t);
        ck_assert_msg(!(was_running && valgrind_wanted() && status == VALGRIND_FAILED),
                      "valgrind found errors or leaks in vssd; see %s", t->vssd_log);
        if (t->conn) {
                dbus_connection_close(t->conn);
                dbus_connection_unref(t->conn);
                t->conn = NULL;
        }
        if (t->bus_pid > 0) {
                kill(t->bus_pid, SIGTERM);
                waitpid(t->bus_pid, NULL, 0);
                t->bus_pid = 0;
        }
        if (!getenv("VSS_KEEP_TEST_DIRS")) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "warning: could not remove %s\n", t->dir);
        }
}

DBusMessage *testbus_send_msg(DBusConnection *conn, DBusMessage *msg)
{
        DBusPendingCall *pending;

        ck_assert(dbus_connection_send_with_reply(conn, msg, &pending, 60000));
        dbus_message_unref(msg);
        dbus_pending_call_block(pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        ck_assert_ptr_nonnull(reply);
        return reply;
}

static DBusMessage *new_call_valist(const char *path, const char *iface, const char *method,
                                    int first_arg_type, va_list ap)
{
        DBusMessage *msg = dbus_message_new_method_call("org.linuxvss.Vss1", path, iface, method);

        ck_assert_ptr_nonnull(msg);
        ck_assert(dbus_message_append_args_valist(msg, first_arg_type, ap));
        return msg;
}

DBusMessage *testbus_call(TestBus *t, const char *path, const char *iface, const char *method,
                          int first_arg_type, ...)
{
        va_list ap;

        va_start(ap, first_arg_type);
        DBusMessage *msg = new_call_valist(path, iface, method, first_arg_type, ap);
        va_end(ap);
        return testbus_send_msg(t->conn, msg);
}

DBusMessage *testbus_call_on(DBusConnection *conn, const char *path, const char *iface,
                             const char *method, int first_arg_type, ...)
{
        va_list ap;

        va_start(ap, first_arg_type);
        DBusMessage *msg = new_call_valist(path, iface, method, first_arg_type, ap);
        va_end(ap);
        return testbus_send_msg(conn, msg);
}

DBusConnection *testbus_connect(TestBus *t)
{
        DBusError error = DBUS_ERROR_INIT;
        DBusConnection *conn = dbus_connection_open_private(t->address, &error);

        ck_assert_msg(conn && dbus_bus_register(conn, &error), "cannot join the test bus: %s",
                      error.message);
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        return conn;
}

void testbus_disconnect(DBusConnection *conn)
{
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
}

/* The value PropertiesChanged SIG gives PROP, in *RET (inside its variant); false if none. */
static bool changed_value(DBusMessage *sig, const char *prop, DBusMessageIter *ret)
{
        DBusMessageIter iter, dict, entry;
        const char *key;

        if (!dbus_message_iter_init(sig, &iter) || !dbus_message_iter_next(&iter))
                return false;
        dbus_message_iter_recurse(&iter, &dict);
        for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &key);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, ret);
                if (strcmp(key, prop) == 0)
                        return true;
        }
        return false;
}

/* The string property PROP of a PropertiesChanged signal, or NULL. */
static const char *changed_string(DBusMessage *sig, const char *prop)
{
        DBusMessageIter value;
        const char *v;

        if (!changed_value(sig, prop, &value) ||
            dbus_message_iter_get_arg_type(&value) != DBUS_TYPE_STRING)
                return NULL;
        dbus_message_iter_get_basic(&value, &v);
        return v;
}

/* A u or t at ITER as a 64-bit number; false for another type. */
static bool iter_uint(DBusMessageIter *iter, uint64_t *ret)
{
        dbus_uint32_t u;
        dbus_uint64_t t;

        switch (dbus_message_iter_get_arg_type(iter)) {
        case DBUS_TYPE_UINT32:
                dbus_message_iter_get_basic(iter, &u);
                *ret = u;
                return true;
        case DBUS_TYPE_UINT64:
                dbus_message_iter_get_basic(iter, &t);
                *ret = t;
                return true;
        default:
                return false;
        }
}

bool testbus_changed_uint(DBusMessage *sig, const char *prop, uint64_t *ret)
{
        DBusMessageIter value;
        return changed_value(sig, prop, &value) && iter_uint(&value, ret);
}

DBusMessage *testbus_wait_changed(TestBus *t, const char *path, const char *prop,
                                  int timeout_ms)
{
        for (;;) {
                DBusMessage *sig = testbus_wait_signal(t, "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", timeout_ms);
                DBusMessageIter value;
                if (!sig)
                        return NULL;
                if (strcmp(dbus_message_get_path(sig), path) == 0 &&
                    changed_value(sig, prop, &value))
                        return sig;
                dbus_message_unref(sig);
        }
}

void testbus_expect_ok(DBusMessage *reply, const char *what)
{
        ck_assert_msg(!testbus_error_name(reply), "%s failed: %s: %s", what,
                      testbus_error_name(reply), testbus_error_text(reply));
}

void testbus_expect_error(DBusMessage *reply, const char *name, const char *needle)
{
        static const char prefix[] = "org.linuxvss.Vss1.Error.";
        const char *got = testbus_error_name(reply);
        const char *shortened = got && strncmp(got, prefix, strlen(prefix)) == 0
                                        ? got + strlen(prefix) : got;

        ck_assert_msg(got && (strcmp(got, name) == 0 || strcmp(shortened, name) == 0),
                      "wanted error %s, got %s: %s", name, got ? got : "a method return",
                      testbus_error_text(reply));
        ck_assert_msg(!needle || strstr(testbus_error_text(reply), needle),
                      "error text \"%s\" does not mention \"%s\"", testbus_error_text(reply),
                      needle);
        dbus_message_unref(reply);
}

/* Properties.Get; the reply, checked, with ITER on the value inside the variant. */
static DBusMessage *get_property(TestBus *t, const char *path, const char *iface,
                                 const char *prop, DBusMessageIter *iter)
{
        DBusMessage *reply = testbus_call(t, path, "org.freedesktop.DBus.Properties", "Get",
                                          DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                          DBUS_TYPE_INVALID);
        DBusMessageIter top;

        testbus_expect_ok(reply, prop);
        dbus_message_iter_init(reply, &top);
        dbus_message_iter_recurse(&top, iter);
        return reply;
}

char *testbus_get_string(TestBus *t, const char *path, const char *iface, const char *prop)
{
        DBusMessageIter value;
        DBusMessage *reply = get_property(t, path, iface, prop, &value);
        int type = dbus_message_iter_get_arg_type(&value);
        const char *v;

        ck_assert_msg(type == DBUS_TYPE_STRING || type == DBUS_TYPE_OBJECT_PATH,
                      "%s is not a string", prop);
        dbus_message_iter_get_basic(&value, &v);
        char *ret = strdup(v);
        dbus_message_unref(reply);
        return ret;
}

uint64_t testbus_get_uint(TestBus *t, const char *path, const char *iface, const char *prop)
{
        DBusMessageIter value;
        DBusMessage *reply = get_property(t, path, iface, prop, &value);
        uint64_t v = 0;

        ck_assert_msg(iter_uint(&value, &v), "%s is not of type u or t", prop);
        dbus_message_unref(reply);
        return v;
}

void testbus_append_options(DBusMessage *msg, const char *const *keys,
                            const char *const *values, int n)
{
        DBusMessageIter iter, dict, entry, variant;

        dbus_message_iter_init_append(msg, &iter);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
        for (int i = 0; i < n; i++) {
                dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
                dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[i]);
                dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &variant);
                dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &values[i]);
                dbus_message_iter_close_container(&entry, &variant);
                dbus_message_iter_close_container(&dict, &entry);
        }
        dbus_message_iter_close_container(&iter, &dict);
}

bool testbus_wait_property(TestBus *t, const char *path, const char *prop, const char *value,
                           int timeout_ms)
{
        for (;;) {
                DBusMessage *sig = testbus_wait_signal(t, "org.freedesktop.DBus.Properties",
                                                       "PropertiesChanged", timeout_ms);
                if (!sig)
                        return false;
                const char *v = changed_string(sig, prop);
                bool found = v && strcmp(v, value) == 0 &&
                             strcmp(dbus_message_get_path(sig), path) == 0;
                dbus_message_unref(sig);
                if (found)
                        return true;
        }
}

bool testbus_wait_object(TestBus *t, const char *member, const char *prefix, char *buf,
                         size_t size, int timeout_ms)
{
        for (;;) {
                DBusMessage *sig = testbus_wait_signal(t, "org.freedesktop.DBus.ObjectManager",
                                                       member, timeout_ms);
                const char *path = NULL;
                if (!sig)
                        return false;
                dbus_message_get_args(sig, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID);
                bool found = path && strncmp(path, prefix, strlen(prefix)) == 0;
                if (found && buf)
                        snprintf(buf, size, "%s", path);
                dbus_message_unref(sig);
                if (found)
                        return true;
        }
}

pid_t testbus_spawn_writer(TestBus *t, char *ret_path, size_t size, const char *format, ...)
{
        char args[4096], cmd[4096 + PATH_MAX + 16];
        va_list ap;

        va_start(ap, format);
        vsnprintf(args, sizeof(args), format, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "exec %s %s", testbus_path(false, "tests/bus/test-writer"),
                 args);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                setenv("VSS_BUS_ADDRESS", t->address, 1);
                setenv("DBUS_SYSTEM_BUS_ADDRESS", t->address, 1);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        ck_assert_msg(testbus_wait_object(t, "InterfacesAdded", "/org/linuxvss/Vss1/writer/",
                                          ret_path, size, 20000),
                      "writer %s did not register", args);
        return pid;
}

void testbus_kill(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

char *testbus_read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t size = 0;

        if (!f)
                return strdup("");
        ck_assert_int_ge(getdelim(&text, &size, '\0', f), -1);
        fclose(f);
        return text ? text : strdup("");
}

const char *testbus_error_name(DBusMessage *reply)
{
        return dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR
                       ? dbus_message_get_error_name(reply)
                       : NULL;
}

const char *testbus_error_text(DBusMessage *reply)
{
        const char *text = "";

        if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
                dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
        return text;
}

int testbus_run(TestBus *t, char **ret_output, const char *format, ...)
{
        char cmd[8192], full[8192 + 2 * PATH_MAX + 64];
        va_list ap;

        va_start(ap, format);
        vsnprintf(cmd, sizeof(cmd), format, ap);
        va_end(ap);
        snprintf(full, sizeof(full), "DBUS_SYSTEM_BUS_ADDRESS='%s' VSS_BUS_ADDRESS='%s' %s 2>&1",
                 t->address, t->address, cmd);
        FILE *p = popen(full, "re");
        ck_assert_ptr_nonnull(p);
        char *out = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&out, &size);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
                fwrite(buf, 1, n, mem);
        fclose(mem);
        int status = pclose(p);
        if (ret_output)
                *ret_output = out;
        else
                free(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool testbus_log_contains(TestBus *t, const char *needle)
{
        char cmd[PATH_MAX * 2];

        snprintf(cmd, sizeof(cmd), "grep -qF -- '%s' '%s'", needle, t->vssd_log);
        return system(cmd) == 0;
}

DBusMessage *testbus_wait_signal(TestBus *t, const char *iface, const char *member,
                                 int timeout_ms)
{
        struct timespec start, now;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                DBusMessage *msg;
                while ((msg = dbus_connection_pop_message(t->conn))) {
                        if (dbus_message_is_signal(msg, iface, member))
                                return msg;
                        dbus_message_unref(msg);
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                               (now.tv_nsec - start.tv_nsec) / 1000000;
                if (elapsed >= timeout_ms)
                        return NULL;
                if (!dbus_connection_read_write(t->conn, (int)(timeout_ms - elapsed)))
                        return NULL;
        }
}

/* The golden file NAME with @PROVIDER_DIR@ filled in; malloc()ed. */
char *testbus_golden(const char *name)
{
        char path[512];
        snprintf(path, sizeof(path), "tests/bus/golden/%s", name);
        const char *file = testbus_path(true, path);

        ck_assert_msg(access(file, R_OK) == 0, "missing golden file %s", path);
        char *text = testbus_read_file(file);
        const char *dir = testbus_path(false, "tests/providers");
        char *out = malloc(strlen(text) * 2 + strlen(dir) * 8 + 1), *o = out;
        ck_assert_ptr_nonnull(out);
        for (char *p = text; *p;) {
                if (strncmp(p, "@PROVIDER_DIR@", 14) == 0) {
                        o = stpcpy(o, dir);
                        p += 14;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        free(text);
        return out;
}

/* --- callers of other uids ------------------------------------------------------------ */

void testbus_open_to_all(TestBus *t)
{
        char socket[PATH_MAX];

        snprintf(socket, sizeof(socket), "%s/bus.socket", t->dir);
        ck_assert_msg(chmod(t->dir, 0711) == 0, "chmod %s: %s", t->dir, strerror(errno));
        ck_assert_msg(chmod(socket, 0666) == 0, "chmod %s: %s", socket, strerror(errno));
}

/* How a child running as another uid ends (its exit status). */
enum {
        CHILD_NO_USER = 90,
        CHILD_PRIVILEGES,
        CHILD_NO_BUS,
        CHILD_REPORT,
        CHILD_SEND,
        CHILD_TIMEOUT,
};

static const char *child_failure(int status)
{
        static char buf[64];

        if (!WIFEXITED(status)) {
                snprintf(buf, sizeof(buf), "died of signal %d", WTERMSIG(status));
                return buf;
        }
        switch (WEXITSTATUS(status)) {
        case CHILD_NO_USER: return "the uid has no user database entry";
        case CHILD_PRIVILEGES: return "could not drop privileges";
        case CHILD_NO_BUS: return "could not join the bus (is it open to all? testbus_open_to_all)";
        case CHILD_REPORT: return "could not report a reply";
        case CHILD_SEND: return "could not send";
        case CHILD_TIMEOUT: return "no reply within 30 s";
        }
        snprintf(buf, sizeof(buf), "exited with %d", WEXITSTATUS(status));
        return buf;
}

static bool write_all(int fd, const void *data, size_t size)
{
        for (const char *p = data; size > 0;) {
                ssize_t n = write(fd, p, size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                size -= (size_t)n;
        }
        return true;
}

/* false at end of file before anything was read; a short read fails the test. */
static bool read_all(int fd, void *data, size_t size)
{
        size_t got = 0;

        while (got < size) {
                ssize_t n = read(fd, (char *)data + got, size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                ck_assert_msg(n >= 0, "reading the child's report: %s", strerror(errno));
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        ck_assert_msg(got == 0 || got == size, "the child's report is cut short");
        return got == size;
}

void testbus_report(int report_fd, DBusMessage *reply)
{
        char *data;
        int len;

        if (!dbus_message_marshal(reply, &data, &len))
                _exit(CHILD_REPORT);
        uint32_t n = (uint32_t)len;
        bool ok = write_all(report_fd, &n, sizeof(n)) && write_all(report_fd, data, (size_t)len);
        dbus_free(data);
        if (!ok)
                _exit(CHILD_REPORT);
}

DBusMessage *testbus_child_call(DBusConnection *conn, DBusMessage *msg)
{
        DBusPendingCall *pending = NULL;
        DBusMessage *reply = NULL;

        if (dbus_connection_send_with_reply(conn, msg, &pending, 30000) && pending) {
                dbus_pending_call_block(pending);
                reply = dbus_pending_call_steal_reply(pending);
                dbus_pending_call_unref(pending);
        }
        dbus_message_unref(msg);
        return reply;
}

/* The child: become UID, join the bus, run FN. Never returns. */
static void child_main(TestBus *t, uid_t uid, testbus_child_fn fn, void *userdata, int fd)
{
        struct passwd *pw = getpwuid(uid);
        DBusError error = DBUS_ERROR_INIT;

        if (!pw)
                _exit(CHILD_NO_USER);
        gid_t gid = pw->pw_gid;
        if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0 || geteuid() != uid ||
            getegid() != gid)
                _exit(CHILD_PRIVILEGES);
        DBusConnection *conn = dbus_connection_open_private(t->address, &error);
        if (!conn || !dbus_bus_register(conn, &error))
                _exit(CHILD_NO_BUS);
        dbus_connection_set_exit_on_disconnect(conn, FALSE);
        fn(conn, fd, userdata);
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
        _exit(0);
}

size_t testbus_run_as(TestBus *t, uid_t uid, testbus_child_fn fn, void *userdata,
                      DBusMessage **replies, size_t max)
{
        int pipefd[2];
        size_t n = 0;
        uint32_t len;
        int status;

        ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(pipefd[0]);
                child_main(t, uid, fn, userdata, pipefd[1]);
        }
        close(pipefd[1]);
        while (read_all(pipefd[0], &len, sizeof(len))) {
                char *data = malloc(len);
                DBusError error = DBUS_ERROR_INIT;
                ck_assert_ptr_nonnull(data);
                ck_assert_msg(read_all(pipefd[0], data, len), "the child's report is cut short");
                DBusMessage *m = dbus_message_demarshal(data, (int)len, &error);
                free(data);
                ck_assert_msg(m, "the child's report is no message: %s", error.message);
                ck_assert_msg(n < max, "the child reported more than %zu replies", max);
                replies[n++] = m;
        }
        close(pipefd[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child as uid %u: %s",
                      (unsigned)uid, child_failure(status));
        return n;
}

#define PIPELINE_MAX 64

struct pipeline {
        DBusMessage **msgs;
        size_t n;
};

static bool serial_in(dbus_uint32_t serial, const dbus_uint32_t *serials, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (serials[i] == serial)
                        return true;
        return false;
}

/* In the child: send every call at once, then report the replies as they come. */
static void pipeline_child(DBusConnection *conn, int report_fd, void *userdata)
{
        struct pipeline *p = userdata;
        dbus_uint32_t serials[PIPELINE_MAX];
        struct timespec start, now;
        size_t got = 0;

        for (size_t i = 0; i < p->n; i++)
                if (!dbus_connection_send(conn, p->msgs[i], &serials[i]))
                        _exit(CHILD_SEND);
        dbus_connection_flush(conn);
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (got < p->n) {
                DBusMessage *m;
                while (got < p->n && (m = dbus_connection_pop_message(conn))) {
                        int type = dbus_message_get_type(m);
                        if ((type == DBUS_MESSAGE_TYPE_METHOD_RETURN ||
                             type == DBUS_MESSAGE_TYPE_ERROR) &&
                            serial_in(dbus_message_get_reply_serial(m), serials, p->n)) {
                                testbus_report(report_fd, m);
                                got++;
                        }
                        dbus_message_unref(m);
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
                               (now.tv_nsec - start.tv_nsec) / 1000000;
                if (got < p->n && (elapsed >= 30000 ||
                                   !dbus_connection_read_write(conn, (int)(30000 - elapsed))))
                        _exit(CHILD_TIMEOUT);
        }
}

void testbus_pipeline_as(TestBus *t, uid_t uid, DBusMessage **msgs, size_t n,
                         DBusMessage **replies)
{
        struct pipeline p = { msgs, n };

        ck_assert_uint_le(n, PIPELINE_MAX);
        size_t got = testbus_run_as(t, uid, pipeline_child, &p, replies, n);
        for (size_t i = 0; i < n; i++)
                dbus_message_unref(msgs[i]);
        ck_assert_uint_eq(got, n);
}

DBusMessage *testbus_call_as(TestBus *t, uid_t uid, DBusMessage *msg)
{
        DBusMessage *reply;

        testbus_pipeline_as(t, uid, &msg, 1, &reply);
        return reply;
}
