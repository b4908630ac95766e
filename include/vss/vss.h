/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vss.h: types and error codes shared by every part of linux-vss: the daemon,
 * libvss, vssctl and provider plugins.
 *
 * Error convention: functions return 0 on success and a negative value on
 * failure. A failure is either -errno (a system error) or -VSS_E_* (an
 * outcome specific to snapshot coordination). The VSS_E_* values start above
 * any errno value, so one int carries both without ambiguity.
 */
#ifndef VSS_VSS_H
#define VSS_VSS_H

#ifdef __cplusplus
extern "C" {
#endif

#define VSS_BUS_NAME "org.linuxvss.Vss1"
#define VSS_ROOT_PATH "/org/linuxvss/Vss1"
#define VSS_ERROR_PREFIX "org.linuxvss.Vss1.Error."

/* Interfaces; each object kind has one. */
#define VSS_IFACE_COORDINATOR "org.linuxvss.Vss1"
#define VSS_IFACE_PROVIDER "org.linuxvss.Vss1.Provider"
#define VSS_IFACE_BACKUP "org.linuxvss.Vss1.Backup"
#define VSS_IFACE_SNAPSHOT_SET "org.linuxvss.Vss1.SnapshotSet"
#define VSS_IFACE_SNAPSHOT "org.linuxvss.Vss1.Snapshot"
#define VSS_IFACE_WRITER "org.linuxvss.Vss1.Writer"

/* Marks what libvss exports; lib/libvss.sym lists the same names. */
#define VSS_EXPORT __attribute__((visibility("default")))

/* Hard limits, as VSS has them. */
#define VSS_MAX_VOLUMES_PER_SET 64

/*
 * Outcomes specific to linux-vss. Used negated, like errno values. Each maps
 * to exactly one D-Bus error name (see vss_error_to_name()).
 */
enum vss_error {
        VSS_E_BASE = 0x1000,
        VSS_E_SET_IN_PROGRESS,      /* SnapshotSetInProgress */
        VSS_E_BAD_STATE,            /* BadState */
        VSS_E_VOLUME_NOT_SUPPORTED, /* VolumeNotSupported */
        VSS_E_MAX_VOLUMES,          /* MaximumVolumesReached */
        VSS_E_VOLUME_IN_SET,        /* VolumeAlreadyInSet */
        VSS_E_WRITER_FAILED,        /* WriterFailed */
        VSS_E_PROVIDER_FAILED,      /* ProviderFailed */
        VSS_E_INCONSISTENT,         /* InconsistentSnapshot */
        VSS_E_HOLD_TIMEOUT,         /* HoldTimeout */
        VSS_E_STALE_COOKIE,         /* StaleCookie */
        VSS_E_ABI_MISMATCH,         /* ProviderAbiMismatch */
        VSS_E_ABORTED,              /* Aborted */
        VSS_E_MAX
};

/* VSS_WS_*: a writer's state, as IVssBackupComponents::GetWriterStatus reports. */
enum vss_writer_state {
        VSS_WS_UNKNOWN = 0,
        VSS_WS_STABLE = 1,
        VSS_WS_WAITING_FOR_FREEZE = 2,
        VSS_WS_WAITING_FOR_THAW = 3,
        VSS_WS_WAITING_FOR_POST_SNAPSHOT = 4,
        VSS_WS_WAITING_FOR_BACKUP_COMPLETE = 5,
        VSS_WS_FAILED_AT_IDENTIFY = 6,
        VSS_WS_FAILED_AT_PREPARE_BACKUP = 7,
        VSS_WS_FAILED_AT_PREPARE_SNAPSHOT = 8,
        VSS_WS_FAILED_AT_FREEZE = 9,
        VSS_WS_FAILED_AT_THAW = 10,
        VSS_WS_FAILED_AT_POST_SNAPSHOT = 11,
        VSS_WS_FAILED_AT_BACKUP_COMPLETE = 12,
        VSS_WS_FAILED_AT_PRE_RESTORE = 13,
        VSS_WS_FAILED_AT_POST_RESTORE = 14,
        VSS_WS_FAILED_AT_BACKUPSHUTDOWN = 15,
};

/* VSS_E_WRITERERROR_*: why a writer failed, as the writer itself reports it. */
enum vss_writer_failure {
        VSS_WF_NONE = 0,
        VSS_WF_INCONSISTENT_SNAPSHOT = 1,
        VSS_WF_OUT_OF_RESOURCES = 2,
        VSS_WF_TIMEOUT = 3,
        VSS_WF_RETRYABLE = 4,
        VSS_WF_NONRETRYABLE = 5,
};

/* Writer levels: front-end freezes first, system last (VSS_AWS_* ordering). */
enum vss_writer_level {
        VSS_LEVEL_FRONT_END = 0,
        VSS_LEVEL_BACK_END = 1,
        VSS_LEVEL_SYSTEM = 2,
};

/*
 * Short machine name of a linux-vss error code ("SnapshotSetInProgress",
 * "InvalidArgs", ...), or NULL for 0. Any negative errno maps to a name; an
 * unknown code maps to "Failed".
 */
VSS_EXPORT const char *vss_error_to_name(int error);

/* Inverse of vss_error_to_name(): the code for a short or full D-Bus error name. */
VSS_EXPORT int vss_error_from_name(const char *name);

/* Human text for a code: strerror() for errno values, a sentence for VSS_E_*. */
VSS_EXPORT const char *vss_strerror(int error);

/* Names of enum values, for logs, properties and vssctl; never NULL. */
VSS_EXPORT const char *vss_writer_state_to_string(enum vss_writer_state state);
VSS_EXPORT const char *vss_writer_failure_to_string(enum vss_writer_failure failure);
VSS_EXPORT const char *vss_writer_level_to_string(enum vss_writer_level level);
VSS_EXPORT int vss_writer_level_from_string(const char *s);

#ifdef __cplusplus
}
#endif

#endif
