/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "clone.h"
#include "config.h"
#include "copy.h"
#include "data-worker.h"
#include "fileio.h"
#include "log.h"
#include "monitor-client.h"
#include "store.h"

#define HOSTNAME_FILE_MAX (1024U * 1024U)
#define MONITOR_TIMEOUT_SEC 60

static bool path_boundary_before(const char *text, const char *p) {
        return p == text || strchr(" \t:=,", p[-1]);
}

static bool path_boundary_after(char c) {
        return c == 0 || strchr("/: \t,", c);
}

char *clone_replace_paths(const char *text, const char *old_dir, const char *new_dir) {
        size_t k = strlen(old_dir), size = 0;
        char *out = NULL;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        for (const char *p = text; *p;) {
                if (k > 0 && strncmp(p, old_dir, k) == 0 && path_boundary_before(text, p) &&
                    path_boundary_after(p[k])) {
                        fputs(new_dir, f);
                        p += k;
                } else
                        fputc(*p++, f);
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The same vendor part (first three octets), three new random ones. */
static int new_hwaddr(const char *old, char **ret) {
        uint8_t rnd[3];
        char prefix[9] = "00:16:3e";
        if (strlen(old) >= 8 && is_hex(old[0]) && is_hex(old[1]) && old[2] == ':' && is_hex(old[3]) &&
            is_hex(old[4]) && old[5] == ':' && is_hex(old[6]) && is_hex(old[7]))
                memcpy(prefix, old, 8);
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
                return -EIO;
        return asprintf(ret, "%s:%02x:%02x:%02x", prefix, rnd[0], rnd[1], rnd[2]) < 0 ? -ENOMEM : 0;
}

static bool is_hwaddr_key(const char *k) {
        if (strncmp(k, "lxc.net.", 8) != 0)
                return false;
        const char *p = k + 8 + strspn(k + 8, "0123456789");
        return p > k + 8 && streq(p, ".hwaddr");
}

/* "dir:/x", "/x": a directory; "overlay:...", "btrfs:..." and the like are not. */
static bool rootfs_is_dir(const char *v) {
        if (strncmp(v, "dir:", 4) == 0 || v[0] == '/')
                return true;
        return false;
}

int clone_config(const LxcConfig *c, const CloneNames *n, bool new_macs, LxcConfig **ret,
                 WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *out = lxc_config_new();
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                _cleanup_free_ char *v = NULL;
                const char *k, *old;
                lxc_config_item(c, i, &k, &old);
                if (streq(k, "lxc.rootfs.path") && !rootfs_is_dir(old))
                        return warren_error_set(
                                reterr, EOPNOTSUPP,
                                "Container '%s' has lxc.rootfs.path '%s': only directory rootfs "
                                "can be copied or renamed",
                                n->old_name, old);
                if (streq(k, "lxc.uts.name") && streq(old, n->old_name))
                        v = strdup(n->new_name);
                else if (new_macs && is_hwaddr_key(k)) {
                        int r = new_hwaddr(old, &v);
                        if (r < 0)
                                return r;
                } else
                        v = clone_replace_paths(old, n->old_dir, n->new_dir);
                if (!v)
                        return -ENOMEM;
                int r = lxc_config_apply(out, k, v, reterr);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- hostname files ---- */

static bool word_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-';
}

char *text_replace_word(const char *text, size_t size, const char *old, const char *new) {
        size_t k = strlen(old), out_size = 0;
        char *out = NULL;
        FILE *f = open_memstream(&out, &out_size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < size;) {
                if (k > 0 && size - i >= k && memcmp(text + i, old, k) == 0 &&
                    (i == 0 || !word_char(text[i - 1])) && (i + k == size || !word_char(text[i + k]))) {
                        fputs(new, f);
                        i += k;
                } else
                        fputc(text[i++], f);
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* The regular file an O_PATH fd names, opened for writing (never a device). */
static int reopen_regular(int pfd) {
        char p[64];
        struct stat a, b;
        if (fstat(pfd, &a) < 0)
                return -errno;
        if (!S_ISREG(a.st_mode))
                return -EISDIR;
        snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
        _cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &b) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -ESTALE;
        return TAKE_FD(fd);
}

int clone_rootfs_rename(int rootfs_fd, const char *old_name, const char *new_name, WarrenError *reterr) {
        static const char *const files[] = { "etc/hostname", "etc/hosts" };
        int changed = 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL, *out = NULL;
                _cleanup_close_ int pfd = open_in_root(rootfs_fd, files[i], O_PATH), fd = -EBADF;
                size_t size = 0;
                int r;
                if (pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP || pfd == -EXDEV)
                        continue;
                if (pfd < 0)
                        return warren_error_set(reterr, pfd, "Failed to open /%s: %s", files[i],
                                                strerror(-pfd));
                fd = reopen_regular(pfd);
                if (fd == -EISDIR)
                        continue; /* not a regular file: left alone */
                if (fd < 0)
                        return warren_error_set(reterr, fd, "Failed to open /%s: %s", files[i],
                                                strerror(-fd));
                r = read_full_fd(fd, HOSTNAME_FILE_MAX, &text, &size);
                if (r == -EFBIG)
                        continue;
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to read /%s: %s", files[i], strerror(-r));
                out = text_replace_word(text, size, old_name, new_name);
                if (!out)
                        return -ENOMEM;
                if (strlen(out) == size && memcmp(out, text, size) == 0)
                        continue;
                if (lseek(fd, 0, SEEK_SET) < 0 || (r = write_all(fd, out, strlen(out))) < 0 ||
                    ftruncate(fd, (off_t) strlen(out)) < 0)
                        return warren_error_set(reterr, r < 0 ? r : -errno, "Failed to rewrite /%s",
                                                files[i]);
                changed++;
        }
        return changed;
}

int container_rename(Store *s, const char *name, const char *new_name, const char *config_text,
                     WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int r = store_rename(s, name, new_name, reterr);
        if (r < 0)
                return r;
        r = store_write_config(s, new_name, config_text, reterr);
        if (r < 0) {
                if (store_rename(s, new_name, name, &e) < 0)
                        log_debug("Failed to rename '%s' back to '%s': %s", new_name, name,
                                  warren_error_message(&e));
                return r;
        }
        _cleanup_free_ char *rootfs = store_container_path(s, new_name, "rootfs");
        _cleanup_close_ int fd = -EBADF;
        if (!rootfs)
                return 0;
        fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                log_debug("Renamed '%s' to '%s', but not in its hostname files: %m", name, new_name);
        else if (clone_rootfs_rename(fd, name, new_name, &e) < 0)
                log_debug("Renamed '%s' to '%s', but not in its hostname files: %s", name, new_name,
                          warren_error_message(&e));
        return 0;
}

/* ---- the worker ---- */

static int on_copy_progress(uint64_t done, uint64_t total, void *userdata) {
        data_report_progress(userdata, "copy", done, total);
        return 0;
}

int copy_freeze(const char *runtime_dir, const char *name, int *ret_fd, DataReport *rep,
                WarrenError *reterr) {
        MonitorMessage m = { .fd = -EBADF };
        _cleanup_close_ int fd = -EBADF;
        int r = monitor_connect(runtime_dir, name, false, &fd, NULL);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to reach the monitor of '%s': %s", name,
                                        strerror(-r));
        struct timeval tv = { .tv_sec = MONITOR_TIMEOUT_SEC };
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        r = monitor_get_state(fd, &m, reterr);
        monitor_message_done(&m);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return r;
        if (m.state == MONITOR_STATE_FROZEN || m.state == MONITOR_STATE_STOPPED)
                return 0;
        r = monitor_freeze(fd, reterr);
        if (r < 0) {
                warren_error_prefix(reterr, "Failed to freeze '%s'", name);
                return r;
        }
        data_report_note(rep, COPY_WORK_NOTE_FROZEN);
        *ret_fd = TAKE_FD(fd);
        return 1;
}

int copy_thaw(int monitor_fd, const char *name, DataReport *rep, WarrenError *reterr) {
        int r = monitor_unfreeze(monitor_fd, reterr);
        if (r < 0) {
                warren_error_prefix(reterr, "Failed to thaw '%s'", name);
                return r;
        }
        data_report_note(rep, COPY_WORK_NOTE_THAWED);
        return 0;
}

int copy_work_run(DataReport *rep, void *userdata, WarrenError *reterr) {
        CopyWork *w = userdata;
        _cleanup_close_ int mon = -EBADF;
        _cleanup_error_ WarrenError thaw_err = WARREN_ERROR_NULL;
        uint64_t bytes = 0, entries = 0;
        CopyStats stats = {};
        int r;

        if (w->freeze_container) {
                r = copy_freeze(w->runtime_dir, w->freeze_container, &mon, rep, reterr);
                if (r < 0)
                        return r;
        }
        r = data_worker_drop_privileges(true, reterr);
        if (r >= 0)
                r = copy_tree_measure(w->fds[0], ".", &bytes, &entries, reterr);
        if (r >= 0) {
                const CopyOptions o = {
                        .cow = w->cow,
                        .bytes_total = bytes,
                        .progress = on_copy_progress,
                        .userdata = rep,
                };
                data_report_progress(rep, "copy", 0, bytes);
                r = copy_tree(w->fds[0], ".", w->fds[1], w->dst_name, &o, &stats, reterr);
        }
        if (mon >= 0) {
                int k = copy_thaw(mon, w->freeze_container, rep, &thaw_err);
                if (k < 0 && r >= 0)
                        r = warren_error_set(reterr, k, "%s", warren_error_message(&thaw_err));
        }
        if (r < 0)
                return r;
        if (w->rename_from && w->rename_to) {
                _cleanup_close_ int rootfd =
                        open_beneath(w->fds[1], w->dst_name, O_RDONLY | O_DIRECTORY, false);
                if (rootfd < 0)
                        return warren_error_set(reterr, rootfd, "Failed to open the copy: %s",
                                                strerror(-rootfd));
                r = clone_rootfs_rename(rootfd, w->rename_from, w->rename_to, reterr);
                if (r < 0)
                        return r;
        }
        data_report_note(rep, "Copied with %s: %llu entries, %.1f MB%s", copy_how_to_string(stats.how),
                         (unsigned long long) entries, (double) stats.bytes / 1e6,
                         mon >= 0 ? " (taken frozen)" : "");
        return 0;
}
