/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container store: <state-dir>/containers/NAME/{config,rootfs,owner}.
 * Every path operation is relative to the containers directory fd and never
 * follows a symlink out of it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct Store Store;

/* Opens (creating if needed, mode 0755) <state_dir>/containers. */
int store_open(const char *state_dir, Store **ret, WarrenError *reterr);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
#define _cleanup_store_ _cleanup_(store_freep)

int store_dirfd(const Store *s);
/* "<state_dir>/containers" */
const char *store_path(const Store *s);
/* Absolute path of a container's directory/config/rootfs; malloc'd. */
char *store_container_path(const Store *s, const char *name, const char *sub);

/* Sorted names of the containers (valid names only, temporaries skipped). */
int store_list(const Store *s, char ***ret_names);
/* 1 if NAME exists, 0 if not, <0 on error. */
int store_exists(const Store *s, const char *name);
int store_get_owner(const Store *s, const char *name, uid_t *ret_uid);
/* The same, for messages: a missing, garbage or out-of-range owner file is
 * -EBADMSG naming the file ("Container 'x' is damaged: its owner file
 * /var/lib/warren/containers/x/owner is missing"); a missing container
 * -ENOENT. */
int store_read_owner(const Store *s, const char *name, uid_t *ret_uid, WarrenError *reterr);
/* How many containers uid owns; with in_progress, creates of uid still
 * being built (store_create_begin() until commit or abort) count too, so
 * a quota checked against this holds while those run. */
int store_count_owned(const Store *s, uid_t uid, bool in_progress, uint64_t *ret);

/* Called by store_create() with an fd of the new container's (temporary)
 * directory and the directory's final absolute path. Must create "config"
 * and "rootfs" in it. */
typedef int (*StoreBuildFunc)(int container_dirfd, const char *final_path, void *userdata,
                              WarrenError *reterr);

/* Creates NAME atomically: builds in a temporary directory beside the
 * others (".#new.NAME.XXXXXX", mode 0700), records owner, calls build, then
 * renames into place with RENAME_NOREPLACE. -EEXIST (naming NAME) if it
 * exists. On any failure nothing is left behind. */
int store_create(Store *s, const char *name, uid_t owner, StoreBuildFunc build, void *userdata,
                 WarrenError *reterr);

/* The same in steps, for a build that runs elsewhere (a forked job that
 * outlives the call): store_create_begin() validates NAME and owner, makes
 * and locks the temporary directory and records the owner; the caller fills
 * it ("config" and "rootfs") through its path or fd; store_create_commit()
 * checks and renames it into place (-EEXIST naming NAME if it appeared
 * meanwhile). store_create_abort() removes the temporary directory unless
 * it was committed, and frees the handle (NULL is fine). The handle holds
 * its own fds: it does not need the Store to stay open. */
typedef struct StoreCreate StoreCreate;
int store_create_begin(Store *s, const char *name, uid_t owner, StoreCreate **ret, WarrenError *reterr);
int store_create_dirfd(const StoreCreate *c);
/* Absolute paths of the temporary directory and of NAME's final directory. */
const char *store_create_temp_path(const StoreCreate *c);
const char *store_create_final_path(const StoreCreate *c);
int store_create_commit(StoreCreate *c, WarrenError *reterr);
StoreCreate *store_create_abort(StoreCreate *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(StoreCreate *, store_create_abort);
#define _cleanup_store_create_ _cleanup_(store_create_abortp)

/* Removes NAME: renames it to a temporary name first (it vanishes
 * atomically from listings), then removes the tree with an openat/unlinkat
 * walk that never follows symlinks and does not cross mount points.
 * -ENOENT naming NAME if missing. */
int store_destroy(Store *s, const char *name, WarrenError *reterr);

/* Renames NAME to NEW_NAME (its directory, with everything in it):
 * -EEXIST naming NEW_NAME if taken, -ENOENT naming NAME if missing, -EBUSY
 * while it is being created or removed. */
int store_rename(Store *s, const char *name, const char *new_name, WarrenError *reterr);

/* Reads / atomically replaces NAME's config file. */
int store_read_config(const Store *s, const char *name, char **ret_text);
int store_write_config(Store *s, const char *name, const char *text, WarrenError *reterr);

/* Removes leftovers of interrupted creates/destroys (".#new.*", ".#del.*"). */
int store_cleanup_stale(Store *s);

/* Removes dirfd/name recursively without following symlinks or crossing
 * mounts. 0 if it did not exist. */
int rm_rf_at(int dirfd, const char *name);
