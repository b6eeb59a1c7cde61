/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/idmap: subuid/subgid parsing, map checks and formatting, writing a
 * real uid_map, shifting a tree's ownership, idmapped mounts on ext4,
 * tmpfs and overlay. Needs root (user namespaces, chown, mounts): it runs
 * in a private mount namespace of its own. */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "idmap.h"
#include "strv.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-idmap-XXXXXX";

static char *tmp_path(const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

static char *write_tmp(const char *name, const char *text) {
        char *p = tmp_path(name);
        if (write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644) < 0)
                abort();
        return p;
}

static Idmap *map_of(const char *const *lines) {
        Idmap *m = idmap_new();
        for (; *lines; lines++) {
                IdmapLine l;
                if (!m || idmap_line_parse(*lines, &l, NULL) < 0 || idmap_add(m, &l) < 0)
                        abort();
        }
        return m;
}

static char *map_text(const Idmap *m) {
        _cleanup_strv_free_ char **l = NULL;
        for (size_t i = 0; i < m->n; i++)
                if (strv_consume(&l, idmap_line_format(&m->lines[i])) < 0)
                        abort();
        return strv_join(l, "; ");
}

static void test_line_parse(void) {
        static const struct {
                const char *value, *error; /* NULL: valid */
                const char *formatted;
        } cases[] = {
                { "u 0 100000 65536", NULL, "u 0 100000 65536" },
                { "g\t0  100000\t65536", NULL, "g 0 100000 65536" },
                { "b 1000 1000 1", NULL, "b 1000 1000 1" },
                { "  u 0 4294967294 1 ", NULL, "u 0 4294967294 1" },
                { "u 0 4294967295 1",
                  "Invalid lxc.idmap 'u 0 4294967295 1': the range goes beyond id 4294967294", NULL },
                { "u 4294967000 0 1000",
                  "Invalid lxc.idmap 'u 4294967000 0 1000': the range goes beyond id 4294967294", NULL },
                { "u 0 100000", "Invalid lxc.idmap 'u 0 100000': expected 'u|g|b NSID HOSTID COUNT'", NULL },
                { "u 0 1 2 3", "Invalid lxc.idmap 'u 0 1 2 3': expected 'u|g|b NSID HOSTID COUNT'", NULL },
                { "", "Invalid lxc.idmap '': expected 'u|g|b NSID HOSTID COUNT'", NULL },
                { "x 0 1 1", "Invalid lxc.idmap 'x 0 1 1': type 'x' is not u, g or b", NULL },
                { "uu 0 1 1", "Invalid lxc.idmap 'uu 0 1 1': type 'uu' is not u, g or b", NULL },
                { "u -1 1 1", "Invalid lxc.idmap 'u -1 1 1': NSID '-1' is not a number from 0 to 4294967295",
                  NULL },
                { "u 0 1e5 1",
                  "Invalid lxc.idmap 'u 0 1e5 1': HOSTID '1e5' is not a number from 0 to 4294967295", NULL },
                { "u 0 1 99999999999",
                  "Invalid lxc.idmap 'u 0 1 99999999999': COUNT '99999999999' is not a number from 0 to "
                  "4294967295",
                  NULL },
                { "u 0 1 0", "Invalid lxc.idmap 'u 0 1 0': COUNT is 0", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                IdmapLine l;
                int r = idmap_line_parse(cases[i].value, &l, &e);
                if (!cases[i].error) {
                        _cleanup_free_ char *f = r >= 0 ? idmap_line_format(&l) : NULL;
                        is_str(f, cases[i].formatted, "parse '%s'", cases[i].value);
                } else {
                        is(r, -EINVAL, "parse '%s' fails", cases[i].value);
                        is_str(e.message, cases[i].error, "message for '%s'", cases[i].value);
                }
                warren_error_clear(&e);
        }
}

static void test_format_verify_translate(void) {
        _cleanup_idmap_ Idmap *m = map_of((const char *const[]){
                "u 0 100000 1000", "b 1000 5000 1", "g 0 200000 1000", "u 1001 101001 64535", NULL });
        _cleanup_free_ char *u = NULL, *g = NULL;
        is(idmap_format(m, IDMAP_UID, &u), 0, "format uid_map");
        is_str(u, "0 100000 1000\n1000 5000 1\n1001 101001 64535\n", "uid_map text: u and b lines");
        is(idmap_format(m, IDMAP_GID, &g), 0, "format gid_map");
        is_str(g, "1000 5000 1\n0 200000 1000\n", "gid_map text: b and g lines");
        is(idmap_verify(m, NULL), 0, "map without overlaps verifies");

        uint32_t id = 0;
        is(idmap_to_host(m, IDMAP_UID, 0, &id), 0, "uid 0 is mapped");
        is(id, 100000, "uid 0 -> 100000");
        is(idmap_to_host(m, IDMAP_UID, 1000, &id), 0, "uid 1000 is mapped (b line)");
        is(id, 5000, "uid 1000 -> 5000");
        is(idmap_to_host(m, IDMAP_GID, 999, &id), 0, "gid 999 is mapped");
        is(id, 200999, "gid 999 -> 200999");
        is(idmap_to_host(m, IDMAP_GID, 1001, &id), -ERANGE, "gid 1001 is not mapped");
        is(idmap_to_host(m, IDMAP_UID, 65536, &id), -ERANGE, "uid 65536 is not mapped");
        is(idmap_from_host(m, IDMAP_UID, 165535, &id), 0, "host uid 165535 is mapped");
        is(id, 65535, "host uid 165535 -> 65535");
        is(idmap_from_host(m, IDMAP_GID, 100000, &id), -ERANGE, "host gid 100000 is not a container gid");

        static const struct {
                const char *lines[3];
                const char *error;
        } bad[] = {
                { { "u 0 100000 1000", "u 999 300000 10" },
                  "lxc.idmap 'u 0 100000 1000' and 'u 999 300000 10' overlap in container uids 999-999" },
                { { "u 0 100000 1000", "b 5000 100500 10" },
                  "lxc.idmap 'u 0 100000 1000' and 'b 5000 100500 10' overlap in host uids 100500-100509" },
                { { "g 0 100000 1000", "b 10 300000 10" },
                  "lxc.idmap 'g 0 100000 1000' and 'b 10 300000 10' overlap in container gids 10-19" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                _cleanup_idmap_ Idmap *b =
                        map_of((const char *const[]){ bad[i].lines[0], bad[i].lines[1], NULL });
                is(idmap_verify(b, &e), -EINVAL, "overlap %zu refused", i);
                is_str(e.message, bad[i].error, "overlap %zu message", i);
                warren_error_clear(&e);
        }
        _cleanup_idmap_ Idmap *big = idmap_new();
        for (uint32_t i = 0; i < IDMAP_MAX_LINES + 1; i++) {
                IdmapLine l = { IDMAP_UID, i, 100000 + i, 1 };
                idmap_add(big, &l);
        }
        WarrenError e = WARREN_ERROR_NULL;
        is(idmap_verify(big, &e), -EINVAL, "341 uid lines refused");
        is_str(e.message, "lxc.idmap has more than 340 lines for uids: the kernel refuses such a map",
               "message");
        warren_error_clear(&e);

        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        lxc_config_apply(c, "lxc.idmap", "u 0 100000 65536", NULL);
        lxc_config_apply(c, "lxc.id_map", "g 0 100000 65536", NULL);
        _cleanup_idmap_ Idmap *fc = NULL;
        is(idmap_from_config(c, &fc, NULL), 0, "idmap_from_config");
        _cleanup_free_ char *t = fc ? map_text(fc) : NULL;
        is_str(t, "u 0 100000 65536; g 0 100000 65536", "map from config (legacy key too)");
}

static const char subuid_text[] = "# owner alice is uid 4242\n"
                                  "alice:100000:65536\n"
                                  "bob:165536:65536\n"
                                  "\n"
                                  "4242:300000:1000\n"
                                  "alice:400000:131072\n"
                                  "alice:600000:65536\n"
                                  "dave:630000:100\n"
                                  "frank:700000:100\n"
                                  "frank:800000:65536\n"
                                  "gina:900000:65536\n"
                                  "hank:950000:10\n"
                                  "gina:1000000:65536\n";
static const char subgid_text[] = "alice:100000:65536\n"
                                  "bob:165536:65536\n"
                                  "frank:800000:65536\n"
                                  "gina:1000000:65536\n";

static void test_allowance(void) {
        _cleanup_free_ char *su = write_tmp("subuid", subuid_text), *sg = write_tmp("subgid", subgid_text);
        _cleanup_free_ char *missing = tmp_path("nonexistent");
        _cleanup_idmap_allowance_ IdmapAllowance *a = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        is(idmap_allowance_load(su, sg, 4242, "alice", &a, &e), 0, "load subuid/subgid");
        if (!a)
                return;
        ok(idmap_allowance_has_range(a, IDMAP_UID) && idmap_allowance_has_range(a, IDMAP_GID),
           "alice has ranges");

        _cleanup_idmap_ Idmap *d = NULL;
        is(idmap_default_map(a, &d, NULL), 0, "default map for alice");
        _cleanup_free_ char *dt = d ? map_text(d) : NULL;
        is_str(dt, "u 0 100000 65536; g 0 100000 65536", "alice's default map: her first 65536 ids");

        static const struct {
                const char *line, *error;
        } lines[] = {
                { "u 0 100000 65536", NULL },
                { "u 0 400000 131072", NULL },
                { "u 0 300000 1000", NULL }, /* listed by uid */
                { "b 0 100000 10", NULL },
                { "u 0 100000 65537",
                  "lxc.idmap 'u 0 100000 65537': host uids 100000-165536 are not inside a range of user "
                  "alice (uid 4242) "
                  "in SUBUID (alice's ranges: 100000-165535, 300000-300999, 400000-531071, 600000-665535)" },
                { "u 0 165536 10",
                  "lxc.idmap 'u 0 165536 10': host uids 165536-165545 are not inside a range of user alice "
                  "(uid 4242) "
                  "in SUBUID (alice's ranges: 100000-165535, 300000-300999, 400000-531071, 600000-665535)" },
                { "u 0 600000 65536", "lxc.idmap 'u 0 600000 65536': host uids 600000-665535 overlap range "
                                      "630000-630099 of user dave in "
                                      "SUBUID (line 8)" },
                { "g 0 400000 10", "lxc.idmap 'g 0 400000 10': host gids 400000-400009 are not inside a "
                                   "range of user alice (uid 4242) "
                                   "in SUBGID (alice's ranges: 100000-165535)" },
                { "b 0 300000 10", "lxc.idmap 'b 0 300000 10': host gids 300000-300009 are not inside a "
                                   "range of user alice (uid 4242) "
                                   "in SUBGID (alice's ranges: 100000-165535)" },
        };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                IdmapLine l;
                idmap_line_parse(lines[i].line, &l, NULL);
                int r = idmap_allowance_check_line(a, &l, &e);
                if (!lines[i].error)
                        is(r, 0, "'%s' is inside alice's ranges", lines[i].line);
                else {
                        _cleanup_free_ char *want = strdup(lines[i].error);
                        char *p;
                        while ((p = strstr(want, "SUBUID")) || (p = strstr(want, "SUBGID"))) {
                                char *n = NULL;
                                asprintf(&n, "%.*s%s%s", (int) (p - want), want, p[3] == 'U' ? su : sg,
                                         p + 6);
                                free(want);
                                want = n;
                        }
                        is(r, -EPERM, "'%s' refused", lines[i].line);
                        is_str(e.message, want, "message for '%s'", lines[i].line);
                }
                warren_error_clear(&e);
        }
        _cleanup_idmap_ Idmap *two =
                map_of((const char *const[]){ "u 0 100000 65536", "u 0 400000 10", NULL });
        is(idmap_allowance_check(a, two, &e), -EINVAL, "check of a whole map verifies it first");
        like(e.message, "overlap in container uids 0-9", "overlap message");
        warren_error_clear(&e);

        /* Picking the default range: too small, overlapping another user's. */
        static const struct {
                const char *user;
                uid_t uid;
                const char *map;
        } defaults[] = {
                { "frank", 5001, "u 0 800000 65536; g 0 800000 65536" },
                { "gina", 5002, "u 0 1000000 65536; g 0 1000000 65536" },
        };
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                _cleanup_idmap_allowance_ IdmapAllowance *b = NULL;
                _cleanup_idmap_ Idmap *m = NULL;
                idmap_allowance_load(su, sg, defaults[i].uid, defaults[i].user, &b, NULL);
                is(b ? idmap_default_map(b, &m, NULL) : -1, 0, "default map for %s", defaults[i].user);
                _cleanup_free_ char *t = m ? map_text(m) : NULL;
                is_str(t, defaults[i].map, "%s's default map skips unusable ranges", defaults[i].user);
        }

        /* No range at all. */
        _cleanup_idmap_allowance_ IdmapAllowance *none = NULL;
        is(idmap_allowance_load(su, missing, 5555, "erin", &none, &e), 0,
           "a missing subgid file holds no range");
        if (none) {
                _cleanup_idmap_ Idmap *m = NULL;
                _cleanup_free_ char *want = NULL, *want2 = NULL;
                ok(!idmap_allowance_has_range(none, IDMAP_UID), "erin has no uid range");
                is(idmap_default_map(none, &m, &e), -EPERM, "no default map for erin");
                asprintf(&want, "User erin (uid 5555) has no range of at least 65536 ids in %s", su);
                is_str(e.message, want, "message names the user and the file");
                warren_error_clear(&e);
                IdmapLine l = { IDMAP_GID, 0, 100000, 10 };
                is(idmap_allowance_check_line(none, &l, &e), -EPERM, "any line refused for erin");
                asprintf(&want2, "lxc.idmap 'g 0 100000 10': user erin (uid 5555) has no range in %s",
                         missing);
                is_str(e.message, want2, "message names the missing range");
                warren_error_clear(&e);
        }
        /* Only a small range. */
        _cleanup_idmap_allowance_ IdmapAllowance *small = NULL;
        idmap_allowance_load(su, sg, 5003, "hank", &small, NULL);
        if (small) {
                _cleanup_idmap_ Idmap *m = NULL;
                _cleanup_free_ char *want = NULL;
                is(idmap_default_map(small, &m, &e), -EPERM, "hank's 10 ids are not enough");
                asprintf(&want, "User hank (uid 5003) has no range of at least 65536 ids in %s", su);
                is_str(e.message, want, "message");
                warren_error_clear(&e);
        }

        /* Root, with a range from warren.conf; alice must not use it. */
        _cleanup_idmap_allowance_ IdmapAllowance *root = NULL;
        idmap_allowance_load(su, sg, 0, "root", &root, NULL);
        if (root) {
                _cleanup_idmap_ Idmap *m = NULL;
                is(idmap_allowance_add(root, IDMAP_BOTH, NULL, 2000000, 65536, "/etc/warren/warren.conf"), 0,
                   "add root's range");
                is(idmap_default_map(root, &m, NULL), 0, "root's default map");
                _cleanup_free_ char *t = m ? map_text(m) : NULL;
                is_str(t, "u 0 2000000 65536; g 0 2000000 65536", "from warren.conf");
                IdmapLine l = { IDMAP_UID, 0, 2100000, 1 };
                _cleanup_free_ char *want = NULL;
                is(idmap_allowance_check_line(root, &l, &e), -EPERM, "outside root's range");
                asprintf(&want,
                         "lxc.idmap 'u 0 2100000 1': host uids 2100000-2100000 are not inside a range of "
                         "user root "
                         "(uid 0) in %s or /etc/warren/warren.conf (root's ranges: 2000000-2065535)",
                         su);
                is_str(e.message, want, "message names both sources");
                warren_error_clear(&e);
        }
        is(idmap_allowance_add(a, IDMAP_UID, "root", 100000, 10, "/etc/warren/warren.conf"), 0,
           "root's range for alice");
        IdmapLine l = { IDMAP_UID, 0, 100000, 65536 };
        is(idmap_allowance_check_line(a, &l, &e), -EPERM, "alice may not overlap root's range");
        is_str(e.message,
               "lxc.idmap 'u 0 100000 65536': host uids 100000-165535 overlap range 100000-100009 of user "
               "root in "
               "/etc/warren/warren.conf",
               "message names root's range and its source");
        warren_error_clear(&e);
}

