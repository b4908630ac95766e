/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core.c: unit tests of daemon/core/core.c: configuration, providers,
 * timers, names and lookups; of reconcile.c: startup (recover, query,
 * adoption), monitoring and its rules (the publication-number rule, the
 * auto-release rule); and of volume.c (EnableVolume, DisableVolume); in the
 * fake environment of core-env.h.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tests/unit/core-env.h"

/* --- tests of core.c ---------------------------------------------------------------------- */

START_TEST(test_config_defaults_and_ranges)
{
        const CoreConfig *c = core_config_get(E.core);
        ck_assert_uint_eq(c->freeze_timeout_ms, 60000);
        ck_assert_uint_eq(c->hold_timeout_ms, 10000);
        ck_assert_uint_eq(c->monitor_interval_ms, 1000);
        struct vss_error_buf err = { "" };
        CoreConfig bad = { .freeze_timeout_ms = 999, .hold_timeout_ms = 10000,
                                   .event_timeout_ms = 60000 };
        ck_assert_int_eq(core_config_set(E.core, &bad, &err), -EINVAL);
        assert_contains(err.message, "FreezeTimeoutMs");
        bad = (CoreConfig){ 60000, 60001, 60000, 1000 };
        ck_assert_int_eq(core_config_set(E.core, &bad, &err), -EINVAL);
        assert_contains(err.message, "HoldTimeoutMs");
        bad = (CoreConfig){ 60000, 10000, 60000, 99 };
        ck_assert_int_eq(core_config_set(E.core, &bad, &err), -EINVAL);
        assert_contains(err.message, "MonitorIntervalMs 99 is out of range: use 100..60000");
        CoreConfig good = { 30000, 5000, 20000, 250 };
        ck_assert_int_eq(core_config_set(E.core, &good, &err), 0);
        ck_assert_uint_eq(core_config_get(E.core)->hold_timeout_ms, 5000);
        ck_assert_uint_eq(core_config_get(E.core)->monitor_interval_ms, 250);
        /* Zero fields take the defaults (callers that predate a field). */
        good = (CoreConfig){ .freeze_timeout_ms = 30000 };
        ck_assert_int_eq(core_config_set(E.core, &good, &err), 0);
        ck_assert_uint_eq(core_config_get(E.core)->monitor_interval_ms, 1000);
}
END_TEST

START_TEST(test_core_new_rejects_incomplete_env)
{
        Core *core;
        CoreEnv env = env_template;
        env.provider_run = NULL;
        ck_assert_int_eq(core_new(&core, &env, NULL), -EINVAL);
        CoreConfig c = { .hold_timeout_ms = 1 };
        ck_assert_int_eq(core_new(&core, &env_template, &c), -EINVAL);
}
END_TEST

START_TEST(test_provider_add_checks_abi_and_name)
{
        struct vss_error_buf err = { "" };
        struct vss_provider p = vss_provider_v4;
        p.abi_version = 99;
        ck_assert_int_eq(core_provider_add(E.core, &p, NULL, NULL, &err), -VSS_E_ABI_MISMATCH);
        assert_contains(err.message, "ABI 99");
        ck_assert_int_eq(core_provider_add(E.core, &vss_provider_v4, NULL, NULL, &err), -EEXIST);
        assert_contains(err.message, "'fake'");
        ck_assert_ptr_nonnull(core_provider_find(E.core, "fake"));
        ck_assert_ptr_null(core_provider_find(E.core, "nope"));
        ck_assert_ptr_null(core_provider_first(E.core)->next);
}
END_TEST

START_TEST(test_timers_fire_at_deadline_not_before)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        tw->manual = true;
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        ck_assert_uint_eq(E.deadline, E.now + 60000);
        advance(59999);
        ck_assert_uint_eq(c.count, 0);
        core_dispatch_timers(E.core); /* early wake-ups are harmless */
        ck_assert_uint_eq(c.count, 0);
        advance(1);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_uint_eq(E.deadline, UINT64_MAX);
}
END_TEST

