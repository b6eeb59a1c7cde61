/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "seccomp-filter.h"

struct SeccompProgram {
        size_t n;
        struct sock_filter insns[];
};

/* A filter of more instructions than the kernel takes (BPF_MAXINSNS) is
 * refused when installed; refuse it when built, naming the profile. */
#define PROGRAM_MAX_INSNS 4096

static uint32_t action_of(const SeccompAction *a) {
        switch (a->type) {
        case SECCOMP_POLICY_ALLOW:
                return SCMP_ACT_ALLOW;
        case SECCOMP_POLICY_TRAP:
                return SCMP_ACT_TRAP;
        case SECCOMP_POLICY_LOG:
                return SCMP_ACT_LOG;
        case SECCOMP_POLICY_ERRNO:
                return SCMP_ACT_ERRNO((uint16_t) a->errno_value);
        case SECCOMP_POLICY_KILL:
        default:
                /* The whole process, not one thread of it. */
                return SCMP_ACT_KILL_PROCESS;
        }
}

static enum scmp_compare op_of(SeccompCmpOp op) {
        switch (op) {
        case SECCOMP_POLICY_CMP_NE:
                return SCMP_CMP_NE;
        case SECCOMP_POLICY_CMP_LT:
                return SCMP_CMP_LT;
        case SECCOMP_POLICY_CMP_LE:
                return SCMP_CMP_LE;
        case SECCOMP_POLICY_CMP_GE:
                return SCMP_CMP_GE;
        case SECCOMP_POLICY_CMP_GT:
                return SCMP_CMP_GT;
        case SECCOMP_POLICY_CMP_MASKED_EQ:
                return SCMP_CMP_MASKED_EQ;
        case SECCOMP_POLICY_CMP_EQ:
        default:
                return SCMP_CMP_EQ;
        }
}

/* The native architecture first, then those whose binaries it also runs:
 * without them in the filter, a 32-bit program would be killed on its
 * first system call (the filter's bad-arch action). */
static size_t filter_arches(uint32_t arches[static 3]) {
        uint32_t native = seccomp_arch_native();
        size_t n = 0;
        arches[n++] = native;
        if (native == SCMP_ARCH_X86_64) {
                arches[n++] = SCMP_ARCH_X86;
                arches[n++] = SCMP_ARCH_X32;
        } else if (native == SCMP_ARCH_AARCH64)
                arches[n++] = SCMP_ARCH_ARM;
        return n;
}

static void ctx_release(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* One architecture's share of the policy, in a context of its own (LXC's
 * way: a rule under [x86_64] must not reach the i386 table). */