static void test_garbage(void) {
        static const struct {
                const char *text;
                const char *error; /* "FILE" is replaced */
        } cases[] = {
                { "alice:100000:65536\nbob\n",
                  "FILE:2: invalid line 'bob': expected 'NAME_OR_UID:START:COUNT'" },
                { ":1:2\n", "FILE:1: invalid line ':1:2': expected 'NAME_OR_UID:START:COUNT'" },
                { "alice:1\n", "FILE:1: invalid line 'alice:1': expected 'NAME_OR_UID:START:COUNT'" },
                { "al ice:1:2\n", "FILE:1: invalid line 'al ice:1:2': bad user 'al ice'" },
                { "#\nalice:x:65536\n", "FILE:2: invalid line 'alice:x:65536': start 'x' is not a number" },
                { "alice:1:\n", "FILE:1: invalid line 'alice:1:': count '' is not a number from 1" },
                { "alice:1:0\n", "FILE:1: invalid line 'alice:1:0': count '0' is not a number from 1" },
                { "alice:1:2:3\n",
                  "FILE:1: invalid line 'alice:1:2:3': count '2:3' is not a number from 1" },
                { "alice:-1:2\n", "FILE:1: invalid line 'alice:-1:2': start '-1' is not a number" },
                { "alice:4294967295:1\n",
                  "FILE:1: invalid line 'alice:4294967295:1': the range goes beyond id 4294967294" },
                { "alice:100000:65536 \n", "FILE:1: invalid line 'alice:100000:65536 ': bad user 'alice'" },
        };
        _cleanup_free_ char *sg = write_tmp("subgid-ok", "");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *p = write_tmp("subuid-bad", cases[i].text), *want = NULL;
                _cleanup_idmap_allowance_ IdmapAllowance *a = NULL;
                WarrenError e = WARREN_ERROR_NULL;
                const char *f = strstr(cases[i].error, "FILE");
                asprintf(&want, "%s%s", p, f + 4);
                is(idmap_allowance_load(p, sg, 4242, "alice", &a, &e), -EINVAL, "garbage %zu refused", i);
                is_str(e.message, want, "garbage %zu message", i);
                ok(!a, "garbage %zu: nothing returned", i);
                warren_error_clear(&e);
        }
        _cleanup_free_ char *nul = tmp_path("subuid-nul");
        write_file_atomic_at(AT_FDCWD, nul, "a:1:2\n\0b:1:2\n", 13, 0644);
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_idmap_allowance_ IdmapAllowance *a = NULL;
        is(idmap_allowance_load(nul, sg, 1, NULL, &a, &e), -EINVAL, "NUL byte refused");
        like(e.message, "contains a NUL byte", "NUL message");
        warren_error_clear(&e);
}