START_TEST(test_names)
{
        ck_assert_str_eq(core_event_to_string(CORE_EVENT_PREPARE_SNAPSHOT), "PrepareSnapshot");
        ck_assert_str_eq(core_event_to_string(CORE_EVENT_BACKUP_SHUTDOWN), "BackupShutdown");
        ck_assert_str_eq(core_set_state_to_string(CORE_SET_PREPARING_SNAPSHOT),
                         "preparing-snapshot");
        ck_assert_str_eq(core_set_state_to_string(CORE_SET_ABORTED), "aborted");
        ck_assert_str_eq(core_session_state_to_string(CORE_SESSION_IN_SET), "in-set");
        ck_assert_str_eq(core_snapshot_state_to_string(VSS_SNAPSHOT_INVALID), "invalid");
        ck_assert_str_eq(core_job_op_to_string(CORE_JOB_WINDOW), "window");
        ck_assert_str_eq(core_job_op_to_string(CORE_JOB_WATCHDOG_RELEASE),
                         "watchdog-release");
        ck_assert_int_eq(core_context_from_string("nas-rollback"), CORE_CONTEXT_NAS_ROLLBACK);
        ck_assert_int_eq(core_context_from_string("nope"), -EINVAL);
        ck_assert_str_eq(core_context_to_string(CORE_CONTEXT_FILE_SHARE_BACKUP),
                         "file-share-backup");
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_BACKUP), 0);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_APP_ROLLBACK),
                          VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_NAS_ROLLBACK),
                          VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE | VSS_ATTR_NO_WRITERS);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_FILE_SHARE_BACKUP),
                          VSS_ATTR_NO_WRITERS);
}
END_TEST

START_TEST(test_lookups)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_SYSTEM);
        CoreSession *s = ready_session(OWNER);
        ck_assert_ptr_eq(core_writer_find(E.core, tw->w->id), tw->w);
        ck_assert_ptr_null(core_writer_find(E.core, 999));
        ck_assert_ptr_eq(core_session_find(E.core, s->id), s);
        ck_assert_ptr_eq(core_set_find(E.core, s->set->id), s->set);
        ck_assert_ptr_eq(core_snapshot_find(E.core, s->set->snapshots->id), s->set->snapshots);
        ck_assert_ptr_null(core_snapshot_find(E.core, "nope"));
        ck_assert_ptr_eq(core_writer_first(E.core), tw->w);
        ck_assert_ptr_eq(core_session_first(E.core), s);
}
END_TEST

/* A job the env could not queue fails the op like the provider failing it. */
START_TEST(test_provider_run_refused_fails_the_op)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        E.refuse_jobs = true;
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", &c), -EAGAIN);
        assert_contains(c.message, "could not start is_volume_supported");
        assert_contains(c.message, "/dev/fake/a");
}
END_TEST

START_TEST(test_provider_is_volume_supported)
{
        CoreProvider *p = core_provider_find(E.core, "fake");
        struct call yes = { 0 }, no = { 0 };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "/dev/fake/a", &yes, &err), 0);
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "/dev/sdb", &no, &err), 0);
        ck_assert_uint_eq(yes.count + no.count, 0); /* on the provider thread, not here */
        pump();
        ck_assert_int_eq(yes.r, 1);
        ck_assert_int_eq(no.r, 0);
        assert_contains(no.message, "/dev/sdb");
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "", &no, &err), -EINVAL);
}
END_TEST

/* core_free() with work in flight notifies nobody and leaks nothing. */
START_TEST(test_free_with_everything_in_flight)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *done = ready_session(":1.5");
        struct call bc;
        tw->manual = true;
        ck_assert_int_eq(backup_complete(done, &bc), 1); /* BackupComplete stays pending */
        CoreSession *s = session_open(OWNER);
        set_start(s);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/x", NULL, &c, NULL),
                         0);
        ck_assert_uint_eq(E.n_jobs, 1);
        unsigned removed = E.removed[CORE_OBJECT_SET];
        E.core = core_free(E.core); /* teardown completes the queued job afterwards */
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SET], removed);
        ck_assert_uint_eq(c.count, 0);
}
END_TEST

