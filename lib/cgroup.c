/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"

#define CGROUP_FILE_MAX (64U * 1024U)
#define CGROUP_REMOVE_TIMEOUT_USEC (2U * 1000U * 1000U)
#define CGROUP_RETRY_USEC (10U * 1000U)
#define CGROUP_TREE_MAX_DEPTH 32U

struct Cgroup {
        CgroupLayout *layout;
        char *path;   /* "/<parent>/<name>", or "<base>/<name>" */
        char *v2_dir; /* <v2 mount><path>, or NULL */
        char *base;   /* cgroup_new_delegated(): the delegated parent, else NULL */
};

/* Controllers a v1 "cgroup" mount can carry, to tell them from mount flags. */
static const char *const v1_controller_names[] = {
        "cpu",   "cpuacct",    "cpuset",  "memory", "devices", "freezer", "net_cls", "net_prio",
        "blkio", "perf_event", "hugetlb", "pids",   "rdma",    "misc",    "debug",
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000U),
                               .tv_nsec = (long) (usec % 1000000U) * 1000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static char *path_join3(const char *a, const char *b, const char *c) {
        char *p = NULL;
        if (asprintf(&p, "%s%s%s%s%s", a, b ? "/" : "", strempty(b), c ? "/" : "", strempty(c)) < 0)
                return NULL;
        return p;
}

/* Reads a small cgroup/proc file with trailing whitespace stripped. */
static int read_trimmed(const char *path, char **ret) {
        char *buf = NULL;
        int r = read_full_file(path, CGROUP_FILE_MAX, &buf, NULL);
        if (r < 0)
                return r;
        size_t n = strlen(buf);
        while (n > 0 && strchr(" \t\n", buf[n - 1]))
                buf[--n] = 0;
        *ret = buf;
        return 0;
}

/* Writes s to an existing file in one write(), as cgroupfs wants. */
static int write_file(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = strlen(s);
        ssize_t k = write(fd, s, len);
        if (k < 0)
                return -errno;
        return (size_t) k == len ? 0 : -EIO;
}

static int parse_u64(const char *s, uint64_t *ret) {
        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Undoes the octal escapes (\040 for space...) of /proc/self/mounts. */
static char *mount_unescape(const char *s) {
        char *r = malloc(strlen(s) + 1), *o = r;
        if (!r)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else
                        *o++ = *s++;
        }
        *o = 0;
        return r;
}

static bool is_v1_controller(const char *opt) {
        if (strncmp(opt, "name=", 5) == 0)
                return opt[5] != 0;
        for (size_t i = 0; i < ELEMENTSOF(v1_controller_names); i++)
                if (streq(opt, v1_controller_names[i]))
                        return true;
        return false;
}

CgroupLayout *cgroup_layout_free(CgroupLayout *l) {
        if (!l)
                return NULL;
        free(l->v2_mount);
        strv_free(l->v2_controllers);
        for (size_t i = 0; i < l->n_v1; i++) {
                free(l->v1[i].mount);
                strv_free(l->v1[i].controllers);
        }
        free(l->v1);
        free(l);
        return NULL;
}

static int layout_add_v1(CgroupLayout *l, const char *target, const char *options) {
        _cleanup_strv_free_ char **opts = strv_split(options, ",");
        _cleanup_strv_free_ char **ctrls = NULL;
        if (!opts)
                return -ENOMEM;
        STRV_FOREACH(o, opts) {
                if (!is_v1_controller(*o))
                        continue;
                /* The same hierarchy mounted twice (bind mounts): keep the first. */
                if (cgroup_layout_v1_find(l, *o))
                        return 0;
                if (strv_extend(&ctrls, *o) < 0)
                        return -ENOMEM;
        }
        if (!ctrls)
                return 0;
        _cleanup_free_ char *mnt = mount_unescape(target);
        if (!mnt)
                return -ENOMEM;
        CgroupHierarchy *n = realloc(l->v1, (l->n_v1 + 1) * sizeof(CgroupHierarchy));
        if (!n)
                return -ENOMEM;
        l->v1 = n;
        l->v1[l->n_v1++] = (CgroupHierarchy){ .mount = TAKE_PTR(mnt), .controllers = TAKE_PTR(ctrls) };
        return 0;
}

