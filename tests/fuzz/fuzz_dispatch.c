/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_dispatch.c: a libFuzzer target over vssd's D-Bus message handlers.
 *
 * Each input runs a whole vssd without a bus process: the daemon's own loop,
 * provider thread, authorizer, coordinator, provider and lifecycle objects
 * (every daemon source but main.c, daemon/dbus, daemon/core) with the fake
 * provider (tests/providers/fake/) linked in. vssd's connection is the accepted end
 * of a peer-to-peer libdbus connection; this file holds the other end and
 * plays every client: the input is a sequence of records, each a method call
 * (object, member, interface and arguments chosen by the bytes) from one of
 * three unique names, or one of those names leaving the bus (the
 * NameOwnerChanged vssd follows). Members come from the daemon's real
 * interface tables, arguments follow the member's signature (or a random
 * one) and draw on what earlier replies and signals said: object paths,
 * snapshot and set ids, writer event cookies; so one input can start a
 * backup, add volumes, register as a writer and answer its events.
 *
 * After each call the loop runs until vssd is quiet: no provider job in
 * flight, nothing to read or send on either end. Calls that wait for a
 * writer stay pending and the next record goes on. At the end of the input
 * vssd is stopped as SIGTERM stops it (lifecycle_shutdown) and torn down as
 * main() does, so LeakSanitizer sees every leak of one input.
 *
 *   VSS_FUZZ_WRITE_SEEDS=DIR  write the seed corpus (a few valid calls of
 *                             each kind) into DIR and exit
 *   VSS_FUZZ_VERBOSE=1        vssd's debug log on stderr
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vss/provider.h>
#include <vss/vss.h>

#include "daemon/dbus/bus-internal.h"
#include "daemon/lifecycle.h"
#include "daemon/util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct vss_provider vss_provider_v4; /* tests/providers/fake/ */

#define SENDERS 3
#define POOL_MAX 32
#define MEMBERS_MAX 96
#define VALUES_MAX 600 /* per message: bounds what one record can make */
#define CHAIN_MAX 8    /* calls sent without waiting for vssd in between */

/* --- the bytes --------------------------------------------------------------------- */

typedef struct Input {
        const uint8_t *p;
        size_t n;
} Input;

static uint8_t take(Input *in)
{
        if (!in->n)
                return 0;
        in->n--;
        return *in->p++;
}

static uint64_t take_n(Input *in, unsigned bytes)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < bytes; i++)
                v = v << 8 | take(in);
        return v;
}

/* --- what the daemon's tables declare (learnt from the objects it publishes) -------- */

typedef struct Member {
        const char *iface;
        const char *name;
        char signature[256];
} Member;

static Member members[MEMBERS_MAX];
static size_t n_members;
static const char *names[256]; /* interface and property names, for string arguments */
static size_t n_names;
static const BusInterface *learnt[16];
static size_t n_learnt;

static void member_add(const char *iface, const char *name, const char *signature)
{
        if (n_members < MEMBERS_MAX)
                members[n_members++] = (Member){ iface, name, "" };
        snprintf(members[n_members - 1].signature, sizeof(members[0].signature), "%s", signature);
}

static void name_add(const char *name)
{
        for (size_t i = 0; i < n_names; i++)
                if (strcmp(names[i], name) == 0)
                        return;
        if (n_names < 256)
                names[n_names++] = name;
}

static void tables_learn_iface(const BusInterface *iface)
{
        char sig[256];

        for (size_t i = 0; i < n_learnt; i++)
                if (learnt[i] == iface)
                        return;
        if (n_learnt == 16)
                return;
        learnt[n_learnt++] = iface;
        name_add(iface->name);
        for (const BusMethod *m = iface->methods; m && m->name; m++)
                if (bus_args_signature(m->in, sig, sizeof(sig)) >= 0)
                        member_add(iface->name, m->name, sig);
        for (const BusProperty *p = iface->properties; p && p->name; p++)
                name_add(p->name);
}

