/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_fake_provider.c: proves that the fake provider (tests/providers/fake/,
 * linked in directly) behaves as the bus tests rely on: it makes snapshots for
 * the normal order of calls, refuses misuse as a real provider would, logs the
 * calls in order, and injects the failures and stalls its control file asks
 * for, including a stalled hold that the watchdog's release cuts short.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vss/provider.h>

extern const struct vss_provider vss_provider_v4;

#define SET_A "11111111-1111-4111-8111-111111111111"
#define SET_B "22222222-2222-4222-8222-222222222222"
#define SNAP_A1 "a1a1a1a1-0000-4000-8000-000000000001"
#define SNAP_A2 "a2a2a2a2-0000-4000-8000-000000000002"
#define SNAP_B1 "b1b1b1b1-0000-4000-8000-000000000003"

/* Two fake volumes in one set: the common case of a multi-volume snapshot. */
static struct vss_volume_request vols_a[] = {
        { "/dev/fake/a", SNAP_A1, "" },
        { "/dev/fake/b", SNAP_A2, "" },
};
static struct vss_volume_request vols_b[] = {
        { "/dev/fake/c", SNAP_B1, "" },
};

static const struct vss_provider_ops *ops;
static void *state;
static char dir[64], log_path[128], control_path[128];
static char host_last_log[VSS_ERROR_MESSAGE_MAX];

/* What vssd.conf's [provider.fake] would hold; setup() fills log and control. */
static struct {
        const char *key;
        const char *value;
} config[] = {
        { "log", NULL },
        { "control", NULL },
        { "volumes", NULL },
        { "state", NULL },
        { "atomicity", NULL },
};

static void host_log(int priority, const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        vsnprintf(host_last_log, sizeof(host_last_log), format, ap);
        va_end(ap);
}

static const char *host_config_get(const char *provider_name, const char *key)
{
        if (strcmp(provider_name, "fake") != 0)
                return NULL;
        for (size_t i = 0; i < sizeof(config) / sizeof(config[0]); i++)
                if (strcmp(config[i].key, key) == 0)
                        return config[i].value;
        return NULL;
}

static const struct vss_provider_host host = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .log = host_log,
        .config_get = host_config_get,
};

static void config_set(const char *key, const char *value)
{
        for (size_t i = 0; i < sizeof(config) / sizeof(config[0]); i++)
                if (strcmp(config[i].key, key) == 0)
                        config[i].value = value;
}

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/check-fake-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(log_path, sizeof(log_path), "%s/log", dir);
        snprintf(control_path, sizeof(control_path), "%s/control", dir);
        config_set("log", log_path);
        config_set("control", control_path);
        config_set("volumes", NULL);
        config_set("state", NULL);
        config_set("atomicity", NULL);
        ops = vss_provider_v4.ops;
        ck_assert_int_eq(ops->init(&host, &state), 0);
}

static void teardown(void)
{
        if (state)
                ops->fini(state);
        state = NULL;
        unlink(log_path);
        unlink(control_path);
        rmdir(dir);
}

/* Start a new instance after changing the configuration: it is read at init. */
static void restart(void)
{
        ops->fini(state);
        state = NULL;
        unlink(log_path);
        ck_assert_int_eq(ops->init(&host, &state), 0);
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

static const char *read_log(void)
{
        static char buf[8192];
        FILE *f = fopen(log_path, "r");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = '\0';
        return buf;
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The event that an op has begun: its line in the log. Polls; bounded at 5 s. */
static int wait_for_log_line(const char *line)
{
        char want[256];
        snprintf(want, sizeof(want), "\n%s\n", line);
        for (double end = now_ms() + 5000; now_ms() < end;) {
                if (strstr(read_log(), want))
                        return 0;
                nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        }
        return -ETIMEDOUT;
}

static int prepare(const char *set_id, struct vss_volume_request *vols, size_t n,
                   struct vss_error_buf *err)
{
        struct vss_set_request req = {
                .set_id = set_id,
                .attributes = VSS_ATTR_NO_WRITERS,
                .n_volumes = n,
                .volumes = vols,
        };
        return ops->prepare(state, &req, err);
}

/* The normal order; every step must succeed. */
static void take_set(const char *set_id, struct vss_volume_request *vols, size_t n)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(set_id, vols, n, &ok), 0);
        ck_assert_int_eq(ops->hold(state, set_id, &ok), 0);
        ck_assert_int_eq(ops->commit(state, set_id, &ok), 0);
        ck_assert_int_eq(ops->release(state, set_id, &ok), 0);
}

