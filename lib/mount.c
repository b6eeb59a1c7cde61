/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "config.h"
#include "mount.h"
#include "policy.h"

#define DEV_TMPFS_SIZE_DEFAULT "500k"
#define PROC_FD_PATH_MAX 64

typedef struct CgroupV1 {
        char *name;    /* directory under /sys/fs/cgroup, from the host's mount point */
        char *options; /* controllers / name=, for mount(2) data */
} CgroupV1;

/* How the host source of a bind entry is reached. */
typedef enum BindSource {
        BIND_BY_PATH, /* looked up by the init (root's containers, included files) */
        BIND_BY_TREE, /* a detached clone made here, from the fd the owner rule opened */
        BIND_SKIPPED, /* optional, and the source does not exist */
} BindSource;

typedef struct PlanEntry {
        BindSource how;
        int tree_fd; /* BIND_BY_TREE */
} PlanEntry;

struct MountPlan {
        MountAuto autos;
        MountEntry *entries;
        PlanEntry *plan_entries; /* parallel to entries */
        size_t n_entries;
        int *tree_fds; /* every PlanEntry.tree_fd, for mount_plan_fds() */
        size_t n_tree_fds;
        bool autodev;
        char *dev_tmpfs_size;
        CgroupV1 *cgroup_v1;
        size_t n_cgroup_v1;
        bool cgroup_v2;
};