/* A child in a new user namespace, waiting for its maps. */
static pid_t userns_child(int *ret_go) {
        int ready[2], go[2];
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
                abort();
        pid_t pid = fork();
        if (pid == 0) {
                close(ready[0]);
                close(go[1]);
                char c = unshare(CLONE_NEWUSER) < 0 ? 'E' : 'R';
                write(ready[1], &c, 1);
                /* After the go: become the namespace's root, which needs the maps. */
                if (read(go[0], &c, 1) != 1)
                        _exit(2);
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        _exit(3);
                _exit(getuid() == 0 && getgid() == 0 ? 0 : 1);
        }
        close(ready[1]);
        close(go[0]);
        char c = 0;
        read(ready[0], &c, 1);
        close(ready[0]);
        *ret_go = go[1];
        return c == 'R' ? pid : -1;
}

static char *squeeze(const char *s) {
        _cleanup_strv_free_ char **w = strv_split(s, " \n");
        return strv_join(w, " ");
}

static void test_write(void) {
        int go;
        pid_t pid = userns_child(&go);
        ok(pid > 0, "child in a new user namespace");
        if (pid <= 0)
                return;
        _cleanup_idmap_ Idmap *m = map_of(
                (const char *const[]){ "u 0 100000 1000", "g 0 200000 1000", "b 1000 300000 10", NULL });
        WarrenError e = WARREN_ERROR_NULL;
        is(idmap_write(pid, m, &e), 0, "idmap_write: %s", e.message ?: "ok");
        warren_error_clear(&e);
        char path[64];
        _cleanup_free_ char *u = NULL, *g = NULL, *sg = NULL;
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        read_one_line_file(path, &u);
        _cleanup_free_ char *ut = NULL, *gt = NULL;
        read_full_file(path, 4096, &ut, NULL);
        _cleanup_free_ char *us = ut ? squeeze(ut) : NULL;
        is_str(us, "0 100000 1000 1000 300000 10", "/proc/CHILD/uid_map holds the u and b lines");
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) pid);
        read_full_file(path, 4096, &gt, NULL);
        _cleanup_free_ char *gs = gt ? squeeze(gt) : NULL;
        is_str(gs, "0 200000 1000 1000 300000 10", "/proc/CHILD/gid_map holds the g and b lines");
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int) pid);
        read_one_line_file(path, &sg);
        is_str(sg, "allow", "setgroups stays allow");

        is(idmap_write(pid, m, &e), -EPERM, "a second write is refused by the kernel");
        char want[128];
        snprintf(want, sizeof want,
                 "Failed to write /proc/%d/uid_map ('0 100000 1000;1000 300000 10'): ", (int) pid);
        like(e.message, want, "message names the file and the map");
        warren_error_clear(&e);

        write(go, "g", 1);
        close(go);
        int status;
        waitpid(pid, &status, 0);
        ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child can become root in its namespace");

        _cleanup_idmap_ Idmap *only_u = map_of((const char *const[]){ "u 0 100000 65536", NULL });
        pid = userns_child(&go);
        is(idmap_write(pid, only_u, &e), -EINVAL, "a map without gid lines is refused");
        snprintf(want, sizeof want, "Cannot write /proc/%d/gid_map: the id map has no line for gids",
                 (int) pid);
        is_str(e.message, want, "message");
        warren_error_clear(&e);
        close(go);
        waitpid(pid, NULL, 0);

        /* A namespace fd from idmap_userns_open(), entered by a child. */
        int fd = idmap_userns_open(m, &e);
        ok(fd >= 0, "idmap_userns_open: %s", e.message ?: "ok");
        warren_error_clear(&e);
        if (fd < 0)
                return;
        int p[2];
        pipe2(p, O_CLOEXEC);
        pid = fork();
        if (pid == 0) {
                if (setns(fd, CLONE_NEWUSER) < 0)
                        _exit(1);
                char *t = NULL;
                if (read_full_file("/proc/self/uid_map", 4096, &t, NULL) < 0)
                        _exit(2);
                write(p[1], t, strlen(t));
                _exit(0);
        }
        close(p[1]);
        _cleanup_free_ char *t = NULL;
        read_full_fd(p[0], 4096, &t, NULL);
        close(p[0]);
        waitpid(pid, NULL, 0);
        _cleanup_free_ char *ts = t ? squeeze(t) : NULL;
        is_str(ts, "0 100000 1000 1000 300000 10", "the namespace from idmap_userns_open() has the map");
        close(fd);
}