/* --- reconcile.c: startup --------------------------------------------------------------- */

#define KEEP (VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE)
#define SET_X "0000000a-0000-4000-8000-00000000000a"
#define SNAP_X "0000000b-0000-4000-8000-00000000000b"
#define SET_Y "0000000c-0000-4000-8000-00000000000c"
#define SNAP_Y "0000000d-0000-4000-8000-00000000000d"

static const char *const cd_volumes[] = { "/dev/fake/c", "/dev/fake/d", NULL };

/* A made set of VOLUMES (NULL: /dev/fake/a, b) whose snapshots get ATTRIBUTES too. */
static CoreSession *ready_with(const char *owner, const char *const *volumes, uint32_t attributes)
{
        CoreSession *s = session_open(owner);
        struct call c;
        ck_assert_int_eq(core_session_set_context(s, owner, CORE_CONTEXT_BACKUP, attributes, NULL),
                         0);
        set_start(s);
        for (const char *const *v = volumes ? volumes : two_volumes; *v; v++)
                ck_assert_int_eq(add_volume(s, *v, NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        return s;
}

/* A one-volume set made on the fake provider behind the core's back (another vssd's). */
static void made_elsewhere(const char *set_id, const char *snap_id, const char *volume,
                           uint32_t attributes)
{
        const struct vss_provider_ops *ops = vss_provider_v4.ops;
        struct vss_volume_request v = { volume, snap_id, "" };
        struct vss_set_request req = { set_id, attributes, 1, &v, VSS_ATOMICITY_ONE_INSTANT };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(ops->prepare(E.fake_state, &req, &err), 0);
        ck_assert_int_eq(ops->hold(E.fake_state, set_id, &err), 0);
        ck_assert_int_eq(ops->commit(E.fake_state, set_id, &err), 0);
        ck_assert_int_eq(ops->release(E.fake_state, set_id, &err), 0);
}

static unsigned occurrences(const char *haystack, const char *needle)
{
        unsigned n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

START_TEST(test_start_recovers_then_queries_each_provider)
{
        env_add_other_provider();
        struct call c;
        ck_assert_int_eq(start_core(&c), 0);
        ck_assert_str_eq(E.trace, "fake:recover fake:query other:recover other:query");
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(E.deadline, UINT64_MAX); /* nothing to monitor */
        /* Once only: a second recover() could roll back what this vssd is doing. */
        ck_assert_int_eq(core_start(E.core, &c, NULL), -EALREADY);
}
END_TEST

START_TEST(test_start_adopts_what_an_earlier_vssd_made)
{
        CoreSession *s = ready_with(OWNER, NULL, KEEP);
        char set_id[CORE_UUID_LEN + 1], id[CORE_UUID_LEN + 1], device[64];
        strcpy(set_id, s->set->id);
        strcpy(id, s->set->snapshots->id);
        snprintf(device, sizeof(device), "/dev/fake/snap-%s", id);
        env_restart_core();
        E.objects[0] = '\0';
        struct call c;
        ck_assert_int_eq(start_core(&c), 0);
        ck_assert_uint_eq(c.n, 0);
        /* The set is announced before its snapshots, each with its device. */
        ck_assert_str_eq(E.objects, "+set +snapshot +snapshot");
        ck_assert_uint_eq(E.added_without_device, 0);
        CoreSet *set = core_set_find(E.core, set_id);
        ck_assert_ptr_nonnull(set);
        ck_assert_int_eq(set->state, CORE_SET_READY);
        ck_assert_ptr_null(set->session);
        ck_assert_uint_eq(set->n_volumes, 2);
        ck_assert_uint_eq(set->attributes, KEEP);
        CoreSnapshot *snap = core_snapshot_find(E.core, id);
        ck_assert_ptr_eq(snap->set, set);
        ck_assert_str_eq(snap->origin, "/dev/fake/a");
        ck_assert_str_eq(snap->device, device);
        ck_assert_uint_eq(snap->attributes, KEEP);
        ck_assert_uint_gt(snap->creation_usec, 0);
        ck_assert_uint_eq(snap->cow_size_bytes, 1024 * 1024 * 1024);
        ck_assert(!trace_has("fake:delete"));
        ck_assert(log_has(LOG_INFO, "adopted snapshot"));
        ck_assert_uint_ne(E.deadline, UINT64_MAX); /* monitored from now on */
}
END_TEST

/* The auto-release rule: nobody is left to release them, so vssd does, before it serves. */
START_TEST(test_start_deletes_auto_release_orphans)
{
        ready_with(OWNER, NULL, 0);
        CoreSession *kept = ready_with(":1.2", cd_volumes, VSS_ATTR_NO_AUTO_RELEASE);
        char kept_set[CORE_UUID_LEN + 1];
        strcpy(kept_set, kept->set->id);
        env_restart_core();
        struct call c;
        ck_assert_int_eq(start_core(&c), 0);
        ck_assert_uint_eq(c.n, 2); /* the reply came once they were gone */
        ck_assert_uint_eq(count_sets(), 1);
        ck_assert_ptr_nonnull(core_set_find(E.core, kept_set));
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_uint_eq(provider_snapshots(), 2);
        ck_assert_uint_eq(trace_count("fake:delete"), 2);
        ck_assert(log_has(LOG_NOTICE, "belonged to a session of an earlier vssd, which is gone"));
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SET], 1);
}
END_TEST

START_TEST(test_start_failures_are_logged_and_vssd_goes_on)
{
        env_add_other_provider();
        ready_with(OWNER, (const char *const[]){ "/dev/other/a", NULL }, KEEP);
        env_restart_core();
        fault("fail recover");
        fault("fail query ENOMEM");
        struct call c;
        ck_assert_int_eq(start_core(&c), -EIO);
        assert_contains(c.message, "provider 'fake' could not recover");
        assert_contains(c.message, "provider 'fake' could not list its snapshots");
        assert_contains(c.message, "vssd goes on without them");
        ck_assert_uint_eq(count_snapshots(), 1); /* what the other provider has */
}
END_TEST

/* --- reconcile.c: monitoring ------------------------------------------------------------ */

START_TEST(test_monitor_follows_cow_and_invalid)
{
        CoreSession *s = ready_with(OWNER, NULL, KEEP);
        CoreSnapshot *a = s->set->snapshots;
        ck_assert_uint_eq(a->cow_used_bytes, 0);
        unsigned changed = E.changed[CORE_OBJECT_SNAPSHOT];
        monitor_tick();
        ck_assert(trace_has("fake:monitor"));
        ck_assert_uint_eq(a->cow_used_bytes, 64 * 1024);
        ck_assert_uint_eq(a->cow_size_bytes, 1024 * 1024 * 1024);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed + 4); /* used, size: twice */
        monitor_tick();
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed + 4); /* no change, no news */
        char line[64];
        snprintf(line, sizeof(line), "invalidate %s", a->id);
        fault(line);
        monitor_tick();
        ck_assert_int_eq(a->state, VSS_SNAPSHOT_INVALID);
        ck_assert_uint_eq(a->cow_used_bytes, a->cow_size_bytes);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed + 6); /* state, used */
        ck_assert(log_has(LOG_WARNING, a->id));
        ck_assert(log_has(LOG_WARNING, "of /dev/fake/a is invalid now"));
        monitor_tick();
        ck_assert_uint_eq(occurrences(E.logs, "is invalid now"), 1);
}
END_TEST

