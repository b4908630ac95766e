/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_vssctl_lifecycle.c: vssctl create, delete and list
 * shadows|sets|writers (and through them libvss's requester API) against the
 * real vssd on a private bus with the fake provider and test writers.
 *
 * Output is compared with golden files in tests/bus/golden/ after masking
 * what changes from run to run: every UUID reads <uuid>, every local time
 * "YYYY-MM-DD HH:MM:SS" reads <time>, and writer pids read <pid>. Since the
 * masks hide the ids, each test also checks that the ids one command prints
 * are the ones the next lists.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/bus/vssctl-test.h"

static pid_t writers[4];
static size_t n_writers;

static pid_t spawn_writer(const char *name, const char *args);
static char *listed_ids_of_set(const char *set_id);

static void setup(void)
{
        /*
         * No monitor round during a test: the copy-on-write usage the fake
         * reports in one would change what "list shadows" prints from run to
         * run (check_bus_vssctl_snapshot.c tests that part). The fake keeps
         * its snapshots in a file, as a real provider keeps them in the kernel,
         * so that a restarted vssd finds them.
         */
        vssctl_test_start("state = @DIR@/fake.state\n\n[daemon]\nmonitor_interval_ms = 60000\n");
        n_writers = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < n_writers; i++)
                testbus_kill(writers[i]);
        testbus_stop(&tb);
}

/* ---- what the JSON lists say ---------------------------------------------------------------- */

/* The snapshots vssd lists, one "ID SET ORIGIN STATE PROVIDER ATTRIBUTES" line each. */
static char *json_shadows(void)
{
        return json_query("list shadows",
                          "for s in d[\"snapshots\"]:\n"
                          "    print(s[\"id\"], s[\"snapshot_set_id\"], s[\"origin\"], "
                          "s[\"state\"], s[\"provider\"], \",\".join(s[\"attributes\"]) or \"-\")");
}

/* The sets vssd lists, one "ID STATE VOLUMES ATTRIBUTES ERROR" line each. */
static char *json_sets(void)
{
        return json_query("list sets",
                          "for s in d[\"snapshot_sets\"]:\n"
                          "    print(s[\"id\"], s[\"state\"], \",\".join(s[\"volumes\"]), "
                          "\",\".join(s[\"attributes\"]) or \"-\", s[\"error\"] or \"-\")");
}

static void expect_nothing_left(void)
{
        expect_exact(0, "No shadow copies.\n", "list shadows");
        expect_exact(0, "No snapshot sets.\n", "list sets");
}

/* The lines json_shadows() prints for snapshot I of C. */
static void append_shadow_line(char *buf, size_t size, const struct created *c, size_t i,
                               const char *attributes)
{
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s %s %s valid fake %s\n", c->ids[i], c->set_id,
                 c->origins[i], attributes);
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- create ---------------------------------------------------------------------------------- */

