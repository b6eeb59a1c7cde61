/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/export and lib/archive-tree: the image config, metadata.yaml, and an
 * unprivileged container's rootfs exported with its ids shifted back
 * (owners, ACLs, file capabilities), LXC_NAME templates, device nodes in
 * excludes-user; the export unpacked again by the image unpacker. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive-tree.h"
#include "config.h"
#include "data-fixture.h"
#include "export.h"
#include "fileio.h"
#include "idmap.h"
#include "image-unpack.h"
#include "tap.h"

static char tmp[] = "/tmp/test-export.XXXXXX";

static const uint8_t acl_1000[] = {
        2,    0,    0,    0,    0x01, 0,    6,    0,    0xff, 0xff, 0xff, 0xff,
        0x02, 0,    4,    0,    0x28, 0x11, 0x03, 0, /* user 201000 */
        0x04, 0,    4,    0,    0xff, 0xff, 0xff, 0xff, 0x10, 0,    4,    0,
        0xff, 0xff, 0xff, 0xff, 0x20, 0,    4,    0,    0xff, 0xff, 0xff, 0xff,
};
/* v3 capability, rootid 200000 (0x30d40) */
static const uint8_t cap_v3[24] = { 0x00, 0, 0, 0x03, 0x00, 0x04, 0, 0, 0,    0,    0,    0,
                                    0,    0, 0, 0,    0,    0,    0, 0, 0x40, 0x0d, 0x03, 0x00 };

static void test_config(void) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *config = NULL, *user = NULL;
        const char *text = "lxc.include = /usr/share/warren/common.conf\n"
                           "lxc.include = /usr/share/warren/userns.conf\n"
                           "lxc.include = /home/alice/.config/mine.conf\n"
                           "lxc.arch = aarch64\n"
                           "lxc.tty.max = 2\n"
                           "lxc.idmap = u 0 200000 65536\n"
                           "lxc.rootfs.path = dir:/var/lib/warren/containers/c1/rootfs\n"
                           "lxc.uts.name = c1\n"
                           "lxc.net.0.type = veth\n"
                           "lxc.hook.pre-start = /bin/true\n"
                           "lxc.mount.entry = /srv/data srv none bind 0 0\n"
                           "lxc.mount.entry = tmpfs tmp tmpfs defaults 0 0\n"
                           "lxc.start.auto = 1\n";
        const LxcParseOptions o = { .include_mode = LXC_INCLUDE_KEEP };
        ok(c && lxc_config_parse(c, text, strlen(text), "t", &o, NULL) >= 0, "container config parses");
        is(export_image_config(c, "/usr/share/warren/", "x86_64", &config, &user, &err), 0,
           "export_image_config");
        like(config, "lxc.include = LXC_TEMPLATE_CONFIG/common.conf\n",
             "shared includes become LXC_TEMPLATE_CONFIG");
        ok(config && !strstr(config, "userns.conf"), "userns.conf is not in config");
        like(user, "lxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n", "...but in config-user");
        ok(config && !strstr(config, "mine.conf"), "someone's own include is left out");
        like(config, "lxc.arch = aarch64\n", "lxc.arch kept");
        ok(config && !strstr(config, "x86_64"), "...not added twice");
        like(config, "lxc.tty.max = 2\n", "other keys kept");
        like(config, "lxc.mount.entry = tmpfs tmp tmpfs", "a tmpfs mount entry is kept");
        static const char *const gone[] = { "idmap", "rootfs",    "uts.name",  "lxc.net",
                                            "hook",  "/srv/data", "start.auto" };
        for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                ok(config && !strstr(config, gone[i]), "'%s' is left out", gone[i]);
        _cleanup_free_ char *yaml = export_metadata_yaml("c1", "x86_64", 1700000000, true, false);
        like(yaml, "architecture: x86_64\ncreation_date: 1700000000\n", "metadata.yaml: architecture, date");
        like(yaml, "  /etc/hostname:\n    when:\n    - create\n    - copy\n    template: hostname.tpl\n",
             "metadata.yaml: the hostname template");
        ok(yaml && !strstr(yaml, "/etc/hosts"), "no hosts template when there is no /etc/hosts");
}

static void sh(const char *cmd) {
        if (system(cmd) != 0)
                printf("# failed: %s\n", cmd);
}

/* name -> entry, from an archive file. */
typedef struct Seen {
        char name[128];
        long uid, gid;
        mode_t mode;
        char data[256];
        uint8_t cap[32];
        size_t cap_size;
        uint8_t acl[64];
        size_t acl_size;
        dev_t rdev;
        char hardlink[128];
} Seen;