/*
 * The publication-number rule: a report asked for before a set published its
 * snapshots does not have them, and must not remove them; a snapshot shown
 * before it was asked for and missing from it is gone.
 */
START_TEST(test_monitor_spares_snapshots_published_after_it_was_queued)
{
        CoreSession *a = ready_with(OWNER, NULL, KEEP);
        char gone[CORE_UUID_LEN + 1];
        strcpy(gone, a->set->snapshots->id);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(vss_provider_v4.ops->delete_snapshot(E.fake_state, gone, &err), 0);
        CoreSession *b = prepared_session(":1.2", cd_volumes);
        E.hold_jobs = true;
        advance(core_config_get(E.core)->monitor_interval_ms);
        ck_assert_uint_eq(E.n_jobs, 1);
        CoreJob *monitor = E.jobs[0];
        E.n_jobs = 0;
        core_job_execute(monitor); /* the provider answers before set b exists */
        E.hold_jobs = false;
        struct call c;
        ck_assert_int_eq(do_snapshot(b, &c), 0);
        core_job_complete(monitor);
        ck_assert_uint_eq(count_snapshots(), 3);
        ck_assert_ptr_null(core_snapshot_find(E.core, gone));
        ck_assert_ptr_nonnull(b->set->snapshots);
        ck_assert_ptr_nonnull(b->set->snapshots->next);
        ck_assert(log_has(LOG_WARNING, "is gone from provider fake"));
}
END_TEST

