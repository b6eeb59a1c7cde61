/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* STYLE.md's boundaries, checked on the source tree: lib/ knows nothing of
 * D-Bus, sd-event or polkit, and needs no libsystemd at all (every
 * warren-monitor links lib/, and loads libsystemd only under systemd);
 * cli/ reaches the runtime only through the bus
 * (it may include lib/basic and its own headers, nothing else of lib/).
 * And on the build: warrend and warren-monitor link none of the libraries
 * of the long work (warren-worker's: libcurl, libarchive, gpgme), and the
 * monitor no libsystemd. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "tap.h"

static int scan(const char *dir, int (*bad_line)(const char *dir, const char *line, char *why, size_t n)) {
        char path[4096];
        int failures = 0;
        snprintf(path, sizeof path, "%s/%s", SOURCE_ROOT, dir);
        DIR *d = opendir(path);
        if (!ok(d != NULL, "%s can be read", dir))
                return 1;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 3 ||
                    (strcmp(de->d_name + l - 2, ".c") != 0 && strcmp(de->d_name + l - 2, ".h") != 0))
                        continue;
                char file[8192], *text = NULL;
                snprintf(file, sizeof file, "%s/%s", path, de->d_name);
                if (read_full_file(file, 8 * 1024 * 1024, &text, NULL) < 0) {
                        ok(0, "read %s/%s", dir, de->d_name);
                        failures++;
                        continue;
                }
                unsigned lineno = 0;
                for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        char why[256];
                        lineno++;
                        if (bad_line(dir, line, why, sizeof why)) {
                                ok(0, "%s/%s:%u %s: %s", dir, de->d_name, lineno, why, line);
                                failures++;
                        }
                }
                free(text);
        }
        closedir(d);
        return failures;
}

static int lib_bad(const char *dir, const char *line, char *why, size_t n) {
        if (strstr(line, "systemd/sd-bus.h") || strstr(line, "systemd/sd-event.h")) {
                snprintf(why, n, "lib/ includes sd-bus/sd-event");
                return 1;
        }
        if (strstr(line, "#include") && strstr(line, "<systemd/")) {
                snprintf(why, n, "lib/ includes a libsystemd header");
                return 1;
        }
        if (strstr(line, "#include") && strstr(line, "polkit")) {
                snprintf(why, n, "lib/ includes polkit");
                return 1;
        }
        return 0;
}

static int cli_bad(const char *dir, const char *line, char *why, size_t n) {
        const char *inc = strstr(line, "#include \"");
        if (!inc)
                return 0;
        inc += strlen("#include \"");
        /* Only lib/basic and cli's own headers (no '/': same directory). */
        if (strncmp(inc, "basic/", 6) == 0 || !strchr(inc, '/')) {
                static const char *const runtime[] = { "config.h",          "store.h",  "monitor",
                                                       "container-spawn.h", "cgroup.h", "attach.h",
                                                       "network.h",         "image-",   "idmap.h",
                                                       "policy.h" };
                for (size_t i = 0; i < sizeof runtime / sizeof runtime[0]; i++)
                        if (strncmp(inc, runtime[i], strlen(runtime[i])) == 0) {
                                snprintf(why, n, "cli/ includes a runtime header");
                                return 1;
                        }
                return 0;
        }
        snprintf(why, n, "cli/ includes from outside lib/basic");
        return 1;
}

/* The shared libraries a built binary needs (DT_NEEDED), one per line. */
static int needed(const char *binary, char *buf, size_t size) {
        char self[2048], cmd[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                return -1;
        self[n] = 0;
        *strrchr(self, '/') = 0; /* <build>/tests/unit */
        snprintf(cmd, sizeof cmd, "readelf -d '%s/../../service/%s' 2>&1", self, binary);
        FILE *f = popen(cmd, "re");
        if (!f)
                return -1;
        size_t k = fread(buf, 1, size - 1, f);
        buf[k] = 0;
        return pclose(f) == 0 && strstr(buf, "(NEEDED)") ? 0 : -1;
}

static void check_links(const char *binary, bool heavy) {
        static const char *const libs[] = { "libcurl", "libarchive", "libgpgme" };
        static char buf[65536];
        if (!ok(needed(binary, buf, sizeof buf) == 0, "readelf -d %s", binary))
                return;
        for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
                ok(!!strstr(buf, libs[i]) == heavy, "%s %s %s", binary, heavy ? "links" : "does not link",
                   libs[i]);
}

int main(void) {
        check_links("warrend", false);
        check_links("warren-monitor", false);
        check_links("warren-worker", true);
        ok(scan("lib", lib_bad) == 0, "lib/ has no D-Bus, sd-event, polkit or libsystemd");
        ok(scan("lib/basic", lib_bad) == 0, "lib/basic has no D-Bus, sd-event, polkit or libsystemd");
        ok(scan("cli", cli_bad) == 0, "cli/ includes only lib/basic and its own headers");
        return done_testing();
}