static size_t read_archive(const char *path, Seen *out, size_t max) {
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        size_t n = 0;
        archive_read_support_filter_all(a);
        archive_read_support_format_all(a);
        if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
                return 0;
        while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK) {
                Seen *s = &out[n++];
                *s = (Seen){ .uid = archive_entry_uid(e),
                             .gid = archive_entry_gid(e),
                             .mode = archive_entry_mode(e),
                             .rdev = archive_entry_rdev(e) };
                snprintf(s->name, sizeof s->name, "%s", archive_entry_pathname(e));
                if (archive_entry_hardlink(e))
                        snprintf(s->hardlink, sizeof s->hardlink, "%s", archive_entry_hardlink(e));
                la_ssize_t k = archive_read_data(a, s->data, sizeof s->data - 1);
                s->data[k > 0 ? k : 0] = 0;
                const char *xn;
                const void *xv;
                size_t xs;
                archive_entry_xattr_reset(e);
                while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK) {
                        if (streq(xn, "security.capability") && xs <= sizeof s->cap) {
                                memcpy(s->cap, xv, xs);
                                s->cap_size = xs;
                        }
                        if (streq(xn, "system.posix_acl_access") && xs <= sizeof s->acl) {
                                memcpy(s->acl, xv, xs);
                                s->acl_size = xs;
                        }
                }
        }
        archive_read_free(a);
        return n;
}

static const Seen *find(const Seen *l, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].name, name))
                        return &l[i];
        return NULL;
}

