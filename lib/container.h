/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Container-level operations on the store: create from a template, read and
 * change configs. What warrend calls; no D-Bus in here. */

#include <sys/types.h>

#include "basic/error.h"
#include "config.h"

typedef struct Store Store;
typedef struct Idmap Idmap;

typedef struct ContainerCreateParams {
        const char *name;
        const char *template_name;  /* "busybox" (others: their issue) */
        char *const *template_args; /* NULL or strv */
        uid_t owner;
        const char *config_dir;             /* <config-dir>/default.conf is read first... */
        const char *data_dir;               /* ...else <data-dir>/default.conf */
        char *const *config_items;          /* extra key, value pairs applied last */
        const char *busybox_path;           /* NULL: the built-in default */
        const Idmap *idmap;                 /* unprivileged: lxc.idmap lines, rootfs owned by mapped root */
        const char *user_default_conf;      /* the owner's ~/.config/warren/default.conf text, or NULL */
        const char *user_default_conf_path; /* for messages */
        char *const *include_allow;         /* where includes of the owner's own config may point */
} ContainerCreateParams;

/* Checks everything that can be checked before any disk change: name,
 * template and its arguments, the extra config items. */
int container_create_validate(const ContainerCreateParams *p, WarrenError *reterr);
/* The config a create would write, built without touching the disk:
 * default.conf, the owner's default.conf, the template's keys, the idmap,
 * the caller's items, lxc.rootfs.path and lxc.uts.name; checked as a whole
 * by the start's rules (config_check()). */
int container_build_config(const ContainerCreateParams *p, const char *container_dir, LxcConfig **ret,
                           WarrenError *reterr);
/* Creates the container atomically (nothing left behind on failure). */
int container_create(Store *store, const ContainerCreateParams *p, WarrenError *reterr);

/* Loads NAME's config file. KEEP mode gives the file's own items (what
 * GetConfig shows), EXPAND the effective config (what start uses). A
 * missing config file, or one that is not a regular file, is -EBADMSG
 * naming it (the container is damaged, not missing). */
int container_load_config(const Store *store, const char *name, LxcIncludeMode mode, LxcConfig **ret,
                          WarrenError *reterr);

/* Applies alternating key, value pairs in order, as if appended as lines. */
int container_config_apply_items(LxcConfig *c, char *const *kv, WarrenError *reterr);

/* SetConfig: applies items to NAME's config, validates the whole result
 * (includes must resolve) and writes it atomically, or changes nothing. */
/* Runs lxc.hook.destroy (if the config loads), then removes the
 * container (store_destroy). A failing hook keeps the container. */
int container_destroy(Store *store, const char *name, WarrenError *reterr);
int container_set_config(Store *store, const char *name, char *const *kv, WarrenError *reterr);

/* What is wrong with NAME's files, for its Problem property and to refuse
 * starting it: the owner file, the config (missing, not a file, does not
 * parse) and the rootfs (missing, not a directory), each named. NULL (and
 * 0) if nothing is; -ENOMEM only. */
int container_check(const Store *store, const char *name, char **ret_problem);

/* The rootfs directory from lxc.rootfs.path ("dir:" prefix stripped), or
 * NULL if unset; malloc'd. */
char *container_rootfs_from_config(const LxcConfig *c);
