/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A whole image pull (the `download` template): index, downloads,
 * verification, cache, unpack into a container directory, templates and
 * config, run by warren-worker (lib/worker.h) so that warrend never parses
 * the untrusted bytes nor links the libraries that do. The worker (no
 * threads) leads its own process group, dies with its parent
 * (PR_SET_PDEATHSIG), sets PR_SET_NO_NEW_PRIVS, keeps only the capabilities
 * needed to write a rootfs (it stays root to set ownership), and reports
 * over a SOCK_SEQPACKET socket: progress messages, then one result message
 * (errno, message, create-message). The parent watches the socket from its
 * event loop (image_job_fd(), EPOLLIN) and calls image_job_dispatch().
 *
 * Cancel kills the child's process group; whether canceled, failed or
 * killed, the parent then removes what the job left: <target_dir>/rootfs,
 * config, fstab and unpack temporaries, and the cache temporary of the
 * child's pid. A failed job leaves no container files and no partial cache
 * entry.
 *
 * The job owns its child: it reaps it itself (waitpid on that pid), so the
 * caller must not reap it elsewhere (no waitid(P_ALL)). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "image-cache.h"
#include "image-unpack.h"

typedef struct ImagePullParams {
        const char *cache_dir;  /* images live in <cache_dir>/images */
        ImageFetchParams fetch; /* server, spec, mode, no_verify, flush/force cache, limits, timeouts
                                 * (its progress callback is not used) */

        /* Container creation. NULL target_dir: pull into the cache only (PullImage). */
        const char *target_dir;      /* an existing directory; gets rootfs/, config and maybe fstab */
        const char *container_name;  /* LXC_NAME, lxc.uts.name */
        const char *container_path;  /* LXC_PATH: the container's final directory; NULL: target_dir */
        const char *template_config; /* LXC_TEMPLATE_CONFIG; NULL: WARREN_DATA_DIR */
        const char *hook_dir;        /* LXC_HOOK_DIR; NULL: WARREN_DATA_DIR "/hooks" */
        const char *default_config;  /* default.conf text (hwaddr already filled); NULL: none */
        char *const *config_items;   /* extra key, value pairs for the container section */
        const ImageIdRange *idmap;   /* unprivileged containers: ids shifted while unpacking */
        size_t n_idmap;
        uint64_t max_entries; /* unpack limits; 0: defaults */
        uint64_t max_unpacked_size;
        bool no_decompressor; /* unpack without the forked decompressor (slower) */
} ImagePullParams;

typedef struct ImageJobProgress {
        ImagePhase phase;
        uint64_t bytes_done;  /* of the current phase */
        uint64_t bytes_total; /* 0 if unknown */
        double progress;      /* 0..1 over the whole job, never decreasing */
} ImageJobProgress;

typedef struct ImageJobResult {
        int error;            /* 0, or a positive errno (EBADE: verification, ECOMM: download, ...) */
        char *message;        /* what failed, NULL on success */
        char *create_message; /* the image's create-message, NULL if none */
        char *build;          /* the build used, NULL on failure */
        bool downloaded;      /* image files came over the network (not the cache) */
} ImageJobResult;

void image_job_result_done(ImageJobResult *r);

/* Reported by image_pull(); a negative return cancels it. */
typedef int (*ImagePullReportFunc)(const ImageJobProgress *p, void *userdata);

/* The worker's body (lib/image-pull.c), usable in-process (tests, tools):
 * does the whole pull. On failure it removes what it created in
 * target_dir (the job's parent does so again, for a worker that was
 * killed). */
int image_pull(const ImagePullParams *p, ImagePullReportFunc report, void *userdata, ImageJobResult *ret,
               WarrenError *reterr);
/* In warren-worker: no_new_privs, the rootfs capabilities only, then
 * image_pull() reporting on sock; sends the result and _exit()s. */
