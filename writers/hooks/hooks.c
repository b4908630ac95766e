/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hooks.c: the writer's engine: a queue of jobs, one per event, each a list
 * of steps (run a hook, or let a holder go) done one at a time. See hooks.h.
 *
 * vssd sends a writer one answered event at a time, but Abort (unanswered)
 * may come while a job runs, and after an aborted Freeze vssd may send the
 * next event (another requester's Identify) at once: so jobs queue here too.
 * An Abort cancels the running job of its set (the hook that runs finishes or
 * times out, nothing more starts, nothing is answered: vssd waits no more)
 * and then thaws whatever froze.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vss/requester.h>

#include "writers/hooks/child.h"
#include "writers/hooks/env.h"
#include "writers/hooks/hooks.h"
#include "writers/common/log.h"
#include "writers/hooks/loop.h"
#include "writers/hooks/scripts.h"
#include "writers/hooks/util.h"

/* After SIGTERM to an overrunning hook's group, how long before SIGKILL. */
#define KILL_GRACE_MS 2000

static const char *const event_words[HOOKS_N_EVENTS] = {
        [VSS_WRITER_EVENT_IDENTIFY] = "identify",
        [VSS_WRITER_EVENT_PREPARE_BACKUP] = "prepare-backup",
        [VSS_WRITER_EVENT_PREPARE_SNAPSHOT] = "prepare-snapshot",
        [VSS_WRITER_EVENT_FREEZE] = "freeze",
        [VSS_WRITER_EVENT_THAW] = "thaw",
        [VSS_WRITER_EVENT_POST_SNAPSHOT] = "post-snapshot",
        [VSS_WRITER_EVENT_ABORT] = "abort",
        [VSS_WRITER_EVENT_BACKUP_COMPLETE] = "backup-complete",
        /* BackupShutdown: the session ended; nothing a hook could act on. */
};

const char *hooks_event_word(enum vss_writer_event_type type)
{
        return (unsigned)type < HOOKS_N_EVENTS ? event_words[type] : NULL;
}

int hooks_event_from_word(const char *word)
{
        for (int i = 0; i < HOOKS_N_EVENTS; i++)
                if (event_words[i] && strcmp(event_words[i], word) == 0)
                        return i;
        return -EINVAL;
}

enum step_kind {
        STEP_RUN,     /* run the hook NAME with the job's word */
        STEP_RELEASE, /* close a holder's stdin and wait for it to exit */
};

struct step {
        enum step_kind kind;
        char *name;
        struct child *holder; /* STEP_RELEASE: owned by the step */
};

/* A hook that froze: it exited 0, or it holds (HOLDER, alive or not since). */
struct frozen {
        char *name;
        struct child *holder;
};

struct job {
        enum vss_writer_event_type type;
        uint64_t cookie;           /* 0: nothing to answer */
        char *set_id;
        char **volumes;
        size_t n_volumes;
        char **mounts;             /* where each volume is mounted; NULL until needed */
        int backup_succeeded;      /* backup-complete: 1, 0, -1 unknown */
        const char *word;          /* what its hooks get as $1 */
        uint64_t timeout_ms;       /* per step */
        uint64_t started_ms;
        struct step *steps;
        size_t n_steps, next_step;
        enum vss_writer_failure failure; /* the first failure, the one answered */
        char *message;
        unsigned n_failures;
        bool started;
        bool cancelled;            /* its set was aborted: nothing more starts or answers */
        bool undoing;              /* freeze failed: thawing the hooks that froze */
        struct job *next;
};

struct hooks {
        struct hooks_config cfg;
        vss_writer *writer;
        vss_client *client;        /* reads BackupSucceeded; made when first needed */
        struct job *jobs;          /* the first one runs */
        struct child *running;     /* the process of the running step */
        bool timed_out;            /* ... overran: SIGTERM sent, SIGKILL next */
        struct source timer;
        struct frozen *frozen;
        size_t n_frozen;
        char *frozen_set;          /* the set they froze for */
        char *set_id;              /* the set whose prepare-backup the hooks heard */
        bool stopping;
        bool pumping;
};

static void hooks_step_done(struct hooks *h);

/* --- jobs ----------------------------------------------------------------------- */

static void steps_free(struct step *steps, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(steps[i].name);
                if (steps[i].holder)
                        child_disown(steps[i].holder);
        }
        free(steps);
}