/* A snapshot being deleted is its deletion's to remove: once, when it is back. */
START_TEST(test_monitor_leaves_a_snapshot_being_deleted_to_its_delete)
{
        CoreSession *s = ready_with(OWNER, NULL, KEEP);
        char id[CORE_UUID_LEN + 1];
        strcpy(id, s->set->snapshots->id);
        E.hold_jobs = true;
        struct call d = { 0 };
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SNAPSHOT, id, &d, NULL), 0);
        advance(core_config_get(E.core)->monitor_interval_ms);
        ck_assert_uint_eq(E.n_jobs, 2);
        CoreJob *del = E.jobs[0], *monitor = E.jobs[1];
        E.n_jobs = 0;
        core_job_execute(del);
        core_job_execute(monitor);
        core_job_complete(monitor);
        ck_assert_ptr_nonnull(core_snapshot_find(E.core, id));
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SNAPSHOT], 0);
        core_job_complete(del);
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SNAPSHOT], 1);
        ck_assert_uint_eq(d.n, 1);
        E.hold_jobs = false;
}
END_TEST

/* A monitor job queued now would wait before the window while writers are frozen. */
START_TEST(test_monitor_skips_while_a_set_is_snapshotting)
{
        ready_with(OWNER, NULL, KEEP);
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        tw->silent_at = CORE_EVENT_FREEZE;
        CoreSession *b = prepared_session(":1.2", cd_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(b, &c), 1);
        ck_assert_int_eq(b->set->state, CORE_SET_FREEZING);
        trace_clear();
        monitor_tick();
        ck_assert(!trace_has("fake:monitor"));
        release_all();
        ck_assert_int_eq(c.r, 0);
        monitor_tick();
        ck_assert(trace_has("fake:monitor"));
        /* Nor does a tick pile a second job onto one still out. */
        E.hold_jobs = true;
        trace_clear();
        advance(core_config_get(E.core)->monitor_interval_ms);
        advance(core_config_get(E.core)->monitor_interval_ms);
        ck_assert_uint_eq(E.n_jobs, 1);
        release_all();
}
END_TEST

/* Snapshots of a set being made are that set's, even when a report has them first. */
START_TEST(test_monitor_ignores_a_set_being_made)
{
        ready_with(OWNER, NULL, KEEP);
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        tw->silent_at = CORE_EVENT_POST_SNAPSHOT;
        CoreSession *b = prepared_session(":1.2", cd_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(b, &c), 1);
        ck_assert_int_eq(b->set->state, CORE_SET_POST_SNAPSHOT);
        monitor_tick();
        ck_assert(trace_has("fake:monitor"));
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_uint_eq(E.added[CORE_OBJECT_SET], 2);
        ck_assert(!trace_has("fake:delete"));
        release_all();
        ck_assert_uint_eq(count_snapshots(), 4);
}
END_TEST