static int compile_arch(const SeccompPolicy *p, uint32_t arch, uint32_t native, scmp_filter_ctx *ret,
                        WarrenError *reterr) {
        __attribute__((cleanup(ctx_release))) scmp_filter_ctx ctx = NULL;
        uint32_t def = action_of(&p->default_action);
        int r;

        ctx = seccomp_init(def);
        if (!ctx)
                return warren_error_set(reterr, ENOMEM, "Failed to create a seccomp filter for '%s'",
                                        p->origin);
        /* As LXC: setuid programs inside must keep working. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return warren_error_set(reterr, -r, "Failed to configure the seccomp filter: %s",
                                        strerror(-r));
        if (arch != native) {
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return r; /* this libseccomp cannot: the caller skips the arch */
                r = seccomp_arch_remove(ctx, native);
                if (r < 0)
                        return warren_error_set(reterr, -r, "Failed to set up a seccomp filter: %s",
                                                strerror(-r));
        }

        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *rule = &p->rules[i];
                if (rule->arch) {
                        uint32_t a = seccomp_arch_resolve_name(rule->arch);
                        if (a == 0)
                                log_debug("%s:%u: architecture '%s' unknown here, rule skipped", p->origin,
                                          rule->line, rule->arch);
                        if (a != arch)
                                continue;
                }
                int nr;
                if (rule->name) {
                        /* Native numbers: libseccomp translates them, by
                         * name, to the context's architecture. */
                        nr = seccomp_syscall_resolve_name(rule->name);
                        if (nr == __NR_SCMP_ERROR) {
                                log_debug("%s:%u: no system call '%s' on this architecture, rule skipped",
                                          p->origin, rule->line, rule->name);
                                continue;
                        }
                } else {
                        if (arch != native || rule->number < 0 || rule->number > INT32_MAX)
                                continue; /* numbers (version 1) are the native ones */
                        nr = (int) rule->number;
                }
                uint32_t act = action_of(&rule->action);
                if (act == def)
                        continue; /* the default already does it (libseccomp refuses such a rule) */
                struct scmp_arg_cmp cmps[6] = {};
                for (size_t k = 0; k < rule->n_args && k < ELEMENTSOF(cmps); k++)
                        cmps[k] = (struct scmp_arg_cmp){
                                .arg = rule->args[k].index,
                                .op = op_of(rule->args[k].op),
                                .datum_a = rule->args[k].value,
                                .datum_b = rule->args[k].value2,
                        };
                r = seccomp_rule_add_array(ctx, act, nr, (unsigned) rule->n_args, cmps);
                if (r == -EEXIST || (r < 0 && arch != native))
                        continue; /* a duplicate, or a call this compat table lacks */
                if (r < 0)
                        return warren_error_set(reterr, -r, "%s:%u: cannot add the rule for '%s': %s",
                                                p->origin, rule->line,
                                                rule->name ? rule->name : "(by number)", strerror(-r));
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int export_program(scmp_filter_ctx ctx, const char *origin, SeccompProgram **ret,
                          WarrenError *reterr) {
        _cleanup_close_ int fd = memfd_create("warren-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno,
                                        "Failed to create a memfd for the seccomp filter: %m");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return warren_error_set(reterr, -r, "Failed to export the seccomp filter of '%s': %s",
                                        origin, strerror(-r));
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return warren_error_set(reterr, errno, "Failed to size the seccomp filter: %m");
        size_t n = (size_t) size / sizeof(struct sock_filter);
        if (n == 0 || (size_t) size % sizeof(struct sock_filter) != 0)
                return warren_error_set(reterr, EPROTO,
                                        "libseccomp exported a malformed filter (%lld bytes)",
                                        (long long) size);
        if (n > PROGRAM_MAX_INSNS)
                return warren_error_set(
                        reterr, E2BIG,
                        "The seccomp filter of '%s' is too large: %zu instructions (at most %d)", origin, n,
                        PROGRAM_MAX_INSNS);
        SeccompProgram *p = malloc(sizeof *p + (size_t) size);
        if (!p)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        p->n = n;
        size_t done = 0;
        while (done < (size_t) size) {
                ssize_t k = pread(fd, (char *) p->insns + done, (size_t) size - done, (off_t) done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -EIO;
                        free(p);
                        return warren_error_set(reterr, -r, "Failed to read the seccomp filter back: %s",
                                                strerror(-r));
                }
                done += (size_t) k;
        }
        *ret = p;
        return 0;
}

int seccomp_program_compile(const SeccompPolicy *p, SeccompProgram **ret, WarrenError *reterr) {
        __attribute__((cleanup(ctx_release))) scmp_filter_ctx merged = NULL;
        uint32_t arches[3], native = seccomp_arch_native();
        size_t n = filter_arches(arches);
        int r;

        if (!p || !ret)
                return warren_error_set(reterr, EINVAL, "No seccomp policy given");
        for (size_t i = 0; i < n; i++) {
                scmp_filter_ctx ctx = NULL;
                r = compile_arch(p, arches[i], native, &ctx, reterr);
                if (r < 0 && arches[i] != native && !(reterr && reterr->error)) {
                        log_debug("seccomp: architecture 0x%x not supported here, skipped", arches[i]);
                        continue;
                }
                if (r < 0)
                        return r;
                if (!merged) {
                        merged = ctx;
                        continue;
                }
                r = seccomp_merge(merged, ctx); /* takes ctx on success */
                if (r < 0) {
                        seccomp_release(ctx);
                        return warren_error_set(reterr, -r,
                                                "Failed to merge the seccomp filters of '%s': %s", p->origin,
                                                strerror(-r));
                }
        }
        return export_program(merged, p->origin, ret, reterr);
}

