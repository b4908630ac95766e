/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set-writers.c: the writers' side of a snapshot set (set.c has the states):
 * who takes part, sending a phase's event to each and counting the answers,
 * the VSS rules on which failures abort the set, and each frozen writer's
 * freeze timer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/internal.h"

static void set_freeze_timeout(CoreTimer *t);

static SetWriter *set_participant(CoreSet *set, const CoreWriter *w)
{
        for (size_t i = 0; i < set->n_writers; i++)
                if (set->writers[i].w == w)
                        return &set->writers[i];
        return NULL;
}

/* A name the session excludes that no registered writer has is worth a warning: a typo? */
static void set_note_unmatched_exclusions(CoreSet *set)
{
        const CoreSession *s = set->session;
        for (size_t i = 0; s && i < s->n_exclude_writers; i++) {
                const char *x = s->exclude_writers[i];
                bool found = false;
                for (CoreWriter *w = set->core->writers; w && !found; w = w->next)
                        found = strcmp(x, w->name) == 0 || strcmp(x, w->instance_id) == 0 ||
                                strcmp(x, w->class_id) == 0;
                if (found)
                        continue;
                char *msg = core_strdup_printf("no registered writer has the name, instance "
                                               "id or class id '%s' given to ExcludeWriters", x);
                core_notes_append(&set->notes, msg);
                core_string_free(msg);
        }
}

/*
 * Every registered writer takes part, as in VSS, but those the session
 * excludes; later ones wait for the next set.
 */
int set_enlist_writers(CoreSet *set)
{
        size_t n = 0;
        set_note_unmatched_exclusions(set);
        for (CoreWriter *w = set->core->writers; w; w = w->next)
                n++;
        if (n == 0)
                return 0;
        set->writers = calloc(n, sizeof(*set->writers));
        if (!set->writers)
                return -ENOMEM;
        for (CoreWriter *w = set->core->writers; w; w = w->next) {
                if (core_session_excludes(set->session, w))
                        continue;
                SetWriter *p = &set->writers[set->n_writers++];
                p->set = set;
                p->w = writer_ref(w);
                p->selected = set->session && session_selects_writer(set->session, w);
                core_timer_init(&p->freeze_timer, set_freeze_timeout, p);
                writer_clear_failure(w);
                writer_set_state(w, VSS_WS_STABLE);
        }
        return 0;
}

static enum vss_writer_state set_ok_state(enum core_event event)
{
        switch (event) {
        case CORE_EVENT_PREPARE_SNAPSHOT:
                return VSS_WS_WAITING_FOR_FREEZE;
        case CORE_EVENT_FREEZE:
                return VSS_WS_WAITING_FOR_THAW;
        case CORE_EVENT_THAW:
                return VSS_WS_WAITING_FOR_POST_SNAPSHOT;
        case CORE_EVENT_POST_SNAPSHOT:
                return VSS_WS_WAITING_FOR_BACKUP_COMPLETE;
        default:
                return VSS_WS_STABLE;
        }
}

bool set_writer_eligible(const SetWriter *p, enum core_event event, int level)
{
        switch (event) {
        case CORE_EVENT_PREPARE_BACKUP:
                return true;
        case CORE_EVENT_FREEZE:
                return !p->failed && (int)p->w->level == level;
        case CORE_EVENT_THAW:
                return !p->failed && p->frozen;
        default:
                return !p->failed;
        }
}

static void set_answer_counted(CoreSet *set)
{
        if (--set->n_waiting == 0)
                set_phase_done(set);
}

/* Before Freeze, only a writer whose components are in the set can spoil it by failing. */
static bool set_writer_failure_fatal(const SetWriter *p, enum core_event event)
{
        if (event == CORE_EVENT_FREEZE || event == CORE_EVENT_THAW)
                return true;
        return p->selected && (event == CORE_EVENT_PREPARE_BACKUP ||
                               event == CORE_EVENT_PREPARE_SNAPSHOT);
}

