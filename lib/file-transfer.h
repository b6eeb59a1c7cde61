/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Files in and out of a container by tar stream, never by host path
 * (PullFiles, PushFiles), run in a data worker.
 *
 * The worker enters the container first: a running one through its mount
 * namespace (and, for an unprivileged one, its user namespace as its root:
 * it then reaches only what the container's root reaches), by the pidfd
 * its monitor hands out; a stopped one through its rootfs. Every path is
 * resolved inside with openat2() RESOLVE_IN_ROOT; below that the walk is
 * lib/copy.h's (no symlink followed, no mount entered).
 *
 * Pull writes the paths (each named by its last component; a symlink as a
 * symlink) as a tar stream. Push extracts the stream with the image
 * unpacker (lib/image-unpack.h: no absolute paths, no "..", nothing through
 * a symlink, size and entry limits, ids through the container's map) into
 * a fresh directory inside dest_dir, checks it (no device node, no setuid
 * or setgid file unless the caller is root), then moves it into place:
 * a refused stream changes nothing. */

#include <stdbool.h>

#include "basic/error.h"

typedef struct Idmap Idmap;
typedef struct DataReport DataReport;

#define FILE_PULL_PATHS_MAX 256U

typedef struct FileWork {
        int fds[2]; /* [0] the stream (pull: written, push: read), [1] the rootfs (used if stopped) */
        bool push;
        char **paths;         /* pull: absolute, as seen inside */
        bool recursive;       /* pull: directories too */
        const char *dest_dir; /* push: absolute, existing */
        const char *runtime_dir, *container;
        const Idmap *idmap;  /* the container's lxc.idmap, NULL if privileged */
        bool rootfs_shifted; /* its rootfs holds host ids (else container ids, idmapped at start) */
        bool caller_root;
} FileWork;

/* Checks what a caller sent before anything runs: -EINVAL naming the path. */
int file_pull_paths_validate(char *const *paths, WarrenError *reterr);
int file_push_dest_validate(const char *dest_dir, WarrenError *reterr);

int file_work_run(DataReport *rep, void *userdata, WarrenError *reterr);