/* The standard interfaces object.c serves, then every table the daemon shows. */
static void tables_learn(Bus *bus)
{
        if (n_members == 0) {
                member_add(DBUS_INTERFACE_INTROSPECTABLE, "Introspect", "");
                member_add(DBUS_INTERFACE_PROPERTIES, "Get", "ss");
                member_add(DBUS_INTERFACE_PROPERTIES, "GetAll", "s");
                member_add(DBUS_INTERFACE_PROPERTIES, "Set", "ssv");
                member_add("org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "");
                member_add(DBUS_INTERFACE_PEER, "Ping", "");
                name_add(DBUS_INTERFACE_PROPERTIES);
                name_add(DBUS_INTERFACE_INTROSPECTABLE);
                tables_learn_iface(&session_object_interface);
                tables_learn_iface(&set_object_interface);
                tables_learn_iface(&snapshot_object_interface);
                tables_learn_iface(&writer_object_interface);
        }
        for (BusObject *o = bus->objects; o; o = o->next)
                for (size_t i = 0; i < o->n_ifaces; i++)
                        tables_learn_iface(o->ifaces[i]);
}

static int member_index(const char *name)
{
        for (size_t i = 0; i < n_members; i++)
                if (strcmp(members[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/* Strings the daemon gives meaning to: volumes, contexts, option keys, names... */
static const char *const dict[] = {
        "/dev/fake/a", "/dev/fake/b", "/dev/fake/p", "/dev/fakeplain/p", "/dev/fake/../fake/a",
        "/dev/fake//a/", "/dev/sda1", "relative", "", "/", "backup", "file-share-backup",
        "app-rollback", "nas-rollback", "persistent", "no-auto-release", "no-writers",
        "front-end", "back-end", "system", "NONE", "INCONSISTENTSNAPSHOT", "OUTOFRESOURCES",
        "TIMEOUT", "RETRYABLE", "NONRETRYABLE", "snapshot", "set", "volume", "Context",
        "Attributes", "Provider", "ExcludeWriters", "Name", "InstanceId", "ClassId", "Level",
        "FreezeTimeoutMs", "Usage", "MaxSize", "DiffArea", "fake", "dm-snapshot", "10G", "15%",
        "unbounded", "0", "1K", "99999999999999999999T", "/mnt/snap", "/mnt/../etc", "/fake/a/x",
        "/var/lib/fake/diff", "/run/vss/expose/x", "w1", "w2", "inst-1", "class", "user-data",
        "00000000-0000-0000-0000-000000000000", "b174487d-9ce0-4bcd-b915-f31ece126eb6",
        "%s%n%s", "\xc3\xa9t\xc3\xa9", "Version", "State",
};
#define N_DICT (sizeof(dict) / sizeof(dict[0]))

static int dict_index(const char *s)
{
        for (size_t i = 0; i < N_DICT; i++)
                if (strcmp(dict[i], s) == 0)
                        return (int)i;
        fprintf(stderr, "fuzz_dispatch: a seed names \"%s\", not in the dictionary\n", s);
        abort();
}

/* --- what vssd told this input's clients ----------------------------------------------- */

typedef struct Seen {
        char *paths[POOL_MAX];
        size_t n_paths;
        char *ids[POOL_MAX];
        size_t n_ids;
        uint64_t cookies[POOL_MAX];
        size_t n_cookies;
} Seen;

static void pool_add(char **pool, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp(pool[i], s) == 0)
                        return;
        char *copy = strdup(s);
        if (!copy)
                return;
        if (*n == POOL_MAX) {
                free(pool[0]);
                memmove(pool, pool + 1, (POOL_MAX - 1) * sizeof(*pool));
                (*n)--;
        }
        pool[(*n)++] = copy;
}

static bool looks_like_uuid(const char *s)
{
        return strlen(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-';
}

/* Object paths and ids anywhere in a reply or signal, cookies of writer events. */
static void seen_collect(Seen *seen, DBusMessageIter *it, int depth)
{
        for (; depth < 6; dbus_message_iter_next(it)) {
                int type = dbus_message_iter_get_arg_type(it);
                const char *s;
                DBusMessageIter sub;

                if (type == DBUS_TYPE_INVALID)
                        return;
                if (type == DBUS_TYPE_OBJECT_PATH) {
                        dbus_message_iter_get_basic(it, &s);
                        pool_add(seen->paths, &seen->n_paths, s);
                } else if (type == DBUS_TYPE_STRING) {
                        dbus_message_iter_get_basic(it, &s);
                        if (looks_like_uuid(s))
                                pool_add(seen->ids, &seen->n_ids, s);
                } else if (type == DBUS_TYPE_ARRAY || type == DBUS_TYPE_STRUCT ||
                           type == DBUS_TYPE_DICT_ENTRY || type == DBUS_TYPE_VARIANT) {
                        dbus_message_iter_recurse(it, &sub);
                        seen_collect(seen, &sub, depth + 1);
                }
        }
}

static void seen_clear(Seen *seen)
{
        for (size_t i = 0; i < seen->n_paths; i++)
                free(seen->paths[i]);
        for (size_t i = 0; i < seen->n_ids; i++)
                free(seen->ids[i]);
        *seen = (Seen){ 0 };
}

/* --- one input's vssd ------------------------------------------------------------------- */

enum run_state { RUN_AUTH, RUN_STARTING, RUN_CALLING, RUN_STOPPING };

typedef struct Run {
        Manager m;
        DBusConnection *server_conn; /* vssd's end (the Bus holds it) */
        DBusConnection *client;      /* every client's end */
        LoopSource *driver;          /* runs while there is something to do */
        LoopSource *client_io;       /* vssd wrote to a client: drive */
        LoopSource *fallback;        /* or in 1 ms, for what ends without a word */
        enum run_state state;
        bool started;
        Input in;
        Seen seen;
        unsigned budget; /* values left for the message being built */
} Run;

static const char *const senders[SENDERS] = { ":1.1", ":1.2", ":1.3" };

static bool verbose;
static DBusServer *server;
static char *server_address;
static DBusWatch *listen_watch;
static DBusConnection *accepted;

/* --- building arguments ------------------------------------------------------------------- */

static bool gen_value(Run *run, DBusMessageIter *it, DBusSignatureIter *sig, int depth);

static void sanitize_utf8(char *s)
{
        if (dbus_validate_utf8(s, NULL))
                return;
        for (; *s; s++)
                if ((unsigned char)*s >= 0x80)
                        *s = '?';
}

static char *gen_raw(Input *in, size_t len)
{
        char *s = malloc(len + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i++)
                s[i] = (char)take(in);
        for (size_t i = 0; i < len; i++)
                if (!s[i])
                        s[i] = 'a'; /* no NUL inside a D-Bus string */
        s[len] = '\0';
        sanitize_utf8(s);
        return s;
}

/* A string (malloc()ed): mostly one with meaning to vssd, else raw, long or made up. */
static char *gen_string(Run *run)
{
        Input *in = &run->in;
        uint8_t mode = take(in) % 8;
        char buf[96];

        switch (mode) {
        case 3:
                if (run->seen.n_ids)
                        return strdup(run->seen.ids[take(in) % run->seen.n_ids]);
                return strdup("");
        case 4:
                return strdup(names[take(in) % n_names]);
        case 5:
                return gen_raw(in, take(in) % 64);
        case 6: {
                size_t len = (size_t)take_n(in, 2); /* up to 64 KiB */
                char *s = malloc(len + 1);
                if (s) {
                        memset(s, "a/-_.x"[take(in) % 6], len);
                        s[0] = len ? '/' : '\0';
                        s[len] = '\0';
                }
                return s;
        }
        case 7: {
                char *tail = gen_raw(in, take(in) % 16);
                snprintf(buf, sizeof(buf), "/dev/fake/%s", tail ? tail : "");
                free(tail);
                return strdup(buf);
        }
        default:
                return strdup(dict[take(in) % N_DICT]);
        }
}

/* The path of the most recent published object whose path starts with PREFIX. */
static const char *recent_object(Run *run, const char *prefix)
{
        for (BusObject *o = run->m.bus->objects; o; o = o->next)
                if (o->published && strncmp(o->path, prefix, strlen(prefix)) == 0)
                        return o->path;
        return NULL;
}

static const char *const path_words[] = { "org", "linuxvss", "Vss1", "session", "set",
                                          "snapshot", "writer", "provider", "fake", "1", "0",
                                          "99999999999999999999", "_", "a_2d" };

/* An object path into BUF: one of vssd's objects, one it named, or made up. */
static const char *gen_path(Run *run, char *buf, size_t size)
{
        Input *in = &run->in;
        uint8_t sel = take(in) % 12;
        const char *p = NULL;

        switch (sel) {
        case 0: p = VSS_ROOT_PATH; break;
        case 1: p = recent_object(run, VSS_ROOT_PATH "/provider/"); break;
        case 2: p = recent_object(run, VSS_ROOT_PATH "/session/"); break;
        case 3: p = recent_object(run, VSS_ROOT_PATH "/set/"); break;
        case 4: p = recent_object(run, VSS_ROOT_PATH "/snapshot/"); break;
        case 5: p = recent_object(run, VSS_ROOT_PATH "/writer/"); break;
        case 6:
                if (run->seen.n_paths)
                        p = run->seen.paths[take(in) % run->seen.n_paths];
                break;
        case 7: {
                size_t len = 0, n = take(in) % 5;
                buf[0] = '\0';
                for (size_t i = 0; i < n && len + 32 < size; i++)
                        len += (size_t)snprintf(buf + len, size - len, "/%s",
                                                path_words[take(in) % 14]);
                p = len ? buf : "/";
                break;
        }
        case 8: p = "/"; break;
        case 9: p = "/org/linuxvss"; break;
        default: {
                size_t n = 0, k = take(in);
                for (BusObject *o = run->m.bus->objects; o; o = o->next)
                        n++;
                BusObject *o = run->m.bus->objects;
                for (size_t i = 0; n && i < k % n; i++)
                        o = o->next;
                p = o ? o->path : NULL;
        }
        }
        if (!p || !dbus_validate_path(p, NULL))
                p = VSS_ROOT_PATH "/session/404";
        if (p != buf)
                snprintf(buf, size, "%s", p);
        return buf;
}

static const uint32_t interesting_u32[] = { 0, 1, 99, 100, 999, 1000, 60000, 60001, 600000,
                                            3600000, 3600001, 0x7fffffff, 0xffffffff };
static const char *const variant_sigs[] = { "s", "u", "b", "t", "o", "as", "a{sv}", "i",
                                            "x", "d", "y", "g", "(ss)", "v", "a(ssas)", "ay" };
static const char *const signature_values[] = { "", "s", "a{sv}", "as", "(ss)", "v" };

static bool gen_basic(Run *run, DBusMessageIter *it, int type)
{
        Input *in = &run->in;
        char buf[256];
        union {
                uint8_t y;
                dbus_bool_t b;
                uint16_t q;
                uint32_t u;
                uint64_t t;
                double d;
                const char *s;
        } v = { 0 };

        switch (type) {
        case DBUS_TYPE_BOOLEAN:
                v.b = take(in) & 1;
                break;
        case DBUS_TYPE_UINT32:
        case DBUS_TYPE_INT32:
                v.u = take(in) % 2 ? interesting_u32[take(in) % 13] : (uint32_t)take_n(in, 4);
                break;
        case DBUS_TYPE_UINT64:
        case DBUS_TYPE_INT64: {
                uint8_t mode = take(in) % 4;
                if (mode < 2 && run->seen.n_cookies)
                        v.t = run->seen.cookies[take(in) % run->seen.n_cookies];
                else
                        v.t = mode == 2 ? take(in) : take_n(in, 8);
                break;
        }
        case DBUS_TYPE_DOUBLE:
                v.d = (double)(int64_t)take_n(in, 8) / 7.0;
                break;
        case DBUS_TYPE_OBJECT_PATH:
                v.s = gen_path(run, buf, sizeof(buf));
                break;
        case DBUS_TYPE_SIGNATURE:
                v.s = signature_values[take(in) % 6];
                break;
        case DBUS_TYPE_STRING: {
                char *s = gen_string(run);
                if (!s)
                        return false;
                v.s = s;
                bool ok = dbus_message_iter_append_basic(it, type, &v);
                free(s);
                return ok;
        }
        default: /* y n q */
                v.q = (uint16_t)take_n(in, 2);
                if (type == DBUS_TYPE_BYTE)
                        v.y = (uint8_t)v.q;
        }
        return dbus_message_iter_append_basic(it, type, &v);
}

static bool gen_array(Run *run, DBusMessageIter *it, DBusSignatureIter *sig, int depth)
{
        DBusSignatureIter elem;
        DBusMessageIter sub;
        size_t n = depth > 3 ? 0 : take(&run->in) % 5;

        if (n == 4) /* sometimes many: 65 volumes reach MaximumVolumesReached */
                n = take(&run->in);
        dbus_signature_iter_recurse(sig, &elem);
        char *elem_sig = dbus_signature_iter_get_signature(&elem);
        bool ok = elem_sig && dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, elem_sig, &sub);
        dbus_free(elem_sig);
        for (size_t i = 0; ok && i < n && run->budget; i++) {
                dbus_signature_iter_recurse(sig, &elem);
                ok = gen_value(run, &sub, &elem, depth + 1);
        }
        if (!ok)
                return false;
        return dbus_message_iter_close_container(it, &sub);
}

static bool gen_fields(Run *run, DBusMessageIter *it, DBusSignatureIter *sig, int type, int depth)
{
        DBusSignatureIter field;
        DBusMessageIter sub;

        if (!dbus_message_iter_open_container(it, type, NULL, &sub))
                return false;
        dbus_signature_iter_recurse(sig, &field);
        do {
                if (!gen_value(run, &sub, &field, depth + 1))
                        return false;
        } while (dbus_signature_iter_next(&field));
        return dbus_message_iter_close_container(it, &sub);
}

static bool gen_variant(Run *run, DBusMessageIter *it, int depth)
{
        const char *s = variant_sigs[take(&run->in) % 16];
        DBusSignatureIter sig;
        DBusMessageIter sub;

        if (depth > 3)
                s = "s";
        dbus_signature_iter_init(&sig, s);
        return dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, s, &sub) &&
               gen_value(run, &sub, &sig, depth + 1) && dbus_message_iter_close_container(it, &sub);
}

/* One value of the complete type at SIG. */
static bool gen_value(Run *run, DBusMessageIter *it, DBusSignatureIter *sig, int depth)
{
        int type = dbus_signature_iter_get_current_type(sig);

        if (run->budget)
                run->budget--;
        switch (type) {
        case DBUS_TYPE_ARRAY:
                return gen_array(run, it, sig, depth);
        case DBUS_TYPE_STRUCT:
        case DBUS_TYPE_DICT_ENTRY:
                return gen_fields(run, it, sig, type, depth);
        case DBUS_TYPE_VARIANT:
                return gen_variant(run, it, depth);
        case DBUS_TYPE_UNIX_FD:
                return false; /* never generated */
        default:
                return gen_basic(run, it, type);
        }
}

/* Arguments of SIGNATURE ("" for none). */
static bool gen_args(Run *run, DBusMessage *msg, const char *signature)
{
        DBusMessageIter it;
        DBusSignatureIter sig;

        if (!*signature)
                return true;
        run->budget = VALUES_MAX;
        dbus_message_iter_init_append(msg, &it);
        dbus_signature_iter_init(&sig, signature);
        do {
                if (!gen_value(run, &it, &sig, 0))
                        return false;
        } while (dbus_signature_iter_next(&sig));
        return true;
}

/* Up to four arguments of types the daemon may or may not expect. */
static void gen_signature(Run *run, char *buf, size_t size)
{
        size_t n = take(&run->in) % 5;

        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                strncat(buf, variant_sigs[take(&run->in) % 16], size - strlen(buf) - 1);
}

/* --- records: calls and names leaving the bus -------------------------------------------- */

enum {
        FLAG_NO_REPLY = 1u << 2,
        FLAG_NO_WAIT = 1u << 3,
        FLAG_IFACE_SHIFT = 4, /* 2 bits: declared, none, another one, made up */
        FLAG_RANDOM_SIGNATURE = 1u << 6,
};

static const char *gen_iface(Run *run, const Member *m, unsigned mode, char *buf, size_t size)
{
        switch (mode) {
        case 0: return m->iface;
        case 1: return NULL;
        case 2: return members[take(&run->in) % n_members].iface;
        default: {
                char *s = gen_raw(&run->in, take(&run->in) % 24);
                snprintf(buf, size, "org.linuxvss.%s", s ? s : "");
                free(s);
                return dbus_validate_interface(buf, NULL) ? buf : "org.linuxvss.Nope1";
        }
        }
}

static bool send_call(Run *run)
{
        Input *in = &run->in;
        uint8_t flags = take(in);
        char path[256], iface_buf[64], sig[64];
        const char *p = gen_path(run, path, sizeof(path));
        size_t sel = take(in) % (n_members + 1);
        const Member *m = &members[sel < n_members ? sel : 0];
        const char *member = sel < n_members ? m->name : "NoSuchMethod";
        const char *iface = gen_iface(run, m, (flags >> FLAG_IFACE_SHIFT) & 3, iface_buf,
                                      sizeof(iface_buf));
        DBusMessage *msg = dbus_message_new_method_call(NULL, p, iface, member);

        if (!msg)
                return false;
        dbus_message_set_sender(msg, senders[(flags & 3) % SENDERS]);
        dbus_message_set_no_reply(msg, flags & FLAG_NO_REPLY);
        if (flags & FLAG_RANDOM_SIGNATURE)
                gen_signature(run, sig, sizeof(sig));
        bool ok = gen_args(run, msg, flags & FLAG_RANDOM_SIGNATURE ? sig : m->signature);
        if (verbose)
                fprintf(stderr, "fuzz: -> %s %s.%s (%s)\n", p, iface ? iface : "-", member,
                        dbus_message_get_signature(msg));
        if (ok)
                dbus_connection_send(run->client, msg, NULL);
        dbus_message_unref(msg);
        /* Written as the socket takes it (client_pump): vssd reads only in the loop. */
        dbus_connection_read_write(run->client, 0);
        return ok && (flags & FLAG_NO_WAIT);
}

/* SENDER leaves the bus: what dbus-daemon would tell vssd. */
static void send_name_lost(Run *run, const char *name)
{
        DBusMessage *sig = dbus_message_new_signal(DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
                                                   "NameOwnerChanged");
        const char *none = "";

        if (!sig)
                return;
        dbus_message_set_sender(sig, DBUS_SERVICE_DBUS);
        if (dbus_message_append_args(sig, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING, &name,
                                     DBUS_TYPE_STRING, &none, DBUS_TYPE_INVALID))
                dbus_connection_send(run->client, sig, NULL);
        dbus_message_unref(sig);
        dbus_connection_read_write(run->client, 0);
}

/* The next record; false when the input is used up. Whether to go on without waiting. */
static bool next_record(Run *run, bool *chain)
{
        *chain = false;
        if (!run->in.n)
                return false;
        uint8_t op = take(&run->in) % 16;
        if (op == 12 || op == 13)
                send_name_lost(run, senders[take(&run->in) % SENDERS]);
        else
                *chain = send_call(run);
        return true;
}

/* --- the clients' end ------------------------------------------------------------------ */

/* vssd asks "the bus" for a writer's pid and uid: answer as dbus-daemon would. */
static void answer_bus_call(Run *run, DBusMessage *call)
{
        DBusMessage *reply;
        DBusMessageIter it, array, entry, v;
        static const char *const keys[] = { "UnixUserID", "ProcessID" };
        dbus_uint32_t values[] = { 0, (dbus_uint32_t)getpid() };

        if (!dbus_message_is_method_call(call, DBUS_INTERFACE_DBUS, "GetConnectionCredentials"))
                reply = dbus_message_new_error(call, DBUS_ERROR_UNKNOWN_METHOD, "not here");
        else if ((reply = dbus_message_new_method_return(call))) {
                dbus_message_iter_init_append(reply, &it);
                dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &array);
                for (size_t i = 0; i < 2; i++) {
                        dbus_message_iter_open_container(&array, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
                        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &keys[i]);
                        dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "u", &v);
                        dbus_message_iter_append_basic(&v, DBUS_TYPE_UINT32, &values[i]);
                        dbus_message_iter_close_container(&entry, &v);
                        dbus_message_iter_close_container(&array, &entry);
                }
                dbus_message_iter_close_container(&it, &array);
        }
        if (reply) {
                dbus_connection_send(run->client, reply, NULL);
                dbus_message_unref(reply);
        }
}

static void client_handle(Run *run, DBusMessage *msg)
{
        DBusMessageIter it;
        dbus_uint64_t cookie;

        if (verbose) {
                const char *what = dbus_message_get_error_name(msg);
                fprintf(stderr, "fuzz: <- %s %s %s\n",
                        dbus_message_type_to_string(dbus_message_get_type(msg)),
                        what ? what : dbus_message_get_member(msg) ? dbus_message_get_member(msg) : "",
                        dbus_message_get_signature(msg));
        }
        if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL) {
                answer_bus_call(run, msg);
                return;
        }
        if (!dbus_message_iter_init(msg, &it))
                return;
        /* A writer event: (t cookie, s set, as volumes). */
        if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_SIGNAL &&
            dbus_message_has_signature(msg, "tsas")) {
                dbus_message_iter_get_basic(&it, &cookie);
                if (cookie && run->seen.n_cookies < POOL_MAX)
                        run->seen.cookies[run->seen.n_cookies++] = cookie;
        }
        seen_collect(&run->seen, &it, 0);
}

