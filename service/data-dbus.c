/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container data methods: requests, authorization, Clone, Rename and
 * snapshots (see data-dbus.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "clone.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "data-dbus.h"
#include "data-work.h"
#include "image-dbus.h"
#include "job.h"
#include "name.h"
#include "owner-limits.h"
#include "owner.h"
#include "polkit.h"
#include "runtime.h"
#include "snapshot.h"
#include "store.h"

#define ACTION_MANAGE_OWN "org.warren1.manage-own"
#define ACTION_MANAGE "org.warren1.manage"
#define ACTION_SHELL_OWN "org.warren1.shell-own"
#define ACTION_SHELL "org.warren1.shell"
#define ACTION_ADMIN "org.warren1.create-privileged"

/* ---- reading requests ---- */

typedef struct MethodDef {
        const char *member; /* Container's, then Manager's */
        DataMethod method;
} MethodDef;

static const MethodDef methods[] = {
        { "Clone", DATA_CLONE },
        { "CloneContainer", DATA_CLONE },
        { "Rename", DATA_RENAME },
        { "RenameContainer", DATA_RENAME },
        { "CreateSnapshot", DATA_SNAPSHOT },
        { "CreateSnapshotWithOptions", DATA_SNAPSHOT },
        { "SnapshotContainer", DATA_SNAPSHOT },
        { "ListSnapshots", DATA_LIST_SNAPSHOTS },
        { "ListContainerSnapshots", DATA_LIST_SNAPSHOTS },
        { "RestoreSnapshot", DATA_RESTORE },
        { "RestoreContainerSnapshot", DATA_RESTORE },
        { "DeleteSnapshot", DATA_DELETE_SNAPSHOT },
        { "DeleteContainerSnapshot", DATA_DELETE_SNAPSHOT },
        { "Export", DATA_EXPORT },
        { "ExportContainer", DATA_EXPORT },
        { "PullFiles", DATA_PULL },
        { "PullContainerFiles", DATA_PULL },
        { "PushFiles", DATA_PUSH },
        { "PushContainerFiles", DATA_PUSH },
};

void data_request_done(DataRequest *q) {
        free(q->name);
        strv_free(q->paths);
        *q = (DataRequest){ .fd = -EBADF, .rootfs_fd = -EBADF, .meta_fd = -EBADF, .unified_fd = -EBADF };
}

typedef struct OptionDef {
        const char *name;
        char type; /* 'b' (int), 's' (const char *) */
        size_t offset;
} OptionDef;

static int read_options(sd_bus_message *m, const char *member, const OptionDef *defs, size_t n,
                        DataRequest *q, sd_bus_error *error) {
        char known[256] = "";
        for (size_t i = 0; i < n; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s %c", i ? ", " : "",
                         defs[i].name, defs[i].type);
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                const OptionDef *def = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n && !def; i++)
                        if (streq(defs[i].name, key))
                                def = &defs[i];
                if (!def)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' for %s%s%s%s", key, member,
                                                 n ? " (known: " : " (it takes none)", known, n ? ")" : "");
                char sig[2] = { def->type, 0 };
                r = sd_bus_message_read(m, "v", sig, (uint8_t *) q + def->offset);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option '%s' must be of type %s", key, sig);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static const OptionDef clone_options[] = {
        { "snapshot", 'b', offsetof(DataRequest, opt_snapshot) },
        { "keep_mac", 'b', offsetof(DataRequest, opt_keep_mac) },
};
static const OptionDef snapshot_options[] = {
        { "freeze", 'b', offsetof(DataRequest, opt_freeze) },
};
static const OptionDef export_options[] = {
        { "compression", 's', offsetof(DataRequest, opt_compression) },
        { "freeze", 'b', offsetof(DataRequest, opt_freeze) },
};

static const OptionDef pull_options[] = {
        { "recursive", 'b', offsetof(DataRequest, opt_recursive) },
};

