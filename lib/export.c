/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "clone.h"
#include "config.h"
#include "export.h"
#include "fileio.h"
#include "strv.h"

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
