/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.c: the fault points of a fault-injection build (see fault.h). The
 * setting is parsed once, into static storage, so a point costs a string
 * comparison and touches no allocator.
 */
#ifdef VSS_FAULT_INJECTION
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"

static struct {
        char setting[128];
        char point[64];
        unsigned long hit_at; /* kill at this hit; 0 with a stall */
        unsigned long stall_ms;
        atomic_ulong hits;
} fault;

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_parse(void)
{
        const char *env = getenv("VSS_FAULT");

        if (!env || !*env)
                return;
        snprintf(fault.setting, sizeof(fault.setting), "%s", env);
        snprintf(fault.point, sizeof(fault.point), "%.*s", (int)strcspn(env, "@:"), env);
        fault.hit_at = 1;
        const char *at = strchr(env, '@');
        if (at)
                fault.hit_at = strtoul(at + 1, NULL, 10);
        const char *stall = strstr(env, ":stall=");
        if (stall) {
                fault.stall_ms = strtoul(stall + strlen(":stall="), NULL, 10);
                fault.hit_at = 0;
        }
}

const char *vss_fault_setting(void)
{
        pthread_once(&fault_once, fault_parse);
        return fault.setting;
}

void vss_fault_point(const char *name)
{
        pthread_once(&fault_once, fault_parse);
        if (!fault.point[0] || strcmp(fault.point, name) != 0)
                return;
        unsigned long hit = atomic_fetch_add(&fault.hits, 1) + 1;
        bool act = fault.stall_ms || hit == fault.hit_at;
        if (act) { /* the test reads which point acted; write(2): nothing allocated */
                char line[160];
                int n = snprintf(line, sizeof(line), "fault point %s reached: %s\n", name,
                                 fault.stall_ms ? "stalling" : "SIGKILL");
                if (n > 0)
                        (void)!write(STDERR_FILENO, line, (size_t)n);
        }
        if (fault.stall_ms) {
                struct timespec ts = { (time_t)(fault.stall_ms / 1000),
                                       (long)(fault.stall_ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0)
                        ;
        } else if (hit == fault.hit_at) {
                raise(SIGKILL);
        }
}
#else
/* ISO C wants something in a translation unit. */
typedef int vss_fault_unused;
#endif
