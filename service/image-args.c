/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image templates' arguments (image-args.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "image-args.h"
#include "image-index.h"

#define TEMPLATE_ARGS_MAX 64U
#define DOWNLOAD_TIMEOUT_MAX 3600U

typedef enum ArgId {
        ARG_DIST,
        ARG_RELEASE,
        ARG_ARCH,
        ARG_VARIANT,
        ARG_SERVER,
        ARG_NO_VERIFY,
        ARG_FLUSH_CACHE,
        ARG_FORCE_CACHE,
        ARG_KEYSERVER,
        ARG_TIMEOUT,
        ARG_MAX_SIZE,
        ARG_LIST,
        ARG_FSTREE,
        ARG_METADATA,
} ArgId;

typedef struct ArgDef {
        const char *long_name; /* with "--" */
        const char *short_name;
        bool has_value;
        ArgId id;
} ArgDef;

static const ArgDef download_args[] = {
        { "--dist", "-d", true, ARG_DIST },
        { "--release", "-r", true, ARG_RELEASE },
        { "--arch", "-a", true, ARG_ARCH },
        { "--variant", "-v", true, ARG_VARIANT },
        { "--server", NULL, true, ARG_SERVER },
        { "--no-verify", NULL, false, ARG_NO_VERIFY },
        { "--no-validate", NULL, false, ARG_NO_VERIFY }, /* lxc-download's name */
        { "--flush-cache", NULL, false, ARG_FLUSH_CACHE },
        { "--force-cache", NULL, false, ARG_FORCE_CACHE },
        { "--keyserver", NULL, true, ARG_KEYSERVER },
        { "--timeout", NULL, true, ARG_TIMEOUT },
        { "--max-size", NULL, true, ARG_MAX_SIZE },
        { "--list", "-l", false, ARG_LIST },
};

static const ArgDef local_args[] = {
        { "--fstree", "-f", true, ARG_FSTREE },
        { "--metadata", "-m", true, ARG_METADATA },
};

#define DOWNLOAD_KNOWN                                                                                \
        "-d DIST, -r RELEASE, -a ARCH, --variant VARIANT, --server URL, --no-verify, --flush-cache, " \
        "--force-cache, --keyserver, --timeout SECONDS, --max-size BYTES"
#define LOCAL_KNOWN "[--fstree|-f] PATH, --metadata|-m PATH"

static int invalid_arg(sd_bus_error *error, const char *tmpl, const char *arg, const char *why) {
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                 "Invalid argument '%s' for template '%s': %s", arg, tmpl, why);
}

/* "123", "64K", "10M", "2G" (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        uint64_t mult = 1;
        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        if (*end && !end[1]) {
                switch (*end) {
                case 'K':
                        mult = 1ULL << 10;
                        break;
                case 'M':
                        mult = 1ULL << 20;
                        break;
                case 'G':
                        mult = 1ULL << 30;
                        break;
                default:
                        return -EINVAL;
                }
        } else if (*end)
                return -EINVAL;
        if (v == 0 || v > UINT64_MAX / mult)
                return -EINVAL;
        *ret = v * mult;
        return 0;
}

static int check_name_arg(const char *what, const char *value, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        if (image_name_validate(what, value, &err) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)),
                       -EINVAL;
        return 0;
}

static int apply_arg(ImageArgs *a, const char *tmpl, const ArgDef *def, const char *arg, const char *value,
                     sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        switch (def->id) {
        case ARG_DIST:
                a->dist = value;
                return check_name_arg("distribution", value, error);
        case ARG_RELEASE:
                a->release = value;
                return check_name_arg("release", value, error);
        case ARG_ARCH:
                a->arch = value;
                return check_name_arg("architecture", value, error);
        case ARG_VARIANT:
                a->variant = value;
                return check_name_arg("variant", value, error);
        case ARG_SERVER:
                /* A remote's name or a URL: image_source_resolve() decides. */
                a->server = value;
                return 0;
        case ARG_NO_VERIFY:
                a->no_verify = true;
                return 0;
        case ARG_FLUSH_CACHE:
                a->flush_cache = true;
                return 0;
        case ARG_FORCE_CACHE:
                a->force_cache = true;
                return 0;
        case ARG_KEYSERVER:
                /* Accepted for lxc-download's scripts: signatures are checked
                 * against the remote's keyring (remotes.conf), never a key server's. */
                return 0;
        case ARG_TIMEOUT: {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v > DOWNLOAD_TIMEOUT_MAX || strpbrk(value, "KMG"))
                        return invalid_arg(error, tmpl, value,
                                           "--timeout takes 1.." STRINGIFY(DOWNLOAD_TIMEOUT_MAX) " seconds");
                a->timeout_s = (unsigned) v;
                return 0;
        }
        case ARG_MAX_SIZE:
                if (parse_size(value, &a->max_size) < 0)
                        return invalid_arg(error, tmpl, value,
                                           "--max-size takes a size in bytes (K, M, G suffixes)");
                return 0;
        case ARG_LIST:
                return invalid_arg(error, tmpl, arg,
                                   "listing is Manager.ListRemoteImages (warrenctl images --remote)");
        case ARG_FSTREE:
        case ARG_METADATA:
                if (value[0] != '/' || strlen(value) >= PATH_MAX)
                        return invalid_arg(error, tmpl, value, "not an absolute path");
                if (def->id == ARG_FSTREE)
                        a->fstree = value;
                else
                        a->metadata = value;
                return 0;
        }
        return -EINVAL;
}