int seccomp_program_from_config(const LxcConfig *c, SeccompProgram **ret, WarrenError *reterr) {
        _cleanup_seccomp_policy_ SeccompPolicy *policy = NULL;
        static const char *const unsupported[] = { "lxc.seccomp.notify.proxy", "lxc.seccomp.notify.cookie" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(unsupported); i++) {
                const char *v = lxc_config_get(c, unsupported[i]);
                if (v && *v)
                        return warren_error_set(reterr, EOPNOTSUPP,
                                                "%s '%s' is not supported: warren has no seccomp notifier",
                                                unsupported[i], v);
        }
        const char *path = lxc_config_get(c, "lxc.seccomp.profile");
        if (!path || !*path) {
                const char *text = seccomp_policy_default_text();
                r = seccomp_policy_parse(text, strlen(text), "warren's default seccomp profile", &policy,
                                         reterr);
        } else if (path[0] != '/')
                return warren_error_set(reterr, EINVAL, "lxc.seccomp.profile '%s' is not an absolute path",
                                        path);
        else
                r = seccomp_policy_load(path, &policy, reterr);
        if (r < 0) {
                if (path && *path)
                        warren_error_prefix(reterr, "lxc.seccomp.profile");
                return r;
        }
        return seccomp_program_compile(policy, ret, reterr);
}

/* The host guard of a privileged container (no lxc.idmap). Its root is the
 * host's root, and its rootfs (a bind mount of a host directory) shares the
 * superblock of the host filesystem holding it: a superblock change made
 * inside is the host's. LXC keeps `mount -o remount,ro /` (sysvinit's
 * umountroot, systemd-shutdown) from remounting the host read-only with its
 * AppArmor profile, by path; seccomp sees no path, only flags, so the guard
 * refuses every such act whatever filesystem it names (the container's own
 * tmpfs included: it can still mount it read-only, or bind-remount it):
 *
 *  - mount(2) with MS_REMOUNT|MS_RDONLY and no MS_BIND: a superblock
 *    remount to read-only, EACCES (as LXC's AppArmor denial reads). A bind
 *    remount (remount,bind,ro) changes only that mount and stays allowed,
 *    as do mount_setattr(2) and MOUNT_ATTR_RDONLY.
 *    A superblock remount WITHOUT MS_RDONLY stays allowed: it matters only
 *    for a host filesystem the host mounted read-only (warren never puts a
 *    rootfs there), and refusing it would break the boot of every init that
 *    remounts / read-write (sysvinit's checkroot.sh, systemd-remount-fs).
 *    Its other options (a shared tmpfs's size=, ext4's errors=) remain
 *    reachable: a privileged container is root on the host in every other
 *    way too (SECURITY.md).
 *  - fspick(2), ENOSYS: with fsconfig(FSCONFIG_CMD_RECONFIGURE) it
 *    reconfigures an existing superblock, read-only as easily as not, and
 *    the key ("ro") is behind a pointer seccomp cannot read. ENOSYS is what
 *    a kernel without the call says, so careful callers fall back to
 *    mount(2), where the rule above applies.
 *  - open_tree(2) without OPEN_TREE_CLONE, ENOSYS: libmount 2.39 and later
 *    (util-linux 2.38, Debian 12's, uses mount(2) only) remounts with
 *    open_tree() + fspick() and recovers from ENOSYS only in the first
 *    step; without this, every `mount -o remount` there would fail with
 *    "fspick system call failed". A plain open_tree() is only a handle on
 *    an existing mount for those new calls (open(O_PATH) gives the same),
 *    so refusing it costs nothing but the fallback to mount(2); the
 *    OPEN_TREE_CLONE form (bind mounts) stays.
 *  - ioctl FIFREEZE, FITHAW and FS_IOC_SHUTDOWN, EACCES: freezing,
 *    thawing (under root's snapshot) or shutting down a filesystem are
 *    superblock acts as harmful to the host as a read-only remount.
 *
 * Installed before the container's own filter and in addition to it
 * (filters stack, the strictest answer wins), so that a profile that
 * refuses seccomp(2) or prctl(2) cannot keep it out; warren always stacks
 * (lxc.seccomp.allow_nesting changes nothing: LXC's "skip the profile when
 * already confined" is not warren's behaviour, and the guard is never
 * skipped). An unprivileged container needs none of this: the kernel
 * refuses it any change to a superblock its user namespace does not own. */
