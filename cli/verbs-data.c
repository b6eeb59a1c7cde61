/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* copy, rename, snapshot, export, file pull/push. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "output.h"
#include "verbs-data.h"
#include "verbs-image.h"

static bool arg_snapshot = false;
static bool arg_keep_mac = false;
static const char *arg_comment = NULL;
static bool arg_no_freeze = false;
static const char *arg_split = NULL;
static const char *arg_compression = NULL;
static bool arg_recursive = false; /* --recursive, or -r (arg_raw) for file */

int parse_data_option(int c, const char *arg) {
        switch (c) {
        case DATA_ARG_SNAPSHOT:
                arg_snapshot = true;
                return 0;
        case DATA_ARG_KEEP_MAC:
                arg_keep_mac = true;
                return 0;
        case DATA_ARG_COMMENT:
                arg_comment = arg;
                return 0;
        case DATA_ARG_NO_FREEZE:
                arg_no_freeze = true;
                return 0;
        case DATA_ARG_SPLIT:
                arg_split = arg;
                return 0;
        case DATA_ARG_COMPRESSION:
                if (!streq(arg, "xz") && !streq(arg, "gzip") && !streq(arg, "zstd") && !streq(arg, "none")) {
                        fprintf(stderr, "warrenctl: Invalid --compression '%s': xz, gzip, zstd or none\n",
                                arg);
                        return -EINVAL;
                }
                arg_compression = arg;
                return 0;
        case DATA_ARG_RECURSIVE:
                arg_recursive = true;
                return 0;
        }
        return -EINVAL;
}

bool data_verb_owns_o_r(const Verb *v) {
        return streq(v->name, "export") || streq(v->name, "file");
}

/* ---- calls that start a job ---- */

static int new_call(sd_bus *bus, const char *name, const char *member, sd_bus_message **ret) {
        _cleanup_free_ char *path = NULL;
        int r = container_path_local(name, &path);
        if (r < 0) {
                fprintf(stderr, "warrenctl: Invalid container name '%s'\n", name);
                return r;
        }
        r = sd_bus_message_new_method_call(bus, ret, WARREN_BUS, path, WARREN_CONTAINER_IFACE, member);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(*ret, arg_ask_password);
        return r < 0 ? log_bus_error("Failed to build request", NULL, r) : 0;
}

static int append_bool_option(sd_bus_message *m, const char *key, bool v) {
        return v ? sd_bus_message_append(m, "{sv}", key, "b", 1) : 0;
}

/* Calls m; its reply ends with the job's path (sig: the reply's signature).
 * Follows the job; *ret_first gets the reply's first string if sig is "so". */
static int call_and_follow(sd_bus *bus, sd_bus_message *m, const char *name, const char *sig,
                           const char *what, char **ret_first) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWatch *w = NULL;
        const char *first = NULL, *jpath = NULL;
        int r = job_watch_new(bus, &w);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                r = container_call_failed(bus, name, what, &error, r);
                sd_bus_error_free(&error);
        } else if (streq(sig, "o"))
                r = sd_bus_message_read(reply, "o", &jpath);
        else if (streq(sig, "oo"))
                r = sd_bus_message_read(reply, "oo", &first, &jpath);
        else
                r = sd_bus_message_read(reply, "so", &first, &jpath);
        if (r >= 0 && jpath) {
                if (ret_first && first && !(*ret_first = strdup(first)))
                        r = -ENOMEM;
                else
                        r = job_watch_wait(w, jpath, what);
        } else if (r >= 0)
                r = log_bus_error("Bad reply", NULL, -EBADMSG);
        job_watch_free(w);
        return r;
}

/* ---- copy, rename ---- */