/* What query() reported, copied: its strings live only during the callback. */
struct seen_snapshot {
        char id[64], set_id[64], origin[64], device[128], exposed[128];
        uint64_t creation_usec;
        uint32_t attributes;
        enum vss_snapshot_state state;
        uint64_t cow_used, cow_size;
};

struct seen {
        size_t n;
        size_t stop_after; /* return 42 after this many; 0: never */
        struct seen_snapshot s[8];
};

static int collect(const struct vss_snapshot_info *info, void *userdata)
{
        struct seen *seen = userdata;
        ck_assert_uint_lt(seen->n, 8);
        struct seen_snapshot *s = &seen->s[seen->n++];
        memset(s, 0, sizeof(*s)); /* compared whole by the state-file test */
        snprintf(s->id, sizeof(s->id), "%s", info->id);
        snprintf(s->set_id, sizeof(s->set_id), "%s", info->set_id);
        snprintf(s->origin, sizeof(s->origin), "%s", info->origin);
        snprintf(s->device, sizeof(s->device), "%s", info->device);
        snprintf(s->exposed, sizeof(s->exposed), "%s", info->exposed_path);
        s->creation_usec = info->creation_usec;
        s->attributes = info->attributes;
        s->state = info->state;
        s->cow_used = info->cow_used_bytes;
        s->cow_size = info->cow_size_bytes;
        return seen->stop_after && seen->n == seen->stop_after ? 42 : 0;
}

static size_t count_snapshots(void)
{
        struct seen seen = { 0 };
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 0);
        return seen.n;
}

#define assert_error(expr, code, text)                                                      \
        do {                                                                                 \
                struct vss_error_buf err_ = { "" };                                          \
                struct vss_error_buf *err = &err_;                                           \
                ck_assert_int_eq((expr), (code));                                            \
                ck_assert_msg(strstr(err_.message, (text)), "message \"%s\" lacks \"%s\"",   \
                              err_.message, (text));                                         \
        } while (0)

START_TEST(test_descriptor)
{
        ck_assert_uint_eq(vss_provider_v4.abi_version, VSS_PROVIDER_ABI_VERSION);
        ck_assert_str_eq(vss_provider_v4.name, "fake");
        ck_assert_uint_eq(strlen(vss_provider_v4.id), 36);
        ck_assert_ptr_nonnull(vss_provider_v4.version);
        ck_assert_ptr_nonnull(vss_provider_v4.description);
        ck_assert(ops->init && ops->fini && ops->is_volume_supported && ops->prepare);
        ck_assert(ops->hold && ops->commit && ops->release && ops->abort);
        ck_assert(ops->delete_snapshot && ops->query && ops->expose && ops->unexpose);
        ck_assert(ops->revert && ops->recover);
        ck_assert(ops->monitor && ops->enable_volume && ops->disable_volume);
}
END_TEST

START_TEST(test_normal_order_makes_snapshots)
{
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t before = (uint64_t)now.tv_sec * 1000000u;
        take_set(SET_A, vols_a, 2);

        struct seen seen = { 0 };
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 0);
        ck_assert_uint_eq(seen.n, 2);
        ck_assert_str_eq(seen.s[0].id, SNAP_A1);
        ck_assert_str_eq(seen.s[0].set_id, SET_A);
        ck_assert_str_eq(seen.s[0].origin, "/dev/fake/a");
        ck_assert_str_eq(seen.s[0].device, "/dev/fake/snap-" SNAP_A1);
        ck_assert_str_eq(seen.s[0].exposed, "");
        ck_assert_uint_ge(seen.s[0].creation_usec, before);
        ck_assert_uint_eq(seen.s[0].attributes, VSS_ATTR_NO_WRITERS);
        ck_assert_int_eq(seen.s[0].state, VSS_SNAPSHOT_VALID);
        ck_assert_str_eq(seen.s[1].id, SNAP_A2);
        ck_assert_str_eq(seen.s[1].origin, "/dev/fake/b");
}
END_TEST

