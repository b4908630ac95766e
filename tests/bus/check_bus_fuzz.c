/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_fuzz.c: thousands of random and malformed calls to the real vssd
 * built with AddressSanitizer, LeakSanitizer and UBSan (make asan-build:
 * build/asan), on the private bus with the fake provider.
 *
 * The calls come from a seeded generator (the seed is printed; VSS_FUZZ_SEED
 * repeats a run): every member of every interface vssd's Introspect shows,
 * on every object it lists and on objects it does not have, with the right
 * signature, with one argument too few or too many, with random ones;
 * unknown members and interfaces, the standard interfaces, huge strings,
 * made-up object paths, random UUIDs, odd numbers; from three connections,
 * one of which now and then leaves the bus (sessions and writers go with
 * it). A connection that became a writer answers most events, with its
 * cookie or a wrong one. Every call must be answered, by a reply or an
 * error, within the call timeout (a crash or a hang of vssd shows as
 * NoReply); at the end vssd must be alive, stop on SIGTERM with status 0,
 * and its log must hold no sanitizer report.
 *
 * Under VSS_TEST_VALGRIND=1 (make check's second pass) nothing runs: this
 * vssd is the sanitizer build, which valgrind cannot run, and the memory
 * checks it stands for were made in the first pass.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define CALLS 20000
#define WINDOW 24          /* calls in flight at once */
#define CALL_TIMEOUT_MS 20000
#define N_CONNS 3
#define POOL_MAX 64
#define METHODS_MAX 96

static TestBus tb;
static uint64_t rng;

static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static unsigned pick(unsigned n)
{
        return n ? (unsigned)(rnd() % n) : 0;
}

/* --- what vssd declares (its Introspect) and what it named ----------------------------- */

typedef struct Method {
        char iface[64];
        char name[64];
        char sig[128];
} Method;

static Method methods[METHODS_MAX];
static size_t n_methods;
static char *names[128]; /* interface and property names */
static size_t n_names;
static char *paths[POOL_MAX];
static size_t n_paths;
static char *ids[POOL_MAX];
static size_t n_ids;
static uint64_t cookies[POOL_MAX];
static size_t n_cookies;

static void pool_add(char **pool, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp(pool[i], s) == 0)
                        return;
        if (*n == POOL_MAX) {
                free(pool[0]);
                memmove(pool, pool + 1, (POOL_MAX - 1) * sizeof(*pool));
                (*n)--;
        }
        pool[(*n)++] = strdup(s);
}

/* The value of attribute ATTR inside the tag starting at TAG, into BUF. */
static bool xml_attr(const char *tag, const char *attr, char *buf, size_t size)
{
        const char *end = strchr(tag, '>');
        char key[32];

        snprintf(key, sizeof(key), " %s=\"", attr);
        const char *p = strstr(tag, key);
        if (!p || !end || p > end)
                return false;
        p += strlen(key);
        size_t len = strcspn(p, "\"");
        snprintf(buf, size, "%.*s", (int)len, p);
        return true;
}

static void method_add(const char *iface, const char *name, const char *sig)
{
        for (size_t i = 0; i < n_methods; i++)
                if (strcmp(methods[i].iface, iface) == 0 && strcmp(methods[i].name, name) == 0)
                        return;
        ck_assert_uint_lt(n_methods, METHODS_MAX);
        Method *m = &methods[n_methods++];
        snprintf(m->iface, sizeof(m->iface), "%s", iface);
        snprintf(m->name, sizeof(m->name), "%s", name);
        snprintf(m->sig, sizeof(m->sig), "%s", sig);
}