/* Read what vssd sent (replies dropped once looked at) and send what is queued. */
static void client_pump(Run *run)
{
        DBusMessage *msg;

        dbus_connection_read_write(run->client, 0);
        while ((msg = dbus_connection_pop_message(run->client))) {
                client_handle(run, msg);
                dbus_message_unref(msg);
        }
        dbus_connection_read_write(run->client, 0);
}

/* Nothing left to do before a client acts: no job in flight, nothing to read or write. */
static bool run_quiet(Run *run)
{
        int fds[2] = { -1, -1 };
        struct pollfd pfd[2];

        if (run->m.core && !core_is_idle(run->m.core))
                return false;
        if (dbus_connection_get_dispatch_status(run->server_conn) != DBUS_DISPATCH_COMPLETE ||
            dbus_connection_has_messages_to_send(run->server_conn) ||
            dbus_connection_has_messages_to_send(run->client))
                return false;
        dbus_connection_get_unix_fd(run->server_conn, &fds[0]);
        dbus_connection_get_unix_fd(run->client, &fds[1]);
        for (int i = 0; i < 2; i++)
                pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        return poll(pfd, 2, 0) == 0;
}

static void on_started(void *userdata, const CoreResult *res)
{
        Run *run = userdata;
        run->started = true;
}

/* Before the loop sleeps: drive the input, one record whenever vssd is quiet. */
static int driver(LoopSource *source, void *userdata)
{
        Run *run = userdata;
        bool chain = true;

        client_pump(run);
        if (run->state == RUN_STOPPING || !run_quiet(run)) {
                /* Sleep in the loop, not spin: a client's fd or the fallback wakes us. */
                loop_source_set_enabled(source, false);
                loop_source_set_timer(run->fallback, 1000);
                return 0;
        }
        if (run->state == RUN_AUTH) {
                if (!dbus_connection_get_is_authenticated(run->client))
                        return 0;
                Pending *p = pending_new_internal(on_started, run);
                struct vss_error_buf err = { "" };
                if (!p || core_start(run->m.core, p, &err) < 0)
                        abort(); /* the harness itself is broken */
                run->state = RUN_STARTING;
                return 0;
        }
        if (run->state == RUN_STARTING) {
                if (!run->started)
                        return 0;
                run->state = RUN_CALLING;
        }
        if (!run->in.n) {
                /*
                 * As SIGTERM, once every call was dispatched: a call that lands in
                 * the stop's last loop iteration is a race of its own (see the
                 * report of issue 6), not what each input should end with.
                 */
                run->state = RUN_STOPPING;
                lifecycle_shutdown(&run->m);
                return 0;
        }
        for (int i = 0; chain && i < CHAIN_MAX; i++)
                if (!next_record(run, &chain))
                        break;
        return 0;
}

