/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container data on the bus (issue 17): Clone, Rename, CreateSnapshot,
 * ListSnapshots, RestoreSnapshot, DeleteSnapshot, Export, PullFiles and
 * PushFiles on org.warren1.Container (a second fallback vtable at the
 * container prefix, merged by sd-bus into the interface), and their
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

/* Registers both vtables (warrend.c calls it once). */
int data_dbus_register(Daemon *d);

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