static int read_export_outputs(sd_bus_message *m, DataRequest *q, sd_bus_error *error) {
        int r = sd_bus_message_enter_container(m, 'a', "{sh}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key;
                int fd;
                r = sd_bus_message_read(m, "{sh}", &key, &fd);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                int *slot = streq(key, "rootfs")    ? &q->rootfs_fd
                            : streq(key, "meta")    ? &q->meta_fd
                            : streq(key, "unified") ? &q->unified_fd
                                                    : NULL;
                if (!slot)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown output '%s' (known: rootfs and meta, or unified)",
                                                 key);
                if (*slot >= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Output '%s' given twice",
                                                 key);
                *slot = fd;
        }
        return sd_bus_message_exit_container(m);
}

/* The whole request, from the start of m (after polkit too). */
static int read_request(Daemon *d, sd_bus_message *m, DataRequest *q, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(m);
        const MethodDef *def = NULL;
        int r;

        data_request_done(q);
        for (size_t i = 0; i < ELEMENTSOF(methods) && !def; i++)
                if (streq(methods[i].member, member))
                        def = &methods[i];
        if (!def)
                return -EOPNOTSUPP;
        q->method = def->method;
        q->opt_freeze = true;
        r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = bus_caller_uid(m, &q->caller);
        if (r >= 0)
                r = bus_message_container(d, m, &q->name, &q->owner, error);
        if (r < 0)
                return r;
        switch (q->method) {
        case DATA_CLONE:
                r = sd_bus_message_read(m, "s", &q->new_name);
                return r < 0 ? r
                             : read_options(m, member, clone_options, ELEMENTSOF(clone_options), q, error);
        case DATA_RENAME:
                return sd_bus_message_read(m, "s", &q->new_name);
        case DATA_SNAPSHOT:
                r = sd_bus_message_read(m, "s", &q->comment);
                if (r < 0 || streq(member, "CreateSnapshot"))
                        return r;
                return read_options(m, member, snapshot_options, ELEMENTSOF(snapshot_options), q, error);
        case DATA_LIST_SNAPSHOTS:
                return 0;
        case DATA_RESTORE:
                return sd_bus_message_read(m, "ss", &q->snapshot, &q->new_name);
        case DATA_DELETE_SNAPSHOT:
                return sd_bus_message_read(m, "s", &q->snapshot);
        case DATA_EXPORT:
                r = read_export_outputs(m, q, error);
                return r < 0 ? r
                             : read_options(m, member, export_options, ELEMENTSOF(export_options), q, error);
        case DATA_PULL:
                r = sd_bus_message_read_strv(m, &q->paths);
                if (r >= 0)
                        r = sd_bus_message_read(m, "h", &q->fd);
                return r < 0 ? r : read_options(m, member, pull_options, ELEMENTSOF(pull_options), q, error);
        case DATA_PUSH:
                r = sd_bus_message_read(m, "hs", &q->fd, &q->dest_dir);
                return r < 0 ? r : read_options(m, member, NULL, 0, q, error);
        }
        return -EINVAL;
}

/* ---- checks shared by the methods ---- */

static int check_stopped(Daemon *d, const char *name, const char *what, sd_bus_error *error) {
        if (runtime_is_active(d, name))
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                         "Container '%s' is running: stop it to %s", name, what);
        return 0;
}

/* new_name is free: valid, no container, nothing creating it. */
static int check_new_name(Daemon *d, const char *name, const char *new_name, sd_bus_error *error) {
        int r = bus_validate_name(new_name, error);
        if (r < 0)
                return r;
        if (streq(name, new_name))
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_EXISTS,
                                         "Container '%s' already has that name", name);
        r = store_exists(d->store, new_name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to look up container '%s': %m", new_name);
        if (r > 0 || image_create_in_progress(new_name) || data_work_in_progress(new_name))
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_EXISTS,
                                         "Container '%s' already exists%s", new_name,
                                         r > 0 ? "" : " (it is being created)");
        return 0;
}

