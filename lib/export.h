/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A container written as an image, in the two formats users have:
 *
 *   split (LXC's, what lxc-create -t download and -t local read):
 *     rootfs.tar.*  the rootfs ("./" entries), /etc/hostname and /etc/hosts
 *                   naming LXC_NAME where they named the container
 *     meta.tar.*    config, config-user (+ userns.conf), templates (those
 *                   two files), create-message, expiry, excludes-user (the
 *                   device nodes, which an unprivileged container cannot have)
 *   unified (Incus's): metadata.yaml (architecture, creation_date,
 *     expiry_date, properties, templates), templates/hostname.tpl and
 *     hosts.tpl ("{{ container.name }}"), rootfs/.
 *
 * Compression: xz (default), gzip, zstd or none, through libarchive. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;
typedef struct Idmap Idmap;
typedef struct DataReport DataReport;

#define EXPORT_EXPIRY_SEC (30U * 24U * 3600U)

/* The image's config from a container's own (unexpanded) config: what only
 * makes sense on this host or for this container is left out (lxc.rootfs.*,
 * lxc.uts.name, lxc.net.*, lxc.idmap, lxc.hook.*, lxc.mount.fstab,
 * lxc.log.*, lxc.console.logfile, lxc.start.*, lxc.group, lxc.mount.entry
 * from an absolute host path, lxc.include of anything but
 * template_config_dir); includes under template_config_dir are written as
 * LXC_TEMPLATE_CONFIG/..., userns.conf only in config-user; lxc.arch is
 * added (arch) if missing. */
int export_image_config(const LxcConfig *c, const char *template_config_dir, const char *arch,
                        char **ret_config, char **ret_config_user, WarrenError *reterr);

/* Incus's metadata.yaml. */
char *export_metadata_yaml(const char *name, const char *arch, uint64_t now_s, bool hostname, bool hosts);

/* The host's architecture as uname names it (x86_64, aarch64, ...). */
const char *export_host_arch(void);

/* Export in a data worker. fds: [0] the rootfs directory, then [1] rootfs
 * and [2] meta outputs, or [3] the unified one (-EBADF where not used). A
 * running container named freeze_container is frozen while it is read. */
typedef struct ExportWork {
        int fds[4];
        const char *name;
        const char *compression;
        const char *arch;
        const Idmap *shift; /* the idmap, if the rootfs holds host ids */
        const char *config, *config_user;
        const char *runtime_dir, *freeze_container;
        uint64_t now_s;
} ExportWork;

int export_work_run(DataReport *rep, void *userdata, WarrenError *reterr);