static struct job *job_free(struct job *j)
{
        if (!j)
                return NULL;
        free(j->set_id);
        strv_free(j->volumes);
        strv_free(j->mounts);
        steps_free(j->steps, j->n_steps);
        free(j->message);
        free(j);
        return NULL;
}

static struct job *job_new(const struct vss_writer_event *ev, const char *set_id)
{
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        j->type = ev->type;
        j->cookie = ev->cookie;
        j->backup_succeeded = -1;
        j->set_id = strdup(set_id);
        j->volumes = calloc(ev->n_volumes + 1, sizeof(char *));
        if (!j->set_id || !j->volumes)
                return job_free(j);
        for (; j->n_volumes < ev->n_volumes; j->n_volumes++)
                if (!(j->volumes[j->n_volumes] = strdup(ev->volumes[j->n_volumes])))
                        return job_free(j);
        return j;
}

/* Record a failure of J (logged; the first one is what vssd hears). */
__attribute__((format(printf, 3, 4)))
static void job_fail(struct job *j, enum vss_writer_failure failure, const char *format, ...)
{
        char *text = NULL;
        va_list ap;

        va_start(ap, format);
        if (vasprintf(&text, format, ap) < 0)
                text = NULL;
        va_end(ap);
        log_error("%s", text ? text : "a hook failed (and there is no memory to say more)");
        if (j->n_failures++ == 0) {
                j->failure = failure;
                j->message = text;
        } else
                free(text);
}

static bool job_add_step(struct job *j, enum step_kind kind, const char *name,
                         struct child *holder)
{
        struct step *grown = realloc(j->steps, (j->n_steps + 1) * sizeof(*grown));
        if (!grown)
                return false;
        j->steps = grown;
        char *copy = strdup(name);
        if (!copy)
                return false;
        j->steps[j->n_steps++] = (struct step){ .kind = kind, .name = copy, .holder = holder };
        return true;
}

/* --- planning: which steps a job has ------------------------------------------------ */