START_TEST(test_call_log_order)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->is_volume_supported(state, "/dev/fake/a", &ok), 1);
        take_set(SET_A, vols_a, 2);
        ck_assert_int_eq(ops->expose(state, SNAP_A1, "/mnt/x", &ok), 0);
        ck_assert_int_eq(ops->unexpose(state, SNAP_A1, &ok), 0);
        ck_assert_int_eq(ops->delete_snapshot(state, SNAP_A1, &ok), 0);
        ck_assert_int_eq(ops->revert(state, SNAP_A2, &ok), 0);
        ck_assert_int_eq(ops->query(state, collect, &(struct seen){ 0 }, &ok), 0);
        ck_assert_int_eq(ops->abort(state, SET_A, &ok), 0);
        ck_assert_int_eq(ops->recover(state, &ok), 0);
        ops->fini(state);
        state = NULL;
        ck_assert_str_eq(read_log(),
                         "init\n"
                         "is_volume_supported /dev/fake/a\n"
                         "prepare " SET_A " /dev/fake/a /dev/fake/b\n"
                         "hold " SET_A "\n"
                         "commit " SET_A "\n"
                         "release " SET_A "\n"
                         "expose " SNAP_A1 " /mnt/x\n"
                         "unexpose " SNAP_A1 "\n"
                         "delete " SNAP_A1 "\n"
                         "revert " SNAP_A2 "\n"
                         "query\n"
                         "abort " SET_A "\n"
                         "recover\n"
                         "fini\n");
}
END_TEST

START_TEST(test_volume_supported_by_default_prefix)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->is_volume_supported(state, "/dev/fake/anything", &ok), 1);
        assert_error(ops->is_volume_supported(state, "/dev/sda1", err), 0, "/dev/sda1");
}
END_TEST

START_TEST(test_volume_list_from_config)
{
        config_set("volumes", "/dev/vg/root, /dev/vg/home");
        restart();
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->is_volume_supported(state, "/dev/vg/root", &ok), 1);
        ck_assert_int_eq(ops->is_volume_supported(state, "/dev/vg/home", &ok), 1);
        assert_error(ops->is_volume_supported(state, "/dev/sda1", err), 0,
                     "fake provider: /dev/sda1 is not in its volume list "
                     "(volumes= in [provider.fake])");
        /* The list replaces the /dev/fake/ default; a prefix of an entry is not a match. */
        assert_error(ops->is_volume_supported(state, "/dev/fake/a", err), 0, "/dev/fake/a");
        assert_error(ops->is_volume_supported(state, "/dev/vg/ro", err), 0, "/dev/vg/ro");
}
END_TEST

START_TEST(test_prepare_refuses_bad_requests)
{
        struct vss_volume_request sda[] = {
                { "/dev/fake/a", SNAP_A1, "" }, { "/dev/sda1", SNAP_A2, "" },
        };
        struct vss_volume_request twice[] = {
                { "/dev/fake/a", SNAP_A1, "" }, { "/dev/fake/a", SNAP_A2, "" },
        };
        struct vss_volume_request same_id[] = {
                { "/dev/fake/a", SNAP_A1, "" }, { "/dev/fake/b", SNAP_A1, "" },
        };
        struct vss_volume_request many[VSS_MAX_VOLUMES_PER_SET + 1];
        for (size_t i = 0; i < VSS_MAX_VOLUMES_PER_SET + 1; i++)
                many[i] = vols_a[0];

        assert_error(prepare(SET_A, sda, 2, err), -VSS_E_VOLUME_NOT_SUPPORTED, "/dev/sda1");
        assert_error(prepare(SET_A, twice, 2, err), -VSS_E_VOLUME_IN_SET, "/dev/fake/a");
        assert_error(prepare(SET_A, same_id, 2, err), -EEXIST, SNAP_A1);
        assert_error(prepare(SET_A, vols_a, 0, err), -EINVAL, SET_A);
        assert_error(prepare(SET_A, many, VSS_MAX_VOLUMES_PER_SET + 1, err), -VSS_E_MAX_VOLUMES,
                     SET_A);
        /* Refused prepares leave nothing behind: the set can still be prepared. */
        take_set(SET_A, vols_a, 2);
        /* A snapshot id in use cannot be taken by another set. */
        struct vss_volume_request reuse[] = { { "/dev/fake/c", SNAP_A1, "" } };
        assert_error(prepare(SET_B, reuse, 1, err), -EEXIST, SNAP_A1);
}
END_TEST

START_TEST(test_misuse_is_bad_state)
{
        struct vss_error_buf ok = { "" };
        assert_error(ops->hold(state, SET_A, err), -VSS_E_BAD_STATE, SET_A);
        assert_error(ops->commit(state, SET_A, err), -VSS_E_BAD_STATE, "never prepared");
        assert_error(ops->release(state, SET_A, err), -VSS_E_BAD_STATE, SET_A);

        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        assert_error(prepare(SET_A, vols_a, 2, err), -VSS_E_BAD_STATE, "prepared before");
        assert_error(ops->commit(state, SET_A, err), -VSS_E_BAD_STATE, "after hold");
        assert_error(ops->release(state, SET_A, err), -VSS_E_BAD_STATE, "after hold");

        ck_assert_int_eq(ops->hold(state, SET_A, &ok), 0);
        assert_error(ops->hold(state, SET_A, err), -VSS_E_BAD_STATE, "held");
        ck_assert_int_eq(ops->commit(state, SET_A, &ok), 0);
        assert_error(ops->commit(state, SET_A, err), -VSS_E_BAD_STATE, "committed");
        ck_assert_int_eq(ops->release(state, SET_A, &ok), 0);
        assert_error(ops->release(state, SET_A, err), -VSS_E_BAD_STATE, "released");
        assert_error(ops->hold(state, SET_A, err), -VSS_E_BAD_STATE, "released");
        /* Misuse changed nothing: the set's snapshots are still there. */
        ck_assert_uint_eq(count_snapshots(), 2);
}
END_TEST

