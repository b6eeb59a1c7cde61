/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A container's seccomp filter: lxc.seccomp.profile (LXC's policy format,
 * parsed by seccomp-policy.c), or warren's built-in deny list when the key
 * is unset, compiled with libseccomp into a classic BPF program before any
 * fork. The child that execs init (or an attached process) then only
 * installs the ready program: no allocation, no library call.
 *
 * Like LXC, the filter is installed without PR_SET_NO_NEW_PRIVS (setuid
 * programs inside keep working), which needs CAP_SYS_ADMIN in the child's
 * user namespace: install it before dropping capabilities. */

#include <stddef.h>

#include "basic/error.h"
#include "config.h"
#include "seccomp-policy.h"

typedef struct SeccompProgram SeccompProgram;

/* The filter for a container's config. An unreadable or invalid profile,
 * or a relative path, fails naming the key and the file. */
int seccomp_program_from_config(const LxcConfig *c, SeccompProgram **ret, WarrenError *reterr);
/* The filter of a parsed policy, for the native architecture and its
 * compat ones (x86_64: i386 and x32). Rules for other architectures, and
 * syscalls an architecture does not have, are skipped as LXC does. */
int seccomp_program_compile(const SeccompPolicy *p, SeccompProgram **ret, WarrenError *reterr);
/* The host guard every process of a privileged container (no lxc.idmap)
 * gets before the container's own filter: superblock remounts read-only
 * (mount(2) MS_REMOUNT|MS_RDONLY without MS_BIND) and FIFREEZE, FITHAW,
 * FS_IOC_SHUTDOWN answer EACCES; fspick(2), and open_tree(2) without
 * OPEN_TREE_CLONE, ENOSYS (so that libmount falls back to mount(2)). The
 * why, and what stays allowed, is at its definition. */
int seccomp_program_host_guard(SeccompProgram **ret, WarrenError *reterr);
/* Installs the filter on the calling thread; -errno. Safe after fork(). */
int seccomp_program_install(const SeccompProgram *p);
/* Number of BPF instructions (for tests and logs). */
size_t seccomp_program_size(const SeccompProgram *p);
SeccompProgram *seccomp_program_free(SeccompProgram *p);

DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProgram *, seccomp_program_free);
#define _cleanup_seccomp_program_ _cleanup_(seccomp_program_freep)