int cgroup_layout_parse(const char *mounts, CgroupLayout **ret, WarrenError *reterr) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = calloc(1, sizeof(CgroupLayout));
        _cleanup_strv_free_ char **lines = strv_split(mounts, "\n");
        int r;

        if (!l || !lines)
                return -ENOMEM;
        STRV_FOREACH(line, lines) {
                _cleanup_strv_free_ char **f = strv_split(*line, " \t");
                if (!f)
                        return -ENOMEM;
                if (strv_length(f) < 4)
                        continue;
                if (streq(f[2], "cgroup2")) {
                        if (!l->v2_mount && !(l->v2_mount = mount_unescape(f[1])))
                                return -ENOMEM;
                } else if (streq(f[2], "cgroup")) {
                        r = layout_add_v1(l, f[1], f[3]);
                        if (r < 0)
                                return r;
                }
        }
        if (!l->v2_mount && l->n_v1 == 0)
                return warren_error_set(
                        reterr, ENOMEDIUM,
                        "No cgroup filesystem is mounted (no cgroup2 or cgroup entry in the mount table)");

        if (l->v2_mount) {
                _cleanup_free_ char *p = path_join3(l->v2_mount, "cgroup.controllers", NULL), *text = NULL;
                if (!p)
                        return -ENOMEM;
                r = read_trimmed(p, &text);
                if (r < 0)
                        log_debug("Cannot read %s, assuming no cgroup2 controllers: %s", p, strerror(-r));
                l->v2_controllers = text ? strv_split(text, " \t\n") : calloc(1, sizeof(char *));
                if (!l->v2_controllers)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int cgroup_layout_detect(CgroupLayout **ret, WarrenError *reterr) {
        _cleanup_free_ char *mounts = NULL;
        int r = read_full_file("/proc/self/mounts", 16U * 1024U * 1024U, &mounts, NULL);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read /proc/self/mounts: %s", strerror(-r));
        return cgroup_layout_parse(mounts, ret, reterr);
}

static CgroupLayout *layout_copy(const CgroupLayout *l) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *c = calloc(1, sizeof(CgroupLayout));
        if (!c)
                return NULL;
        if (l->v2_mount) {
                c->v2_mount = strdup(l->v2_mount);
                c->v2_controllers = strv_copy(l->v2_controllers);
                if (!c->v2_mount || !c->v2_controllers)
                        return NULL;
        }
        if (l->n_v1 > 0) {
                c->v1 = calloc(l->n_v1, sizeof(CgroupHierarchy));
                if (!c->v1)
                        return NULL;
                for (; c->n_v1 < l->n_v1; c->n_v1++) {
                        CgroupHierarchy *h = &c->v1[c->n_v1];
                        h->mount = strdup(l->v1[c->n_v1].mount);
                        h->controllers = strv_copy(l->v1[c->n_v1].controllers);
                        if (!h->mount || !h->controllers) {
                                c->n_v1++;
                                return NULL;
                        }
                }
        }
        return TAKE_PTR(c);
}

bool cgroup_layout_is_unified(const CgroupLayout *l) {
        return l->v2_mount && l->n_v1 == 0;
}

bool cgroup_layout_v2_has(const CgroupLayout *l, const char *controller) {
        return l->v2_mount && strv_contains(l->v2_controllers, controller);
}

const CgroupHierarchy *cgroup_layout_v1_find(const CgroupLayout *l, const char *controller) {
        for (size_t i = 0; i < l->n_v1; i++)
                if (strv_contains(l->v1[i].controllers, controller))
                        return &l->v1[i];
        return NULL;
}

/* ---- one container's cgroup ---- */

static int validate_component(const char *what, const char *s, WarrenError *reterr) {
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 128 || s[0] == '.' || strspn(s, allowed) != n)
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid cgroup %s '%s': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'",
                        what, strempty(s));
        return 0;
}

Cgroup *cgroup_free(Cgroup *cg) {
        if (!cg)
                return NULL;
        cgroup_layout_free(cg->layout);
        free(cg->path);
        free(cg->v2_dir);
        free(cg->base);
        free(cg);
        return NULL;
}