#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#endif
#define IOCTL_CMD_MASK UINT64_C(0xffffffff) /* the kernel reads cmd as an unsigned int */
#define REMOUNT_MASK ((uint64_t) (MS_REMOUNT | MS_BIND | MS_RDONLY))
#define REMOUNT_RO ((uint64_t) (MS_REMOUNT | MS_RDONLY))

#define GUARD_RULE(n, err, i, mask, datum)                                        \
        {                                                                         \
                .name = (char *) (n), .number = -1,                               \
                .action = { .type = SECCOMP_POLICY_ERRNO, .errno_value = (err) }, \
                .args = { { .index = (i),                                         \
                            .op = SECCOMP_POLICY_CMP_MASKED_EQ,                   \
                            .value = (mask),                                      \
                            .value2 = (datum) } },                                \
                .n_args = 1,                                                      \
        }

int seccomp_program_host_guard(SeccompProgram **ret, WarrenError *reterr) {
        static const SeccompRule rules[] = {
                GUARD_RULE("mount", EACCES, 3, REMOUNT_MASK, REMOUNT_RO),
                { .name = (char *) "fspick",
                  .number = -1,
                  .action = { .type = SECCOMP_POLICY_ERRNO, .errno_value = ENOSYS } },
                GUARD_RULE("open_tree", ENOSYS, 2, OPEN_TREE_CLONE, 0),
                GUARD_RULE("ioctl", EACCES, 1, IOCTL_CMD_MASK, FIFREEZE),
                GUARD_RULE("ioctl", EACCES, 1, IOCTL_CMD_MASK, FITHAW),
                GUARD_RULE("ioctl", EACCES, 1, IOCTL_CMD_MASK, FS_IOC_SHUTDOWN),
        };
        const SeccompPolicy guard = {
                .version = 2,
                .default_action = { .type = SECCOMP_POLICY_ALLOW },
                .rules = (SeccompRule *) rules,
                .n_rules = ELEMENTSOF(rules),
                .origin = (char *) "warren's host guard",
        };
        int r = seccomp_program_compile(&guard, ret, reterr);
        if (r < 0)
                return r;
        log_debug("seccomp: host guard for a privileged container, %zu instructions (superblock remount "
                  "read-only EACCES, fspick and open_tree without OPEN_TREE_CLONE ENOSYS, FIFREEZE, "
                  "FITHAW, FS_IOC_SHUTDOWN EACCES)",
                  seccomp_program_size(*ret));
        return 0;
}

int seccomp_program_install(const SeccompProgram *p) {
        if (!p)
                return 0;
        struct sock_fprog prog = {
                .len = (unsigned short) p->n,
                .filter = (struct sock_filter *) p->insns,
        };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

size_t seccomp_program_size(const SeccompProgram *p) {
        return p ? p->n : 0;
}

SeccompProgram *seccomp_program_free(SeccompProgram *p) {
        free(p);
        return NULL;
}