/* A new container of owner's: within limit.containers (root: no limit). */
static int check_container_quota(Daemon *d, uid_t caller, uid_t owner, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        uint64_t n;
        Owner o;
        if (caller == 0 || owner == 0)
                return 0;
        int r = owner_count_containers(d, owner, false, &n);
        if (r < 0)
                return r;
        r = owner_load(d, owner, &o, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = limits_check(o.limits, LIMIT_CONTAINERS, owner, o.name, n + data_work_count_creates(d, owner),
                         &err);
        owner_done(&o);
        if (r < 0)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)), r;
        return 0;
}

/* The config a copy of name gets under new_name: names, paths, MACs. */
static int plan_copy_config(Daemon *d, const char *name, const char *config_text, const char *new_name,
                            bool new_macs, char **ret_text, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new(), *n = NULL;
        _cleanup_free_ char *old_dir = store_container_path(d->store, name, NULL),
                            *new_dir = store_container_path(d->store, new_name, NULL), *rootfs = NULL;
        if (!c || !old_dir || !new_dir)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        int r = lxc_config_parse(c, config_text, strlen(config_text), "config", &opts, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        const CloneNames names = {
                .old_name = name, .new_name = new_name, .old_dir = old_dir, .new_dir = new_dir
        };
        r = clone_config(c, &names, new_macs, &n, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        if (asprintf(&rootfs, "dir:%s/rootfs", new_dir) < 0)
                return -ENOMEM;
        r = lxc_config_apply(n, "lxc.rootfs.path", rootfs, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        *ret_text = lxc_config_format(n);
        return *ret_text ? 0 : -ENOMEM;
}

/* A non-root owner's new container follows the owner rules like any
 * create: 1 if what it would hold needs the administrator (why says
 * what), 0 if not. */
static int check_copy_policy(Daemon *d, uid_t caller, uid_t owner, const char *new_name, const char *text,
                             char **ret_why, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_free_ char *dir = store_container_path(d->store, new_name, NULL);
        PolicyContext ctx;
        Owner o;
        if (caller == 0 || owner == 0)
                return 0;
        if (!c || !dir)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        int r = lxc_config_parse(c, text, strlen(text), "config", &opts, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = owner_load(d, owner, &o, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        owner_policy_context(d, &o, dir, &ctx);
        r = policy_check_config(&ctx, c, NULL, &err);
        owner_done(&o);
        if (r == -EACCES) {
                if (ret_why)
                        *ret_why = strdup(warren_error_message(&err));
                return 1;
        }
        if (r == -EPERM)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        return 0;
}

static int read_container_file(Daemon *d, const char *name, const char *file, size_t max, char **ret,
                               sd_bus_error *error) {
        _cleanup_close_ int fd =
                openat(store_dirfd(d->store), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to open container '%s': %m", name);
        int r = read_full_file_at(fd, file, max, 1, ret, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read %s of container '%s': %m", file,
                                               name);
        return 0;
}

/* The rootfs directory of a config, opened. */
static int open_rootfs(Daemon *d, const char *name, const char *config_text, sd_bus_error *error) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        if (!c)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        int r = lxc_config_parse(c, config_text, strlen(config_text), "config", &opts, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        path = container_rootfs_from_config(c);
        if (!path && !(path = store_container_path(d->store, name, "rootfs")))
                return -ENOMEM;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to open the rootfs '%s' of '%s': %s", path, name,
                                         strerror(errno));
        return fd;
}

/* ---- Clone (and RestoreSnapshot as a new container) ---- */

typedef struct CopyPlan {
        char *config; /* the new container's */
        char *fstab;  /* its fstab, NULL if none */
        bool needs_admin;
        char *admin_why;
} CopyPlan;

static void copy_plan_done(CopyPlan *p) {
        free(p->config);
        free(p->fstab);
        free(p->admin_why);
}

/* From the container's own config (source_config NULL) or a snapshot's. */
static int plan_copy(Daemon *d, const DataRequest *q, const char *source_config, const char *from_name,
                     CopyPlan *p, sd_bus_error *error) {
        _cleanup_free_ char *text = NULL, *fstab = NULL, *old_dir = NULL, *new_dir = NULL;
        int r = check_new_name(d, q->name, q->new_name, error);
        if (r >= 0)
                r = data_work_check_busy(q->name, error);
        if (r >= 0 && !source_config)
                r = check_stopped(d, q->name,
                                  "copy it (or snapshot it and restore the snapshot as a new container)",
                                  error);
        if (r >= 0)
                r = check_container_quota(d, q->caller, q->owner, error);
        if (r >= 0)
                r = data_work_check_limits(d, q->caller, error);
        if (r >= 0 && !source_config)
                r = read_container_file(d, q->name, "config", LXC_CONFIG_MAX_SIZE, &text, error);
        if (r >= 0)
                r = read_container_file(d, q->name, "fstab", LXC_CONFIG_MAX_SIZE, &fstab, error);
        if (r < 0)
                return r;
        if (!source_config && !text)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG, "Container '%s' has no config",
                                         q->name);
        r = plan_copy_config(d, from_name, source_config ?: text, q->new_name, !q->opt_keep_mac, &p->config,
                             error);
        if (r < 0)
                return r;
        old_dir = store_container_path(d->store, from_name, NULL);
        new_dir = store_container_path(d->store, q->new_name, NULL);
        if (!old_dir || !new_dir)
                return -ENOMEM;
        if (fstab && !(p->fstab = clone_replace_paths(fstab, old_dir, new_dir)))
                return -ENOMEM;
        r = check_copy_policy(d, q->caller, q->owner, q->new_name, p->config, &p->admin_why, error);
        if (r < 0)
                return r;
        p->needs_admin = r > 0;
        return 0;
}

/* Writes the new container's files and starts the rootfs copy. */
static int start_copy(Daemon *d, sd_bus_message *m, const DataRequest *q, const CopyPlan *p, int rootfs_fd,
                      const char *type, sd_bus_message *reply_when_done, Job **ret_job,
                      sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_store_create_ StoreCreate *create = NULL;
        int r = store_create_begin(d->store, q->new_name, q->owner, &create, &err);
        if (r == -EEXIST)
                return sd_bus_error_set(error, WARREN_ERROR_ALREADY_EXISTS, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = write_file_atomic_at(store_create_dirfd(create), "config", p->config, strlen(p->config), 0644);
        if (r >= 0 && p->fstab)
                r = write_file_atomic_at(store_create_dirfd(create), "fstab", p->fstab, strlen(p->fstab),
                                         0644);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to write the config of '%s': %m",
                                               q->new_name);
        CopyWork cw = {
                .fds = { rootfs_fd, store_create_dirfd(create) },
                .dst_name = "rootfs",
                .cow = q->opt_snapshot,
                .rename_from = q->name,
                .rename_to = q->new_name,
        };
        const DataWorkSpec s = {
                .type = type,
                .container = q->name,
                .creates = q->new_name,
                .creates_owner = q->owner,
                .caller = q->caller,
                .kind = WORKER_COPY,
                .params = &cw,
                .fds = cw.fds,
                .n_fds = ELEMENTSOF(cw.fds),
                .create = TAKE_PTR(create),
                .cleanup_dirfd = -EBADF,
                .reply_when_done = reply_when_done,
        };
        return data_work_start(d, &s, ret_job, error);
}

static int do_clone(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_(copy_plan_done) CopyPlan p = {};
        _cleanup_free_ char *text = NULL, *cpath = NULL, *jpath = NULL;
        _cleanup_close_ int rootfs_fd = -EBADF;
        Job *job;
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = plan_copy(d, &q, NULL, q.name, &p, error);
        if (r >= 0)
                r = read_container_file(d, q.name, "config", LXC_CONFIG_MAX_SIZE, &text, error);
        if (r < 0)
                return r;
        rootfs_fd = open_rootfs(d, q.name, text, error);
        if (rootfs_fd < 0)
                return rootfs_fd;
        r = start_copy(d, m, &q, &p, rootfs_fd, "clone", NULL, &job, error);
        if (r < 0)
                return r;
        cpath = container_bus_path(q.new_name);
        jpath = job_bus_path(job);
        if (!cpath || !jpath)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "oo", cpath, jpath);
}

/* ---- Rename ---- */

static int plan_rename(Daemon *d, const DataRequest *q, char **ret_config, sd_bus_error *error) {
        _cleanup_free_ char *text = NULL;
        int r = check_new_name(d, q->name, q->new_name, error);
        if (r >= 0)
                r = data_work_check_busy(q->name, error);
        if (r >= 0)
                r = check_stopped(d, q->name, "rename it", error);
        if (r >= 0)
                r = read_container_file(d, q->name, "config", LXC_CONFIG_MAX_SIZE, &text, error);
        if (r < 0)
                return r;
        if (!text)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG, "Container '%s' has no config",
                                         q->name);
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new(), *n = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *old_dir = store_container_path(d->store, q->name, NULL),
                            *new_dir = store_container_path(d->store, q->new_name, NULL);
        if (!c || !old_dir || !new_dir)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        r = lxc_config_parse(c, text, strlen(text), "config", &opts, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        const CloneNames names = { q->name, q->new_name, old_dir, new_dir };
        r = clone_config(c, &names, false, &n, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        *ret_config = lxc_config_format(n);
        return *ret_config ? 0 : -ENOMEM;
}

static int do_rename(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *config = NULL, *old_path = NULL, *new_path = NULL;
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = plan_rename(d, &q, &config, error);
        if (r < 0)
                return r;
        r = container_rename(d->store, q.name, q.new_name, config, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        old_path = container_bus_path(q.name);
        new_path = container_bus_path(q.new_name);
        if (old_path) {
                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                          "ContainerRemoved", "so", q.name, old_path);
                (void) sd_bus_emit_interfaces_removed(d->bus, old_path, WARREN_CONTAINER_IFACE, NULL);
        }
        if (new_path) {
                (void) sd_bus_emit_signal(d->bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "ContainerNew",
                                          "so", q.new_name, new_path);
                (void) sd_bus_emit_object_added(d->bus, new_path);
        }
        log_info("Renamed container '%s' to '%s'", q.name, q.new_name);
        return sd_bus_reply_method_return(m, NULL);
}

/* ---- snapshots ---- */

static uint64_t now_realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int plan_snapshot(Daemon *d, const DataRequest *q, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = snapshot_comment_validate(q->comment, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        r = data_work_check_busy(q->name, error);
        if (r >= 0)
                r = data_work_check_limits(d, q->caller, error);
        return r;
}

static int do_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *text = NULL, *jpath = NULL, *name = NULL;
        _cleanup_close_ int rootfs_fd = -EBADF;
        SnapshotCreate *snap = NULL;
        Job *job;
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = plan_snapshot(d, &q, error);
        if (r >= 0)
                r = read_container_file(d, q.name, "config", LXC_CONFIG_MAX_SIZE, &text, error);
        if (r < 0)
                return r;
        if (!text)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG, "Container '%s' has no config",
                                         q.name);
        rootfs_fd = open_rootfs(d, q.name, text, error);
        if (rootfs_fd < 0)
                return rootfs_fd;
        r = snapshot_create_begin(d->store, q.name, q.comment, now_realtime_usec(), &snap, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        name = strdup(snapshot_create_name(snap));
        if (!name) {
                snapshot_create_abort(snap);
                return -ENOMEM;
        }
        CopyWork cw = {
                .fds = { rootfs_fd, snapshot_create_dirfd(snap) },
                .dst_name = "rootfs",
                .cow = true,
                .runtime_dir = d->runtime_dir,
                .freeze_container = q.opt_freeze ? q.name : NULL,
        };
        const DataWorkSpec s = {
                .type = "snapshot",
                .container = q.name,
                .target = q.name,
                .caller = q.caller,
                .kind = WORKER_COPY,
                .params = &cw,
                .fds = cw.fds,
                .n_fds = ELEMENTSOF(cw.fds),
                .snapshot = snap,
                .cleanup_dirfd = -EBADF,
        };
        r = data_work_start(d, &s, &job, error);
        if (r < 0)
                return r;
        jpath = job_bus_path(job);
        return jpath ? sd_bus_reply_method_return(m, "so", name, jpath) : -ENOMEM;
}

static int do_list_snapshots(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        SnapshotInfo *l = NULL;
        size_t n = 0;
        int r = read_request(d, m, &q, error);
        if (r < 0)
                return r;
        r = snapshot_list(d->store, q.name, &l, &n, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sst)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sst)", l[i].name, l[i].comment, l[i].created_usec);
        snapshot_info_free_many(l, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int do_delete_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = data_work_check_busy(q.name, error);
        if (r < 0)
                return r;
        r = snapshot_delete(d->store, q.name, q.snapshot, &err);
        if (r == -ENOENT)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        return sd_bus_reply_method_return(m, NULL);
}

/* The snapshot's config, and the name of the container it was taken of
 * (from its rootfs path: <store>/NAME/rootfs; else NAME itself). */
static int read_snapshot(Daemon *d, const DataRequest *q, int *ret_fd, char **ret_config, char **ret_from,
                         sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL, *from = NULL;
        int r = snapshot_open(d->store, q->name, q->snapshot, &fd, &err);
        if (r == -ENOENT || r == -EINVAL)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = read_full_file_at(fd, "config", LXC_CONFIG_MAX_SIZE, 1, &text, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read the config of snapshot '%s': %m",
                                               q->snapshot);
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        if (c && lxc_config_parse(c, text, strlen(text), "config", &opts, NULL) >= 0) {
                _cleanup_free_ char *rootfs = container_rootfs_from_config(c);
                size_t k = strlen(store_path(d->store));
                if (rootfs && strncmp(rootfs, store_path(d->store), k) == 0 && rootfs[k] == '/') {
                        char *slash = strchr(rootfs + k + 1, '/');
                        if (slash && streq(slash, "/rootfs"))
                                from = strndup(rootfs + k + 1, (size_t) (slash - rootfs - k - 1));
                }
        }
        if ((!from || !container_name_is_valid(from)) && !(free(from), from = strdup(q->name)))
                return -ENOMEM;
        *ret_fd = TAKE_FD(fd);
        *ret_config = TAKE_PTR(text);
        *ret_from = TAKE_PTR(from);
        return 0;
}

static int start_restore_in_place(Daemon *d, sd_bus_message *m, const DataRequest *q, int snap_fd,
                                  const char *config, const char *from, sd_bus_error *error) {
        _cleanup_free_ char *text = NULL, *tmp = NULL, *own_rootfs = NULL;
        _cleanup_close_ int rootfs_fd = -EBADF, dir_fd = -EBADF, cleanup_fd = -EBADF;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = check_stopped(d, q->name, "restore a snapshot in place", error);
        if (r < 0)
                return r;
        /* The snapshot's config, for the container as it is named now. */
        _cleanup_free_ char *current = NULL;
        r = read_container_file(d, q->name, "config", LXC_CONFIG_MAX_SIZE, &current, error);
        if (r < 0)
                return r;
        if (streq(from, q->name)) {
                text = strdup(config);
                if (!text)
                        return -ENOMEM;
        } else {
                r = plan_copy_config(d, from, config, q->name, false, &text, error);
                if (r < 0)
                        return r;
        }
        /* The rootfs is swapped where the container keeps it. */
        own_rootfs = store_container_path(d->store, q->name, "rootfs");
        if (!own_rootfs)
                return -ENOMEM;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        if (!c)
                return -ENOMEM;
        if (current && lxc_config_parse(c, current, strlen(current), "config", &opts, &err) >= 0) {
                _cleanup_free_ char *path = container_rootfs_from_config(c);
                if (path && !streq(path, own_rootfs))
                        return sd_bus_error_setf(
                                error, SD_BUS_ERROR_NOT_SUPPORTED,
                                "Container '%s' keeps its rootfs at '%s', not in its directory: "
                                "restore the snapshot as a new container instead",
                                q->name, path);
        }
        rootfs_fd = openat(snap_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        dir_fd = openat(store_dirfd(d->store), q->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs_fd < 0 || dir_fd < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to open snapshot '%s' of '%s': %s", q->snapshot, q->name,
                                         strerror(errno));
        cleanup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (cleanup_fd < 0 || asprintf(&tmp, ".#restore.%s", q->snapshot) < 0)
                return -ENOMEM;
        RestoreWork rw = {
                .fds = { rootfs_fd, dir_fd },
                .tmp_name = tmp,
                .config = text,
                .runtime_dir = d->runtime_dir,
                .container = q->name,
                .cow = true,
        };
        (void) rm_rf_at(dir_fd, tmp); /* a leftover of a warrend that was killed */
        const DataWorkSpec s = {
                .type = "restore",
                .container = q->name,
                .caller = q->caller,
                .kind = WORKER_RESTORE,
                .params = &rw,
                .fds = rw.fds,
                .n_fds = ELEMENTSOF(rw.fds),
                .cleanup_dirfd = TAKE_FD(cleanup_fd),
                .cleanup_tmp = tmp,
                .reply_when_done = m,
        };
        return data_work_start(d, &s, NULL, error);
}

static int do_restore(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_(copy_plan_done) CopyPlan p = {};
        _cleanup_free_ char *config = NULL, *from = NULL;
        _cleanup_close_ int snap_fd = -EBADF, rootfs_fd = -EBADF;
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = read_snapshot(d, &q, &snap_fd, &config, &from, error);
        if (r < 0)
                return r;
        if (isempty(q.new_name)) {
                r = data_work_check_busy(q.name, error);
                if (r >= 0)
                        r = data_work_check_limits(d, q.caller, error);
                if (r >= 0)
                        r = start_restore_in_place(d, m, &q, snap_fd, config, from, error);
                return r < 0 ? r : 1; /* answered when the job ends */
        }
        r = plan_copy(d, &q, config, from, &p, error);
        if (r < 0)
                return r;
        rootfs_fd = openat(snap_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs_fd < 0)
                return sd_bus_error_set_errnof(error, errno,
                                               "Failed to open the rootfs of snapshot '%s': %m", q.snapshot);
        q.opt_snapshot = true;
        r = start_copy(d, m, &q, &p, rootfs_fd, "restore", m, NULL, error);
        return r < 0 ? r : 1;
}

/* ---- authorization ---- */

static int validate(Daemon *d, DataRequest *q, CopyPlan *p, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *config = NULL, *from = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;
        switch (q->method) {
        case DATA_CLONE:
                return plan_copy(d, q, NULL, q->name, p, error);
        case DATA_RENAME:
                return plan_rename(d, q, &text, error);
        case DATA_SNAPSHOT:
                return plan_snapshot(d, q, error);
        case DATA_LIST_SNAPSHOTS:
                return 0;
        case DATA_RESTORE:
                r = read_snapshot(d, q, &fd, &config, &from, error);
                if (r < 0)
                        return r;
                if (isempty(q->new_name)) {
                        r = data_work_check_busy(q->name, error);
                        return r < 0 ? r : check_stopped(d, q->name, "restore a snapshot in place", error);
                }
                return plan_copy(d, q, config, from, p, error);
        case DATA_DELETE_SNAPSHOT:
                r = snapshot_name_validate(q->snapshot, &err);
                if (r < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                warren_error_message(&err)),
                               r;
                return data_work_check_busy(q->name, error);
        case DATA_EXPORT:
        case DATA_PULL:
        case DATA_PUSH:
                return data_files_validate(d, q, error);
        }
        return -EINVAL;
}

static int do_authorized(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        int r = read_request(d, m, &q, error);
        if (r < 0)
                return r;
        switch (q.method) {
        case DATA_CLONE:
                return do_clone(m, userdata, error);
        case DATA_RENAME:
                return do_rename(m, userdata, error);
        case DATA_SNAPSHOT:
                return do_snapshot(m, userdata, error);
        case DATA_LIST_SNAPSHOTS:
                return do_list_snapshots(m, d, error);
        case DATA_RESTORE:
                return do_restore(m, userdata, error);
        case DATA_DELETE_SNAPSHOT:
                return do_delete_snapshot(m, userdata, error);
        case DATA_EXPORT:
        case DATA_PULL:
        case DATA_PUSH:
                r = data_files_validate(d, &q, error);
                return r < 0 ? r : data_files_start(d, m, &q, error);
        }
        return -EINVAL;
}

/* The owner's action granted: a copy whose config needs the administrator
 * (an admin-granted key of the source) asks for that too. */
static int do_owner_authorized(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_(copy_plan_done) CopyPlan p = {};
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = validate(d, &q, &p, error);
        if (r < 0)
                return r;
        if (!p.needs_admin)
                return do_authorized(m, userdata, error);
        const PolkitDetails det = { .container = q.name, .owner = q.owner, .why = p.admin_why };
        return polkit_authorize(d, m, ACTION_ADMIN, &det, do_authorized, d, error);
}

/* Distinct userdata and find function from container_vtable's: sd-bus
 * refuses a second vtable of an interface at a path with either the same.
 * Handlers take the Daemon from here. */
static Daemon *data_daemon;

int method_data(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = data_daemon;
        _cleanup_(data_request_done) DataRequest q = {};
        _cleanup_(copy_plan_done) CopyPlan p = {};
        int r = read_request(d, m, &q, error);
        if (r >= 0)
                r = validate(d, &q, &p, error);
        if (r < 0)
                return r;
        bool files = q.method == DATA_PULL || q.method == DATA_PUSH;
        /* Reading one's own snapshot list needs nothing; someone else's is managing. */
        if (q.method == DATA_LIST_SNAPSHOTS && (q.caller == 0 || q.caller == q.owner))
                return do_list_snapshots(m, d, error);
        const PolkitDetails det = { .container = q.name, .owner = q.owner };
        const char *action = files ? polkit_pick_action(q.caller, q.owner, ACTION_SHELL_OWN, ACTION_SHELL)
                                   : polkit_pick_action(q.caller, q.owner, ACTION_MANAGE_OWN, ACTION_MANAGE);
        if (q.method == DATA_LIST_SNAPSHOTS)
                action = ACTION_MANAGE;
        return polkit_authorize(d, m, action, &det, do_owner_authorized, d, error);
}

/* ---- vtables ---- */

#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

static const sd_bus_vtable data_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CloneContainer", SD_BUS_ARGS("s", name, "s", new_name, "a{sv}", options),
                                SD_BUS_RESULT("o", container, "o", job), method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RenameContainer", SD_BUS_ARGS("s", name, "s", new_name), SD_BUS_NO_RESULT,
                                method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("SnapshotContainer", SD_BUS_ARGS("s", name, "s", comment, "a{sv}", options),
                                SD_BUS_RESULT("s", snapshot, "o", job), method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ListContainerSnapshots", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(sst)", snapshots), method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("RestoreContainerSnapshot",
                                SD_BUS_ARGS("s", name, "s", snapshot, "s", new_name), SD_BUS_NO_RESULT,
                                method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("DeleteContainerSnapshot", SD_BUS_ARGS("s", name, "s", snapshot),
                                SD_BUS_NO_RESULT, method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("ExportContainer",
                                SD_BUS_ARGS("s", name, "a{sh}", outputs, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PullContainerFiles",
                                SD_BUS_ARGS("s", name, "as", paths, "h", out_fd, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_data, UNPRIV),
        SD_BUS_METHOD_WITH_ARGS("PushContainerFiles",
                                SD_BUS_ARGS("s", name, "h", in_fd, "s", dest_dir, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_data, UNPRIV),
        SD_BUS_VTABLE_END,
};

int data_dbus_register(Daemon *d) {
        data_daemon = d;
        int r = sd_bus_add_object_vtable(d->bus, NULL, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                         data_manager_vtable, &data_daemon);
        if (r < 0)
                return log_error_errno(r, "Failed to add the data manager vtable: %m");
        return 0;
}
