/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The build tree's warren-worker, which the unit tests of lib/worker.h's
 * users run for real (WARREN_WORKER_BINARY overrides). */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline const char *test_worker_path(void) {
        static char path[PATH_MAX];
        if (path[0])
                return path;
        const char *env = getenv("WARREN_WORKER_BINARY");
        if (env) {
                snprintf(path, sizeof path, "%s", env);
                return path;
        }
        char self[PATH_MAX - 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                return "/nonexistent/warren-worker";
        self[n] = 0;
        *strrchr(self, '/') = 0; /* <build>/tests/unit */
        snprintf(path, sizeof path, "%s/../../service/warren-worker", self);
        return path;
}
