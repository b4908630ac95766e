/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * error.c: the one map between linux-vss error codes (negative errno or
 * -VSS_E_*) and D-Bus error names (org.linuxvss.Vss1.Error.<Name>), plus the
 * enum-to-string tables. Daemon and library both link it, so a code sent by
 * vssd comes back as the same code in a client.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <vss/vss.h>

struct error_entry {
        int code; /* positive errno or VSS_E_* */
        const char *name;
        const char *text; /* for VSS_E_*; errno values use strerror() */
};

static const struct error_entry error_table[] = {
        { EINVAL, "InvalidArgs", NULL },
        { ENOENT, "NotFound", NULL },
        { ENODEV, "NoSuchVolume", NULL },
        { EEXIST, "AlreadyExists", NULL },
        /* EACCES first: AccessDenied maps back to it, as the bus's own AccessDenied does. */
        { EACCES, "AccessDenied", NULL },
        { EPERM, "AccessDenied", NULL },
        { EBUSY, "Busy", NULL },
        { ETIMEDOUT, "Timeout", NULL },
        { EOPNOTSUPP, "NotSupported", NULL },
        { ENOMEM, "NoMemory", NULL },
        { ENOSPC, "NoSpace", NULL },
        { ENOEXEC, "BadPlugin", NULL },
        { ECANCELED, "Cancelled", NULL },
        { EIO, "IOError", NULL },
        { VSS_E_SET_IN_PROGRESS, "SnapshotSetInProgress",
          "another snapshot set is being created" },
        { VSS_E_BAD_STATE, "BadState", "the call is not valid in the current state" },
        { VSS_E_VOLUME_NOT_SUPPORTED, "VolumeNotSupported",
          "no provider can snapshot this volume" },
        { VSS_E_MAX_VOLUMES, "MaximumVolumesReached",
          "a snapshot set holds at most 64 volumes" },
        { VSS_E_VOLUME_IN_SET, "VolumeAlreadyInSet", "the volume is already in the set" },
        { VSS_E_WRITER_FAILED, "WriterFailed", "a writer failed or vetoed the event" },
        { VSS_E_PROVIDER_FAILED, "ProviderFailed", "the snapshot provider failed" },
        { VSS_E_INCONSISTENT, "InconsistentSnapshot",
          "a selected component has files on a volume outside the set" },
        { VSS_E_HOLD_TIMEOUT, "HoldTimeout",
          "the volumes stayed suspended past the hold-window bound" },
        { VSS_E_STALE_COOKIE, "StaleCookie",
          "the event cookie does not match the writer's pending event" },
        { VSS_E_ABI_MISMATCH, "ProviderAbiMismatch",
          "the provider plugin was built for another ABI version" },
        { VSS_E_ABORTED, "Aborted", "the backup was aborted" },
};

static const struct error_entry *error_lookup(int code)
{
        for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
                if (error_table[i].code == code)
                        return &error_table[i];
        return NULL;
}

const char *vss_error_to_name(int error)
{
        if (error == 0)
                return NULL;
        const struct error_entry *e = error_lookup(error < 0 ? -error : error);
        return e ? e->name : "Failed";
}

/*
 * Errors the bus (or libdbus) sends rather than vssd, so that clients see a
 * code they know. A trailing '.' matches every name under that prefix.
 */
static const struct {
        const char *name;
        int code; /* negative */
} foreign_errors[] = {
        { "org.freedesktop.DBus.Error.AccessDenied", -EACCES },
        { "org.freedesktop.DBus.Error.NoReply", -ETIMEDOUT },
        { "org.freedesktop.DBus.Error.Timeout", -ETIMEDOUT },
        { "org.freedesktop.DBus.Error.ServiceUnknown", -ECONNREFUSED },
        { "org.freedesktop.DBus.Error.NameHasNoOwner", -ECONNREFUSED },
        { "org.freedesktop.DBus.Error.Spawn.", -ECONNREFUSED },
        { "org.freedesktop.DBus.Error.Disconnected", -ENOTCONN },
        { "org.freedesktop.DBus.Error.InvalidArgs", -EINVAL },
        { "org.freedesktop.DBus.Error.UnknownObject", -ENOENT },
        { "org.freedesktop.DBus.Error.UnknownProperty", -ENOENT },
        { "org.freedesktop.DBus.Error.PropertyReadOnly", -EROFS },
        { "org.freedesktop.DBus.Error.UnknownMethod", -EOPNOTSUPP },
        { "org.freedesktop.DBus.Error.UnknownInterface", -EOPNOTSUPP },
        { "org.freedesktop.DBus.Error.NoMemory", -ENOMEM },
};

