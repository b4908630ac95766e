/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_dispatch.c: the table-driven D-Bus objects of daemon/dbus (bus.c,
 * object.c, introspect.c) as a client sees them, over a real peer-to-peer
 * libdbus connection.
 *
 * The server side is what vssd runs: a Loop on its own thread, a DBusServer
 * whose accepted connection is wrapped with bus_new_from_connection(), and
 * test interfaces declared as tables. The client is a private libdbus
 * connection used with blocking calls from the test thread, so assertions
 * stay on Check's thread. Anything that must touch the server side (publish,
 * free, answer a deferred call) runs on the loop thread through a mailbox.
 *
 * Every call goes through send_call(), which sends it, then a Peer.Ping
 * barrier, and requires exactly one reply to the call before the barrier's:
 * the server answers in order, so a missing or a second reply is caught on
 * every call. Signals received meanwhile wait in an inbox for the test.
 *
 * Authorization: the bus layer learns the peer's uid, asks the authorizer
 * once per connection for an identity and then for each call whose access
 * class is not BUS_ACCESS_ANYONE. The test authorizer records what it was
 * asked and refuses while told to, so the tests run the same as any uid.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vss/vss.h>

#include "daemon/dbus/bus.h"
#include "daemon/util/loop.h"

#define MANAGER VSS_ROOT_PATH
#define TEST_IFACE "org.linuxvss.Test1"
#define OTHER_IFACE "org.linuxvss.Test2"
#define OM_IFACE "org.freedesktop.DBus.ObjectManager"
#define CALL_TIMEOUT_MS 10000
#define INBOX_MAX 256

/* --- the server side: objects, interfaces, handlers (loop thread) --------------------- */

typedef struct TestObject {
        BusObject *obj;
        char name[64];
        uint32_t level;
        uint32_t quiet;
} TestObject;

enum { ROOT, A, HIDDEN, OUTSIDE, EXTRA, N_OBJS };
static TestObject objs[N_OBJS];

/* How often each handler ran; written on the loop thread, read by the test. */
static struct {
        atomic_int echo, complex, nothing, fail, reply_then_fail, later, other_echo;
        atomic_int set_level, set_quiet;
} counters;

/* What the test authorizer was asked (loop thread) and whether it refuses. */
static struct {
        atomic_int identified, checked, freed;
        atomic_bool refuse;
        atomic_uint last_access;
        atomic_uint uid;
        char last_what[64];
} auth;

static DBusMessage *deferred[8];
static atomic_int n_deferred;
static char complex_seen[256];

static int method_echo(BusCall *call, void *userdata)
{
        const char *text;
        dbus_uint32_t n;

        atomic_fetch_add(&counters.echo, 1);
        if (!dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &text,
                                   DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID))
                return -EINVAL;
        return bus_call_reply(call, DBUS_TYPE_STRING, &text, DBUS_TYPE_UINT32, &n,
                              DBUS_TYPE_INVALID);
}

/* (a{sv} options, as names, o target) -> (u n_names, s summary). */
static int method_complex(BusCall *call, void *userdata)
{
        DBusMessageIter it, dict, entry, names;
        size_t len = 0;
        dbus_uint32_t n = 0;
        const char *s, *summary = complex_seen;

        atomic_fetch_add(&counters.complex, 1);
        dbus_message_iter_init(bus_call_get_message(call), &it);
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                DBusMessageIter v;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &s);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &v);
                len += (size_t)snprintf(complex_seen + len, sizeof(complex_seen) - len, "%s:%c,",
                                        s, dbus_message_iter_get_arg_type(&v));
                dbus_message_iter_next(&dict);
        }
        dbus_message_iter_next(&it);
        dbus_message_iter_recurse(&it, &names);
        while (dbus_message_iter_get_arg_type(&names) == DBUS_TYPE_STRING) {
                n++;
                dbus_message_iter_next(&names);
        }
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        snprintf(complex_seen + len, sizeof(complex_seen) - len, "|%s", s);
        return bus_call_reply(call, DBUS_TYPE_UINT32, &n, DBUS_TYPE_STRING, &summary,
                              DBUS_TYPE_INVALID);
}

/* Returns success without replying: the dispatcher sends the empty reply. */
static int method_nothing(BusCall *call, void *userdata)
{
        atomic_fetch_add(&counters.nothing, 1);
        return 0;
}

static int method_fail(BusCall *call, void *userdata)
{
        const char *how;

        atomic_fetch_add(&counters.fail, 1);
        dbus_message_get_args(bus_call_get_message(call), NULL, DBUS_TYPE_STRING, &how,
                              DBUS_TYPE_INVALID);
        if (strcmp(how, "vss") == 0)
                return bus_call_error(call, -VSS_E_BAD_STATE,
                                      "snapshot set %s is already committed; start a new one",
                                      "42");
        if (strcmp(how, "errno") == 0)
                return -ENOENT;
        if (strcmp(how, "bad-utf8") == 0)
                return bus_call_error(call, -EINVAL, "volume \"%s\" is unknown", "sd\xff\xfe");
        if (strcmp(how, "again") == 0)
                return -EAGAIN; /* a failure like any other, not "ask the uid first" */
        return -ENOTDIR; /* a code with no name of its own */
}

