/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *log_prefix = NULL;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

void log_parse_environment(void) {
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "debug", LOG_DEBUG },     { "info", LOG_INFO }, { "notice", LOG_NOTICE },
                { "warning", LOG_WARNING }, { "err", LOG_ERR },   { "error", LOG_ERR },
        };
        const char *e = getenv("WARREN_LOG_LEVEL");
        if (!e)
                return;
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (streq(e, levels[i].name))
                        max_level = levels[i].level;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        if (error < 0)
                error = -error;
        if (level <= max_level) {
                int saved = errno;
                char buf[2048];
                va_list ap;
                errno = error;
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "%s%s(%s:%d) %s\n", log_prefix ? log_prefix : "",
                                log_prefix ? ": " : "", file, line, buf);
                else
                        fprintf(stderr, "%s%s%s\n", log_prefix ? log_prefix : "", log_prefix ? ": " : "",
                                buf);
                errno = saved;
        }
        return error > 0 ? -error : 0;
}