/* Methods (with their in-signatures), interfaces and properties of Introspect XML. */
static void learn_xml(const char *xml)
{
        char iface[64] = "", name[64], type[64], dir[16], sig[128];

        for (const char *p = strchr(xml, '<'); p; p = strchr(p + 1, '<')) {
                if (strncmp(p, "<interface ", 11) == 0 && xml_attr(p, "name", iface, sizeof(iface)))
                        pool_add(names, &n_names, iface);
                else if (strncmp(p, "<property ", 10) == 0 && xml_attr(p, "name", name, sizeof(name)))
                        pool_add(names, &n_names, name);
                else if (strncmp(p, "<method ", 8) == 0 && xml_attr(p, "name", name, sizeof(name))) {
                        sig[0] = '\0';
                        const char *end = strstr(p, "</method>");
                        const char *self_closed = strstr(p, "/>");
                        if (self_closed && (!end || self_closed < strchr(p, '>') + 1))
                                end = p; /* <method name="Ping"/> */
                        for (const char *a = strstr(p, "<arg "); a && end && a < end;
                             a = strstr(a + 1, "<arg "))
                                if (xml_attr(a, "type", type, sizeof(type)) &&
                                    xml_attr(a, "direction", dir, sizeof(dir)) &&
                                    strcmp(dir, "in") == 0)
                                        strncat(sig, type, sizeof(sig) - strlen(sig) - 1);
                        method_add(iface, name, sig);
                }
        }
}

static void learn_object(const char *path)
{
        DBusMessage *reply = testbus_call(&tb, path, "org.freedesktop.DBus.Introspectable",
                                          "Introspect", DBUS_TYPE_INVALID);
        const char *xml;

        testbus_expect_ok(reply, path);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        learn_xml(xml);
        dbus_message_unref(reply);
}