static int method_reply_then_fail(BusCall *call, void *userdata)
{
        const char *text = "replied";

        atomic_fetch_add(&counters.reply_then_fail, 1);
        bus_call_reply(call, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
        return -EIO;
}

/* Keeps the request; the test answers it later from the loop thread. */
static int method_later(BusCall *call, void *userdata)
{
        atomic_fetch_add(&counters.later, 1);
        deferred[atomic_fetch_add(&n_deferred, 1)] = bus_call_defer(call);
        return 0;
}

static int method_other_echo(BusCall *call, void *userdata)
{
        const char *text = "other";

        atomic_fetch_add(&counters.other_echo, 1);
        return bus_call_reply(call, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
}

/* () -> (b known, u uid): what bus_call_get_uid() tells a handler. */
static int method_uid(BusCall *call, void *userdata)
{
        uid_t uid = (uid_t)-1;
        dbus_bool_t known = bus_call_get_uid(call, &uid) >= 0;
        dbus_uint32_t u = (dbus_uint32_t)uid;

        return bus_call_reply(call, DBUS_TYPE_BOOLEAN, &known, DBUS_TYPE_UINT32, &u,
                              DBUS_TYPE_INVALID);
}

static int get_name(DBusMessageIter *iter, void *userdata)
{
        TestObject *t = userdata;

        return bus_append_string(iter, t->name) ? 0 : -ENOMEM;
}

static int get_level(DBusMessageIter *iter, void *userdata)
{
        TestObject *t = userdata;

        return bus_append_uint32(iter, t->level) ? 0 : -ENOMEM;
}

static int set_level(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        TestObject *t = userdata;
        dbus_uint32_t v;

        atomic_fetch_add(&counters.set_level, 1);
        dbus_message_iter_get_basic(iter, &v);
        if (v > 100)
                return bus_call_error(call, -EINVAL, "Level %u is over 100; give 0..100", v);
        t->level = v;
        return 0;
}

static int get_quiet(DBusMessageIter *iter, void *userdata)
{
        TestObject *t = userdata;

        return bus_append_uint32(iter, t->quiet) ? 0 : -ENOMEM;
}

static int set_quiet(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        TestObject *t = userdata;
        dbus_uint32_t v;

        atomic_fetch_add(&counters.set_quiet, 1);
        dbus_message_iter_get_basic(iter, &v);
        t->quiet = v;
        return 0;
}

static int get_id(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, "b174487d-9ce0-4bcd-b915-f31ece126eb6") ? 0 : -ENOMEM;
}

/* Text from a device can be anything; libdbus would abort on invalid UTF-8. */
static int get_raw(DBusMessageIter *iter, void *userdata)
{
        return bus_append_string(iter, "caf\xe9") ? 0 : -ENOMEM;
}

static int get_count(DBusMessageIter *iter, void *userdata)
{
        return bus_append_uint32(iter, 3) ? 0 : -ENOMEM;
}

static const BusInterface test_iface = {
        .name = TEST_IFACE,
        .methods = (const BusMethod[]){
                { "Echo", BUS_ARGS({ "text", "s" }, { "n", "u" }),
                  BUS_ARGS({ "text", "s" }, { "n", "u" }), method_echo, BUS_ACCESS_ANYONE },
                { "Complex", BUS_ARGS({ "options", "a{sv}" }, { "names", "as" }, { "target", "o" }),
                  BUS_ARGS({ "n_names", "u" }, { "summary", "s" }), method_complex,
                  BUS_ACCESS_BACKUP },
                { "Nothing", BUS_NO_ARGS, BUS_NO_ARGS, method_nothing, BUS_ACCESS_ROOT },
                { "Fail", BUS_ARGS({ "how", "s" }), BUS_NO_ARGS, method_fail, BUS_ACCESS_WRITER },
                { "ReplyThenFail", BUS_NO_ARGS, BUS_ARGS({ "text", "s" }), method_reply_then_fail,
                  BUS_ACCESS_ROOT },
                { "Later", BUS_NO_ARGS, BUS_ARGS({ "text", "s" }), method_later,
                  BUS_ACCESS_BACKUP },
                { "Uid", BUS_NO_ARGS, BUS_ARGS({ "known", "b" }, { "uid", "u" }), method_uid,
                  BUS_ACCESS_ANYONE },
                { NULL },
        },
        .properties = (const BusProperty[]){
                { "Name", "s", get_name, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "Level", "u", get_level, set_level, BUS_PROPERTY_EMITS_CHANGE },
                { "Quiet", "u", get_quiet, set_quiet, 0 },
                { "Id", "s", get_id, NULL, BUS_PROPERTY_CONST },
                { "Raw", "s", get_raw, NULL, 0 },
                { NULL },
        },
        .signals = (const BusSignal[]){
                { "Happened", BUS_ARGS({ "what", "s" }) },
                { NULL },
        },
};

static const BusInterface other_iface = {
        .name = OTHER_IFACE,
        .methods = (const BusMethod[]){
                { "OtherEcho", BUS_NO_ARGS, BUS_ARGS({ "text", "s" }), method_other_echo,
                  BUS_ACCESS_ANYONE },
                { NULL },
        },
        .properties = (const BusProperty[]){
                { "Count", "u", get_count, NULL, BUS_PROPERTY_CONST },
                { NULL },
        },
};

/* --- the test authorizer (loop thread) ------------------------------------------------ */

static int test_identify(uid_t uid, void **ret_identity, void *userdata)
{
        atomic_fetch_add(&auth.identified, 1);
        atomic_store(&auth.uid, (unsigned)uid);
        *ret_identity = strdup("the test's identity");
        return *ret_identity ? 0 : -ENOMEM;
}

static int test_check(const void *identity, unsigned access, const char *what, char *err,
                      size_t err_size, void *userdata)
{
        atomic_fetch_add(&auth.checked, 1);
        atomic_store(&auth.last_access, access);
        snprintf(auth.last_what, sizeof(auth.last_what), "%s", what);
        if (!atomic_load(&auth.refuse))
                return 0;
        snprintf(err, err_size, "%s refused to %s by the test", what, (const char *)identity);
        return -EACCES;
}

static void test_free_identity(void *identity)
{
        atomic_fetch_add(&auth.freed, 1);
        free(identity);
}

static const BusAuthorizer test_authorizer = {
        .identify = test_identify,
        .check = test_check,
        .free_identity = test_free_identity,
};

/* --- the harness ------------------------------------------------------------------ */

static struct {
        Loop *loop;
        DBusServer *server;
        Bus *bus;
        int bus_error;
        DBusConnection *client;
        pthread_t thread;
        bool running;
        int loop_result;
        int expected_result;
        int efd;
        LoopSource *mailbox;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        void (*job)(void *);
        void *job_arg;
        bool job_done;
        DBusMessage *inbox[INBOX_MAX];
        size_t n_inbox;
} H;

struct server_watch {
        int fd;
        LoopSource *source;
};

static int server_watch_io(LoopSource *source, int fd, uint32_t revents, void *userdata)
{
        unsigned flags = 0;

        if (revents & EPOLLIN)
                flags |= DBUS_WATCH_READABLE;
        if (revents & EPOLLOUT)
                flags |= DBUS_WATCH_WRITABLE;
        if (revents & EPOLLERR)
                flags |= DBUS_WATCH_ERROR;
        if (revents & EPOLLHUP)
                flags |= DBUS_WATCH_HANGUP;
        dbus_watch_handle(userdata, flags);
        return 0;
}

static void server_watch_sync(DBusWatch *watch)
{
        struct server_watch *sw = dbus_watch_get_data(watch);
        unsigned flags = dbus_watch_get_flags(watch);

        sw->source = loop_source_free(sw->source);
        if (dbus_watch_get_enabled(watch))
                loop_add_io(H.loop, &sw->source, sw->fd,
                            (flags & DBUS_WATCH_READABLE ? EPOLLIN : 0) |
                                    (flags & DBUS_WATCH_WRITABLE ? EPOLLOUT : 0),
                            server_watch_io, watch);
}

static void server_watch_free(void *p)
{
        struct server_watch *sw = p;

        loop_source_free(sw->source);
        close(sw->fd);
        free(sw);
}

static dbus_bool_t server_watch_add(DBusWatch *watch, void *userdata)
{
        struct server_watch *sw = calloc(1, sizeof(*sw));

        if (!sw)
                return FALSE;
        sw->fd = fcntl(dbus_watch_get_unix_fd(watch), F_DUPFD_CLOEXEC, 3);
        dbus_watch_set_data(watch, sw, server_watch_free);
        server_watch_sync(watch);
        return TRUE;
}

static void server_watch_remove(DBusWatch *watch, void *userdata)
{
        struct server_watch *sw = dbus_watch_get_data(watch);

        sw->source = loop_source_free(sw->source);
}

static void server_watch_toggled(DBusWatch *watch, void *userdata)
{
        server_watch_sync(watch);
}

/* On the loop thread: serve our objects on the one connection the test makes. */
static void on_new_connection(DBusServer *server, DBusConnection *conn, void *userdata)
{
        if (H.bus) {
                H.bus_error = -EEXIST;
                return;
        }
        H.bus_error = bus_new_from_connection(&H.bus, H.loop, conn, false, MANAGER);
}

static int mailbox_io(LoopSource *source, int fd, uint32_t revents, void *userdata)
{
        uint64_t v;

        if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
                return 0;
        pthread_mutex_lock(&H.lock);
        void (*job)(void *) = H.job;
        void *arg = H.job_arg;
        pthread_mutex_unlock(&H.lock);
        if (job)
                job(arg);
        pthread_mutex_lock(&H.lock);
        H.job = NULL;
        H.job_done = true;
        pthread_cond_broadcast(&H.cond);
        pthread_mutex_unlock(&H.lock);
        return 0;
}

/* Run JOB(ARG) on the loop thread and wait for it. */
static void on_loop(void (*job)(void *), void *arg)
{
        uint64_t one = 1;

        pthread_mutex_lock(&H.lock);
        H.job = job;
        H.job_arg = arg;
        H.job_done = false;
        pthread_mutex_unlock(&H.lock);
        ck_assert_int_eq(write(H.efd, &one, sizeof(one)), (ssize_t)sizeof(one));
        pthread_mutex_lock(&H.lock);
        while (!H.job_done)
                pthread_cond_wait(&H.cond, &H.lock);
        pthread_mutex_unlock(&H.lock);
}

static void *loop_thread(void *arg)
{
        H.loop_result = loop_run(H.loop);
        return NULL;
}

static void job_exit(void *arg)
{
        loop_exit(H.loop, 0);
}

static void job_set_authorizer(void *arg)
{
        bus_set_authorizer(H.bus, arg, NULL);
}

static int object_setup(TestObject *t, const char *path, const char *name, bool other,
                        bool publish)
{
        snprintf(t->name, sizeof(t->name), "%s", name);
        t->level = 5;
        t->quiet = 0;
        int r = bus_object_new(H.bus, &t->obj, path);
        if (r >= 0)
                r = bus_object_add_interface(t->obj, &test_iface, t);
        if (r >= 0 && other)
                r = bus_object_add_interface(t->obj, &other_iface, t);
        if (r >= 0 && publish)
                r = bus_object_publish(t->obj);
        return r;
}

/*
 * The manager object itself; A below it with two interfaces; HIDDEN below it
 * but never published; OUTSIDE published but not under the manager path.
 */
static void job_create_objects(void *arg)
{
        int *r = arg;

        *r = H.bus ? 0 : -ENOTCONN;
        if (*r >= 0)
                bus_set_authorizer(H.bus, &test_authorizer, NULL);
        if (*r >= 0)
                *r = object_setup(&objs[ROOT], MANAGER, "root", false, true);
        if (*r >= 0)
                *r = object_setup(&objs[A], MANAGER "/a", "a", true, true);
        if (*r >= 0)
                *r = object_setup(&objs[HIDDEN], MANAGER "/hidden", "hidden", false, false);
        if (*r >= 0)
                *r = object_setup(&objs[OUTSIDE], "/elsewhere/x", "outside", false, true);
}

static void inbox_clear(void)
{
        for (size_t i = 0; i < H.n_inbox; i++)
                dbus_message_unref(H.inbox[i]);
        H.n_inbox = 0;
}

/* Move what the client has received into the inbox, in order. */
static void inbox_collect(void)
{
        DBusMessage *m;

        while ((m = dbus_connection_pop_message(H.client))) {
                ck_assert_uint_lt(H.n_inbox, INBOX_MAX);
                H.inbox[H.n_inbox++] = m;
        }
}

static void inbox_remove(size_t i)
{
        memmove(&H.inbox[i], &H.inbox[i + 1], (H.n_inbox - i - 1) * sizeof(H.inbox[0]));
        H.n_inbox--;
}

/* Everything the server sent before answering this Ping is in the inbox after it. */
static void barrier(void)
{
        DBusMessage *ping = dbus_message_new_method_call(NULL, "/", DBUS_INTERFACE_PEER, "Ping");
        DBusError error;

        ck_assert_ptr_nonnull(ping);
        dbus_error_init(&error);
        DBusMessage *pong = dbus_connection_send_with_reply_and_block(H.client, ping,
                                                                      CALL_TIMEOUT_MS, &error);
        dbus_message_unref(ping);
        ck_assert_msg(pong, "barrier failed: %s: %s", error.name, error.message);
        dbus_message_unref(pong);
        inbox_collect();
}

/* The replies to SERIAL in the inbox: removed and counted; the first is returned. */
static DBusMessage *take_replies(dbus_uint32_t serial, size_t *ret_n)
{
        DBusMessage *first = NULL;
        size_t n = 0;

        for (size_t i = 0; i < H.n_inbox;) {
                DBusMessage *m = H.inbox[i];
                int type = dbus_message_get_type(m);
                if ((type == DBUS_MESSAGE_TYPE_METHOD_RETURN || type == DBUS_MESSAGE_TYPE_ERROR) &&
                    dbus_message_get_reply_serial(m) == serial) {
                        if (n++ == 0)
                                first = m;
                        else
                                dbus_message_unref(m);
                        inbox_remove(i);
                } else
                        i++;
        }
        *ret_n = n;
        return first;
}

static dbus_uint32_t send_only(DBusMessage *m)
{
        dbus_uint32_t serial = 0;

        ck_assert(dbus_connection_send(H.client, m, &serial));
        dbus_message_unref(m);
        return serial;
}

/* Send M (consumed) and return its reply, requiring exactly one. */
static DBusMessage *send_call(DBusMessage *m)
{
        const char *member = dbus_message_get_member(m);
        char what[128];
        size_t n;

        snprintf(what, sizeof(what), "%s", member ? member : "?");
        dbus_uint32_t serial = send_only(m);
        barrier();
        DBusMessage *reply = take_replies(serial, &n);
        ck_assert_msg(n == 1, "%s got %zu replies", what, n);
        return reply;
}

static DBusMessage *new_call(const char *path, const char *iface, const char *member)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, path, iface, member);

        ck_assert_ptr_nonnull(m);
        return m;
}