_Noreturn void image_pull_child(int sock, const ImagePullParams *p);
/* Checks what image_pull() checks first (paths absolute, names, idmap). */
int image_pull_params_validate(const ImagePullParams *p, WarrenError *reterr);
/* Removes rootfs, config, fstab and ".#unpack.*" from target_dir. */
int image_job_cleanup_target(const char *target_dir);

/* ---- the wire protocol (child -> parent, one message per datagram) ---- */

#define IMAGE_JOB_MSG_MAGIC 0x314a4957U /* "WIJ1" */
#define IMAGE_JOB_MSG_MAX (64U * 1024U)
#define IMAGE_JOB_MESSAGE_MAX 4096U         /* result message bytes */
#define IMAGE_JOB_CREATE_MESSAGE_MAX 32768U /* create-message bytes */

typedef enum ImageJobMsgType {
        IMAGE_JOB_MSG_PROGRESS = 1,
        IMAGE_JOB_MSG_RESULT = 2,
} ImageJobMsgType;

typedef struct ImageJobMsg {
        ImageJobMsgType type;
        ImageJobProgress progress; /* PROGRESS */
        ImageJobResult result;     /* RESULT (decoded strings are malloc'd) */
} ImageJobMsg;

/* Little-endian: u32 magic, u32 type; PROGRESS: u32 phase, u64 done,
 * u64 total, u32 progress in millionths; RESULT: i32 errno, u8 downloaded,
 * then message, create-message, build, each u32 length + bytes (no NUL).
 * Over-long strings are cut to the limits above. Returns the size written
 * or -ENOBUFS. */
ssize_t image_job_msg_encode(const ImageJobMsg *m, uint8_t *buf, size_t size);
/* Strict: wrong magic, type, phase, lengths, trailing bytes, a NUL inside
 * a string or an errno out of range: -EBADMSG naming what. */
int image_job_msg_decode(const uint8_t *buf, size_t size, ImageJobMsg *ret, WarrenError *reterr);
void image_job_msg_done(ImageJobMsg *m);
/* Encodes m and sends it as one datagram (in a worker; failures ignored:
 * the parent sees the worker end without a result). */
void image_job_msg_send(int sock, const ImageJobMsg *m);

/* ---- the job ---- */

typedef struct ImageJob ImageJob;

/* Validates p (so bad input fails here, before any fork), resolves the
 * architecture, starts warren-worker (worker_path: the installed one,
 * WARREN_WORKER_PATH, for warrend) and returns at once. */
int image_job_start(const char *worker_path, const ImagePullParams *p, ImageJob **ret, WarrenError *reterr);
/* The socket to watch for EPOLLIN (-EBADF once finished). */
int image_job_fd(const ImageJob *j);
pid_t image_job_pid(const ImageJob *j);

typedef enum ImageJobEvent {
        IMAGE_JOB_NONE = 0,     /* nothing to read now */
        IMAGE_JOB_PROGRESS = 1, /* *ret_progress holds the latest progress */
        IMAGE_JOB_FINISHED = 2, /* *ret_result is filled; the child is reaped, a failure cleaned up */
} ImageJobEvent;

/* Reads what the child sent (without blocking). Returns an ImageJobEvent
 * or a negative errno if reading failed. Progress that arrived with the
 * result is returned first (IMAGE_JOB_PROGRESS) and the result on the next
 * call, which the socket's readiness (EOF) triggers. */
int image_job_dispatch(ImageJob *j, ImageJobProgress *ret_progress, ImageJobResult *ret_result);
/* Kills the child's process group, reaps it, removes what it left and
 * fills *ret_result with ECANCELED (ret_result may be NULL). No-op after
 * the job finished. */
int image_job_cancel(ImageJob *j, ImageJobResult *ret_result);
/* Cancels a job still running, then frees. */
ImageJob *image_job_free(ImageJob *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageJob *, image_job_free);
#define _cleanup_image_job_ _cleanup_(image_job_freep)
