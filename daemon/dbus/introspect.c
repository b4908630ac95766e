/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * introspect.c: Introspect XML generated from the interface tables, so the
 * published description cannot drift from what dispatch accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dbus/bus.h"

int bus_args_signature(const BusArg *args, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (; args && args->name; args++) {
                size_t n = strlen(args->signature);
                if (len + n + 1 > size)
                        return -ENOBUFS;
                memcpy(buf + len, args->signature, n + 1);
                len += n;
        }
        return 0;
}

static void xml_args(FILE *f, const BusArg *args, const char *direction)
{
        for (; args && args->name; args++) {
                fprintf(f, "   <arg name=\"%s\" type=\"%s\"", args->name, args->signature);
                if (direction)
                        fprintf(f, " direction=\"%s\"", direction);
                fputs("/>\n", f);
        }
}

static const char *property_access(const BusProperty *p)
{
        return p->set ? "readwrite" : "read";
}

static void xml_property(FILE *f, const BusProperty *p)
{
        fprintf(f, "  <property name=\"%s\" type=\"%s\" access=\"%s\"", p->name, p->signature,
                property_access(p));
        if (p->flags & BUS_PROPERTY_CONST)
                fputs(">\n   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\""
                      " value=\"const\"/>\n  </property>\n", f);
        else if (!(p->flags & BUS_PROPERTY_EMITS_CHANGE))
                fputs(">\n   <annotation name=\"org.freedesktop.DBus.Property.EmitsChangedSignal\""
                      " value=\"false\"/>\n  </property>\n", f);
        else
                fputs("/>\n", f);
}

static void xml_interface(FILE *f, const BusInterface *iface)
{
        fprintf(f, " <interface name=\"%s\">\n", iface->name);
        for (const BusMethod *m = iface->methods; m && m->name; m++) {
                fprintf(f, "  <method name=\"%s\">\n", m->name);
                xml_args(f, m->in, "in");
                xml_args(f, m->out, "out");
                fputs("  </method>\n", f);
        }
        for (const BusSignal *s = iface->signals; s && s->name; s++) {
                fprintf(f, "  <signal name=\"%s\">\n", s->name);
                xml_args(f, s->args, NULL);
                fputs("  </signal>\n", f);
        }
        for (const BusProperty *p = iface->properties; p && p->name; p++)
                xml_property(f, p);
        fputs(" </interface>\n", f);
}

/* The standard interfaces every object of ours implements. */
static const char standard_xml[] =
        " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
        "  <method name=\"Introspect\">\n"
        "   <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
        "  </method>\n"
        " </interface>\n"
        " <interface name=\"org.freedesktop.DBus.Peer\">\n"
        "  <method name=\"Ping\"/>\n"
        "  <method name=\"GetMachineId\">\n"
        "   <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
        "  </method>\n"
        " </interface>\n";

static const char properties_xml[] =
        " <interface name=\"org.freedesktop.DBus.Properties\">\n"
        "  <method name=\"Get\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
        "  </method>\n"
        "  <method name=\"GetAll\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"props\" type=\"a{sv}\" direction=\"out\"/>\n"
        "  </method>\n"
        "  <method name=\"Set\">\n"
        "   <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
        "   <arg name=\"value\" type=\"v\" direction=\"in\"/>\n"
        "  </method>\n"
        "  <signal name=\"PropertiesChanged\">\n"
        "   <arg name=\"interface_name\" type=\"s\"/>\n"
        "   <arg name=\"changed_properties\" type=\"a{sv}\"/>\n"
        "   <arg name=\"invalidated_properties\" type=\"as\"/>\n"
        "  </signal>\n"
        " </interface>\n";

static const char object_manager_xml[] =
        " <interface name=\"org.freedesktop.DBus.ObjectManager\">\n"
        "  <method name=\"GetManagedObjects\">\n"
        "   <arg name=\"object_paths_interfaces_and_properties\" type=\"a{oa{sa{sv}}}\""
        " direction=\"out\"/>\n"
        "  </method>\n"
        "  <signal name=\"InterfacesAdded\">\n"
        "   <arg name=\"object_path\" type=\"o\"/>\n"
        "   <arg name=\"interfaces_and_properties\" type=\"a{sa{sv}}\"/>\n"
        "  </signal>\n"
        "  <signal name=\"InterfacesRemoved\">\n"
        "   <arg name=\"object_path\" type=\"o\"/>\n"
        "   <arg name=\"interfaces\" type=\"as\"/>\n"
        "  </signal>\n"
        " </interface>\n";

int bus_introspect_xml(char **ret, const BusInterface *const *ifaces, size_t n_ifaces,
                       bool object_manager, const char *const *children, size_t n_children)
{
        char *xml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&xml, &size);

        if (!f)
                return -ENOMEM;
        fputs(DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n", f);
        fputs(standard_xml, f);
        if (n_ifaces > 0)
                fputs(properties_xml, f);
        if (object_manager)
                fputs(object_manager_xml, f);
        for (size_t i = 0; i < n_ifaces; i++)
                xml_interface(f, ifaces[i]);
        for (size_t i = 0; i < n_children; i++)
                fprintf(f, " <node name=\"%s\"/>\n", children[i]);
        fputs("</node>\n", f);
        if (fclose(f) != 0 || !xml) {
                free(xml);
                return -ENOMEM;
        }
        *ret = xml;
        return 0;
}