/* A step per hook of the directory, in name order (REVERSE: the other way). */
static void plan_directory(struct hooks *h, struct job *j, bool reverse)
{
        char **names = NULL;
        size_t n = 0;

        int r = scripts_list(h->cfg.dir, &names, &n);
        if (r < 0) {
                job_fail(j, VSS_WF_NONRETRYABLE, "cannot read the hook directory %s: %s",
                         h->cfg.dir, strerror(-r));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (!job_add_step(j, STEP_RUN, names[reverse ? n - 1 - i : i], NULL)) {
                        job_fail(j, VSS_WF_OUT_OF_RESOURCES, "out of memory planning %s",
                                 j->word);
                        break;
                }
        strv_free(names);
}

/*
 * A step per hook that froze, last first: holders are let go, the others
 * run with the job's word. The frozen list is emptied: each hook is thawed
 * once, whatever comes later.
 */
static void plan_release(struct hooks *h, struct job *j)
{
        for (size_t i = h->n_frozen; i-- > 0;) {
                struct frozen *f = &h->frozen[i];
                if (!job_add_step(j, f->holder ? STEP_RELEASE : STEP_RUN, f->name, f->holder)) {
                        job_fail(j, VSS_WF_OUT_OF_RESOURCES, "out of memory thawing hook %s",
                                 f->name);
                        if (f->holder) {
                                child_close_stdin(f->holder); /* still let it go */
                                child_disown(f->holder);
                        }
                }
                free(f->name);
        }
        free(h->frozen);
        h->frozen = NULL;
        h->n_frozen = 0;
        free(h->frozen_set);
        h->frozen_set = NULL;
}

/* The set's BackupSucceeded as vssd has it now (for backup-complete): 1, 0, -1. */
static int read_backup_succeeded(struct hooks *h, const char *set_id)
{
        vss_snapshot_set_info **sets = NULL;
        int found = -1;

        if (!h->client && vss_client_new(&h->client, h->cfg.bus) < 0) {
                log_warning("cannot read BackupSucceeded of set %s: out of memory", set_id);
                return -1;
        }
        vss_client_set_timeout(h->client, 5000);
        if (vss_client_list_snapshot_sets(h->client, &sets, NULL) < 0) {
                log_warning("cannot read BackupSucceeded of set %s, so hooks get no "
                            "VSS_BACKUP_SUCCEEDED: %s", set_id,
                            vss_client_get_error_message(h->client));
                return -1;
        }
        for (vss_snapshot_set_info **s = sets; *s; s++)
                if (strcmp((*s)->id, set_id) == 0)
                        found = (*s)->backup_succeeded ? 1 : 0;
        vss_snapshot_set_info_list_free(sets);
        if (found < 0)
                log_warning("set %s is not listed by vssd, so hooks get no "
                            "VSS_BACKUP_SUCCEEDED", set_id);
        return found;
}

static void plan_abort(struct hooks *h, struct job *j)
{
        if (h->n_frozen > 0) {
                /* qemu-ga's hooks know freeze and thaw only: thaw undoes a freeze too. */
                j->word = h->cfg.events[VSS_WRITER_EVENT_ABORT] ? "abort" : "thaw";
                plan_release(h, j);
        } else if (h->cfg.events[VSS_WRITER_EVENT_ABORT] && h->set_id &&
                   strcmp(h->set_id, j->set_id) == 0) {
                /* Nothing frozen: every hook may undo what prepare-* did. */
                plan_directory(h, j, true);
        }
        free(h->set_id);
        h->set_id = NULL;
}

/* "Identify", "Freeze of set ID": how the log names J. */
static const char *job_title(const struct job *j, char *buf, size_t size)
{
        const char *event = vss_writer_event_type_to_string(j->type);
        if (!j->set_id[0])
                return event;
        snprintf(buf, size, "%s of set %s", event, j->set_id);
        return buf;
}

static void job_plan(struct hooks *h, struct job *j)
{
        char title[128];

        j->word = event_words[j->type];
        switch (j->type) {
        case VSS_WRITER_EVENT_THAW:
                plan_release(h, j);
                break;
        case VSS_WRITER_EVENT_ABORT:
                plan_abort(h, j);
                break;
        case VSS_WRITER_EVENT_FREEZE:
                if (h->n_frozen > 0)
                        log_warning("Freeze of set %s while %zu hooks are still frozen for set "
                                    "%s: they stay frozen until that set thaws or aborts",
                                    j->set_id, h->n_frozen, h->frozen_set);
                free(h->frozen_set);
                h->frozen_set = strdup(j->set_id);
                if (h->cfg.events[j->type])
                        plan_directory(h, j, false);
                break;
        default:
                if (j->type == VSS_WRITER_EVENT_PREPARE_BACKUP) {
                        free(h->set_id);
                        h->set_id = strdup(j->set_id);
                }
                if (h->cfg.events[j->type])
                        plan_directory(h, j, false);
                if (j->n_steps > 0 && j->type == VSS_WRITER_EVENT_BACKUP_COMPLETE)
                        j->backup_succeeded = read_backup_succeeded(h, j->set_id);
                break;
        }
        if (j->n_steps > 0 && j->n_volumes > 0 &&
            !(j->mounts = mounts_of_volumes((const char *const *)j->volumes, j->n_volumes)))
                job_fail(j, VSS_WF_OUT_OF_RESOURCES, "out of memory reading the mount table");
        j->timeout_ms = h->cfg.timeout_ms[j->type];
        j->started_ms = now_ms();
        if (j->n_steps > 0)
                log_info("%s: %zu hooks", job_title(j, title, sizeof(title)), j->n_steps);
}

/* --- steps ------------------------------------------------------------------------ */

static void hooks_add_frozen(struct hooks *h, const char *name, struct child *holder)
{
        struct frozen *grown = realloc(h->frozen, (h->n_frozen + 1) * sizeof(*grown));
        char *copy = strdup(name);
        if (!grown || !copy) {
                /* Cannot remember it, so it could not be thawed: undo it now. */
                free(copy);
                if (grown)
                        h->frozen = grown;
                if (holder) {
                        child_close_stdin(holder);
                        child_disown(holder);
                }
                job_fail(h->jobs, VSS_WF_OUT_OF_RESOURCES, "out of memory remembering that "
                         "hook %s froze", name);
                return;
        }
        h->frozen = grown;
        h->frozen[h->n_frozen++] = (struct frozen){ .name = copy, .holder = holder };
}

/* A holder between freeze and thaw: its death means the lock is gone. */
static void on_holder(struct child *c, void *userdata)
{
        char how[128];

        if (!c->exited)
                return;
        child_describe_exit(c, how, sizeof(how));
        log_warning("hook %s stopped holding its freeze (%s): what it locked is unlocked, "
                    "so the snapshot may be inconsistent and the thaw will fail", c->name, how);
}

static void step_result_run(struct hooks *h, struct job *j, struct child *c)
{
        char how[128];
        _cleanup_free_ char *tail = child_stderr_tail(c);

        child_describe_exit(c, how, sizeof(how));
        if (h->timed_out)
                job_fail(j, VSS_WF_TIMEOUT, "hook %s did not finish %s within %.1f s; its "
                         "process group was killed", c->name, c->event,
                         (double)j->timeout_ms / 1000);
        else if (c->ready && j->type == VSS_WRITER_EVENT_FREEZE && !j->undoing)
                job_fail(j, VSS_WF_RETRYABLE, "hook %s printed READY but exited (%s), so it "
                         "holds nothing%s%s", c->name, how, tail && tail[0] ? ": " : "",
                         tail ? tail : "");
        else if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0) {
                log_debug("hook %s %s: done", c->name, c->event);
                if (j->type == VSS_WRITER_EVENT_FREEZE && !j->undoing)
                        hooks_add_frozen(h, c->name, NULL);
        } else
                job_fail(j, VSS_WF_RETRYABLE, "hook %s failed %s (%s)%s%s", c->name, c->event,
                         how, tail && tail[0] ? ": " : ", with nothing on stderr",
                         tail ? tail : "");
}