int parse_image_args(const char *tmpl, char *const *args, ImageArgs *ret, sd_bus_error *error) {
        ImageArgs a = { .local = streq(tmpl, "local") };
        const ArgDef *defs = a.local ? local_args : download_args;
        size_t n_defs = a.local ? ELEMENTSOF(local_args) : ELEMENTSOF(download_args);
        int r;

        if (strv_length(args) > TEMPLATE_ARGS_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Too many arguments for template '%s' (more than %u)", tmpl,
                                         TEMPLATE_ARGS_MAX);
        for (size_t i = 0; args && args[i]; i++) {
                const char *arg = args[i], *eq = NULL, *value = NULL;
                const ArgDef *def = NULL;
                if (strncmp(arg, "--", 2) == 0)
                        eq = strchr(arg, '=');
                size_t len = eq ? (size_t) (eq - arg) : strlen(arg);
                for (size_t k = 0; k < n_defs && !def; k++)
                        if ((strlen(defs[k].long_name) == len &&
                             strncmp(arg, defs[k].long_name, len) == 0) ||
                            (!eq && defs[k].short_name && streq(arg, defs[k].short_name)))
                                def = &defs[k];
                if (!def && a.local && arg[0] != '-' && !a.fstree) {
                        r = apply_arg(&a, tmpl, &local_args[0], arg, arg, error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!def)
                        return invalid_arg(error, tmpl, arg,
                                           a.local ? "unknown (known: " LOCAL_KNOWN ")"
                                                   : "unknown (known: " DOWNLOAD_KNOWN ")");
                if (def->has_value) {
                        value = eq ? eq + 1 : args[i + 1];
                        if (!eq && value)
                                i++;
                        if (isempty(value))
                                return invalid_arg(error, tmpl, arg, "needs a value");
                } else if (eq)
                        return invalid_arg(error, tmpl, arg, "takes no value");
                r = apply_arg(&a, tmpl, def, arg, value, error);
                if (r < 0)
                        return r;
        }
        if (a.local && !a.fstree)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Template 'local' needs the path of a rootfs tarball (" LOCAL_KNOWN
                                         ")");
        if (!a.local && (!a.dist || !a.release))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Template 'download' needs -d DIST and -r RELEASE (%s missing)",
                                         a.dist ? "-r" : "-d");
        if (!a.local && !a.arch) {
                _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
                if (image_host_arch(&a.arch, &err) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s: give -a ARCH",
                                                 warren_error_message(&err));
        }
        if (!a.local && !a.variant)
                a.variant = IMAGE_VARIANT_DEFAULT;
        *ret = a;
        return 0;
}