static DBusMessage *call(const char *path, const char *iface, const char *member,
                         int first_arg_type, ...)
{
        DBusMessage *m = new_call(path, iface, member);
        va_list ap;

        va_start(ap, first_arg_type);
        ck_assert(dbus_message_append_args_valist(m, first_arg_type, ap));
        va_end(ap);
        return send_call(m);
}

static const char *error_text(DBusMessage *reply)
{
        const char *text = "";

        dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
        return text;
}

/* REPLY is the error NAME whose text contains TEXT_PART; REPLY is consumed. */
static void assert_error(DBusMessage *reply, const char *name, const char *text_part)
{
        char got[256], text[512];
        bool is_error = dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR;

        /* Copied out first, so that a failing check does not leak the reply. */
        snprintf(got, sizeof(got), "%s", is_error ? dbus_message_get_error_name(reply) : "");
        snprintf(text, sizeof(text), "%s", error_text(reply));
        dbus_message_unref(reply);
        ck_assert_msg(is_error, "expected %s, got a method return", name);
        ck_assert_str_eq(got, name);
        if (text_part)
                ck_assert_msg(strstr(text, text_part), "%s: \"%s\" lacks \"%s\"", name, text,
                              text_part);
}

static void assert_return(DBusMessage *reply, const char *signature)
{
        ck_assert_msg(dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN,
                      "error %s: %s", dbus_message_get_error_name(reply), error_text(reply));
        ck_assert_str_eq(dbus_message_get_signature(reply), signature);
}

/* The first signal IFACE.MEMBER in the inbox (removed; caller unrefs), or NULL. */
static DBusMessage *take_signal(const char *iface, const char *member)
{
        for (size_t i = 0; i < H.n_inbox; i++)
                if (dbus_message_is_signal(H.inbox[i], iface, member)) {
                        DBusMessage *m = H.inbox[i];
                        inbox_remove(i);
                        return m;
                }
        return NULL;
}

static size_t count_signals(const char *iface, const char *member)
{
        size_t n = 0;

        for (size_t i = 0; i < H.n_inbox; i++)
                n += dbus_message_is_signal(H.inbox[i], iface, member);
        return n;
}

static void setup(void)
{
        DBusError error;
        int r = -1;

        memset(&H, 0, sizeof(H));
        memset(objs, 0, sizeof(objs));
        memset(&counters, 0, sizeof(counters));
        memset(&auth, 0, sizeof(auth));
        atomic_store(&n_deferred, 0);
        pthread_mutex_init(&H.lock, NULL);
        pthread_cond_init(&H.cond, NULL);
        ck_assert_int_eq(loop_new(&H.loop), 0);
        H.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        ck_assert_int_ge(H.efd, 0);
        ck_assert_int_eq(loop_add_io(H.loop, &H.mailbox, H.efd, EPOLLIN, mailbox_io, NULL), 0);

        dbus_error_init(&error);
        H.server = dbus_server_listen("unix:tmpdir=/tmp", &error);
        ck_assert_msg(H.server, "cannot listen: %s", error.message);
        dbus_server_set_new_connection_function(H.server, on_new_connection, NULL, NULL);
        ck_assert(dbus_server_set_watch_functions(H.server, server_watch_add, server_watch_remove,
                                                  server_watch_toggled, NULL, NULL));
        char *address = dbus_server_get_address(H.server);
        H.client = dbus_connection_open_private(address, &error);
        dbus_free(address);
        ck_assert_msg(H.client, "cannot connect: %s", error.message);

        ck_assert_int_eq(pthread_create(&H.thread, NULL, loop_thread, NULL), 0);
        H.running = true;
        barrier(); /* authenticated, accepted and served */
        on_loop(job_create_objects, &r);
        ck_assert_int_eq(H.bus_error, 0);
        ck_assert_int_eq(r, 0);
        barrier();
        inbox_clear();
}

static void stop_loop(void)
{
        on_loop(job_exit, NULL);
        pthread_join(H.thread, NULL);
        H.running = false;
}

static void teardown(void)
{
        if (H.running)
                stop_loop();
        for (int i = 0; i < atomic_load(&n_deferred); i++)
                if (deferred[i])
                        dbus_message_unref(deferred[i]);
        H.bus = bus_free(H.bus);
        dbus_server_disconnect(H.server);
        dbus_server_unref(H.server);
        if (H.client) {
                dbus_connection_close(H.client);
                dbus_connection_unref(H.client);
        }
        inbox_clear();
        loop_source_free(H.mailbox);
        close(H.efd);
        H.loop = loop_free(H.loop);
        pthread_cond_destroy(&H.cond);
        pthread_mutex_destroy(&H.lock);
        ck_assert_int_eq(H.loop_result, H.expected_result);
}

/* --- reading replies ------------------------------------------------------------------- */

static void iter_variant_string(DBusMessageIter *variant, const char **ret)
{
        DBusMessageIter v;

        ck_assert_int_eq(dbus_message_iter_get_arg_type(variant), DBUS_TYPE_VARIANT);
        dbus_message_iter_recurse(variant, &v);
        ck_assert_int_eq(dbus_message_iter_get_arg_type(&v), DBUS_TYPE_STRING);
        dbus_message_iter_get_basic(&v, ret);
}

static uint32_t iter_variant_u32(DBusMessageIter *variant)
{
        DBusMessageIter v;
        dbus_uint32_t x;

        ck_assert_int_eq(dbus_message_iter_get_arg_type(variant), DBUS_TYPE_VARIANT);
        dbus_message_iter_recurse(variant, &v);
        ck_assert_int_eq(dbus_message_iter_get_arg_type(&v), DBUS_TYPE_UINT32);
        dbus_message_iter_get_basic(&v, &x);
        return x;
}

/* In the a{sv} at ASV, position *RET_VALUE on KEY's variant; false if absent. */
static bool asv_find(DBusMessageIter *asv, const char *key, DBusMessageIter *ret_value)
{
        DBusMessageIter dict, entry;
        const char *k;

        ck_assert_int_eq(dbus_message_iter_get_arg_type(asv), DBUS_TYPE_ARRAY);
        dbus_message_iter_recurse(asv, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &k);
                if (strcmp(k, key) == 0) {
                        dbus_message_iter_next(&entry);
                        *ret_value = entry;
                        return true;
                }
                dbus_message_iter_next(&dict);
        }
        return false;
}

static size_t array_length(DBusMessageIter *array)
{
        DBusMessageIter it;
        size_t n = 0;

        ck_assert_int_eq(dbus_message_iter_get_arg_type(array), DBUS_TYPE_ARRAY);
        dbus_message_iter_recurse(array, &it);
        while (dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_INVALID) {
                n++;
                dbus_message_iter_next(&it);
        }
        return n;
}