START_TEST(test_release_after_hold_without_commit)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        ck_assert_int_eq(ops->hold(state, SET_A, &ok), 0);
        ck_assert_int_eq(ops->release(state, SET_A, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_int_eq(ops->abort(state, SET_A, &ok), 0);
}
END_TEST

/* finish: once, after a commit and its release; "fail finish" fails it. */
START_TEST(test_finish)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        assert_error(ops->finish(state, SET_A, err), -VSS_E_BAD_STATE, "after a commit");
        ck_assert_int_eq(ops->hold(state, SET_A, &ok), 0);
        ck_assert_int_eq(ops->commit(state, SET_A, &ok), 0);
        assert_error(ops->finish(state, SET_A, err), -VSS_E_BAD_STATE, "is committed");
        ck_assert_int_eq(ops->release(state, SET_A, &ok), 0);
        ck_assert_int_eq(ops->finish(state, SET_A, &ok), 0);
        assert_error(ops->finish(state, SET_A, err), -VSS_E_BAD_STATE, "finish comes once");
        assert_error(ops->finish(state, "no-such-set", err), -VSS_E_BAD_STATE, "never prepared");
        ck_assert_ptr_nonnull(strstr(read_log(), "release " SET_A "\nfinish " SET_A "\n"));

        /* Released without a commit (a failed window): nothing to finish. */
        ck_assert_int_eq(prepare(SET_B, vols_b, 1, &ok), 0);
        ck_assert_int_eq(ops->hold(state, SET_B, &ok), 0);
        ck_assert_int_eq(ops->release(state, SET_B, &ok), 0);
        assert_error(ops->finish(state, SET_B, err), -VSS_E_BAD_STATE, "after a commit");

        struct vss_volume_request vols_c[] = {
                { "/dev/fake/d", "c1c1c1c1-0000-4000-8000-0000000c0001", "" },
        };
        take_set("set-c", vols_c, 1);
        write_file(control_path, "fail finish ENOSPC\n");
        assert_error(ops->finish(state, "set-c", err), -ENOSPC,
                     "fake provider: injected failure at finish");
}
END_TEST

/* atomicity=: what prepare() reports of the set's point in time. */
START_TEST(test_atomicity)
{
        struct vss_error_buf ok = { "" };
        struct vss_set_request req = { .set_id = SET_A, .n_volumes = 2, .volumes = vols_a,
                                       .atomicity = VSS_ATOMICITY_WRITERS_ONLY };
        ck_assert_int_eq(ops->prepare(state, &req, &ok), 0);
        ck_assert_int_eq(req.atomicity, VSS_ATOMICITY_ONE_INSTANT);

        config_set("atomicity", "writers-only");
        restart();
        req = (struct vss_set_request){ .set_id = SET_B, .n_volumes = 1, .volumes = vols_b };
        ck_assert_int_eq(ops->prepare(state, &req, &ok), 0);
        ck_assert_int_eq(req.atomicity, VSS_ATOMICITY_WRITERS_ONLY);

        config_set("atomicity", "sometimes");
        void *other = NULL;
        ck_assert_int_eq(ops->init(&host, &other), -EINVAL);
        ck_assert_ptr_nonnull(strstr(host_last_log, "atomicity = sometimes"));
}
END_TEST