/* v2 file capability: cap_net_raw (bit 13) permitted + effective. */
static void set_caps_v2(const char *path) {
        uint32_t v[5] = { htole32(0x02000001U), htole32(1U << 13), 0, 0, 0 };
        if (setxattr(path, "security.capability", v, sizeof v, 0) < 0)
                ok(0, "setxattr caps on %s: %m", path);
}

/* An access ACL: user::rwx, user:1000:r, group::r-x, group:50:r, mask::r-x, other::r-x */
static void set_acl(const char *path) {
        uint8_t b[4 + 6 * 8];
        const struct {
                uint16_t tag, perm;
                uint32_t id;
        } e[] = { { 1, 7, UINT32_MAX }, { 2, 4, 1000 },          { 4, 5, UINT32_MAX },
                  { 8, 4, 50 },         { 0x10, 5, UINT32_MAX }, { 0x20, 5, UINT32_MAX } };
        uint32_t v = htole32(2);
        memcpy(b, &v, 4);
        for (size_t i = 0; i < ELEMENTSOF(e); i++) {
                uint16_t t = htole16(e[i].tag), p = htole16(e[i].perm);
                uint32_t id = htole32(e[i].id);
                memcpy(b + 4 + i * 8, &t, 2);
                memcpy(b + 6 + i * 8, &p, 2);
                memcpy(b + 8 + i * 8, &id, 4);
        }
        if (setxattr(path, "system.posix_acl_access", b, sizeof b, 0) < 0)
                ok(0, "setxattr acl on %s: %m", path);
}