static bool looks_like_uuid(const char *s)
{
        return strlen(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
}

static void collect(DBusMessageIter *it, int depth)
{
        for (; depth < 6; dbus_message_iter_next(it)) {
                int type = dbus_message_iter_get_arg_type(it);
                const char *s;
                DBusMessageIter sub;

                if (type == DBUS_TYPE_INVALID)
                        return;
                if (type == DBUS_TYPE_OBJECT_PATH) {
                        dbus_message_iter_get_basic(it, &s);
                        pool_add(paths, &n_paths, s);
                } else if (type == DBUS_TYPE_STRING) {
                        dbus_message_iter_get_basic(it, &s);
                        if (looks_like_uuid(s))
                                pool_add(ids, &n_ids, s);
                } else if (type == DBUS_TYPE_ARRAY || type == DBUS_TYPE_STRUCT ||
                           type == DBUS_TYPE_DICT_ENTRY || type == DBUS_TYPE_VARIANT) {
                        dbus_message_iter_recurse(it, &sub);
                        collect(&sub, depth + 1);
                }
        }
}

/*
 * Learn every interface: the root and provider objects, and one of each
 * lifecycle kind, made for the purpose (a session, a set with its
 * snapshot, a writer on a connection that then leaves).
 */
static void learn_all(void)
{
        DBusMessage *msg, *reply;
        DBusMessageIter it;

        learn_object(ROOT);
        reply = testbus_call(&tb, ROOT, "org.freedesktop.DBus.ObjectManager",
                             "GetManagedObjects", DBUS_TYPE_INVALID);
        testbus_expect_ok(reply, "GetManagedObjects");
        dbus_message_iter_init(reply, &it);
        collect(&it, 0);
        dbus_message_unref(reply);

        msg = dbus_message_new_method_call("org.linuxvss.Vss1", ROOT, IFACE, "StartBackup");
        testbus_append_options(msg, NULL, NULL, 0);
        reply = testbus_send_msg(tb.conn, msg);
        testbus_expect_ok(reply, "StartBackup");
        dbus_message_iter_init(reply, &it);
        collect(&it, 0);
        dbus_message_unref(reply);

        const char *volume = "/dev/fake/learn";
        const char *vols[] = { volume };
        msg = dbus_message_new_method_call("org.linuxvss.Vss1", ROOT, IFACE, "CreateSnapshotSet");
        const char **v = vols;
        dbus_message_append_args(msg, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &v, 1, DBUS_TYPE_INVALID);
        testbus_append_options(msg, (const char *[]){ "Context" },
                               (const char *[]){ "nas-rollback" }, 1);
        reply = testbus_send_msg(tb.conn, msg);
        testbus_expect_ok(reply, "CreateSnapshotSet");
        dbus_message_unref(reply);

        DBusConnection *w = testbus_connect(&tb);
        msg = dbus_message_new_method_call("org.linuxvss.Vss1", ROOT, IFACE, "RegisterWriter");
        testbus_append_options(msg, (const char *[]){ "Name", "InstanceId" },
                               (const char *[]){ "learn", "learn-1" }, 2);
        reply = testbus_send_msg(w, msg);
        testbus_expect_ok(reply, "RegisterWriter");
        dbus_message_unref(reply);

        reply = testbus_call(&tb, ROOT, "org.freedesktop.DBus.ObjectManager",
                             "GetManagedObjects", DBUS_TYPE_INVALID);
        dbus_message_iter_init(reply, &it);
        collect(&it, 0);
        dbus_message_unref(reply);
        static const char *const kinds[] = { "/provider/", "/session/", "/set/", "/snapshot/",
                                              "/writer/" };
        for (size_t k = 0; k < 5; k++)
                for (size_t i = 0; i < n_paths; i++)
                        if (strstr(paths[i], kinds[k])) {
                                learn_object(paths[i]);
                                break;
                        }
        testbus_disconnect(w);
        ck_assert_msg(n_methods >= 30, "learnt only %zu methods from Introspect", n_methods);
}

/* --- random values ------------------------------------------------------------------------ */

static const char *const dict[] = {
        "/dev/fake/a", "/dev/fake/b", "/dev/fake/c", "/dev/fakeplain/p", "/dev/fake/p",
        "/dev/fake/../fake/a", "/dev/fake//a/", "/dev/sda1", "/dev/null", "relative", "", "/",
        "backup", "file-share-backup", "app-rollback", "nas-rollback", "persistent",
        "no-auto-release", "no-writers", "front-end", "back-end", "system", "NONE",
        "INCONSISTENTSNAPSHOT", "OUTOFRESOURCES", "TIMEOUT", "RETRYABLE", "NONRETRYABLE",
        "snapshot", "set", "volume", "Context", "Attributes", "Provider", "ExcludeWriters",
        "Name", "InstanceId", "ClassId", "Level", "FreezeTimeoutMs", "Usage", "MaxSize",
        "DiffArea", "fake", "dm-snapshot", "10G", "15%", "unbounded", "0", "-1", "1K",
        "99999999999999999999T", "/mnt/snap", "/mnt/../etc", "/fake/a/x", "/var/lib/fake/diff",
        "/run/vss/expose/x", "w", "inst", "%s%n%x%s", "\xc3\xa9t\xc3\xa9", "a\tb\nc",
        "00000000-0000-0000-0000-000000000000", "b174487d-9ce0-4bcd-b915-f31ece126eb6",
};
#define N_DICT (sizeof(dict) / sizeof(dict[0]))

/*
 * Timeouts a Set may give: the limits and just past them; never a long one
 * that vssd would accept, so that a writer that does not answer costs
 * seconds, not the hour EventTimeoutMs allows.
 */
static const uint32_t numbers[] = { 0, 1, 99, 100, 999, 1000, 1500, 600001, 3600001,
                                    60001, 0x7fffffff, 0xffffffff };

static char *random_string(void)
{
        char buf[128];
        unsigned mode = pick(20);

        if (mode < 10)
                return strdup(dict[pick(N_DICT)]);
        if (mode < 12 && n_ids)
                return strdup(ids[pick((unsigned)n_ids)]);
        if (mode < 14 && n_names)
                return strdup(names[pick((unsigned)n_names)]);
        if (mode == 14) { /* a random UUID */
                snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)rnd(),
                         pick(0x10000), pick(0x1000), pick(0x1000),
                         (unsigned long long)(rnd() & 0xffffffffffffull));
                return strdup(buf);
        }
        if (mode == 15) { /* huge: up to 256 KiB */
                size_t len = 1 + pick(pick(4) == 0 ? 256 * 1024 : 4096);
                char *s = malloc(len + 1);
                memset(s, "a/._-"[pick(5)], len);
                s[0] = '/';
                s[len] = '\0';
                return s;
        }
        if (mode == 16) {
                snprintf(buf, sizeof(buf), "/dev/fake/%u", pick(6));
                return strdup(buf);
        }
        size_t len = pick(40); /* printable junk, with a few multibyte characters */
        for (size_t i = 0; i < len; i++)
                buf[i] = (char)(' ' + pick(95));
        buf[len] = '\0';
        if (pick(4) == 0)
                strcat(buf, "\xe2\x82\xac");
        return strdup(buf);
}

static const char *const path_words[] = { "org", "linuxvss", "Vss1", "session", "set",
                                          "snapshot", "writer", "provider", "fake", "1", "0",
                                          "999999999999999999999", "_", "a_2d", "dm_2dsnapshot" };