static int verb_copy(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL;
        int r = new_call(bus, args[0], "Clone", &m);
        if (r < 0)
                return r;
        if (asprintf(&what, "copy '%s' to '%s'", args[0], args[1]) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(m, "s", args[1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_bool_option(m, "snapshot", arg_snapshot);
        if (r >= 0)
                r = append_bool_option(m, "keep_mac", arg_keep_mac);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        return call_and_follow(bus, m, args[0], "oo", what, NULL);
}

static int verb_rename(sd_bus *bus, char **args) {
        return call_container(bus, args[0], "Rename", NULL, "s", args[1]);
}

/* ---- snapshot ---- */

static int snapshot_create(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL, *snap = NULL;
        int r = new_call(bus, name, "CreateSnapshotWithOptions", &m);
        if (r < 0)
                return r;
        if (asprintf(&what, "snapshot '%s'", name) < 0)
                return -ENOMEM;
        r = sd_bus_message_append(m, "s", strempty(arg_comment));
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_no_freeze)
                r = sd_bus_message_append(m, "{sv}", "freeze", "b", 0);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        r = call_and_follow(bus, m, name, "so", what, &snap);
        if (r >= 0)
                printf("%s\n", snap);
        return r;
}

static int snapshot_list(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *snap, *comment;
        uint64_t usec;
        int r = call_container(bus, name, "ListSnapshots", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sst)");
        if (r < 0)
                return log_bus_error("Bad reply", NULL, r);
        printf("%-12s %-19s %s\n", "NAME", "CREATED", "COMMENT");
        while ((r = sd_bus_message_read(reply, "(sst)", &snap, &comment, &usec)) > 0) {
                char when[32] = "-";
                time_t t = (time_t) (usec / 1000000ULL);
                struct tm tm;
                if (usec > 0 && localtime_r(&t, &tm))
                        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
                /* A comment may span lines: its first one here. */
                printf("%-12s %-19s %.*s\n", snap, when, (int) strcspn(comment, "\n"), comment);
        }
        return r < 0 ? log_bus_error("Bad reply", NULL, r) : 0;
}

static int verb_snapshot(sd_bus *bus, char **args) {
        const char *action = args[1] ?: "create";
        size_t n = strv_length(args);
        if (streq(action, "create") && n <= 2)
                return snapshot_create(bus, args[0]);
        if ((streq(action, "list") || streq(action, "ls")) && n == 2)
                return snapshot_list(bus, args[0]);
        if (streq(action, "restore") && (n == 3 || n == 4)) {
                int r = call_container(bus, args[0], "RestoreSnapshot", NULL, "ss", args[2],
                                       n == 4 ? args[3] : "");
                if (r >= 0 && n == 4)
                        printf("Restored snapshot '%s' of '%s' as '%s'\n", args[2], args[0], args[3]);
                return r;
        }
        if (streq(action, "delete") && n == 3)
                return call_container(bus, args[0], "DeleteSnapshot", NULL, "s", args[2]);
        fprintf(stderr, "warrenctl: Usage: snapshot NAME [create [--comment TEXT] [--no-freeze] | list | "
                        "restore SNAPSHOT [NEW_NAME] | delete SNAPSHOT]\n");
        return -EINVAL;
}

/* ---- export ---- */

static const char *compression_suffix(const char *c) {
        return streq(c, "xz") ? ".xz" : streq(c, "gzip") ? ".gz" : streq(c, "zstd") ? ".zst" : "";
}

static int open_output(const char *dir, const char *name, char **ret_path) {
        char *p = NULL;
        if ((dir ? asprintf(&p, "%s/%s", dir, name) : asprintf(&p, "%s", name)) < 0)
                return -ENOMEM;
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
                int r = -errno;
                fprintf(stderr, "warrenctl: Failed to create '%s': %m\n", p);
                free(p);
                return r;
        }
        *ret_path = p;
        return fd;
}

static int verb_export(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL, *rootfs = NULL, *meta = NULL, *file = NULL, *rname = NULL,
                            *mname = NULL;
        _cleanup_close_ int rfd = -EBADF, mfd = -EBADF, ufd = -EBADF;
        const char *compression = arg_compression ?: "xz";
        int r;

        if (!!arg_split == !!arg_output) {
                fprintf(stderr, "warrenctl: export needs --split DIR (rootfs.tar.xz and meta.tar.xz, LXC's "
                                "format) or -o FILE (one tarball; '-' for stdout)\n");
                return -EINVAL;
        }
        if (asprintf(&what, "export '%s'", args[0]) < 0)
                return -ENOMEM;
        if (arg_split) {
                if (mkdir(arg_split, 0755) < 0 && errno != EEXIST) {
                        fprintf(stderr, "warrenctl: Failed to create '%s': %m\n", arg_split);
                        return -errno;
                }
                if (asprintf(&rname, "rootfs.tar%s", compression_suffix(compression)) < 0 ||
                    asprintf(&mname, "meta.tar%s", compression_suffix(compression)) < 0)
                        return -ENOMEM;
                rfd = open_output(arg_split, rname, &rootfs);
                if (rfd < 0)
                        return rfd;
                mfd = open_output(arg_split, mname, &meta);
                if (mfd < 0) {
                        unlink(rootfs);
                        return mfd;
                }
        } else if (streq(arg_output, "-")) {
                if (isatty(STDOUT_FILENO)) {
                        fprintf(stderr, "warrenctl: Refusing to write a tarball to a terminal\n");
                        return -EINVAL;
                }
                ufd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        } else {
                ufd = open_output(NULL, arg_output, &file);
                if (ufd < 0)
                        return ufd;
        }
        r = new_call(bus, args[0], "Export", &m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sh}");
        if (r >= 0 && rfd >= 0)
                r = sd_bus_message_append(m, "{sh}{sh}", "rootfs", rfd, "meta", mfd);
        if (r >= 0 && ufd >= 0)
                r = sd_bus_message_append(m, "{sh}", "unified", ufd);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 1, "compression", "s", compression);
        if (r < 0)
                r = log_bus_error("Failed to build request", NULL, r);
        else {
                /* Only the service writes them now. */
                rfd = safe_close(rfd);
                mfd = safe_close(mfd);
                ufd = safe_close(ufd);
                r = call_and_follow(bus, m, args[0], "o", what, NULL);
        }
        if (r < 0) {
                if (rootfs)
                        unlink(rootfs);
                if (meta)
                        unlink(meta);
                if (file)
                        unlink(file);
        }
        return r;
}