static void test_export(void) {
        char cmd[8192], root[300], p[400];
        _cleanup_(idmap_freep) Idmap *m = idmap_new();
        IdmapLine u = { IDMAP_BOTH, 0, 200000, 65536 };
        if (geteuid() != 0) {
                ok(1, "# skip exporting an unprivileged rootfs needs root (owners, capabilities)");
                return;
        }
        idmap_add(m, &u);
        snprintf(root, sizeof root, "%s/rootfs", tmp);
        snprintf(cmd, sizeof cmd,
                 "mkdir -p %1$s/etc %1$s/dev %1$s/home/user %1$s/bin && echo c1 > %1$s/etc/hostname && "
                 "printf '127.0.1.1 c1 c1.lan\\n' > %1$s/etc/hosts && echo data > %1$s/home/user/f && "
                 "ln %1$s/home/user/f %1$s/home/user/g && mknod %1$s/dev/null c 1 3 && echo cap > "
                 "%1$s/bin/ping && "
                 "chown -R 200000:200000 %1$s && chown 201000:201001 %1$s/home/user/f && "
                 "chown 100:100 %1$s/bin && chmod 4755 %1$s/home/user/f",
                 root);
        sh(cmd);
        snprintf(p, sizeof p, "%s/bin/ping", root);
        ok(setxattr(p, "security.capability", cap_v3, sizeof cap_v3, 0) == 0,
           "set a v3 capability (rootid 200000)");
        snprintf(p, sizeof p, "%s/home/user/f", root);
        ok(setxattr(p, "system.posix_acl_access", acl_1000, sizeof acl_1000, 0) == 0,
           "set an ACL for uid 201000");
        (void) chmod(p, 04755);

        char out_r[320], out_m[320], out_u[320];
        snprintf(out_r, sizeof out_r, "%s/rootfs.tar.xz", tmp);
        snprintf(out_m, sizeof out_m, "%s/meta.tar.xz", tmp);
        snprintf(out_u, sizeof out_u, "%s/unified.tar.zst", tmp);
        ExportWork w = {
                .fds = { open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                         open(out_r, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
                         open(out_m, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), -EBADF },
                .name = "c1",
                .compression = "xz",
                .arch = "x86_64",
                .shift = m,
                .config = "lxc.arch = x86_64\n",
                .config_user = "lxc.arch = x86_64\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n",
                .runtime_dir = tmp,
                .now_s = 1700000000,
        };
        int keep[3] = { w.fds[0], w.fds[1], w.fds[2] };
        WorkerOutcome o;
        is(run_worker(WORKER_EXPORT, &w, w.fds, 4, &o), 0, "export, split (%s)", o.text);
        like(o.note, "Exported 'c1'", "the note");
        Seen s[64];
        size_t n = read_archive(out_r, s, 64);
        const Seen *top = find(s, n, "./"), *f = find(s, n, "./home/user/f"),
                   *g = find(s, n, "./home/user/g"), *bin = find(s, n, "./bin/"),
                   *ping = find(s, n, "./bin/ping"), *host = find(s, n, "./etc/hostname"),
                   *hosts = find(s, n, "./etc/hosts"), *dev = find(s, n, "./dev/null");
        ok(top && top->uid == 0 && top->gid == 0, "the top is ./, owned by 0:0 (was 200000)");
        ok(f && f->uid == 1000 && f->gid == 1001, "owners shifted back: 1000:1001 (was 201000:201001)");
        ok(f && (f->mode & 07777) == 04755, "setuid kept");
        ok(bin && bin->uid == ARCHIVE_TREE_OVERFLOW_ID, "a host id outside the map becomes 65534 (%ld)",
           bin ? bin->uid : -1L);
        ok(g && streq(g->hardlink, "./home/user/f"), "a hardlink");
        ok(ping && ping->cap_size == 20 && ping->cap[3] == 0x02,
           "a v3 capability of the container's root is v2");
        ok(f && f->acl_size == sizeof acl_1000 && f->acl[16] == 0xe8 && f->acl[17] == 0x03 &&
                   f->acl[18] == 0,
           "the ACL's uid shifted back to 1000");
        is_str(host ? host->data : NULL, "LXC_NAME\n", "etc/hostname names LXC_NAME");
        is_str(hosts ? hosts->data : NULL, "127.0.1.1 LXC_NAME LXC_NAME.lan\n", "etc/hosts too");
        ok(dev && S_ISCHR(dev->mode) && dev->rdev == makedev(1, 3), "the device node is stored");
        n = read_archive(out_m, s, 64);
        const Seen *ex = find(s, n, "excludes-user"), *tp = find(s, n, "templates"),
                   *cu = find(s, n, "config-user");
        is_str(ex ? ex->data : NULL, "./dev/null\n", "excludes-user lists the device node");
        is_str(tp ? tp->data : NULL, "/etc/hostname\n/etc/hosts\n", "templates lists both files");
        like(cu ? cu->data : NULL, "userns.conf", "config-user");
        ok(find(s, n, "config") && find(s, n, "create-message") && find(s, n, "expiry"),
           "config, create-message, expiry");

        /* Round trip: unpacked for another map, ids land in it. */
        ImageIdRange map[2] = { { false, 0, 300000, 65536 }, { true, 0, 300000, 65536 } };
        const ImageUnpackOptions uo = { .idmap = map, .n_idmap = 2 };
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int afd = open(out_r, O_RDONLY | O_CLOEXEC), tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        is(image_unpack(afd, tfd, "again", &uo, NULL, &err), 0, "the export unpacks (%s)",
           warren_error_message(&err));
        struct stat st;
        snprintf(p, sizeof p, "%s/again/home/user/f", tmp);
        ok(stat(p, &st) == 0 && st.st_uid == 301000 && st.st_gid == 301001 && (st.st_mode & 04000),
           "a file lands at 301000:301001, setuid");
        uint8_t cap[32];
        snprintf(p, sizeof p, "%s/again/bin/ping", tmp);
        ssize_t k = getxattr(p, "security.capability", cap, sizeof cap);
        ok(k == 24 && cap[20] == 0xe0 && cap[21] == 0x93 && cap[22] == 0x04,
           "its capability's root is 300000");
        close(afd);
        close(tfd);

        /* Unified, zstd. */
        w.fds[0] = keep[0];
        w.fds[1] = w.fds[2] = -EBADF;
        w.fds[3] = open(out_u, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        w.compression = "zstd";
        int u3 = w.fds[3];
        is(run_worker(WORKER_EXPORT, &w, w.fds, 4, &o), 0, "export, unified (%s)", o.text);
        n = read_archive(out_u, s, 64);
        const Seen *y = find(s, n, "metadata.yaml"), *ht = find(s, n, "templates/hostname.tpl"),
                   *rh = find(s, n, "rootfs/etc/hostname");
        ok(n > 0 && streq(s[0].name, "metadata.yaml"), "metadata.yaml comes first");
        like(y ? y->data : NULL, "template: hostname.tpl", "...naming the templates");
        is_str(ht ? ht->data : NULL, "{{ container.name }}\n", "templates/hostname.tpl");
        is_str(rh ? rh->data : NULL, "c1\n", "rootfs/etc/hostname as it is");
        ok(find(s, n, "rootfs/home/user/f") && find(s, n, "rootfs/home/user/f")->uid == 1000,
           "rootfs/ entries, shifted back");

        /* A bad compression name, an unwritable output. */
        w.compression = "lz4";
        is(run_worker(WORKER_EXPORT, &w, w.fds, 4, &o), -EINVAL, "an unknown compression is refused");
        like(o.text, "lz4", "...naming it");
        w.compression = "none";
        w.fds[3] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int bad = w.fds[3];
        ok(run_worker(WORKER_EXPORT, &w, w.fds, 4, &o) < 0, "a read-only output fails (%s)", o.text);
        close(bad);
        close(u3);
        for (int i = 0; i < 3; i++)
                close(keep[i]);
}

int main(void) {
        if (!mkdtemp(tmp))
                return 1;
        test_config();
        test_export();
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        sh(cmd);
        return done_testing();
}