START_TEST(test_create_outlives_vssctl)
{
        struct created c;
        char want[2048] = "";
        uint64_t before = now_usec();

        char *out = expect_vssctl(0, "create-two.txt", "create /dev/fake/a /dev/fake/b");
        uint64_t after = now_usec();
        parse_created(out, &c);
        free(out);
        ck_assert_str_eq(c.context, "backup");
        ck_assert_uint_eq(c.n, 2);
        ck_assert_str_eq(c.origins[0], "/dev/fake/a");
        ck_assert_str_eq(c.origins[1], "/dev/fake/b");

        /* vssctl has exited: the set and its snapshots are still there, with create's ids. */
        out = expect_vssctl(0, "list-shadows-two.txt", "list shadows");
        for (size_t i = 0; i < c.n; i++) {
                char row[256];
                snprintf(row, sizeof(row), "%s  %s  %s  ", c.ids[i], c.set_id, c.origins[i]);
                ck_assert_msg(strstr(out, row), "no row '%s' in:\n%s", row, out);
        }
        free(out);
        out = expect_vssctl(0, "list-sets-two.txt", "list sets");
        ck_assert_msg(strncmp(out + strcspn(out, "\n") + 1, c.set_id, UUID_LEN) == 0, "%s", out);
        free(out);

        out = json_shadows();
        append_shadow_line(want, sizeof(want), &c, 0, "no-auto-release");
        append_shadow_line(want, sizeof(want), &c, 1, "no-auto-release");
        ck_assert_str_eq(out, want);
        free(out);
        out = json_sets();
        snprintf(want, sizeof(want), "%s ready /dev/fake/a,/dev/fake/b no-auto-release -\n",
                 c.set_id);
        ck_assert_str_eq(out, want);
        free(out);
        ck_assert(!log_has("delete"));

        /* Made while create ran, and the same instant in the JSON's two forms and the table's. */
        out = json_query("list shadows",
                         "for s in d[\"snapshots\"]:\n"
                         "    t = s[\"creation_time_usec\"]\n"
                         "    assert s[\"creation_time\"] == time.strftime(\"%Y-%m-%dT%H:%M:%SZ\", "
                         "time.gmtime(t // 1000000)), s\n"
                         "    print(t)");
        uint64_t usec = strtoull(out, NULL, 10);
        ck_assert_msg(usec >= before && usec <= after, "created at %" PRIu64 ", not within "
                      "[%" PRIu64 ", %" PRIu64 "]", usec, before, after);
        free(out);
        char local[64];
        time_t secs = (time_t)(usec / 1000000);
        struct tm tm;
        strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S", localtime_r(&secs, &tm));
        out = expect_vssctl(0, NULL, "list shadows");
        ck_assert_msg(strstr(out, local), "no local time %s in:\n%s", local, out);
        free(out);
}
END_TEST

START_TEST(test_create_json)
{
        char want[1024];

        char *out = json_query("create /dev/fake/c",
                               "print(d[\"snapshot_set_id\"], d[\"context\"], "
                               "repr(d[\"warnings\"]), len(d[\"snapshots\"]), "
                               "\",\".join(d[\"attributes\"]))\n"
                               "for s in d[\"snapshots\"]:\n"
                               "    print(s[\"id\"], s[\"origin\"], s[\"provider\"])");
        struct created c = { .n = 1 };
        char context[64], warnings[64], origin[64], provider[64], attributes[64];
        int n;
        ck_assert_msg(sscanf(out, "%36s %63s %63s %d %63s %36s %63s %63s", c.set_id, context,
                             warnings, &n, attributes, c.ids[0], origin, provider) == 8,
                      "%s", out);
        free(out);
        ck_assert_str_eq(context, "backup");
        ck_assert_str_eq(attributes, "no-auto-release");
        ck_assert_str_eq(warnings, "''");
        ck_assert_int_eq(n, 1);
        ck_assert_str_eq(origin, "/dev/fake/c");
        ck_assert_str_eq(provider, "fake");
        strcpy(c.origins[0], origin);

        want[0] = '\0';
        append_shadow_line(want, sizeof(want), &c, 0, "no-auto-release");
        out = json_shadows();
        ck_assert_str_eq(out, want);
        free(out);
}
END_TEST