static void step_result_release(struct hooks *h, struct job *j, struct child *c)
{
        char how[128];
        _cleanup_free_ char *tail = child_stderr_tail(c);

        child_describe_exit(c, how, sizeof(how));
        if (h->timed_out)
                job_fail(j, VSS_WF_TIMEOUT, "hook %s did not exit within %.1f s after its "
                         "stdin closed at %s; its process group was killed", c->name,
                         (double)j->timeout_ms / 1000, j->word);
        else if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
                log_debug("hook %s let go of its freeze at %s", c->name, j->word);
        else
                job_fail(j, VSS_WF_RETRYABLE, "hook %s exited (%s) when let go at %s%s%s",
                         c->name, how, j->word, tail && tail[0] ? ": " : "", tail ? tail : "");
}

/* The running step's process printed READY or exited. */
static void on_running(struct child *c, void *userdata)
{
        struct hooks *h = userdata;
        struct job *j = h->jobs;
        struct step *s = &j->steps[j->next_step - 1];

        if (!c->exited) {
                /* READY: at freeze, a holder; elsewhere it means nothing. */
                if (s->kind != STEP_RUN || j->type != VSS_WRITER_EVENT_FREEZE || j->undoing)
                        return;
                log_info("hook %s is ready: it holds its freeze until thaw", c->name);
                c->fn = on_holder;
                h->running = NULL;
                hooks_add_frozen(h, c->name, c);
                hooks_step_done(h);
                return;
        }
        if (s->kind == STEP_RELEASE) {
                step_result_release(h, j, c);
                s->holder = NULL;
        } else
                step_result_run(h, j, c);
        h->running = NULL;
        child_disown(c);
        hooks_step_done(h);
}

