/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/policy: which config items an owner may set without the admin, the
 * changed-vs-unchanged rule, the include allow-list, and files read or
 * opened with a user's credentials (uid 4242, no passwd entry needed).
 * Needs root (it acts as other uids and chowns). */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "idmap.h"
#include "policy.h"
#include "strv.h"
#include "tap.h"

#define OWNER 4242U
#define ADMIN " needs org.warren1.create-privileged: "

static char tmpdir[] = "/tmp/test-policy-XXXXXX";
static char cdir[PATH_MAX], share[PATH_MAX], home[PATH_MAX];
static char *include_allow[3];
static IdmapAllowance *allowance;

static PolicyContext ctx(void) {
        return (PolicyContext){
                .owner_uid = OWNER,
                .owner_gid = OWNER,
                .container_dir = cdir,
                .include_allow = include_allow,
                .idmap = allowance,
        };
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

/* The items an owner's config always has. */
static LxcConfig *base_config(void) {
        LxcConfig *c = lxc_config_new();
        if (!c || lxc_config_apply(c, "lxc.idmap", "u 0 100000 65536", NULL) < 0 ||
            lxc_config_apply(c, "lxc.idmap", "g 0 100000 65536", NULL) < 0 ||
            lxc_config_apply(c, "lxc.uts.name", "c1", NULL) < 0)
                abort();
        return c;
}

/* base + "key = value" as a line of the owner's config file: the owner
 * rules also judge what the API would refuse as unstartable. */
static LxcConfig *with(const LxcConfig *base, const char *key, const char *value) {
        static const LxcParseOptions keep = { .include_mode = LXC_INCLUDE_KEEP };
        LxcConfig *c = lxc_config_copy(base);
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *line = xprintf("%s = %s\n", key, value);
        if (!c || lxc_config_parse(c, line, strlen(line), "config", &keep, &e) < 0) {
                printf("# apply %s = %s: %s\n", key, value, warren_error_message(&e));
                abort();
        }
        return c;
}

/* One item on top of the base config: NULL reason = fine. */
static void check_item(const char *key, const char *value, const char *why) {
        _cleanup_lxc_config_ LxcConfig *b = base_config();
        _cleanup_lxc_config_ LxcConfig *c = with(b, key, value);
        _cleanup_strv_free_ char **keys = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        PolicyContext p = ctx();
        int r = policy_check_config(&p, c, &keys, &e);
        if (!why) {
                is(r, 0, "%s = %s is fine%s%s", key, value, e.message ? ": " : "", strempty(e.message));
        } else {
                _cleanup_free_ char *want = xprintf("%s = '%s'" ADMIN "%s", key, value, why);
                is(r, -EACCES, "%s = %s needs the admin", key, value);
                is_str(e.message, want, "message for %s = %s", key, value);
                ok(strv_length(keys) == 1 && streq(keys[0], key), "admin keys: [%s]", key);
        }
        warren_error_clear(&e);
}

static void test_items(void) {
        _cleanup_free_ char *rootfs = xprintf("%s/rootfs", cdir),
                            *rootfs_dir = xprintf("dir:%s/rootfs/../rootfs", cdir);
        _cleanup_free_ char *in_rootfs = xprintf("%s/rootfs/mnt", cdir),
                            *log = xprintf("%s/console.log", cdir);
        _cleanup_free_ char *log_config = xprintf("%s/config", cdir),
                            *log_up = xprintf("%s/../other.log", cdir);
        _cleanup_free_ char *log_rootfs = xprintf("%s/rootfs/log", cdir),
                            *log_dot = xprintf("%s/.#config.1234", cdir);
        _cleanup_free_ char *inc_ok = xprintf("%s/common.conf", share),
                            *inc_up = xprintf("%s/../../etc/x.conf", share);
        _cleanup_free_ char *log_why =
                xprintf("the service writes it as root: it must be a file directly in '%s' "
                        "(not config, rootfs, owner)",
                        cdir);
        _cleanup_free_ char *rootfs_why = xprintf("the rootfs must be '%s/rootfs'", cdir);
        _cleanup_free_ char *inc_why =
                xprintf("only files under the shared config directories (%s, /usr/share/lxc/config) "
                        "may be included",
                        share);
        /* clang-format off */
        const struct {
                const char *key, *value, *why;
        } cases[] = {
                {"lxc.hook.start", "/bin/evil", "hooks run programs on the host as root"},
                {"lxc.hook.pre-start", "/bin/evil", "hooks run programs on the host as root"},
                {"lxc.hook.version", "1", NULL},
                {"lxc.net.0.type", "veth", NULL},
                {"lxc.net.0.type", "empty", NULL},
                {"lxc.net.0.type", "none", "the container would share the host's network namespace"},
                {"lxc.net.0.type", "phys", "it moves a host network device into the container"},
                {"lxc.net.0.type", "macvlan", "it creates a macvlan device on a host network interface"},
                {"lxc.net.0.link", "lxcbr0", NULL},
                {"lxc.net.0.ipv4.address", "10.0.3.5/24", NULL},
                {"lxc.net.0.script.up", "/bin/evil", "network scripts run on the host as root"},
                {"lxc.net.0.veth.pair", "eth1", "it names a network interface on the host"},
                {"lxc.net.0.veth.ipv4.route", "10.1.0.0/24", "it adds routes on the host"},
                {"lxc.net.0.l2proxy", "1", "it adds proxy ARP/NDP entries on the host"},
                {"lxc.net.0.l2proxy", "0", NULL},
                {"lxc.cgroup2.devices.allow", "c 1:3 rwm", "it changes which host devices the container may use"},
                {"lxc.cgroup.devices.deny", "a", "it changes which host devices the container may use"},
                {"lxc.cgroup.dir", "system.slice", "it places the container's cgroup in the host's hierarchy"},
                {"lxc.cgroup.relative", "1", "it places the container's cgroup in the host's hierarchy"},
                {"lxc.cgroup2.memory.max", "1G", NULL},
                {"lxc.cgroup.memory.limit_in_bytes", "1G", NULL},
                {"lxc.cgroup2.pids.max", "100", NULL},
                {"lxc.cgroup2.cgroup.procs", "1", "it writes the cgroup file 'cgroup.procs', which is not a resource limit of the container's own cgroup"},
                {"lxc.cgroup.release_agent", "/bin/evil", "it writes the cgroup file 'release_agent', which is not a resource limit of the container's own cgroup"},
                {"lxc.cgroup2.cpuset.cpus.partition", "root", "it writes the cgroup file 'cpuset.cpus.partition', which is not a resource limit of the container's own cgroup"},
                {"lxc.mount.entry", "proc proc proc nodev,noexec,nosuid 0 0", NULL},
                {"lxc.mount.entry", "tmpfs tmp tmpfs defaults,create=dir 0 0", NULL},
                {"lxc.mount.entry", "none /dev/shm tmpfs defaults 0 0", NULL},
                {"lxc.mount.entry", "/dev/sdb1 mnt ext4 defaults 0 0", "it mounts a host filesystem (type 'ext4', source '/dev/sdb1')"},
                {"lxc.mount.fstab", "/etc/fstab", "the service reads that file as root (use lxc.mount.entry)"},
                {"lxc.mount.auto", "proc:rw sys:rw cgroup:rw", NULL},
                {"lxc.rootfs.path", rootfs, NULL},
                {"lxc.rootfs.path", rootfs_dir, NULL},
                {"lxc.rootfs.path", in_rootfs, rootfs_why},
                {"lxc.rootfs.path", "/", rootfs_why},
                {"lxc.rootfs.path", "overlay:/a:/b", rootfs_why},
                {"lxc.rootfs.options", "idmap=container", "it changes how the host mounts the rootfs"},
                {"lxc.console.logfile", log, NULL},
                {"lxc.log.file", log, NULL},
                {"lxc.console.logfile", log_config, log_why},
                {"lxc.console.logfile", log_up, log_why},
                {"lxc.console.logfile", log_rootfs, log_why},
                {"lxc.console.logfile", log_dot, log_why},
                {"lxc.log.file", "/etc/passwd", log_why},
                {"lxc.log.file", "console.log", log_why},
                {"lxc.console.path", "none", NULL},
                {"lxc.console.path", "auto", NULL},
                {"lxc.console.path", "/dev/tty1", "it uses the host device '/dev/tty1' as the console"},
                {"lxc.apparmor.profile", "unconfined", "it overrides the security module confinement"},
                {"lxc.selinux.context", "system_u:system_r:unconfined_t:s0", "it overrides the security module confinement"},
                {"lxc.seccomp.profile", "/etc/shadow", "the service reads the profile file as root"},
                {"lxc.seccomp.notify.proxy", "unix:/run/x", "the service connects to that socket as root"},
                {"lxc.seccomp.allow_nesting", "1", NULL},
                {"lxc.idmap", "u 70000 400000 10", NULL},
                {"lxc.idmap", "u 70000 165536 10",
                 "lxc.idmap 'u 70000 165536 10': host uids 165536-165545 are not inside a range of user 4242 in SUBUID (user 4242's ranges: 100000-165535, 400000-465535)"},
                {"lxc.include", inc_ok, NULL},
                {"lxc.include", "/usr/share/lxc/config/common.conf", NULL},
                {"lxc.include", "/usr/share/lxc/config/../../../../etc/shadow", inc_why},
                {"lxc.include", inc_up, inc_why},
                {"lxc.include", "common.conf", inc_why},
                {"lxc.sysctl.net.ipv4.ip_forward", "1", NULL},
                {"lxc.sysctl.kernel.shmmax", "1000000", NULL},
                {"lxc.sysctl.kernel.hostname", "x", NULL},
                {"lxc.sysctl.kernel.core_pattern", "|/bin/evil", "'kernel.core_pattern' is not a namespaced sysctl: it would change the host"},
                {"lxc.sysctl.vm.swappiness", "1", "'vm.swappiness' is not a namespaced sysctl: it would change the host"},
                {"lxc.namespace.share.net", "1", "it shares, keeps or chooses the container's namespaces"},
                {"lxc.namespace.keep", "user", "it shares, keeps or chooses the container's namespaces"},
                {"lxc.namespace.clone", "mnt pid", "it shares, keeps or chooses the container's namespaces"},
                {"lxc.proc.oom_score_adj", "-1000", "the service writes it into /proc of the init as root"},
                {"lxc.prlimit.nofile", "100000", NULL},
                {"lxc.environment", "A=b", NULL},
                {"lxc.autodev", "0", NULL},
                {"lxc.init.cmd", "/sbin/init", NULL},
                {"lxc.cap.drop", "sys_admin", NULL},
                {"lxc.start.auto", "1", NULL},
        };
        /* clang-format on */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *why = cases[i].why;
                _cleanup_free_ char *w = NULL;
                char *p;
                if (why && (p = strstr(why, "SUBUID"))) {
                        _cleanup_free_ char *su = xprintf("%s/subuid", tmpdir);
                        w = xprintf("%.*s%s%s", (int) (p - why), why, su, p + 6);
                        why = w;
                }
                check_item(cases[i].key, cases[i].value, why);
        }
}