/* --persistent: the provider keeps them across reboots too; the contexts say the same. */
START_TEST(test_create_persistent)
{
        struct created c;
        char want[1024] = "";

        create_ok(&c, "--persistent /dev/fake/a");
        ck_assert_str_eq(c.context, "app-rollback");
        create_ok(&c, "--persistent --no-writers /dev/fake/b");
        ck_assert_str_eq(c.context, "nas-rollback");
        char *out = json_query("list shadows", "print(\",\".join(d[\"snapshots\"][1][\"attributes\"]))");
        ck_assert_str_eq(out, "persistent,no-auto-release,no-writers\n");
        free(out);

        /* --context replaces the default context; the flags still add their attributes. */
        create_ok(&c, "--context file-share-backup /dev/fake/c");
        ck_assert_str_eq(c.context, "file-share-backup");
        create_ok(&c, "--context backup --persistent /dev/fake/d");
        ck_assert_str_eq(c.context, "backup");
        out = json_query("list sets", "for s in d[\"snapshot_sets\"]:\n"
                                      "    print(\",\".join(s[\"volumes\"]), \",\".join(s[\"attributes\"]))");
        ck_assert_str_eq(out, "/dev/fake/a persistent,no-auto-release\n"
                              "/dev/fake/b persistent,no-auto-release,no-writers\n"
                              "/dev/fake/c no-auto-release,no-writers\n"
                              "/dev/fake/d persistent,no-auto-release\n");
        free(out);
        (void)want;
}
END_TEST

/* Not persistent, but not auto-release either: a restarted vssd keeps them. */
START_TEST(test_create_survives_vssd_restart)
{
        struct created c;

        create_ok(&c, "/dev/fake/a");
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        ck_assert(testbus_start_vssd(&tb, NULL));
        char *out = listed_ids_of_set(c.set_id);
        ck_assert_str_eq(out, c.ids[0]);
        free(out);
        ck_assert(!log_has("delete"));
}
END_TEST

START_TEST(test_create_exclude_writer)
{
        char path[PATH_MAX];

        spawn_writer("db", "");
        spawn_writer("logs", "");
        char *out = expect_vssctl(0, NULL, "create --exclude-writer logs-1 "
                                           "--exclude-writer typo /dev/fake/a");
        ck_assert_msg(strstr(out, "vssctl: warning: no registered writer has the name, instance "
                                  "id or class id 'typo' given to ExcludeWriters\n"), "%s", out);
        free(out);
        snprintf(path, sizeof(path), "%s/writers.log", tb.dir);
        char *text = testbus_read_file(path);
        ck_assert_msg(strstr(text, "db Freeze ") && !strstr(text, "logs "), "%s", text);
        free(text);
        out = expect_vssctl(2, NULL, "create --exec true /dev/fake/a");
        ck_assert_msg(strstr(out, "unrecognized option '--exec'"), "%s", out);
        free(out);
}
END_TEST

START_TEST(test_create_bad_input)
{
        char *out, many[65 * 16] = "";

        free(expect_vssctl(1, "create-unsupported.txt", "create /dev/sda1"));
        free(expect_vssctl(1, "create-duplicate.txt", "create /dev/fake/a /dev/fake/b /dev/fake/a"));
        free(expect_vssctl(1, "create-relative.txt", "create fake/a"));
        for (int i = 1; i <= 65; i++)
                sprintf(many + strlen(many), " /dev/fake/v%d", i);
        out = expect_vssctl(1, NULL, "create%s", many);
        ck_assert_msg(strstr(out, ": 65 volumes given; a snapshot set holds at most 64\n"), "%s",
                      out);
        free(out);
        free(expect_vssctl(2, "create-no-volume.txt", "create"));
        ck_assert_msg(!log_has("prepare"), "vssd was asked to make a set");

        /* vssd took all that in its stride. */
        ck_assert(testbus_vssd_alive(&tb));
        free(expect_vssctl(0, NULL, "status"));
        expect_nothing_left();
}
END_TEST

/* 64 volumes is the limit, not one past it. */
START_TEST(test_create_max_volumes)
{
        char many[64 * 16] = "";
        struct created c;

        for (int i = 1; i <= 64; i++)
                sprintf(many + strlen(many), " /dev/fake/v%02d", i);
        create_ok(&c, many);
        ck_assert_uint_eq(c.n, 64);
        char *out = json_query("list sets", "print(len(d[\"snapshot_sets\"][0][\"volumes\"]))");
        ck_assert_str_eq(out, "64\n");
        free(out);
}
END_TEST