START_TEST(test_abort_deletes_committed_snapshots)
{
        struct vss_error_buf ok = { "" };
        take_set(SET_A, vols_a, 2);
        take_set(SET_B, vols_b, 1);
        ck_assert_uint_eq(count_snapshots(), 3);
        ck_assert_int_eq(ops->abort(state, SET_A, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_int_eq(ops->abort(state, SET_A, &ok), 0); /* idempotent */
        ck_assert_int_eq(ops->abort(state, "no-such-set", &ok), 0);
        assert_error(ops->delete_snapshot(state, SNAP_A1, err), -ENOENT, SNAP_A1);
        assert_error(ops->hold(state, SET_A, err), -VSS_E_BAD_STATE, "aborted");

        /* In the hold window too: abort resumes and drops what commit made. */
        struct vss_volume_request vols_c[] = { { "/dev/fake/d", SNAP_A1, "" } };
        ck_assert_int_eq(prepare("set-c", vols_c, 1, &ok), 0);
        ck_assert_int_eq(ops->hold(state, "set-c", &ok), 0);
        ck_assert_int_eq(ops->commit(state, "set-c", &ok), 0);
        ck_assert_int_eq(ops->abort(state, "set-c", &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 1);
}
END_TEST

START_TEST(test_fail_injection)
{
        struct vss_error_buf ok = { "" };
        write_file(control_path, "# faults for this test\nfail commit\nfail hold ENOSPC\n");
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        assert_error(ops->hold(state, SET_A, err), -ENOSPC,
                     "fake provider: injected failure at hold");
        /* A failed op did nothing, so the set is still only prepared. */
        write_file(control_path, "fail commit\n");
        ck_assert_int_eq(ops->hold(state, SET_A, &ok), 0);
        assert_error(ops->commit(state, SET_A, err), -EIO,
                     "fake provider: injected failure at commit");
        ck_assert_int_eq(ops->release(state, SET_A, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 0);

        /* The file is read at every op: without it, everything works again. */
        unlink(control_path);
        take_set(SET_B, vols_b, 1);
        ck_assert_uint_eq(count_snapshots(), 1);
}
END_TEST

START_TEST(test_bad_control_line)
{
        struct vss_error_buf ok = { "" };
        const char *bad[] = { "fail\n", "fail commit EWHAT\n", "fail delete_snapshot\n",
                              "stall hold soon\n", "stall hold\n", "explode hold\n",
                              "fail hold EIO extra\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                write_file(control_path, bad[i]);
                ck_assert_msg(ops->recover(state, &ok) == -EINVAL, "accepted \"%s\"", bad[i]);
                ck_assert_ptr_nonnull(strstr(ok.message, "line 1"));
        }
}
END_TEST

START_TEST(test_init_failures)
{
        write_file(control_path, "fail init ENOMEM\n");
        void *other = NULL;
        ck_assert_int_eq(ops->init(&host, &other), -ENOMEM);
        ck_assert_ptr_nonnull(strstr(host_last_log, "injected failure at init"));
        unlink(control_path);

        config_set("log", "/nonexistent-dir/log");
        ck_assert_int_eq(ops->init(&host, &other), -ENOENT);
        ck_assert_ptr_nonnull(strstr(host_last_log, "/nonexistent-dir/log"));
        config_set("log", log_path);
}
END_TEST

START_TEST(test_stall_delays_op)
{
        struct vss_error_buf ok = { "" };
        write_file(control_path, "stall prepare 200\n");
        double start = now_ms();
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        ck_assert_double_ge(now_ms() - start, 200.0);
        /* Stall and failure together: the op waits, then fails. */
        write_file(control_path, "stall hold 100\nfail hold EBUSY\n");
        start = now_ms();
        ck_assert_int_eq(ops->hold(state, SET_A, &ok), -EBUSY);
        ck_assert_double_ge(now_ms() - start, 100.0);
}
END_TEST

struct call {
        int (*op)(void *state, const char *set_id, struct vss_error_buf *err);
        const char *set_id;
        int r;
        double end_ms;
        struct vss_error_buf err;
};

static void *call_thread(void *userdata)
{
        struct call *c = userdata;
        c->r = c->op(state, c->set_id, &c->err);
        c->end_ms = now_ms();
        return NULL;
}

/*
 * The watchdog case: OP stalls for 20 s in a thread; once its log line shows it
 * started, CANCEL (release or abort) from this thread must end it at once.
 */
static struct call cancel_stalled(int (*op)(void *, const char *, struct vss_error_buf *),
                                  const char *op_line,
                                  int (*cancel)(void *, const char *, struct vss_error_buf *))
{
        struct call c = { .op = op, .set_id = SET_A };
        struct vss_error_buf ok = { "" };
        pthread_t thread;
        double start = now_ms();
        ck_assert_int_eq(pthread_create(&thread, NULL, call_thread, &c), 0);
        ck_assert_int_eq(wait_for_log_line(op_line), 0);
        ck_assert_int_eq(cancel(state, SET_A, &ok), 0);
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        /* 5 s: far below the 20 s stall, far above any scheduling delay. */
        ck_assert_double_lt(c.end_ms - start, 5000.0);
        return c;
}

START_TEST(test_stalled_hold_cancelled_by_release)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        write_file(control_path, "stall hold 20000\n");
        struct call c = cancel_stalled(ops->hold, "hold " SET_A, ops->release);
        ck_assert_int_eq(c.r, -ECANCELED);
        ck_assert_ptr_nonnull(strstr(c.err.message, "cancelled"));
        ck_assert_ptr_nonnull(strstr(c.err.message, SET_A));
        unlink(control_path);
        assert_error(ops->commit(state, SET_A, err), -VSS_E_BAD_STATE, "released");
        ck_assert_int_eq(ops->abort(state, SET_A, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 0);
}
END_TEST

START_TEST(test_stalled_commit_cancelled_by_abort)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        ck_assert_int_eq(ops->hold(state, SET_A, &ok), 0);
        write_file(control_path, "stall commit 20000\n");
        struct call c = cancel_stalled(ops->commit, "commit " SET_A, ops->abort);
        ck_assert_int_eq(c.r, -ECANCELED);
        ck_assert_uint_eq(count_snapshots(), 0);
}
END_TEST

START_TEST(test_delete)
{
        take_set(SET_A, vols_a, 2);
        assert_error(ops->delete_snapshot(state, "no-such-snapshot", err), -ENOENT,
                     "no-such-snapshot");
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->delete_snapshot(state, SNAP_A1, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 1);
        assert_error(ops->delete_snapshot(state, SNAP_A1, err), -ENOENT, SNAP_A1);
}
END_TEST

static int delete_each(const struct vss_snapshot_info *info, void *userdata)
{
        struct vss_error_buf ok = { "" };
        return ops->delete_snapshot(state, info->id, &ok);
}

START_TEST(test_query_callback)
{
        take_set(SET_A, vols_a, 2);
        take_set(SET_B, vols_b, 1);
        struct vss_error_buf ok = { "" };
        struct seen seen = { .stop_after = 2 };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 42);
        ck_assert_uint_eq(seen.n, 2);
        /* The callback may call back into the provider. */
        ck_assert_int_eq(ops->query(state, delete_each, NULL, &ok), 0);
        ck_assert_uint_eq(count_snapshots(), 0);
}
END_TEST

START_TEST(test_expose_unexpose)
{
        take_set(SET_A, vols_a, 2);
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->expose(state, SNAP_A1, "/mnt/snap", &ok), 0);
        struct seen seen = { 0 };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 0);
        ck_assert_str_eq(seen.s[0].exposed, "/mnt/snap");
        ck_assert_str_eq(seen.s[1].exposed, "");
        assert_error(ops->expose(state, SNAP_A1, "/mnt/other", err), -EBUSY, "/mnt/snap");
        assert_error(ops->expose(state, "nope", "/mnt/other", err), -ENOENT, "nope");
        ck_assert_int_eq(ops->unexpose(state, SNAP_A1, &ok), 0);
        assert_error(ops->unexpose(state, SNAP_A1, err), -VSS_E_BAD_STATE, "not exposed");
        /* An exposed snapshot can still be deleted (no leak: valgrind checks). */
        ck_assert_int_eq(ops->expose(state, SNAP_A2, "/mnt/snap", &ok), 0);
        ck_assert_int_eq(ops->delete_snapshot(state, SNAP_A2, &ok), 0);
}
END_TEST