static int on_client_io(LoopSource *source, int fd, uint32_t revents, void *userdata)
{
        Run *run = userdata;
        loop_source_set_enabled(run->driver, true);
        return 0;
}

static int on_fallback(LoopSource *source, void *userdata)
{
        Run *run = userdata;
        loop_source_set_enabled(run->driver, true);
        return 0;
}

/* --- vssd without main(): what main.c's manager_start and manager_stop do ------------- */

static void new_connection(DBusServer *s, DBusConnection *conn, void *userdata)
{
        accepted = dbus_connection_ref(conn);
}

static dbus_bool_t server_watch_add(DBusWatch *watch, void *userdata)
{
        if (dbus_watch_get_flags(watch) & DBUS_WATCH_READABLE)
                listen_watch = watch;
        return TRUE;
}

static void server_watch_remove(DBusWatch *watch, void *userdata)
{
        if (watch == listen_watch)
                listen_watch = NULL;
}

static void die(const char *what)
{
        fprintf(stderr, "fuzz_dispatch: %s\n", what);
        abort();
}

/* A plugin entry for the linked-in fake provider (plugins.c would dlopen it). */
static void fake_plugin_load(Run *run)
{
        static const struct vss_provider_host host = {
                .abi_version = VSS_PROVIDER_ABI_VERSION,
                .log = log_msg,
        };
        Plugin *p = calloc(1, sizeof(*p));

        run->m.plugins.items = calloc(1, sizeof(Plugin *));
        if (!p || !run->m.plugins.items || !(p->path = strdup("fake (linked in)")))
                die("out of memory");
        p->provider = &vss_provider_v4;
        if (p->provider->ops->init(&host, &p->state) < 0)
                die("the fake provider does not start");
        run->m.plugins.items[0] = p;
        run->m.plugins.n = 1;
}