/* ---- writers -------------------------------------------------------------------------------------- */

static pid_t spawn_writer(const char *name, const char *args)
{
        char path[256];
        ck_assert_uint_lt(n_writers, sizeof(writers) / sizeof(writers[0]));
        pid_t pid = testbus_spawn_writer(&tb, path, sizeof(path), "--name %s --instance %s-1 "
                                         "--log %s/writers.log %s", name, name, tb.dir, args);
        writers[n_writers++] = pid;
        return pid;
}

/*
 * In each line of TEXT, replace the first whole word TOKEN, right-aligned in
 * a cell WIDTH wide, by the cell REPLACEMENT; malloc()ed.
 */
static char *mask_cell(const char *text, const char *token, size_t width, const char *replacement)
{
        size_t tlen = strlen(token), pad = width - tlen;
        char *out = malloc(strlen(text) * 2 + 64), *o = out;
        bool done = false; /* in this line */

        ck_assert_ptr_nonnull(out);
        for (const char *p = text; *p;) {
                bool word = !done && strncmp(p, token, tlen) == 0 &&
                            (p == text || p[-1] == ' ') && (p[tlen] == ' ' || p[tlen] == '\n');
                /* The cell's padding is already copied: take it back. */
                *o = '\0';
                if (word && (size_t)(o - out) >= pad && strspn(o - pad, " ") == pad) {
                        o = stpcpy(o - pad, replacement);
                        p += tlen;
                        done = true;
                } else {
                        if (*p == '\n')
                                done = false;
                        *o++ = *p++;
                }
        }
        *o = '\0';
        return out;
}

/*
 * TEXT, a "list writers" table, as it would be if each pid of PIDS read
 * <pid>: its PID column is as wide as the longest pid, or "PID".
 */
static char *mask_pids(const char *text, const pid_t *pids, size_t n)
{
        char buf[32];
        size_t width = 3;

        for (size_t i = 0; i < n; i++) {
                size_t len = (size_t)snprintf(buf, sizeof(buf), "%d", (int)pids[i]);
                if (len > width)
                        width = len;
        }
        char *out = mask_cell(text, "PID", width, "  PID");
        for (size_t i = 0; i < n; i++) {
                snprintf(buf, sizeof(buf), "%d", (int)pids[i]);
                char *next = mask_cell(out, buf, width, "<pid>");
                free(out);
                out = next;
        }
        return out;
}

static void expect_writers_golden(const char *name)
{
        char *out = expect_vssctl(0, NULL, "list writers");
        char *masked = mask_pids(out, writers, n_writers);
        assert_golden("list writers", masked, name);
        free(masked);
        free(out);
}

START_TEST(test_list_writers)
{
        expect_exact(0, "No writers registered.\n", "list writers");
        pid_t db = spawn_writer("db", "--level front-end --freeze-timeout 1500");
        pid_t logs = spawn_writer("logs", "--level back-end");
        expect_writers_golden("list-writers.txt");

        char *out = json_query("list writers",
                               "for w in d[\"writers\"]:\n"
                               "    print(w[\"name\"], w[\"instance_id\"], w[\"level\"], "
                               "w[\"state\"], w[\"pid\"], w[\"uid\"], w[\"freeze_timeout_ms\"], "
                               "w[\"object_path\"].startswith(\"/org/linuxvss/Vss1/writer/\"))");
        char want[512];
        snprintf(want, sizeof(want),
                 "db db-1 front-end STABLE %d %u 1500 True\n"
                 "logs logs-1 back-end STABLE %d %u 60000 True\n",
                 (int)db, (unsigned)getuid(), (int)logs, (unsigned)getuid());
        ck_assert_str_eq(out, want);
        free(out);

        /* A writer that leaves is no longer listed. */
        testbus_kill(writers[--n_writers]);
        DBusMessage *removed = testbus_wait_signal(&tb, "org.freedesktop.DBus.ObjectManager",
                                                   "InterfacesRemoved", 10000);
        ck_assert_msg(removed, "vssd did not notice writer logs leave");
        dbus_message_unref(removed);
        out = json_query("list writers", "print([w[\"name\"] for w in d[\"writers\"]])");
        ck_assert_str_eq(out, "['db']\n");
        free(out);
}
END_TEST

