/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a caller sends PullFiles and PushFiles, checked before any work
 * starts (lib/file-transfer.h); the work is lib/file-transfer-work.c. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "file-transfer.h"

static int check_path(const char *p, const char *what, WarrenError *reterr) {
        if (isempty(p) || p[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid %s '%s': must be an absolute path", what,
                                        strempty(p));
        if (strlen(p) >= PATH_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid %s: longer than %d bytes", what,
                                        PATH_MAX - 1);
        return 0;
}

int file_pull_paths_validate(char *const *paths, WarrenError *reterr) {
        size_t n = 0;
        for (char *const *p = paths; p && *p; p++, n++) {
                int r = check_path(*p, "path", reterr);
                if (r < 0)
                        return r;
                size_t k = strlen(*p);
                while (k > 1 && (*p)[k - 1] == '/')
                        k--;
                const char *base = *p + k;
                while (base > *p && base[-1] != '/')
                        base--;
                size_t bl = (size_t) (*p + k - base);
                if (bl == 0 || (bl == 1 && base[0] == '.') || (bl == 2 && base[0] == '.' && base[1] == '.'))
                        return warren_error_set(reterr, EINVAL,
                                                "Invalid path '%s': name a file or directory below /", *p);
        }
        if (n == 0)
                return warren_error_set(reterr, EINVAL, "No path to pull");
        if (n > FILE_PULL_PATHS_MAX)
                return warren_error_set(reterr, EINVAL, "Too many paths: %zu, at most %u", n,
                                        FILE_PULL_PATHS_MAX);
        return 0;
}

int file_push_dest_validate(const char *dest_dir, WarrenError *reterr) {
        return check_path(dest_dir, "destination directory", reterr);
}