static void run_start(Run *run)
{
        DBusError error;
        char err[256];

        dbus_error_init(&error);
        if (settings_load(&run->m.settings, "/nonexistent/vssd.conf", 0, err, sizeof(err)) < 0 ||
            loop_new(&run->m.loop) < 0 || provider_runner_new(&run->m.runner, run->m.loop) < 0 ||
            access_new(&run->m.access, run->m.settings.backup_group,
                       run->m.settings.writer_group) < 0)
                die("cannot set up the daemon");
        fake_plugin_load(run);
        run->client = dbus_connection_open_private(server_address, &error);
        if (!run->client || !listen_watch)
                die(error.message ? error.message : "cannot connect");
        dbus_connection_set_exit_on_disconnect(run->client, FALSE);
        dbus_watch_handle(listen_watch, DBUS_WATCH_READABLE); /* accept */
        if (!accepted)
                die("the connection was not accepted");
        run->server_conn = accepted;
        accepted = NULL;
        if (bus_new_from_connection(&run->m.bus, run->m.loop, run->server_conn, false,
                                    VSS_ROOT_PATH) < 0)
                die("cannot serve the connection");
        dbus_connection_unref(run->server_conn); /* the Bus has it */
        bus_set_authorizer(run->m.bus, &access_bus_authorizer, run->m.access);
        if (lifecycle_start(&run->m) < 0 || coordinator_publish(&run->m) < 0 ||
            provider_objects_publish(&run->m) < 0)
                die("cannot publish the objects");
        tables_learn(run->m.bus);
        int fd = -1;
        if (!dbus_connection_get_unix_fd(run->client, &fd) ||
            loop_add_defer(run->m.loop, &run->driver, driver, run) < 0 ||
            loop_add_io(run->m.loop, &run->client_io, fd, EPOLLIN, on_client_io, run) < 0 ||
            loop_add_timer(run->m.loop, &run->fallback, 0, on_fallback, run) < 0)
                die("cannot add the driver");
}