static bool foreign_name_matches(const char *pattern, const char *name)
{
        size_t len = strlen(pattern);

        if (pattern[len - 1] == '.')
                return strncmp(name, pattern, len) == 0;
        return strcmp(name, pattern) == 0;
}

int vss_error_from_name(const char *name)
{
        if (!name)
                return -EIO;
        for (size_t i = 0; i < sizeof(foreign_errors) / sizeof(foreign_errors[0]); i++)
                if (foreign_name_matches(foreign_errors[i].name, name))
                        return foreign_errors[i].code;
        size_t plen = strlen(VSS_ERROR_PREFIX);
        if (strncmp(name, VSS_ERROR_PREFIX, plen) == 0)
                name += plen;
        for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
                if (strcmp(error_table[i].name, name) == 0)
                        return -error_table[i].code;
        return -EIO;
}

const char *vss_strerror(int error)
{
        int code = error < 0 ? -error : error;
        if (code > VSS_E_BASE) {
                const struct error_entry *e = error_lookup(code);
                return e && e->text ? e->text : "unknown linux-vss error";
        }
        return strerror(code);
}

#define ENUM_NAME(table, value, fallback)                                                   \
        ((unsigned)(value) < sizeof(table) / sizeof(table[0]) && (table)[(value)]           \
                 ? (table)[(value)]                                                          \
                 : (fallback))

static const char *const writer_state_names[] = {
        [VSS_WS_UNKNOWN] = "UNKNOWN",
        [VSS_WS_STABLE] = "STABLE",
        [VSS_WS_WAITING_FOR_FREEZE] = "WAITING_FOR_FREEZE",
        [VSS_WS_WAITING_FOR_THAW] = "WAITING_FOR_THAW",
        [VSS_WS_WAITING_FOR_POST_SNAPSHOT] = "WAITING_FOR_POST_SNAPSHOT",
        [VSS_WS_WAITING_FOR_BACKUP_COMPLETE] = "WAITING_FOR_BACKUP_COMPLETE",
        [VSS_WS_FAILED_AT_IDENTIFY] = "FAILED_AT_IDENTIFY",
        [VSS_WS_FAILED_AT_PREPARE_BACKUP] = "FAILED_AT_PREPARE_BACKUP",
        [VSS_WS_FAILED_AT_PREPARE_SNAPSHOT] = "FAILED_AT_PREPARE_SNAPSHOT",
        [VSS_WS_FAILED_AT_FREEZE] = "FAILED_AT_FREEZE",
        [VSS_WS_FAILED_AT_THAW] = "FAILED_AT_THAW",
        [VSS_WS_FAILED_AT_POST_SNAPSHOT] = "FAILED_AT_POST_SNAPSHOT",
        [VSS_WS_FAILED_AT_BACKUP_COMPLETE] = "FAILED_AT_BACKUP_COMPLETE",
        [VSS_WS_FAILED_AT_PRE_RESTORE] = "FAILED_AT_PRE_RESTORE",
        [VSS_WS_FAILED_AT_POST_RESTORE] = "FAILED_AT_POST_RESTORE",
        [VSS_WS_FAILED_AT_BACKUPSHUTDOWN] = "FAILED_AT_BACKUPSHUTDOWN",
};

static const char *const writer_failure_names[] = {
        [VSS_WF_NONE] = "NONE",
        [VSS_WF_INCONSISTENT_SNAPSHOT] = "INCONSISTENTSNAPSHOT",
        [VSS_WF_OUT_OF_RESOURCES] = "OUTOFRESOURCES",
        [VSS_WF_TIMEOUT] = "TIMEOUT",
        [VSS_WF_RETRYABLE] = "RETRYABLE",
        [VSS_WF_NONRETRYABLE] = "NONRETRYABLE",
};

static const char *const writer_level_names[] = {
        [VSS_LEVEL_FRONT_END] = "front-end",
        [VSS_LEVEL_BACK_END] = "back-end",
        [VSS_LEVEL_SYSTEM] = "system",
};

const char *vss_writer_state_to_string(enum vss_writer_state state)
{
        return ENUM_NAME(writer_state_names, state, "UNKNOWN");
}

const char *vss_writer_failure_to_string(enum vss_writer_failure failure)
{
        return ENUM_NAME(writer_failure_names, failure, "NONRETRYABLE");
}

const char *vss_writer_level_to_string(enum vss_writer_level level)
{
        return ENUM_NAME(writer_level_names, level, "system");
}

int vss_writer_level_from_string(const char *s)
{
        for (size_t i = 0; s && i < sizeof(writer_level_names) / sizeof(writer_level_names[0]); i++)
                if (strcmp(writer_level_names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}