/* a{oa{sa{sv}}}: position *RET on PATH's a{sa{sv}}; false if PATH is not listed. */
static bool managed_find(DBusMessage *reply, const char *path, DBusMessageIter *ret)
{
        DBusMessageIter it, dict, entry;
        const char *p;

        dbus_message_iter_init(reply, &it);
        dbus_message_iter_recurse(&it, &dict);
        while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &p);
                if (strcmp(p, path) == 0) {
                        dbus_message_iter_next(&entry);
                        *ret = entry;
                        return true;
                }
                dbus_message_iter_next(&dict);
        }
        return false;
}

/* Properties.Get: the variant of the reply, which must be a method return. */
static DBusMessage *get_property(const char *path, const char *iface, const char *name,
                                 DBusMessageIter *ret_variant)
{
        DBusMessage *reply = call(path, DBUS_INTERFACE_PROPERTIES, "Get", DBUS_TYPE_STRING, &iface,
                                  DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);

        if (ret_variant && dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN) {
                assert_return(reply, "v");
                dbus_message_iter_init(reply, ret_variant);
        }
        return reply;
}

static uint32_t get_u32(const char *path, const char *name)
{
        DBusMessageIter v;
        DBusMessage *reply = get_property(path, TEST_IFACE, name, &v);

        assert_return(reply, "v");
        uint32_t x = iter_variant_u32(&v);
        dbus_message_unref(reply);
        return x;
}

/* Properties.Set of a basic-typed VALUE of TYPE. */
static DBusMessage *set_property(const char *path, const char *iface, const char *name, int type,
                                 const void *value)
{
        DBusMessage *m = new_call(path, DBUS_INTERFACE_PROPERTIES, "Set");
        DBusMessageIter it, v;
        const char sig[2] = { (char)type, '\0' };

        dbus_message_iter_init_append(m, &it);
        ck_assert(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface));
        ck_assert(dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &name));
        ck_assert(dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, sig, &v));
        ck_assert(dbus_message_iter_append_basic(&v, type, value));
        ck_assert(dbus_message_iter_close_container(&it, &v));
        return send_call(m);
}

/* --- methods ---------------------------------------------------------------------------- */

START_TEST(test_method_reply)
{
        const char *text = "h\xc3\xa9llo", *got;
        dbus_uint32_t n = 42, got_n;
        DBusMessage *reply = call(MANAGER "/a", TEST_IFACE, "Echo", DBUS_TYPE_STRING, &text,
                                  DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID);

        assert_return(reply, "su");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &got, DBUS_TYPE_UINT32,
                                        &got_n, DBUS_TYPE_INVALID));
        ck_assert_str_eq(got, text);
        ck_assert_uint_eq(got_n, 42);
        dbus_message_unref(reply);
        ck_assert_int_eq(atomic_load(&counters.echo), 1);
}
END_TEST

START_TEST(test_method_container_args)
{
        DBusMessage *m = new_call(MANAGER "/a", TEST_IFACE, "Complex");
        DBusMessageIter it, dict, entry, v, names;
        const char *keys[] = { "force", "timeout" }, *list[] = { "x", "y", "z" };
        const char *target = "/org/linuxvss/Vss1/set_1", *summary;
        dbus_bool_t force = TRUE;
        dbus_uint32_t timeout = 5, n;

        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
        dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[0]);
        dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "b", &v);
        dbus_message_iter_append_basic(&v, DBUS_TYPE_BOOLEAN, &force);
        dbus_message_iter_close_container(&entry, &v);
        dbus_message_iter_close_container(&dict, &entry);
        dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[1]);
        dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "u", &v);
        dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &timeout);
        dbus_message_iter_close_container(&entry, &v);
        dbus_message_iter_close_container(&dict, &entry);
        dbus_message_iter_close_container(&it, &dict);
        dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &names);
        for (int i = 0; i < 3; i++)
                dbus_message_iter_append_basic(&names, DBUS_TYPE_STRING, &list[i]);
        dbus_message_iter_close_container(&it, &names);
        ck_assert(dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &target));

        DBusMessage *reply = send_call(m);
        assert_return(reply, "us");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &n, DBUS_TYPE_STRING,
                                        &summary, DBUS_TYPE_INVALID));
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(summary, "force:b,timeout:u,|/org/linuxvss/Vss1/set_1");
        dbus_message_unref(reply);
}
END_TEST

/* Without an interface, the member is looked up in the object's interfaces. */
START_TEST(test_method_without_interface)
{
        const char *got;
        DBusMessage *reply = call(MANAGER "/a", NULL, "OtherEcho", DBUS_TYPE_INVALID);

        assert_return(reply, "s");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &got, DBUS_TYPE_INVALID));
        ck_assert_str_eq(got, "other");
        dbus_message_unref(reply);
        ck_assert_int_eq(atomic_load(&counters.other_echo), 1);
}
END_TEST

START_TEST(test_wrong_signature_not_dispatched)
{
        const char *text = "x";
        dbus_uint32_t n = 1;

        assert_error(call(MANAGER "/a", TEST_IFACE, "Echo", DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "expected signature 'su'");
        assert_error(call(MANAGER "/a", TEST_IFACE, "Echo", DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "'su'");
        assert_error(call(MANAGER "/a", TEST_IFACE, "Echo", DBUS_TYPE_STRING, &text,
                          DBUS_TYPE_UINT32, &n, DBUS_TYPE_UINT32, &n, DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "got 'suu'");
        assert_error(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_STRING, &text,
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "expected signature ''");
        /* The handlers never saw those calls. */
        ck_assert_int_eq(atomic_load(&counters.echo), 0);
        ck_assert_int_eq(atomic_load(&counters.nothing), 0);
        /* Standard methods check theirs too. */
        const char *iface = TEST_IFACE;
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "Get", DBUS_TYPE_STRING, &iface,
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "'ss'");
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "GetAll", DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "'s'");
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "Set", DBUS_TYPE_STRING, &iface,
                          DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, "'ssv'");
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_INTROSPECTABLE, "Introspect",
                          DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, NULL);
        assert_error(call(MANAGER, OM_IFACE, "GetManagedObjects", DBUS_TYPE_UINT32, &n,
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_INVALID_ARGS, NULL);
        ck_assert_int_eq(atomic_load(&counters.set_level), 0);
}
END_TEST