static void acl_ids(const char *path, uint32_t *user, uint32_t *group) {
        uint8_t b[256];
        ssize_t n = getxattr(path, "system.posix_acl_access", b, sizeof b);
        *user = *group = 0;
        for (ssize_t o = 4; o + 8 <= n; o += 8) {
                uint16_t tag = (uint16_t) (b[o] | b[o + 1] << 8);
                uint32_t id;
                memcpy(&id, b + o + 4, 4);
                if (tag == 2)
                        *user = le32toh(id);
                if (tag == 8)
                        *group = le32toh(id);
        }
}

static void make_file(const char *path, uid_t uid, gid_t gid, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, "x", 1) != 1 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
                ok(0, "make %s: %m", path);
        close(fd);
}

static struct stat lstat_of(const char *dir, const char *name) {
        struct stat st = {};
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        lstat(p, &st);
        return st;
}

static void test_shift(void) {
        _cleanup_free_ char *root = tmp_path("shift"), *outside = tmp_path("outside");
        char p[PATH_MAX];
        mkdir(root, 0755);
        make_file(outside, 0, 0, 0644);
#define P(n) (snprintf(p, sizeof p, "%s/%s", root, n), p)
        mkdir(P("bin"), 0755);
        mkdir(P("home"), 0755);
        mkdir(P("home/u"), 0755);
        chown(P("home/u"), 1000, 1000);
        chmod(P("home/u"), 02770);
        mkdir(P("mnt"), 0755);
        make_file(P("bin/su"), 0, 0, 04755);
        make_file(P("bin/sg"), 0, 5, 02755);
        make_file(P("bin/ping"), 0, 0, 0755);
        set_caps_v2(P("bin/ping"));
        make_file(P("home/u/notes"), 1000, 1000, 0640);
        set_acl(P("home/u/notes"));
        make_file(P("hard1"), 7, 7, 0644);
        link(P("hard1"), P("hard2"));
        symlink(outside, P("link"));
        lchown(P("link"), 0, 0);
        mkfifo(P("fifo"), 0644);
        /* A mount point: skipped, and what is in it untouched. */
        mount("tmpfs", P("mnt"), "tmpfs", 0, "mode=0755");
        make_file(P("mnt/inner"), 0, 0, 0644);
        /* A bind mount from the same filesystem: same st_dev, still skipped. */
        _cleanup_free_ char *bindsrc = tmp_path("bindsrc");
        mkdir(bindsrc, 0755);
        mkdir(P("bindmnt"), 0755);
        if (mount(bindsrc, P("bindmnt"), NULL, MS_BIND, NULL) < 0)
                ok(0, "bind mount: %m");
        make_file(P("bindmnt/inner"), 0, 0, 0644);

        _cleanup_idmap_ Idmap *m = map_of((const char *const[]){ "b 0 100000 65536", NULL });
        WarrenError e = WARREN_ERROR_NULL;
        int r = idmap_shift_ownership(AT_FDCWD, root, m, IDMAP_SHIFT_TO_HOST, &e);
        is(r, 11, "shift re-owned 11 inodes: %s", e.message ?: "ok");
        warren_error_clear(&e);

        struct stat st = lstat_of(root, "");
        ok(st.st_uid == 100000 && st.st_gid == 100000, "root dir -> 100000:100000");
        st = lstat_of(root, "bin/su");
        ok(st.st_uid == 100000 && st.st_gid == 100000, "su -> 100000:100000");
        is(st.st_mode & 07777, 04755, "su keeps its setuid bit");
        st = lstat_of(root, "bin/sg");
        is(st.st_gid, 100005, "sg group -> 100005");
        is(st.st_mode & 07777, 02755, "sg keeps its setgid bit");
        st = lstat_of(root, "home/u");
        ok(st.st_uid == 101000 && (st.st_mode & 07777) == 02770, "home/u -> 101000, setgid dir kept");
        st = lstat_of(root, "hard1");
        is(st.st_uid, 100007, "hard-linked file shifted once");
        st = lstat_of(root, "link");
        ok(S_ISLNK(st.st_mode) && st.st_uid == 100000, "the symlink itself is re-owned");
        st = lstat_of(root, "fifo");
        is(st.st_uid, 100000, "fifo re-owned");
        struct stat o = {};
        stat(outside, &o);
        ok(o.st_uid == 0 && o.st_gid == 0, "the symlink's target outside the tree is untouched");
        st = lstat_of(root, "mnt");
        is(st.st_uid, 0, "mount point not re-owned");
        st = lstat_of(root, "mnt/inner");
        is(st.st_uid, 0, "nothing under the mount point re-owned");
        st = lstat_of(root, "bindmnt/inner");
        is(st.st_uid, 0, "nothing under a same-filesystem bind mount re-owned");
        stat(bindsrc, &o);
        is(o.st_uid, 0, "the bind mount's source untouched");

        uint32_t caps[6] = {};
        ssize_t n = getxattr(P("bin/ping"), "security.capability", caps, sizeof caps);
        is(n, 24, "ping's capability rewritten as v3");
        ok(le32toh(caps[0]) == 0x03000001U && le32toh(caps[1]) == (1U << 13) && le32toh(caps[5]) == 100000,
           "v3 capability: cap_net_raw+ep, rootid 100000");
        uint32_t au, ag;
        acl_ids(P("home/u/notes"), &au, &ag);
        ok(au == 101000 && ag == 100050, "ACL entries shifted (user %u, group %u)", au, ag);

        /* And back. */
        r = idmap_shift_ownership(AT_FDCWD, root, m, IDMAP_SHIFT_FROM_HOST, &e);
        is(r, 11, "shift back: %s", e.message ?: "ok");
        warren_error_clear(&e);
        st = lstat_of(root, "bin/su");
        ok(st.st_uid == 0 && (st.st_mode & 07777) == 04755, "su back to 0, setuid kept");
        n = getxattr(P("bin/ping"), "security.capability", caps, sizeof caps);
        ok(n == 20 && le32toh(caps[0]) == 0x02000001U, "capability back to v2");
        acl_ids(P("home/u/notes"), &au, &ag);
        ok(au == 1000 && ag == 50, "ACL entries back");

        /* An id the map does not cover. */
        make_file(P("home/u/far"), 70000, 0, 0644);
        r = idmap_shift_ownership(AT_FDCWD, root, m, IDMAP_SHIFT_TO_HOST, &e);
        is(r, -ERANGE, "unmapped uid refused");
        char want[PATH_MAX + 100];
        snprintf(want, sizeof want,
                 "Cannot shift the ownership of '%s/home/u/far': uid 70000 is not mapped by the id map",
                 root);
        is_str(e.message, want, "message names the path and the uid");
        warren_error_clear(&e);
        umount2(P("mnt"), MNT_DETACH);
        umount2(P("bindmnt"), MNT_DETACH);

        /* The root of the tree may not be a symlink. */
        r = idmap_shift_ownership(AT_FDCWD, P("link"), m, IDMAP_SHIFT_TO_HOST, &e);
        is(r, -ELOOP, "a symlink as the root is refused");
        warren_error_clear(&e);
        stat(outside, &o);
        is(o.st_uid, 0, "its target untouched");
#undef P
}

