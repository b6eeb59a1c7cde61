/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The image work lib/image-job.h does not cover, as warren-worker runs it
 * for warrend's image helpers (service/image-helper.h): the "local"
 * template (unpacking a rootfs tarball root named) and listing what an
 * image server offers. Each reports on the worker's socket in
 * lib/image-job.h's wire format (progress, then one result) and _exit()s.
 * The remote listing also sends the index it parsed, re-written from the
 * validated entries only (newest build of each image), in chunks of one
 * byte IMAGE_HELPER_TEXT_CHUNK followed by index lines. */

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>

#include "image-index.h"
#include "image-unpack.h"

#define IMAGE_HELPER_TEXT_CHUNK 'T'
/* Timeouts of the remote listing (it answers a method call). */
#define IMAGE_HELPER_REMOTE_TIMEOUT_S 15U

typedef struct ImageLocalParams {
        const char *fstree;          /* the rootfs tarball */
        const char *metadata;        /* an image's meta.tar.xz, or NULL */
        const char *target_dir;      /* gets rootfs/ and config (and fstab) */
        const char *container_name;  /* LXC_NAME */
        const char *container_path;  /* LXC_PATH: the final directory */
        const char *template_config; /* LXC_TEMPLATE_CONFIG */
        const char *hook_dir;        /* LXC_HOOK_DIR */
        const char *default_config;  /* default.conf layers and the caller's items */
        ImageMode mode;
        const ImageIdRange *idmap;
        size_t n_idmap;
} ImageLocalParams;

typedef struct ImageRemoteParams {
        const char *server; /* canonical URL */
        ImageMode mode;
        const char *keyring; /* the remote's: the index must be signed by one of its keys; NULL: not */
        /* A directory of root's where the child makes a scratch directory
         * of nobody's (the GnuPG home of the index's check); warrend's
         * runtime directory. */
        const char *scratch_dir;
} ImageRemoteParams;

/* The listing's scratch directory: <scratch_dir>/.#image-list-PID, PID the
 * worker's. Whoever reaps the worker removes it. */
static inline int image_remote_scratch_path(const char *scratch_dir, pid_t pid, char **ret) {
        return asprintf(ret, "%s/.#image-list-%d", scratch_dir, (int) pid) < 0 ? -ENOMEM : 0;
}

/* Keeps only the capabilities writing a rootfs takes (with no_new_privs),
 * unpacks fstree into target_dir/rootfs with its metadata's templates and
 * config; on failure removes what it made in target_dir. */
_Noreturn void image_local_child(int sock, const ImageLocalParams *p);
/* As root: opens the keyring and makes the scratch directory; then as
 * nobody (no groups, no capabilities, no_new_privs) fetches the index as
 * image_index_fetch() does (checked against the keyring, as root's pulls
 * are), parses it and sends it; a bad or absent signature ends it with
 * EBADE (VerificationFailed). */
_Noreturn void image_remote_child(int sock, const ImageRemoteParams *p);
