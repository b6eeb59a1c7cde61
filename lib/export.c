/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
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

const char *export_host_arch(void) {
        static struct utsname u;
        if (!u.machine[0] && uname(&u) < 0)
                return "unknown";
        return u.machine;
}

static bool startswith(const char *s, const char *p) {
        return strncmp(s, p, strlen(p)) == 0;
}

/* Keys that belong to this host or to this container, not to an image. */
static bool host_specific(const char *k, const char *v) {
        static const char *const exact[] = { "lxc.uts.name",        "lxc.idmap",        "lxc.mount.fstab",
                                             "lxc.console.logfile", "lxc.console.path", "lxc.group" };
        static const char *const prefixes[] = { "lxc.rootfs.", "lxc.net.",   "lxc.network.", "lxc.hook.",
                                                "lxc.log.",    "lxc.start.", "lxc.monitor." };
        for (size_t i = 0; i < ELEMENTSOF(exact); i++)
                if (streq(k, exact[i]))
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(k, prefixes[i]))
                        return true;
        /* A bind mount of a host path is this host's. */
        return streq(k, "lxc.mount.entry") && v[0] == '/';
}

int export_image_config(const LxcConfig *c, const char *template_config_dir, const char *arch,
                        char **ret_config, char **ret_config_user, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL, *user = NULL, *dir = NULL;
        size_t size = 0, k;
        bool userns = false, has_arch = false;
        FILE *f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        dir = strdup(template_config_dir);
        if (!dir) {
                fclose(f);
                return -ENOMEM;
        }
        k = strlen(dir);
        while (k > 1 && dir[k - 1] == '/')
                dir[--k] = 0;
        fputs("# Exported by warren\n", f);
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                const char *key, *v;
                lxc_config_item(c, i, &key, &v);
                if (host_specific(key, v))
                        continue;
                if (streq(key, "lxc.include")) {
                        if (strncmp(v, dir, k) != 0 || v[k] != '/')
                                continue; /* someone's own file: not in the image */
                        if (streq(v + k + 1, "userns.conf")) {
                                userns = true;
                                continue;
                        }
                        fprintf(f, "lxc.include = LXC_TEMPLATE_CONFIG/%s\n", v + k + 1);
                        continue;
                }
                has_arch = has_arch || streq(key, "lxc.arch");
                fprintf(f, "%s = %s\n", key, v);
        }
        if (!has_arch)
                fprintf(f, "lxc.arch = %s\n", arch);
        if (fclose(f) != 0)
                return -ENOMEM;
        (void) userns; /* config-user includes it whether the container did or not */
        if (asprintf(&user, "%slxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n", text) < 0)
                return -ENOMEM;
        /* The result must load as any image's config does. */
        _cleanup_lxc_config_ LxcConfig *check = lxc_config_new();
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        if (!check)
                return -ENOMEM;
        int r = lxc_config_parse(check, user, strlen(user), "exported config", &opts, reterr);
        if (r < 0)
                return r;
        *ret_config = TAKE_PTR(text);
        *ret_config_user = TAKE_PTR(user);
        return 0;
}

char *export_metadata_yaml(const char *name, const char *arch, uint64_t now_s, bool hostname, bool hosts) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        fprintf(f,
                "architecture: %s\n"
                "creation_date: %llu\n"
                "expiry_date: %llu\n"
                "properties:\n"
                "  description: \"%s (exported by warren)\"\n"
                "  name: \"%s\"\n",
                arch, (unsigned long long) now_s, (unsigned long long) (now_s + EXPORT_EXPIRY_SEC), name,
                name);
        if (hostname || hosts) {
                fputs("templates:\n", f);
                if (hostname)
                        fputs("  /etc/hostname:\n    when:\n    - create\n    - copy\n    template: "
                              "hostname.tpl\n",
                              f);
                if (hosts)
                        fputs("  /etc/hosts:\n    when:\n    - create\n    - copy\n    template: "
                              "hosts.tpl\n",
                              f);
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/* ---- the worker ---- */

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
