/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hold-session.c: keep a requester session open on vssd for check-docs, which
 * introspects it. A session lives as long as its owner's connection, so this
 * starts one (StartBackup), writes its object path to the file named by
 * argv[1] (a FIFO the script reads: an event, not a delay), and waits for
 * SIGTERM. The script compiles it against build/libvss.so.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <vss/requester.h>

int main(int argc, char *argv[])
{
        vss_client *client = NULL;
        vss_backup *backup = NULL;
        sigset_t mask;
        int sig;

        if (argc != 2) {
                fprintf(stderr, "usage: hold-session READY-FILE\n");
                return 2;
        }
        /* Block SIGTERM first, so that it ends sigwait() and not the process. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int r = vss_client_new(&client, NULL);
        if (r >= 0)
                r = vss_client_start_backup(client, NULL, NULL, &backup);
        if (r < 0) {
                fprintf(stderr, "hold-session: %s\n",
                        client ? vss_client_get_error_message(client) : vss_strerror(r));
                vss_client_unref(client);
                return 1;
        }
        FILE *f = fopen(argv[1], "w");
        if (!f || fprintf(f, "%s\n", vss_backup_get_object_path(backup)) < 0 || fclose(f) != 0) {
                perror(argv[1]);
                return 1;
        }
        sigwait(&mask, &sig);
        vss_backup_unref(backup);
        vss_client_unref(client);
        return 0;
}