static void step_start_run(struct hooks *h, struct job *j, struct step *s)
{
        struct hook_env e = {
                .event = j->word, .set_id = j->set_id,
                .volumes = (const char *const *)j->volumes, .n_volumes = j->n_volumes,
                .mounts = j->mounts, .backup_succeeded = j->backup_succeeded,
        };
        char **env = env_build(&e);
        if (!env) {
                job_fail(j, VSS_WF_OUT_OF_RESOURCES, "out of memory starting hook %s", s->name);
                return;
        }
        /* At freeze a pipe: the hook may become a holder, which lives until we close it. */
        bool holder_possible = j->type == VSS_WRITER_EVENT_FREEZE && !j->undoing;
        int r = child_spawn(&h->running, h->cfg.dir, s->name, j->word, env, holder_possible,
                            on_running, h);
        strv_free(env);
        if (r < 0)
                job_fail(j, r == -ENOMEM ? VSS_WF_OUT_OF_RESOURCES : VSS_WF_NONRETRYABLE,
                         "cannot run hook %s/%s: %s%s", h->cfg.dir, s->name, strerror(-r),
                         r == -ENOEXEC ? " (a script needs a #! line)" : "");
}

static void step_start_release(struct hooks *h, struct job *j, struct step *s)
{
        struct child *c = s->holder;
        char how[128];

        children_reap(); /* a holder that died may wait unreaped */
        if (c->exited) {
                _cleanup_free_ char *tail = child_stderr_tail(c);
                child_describe_exit(c, how, sizeof(how));
                job_fail(j, VSS_WF_INCONSISTENT_SNAPSHOT, "the freeze was not held: hook %s "
                         "exited (%s) before %s, so what it locked was unlocked while frozen "
                         "and the snapshot may be inconsistent%s%s", c->name, how, j->word,
                         tail && tail[0] ? "; its last words: " : "", tail ? tail : "");
                return;
        }
        c->fn = on_running;
        c->userdata = h;
        h->running = c;
        child_close_stdin(c);
}

/* Start step S of J: its process runs (h->running) or it is already over. */
static void step_start(struct hooks *h, struct job *j, struct step *s)
{
        h->timed_out = false;
        if (s->kind == STEP_RELEASE)
                step_start_release(h, j, s);
        else
                step_start_run(h, j, s);
        if (h->running)
                timer_arm_ms(&h->timer, j->timeout_ms);
}

/* The running step overran: SIGTERM to its group, then SIGKILL. */
static void on_timer(struct source *src, uint32_t events)
{
        struct hooks *h = container_of(src, struct hooks, timer);
        struct child *c = h->running;

        timer_ack(src);
        if (!c)
                return;
        if (!h->timed_out) {
                log_error("hook %s overran its %s timeout: stopping its process group",
                          c->name, c->event);
                h->timed_out = true;
                child_kill(c, SIGTERM);
                timer_arm_ms(&h->timer, KILL_GRACE_MS);
        } else
                child_kill(c, SIGKILL);
}

/* --- finishing a job ------------------------------------------------------------------- */

/* Before answering Freeze: every holder must still hold. */
static void freeze_check_holders(struct hooks *h, struct job *j)
{
        char how[128];

        /* A holder that died as the last hook ran may wait unreaped: look now. */
        children_reap();
        for (size_t i = 0; i < h->n_frozen; i++) {
                struct child *c = h->frozen[i].holder;
                if (!c || !c->exited)
                        continue;
                _cleanup_free_ char *tail = child_stderr_tail(c);
                child_describe_exit(c, how, sizeof(how));
                job_fail(j, VSS_WF_RETRYABLE, "hook %s stopped holding its freeze before the "
                         "snapshot (%s)%s%s", c->name, how, tail && tail[0] ? ": " : "",
                         tail ? tail : "");
        }
}

/* A failed freeze thaws what froze before it answers: replan J as the undo. */
static bool freeze_undo(struct hooks *h, struct job *j)
{
        steps_free(j->steps, j->n_steps);
        j->steps = NULL;
        j->n_steps = j->next_step = 0;
        j->undoing = true;
        j->word = "thaw";
        j->timeout_ms = h->cfg.timeout_ms[VSS_WRITER_EVENT_THAW];
        if (h->n_frozen > 0)
                log_info("thawing the %zu hooks that froze before the failure", h->n_frozen);
        plan_release(h, j);
        return j->n_steps > 0;
}

