/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What copying or renaming a container changes besides its rootfs, like
 * lxc-copy: the config names the new directory and name (and gets new MAC
 * addresses unless they are kept), /etc/hostname and /etc/hosts inside the
 * rootfs name the new container. And the work of a clone (and of restoring
 * a snapshot as a new container) as run by a data worker (warren-worker). */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct DataReport DataReport;
typedef struct Store Store;

typedef struct CloneNames {
        const char *old_name, *new_name;
        const char *old_dir, *new_dir; /* the containers' directories, absolute */
} CloneNames;

/* The new config: in every value, old_dir as a path (at the start, after
 * "dir:", ':' or a blank, followed by '/', ':', a blank or the end) becomes
 * new_dir; lxc.uts.name becomes new_name if it was old_name; with new_macs,
 * each lxc.net.N.hwaddr keeps its first three octets and gets three random
 * ones. Only "dir" rootfs paths are supported: -EOPNOTSUPP naming another. */
int clone_config(const LxcConfig *c, const CloneNames *n, bool new_macs, LxcConfig **ret,
                 WarrenError *reterr);

/* text with every old_dir path replaced as clone_config() does; NULL on ENOMEM. */
char *clone_replace_paths(const char *text, const char *old_dir, const char *new_dir);

/* text (size bytes) with old as a word (not next to [A-Za-z0-9_-]) replaced
 * by new; NULL on ENOMEM. */
char *text_replace_word(const char *text, size_t size, const char *old, const char *new);

/* In etc/hostname and etc/hosts of the rootfs (opened with RESOLVE_IN_ROOT,
 * so symlinks stay inside; missing or non-regular files are skipped, as
 * lxc-copy does), old_name as a word (not next to [A-Za-z0-9_-]) becomes
 * new_name; files are rewritten in place, keeping owner and mode. Returns
 * how many files changed. */
int clone_rootfs_rename(int rootfs_fd, const char *old_name, const char *new_name, WarrenError *reterr);

/* Rename: the directory (store_rename()), then config_text (the config
 * clone_config() made for the new name) written; if that fails the
 * directory goes back. Then the hostname files, as clone_rootfs_rename()
 * (a failure there is only logged: the rename stands). */
int container_rename(Store *s, const char *name, const char *new_name, const char *config_text,
                     WarrenError *reterr);

/* A rootfs copy in a data worker: fds[0] is the source rootfs, fds[1] the
 * directory that gets dst_name. With rename_from/rename_to the hostname
 * files are renamed afterwards. With freeze_container, a running container
 * of that name (monitor under runtime_dir) is frozen for the copy and thawed
 * after it (unless it was frozen already). The note says how it was copied. */
typedef struct CopyWork {
        int fds[2];
        const char *dst_name;
        bool cow;
        const char *rename_from, *rename_to;
        const char *runtime_dir, *freeze_container;
} CopyWork;

int copy_work_run(DataReport *rep, void *userdata, WarrenError *reterr);

/* In a worker: freezes a running container (monitor under runtime_dir)
 * and keeps the monitor connection in *ret_fd: 1 if it did (then thaw
 * with copy_thaw()), 0 if it is not running or was frozen already. Each
 * sends the note below, so warrend knows to thaw it if the worker dies. */
int copy_freeze(const char *runtime_dir, const char *name, int *ret_fd, DataReport *rep,
                WarrenError *reterr);
int copy_thaw(int monitor_fd, const char *name, DataReport *rep, WarrenError *reterr);

/* The note a worker sends when it froze the container (warrend thaws it if
 * the worker dies before it could). */
#define COPY_WORK_NOTE_FROZEN "\x01frozen"
#define COPY_WORK_NOTE_THAWED "\x01thawed"