START_TEST(test_writer_veto_fails_create)
{
        spawn_writer("db", "--level front-end --freeze-timeout 1500");
        spawn_writer("logs", "--level back-end --fail Freeze");

        free(expect_vssctl(1, "create-veto.txt", "create /dev/fake/a"));
        expect_writers_golden("list-writers-veto.txt");

        /* Nothing was left behind: the provider aborted the set before commit. */
        expect_nothing_left();
        ck_assert(log_has("prepare ") && log_has("abort "));
        ck_assert(!log_has("commit"));
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/writers.log", tb.dir);
        char *text = testbus_read_file(path);
        ck_assert_msg(strstr(text, "db Abort ") && strstr(text, "logs Abort "), "%s", text);
        ck_assert_msg(strstr(text, "logs Freeze ") && !strstr(text, "PostSnapshot"), "%s", text);
        free(text);

        /* Without writers the same volume snapshots fine. */
        struct created c;
        create_ok(&c, "--no-writers /dev/fake/a");
        ck_assert_str_eq(c.context, "file-share-backup");
}
END_TEST

/* vssd bounds create by the writer's freeze timeout; vssctl's --timeout does not cut it short. */
START_TEST(test_writer_freeze_timeout)
{
        spawn_writer("slow", "--freeze-timeout 1500 --hang Freeze");

        free(expect_vssctl(1, "create-freeze-timeout.txt", "--timeout 0.5 create /dev/fake/a"));
        expect_writers_golden("list-writers-timeout.txt");
        expect_nothing_left();
        ck_assert(log_has("abort ") && !log_has("commit"));
}
END_TEST

/* A writer failing after the snapshots exist costs a warning, not the set. */
START_TEST(test_writer_failure_after_snapshot_warns)
{
        struct created c;
        char want[512] = "";

        spawn_writer("pw", "--fail PostSnapshot");
        char *out = expect_vssctl(0, "create-warning.txt", "create /dev/fake/a");
        parse_created(out, &c);
        free(out);
        out = json_shadows();
        append_shadow_line(want, sizeof(want), &c, 0, "no-auto-release");
        ck_assert_str_eq(out, want);
        free(out);

        out = json_query("create /dev/fake/b", "print(d[\"warnings\"])");
        ck_assert_str_eq(out, "writer 'pw' failed PostSnapshot (RETRYABLE): test writer pw "
                              "vetoes PostSnapshot\n");
        free(out);
}
END_TEST

/* ---- delete --------------------------------------------------------------------------------------- */

/* The ids json_shadows() lists, in its order, space-separated. */
static char *listed_ids(void)
{
        return json_query("list shadows", "print(\" \".join(s[\"id\"] for s in d[\"snapshots\"]))");
}

/* The ids of the snapshots of set SET_ID, space-separated, without a newline. */
static char *listed_ids_of_set(const char *set_id)
{
        char code[256];
        snprintf(code, sizeof(code), "print(\" \".join(s[\"id\"] for s in d[\"snapshots\"] "
                                     "if s[\"snapshot_set_id\"] == \"%s\"), end=\"\")", set_id);
        return json_query("list shadows", code);
}