/* ---- file pull / push ---- */

/* "NAME:/path": the name (malloc'd) and the path (into arg); -EINVAL if arg is not one. */
static int split_remote(const char *arg, char **ret_name, const char **ret_path) {
        const char *colon = strchr(arg, ':');
        if (!colon || colon == arg || colon[1] != '/')
                return -EINVAL;
        *ret_name = strndup(arg, (size_t) (colon - arg));
        *ret_path = colon + 1;
        return *ret_name ? 0 : -ENOMEM;
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

/* In a child: the tar stream from in_fd into dir (top entry renamed to
 * rename_to if set), or one regular file's content to stdout. Only files,
 * directories and links are written; never owners, never setuid bits, and
 * nothing outside dir (libarchive's secure checks). */
_Noreturn static void pull_extract(int in_fd, const char *dir, const char *rename_to, bool to_stdout) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        _cleanup_(archive_write_freep) struct archive *w = archive_write_disk_new();
        struct archive_entry *e;
        bool any = false;
        int r;
        if (!a || !w || archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_open_fd(a, in_fd, 64 * 1024) != ARCHIVE_OK)
                _exit(EXIT_FAILURE);
        if (!to_stdout) {
                if (chdir(dir) < 0) {
                        fprintf(stderr, "warrenctl: Failed to enter '%s': %m\n", dir);
                        _exit(EXIT_FAILURE);
                }
                (void) archive_write_disk_set_options(
                        w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
        }
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                mode_t type = archive_entry_filetype(e);
                const char *path = archive_entry_pathname(e);
                if (to_stdout) {
                        if (type != AE_IFREG) {
                                fprintf(stderr,
                                        "warrenctl: '%s' is not a regular file: pull it to a directory\n",
                                        path);
                                _exit(EXIT_FAILURE);
                        }
                        char buf[64 * 1024];
                        la_ssize_t k;
                        while ((k = archive_read_data(a, buf, sizeof buf)) > 0)
                                if (fwrite(buf, 1, (size_t) k, stdout) != (size_t) k)
                                        _exit(EXIT_FAILURE);
                        if (k < 0 || fflush(stdout) != 0)
                                _exit(EXIT_FAILURE);
                        any = true;
                        continue;
                }
                if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
                        fprintf(stderr, "warrenctl: Skipping '%s': not a file, directory or symlink\n",
                                path);
                        continue;
                }
                if (rename_to) {
                        _cleanup_free_ char *p = NULL;
                        const char *rest = path + strcspn(path, "/");
                        if (asprintf(&p, "%s%s", rename_to, rest) < 0)
                                _exit(EXIT_FAILURE);
                        archive_entry_copy_pathname(e, p);
                        const char *link = archive_entry_hardlink(e);
                        if (link) {
                                _cleanup_free_ char *l = NULL;
                                if (asprintf(&l, "%s%s", rename_to, link + strcspn(link, "/")) < 0)
                                        _exit(EXIT_FAILURE);
                                archive_entry_copy_hardlink(e, l);
                        }
                }
                archive_entry_set_perm(e, archive_entry_perm(e) & 01777);
                if (archive_write_header(w, e) < ARCHIVE_WARN) {
                        fprintf(stderr, "warrenctl: Failed to write '%s': %s\n", archive_entry_pathname(e),
                                archive_error_string(w));
                        _exit(EXIT_FAILURE);
                }
                if (archive_entry_size(e) > 0) {
                        const void *buf;
                        size_t size;
                        la_int64_t off;
                        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
                                if (archive_write_data_block(w, buf, size, off) < ARCHIVE_OK) {
                                        fprintf(stderr, "warrenctl: Failed to write '%s': %s\n",
                                                archive_entry_pathname(e), archive_error_string(w));
                                        _exit(EXIT_FAILURE);
                                }
                        if (r != ARCHIVE_EOF)
                                _exit(EXIT_FAILURE);
                }
                if (archive_write_finish_entry(w) < ARCHIVE_WARN)
                        _exit(EXIT_FAILURE);
                any = true;
        }
        if (r != ARCHIVE_EOF || (!to_stdout && archive_write_close(w) < ARCHIVE_WARN))
                _exit(EXIT_FAILURE);
        _exit(any ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* A child that runs fn with the pipe end it needs; the parent gets the
 * other one. */
static pid_t fork_helper(int pipe_fds[2], bool child_reads) {
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) signal(SIGINT, SIG_IGN); /* Ctrl-C cancels the job; we see EOF */
                (void) signal(SIGPIPE, SIG_IGN);
                safe_close(pipe_fds[child_reads ? 1 : 0]);
                return 0;
        }
        pipe_fds[child_reads ? 0 : 1] = safe_close(pipe_fds[child_reads ? 0 : 1]);
        return pid;
}