/* ---- parsing (parent) ---- */

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mount_flag_table[] = {
        { "async", true, MS_SYNCHRONOUS },
        { "atime", true, MS_NOATIME },
        { "bind", false, MS_BIND },
        { "defaults", false, 0 },
        { "dev", true, MS_NODEV },
        { "diratime", true, MS_NODIRATIME },
        { "dirsync", false, MS_DIRSYNC },
        { "exec", true, MS_NOEXEC },
        { "lazytime", false, MS_LAZYTIME },
        { "mand", false, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },
        { "nodev", false, MS_NODEV },
        { "nodiratime", false, MS_NODIRATIME },
        { "noexec", false, MS_NOEXEC },
        { "nomand", true, MS_MANDLOCK },
        { "norelatime", true, MS_RELATIME },
        { "nostrictatime", true, MS_STRICTATIME },
        { "nosuid", false, MS_NOSUID },
        { "rbind", false, MS_BIND | MS_REC },
        { "relatime", false, MS_RELATIME },
        { "remount", false, MS_REMOUNT },
        { "ro", false, MS_RDONLY },
        { "rw", true, MS_RDONLY },
        { "strictatime", false, MS_STRICTATIME },
        { "suid", true, MS_NOSUID },
        { "sync", false, MS_SYNCHRONOUS },
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_table[] = {
        { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* fstab escapes: \NNN octal (\040 is a space). */
static char *fstab_unescape(const char *s, size_t n) {
        char *r = malloc(n + 1), *d = r;
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *d++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *d++ = s[i];
        }
        *d = 0;
        return r;
}

void mount_entry_done(MountEntry *e) {
        if (!e)
                return;
        free(e->line);
        free(e->source);
        free(e->target);
        free(e->fstype);
        free(e->data);
        *e = (MountEntry){};
}

static int entry_add_option(MountEntry *e, const char *opt, char **data, WarrenError *reterr) {
        for (size_t i = 0; i < ELEMENTSOF(mount_flag_table); i++)
                if (streq(opt, mount_flag_table[i].name)) {
                        if (mount_flag_table[i].clear)
                                e->flags &= ~mount_flag_table[i].flag;
                        else
                                e->flags |= mount_flag_table[i].flag;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(propagation_table); i++)
                if (streq(opt, propagation_table[i].name)) {
                        e->propagation = propagation_table[i].flag;
                        return 0;
                }
        if (streq(opt, "optional")) {
                e->optional = true;
                return 0;
        }
        if (strncmp(opt, "create=", 7) == 0) {
                if (streq(opt + 7, "dir"))
                        e->create = MOUNT_CREATE_DIR;
                else if (streq(opt + 7, "file"))
                        e->create = MOUNT_CREATE_FILE;
                else
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid mount entry '%s': unknown option '%s'", e->line,
                                                opt);
                return 0;
        }
        if (streq(opt, "relative") || strncmp(opt, "idmap=", 6) == 0)
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "Invalid mount entry '%s': option '%s' is not supported", e->line,
                                        opt);
        /* "BIND" would go to the filesystem as data and the entry would
         * never mount, as with LXC: options are case-sensitive. */
        const char *lower = NULL;
        for (size_t i = 0; i < ELEMENTSOF(mount_flag_table) && !lower; i++)
                if (strcasecmp(opt, mount_flag_table[i].name) == 0)
                        lower = mount_flag_table[i].name;
        for (size_t i = 0; i < ELEMENTSOF(propagation_table) && !lower; i++)
                if (strcasecmp(opt, propagation_table[i].name) == 0)
                        lower = propagation_table[i].name;
        if (!lower && strcasecmp(opt, "optional") == 0)
                lower = "optional";
        if (lower)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid mount entry '%s': unknown option '%s' (options are "
                                        "case-sensitive: '%s')",
                                        e->line, opt, lower);
        /* Filesystem specific (size=, mode=, ...): handed to the kernel. */
        if (*data) {
                char *n;
                if (asprintf(&n, "%s,%s", *data, opt) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                free(*data);
                *data = n;
        } else if (!(*data = strdup(opt)))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        return 0;
}

int mount_entry_parse(const char *line, MountEntry *ret, WarrenError *reterr) {
        _cleanup_(mount_entry_done) MountEntry e = {};
        _cleanup_strv_free_ char **opts = NULL;
        char *fields[6] = {};
        size_t n = 0;
        const char *p;
        int r = 0;

        e.line = strdup(line);
        if (!e.line)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        /* Trim for messages: the value as a human wrote it. */
        for (char *t = e.line + strlen(e.line); t > e.line && strchr(" \t\n", t[-1]); t--)
                t[-1] = 0;

        p = line;
        for (;;) {
                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                size_t l = strcspn(p, " \t\n");
                if (n == ELEMENTSOF(fields)) {
                        r = warren_error_set(reterr, EINVAL, "Invalid mount entry '%s': too many fields",
                                             e.line);
                        goto out;
                }
                fields[n] = fstab_unescape(p, l);
                if (!fields[n]) {
                        r = warren_error_set(reterr, ENOMEM, "Out of memory");
                        goto out;
                }
                n++;
                p += l;
        }
        if (n < 4) {
                r = warren_error_set(
                        reterr, EINVAL,
                        "Invalid mount entry '%s': expected 'source target fstype options [dump [pass]]'",
                        e.line);
                goto out;
        }
        for (size_t i = 4; i < n; i++)
                if (strspn(fields[i], "0123456789") != strlen(fields[i])) {
                        r = warren_error_set(reterr, EINVAL,
                                             "Invalid mount entry '%s': '%s' is not a number", e.line,
                                             fields[i]);
                        goto out;
                }

        e.source = TAKE_PTR(fields[0]);
        e.target = TAKE_PTR(fields[1]);
        e.fstype = TAKE_PTR(fields[2]);

        opts = strv_split(fields[3], ",");
        if (!opts) {
                r = warren_error_set(reterr, ENOMEM, "Out of memory");
                goto out;
        }
        STRV_FOREACH(o, opts) {
                r = entry_add_option(&e, *o, &e.data, reterr);
                if (r < 0)
                        goto out;
        }
        if ((e.flags & MS_REMOUNT) && (e.flags & MS_BIND)) {
                r = warren_error_set(reterr, EINVAL, "Invalid mount entry '%s': remount and bind together",
                                     e.line);
                goto out;
        }
        if (streq(e.fstype, "none") && !(e.flags & (MS_BIND | MS_REMOUNT))) {
                r = warren_error_set(reterr, EINVAL,
                                     "Invalid mount entry '%s': type 'none' needs the option bind, rbind or "
                                     "remount",
                                     e.line);
                goto out;
        }
        *ret = e;
        e = (MountEntry){};
out:
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                free(fields[i]);
        return r;
}

int mount_auto_parse(const char *value, bool keeps_sys_admin, MountAuto *m, WarrenError *reterr) {
        _cleanup_strv_free_ char **items = strv_split(value, " \t");
        if (!items)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        STRV_FOREACH(i, items) {
                const char *it = *i;
                if (streq(it, "proc") || streq(it, "proc:mixed"))
                        m->proc = MOUNT_AUTO_MIXED;
                else if (streq(it, "proc:rw"))
                        m->proc = MOUNT_AUTO_RW;
                else if (streq(it, "sys") || streq(it, "sys:mixed"))
                        m->sys = MOUNT_AUTO_MIXED;
                else if (streq(it, "sys:ro"))
                        m->sys = MOUNT_AUTO_RO;
                else if (streq(it, "sys:rw"))
                        m->sys = MOUNT_AUTO_RW;
                else if (strncmp(it, "cgroup", 6) == 0 &&
                         (it[6] == 0 || it[6] == ':' || strncmp(it + 6, "-full", 5) == 0)) {
                        const char *q = it + 6;
                        if (strncmp(q, "-full", 5) == 0)
                                q += 5;
                        if (*q && *q != ':')
                                goto bad;
                        MountAutoMode mode = keeps_sys_admin ? MOUNT_AUTO_RW : MOUNT_AUTO_MIXED;
                        if (*q == ':') {
                                q++;
                                size_t l = strcspn(q, ":");
                                if (l == 5 && strncmp(q, "mixed", 5) == 0)
                                        mode = MOUNT_AUTO_MIXED;
                                else if (l == 2 && strncmp(q, "ro", 2) == 0)
                                        mode = MOUNT_AUTO_RO;
                                else if (l == 2 && strncmp(q, "rw", 2) == 0)
                                        mode = MOUNT_AUTO_RW;
                                else if (!(l == 5 && strncmp(q, "force", 5) == 0))
                                        goto bad;
                                q += l;
                                if (*q && !streq(q, ":force"))
                                        goto bad;
                        }
                        m->cgroup = mode;
                } else if (strncmp(it, "shmounts:", 9) == 0)
                        return warren_error_set(reterr, EOPNOTSUPP, "Unsupported lxc.mount.auto item '%s'",
                                                it);
                else
                        goto bad;
                continue;
        bad:
                return warren_error_set(reterr, EINVAL, "Invalid lxc.mount.auto item '%s'", it);
        }
        return 0;
}

static uint64_t ms_to_mount_attr(unsigned long flags, uint64_t *ret_clr);

/* A bind of a non-root owner's own config: the source is opened by the
 * owner rule (policy_open_bind_source()) and cloned from that fd now, in
 * the host's mount namespace, with the entry's attributes; the init only
 * attaches the clone. Nothing is looked up by path after the check. */
static int plan_bind_tree(const MountPlanOptions *o, const MountEntry *e, PlanEntry *pe,
                          WarrenError *reterr) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_close_ int src = -EBADF, tree = -EBADF;
        bool recursive = (e->flags & MS_REC) || (e->propagation & MS_REC);
        uint64_t clr, set = ms_to_mount_attr(e->flags, &clr);

        src = policy_open_bind_source(o->owner_uid, o->owner_gid, e->source, NULL, &err);
        if (src == -ENOENT && e->optional) {
                log_debug("Skipping optional mount entry '%s': %s", e->line, warren_error_message(&err));
                pe->how = BIND_SKIPPED;
                return 0;
        }
        if (src < 0)
                return warren_error_set(reterr, src, "lxc.mount.entry '%s': %s", e->line,
                                        warren_error_message(&err));
        tree = open_tree(src, "",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                 (recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
                return warren_error_set(reterr, errno, "lxc.mount.entry '%s': failed to clone '%s': %m",
                                        e->line, e->source);
        /* A clone of a shared mount joins its peer group: private first, so
         * that nothing mounted on it inside reaches the host. */
        struct mount_attr a = { .attr_set = set, .attr_clr = clr, .propagation = MS_PRIVATE };
        unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        if (mount_setattr(tree, "", flags, &a, sizeof a) < 0)
                return warren_error_set(reterr, errno, "lxc.mount.entry '%s': failed to set its options: %m",
                                        e->line);
        unsigned long prop = e->propagation & ~(unsigned long) MS_REC;
        if (prop && prop != MS_PRIVATE) {
                a = (struct mount_attr){ .propagation = prop };
                if (mount_setattr(tree, "", flags, &a, sizeof a) < 0)
                        return warren_error_set(reterr, errno,
                                                "lxc.mount.entry '%s': failed to set its propagation: %m",
                                                e->line);
        }
        /* Above stdio, which the init replaces before it mounts. */
        int fd = fcntl(tree, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to duplicate a mount fd: %m");
        pe->how = BIND_BY_TREE;
        pe->tree_fd = fd;
        return 0;
}

static int plan_add_entry(MountPlan *p, const MountPlanOptions *o, const char *line, bool owner_rule,
                          WarrenError *reterr) {
        _cleanup_(mount_entry_done) MountEntry e = {};
        PlanEntry pe = { .how = BIND_BY_PATH, .tree_fd = -EBADF };
        int r = mount_entry_parse(line, &e, reterr);
        if (r < 0)
                return r;
        MountEntry *n = reallocarray(p->entries, p->n_entries + 1, sizeof(MountEntry));
        if (!n)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        p->entries = n;
        PlanEntry *pn = reallocarray(p->plan_entries, p->n_entries + 1, sizeof(PlanEntry));
        if (!pn)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        p->plan_entries = pn;
        int *fds = reallocarray(p->tree_fds, p->n_tree_fds + 1, sizeof(int));
        if (!fds)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        p->tree_fds = fds;

        if (owner_rule && (e.flags & MS_BIND)) {
                r = plan_bind_tree(o, &e, &pe, reterr);
                if (r < 0)
                        return r;
        }
        if (pe.how == BIND_BY_TREE)
                p->tree_fds[p->n_tree_fds++] = pe.tree_fd;
        p->plan_entries[p->n_entries] = pe;
        p->entries[p->n_entries++] = e;
        e = (MountEntry){};
        return 0;
}

static int plan_read_fstab(MountPlan *p, const MountPlanOptions *o, const char *path, bool owner_rule,
                           WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (path[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid lxc.mount.fstab '%s': not an absolute path",
                                        path);
        r = read_full_file(path, LXC_CONFIG_MAX_SIZE, &text, NULL);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read lxc.mount.fstab '%s': %s", path,
                                        strerror(-r));
        for (char *l = text, *nl; l && *l; l = nl) {
                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                const char *s = l + strspn(l, " \t");
                if (!*s || *s == '#')
                        continue;
                r = plan_add_entry(p, o, s, owner_rule, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Mount options that are per-mount or generic, not a hierarchy's identity. */
static bool cgroup_option_is_generic(const char *o) {
        static const char *const generic[] = {
                "rw",    "ro",     "relatime", "noatime", "strictatime", "nodiratime", "nosuid",
                "nodev", "noexec", "sync",     "dirsync", "lazytime",    "mand",       "clone_children",
        };
        for (size_t i = 0; i < ELEMENTSOF(generic); i++)
                if (streq(o, generic[i]))
                        return true;
        return strncmp(o, "release_agent=", 14) == 0;
}

static int plan_add_cgroup_v1(MountPlan *p, const char *dir, const char *opts, WarrenError *reterr) {
        _cleanup_strv_free_ char **l = strv_split(opts, ",");
        _cleanup_strv_free_ char **keep = NULL;
        _cleanup_free_ char *options = NULL, *name = NULL;
        const char *slash = strrchr(dir, '/');
        bool controller = false;

        if (!l)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        name = strdup(slash ? slash + 1 : dir);
        if (!name)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (!*name || streq(name, ".") || streq(name, ".."))
                return 0; /* not a per-hierarchy directory: nothing to mirror */
        for (size_t i = 0; i < p->n_cgroup_v1; i++)
                if (streq(p->cgroup_v1[i].name, name))
                        return 0; /* the same hierarchy mounted twice */

        STRV_FOREACH(o, l) {
                if (cgroup_option_is_generic(*o))
                        continue;
                if (strncmp(*o, "name=", 5) != 0 && !streq(*o, "none") && !streq(*o, "xattr") &&
                    !streq(*o, "noprefix") && !streq(*o, "cpuset_v2_mode") && !streq(*o, "favordynmods"))
                        controller = true;
                if (strv_extend(&keep, *o) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        /* Without a controller the kernel needs "none" to find a named hierarchy. */
        if (!controller && !strv_contains(keep, "none") && strv_extend(&keep, "none") < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        options = strv_join(keep, ",");
        if (!options)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        CgroupV1 *n = reallocarray(p->cgroup_v1, p->n_cgroup_v1 + 1, sizeof(CgroupV1));
        if (!n)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        p->cgroup_v1 = n;
        p->cgroup_v1[p->n_cgroup_v1++] = (CgroupV1){ TAKE_PTR(name), TAKE_PTR(options) };
        return 0;
}

static int plan_read_cgroup_mounts(MountPlan *p, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file("/proc/self/mounts", 16U * 1024U * 1024U, &text, NULL);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read /proc/self/mounts: %s", strerror(-r));
        for (char *l = text, *nl; l && *l; l = nl) {
                char src[4096], dir[4096], type[64], opts[4096];
                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                if (sscanf(l, "%4095s %4095s %63s %4095s", src, dir, type, opts) != 4)
                        continue;
                if (streq(type, "cgroup2"))
                        p->cgroup_v2 = true;
                else if (streq(type, "cgroup")) {
                        _cleanup_free_ char *d = fstab_unescape(dir, strlen(dir));
                        if (!d)
                                return warren_error_set(reterr, ENOMEM, "Out of memory");
                        r = plan_add_cgroup_v1(p, d, opts, reterr);
                        if (r < 0)
                                return r;
                }
        }
        if (!p->cgroup_v2 && p->n_cgroup_v1 == 0)
                return warren_error_set(
                        reterr, ENOMEDIUM,
                        "lxc.mount.auto asks for cgroup, but the host has no cgroup mounted");
        return 0;
}

/* lxc.mount.auto, lxc.autodev, lxc.autodev.tmpfs.size: no file is read. */
static int plan_settings(MountPlan *p, const LxcConfig *c, bool keeps_sys_admin, WarrenError *reterr) {
        const char *v;
        int r;
        _cleanup_strv_free_ char **autos = lxc_config_get_all(c, "lxc.mount.auto");
        if (!autos)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        STRV_FOREACH(a, autos) {
                r = mount_auto_parse(*a, keeps_sys_admin, &p->autos, reterr);
                if (r < 0)
                        return r;
        }
        v = lxc_config_get(c, "lxc.autodev");
        if (!v || streq(v, "1"))
                p->autodev = true;
        else if (!streq(v, "0"))
                return warren_error_set(reterr, EINVAL, "Invalid lxc.autodev '%s': must be 0 or 1", v);

        v = lxc_config_get(c, "lxc.autodev.tmpfs.size");
        if (!isempty(v) && !streq(v, "0")) {
                /* LXC's unit is bytes; tmpfs takes a byte count as is. */
                if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 15)
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid lxc.autodev.tmpfs.size '%s': not a byte count", v);
                p->dev_tmpfs_size = strdup(v);
        } else
                p->dev_tmpfs_size = strdup(DEV_TMPFS_SIZE_DEFAULT);
        if (!p->dev_tmpfs_size)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        return 0;
}

int mount_config_check(const LxcConfig *c, bool keeps_sys_admin, bool userns, bool host_netns,
                       WarrenError *reterr) {
        _cleanup_mount_plan_ MountPlan *p = calloc(1, sizeof(MountPlan));
        if (!p)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = plan_settings(p, c, keeps_sys_admin, reterr);
        if (r < 0)
                return r;
        const char *v = lxc_config_get(c, "lxc.mount.fstab");
        if (!isempty(v) && v[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid lxc.mount.fstab '%s': not an absolute path",
                                        v);
        _cleanup_strv_free_ char **entries = lxc_config_get_all(c, "lxc.mount.entry");
        if (!entries)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        STRV_FOREACH(e, entries) {
                _cleanup_(mount_entry_done) MountEntry m = {};
                r = mount_entry_parse(*e, &m, reterr);
                if (r < 0)
                        return r;
        }
        return userns ? mount_plan_check_userns(p, host_netns, reterr) : 0;
}

int mount_plan_new(const LxcConfig *c, const MountPlanOptions *o, MountPlan **ret, WarrenError *reterr) {
        static const MountPlanOptions defaults = {};
        _cleanup_mount_plan_ MountPlan *p = calloc(1, sizeof(MountPlan));
        int r;

        if (!p)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (!o)
                o = &defaults;

        r = plan_settings(p, c, o->keeps_sys_admin, reterr);
        if (r < 0)
                return r;

        /* What root wrote in a file the config includes keeps LXC's
         * semantics; the owner's own lines go through the owner rule. */
        const char *fstab = NULL;
        bool fstab_included = false;
        for (size_t i = 0, n = lxc_config_n_items(c); i < n; i++) {
                const char *k, *val;
                lxc_config_item(c, i, &k, &val);
                if (streq(k, "lxc.mount.fstab")) {
                        fstab = isempty(val) ? NULL : val;
                        fstab_included = lxc_config_item_included(c, i);
                }
        }
        if (fstab) {
                r = plan_read_fstab(p, o, fstab, o->owner_uid != 0 && !fstab_included, reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0, n = lxc_config_n_items(c); i < n; i++) {
                const char *k, *val;
                lxc_config_item(c, i, &k, &val);
                if (!streq(k, "lxc.mount.entry") || isempty(val))
                        continue;
                r = plan_add_entry(p, o, val, o->owner_uid != 0 && !lxc_config_item_included(c, i), reterr);
                if (r < 0)
                        return r;
        }

        if (p->autos.cgroup != MOUNT_AUTO_NONE) {
                r = plan_read_cgroup_mounts(p, reterr);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

const int *mount_plan_fds(const MountPlan *p, size_t *ret_n) {
        *ret_n = p->n_tree_fds;
        return p->tree_fds;
}

int mount_plan_check_userns(const MountPlan *p, bool host_netns, WarrenError *reterr) {
        if (host_netns && p->autos.sys != MOUNT_AUTO_NONE)
                return warren_error_set(
                        reterr, EPERM,
                        "lxc.mount.auto sys: sysfs cannot be mounted in a user namespace that "
                        "shares the host's network namespace (lxc.net.0.type = none)");
        return 0;
}

MountPlan *mount_plan_free(MountPlan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_entries; i++)
                mount_entry_done(&p->entries[i]);
        free(p->entries);
        free(p->plan_entries);
        for (size_t i = 0; i < p->n_tree_fds; i++)
                safe_close(p->tree_fds[i]);
        free(p->tree_fds);
        for (size_t i = 0; i < p->n_cgroup_v1; i++) {
                free(p->cgroup_v1[i].name);
                free(p->cgroup_v1[i].options);
        }
        free(p->cgroup_v1);
        free(p->dev_tmpfs_size);
        free(p);
        return NULL;
}

/* ---- mounting (child) ---- */

static int open_in_root(int rootfd, const char *path, int flags, mode_t mode) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* mkdir -p inside the root; returns an O_PATH fd of the directory. */
static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
        _cleanup_close_ int owned = -EBADF;
        int fd, dirfd = rootfd;

        fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
        if (fd != -ENOENT)
                return fd;

        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        for (char *e = parent + strlen(parent); e > parent && e[-1] == '/'; e--)
                e[-1] = 0;
        char *slash = strrchr(parent, '/');
        const char *base = slash ? slash + 1 : parent;
        if (slash && slash > parent) {
                *slash = 0;
                owned = mkdir_in_root(rootfd, parent, mode);
                if (owned < 0)
                        return owned;
                dirfd = owned;
        }
        if (mkdirat(dirfd, base, mode) < 0 && errno != EEXIST)
                return -errno;
        /* Resolve again from the root: base may be a symlink made meanwhile. */
        return open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
}

/* Creates an empty file (and missing parents) inside the root; returns an
 * O_PATH fd of what is there. Never opens an existing device for writing. */
static int mkfile_in_root(int rootfd, const char *path, mode_t mode) {
        _cleanup_close_ int owned = -EBADF;
        int fd, dirfd = rootfd;

        fd = open_in_root(rootfd, path, O_PATH, 0);
        if (fd != -ENOENT)
                return fd;

        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        char *slash = strrchr(parent, '/');
        if (slash && slash[1] == 0)
                return -EISDIR;
        const char *base = slash ? slash + 1 : parent;
        if (slash && slash > parent) {
                *slash = 0;
                owned = mkdir_in_root(rootfd, parent, 0755);
                if (owned < 0)
                        return owned;
                dirfd = owned;
        }
        if (mknodat(dirfd, base, S_IFREG | mode, 0) < 0 && errno != EEXIST)
                return -errno;
        return open_in_root(rootfd, path, O_PATH, 0);
}

static void proc_fd_path(char buf[static PROC_FD_PATH_MAX], int fd, const char *rel) {
        snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d%s%s", fd, rel && *rel ? "/" : "", rel ? rel : "");
}

/* mount(2) of a filesystem on fd (+ rel, only for paths we just created). */
static int mount_fs_at(const char *source, int fd, const char *rel, const char *fstype, unsigned long flags,
                       const char *data) {
        char p[PROC_FD_PATH_MAX];
        proc_fd_path(p, fd, rel);
        return mount(source, p, fstype, flags, data) < 0 ? -errno : 0;
}

static uint64_t ms_to_mount_attr(unsigned long flags, uint64_t *ret_clr) {
        uint64_t set = 0;
        if (flags & MS_RDONLY)
                set |= MOUNT_ATTR_RDONLY;
        if (flags & MS_NOSUID)
                set |= MOUNT_ATTR_NOSUID;
        if (flags & MS_NODEV)
                set |= MOUNT_ATTR_NODEV;
        if (flags & MS_NOEXEC)
                set |= MOUNT_ATTR_NOEXEC;
        if (flags & MS_NODIRATIME)
                set |= MOUNT_ATTR_NODIRATIME;
        *ret_clr = 0;
        if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
                *ret_clr = MOUNT_ATTR__ATIME;
                set |= (flags & MS_NOATIME)       ? MOUNT_ATTR_NOATIME
                       : (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                                  : MOUNT_ATTR_RELATIME;
        }
        return set;
}

/* Clones the mount (tree with recursive) at from_dfd/from ("" = the fd),
 * changes its attributes while detached, attaches it at to_dfd/to. */
static int bind_at(int from_dfd, const char *from, int to_dfd, const char *to, bool recursive,
                   uint64_t attr_set, uint64_t attr_clr, uint64_t propagation) {
        _cleanup_close_ int tree = -EBADF;

        tree = open_tree(from_dfd, from,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                                 (*from ? 0 : AT_EMPTY_PATH));
        if (tree < 0)
                return -errno;
        if (attr_set || attr_clr || propagation) {
                struct mount_attr a = { .attr_set = attr_set,
                                        .attr_clr = attr_clr,
                                        .propagation = propagation };
                if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) <
                    0)
                        return -errno;
        }
        if (move_mount(tree, "", to_dfd, to, MOVE_MOUNT_F_EMPTY_PATH | (*to ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) <
            0)
                return -errno;
        return 0;
}

static int set_readonly(int fd, const char *rel) {
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        return mount_setattr(fd, rel, *rel ? 0 : AT_EMPTY_PATH, &a, sizeof a) < 0 ? -errno : 0;
}

static int apply_entry(int rootfd, const MountEntry *e, const PlanEntry *pe) {
        _cleanup_close_ int target = -EBADF;
        int r;

        target = e->create == MOUNT_CREATE_DIR    ? mkdir_in_root(rootfd, e->target, 0755)
                 : e->create == MOUNT_CREATE_FILE ? mkfile_in_root(rootfd, e->target, 0644)
                                                  : open_in_root(rootfd, e->target, O_PATH, 0);
        if (target < 0)
                return target;

        if (pe->how == BIND_BY_TREE) {
                /* Cloned and set up by the parent: only attach it. */
                if (move_mount(pe->tree_fd, "", target, "",
                               MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return -errno;
                return 0;
        }
        if (e->flags & MS_BIND) {
                uint64_t clr, set = ms_to_mount_attr(e->flags, &clr);
                uint64_t prop = e->propagation & ~(unsigned long) MS_REC;
                return bind_at(AT_FDCWD, e->source, target, "", e->flags & MS_REC, set, clr, prop);
        }

        r = mount_fs_at(e->source, target, NULL, e->fstype, e->flags, e->data);
        if (r < 0 || !e->propagation)
                return r;
        /* The fd still names the covered directory: look the new mount up. */
        target = safe_close(target);
        target = open_in_root(rootfd, e->target, O_PATH, 0);
        if (target < 0)
                return target;
        return mount_fs_at(NULL, target, NULL, NULL, e->propagation, NULL);
}

static int setup_entries(int rootfd, const MountPlan *p, WarrenError *reterr) {
        for (size_t i = 0; i < p->n_entries; i++) {
                const MountEntry *e = &p->entries[i];
                if (p->plan_entries[i].how == BIND_SKIPPED)
                        continue;
                int r = apply_entry(rootfd, e, &p->plan_entries[i]);
                if (r < 0) {
                        if (e->optional) {
                                log_debug("Ignoring optional mount entry '%s': %s", e->line, strerror(-r));
                                continue;
                        }
                        return warren_error_set(reterr, r, "Failed to mount entry '%s': %s", e->line,
                                                strerror(-r));
                }
        }
        return 0;
}

static int setup_proc(int rootfd, MountAutoMode mode, WarrenError *reterr) {
        _cleanup_close_ int dir = -EBADF, proc = -EBADF, net = -EBADF;
        const char *step = "proc";
        int r;

        dir = mkdir_in_root(rootfd, "proc", 0755);
        if (dir < 0) {
                r = dir;
                goto fail;
        }
        r = mount_fs_at("proc", dir, NULL, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (r < 0 || mode != MOUNT_AUTO_MIXED)
                goto done;

        proc = open_in_root(rootfd, "proc", O_PATH | O_DIRECTORY, 0);
        if (proc < 0) {
                r = proc;
                goto fail;
        }
        /* /proc/sys/net belongs to the container's own netns: keep a rw copy
         * to put back over the read-only /proc/sys. */
        step = "/proc/sys read-only";
        net = open_tree(proc, "sys/net", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (net < 0) {
                r = -errno;
                goto fail;
        }
        r = bind_at(proc, "sys", proc, "sys", false, MOUNT_ATTR_RDONLY, 0, 0);
        if (r < 0)
                goto fail;
        step = "/proc/sys/net";
        if (move_mount(net, "", proc, "sys/net", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                r = -errno;
                goto fail;
        }
        step = "/proc/sysrq-trigger read-only";
        r = bind_at(proc, "sysrq-trigger", proc, "sysrq-trigger", false, MOUNT_ATTR_RDONLY, 0, 0);
        if (r == -ENOENT)
                r = 0; /* a kernel without CONFIG_MAGIC_SYSRQ */
done:
        if (r >= 0)
                return 0;
fail:
        return warren_error_set(reterr, r, "Failed to mount %s (lxc.mount.auto): %s", step, strerror(-r));
}

static int setup_sys(int rootfd, MountAutoMode mode, WarrenError *reterr) {
        _cleanup_close_ int dir = -EBADF, sys = -EBADF;
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        int r;

        dir = mkdir_in_root(rootfd, "sys", 0755);
        if (dir < 0) {
                r = dir;
                goto fail;
        }
        if (mode != MOUNT_AUTO_RW)
                flags |= MS_RDONLY;
        r = mount_fs_at("sysfs", dir, NULL, "sysfs", flags, NULL);
        if (r < 0 || mode != MOUNT_AUTO_MIXED)
                goto done;

        /* The container's own network devices stay writable. */
        sys = open_in_root(rootfd, "sys", O_PATH | O_DIRECTORY, 0);
        if (sys < 0) {
                r = sys;
                goto fail;
        }
        r = bind_at(sys, "devices/virtual/net", sys, "devices/virtual/net", false, 0, MOUNT_ATTR_RDONLY, 0);
        /* In a user namespace nested in a container whose sysfs is
         * read-only, the kernel locks ours read-only as well (it may only
         * be as permissive as the one visible there): it stays so. */
        if (r == -EPERM)
                r = 0;
done:
        if (r >= 0)
                return 0;
fail:
        return warren_error_set(reterr, r, "Failed to mount sysfs at /sys (lxc.mount.auto): %s",
                                strerror(-r));
}

static int setup_cgroup(int rootfd, const MountPlan *p, WarrenError *reterr) {
        unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
        _cleanup_close_ int dir = -EBADF, tmp = -EBADF;
        const char *what = "/sys/fs/cgroup";
        int r;

        if (p->autos.cgroup == MOUNT_AUTO_RO)
                flags |= MS_RDONLY;
        dir = mkdir_in_root(rootfd, "sys/fs/cgroup", 0755);
        if (dir < 0) {
                r = dir;
                goto fail;
        }
        if (p->n_cgroup_v1 == 0) {
                r = mount_fs_at("cgroup2", dir, NULL, "cgroup2", flags, NULL);
                goto done;
        }

        r = mount_fs_at("cgroup", dir, NULL, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k");
        if (r < 0)
                goto fail;
        tmp = open_in_root(rootfd, "sys/fs/cgroup", O_PATH | O_DIRECTORY, 0);
        if (tmp < 0) {
                r = tmp;
                goto fail;
        }
        for (size_t i = 0; i < p->n_cgroup_v1; i++) {
                const CgroupV1 *h = &p->cgroup_v1[i];
                what = h->name;
                if (mkdirat(tmp, h->name, 0755) < 0) {
                        r = -errno;
                        goto fail;
                }
                r = mount_fs_at("cgroup", tmp, h->name, "cgroup", flags, h->options);
                if (r < 0)
                        goto fail;
                if (!strchr(h->name, ','))
                        continue;
                /* Co-mounted controllers: "cpu" -> "cpu,cpuacct" as on hosts. */
                _cleanup_strv_free_ char **ctrls = strv_split(h->name, ",");
                STRV_FOREACH(c, ctrls)
                        if (symlinkat(h->name, tmp, *c) < 0 && errno != EEXIST) {
                                r = -errno;
                                goto fail;
                        }
        }
        if (p->cgroup_v2) {
                what = "unified";
                if (mkdirat(tmp, "unified", 0755) < 0) {
                        r = -errno;
                        goto fail;
                }
                r = mount_fs_at("cgroup2", tmp, "unified", "cgroup2", flags, NULL);
                if (r < 0)
                        goto fail;
        }
        what = "/sys/fs/cgroup";
        if (p->autos.cgroup != MOUNT_AUTO_RW)
                r = set_readonly(tmp, "");
done:
        if (r >= 0)
                return 0;
fail:
        return warren_error_set(reterr, r, "Failed to mount cgroup %s (lxc.mount.auto): %s", what,
                                strerror(-r));
}

static const struct {
        const char *name;
        unsigned major, minor;
} dev_nodes[] = {
        { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static int setup_dev_tmpfs(int rootfd, const MountPlan *p, WarrenError *reterr) {
        _cleanup_close_ int dir = mkdir_in_root(rootfd, "dev", 0755);
        _cleanup_free_ char *opts = NULL;
        int r;

        if (dir < 0)
                return warren_error_set(reterr, dir, "Failed to create /dev: %s", strerror(-dir));
        if (asprintf(&opts, "mode=755,size=%s", p->dev_tmpfs_size) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        r = mount_fs_at("none", dir, NULL, "tmpfs", MS_NOSUID | MS_STRICTATIME, opts);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to mount tmpfs at /dev: %s", strerror(-r));
        return 0;
}

/* Like LXC's autodev, what a mount entry or hook already put in /dev stays
 * (userns.conf binds /dev/null and friends with create=file): only what is
 * missing is made. */
static int fill_dev(int dev, bool new_user_ns, WarrenError *reterr) {
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" },
                { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" },
                { "/proc/self/fd/2", "stderr" },
        };
        const char *what;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                what = dev_nodes[i].name;
                if (!new_user_ns) {
                        if (mknodat(dev, what, S_IFCHR | 0666,
                                    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0 &&
                            errno != EEXIST)
                                goto fail_errno;
                        continue;
                }
                /* mknod is not allowed in a user namespace: bind the host's node. */
                char host[32];
                snprintf(host, sizeof host, "/dev/%s", what);
                if (mknodat(dev, what, S_IFREG | 0666, 0) < 0) {
                        if (errno == EEXIST)
                                continue;
                        goto fail_errno;
                }
                r = bind_at(AT_FDCWD, host, dev, what, false, 0, 0, 0);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                what = links[i][1];
                if (symlinkat(links[i][0], dev, what) < 0 && errno != EEXIST)
                        goto fail_errno;
        }
        what = "shm";
        if (mkdirat(dev, "shm", 01777) < 0 && errno != EEXIST)
                goto fail_errno;
        r = mount_fs_at("shm", dev, "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        if (r < 0)
                goto fail;
        what = "mqueue";
        if (mkdirat(dev, "mqueue", 0755) < 0 && errno != EEXIST)
                goto fail_errno;
        r = mount_fs_at("mqueue", dev, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (r < 0)
                goto fail;
        return 0;

fail_errno:
        r = -errno;
fail:
        return warren_error_set(reterr, r, "Failed to create /dev/%s: %s", what, strerror(-r));
}

static int setup_devpts(int rootfd, int dev, WarrenError *reterr) {
        _cleanup_close_ int pts = -EBADF, target = -EBADF;
        struct stat st;
        int r;

        pts = mkdir_in_root(rootfd, "dev/pts", 0755);
        if (pts < 0) {
                r = pts;
                goto fail;
        }
        /* A new instance: the container sees only its own ptys. gid=5 fails
         * with EINVAL where group tty is not mapped. */
        r = mount_fs_at("devpts", pts, NULL, "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=0620,gid=5");
        if (r == -EINVAL)
                r = mount_fs_at("devpts", pts, NULL, "devpts", MS_NOSUID | MS_NOEXEC,
                                "newinstance,ptmxmode=0666,mode=0620");
        if (r < 0)
                goto fail;

        if (symlinkat("pts/ptmx", dev, "ptmx") == 0)
                return 0;
        if (errno != EEXIST) {
                r = -errno;
                goto fail;
        }
        /* A /dev/ptmx node from the rootfs (lxc.autodev = 0) would reach the
         * host's devpts: cover it with the new instance's. */
        if (fstatat(dev, "ptmx", &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                goto fail;
        }
        if (S_ISLNK(st.st_mode))
                return 0;
        pts = safe_close(pts);
        pts = open_in_root(rootfd, "dev/pts", O_PATH | O_DIRECTORY, 0);
        if (pts < 0) {
                r = pts;
                goto fail;
        }
        target = open_in_root(rootfd, "dev/ptmx", O_PATH, 0);
        if (target < 0) {
                r = target;
                goto fail;
        }
        r = bind_at(pts, "ptmx", target, "", false, 0, 0, 0);
        if (r >= 0)
                return 0;
fail:
        return warren_error_set(reterr, r, "Failed to set up /dev/pts: %s", strerror(-r));
}

static int bind_pty(int rootfd, const char *host, const char *name, WarrenError *reterr) {
        _cleanup_close_ int target = -EBADF;
        char path[64];
        int r;

        snprintf(path, sizeof path, "dev/%s", name);
        target = mkfile_in_root(rootfd, path, 0600);
        if (target < 0) {
                r = target;
                goto fail;
        }
        r = bind_at(AT_FDCWD, host, target, "", false, 0, 0, 0);
        if (r >= 0)
                return 0;
fail:
        return warren_error_set(reterr, r, "Failed to bind pty '%s' to /dev/%s: %s", host, name,
                                strerror(-r));
}

static int setup_ptys(int rootfd, const MountSetup *s, WarrenError *reterr) {
        int r;

        if (s->console_path) {
                r = bind_pty(rootfd, s->console_path, "console", reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; s->tty_paths && s->tty_paths[i]; i++) {
                char name[32];
                snprintf(name, sizeof name, "tty%zu", i + 1);
                r = bind_pty(rootfd, s->tty_paths[i], name, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pivot(int rootfd, WarrenError *reterr) {
        /* pivot_root(".", "."): the old root ends up on top of the new one,
         * where it can be detached without needing a directory for it. */
        if (fchdir(rootfd) < 0)
                return warren_error_set(reterr, errno, "Failed to enter rootfs: %m");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return warren_error_set(reterr, errno, "Failed to pivot_root into rootfs: %m");
        if (umount2(".", MNT_DETACH) < 0)
                return warren_error_set(reterr, errno, "Failed to detach old root: %m");
        if (chdir("/") < 0)
                return warren_error_set(reterr, errno, "Failed to change to /: %m");
        return 0;
}

int mount_setup_root(const MountPlan *p, const MountSetup *s, WarrenError *reterr) {
        _cleanup_close_ int rootfd = -EBADF, dev = -EBADF;
        int r;

        /* pivot_root needs the new root to be a mount point: attach the
         * rootfs tree on top of its own directory (the cwd), without a path
         * lookup. The tree fd then names the new mount. */
        if (s->rootfs_mount_fd >= 0)
                rootfd = fcntl(s->rootfs_mount_fd, F_DUPFD_CLOEXEC, 3);
        else
                rootfd = open_tree(AT_FDCWD, "",
                                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (rootfd < 0)
                return warren_error_set(reterr, errno, "Failed to bind-mount rootfs '%s': %m", s->rootfs);
        if (move_mount(rootfd, "", AT_FDCWD, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return warren_error_set(reterr, errno, "Failed to attach rootfs '%s': %m", s->rootfs);

        /* LXC's order: /dev tmpfs, proc and sys, fstab and entries (which may
         * target them), cgroups, then /dev contents and the ptys. */
        if (p->autodev) {
                r = setup_dev_tmpfs(rootfd, p, reterr);
                if (r < 0)
                        return r;
        }
        if (p->autos.proc != MOUNT_AUTO_NONE) {
                r = setup_proc(rootfd, p->autos.proc, reterr);
                if (r < 0)
                        return r;
        }
        if (p->autos.sys != MOUNT_AUTO_NONE) {
                r = setup_sys(rootfd, p->autos.sys, reterr);
                if (r < 0)
                        return r;
        }
        r = setup_entries(rootfd, p, reterr);
        if (r < 0)
                return r;
        if (p->autos.cgroup != MOUNT_AUTO_NONE) {
                r = setup_cgroup(rootfd, p, reterr);
                if (r < 0)
                        return r;
        }

        dev = mkdir_in_root(rootfd, "dev", 0755);
        if (dev < 0)
                return warren_error_set(reterr, dev, "Failed to open /dev: %s", strerror(-dev));
        if (p->autodev) {
                r = fill_dev(dev, s->new_user_ns, reterr);
                if (r < 0)
                        return r;
        }
        r = setup_devpts(rootfd, dev, reterr);
        if (r < 0)
                return r;
        r = setup_ptys(rootfd, s, reterr);
        if (r < 0)
                return r;

        if (s->before_pivot) {
                r = s->before_pivot(s->userdata, reterr);
                if (r < 0)
                        return r;
        }
        return pivot(rootfd, reterr);
}