static void run_stop(Run *run)
{
        Manager *m = &run->m;

        run->driver = loop_source_free(run->driver);
        run->client_io = loop_source_free(run->client_io);
        run->fallback = loop_source_free(run->fallback);
        m->stopping = true;
        m->runner = provider_runner_free(m->runner);
        bus_leave(m->bus);
        lifecycle_stop(m);
        provider_objects_free(m);
        bus_object_free(m->root);
        m->bus = bus_free(m->bus);
        m->access = access_free(m->access);
        plugins_free(&m->plugins);
        m->loop = loop_free(m->loop);
        settings_done(&m->settings);
        dbus_connection_close(run->client);
        dbus_connection_unref(run->client);
        seen_clear(&run->seen);
}

static void run_input(const uint8_t *data, size_t size)
{
        Run run = { .in = { data, size } };

        run_start(&run);
        loop_run(run.m.loop);
        run_stop(&run);
}

/* --- the seed corpus -------------------------------------------------------------------- */

typedef struct Seed {
        uint8_t b[4096];
        size_t n;
} Seed;

static void put(Seed *s, int byte)
{
        if (s->n < sizeof(s->b))
                s->b[s->n++] = (uint8_t)byte;
}

enum { P_ROOT = 0, P_PROVIDER, P_SESSION, P_SET, P_SNAPSHOT, P_WRITER };