static int wait_helper(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int file_pull(sd_bus *bus, char **args) {
        size_t n = strv_length(args);
        _cleanup_free_ char *name = NULL, *what = NULL, *dest_copy = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *dest = args[n - 1], *dir = dest, *rename_to = NULL;
        bool to_stdout = streq(dest, "-");
        struct stat st;
        int fds[2], r;

        if (n < 2) {
                fprintf(stderr, "warrenctl: Usage: file pull NAME:/PATH... DEST|- [-r]\n");
                return -EINVAL;
        }
        for (size_t i = 0; i + 1 < n; i++) {
                _cleanup_free_ char *cname = NULL;
                const char *p;
                if (split_remote(args[i], &cname, &p) < 0 || (name && !streq(name, cname))) {
                        fprintf(stderr, "warrenctl: '%s' is not NAME:/PATH of the same container\n",
                                args[i]);
                        return -EINVAL;
                }
                if (!name)
                        name = TAKE_PTR(cname);
                if (strv_extend(&paths, p) < 0)
                        return -ENOMEM;
        }
        if (to_stdout && n != 2) {
                fprintf(stderr, "warrenctl: Only one file can be pulled to stdout\n");
                return -EINVAL;
        }
        if (!to_stdout && (stat(dest, &st) < 0 || !S_ISDIR(st.st_mode))) {
                /* A new name for the one thing pulled, as cp does. */
                if (n != 2) {
                        fprintf(stderr, "warrenctl: '%s' is not a directory\n", dest);
                        return -EINVAL;
                }
                dest_copy = strdup(dest);
                _cleanup_free_ char *base_copy = strdup(dest);
                if (!dest_copy || !base_copy)
                        return -ENOMEM;
                dir = dirname(dest_copy);
                rename_to = strdup(basename(base_copy));
                if (!rename_to)
                        return -ENOMEM;
        }
        if (asprintf(&what, "pull from '%s'", name) < 0)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork_helper(fds, true);
        if (pid < 0)
                return pid;
        if (pid == 0)
                pull_extract(fds[0], dir, rename_to, to_stdout);
        r = new_call(bus, name, "PullFiles", &m);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, paths);
        if (r >= 0)
                r = sd_bus_message_append(m, "h", fds[1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_bool_option(m, "recursive", arg_recursive);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        safe_close(fds[1]); /* the service's copy is the writer now */
        if (r < 0)
                r = log_bus_error("Failed to build request", NULL, r);
        else
                r = call_and_follow(bus, m, name, "o", what, NULL);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) wait_helper(pid);
                free((char *) rename_to);
                return r;
        }
        r = wait_helper(pid);
        free((char *) rename_to);
        if (r < 0)
                fprintf(stderr, "warrenctl: Failed to write what was pulled from '%s'\n", name);
        return r;
}