START_TEST(test_delete)
{
        struct created ab, c1, c2, d;
        char want[512], *out;

        create_ok(&ab, "/dev/fake/a /dev/fake/b");
        create_ok(&c1, "/dev/fake/c");
        create_ok(&c2, "/dev/fake/c");
        create_ok(&d, "/dev/fake/d");

        free(expect_vssctl(0, "delete-two.txt", "delete --set %s", ab.set_id));
        out = listed_ids();
        snprintf(want, sizeof(want), "%s %s %s\n", c1.ids[0], c2.ids[0], d.ids[0]);
        ck_assert_str_eq(out, want);
        free(out);

        free(expect_vssctl(0, "delete-two.txt", "delete --for /dev/fake/c"));
        out = listed_ids();
        snprintf(want, sizeof(want), "%s\n", d.ids[0]);
        ck_assert_str_eq(out, want);
        free(out);

        free(expect_vssctl(0, "delete-one.json", "--json delete %s", d.ids[0]));
        expect_nothing_left();

        /* Each went from the provider once. */
        const struct created *all[] = { &ab, &c1, &c2, &d };
        char *text = testbus_read_file(fake_log);
        for (size_t i = 0; i < 4; i++)
                for (size_t j = 0; j < all[i]->n; j++) {
                        char line[64];
                        snprintf(line, sizeof(line), "delete %s\n", all[i]->ids[j]);
                        const char *hit = strstr(text, line);
                        ck_assert_msg(hit && !strstr(hit + 1, line), "'%s' not once in:\n%s",
                                      line, text);
                }
        free(text);
}
END_TEST

/* --oldest goes by CreationTime, not by the order of the listing or of the ids. */
START_TEST(test_delete_oldest)
{
        struct created a1, b1, a2;
        char want[256], *out;

        create_ok(&a1, "/dev/fake/a");
        create_ok(&b1, "/dev/fake/b");
        create_ok(&a2, "/dev/fake/a");

        /* The oldest of /dev/fake/b is its only one; of all, a1's. */
        out = expect_vssctl(0, NULL, "delete --oldest --for /dev/fake/b");
        snprintf(want, sizeof(want), "Deleted 1 snapshot (%s of /dev/fake/b).\n", b1.ids[0]);
        ck_assert_str_eq(out, want);
        free(out);
        out = json_query("delete --oldest", "print(d[\"deleted\"], d[\"id\"], d[\"origin\"])");
        snprintf(want, sizeof(want), "1 %s /dev/fake/a\n", a1.ids[0]);
        ck_assert_str_eq(out, want);
        free(out);
        out = listed_ids();
        snprintf(want, sizeof(want), "%s\n", a2.ids[0]);
        ck_assert_str_eq(out, want);
        free(out);

        /* Nothing left to match: said, and no error. */
        expect_exact(0, "No snapshots of /dev/fake/b to delete.\n",
                     "delete --oldest --for /dev/fake/b");
        snprintf(want, sizeof(want), "Deleted 1 snapshot (%s of /dev/fake/a).\n", a2.ids[0]);
        expect_exact(0, want, "delete --oldest");
        expect_exact(0, "No snapshots to delete.\n", "delete --oldest");
}
END_TEST

START_TEST(test_delete_all)
{
        struct created ab, c;

        expect_exact(0, "No snapshots to delete.\n", "delete --all");
        create_ok(&ab, "/dev/fake/a /dev/fake/b");
        create_ok(&c, "/dev/fake/c");
        expect_exact(0, "Deleted 3 snapshots.\n", "delete --all");
        expect_nothing_left();
        char *out = json_query("delete --all", "print(d[\"deleted\"])");
        ck_assert_str_eq(out, "0\n");
        free(out);
        expect_exact(0, "No snapshots of /dev/fake/c to delete.\n", "delete --for /dev/fake/c");
}
END_TEST