static void job_answer(struct hooks *h, struct job *j)
{
        const char *event = vss_writer_event_type_to_string(j->type);
        char title[128];
        double secs = (double)(now_ms() - j->started_ms) / 1000;
        _cleanup_free_ char *message = NULL;

        if (j->n_failures > 1 &&
            asprintf(&message, "%s (and %u more failures: see the writer's log)", j->message,
                     j->n_failures - 1) < 0)
                message = NULL;
        if (j->n_steps > 0 || j->n_failures > 0)
                log_info("%s: %s in %.2f s", job_title(j, title, sizeof(title)),
                         j->n_failures ? "failed" : "done", secs);
        if (!j->cookie || j->cancelled || !h->writer)
                return;
        const char *text = message ? message : j->message;
        if (vss_writer_answer(h->writer, j->cookie, j->n_failures ? j->failure : VSS_WF_NONE,
                              text) < 0)
                log_warning("the answer to %s was not taken: %s", event,
                            vss_writer_get_error_message(h->writer));
}

/* J's steps are over: undo a failed freeze, or answer and go to the next job. */
static void job_end(struct hooks *h, struct job *j)
{
        if (j->type == VSS_WRITER_EVENT_FREEZE && !j->undoing && !j->cancelled) {
                if (j->n_failures == 0)
                        freeze_check_holders(h, j);
                if (j->n_failures == 0 && h->stopping)
                        job_fail(j, VSS_WF_RETRYABLE, "vss-writer-hooks is stopping");
                if (j->n_failures > 0 && freeze_undo(h, j))
                        return; /* the undo steps run next */
        }
        job_answer(h, j);
        h->jobs = j->next;
        job_free(j);
}

static void hooks_step_done(struct hooks *h)
{
        timer_arm_ms(&h->timer, 0);
        h->timed_out = false;
        hooks_pump(h);
}

/* --- the queue ------------------------------------------------------------------- */

static bool job_undoes(const struct job *j)
{
        return j->type == VSS_WRITER_EVENT_THAW || j->type == VSS_WRITER_EVENT_ABORT ||
               j->undoing;
}

/*
 * Does J start its next step? Not once its set was aborted (unless it thaws),
 * and not after a failure of an event that vetoes the set (identify,
 * prepare-*, freeze): the set aborts anyway. Thaw, abort, post-snapshot and
 * backup-complete run every hook, since each one must undo or finish its part.
 */
static bool job_goes_on(const struct job *j)
{
        if (j->next_step >= j->n_steps)
                return false;
        if (job_undoes(j))
                return true;
        if (j->cancelled)
                return false;
        return j->n_failures == 0 || j->type == VSS_WRITER_EVENT_POST_SNAPSHOT ||
               j->type == VSS_WRITER_EVENT_BACKUP_COMPLETE;
}

void hooks_pump(struct hooks *h)
{
        if (h->pumping)
                return;
        h->pumping = true;
        while (h->jobs && !h->running) {
                struct job *j = h->jobs;
                if (!j->started) {
                        j->started = true;
                        job_plan(h, j);
                }
                if (job_goes_on(j)) {
                        step_start(h, j, &j->steps[j->next_step++]);
                        continue;
                }
                job_end(h, j);
        }
        /* Stopping with hooks frozen and nobody left to thaw them: abort ourselves. */
        if (h->stopping && !h->jobs && h->n_frozen > 0) {
                static const char *const none[] = { NULL };
                struct vss_writer_event ev = { .type = VSS_WRITER_EVENT_ABORT,
                                               .snapshot_set_id = h->frozen_set ? h->frozen_set : "",
                                               .volumes = none };
                log_info("stopping: thawing the %zu hooks still frozen", h->n_frozen);
                h->pumping = false;
                if ((h->jobs = job_new(&ev, ev.snapshot_set_id)))
                        hooks_pump(h);
                else
                        log_error("out of memory thawing the frozen hooks: holders are let "
                                  "go as the writer exits");
                return;
        }
        h->pumping = false;
}