/* A bind item on top of the base config: a hard error (r, message) or fine. */
static void check_bind(const char *value, int want_r, const char *want_msg) {
        _cleanup_lxc_config_ LxcConfig *b = base_config();
        _cleanup_lxc_config_ LxcConfig *c = with(b, "lxc.mount.entry", value);
        _cleanup_strv_free_ char **keys = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        PolicyContext p = ctx();
        int r = policy_check_config(&p, c, &keys, &e);
        is(r, want_r, "lxc.mount.entry = %s: %d", value, want_r);
        if (want_msg)
                like(e.message, want_msg, "message for %s", value);
        ok(strv_length(keys) == 0, "%s: not a matter of authorization", value);
        warren_error_clear(&e);
}

#define EPERM_TAIL \
        " (the sources of a non-root owner's binds are the owner's own files; an administrator " \
        "shares other host paths through a root-owned file the config includes)"

static void test_bind_sources(void) {
        _cleanup_free_ char *own = xprintf("%s/data", home), *rootowned = xprintf("%s/rootdir", home);
        _cleanup_free_ char *lnk = xprintf("%s/link", home), *secret = xprintf("%s/secret/inner", tmpdir);
        _cleanup_free_ char *missing = xprintf("%s/missing", home), *mid = xprintf("%s/midlink", home);
        _cleanup_free_ char *hard = xprintf("%s/hard", home), *rootfile = xprintf("%s/rootfile", tmpdir);
        _cleanup_free_ char *ownfile = xprintf("%s/data/file", home);
        mkdir(own, 0755);
        chown(own, OWNER, OWNER);
        mkdir(rootowned, 0755);
        symlink("/etc", lnk);
        lchown(lnk, OWNER, OWNER);
        symlink(own, mid); /* a link to the owner's own dir, in a middle component */
        lchown(mid, OWNER, OWNER);
        _cleanup_free_ char *sdir = xprintf("%s/secret", tmpdir);
        mkdir(sdir, 0700);
        mkdir(secret, 0755);
        chown(secret, OWNER, OWNER); /* owned by the user, but behind a dir they cannot enter */
        close(open(rootfile, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        link(rootfile, hard); /* a hard link in the owner's dir: the inode stays root's */
        close(open(ownfile, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        chown(ownfile, OWNER, OWNER);

        _cleanup_free_ char *e1 = xprintf("%s mnt none bind,create=dir 0 0", own);
        _cleanup_free_ char *e1b = xprintf("%s/file mnt none bind,create=file 0 0", own);
        check_bind(e1, 0, NULL);
        check_bind(e1b, 0, NULL);
        _cleanup_free_ char *e2 = xprintf("%s mnt none bind 0 0", rootowned);
        _cleanup_free_ char *w2 = xprintf("lxc.mount.entry = '%s': Refusing bind source '%s': it is owned by uid 0, "
                                          "not by the container's owner (uid 4242)" EPERM_TAIL,
                                          e2, rootowned);
        check_bind(e2, -EPERM, w2);
        _cleanup_free_ char *e3 = xprintf("%s mnt none rbind 0 0", lnk);
        _cleanup_free_ char *w3 = xprintf("Refusing bind source '%s': the path goes through a symbolic link "
                                          "(opened as uid 4242, following none)",
                                          lnk);
        check_bind(e3, -EPERM, w3);
        _cleanup_free_ char *e3b = xprintf("%s/midlink/file mnt none bind,create=file 0 0", home);
        _cleanup_free_ char *w3b = xprintf("Refusing bind source '%s/midlink/file': the path goes through a "
                                           "symbolic link",
                                           home);
        check_bind(e3b, -EPERM, w3b);
        _cleanup_free_ char *e4 = xprintf("%s mnt none bind 0 0", secret);
        _cleanup_free_ char *w4 = xprintf("Failed to open bind source '%s' as uid 4242: Permission denied", secret);
        check_bind(e4, -EINVAL, w4);
        _cleanup_free_ char *e5 = xprintf("%s mnt none bind,optional 0 0", missing);
        check_bind(e5, 0, NULL);
        _cleanup_free_ char *e5b = xprintf("%s mnt none bind 0 0", missing);
        _cleanup_free_ char *w5b = xprintf("Bind source '%s' does not exist (looked up as uid 4242)", missing);
        check_bind(e5b, -EINVAL, w5b);
        _cleanup_free_ char *e6 = xprintf("%s mnt none bind,create=file 0 0", hard);
        _cleanup_free_ char *w6 = xprintf("Refusing bind source '%s': it is owned by uid 0", hard);
        check_bind(e6, -EPERM, w6);
        _cleanup_free_ char *e7 = xprintf("%s/data/../rootdir mnt none bind 0 0", home);
        check_bind(e7, -EPERM, "it is owned by uid 0");
        check_bind("/etc etc none bind,ro 0 0", -EPERM, "Refusing bind source '/etc': it is owned by uid 0");
        check_bind("data mnt none bind 0 0", -EINVAL, "Bind source 'data' is not an absolute host path");

        /* The function itself: an fd of what was checked. */
        WarrenError e = WARREN_ERROR_NULL;
        struct stat st, st2;
        int fd = policy_open_bind_source(OWNER, OWNER, own, &st, &e);
        ok(fd >= 0, "policy_open_bind_source of the owner's dir gives an fd");
        ok(fd >= 0 && fstat(fd, &st2) == 0 && st2.st_ino == st.st_ino && st.st_uid == OWNER &&
                   (fcntl(fd, F_GETFL) & O_PATH) && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
           "an O_PATH, O_CLOEXEC fd of that dir, owned by the owner");
        if (fd >= 0)
                close(fd);
        is(policy_open_bind_source(OWNER, OWNER, lnk, NULL, &e), -EPERM, "a final symlink: -EPERM");
        warren_error_clear(&e);
        is(policy_open_bind_source(0, 0, lnk, NULL, &e), -EPERM, "even for uid 0: no symlink is followed");
        warren_error_clear(&e);
        is(policy_owner_gid(0), 0, "policy_owner_gid(root) is 0");
        is(policy_owner_gid(4242), 4242, "policy_owner_gid of a uid not in the database is the uid");
}

static void test_hard_errors(void) {
        PolicyContext p = ctx();
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *none = lxc_config_new();
        lxc_config_apply(none, "lxc.uts.name", "c1", NULL);
        is(policy_check_config(&p, none, NULL, &e), -EPERM, "no lxc.idmap for a non-root owner");
        is_str(e.message,
               "A container of uid 4242 must be unprivileged: its config has no lxc.idmap line for uids",
               "message");
        warren_error_clear(&e);
        _cleanup_lxc_config_ LxcConfig *only_u = with(none, "lxc.idmap", "u 0 100000 65536");
        is(policy_check_config(&p, only_u, NULL, &e), -EPERM, "no gid line");
        is_str(e.message,
               "A container of uid 4242 must be unprivileged: its config has no lxc.idmap line for gids",
               "message");
        warren_error_clear(&e);
        _cleanup_lxc_config_ LxcConfig *b = base_config();
        _cleanup_lxc_config_ LxcConfig *overlap = with(b, "lxc.idmap", "u 10 400000 10");
        is(policy_check_config(&p, overlap, NULL, &e), -EINVAL, "overlapping idmap lines");
        is_str(e.message,
               "lxc.idmap 'u 0 100000 65536' and 'u 10 400000 10' overlap in container uids 10-19",
               "message");
        warren_error_clear(&e);
        _cleanup_lxc_config_ LxcConfig *badmount = with(b, "lxc.mount.entry", "proc proc");
        is(policy_check_config(&p, badmount, NULL, &e), -EINVAL, "malformed mount entry");
        like(e.message, "Invalid mount entry 'proc proc'", "message");
        warren_error_clear(&e);
        /* Several items: the first named, every key listed once. */
        _cleanup_lxc_config_ LxcConfig *m1 = with(b, "lxc.hook.start", "/bin/a");
        _cleanup_lxc_config_ LxcConfig *m2 = with(m1, "lxc.net.0.type", "phys");
        _cleanup_lxc_config_ LxcConfig *m3 = with(m2, "lxc.hook.start", "/bin/b");
        _cleanup_lxc_config_ LxcConfig *m4 = with(m3, "lxc.seccomp.profile", "/x");
        _cleanup_strv_free_ char **keys = NULL;
        is(policy_check_config(&p, m4, &keys, &e), -EACCES, "several admin items");
        is_str(e.message,
               "lxc.hook.start = '/bin/a'" ADMIN
               "hooks run programs on the host as root (also: lxc.net.0.type, "
               "lxc.seccomp.profile)",
               "message names the first and lists the others");
        _cleanup_free_ char *k = strv_join(keys, ",");
        is_str(k, "lxc.hook.start,lxc.net.0.type,lxc.seccomp.profile", "each key once, in order");
        warren_error_clear(&e);
        /* No ranges known at all. */
        p.idmap = NULL;
        is(policy_check_config(&p, b, NULL, &e), -EACCES, "without ranges every idmap line needs the admin");
        is_str(e.message,
               "lxc.idmap = 'u 0 100000 65536'" ADMIN "no subordinate id ranges are known for uid 4242",
               "message");
        warren_error_clear(&e);
}

static void test_change(void) {
        PolicyContext p = ctx();
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_strv_free_ char **keys = NULL;
        _cleanup_lxc_config_ LxcConfig *b = base_config();
        /* An admin set a hook, device rules and a host bind. */
        _cleanup_lxc_config_ LxcConfig *o1 = with(b, "lxc.hook.start", "/usr/lib/x/hook");
        _cleanup_lxc_config_ LxcConfig *o2 = with(o1, "lxc.cgroup2.devices.deny", "a");
        _cleanup_lxc_config_ LxcConfig *old = with(o2, "lxc.mount.entry", "/srv srv none bind 0 0");

        _cleanup_lxc_config_ LxcConfig *n1 = with(old, "lxc.uts.name", "renamed");
        is(policy_check_change(&p, old, n1, &keys, &e), 0,
           "owner changes the hostname, the admin's items untouched");
        is(strv_length(keys), 0, "no admin keys");
        warren_error_clear(&e);

        _cleanup_lxc_config_ LxcConfig *n2 = with(old, "lxc.mount.entry", "/srv srv none bind 0 0");
        is(policy_check_change(&p, old, n2, &keys, &e), -EPERM,
           "a second copy of the bind is a new item, refused: no approval makes it start");
        like(e.message, "lxc.mount.entry = '/srv srv none bind 0 0': Refusing bind source '/srv'", "message");
        warren_error_clear(&e);
        keys = strv_free(keys);

        _cleanup_lxc_config_ LxcConfig *n3 = lxc_config_copy(old);
        lxc_config_unset(n3, "lxc.hook.start");
        is(policy_check_change(&p, old, n3, NULL, &e), 0, "removing a hook is fine");
        warren_error_clear(&e);
        lxc_config_apply(n3, "lxc.hook.start", "/home/u/evil", NULL);
        is(policy_check_change(&p, old, n3, &keys, &e), -EACCES, "replacing the hook is not");
        is_str(e.message, "lxc.hook.start = '/home/u/evil'" ADMIN "hooks run programs on the host as root",
               "message");
        warren_error_clear(&e);
        keys = strv_free(keys);

        _cleanup_lxc_config_ LxcConfig *n4 = lxc_config_copy(old);
        lxc_config_unset(n4, "lxc.cgroup2.devices.deny");
        is(policy_check_change(&p, old, n4, &keys, &e), -EACCES,
           "removing a device deny rule needs the admin");
        is_str(e.message,
               "Removing lxc.cgroup2.devices.deny = 'a'" ADMIN "it lifts restrictions on host devices",
               "message");
        warren_error_clear(&e);
        keys = strv_free(keys);

        /* idmap: an unchanged line outside the ranges (set by the admin) stays. */
        _cleanup_lxc_config_ LxcConfig *a1 = with(b, "lxc.idmap", "u 70000 900000 10");
        _cleanup_lxc_config_ LxcConfig *a2 = with(a1, "lxc.environment", "X=1");
        is(policy_check_change(&p, a1, a2, NULL, &e), 0, "an admin's idmap line left alone");
        warren_error_clear(&e);
        is(policy_check_config(&p, a2, NULL, &e), -EACCES, "but as a new config it needs the admin");
        warren_error_clear(&e);

        /* Dropping the idmap of a non-root owner's container is refused outright. */
        _cleanup_lxc_config_ LxcConfig *n5 = lxc_config_copy(old);
        lxc_config_unset(n5, "lxc.idmap");
        is(policy_check_change(&p, old, n5, NULL, &e), -EPERM, "removing lxc.idmap: -EPERM");
        warren_error_clear(&e);

        /* Owner root, privileged (no idmap): every change needs the admin. */
        PolicyContext rp = p;
        rp.owner_uid = 0;
        rp.owner_gid = 0;
        _cleanup_lxc_config_ LxcConfig *r0 = lxc_config_new();
        lxc_config_apply(r0, "lxc.uts.name", "c1", NULL);
        _cleanup_lxc_config_ LxcConfig *r1 = with(r0, "lxc.mount.auto", "sys:rw");
        is(policy_check_change(&rp, r0, r1, &keys, &e), -EACCES, "privileged container: any change");
        is_str(e.message,
               "lxc.mount.auto = 'sys:rw'" ADMIN
               "the container is privileged (no lxc.idmap): its settings act on the "
               "host as root",
               "message");
        warren_error_clear(&e);
        keys = strv_free(keys);
        _cleanup_lxc_config_ LxcConfig *r2 = lxc_config_new();
        is(policy_check_change(&rp, r0, r2, &keys, &e), -EACCES, "privileged container: removals too");
        like(e.message, "Removing lxc.uts.name = 'c1'", "message");
        warren_error_clear(&e);
        keys = strv_free(keys);
        /* Owner root with an idmap: any bind needs the admin. */
        _cleanup_lxc_config_ LxcConfig *r3 = with(b, "lxc.mount.entry", "/srv srv none bind 0 0");
        is(policy_check_change(&rp, b, r3, &keys, &e), -EACCES, "root's container: a bind");
        like(e.message, "it bind-mounts the host path '/srv' into a container of root", "message");
        warren_error_clear(&e);
}

static void test_includes(void) {
        /* What the owner submits, parsed without expanding includes. */
        PolicyContext p = ctx();
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *text = xprintf("lxc.include = %s/common.conf\n"
                                            "lxc.cgroup2.devices.deny =\n"
                                            "lxc.idmap = u 0 100000 65536\n"
                                            "lxc.idmap = g 0 100000 65536\n",
                                            share);
        LxcParseOptions o = { .include_mode = LXC_INCLUDE_KEEP };
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        is(lxc_config_parse(c, text, strlen(text), NULL, &o, &e), 0, "parse with includes kept: %s",
           e.message ?: "ok");
        warren_error_clear(&e);
        is(policy_check_config(&p, c, NULL, &e), -EACCES,
           "clearing an included device rule needs the admin");
        is_str(e.message, "lxc.cgroup2.devices.deny = ''" ADMIN "it lifts restrictions on host devices",
               "message");
        warren_error_clear(&e);

        _cleanup_lxc_config_ LxcConfig *old = lxc_config_new();
        _cleanup_free_ char *t2 = xprintf("lxc.include = %s/common.conf\nlxc.idmap = u 0 100000 65536\n"
                                          "lxc.idmap = g 0 100000 65536\n",
                                          share);
        lxc_config_parse(old, t2, strlen(t2), NULL, &o, NULL);
        _cleanup_lxc_config_ LxcConfig *dropped = lxc_config_copy(old);
        lxc_config_unset(dropped, "lxc.include");
        is(policy_check_change(&p, old, dropped, NULL, &e), -EACCES,
           "dropping a shared include needs the admin");
        like(e.message, "Removing lxc.include = '", "message");
        warren_error_clear(&e);
}

static void test_read_user_file(void) {
        _cleanup_free_ char *conf = xprintf("%s/default.conf", home), *big = xprintf("%s/big.conf", home);
        _cleanup_free_ char *trap = xprintf("%s/trap.conf", home), *rootonly = xprintf("%s/rootonly", home);
        _cleanup_free_ char *fifo = xprintf("%s/fifo", home), *via = xprintf("%s/etc/shadow", home);
        _cleanup_free_ char *missing = xprintf("%s/missing.conf", home), *etc = xprintf("%s/etc", home);
        const char *text = "lxc.environment = FROM_USER=1\n";
        write_file_atomic_at(AT_FDCWD, conf, text, strlen(text), 0644);
        chown(conf, OWNER, OWNER);
        char *s = NULL;
        size_t n = 0;
        WarrenError e = WARREN_ERROR_NULL;
        is(policy_read_user_file(OWNER, OWNER, conf, 4096, &s, &n, &e), 0, "read the user's file: %s",
           e.message ?: "ok");
        is_str(s, text, "content");
        is(n, strlen(text), "size");
        free(s);
        s = NULL;
        warren_error_clear(&e);

        is(policy_read_user_file(OWNER, OWNER, conf, 10, &s, NULL, &e), -EFBIG, "size limit");
        _cleanup_free_ char *w = xprintf("'%s' is larger than 10 bytes", conf);
        is_str(e.message, w, "message");
        warren_error_clear(&e);
        /* Larger than one chunk. */
        size_t bsize = 200000;
        char *bdata = malloc(bsize);
        memset(bdata, '#', bsize);
        write_file_atomic_at(AT_FDCWD, big, bdata, bsize, 0644);
        is(policy_read_user_file(OWNER, OWNER, big, bsize, &s, &n, &e), 0, "read %zu bytes", bsize);
        ok(s && n == bsize && memcmp(s, bdata, bsize) == 0, "all of them");
        free(s);
        s = NULL;
        free(bdata);
        is(policy_read_user_file(OWNER, OWNER, big, bsize - 1, &s, &n, &e), -EFBIG,
           "one byte over the limit");
        warren_error_clear(&e);

        /* The user plants a symlink to /etc/shadow. */
        symlink("/etc/shadow", trap);
        lchown(trap, OWNER, OWNER);
        is(policy_read_user_file(OWNER, OWNER, trap, 1 << 20, &s, NULL, &e), -EACCES,
           "symlink not followed");
        _cleanup_free_ char *w2 = xprintf("Refusing to read '%s' as uid 4242: it is a symbolic link", trap);
        is_str(e.message, w2, "message names the path");
        ok(!s, "nothing read");
        warren_error_clear(&e);
        /* A symlinked directory on the way is resolved as the user: no more than the user may read. */
        symlink("/etc", etc);
        lchown(etc, OWNER, OWNER);
        is(policy_read_user_file(OWNER, OWNER, via, 1 << 20, &s, NULL, &e), -EACCES,
           "/etc/shadow via a dir symlink");
        _cleanup_free_ char *w3 = xprintf("Failed to read '%s' as uid 4242: Permission denied", via);
        is_str(e.message, w3, "message");
        warren_error_clear(&e);
        write_file_atomic_at(AT_FDCWD, rootonly, "secret", 6, 0600);
        is(policy_read_user_file(OWNER, OWNER, rootonly, 1 << 20, &s, NULL, &e), -EACCES,
           "a root-only file");
        warren_error_clear(&e);
        is(policy_read_user_file(0, 0, rootonly, 1 << 20, &s, NULL, &e), 0, "root reads it");
        is_str(s, "secret", "content");
        free(s);
        s = NULL;

        is(policy_read_user_file(OWNER, OWNER, missing, 1 << 20, &s, NULL, &e), -ENOENT, "missing file");
        _cleanup_free_ char *w4 = xprintf("'%s' does not exist (looked up as uid 4242)", missing);
        is_str(e.message, w4, "message");
        warren_error_clear(&e);
        mkfifo(fifo, 0666);
        chown(fifo, OWNER, OWNER);
        is(policy_read_user_file(OWNER, OWNER, fifo, 1 << 20, &s, NULL, &e), -EINVAL,
           "a FIFO does not block");
        _cleanup_free_ char *w5 = xprintf("Refusing to read '%s' as uid 4242: not a regular file", fifo);
        is_str(e.message, w5, "message");
        warren_error_clear(&e);
        is(policy_read_user_file(OWNER, OWNER, home, 1 << 20, &s, NULL, &e), -EINVAL, "a directory");
        warren_error_clear(&e);

        /* Opening as the user. */
        struct stat st;
        int fd = policy_open_as_user(OWNER, OWNER, conf, O_RDONLY, &st, &e);
        ok(fd >= 0, "open as the user: %s", e.message ?: "ok");
        struct stat st2 = {};
        fstat(fd, &st2);
        ok(st.st_ino == st2.st_ino && st.st_uid == OWNER, "stat from the helper matches the fd");
        ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is O_CLOEXEC");
        char buf[64] = "";
        read(fd, buf, sizeof buf - 1);
        is_str(buf, text, "read through the fd");
        close(fd);
        fd = policy_open_as_user(OWNER, OWNER, trap, O_PATH, &st, &e);
        ok(fd >= 0 && S_ISLNK(st.st_mode), "O_PATH opens the symlink itself, not /etc/shadow");
        close(fd);
        /* A helper that hangs (here: a FIFO without a reader; FUSE could do it too) is given up. */
        is(policy_open_as_user(OWNER, OWNER, fifo, O_WRONLY, NULL, &e), -ETIMEDOUT,
           "a hanging helper times out");
        _cleanup_free_ char *w7 = xprintf("Timed out after 5000 ms trying to open '%s' as uid 4242", fifo);
        is_str(e.message, w7, "message");
        warren_error_clear(&e);
        is(policy_open_as_user(OWNER, OWNER, rootonly, O_RDONLY, NULL, &e), -EACCES,
           "open a root-only file as the user");
        _cleanup_free_ char *w6 = xprintf("Failed to open '%s' as uid 4242: Permission denied", rootonly);
        is_str(e.message, w6, "message");
        warren_error_clear(&e);
}

int main(void) {
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (acts as other uids)\n");
                return 0;
        }
        if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(cdir, sizeof cdir, "%s/containers/c1", tmpdir);
        snprintf(share, sizeof share, "%s/share/config", tmpdir);
        snprintf(home, sizeof home, "%s/home", tmpdir);
        include_allow[0] = share;
        include_allow[1] = (char *) "/usr/share/lxc/config";
        mkdir(home, 0755);
        chown(home, OWNER, OWNER);
        _cleanup_free_ char *su = xprintf("%s/subuid", tmpdir), *sg = xprintf("%s/subgid", tmpdir);
        const char *ids = "4242:100000:65536\nbob:165536:65536\n4242:400000:65536\n";
        write_file_atomic_at(AT_FDCWD, su, ids, strlen(ids), 0644);
        write_file_atomic_at(AT_FDCWD, sg, ids, strlen(ids), 0644);
        WarrenError e = WARREN_ERROR_NULL;
        if (idmap_allowance_load(su, sg, OWNER, NULL, &allowance, &e) < 0) {
                printf("Bail out! %s\n", warren_error_message(&e));
                return 1;
        }

        test_items();
        test_bind_sources();
        test_hard_errors();
        test_change();
        test_includes();
        test_read_user_file();

        idmap_allowance_free(allowance);
        char cmd[PATH_MAX];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                ok(0, "rm -rf %s", tmpdir);
        return done_testing();
}