/* Listed by origin within a set; one snapshot of a set goes, the other stays. */
START_TEST(test_delete_one_snapshot_of_set)
{
        struct created ab;
        char want[512] = "", *out;

        create_ok(&ab, "/dev/fake/b /dev/fake/a");
        size_t a = strcmp(ab.origins[0], "/dev/fake/a") == 0 ? 0 : 1;
        ck_assert_str_eq(ab.origins[a], "/dev/fake/a");
        append_shadow_line(want, sizeof(want), &ab, a, "no-auto-release");
        append_shadow_line(want, sizeof(want), &ab, 1 - a, "no-auto-release");
        out = json_shadows();
        ck_assert_str_eq(out, want);
        free(out);
        /* The set keeps the volumes in the order given. */
        out = json_sets();
        snprintf(want, sizeof(want), "%s ready /dev/fake/b,/dev/fake/a no-auto-release -\n",
                 ab.set_id);
        ck_assert_str_eq(out, want);
        free(out);

        free(expect_vssctl(0, "delete-one.txt", "delete %s", ab.ids[a]));
        out = listed_ids();
        snprintf(want, sizeof(want), "%s\n", ab.ids[1 - a]);
        ck_assert_str_eq(out, want);
        free(out);
        free(expect_vssctl(0, "delete-one.txt", "delete --set %s", ab.set_id));
        expect_nothing_left();
}
END_TEST

START_TEST(test_delete_unknown)
{
        struct created a;

        create_ok(&a, "/dev/fake/a");
        expect_vssctl_unmasked(1, "delete-unknown-snapshot.txt",
                               "delete 00000000-0000-0000-0000-000000000000");
        expect_vssctl_unmasked(1, "delete-unknown-set.txt",
                               "delete --set 00000000-0000-0000-0000-000000000000");
        /* Deleting twice: the second time it is unknown. */
        free(expect_vssctl(0, "delete-one.txt", "delete %s", a.ids[0]));
        char *out = expect_vssctl(1, NULL, "delete %s", a.ids[0]);
        ck_assert_msg(strstr(out, "no snapshot with id"), "%s", out);
        free(out);
        ck_assert(!log_has("delete 0000"));
}
END_TEST

START_TEST(test_delete_usage)
{
        struct created a;

        create_ok(&a, "/dev/fake/a");
        free(expect_vssctl(2, "delete-nothing.txt", "delete"));
        const char *const cases[] = {
                "delete --set %s --for /dev/fake/a", "delete --all --oldest",
                "delete %s --all", "delete --set %s --oldest",
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = expect_vssctl(2, NULL, cases[i], a.set_id);
                ck_assert_msg(strstr(out, "takes one of a snapshot id, --set SET, --for VOLUME, "
                                          "--oldest [--for VOLUME] or --all"), "%s", out);
                free(out);
        }
        char *out = expect_vssctl(2, NULL, "delete --snapshot %s", a.ids[0]);
        ck_assert_msg(strstr(out, "unrecognized option '--snapshot'"), "%s", out);
        free(out);
        /* A usage error deletes nothing. */
        out = listed_ids();
        ck_assert_str_eq(strtok(out, "\n"), a.ids[0]);
        free(out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bus: vssctl lifecycle");
        TCase *tc = tcase_create("vssctl lifecycle");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_create_outlives_vssctl);
        tcase_add_test(tc, test_create_json);
        tcase_add_test(tc, test_create_persistent);
        tcase_add_test(tc, test_create_survives_vssd_restart);
        tcase_add_test(tc, test_create_exclude_writer);
        tcase_add_test(tc, test_create_bad_input);
        tcase_add_test(tc, test_create_max_volumes);
        tcase_add_test(tc, test_list_writers);
        tcase_add_test(tc, test_writer_veto_fails_create);
        tcase_add_test(tc, test_writer_freeze_timeout);
        tcase_add_test(tc, test_writer_failure_after_snapshot_warns);
        tcase_add_test(tc, test_delete);
        tcase_add_test(tc, test_delete_oldest);
        tcase_add_test(tc, test_delete_all);
        tcase_add_test(tc, test_delete_one_snapshot_of_set);
        tcase_add_test(tc, test_delete_unknown);
        tcase_add_test(tc, test_delete_usage);
        suite_add_tcase(s, tc);
        return vssctl_test_run(s);
}