/* A call of MEMBER on the object PATH_SEL as sender 0, waiting for vssd after it. */
static void seed_call(Seed *s, int path_sel, const char *member, int flags)
{
        int i = member_index(member);
        if (i < 0)
                die("a seed names an unknown member");
        put(s, 0);
        put(s, flags);
        put(s, path_sel);
        put(s, i);
}

/* A dictionary string argument; an a{sv} with N string options. */
static void seed_str(Seed *s, const char *str)
{
        put(s, 0);
        put(s, dict_index(str));
}

/* An interface or property name argument. */
static void seed_name(Seed *s, const char *name)
{
        for (size_t i = 0; i < n_names; i++)
                if (strcmp(names[i], name) == 0) {
                        put(s, 4);
                        put(s, (int)i);
                        return;
                }
        die("a seed names an unknown interface or property");
}

static void seed_opts(Seed *s, int n, const char *const *kv)
{
        put(s, n);
        for (int i = 0; i < n; i++) {
                seed_str(s, kv[2 * i]);
                put(s, 0); /* variant "s" */
                seed_str(s, kv[2 * i + 1]);
        }
}

static void seed_strv(Seed *s, int n, const char *const *v)
{
        put(s, n);
        for (int i = 0; i < n; i++)
                seed_str(s, v[i]);
}

static void seed_write(const char *dir, const char *name, const Seed *s)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0)
                die("cannot write a seed");
}

