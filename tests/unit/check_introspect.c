/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_introspect.c: the Introspect XML generated from the interface tables
 * (daemon/dbus/introspect.c), as busctl, d-feet or gdbus read it. The XML is
 * parsed here (a small parser for the subset D-Bus introspection uses), so the
 * checks are about elements and attributes, not about whitespace: each method
 * with its arguments' names, types and directions in order, signals, every
 * property with its access and EmitsChangedSignal annotation, the standard
 * interfaces, child nodes; and bus_args_signature(), the signature dispatch
 * checks calls against.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dbus/bus.h"

/* --- a minimal XML reader --------------------------------------------------------- */

#define MAX_ATTRS 8
#define MAX_CHILDREN 64

typedef struct Element {
        char *tag;
        char *attr_name[MAX_ATTRS];
        char *attr_value[MAX_ATTRS];
        size_t n_attrs;
        struct Element *children[MAX_CHILDREN];
        size_t n_children;
} Element;

static void element_free(Element *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n_children; i++)
                element_free(e->children[i]);
        for (size_t i = 0; i < e->n_attrs; i++) {
                free(e->attr_name[i]);
                free(e->attr_value[i]);
        }
        free(e->tag);
        free(e);
}

static void skip_space(const char **p)
{
        while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
                (*p)++;
}

static char *take_name(const char **p)
{
        const char *start = *p;

        while (**p && !strchr(" \n\t\r/>=\"", **p))
                (*p)++;
        ck_assert_msg(*p > start, "expected a name at: %.40s", start);
        return strndup(start, (size_t)(*p - start));
}

/* Parse one element at *P (after skipping prologue and whitespace). */
static Element *parse_element(const char **p)
{
        Element *e = calloc(1, sizeof(*e));

        ck_assert_ptr_nonnull(e);
        skip_space(p);
        ck_assert_msg(**p == '<', "expected '<' at: %.40s", *p);
        (*p)++;
        e->tag = take_name(p);
        for (;;) {
                skip_space(p);
                if (strncmp(*p, "/>", 2) == 0) {
                        *p += 2;
                        return e;
                }
                if (**p == '>') {
                        (*p)++;
                        break;
                }
                ck_assert_uint_lt(e->n_attrs, MAX_ATTRS);
                e->attr_name[e->n_attrs] = take_name(p);
                ck_assert_msg(**p == '=' && (*p)[1] == '"', "bad attribute at: %.40s", *p);
                *p += 2;
                const char *end = strchr(*p, '"');
                ck_assert_ptr_nonnull(end);
                ck_assert_msg(!memchr(*p, '<', (size_t)(end - *p)), "'<' in attribute");
                e->attr_value[e->n_attrs++] = strndup(*p, (size_t)(end - *p));
                *p = end + 1;
        }
        for (;;) {
                skip_space(p);
                ck_assert_msg(**p == '<', "text content in <%s> at: %.40s", e->tag, *p);
                if ((*p)[1] == '/') {
                        *p += 2;
                        char *tag = take_name(p);
                        ck_assert_msg(strcmp(tag, e->tag) == 0, "</%s> closes <%s>", tag, e->tag);
                        free(tag);
                        skip_space(p);
                        ck_assert_msg(**p == '>', "bad end tag");
                        (*p)++;
                        return e;
                }
                ck_assert_uint_lt(e->n_children, MAX_CHILDREN);
                e->children[e->n_children++] = parse_element(p);
        }
}

/* The whole document: DOCTYPE, one <node>, nothing after it. */
static Element *parse_document(const char *xml)
{
        const char *p = xml;

        ck_assert_msg(strncmp(p, "<!DOCTYPE node PUBLIC", 21) == 0, "no DOCTYPE: %.60s", p);
        ck_assert_ptr_nonnull(strstr(p, "http://www.freedesktop.org/standards/dbus/1.0/"
                                        "introspect.dtd"));
        p = strchr(p, '>') + 1;
        Element *root = parse_element(&p);
        skip_space(&p);
        ck_assert_msg(*p == '\0', "trailing text: %.40s", p);
        ck_assert_str_eq(root->tag, "node");
        return root;
}

static const char *attr(const Element *e, const char *name)
{
        for (size_t i = 0; i < e->n_attrs; i++)
                if (strcmp(e->attr_name[i], name) == 0)
                        return e->attr_value[i];
        return NULL;
}

