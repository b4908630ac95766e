/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_plugins.c: loading provider plugins (daemon/plugins.c) with the test
 * plugins of tests/providers: the fake provider loads and gets its own
 * [provider.fake] section; a plugin built for another ABI, one without the
 * descriptor symbol, a missing file, a file that is not ELF and a provider
 * whose init fails are each refused with a message naming the file and the
 * reason; a directory load keeps going past refusals, in name order, and a
 * second copy of a provider already loaded is refused as a duplicate; the
 * loaded providers end up by priority (vssd.conf's over the plugin's), ties
 * by name.
 *
 * Build the plugins first: make build/tests/providers/fake.so
 * build/tests/providers/wrong-abi.so build/tests/providers/no-symbol.so
 * ($VSS_BUILD, default "build", is where they are looked for).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vss/provider.h>

#include "daemon/plugins.h"

static char providers[4096];
static char fake_so[4200], wrong_abi_so[4200], no_symbol_so[4200];
static char dir[64];
static char err[VSS_ERROR_MESSAGE_MAX];
static char logged[16384];
static int saved_stderr = -1;
static Config *config;

static void setup(void)
{
        const char *build = getenv("VSS_BUILD");

        snprintf(providers, sizeof(providers), "%s/tests/providers", build ? build : "build");
        snprintf(fake_so, sizeof(fake_so), "%s/fake.so", providers);
        snprintf(wrong_abi_so, sizeof(wrong_abi_so), "%s/wrong-abi.so", providers);
        snprintf(no_symbol_so, sizeof(no_symbol_so), "%s/no-symbol.so", providers);
        if (access(fake_so, R_OK) < 0 || access(wrong_abi_so, R_OK) < 0 ||
            access(no_symbol_so, R_OK) < 0)
                ck_abort_msg("test plugins missing in %s: run make %s %s %s", providers, fake_so,
                             wrong_abi_so, no_symbol_so);
        snprintf(dir, sizeof(dir), "/tmp/check_plugins.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        err[0] = '\0';
        logged[0] = '\0';
}

static void remove_tree(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *e;

        if (!d)
                return;
        while ((e = readdir(d))) {
                char p[512];
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
                if (unlink(p) < 0)
                        remove_tree(p);
        }
        closedir(d);
        rmdir(path);
}

static void teardown(void)
{
        plugins_set_config(NULL);
        config = config_free(config);
        remove_tree(dir);
}

/* Log lines go to stderr; collect them to check what an administrator reads. */
static void capture_begin(void)
{
        char path[128];

        snprintf(path, sizeof(path), "%s/stderr", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        close(fd);
}

static const char *capture_end(void)
{
        char path[128];

        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        snprintf(path, sizeof(path), "%s/stderr", dir);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(logged, 1, sizeof(logged) - 1, f);
        logged[n] = '\0';
        fclose(f);
        unlink(path);
        /* Echo it, so a failing run still shows the daemon's words. */
        fputs(logged, stderr);
        return logged;
}

static void write_file(const char *name, const char *text)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

static void copy_file(const char *from, const char *name)
{
        char path[256], buf[65536];
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *in = fopen(from, "re"), *out = fopen(path, "we");
        ck_assert_ptr_nonnull(in);
        ck_assert_ptr_nonnull(out);
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
        fclose(in);
        ck_assert_int_eq(fclose(out), 0);
        ck_assert_int_eq(chmod(path, 0755), 0);
}

static char *read_text(const char *name)
{
        static char text[4096];
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = '\0';
        fclose(f);
        return text;
}

/* vssd.conf with a [provider.fake] section, handed to plugins like vssd does. */
static void use_config(const char *provider_fake_keys)
{
        char text[1024];

        snprintf(text, sizeof(text), "[daemon]\nlog_level = info\n[provider.fake]\n%s",
                 provider_fake_keys);
        config = config_free(config);
        ck_assert_int_eq(config_parse(&config, text, "vssd.conf", err, sizeof(err)), 0);
        plugins_set_config(config);
}

/* --- one plugin ---------------------------------------------------------------- */

START_TEST(test_load_fake)
{
        char keys[256];
        Plugin *p = NULL;

        /* The fake provider logs its calls to the file its section names. */
        snprintf(keys, sizeof(keys), "log = %s/calls.log\n", dir);
        use_config(keys);
        ck_assert_msg(plugin_load(&p, fake_so, err, sizeof(err)) == 0, "%s", err);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->path, fake_so);
        ck_assert_str_eq(p->provider->name, "fake");
        ck_assert_uint_eq(p->provider->abi_version, VSS_PROVIDER_ABI_VERSION);
        ck_assert_ptr_nonnull(p->state);
        ck_assert_str_eq(read_text("calls.log"), "init\n");
        /* A loaded provider is usable: it answers through its ops. */
        struct vss_error_buf e = { "" };
        ck_assert_int_eq(p->provider->ops->is_volume_supported(p->state, "/dev/fake/a", &e), 1);
        ck_assert_ptr_null(plugin_free(p));
        /* Unloading finalises it. */
        ck_assert_str_eq(read_text("calls.log"), "init\nis_volume_supported /dev/fake/a\nfini\n");
        ck_assert_ptr_null(plugin_free(NULL));
}
END_TEST

START_TEST(test_wrong_abi_refused)
{
        Plugin *sentinel = (Plugin *)&err, *p = sentinel;
        char want[64];

        capture_begin();
        int r = plugin_load(&p, wrong_abi_so, err, sizeof(err));
        const char *log = capture_end();
        ck_assert_int_eq(r, -VSS_E_ABI_MISMATCH);
        ck_assert_ptr_eq(p, sentinel);
        /* The message names the file and both versions. */
        ck_assert_msg(strstr(err, wrong_abi_so), "got: %s", err);
        snprintf(want, sizeof(want), "ABI %d", VSS_PROVIDER_ABI_VERSION + 1);
        ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
        snprintf(want, sizeof(want), "ABI %d", VSS_PROVIDER_ABI_VERSION);
        ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
        /* Refused before any op: its init would have logged a complaint. */
        ck_assert_msg(!strstr(log, "should have refused"), "init was called: %s", log);
}
END_TEST

START_TEST(test_no_symbol_refused)
{
        Plugin *sentinel = (Plugin *)&err, *p = sentinel;

        ck_assert_int_eq(plugin_load(&p, no_symbol_so, err, sizeof(err)), -ENOEXEC);
        ck_assert_ptr_eq(p, sentinel);
        ck_assert_msg(strstr(err, no_symbol_so) && strstr(err, VSS_PROVIDER_SYMBOL), "got: %s",
                      err);
}
END_TEST

START_TEST(test_missing_file_refused)
{
        Plugin *sentinel = (Plugin *)&err, *p = sentinel;
        char path[256];

        snprintf(path, sizeof(path), "%s/absent.so", dir);
        ck_assert_int_eq(plugin_load(&p, path, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_eq(p, sentinel);
        ck_assert_msg(strstr(err, path), "got: %s", err);
}
END_TEST

START_TEST(test_not_elf_refused)
{
        Plugin *sentinel = (Plugin *)&err, *p = sentinel;
        char path[256];

        write_file("script.so", "#!/bin/sh\necho not a plugin\n");
        snprintf(path, sizeof(path), "%s/script.so", dir);
        ck_assert_int_eq(plugin_load(&p, path, err, sizeof(err)), -ENOEXEC);
        ck_assert_ptr_eq(p, sentinel);
        ck_assert_msg(strstr(err, path), "got: %s", err);
}
END_TEST

START_TEST(test_init_failure_refused)
{
        Plugin *sentinel = (Plugin *)&err, *p = sentinel;
        char keys[512];

        write_file("control", "fail init EBUSY\n");
        snprintf(keys, sizeof(keys), "control = %s/control\nlog = %s/calls.log\n", dir, dir);
        use_config(keys);
        ck_assert_int_eq(plugin_load(&p, fake_so, err, sizeof(err)), -EBUSY);
        ck_assert_ptr_eq(p, sentinel);
        ck_assert_msg(strstr(err, fake_so) && strstr(err, "fake") && strstr(err, strerror(EBUSY)),
                      "got: %s", err);
        /* A provider whose init failed is not finalised: it has no state to finalise. */
        const char *calls = read_text("calls.log");
        ck_assert_msg(!calls || !strstr(calls, "fini"), "fini called: %s", calls);
}
END_TEST

/* --- directories ------------------------------------------------------------------ */

START_TEST(test_load_build_dir)
{
        PluginList list = { 0 };

        capture_begin();
        int r = plugins_load_dir(&list, providers);
        const char *log = capture_end();
        ck_assert_int_eq(r, 0);
        ck_assert_ptr_nonnull(plugins_find(&list, "fake"));
        ck_assert_ptr_null(plugins_find(&list, "wrong-abi"));
        ck_assert_ptr_null(plugins_find(&list, "no-symbol"));
        /* Exactly the fake one (update this when a new good test provider is added). */
        ck_assert_uint_eq(list.n, 1);
        /* Each refusal is logged with the file. */
        ck_assert_msg(strstr(log, wrong_abi_so) && strstr(log, no_symbol_so), "log: %s", log);
        ck_assert_msg(strstr(log, "loaded provider fake"), "log: %s", log);
        plugins_free(&list);
        ck_assert_uint_eq(list.n, 0);
        ck_assert_ptr_null(list.items);
        plugins_free(&list);
}
END_TEST

START_TEST(test_duplicate_provider_refused)
{
        PluginList list = { 0 };

        copy_file(fake_so, "10-fake.so");
        copy_file(fake_so, "20-fake-copy.so");
        copy_file(fake_so, ".hidden.so");
        write_file("junk.so", "not a shared object\n");
        write_file("README", "plugins go here\n");
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/sub.so", dir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);

        capture_begin();
        int r = plugins_load_dir(&list, dir);
        const char *log = capture_end();
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(list.n, 1);
        /* Name order: the first copy wins, the second is the duplicate. */
        ck_assert_ptr_nonnull(strstr(list.items[0]->path, "/10-fake.so"));
        ck_assert_ptr_eq(plugins_find(&list, "fake"), list.items[0]);
        ck_assert_msg(strstr(log, "20-fake-copy.so") && strstr(log, "already loaded"), "log: %s",
                      log);
        ck_assert_msg(strstr(log, "junk.so"), "log: %s", log);
        /* Hidden files and files not named *.so are not even tried. */
        ck_assert_msg(!strstr(log, ".hidden.so") && !strstr(log, "README"), "log: %s", log);
        plugins_free(&list);
}
END_TEST

/* tests/providers/pair: fake.so and fake2.so, the same code under two names. */
static void load_pair(PluginList *list, const char *conf)
{
        char pair[4200];

        config = config_free(config);
        ck_assert_int_eq(config_parse(&config, conf, "vssd.conf", err, sizeof(err)), 0);
        plugins_set_config(config);
        snprintf(pair, sizeof(pair), "%s/pair", providers);
        ck_assert_msg(access(pair, R_OK) == 0, "test plugins missing: run make %s/fake2.so",
                      pair);
        capture_begin();
        int r = plugins_load_dir(list, pair);
        capture_end();
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(list->n, 2);
}

START_TEST(test_priority_order)
{
        PluginList list = { 0 };

        /* Both 100, the descriptor's: ties go by name. */
        load_pair(&list, "[daemon]\nlog_level = info\n");
        ck_assert_str_eq(list.items[0]->provider->name, "fake");
        ck_assert_str_eq(list.items[1]->provider->name, "fake2");
        ck_assert_uint_eq(list.items[0]->priority, 100);
        ck_assert_uint_eq(list.items[1]->priority, 100);
        ck_assert_msg(strstr(logged, "loaded provider fake2 1.0 (priority 100)"), "log: %s",
                      logged);
        plugins_free(&list);

        /* vssd.conf's priority wins over the plugin's: the highest comes first. */
        load_pair(&list, "[provider.fake2]\npriority = 101\n");
        ck_assert_str_eq(list.items[0]->provider->name, "fake2");
        ck_assert_uint_eq(list.items[0]->priority, 101);
        ck_assert_uint_eq(list.items[1]->priority, 100);
        plugins_free(&list);

        load_pair(&list, "[provider.fake]\npriority = 0\n[provider.fake2]\npriority = 0\n");
        ck_assert_str_eq(list.items[0]->provider->name, "fake");
        ck_assert_uint_eq(list.items[0]->priority, 0);
        plugins_free(&list);
}
END_TEST

START_TEST(test_missing_dir)
{
        PluginList list = { 0 };
        char path[128];

        snprintf(path, sizeof(path), "%s/none", dir);
        capture_begin();
        int r = plugins_load_dir(&list, path);
        const char *log = capture_end();
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_uint_eq(list.n, 0);
        ck_assert_msg(strstr(log, path), "log: %s", log);
}
END_TEST

START_TEST(test_empty_dir_warns)
{
        PluginList list = { 0 };

        capture_begin();
        int r = plugins_load_dir(&list, dir);
        const char *log = capture_end();
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(list.n, 0);
        /* Snapshots cannot work: the administrator is told where nothing was found. */
        ck_assert_msg(strstr(log, "no provider plugin loaded") && strstr(log, dir), "log: %s", log);
}
END_TEST

static Suite *plugins_suite(void)
{
        Suite *s = suite_create("plugins");
        TCase *tc = tcase_create("load");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_load_fake);
        tcase_add_test(tc, test_wrong_abi_refused);
        tcase_add_test(tc, test_no_symbol_refused);
        tcase_add_test(tc, test_missing_file_refused);
        tcase_add_test(tc, test_not_elf_refused);
        tcase_add_test(tc, test_init_failure_refused);
        suite_add_tcase(s, tc);

        tc = tcase_create("directory");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_load_build_dir);
        tcase_add_test(tc, test_duplicate_provider_refused);
        tcase_add_test(tc, test_priority_order);
        tcase_add_test(tc, test_missing_dir);
        tcase_add_test(tc, test_empty_dir_warns);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(plugins_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
