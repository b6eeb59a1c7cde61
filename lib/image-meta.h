/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An image's meta.tar.xz (LXC's download protocol): config / config-user,
 * templates, excludes-user, expiry, create-message (and fstab). A file is
 * looked up the way lxc-download's relevant_file does: NAME-<mode> if it
 * exists, else NAME; then that with ".7" appended if that exists.
 *
 * Also: the literal LXC_* substitution in template files, and the assembly
 * of a new container's config text in lxc-download's layout. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "image-index.h"

#define IMAGE_META_FILE_MAX (1024U * 1024U) /* one file in meta.tar.xz */
#define IMAGE_META_MAX_ENTRIES 256U
#define IMAGE_META_MAX_TEMPLATES 1024U

/* Extracts the meta files (top-level regular files named config, templates,
 * excludes, expiry, create-message or fstab, each optionally with "-user" /
 * "-system" and ".<digits>") from the archive at archive_fd into the empty
 * directory dest_dirfd, mode 0644. Anything else in the archive is skipped;
 * a file over IMAGE_META_FILE_MAX or more than IMAGE_META_MAX_ENTRIES
 * entries: -EFBIG; a broken archive: -EBADMSG. */
int image_meta_extract(int archive_fd, int dest_dirfd, WarrenError *reterr);

typedef struct ImageMeta {
        char *config;         /* the distribution config text */
        char *fstab;          /* NULL if none */
        char **templates;     /* rootfs paths to substitute in */
        char **excludes;      /* tar exclude patterns */
        char *create_message; /* NULL if none */
        bool has_expiry;
        uint64_t expiry; /* seconds since the epoch */
} ImageMeta;

/* Reads the files for mode from a directory image_meta_extract() filled.
 * No config: -EINVAL "Invalid image: no config ...". An unparsable expiry is
 * treated as absent. */
int image_meta_load(int meta_dirfd, ImageMode mode, ImageMeta **ret, WarrenError *reterr);
ImageMeta *image_meta_free(ImageMeta *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageMeta *, image_meta_free);
#define _cleanup_image_meta_ _cleanup_(image_meta_freep)

typedef struct ImageTemplateVars {
        const char *name;            /* LXC_NAME: the container name */
        const char *path;            /* LXC_PATH: the container's directory */
        const char *rootfs;          /* LXC_ROOTFS: its rootfs directory */
        const char *template_config; /* LXC_TEMPLATE_CONFIG: warren's data dir (common.conf, userns.conf) */
        const char *hook_dir;        /* LXC_HOOK_DIR */
} ImageTemplateVars;

/* Replaces each LXC_NAME, LXC_PATH, LXC_ROOTFS, LXC_TEMPLATE_CONFIG and
 * LXC_HOOK_DIR in text by its value, literally and in one pass (a value is
 * never searched again). NULL on ENOMEM. */
char *image_template_substitute(const char *text, size_t size, const ImageTemplateVars *v);

/* Substitutes in each of m->templates inside the rootfs (resolved with
 * RESOLVE_IN_ROOT, so symlinks stay inside; missing files and non-regular
 * files are skipped as lxc-download does), rewriting in place so owner and
 * mode are kept. */
int image_meta_apply_templates(const ImageMeta *m, int rootfs_dirfd, const ImageTemplateVars *v,
                               WarrenError *reterr);

typedef struct ImageConfigParams {
        const char *default_config; /* default.conf's text; NULL: none */
        const char *dist_config;    /* ImageMeta.config */
        const ImageTemplateVars *vars;
        const char *rootfs_path;  /* lxc.rootfs.path = dir:<this>; NULL: vars->rootfs */
        bool has_fstab;           /* adds lxc.mount.fstab = <vars->path>/fstab */
        char *const *extra_items; /* alternating key, value: appended to the container section */
} ImageConfigParams;

/* The new container's config, as lxc-download writes it: default.conf's
 * comments, "# Distribution configuration" (the image's config), "# Container
 * specific configuration" (default.conf's other keys, extra_items,
 * lxc.rootfs.path, lxc.uts.name), "# Network configuration" (default.conf's
 * lxc.net.* / lxc.network.* keys), the LXC_* names substituted throughout.
 * (lxc-download moves only lxc.net.0 lines; here every NIC moves.)
 * The image's config may only lxc.include files under vars->template_config
 * and may not set lxc.hook.*: -EPERM naming the key. The result must parse:
 * else -EINVAL naming the line. */
int image_config_assemble(const ImageConfigParams *p, char **ret, WarrenError *reterr);

/* Writes the new container's fstab (the image's, substituted, if it has
 * one; meta may be NULL) and config (image_config_assemble() of p, with
 * has_fstab set here) into its directory tfd, each atomically. With
 * *ret_refused set if the image's config was refused (-EPERM or -EINVAL from
 * image_config_assemble()), not if writing failed. */
int image_target_write_config(int tfd, const ImageMeta *meta, const ImageConfigParams *p, bool *ret_refused,
                              WarrenError *reterr);
