/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Logging with priorities. Under systemd (stderr is the journal stream
 * named by $JOURNAL_STREAM) records go through the journal's native
 * protocol with PRIORITY=, SYSLOG_IDENTIFIER=, CODE_FILE=/CODE_LINE=,
 * ERRNO= and any structured fields the caller adds (MESSAGE_ID=,
 * CONTAINER=, CALLER_UID=, ...). Otherwise each record is one stderr line,
 * "<N>prefix: message [FIELD=value ...]" — the <N> syslog prefix only when
 * stderr is not a terminal, so a service manager or log reader keeps the
 * priority. $WARREN_LOG_TARGET (journal|stderr|console) overrides the
 * choice; the level threshold comes from log_set_max_level() or
 * $WARREN_LOG_LEVEL (debug|info|notice|warning|err). lib/ logs at debug
 * only. */
void log_set_max_level(int level);
int log_get_max_level(void);
void log_parse_environment(void);
void log_set_prefix(const char *prefix);
/* One "KEY=value" field added to every record from now on (NULL: none),
 * e.g. a monitor's "CONTAINER=web"; copied. */
int log_set_field(const char *field);
/* Logs to the journal from now on if one listens (a detached process
 * whose stderr is /dev/null): true if it does. $WARREN_LOG_TARGET set to
 * stderr or console wins. */
bool log_use_journal_if_listening(void);
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);
/* fields: NULL-terminated "KEY=value" strings (KEY: A-Z, 0-9, _). */
int log_struct_internal(int level, int error, const char *file, int line, char *const *fields,
                        const char *fmt, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
/* These return -abs(error) so they can be used in "return log_error_errno(r, ...)"
 * and set errno for %m. */
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)
/* A record with structured fields: log_struct(LOG_NOTICE, 0, STRV_MAKE("CONTAINER=web", NULL), "..."). */
#define log_struct(level, error, fields, ...) \
        log_struct_internal((level), (error), __FILE__, __LINE__, (fields), __VA_ARGS__)
#define LOG_FIELDS(...) ((char *const[]){ __VA_ARGS__, NULL })