START_TEST(test_monitor_adopts_unknown_snapshots)
{
        ready_with(OWNER, NULL, KEEP);
        made_elsewhere(SET_X, SNAP_X, "/dev/fake/x", VSS_ATTR_NO_AUTO_RELEASE);
        made_elsewhere(SET_Y, SNAP_Y, "/dev/fake/y", 0);
        monitor_tick();
        CoreSnapshot *x = core_snapshot_find(E.core, SNAP_X);
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_null(x->set->session);
        ck_assert_str_eq(x->device, "/dev/fake/snap-" SNAP_X);
        ck_assert_ptr_null(core_snapshot_find(E.core, SNAP_Y));
        ck_assert_ptr_null(core_set_find(E.core, SET_Y));
        ck_assert_uint_eq(provider_snapshots(), 3);
        ck_assert(log_has(LOG_NOTICE, SNAP_Y));
        ck_assert(!log_has(LOG_NOTICE, SNAP_X));
}
END_TEST

START_TEST(test_revert_merges_then_the_snapshot_goes)
{
        CoreSession *s = ready_with(OWNER, NULL, KEEP);
        CoreSnapshot *snap = s->set->snapshots;
        char id[CORE_UUID_LEN + 1];
        strcpy(id, snap->id);
        struct call c = { 0 };
        ck_assert_int_eq(core_snapshot_revert(snap, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_eq(snap->state, VSS_SNAPSHOT_MERGING);
        ck_assert(log_has(LOG_NOTICE, "is being merged into /dev/fake/a"));
        monitor_tick();
        ck_assert_ptr_null(core_snapshot_find(E.core, id));
        ck_assert(log_has(LOG_INFO, "the merge of snapshot"));
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_ptr_nonnull(s->set); /* its session still holds the set */
}
END_TEST

START_TEST(test_monitor_failure_is_logged_once)
{
        ready_with(OWNER, NULL, KEEP);
        fault("fail monitor");
        monitor_tick();
        monitor_tick();
        ck_assert_uint_eq(occurrences(E.logs, "could not report its snapshots"), 1);
        fault_clear();
        monitor_tick();
        ck_assert(log_has(LOG_INFO, "reports its snapshots again"));
}
END_TEST

START_TEST(test_shutdown_stops_monitoring)
{
        ready_with(OWNER, NULL, KEEP);
        core_shutdown(E.core);
        pump();
        ck_assert_uint_eq(E.deadline, UINT64_MAX);
        trace_clear();
        advance(60000);
        pump();
        ck_assert(!trace_has("fake:monitor"));
}
END_TEST

/*
 * Calls that land while vssd stops (after the loop's last pass began) start
 * nothing: their provider jobs would outlive the loop that has to finish them.
 */
START_TEST(test_shutdown_starts_nothing_new)
{
        struct vss_error_buf err = { "" };
        CoreSession *s = NULL;
        struct call c = { 0 };

        ready_with(OWNER, NULL, KEEP);
        core_shutdown(E.core);
        pump();
        trace_clear();
        ck_assert_int_eq(core_session_new(&s, E.core, OWNER, &err), -EBUSY);
        assert_contains(err.message, "vssd is stopping");
        ck_assert_int_eq(core_recover(E.core, &c, &err), -EBUSY);
        ck_assert_int_eq(core_volume_enable(E.core, "/dev/fakeplain/x", NULL, 0, NULL, &c, &err),
                         -EBUSY);
        pump();
        ck_assert(!trace_has("fake:"));
}
END_TEST

/* --- volume.c --------------------------------------------------------------------------- */

static int volume_call(bool enable, const char *target, const char *provider, struct call *c)
{
        struct vss_error_buf err = { "" };
        memset(c, 0, sizeof(*c));
        int r = enable ? core_volume_enable(E.core, target, NULL, 0, provider, c, &err)
                       : core_volume_disable(E.core, target, provider, c, &err);
        return call_finish(c, r, &err);
}

START_TEST(test_enable_volume)
{
        struct call c;
        ck_assert_int_eq(volume_call(true, "/dev/fakeplain/x", NULL, &c), 0);
        ck_assert_str_eq(c.id, "/dev/fake/x");
        ck_assert(trace_has("fake:enable_volume"));
        ck_assert_int_eq(volume_call(true, "/dev/sdb", NULL, &c), -EINVAL);
        assert_contains(c.message, "provider 'fake' could not enable /dev/sdb: fake provider");
        ck_assert_int_eq(volume_call(true, "/dev/fakeplain/y", "nope", &c), -ENOENT);
        assert_contains(c.message, "no provider named 'nope'");
        ck_assert_int_eq(volume_call(true, "fakeplain/y", NULL, &c), -EINVAL);
        fake_ops()->enable_volume = NULL;
        ck_assert_int_eq(volume_call(true, "/dev/fakeplain/y", NULL, &c), -EOPNOTSUPP);
        assert_contains(c.message, "no loaded provider can enable volumes (loaded: fake)");
        ck_assert_int_eq(volume_call(true, "/dev/fakeplain/y", "fake", &c), -EOPNOTSUPP);
        assert_contains(c.message, "provider 'fake' cannot enable volumes");
}
END_TEST

START_TEST(test_disable_volume)
{
        struct call c;
        ck_assert_int_eq(volume_call(true, "/dev/fakeplain/x", NULL, &c), 0);
        CoreSession *s = ready_with(OWNER, (const char *const[]){ "/dev/fake/x", NULL }, KEEP);
        ck_assert_int_eq(volume_call(false, "/dev/fake/x", NULL, &c), -EBUSY);
        assert_contains(c.message, "/dev/fake/x still has 1 snapshot(s)");
        ck_assert(!trace_has("fake:disable_volume"));
        struct call d = { 0 };
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, s->set->id, &d, NULL), 0);
        pump();
        ck_assert_int_eq(volume_call(false, "/dev/fake/x", NULL, &c), 0);
        ck_assert_int_eq(volume_call(false, "/dev/fake/x", NULL, &c), -ENOENT);
        assert_contains(c.message, "no provider has enabled /dev/fake/x: fake: fake provider");
        ck_assert_int_eq(volume_call(false, "/dev/fake/x", "fake", &c), -ENOENT);
        assert_contains(c.message, "provider 'fake' could not disable /dev/fake/x");
}
END_TEST