START_TEST(test_unknown_method_interface_object)
{
        assert_error(call(MANAGER "/a", TEST_IFACE, "NoSuchMethod", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_METHOD, "NoSuchMethod");
        /* OtherEcho exists, but not on the interface asked for. */
        assert_error(call(MANAGER "/a", TEST_IFACE, "OtherEcho", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_METHOD, "OtherEcho");
        assert_error(call(MANAGER "/a", "org.example.Nope", "Echo", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_INTERFACE, "org.example.Nope");
        /* ROOT has Test1 only. */
        assert_error(call(MANAGER, OTHER_IFACE, "OtherEcho", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_INTERFACE, OTHER_IFACE);
        assert_error(call(MANAGER "/missing", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, MANAGER "/missing");
        assert_error(call(MANAGER "/missing", NULL, "Nothing", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
        /* Created but not published: not there yet for clients. */
        assert_error(call(MANAGER "/hidden", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
        const char *iface = TEST_IFACE;
        assert_error(call(MANAGER "/hidden", DBUS_INTERFACE_PROPERTIES, "GetAll", DBUS_TYPE_STRING,
                          &iface, DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
        /* The object manager is only at the manager path. */
        assert_error(call(MANAGER "/a", OM_IFACE, "GetManagedObjects", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_INTERFACE, NULL);
        ck_assert_int_eq(atomic_load(&counters.nothing), 0);
}
END_TEST

/* Properties and Introspectable are on every object: an unknown member there is UnknownMethod. */
START_TEST(test_unknown_member_of_standard_interface)
{
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "Frobnicate", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_METHOD, "Frobnicate");
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_INTROSPECTABLE, "Frobnicate",
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_METHOD, "Frobnicate");
}
END_TEST

START_TEST(test_handler_errors)
{
        const char *how;
        DBusMessage *reply;

        /* A VSS_E_* code with the handler's message. */
        how = "vss";
        reply = call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how, DBUS_TYPE_INVALID);
        ck_assert_int_eq(vss_error_from_name(dbus_message_get_error_name(reply)), -VSS_E_BAD_STATE);
        ck_assert_str_eq(error_text(reply), "snapshot set 42 is already committed; start a new one");
        assert_error(reply, VSS_ERROR_PREFIX "BadState", NULL);

        /* An errno without a message: the code's own text. */
        how = "errno";
        reply = call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how, DBUS_TYPE_INVALID);
        ck_assert_str_eq(error_text(reply), strerror(ENOENT));
        assert_error(reply, VSS_ERROR_PREFIX "NotFound", NULL);

        /* A message that is not UTF-8 must not make libdbus abort the daemon. */
        how = "bad-utf8";
        reply = call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how, DBUS_TYPE_INVALID);
        ck_assert(dbus_validate_utf8(error_text(reply), NULL));
        assert_error(reply, VSS_ERROR_PREFIX "InvalidArgs", NULL);

        /* A code without a name of its own. */
        how = "other";
        assert_error(call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how,
                          DBUS_TYPE_INVALID),
                     VSS_ERROR_PREFIX "Failed", strerror(ENOTDIR));
        ck_assert_int_eq(atomic_load(&counters.fail), 4);
}
END_TEST

START_TEST(test_empty_and_single_replies)
{
        DBusMessage *reply = call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID);
        const char *text;

        /* Success without an explicit reply: an empty method return. */
        assert_return(reply, "");
        dbus_message_unref(reply);
        /* Replied, then failed: the reply stands, no error follows (send_call counts). */
        reply = call(MANAGER "/a", TEST_IFACE, "ReplyThenFail", DBUS_TYPE_INVALID);
        assert_return(reply, "s");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
        ck_assert_str_eq(text, "replied");
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_no_reply_expected)
{
        const char *how = "vss";
        DBusMessage *m = new_call(MANAGER "/a", TEST_IFACE, "Nothing");
        size_t n;

        dbus_message_set_no_reply(m, TRUE);
        dbus_uint32_t s1 = send_only(m);
        m = new_call(MANAGER "/a", TEST_IFACE, "Fail");
        dbus_message_append_args(m, DBUS_TYPE_STRING, &how, DBUS_TYPE_INVALID);
        dbus_message_set_no_reply(m, TRUE);
        dbus_uint32_t s2 = send_only(m);
        barrier();
        ck_assert_ptr_null(take_replies(s1, &n));
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(take_replies(s2, &n));
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(atomic_load(&counters.nothing), 1);
        ck_assert_int_eq(atomic_load(&counters.fail), 1);
}
END_TEST

struct deferred_answer {
        int index;
        int code;           /* 0: a method return carrying TEXT */
        const char *text;
        int result;
};

static void job_answer_deferred(void *arg)
{
        struct deferred_answer *d = arg;
        DBusMessage *request = deferred[d->index];

        if (d->code < 0) {
                d->result = bus_send_error(H.bus, request, d->code, d->text);
                return;
        }
        DBusMessage *reply = dbus_message_new_method_return(request);
        dbus_message_append_args(reply, DBUS_TYPE_STRING, &d->text, DBUS_TYPE_INVALID);
        d->result = bus_send(H.bus, reply);
        dbus_message_unref(reply);
}

START_TEST(test_deferred_reply)
{
        size_t n;
        const char *text;

        dbus_uint32_t serial = send_only(new_call(MANAGER "/a", TEST_IFACE, "Later"));
        barrier();
        /* Kept, not answered: no empty reply from the dispatcher. */
        ck_assert_ptr_null(take_replies(serial, &n));
        ck_assert_int_eq(atomic_load(&counters.later), 1);
        ck_assert_int_eq(atomic_load(&n_deferred), 1);
        /* Other calls are served meanwhile. */
        dbus_message_unref(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID));

        struct deferred_answer d = { .index = 0, .text = "done at last" };
        on_loop(job_answer_deferred, &d);
        ck_assert_int_eq(d.result, 0);
        barrier();
        DBusMessage *reply = take_replies(serial, &n);
        ck_assert_uint_eq(n, 1);
        assert_return(reply, "s");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID));
        ck_assert_str_eq(text, "done at last");
        dbus_message_unref(reply);
        barrier();
        ck_assert_ptr_null(take_replies(serial, &n));
}
END_TEST

START_TEST(test_deferred_error)
{
        size_t n;

        dbus_uint32_t serial = send_only(new_call(MANAGER "/a", TEST_IFACE, "Later"));
        barrier();
        ck_assert_ptr_null(take_replies(serial, &n));
        struct deferred_answer d = { .index = 0, .code = -VSS_E_ABORTED };
        on_loop(job_answer_deferred, &d);
        ck_assert_int_eq(d.result, 0);
        barrier();
        DBusMessage *reply = take_replies(serial, &n);
        ck_assert_uint_eq(n, 1);
        /* No message given: the code's sentence. */
        assert_error(reply, VSS_ERROR_PREFIX "Aborted", vss_strerror(-VSS_E_ABORTED));
}
END_TEST

/* --- properties -------------------------------------------------------------------------- */

START_TEST(test_get_properties)
{
        DBusMessageIter v;
        DBusMessage *reply;
        const char *s;

        reply = get_property(MANAGER "/a", TEST_IFACE, "Name", &v);
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "a");
        dbus_message_unref(reply);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 5);
        /* Invalid UTF-8 from a getter is replaced, not sent (libdbus would abort). */
        reply = get_property(MANAGER "/a", TEST_IFACE, "Raw", &v);
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "caf?");
        dbus_message_unref(reply);

        assert_error(get_property(MANAGER "/a", TEST_IFACE, "NoSuchProperty", NULL),
                     DBUS_ERROR_UNKNOWN_PROPERTY, "NoSuchProperty");
        assert_error(get_property(MANAGER "/a", "org.example.Nope", "Name", NULL),
                     DBUS_ERROR_UNKNOWN_INTERFACE, "org.example.Nope");
        assert_error(get_property(MANAGER "/missing", TEST_IFACE, "Name", NULL),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
}
END_TEST

START_TEST(test_get_all)
{
        const char *iface = TEST_IFACE, *s;
        DBusMessageIter it, v;
        DBusMessage *reply = call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "GetAll",
                                  DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID);

        assert_return(reply, "a{sv}");
        dbus_message_iter_init(reply, &it);
        ck_assert_uint_eq(array_length(&it), 5);
        ck_assert(asv_find(&it, "Name", &v));
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "a");
        ck_assert(asv_find(&it, "Level", &v));
        ck_assert_uint_eq(iter_variant_u32(&v), 5);
        ck_assert(asv_find(&it, "Quiet", &v));
        ck_assert(asv_find(&it, "Id", &v));
        ck_assert(asv_find(&it, "Raw", &v));
        dbus_message_unref(reply);

        /* Each interface has its own. */
        iface = OTHER_IFACE;
        reply = call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "GetAll", DBUS_TYPE_STRING, &iface,
                     DBUS_TYPE_INVALID);
        assert_return(reply, "a{sv}");
        dbus_message_iter_init(reply, &it);
        ck_assert_uint_eq(array_length(&it), 1);
        ck_assert(asv_find(&it, "Count", &v));
        ck_assert_uint_eq(iter_variant_u32(&v), 3);
        dbus_message_unref(reply);

        iface = "org.example.Nope";
        assert_error(call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "GetAll", DBUS_TYPE_STRING,
                          &iface, DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_INTERFACE, NULL);
}
END_TEST

/* PropertiesChanged from MSG: the interface, and the a{sv} at *RET_CHANGED. */
static void assert_properties_changed(DBusMessage *sig, const char *path, const char *iface,
                                      DBusMessageIter *ret_changed)
{
        DBusMessageIter it;
        const char *name;

        ck_assert_ptr_nonnull(sig);
        ck_assert_str_eq(dbus_message_get_path(sig), path);
        ck_assert_str_eq(dbus_message_get_signature(sig), "sa{sv}as");
        dbus_message_iter_init(sig, &it);
        dbus_message_iter_get_basic(&it, &name);
        ck_assert_str_eq(name, iface);
        dbus_message_iter_next(&it);
        *ret_changed = it;
        dbus_message_iter_next(&it);
        /* The new value is carried, so nothing is only "invalidated". */
        ck_assert_uint_eq(array_length(&it), 0);
}

