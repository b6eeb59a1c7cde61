/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What lxc-checkconfig reports, read from the running kernel: namespaces,
 * cgroups, network device types, netfilter NAT, user namespaces, seccomp,
 * pidfd, clone3, idmapped mounts. Runtime probes (/proc/self/ns, the mount
 * table, syscalls answering EINVAL rather than ENOSYS) come first; the kernel
 * config (/proc/config.gz, else /boot/config-RELEASE) answers what only it
 * knows (veth, bridge, macvlan, NAT). */

#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

/* ---- kernel config text ("CONFIG_X=y", "# CONFIG_X is not set") ---- */

typedef struct KernelConfig KernelConfig;

typedef enum KconfigValue {
        KCONFIG_ABSENT, /* no line for the symbol */
        KCONFIG_NO,     /* "# CONFIG_X is not set" or "CONFIG_X=n" */
        KCONFIG_MODULE, /* =m */
        KCONFIG_YES,    /* =y */
        KCONFIG_OTHER,  /* a string or number */
} KconfigValue;

#define KERNEL_CONFIG_MAX_SIZE (8U * 1024U * 1024U)
#define KERNEL_CONFIG_MAX_ENTRIES 100000U

/* Parses config text (need not be NUL-terminated). Blank lines and other
 * "#" comments are skipped; any other line that is not CONFIG_[A-Za-z0-9_]+=VALUE
 * is -EBADMSG naming the line number and (printable part of) the line; a
 * NUL byte is -EBADMSG too. A later line for the same symbol wins. */
int kernel_config_parse(const char *text, size_t len, KernelConfig **ret, WarrenError *reterr);
/* Reads a gzip-compressed (/proc/config.gz) or plain config file. */
int kernel_config_load(const char *path, KernelConfig **ret, WarrenError *reterr);
/* The running kernel's config: /proc/config.gz, then /boot/config-RELEASE.
 * ret_source (optional) gets the path used. -ENOENT if there is neither. */
int kernel_config_load_running(KernelConfig **ret, char **ret_source, WarrenError *reterr);
KernelConfig *kernel_config_free(KernelConfig *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(KernelConfig *, kernel_config_free);
#define _cleanup_kernel_config_ _cleanup_(kernel_config_freep)

size_t kernel_config_size(const KernelConfig *k);
/* symbol with or without the "CONFIG_" prefix. */
KconfigValue kernel_config_get(const KernelConfig *k, const char *symbol);
/* The raw value ("y", "\"gcc\"", "4096"), "n" for "is not set", NULL if absent. */
const char *kernel_config_get_value(const KernelConfig *k, const char *symbol);

/* ---- the report ---- */

typedef enum CheckStatus {
        CHECK_ENABLED,  /* present */
        CHECK_MISSING,  /* required by warren and absent */
        CHECK_OPTIONAL, /* absent (or unknown, see detail) but not required */
} CheckStatus;

/* "enabled", "missing", "optional". */
const char *check_status_to_string(CheckStatus s);

typedef struct CheckItem {
        char *feature; /* e.g. "pid namespace", "cgroup2", "veth" */
        CheckStatus status;
        char *detail; /* e.g. "/sys/fs/cgroup/unified (controllers: hugetlb)" */
} CheckItem;

typedef struct CheckReport {
        CheckItem *items;
        size_t n_items;
} CheckReport;

CheckReport *check_report_free(CheckReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(CheckReport *, check_report_free);
#define _cleanup_check_report_ _cleanup_(check_report_freep)
/* The item named feature, or NULL. */
const CheckItem *check_report_find(const CheckReport *r, const char *feature);

typedef struct CheckOptions {
        /* Kernel config to judge by; NULL: the running kernel's, if any. A
         * feature only the config can tell about is "optional" with an
         * "unknown" detail when there is none. */
        const KernelConfig *kernel_config;
} CheckOptions;

/* Runs every check (o may be NULL). Features, in order:
 *   "kernel config", "pid namespace", "mount namespace", "uts namespace",
 *   "ipc namespace", "network namespace", "cgroup namespace", "user namespace",
 *   "time namespace", "user namespaces allowed", "cgroup2", "cgroup v1",
 *   "memory controller", "pids controller", "cpu controller",
 *   "cpuset controller", "io controller", "freezer", "veth", "bridge",
 *   "macvlan", "vlan", "ipvlan", "nf_tables", "nat", "masquerade",
 *   "seccomp", "seccomp filter", "seccomp user notification", "pidfd",
 *   "clone3", "clone into cgroup", "idmapped mounts", "newuidmap", "newgidmap".
 * Never fails for a missing feature: only -ENOMEM. */
int checkconfig_run(const CheckOptions *o, CheckReport **ret, WarrenError *reterr);