static Suite *core_suite(void)
{
        Suite *s = suite_create("core");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_config_defaults_and_ranges);
        tcase_add_test(tc, test_core_new_rejects_incomplete_env);
        tcase_add_test(tc, test_provider_add_checks_abi_and_name);
        tcase_add_test(tc, test_timers_fire_at_deadline_not_before);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_lookups);
        tcase_add_test(tc, test_provider_run_refused_fails_the_op);
        tcase_add_test(tc, test_provider_is_volume_supported);
        tcase_add_test(tc, test_free_with_everything_in_flight);
        suite_add_tcase(s, tc);

        tc = tcase_create("reconcile");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_start_recovers_then_queries_each_provider);
        tcase_add_test(tc, test_start_adopts_what_an_earlier_vssd_made);
        tcase_add_test(tc, test_start_deletes_auto_release_orphans);
        tcase_add_test(tc, test_start_failures_are_logged_and_vssd_goes_on);
        tcase_add_test(tc, test_monitor_follows_cow_and_invalid);
        tcase_add_test(tc, test_monitor_spares_snapshots_published_after_it_was_queued);
        tcase_add_test(tc, test_monitor_leaves_a_snapshot_being_deleted_to_its_delete);
        tcase_add_test(tc, test_monitor_skips_while_a_set_is_snapshotting);
        tcase_add_test(tc, test_monitor_ignores_a_set_being_made);
        tcase_add_test(tc, test_monitor_adopts_unknown_snapshots);
        tcase_add_test(tc, test_revert_merges_then_the_snapshot_goes);
        tcase_add_test(tc, test_monitor_failure_is_logged_once);
        tcase_add_test(tc, test_shutdown_stops_monitoring);
        tcase_add_test(tc, test_shutdown_starts_nothing_new);
        suite_add_tcase(s, tc);

        tc = tcase_create("volumes");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_enable_volume);
        tcase_add_test(tc, test_disable_volume);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(core_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