START_TEST(test_set_property_emits_change)
{
        dbus_uint32_t level = 77;
        DBusMessageIter changed, v;
        DBusMessage *reply = set_property(MANAGER "/a", TEST_IFACE, "Level", DBUS_TYPE_UINT32,
                                          &level);

        assert_return(reply, "");
        dbus_message_unref(reply);
        /* Sent before the reply, so it is in the inbox now. */
        ck_assert_uint_eq(count_signals(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"), 1);
        DBusMessage *sig = take_signal(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        assert_properties_changed(sig, MANAGER "/a", TEST_IFACE, &changed);
        ck_assert_uint_eq(array_length(&changed), 1);
        ck_assert(asv_find(&changed, "Level", &v));
        ck_assert_uint_eq(iter_variant_u32(&v), 77);
        dbus_message_unref(sig);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 77);
        ck_assert_int_eq(atomic_load(&counters.set_level), 1);
}
END_TEST

START_TEST(test_set_property_without_change_signal)
{
        dbus_uint32_t quiet = 9;
        DBusMessage *reply = set_property(MANAGER "/a", TEST_IFACE, "Quiet", DBUS_TYPE_UINT32,
                                          &quiet);

        assert_return(reply, "");
        dbus_message_unref(reply);
        ck_assert_uint_eq(count_signals(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"), 0);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Quiet"), 9);
}
END_TEST

START_TEST(test_set_property_refusals)
{
        const char *name = "renamed";
        dbus_uint32_t level = 101;

        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Name", DBUS_TYPE_STRING, &name),
                     DBUS_ERROR_PROPERTY_READ_ONLY, "Name");
        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Id", DBUS_TYPE_STRING, &name),
                     DBUS_ERROR_PROPERTY_READ_ONLY, "Id");
        /* Wrong type in the variant: named, and the setter is not called. */
        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Level", DBUS_TYPE_STRING, &name),
                     DBUS_ERROR_INVALID_ARGS, "'u'");
        ck_assert_int_eq(atomic_load(&counters.set_level), 0);
        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Nope", DBUS_TYPE_UINT32, &level),
                     DBUS_ERROR_UNKNOWN_PROPERTY, "Nope");
        assert_error(set_property(MANAGER "/a", "org.example.Nope", "Level", DBUS_TYPE_UINT32,
                                  &level),
                     DBUS_ERROR_UNKNOWN_INTERFACE, NULL);
        /* The setter refuses: its error and message, and no change is announced. */
        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Level", DBUS_TYPE_UINT32, &level),
                     VSS_ERROR_PREFIX "InvalidArgs", "Level 101 is over 100");
        ck_assert_int_eq(atomic_load(&counters.set_level), 1);
        ck_assert_uint_eq(count_signals(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"), 0);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 5);
}
END_TEST

struct emit {
        int object;
        const BusInterface *iface;
        const char *new_name;
        int result;
};

static void job_emit_changed(void *arg)
{
        struct emit *e = arg;

        if (e->new_name)
                snprintf(objs[e->object].name, sizeof(objs[0].name), "%s", e->new_name);
        e->result = bus_object_emit_properties_changed(objs[e->object].obj, e->iface,
                                                       (const char *const[]){ "Name", NULL });
}

START_TEST(test_emit_properties_changed)
{
        struct emit e = { A, &test_iface, "a-renamed", 1 };
        DBusMessageIter changed, v;
        const char *s;

        on_loop(job_emit_changed, &e);
        ck_assert_int_eq(e.result, 0);
        barrier();
        DBusMessage *sig = take_signal(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        assert_properties_changed(sig, MANAGER "/a", TEST_IFACE, &changed);
        /* Only the property named, with its current value. */
        ck_assert_uint_eq(array_length(&changed), 1);
        ck_assert(asv_find(&changed, "Name", &v));
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "a-renamed");
        dbus_message_unref(sig);

        /* Unpublished objects stay silent. */
        e = (struct emit){ HIDDEN, &test_iface, NULL, 1 };
        on_loop(job_emit_changed, &e);
        ck_assert_int_eq(e.result, 0);
        /* An interface the object does not have is a programming error. */
        e = (struct emit){ ROOT, &other_iface, NULL, 1 };
        on_loop(job_emit_changed, &e);
        ck_assert_int_eq(e.result, -EINVAL);
        barrier();
        ck_assert_uint_eq(count_signals(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"), 0);
}
END_TEST

static void job_emit_happened(void *arg)
{
        const char *what = "freeze";

        *(int *)arg = bus_object_emit_signal(objs[A].obj, &test_iface, "Happened", NULL,
                                             DBUS_TYPE_STRING, &what, DBUS_TYPE_INVALID);
}

START_TEST(test_emit_signal)
{
        int r = 1;
        const char *what;

        on_loop(job_emit_happened, &r);
        ck_assert_int_eq(r, 0);
        barrier();
        DBusMessage *sig = take_signal(TEST_IFACE, "Happened");
        ck_assert_ptr_nonnull(sig);
        ck_assert_str_eq(dbus_message_get_path(sig), MANAGER "/a");
        ck_assert(dbus_message_get_args(sig, NULL, DBUS_TYPE_STRING, &what, DBUS_TYPE_INVALID));
        ck_assert_str_eq(what, "freeze");
        dbus_message_unref(sig);
}
END_TEST

/* --- object manager --------------------------------------------------------------------- */

static DBusMessage *get_managed_objects(void)
{
        DBusMessage *reply = call(MANAGER, OM_IFACE, "GetManagedObjects", DBUS_TYPE_INVALID);

        assert_return(reply, "a{oa{sa{sv}}}");
        return reply;
}

START_TEST(test_get_managed_objects)
{
        DBusMessage *reply = get_managed_objects();
        DBusMessageIter ifaces, props, v;
        const char *s;

        /* Published objects below the manager path only. */
        ck_assert(managed_find(reply, MANAGER "/a", &ifaces));
        ck_assert_uint_eq(array_length(&ifaces), 2);
        ck_assert(asv_find(&ifaces, TEST_IFACE, &props));
        ck_assert(asv_find(&props, "Name", &v));
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "a");
        ck_assert(asv_find(&props, "Level", &v));
        ck_assert_uint_eq(iter_variant_u32(&v), 5);
        ck_assert(asv_find(&ifaces, OTHER_IFACE, &props));
        ck_assert(asv_find(&props, "Count", &v));
        ck_assert(!managed_find(reply, MANAGER, &ifaces));
        ck_assert(!managed_find(reply, MANAGER "/hidden", &ifaces));
        ck_assert(!managed_find(reply, "/elsewhere/x", &ifaces));
        DBusMessageIter it;
        dbus_message_iter_init(reply, &it);
        ck_assert_uint_eq(array_length(&it), 1);
        dbus_message_unref(reply);
}
END_TEST

struct extra {
        const char *path;
        bool publish;
        int result;
};

static void job_add_extra(void *arg)
{
        struct extra *x = arg;

        x->result = object_setup(&objs[EXTRA], x->path, "extra", false, x->publish);
}

static void job_publish_extra(void *arg)
{
        *(int *)arg = bus_object_publish(objs[EXTRA].obj);
}

static void job_free_extra(void *arg)
{
        objs[EXTRA].obj = bus_object_free(objs[EXTRA].obj);
}

START_TEST(test_interfaces_added_and_removed)
{
        struct extra x = { MANAGER "/set/1", false, 1 };
        DBusMessageIter it, props, v;
        const char *path, *s;
        int r = 1;

        on_loop(job_add_extra, &x);
        ck_assert_int_eq(x.result, 0);
        barrier();
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesAdded"), 0);

        on_loop(job_publish_extra, &r);
        ck_assert_int_eq(r, 0);
        barrier();
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesAdded"), 1);
        DBusMessage *sig = take_signal(OM_IFACE, "InterfacesAdded");
        ck_assert_str_eq(dbus_message_get_path(sig), MANAGER);
        ck_assert_str_eq(dbus_message_get_signature(sig), "oa{sa{sv}}");
        dbus_message_iter_init(sig, &it);
        dbus_message_iter_get_basic(&it, &path);
        ck_assert_str_eq(path, MANAGER "/set/1");
        dbus_message_iter_next(&it);
        ck_assert_uint_eq(array_length(&it), 1);
        /* The properties come with it: no Get round trip needed. */
        ck_assert(asv_find(&it, TEST_IFACE, &props));
        ck_assert(asv_find(&props, "Name", &v));
        iter_variant_string(&v, &s);
        ck_assert_str_eq(s, "extra");
        dbus_message_unref(sig);

        /* Publishing twice announces once. */
        on_loop(job_publish_extra, &r);
        ck_assert_int_eq(r, 0);
        DBusMessage *reply = get_managed_objects();
        ck_assert(managed_find(reply, MANAGER "/set/1", &it));
        dbus_message_unref(reply);
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesAdded"), 0);

        on_loop(job_free_extra, NULL);
        barrier();
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesRemoved"), 1);
        sig = take_signal(OM_IFACE, "InterfacesRemoved");
        ck_assert_str_eq(dbus_message_get_path(sig), MANAGER);
        ck_assert_str_eq(dbus_message_get_signature(sig), "oas");
        dbus_message_iter_init(sig, &it);
        dbus_message_iter_get_basic(&it, &path);
        ck_assert_str_eq(path, MANAGER "/set/1");
        dbus_message_iter_next(&it);
        ck_assert_uint_eq(array_length(&it), 1);
        DBusMessageIter names;
        dbus_message_iter_recurse(&it, &names);
        dbus_message_iter_get_basic(&names, &s);
        ck_assert_str_eq(s, TEST_IFACE);
        dbus_message_unref(sig);

        reply = get_managed_objects();
        ck_assert(!managed_find(reply, MANAGER "/set/1", &it));
        dbus_message_unref(reply);
        assert_error(call(MANAGER "/set/1", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
}
END_TEST

START_TEST(test_no_announcements_outside_manager_or_unpublished)
{
        struct extra x = { "/elsewhere/y", true, 1 };

        /* Published, but not below the manager path. */
        on_loop(job_add_extra, &x);
        ck_assert_int_eq(x.result, 0);
        on_loop(job_free_extra, NULL);
        /* Below the manager path, but never published. */
        x = (struct extra){ MANAGER "/draft", false, 1 };
        on_loop(job_add_extra, &x);
        ck_assert_int_eq(x.result, 0);
        on_loop(job_free_extra, NULL);
        barrier();
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesAdded"), 0);
        ck_assert_uint_eq(count_signals(OM_IFACE, "InterfacesRemoved"), 0);
}
END_TEST

struct new_object {
        const char *path;
        int result;
};

static void job_new_object(void *arg)
{
        struct new_object *n = arg;
        BusObject *o = NULL;

        n->result = bus_object_new(H.bus, &o, n->path);
        bus_object_free(o);
}

START_TEST(test_object_paths_checked)
{
        struct new_object n = { "not a path", 1 };

        /* libdbus would abort on an invalid path; the registry refuses it first. */
        on_loop(job_new_object, &n);
        ck_assert_int_eq(n.result, -EINVAL);
        n = (struct new_object){ MANAGER "/a/", 1 };
        on_loop(job_new_object, &n);
        ck_assert_int_eq(n.result, -EINVAL);
        n = (struct new_object){ MANAGER "/a", 1 };
        on_loop(job_new_object, &n);
        ck_assert_int_eq(n.result, -EEXIST);
        /* Unpublished objects hold their path too. */
        n = (struct new_object){ MANAGER "/hidden", 1 };
        on_loop(job_new_object, &n);
        ck_assert_int_eq(n.result, -EEXIST);
        /* The refused attempts left A as it was. */
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 5);
}
END_TEST

/* --- introspection ----------------------------------------------------------------------- */

static char *introspect(const char *path)
{
        const char *xml;
        DBusMessage *reply = call(path, DBUS_INTERFACE_INTROSPECTABLE, "Introspect",
                                  DBUS_TYPE_INVALID);

        assert_return(reply, "s");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        char *copy = strdup(xml);
        dbus_message_unref(reply);
        return copy;
}

/* What the tables say (check_introspect checks the XML itself), over the bus. */
START_TEST(test_introspect_object_matches_tables)
{
        const BusInterface *ifaces[] = { &test_iface, &other_iface };
        char *expected = NULL, *xml = introspect(MANAGER "/a");

        ck_assert_int_eq(bus_introspect_xml(&expected, ifaces, 2, false, NULL, 0), 0);
        ck_assert_str_eq(xml, expected);
        ck_assert_ptr_nonnull(strstr(xml, "<method name=\"Echo\">"));
        ck_assert_ptr_nonnull(strstr(xml, "<arg name=\"text\" type=\"s\" direction=\"in\"/>"));
        ck_assert_ptr_nonnull(strstr(xml, "<property name=\"Level\" type=\"u\" "
                                          "access=\"readwrite\""));
        free(expected);
        free(xml);
}
END_TEST

START_TEST(test_introspect_tree)
{
        char *xml = introspect(MANAGER);

        /* The manager: its own interface, the ObjectManager, its published children. */
        ck_assert_ptr_nonnull(strstr(xml, "<interface name=\"" TEST_IFACE "\">"));
        ck_assert_ptr_nonnull(strstr(xml, "<interface name=\"" OM_IFACE "\">"));
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"a\"/>"));
        ck_assert_ptr_null(strstr(xml, "hidden"));
        free(xml);

        /* Paths without an object of their own are still walkable (busctl tree). */
        xml = introspect("/");
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"org\"/>"));
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"elsewhere\"/>"));
        ck_assert_ptr_null(strstr(xml, "org.freedesktop.DBus.Properties"));
        free(xml);
        xml = introspect("/org/linuxvss");
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"Vss1\"/>"));
        ck_assert_ptr_null(strstr(xml, "<node name=\"a\"/>"));
        free(xml);

        assert_error(call("/nothing/here", DBUS_INTERFACE_INTROSPECTABLE, "Introspect",
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, "/nothing/here");
        /* Only published objects make a path exist. */
        assert_error(call(MANAGER "/hidden", DBUS_INTERFACE_INTROSPECTABLE, "Introspect",
                          DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
}
END_TEST

/* --- connection ------------------------------------------------------------------------- */

/* A lost connection ends the loop with -ECONNRESET (systemd then restarts vssd). */
START_TEST(test_disconnect_ends_loop)
{
        dbus_connection_close(H.client);
        dbus_connection_unref(H.client);
        H.client = NULL;
        pthread_join(H.thread, NULL);
        H.running = false;
        H.expected_result = -ECONNRESET;
        ck_assert_int_eq(H.loop_result, -ECONNRESET);
}
END_TEST

static void job_ref_connection(void *arg)
{
        *(DBusConnection **)arg = dbus_connection_ref(bus_get_connection(H.bus));
}

/*
 * bus_new_from_connection() serves a connection its caller may go on holding:
 * after bus_free() the caller can still dispatch it (the Disconnected message
 * bus_free's close queued) without anything of the freed Bus running.
 */
START_TEST(test_bus_free_leaves_callers_connection)
{
        DBusConnection *conn = NULL;

        on_loop(job_ref_connection, &conn);
        ck_assert_ptr_nonnull(conn);
        stop_loop();
        H.bus = bus_free(H.bus);
        while (dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
                ;
        ck_assert(!dbus_connection_get_is_connected(conn));
        dbus_connection_unref(conn);
}
END_TEST

/* --- authorization ---------------------------------------------------------------------- */

#define ACCESS_DENIED VSS_ERROR_PREFIX "AccessDenied"

static void expect_empty_return(DBusMessage *reply)
{
        assert_return(reply, "");
        dbus_message_unref(reply);
}

/* Each call is checked with its method's access class; a refused one never reaches its handler. */
START_TEST(test_access_class_decides)
{
        const char *how = "vss";

        atomic_store(&auth.refuse, true);
        assert_error(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID), ACCESS_DENIED,
                     "Nothing refused to the test's identity by the test");
        ck_assert_uint_eq(atomic_load(&auth.last_access), BUS_ACCESS_ROOT);
        assert_error(call(MANAGER "/a", TEST_IFACE, "Later", DBUS_TYPE_INVALID), ACCESS_DENIED,
                     "Later refused");
        ck_assert_uint_eq(atomic_load(&auth.last_access), BUS_ACCESS_BACKUP);
        assert_error(call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how,
                          DBUS_TYPE_INVALID),
                     ACCESS_DENIED, "Fail refused");
        ck_assert_uint_eq(atomic_load(&auth.last_access), BUS_ACCESS_WRITER);
        /* Nothing ran: no handler, no deferred request. */
        ck_assert_int_eq(atomic_load(&counters.nothing), 0);
        ck_assert_int_eq(atomic_load(&counters.later), 0);
        ck_assert_int_eq(atomic_load(&counters.fail), 0);
        ck_assert_int_eq(atomic_load(&n_deferred), 0);
        /* The refusal maps back to -EACCES in clients (common/error.c). */
        DBusMessage *reply = call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID);
        ck_assert_int_eq(vss_error_from_name(dbus_message_get_error_name(reply)), -EACCES);
        dbus_message_unref(reply);

        atomic_store(&auth.refuse, false);
        expect_empty_return(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID));
        ck_assert_int_eq(atomic_load(&counters.nothing), 1);
        ck_assert_int_eq(atomic_load(&auth.checked), 5);
        /* The peer's uid, looked up once for the connection. */
        ck_assert_int_eq(atomic_load(&auth.identified), 1);
        ck_assert_uint_eq(atomic_load(&auth.uid), geteuid());
}
END_TEST

