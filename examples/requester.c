/*
 * requester.c: a backup requester on libvss, the example of libvss(3).
 * It snapshots the volumes named on its command line in one set, with the
 * whole VSS lifecycle (writers prepare, freeze and thaw), prints each
 * snapshot's device, which a real program would copy now, then tells the
 * writers the backup is complete. The snapshots go when the session ends.
 *
 *   cc requester.c -o requester $(pkg-config --cflags --libs libvss)
 *   ./requester /dev/mapper/data /dev/mapper/logs
 */
#include <stdio.h>
#include <stdlib.h>
#include <vss/requester.h>

static int fail(vss_client *client, const char *what, int r)
{
        const char *why = vss_client_get_error_message(client);

        fprintf(stderr, "requester: %s: %s\n", what, why ? why : vss_strerror(r));
        return r;
}

static void warn(const char *step, char *warnings)
{
        if (warnings && *warnings)
                fprintf(stderr, "requester: %s: %s\n", step, warnings);
        free(warnings);
}

/* Every step of a backup; on failure the caller aborts the set. */
static int snapshot(vss_client *client, vss_backup *backup, char **volumes, int n)
{
        vss_snapshot_info **snapshots;
        char *set_id, *warnings;
        int r;

        if ((r = vss_backup_gather_writer_metadata(backup)) < 0)
                return fail(client, "cannot gather writer metadata", r);
        if ((r = vss_backup_start_snapshot_set(backup, &set_id)) < 0)
                return fail(client, "cannot start a snapshot set", r);
        free(set_id); /* vss_backup_get_snapshot_set_id() keeps it too */
        for (int i = 0; i < n; i++)
                if ((r = vss_backup_add_to_snapshot_set(backup, volumes[i], NULL, NULL)) < 0)
                        return fail(client, volumes[i], r);
        if ((r = vss_backup_prepare_for_backup(backup, &warnings)) < 0)
                return fail(client, "cannot prepare the backup", r);
        warn("prepare", warnings);
        if ((r = vss_backup_do_snapshot_set(backup, &warnings)) < 0)
                return fail(client, "cannot make the snapshots", r);
        warn("snapshot", warnings);

        const char *id = vss_backup_get_snapshot_set_id(backup);
        if ((r = vss_client_list_snapshots(client, id, &snapshots, NULL)) < 0)
                return fail(client, "cannot list the snapshots", r);
        printf("snapshot set %s\n", id);
        for (vss_snapshot_info **s = snapshots; *s; s++)
                printf("%s: snapshot %s on %s\n", (*s)->origin, (*s)->id, (*s)->device);
        vss_snapshot_info_list_free(snapshots);
        /* ... copy the data from each snapshot device here ... */

        if ((r = vss_backup_backup_complete(backup, &warnings)) < 0)
                return fail(client, "cannot complete the backup", r);
        warn("backup complete", warnings);
        return 0;
}

int main(int argc, char *argv[])
{
        vss_client *client;
        vss_backup *backup;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: requester VOLUME...\n");
                return 2;
        }
        if ((r = vss_client_new(&client, NULL)) < 0) {
                fprintf(stderr, "requester: %s\n", vss_strerror(r));
                return 1;
        }
        r = vss_client_start_backup(client, "backup", NULL, &backup);
        if (r < 0) {
                fail(client, "cannot start a backup session", r);
                vss_client_unref(client);
                return 1;
        }
        r = snapshot(client, backup, argv + 1, argc - 1);
        if (r < 0) /* writers thaw, nothing is left (vssd may have aborted already) */
                (void)vss_backup_abort(backup);
        /* The context is auto-release: ending the session deletes the snapshots. */
        int q = vss_backup_release(backup);
        if (q < 0 && r == 0)
                r = fail(client, "cannot release the snapshots", q);
        vss_backup_unref(backup);
        vss_client_unref(client);
        return r < 0 ? 1 : 0;
}