/* A merge (ABI 2): reported merging until the next monitor(), which finishes it. */
START_TEST(test_revert)
{
        take_set(SET_A, vols_a, 2);
        assert_error(ops->revert(state, "nope", err), -ENOENT, "nope");
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->revert(state, SNAP_A1, &ok), 0);
        struct seen seen = { 0 };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 0);
        ck_assert_uint_eq(seen.n, 2);
        ck_assert_int_eq(seen.s[0].state, VSS_SNAPSHOT_MERGING);
        assert_error(ops->revert(state, SNAP_A1, err), -VSS_E_BAD_STATE, "merged already");
        assert_error(ops->delete_snapshot(state, SNAP_A1, err), -EBUSY, "merged");
        memset(&seen, 0, sizeof(seen));
        ck_assert_int_eq(ops->monitor(state, collect, &seen, &ok), 0);
        ck_assert_uint_eq(seen.n, 1);
        ck_assert_str_eq(seen.s[0].id, SNAP_A2);
        assert_error(ops->revert(state, SNAP_A1, err), -ENOENT, SNAP_A1);
}
END_TEST

START_TEST(test_prepare_names_devices)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(prepare(SET_A, vols_a, 2, &ok), 0);
        ck_assert_str_eq(vols_a[0].device, "/dev/fake/snap-" SNAP_A1);
        ck_assert_str_eq(vols_a[1].device, "/dev/fake/snap-" SNAP_A2);
}
END_TEST