/* Listing and reading need no uid: the authorizer is not even asked. */
START_TEST(test_anyone_is_not_checked)
{
        const char *text = "x", *iface = TEST_IFACE;
        dbus_uint32_t n = 1;
        DBusMessage *reply;

        atomic_store(&auth.refuse, true);
        reply = call(MANAGER "/a", TEST_IFACE, "Echo", DBUS_TYPE_STRING, &text, DBUS_TYPE_UINT32,
                     &n, DBUS_TYPE_INVALID);
        assert_return(reply, "su");
        dbus_message_unref(reply);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 5);
        reply = call(MANAGER "/a", DBUS_INTERFACE_PROPERTIES, "GetAll", DBUS_TYPE_STRING, &iface,
                     DBUS_TYPE_INVALID);
        assert_return(reply, "a{sv}");
        dbus_message_unref(reply);
        reply = call(MANAGER, OM_IFACE, "GetManagedObjects", DBUS_TYPE_INVALID);
        assert_return(reply, "a{oa{sa{sv}}}");
        dbus_message_unref(reply);
        reply = call(MANAGER "/a", DBUS_INTERFACE_INTROSPECTABLE, "Introspect", DBUS_TYPE_INVALID);
        assert_return(reply, "s");
        dbus_message_unref(reply);
        /* Errors that change nothing are answered as before. */
        assert_error(call(MANAGER "/missing", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_OBJECT, NULL);
        assert_error(call(MANAGER "/a", TEST_IFACE, "NoSuchMethod", DBUS_TYPE_INVALID),
                     DBUS_ERROR_UNKNOWN_METHOD, NULL);
        ck_assert_int_eq(atomic_load(&auth.checked), 0);
        ck_assert_int_eq(atomic_load(&auth.identified), 0);
}
END_TEST