static void idmapped_mount_on(const char *fs, const char *dir, bool must_work) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/owned0", dir);
        make_file(p, 0, 0, 0644);
        snprintf(p, sizeof p, "%s/owned1000", dir);
        make_file(p, 1000, 1000, 0644);
        _cleanup_idmap_ Idmap *m = map_of((const char *const[]){ "b 0 100000 65536", NULL });
        WarrenError e = WARREN_ERROR_NULL;
        int fd = idmap_mount_rootfs(AT_FDCWD, dir, m, &e);
        if (fd < 0) {
                printf("# %s: no idmapped mount (%s): the caller would chown\n", fs, e.message);
                ok(!must_work && (fd == -EINVAL || fd == -EOPNOTSUPP),
                   "%s: idmapped mount not supported: %s", fs, e.message);
                warren_error_clear(&e);
                return;
        }
        printf("# %s: idmapped mount\n", fs);
        struct stat a = {}, b = {};
        fstatat(fd, "owned0", &a, AT_SYMLINK_NOFOLLOW);
        fstatat(fd, "owned1000", &b, AT_SYMLINK_NOFOLLOW);
        ok(a.st_uid == 100000 && a.st_gid == 100000 && b.st_uid == 101000,
           "%s: idmapped mount shows 0 as 100000, 1000 as 101000", fs);
        snprintf(p, sizeof p, "%s/owned0", dir);
        stat(p, &a);
        is(a.st_uid, 0, "%s: the files themselves are unchanged", fs);
        /* Attach it to see it from a path too. */
        snprintf(p, sizeof p, "%s-idmapped", dir);
        mkdir(p, 0755);
        is(move_mount(fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH), 0,
           "%s: move_mount of the idmapped tree", fs);
        strcat(p, "/owned1000");
        stat(p, &a);
        is(a.st_uid, 101000, "%s: seen through its mount point", fs);
        p[strlen(p) - strlen("/owned1000")] = 0;
        umount2(p, MNT_DETACH);
        close(fd);
}

