/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/clone: the new config (names, paths, MACs), hostname files renamed
 * without leaving the rootfs, and a clone's copy run by a data worker. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clone.h"
#include "config.h"
#include "data-fixture.h"
#include "fileio.h"
#include "strv.h"
#include "tap.h"

static char tmp[] = "/tmp/test-clone.XXXXXX";

static LxcConfig *parse(const char *text) {
        LxcConfig *c = lxc_config_new();
        const LxcParseOptions o = { .include_mode = LXC_INCLUDE_KEEP };
        if (c && lxc_config_parse(c, text, strlen(text), "test", &o, NULL) < 0)
                c = lxc_config_free(c);
        return c;
}

static void test_paths(void) {
        _cleanup_free_ char *a = clone_replace_paths("dir:/s/c1/rootfs", "/s/c1", "/s/c2"),
                            *b = clone_replace_paths("/s/c1 /s/c10/x /s/c1/y /s/c1:z x/s/c1", "/s/c1",
                                                     "/s/c2"),
                            *c = clone_replace_paths("/s/c1/fstab", "/s/c1", "/s/other/c2");
        is_str(a, "dir:/s/c2/rootfs", "a dir: rootfs path is rewritten");
        is_str(b, "/s/c2 /s/c10/x /s/c2/y /s/c2:z x/s/c1", "only whole path prefixes are rewritten");
        is_str(c, "/s/other/c2/fstab", "a longer new path");
        _cleanup_free_ char *w = text_replace_word("127.0.1.1 c1 c1.lan c10 xc1\nc1\n", 31, "c1", "web");
        is_str(w, "127.0.1.1 web web.lan c10 xc1\nweb\n", "words are replaced, not parts of words");
}

static void test_config(void) {
        _cleanup_lxc_config_ LxcConfig *c = parse("lxc.uts.name = c1\n"
                                                  "lxc.rootfs.path = dir:/s/c1/rootfs\n"
                                                  "lxc.mount.fstab = /s/c1/fstab\n"
                                                  "lxc.net.0.type = veth\n"
                                                  "lxc.net.0.link = br0\n"
                                                  "lxc.net.0.hwaddr = 00:16:3e:11:22:33\n"
                                                  "lxc.net.1.type = veth\n"
                                                  "lxc.net.1.hwaddr = 02:aa:bb:cc:dd:ee\n"
                                                  "lxc.idmap = u 0 200000 65536\n"
                                                  "lxc.idmap = g 0 200000 65536\n");
        _cleanup_lxc_config_ LxcConfig *n = NULL, *k = NULL, *o = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        const CloneNames names = { "c1", "c2", "/s/c1", "/s/c2" };
        ok(c != NULL, "source config parses");
        is(clone_config(c, &names, true, &n, &err), 0, "clone_config");
        is_str(lxc_config_get(n, "lxc.uts.name"), "c2", "uts name");
        is_str(lxc_config_get(n, "lxc.rootfs.path"), "dir:/s/c2/rootfs", "rootfs path");
        is_str(lxc_config_get(n, "lxc.mount.fstab"), "/s/c2/fstab", "fstab path");
        const char *m0 = lxc_config_get(n, "lxc.net.0.hwaddr"), *m1 = lxc_config_get(n, "lxc.net.1.hwaddr");
        ok(m0 && strncmp(m0, "00:16:3e:", 9) == 0 && strlen(m0) == 17 && !streq(m0, "00:16:3e:11:22:33"),
           "a new MAC with the same vendor part (%s)", strna(m0));
        ok(m1 && strncmp(m1, "02:aa:bb:", 9) == 0 && !streq(m1, "02:aa:bb:cc:dd:ee"),
           "the second NIC too (%s)", strna(m1));
        is_str(lxc_config_get(n, "lxc.net.0.link"), "br0", "other NIC keys kept");
        _cleanup_strv_free_ char **maps = lxc_config_get_all(n, "lxc.idmap");
        is(strv_length(maps), 2, "the idmap is kept");
        is(clone_config(c, &names, false, &k, &err), 0, "clone_config keeping MACs");
        is_str(lxc_config_get(k, "lxc.net.0.hwaddr"), "00:16:3e:11:22:33", "keep_mac keeps the MAC");

        _cleanup_lxc_config_ LxcConfig *ov = parse("lxc.rootfs.path = overlay:/a:/b\nlxc.uts.name = c1\n");
        _cleanup_error_ WarrenError e2 = WARREN_ERROR_NULL;
        is(clone_config(ov, &names, true, &o, &e2), -EOPNOTSUPP, "an overlay rootfs is refused");
        like(warren_error_message(&e2), "overlay:/a:/b", "...naming it");
        /* A customized hostname stays as the owner set it. */
        _cleanup_lxc_config_ LxcConfig *h = parse("lxc.uts.name = myhost\nlxc.rootfs.path = /s/c1/rootfs\n"),
                                       *hn = NULL;
        is(clone_config(h, &names, true, &hn, &err), 0, "config with its own uts name");
        is_str(lxc_config_get(hn, "lxc.uts.name"), "myhost",
               "an uts name that is not the container's is kept");
        is_str(lxc_config_get(hn, "lxc.rootfs.path"), "/s/c2/rootfs", "a plain rootfs path is rewritten");
}

