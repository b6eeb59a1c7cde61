/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Test helpers for the image modules: builds the fixture image tree with
 * tests/fixtures/make-image.sh and runs tests/fixtures/image-server.py on
 * 127.0.0.1 with a free port (read from its stdout). Header-only: each test
 * program includes it once. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image-cache.h"
#include "image-index.h"

#define FIXTURE_PYTHON "/usr/bin/python3"
#define FIXTURE_NEWEST "20240315_12:00"

typedef struct FixtureServer {
        pid_t pid;
        int stdin_fd;
        int port;
        char url[64];
        char log[PATH_MAX];
} FixtureServer;

static char fixture_base[256];  /* a temp dir for this test program */
static char fixture_image[300]; /* the image tree */

/* The fixture is built for the host's architecture, so the default arch
 * (NULL in an ImageSpec) finds it. */
static inline const char *fixture_arch(void) {
        const char *a = NULL;
        if (image_host_arch(&a, NULL) < 0)
                a = "amd64";
        return a;
}

/* Runs argv (NULL-terminated), stdout to /dev/null unless show. */
static inline int fixture_run(char *const argv[], bool show) {
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (!show) {
                        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (fd >= 0)
                                dup2(fd, STDOUT_FILENO);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static inline void fixture_rm_rf(const char *path) {
        char *argv[] = { "/bin/rm", "-rf", (char *) path, NULL };
        (void) fixture_run(argv, false);
}

static inline void fixture_cleanup(void) {
        if (fixture_base[0])
                fixture_rm_rf(fixture_base);
}

/* Makes the temp dir and, if with_image, the image tree. */
static inline int fixture_setup(bool with_image) {
        char tmpl[] = "/tmp/warren-test-image.XXXXXX";
        if (!mkdtemp(tmpl))
                return -errno;
        snprintf(fixture_base, sizeof fixture_base, "%s", tmpl);
        atexit(fixture_cleanup);
        if (!with_image)
                return 0;
        snprintf(fixture_image, sizeof fixture_image, "%s/server", fixture_base);
        char script[PATH_MAX];
        snprintf(script, sizeof script, "%s/tests/fixtures/make-image.sh", SOURCE_ROOT);
        char *argv[] = { "/bin/bash", script, fixture_image, (char *) fixture_arch(), NULL };
        return fixture_run(argv, false);
}

/* Makes a throwaway ed25519 signing key in the GnuPG home dir (created)
 * and exports its public key to keyring (mode 0644). */
static inline int fixture_gpg_key(const char *home, const char *keyring) {
        char script[PATH_MAX * 3];
        snprintf(script, sizeof script,
                 "set -e; mkdir -p -m 0700 '%s'; "
                 "printf '%%s\\n' '%%no-protection' 'Key-Type: eddsa' 'Key-Curve: ed25519' "
                 "'Name-Real: warren test' 'Name-Email: test@warren.invalid' 'Expire-Date: 0' '%%commit' | "
                 "gpg --homedir '%s' --batch --quiet --gen-key 2>/dev/null; "
                 "gpg --homedir '%s' --batch --quiet --export >'%s'; chmod 0644 '%s'",
                 home, home, home, keyring, keyring);
        char *argv[] = { "/bin/sh", "-c", script, NULL };
        return fixture_run(argv, false);
}

/* Ends the gpg-agent the signing server started in home. */
static inline void fixture_gpg_done(const char *home) {
        char *argv[] = { "/usr/bin/gpgconf", "--homedir", (char *) home, "--kill", "all", NULL };
        (void) fixture_run(argv, false);
}

/* Starts the server with the faults (NULL-terminated list, may be NULL). */
static inline int fixture_server_start(FixtureServer *s, const char *const *faults, const char *extra_arg) {
        static unsigned counter = 0;
        char script[PATH_MAX], buf[32];
        char *argv[32];
        int n = 0, in[2], out[2];

        memset(s, 0, sizeof *s);
        snprintf(script, sizeof script, "%s/tests/fixtures/image-server.py", SOURCE_ROOT);
        snprintf(s->log, sizeof s->log, "%s/requests-%u.log", fixture_base, counter++);
        argv[n++] = FIXTURE_PYTHON;
        argv[n++] = script;
        argv[n++] = "--root";
        argv[n++] = fixture_image;
        argv[n++] = "--log";
        argv[n++] = s->log;
        argv[n++] = "--arch";
        argv[n++] = (char *) fixture_arch();
        argv[n++] = "--lifetime";
        argv[n++] = "300";
        for (const char *const *f = faults; f && *f && n < 28; f++) {
                argv[n++] = "--fault";
                argv[n++] = (char *) *f;
        }
        /* Extra arguments: one string, split at spaces. */
        static char extra[1024];
        snprintf(extra, sizeof extra, "%s", extra_arg ? extra_arg : "");
        for (char *tok = strtok(extra, " "); tok && n < 31; tok = strtok(NULL, " "))
                argv[n++] = tok;
        argv[n] = NULL;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        s->pid = fork();
        if (s->pid < 0)
                return -errno;
        if (s->pid == 0) {
                dup2(in[0], STDIN_FILENO);
                dup2(out[1], STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        s->stdin_fd = in[1];
        ssize_t k = 0, total = 0;
        while (total < (ssize_t) sizeof buf - 1 &&
               (k = read(out[0], buf + total, sizeof buf - 1 - (size_t) total)) > 0) {
                total += k;
                if (memchr(buf, '\n', (size_t) total))
                        break;
        }
        close(out[0]);
        buf[total] = 0;
        s->port = atoi(buf);
        if (s->port <= 0)
                return -EIO;
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
        return 0;
}

static inline void fixture_server_stop(FixtureServer *s) {
        if (s->pid <= 0)
                return;
        close(s->stdin_fd);
        kill(s->pid, SIGTERM);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        s->pid = 0;
}

/* Lines of the request log containing needle. */
static inline int fixture_log_count(const FixtureServer *s, const char *needle) {
        FILE *f = fopen(s->log, "re");
        char line[4096];
        int n = 0;
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (strstr(line, needle))
                        n++;
        fclose(f);
        return n;
}

/* Entries below path (recursively, not following symlinks); -1 if missing. */
static inline int fixture_count_tree(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;
        if (!d)
                return -1;
        while ((de = readdir(d))) {
                char *sub = NULL;
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                n++;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                        break;
                if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                        n += fixture_count_tree(sub);
                free(sub);
        }
        closedir(d);
        return n;
}

/* Entries below path whose name starts with prefix (recursively). */
static inline int fixture_count_prefix(const char *path, const char *prefix) {
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char *sub = NULL;
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (!strncmp(de->d_name, prefix, strlen(prefix)))
                        n++;
                if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                        break;
                if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                        n += fixture_count_prefix(sub, prefix);
                free(sub);
        }
        closedir(d);
        return n;
}

static inline bool fixture_exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline bool fixture_exists(const char *fmt, ...) {
        char p[PATH_MAX];
        struct stat st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p, sizeof p, fmt, ap);
        va_end(ap);
        return lstat(p, &st) == 0;
}

/* The cache's variant directory of busybox 1.35 (host arch, default
 * variant) from the server at url, in the shared partition (uid 0) or
 * uid's own. */
static inline void fixture_variant_dir(const char *cache, const char *url, uid_t uid, char *buf, size_t size) {
        const ImageOrigin o = { .server = url, .user = uid != 0, .uid = uid };
        const ImageSpec spec = { "busybox", "1.35", fixture_arch(), "default" };
        char *p = image_cache_variant_path(cache, &o, &spec);
        snprintf(buf, size, "%s", p ? p : "(none)");
        free(p);
}

/* Complete builds (names not starting with '.') in dir; 0 if it is missing. */
static inline int fixture_count_builds(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}
