/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "config-check.h"
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "idmap.h"
#include "name.h"
#include "store.h"
#include "template.h"

static const char *const known_templates[] = { "busybox", "download", "local" };

static int validate_template(const ContainerCreateParams *p, WarrenError *reterr) {
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(known_templates); i++)
                if (streq(p->template_name, known_templates[i]))
                        known = true;
        if (!known)
                return warren_error_set(
                        reterr, EINVAL,
                        "Unknown template '%s': known templates are busybox, download, local",
                        p->template_name);
        if (!streq(p->template_name, "busybox"))
                return warren_error_set(reterr, EOPNOTSUPP,
                                        "Template '%s' is not supported by this warrend yet",
                                        p->template_name);
        if (!strv_length(p->template_args))
                return 0;
        return warren_error_set(reterr, EINVAL, "Template 'busybox' takes no arguments, got '%s'",
                                p->template_args[0]);
}

int container_config_apply_items(LxcConfig *c, char *const *kv, WarrenError *reterr) {
        size_t n = strv_length(kv);
        if (n % 2 != 0)
                return warren_error_set(reterr, EINVAL, "Config items must come in key, value pairs");
        for (size_t i = 0; i < n; i += 2) {
                int r = lxc_config_apply(c, kv[i], kv[i + 1], reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_create_validate(const ContainerCreateParams *p, WarrenError *reterr) {
        int r = container_name_validate(p->name, reterr);
        if (r < 0)
                return r;
        r = validate_template(p, reterr);
        if (r < 0)
                return r;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        if (!c)
                return -ENOMEM;
        return container_config_apply_items(c, p->config_items, reterr);
}

static int load_default_conf(LxcConfig *c, const ContainerCreateParams *p, WarrenError *reterr) {
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP, .fill_hwaddr = true };
        const char *dirs[] = { p->config_dir, p->data_dir };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = NULL;
                if (!dirs[i])
                        continue;
                if (asprintf(&path, "%s/default.conf", dirs[i]) < 0)
                        return -ENOMEM;
                if (access(path, F_OK) < 0)
                        continue;
                return lxc_config_load(c, path, &opts, reterr);
        }
        return 0; /* no default.conf anywhere: start empty, like LXC */
}

/* The idmap lines of p->idmap, as config items. */
static int apply_idmap(LxcConfig *c, const Idmap *m, WarrenError *reterr) {
        if (!m)
                return 0;
        (void) lxc_config_unset(c, "lxc.idmap");
        for (size_t i = 0; i < m->n; i++) {
                _cleanup_free_ char *v = idmap_line_format(&m->lines[i]);
                if (!v)
                        return -ENOMEM;
                int r = lxc_config_apply(c, "lxc.idmap", v, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_build_config(const ContainerCreateParams *p, const char *container_dir, LxcConfig **ret,
                           WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_free_ char *rootfs_value = NULL;
        int r;
        if (!c)
                return -ENOMEM;
        /* Layers, LXC's way: system default.conf, the owner's own default.conf,
         * the template's keys, the caller's items; then what warren owns. */
        r = load_default_conf(c, p, reterr);
        if (r < 0)
                return r;
        if (p->user_default_conf) {
                const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP,
                                               .fill_hwaddr = true,
                                               .include_allow = p->include_allow };
                r = lxc_config_parse(c, p->user_default_conf, strlen(p->user_default_conf),
                                     p->user_default_conf_path, &opts, reterr);
                if (r < 0)
                        return r;
        }
        TemplateBusyboxOptions o = { .name = p->name };
        _cleanup_strv_free_ char **items = template_busybox_config(&o);
        if (!items)
                return -ENOMEM;
        r = container_config_apply_items(c, items, reterr);
        if (r >= 0)
                r = apply_idmap(c, p->idmap, reterr);
        if (r >= 0)
                r = container_config_apply_items(c, p->config_items, reterr);
        if (r < 0)
                return r;
        if (asprintf(&rootfs_value, "dir:%s/rootfs", container_dir) < 0)
                return -ENOMEM;
        r = lxc_config_apply(c, "lxc.rootfs.path", rootfs_value, reterr);
        if (r >= 0)
                r = lxc_config_apply(c, "lxc.uts.name", p->name, reterr);
        if (r >= 0) /* the layers together, by the start's rules (config-check.h) */
                r = config_check(c, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

typedef struct BuildContext {
        const ContainerCreateParams *params;
        LxcConfig *config;
} BuildContext;

static int build_busybox(int dirfd, const char *final_path, void *userdata, WarrenError *reterr) {
        BuildContext *b = userdata;
        const ContainerCreateParams *p = b->params;
        _cleanup_free_ char *text = NULL;
        int r;

        TemplateBusyboxOptions o = {
                .name = p->name,
                .busybox_path = p->busybox_path,
        };
        const char *tty = lxc_config_get(b->config, "lxc.tty.max");
        if (tty)
                o.tty_max = (unsigned) strtoul(tty, NULL, 10);
        /* An unprivileged container's files belong to its mapped root. */
        if (p->idmap) {
                uint32_t u, g;
                if (idmap_to_host(p->idmap, IDMAP_UID, 0, &u) < 0 ||
                    idmap_to_host(p->idmap, IDMAP_GID, 0, &g) < 0)
                        return warren_error_set(reterr, EINVAL, "The idmap of '%s' does not map root",
                                                p->name);
                o.root_uid = u;
                o.root_gid = g;
        }
        if (mkdirat(dirfd, "rootfs", 0755) < 0)
                return warren_error_set(reterr, errno, "Failed to create rootfs directory: %m");
        _cleanup_close_ int rootfs_fd =
                openat(dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (rootfs_fd < 0)
                return warren_error_set(reterr, errno, "Failed to open rootfs directory: %m");
        r = template_busybox_rootfs(rootfs_fd, &o, reterr);
        if (r < 0)
                return r;

        text = lxc_config_format(b->config);
        if (!text)
                return -ENOMEM;
        r = write_file_atomic_at(dirfd, "config", text, strlen(text), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write config: %s", strerror(-r));
        return 0;
}

int container_create(Store *store, const ContainerCreateParams *p, WarrenError *reterr) {
        int r = container_create_validate(p, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = store_container_path(store, p->name, NULL);
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        if (!dir)
                return -ENOMEM;
        r = container_build_config(p, dir, &c, reterr);
        if (r < 0)
                return r;
        BuildContext b = { .params = p, .config = c };
        return store_create(store, p->name, p->owner, build_busybox, &b, reterr);
}

int container_load_config(const Store *store, const char *name, LxcIncludeMode mode, LxcConfig **ret,
                          WarrenError *reterr) {
        _cleanup_free_ char *path = store_container_path(store, name, "config");
        if (!path)
                return -ENOMEM;
        /* Not a missing container (the caller checked that): a damaged one. */
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno != ENOENT && errno != ENOTDIR)
                        return warren_error_set(reterr, errno,
                                                "Failed to read config file %s of container '%s': %m", path,
                                                name);
                if (store_exists(store, name) <= 0)
                        return warren_error_set(reterr, ENOENT, "Container '%s' does not exist", name);
                return warren_error_set(reterr, EBADMSG,
                                        "Container '%s' is damaged: its config file %s is missing", name,
                                        path);
        }
        if (!S_ISREG(st.st_mode))
                return warren_error_set(
                        reterr, EBADMSG,
                        "Container '%s' is damaged: its config file %s is not a regular file", name, path);
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        if (!c)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = mode };
        int r = lxc_config_load(c, path, &opts, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Appends "; "-separated text to *problems. */
static int add_problem(char **problems, const char *text) {
        char *n = NULL;
        if (asprintf(&n, "%s%s%s", strempty(*problems), *problems ? "; " : "", text) < 0)
                return -ENOMEM;
        free(*problems);
        *problems = n;
        return 0;
}

int container_check(const Store *store, const char *name, char **ret_problem) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_free_ char *problems = NULL, *rootfs = NULL;
        uid_t owner;
        int r;

        *ret_problem = NULL;
        if (store_read_owner(store, name, &owner, &e) < 0 &&
            (r = add_problem(&problems, warren_error_message(&e))) < 0)
                return r;
        warren_error_clear(&e);
        r = container_load_config(store, name, LXC_INCLUDE_EXPAND, &c, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* The parser's messages name file and line; say whose file it is. */
                _cleanup_free_ char *text = NULL;
                const char *msg = warren_error_message(&e);
                if (strstr(msg, name) ||
                    asprintf(&text, "Container '%s' has an invalid config: %s", name, msg) < 0)
                        text = NULL;
                r = add_problem(&problems, text ?: msg);
                if (r < 0)
                        return r;
        } else {
                rootfs = container_rootfs_from_config(c);
                if (!rootfs)
                        rootfs = store_container_path(store, name, "rootfs");
                if (!rootfs)
                        return -ENOMEM;
                struct stat st;
                _cleanup_free_ char *text = NULL;
                if (stat(rootfs, &st) < 0)
                        r = asprintf(&text, "Container '%s' is damaged: its rootfs %s %s", name, rootfs,
                                     errno == ENOENT ? "is missing" : strerror(errno));
                else if (!S_ISDIR(st.st_mode))
                        r = asprintf(&text, "Container '%s' is damaged: its rootfs %s is not a directory",
                                     name, rootfs);
                else
                        r = 0;
                if (r < 0)
                        return -ENOMEM;
                if (text && (r = add_problem(&problems, text)) < 0)
                        return r;
        }
        *ret_problem = TAKE_PTR(problems);
        return 0;
}

int container_destroy(Store *store, const char *name, WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        /* A config that no longer loads has no hook to run: the container
         * must still be removable. */
        if (container_load_config(store, name, LXC_INCLUDE_EXPAND, &c, &e) >= 0 &&
            hooks_any(c, HOOK_DESTROY)) {
                _cleanup_free_ char *config_path = store_container_path(store, name, "config");
                _cleanup_free_ char *rootfs = container_rootfs_from_config(c);
                if (!rootfs)
                        rootfs = store_container_path(store, name, "rootfs");
                HookContext ctx = {
                        .name = name,
                        .config_path = config_path,
                        .rootfs_path = rootfs,
                        .timeout_ms = 60U * 1000U, /* a Destroy call waits for it */
                };
                int r = hooks_run(c, HOOK_DESTROY, &ctx, reterr);
                if (r < 0)
                        return r;
        }
        return store_destroy(store, name, reterr);
}

int container_config_prepare(const Store *store, const char *name, char *const *kv, char **ret_text,
                             LxcConfig **ret_expanded, WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = NULL, *check = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        int r;

        r = container_load_config(store, name, LXC_INCLUDE_KEEP, &c, reterr);
        if (r < 0)
                return r;
        r = container_config_apply_items(c, kv, reterr);
        if (r < 0)
                return r;
        text = lxc_config_format(c);
        path = store_container_path(store, name, "config");
        check = lxc_config_new();
        if (!text || !path || !check)
                return -ENOMEM;
        /* The whole result must load as start would load it. */
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_EXPAND };
        r = lxc_config_parse(check, text, strlen(text), path, &opts, reterr);
        if (r >= 0) /* and by the same rules as the start (config-check.h) */
                r = config_check(check, reterr);
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(text);
        if (ret_expanded)
                *ret_expanded = TAKE_PTR(check);
        return 0;
}

int container_set_config(Store *store, const char *name, char *const *kv, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        int r = container_config_prepare(store, name, kv, &text, NULL, reterr);
        if (r < 0)
                return r;
        return store_write_config(store, name, text, reterr);
}

char *container_rootfs_from_config(const LxcConfig *c) {
        const char *v = lxc_config_get(c, "lxc.rootfs.path");
        if (!v)
                return NULL;
        if (strncmp(v, "dir:", 4) == 0)
                v += 4;
        return strdup(v);
}