static void seeds_write(const char *dir)
{
        Seed s;
        const char *const fake_a[] = { "/dev/fake/a" };
        const char *const ab[] = { "/dev/fake/a", "/dev/fake/b" };
        const char *const ctx[] = { "Context", "app-rollback" };
        const char *const writer[] = { "Name", "w1", "InstanceId", "inst-1", "Level", "system" };

        mkdir(dir, 0755);
        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "Introspect", 0);
        seed_call(&s, P_ROOT, "GetManagedObjects", 0);
        seed_call(&s, P_ROOT, "GetAll", 0), seed_name(&s, VSS_IFACE_COORDINATOR);
        seed_call(&s, P_PROVIDER, "Introspect", 0);
        seed_write(dir, "introspect", &s);

        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "Set", 0);
        seed_name(&s, VSS_IFACE_COORDINATOR), seed_str(&s, "FreezeTimeoutMs");
        put(&s, 1), put(&s, 1), put(&s, 8); /* variant u: 600000 */
        seed_call(&s, P_ROOT, "Get", 0), seed_name(&s, VSS_IFACE_COORDINATOR),
                seed_str(&s, "Version");
        seed_write(dir, "properties", &s);

        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "CreateSnapshotSet", 0), seed_strv(&s, 2, ab), seed_opts(&s, 0, NULL);
        seed_call(&s, P_SNAPSHOT, "Expose", 0), seed_str(&s, "");
        seed_call(&s, P_SNAPSHOT, "Unexpose", 0);
        seed_call(&s, P_SNAPSHOT, "Revert", 0);
        seed_call(&s, P_SET, "Delete", 0);
        seed_write(dir, "create-set", &s);

        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "StartBackup", 0), seed_opts(&s, 1, ctx);
        seed_call(&s, P_SESSION, "GatherWriterMetadata", 0);
        seed_call(&s, P_SESSION, "StartSnapshotSet", 0);
        seed_call(&s, P_SESSION, "AddToSnapshotSet", 0), seed_str(&s, "/dev/fake/a"),
                seed_str(&s, "");
        seed_call(&s, P_SESSION, "PrepareForBackup", 0);
        seed_call(&s, P_SESSION, "DoSnapshotSet", 0);
        seed_call(&s, P_SESSION, "SetBackupSucceeded", 0), put(&s, 1);
        seed_call(&s, P_SESSION, "BackupComplete", 0);
        seed_call(&s, P_SESSION, "Release", 0);
        seed_write(dir, "session", &s);

        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "RegisterWriter", 0), seed_opts(&s, 3, writer);
        seed_call(&s, P_WRITER, "SetMetadata", 0), put(&s, 0);
        seed_call(&s, P_ROOT, "CreateSnapshotSet", 0), seed_strv(&s, 1, fake_a),
                seed_opts(&s, 0, NULL);
        for (int i = 0; i < 6; i++) { /* Identify, PrepareBackup, ... answered NONE */
                seed_call(&s, P_WRITER, "Answer", 0);
                put(&s, 0), put(&s, (uint8_t)i), seed_str(&s, "NONE"), seed_str(&s, "");
        }
        put(&s, 12), put(&s, 0); /* the writer's owner leaves the bus */
        seed_write(dir, "writer", &s);

        s = (Seed){ .n = 0 };
        seed_call(&s, P_ROOT, "EnableVolume", 0), seed_str(&s, "/dev/fakeplain/p"),
                seed_opts(&s, 0, NULL);
        seed_call(&s, P_PROVIDER, "SetStorage", 0), seed_str(&s, "/dev/fake/a");
        seed_opts(&s, 1, (const char *const[]){ "MaxSize", "10G" });
        seed_call(&s, P_PROVIDER, "ListStorage", 0);
        seed_call(&s, P_PROVIDER, "IsVolumeSupported", 0), seed_str(&s, "/dev/sda1");
        seed_call(&s, P_ROOT, "DeleteSnapshots", 0), seed_str(&s, "volume"),
                seed_str(&s, "/dev/fake/a");
        seed_call(&s, P_ROOT, "DisableVolume", 0), seed_str(&s, "/dev/fake/p"),
                seed_opts(&s, 0, NULL);
        seed_write(dir, "provider", &s);
}

/* --- libFuzzer ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        DBusError error;
        const char *v = getenv("VSS_FUZZ_VERBOSE");

        verbose = v && strcmp(v, "1") == 0;
        log_set_max_priority(verbose ? LOG_DEBUG : -1);
        dbus_error_init(&error);
        server = dbus_server_listen("unix:tmpdir=/tmp", &error);
        if (!server)
                die(error.message);
        server_address = dbus_server_get_address(server);
        dbus_server_set_new_connection_function(server, new_connection, NULL, NULL);
        if (!dbus_server_set_watch_functions(server, server_watch_add, server_watch_remove, NULL,
                                             NULL, NULL))
                die("out of memory");
        const char *seeds = getenv("VSS_FUZZ_WRITE_SEEDS");
        if (seeds) {
                run_input(NULL, 0); /* learns the tables */
                seeds_write(seeds);
                exit(0);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        run_input(data, size);
        return 0;
}
