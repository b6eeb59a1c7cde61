/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrend's side of the image work lib/image-job.h does not cover: the
 * "local" template (unpacking a rootfs tarball root named) and listing what
 * an image server offers, each run by warren-worker (lib/image-child.h
 * says what the work does and with which privileges). Like the image job,
 * the worker leads its own process group and dies with warrend; it
 * reports over a SOCK_SEQPACKET socket watched from warrend's event loop:
 * datagrams are handed to a callback, then the worker's wait status once
 * it is gone.
 *
 * Messages: lib/image-job.h's wire format (progress, result), and for the
 * remote listing the index in IMAGE_HELPER_TEXT_CHUNK chunks. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "basic/error.h"
#include "image-child.h"

typedef struct ImageHelper ImageHelper;

typedef void (*ImageHelperMessageFunc)(ImageHelper *h, const uint8_t *buf, size_t size, void *userdata);
/* The worker is gone and reaped; status as from waitpid(). The helper may
 * be freed from here. */
typedef void (*ImageHelperExitFunc)(ImageHelper *h, int status, void *userdata);

/* worker_path: the warren-worker binary (the daemon's --worker-path). */
int image_helper_start_local(sd_event *e, const char *worker_path, const ImageLocalParams *p,
                             ImageHelperMessageFunc on_message, ImageHelperExitFunc on_exit, void *userdata,
                             ImageHelper **ret, WarrenError *reterr);
/* With a keyring, the worker's scratch directory under p->scratch_dir is
 * removed when it is reaped. */
int image_helper_start_remote(sd_event *e, const char *worker_path, const ImageRemoteParams *p,
                              ImageHelperMessageFunc on_message, ImageHelperExitFunc on_exit, void *userdata,
                              ImageHelper **ret, WarrenError *reterr);

pid_t image_helper_pid(const ImageHelper *h);
/* Kills a worker still running (its whole process group) and reaps it,
 * without calling on_exit; then frees. */
ImageHelper *image_helper_free(ImageHelper *h);