/* monitor() reports like query(), and applies "invalidate" lines: a store overflowing. */
START_TEST(test_monitor_invalidates)
{
        struct vss_error_buf ok = { "" };
        take_set(SET_A, vols_a, 2);
        write_file(control_path, "invalidate " SNAP_A1 "\ninvalidate no-such-snapshot\n");
        struct seen seen = { 0 };
        ck_assert_int_eq(ops->query(state, collect, &seen, &ok), 0);
        ck_assert_int_eq(seen.s[0].state, VSS_SNAPSHOT_VALID); /* query changes nothing */
        memset(&seen, 0, sizeof(seen));
        ck_assert_int_eq(ops->monitor(state, collect, &seen, &ok), 0);
        ck_assert_uint_eq(seen.n, 2);
        ck_assert_int_eq(seen.s[0].state, VSS_SNAPSHOT_INVALID);
        ck_assert_int_eq(seen.s[1].state, VSS_SNAPSHOT_VALID);
        ck_assert_str_eq(read_log(), "init\nprepare " SET_A " /dev/fake/a /dev/fake/b\n"
                         "hold " SET_A "\ncommit " SET_A "\nrelease " SET_A "\nquery\nmonitor\n");
}
END_TEST

/* What query() reports about copy-on-write stores (monitor() reports the same). */
static void expect_cow(const struct seen_snapshot *s, uint64_t used, uint64_t size)
{
        ck_assert_uint_eq(s->cow_used, used);
        ck_assert_uint_eq(s->cow_size, size);
}

START_TEST(test_cow_figures)
{
        struct vss_error_buf ok = { "" };
        take_set(SET_A, vols_a, 2);
        write_file(control_path, "invalidate " SNAP_A2 "\n");
        struct seen seen = { 0 };
        ck_assert_int_eq(ops->monitor(state, collect, &seen, &ok), 0);
        expect_cow(&seen.s[0], 64 * 1024, 1024 * 1024 * 1024);
        expect_cow(&seen.s[1], 1024 * 1024 * 1024, 1024 * 1024 * 1024);
}
END_TEST

START_TEST(test_enable_disable_volume)
{
        struct vss_error_buf ok = { "" };
        char volume[VSS_DEVICE_PATH_MAX];
        ck_assert_int_eq(ops->enable_volume(state, "/dev/fakeplain/x", NULL, 0, volume,
                                            sizeof(volume), &ok), 0);
        ck_assert_str_eq(volume, "/dev/fake/x");
        assert_error(ops->enable_volume(state, "/dev/fakeplain/x", NULL, 0, volume,
                                        sizeof(volume), err),
                     -EEXIST, "enabled already");
        assert_error(ops->enable_volume(state, "/dev/sdb1", NULL, 0, volume,
                                        sizeof(volume), err),
                     -EINVAL, "/dev/sdb1");
        assert_error(ops->disable_volume(state, "/dev/fake/y", err), -ENOENT, "/dev/fake/y");
        struct vss_volume_request on_x[] = { { "/dev/fake/x", SNAP_B1, "" } };
        take_set(SET_B, on_x, 1);
        assert_error(ops->disable_volume(state, "/dev/fake/x", err), -EBUSY, "snapshots");
        ck_assert_int_eq(ops->delete_snapshot(state, SNAP_B1, &ok), 0);
        ck_assert_int_eq(ops->disable_volume(state, "/dev/fake/x", &ok), 0);
        assert_error(ops->disable_volume(state, "/dev/fake/x", err), -ENOENT, "not an enabled");
}
END_TEST

/* With state=, a new instance (vssd restarted) finds what the last one had. */
START_TEST(test_state_file_survives_restart)
{
        char state_path[160];
        struct vss_error_buf ok = { "" };
        char volume[VSS_DEVICE_PATH_MAX];
        snprintf(state_path, sizeof(state_path), "%s/state", dir);
        config_set("state", state_path);
        restart();
        take_set(SET_A, vols_a, 2);
        ck_assert_int_eq(ops->expose(state, SNAP_A1, "/mnt/a", &ok), 0);
        ck_assert_int_eq(ops->enable_volume(state, "/dev/fakeplain/p", NULL, 0, volume,
                                            sizeof(volume), &ok), 0);
        struct seen before = { 0 }, after = { 0 };
        ck_assert_int_eq(ops->query(state, collect, &before, &ok), 0);
        restart();
        ck_assert_int_eq(ops->query(state, collect, &after, &ok), 0);
        ck_assert_uint_eq(after.n, 2);
        ck_assert_mem_eq(&before.s[0], &after.s[0], sizeof(before.s[0]));
        ck_assert_mem_eq(&before.s[1], &after.s[1], sizeof(before.s[1]));
        ck_assert_str_eq(after.s[0].exposed, "/mnt/a");
        assert_error(ops->enable_volume(state, "/dev/fakeplain/p", NULL, 0, volume,
                                        sizeof(volume), err),
                     -EEXIST, "enabled already");
        /* The ids are taken: a set reusing one is refused, as before the restart. */
        struct vss_volume_request reuse[] = { { "/dev/fake/c", SNAP_A1, "" } };
        assert_error(prepare(SET_B, reuse, 1, err), -EEXIST, SNAP_A1);
        ck_assert_int_eq(ops->delete_snapshot(state, SNAP_A1, &ok), 0);
        restart();
        ck_assert_uint_eq(count_snapshots(), 1);
        unlink(state_path);
}
END_TEST