static void test_idmapped_mounts(void) {
        _cleanup_free_ char *ext4 = tmp_path("ext4"), *tmpfs = tmp_path("tmpfs"), *ovl = tmp_path("ovl");
        _cleanup_free_ char *lower = tmp_path("lower"), *upper = tmp_path("upper"), *work = tmp_path("work");
        mkdir(ext4, 0755);
        idmapped_mount_on("ext4 (/tmp)", ext4, true);

        mkdir(tmpfs, 0755);
        if (mount("tmpfs", tmpfs, "tmpfs", 0, "mode=0755") < 0)
                ok(0, "mount tmpfs: %m");
        idmapped_mount_on("tmpfs", tmpfs, true);
        umount2(tmpfs, MNT_DETACH);

        mkdir(ovl, 0755);
        mkdir(lower, 0755);
        mkdir(upper, 0755);
        mkdir(work, 0755);
        char opts[PATH_MAX * 3 + 64];
        snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
        if (mount("overlay", ovl, "overlay", 0, opts) < 0)
                ok(0, "mount overlay: %m");
        idmapped_mount_on("overlay", ovl, false);
        umount2(ovl, MNT_DETACH);

        /* procfs never supports it. */
        _cleanup_idmap_ Idmap *m = map_of((const char *const[]){ "b 0 100000 65536", NULL });
        WarrenError e = WARREN_ERROR_NULL;
        is(idmap_mount_rootfs(AT_FDCWD, "/proc", m, &e), -EINVAL, "/proc: -EINVAL");
        is_str(e.message, "Cannot idmap '/proc': its filesystem (proc) does not support idmapped mounts",
               "message");
        warren_error_clear(&e);
        is(idmap_mount_rootfs(AT_FDCWD, "/nonexistent-idmap", m, &e), -ENOENT, "missing path");
        is_str(e.message, "Failed to clone the mount of '/nonexistent-idmap': No such file or directory",
               "message");
        warren_error_clear(&e);
}

int main(void) {
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root\n");
                return 0;
        }
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        /* Mounts made by the tests stay in this namespace. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("private mount namespace");
                return 1;
        }
        test_line_parse();
        test_format_verify_translate();
        test_allowance();
        test_garbage();
        test_write();
        test_shift();
        test_idmapped_mounts();
        char cmd[PATH_MAX];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                ok(0, "rm -rf %s", tmpdir);
        return done_testing();
}
