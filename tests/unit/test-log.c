/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/log: targets, priorities, structured fields. Each case runs in
 * a child whose stderr is a pipe (not a terminal, not the journal). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/log.h"
#include "tap.h"

typedef void (*LogCase)(void);

/* Runs fn in a child with the given environment; returns what it wrote to stderr. */
static char *run_case(LogCase fn, const char *target, const char *level) {
        int p[2];
        if (pipe(p) < 0)
                return NULL;
        pid_t pid = fork();
        if (pid < 0)
                return NULL;
        if (pid == 0) {
                dup2(p[1], STDERR_FILENO);
                close(p[0]);
                close(p[1]);
                unsetenv("JOURNAL_STREAM");
                if (target)
                        setenv("WARREN_LOG_TARGET", target, 1);
                else
                        unsetenv("WARREN_LOG_TARGET");
                if (level)
                        setenv("WARREN_LOG_LEVEL", level, 1);
                else
                        unsetenv("WARREN_LOG_LEVEL");
                log_set_prefix("tlog");
                log_parse_environment();
                fn();
                _exit(0);
        }
        close(p[1]);
        static char buf[8192];
        size_t n = 0;
        ssize_t k;
        while (n < sizeof buf - 1 && (k = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
                n += (size_t) k;
        buf[n] = 0;
        close(p[0]);
        waitpid(pid, NULL, 0);
        return buf;
}

static void case_levels(void) {
        log_debug("a debug line");
        log_info("an info line");
        log_warning("a warning about %s", "web");
        log_error_errno(-ENOENT, "Failed to open %s: %m", "/x");
}

static void case_fields(void) {
        log_struct(LOG_NOTICE, 0,
                   LOG_FIELDS("MESSAGE_ID=0123456789abcdef0123456789abcdef", "CONTAINER=web", "CALLER_UID=1000",
                              "bad key=1", "RESULT=done"),
                   "Container %s started", "web");
}

/* A monitor's records all name its container. */
static void case_field(void) {
        if (log_set_field("CONTAINER=web") < 0)
                _exit(3);
        log_warning("a plain warning");
        log_struct(LOG_NOTICE, 0, LOG_FIELDS("RESULT=done"), "a structured notice");
        (void) log_set_field(NULL);
        log_info("after clearing");
}

/* No journal listens (or the environment says stderr): nothing changes. */
static void case_journal_if_listening(void) {
        bool r = log_use_journal_if_listening();
        log_warning("still on stderr: %s", r ? "no" : "yes");
}

static void case_return(void) {
        int r = log_warning_errno(-EPERM, "x");
        if (r != -EPERM)
                _exit(3);
        r = log_warning_errno(EPERM, "y");
        if (r != -EPERM)
                _exit(3);
        if (log_info("z") != 0)
                _exit(3);
        _exit(0);
}

int main(void) {
        char *out = run_case(case_levels, NULL, NULL);
        ok(out != NULL, "child ran");
        ok(!strstr(out, "debug line"), "debug is below the default threshold");
        like(out, "<6>tlog: an info line\n", "stderr that is not a terminal gets <N> prefixes (info = 6)");
        like(out, "<4>tlog: a warning about web\n", "warning = 4");
        like(out, "<3>tlog: Failed to open /x: No such file or directory\n", "%%m expands the error, err = 3");

        out = run_case(case_levels, "console", NULL);
        like(out, "\ntlog: a warning about web\n", "console target: no prefix");
        ok(!strstr(out, "<4>"), "console target: no <N>");

        out = run_case(case_levels, NULL, "debug");
        like(out, "a debug line", "WARREN_LOG_LEVEL=debug shows debug");
        like(out, "<7>tlog: (", "debug lines name their source");

        out = run_case(case_levels, NULL, "warning");
        ok(!strstr(out, "an info line"), "WARREN_LOG_LEVEL=warning hides info");
        like(out, "a warning about web", "and keeps warnings");

        out = run_case(case_fields, NULL, NULL);
        like(out, "<5>tlog: Container web started [CONTAINER=web CALLER_UID=1000 RESULT=done]\n",
             "structured fields follow the message on stderr");
        ok(!strstr(out, "MESSAGE_ID"), "MESSAGE_ID is for the journal only");
        ok(!strstr(out, "bad key"), "an invalid field name is dropped");

        /* No journal socket for an unprivileged test: journal falls back to stderr. */
        if (access("/run/systemd/journal/socket", F_OK) < 0) {
                out = run_case(case_fields, "journal", NULL);
                like(out, "Container web started", "journal target without a journal falls back to stderr");
        } else
                ok(1, "# SKIP a journal runs here: the fallback cannot be seen");

        out = run_case(case_field, NULL, NULL);
        like(out, "<4>tlog: a plain warning [CONTAINER=web]\n", "log_set_field(): a plain record carries it");
        like(out, "<5>tlog: a structured notice [RESULT=done CONTAINER=web]\n", "...after the record's own fields");
        like(out, "<6>tlog: after clearing\n", "log_set_field(NULL) drops it");

        out = run_case(case_journal_if_listening, "stderr", NULL);
        like(out, "<4>tlog: still on stderr: yes\n", "WARREN_LOG_TARGET=stderr wins over a listening journal");
        if (access("/run/systemd/journal/socket", F_OK) < 0) {
                out = run_case(case_journal_if_listening, NULL, NULL);
                like(out, "<4>tlog: still on stderr: yes\n", "no journal listens: stays on stderr");
        } else
                ok(1, "# SKIP a journal runs here");

        pid_t pid = fork();
        if (pid == 0) {
                int fd = open("/dev/null", O_WRONLY);
                dup2(fd, STDERR_FILENO);
                case_return();
        }
        int st = 0;
        waitpid(pid, &st, 0);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "log_*_errno return -abs(error), plain logs 0");
        return done_testing();
}
