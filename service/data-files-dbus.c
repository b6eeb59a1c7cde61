/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container.Export, PullFiles and PushFiles (see data-dbus.h): the caller's
 * fds go to a data worker (lib/export.h, lib/file-transfer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus-error.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "data-dbus.h"
#include "data-work.h"
#include "export.h"
#include "file-transfer.h"
#include "idmap.h"
#include "job.h"
#include "store.h"

static int check_fd(int fd, bool write, const char *what, sd_bus_error *error) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid fd for %s", what);
        if (write ? (fl & O_ACCMODE) == O_RDONLY : (fl & O_ACCMODE) == O_WRONLY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The fd for %s is not open for %s", what,
                                         write ? "writing" : "reading");
        return 0;
}

static int validate_export(DataRequest *q, sd_bus_error *error) {
        bool split = q->rootfs_fd >= 0 || q->meta_fd >= 0;
        if (split && q->unified_fd >= 0)
                return sd_bus_error_set(
                        error, SD_BUS_ERROR_INVALID_ARGS,
                        "Outputs: either rootfs and meta (LXC's split image) or unified, not both");
        if (!split && q->unified_fd < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Outputs: rootfs and meta (LXC's split image), or unified");
        if (split && (q->rootfs_fd < 0 || q->meta_fd < 0))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Output '%s' is missing: a split image "
                                         "needs rootfs and meta",
                                         q->rootfs_fd < 0 ? "rootfs" : "meta");
        if (!q->opt_compression)
                q->opt_compression = "xz";
        if (!streq(q->opt_compression, "xz") && !streq(q->opt_compression, "gzip") &&
            !streq(q->opt_compression, "zstd") && !streq(q->opt_compression, "none"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown compression '%s' (known: xz, gzip, zstd, none)",
                                         q->opt_compression);
        int r = split ? check_fd(q->rootfs_fd, true, "rootfs", error)
                      : check_fd(q->unified_fd, true, "unified", error);
        if (r >= 0 && split)
                r = check_fd(q->meta_fd, true, "meta", error);
        return r;
}

int data_files_validate(Daemon *d, DataRequest *q, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r;
        switch (q->method) {
        case DATA_EXPORT:
                r = validate_export(q, error);
                break;
        case DATA_PULL:
                r = file_pull_paths_validate(q->paths, &err);
                if (r < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                warren_error_message(&err)),
                               r;
                r = check_fd(q->fd, true, "the pulled files", error);
                break;
        case DATA_PUSH:
                r = file_push_dest_validate(q->dest_dir, &err);
                if (r < 0)
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                warren_error_message(&err)),
                               r;
                r = check_fd(q->fd, false, "the pushed files", error);
                break;
        default:
                return -EINVAL;
        }
        if (r >= 0)
                r = data_work_check_busy(q->name, error);
        if (r >= 0)
                r = data_work_check_limits(d, q->caller, error);
        return r;
}

/* What the worker needs to know of the container: its config (KEEP), its
 * idmap (expanded), its rootfs opened, and whether that holds host ids. */
typedef struct Target {
        LxcConfig *config;
        Idmap *idmap;
        int rootfs_fd;
        bool shifted;
} Target;

static void target_done(Target *t) {
        lxc_config_free(t->config);
        idmap_free(t->idmap);
        safe_close(t->rootfs_fd);
}

static int load_target(Daemon *d, const char *name, Target *t, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *expanded = NULL;
        _cleanup_free_ char *rootfs = NULL;
        struct stat st;
        uint32_t inside;
        *t = (Target){ .rootfs_fd = -EBADF };
        int r = container_load_config(d->store, name, LXC_INCLUDE_KEEP, &t->config, &err);
        if (r >= 0)
                r = container_load_config(d->store, name, LXC_INCLUDE_EXPAND, &expanded, &err);
        if (r >= 0)
                r = idmap_from_config(expanded, &t->idmap, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        if (t->idmap && t->idmap->n == 0)
                t->idmap = idmap_free(t->idmap);
        rootfs = container_rootfs_from_config(t->config);
        if (!rootfs && !(rootfs = store_container_path(d->store, name, "rootfs")))
                return -ENOMEM;
        t->rootfs_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (t->rootfs_fd < 0 || fstat(t->rootfs_fd, &st) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "Failed to open the rootfs '%s' of '%s': %s", rootfs, name,
                                         strerror(errno));
        /* Like start: a rootfs whose owner the map covers holds host ids. */
        t->shifted = t->idmap && idmap_from_host(t->idmap, IDMAP_UID, st.st_uid, &inside) >= 0;
        return 0;
}

static int start_export(Daemon *d, const DataRequest *q, Target *t, Job **ret_job, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *config = NULL, *config_user = NULL;
        int r = export_image_config(t->config, d->data_dir, export_host_arch(), &config, &config_user, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        ExportWork w = {
                .fds = { t->rootfs_fd, q->rootfs_fd, q->meta_fd, q->unified_fd },
                .name = q->name,
                .compression = q->opt_compression,
                .arch = export_host_arch(),
                .shift = t->shifted ? t->idmap : NULL,
                .config = config,
                .config_user = config_user,
                .runtime_dir = d->runtime_dir,
                .freeze_container = q->opt_freeze ? q->name : NULL,
                .now_s = (uint64_t) time(NULL),
        };
        const DataWorkSpec s = {
                .type = "export",
                .container = q->name,
                .caller = q->caller,
                .kind = WORKER_EXPORT,
                .params = &w,
                .fds = w.fds,
                .n_fds = ELEMENTSOF(w.fds),
                .cleanup_dirfd = -EBADF,
        };
        return data_work_start(d, &s, ret_job, error);
}

static int start_files(Daemon *d, const DataRequest *q, Target *t, Job **ret_job, sd_bus_error *error) {
        FileWork w = {
                .fds = { q->fd, t->rootfs_fd },
                .push = q->method == DATA_PUSH,
                .paths = q->paths,
                .recursive = q->opt_recursive,
                .dest_dir = q->dest_dir,
                .runtime_dir = d->runtime_dir,
                .container = q->name,
                .idmap = t->idmap,
                .rootfs_shifted = t->shifted,
                .caller_root = q->caller == 0,
        };
        const DataWorkSpec s = {
                .type = w.push ? "push" : "pull",
                .container = q->name,
                .caller = q->caller,
                .kind = WORKER_FILES,
                .params = &w,
                .fds = w.fds,
                .n_fds = ELEMENTSOF(w.fds),
                .cleanup_dirfd = -EBADF,
        };
        return data_work_start(d, &s, ret_job, error);
}

int data_files_start(Daemon *d, sd_bus_message *m, DataRequest *q, sd_bus_error *error) {
        _cleanup_(target_done) Target t = { .rootfs_fd = -EBADF };
        _cleanup_free_ char *jpath = NULL;
        Job *job;
        int r = load_target(d, q->name, &t, error);
        if (r < 0)
                return r;
        r = q->method == DATA_EXPORT ? start_export(d, q, &t, &job, error)
                                     : start_files(d, q, &t, &job, error);
        if (r < 0)
                return r;
        jpath = job_bus_path(job);
        return jpath ? sd_bus_reply_method_return(m, "o", jpath) : -ENOMEM;
}