/* The child <TAG name="NAME">, or NULL. */
static const Element *child(const Element *e, const char *tag, const char *name)
{
        for (size_t i = 0; i < e->n_children; i++) {
                const Element *c = e->children[i];
                const char *n = attr(c, "name");
                if (strcmp(c->tag, tag) == 0 && (!name || (n && strcmp(n, name) == 0)))
                        return c;
        }
        return NULL;
}

static size_t count(const Element *e, const char *tag)
{
        size_t n = 0;

        for (size_t i = 0; i < e->n_children; i++)
                n += strcmp(e->children[i]->tag, tag) == 0;
        return n;
}

static const Element *must_child(const Element *e, const char *tag, const char *name)
{
        const Element *c = child(e, tag, name);

        ck_assert_msg(c, "<%s name=\"%s\"> missing in <%s name=\"%s\">", tag, name, e->tag,
                      attr(e, "name") ? attr(e, "name") : "");
        return c;
}

/* ARGS of method or signal E, in order: name, type, direction (NULL: none). */
static void assert_args(const Element *e, const char *const (*want)[3], size_t n)
{
        ck_assert_uint_eq(count(e, "arg"), n);
        for (size_t i = 0; i < n; i++) {
                const Element *a = e->children[i];
                ck_assert_str_eq(a->tag, "arg");
                ck_assert_str_eq(attr(a, "name"), want[i][0]);
                ck_assert_str_eq(attr(a, "type"), want[i][1]);
                if (want[i][2])
                        ck_assert_str_eq(attr(a, "direction"), want[i][2]);
                else
                        ck_assert_ptr_null(attr(a, "direction"));
        }
}

/* The EmitsChangedSignal annotation of property P, or NULL (the default, "true"). */
static const char *emits_changed(const Element *p)
{
        const Element *a = child(p, "annotation", "org.freedesktop.DBus.Property.EmitsChangedSignal");

        return a ? attr(a, "value") : NULL;
}

/* --- the tables ------------------------------------------------------------------ */

static int no_method(BusCall *call, void *userdata)
{
        return 0;
}

static int no_get(DBusMessageIter *iter, void *userdata)
{
        return 0;
}

static int no_set(BusCall *call, DBusMessageIter *iter, void *userdata)
{
        return 0;
}

static const BusInterface sample = {
        .name = "org.linuxvss.Vss1.Sample",
        .methods = (const BusMethod[]){
                { "AddVolume", BUS_ARGS({ "volume", "s" }, { "provider_id", "s" }),
                  BUS_ARGS({ "snapshot", "o" }), no_method, BUS_ACCESS_BACKUP },
                { "Query", BUS_ARGS({ "options", "a{sv}" }, { "filter", "as" }),
                  BUS_ARGS({ "items", "a(so)" }, { "count", "u" }), no_method,
                  BUS_ACCESS_ANYONE },
                { "Reset", BUS_NO_ARGS, BUS_NO_ARGS, no_method, BUS_ACCESS_ROOT },
                { NULL },
        },
        .properties = (const BusProperty[]){
                { "State", "s", no_get, NULL, BUS_PROPERTY_EMITS_CHANGE },
                { "HoldTimeoutMs", "u", no_get, no_set, BUS_PROPERTY_EMITS_CHANGE },
                { "Id", "s", no_get, NULL, BUS_PROPERTY_CONST },
                { "Scratch", "t", no_get, no_set, 0 },
                { NULL },
        },
        .signals = (const BusSignal[]){
                { "Progress", BUS_ARGS({ "step", "s" }, { "percent", "u" }) },
                { "Done", BUS_NO_ARGS },
                { NULL },
        },
};

static const BusInterface bare = { .name = "org.linuxvss.Vss1.Bare" };

static Element *introspect(const BusInterface *const *ifaces, size_t n, bool manager,
                           const char *const *children, size_t n_children)
{
        char *xml = NULL;

        ck_assert_int_eq(bus_introspect_xml(&xml, ifaces, n, manager, children, n_children), 0);
        ck_assert_ptr_nonnull(xml);
        Element *root = parse_document(xml);
        free(xml);
        return root;
}

/* --- tests ----------------------------------------------------------------------- */