static void set_writer_failed(CoreSet *set, SetWriter *p, enum core_event event,
                              enum vss_writer_failure failure, const char *message)
{
        p->failed = true;
        writer_fail(p->w, event, failure, message);
        bool fatal = set_writer_failure_fatal(p, event);
        bool early = fatal && event != CORE_EVENT_FREEZE && event != CORE_EVENT_THAW;
        char *msg = core_strdup_printf("writer '%s' failed %s (%s): %s%s%s", p->w->name,
                                       core_event_to_string(event),
                                       vss_writer_failure_to_string(p->w->failure), message,
                                       early ? "; its components are in the snapshot set, "
                                               "which would not be consistent without it; "
                                               "nothing was frozen; retry, or leave the writer "
                                               "out with --exclude-writer " : "",
                                       early ? p->w->name : "");
        if (fatal)
                set_abort(set, -VSS_E_WRITER_FAILED, msg);
        else
                core_notes_append(&set->notes, msg);
        core_string_free(msg);
}

static void set_writer_result(CoreSet *set, SetWriter *p, enum core_event event,
                              enum vss_writer_failure failure, const char *message)
{
        p->waiting = false;
        if (failure != VSS_WF_NONE)
                set_writer_failed(set, p, event, failure, message);
        else
                writer_set_state(p->w, set_ok_state(event));
        if (!set_is_over(set))
                set_answer_counted(set);
}

void set_writer_answered(CoreSet *set, CoreWriter *w, enum core_event event,
                         enum vss_writer_failure failure, const char *message)
{
        SetWriter *p = set_participant(set, w);
        if (!p || !p->waiting || set_is_over(set))
                return;
        set_writer_result(set, p, event, failure, message);
}

static void set_send_one(CoreSet *set, SetWriter *p, enum core_event event)
{
        Core *core = set->core;
        uint32_t timeout = core->config.event_timeout_ms;
        if (event == CORE_EVENT_FREEZE) {
                /* Its freeze timer bounds both the answer and the time until Thaw. */
                timeout = 0;
                p->frozen = true;
                core_timer_arm(core, &p->freeze_timer, core_now(core) +
                               core_writer_freeze_timeout(p->w));
        } else if (event == CORE_EVENT_THAW) {
                p->frozen = false;
                core_timer_cancel(core, &p->freeze_timer);
        }
        int r = writer_enqueue(p->w, event, set, NULL, timeout);
        if (r < 0) {
                char *msg = r == -ENOTCONN ? core_strdup_printf("left the bus before %s",
                                                                core_event_to_string(event))
                                           : core_strdup_printf("could not send %s: %s",
                                                                core_event_to_string(event),
                                                                vss_strerror(r));
                set_writer_result(set, p, event, VSS_WF_NONRETRYABLE, msg);
                core_string_free(msg);
        }
}

/*
 * Send EVENT to every eligible participant; the phase ends with the last
 * answer. The count starts at one, so that a failure delivered while sending
 * (a writer that left) cannot end the phase before every event is out.
 */
void set_send(CoreSet *set, enum core_event event)
{
        enum core_set_state state = set->state;
        set->n_waiting = 1;
        for (size_t i = 0; i < set->n_writers && set->state == state; i++) {
                SetWriter *p = &set->writers[i];
                if (!set_writer_eligible(p, event, set->level))
                        continue;
                p->waiting = true;
                set->n_waiting++;
                set_send_one(set, p, event);
        }
        if (set->state == state)
                set_answer_counted(set);
}

/* A writer left between events. Frozen, it can no longer be thawed: the set cannot hold. */
void set_writer_left(CoreSet *set, CoreWriter *w)
{
        SetWriter *p = set_participant(set, w);
        if (!p || p->failed || p->waiting || !p->frozen || set_is_over(set))
                return;
        core_timer_cancel(set->core, &p->freeze_timer);
        set_writer_failed(set, p, CORE_EVENT_THAW, VSS_WF_NONRETRYABLE,
                          "left the bus while frozen");
}

static void set_freeze_timeout(CoreTimer *t)
{
        SetWriter *p = t->data;
        CoreSet *set = p->set;
        uint32_t ms = core_writer_freeze_timeout(p->w);
        char *msg = p->waiting
                ? core_strdup_printf("did not answer Freeze within its freeze timeout of %u ms", ms)
                : core_strdup_printf("stayed frozen for its whole freeze timeout of %u ms before "
                                     "the snapshot was taken", ms);
        p->waiting = false;
        writer_cancel(p->w, set, NULL);
        set_writer_failed(set, p, CORE_EVENT_FREEZE, VSS_WF_TIMEOUT, msg);
        core_string_free(msg);
}
