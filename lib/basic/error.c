/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

__attribute__((format(printf, 4, 0))) static int error_setv(WarrenError *reterr, int err, bool overwrite,
                                                            const char *fmt, va_list ap) {
        if (err < 0)
                err = -err;
        if (err == 0)
                err = EIO;
        if (reterr && (overwrite || reterr->error == 0)) {
                char *m = NULL;
                free(reterr->message);
                if (vasprintf(&m, fmt, ap) < 0)
                        m = NULL;
                reterr->message = m;
                reterr->error = err;
        }
        return -err;
}

int warren_error_set(WarrenError *reterr, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = error_setv(reterr, err, false, fmt, ap);
        va_end(ap);
        return r;
}

int warren_error_reset(WarrenError *reterr, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = error_setv(reterr, err, true, fmt, ap);
        va_end(ap);
        return r;
}

__attribute__((format(printf, 2, 3))) void warren_error_prefix(WarrenError *e, const char *fmt, ...) {
        if (!e || e->error == 0)
                return;
        char *p = NULL, *n = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        if (asprintf(&n, "%s: %s", p, warren_error_message(e)) >= 0) {
                free(e->message);
                e->message = n;
        }
        free(p);
}

void warren_error_clear(WarrenError *e) {
        if (!e)
                return;
        free(e->message);
        e->message = NULL;
        e->error = 0;
}

const char *warren_error_message(const WarrenError *e) {
        if (!e || e->error == 0)
                return "unknown error";
        if (e->message)
                return e->message;
        return strerror(e->error);
}
