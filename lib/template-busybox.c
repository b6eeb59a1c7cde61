/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build-config.h"
#include "fileio.h"
#include "log.h"
#include "name.h"
#include "strv.h"
#include "template.h"

#define TTY_DEFAULT 4U
#define APPLET_LIST_MAX (256U * 1024U)
#define APPLETS_MAX 4096U
#define APPLET_PATH_MAX 255U
#define DIR_CACHE_MAX 32U

typedef struct DirCache {
        char *path;
        int fd;
} DirCache;

typedef struct Builder {
        int rootfd;
        uid_t uid;
        gid_t gid;
        const char *busybox;
        DirCache dirs[DIR_CACHE_MAX];
        size_t n_dirs;
        WarrenError *reterr;
} Builder;

static void builder_done(Builder *b) {
        for (size_t i = 0; i < b->n_dirs; i++) {
                free(b->dirs[i].path);
                safe_close(b->dirs[i].fd);
        }
        b->n_dirs = 0;
}

static int fail(Builder *b, int r, const char *what) {
        return warren_error_set(b->reterr, r, "Failed to create /%s in the rootfs: %s", what,
                                strerror(r < 0 ? -r : r));
}

/* Chown first: it may clear mode bits that the chmod then sets. */
static int own_fd(Builder *b, int fd, mode_t mode) {
        if (fchown(fd, b->uid, b->gid) < 0 || fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

static int dir_fd(Builder *b, const char *path, mode_t mode, int *ret);

/* Looks path up in the cache, or creates the missing directory (and its
 * parents) one component at a time below rootfd, never following a symlink. */
static int dir_fd(Builder *b, const char *path, mode_t mode, int *ret) {
        _cleanup_free_ char *parent = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *base = path;
        int pfd = b->rootfd, r;

        if (isempty(path)) {
                *ret = b->rootfd;
                return 0;
        }
        for (size_t i = 0; i < b->n_dirs; i++)
                if (streq(b->dirs[i].path, path)) {
                        *ret = b->dirs[i].fd;
                        return 0;
                }

        const char *slash = strrchr(path, '/');
        if (slash) {
                parent = strndup(path, (size_t) (slash - path));
                if (!parent)
                        return -ENOMEM;
                r = dir_fd(b, parent, 0755, &pfd);
                if (r < 0)
                        return r;
                base = slash + 1;
        }

        bool made = mkdirat(pfd, base, mode & 0777) >= 0;
        if (!made && errno != EEXIST)
                return -errno;
        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (made) {
                r = own_fd(b, fd, mode);
                if (r < 0)
                        return r;
        }

        if (b->n_dirs >= DIR_CACHE_MAX) {
                /* Not cached: only the last one is needed for the next step. */
                safe_close(b->dirs[DIR_CACHE_MAX - 1].fd);
                free(b->dirs[DIR_CACHE_MAX - 1].path);
                b->n_dirs--;
        }
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        b->dirs[b->n_dirs].path = p;
        b->dirs[b->n_dirs].fd = TAKE_FD(fd);
        *ret = b->dirs[b->n_dirs++].fd;
        return 0;
}

/* path relative to the rootfs -> parent dir fd + last component */
static int parent_of(Builder *b, const char *path, int *ret_pfd, const char **ret_base) {
        _cleanup_free_ char *parent = NULL;
        const char *slash = strrchr(path, '/');

        if (!slash) {
                *ret_pfd = b->rootfd;
                *ret_base = path;
                return 0;
        }
        parent = strndup(path, (size_t) (slash - path));
        if (!parent)
                return -ENOMEM;
        *ret_base = slash + 1;
        return dir_fd(b, parent, 0755, ret_pfd);
}

static int make_file(Builder *b, const char *path, const char *text, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        const char *base;
        int pfd, r;

        r = parent_of(b, path, &pfd, &base);
        if (r < 0)
                return fail(b, r, path);
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode & 0600);
        if (fd < 0)
                return fail(b, -errno, path);
        r = write_all(fd, text, strlen(text));
        if (r >= 0)
                r = own_fd(b, fd, mode);
        if (r < 0)
                return fail(b, r, path);
        return 0;
}

static int make_symlink(Builder *b, const char *path, const char *target) {
        const char *base;
        int pfd, r;

        r = parent_of(b, path, &pfd, &base);
        if (r < 0)
                return r;
        if (symlinkat(target, pfd, base) < 0)
                return -errno;
        if (fchownat(pfd, base, b->uid, b->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int make_dirs(Builder *b) {
        static const struct {
                const char *path;
                mode_t mode;
        } dirs[] = {
                { "bin", 0755 },      { "sbin", 0755 }, { "usr", 0755 },        { "usr/bin", 0755 },
                { "usr/sbin", 0755 }, { "etc", 0755 },  { "etc/init.d", 0755 }, { "dev", 0755 },
                { "proc", 0555 },     { "sys", 0555 },  { "tmp", 01777 },       { "root", 0700 },
                { "home", 0755 },     { "var", 0755 },  { "var/log", 0755 },    { "run", 0755 },
                { "mnt", 0755 },      { "lib", 0755 },
        };
        int fd, r;

        /* The container's root directory belongs to the container's root too. */
        if (fchown(b->rootfd, b->uid, b->gid) < 0)
                return warren_error_set(b->reterr, errno,
                                        "Failed to change the owner of the rootfs to %u:%u: %m",
                                        (unsigned) b->uid, (unsigned) b->gid);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = dir_fd(b, dirs[i].path, dirs[i].mode, &fd);
                if (r < 0)
                        return fail(b, r, dirs[i].path);
        }
        return 0;
}

static int copy_bytes(int sfd, int dfd, off_t size) {
        bool use_sendfile = false;
        off_t done = 0;

        while (done < size) {
                size_t chunk = (size_t) MIN(size - done, (off_t) (64 * 1024 * 1024));
                ssize_t n = use_sendfile ? sendfile(dfd, sfd, NULL, chunk)
                                         : copy_file_range(sfd, NULL, dfd, NULL, chunk, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* Across filesystems, or not offered here. */
                        if (!use_sendfile && done == 0 &&
                            (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                                use_sendfile = true;
                                continue;
                        }
                        return -errno;
                }
                if (n == 0)
                        return -EIO; /* shrank while copying */
                done += n;
        }
        return 0;
}

/* Returns the opened host binary, so the applet list comes from the very
 * file that was copied. */
static int copy_busybox(Builder *b, int *ret_fd) {
        _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;
        struct stat st;
        int bin, r;

        sfd = open(b->busybox, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (sfd < 0) {
                if (errno == ENOENT)
                        return warren_error_set(b->reterr, ENOENT, "Busybox binary '%s' not found",
                                                b->busybox);
                return warren_error_set(b->reterr, errno, "Failed to open busybox binary '%s': %m",
                                        b->busybox);
        }
        if (fstat(sfd, &st) < 0)
                return warren_error_set(b->reterr, errno, "Failed to stat busybox binary '%s': %m",
                                        b->busybox);
        if (!S_ISREG(st.st_mode))
                return warren_error_set(b->reterr, EINVAL, "Busybox binary '%s' is not a regular file",
                                        b->busybox);
        if ((st.st_mode & 0111) == 0)
                return warren_error_set(b->reterr, EACCES, "Busybox binary '%s' is not executable",
                                        b->busybox);

        r = dir_fd(b, "bin", 0755, &bin);
        if (r < 0)
                return fail(b, r, "bin");
        dfd = openat(bin, "busybox", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0700);
        if (dfd < 0)
                return fail(b, -errno, "bin/busybox");
        r = copy_bytes(sfd, dfd, st.st_size);
        if (r >= 0)
                r = own_fd(b, dfd, 0755);
        if (r < 0)
                return warren_error_set(b->reterr, r,
                                        "Failed to copy busybox binary '%s' to /bin/busybox: %s", b->busybox,
                                        strerror(-r));
        *ret_fd = TAKE_FD(sfd);
        return 0;
}

/* Runs "busybox --list-full" from exec_fd in a child with an empty
 * environment and only stdin/stdout/stderr. */
static int list_applets(Builder *b, int exec_fd, char **ret_text) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF, nullfd = -EBADF;
        _cleanup_free_ char *text = NULL;
        int p[2], status, r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return warren_error_set(b->reterr, errno, "Failed to create a pipe: %m");
        rfd = p[0];
        wfd = p[1];
        nullfd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (nullfd < 0)
                return warren_error_set(b->reterr, errno, "Failed to open /dev/null: %m");

        pid_t pid = fork();
        if (pid < 0)
                return warren_error_set(b->reterr, errno, "Failed to fork to list busybox applets: %m");
        if (pid == 0) {
                /* Only async-signal-safe calls from here on. */
                static char *const argv[] = { (char *) "busybox", (char *) "--list-full", NULL };
                static char *const envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                sigset_t all;

                sigemptyset(&all);
                (void) sigprocmask(SIG_SETMASK, &all, NULL);
                if (dup2(nullfd, STDIN_FILENO) < 0 || dup2(wfd, STDOUT_FILENO) < 0 ||
                    dup2(nullfd, STDERR_FILENO) < 0)
                        _exit(127);
                /* Whatever else the caller had open must not reach the child. */
                (void) close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
                execveat(exec_fd, "", argv, envp, AT_EMPTY_PATH);
                _exit(127);
        }

        wfd = safe_close(wfd);
        r = read_full_fd(rfd, APPLET_LIST_MAX, &text, NULL);
        rfd = safe_close(rfd); /* a child still writing gets EPIPE, not a hang */

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return warren_error_set(b->reterr, errno, "Failed to wait for '%s --list-full': %m",
                                                b->busybox);
        if (r < 0)
                return warren_error_set(b->reterr, r, "Failed to read the output of '%s --list-full': %s",
                                        b->busybox, strerror(-r));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                if (WIFEXITED(status))
                        return warren_error_set(b->reterr, EPROTO, "'%s --list-full' exited with status %d",
                                                b->busybox, WEXITSTATUS(status));
                return warren_error_set(b->reterr, EPROTO, "'%s --list-full' was killed by signal %d",
                                        b->busybox, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        *ret_text = TAKE_PTR(text);
        return 0;
}

/* "usr/bin/[" is fine; anything absolute, with "." or ".." or odd bytes is not. */
static bool applet_path_is_valid(const char *p) {
        size_t len = strlen(p);

        if (len == 0 || len > APPLET_PATH_MAX || p[0] == '/' || p[len - 1] == '/')
                return false;
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c <= ' ' || (unsigned char) *c >= 0x7f || *c == '\\')
                        return false;
        for (const char *s = p;; s++) {
                size_t n = strcspn(s, "/");
                if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s += n;
                if (!*s)
                        return true;
        }
}

static int make_applet_links(Builder *b, char *text) {
        unsigned n = 0;
        char target[APPLET_PATH_MAX + 16];

        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (isempty(line) || streq(line, "bin/busybox"))
                        continue;
                if (!applet_path_is_valid(line)) {
                        log_debug("Ignoring odd busybox applet path '%.64s'", line);
                        continue;
                }
                if (++n > APPLETS_MAX)
                        return warren_error_set(b->reterr, E2BIG,
                                                "Busybox binary '%s' lists more than %u applets", b->busybox,
                                                APPLETS_MAX);

                /* Relative, so it resolves the same inside and outside the container. */
                size_t t = 0;
                if (strncmp(line, "bin/", 4) == 0 && !strchr(line + 4, '/'))
                        memcpy(target, "busybox", sizeof "busybox");
                else {
                        for (const char *c = line; *c; c++)
                                if (*c == '/') {
                                        memcpy(target + t, "../", 3);
                                        t += 3;
                                }
                        memcpy(target + t, "bin/busybox", sizeof "bin/busybox");
                }

                int r = make_symlink(b, line, target);
                if (r == -EEXIST) {
                        log_debug("Busybox applet /%s listed twice, keeping the first", line);
                        continue;
                }
                if (r < 0)
                        return fail(b, r, line);
        }

        /* Without these the container cannot boot or give a console. */
        static const char *const needed[] = { "sbin/init", "bin/sh" };
        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                struct stat st;
                if (fstatat(b->rootfd, needed[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return warren_error_set(b->reterr, ENOENT,
                                                "Busybox binary '%s' does not provide /%s", b->busybox,
                                                needed[i]);
        }
        log_debug("Linked %u busybox applets", n);
        return 0;
}

static char *make_inittab(unsigned ttys) {
        _cleanup_free_ char *getty = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&getty, &size);

        if (!f)
                return NULL;
        for (unsigned i = 1; i <= ttys; i++)
                fprintf(f, "tty%u::respawn:/sbin/getty 38400 tty%u\n", i, i);
        if (fclose(f) != 0)
                return NULL;

        if (asprintf(&text,
                     "# busybox init configuration, written by warren\n"
                     "::sysinit:/etc/init.d/rcS\n"
                     /* cttyhack makes the console the shell's controlling tty (job control, ^C). */
                     "console::respawn:/bin/cttyhack /bin/sh -l\n"
                     "%s"
                     "::ctrlaltdel:/sbin/reboot\n"
                     /* Only sync: "umount -a -r" would remount the filesystems
                      * the rootfs shares with the host read-only (a remount
                      * changes the superblock, not just this mount). */
                     "::shutdown:/bin/sync\n",
                     strempty(getty)) < 0)
                return NULL;
        return text;
}

static const char rcs_text[] =
        "#!/bin/sh\n"
        "# Boot script of a warren busybox container. The runtime has already\n"
        "# mounted /proc, /sys, /dev and the cgroups: only the rest happens here.\n"
        "[ -d /run ] || mkdir -p /run\n"
        "[ -e /var/run ] || ln -s ../run /var/run\n"
        "[ -d /var/log ] || mkdir -p /var/log\n"
        "[ -s /etc/hostname ] && hostname -F /etc/hostname\n"
        "ip link set lo up 2>/dev/null\n"
        "# Ethernet interfaces come up. Those without a static IPv4 address (set\n"
        "# from lxc.net.N.ipv4.address before init ran) ask for one by DHCP in the\n"
        "# background: the boot never waits for a server that may not answer.\n"
        "h=$(hostname)\n"
        "for ifc in $(ip -o link show 2>/dev/null |\n"
        "             sed -n 's/^[0-9]*: *\\([^:@ ]*\\).*link\\/ether .*/\\1/p'); do\n"
        "        ip link set \"$ifc\" up 2>/dev/null\n"
        "        ip -4 addr show dev \"$ifc\" 2>/dev/null | grep -q ' inet ' && continue\n"
        "        udhcpc -b -t 5 -T 1 -i \"$ifc\" -s /etc/udhcpc/default.script ${h:+-x hostname:$h} \\\n"
        "                </dev/null >>\"/var/log/udhcpc.$ifc.log\" 2>&1 &\n"
        "done\n"
        "exit 0\n";

/* busybox udhcpc's lease hook: $1 is the event, the lease is in the
 * environment (mask is the prefix length). */
static const char udhcpc_script_text[] =
        "#!/bin/sh\n"
        "# Applies a DHCP lease for busybox udhcpc, written by warren.\n"
        "# Environment: interface ip mask broadcast router dns domain.\n"
        "[ -n \"$interface\" ] || exit 1\n"
        "case \"$1\" in\n"
        "deconfig)\n"
        "        ip -4 addr flush dev \"$interface\" 2>/dev/null\n"
        "        ip link set \"$interface\" up\n"
        "        ;;\n"
        "bound|renew)\n"
        "        cidr=\"$ip/${mask:-24}\"\n"
        "        if ! ip -4 addr show dev \"$interface\" | grep -qF \" inet $cidr \"; then\n"
        "                ip -4 addr flush dev \"$interface\" 2>/dev/null\n"
        "                ip addr add \"$cidr\" ${broadcast:+broadcast \"$broadcast\"} \\\n"
        "                        dev \"$interface\" || exit 1\n"
        "        fi\n"
        "        for gw in $router; do\n"
        "                ip route replace default via \"$gw\" dev \"$interface\" && break\n"
        "        done\n"
        "        if [ -n \"$dns\" ]; then\n"
        "                {\n"
        "                        [ -n \"$domain\" ] && echo \"search $domain\"\n"
        "                        for ns in $dns; do echo \"nameserver $ns\"; done\n"
        "                } >/etc/resolv.conf.udhcpc && mv -f /etc/resolv.conf.udhcpc /etc/resolv.conf\n"
        "        fi\n"
        "        ;;\n"
        "esac\n"
        "exit 0\n";

static const char passwd_text[] = "root:x:0:0:root:/root:/bin/sh\n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

static const char group_text[] = "root:x:0:\n"
                                 "tty:x:5:\n"
                                 "nogroup:x:65534:\n";

/* Empty root password: a development container reached through the console. */
static const char shadow_text[] = "root::0:0:99999:7:::\n"
                                  "nobody:*:0:0:99999:7:::\n";

static const char profile_text[] = "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
                                   "export PS1='\\u@\\h:\\w\\$ '\n"
                                   "umask 022\n";

static int make_etc(Builder *b, const char *name, unsigned ttys) {
        _cleanup_free_ char *inittab = make_inittab(ttys), *hostname = NULL, *hosts = NULL;
        int r;

        if (!inittab || asprintf(&hostname, "%s\n", name) < 0)
                return -ENOMEM;
        if (asprintf(&hosts,
                     "127.0.0.1\tlocalhost\n"
                     "127.0.1.1\t%s\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n",
                     name) < 0)
                return -ENOMEM;

        const struct {
                const char *path;
                const char *text;
                mode_t mode;
        } files[] = {
                { "etc/inittab", inittab, 0644 },
                { "etc/init.d/rcS", rcs_text, 0755 },
                { "etc/udhcpc/default.script", udhcpc_script_text, 0755 },
                { "etc/passwd", passwd_text, 0644 },
                { "etc/group", group_text, 0644 },
                { "etc/shadow", shadow_text, 0640 },
                { "etc/hostname", hostname, 0644 },
                { "etc/hosts", hosts, 0644 },
                { "etc/profile", profile_text, 0644 },
                { "etc/fstab", "# The runtime mounts the filesystems.\n", 0644 },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                r = make_file(b, files[i].path, files[i].text, files[i].mode);
                if (r < 0)
                        return r;
        }
        return 0;
}

int template_busybox_rootfs(int rootfs_dirfd, const TemplateBusyboxOptions *o, WarrenError *reterr) {
        _cleanup_(builder_done) Builder b = {
                .rootfd = rootfs_dirfd,
                .uid = o->root_uid,
                .gid = o->root_gid,
                .busybox = o->busybox_path ? o->busybox_path : WARREN_BUSYBOX_PATH,
                .reterr = reterr,
        };
        _cleanup_free_ char *applets = NULL;
        _cleanup_close_ int exec_fd = -EBADF;
        unsigned ttys = o->tty_max > 0 ? o->tty_max : TTY_DEFAULT;
        int r;

        r = container_name_validate(o->name, reterr);
        if (r < 0)
                return r;
        if (ttys > TEMPLATE_BUSYBOX_TTY_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid tty count %u: must be at most %u", ttys,
                                        TEMPLATE_BUSYBOX_TTY_MAX);
        if (o->root_uid == (uid_t) -1 || o->root_gid == (gid_t) -1)
                return warren_error_set(reterr, EINVAL, "Invalid rootfs owner %u:%u", (unsigned) o->root_uid,
                                        (unsigned) o->root_gid);

        r = make_dirs(&b);
        if (r < 0)
                return r;
        r = copy_busybox(&b, &exec_fd);
        if (r < 0)
                return r;
        r = list_applets(&b, exec_fd, &applets);
        if (r < 0)
                return r;
        r = make_applet_links(&b, applets);
        if (r < 0)
                return r;
        r = make_etc(&b, o->name, ttys);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write /etc of the rootfs: %s", strerror(-r));
        return 0;
}

char **template_busybox_config(const TemplateBusyboxOptions *o) {
        _cleanup_strv_free_ char **l = NULL;
        char ttys[16];

        snprintf(ttys, sizeof ttys, "%u", o && o->tty_max > 0 ? o->tty_max : TTY_DEFAULT);
        const char *const items[] = {
                "lxc.tty.max",
                ttys,
                "lxc.pty.max",
                "1024",
                "lxc.mount.auto",
                "proc:mixed sys:mixed cgroup:mixed",
                /* busybox init powers off on SIGUSR2 and knows nothing of SIGPWR. */
                "lxc.signal.halt",
                "SIGUSR2",
                "lxc.signal.reboot",
                "SIGTERM",
                "lxc.init.cmd",
                "/sbin/init",
        };
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (strv_extend(&l, items[i]) < 0)
                        return NULL;
        return TAKE_PTR(l);
}
