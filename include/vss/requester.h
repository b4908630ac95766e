/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * requester.h: the libvss requester API, for programs that ask vssd for
 * snapshots (backup tools, vssctl, scripts). Writers use writer.h; both share
 * vss_client and the conventions below.
 *
 * Objects are opaque and reference counted: *_ref() returns its argument,
 * *_unref() returns NULL and accepts NULL. Functions return 0 on success or a
 * negative code on failure: -errno, or -VSS_E_* (see vss.h); vss_strerror()
 * turns either into text. Output parameters (ret_*) are written only on
 * success. The library never aborts on lack of memory (-ENOMEM instead).
 *
 * Codes every call that talks to vssd may return, besides the daemon's own:
 *   -ENOTCONN      the bus could not be reached (or the connection dropped)
 *   -ECONNREFUSED  vssd is not running on that bus
 *   -ETIMEDOUT     vssd did not answer within the client's timeout
 *   -EBADMSG       vssd answered with something this library does not understand
 *   -EINVAL        an argument is not valid (e.g. a string that is not UTF-8)
 * After any failure vss_client_get_error_message() holds a sentence saying
 * what failed and, when vssd sent it, vssd's own explanation: print it as is.
 *
 * A vss_client is not thread-safe: use it from one thread at a time.
 */
#ifndef VSS_REQUESTER_H
#define VSS_REQUESTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vss/vss.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to vssd. */
typedef struct vss_client vss_client;

/* One provider plugin loaded by vssd, as listed by vss_client_list_providers(). */
typedef struct vss_provider_info vss_provider_info;

/* Default time to wait for each reply from vssd. */
#define VSS_CLIENT_DEFAULT_TIMEOUT_MS 30000u

/*
 * Create a client for vssd on the bus at ADDRESS (a D-Bus address such as
 * "unix:path=/run/dbus/system_bus_socket"); NULL means $VSS_BUS_ADDRESS if
 * set, else the system bus ($DBUS_SYSTEM_BUS_ADDRESS or its default).
 *
 * Nothing is sent yet: the private connection is opened by the first call
 * that needs it, so a bus that cannot be reached is reported by that call,
 * with a message, like any other failure. Returns -EINVAL for an address that
 * is not a D-Bus address, -ENOMEM.
 */
int vss_client_new(vss_client **ret, const char *address);
vss_client *vss_client_ref(vss_client *client);
/* Dropping the last reference closes the connection. */
vss_client *vss_client_unref(vss_client *client);

/* How long each call waits for vssd; 0 restores the default. -EINVAL above INT_MAX. */
int vss_client_set_timeout(vss_client *client, uint64_t timeout_ms);
uint64_t vss_client_get_timeout(const vss_client *client);

/* The bus address the client uses (after the defaults above were applied). */
const char *vss_client_get_address(const vss_client *client);

/*
 * The last failure on CLIENT: a sentence ("what failed, on what, what to do")
 * and, when vssd or the bus sent an error, its D-Bus error name. NULL when
 * the last call succeeded. Valid until the next call on CLIENT.
 */
const char *vss_client_get_error_message(const vss_client *client);
const char *vss_client_get_error_name(const vss_client *client);

/*
 * The coordinator's properties. The library allocates it and only ever
 * appends fields, so programs built against an older header keep working.
 * Strings are never NULL.
 */
typedef struct vss_status {
        char *version;                /* vssd version */
        uint32_t provider_abi_version; /* plugin ABI the daemon loads */
        uint32_t max_volumes_per_set;
        uint32_t freeze_timeout_ms;   /* default per-writer freeze timeout */
        uint32_t hold_timeout_ms;     /* bound of the hold window */
        char *provider_directory;     /* where plugins are loaded from */
} vss_status;

int vss_client_get_status(vss_client *client, vss_status **ret_status);
vss_status *vss_status_free(vss_status *status);

/*
 * The providers vssd has loaded, sorted by name, as a NULL-terminated array
 * of references; RET_N (may be NULL) gets their number. Free the array with
 * vss_provider_info_list_free(), or keep single entries with
 * vss_provider_info_ref() first.
 */
int vss_client_list_providers(vss_client *client, vss_provider_info ***ret_providers,
                              size_t *ret_n);
vss_provider_info **vss_provider_info_list_free(vss_provider_info **providers);

vss_provider_info *vss_provider_info_ref(vss_provider_info *provider);
vss_provider_info *vss_provider_info_unref(vss_provider_info *provider);
/* Properties of org.linuxvss.Vss1.Provider; strings are never NULL. */
const char *vss_provider_info_get_name(const vss_provider_info *provider);
const char *vss_provider_info_get_id(const vss_provider_info *provider);
const char *vss_provider_info_get_version(const vss_provider_info *provider);
const char *vss_provider_info_get_description(const vss_provider_info *provider);
uint32_t vss_provider_info_get_abi_version(const vss_provider_info *provider);
const char *vss_provider_info_get_path(const vss_provider_info *provider);
/* The provider's D-Bus object path, e.g. /org/linuxvss/Vss1/provider/dm_2dsnapshot. */
const char *vss_provider_info_get_object_path(const vss_provider_info *provider);

/*
 * Ask provider PROVIDER_NAME whether it can snapshot VOLUME (a device path).
 * *RET_SUPPORTED is set; *RET_REASON (may be NULL) gets a malloc'd sentence
 * saying why not, "" when supported. -ENOENT when no such provider is loaded.
 */
int vss_client_is_volume_supported(vss_client *client, const char *provider_name,
                                   const char *volume, bool *ret_supported, char **ret_reason);

#ifdef __cplusplus
}
#endif

#endif