static void random_path(char *buf, size_t size)
{
        unsigned mode = pick(10);

        if (mode < 6 && n_paths) {
                snprintf(buf, size, "%s", paths[pick((unsigned)n_paths)]);
                return;
        }
        if (mode == 6) {
                snprintf(buf, size, "%s", ROOT);
                return;
        }
        size_t len = 0, n = 1 + pick(5);
        for (size_t i = 0; i < n && len + 40 < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "/%s", path_words[pick(15)]);
}

static const char *const types[] = { "s", "u", "b", "t", "o", "as", "a{sv}", "i", "x", "d",
                                     "y", "g", "(ss)", "v", "a(ssas)", "ay", "n", "q", "ao" };
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static void append_value(DBusMessageIter *it, DBusSignatureIter *sig, int depth);

static void append_basic(DBusMessageIter *it, int type)
{
        char path[512];
        union {
                dbus_bool_t b;
                uint64_t t;
                uint32_t u;
                uint16_t q;
                uint8_t y;
                double d;
                const char *s;
        } v = { 0 };

        switch (type) {
        case DBUS_TYPE_STRING: {
                char *s = random_string();
                v.s = s;
                ck_assert(dbus_message_iter_append_basic(it, type, &v.s));
                free(s);
                return;
        }
        case DBUS_TYPE_OBJECT_PATH:
                random_path(path, sizeof(path));
                v.s = path;
                break;
        case DBUS_TYPE_SIGNATURE:
                v.s = types[pick(N_TYPES)];
                break;
        case DBUS_TYPE_BOOLEAN:
                v.b = pick(2);
                break;
        case DBUS_TYPE_UINT32:
        case DBUS_TYPE_INT32:
                v.u = pick(3) ? numbers[pick(12)] : (uint32_t)rnd();
                break;
        case DBUS_TYPE_UINT64:
        case DBUS_TYPE_INT64:
                v.t = n_cookies && pick(2) ? cookies[pick((unsigned)n_cookies)]
                                           : pick(2) ? pick(100) : rnd();
                break;
        case DBUS_TYPE_DOUBLE:
                v.d = (double)(int64_t)rnd() / 3.0;
                break;
        case DBUS_TYPE_BYTE:
                v.y = (uint8_t)rnd();
                break;
        default:
                v.q = (uint16_t)rnd();
        }
        ck_assert(dbus_message_iter_append_basic(it, type, &v));
}

static void append_container(DBusMessageIter *it, DBusSignatureIter *sig, int type, int depth)
{
        DBusSignatureIter sub;
        DBusMessageIter child;

        dbus_signature_iter_recurse(sig, &sub);
        if (type == DBUS_TYPE_ARRAY) {
                char *elem = dbus_signature_iter_get_signature(&sub);
                unsigned n = depth > 2 ? 0 : pick(5);
                if (n == 4 && pick(4) == 0)
                        n = 60 + pick(10); /* around MaxVolumesPerSet */
                ck_assert(dbus_message_iter_open_container(it, type, elem, &child));
                dbus_free(elem);
                for (unsigned i = 0; i < n; i++) {
                        dbus_signature_iter_recurse(sig, &sub);
                        append_value(&child, &sub, depth + 1);
                }
        } else {
                ck_assert(dbus_message_iter_open_container(it, type, NULL, &child));
                do
                        append_value(&child, &sub, depth + 1);
                while (dbus_signature_iter_next(&sub));
        }
        ck_assert(dbus_message_iter_close_container(it, &child));
}

static void append_value(DBusMessageIter *it, DBusSignatureIter *sig, int depth)
{
        int type = dbus_signature_iter_get_current_type(sig);
        DBusMessageIter child;
        DBusSignatureIter sub;

        if (type == DBUS_TYPE_ARRAY || type == DBUS_TYPE_STRUCT || type == DBUS_TYPE_DICT_ENTRY) {
                append_container(it, sig, type, depth);
        } else if (type == DBUS_TYPE_VARIANT) {
                const char *inner = depth > 2 ? "s" : types[pick(N_TYPES)];
                dbus_signature_iter_init(&sub, inner);
                ck_assert(dbus_message_iter_open_container(it, type, inner, &child));
                append_value(&child, &sub, depth + 1);
                ck_assert(dbus_message_iter_close_container(it, &child));
        } else {
                append_basic(it, type);
        }
}

