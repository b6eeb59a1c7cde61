/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container data on the bus (issue 17): Clone, Rename, CreateSnapshot,
 * ListSnapshots, RestoreSnapshot, DeleteSnapshot, Export, PullFiles and
 * PushFiles on org.warren1.Container (entries of container-dbus.c's one
 * vtable, DATA_CONTAINER_METHODS: sd-bus asserts when PropertiesChanged
 * meets two vtables of one interface on a path), and their
 * name-based shortcuts on org.warren1.Manager (CloneContainer,
 * RenameContainer, ...). data-dbus.c: requests, authorization, clone,
 * rename and snapshots; data-files-dbus.c: Export and the file transfers.
 *
 * Every method: read args -> validate (garbage never reaches polkit) ->
 * authorize (manage-own/manage; shell-own/shell for the file transfers)
 * -> validate again (the world may have changed) -> one lib call or one
 * data job (data-work.h) -> reply. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* Registers the Manager shortcuts' vtable (warrend.c calls it once). */
int data_dbus_register(Daemon *d);
/* Every data method of both interfaces. */
int method_data(sd_bus_message *m, void *userdata, sd_bus_error *error);

#define DATA_CONTAINER_METHODS                                                                             \
        SD_BUS_METHOD_WITH_ARGS("Clone", SD_BUS_ARGS("s", new_name, "a{sv}", options),                     \
                                SD_BUS_RESULT("o", container, "o", job), method_data,                      \
                                SD_BUS_VTABLE_UNPRIVILEGED),                                               \
                SD_BUS_METHOD_WITH_ARGS("Rename", SD_BUS_ARGS("s", new_name), SD_BUS_NO_RESULT,            \
                                        method_data, SD_BUS_VTABLE_UNPRIVILEGED),                          \
                SD_BUS_METHOD_WITH_ARGS("CreateSnapshot", SD_BUS_ARGS("s", comment),                       \
                                        SD_BUS_RESULT("s", name, "o", job), method_data,                   \
                                        SD_BUS_VTABLE_UNPRIVILEGED),                                       \
                SD_BUS_METHOD_WITH_ARGS(                                                                   \
                        "CreateSnapshotWithOptions", SD_BUS_ARGS("s", comment, "a{sv}", options),          \
                        SD_BUS_RESULT("s", name, "o", job), method_data, SD_BUS_VTABLE_UNPRIVILEGED),      \
                SD_BUS_METHOD_WITH_ARGS("ListSnapshots", SD_BUS_NO_ARGS,                                   \
                                        SD_BUS_RESULT("a(sst)", snapshots), method_data,                   \
                                        SD_BUS_VTABLE_UNPRIVILEGED),                                       \
                SD_BUS_METHOD_WITH_ARGS("RestoreSnapshot", SD_BUS_ARGS("s", name, "s", new_name),          \
                                        SD_BUS_NO_RESULT, method_data, SD_BUS_VTABLE_UNPRIVILEGED),        \
                SD_BUS_METHOD_WITH_ARGS("DeleteSnapshot", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,        \
                                        method_data, SD_BUS_VTABLE_UNPRIVILEGED),                          \
                SD_BUS_METHOD_WITH_ARGS("Export", SD_BUS_ARGS("a{sh}", outputs, "a{sv}", options),         \
                                        SD_BUS_RESULT("o", job), method_data, SD_BUS_VTABLE_UNPRIVILEGED), \
                SD_BUS_METHOD_WITH_ARGS("PullFiles",                                                       \
                                        SD_BUS_ARGS("as", paths, "h", out_fd, "a{sv}", options),           \
                                        SD_BUS_RESULT("o", job), method_data, SD_BUS_VTABLE_UNPRIVILEGED), \
                SD_BUS_METHOD_WITH_ARGS("PushFiles",                                                       \
                                        SD_BUS_ARGS("h", in_fd, "s", dest_dir, "a{sv}", options),          \
                                        SD_BUS_RESULT("o", job), method_data, SD_BUS_VTABLE_UNPRIVILEGED)

typedef enum DataMethod {
        DATA_CLONE,
        DATA_RENAME,
        DATA_SNAPSHOT,
        DATA_LIST_SNAPSHOTS,
        DATA_RESTORE,
        DATA_DELETE_SNAPSHOT,
        DATA_EXPORT,
        DATA_PULL,
        DATA_PUSH,
} DataMethod;

/* One request, read from the message (strings and fds borrowed from it). */
typedef struct DataRequest {
        DataMethod method;
        char *name; /* the container */
        uid_t owner, caller;
        const char *new_name;               /* Clone, Rename, RestoreSnapshot ("" in place) */
        const char *snapshot;               /* RestoreSnapshot, DeleteSnapshot */
        const char *comment;                /* CreateSnapshot */
        char **paths;                       /* PullFiles */
        const char *dest_dir;               /* PushFiles */
        int fd;                             /* PullFiles out, PushFiles in */
        int rootfs_fd, meta_fd, unified_fd; /* Export outputs, -EBADF if absent */
        /* options */
        int opt_snapshot, opt_keep_mac, opt_freeze, opt_recursive;
        const char *opt_compression;
} DataRequest;

void data_request_done(DataRequest *q);

/* In data-files-dbus.c: checks before polkit, and the work after it. */
int data_files_validate(Daemon *d, DataRequest *q, sd_bus_error *error);
int data_files_start(Daemon *d, sd_bus_message *m, DataRequest *q, sd_bus_error *error);
