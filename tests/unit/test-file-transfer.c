/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/file-transfer on a stopped container's rootfs: pulls resolve inside
 * it and store symlinks as symlinks; pushes land with ids mapped, and every
 * refused stream (.., absolute paths, through a symlink, setuid or device
 * nodes from an owner, a file onto a directory) changes nothing. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "data-fixture.h"
#include "file-transfer.h"
#include "fileio.h"
#include "idmap.h"
#include "strv.h"
#include "tap.h"

static char tmp[] = "/tmp/test-file-transfer.XXXXXX";
static char root[300];
static bool is_root;

typedef struct E {
        mode_t type;
        const char *path, *data, *link;
        mode_t perm;
        long uid;
} E;

static char *make_tar(const char *name, const E *e, size_t n) {
        char *p = NULL;
        if (asprintf(&p, "%s/%s.tar", tmp, name) < 0)
                return NULL;
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        archive_write_open_filename(a, p);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *x = archive_entry_new();
                archive_entry_set_pathname(x, e[i].path);
                archive_entry_set_filetype(x, e[i].type ?: AE_IFREG);
                archive_entry_set_perm(x, e[i].perm ?: 0644);
                archive_entry_set_uid(x, e[i].uid);
                archive_entry_set_gid(x, e[i].uid);
                if (e[i].link)
                        archive_entry_set_symlink(x, e[i].link);
                if (e[i].type == AE_IFCHR)
                        archive_entry_set_rdev(x, makedev(1, 3));
                archive_entry_set_size(x, e[i].data ? (la_int64_t) strlen(e[i].data) : 0);
                archive_write_header(a, x);
                if (e[i].data)
                        archive_write_data(a, e[i].data, strlen(e[i].data));
                archive_entry_free(x);
        }
        archive_write_close(a);
        archive_write_free(a);
        return p;
}

static char *tree(void) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cd %s && find . -printf '%%p:%%U:%%m;' | tr -d '\\n' > %s/list", root,
                 tmp);
        if (system(cmd) != 0)
                return NULL;
        char *t = NULL;
        snprintf(cmd, sizeof cmd, "%s/list", tmp);
        return read_full_file(cmd, 1 << 20, &t, NULL) < 0 ? NULL : t;
}

static Idmap *map;

static int push(const char *tarname, const E *e, size_t n, const char *dest, bool caller_root,
                WorkerOutcome *o) {
        _cleanup_free_ char *p = make_tar(tarname, e, n);
        FileWork w = {
                .fds = { open(p, O_RDONLY | O_CLOEXEC), open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) },
                .push = true,
                .dest_dir = dest,
                .runtime_dir = tmp,
                .container = "c1",
                .idmap = map,
                .rootfs_shifted = true,
                .caller_root = caller_root,
        };
        int fds[2] = { w.fds[0], w.fds[1] };
        int r = run_worker(WORKER_FILES, &w, w.fds, 2, o);
        close(fds[0]);
        close(fds[1]);
        return r;
}

static void refused(const char *what, const E *e, size_t n, const char *dest, int err, const char *needle) {
        WorkerOutcome o;
        _cleanup_free_ char *before = tree(), *after = NULL;
        int r = push(what, e, n, dest, false, &o);
        is(r, -err, "push %s: refused (%s)", what, o.text);
        like(o.text, needle, "...saying why");
        after = tree();
        ok(before && after && streq(before, after), "...and nothing in the container changed");
        char cmd[400];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s/escaped 2>/dev/null)\"", tmp);
        ok(system(cmd) == 0, "...nor outside it");
}

static int pull(char **paths, bool recursive, const char *out, WorkerOutcome *o) {
        FileWork w = {
                .fds = { open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
                         open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) },
                .paths = paths,
                .recursive = recursive,
                .runtime_dir = tmp,
                .container = "c1",
                .idmap = map,
                .rootfs_shifted = true,
        };
        int fds[2] = { w.fds[0], w.fds[1] };
        int r = run_worker(WORKER_FILES, &w, w.fds, 2, o);
        close(fds[0]);
        close(fds[1]);
        return r;
}