/* Setting a property is root's: checked as BUS_ACCESS_ROOT, nothing changes when refused. */
START_TEST(test_properties_set_is_checked)
{
        dbus_uint32_t v = 7;

        atomic_store(&auth.refuse, true);
        assert_error(set_property(MANAGER "/a", TEST_IFACE, "Level", DBUS_TYPE_UINT32, &v),
                     ACCESS_DENIED, "Properties.Set refused");
        ck_assert_uint_eq(atomic_load(&auth.last_access), BUS_ACCESS_ROOT);
        ck_assert_str_eq(auth.last_what, "Properties.Set");
        ck_assert_int_eq(atomic_load(&counters.set_level), 0);
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 5);
        ck_assert_int_eq(count_signals(DBUS_INTERFACE_PROPERTIES, "PropertiesChanged"), 0);

        atomic_store(&auth.refuse, false);
        expect_empty_return(set_property(MANAGER "/a", TEST_IFACE, "Level", DBUS_TYPE_UINT32, &v));
        ck_assert_uint_eq(get_u32(MANAGER "/a", "Level"), 7);
}
END_TEST

/* A handler sees the uid once it was needed; before that, none was asked. */
START_TEST(test_uid_for_handlers)
{
        dbus_bool_t known;
        dbus_uint32_t uid;
        DBusMessage *reply = call(MANAGER "/a", TEST_IFACE, "Uid", DBUS_TYPE_INVALID);

        assert_return(reply, "bu");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &known, DBUS_TYPE_UINT32,
                                        &uid, DBUS_TYPE_INVALID));
        ck_assert(!known);
        dbus_message_unref(reply);
        expect_empty_return(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID));
        reply = call(MANAGER "/a", TEST_IFACE, "Uid", DBUS_TYPE_INVALID);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &known, DBUS_TYPE_UINT32,
                                        &uid, DBUS_TYPE_INVALID));
        ck_assert(known);
        ck_assert_uint_eq(uid, geteuid());
        dbus_message_unref(reply);
}
END_TEST

/* A handler's own -EAGAIN is its failure: answered once, the handler run once. */
START_TEST(test_handler_eagain_is_a_failure)
{
        const char *how = "again";

        assert_error(call(MANAGER "/a", TEST_IFACE, "Fail", DBUS_TYPE_STRING, &how,
                          DBUS_TYPE_INVALID),
                     VSS_ERROR_PREFIX "Failed", NULL);
        ck_assert_int_eq(atomic_load(&counters.fail), 1);
}
END_TEST

/* Without an authorizer, anything not BUS_ACCESS_ANYONE is root's alone. */
START_TEST(test_default_is_root_only)
{
        on_loop(job_set_authorizer, NULL);
        DBusMessage *reply = call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID);
        char want[128];

        if (geteuid() == 0) {
                expect_empty_return(reply);
                ck_assert_int_eq(atomic_load(&counters.nothing), 1);
        } else {
                snprintf(want, sizeof(want), "Nothing is for root only; uid %u is not root",
                         (unsigned)geteuid());
                assert_error(reply, ACCESS_DENIED, want);
                ck_assert_int_eq(atomic_load(&counters.nothing), 0);
        }
        ck_assert_int_eq(atomic_load(&auth.checked), 0);
}
END_TEST

/* The identity lives as long as the connection is served: freed with the bus. */
START_TEST(test_identity_freed_with_bus)
{
        expect_empty_return(call(MANAGER "/a", TEST_IFACE, "Nothing", DBUS_TYPE_INVALID));
        ck_assert_int_eq(atomic_load(&auth.identified), 1);
        ck_assert_int_eq(atomic_load(&auth.freed), 0);
        stop_loop();
        H.bus = bus_free(H.bus);
        ck_assert_int_eq(atomic_load(&auth.freed), 1);
}
END_TEST

/* --- helpers without a connection -------------------------------------------------------- */

START_TEST(test_path_escape)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "sda1", "sda1" },
                { "dm-snapshot", "dm_2dsnapshot" },
                { "/dev/sda", "_2fdev_2fsda" },
                { "a_b", "a_5fb" },
                { "caf\xc3\xa9", "caf_c3_a9" },
                { "", "_" },
        };
        char buf[64], path[128];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ck_assert_int_eq(bus_path_escape(cases[i].in, buf, sizeof(buf)), 0);
                ck_assert_str_eq(buf, cases[i].out);
                snprintf(path, sizeof(path), MANAGER "/provider/%s", buf);
                ck_assert_msg(dbus_validate_path(path, NULL), "%s is not a valid path", path);
        }
        /* Escaping is one-to-one: "_" itself is escaped. */
        char other[64];
        ck_assert_int_eq(bus_path_escape("a/", buf, sizeof(buf)), 0);
        ck_assert_int_eq(bus_path_escape("a_2f", other, sizeof(other)), 0);
        ck_assert_str_ne(buf, other);
        /* "dm-snapshot" needs 14 bytes with the NUL. */
        ck_assert_int_eq(bus_path_escape("dm-snapshot", buf, 14), 0);
        ck_assert_int_eq(bus_path_escape("dm-snapshot", buf, 13), -ENOBUFS);
        ck_assert_int_eq(bus_path_escape("", buf, 1), -ENOBUFS);
}
END_TEST

START_TEST(test_append_helpers_refuse_invalid)
{
        DBusMessage *m = dbus_message_new_method_call(NULL, "/", "org.example.X", "Y");
        DBusMessageIter it;
        const char *s;

        dbus_message_iter_init_append(m, &it);
        /* Invalid values are refused or repaired instead of making libdbus abort. */
        ck_assert(!bus_append_object_path(&it, "not a path"));
        ck_assert(bus_append_object_path(&it, "/ok/path"));
        ck_assert(bus_append_string(&it, NULL));
        ck_assert(bus_append_string(&it, "\xff" "abc"));
        ck_assert(bus_append_bool(&it, true));
        ck_assert(bus_append_uint64(&it, UINT64_MAX));
        ck_assert(bus_append_int32(&it, -5));
        ck_assert_str_eq(dbus_message_get_signature(m), "ossbti");
        dbus_message_iter_init(m, &it);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        ck_assert_str_eq(s, "");
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &s);
        ck_assert_str_eq(s, "?abc");
        dbus_message_unref(m);
}
END_TEST

static Suite *dispatch_suite(void)
{
        Suite *s = suite_create("dispatch");
        TCase *tc = tcase_create("methods");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_method_reply);
        tcase_add_test(tc, test_method_container_args);
        tcase_add_test(tc, test_method_without_interface);
        tcase_add_test(tc, test_wrong_signature_not_dispatched);
        tcase_add_test(tc, test_unknown_method_interface_object);
        tcase_add_test(tc, test_unknown_member_of_standard_interface);
        tcase_add_test(tc, test_handler_errors);
        tcase_add_test(tc, test_empty_and_single_replies);
        tcase_add_test(tc, test_no_reply_expected);
        tcase_add_test(tc, test_deferred_reply);
        tcase_add_test(tc, test_deferred_error);
        suite_add_tcase(s, tc);

        tc = tcase_create("properties");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_get_properties);
        tcase_add_test(tc, test_get_all);
        tcase_add_test(tc, test_set_property_emits_change);
        tcase_add_test(tc, test_set_property_without_change_signal);
        tcase_add_test(tc, test_set_property_refusals);
        tcase_add_test(tc, test_emit_properties_changed);
        tcase_add_test(tc, test_emit_signal);
        suite_add_tcase(s, tc);

        tc = tcase_create("objects");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_get_managed_objects);
        tcase_add_test(tc, test_interfaces_added_and_removed);
        tcase_add_test(tc, test_no_announcements_outside_manager_or_unpublished);
        tcase_add_test(tc, test_object_paths_checked);
        tcase_add_test(tc, test_introspect_object_matches_tables);
        tcase_add_test(tc, test_introspect_tree);
        tcase_add_test(tc, test_disconnect_ends_loop);
        suite_add_tcase(s, tc);

        tc = tcase_create("authorization");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_access_class_decides);
        tcase_add_test(tc, test_anyone_is_not_checked);
        tcase_add_test(tc, test_properties_set_is_checked);
        tcase_add_test(tc, test_uid_for_handlers);
        tcase_add_test(tc, test_handler_eagain_is_a_failure);
        tcase_add_test(tc, test_default_is_root_only);
        tcase_add_test(tc, test_identity_freed_with_bus);
        suite_add_tcase(s, tc);

        tc = tcase_create("helpers");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_path_escape);
        tcase_add_test(tc, test_append_helpers_refuse_invalid);
        suite_add_tcase(s, tc);

        /* Last: while bus_free() leaves handlers behind this crashes, and CK_FORK=no with it. */
        tc = tcase_create("lifetime");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_bus_free_leaves_callers_connection);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(dispatch_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        dbus_shutdown(); /* libdbus's caches, for valgrind */
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
