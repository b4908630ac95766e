/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.c: the INI parser behind vssd.conf; a flat list of (section, key, value). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util/cleanup.h"
#include "daemon/util/config.h"

struct config_entry {
        char *section;
        char *key;
        char *value;
};

struct Config {
        struct config_entry *entries;
        size_t n_entries;
        char *source;
};

Config *config_free(Config *config)
{
        if (!config)
                return NULL;
        for (size_t i = 0; i < config->n_entries; i++) {
                free(config->entries[i].section);
                free(config->entries[i].key);
                free(config->entries[i].value);
        }
        free(config->entries);
        free(config->source);
        free(config);
        return NULL;
}

DEFINE_FREEP(Config, config_free)

static char *strip(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        char *end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

static int config_add(Config *config, const char *section, const char *key, const char *value)
{
        struct config_entry *e =
                realloc(config->entries, (config->n_entries + 1) * sizeof(*config->entries));
        if (!e)
                return -ENOMEM;
        config->entries = e;
        e = &config->entries[config->n_entries];
        e->section = strdup(section);
        e->key = strdup(key);
        e->value = strdup(value);
        if (!e->section || !e->key || !e->value) {
                free(e->section);
                free(e->key);
                free(e->value);
                return -ENOMEM;
        }
        config->n_entries++;
        return 0;
}

static int valid_name(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
                        return 0;
        return 1;
}

/* One line: a section header, a key = value, a comment or blank. */
static int config_parse_line(Config *config, char *line, char *section, size_t section_size,
                             unsigned lineno, char *err, size_t err_size)
{
        char *s = strip(line);

        if (*s == '\0' || *s == '#' || *s == ';')
                return 0;
        if (*s == '[') {
                char *close = strchr(s, ']');
                if (!close || close[1] != '\0') {
                        snprintf(err, err_size, "%s:%u: malformed section header \"%s\"; "
                                 "expected [name]", config->source, lineno, s);
                        return -EINVAL;
                }
                *close = '\0';
                char *name = strip(s + 1);
                if (!valid_name(name) || strlen(name) >= section_size) {
                        snprintf(err, err_size, "%s:%u: invalid section name \"%s\"",
                                 config->source, lineno, name);
                        return -EINVAL;
                }
                strcpy(section, name);
                return 0;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
                snprintf(err, err_size, "%s:%u: expected \"key = value\", got \"%s\"",
                         config->source, lineno, s);
                return -EINVAL;
        }
        *eq = '\0';
        char *key = strip(s), *value = strip(eq + 1);
        if (!valid_name(key)) {
                snprintf(err, err_size, "%s:%u: invalid key \"%s\"", config->source, lineno, key);
                return -EINVAL;
        }
        if (!*section) {
                snprintf(err, err_size, "%s:%u: key \"%s\" outside any [section]",
                         config->source, lineno, key);
                return -EINVAL;
        }
        return config_add(config, section, key, value);
}

int config_parse(Config **ret, const char *text, const char *source, char *err, size_t err_size)
{
        _cleanup_(config_freep) Config *config = calloc(1, sizeof(*config));
        _cleanup_free_ char *copy = strdup(text);
        char section[128] = "";
        unsigned lineno = 0;
        int r;

        if (!config || !copy || !(config->source = strdup(source ? source : "<config>")))
                return -ENOMEM;
        for (char *line = copy, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                r = config_parse_line(config, line, section, sizeof(section), ++lineno, err,
                                      err_size);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(config);
        return 0;
}

int config_load(Config **ret, const char *path, char *err, size_t err_size)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");

        if (!f) {
                int r = -errno;
                snprintf(err, err_size, "cannot open configuration %s: %s", path, strerror(errno));
                return r;
        }
        FILE *mem = open_memstream(&text, &size);
        if (!mem) {
                fclose(f);
                return -ENOMEM;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, mem);
        int failed = ferror(f);
        fclose(f);
        if (fclose(mem) != 0 || !text)
                return -ENOMEM;
        if (failed) {
                snprintf(err, err_size, "cannot read configuration %s", path);
                return -EIO;
        }
        if (memchr(text, '\0', size)) {
                snprintf(err, err_size, "%s: contains a NUL byte; is it a text file?", path);
                return -EINVAL;
        }
        return config_parse(ret, text, path, err, err_size);
}

const char *config_get(const Config *config, const char *section, const char *key)
{
        const char *value = NULL;

        if (!config)
                return NULL;
        /* Last one wins, as with most INI readers (and systemd's drop-ins). */
        for (size_t i = 0; i < config->n_entries; i++)
                if (strcmp(config->entries[i].section, section) == 0 &&
                    strcmp(config->entries[i].key, key) == 0)
                        value = config->entries[i].value;
        return value;
}

int config_foreach_key(const Config *config, const char *section,
                       int (*fn)(const char *key, const char *value, void *userdata),
                       void *userdata)
{
        for (size_t i = 0; config && i < config->n_entries; i++) {
                if (strcmp(config->entries[i].section, section) != 0)
                        continue;
                int r = fn(config->entries[i].key, config->entries[i].value, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

int config_foreach_entry(const Config *config,
                         int (*fn)(const char *section, const char *key, const char *value,
                                   void *userdata),
                         void *userdata)
{
        for (size_t i = 0; config && i < config->n_entries; i++) {
                const struct config_entry *e = &config->entries[i];
                int r = fn(e->section, e->key, e->value, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

int config_get_uint(const Config *config, const char *section, const char *key,
                    unsigned default_value, unsigned min, unsigned max, unsigned *ret,
                    char *err, size_t err_size)
{
        const char *value = config_get(config, section, key);

        if (!value) {
                *ret = default_value;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v < min || v > max) {
                snprintf(err, err_size, "[%s] %s = \"%s\" is not a whole number in %u..%u",
                         section, key, value, min, max);
                return -EINVAL;
        }
        *ret = (unsigned)v;
        return 0;
}
