/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vssctl-test.h: what the bus tests of vssctl share: running vssctl on the
 * test's bus, masking what changes from run to run, golden files, asking
 * questions of its JSON, and reading what "vssctl create" printed.
 *
 * Output is compared with golden files in tests/bus/golden/ after masking:
 * every UUID reads <uuid> and every local time "YYYY-MM-DD HH:MM:SS" reads
 * <time>. Since the masks hide the ids, tests also check that the ids one
 * command prints are the ones the next uses.
 *
 * Header-only, with static functions, because each bus test program links
 * only its own file and the harness. A program that includes it has one bus,
 * tb, started by vssctl_test_start(), and the fake provider's log, fake_log.
 */
#ifndef VSS_TESTS_BUS_VSSCTL_TEST_H
#define VSS_TESTS_BUS_VSSCTL_TEST_H

#include <check.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/harness.h"

/* Not every test program uses every helper. */
#define VSSCTL_TEST_HELPER static __attribute__((unused))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define UUID_LEN 36
#define MAX_SNAPSHOTS 64

static TestBus tb;
static char fake_log[PATH_MAX];

/* Run suite S: main()'s exit status. */
VSSCTL_TEST_HELPER int vssctl_test_run(Suite *s)
{
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Start the bus and vssd with the fake provider (EXTRA_CONFIG: see testbus_start()). */
VSSCTL_TEST_HELPER void vssctl_test_start(const char *extra_config)
{
        testbus_start(&tb, extra_config);
        snprintf(fake_log, sizeof(fake_log), "%s/fake.log", tb.dir);
}

/* ---- running vssctl ---------------------------------------------------------------------- */

VSSCTL_TEST_HELPER const char *vssctl_path(void)
{
        return testbus_path(false, "vssctl");
}

/* Run "vssctl ARGS"; its exit status, and stdout with stderr into *RET_OUTPUT. */
__attribute__((format(printf, 2, 3)))
VSSCTL_TEST_HELPER int vssctl(char **ret_output, const char *format, ...)
{
        char args[6144];
        va_list ap;

        va_start(ap, format);
        vsnprintf(args, sizeof(args), format, ap);
        va_end(ap);
        return testbus_run(&tb, ret_output, "%s %s", vssctl_path(), args);
}

/* ---- masking and golden files -------------------------------------------------------------- */

/* Does P start with PATTERN, where 'x' is any hex digit and 'd' any decimal digit? */
VSSCTL_TEST_HELPER bool matches(const char *p, const char *pattern)
{
        for (; *pattern; p++, pattern++) {
                if (*pattern == 'x' ? !isxdigit((unsigned char)*p)
                    : *pattern == 'd' ? !isdigit((unsigned char)*p)
                                      : *p != *pattern)
                        return false;
        }
        return true;
}

static const char UUID_PATTERN[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
static const char TIME_PATTERN[] = "dddd-dd-dd dd:dd:dd";

/* TEXT with each UUID replaced by <uuid> and each local time by <time>; malloc()ed. */
VSSCTL_TEST_HELPER char *mask(const char *text)
{
        char *out = malloc(strlen(text) + 1), *o = out;

        ck_assert_ptr_nonnull(out);
        for (const char *p = text; *p;) {
                if (matches(p, UUID_PATTERN)) {
                        o = stpcpy(o, "<uuid>");
                        p += UUID_LEN;
                } else if (matches(p, TIME_PATTERN)) {
                        o = stpcpy(o, "<time>");
                        p += sizeof(TIME_PATTERN) - 1;
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        return out;
}

/* MASKED (what WHAT printed, masked) equals golden file NAME. */
VSSCTL_TEST_HELPER void assert_golden(const char *what, const char *masked, const char *name)
{
        char *want = testbus_golden(name);
        ck_assert_msg(strcmp(masked, want) == 0, "%s printed (masked):\n%s\nwanted (%s):\n%s",
                      what, masked, name, want);
        free(want);
}

VSSCTL_TEST_HELPER char *run_golden(int status, const char *name, bool masked, const char *args)
{
        char *out;
        int r = vssctl(&out, "%s", args);

        ck_assert_msg(r == status, "vssctl %s: exit %d, wanted %d; output:\n%s", args, r, status,
                      out);
        if (name) {
                char *text = masked ? mask(out) : strdup(out);
                assert_golden(args, text, name);
                free(text);
        }
        return out;
}

/*
 * Run "vssctl ARGS": assert exit STATUS and, unless NAME is NULL, that its
 * masked output equals golden file NAME. Returns the unmasked output.
 */
__attribute__((format(printf, 3, 4)))
VSSCTL_TEST_HELPER char *expect_vssctl(int status, const char *name, const char *format, ...)
{
        char args[6144];
        va_list ap;

        va_start(ap, format);
        vsnprintf(args, sizeof(args), format, ap);
        va_end(ap);
        return run_golden(status, name, true, args);
}

/* The same without masking: for output that names ids the test chose. */
VSSCTL_TEST_HELPER void expect_vssctl_unmasked(int status, const char *name, const char *args)
{
        free(run_golden(status, name, false, args));
}

/* Run "vssctl ARGS" and assert it printed exactly WANT and exited STATUS. */
VSSCTL_TEST_HELPER void expect_exact(int status, const char *want, const char *args)
{
        char *out = expect_vssctl(status, NULL, "%s", args);
        ck_assert_msg(strcmp(out, want) == 0, "vssctl %s printed:\n%s\nwanted:\n%s", args, out,
                      want);
        free(out);
}

/*
 * "vssctl --json ARGS" must print a JSON document: python3 parses it as D and
 * runs CODE (using double quotes only). Returns what CODE printed.
 */
VSSCTL_TEST_HELPER char *json_query(const char *args, const char *code)
{
        char err_path[PATH_MAX], *out;

        /* vssctl's stderr (warnings) is no part of the document. */
        snprintf(err_path, sizeof(err_path), "%s/json.err", tb.dir);
        int r = testbus_run(&tb, &out,
                            "%s --json %s 2>%s | python3 -c 'import json, sys, time\n"
                            "d = json.load(sys.stdin)\n%s'",
                            vssctl_path(), args, err_path, code);
        char *err = testbus_read_file(err_path);
        ck_assert_msg(r == 0, "vssctl --json %s, through python3 (%s): exit %d:\n%s%s", args,
                      code, r, err, out);
        free(err);
        return out;
}

VSSCTL_TEST_HELPER bool log_has(const char *needle)
{
        char *text = testbus_read_file(fake_log);
        bool found = strstr(text, needle) != NULL;
        free(text);
        return found;
}

/* ---- what create printed ------------------------------------------------------------------- */

struct created {
        char set_id[UUID_LEN + 1];
        char context[64];
        size_t n;
        char ids[MAX_SNAPSHOTS][UUID_LEN + 1];
        char origins[MAX_SNAPSHOTS][128];
};

/* Parse create's table: "Snapshot set: ID", "Context: C", a header, "ID  ORIGIN" per snapshot. */
VSSCTL_TEST_HELPER void parse_created(const char *text, struct created *c)
{
        memset(c, 0, sizeof(*c));
        for (const char *line = text, *next; *line; line = next) {
                size_t len = strcspn(line, "\n");
                next = line + len + (line[len] == '\n');
                if (strncmp(line, "Snapshot set: ", 14) == 0 && matches(line + 14, UUID_PATTERN))
                        memcpy(c->set_id, line + 14, UUID_LEN);
                else if (strncmp(line, "Context: ", 9) == 0)
                        snprintf(c->context, sizeof(c->context), "%.*s", (int)len - 9, line + 9);
                else if (matches(line, UUID_PATTERN) && c->n < MAX_SNAPSHOTS) {
                        memcpy(c->ids[c->n], line, UUID_LEN);
                        const char *origin = line + UUID_LEN + strspn(line + UUID_LEN, " ");
                        snprintf(c->origins[c->n], sizeof(c->origins[0]), "%.*s",
                                 (int)(len - (size_t)(origin - line)), origin);
                        c->n++;
                }
        }
        ck_assert_msg(c->set_id[0], "no set id in:\n%s", text);
}

/* "vssctl create ARGS" succeeded: what it printed, parsed. */
VSSCTL_TEST_HELPER void create_ok(struct created *c, const char *args)
{
        char *out = expect_vssctl(0, NULL, "create %s", args);
        parse_created(out, c);
        free(out);
}

#endif
