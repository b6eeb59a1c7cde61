/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "basic/error.h"

/* Most ttys a busybox rootfs gets a getty on. */
#define TEMPLATE_BUSYBOX_TTY_MAX 64U

typedef struct TemplateBusyboxOptions {
        const char *name;         /* container name, written to /etc/hostname */
        const char *busybox_path; /* host busybox binary; NULL: WARREN_BUSYBOX_PATH */
        unsigned tty_max;         /* ttys to give a getty in inittab (0: 4) */
        uid_t root_uid;           /* owner of every created file (mapped root); 0 normally */
        gid_t root_gid;
} TemplateBusyboxOptions;

/* Fills the empty directory rootfs_dirfd with a bootable busybox system:
 * FHS dirs, /bin/busybox (copied), applet symlinks, /sbin/init, inittab
 * (shell on /dev/console, getty on each tty), rcS, passwd, group, hostname.
 * Fails with a message naming what failed (e.g. the busybox path). */
int template_busybox_rootfs(int rootfs_dirfd, const TemplateBusyboxOptions *o, WarrenError *reterr);

/* The config items this template sets, as a strv of alternating key, value
 * (lxc.tty.max, lxc.signal.halt, lxc.mount.auto, ...). NULL on ENOMEM. */
char **template_busybox_config(const TemplateBusyboxOptions *o);