static void wr(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
                (void) write_all(fd, text, strlen(text));
}

static char *rd(const char *path) {
        char *t = NULL;
        return read_full_file(path, 1 << 20, &t, NULL) < 0 ? NULL : t;
}

static void test_hostname(void) {
        char root[300], p[400], outside[300];
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        snprintf(root, sizeof root, "%s/root", tmp);
        snprintf(outside, sizeof outside, "%s/outside-hosts", tmp);
        snprintf(p, sizeof p, "mkdir -p %s/etc", root);
        if (system(p) != 0)
                return;
        snprintf(p, sizeof p, "%s/etc/hostname", root);
        wr(p, "c1\n");
        wr(outside, "127.0.0.1 c1\n");
        /* /etc/hosts is a symlink out of the rootfs: resolved inside it, so nothing there. */
        snprintf(p, sizeof p, "%s/etc/hosts", root);
        (void) symlink(outside, p);
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        is(clone_rootfs_rename(fd, "c1", "c2", &err), 1, "one file renamed");
        snprintf(p, sizeof p, "%s/etc/hostname", root);
        _cleanup_free_ char *h = rd(p), *o = rd(outside);
        is_str(h, "c2\n", "etc/hostname names the new container");
        is_str(o, "127.0.0.1 c1\n", "a symlink out of the rootfs was not followed");
        close(fd);
}

static void test_copy_work(void) {
        char src[300], cmd[1600];
        snprintf(src, sizeof src, "%s/src", tmp);
        snprintf(cmd, sizeof cmd,
                 "mkdir -p %s/etc %s/dst && echo c1 > %s/etc/hostname && printf '127.0.1.1 c1\\n' > "
                 "%s/etc/hosts",
                 src, tmp, src, src);
        if (system(cmd) != 0)
                return;
        char dst[300];
        snprintf(dst, sizeof dst, "%s/dst", tmp);
        CopyWork w = {
                .fds = { open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                         open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC) },
                .dst_name = "rootfs",
                .rename_from = "c1",
                .rename_to = "c2",
                .runtime_dir = tmp,
                .freeze_container = "c1", /* no monitor there: not running, nothing to freeze */
        };
        WorkerOutcome out;
        int fds[2] = { w.fds[0], w.fds[1] };
        int r = run_worker(WORKER_COPY, &w, w.fds, 2, &out);
        is(r, 0, "copy worker (%s)", out.text);
        like(out.note, "Copied with a plain copy", "the note says how");
        ok(!out.froze, "a container that does not run is not frozen");
        snprintf(cmd, sizeof cmd, "%s/rootfs/etc/hosts", dst);
        _cleanup_free_ char *hosts = rd(cmd);
        is_str(hosts, "127.0.1.1 c2\n", "the copy's hosts names the new container");
        snprintf(cmd, sizeof cmd, "%s/etc/hosts", src);
        _cleanup_free_ char *orig = rd(cmd);
        is_str(orig, "127.0.1.1 c1\n", "the source is untouched");
        /* Again: the target exists now. */
        r = run_worker(WORKER_COPY, &w, w.fds, 2, &out);
        is(r, -EEXIST, "a second copy to the same name fails (%s)", out.text);
        close(fds[0]);
        close(fds[1]);
}

int main(void) {
        if (!mkdtemp(tmp))
                return 1;
        test_paths();
        test_config();
        test_hostname();
        test_copy_work();
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        (void) system(cmd);
        return done_testing();
}