int main(void) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        char cmd[4096];
        is_root = geteuid() == 0;
        if (!mkdtemp(tmp))
                return 1;
        snprintf(root, sizeof root, "%s/rootfs", tmp);
        snprintf(
                cmd, sizeof cmd,
                "mkdir -p %1$s/etc %1$s/root/d %1$s/tmp %2$s/escaped && echo c1 > %1$s/etc/hostname && "
                "ln -s /etc/shadow %1$s/etc/pw && ln -s %2$s/escaped %1$s/out && echo x > %1$s/root/file && "
                "chmod 755 %1$s/root",
                root, tmp);
        if (system(cmd) != 0)
                return 1;
        if (is_root) {
                snprintf(cmd, sizeof cmd, "chown -R 200000:200000 %s", root);
                (void) system(cmd);
        }
        map = idmap_new();
        IdmapLine l = { IDMAP_BOTH, 0, is_root ? 200000 : getuid(), is_root ? 65536 : 1 };
        idmap_add(map, &l);

        /* validation */
        char *bad1[] = { (char *) "etc/hostname", NULL }, *bad2[] = { (char *) "/", NULL },
             *bad3[] = { (char *) "/etc/..", NULL },
             *good[] = { (char *) "/etc/hostname", (char *) "/root/", NULL };
        is(file_pull_paths_validate(bad1, &err), -EINVAL, "a relative path is refused");
        like(warren_error_message(&err), "'etc/hostname'", "...naming it");
        is(file_pull_paths_validate(bad2, NULL), -EINVAL, "/ is refused");
        is(file_pull_paths_validate(bad3, NULL), -EINVAL, "a path ending in .. is refused");
        is(file_pull_paths_validate(good, NULL), 0, "absolute paths are fine");
        is(file_push_dest_validate("root", NULL), -EINVAL, "a relative destination is refused");

        /* pull */
        char out[400];
        WorkerOutcome o;
        snprintf(out, sizeof out, "%s/pulled.tar", tmp);
        char *p1[] = { (char *) "/etc/hostname", (char *) "/etc/pw", NULL };
        is(pull(p1, false, out, &o), 0, "pull a file and a symlink (%s)", o.text);
        snprintf(cmd, sizeof cmd, "tar -tvf %s | awk '{print $2, $6, $7, $8}' | tr '\\n' ';'", out);
        FILE *f = popen(cmd, "r");
        char line[512] = "";
        if (f) {
                if (!fgets(line, sizeof line, f))
                        line[0] = 0;
                pclose(f);
        }
        is_str(line,
               is_root ? "0/0 hostname  ;0/0 pw -> /etc/shadow;" : "0/0 hostname  ;0/0 pw -> /etc/shadow;",
               "the file by its name, owned by 0:0 inside; the symlink as a symlink, not the host's "
               "/etc/shadow");
        char *p2[] = { (char *) "/out/x", NULL };
        is(pull(p2, false, out, &o), -ENOENT, "a path through a symlink out of the rootfs stays inside (%s)",
           o.text);
        char *p3[] = { (char *) "/root", NULL };
        is(pull(p3, false, out, &o), -EISDIR, "a directory without recursive is refused");
        like(o.text, "recursively", "...saying so");
        is(pull(p3, true, out, &o), 0, "...and pulled with it");

        /* push */
        const E ok1[] = { { AE_IFDIR, "new", NULL, NULL, 0755, 0 },
                          { AE_IFREG, "new/a", "A\n", NULL, 0644, is_root ? 1000 : 0 },
                          { AE_IFREG, "file", "replaced\n", NULL, 0600, 0 } };
        is(push("ok1", ok1, 3, "/root", false, &o), 0, "push a directory and a file (%s)", o.text);
        struct stat st;
        snprintf(cmd, sizeof cmd, "%s/root/new/a", root);
        ok(stat(cmd, &st) == 0 && (!is_root || st.st_uid == 201000),
           "it is there, uid 1000 mapped to 201000");
        snprintf(cmd, sizeof cmd, "%s/root/file", root);
        _cleanup_free_ char *t = NULL;
        (void) read_full_file(cmd, 100, &t, NULL);
        is_str(t, "replaced\n", "an existing file is replaced");
        snprintf(cmd, sizeof cmd, "%s/root/d", root);
        ok(stat(cmd, &st) == 0 && S_ISDIR(st.st_mode), "other entries are kept");
        snprintf(cmd, sizeof cmd, "ls -A %s/root | grep -q '^\\.#'", root);
        ok(system(cmd) != 0, "no temporary directory left");

        const E dotdot[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 },
                             { AE_IFREG, "../../escaped/x", "x", NULL, 0, 0 } };
        refused("dotdot", dotdot, 2, "/root", EPERM, "'..'");
        const E abs[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 }, { AE_IFREG, "/tmp/abs", "x", NULL, 0, 0 } };
        refused("absolute", abs, 2, "/root", EPERM, "absolute");
        const E through[] = { { AE_IFLNK, "lnk", NULL, "/", 0777, 0 },
                              { AE_IFREG, "lnk/etc/x", "x", NULL, 0, 0 } };
        refused("through-symlink", through, 2, "/root", EPERM, "lnk");
        const E setuid[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 },
                             { AE_IFREG, "su", "x", NULL, 04755, 0 } };
        refused("setuid", setuid, 2, "/root", EPERM, "setuid");
        const E ids[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 }, { AE_IFREG, "far", "x", NULL, 0, 70000 } };
        if (is_root)
                refused("unmapped-id", ids, 2, "/root", EINVAL, "outside the container's idmap");
        const E dev[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 }, { AE_IFCHR, "null", NULL, NULL, 0666, 0 } };
        refused("device", dev, 2, "/root", EPERM, "device node");
        const E onto[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 }, { AE_IFREG, "d", "x", NULL, 0, 0 } };
        refused("file-onto-dir", onto, 2, "/root", EISDIR, "a directory is there");
        const E any[] = { { AE_IFREG, "fine", "x", NULL, 0, 0 } };
        refused("missing-dest", any, 1, "/nonexistent", ENOENT, "/nonexistent");
        refused("dest-via-symlink", any, 1, "/out", ENOENT, "/out");
        _cleanup_free_ char *gp = NULL;
        if (asprintf(&gp, "%s/garbage.tar", tmp) >= 0) {
                int fd = open(gp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                (void) write_all(fd, "this is not a tar stream at all, just words\n", 44);
                close(fd);
        }
        FileWork w = {
                .fds = { open(gp, O_RDONLY | O_CLOEXEC), open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) },
                .push = true,
                .dest_dir = "/root",
                .runtime_dir = tmp,
                .container = "c1",
                .idmap = map,
                .rootfs_shifted = true,
        };
        _cleanup_free_ char *before = tree(), *after = NULL;
        ok(run_worker(WORKER_FILES, &w, w.fds, 2, &o) < 0, "garbage instead of a tar stream fails (%s)",
           o.text);
        after = tree();
        ok(before && after && streq(before, after), "...and changes nothing");

        /* root may push setuid files and, into a privileged container, device nodes */
        if (is_root) {
                Idmap *keep = map;
                map = NULL;
                is(push("root-dev", dev, 2, "/root", true, &o), 0,
                   "root pushes a device node into a privileged "
                   "container (%s)",
                   o.text);
                snprintf(cmd, sizeof cmd, "%s/root/null", root);
                ok(stat(cmd, &st) == 0 && S_ISCHR(st.st_mode), "...it is there");
                map = keep;
                is(push("root-setuid", setuid, 2, "/root", true, &o), 0, "root pushes a setuid file");
        }
        idmap_free(map);
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        (void) system(cmd);
        return done_testing();
}
