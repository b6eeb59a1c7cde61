/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"

typedef enum LogTarget {
        LOG_TARGET_UNDECIDED,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,  /* with <N> prefixes */
        LOG_TARGET_CONSOLE, /* plain, for a human at a terminal */
} LogTarget;

static int max_level = LOG_INFO;
static const char *log_prefix = NULL;
static LogTarget target = LOG_TARGET_UNDECIDED;
static char *extra_field = NULL;

#define LOG_MAX_FIELDS 32

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

int log_set_field(const char *field) {
        char *c = NULL;
        if (field && !(c = strdup(field)))
                return -ENOMEM;
        free(extra_field);
        extra_field = c;
        return 0;
}

/* systemd sets $JOURNAL_STREAM to "DEV:INO" of the stream it connected
 * stderr to; a stderr redirected since is not the journal. */
static int stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

/* Where no journal listens, records go to stderr from the start. */
static bool journal_listens(void) {
        return access(JOURNAL_SOCKET_PATH, W_OK) >= 0;
}

static LogTarget decide_target(void) {
        const char *e = getenv("WARREN_LOG_TARGET");
        if (e && streq(e, "journal") && journal_listens())
                return LOG_TARGET_JOURNAL;
        if (e && streq(e, "stderr"))
                return LOG_TARGET_STDERR;
        if (e && streq(e, "console"))
                return LOG_TARGET_CONSOLE;
        if (stderr_is_journal() && journal_listens())
                return LOG_TARGET_JOURNAL;
        return isatty(STDERR_FILENO) ? LOG_TARGET_CONSOLE : LOG_TARGET_STDERR;
}

bool log_use_journal_if_listening(void) {
        const char *e = getenv("WARREN_LOG_TARGET");
        if ((e && (streq(e, "stderr") || streq(e, "console"))) || !journal_listens())
                return false;
        target = LOG_TARGET_JOURNAL;
        return true;
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
        target = decide_target();
        if (!e)
                return;
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (streq(e, levels[i].name))
                        max_level = levels[i].level;
}

static bool field_is_valid(const char *f) {
        const char *eq = strchr(f, '=');
        if (!eq || eq == f || f[0] == '_')
                return false;
        for (const char *p = f; p < eq; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

static int write_journal(int level, int error, const char *file, int line, char *const *fields,
                         const char *msg) {
        char prio[16], code_file[256], code_line[32], err[32], message[2100], ident[64];
        struct iovec iov[LOG_MAX_FIELDS + 8];
        size_t n = 0;
#define ADD(s) iov[n++] = (struct iovec){ .iov_base = (char *) (s), .iov_len = strlen(s) }
        snprintf(prio, sizeof prio, "PRIORITY=%d", level);
        ADD(prio);
        snprintf(message, sizeof message, "MESSAGE=%s", msg);
        ADD(message);
        if (log_prefix) {
                snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%s", log_prefix);
                ADD(ident);
        }
        snprintf(code_file, sizeof code_file, "CODE_FILE=%s", file);
        ADD(code_file);
        snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);
        ADD(code_line);
        if (error > 0) {
                snprintf(err, sizeof err, "ERRNO=%d", error);
                ADD(err);
        }
        for (size_t i = 0; fields && fields[i] && i < LOG_MAX_FIELDS; i++)
                if (field_is_valid(fields[i]))
                        ADD(fields[i]);
        if (extra_field && field_is_valid(extra_field))
                ADD(extra_field);
#undef ADD
        return journal_send(NULL, iov, n);
}

static void write_stderr(int level, const char *file, int line, char *const *fields, const char *msg) {
        char extra[1024] = "";
        size_t len = 0;
        for (size_t i = 0; i <= LOG_MAX_FIELDS; i++) {
                /* The caller's fields, then the one set for every record. */
                const char *f = fields && i < LOG_MAX_FIELDS && fields[i] ? fields[i] : extra_field;
                if (!f)
                        break;
                if (field_is_valid(f) && strncmp(f, "MESSAGE_ID=", 11) != 0) {
                        int k = snprintf(extra + len, sizeof extra - len, "%s%s", len ? " " : " [", f);
                        if (k < 0 || (size_t) k >= sizeof extra - len)
                                break;
                        len += (size_t) k;
                }
                if (f == extra_field)
                        break;
        }
        if (len > 0 && len + 1 < sizeof extra)
                extra[len] = ']', extra[len + 1] = 0;
        char pri[8] = "";
        if (target == LOG_TARGET_STDERR)
                snprintf(pri, sizeof pri, "<%d>", level);
        if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s%s%s(%s:%d) %s%s\n", pri, log_prefix ? log_prefix : "",
                        log_prefix ? ": " : "", file, line, msg, extra);
        else
                fprintf(stderr, "%s%s%s%s%s\n", pri, log_prefix ? log_prefix : "", log_prefix ? ": " : "",
                        msg, extra);
}

static int log_dispatch(int level, int error, const char *file, int line, char *const *fields,
                        const char *fmt, va_list ap) {
        if (error < 0)
                error = -error;
        if (level <= max_level) {
                int saved = errno;
                char buf[2048];
                errno = error;
                vsnprintf(buf, sizeof(buf), fmt, ap);
                if (target == LOG_TARGET_UNDECIDED)
                        target = decide_target();
                if (target != LOG_TARGET_JOURNAL || write_journal(level, error, file, line, fields, buf) < 0)
                        write_stderr(level, file, line, fields, buf);
                errno = saved;
        }
        return error > 0 ? -error : 0;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = log_dispatch(level, error, file, line, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int log_struct_internal(int level, int error, const char *file, int line, char *const *fields,
                        const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = log_dispatch(level, error, file, line, fields, fmt, ap);
        va_end(ap);
        return r;
}