/* In a child: a tar stream of the local paths (directories only with
 * recursive) onto out_fd, each named as names[i], owned by 0:0. */
_Noreturn static void push_create(int out_fd, char **srcs, char **names, bool recursive) {
        _cleanup_(archive_write_freep) struct archive *w = archive_write_new();
        if (!w || archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
            archive_write_open_fd(w, out_fd) != ARCHIVE_OK)
                _exit(EXIT_FAILURE);
        for (size_t i = 0; srcs[i]; i++) {
                _cleanup_(archive_read_freep) struct archive *rd = archive_read_disk_new();
                struct archive_entry *e = archive_entry_new();
                int r;
                if (!rd || !e || archive_read_disk_set_symlink_physical(rd) != ARCHIVE_OK ||
                    archive_read_disk_set_behavior(rd, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                                               ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK ||
                    archive_read_disk_open(rd, srcs[i]) != ARCHIVE_OK) {
                        fprintf(stderr, "warrenctl: Failed to read '%s': %s\n", srcs[i],
                                rd ? archive_error_string(rd) : "out of memory");
                        _exit(EXIT_FAILURE);
                }
                size_t k = strlen(srcs[i]);
                while ((r = archive_read_next_header2(rd, e)) == ARCHIVE_OK) {
                        _cleanup_free_ char *p = NULL;
                        const char *path = archive_entry_pathname(e);
                        if (archive_entry_filetype(e) == AE_IFDIR) {
                                if (!recursive) {
                                        fprintf(stderr, "warrenctl: '%s' is a directory: push it with -r\n",
                                                srcs[i]);
                                        _exit(EXIT_FAILURE);
                                }
                                (void) archive_read_disk_descend(rd);
                        }
                        if (asprintf(&p, "%s%s", names[i], strncmp(path, srcs[i], k) == 0 ? path + k : "") <
                            0)
                                _exit(EXIT_FAILURE);
                        archive_entry_copy_pathname(e, p);
                        archive_entry_set_uid(e, 0);
                        archive_entry_set_gid(e, 0);
                        archive_entry_copy_uname(e, NULL);
                        archive_entry_copy_gname(e, NULL);
                        if (archive_write_header(w, e) < ARCHIVE_WARN) {
                                fprintf(stderr, "warrenctl: %s\n", archive_error_string(w));
                                _exit(EXIT_FAILURE);
                        }
                        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
                                char buf[64 * 1024];
                                la_ssize_t n;
                                while ((n = archive_read_data(rd, buf, sizeof buf)) > 0)
                                        if (archive_write_data(w, buf, (size_t) n) < 0)
                                                _exit(EXIT_FAILURE);
                                if (n < 0)
                                        _exit(EXIT_FAILURE);
                        }
                        archive_entry_clear(e);
                }
                if (r != ARCHIVE_EOF) {
                        fprintf(stderr, "warrenctl: Failed to read '%s': %s\n", srcs[i],
                                archive_error_string(rd));
                        _exit(EXIT_FAILURE);
                }
                archive_entry_free(e);
        }
        _exit(archive_write_close(w) == ARCHIVE_OK ? EXIT_SUCCESS : EXIT_FAILURE);
}

