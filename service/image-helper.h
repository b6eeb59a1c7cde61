/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Forked helpers for the image work lib/image-job.h does not cover: the
 * "local" template (unpacking a rootfs tarball root named) and listing what
 * an image server offers. Like the image job, the child leads its own
 * process group, dies with warrend, keeps only the capabilities it needs
 * (the remote listing runs as nobody, with none), and reports over a
 * SOCK_SEQPACKET socket watched from warrend's event loop: datagrams are
 * handed to a callback, then the child's wait status once it is gone.
 *
 * Messages: lib/image-job.h's wire format (progress, result). The remote
 * listing also sends the index it parsed, re-written from the validated
 * entries only (newest build of each image), in chunks of one byte 'T'
 * followed by index lines. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "basic/error.h"
#include "image-index.h"
#include "image-unpack.h"

#define IMAGE_HELPER_TEXT_CHUNK 'T'

typedef struct ImageHelper ImageHelper;

typedef void (*ImageHelperMessageFunc)(ImageHelper *h, const uint8_t *buf, size_t size, void *userdata);
/* The child is gone and reaped; status as from waitpid(). The helper may be
 * freed from here. */
typedef void (*ImageHelperExitFunc)(ImageHelper *h, int status, void *userdata);

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

int image_helper_start_local(sd_event *e, const ImageLocalParams *p, ImageHelperMessageFunc on_message,
                             ImageHelperExitFunc on_exit, void *userdata, ImageHelper **ret,
                             WarrenError *reterr);

/* Timeouts of the remote listing (it answers a method call). */
#define IMAGE_HELPER_REMOTE_TIMEOUT_S 15U
typedef struct ImageRemoteParams {
        const char *server; /* canonical URL */
        ImageMode mode;
        const char *keyring; /* the remote's: the index must be signed by one of its keys; NULL: not */
        /* A directory of root's where the child makes a scratch directory
         * of nobody's (the GnuPG home of the index's check); warrend's
         * runtime directory. */
        const char *scratch_dir;
} ImageRemoteParams;

/* The index is fetched as image_index_fetch() does (checked against the
 * keyring, as root's pulls do) and parsed as nobody; a bad or absent
 * signature ends it with EBADE (VerificationFailed). */
int image_helper_start_remote(sd_event *e, const ImageRemoteParams *p, ImageHelperMessageFunc on_message,
                              ImageHelperExitFunc on_exit, void *userdata, ImageHelper **ret,
                              WarrenError *reterr);

pid_t image_helper_pid(const ImageHelper *h);
/* Kills a child still running (its whole process group) and reaps it,
 * without calling on_exit; then frees. */
ImageHelper *image_helper_free(ImageHelper *h);