START_TEST(test_methods_with_args_in_order)
{
        const BusInterface *ifaces[] = { &sample };
        Element *root = introspect(ifaces, 1, false, NULL, 0);
        const Element *i = must_child(root, "interface", "org.linuxvss.Vss1.Sample");

        ck_assert_uint_eq(count(i, "method"), 3);
        static const char *const add[][3] = {
                { "volume", "s", "in" }, { "provider_id", "s", "in" }, { "snapshot", "o", "out" },
        };
        assert_args(must_child(i, "method", "AddVolume"), add, 3);
        static const char *const query[][3] = {
                { "options", "a{sv}", "in" }, { "filter", "as", "in" },
                { "items", "a(so)", "out" }, { "count", "u", "out" },
        };
        assert_args(must_child(i, "method", "Query"), query, 4);
        assert_args(must_child(i, "method", "Reset"), NULL, 0);
        element_free(root);
}
END_TEST

START_TEST(test_signals_have_args_without_direction)
{
        const BusInterface *ifaces[] = { &sample };
        Element *root = introspect(ifaces, 1, false, NULL, 0);
        const Element *i = must_child(root, "interface", "org.linuxvss.Vss1.Sample");

        ck_assert_uint_eq(count(i, "signal"), 2);
        static const char *const progress[][3] = { { "step", "s", NULL }, { "percent", "u", NULL } };
        assert_args(must_child(i, "signal", "Progress"), progress, 2);
        assert_args(must_child(i, "signal", "Done"), NULL, 0);
        element_free(root);
}
END_TEST

START_TEST(test_properties_access_and_annotations)
{
        const BusInterface *ifaces[] = { &sample };
        Element *root = introspect(ifaces, 1, false, NULL, 0);
        const Element *i = must_child(root, "interface", "org.linuxvss.Vss1.Sample");
        const Element *p;

        ck_assert_uint_eq(count(i, "property"), 4);
        /* Read-only, announced with PropertiesChanged: no annotation (default true). */
        p = must_child(i, "property", "State");
        ck_assert_str_eq(attr(p, "type"), "s");
        ck_assert_str_eq(attr(p, "access"), "read");
        ck_assert_ptr_null(emits_changed(p));
        /* Writable: "readwrite". */
        p = must_child(i, "property", "HoldTimeoutMs");
        ck_assert_str_eq(attr(p, "type"), "u");
        ck_assert_str_eq(attr(p, "access"), "readwrite");
        ck_assert_ptr_null(emits_changed(p));
        /* Never changes: clients may cache it. */
        p = must_child(i, "property", "Id");
        ck_assert_str_eq(attr(p, "access"), "read");
        ck_assert_str_eq(emits_changed(p), "const");
        /* Changes silently: clients must not wait for a signal. */
        p = must_child(i, "property", "Scratch");
        ck_assert_str_eq(attr(p, "type"), "t");
        ck_assert_str_eq(attr(p, "access"), "readwrite");
        ck_assert_str_eq(emits_changed(p), "false");
        element_free(root);
}
END_TEST

START_TEST(test_standard_interfaces)
{
        const BusInterface *ifaces[] = { &sample, &bare };
        Element *root = introspect(ifaces, 2, false, NULL, 0);
        static const char *const xml_data[][3] = { { "xml_data", "s", "out" } };
        static const char *const get[][3] = {
                { "interface_name", "s", "in" }, { "property_name", "s", "in" },
                { "value", "v", "out" },
        };
        static const char *const set[][3] = {
                { "interface_name", "s", "in" }, { "property_name", "s", "in" },
                { "value", "v", "in" },
        };
        static const char *const changed[][3] = {
                { "interface_name", "s", NULL }, { "changed_properties", "a{sv}", NULL },
                { "invalidated_properties", "as", NULL },
        };

        const Element *i = must_child(root, "interface", "org.freedesktop.DBus.Introspectable");
        assert_args(must_child(i, "method", "Introspect"), xml_data, 1);
        i = must_child(root, "interface", "org.freedesktop.DBus.Peer");
        must_child(i, "method", "Ping");
        must_child(i, "method", "GetMachineId");
        i = must_child(root, "interface", "org.freedesktop.DBus.Properties");
        assert_args(must_child(i, "method", "Get"), get, 3);
        assert_args(must_child(i, "method", "Set"), set, 3);
        must_child(i, "method", "GetAll");
        assert_args(must_child(i, "signal", "PropertiesChanged"), changed, 3);
        /* Not the manager path: no ObjectManager. */
        ck_assert_ptr_null(child(root, "interface", "org.freedesktop.DBus.ObjectManager"));
        /* An interface without members is still listed. */
        i = must_child(root, "interface", "org.linuxvss.Vss1.Bare");
        ck_assert_uint_eq(i->n_children, 0);
        ck_assert_uint_eq(count(root, "interface"), 5);
        element_free(root);
}
END_TEST

