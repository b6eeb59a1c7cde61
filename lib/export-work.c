/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Export in a data worker (lib/export.h): the archives, through libarchive. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive-tree.h"
#include "clone.h"
#include "config.h"
#include "copy.h"
#include "data-worker.h"
#include "export.h"
#include "fileio.h"
#include "strv.h"

#define LXC_NAME "LXC_NAME"
#define INCUS_NAME "{{ container.name }}"

static int on_progress(uint64_t done, void *userdata) {
        DataReport **p = userdata;
        data_report_progress(p[0], "archive", done, (uint64_t) (uintptr_t) p[1]);
        return 0;
}

/* A template file's text, the container's name as token. NULL if the file
 * is not there (or not a regular file). */
static char *template_text(int rootfd, const char *path, const char *name, const char *token) {
        _cleanup_close_ int fd = open_beneath(rootfd, path, O_RDONLY | O_NONBLOCK, true);
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t size;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            read_full_fd(fd, ARCHIVE_TREE_TEMPLATE_MAX, &text, &size) < 0)
                return NULL;
        return text_replace_word(text, size, name, token);
}

static int add_rootfs(ExportWork *w, struct archive *a, const char *entry, const char *rename_to,
                      char ***devices, uint64_t total, DataReport *rep, WarrenError *reterr) {
        DataReport *p[2] = { rep, (DataReport *) (uintptr_t) total };
        const ArchiveTreeOptions o = {
                .shift = w->shift,
                .rename_from = rename_to ? w->name : NULL,
                .rename_to = rename_to,
                .recursive = true,
                .devices = devices,
                .progress = on_progress,
                .userdata = p,
        };
        ArchiveTree t;
        int r = archive_tree_init(&t, a, &o, reterr);
        if (r >= 0)
                r = archive_tree_add(&t, w->fds[0], ".", entry);
        archive_tree_done(&t);
        return r;
}

static bool is_regular(int rootfd, const char *path) {
        _cleanup_close_ int fd = open_beneath(rootfd, path, O_PATH | O_NOFOLLOW, true);
        struct stat st;
        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode);
}

static int write_meta(ExportWork *w, char **devices, WarrenError *reterr) {
        _cleanup_free_ char *templates = NULL, *message = NULL, *expiry = NULL, *excludes = NULL;
        struct archive *a = NULL;
        ArchiveTree t;
        int r;

        bool hostname = is_regular(w->fds[0], "etc/hostname"), hosts = is_regular(w->fds[0], "etc/hosts");
        if (asprintf(&templates, "%s%s", hostname ? "/etc/hostname\n" : "", hosts ? "/etc/hosts\n" : "") <
                    0 ||
            asprintf(&message, "Made from the export of container '%s' (warren).\n", w->name) < 0 ||
            asprintf(&expiry, "%llu\n", (unsigned long long) (w->now_s + EXPORT_EXPIRY_SEC)) < 0)
                return -ENOMEM;
        excludes = strv_join(devices, "\n");
        if (!excludes)
                return -ENOMEM;
        r = archive_tree_new_writer(w->fds[2], w->compression, &a, reterr);
        if (r < 0)
                return r;
        r = archive_tree_init(&t, a, NULL, reterr);
        const struct {
                const char *name, *text;
        } files[] = {
                { "config", w->config },    { "config-user", w->config_user },
                { "templates", templates }, { "create-message", message },
                { "expiry", expiry },       { "excludes-user", excludes },
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                if (streq(files[i].name, "excludes-user") && *excludes &&
                    asprintf(&text, "%s\n", excludes) < 0) {
                        r = -ENOMEM;
                        break;
                }
                const char *s = text ?: files[i].text;
                r = archive_tree_add_data(&t, files[i].name, s, strlen(s), 0644, (int64_t) w->now_s);
        }
        archive_tree_done(&t);
        int k = archive_tree_finish(a, reterr);
        return r < 0 ? r : k;
}

static int write_unified(ExportWork *w, uint64_t total, DataReport *rep, WarrenError *reterr) {
        _cleanup_free_ char *hostname = template_text(w->fds[0], "etc/hostname", w->name, INCUS_NAME),
                            *hosts = template_text(w->fds[0], "etc/hosts", w->name, INCUS_NAME),
                            *yaml = NULL;
        struct archive *a = NULL;
        ArchiveTree t;
        yaml = export_metadata_yaml(w->name, w->arch, w->now_s, hostname, hosts);
        if (!yaml)
                return -ENOMEM;
        int r = archive_tree_new_writer(w->fds[3], w->compression, &a, reterr);
        if (r < 0)
                return r;
        r = archive_tree_init(&t, a, NULL, reterr);
        if (r >= 0)
                r = archive_tree_add_data(&t, "metadata.yaml", yaml, strlen(yaml), 0644, (int64_t) w->now_s);
        if (r >= 0)
                r = archive_tree_add_dir(&t, "templates", (int64_t) w->now_s);
        if (r >= 0 && hostname)
                r = archive_tree_add_data(&t, "templates/hostname.tpl", hostname, strlen(hostname), 0644,
                                          (int64_t) w->now_s);
        if (r >= 0 && hosts)
                r = archive_tree_add_data(&t, "templates/hosts.tpl", hosts, strlen(hosts), 0644,
                                          (int64_t) w->now_s);
        archive_tree_done(&t);
        if (r >= 0)
                r = add_rootfs(w, a, "rootfs", NULL, NULL, total, rep, reterr);
        int k = archive_tree_finish(a, reterr);
        return r < 0 ? r : k;
}

int export_work_run(DataReport *rep, void *userdata, WarrenError *reterr) {
        ExportWork *w = userdata;
        _cleanup_strv_free_ char **devices = NULL;
        _cleanup_close_ int mon = -EBADF;
        _cleanup_error_ WarrenError thaw_err = WARREN_ERROR_NULL;
        uint64_t total = 0;
        int r = 0;

        if (w->freeze_container)
                r = copy_freeze(w->runtime_dir, w->freeze_container, &mon, rep, reterr);
        if (r >= 0)
                r = data_worker_drop_privileges(false, reterr);
        if (r >= 0)
                r = copy_tree_measure(w->fds[0], ".", &total, NULL, reterr);
        if (r >= 0)
                data_report_progress(rep, "archive", 0, total);
        if (r >= 0 && w->fds[1] >= 0) {
                struct archive *a = NULL;
                devices = calloc(1, sizeof(char *));
                r = devices ? archive_tree_new_writer(w->fds[1], w->compression, &a, reterr) : -ENOMEM;
                if (r >= 0) {
                        r = add_rootfs(w, a, "./", LXC_NAME, &devices, total, rep, reterr);
                        int k = archive_tree_finish(a, reterr);
                        r = r < 0 ? r : k;
                }
                if (r >= 0)
                        r = write_meta(w, devices, reterr);
        } else if (r >= 0)
                r = write_unified(w, total, rep, reterr);
        if (mon >= 0) {
                int k = copy_thaw(mon, w->freeze_container, rep, &thaw_err);
                if (k < 0 && r >= 0)
                        r = warren_error_set(reterr, k, "%s", warren_error_message(&thaw_err));
        }
        if (r < 0)
                return r;
        data_report_note(rep, "Exported '%s' (%s, %.1f MB of files%s)", w->name,
                         w->fds[1] >= 0 ? "rootfs and meta tarballs" : "a unified tarball",
                         (double) total / 1e6, mon >= 0 ? ", taken frozen" : "");
        return 0;
}