/* stdin as a file: its size must be known for the tar header. */
static int stdin_to_file(char **ret_path) {
        char *p = strdup("/tmp/warrenctl-push.XXXXXX");
        char buf[64 * 1024];
        ssize_t k;
        if (!p)
                return -ENOMEM;
        int fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0) {
                free(p);
                return -errno;
        }
        while ((k = read(STDIN_FILENO, buf, sizeof buf)) > 0)
                if (write(fd, buf, (size_t) k) != k)
                        break;
        (void) fchmod(fd, 0644);
        safe_close(fd);
        if (k != 0) {
                unlink(p);
                free(p);
                return -EIO;
        }
        *ret_path = p;
        return 0;
}

static int file_push(sd_bus *bus, char **args) {
        size_t n = strv_length(args);
        _cleanup_free_ char *name = NULL, *what = NULL, *dest_dir = NULL, *tmp = NULL;
        _cleanup_strv_free_ char **srcs = NULL, **names = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const char *target;
        int fds[2], r;

        if (n < 2 || split_remote(args[n - 1], &name, &target) < 0) {
                fprintf(stderr, "warrenctl: Usage: file push SRC...|- NAME:/PATH [-r]\n");
                return -EINVAL;
        }
        bool into_dir = target[strlen(target) - 1] == '/' || n > 2;
        if (into_dir)
                dest_dir = strdup(target);
        else {
                _cleanup_free_ char *c = strdup(target);
                if (!c)
                        return -ENOMEM;
                dest_dir = strdup(dirname(c));
        }
        if (!dest_dir)
                return -ENOMEM;
        for (size_t i = 0; i + 1 < n; i++) {
                _cleanup_free_ char *c = NULL, *base = NULL;
                const char *src = args[i];
                if (streq(src, "-")) {
                        if (n != 2 || into_dir) {
                                fprintf(stderr, "warrenctl: stdin is pushed as one file: NAME:/DIR/FILE\n");
                                return -EINVAL;
                        }
                        r = stdin_to_file(&tmp);
                        if (r < 0)
                                return r;
                        src = tmp;
                }
                if (strv_extend(&srcs, src) < 0)
                        return -ENOMEM;
                if (into_dir) {
                        c = strdup(src);
                        if (!c)
                                return -ENOMEM;
                        /* "dir/" pushes "dir", like cp */
                        size_t k = strlen(c);
                        while (k > 1 && c[k - 1] == '/')
                                c[--k] = 0;
                        base = strdup(basename(c));
                } else {
                        c = strdup(target);
                        base = c ? strdup(basename(c)) : NULL;
                }
                if (!base || strv_extend(&names, base) < 0)
                        return -ENOMEM;
        }
        if (asprintf(&what, "push to '%s'", name) < 0)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork_helper(fds, false);
        if (pid < 0)
                return pid;
        if (pid == 0)
                push_create(fds[1], srcs, names, arg_recursive);
        r = new_call(bus, name, "PushFiles", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "hsa{sv}", fds[0], dest_dir, 0);
        safe_close(fds[0]);
        if (r < 0)
                r = log_bus_error("Failed to build request", NULL, r);
        else
                r = call_and_follow(bus, m, name, "o", what, NULL);
        int k = wait_helper(pid);
        if (tmp)
                unlink(tmp);
        if (r >= 0 && k < 0)
                fprintf(stderr, "warrenctl: Failed to read what was to be pushed\n");
        return r < 0 ? r : k;
}