static void append_args(DBusMessage *msg, const char *signature)
{
        DBusMessageIter it;
        DBusSignatureIter sig;

        if (!*signature)
                return;
        dbus_message_iter_init_append(msg, &it);
        dbus_signature_iter_init(&sig, signature);
        do
                append_value(&it, &sig, 0);
        while (dbus_signature_iter_next(&sig));
}

/* SIG with one complete type fewer (arity - 1), or one more; in BUF. */
static void change_arity(const char *sig, char *buf, size_t size)
{
        DBusSignatureIter it;
        size_t keep = 0;

        snprintf(buf, size, "%s", sig);
        if (!*sig || pick(2)) {
                strncat(buf, types[pick(N_TYPES)], size - strlen(buf) - 1);
                return;
        }
        dbus_signature_iter_init(&it, sig);
        const char *last = sig;
        do {
                char *one = dbus_signature_iter_get_signature(&it);
                keep = (size_t)(last - sig);
                last += strlen(one);
                dbus_free(one);
        } while (dbus_signature_iter_next(&it));
        buf[keep] = '\0';
}

/* --- the calls ----------------------------------------------------------------------------- */

typedef struct Flight {
        DBusPendingCall *pending;
        int conn;
        char what[400];
} Flight;

static DBusConnection *conns[N_CONNS];
static char writer_of[N_CONNS][128]; /* the writer object a connection registered */
static Flight flights[WINDOW];
static size_t n_flights;
static unsigned answered, errors, leaves;

static DBusMessage *random_call(char *what, size_t size)
{
        char path[512], sig[160];
        const Method *m = &methods[pick((unsigned)n_methods)];
        const char *iface = m->iface, *member = m->name;
        unsigned shape = pick(20);

        random_path(path, sizeof(path));
        if (shape == 0)
                member = "NoSuchMethod";
        else if (shape == 1)
                iface = NULL;
        else if (shape == 2)
                iface = "org.linuxvss.Vss1.Nope";
        else if (shape == 3)
                iface = methods[pick((unsigned)n_methods)].iface;
        DBusMessage *msg = dbus_message_new_method_call("org.linuxvss.Vss1", path, iface, member);
        ck_assert_ptr_nonnull(msg);
        unsigned args = pick(8);
        if (args < 5)
                snprintf(sig, sizeof(sig), "%s", m->sig);
        else if (args < 7)
                change_arity(m->sig, sig, sizeof(sig));
        else {
                sig[0] = '\0';
                for (unsigned i = pick(4); i > 0; i--)
                        strncat(sig, types[pick(N_TYPES)], sizeof(sig) - strlen(sig) - 1);
        }
        append_args(msg, sig);
        snprintf(what, size, "%.180s %.60s.%.40s(%.60s)", path, iface ? iface : "(no interface)", member,
                 dbus_message_get_signature(msg));
        return msg;
}

/* A writer event came to connection C: answer most of them, not always rightly. */
static DBusMessage *answer_event(int c, DBusMessage *event, char *what, size_t size)
{
        dbus_uint64_t cookie;
        static const char *const failures[] = { "NONE", "NONE", "NONE", "", "RETRYABLE",
                                                "NONRETRYABLE", "bogus" };
        const char *failure = failures[pick(7)], *message = "fuzz";

        if (!writer_of[c][0] || pick(8) == 0 ||
            !dbus_message_get_args(event, NULL, DBUS_TYPE_UINT64, &cookie, DBUS_TYPE_INVALID) ||
            !cookie)
                return NULL;
        if (pick(10) == 0)
                cookie += 1 + pick(3); /* stale */
        DBusMessage *msg = dbus_message_new_method_call("org.linuxvss.Vss1", writer_of[c],
                                                        IFACE ".Writer", "Answer");
        ck_assert(dbus_message_append_args(msg, DBUS_TYPE_UINT64, &cookie, DBUS_TYPE_STRING,
                                           &failure, DBUS_TYPE_STRING, &message,
                                           DBUS_TYPE_INVALID));
        snprintf(what, size, "%s Writer.Answer(%llu, %s)", writer_of[c],
                 (unsigned long long)cookie, failure);
        return msg;
}