int cgroup_new(const CgroupLayout *l, const char *parent, const char *name, Cgroup **ret,
               WarrenError *reterr) {
        int r = validate_component("parent", parent, reterr);
        if (r < 0)
                return r;
        r = validate_component("name", name, reterr);
        if (r < 0)
                return r;

        _cleanup_(cgroup_freep) Cgroup *cg = calloc(1, sizeof(Cgroup));
        if (!cg || !(cg->layout = layout_copy(l)) || asprintf(&cg->path, "/%s/%s", parent, name) < 0)
                return -ENOMEM;
        if (l->v2_mount && asprintf(&cg->v2_dir, "%s%s", l->v2_mount, cg->path) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(cg);
        return 0;
}

/* An absolute cgroup path of components as validate_component() wants,
 * at most 16 of them. */
static int validate_base(const char *base, WarrenError *reterr) {
        _cleanup_strv_free_ char **parts = NULL;
        if (!base || base[0] != '/' || strlen(base) > 1024 || !(parts = strv_split(base, "/")) ||
            strv_length(parts) == 0 || strv_length(parts) > 16)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid delegated cgroup '%s': expected an absolute cgroup path",
                                        strempty(base));
        STRV_FOREACH(c, parts) {
                int r = validate_component("path component", *c, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_new_delegated(const CgroupLayout *l, const char *base, const char *name, Cgroup **ret,
                         WarrenError *reterr) {
        int r = validate_base(base, reterr);
        if (r < 0)
                return r;
        r = validate_component("name", name, reterr);
        if (r < 0)
                return r;
        _cleanup_(cgroup_freep) Cgroup *cg = calloc(1, sizeof(Cgroup));
        if (!cg || !(cg->layout = layout_copy(l)) || !(cg->base = strdup(base)) ||
            asprintf(&cg->path, "%s/%s", base, name) < 0)
                return -ENOMEM;
        if (l->v2_mount && asprintf(&cg->v2_dir, "%s%s", l->v2_mount, cg->path) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_new_at(const CgroupLayout *l, const char *path, Cgroup **ret, WarrenError *reterr) {
        const char *slash = path ? strrchr(path, '/') : NULL;
        if (!slash || slash == path)
                return warren_error_set(reterr, EINVAL, "Invalid cgroup path '%s'", strempty(path));
        _cleanup_free_ char *base = strndup(path, (size_t) (slash - path));
        if (!base)
                return -ENOMEM;
        return cgroup_new_delegated(l, base, slash + 1, ret, reterr);
}

int cgroup_pid_path(pid_t pid, char **ret, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL, *v2 = NULL, *named = NULL;
        char path[64];
        if (pid == 0)
                snprintf(path, sizeof path, "/proc/self/cgroup");
        else
                snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        int r = read_trimmed(path, &text);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read %s: %s", path, strerror(-r));
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || c2[1] != '/')
                        continue;
                *c2 = 0;
                if (streq(line, "0:") && !v2 && !(v2 = strdup(c2 + 1)))
                        return -ENOMEM;
                if (streq(c1 + 1, "name=systemd") && !named && !(named = strdup(c2 + 1)))
                        return -ENOMEM;
        }
        /* On a hybrid host systemd mirrors its tree in cgroup2 too; a v1-only
         * one has it in name=systemd alone. */
        char *p = v2 ? TAKE_PTR(v2) : TAKE_PTR(named);
        if (!p)
                return warren_error_set(reterr, ENODATA, "%s names no cgroup2 or name=systemd cgroup", path);
        *ret = p;
        return 0;
}

const char *cgroup_get_path(const Cgroup *cg) {
        return cg->path;
}

const char *cgroup_get_v2_dir(const Cgroup *cg) {
        return cg->v2_dir;
}

static char *v1_dir(const Cgroup *cg, size_t i) {
        char *p = NULL;
        if (asprintf(&p, "%s%s", cg->layout->v1[i].mount, cg->path) < 0)
                return NULL;
        return p;
}

/* Number of pids listed in dir/cgroup.procs; 0 if dir is gone. */
static int count_procs_in(const char *dir) {
        _cleanup_free_ char *p = path_join3(dir, "cgroup.procs", NULL), *text = NULL;
        if (!p)
                return -ENOMEM;
        int r = read_trimmed(p, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        int n = 0;
        for (const char *s = text; *s; s++)
                if (*s == '\n' || s[1] == 0)
                        n++;
        return n;
}

/* An existing cgroup directory may be reused if no process is left in it
 * (a monitor that died without cleaning up). */
static int check_reusable(const char *dir, WarrenError *reterr) {
        struct stat st;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return warren_error_set(reterr, EEXIST,
                                        "Failed to create cgroup %s: exists and is not a directory", dir);
        int n = count_procs_in(dir);
        if (n < 0)
                return warren_error_set(reterr, n, "Failed to read %s/cgroup.procs: %s", dir, strerror(-n));
        if (n > 0)
                return warren_error_set(reterr, EBUSY, "Cgroup %s already exists and has %d processes", dir,
                                        n);
        return 0;
}

/* Enables each controller the kernel allows; one refusal does not stop the rest. */
static void enable_controllers(const char *dir, char **controllers) {
        _cleanup_free_ char *p = path_join3(dir, "cgroup.subtree_control", NULL), *cur = NULL;
        if (!p || read_trimmed(p, &cur) < 0)
                return;
        _cleanup_strv_free_ char **enabled = strv_split(cur, " ");
        STRV_FOREACH(c, controllers) {
                char buf[128];
                if (strv_contains(enabled, *c))
                        continue;
                snprintf(buf, sizeof(buf), "+%s", *c);
                int r = write_file(p, buf);
                if (r < 0)
                        log_debug("Cannot enable controller %s in %s: %s", *c, p, strerror(-r));
        }
}

/* v1 cpuset cgroups start with empty cpus/mems and refuse tasks until set. */
static int cpuset_inherit(const char *parent, const char *child, WarrenError *reterr) {
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *pp = path_join3(parent, files[i], NULL),
                                    *cp = path_join3(child, files[i], NULL);
                _cleanup_free_ char *pv = NULL, *cv = NULL;
                if (!pp || !cp)
                        return -ENOMEM;
                int r = read_trimmed(cp, &cv);
                if (r >= 0 && !isempty(cv))
                        continue;
                if (r >= 0)
                        r = read_trimmed(pp, &pv);
                if (r >= 0)
                        r = write_file(cp, pv);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to copy %s from %s to %s: %s", files[i],
                                                parent, child, strerror(-r));
        }
        return 0;
}

/* mkdir -p of rel (an absolute cgroup path) under the mount of a v1
 * hierarchy, cpus and mems copied down each level on cpuset. */
static int mkdir_parents_v1(const char *mount, const char *rel, bool cpuset, WarrenError *reterr) {
        _cleanup_free_ char *dir = strdup(mount), *parent = NULL;
        _cleanup_strv_free_ char **parts = strv_split(rel, "/");
        if (!dir || !parts)
                return -ENOMEM;
        STRV_FOREACH(c, parts) {
                free(parent);
                parent = dir;
                dir = path_join3(parent, *c, NULL);
                if (!dir)
                        return -ENOMEM;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return warren_error_set(reterr, errno, "Failed to create cgroup %s: %s", dir,
                                                strerror(errno));
                int r = cpuset ? cpuset_inherit(parent, dir, reterr) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Makes parent_rel (below mount) ready for leaf, then leaf. Ours
 * ("/warren" at the root): made here, with every controller enabled
 * down to it. Delegated to us (cgroup_new_delegated()): on cgroup2 it must
 * exist, and only its own subtree_control is ours to write; on a v1
 * hierarchy its manager does not run it is made here as on the others. */
static int create_in(const char *mount, const char *parent_rel, bool delegated, const char *leaf,
                     char **v2_controllers, bool cpuset, bool *created, WarrenError *reterr) {
        _cleanup_free_ char *pdir = NULL;
        int r;
        if (asprintf(&pdir, "%s%s", mount, parent_rel) < 0)
                return -ENOMEM;
        if (v2_controllers && !delegated)
                enable_controllers(mount, v2_controllers);
        /* Retried: another monitor may remove the empty parent in between. */
        for (unsigned attempt = 0;; attempt++) {
                if (delegated && v2_controllers) {
                        if (access(pdir, F_OK) < 0)
                                return warren_error_set(reterr, errno, "Delegated cgroup %s: %s", pdir,
                                                        strerror(errno));
                } else if (delegated) {
                        r = mkdir_parents_v1(mount, parent_rel, cpuset, reterr);
                        if (r < 0)
                                return r;
                } else {
                        if (mkdir(pdir, 0755) < 0 && errno != EEXIST)
                                return warren_error_set(reterr, errno, "Failed to create cgroup %s: %s",
                                                        pdir, strerror(errno));
                        if (cpuset && (r = cpuset_inherit(mount, pdir, reterr)) < 0)
                                return r;
                }
                if (v2_controllers)
                        enable_controllers(pdir, v2_controllers);
                if (mkdir(leaf, 0755) >= 0) {
                        *created = true;
                        break;
                }
                if (errno == ENOENT && attempt < 3)
                        continue;
                if (errno != EEXIST)
                        return warren_error_set(reterr, errno, "Failed to create cgroup %s: %s", leaf,
                                                strerror(errno));
                r = check_reusable(leaf, reterr);
                if (r < 0)
                        return r;
                /* A leftover empty cgroup is made anew rather than reused:
                 * stale limits go, and on 6.18 a v2 cgroup once emptied with
                 * cgroup.kill SIGKILLs every later CLONE_INTO_CGROUP child. */
                if (rmdir(leaf) >= 0 && mkdir(leaf, 0755) >= 0)
                        *created = true;
                break;
        }
        if (cpuset && (r = cpuset_inherit(pdir, leaf, reterr)) < 0)
                return r;
        return 0;
}

int cgroup_create(Cgroup *cg, WarrenError *reterr) {
        const CgroupLayout *l = cg->layout;
        _cleanup_free_ bool *created = calloc(l->n_v1 + 1, sizeof(bool));
        _cleanup_free_ char *parent =
                cg->base ? strdup(cg->base) : strndup(cg->path, strcspn(cg->path + 1, "/") + 1);
        bool delegated = cg->base;
        int r = 0;

        if (!created || !parent)
                return -ENOMEM;
        if (cg->v2_dir)
                r = create_in(l->v2_mount, parent, delegated, cg->v2_dir, l->v2_controllers, false,
                              &created[l->n_v1], reterr);
        for (size_t i = 0; r >= 0 && i < l->n_v1; i++) {
                _cleanup_free_ char *leaf = v1_dir(cg, i);
                if (!leaf)
                        r = -ENOMEM;
                else
                        r = create_in(l->v1[i].mount, parent, delegated, leaf, NULL,
                                      strv_contains(l->v1[i].controllers, "cpuset"), &created[i], reterr);
        }
        if (r >= 0)
                return 0;

        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *leaf = created[i] ? v1_dir(cg, i) : NULL;
                if (leaf)
                        (void) rmdir(leaf);
        }
        if (created[l->n_v1])
                (void) rmdir(cg->v2_dir);
        return r;
}

int cgroup_create_v1(Cgroup *cg, WarrenError *reterr) {
        const CgroupLayout *l = cg->layout;
        _cleanup_free_ char *parent =
                cg->base ? strdup(cg->base) : strndup(cg->path, strcspn(cg->path + 1, "/") + 1);
        bool delegated = cg->base;
        size_t i = 0;
        int r = 0;

        if (!parent)
                return -ENOMEM;
        for (; i < l->n_v1; i++) {
                _cleanup_free_ char *leaf = v1_dir(cg, i);
                bool created = false;
                if (!leaf) {
                        r = -ENOMEM;
                        break;
                }
                if (access(leaf, F_OK) >= 0) {
                        r = warren_error_set(reterr, EEXIST, "Failed to create cgroup %s: it exists", leaf);
                        break;
                }
                r = create_in(l->v1[i].mount, parent, delegated, leaf, NULL,
                              strv_contains(l->v1[i].controllers, "cpuset"), &created, reterr);
                if (r < 0) {
                        if (created)
                                (void) rmdir(leaf);
                        break;
                }
        }
        if (r >= 0)
                return 0;
        while (i-- > 0) {
                _cleanup_free_ char *leaf = v1_dir(cg, i);
                if (leaf)
                        (void) rmdir(leaf);
        }
        return r;
}

static int rmdir_tree(const char *dir, unsigned depth);

/* rename(2) of a v1 cgroup; a leftover of the target's name is removed
 * first if nothing runs in it. */
static int rename_cgroup(const char *from, const char *to, WarrenError *reterr) {
        if (rename(from, to) >= 0)
                return 0;
        if (errno == EEXIST || errno == ENOTEMPTY) {
                int r = check_reusable(to, reterr);
                if (r < 0)
                        return r;
                r = rmdir_tree(to, 0);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to remove leftover cgroup %s: %s", to,
                                                strerror(-r));
                if (rename(from, to) >= 0)
                        return 0;
        }
        return warren_error_set(reterr, errno, "Failed to rename cgroup %s to %s: %s", from, to,
                                strerror(errno));
}

static size_t parent_len(const Cgroup *cg) {
        return (size_t) (strrchr(cg->path, '/') - cg->path);
}

int cgroup_create_from(Cgroup *cg, const Cgroup *spare, WarrenError *reterr) {
        const CgroupLayout *l = cg->layout;
        size_t done = 0;
        int r = 0;

        if (parent_len(cg) != parent_len(spare) || strncmp(cg->path, spare->path, parent_len(cg)) != 0 ||
            l->n_v1 != spare->layout->n_v1)
                return warren_error_set(reterr, EXDEV,
                                        "Cannot make cgroup %s out of %s: not the same parent", cg->path,
                                        spare->path);
        for (; r >= 0 && done < l->n_v1; done++) {
                _cleanup_free_ char *from = v1_dir(spare, done), *to = v1_dir(cg, done);
                r = from && to ? rename_cgroup(from, to, reterr) : -ENOMEM;
                if (r < 0)
                        break;
        }
        if (r >= 0 && cg->v2_dir) {
                _cleanup_free_ char *parent =
                        cg->base ? strdup(cg->base) : strndup(cg->path, strcspn(cg->path + 1, "/") + 1);
                bool created = false;
                r = parent ? create_in(l->v2_mount, parent, cg->base, cg->v2_dir, l->v2_controllers, false,
                                       &created, reterr)
                           : -ENOMEM;
                if (r < 0 && created)
                        (void) rmdir(cg->v2_dir);
        }
        if (r >= 0)
                return 0;
        while (done-- > 0) {
                _cleanup_free_ char *from = v1_dir(spare, done), *to = v1_dir(cg, done);
                if (from && to && rename(to, from) < 0)
                        log_debug("Failed to rename cgroup %s back to %s: %s", to, from, strerror(errno));
        }
        return r;
}

int cgroup_open_fd(const Cgroup *cg, WarrenError *reterr) {
        if (!cg->v2_dir)
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "No cgroup2 hierarchy on this host for cgroup %s", cg->path);
        int fd = open(cg->v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open cgroup %s: %s", cg->v2_dir,
                                        strerror(errno));
        return fd;
}

static int attach_to(const char *dir, pid_t pid, WarrenError *reterr) {
        _cleanup_free_ char *p = path_join3(dir, "cgroup.procs", NULL);
        char buf[32];
        if (!p)
                return -ENOMEM;
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        int r = write_file(p, buf);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to move process %d into cgroup %s: %s", (int) pid,
                                        dir, strerror(-r));
        return 0;
}