START_TEST(test_object_manager_and_children)
{
        const char *const children[] = { "provider", "set_1", "writer" };
        Element *root = introspect(NULL, 0, true, children, 3);
        static const char *const managed[][3] = {
                { "object_paths_interfaces_and_properties", "a{oa{sa{sv}}}", "out" },
        };
        static const char *const added[][3] = {
                { "object_path", "o", NULL }, { "interfaces_and_properties", "a{sa{sv}}", NULL },
        };
        static const char *const removed[][3] = {
                { "object_path", "o", NULL }, { "interfaces", "as", NULL },
        };

        const Element *om = must_child(root, "interface", "org.freedesktop.DBus.ObjectManager");
        assert_args(must_child(om, "method", "GetManagedObjects"), managed, 1);
        assert_args(must_child(om, "signal", "InterfacesAdded"), added, 2);
        assert_args(must_child(om, "signal", "InterfacesRemoved"), removed, 2);
        /* A path with no interfaces of its own has no Properties to offer. */
        ck_assert_ptr_null(child(root, "interface", "org.freedesktop.DBus.Properties"));
        ck_assert_uint_eq(count(root, "node"), 3);
        for (size_t k = 0; k < 3; k++) {
                const Element *n = must_child(root, "node", children[k]);
                ck_assert_uint_eq(n->n_children, 0);
        }
        element_free(root);
}
END_TEST

START_TEST(test_empty_node)
{
        Element *root = introspect(NULL, 0, false, NULL, 0);

        /* Only what every object has. */
        ck_assert_uint_eq(count(root, "interface"), 2);
        ck_assert_uint_eq(count(root, "node"), 0);
        must_child(root, "interface", "org.freedesktop.DBus.Introspectable");
        must_child(root, "interface", "org.freedesktop.DBus.Peer");
        element_free(root);
}
END_TEST

START_TEST(test_args_signature)
{
        char buf[16];

        ck_assert_int_eq(bus_args_signature(BUS_ARGS({ "a", "s" }, { "b", "a{sv}" }, { "c", "u" }),
                                            buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "sa{sv}u");
        ck_assert_int_eq(bus_args_signature(BUS_NO_ARGS, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "");
        ck_assert_int_eq(bus_args_signature(NULL, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "");
        /* "sa{sv}u" is 7 characters: 8 bytes fit, 7 do not. */
        const BusArg *args = BUS_ARGS({ "a", "s" }, { "b", "a{sv}" }, { "c", "u" });
        ck_assert_int_eq(bus_args_signature(args, buf, 8), 0);
        ck_assert_str_eq(buf, "sa{sv}u");
        ck_assert_int_eq(bus_args_signature(args, buf, 7), -ENOBUFS);
        /* Every generated method signature is one a client can send. */
        for (const BusMethod *m = sample.methods; m->name; m++) {
                ck_assert_int_eq(bus_args_signature(m->in, buf, sizeof(buf)), 0);
                ck_assert_msg(dbus_signature_validate(buf, NULL), "%s: '%s'", m->name, buf);
        }
}
END_TEST

static Suite *introspect_suite(void)
{
        Suite *s = suite_create("introspect");
        TCase *tc = tcase_create("xml");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_methods_with_args_in_order);
        tcase_add_test(tc, test_signals_have_args_without_direction);
        tcase_add_test(tc, test_properties_access_and_annotations);
        tcase_add_test(tc, test_standard_interfaces);
        tcase_add_test(tc, test_object_manager_and_children);
        tcase_add_test(tc, test_empty_node);
        suite_add_tcase(s, tc);

        tc = tcase_create("signature");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_args_signature);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(introspect_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
