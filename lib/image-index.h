/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image server's index (LXC's "download" protocol, compat level 7):
 * <server>/meta/1.0/index-<mode>.7, else <server>/meta/1.0/index-<mode>,
 * one image build a line: "dist;release;arch;variant;build;path", the path
 * taking the rest of the line. Plus the names that select an image and the
 * host's architecture in Debian's naming. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

/* What the image server calls one image: -d -r -a --variant. */
typedef struct ImageSpec {
        const char *dist;
        const char *release;
        const char *arch;    /* NULL: the host's (image_host_arch()) */
        const char *variant; /* NULL: "default" */
} ImageSpec;

#define IMAGE_VARIANT_DEFAULT "default"
#define IMAGE_NAME_MAX 64U   /* dist, release, arch, variant */
#define IMAGE_BUILD_MAX 64U  /* build */
#define IMAGE_PATH_MAX 1024U /* path */
#define IMAGE_INDEX_MAX_ENTRIES 65536U
#define IMAGE_INDEX_MAX_SIZE (1024U * 1024U) /* default download limit */

typedef enum ImageMode {
        IMAGE_MODE_SYSTEM, /* privileged containers: index-system, config */
        IMAGE_MODE_USER,   /* unprivileged containers: index-user, config-user, excludes-user */
} ImageMode;

const char *image_mode_to_string(ImageMode m);

/* Checks one of dist, release, arch, variant or build (what names the value
 * in messages): 1..64 chars of [A-Za-z0-9._:+~-], not starting with '.' or
 * '-'. These become cache directory names, so nothing else is allowed.
 * -EINVAL naming what and the value. */
int image_name_validate(const char *what, const char *value, WarrenError *reterr);
/* Checks an index path (relative to the server URL, a leading '/' allowed):
 * at most 1024 chars of [A-Za-z0-9._:+~/@=,-], no "." or ".." component. */
int image_path_validate(const char *path, WarrenError *reterr);
/* Validates spec's names; the NULL arch and variant are allowed. */
int image_spec_validate(const ImageSpec *spec, WarrenError *reterr);

/* The Debian name of a kernel machine name (uname -m): x86_64 -> amd64,
 * aarch64 -> arm64, i386..i686 -> i386, armv7l/armv8l -> armhf,
 * ppc64le -> ppc64el, s390x, riscv64. NULL if unknown. */
const char *image_arch_from_machine(const char *machine);
/* The host's, from uname(); -EINVAL naming the machine if unknown. */
int image_host_arch(const char **ret, WarrenError *reterr);

/* Orders build names so that the newest build is the greatest:
 * runs of digits compare as numbers (leading zeros ignored, so "9" < "10"
 * and "20240101_05:24" < "20240101_11:02" < "20240102_00:00"), everything
 * else bytewise; equal by that rule, the plain strcmp() order decides, so
 * this is a total order. Returns <0, 0, >0 like strcmp(). */
int image_build_compare(const char *a, const char *b);

typedef struct ImageIndexEntry {
        char *dist;
        char *release;
        char *arch;
        char *variant;
        char *build;
        char *path;
} ImageIndexEntry;

typedef struct ImageIndex {
        ImageIndexEntry *entries;
        size_t n_entries;
        size_t n_skipped; /* short, blank-field or invalid lines */
} ImageIndex;

/* Parses an index (size bytes, need not be NUL-terminated; "\r\n" allowed).
 * Blank lines, lines with fewer than six fields, empty fields and fields
 * that fail the checks above are skipped (counted in n_skipped). A NUL byte
 * or more than IMAGE_INDEX_MAX_ENTRIES entries: -EBADMSG. */
int image_index_parse(const char *text, size_t size, ImageIndex **ret, WarrenError *reterr);
ImageIndex *image_index_free(ImageIndex *idx);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageIndex *, image_index_free);
#define _cleanup_image_index_ _cleanup_(image_index_freep)

/* Of the entries matching spec (arch and variant must be set), the one with
 * the greatest build (image_build_compare), wherever its line is. -ENOENT
 * naming the image if none matches. Borrowed pointer. */
int image_index_find(const ImageIndex *idx, const ImageSpec *spec, const ImageIndexEntry **ret,
                     WarrenError *reterr);

/* "<server>/meta/1.0/index-<mode>[.7]" (compat true adds ".7"). */
char *image_index_url(const char *server, ImageMode mode, bool compat);
#define IMAGE_COMPAT_LEVEL 7
