/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Snapshots of a container, where lxc-snapshot keeps them: the container's
 * directory holds snaps/snapN/ with rootfs/, config (the container's config
 * when it was taken), ts ("YYYY:MM:DD HH:MM:SS", UTC) and, if one was
 * given, comment. Being inside the container's directory, they go with it
 * (rename) and with it (destroy).
 *
 * A snapshot is built in snaps/.#new.snapN (locked while in use) and
 * renamed into place complete; the name is reserved from the start, so two
 * snapshots taken at once get different names. Names: snapN with N one
 * more than the highest in use (deleting the last one frees its number). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

typedef struct Store Store;
typedef struct DataReport DataReport;

#define SNAPSHOTS_DIR "snaps"
#define SNAPSHOTS_MAX 64U
#define SNAPSHOT_COMMENT_MAX 4096U

typedef struct SnapshotInfo {
        char *name;
        char *comment; /* "" if none */
        uint64_t created_usec;
} SnapshotInfo;

void snapshot_info_free_many(SnapshotInfo *l, size_t n);

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,63}: -EINVAL naming it. */
int snapshot_name_validate(const char *name, WarrenError *reterr);
/* At most SNAPSHOT_COMMENT_MAX bytes: -EINVAL. */
int snapshot_comment_validate(const char *comment, WarrenError *reterr);

/* The container's snapshots, snapN by N, others by name after them. */
int snapshot_list(Store *s, const char *container, SnapshotInfo **ret, size_t *ret_n, WarrenError *reterr);

typedef struct SnapshotCreate SnapshotCreate;
/* Reserves the next name; the temporary directory gets config (copied from
 * the container's), ts and comment; the caller fills "rootfs" through
 * snapshot_create_dirfd(). -EDQUOT beyond SNAPSHOTS_MAX. Stale temporary
 * directories of interrupted snapshots are removed first. */
int snapshot_create_begin(Store *s, const char *container, const char *comment, uint64_t now_usec,
                          SnapshotCreate **ret, WarrenError *reterr);
const char *snapshot_create_name(const SnapshotCreate *c);
int snapshot_create_dirfd(const SnapshotCreate *c);
int snapshot_create_commit(SnapshotCreate *c, WarrenError *reterr);
/* Removes the temporary directory unless committed; frees. NULL is fine. */
SnapshotCreate *snapshot_create_abort(SnapshotCreate *c);

/* An fd (O_DIRECTORY) of the snapshot's directory: -ENOENT naming it. */
int snapshot_open(Store *s, const char *container, const char *name, int *ret_fd, WarrenError *reterr);
/* Renames it away, then removes it. -ENOENT naming it. */
int snapshot_delete(Store *s, const char *container, const char *name, WarrenError *reterr);

/* Restoring in place, in a data worker: fds[0] is the snapshot's rootfs,
 * fds[1] the container's directory. The copy goes to tmp_name there; then,
 * if the container's monitor (under runtime_dir) is still not running,
 * rootfs is swapped for it and config written (both undone if the config
 * cannot be written), and the old rootfs removed. */
typedef struct RestoreWork {
        int fds[2];
        const char *tmp_name;
        const char *config;
        const char *runtime_dir, *container;
        bool cow;
} RestoreWork;

int restore_work_run(DataReport *rep, void *userdata, WarrenError *reterr);
/* After a worker that died: whatever restore_work_run() left in the
 * container's directory is undone (or finished). */
void restore_work_cleanup(int container_dirfd, const char *tmp_name);
