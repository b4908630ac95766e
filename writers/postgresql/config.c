/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.c: the --config file of vss-writer-postgresql: "key = value" lines,
 * blank lines and # comments. The value is the rest of the line, trimmed
 * (a connection string keeps its spaces and quotes for libpq). Unknown keys
 * and malformed lines are errors naming the file and line: a typo must not
 * silently connect somewhere else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writers/postgresql/pgwriter.h"

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = '\0';
        return s;
}

/* Set *FIELD to VALUE unless the command line set it already. */
static int set_string(char **field, const char *value)
{
        if (*field)
                return 0;
        return (*field = strdup(value)) ? 0 : -ENOMEM;
}

static int apply(struct pgw_settings *s, bool timeout_given, const char *key,
                 const char *value)
{
        if (strcmp(key, "conninfo") == 0)
                return set_string(&s->conninfo, value);
        if (strcmp(key, "state_dir") == 0)
                return value[0] == '/' ? set_string(&s->state_dir, value) : -EINVAL;
        if (strcmp(key, "instance_id") == 0)
                return set_string(&s->instance_id, value);
        if (strcmp(key, "timeout") == 0) {
                char *end;
                unsigned long t = strtoul(value, &end, 10);
                if (*end || t < 1 || t > 3600)
                        return -EINVAL;
                if (!timeout_given)
                        s->timeout_s = (unsigned)t;
                return 0;
        }
        return -ENOENT;
}

int pgw_config_read(struct pgw_settings *s, const char *path, char *err, size_t size)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                int r = -errno;
                snprintf(err, size, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        bool timeout_given = s->timeout_s != 0;
        char line[4096];
        int r = 0;
        for (unsigned n = 1; r >= 0 && fgets(line, sizeof(line), f); n++) {
                char *l = trim(line);
                if (!l[0] || l[0] == '#')
                        continue;
                char *eq = strchr(l, '=');
                if (!eq) {
                        snprintf(err, size, "%s:%u: expected 'key = value', got '%s'", path, n, l);
                        r = -EINVAL;
                        break;
                }
                *eq = '\0';
                const char *key = trim(l), *value = trim(eq + 1);
                r = apply(s, timeout_given, key, value);
                if (r == -ENOENT)
                        snprintf(err, size, "%s:%u: unknown key '%s' (known: conninfo, "
                                 "state_dir, instance_id, timeout)", path, n, key);
                else if (r == -EINVAL)
                        snprintf(err, size, "%s:%u: bad value '%s' for %s (state_dir: an "
                                 "absolute path; timeout: seconds, 1 to 3600)", path, n, value,
                                 key);
                else if (r < 0)
                        snprintf(err, size, "out of memory reading %s", path);
        }
        fclose(f);
        return r;
}