int cgroup_attach_v1(const Cgroup *cg, pid_t pid, WarrenError *reterr) {
        for (size_t i = 0; i < cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                if (!dir)
                        return -ENOMEM;
                int r = attach_to(dir, pid, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_attach(const Cgroup *cg, pid_t pid, WarrenError *reterr) {
        if (cg->v2_dir) {
                int r = attach_to(cg->v2_dir, pid, reterr);
                if (r < 0)
                        return r;
        }
        return cgroup_attach_v1(cg, pid, reterr);
}

int cgroup_apply_plan(const Cgroup *cg, const CgroupPlan *p, WarrenError *reterr) {
        for (size_t i = 0; i < p->n_settings; i++) {
                const CgroupSetting *s = &p->settings[i];
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s%s/%s", s->mount, cg->path, s->file) < 0)
                        return -ENOMEM;
                int r = write_file(path, s->value);
                if (r == -ENOENT)
                        return warren_error_set(
                                reterr, r, "%s = %s: %s does not exist (the kernel has no such cgroup file)",
                                s->key, s->config_value, path);
                if (r < 0)
                        return warren_error_set(reterr, r,
                                                "%s = %s: the kernel rejected '%s' in %s: %s (errno %d)",
                                                s->key, s->config_value, s->value, path, strerror(-r), -r);
                log_debug("cgroup: wrote '%s' to %s (%s)", s->value, path, s->key);
        }
        return 0;
}

int cgroup_apply_limits(const Cgroup *cg, char *const *kv, char ***ret_ignored, WarrenError *reterr) {
        _cleanup_(cgroup_plan_freep) CgroupPlan *p = NULL;
        int r = cgroup_plan_limits(cg->layout, kv, &p, reterr);
        if (r < 0)
                return r;
        r = cgroup_apply_plan(cg, p, reterr);
        if (r < 0)
                return r;
        if (ret_ignored)
                *ret_ignored = TAKE_PTR(p->ignored);
        return 0;
}

int cgroup_apply_config(const Cgroup *cg, const LxcConfig *c, char ***ret_ignored, WarrenError *reterr) {
        _cleanup_strv_free_ char **kv = lxc_config_get_prefix(c, "lxc.cgroup");
        if (!kv)
                return -ENOMEM;
        return cgroup_apply_limits(cg, kv, ret_ignored, reterr);
}

/* ---- freezing ---- */

/* The value of "field N" in a flat-keyed file such as cgroup.events. */
static int keyed_value(const char *text, const char *field, long *ret) {
        size_t fl = strlen(field);
        for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
                if (strncmp(s, field, fl) == 0 && s[fl] == ' ') {
                        char *end;
                        long v = strtol(s + fl + 1, &end, 10);
                        if (end == s + fl + 1)
                                return -EBADMSG;
                        *ret = v;
                        return 0;
                }
        return -ENODATA;
}

static const CgroupHierarchy *v1_freezer(const Cgroup *cg, size_t *ret_index) {
        for (size_t i = 0; i < cg->layout->n_v1; i++)
                if (strv_contains(cg->layout->v1[i].controllers, "freezer")) {
                        *ret_index = i;
                        return &cg->layout->v1[i];
                }
        return NULL;
}

static bool v2_has_file(const Cgroup *cg, const char *file) {
        _cleanup_free_ char *p = cg->v2_dir ? path_join3(cg->v2_dir, file, NULL) : NULL;
        return p && access(p, F_OK) >= 0;
}

/* Waits for "frozen want" in cgroup.events, woken by the kernel's notification. */
static int wait_v2_frozen(const Cgroup *cg, bool want, uint64_t timeout_usec) {
        _cleanup_free_ char *p = path_join3(cg->v2_dir, "cgroup.events", NULL);
        if (!p)
                return -ENOMEM;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        uint64_t deadline = now_usec() + timeout_usec;
        for (;;) {
                char buf[512];
                ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
                long v;
                if (k < 0)
                        return -errno;
                buf[k] = 0;
                if (keyed_value(buf, "frozen", &v) < 0)
                        return -EBADMSG;
                if ((v != 0) == want)
                        return 0;
                uint64_t n = now_usec();
                if (n >= deadline)
                        return -ETIMEDOUT;
                /* Also wake up now and then in case a notification was missed. */
                struct pollfd pfd = { .fd = fd, .events = POLLPRI };
                if (poll(&pfd, 1, (int) MIN((deadline - n) / 1000U + 1, 100U)) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int wait_v1_state(const char *state_path, const char *want, uint64_t timeout_usec) {
        uint64_t deadline = now_usec() + timeout_usec;
        for (;;) {
                _cleanup_free_ char *s = NULL;
                int r = read_trimmed(state_path, &s);
                if (r < 0)
                        return r;
                if (streq(s, want))
                        return 0;
                if (now_usec() >= deadline)
                        return -ETIMEDOUT;
                sleep_usec(CGROUP_RETRY_USEC);
        }
}

static int set_frozen(const Cgroup *cg, bool freeze, uint64_t timeout_usec, WarrenError *reterr) {
        const char *verb = freeze ? "freeze" : "unfreeze";
        size_t i;
        int r;

        if (v2_has_file(cg, "cgroup.freeze")) {
                _cleanup_free_ char *p = path_join3(cg->v2_dir, "cgroup.freeze", NULL);
                if (!p)
                        return -ENOMEM;
                r = write_file(p, freeze ? "1" : "0");
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to %s cgroup %s: %s", verb, cg->v2_dir,
                                                strerror(-r));
                r = wait_v2_frozen(cg, freeze, timeout_usec);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to %s cgroup %s: %s", verb, cg->v2_dir,
                                                r == -ETIMEDOUT ? "the kernel did not report it done in time"
                                                                : strerror(-r));
                return 0;
        }
        if (v1_freezer(cg, &i)) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                _cleanup_free_ char *p = dir ? path_join3(dir, "freezer.state", NULL) : NULL;
                if (!p)
                        return -ENOMEM;
                const char *state = freeze ? "FROZEN" : "THAWED";
                r = write_file(p, state);
                if (r >= 0)
                        r = wait_v1_state(p, state, timeout_usec);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to %s cgroup %s: %s", verb, dir,
                                                r == -ETIMEDOUT ? "the kernel did not report it done in time"
                                                                : strerror(-r));
                return 0;
        }
        return warren_error_set(reterr, EOPNOTSUPP,
                                "Cannot %s cgroup %s: no cgroup2 cgroup.freeze and no v1 freezer hierarchy",
                                verb, cg->path);
}

int cgroup_freeze(const Cgroup *cg, uint64_t timeout_usec, WarrenError *reterr) {
        return set_frozen(cg, true, timeout_usec, reterr);
}

int cgroup_unfreeze(const Cgroup *cg, uint64_t timeout_usec, WarrenError *reterr) {
        return set_frozen(cg, false, timeout_usec, reterr);
}

int cgroup_is_frozen(const Cgroup *cg) {
        size_t i;
        int r;
        if (v2_has_file(cg, "cgroup.freeze")) {
                _cleanup_free_ char *p = path_join3(cg->v2_dir, "cgroup.events", NULL), *text = NULL;
                long v;
                if (!p)
                        return -ENOMEM;
                r = read_trimmed(p, &text);
                if (r >= 0)
                        r = keyed_value(text, "frozen", &v);
                return r < 0 ? r : v != 0;
        }
        if (v1_freezer(cg, &i)) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                _cleanup_free_ char *p = dir ? path_join3(dir, "freezer.state", NULL) : NULL, *s = NULL;
                if (!p)
                        return -ENOMEM;
                r = read_trimmed(p, &s);
                return r < 0 ? r : streq(s, "FROZEN");
        }
        return -EOPNOTSUPP;
}

/* ---- killing, accounting, delegation, removal ---- */

/* SIGKILLs each pid listed in dir/cgroup.procs; returns how many. Racy against
 * pid reuse only if a listed task is reaped and its pid recycled in between. */
static int kill_listed(const char *dir) {
        _cleanup_free_ char *p = path_join3(dir, "cgroup.procs", NULL), *text = NULL;
        if (!p)
                return -ENOMEM;
        int r = read_trimmed(p, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        int n = 0;
        for (char *s = text; *s;) {
                char *end;
                long pid = strtol(s, &end, 10);
                if (end == s)
                        break;
                if (pid > 0 && kill((pid_t) pid, SIGKILL) >= 0)
                        n++;
                s = end + strspn(end, "\n");
        }
        return n;
}

/* One SIGKILL sweep over the cgroup in every hierarchy (or the v1 ones only). */
static int kill_sweep(const Cgroup *cg, bool v1_only) {
        int n = 0;
        if (cg->v2_dir && !v1_only)
                n += MAX(kill_listed(cg->v2_dir), 0);
        for (size_t i = 0; i < cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                if (!dir)
                        return -ENOMEM;
                n += MAX(kill_listed(dir), 0);
        }
        return n;
}

int cgroup_kill_all(const Cgroup *cg, WarrenError *reterr) {
        if (cg->v2_dir) {
                _cleanup_free_ char *p = path_join3(cg->v2_dir, "cgroup.kill", NULL);
                if (!p)
                        return -ENOMEM;
                int r = write_file(p, "1");
                if (r >= 0) {
                        /* Stragglers that made it into a v1 cgroup only. */
                        r = kill_sweep(cg, true);
                        return r == -ENOMEM ? r : 0;
                }
                if (r != -ENOENT)
                        return warren_error_set(reterr, r, "Failed to kill cgroup %s: %s", cg->v2_dir,
                                                strerror(-r));
        }
        /* No cgroup.kill (before 5.14, or no cgroup2): frozen tasks cannot fork
         * while we sweep; v1-frozen tasks die only once thawed, hence the
         * further sweeps after thawing. */
        bool frozen = cgroup_freeze(cg, 1000U * 1000U, NULL) >= 0;
        int r = kill_sweep(cg, false);
        if (frozen)
                (void) cgroup_unfreeze(cg, 1000U * 1000U, NULL);
        for (unsigned i = 0; r > 0 && i < 100; i++) {
                sleep_usec(CGROUP_RETRY_USEC);
                r = kill_sweep(cg, false);
        }
        return r == -ENOMEM ? r : 0;
}

int cgroup_count_procs(const Cgroup *cg) {
        int max = 0;
        if (cg->v2_dir)
                max = count_procs_in(cg->v2_dir);
        for (size_t i = 0; max >= 0 && i < cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                if (!dir)
                        return -ENOMEM;
                int n = count_procs_in(dir);
                max = n < 0 ? n : MAX(max, n);
        }
        return max;
}

int cgroup_memory_current(const Cgroup *cg, uint64_t *ret, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (cgroup_layout_v2_has(cg->layout, "memory"))
                path = path_join3(cg->v2_dir, "memory.current", NULL);
        else {
                const CgroupHierarchy *h = cgroup_layout_v1_find(cg->layout, "memory");
                if (!h)
                        return warren_error_set(
                                reterr, EOPNOTSUPP,
                                "No memory controller for cgroup %s (neither cgroup2 nor v1)", cg->path);
                if (asprintf(&path, "%s%s/memory.usage_in_bytes", h->mount, cg->path) < 0)
                        path = NULL;
        }
        if (!path)
                return -ENOMEM;
        int r = read_trimmed(path, &text);
        if (r >= 0)
                r = parse_u64(text, ret) < 0 ? -EBADMSG : 0;
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read %s: %s", path, strerror(-r));
        return 0;
}

static int chown_list(const char *dir, const char *const *files, size_t n, uid_t uid, gid_t gid,
                      WarrenError *reterr) {
        if (fchownat(AT_FDCWD, dir, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return warren_error_set(reterr, errno, "Failed to delegate cgroup %s to %u:%u: %s", dir,
                                        (unsigned) uid, (unsigned) gid, strerror(errno));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = path_join3(dir, files[i], NULL);
                if (!p)
                        return -ENOMEM;
                /* cgroup.threads is absent before 4.14. */
                if (fchownat(AT_FDCWD, p, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        return warren_error_set(reterr, errno, "Failed to delegate %s to %u:%u: %s", p,
                                                (unsigned) uid, (unsigned) gid, strerror(errno));
        }
        return 0;
}

int cgroup_delegate(const Cgroup *cg, uid_t uid, gid_t gid, WarrenError *reterr) {
        static const char *const v2_files[] = { "cgroup.procs", "cgroup.subtree_control", "cgroup.threads" };
        static const char *const v1_files[] = { "cgroup.procs", "tasks" };
        int r;
        if (cg->v2_dir && (r = chown_list(cg->v2_dir, v2_files, ELEMENTSOF(v2_files), uid, gid, reterr)) < 0)
                return r;
        for (size_t i = 0; i < cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = v1_dir(cg, i);
                if (!dir)
                        return -ENOMEM;
                r = chown_list(dir, v1_files, ELEMENTSOF(v1_files), uid, gid, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* rmdir of a cgroup and its sub-cgroups, deepest first. Only directories
 * exist to remove: cgroupfs files go away with their directory. */
static int rmdir_tree(const char *dir, unsigned depth) {
        if (depth > CGROUP_TREE_MAX_DEPTH)
                return -ELOOP;
        /* Mostly there is nothing below it: one rmdir. EBUSY: sub-cgroups (or tasks). */
        if (rmdir(dir) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY && errno != ENOTEMPTY)
                return -errno;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = path_join3(dir, de->d_name, NULL);
                int k = sub ? rmdir_tree(sub, depth + 1) : -ENOMEM;
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

/* After the cgroup: its delegated base where we made it, a v1 hierarchy
 * of controllers its manager does not run (systemd makes a scope in the
 * ones it runs and in name=systemd, and removes it there itself). An
 * rmdir of one in use (the monitor still in it) just fails. */
static void prune_base(const Cgroup *cg) {
        for (size_t i = 0; cg->base && i < cg->layout->n_v1; i++) {
                const CgroupHierarchy *h = &cg->layout->v1[i];
                bool named = false;
                STRV_FOREACH(c, h->controllers)
                        named = named || strncmp(*c, "name=", 5) == 0;
                _cleanup_free_ char *dir = NULL;
                if (named || asprintf(&dir, "%s%s", h->mount, cg->base) < 0)
                        continue;
                if (rmdir(dir) < 0 && errno != ENOENT)
                        log_debug("Kept %s: %s", dir, strerror(errno));
        }
}

int cgroup_remove(const Cgroup *cg, WarrenError *reterr) {
        uint64_t deadline = now_usec() + CGROUP_REMOVE_TIMEOUT_USEC;
        _cleanup_free_ char *failed = NULL;
        int r;

        for (;;) {
                r = 0;
                free(failed);
                failed = NULL;
                if (cg->v2_dir && (r = rmdir_tree(cg->v2_dir, 0)) < 0)
                        failed = strdup(cg->v2_dir);
                for (size_t i = 0; i < cg->layout->n_v1; i++) {
                        _cleanup_free_ char *dir = v1_dir(cg, i);
                        if (!dir)
                                return -ENOMEM;
                        int k = rmdir_tree(dir, 0);
                        if (k < 0 && r == 0) {
                                r = k;
                                failed = TAKE_PTR(dir);
                        }
                }
                if (r != -EBUSY || now_usec() >= deadline)
                        break;
                sleep_usec(CGROUP_RETRY_USEC);
        }
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to remove cgroup %s: %s%s", strna(failed),
                                        strerror(-r), r == -EBUSY ? " (processes are still in it)" : "");
        prune_base(cg);
        return 0;
}

/* Walks dir and its sub-cgroups (depth bounded): the processes listed in
 * each, SIGKILLed first if kill. Returns how many were listed. */
static int tree_procs(const char *dir, bool kill, unsigned depth) {
        if (depth > CGROUP_TREE_MAX_DEPTH)
                return 0;
        int n = kill ? kill_listed(dir) : count_procs_in(dir);
        if (n < 0)
                n = n == -ENOMEM ? n : 0;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return n;
        DIR *d = fdopendir(fd);
        if (!d)
                return n;
        TAKE_FD(fd);
        struct dirent *de;
        while (n >= 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = path_join3(dir, de->d_name, NULL);
                int k = sub ? tree_procs(sub, kill, depth + 1) : -ENOMEM;
                n = k < 0 ? k : n + k;
        }
        closedir(d);
        return n;
}

/* dir of hierarchy i: the cgroup2 one for i == n_v1. */
static char *hierarchy_dir(const Cgroup *cg, size_t i) {
        if (i < cg->layout->n_v1)
                return v1_dir(cg, i);
        return cg->v2_dir ? strdup(cg->v2_dir) : NULL;
}

bool cgroup_exists(const Cgroup *cg) {
        for (size_t i = 0; i <= cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = hierarchy_dir(cg, i);
                if (dir && access(dir, F_OK) >= 0)
                        return true;
        }
        return false;
}

static int procs_everywhere(const Cgroup *cg, bool kill) {
        int total = 0;
        for (size_t i = 0; i <= cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = hierarchy_dir(cg, i);
                if (!dir) {
                        if (i < cg->layout->n_v1)
                                return -ENOMEM;
                        continue;
                }
                int n = tree_procs(dir, kill, 0);
                if (n < 0)
                        return n;
                total += n;
        }
        return total;
}

int cgroup_count_procs_tree(const Cgroup *cg) {
        return procs_everywhere(cg, false);
}

int cgroup_kill_tree(const Cgroup *cg, WarrenError *reterr) {
        /* v1-frozen tasks die only once thawed; cgroup.kill takes frozen
         * cgroup2 tasks as they are. Neither waits. */
        (void) cgroup_unfreeze(cg, 0, NULL);
        if (cg->v2_dir) {
                _cleanup_free_ char *p = path_join3(cg->v2_dir, "cgroup.kill", NULL);
                if (!p)
                        return -ENOMEM;
                int r = write_file(p, "1");
                if (r < 0 && r != -ENOENT)
                        log_debug("Failed to write %s: %s", p, strerror(-r));
        }
        int n = procs_everywhere(cg, true);
        if (n < 0)
                return warren_error_set(reterr, n, "Failed to kill the processes of cgroup %s: %s", cg->path,
                                        strerror(-n));
        return n;
}

int cgroup_try_remove(const Cgroup *cg, WarrenError *reterr) {
        for (size_t i = 0; i <= cg->layout->n_v1; i++) {
                _cleanup_free_ char *dir = hierarchy_dir(cg, i);
                if (!dir) {
                        if (i < cg->layout->n_v1)
                                return -ENOMEM;
                        continue;
                }
                int r = rmdir_tree(dir, 0);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to remove cgroup %s: %s%s", dir,
                                                strerror(-r),
                                                r == -EBUSY ? " (processes are still in it)" : "");
        }
        prune_base(cg);
        return 0;
}

int cgroup_move_below(const CgroupLayout *l, const char *base, const char *name, pid_t pid,
                      WarrenError *reterr) {
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        int r = cgroup_new_delegated(l, base, name, &cg, reterr);
        if (r < 0)
                return r;
        /* cgroup2 only: base must be free of processes there before its
         * subtree_control can be written; v1 has no such rule. */
        if (!cg->v2_dir)
                return 0;
        if (mkdir(cg->v2_dir, 0755) < 0 && errno != EEXIST)
                return warren_error_set(reterr, errno, "Failed to create cgroup %s: %s", cg->v2_dir,
                                        strerror(errno));
        return attach_to(cg->v2_dir, pid, reterr);
}

int cgroup_remove_parent(const CgroupLayout *l, const char *parent, WarrenError *reterr) {
        int r = validate_component("parent", parent, reterr), ret = 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i <= l->n_v1; i++) {
                const char *mount = i < l->n_v1 ? l->v1[i].mount : l->v2_mount;
                if (!mount)
                        continue;
                _cleanup_free_ char *dir = path_join3(mount, parent, NULL);
                if (!dir)
                        return -ENOMEM;
                if (rmdir(dir) < 0 && errno != ENOENT && ret == 0)
                        ret = warren_error_set(reterr, errno, "Failed to remove cgroup %s: %s", dir,
                                               strerror(errno));
        }
        return ret;
}
