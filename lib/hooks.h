/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* LXC's lxc.hook.*: shell command lines run at fixed points of a
 * container's life, with LXC's environment (LXC_NAME, LXC_ROOTFS_MOUNT,
 * LXC_CONFIG_FILE, LXC_HOOK_TYPE, ...) and, for lxc.hook.version = 0 (the
 * default), LXC's arguments "NAME lxc TYPE" appended. Where each runs:
 *
 *   pre-start   the monitor, host namespaces, before cgroups and ptys
 *   pre-mount   init's child, its mount namespace, before the rootfs is mounted
 *   mount       the same, every mount made, before pivot_root
 *   autodev     the same, after mount, when lxc.autodev is on
 *   start-host  the monitor, host namespaces, init created (LXC_PID) and not yet run
 *   start       inside the container (its /bin/sh), right before init is exec'd
 *   stop        the monitor, host namespaces, init has exited
 *   post-stop   the monitor, everything torn down
 *   destroy     warrend, before the container's files are removed
 *
 * A hook that fails (non-zero exit, killed, or still running after the
 * timeout) fails what it is part of, and the error names the hook, how it
 * ended and the last line it printed. Only admins may set hooks (policy.c). */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "config.h"

typedef enum HookType {
        HOOK_PRE_START,
        HOOK_PRE_MOUNT,
        HOOK_MOUNT,
        HOOK_AUTODEV,
        HOOK_START_HOST,
        HOOK_START,
        HOOK_STOP,
        HOOK_POST_STOP,
        HOOK_DESTROY,
        _HOOK_TYPE_MAX,
} HookType;

typedef struct HookContext {
        const char *name;         /* LXC_NAME */
        const char *config_path;  /* LXC_CONFIG_FILE */
        const char *rootfs_path;  /* LXC_ROOTFS_PATH: the rootfs directory */
        const char *rootfs_mount; /* LXC_ROOTFS_MOUNT: where it is mounted now (default rootfs_path) */
        pid_t pid;                /* LXC_PID (init, on the host), 0: unset */
        const char *target;       /* LXC_TARGET: "stop" or "reboot", or NULL */
        unsigned timeout_ms;      /* 0: HOOK_TIMEOUT_MS_DEFAULT */
} HookContext;

#define HOOK_TIMEOUT_MS_DEFAULT (5U * 60U * 1000U)

const char *hook_type_to_string(HookType t);
/* Whether the config has any lxc.hook.<t>. */
bool hooks_any(const LxcConfig *c, HookType t);
/* Runs every lxc.hook.<t> in order; stops at the first that fails. */
int hooks_run(const LxcConfig *c, HookType t, const HookContext *ctx, WarrenError *reterr);