START_TEST(test_state_file_malformed)
{
        char state_path[160];
        void *other = NULL;
        snprintf(state_path, sizeof(state_path), "%s/state", dir);
        write_file(state_path, "snapshot\tonly\tthree\n");
        config_set("state", state_path);
        ck_assert_int_eq(ops->init(&host, &other), -EINVAL);
        ck_assert_ptr_nonnull(strstr(host_last_log, "line 1 is malformed"));
        config_set("state", NULL);
        unlink(state_path);
}
END_TEST

START_TEST(test_recover)
{
        struct vss_error_buf ok = { "" };
        ck_assert_int_eq(ops->recover(state, &ok), 0);
        ck_assert_str_eq(read_log(), "init\nrecover\n");
}
END_TEST

START_TEST(test_instances_are_independent)
{
        struct vss_error_buf ok = { "" };
        void *other = NULL;
        config_set("log", NULL);
        config_set("control", NULL);
        ck_assert_int_eq(ops->init(&host, &other), 0);
        take_set(SET_A, vols_a, 2);
        ck_assert_uint_eq(count_snapshots(), 2);
        struct seen seen = { 0 };
        ck_assert_int_eq(ops->query(other, collect, &seen, &ok), 0);
        ck_assert_uint_eq(seen.n, 0);
        /* The same set id is new to the other instance. */
        struct vss_set_request req = { .set_id = SET_A, .n_volumes = 2, .volumes = vols_a };
        ck_assert_int_eq(ops->prepare(other, &req, &ok), 0);
        ops->fini(other); /* with a prepared set in it: fini frees that too */
}
END_TEST

static Suite *fake_provider_suite(void)
{
        Suite *s = suite_create("fake_provider");
        TCase *tc = tcase_create("protocol");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_descriptor);
        tcase_add_test(tc, test_normal_order_makes_snapshots);
        tcase_add_test(tc, test_call_log_order);
        tcase_add_test(tc, test_volume_supported_by_default_prefix);
        tcase_add_test(tc, test_volume_list_from_config);
        tcase_add_test(tc, test_prepare_refuses_bad_requests);
        tcase_add_test(tc, test_misuse_is_bad_state);
        tcase_add_test(tc, test_release_after_hold_without_commit);
        tcase_add_test(tc, test_abort_deletes_committed_snapshots);
        tcase_add_test(tc, test_finish);
        tcase_add_test(tc, test_atomicity);
        tcase_add_test(tc, test_delete);
        tcase_add_test(tc, test_query_callback);
        tcase_add_test(tc, test_expose_unexpose);
        tcase_add_test(tc, test_revert);
        tcase_add_test(tc, test_prepare_names_devices);
        tcase_add_test(tc, test_monitor_invalidates);
        tcase_add_test(tc, test_cow_figures);
        tcase_add_test(tc, test_enable_disable_volume);
        tcase_add_test(tc, test_state_file_survives_restart);
        tcase_add_test(tc, test_state_file_malformed);
        tcase_add_test(tc, test_recover);
        tcase_add_test(tc, test_instances_are_independent);
        suite_add_tcase(s, tc);

        tc = tcase_create("faults");
        tcase_add_checked_fixture(tc, setup, teardown);
        /* A broken cancel would serve the whole 20 s stall; fail by assertion, not timeout. */
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_fail_injection);
        tcase_add_test(tc, test_bad_control_line);
        tcase_add_test(tc, test_init_failures);
        tcase_add_test(tc, test_stall_delays_op);
        tcase_add_test(tc, test_stalled_hold_cancelled_by_release);
        tcase_add_test(tc, test_stalled_commit_cancelled_by_abort);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(fake_provider_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