static void queue_append(struct hooks *h, struct job *j)
{
        struct job **tail = &h->jobs;
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
}

/* Abort of SET_ID: the running job of that set stops; queued ones of it go. */
static void queue_cancel_set(struct hooks *h, const char *set_id)
{
        for (struct job **p = &h->jobs; *p;) {
                struct job *j = *p;
                bool same = strcmp(j->set_id, set_id) == 0;
                if (same && j->started && !job_undoes(j)) {
                        log_info("Abort of set %s: %s stops after hook %s", set_id,
                                 vss_writer_event_type_to_string(j->type),
                                 h->running ? h->running->name : "(none)");
                        j->cancelled = true;
                } else if (same && !j->started && !job_undoes(j)) {
                        *p = j->next;
                        job_free(j);
                        continue;
                }
                p = &j->next;
        }
}

int hooks_on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata)
{
        struct hooks *h = userdata;
        const char *name = vss_writer_event_type_to_string(ev->type);

        if (!hooks_event_word(ev->type)) {
                log_debug("%s: no hook runs for it", name);
                return VSS_WF_NONE; /* BackupShutdown, or an event newer than us */
        }
        if (h->stopping && ev->cookie && ev->type != VSS_WRITER_EVENT_THAW) {
                vss_writer_set_failure_message(w, "vss-writer-hooks is stopping");
                return VSS_WF_RETRYABLE;
        }
        /* libvss's own Abort (vssd left while we were frozen) names no set: ours. */
        const char *set_id = ev->snapshot_set_id;
        if (ev->type == VSS_WRITER_EVENT_ABORT && !set_id[0] && h->frozen_set)
                set_id = h->frozen_set;
        struct job *j = job_new(ev, set_id);
        if (!j) {
                log_error("%s of set %s: out of memory", name, set_id);
                return -ENOMEM;
        }
        if (ev->type == VSS_WRITER_EVENT_ABORT)
                queue_cancel_set(h, set_id);
        queue_append(h, j);
        return ev->cookie ? VSS_WRITER_ANSWER_LATER : VSS_WF_NONE;
}

/* --- lifetime ------------------------------------------------------------------- */

int hooks_new(struct hooks **ret, const struct hooks_config *cfg)
{
        struct hooks *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->cfg = *cfg;
        int r = timer_new(&h->timer, on_timer);
        if (r < 0) {
                free(h);
                return r;
        }
        *ret = h;
        return 0;
}

struct hooks *hooks_free(struct hooks *h)
{
        if (!h)
                return NULL;
        while (h->jobs) {
                struct job *j = h->jobs;
                h->jobs = j->next;
                job_free(j);
        }
        for (size_t i = 0; i < h->n_frozen; i++) {
                free(h->frozen[i].name);
                if (h->frozen[i].holder)
                        child_disown(h->frozen[i].holder);
        }
        free(h->frozen);
        free(h->frozen_set);
        free(h->set_id);
        vss_client_unref(h->client);
        timer_free(&h->timer);
        free(h);
        return NULL;
}

void hooks_set_writer(struct hooks *h, vss_writer *w)
{
        h->writer = w;
}

void hooks_stop(struct hooks *h)
{
        if (h->stopping)
                return;
        h->stopping = true;
        /* Refuse what waits: vssd then goes on without us. */
        for (struct job **p = &h->jobs; *p;) {
                struct job *j = *p;
                if (!j->started && !job_undoes(j)) {
                        *p = j->next;
                        if (j->cookie && h->writer)
                                vss_writer_answer(h->writer, j->cookie, VSS_WF_RETRYABLE,
                                                  "vss-writer-hooks is stopping");
                        job_free(j);
                        continue;
                }
                p = &j->next;
        }
        hooks_pump(h);
}

bool hooks_done(const struct hooks *h)
{
        return h->stopping && !h->jobs && h->n_frozen == 0;
}