static void send_on(int c, DBusMessage *msg, const char *what)
{
        Flight *f = &flights[n_flights++];

        ck_assert(dbus_connection_send_with_reply(conns[c], msg, &f->pending, CALL_TIMEOUT_MS));
        ck_assert_ptr_nonnull(f->pending);
        dbus_message_unref(msg);
        f->conn = c;
        snprintf(f->what, sizeof(f->what), "%s", what);
}

static void finish_oldest(void);

/* Writer events seen by the filter, to be answered after dispatching. */
static struct {
        int conn;
        DBusMessage *event;
} events[64];
static size_t n_events;

/*
 * Signals are looked at in a filter while libdbus dispatches: taking
 * messages off the queue by hand would take pending calls' replies too.
 */
static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg, void *userdata)
{
        int c = (int)(intptr_t)userdata;
        DBusMessageIter it;
        dbus_uint64_t cookie;

        if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL ||
            !dbus_message_has_signature(msg, "tsas"))
                return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
        dbus_message_iter_init(msg, &it);
        dbus_message_iter_get_basic(&it, &cookie);
        if (cookie && n_cookies < POOL_MAX)
                cookies[n_cookies++] = cookie;
        if (n_events < 64) {
                events[n_events].conn = c;
                events[n_events++].event = dbus_message_ref(msg);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* Dispatch what came to connection C; its writer answers the events. */
static void drain_signals(int c)
{
        char what[400];

        dbus_connection_read_write(conns[c], 0);
        while (dbus_connection_dispatch(conns[c]) == DBUS_DISPATCH_DATA_REMAINS)
                ;
        while (n_events) {
                int k = events[--n_events].conn;
                DBusMessage *event = events[n_events].event;
                DBusMessage *answer = answer_event(k, event, what, sizeof(what));
                dbus_message_unref(event);
                if (answer) {
                        if (n_flights == WINDOW)
                                finish_oldest();
                        send_on(k, answer, what);
                }
        }
}

static DBusConnection *connect_client(int c)
{
        DBusConnection *conn = testbus_connect(&tb);
        ck_assert(dbus_connection_add_filter(conn, on_message, (void *)(intptr_t)c, NULL));
        return conn;
}

/* Wait for the oldest call's answer: a reply or an error from vssd, never silence. */
static void finish_oldest(void)
{
        Flight f = flights[0];

        memmove(flights, flights + 1, (--n_flights) * sizeof(*flights));
        dbus_pending_call_block(f.pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(f.pending);
        dbus_pending_call_unref(f.pending);
        ck_assert_msg(reply, "no answer at all to %s", f.what);
        const char *error = testbus_error_name(reply);
        ck_assert_msg(!error || (strcmp(error, DBUS_ERROR_NO_REPLY) != 0 &&
                                 strcmp(error, DBUS_ERROR_SERVICE_UNKNOWN) != 0 &&
                                 strcmp(error, DBUS_ERROR_DISCONNECTED) != 0),
                      "%s was not answered: %s: %s (vssd %s; log %s)", f.what, error,
                      testbus_error_text(reply),
                      testbus_vssd_alive(&tb) ? "is alive" : "died", tb.vssd_log);
        answered++;
        if (error) {
                errors++;
        } else {
                DBusMessageIter it;
                if (strstr(f.what, ".RegisterWriter(") && dbus_message_has_signature(reply, "o")) {
                        const char *path;
                        dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                              DBUS_TYPE_INVALID);
                        snprintf(writer_of[f.conn], sizeof(writer_of[0]), "%s", path);
                }
                if (dbus_message_iter_init(reply, &it))
                        collect(&it, 0);
        }
        dbus_message_unref(reply);
        drain_signals(f.conn);
}

/* Connection C leaves the bus (its sessions end, its writer goes) and a new one comes. */
static void replace_connection(int c)
{
        for (;;) { /* in order, the oldest first, until no call of C is in flight */
                bool pending = false;
                for (size_t i = 0; i < n_flights; i++)
                        pending = pending || flights[i].conn == c;
                if (!pending)
                        break;
                finish_oldest();
        }
        testbus_disconnect(conns[c]);
        conns[c] = connect_client(c);
        writer_of[c][0] = '\0';
        leaves++;
}

static bool log_has_report(void)
{
        return testbus_log_contains(&tb, "ERROR: AddressSanitizer") ||
               testbus_log_contains(&tb, "ERROR: LeakSanitizer") ||
               testbus_log_contains(&tb, "runtime error:");
}

START_TEST(test_random_calls)
{
        char what[400];
        struct timespec t0, t1;

        learn_all();
        for (int c = 0; c < N_CONNS; c++)
                conns[c] = connect_client(c);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (unsigned i = 0; i < CALLS; i++) {
                int c = (int)pick(N_CONNS);
                if (pick(400) == 0)
                        replace_connection(c);
                if (n_flights == WINDOW)
                        finish_oldest();
                send_on(c, random_call(what, sizeof(what)), what);
                if (i % 64 == 0)
                        for (int k = 0; k < N_CONNS; k++)
                                drain_signals(k);
        }
        while (n_flights)
                finish_oldest();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("check_bus_fuzz: %u calls answered (%u errors, the rest replies) in %.1f s; "
               "%u connections left the bus; %zu methods known\n",
               answered, errors, (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, leaves, n_methods);
        ck_assert_uint_ge(answered, CALLS);
        ck_assert_msg(testbus_vssd_alive(&tb), "vssd died; log %s", tb.vssd_log);
        for (int c = 0; c < N_CONNS; c++)
                testbus_disconnect(conns[c]);
        int status = testbus_stop_vssd(&tb);
        ck_assert_msg(!log_has_report(), "a sanitizer reported on vssd; see %s", tb.vssd_log);
        ck_assert_msg(status == 0, "vssd exited with status %d on SIGTERM; see %s", status,
                      tb.vssd_log);
}
END_TEST

static void setup(void)
{
        char asan[PATH_MAX], vssd[PATH_MAX + 8];
        struct stat st;
        const char *build = getenv("VSS_BUILD") ? getenv("VSS_BUILD") : "build";
        const char *seed = getenv("VSS_FUZZ_SEED");

        snprintf(asan, sizeof(asan), "%s/asan", build);
        snprintf(vssd, sizeof(vssd), "%s/vssd", asan);
        ck_assert_msg(stat(vssd, &st) == 0, "%s is missing: run 'make asan-build'", vssd);
        setenv("VSS_TEST_DAEMON_BUILD", asan, 1);
        /* A leak or an error makes vssd exit 66 (or abort): the test sees its status. */
        setenv("ASAN_OPTIONS", "detect_leaks=1:exitcode=66:abort_on_error=0", 1);
        setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 1);
        rng = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
        if (!rng)
                rng = 1;
        printf("check_bus_fuzz: seed %llu (VSS_FUZZ_SEED=%llu repeats this run)\n",
               (unsigned long long)rng, (unsigned long long)rng);
        fflush(stdout);
        /* Writers that do not answer cost a second each, not a minute. */
        testbus_start(&tb, NULL);
        DBusMessage *reply;
        static const char *const props[] = { "FreezeTimeoutMs", "EventTimeoutMs" };
        for (size_t i = 0; i < 2; i++) {
                DBusMessage *msg = dbus_message_new_method_call(
                        "org.linuxvss.Vss1", ROOT, "org.freedesktop.DBus.Properties", "Set");
                DBusMessageIter it, v;
                const char *iface = IFACE;
                dbus_uint32_t ms = 1000;
                dbus_message_iter_init_append(msg, &it);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface);
                dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &props[i]);
                dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "u", &v);
                dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &ms);
                dbus_message_iter_close_container(&it, &v);
                reply = testbus_send_msg(tb.conn, msg);
                testbus_expect_ok(reply, props[i]);
                dbus_message_unref(reply);
        }
}

static void teardown(void)
{
        testbus_stop(&tb);
}

static Suite *bus_fuzz_suite(void)
{
        Suite *s = suite_create("bus: random calls to vssd under ASan");
        TCase *tc = tcase_create("fuzz");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_random_calls);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        const char *valgrind = getenv("VSS_TEST_VALGRIND");

        if (valgrind && strcmp(valgrind, "1") == 0) {
                printf("check_bus_fuzz: skipped under valgrind (vssd here is the ASan build, "
                       "already checked in the first pass)\n");
                printf("bus-fuzz: 0 passed, 0 failed\n");
                return 0;
        }
        SRunner *sr = srunner_create(bus_fuzz_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