static int verb_file(sd_bus *bus, char **args) {
        arg_recursive = arg_recursive || arg_raw; /* -r, as incus file takes it */
        if (streq(args[0], "pull"))
                return file_pull(bus, args + 1);
        if (streq(args[0], "push"))
                return file_push(bus, args + 1);
        fprintf(stderr,
                "warrenctl: Usage: file pull NAME:/PATH... DEST|- | file push SRC...|- NAME:/PATH\n");
        return -EINVAL;
}

const Verb verbs_data[] = {
        {
                .name = "copy",
                .min_args = 2,
                .max_args = 2,
                .run = verb_copy,
                .usage = "SRC DST",
                .summary = "Copy a stopped container",
                .description = "Like lxc-copy -N: the config and rootfs under a new name, owner and idmap\n"
                               "kept, new MAC addresses, /etc/hostname and /etc/hosts renamed.",
                .options = "--snapshot\tCopy-on-write where the filesystem can (btrfs, XFS)\n"
                           "--keep-mac\tKeep the MAC addresses\n",
                .example = "warrenctl copy web web-test --snapshot\n",
        },
        { .name = "clone", .alias_of = "copy" }, /* machinectl's word */
        {
                .name = "rename",
                .min_args = 2,
                .max_args = 2,
                .run = verb_rename,
                .usage = "NAME NEW_NAME",
                .summary = "Rename a stopped container",
                .example = "warrenctl rename web web-old\n",
        },
        {
                .name = "snapshot",
                .min_args = 1,
                .max_args = 4,
                .run = verb_snapshot,
                .usage = "NAME [create] [--comment TEXT] [--no-freeze]\n"
                         "NAME list\n"
                         "NAME restore SNAPSHOT [NEW_NAME]\n"
                         "NAME delete SNAPSHOT",
                .summary = "Snapshot a container, list, restore, delete its snapshots",
                .description = "Like lxc-snapshot: snap0, snap1, ... kept with the container. A running\n"
                               "container is frozen while it is copied. restore without NEW_NAME\n"
                               "replaces the (stopped) container's rootfs and config.",
                .options = "--comment=TEXT\tSay what the snapshot is\n"
                           "--no-freeze\tCopy a running container as it runs\n",
                .example = "warrenctl snapshot web --comment 'before the upgrade'\n"
                           "warrenctl snapshot web restore snap0\n",
        },
        {
                .name = "export",
                .min_args = 1,
                .max_args = 1,
                .run = verb_export,
                .usage = "NAME --split DIR | -o FILE|-",
                .summary = "Write a container as an image",
                .description = "--split writes LXC's rootfs.tar.* and meta.tar.* (what lxc-create -t local\n"
                               "and warrenctl create -t local read), -o one tarball with metadata.yaml,\n"
                               "templates/ and rootfs/ (what incus image import reads).",
                .options = "--split=DIR\tLXC's two tarballs in DIR\n"
                           "-o FILE|-\tOne unified tarball\n"
                           "--compression=C\txz (default), gzip, zstd, none\n",
                .example = "warrenctl export web --split ./web-image\n",
        },
        {
                .name = "file",
                .min_args = 2,
                .max_args = -1,
                .run = verb_file,
                .usage = "pull NAME:/PATH... DEST|- [-r]\n"
                         "push SRC...|- NAME:/PATH [-r]",
                .summary = "Copy files out of or into a container",
                .description = "By tar stream through the service, never by host path; a running\n"
                               "container's files as it sees them. '-' is stdin or stdout.",
                .options = "-r --recursive\tDirectories too\n",
                .example = "warrenctl file pull web:/etc/hostname .\n"
                           "warrenctl file push ./site web:/var/www/ -r\n",
        },
        {},
};
