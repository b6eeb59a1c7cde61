/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "container.h"
#include "fileio.h"
#include "store.h"
#include "strv.h"
#include "tap.h"

static char base[] = "/tmp/test-store.XXXXXX";
static char state[256], outside[256];
static int build_calls;

static bool exists_in(const char *dir, const char *name) {
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        return lstat(p, &st) >= 0;
}

/* All entries of the containers dir, dot files included, sorted, joined by ' '. */
static char *list_raw(const Store *s) {
        _cleanup_strv_free_ char **l = NULL;
        int fd = openat(store_dirfd(s), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        strv_extend(&l, de->d_name);
        closedir(d);
        size_t n = strv_length(l);
        for (size_t i = 0; i + 1 < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (strcmp(l[i], l[j]) > 0) {
                                char *t = l[i];
                                l[i] = l[j];
                                l[j] = t;
                        }
        return l ? strv_join(l, " ") : strdup("");
}

static char *read_file(const char *dir, const char *name) {
        char p[1024];
        char *t = NULL;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (read_full_file(p, 1 << 20, &t, NULL) < 0)
                return NULL;
        return t;
}

static int count_fds(void) {
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        while (d && readdir(d))
                n++;
        if (d)
                closedir(d);
        return n;
}

static void write_at(int dirfd, const char *name, const char *text) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                write_all(fd, text, strlen(text));
                close(fd);
        }
}

static int build_ok(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        const char *expected = userdata;
        build_calls++;
        if (expected && !streq(final_path, expected))
                return warren_error_set(reterr, EINVAL, "final path '%s' != '%s'", final_path, expected);
        if (mkdirat(dfd, "rootfs", 0755) < 0)
                return -errno;
        write_at(dfd, "config", "lxc.uts.name = x\n");
        return 0;
}

static int build_fail_midway(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        build_calls++;
        mkdirat(dfd, "rootfs", 0755);
        mkdirat(dfd, "rootfs/etc", 0755);
        write_at(dfd, "rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        if (symlinkat(outside, dfd, "rootfs/etc/evil") < 0)
                return -errno;
        return warren_error_set(reterr, EIO, "Disk on fire while building '%s'", final_path);
}

static int build_fail_silent(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        build_calls++;
        mkdirat(dfd, "rootfs", 0755);
        return -ENOSPC;
}

static int build_no_config(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        build_calls++;
        mkdirat(dfd, "rootfs", 0755);
        return 0;
}

/* Someone else creates the same name while we build. */
static int build_race(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        Store *s = userdata;
        mkdirat(store_dirfd(s), "racy", 0700);
        return build_ok(dfd, final_path, NULL, reterr);
}

static int build_with_cleanup(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        Store *s = userdata;
        int removed = store_cleanup_stale(s);
        int r = build_ok(dfd, final_path, NULL, reterr);
        build_calls = removed;
        return r;
}

static void test_open(void) {
        WarrenError e = WARREN_ERROR_NULL;
        Store *s = NULL;
        char p[512];

        is(store_open("relative/dir", &s, &e), -EINVAL, "relative state dir rejected");
        is_str(e.message, "Invalid state directory 'relative/dir': must be an absolute path",
               "relative dir message");
        warren_error_clear(&e);
        is(store_open("", &s, &e), -EINVAL, "empty state dir rejected");
        warren_error_clear(&e);

        snprintf(p, sizeof p, "%s/a/b/c///", base);
        is(store_open(p, &s, &e), 0, "store_open creates nested dirs");
        snprintf(p, sizeof p, "%s/a/b/c/containers", base);
        is_str(s ? store_path(s) : NULL, p, "store path without doubled slashes");
        struct stat st;
        ok(stat(p, &st) >= 0 && (st.st_mode & 07777) == 0755, "containers dir is 0755");
        s = store_free(s);
        ok(s == NULL, "store_free returns NULL");
        store_free(NULL);

        /* A symlink in place of the containers dir is refused. */
        snprintf(p, sizeof p, "%s/sym", base);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/sym/containers", base);
        symlink(outside, p);
        snprintf(p, sizeof p, "%s/sym", base);
        is(store_open(p, &s, &e), -ENOTDIR, "containers symlink refused");
        like(e.message, "Failed to open container store '", "symlink message");
        like(e.message, "/sym/containers': ", "symlink message names the path");
        warren_error_clear(&e);
}

static void test_create_list(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *expected = NULL, *raw = NULL, *owner = NULL, *dir = NULL;
        char **names = NULL;
        struct stat st;

        expected = store_container_path(s, "web", NULL);
        is(store_create(s, "web", 1000, build_ok, expected, &e), 0, "create web");
        is_str(e.message, NULL, "no error message on success");
        is(store_exists(s, "web"), 1, "web exists");
        is(store_exists(s, "nope"), 0, "nope does not exist");

        dir = store_container_path(s, "web", NULL);
        ok(stat(dir, &st) >= 0 && (st.st_mode & 07777) == 0700, "container dir is 0700 (%o)",
           st.st_mode & 07777);
        owner = read_file(dir, "owner");
        is_str(owner, "1000\n", "owner file holds the uid");
        uid_t uid = 0;
        is(store_get_owner(s, "web", &uid), 0, "store_get_owner");
        is(uid, 1000, "owner is 1000");

        raw = list_raw(s);
        is_str(raw, "web", "nothing but web in the store");

        _cleanup_free_ char *cp = store_container_path(s, "web", "config");
        char p[512];
        snprintf(p, sizeof p, "%s/web/config", store_path(s));
        is_str(cp, p, "store_container_path config");
        errno = 0;
        ok(store_container_path(s, "../web", "config") == NULL && errno == EINVAL,
           "container path of bad name is NULL");

        is(store_create(s, "web", 1000, build_ok, NULL, &e), -EEXIST, "second create is EEXIST");
        is_str(e.message, "Container 'web' already exists", "EEXIST message");
        warren_error_clear(&e);

        static const char *const more[] = { "b", "a", "C", "10", "9" };
        for (size_t i = 0; i < ELEMENTSOF(more); i++)
                is(store_create(s, more[i], 0, build_ok, NULL, NULL), 0, "create %s", more[i]);
        /* Not containers: a file with a valid name, a symlink, a temporary. */
        write_at(store_dirfd(s), "strayfile", "x");
        symlinkat(outside, store_dirfd(s), "link");
        mkdirat(store_dirfd(s), ".#new.zzz.ABCDEF", 0700);
        is(store_exists(s, "strayfile"), 0, "a stray file is not a container");
        is(store_exists(s, "link"), 0, "a symlink is not a container");

        int n = store_list(s, &names);
        is(n, 6, "store_list counts 6");
        _cleanup_free_ char *joined = strv_join(names, " ");
        is_str(joined, "10 9 C a b web", "store_list is sorted and skips non-containers");
        names = strv_free(names);
        unlinkat(store_dirfd(s), "strayfile", 0);
        unlinkat(store_dirfd(s), "link", 0);
        unlinkat(store_dirfd(s), ".#new.zzz.ABCDEF", AT_REMOVEDIR);

        for (size_t i = 0; i < ELEMENTSOF(more); i++)
                is(store_destroy(s, more[i], NULL), 0, "destroy %s", more[i]);
}

static void test_owner_parsing(Store *s) {
        _cleanup_free_ char *dir = store_container_path(s, "web", NULL);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uid_t uid = 42;
        static const char *const bad[] = { "12abc\n",       "",      "\n",   "-1\n", "4294967295\n",
                                           "99999999999\n", "007\n", " 1\n", "1\n\n" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_at(dfd, "owner", bad[i]);
                is(store_get_owner(s, "web", &uid), -EBADMSG, "corrupt owner #%zu is EBADMSG", i);
        }
        is(uid, 42, "uid untouched on failure");
        write_at(dfd, "owner", "4294967294");
        is(store_get_owner(s, "web", &uid), 0, "largest uid without newline");
        is(uid, 4294967294u, "largest uid parsed");
        write_at(dfd, "owner", "1000\n");
        close(dfd);
        is(store_get_owner(s, "missing", &uid), -ENOENT, "owner of a missing container is ENOENT");
}

/* A damaged container says what is wrong with which file (store_read_owner,
 * container_load_config, container_check), and counts for nobody's quota. */
static void test_damaged(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *dir = NULL, *problem = NULL, *want = NULL;
        LxcConfig *c = NULL;
        uid_t uid;
        (void) c;
        is(store_create(s, "dmg", 1000, build_ok, NULL, NULL), 0, "create dmg");
        dir = store_container_path(s, "dmg", NULL);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(container_check(s, "dmg", &problem) == 0 && !problem, "a sound container has no problem");

        write_at(dfd, "owner", "garbage\n");
        is(store_read_owner(s, "dmg", &uid, &e), -EBADMSG, "garbage owner: EBADMSG");
        (void) !asprintf(&want,
                         "Container 'dmg' is damaged: its owner file %s/owner does not hold a uid (decimal, "
                         "0..4294967294)",
                         dir);
        is_str(e.message, want, "...naming the file");
        warren_error_clear(&e);
        unlinkat(dfd, "owner", 0);
        is(store_read_owner(s, "dmg", &uid, &e), -EBADMSG, "missing owner: EBADMSG, not ENOENT");
        like(e.message, "/dmg/owner is missing", "...saying so");
        warren_error_clear(&e);
        is(store_read_owner(s, "nosuch", &uid, &e), -ENOENT, "a missing container is ENOENT");
        warren_error_clear(&e);
        ok(container_check(s, "dmg", &problem) == 0 && problem && strstr(problem, "/dmg/owner is missing"),
           "container_check: the owner (%s)", strna(problem));
        free(problem);
        problem = NULL;
        write_at(dfd, "owner", "1000\n");

        unlinkat(dfd, "config", 0);
        is(container_load_config(s, "dmg", LXC_INCLUDE_EXPAND, &c, &e), -EBADMSG, "missing config: EBADMSG");
        like(e.message, "/dmg/config is missing", "...naming it");
        warren_error_clear(&e);
        mkdirat(dfd, "config", 0755);
        is(container_load_config(s, "dmg", LXC_INCLUDE_EXPAND, &c, &e), -EBADMSG, "a directory as config");
        like(e.message, "/dmg/config is not a regular file", "...naming it");
        warren_error_clear(&e);
        unlinkat(dfd, "config", AT_REMOVEDIR);
        write_at(dfd, "config", "lxc.nope = 1\n");
        ok(container_check(s, "dmg", &problem) == 0 && problem && strstr(problem, "lxc.nope"),
           "an invalid config: the parser's message (%s)", strna(problem));
        free(problem);
        problem = NULL;
        write_at(dfd, "config", "lxc.uts.name = x\n");
        unlinkat(dfd, "rootfs", AT_REMOVEDIR);
        ok(container_check(s, "dmg", &problem) == 0 && problem && strstr(problem, "/dmg/rootfs is missing"),
           "a missing rootfs (%s)", strna(problem));
        free(problem);
        problem = NULL;
        mkdirat(dfd, "rootfs", 0755);
        close(dfd);

        uint64_t n = 99;
        ok(store_count_owned(s, 1000, false, &n) == 0 && n == 2, "uid 1000 owns web and dmg (%llu)",
           (unsigned long long) n);
        StoreCreate *sc = NULL;
        is(store_create_begin(s, "inflight", 1000, &sc, NULL), 0, "a create in progress");
        ok(store_count_owned(s, 1000, true, &n) == 0 && n == 3, "counted while it is built (%llu)",
           (unsigned long long) n);
        ok(store_count_owned(s, 1000, false, &n) == 0 && n == 2, "unless not asked for");
        ok(store_count_owned(s, 1001, true, &n) == 0 && n == 0, "not someone else's");
        store_create_abort(sc);
        mkdirat(store_dirfd(s), ".#new.stale.ABCDEF", 0700);
        write_at(store_dirfd(s), ".#new.stale.ABCDEF/owner", "1000\n");
        ok(store_count_owned(s, 1000, true, &n) == 0 && n == 2, "a stale one (unlocked) is not");
        rm_rf_at(store_dirfd(s), ".#new.stale.ABCDEF");
        is(store_destroy(s, "dmg", NULL), 0, "destroy dmg");
}

static void test_config(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *text = NULL, *dir = store_container_path(s, "web", NULL);
        _cleanup_free_ char *cfg = store_container_path(s, "web", "config");
        struct stat st;

        is(store_read_config(s, "web", &text), 0, "read config");
        is_str(text, "lxc.uts.name = x\n", "config content from build");
        free(text);
        text = NULL;

        is(store_write_config(s, "web", "lxc.uts.name = web\nlxc.tty.max = 2\n", &e), 0, "write config");
        is(store_read_config(s, "web", &text), 0, "read config again");
        is_str(text, "lxc.uts.name = web\nlxc.tty.max = 2\n", "config replaced");
        ok(stat(cfg, &st) >= 0 && (st.st_mode & 07777) == 0644, "config is 0644");

        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int others = 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") && !streq(de->d_name, "config") &&
                    !streq(de->d_name, "rootfs") && !streq(de->d_name, "owner"))
                        others++;
        closedir(d);
        is(others, 0, "no temporary left beside config");

        is(store_write_config(s, "missing", "x", &e), -ENOENT, "write config of missing container");
        is_str(e.message, "Container 'missing' does not exist", "missing container message");
        warren_error_clear(&e);
        char *t = NULL;
        is(store_read_config(s, "missing", &t), -ENOENT, "read config of missing container");
        ok(t == NULL, "nothing returned");

        /* A config that is a symlink is not followed. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char target[512];
        snprintf(target, sizeof target, "%s/a", outside);
        renameat(dfd, "config", dfd, "config.real");
        symlinkat(target, dfd, "config");
        is(store_read_config(s, "web", &t), -ELOOP, "symlinked config is not read");
        unlinkat(dfd, "config", 0);
        renameat(dfd, "config.real", dfd, "config");
        close(dfd);
}

static void test_failures_leave_nothing(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *raw0 = list_raw(s), *raw = NULL;

        is(store_create(s, "broken", 0, build_fail_midway, NULL, &e), -EIO,
           "failing build fails the create");
        like(e.message, "Disk on fire while building '", "build's own message is kept");
        like(e.message, "/containers/broken'", "build got the final path");
        warren_error_clear(&e);
        raw = list_raw(s);
        is_str(raw, raw0, "failed build left nothing behind");
        ok(exists_in(outside, "a"), "outside untouched by the cleanup");
        free(raw);

        is(store_create(s, "broken", 0, build_fail_silent, NULL, &e), -ENOSPC, "silent failing build");
        is_str(e.message, "Failed to build container 'broken': No space left on device",
               "generic build message");
        warren_error_clear(&e);
        raw = list_raw(s);
        is_str(raw, raw0, "silent failure left nothing behind");
        free(raw);

        is(store_create(s, "broken", 0, build_no_config, NULL, &e), -EPROTO, "build without config");
        is_str(e.message, "Building container 'broken' did not create a config file",
               "missing config message");
        warren_error_clear(&e);
        raw = list_raw(s);
        is_str(raw, raw0, "incomplete build left nothing behind");
        free(raw);

        is(store_create(s, "racy", 0, build_race, s, &e), -EEXIST, "name appearing meanwhile is EEXIST");
        is_str(e.message, "Container 'racy' already exists", "race message");
        warren_error_clear(&e);
        raw = list_raw(s);
        is_str(raw, "racy web", "only the other creator's directory is there");
        unlinkat(store_dirfd(s), "racy", AT_REMOVEDIR);

        is(store_create(s, "x", (uid_t) -1, build_ok, NULL, &e), -EINVAL, "owner -1 is refused");
        is_str(e.message, "Invalid owner of container 'x': uid 4294967295", "owner message");
        warren_error_clear(&e);

        /* A cleanup running during a create must not remove it. */
        build_calls = -1;
        is(store_create(s, "during", 0, build_with_cleanup, s, &e), 0, "create with a concurrent cleanup");
        is(build_calls, 0, "cleanup skipped the locked temporary");
        is(store_exists(s, "during"), 1, "create completed");
        is(store_destroy(s, "during", NULL), 0, "destroy during");
}

/* Fills a create's temporary directory by path, as a forked job does. */
static int fill_by_path(const char *dir, bool with_config) {
        char p[1024];
        snprintf(p, sizeof p, "%s/rootfs", dir);
        if (mkdir(p, 0755) < 0)
                return -errno;
        if (!with_config)
                return 0;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        write_at(fd, "config", "lxc.uts.name = step\n");
        close(fd);
        return 0;
}

static void test_create_steps(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        StoreCreate *c = NULL, *c2 = NULL;
        _cleanup_free_ char *raw0 = list_raw(s), *raw = NULL, *owner = NULL, *prefix = NULL, *final = NULL;
        int fds0 = count_fds();

        ok(asprintf(&prefix, "%s/.#new.step.", store_path(s)) > 0, "prefix");
        ok(asprintf(&final, "%s/step", store_path(s)) > 0, "final path");
        is(store_create_begin(s, "step", 1234, &c, &e), 0, "begin step");
        if (!c)
                return;
        ok(strncmp(store_create_temp_path(c), prefix, strlen(prefix)) == 0 &&
                   strlen(store_create_temp_path(c)) == strlen(prefix) + 6,
           "temporary is .#new.step.XXXXXX in the store (%s)", store_create_temp_path(c));
        is_str(store_create_final_path(c), final, "final path is the store's");
        ok(store_create_dirfd(c) >= 0, "the temporary's fd");
        owner = read_file(store_create_temp_path(c), "owner");
        is_str(owner, "1234\n", "owner recorded at begin");
        is(store_exists(s, "step"), 0, "not a container yet");
        is(store_cleanup_stale(s), 0, "cleanup leaves the begun create alone");
        ok(exists_in(store_path(s), strrchr(store_create_temp_path(c), '/') + 1),
           "temporary survives a cleanup");

        /* A second create of the name may begin; the first commit wins. */
        is(store_create_begin(s, "step", 99, &c2, &e), 0, "a second begin of step");
        ok(c2 && !streq(store_create_temp_path(c), store_create_temp_path(c2)), "with its own temporary");
        is(store_create_commit(c, &e), -EPROTO, "commit of an empty directory");
        is_str(e.message, "Building container 'step' did not create a config file", "what is missing");
        warren_error_clear(&e);
        is(fill_by_path(store_create_temp_path(c), false), 0, "rootfs by path");
        is(store_create_commit(c, &e), -EPROTO, "commit without a config");
        is_str(e.message, "Building container 'step' did not create a config file", "config missing");
        warren_error_clear(&e);
        is(fill_by_path(store_create_temp_path(c2), true), 0, "second one filled");
        ok(unlinkat(store_create_dirfd(c), "rootfs", AT_REMOVEDIR) >= 0, "reset first");
        is(fill_by_path(store_create_temp_path(c), true), 0, "first one filled");
        is(store_create_commit(c, &e), 0, "commit step");
        is(store_exists(s, "step"), 1, "step exists");
        is(store_create_commit(c, &e), -EALREADY, "a second commit of the same handle");
        warren_error_clear(&e);
        uid_t u = 0;
        is(store_get_owner(s, "step", &u), 0, "owner readable");
        is(u, 1234, "owner of the committed create");
        is(store_create_commit(c2, &e), -EEXIST, "the other create of step loses");
        is_str(e.message, "Container 'step' already exists", "EEXIST names it");
        warren_error_clear(&e);
        ok(store_create_abort(c2) == NULL, "abort the loser");
        ok(store_create_abort(c) == NULL, "free the committed handle");
        raw = list_raw(s);
        ok(strstr(raw, ".#") == NULL, "no temporary left (%s)", raw);
        ok(exists_in(store_path(s), "step") && exists_in(final, "rootfs"), "abort after commit keeps step");
        is(store_destroy(s, "step", NULL), 0, "destroy step");
        free(raw);
        raw = list_raw(s);
        is_str(raw, raw0, "store as before");

        /* Abort removes whatever was built. */
        c = NULL;
        is(store_create_begin(s, "gone", 0, &c, NULL), 0, "begin gone");
        is(fill_by_path(store_create_temp_path(c), true), 0, "filled");
        c = store_create_abort(c);
        free(raw);
        raw = list_raw(s);
        is_str(raw, raw0, "abort left nothing");
        ok(store_create_abort(NULL) == NULL, "abort of NULL");

        /* The handle does not need its Store. */
        Store *s2 = NULL;
        is(store_open(state, &s2, NULL), 0, "a second store handle");
        is(store_create_begin(s2, "late", 0, &c, NULL), 0, "begin late");
        store_free(s2);
        is(fill_by_path(store_create_temp_path(c), true), 0, "filled after the store is closed");
        is(store_create_commit(c, NULL), 0, "commit after the store is closed");
        c = store_create_abort(c);
        is(store_exists(s, "late"), 1, "late exists");
        is(store_destroy(s, "late", NULL), 0, "destroy late");

        /* Garbage. */
        is(store_create_begin(s, "../x", 0, &c, &e), -EINVAL, "begin with a bad name");
        like(e.message, "'../x'", "names it");
        warren_error_clear(&e);
        is(store_create_begin(s, "x", (uid_t) -1, &c, &e), -EINVAL, "begin with owner -1");
        is_str(e.message, "Invalid owner of container 'x': uid 4294967295", "owner message");
        warren_error_clear(&e);
        is(store_create_begin(s, "web", 0, &c, &e), -EEXIST, "begin of an existing name");
        is_str(e.message, "Container 'web' already exists", "EEXIST message");
        warren_error_clear(&e);
        free(raw);
        raw = list_raw(s);
        is_str(raw, raw0, "garbage left nothing");
        is(count_fds(), fds0, "no fd leaked");
}

static void test_garbage_names(Store *s) {
        static const char *const bad[] = { "../x", "",    "..",
                                           ".",    "a/b", ".#new.x.abcdef",
                                           "/etc", "x\n", "../../etc/passwd" };
        _cleanup_free_ char *raw0 = list_raw(s);
        char p[512];

        snprintf(p, sizeof p, "%s/x", state);
        mkdir(p, 0755);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                char *t = NULL;
                uid_t u;

                build_calls = 0;
                is(store_create(s, bad[i], 0, build_ok, NULL, &e), -EINVAL, "create of bad name #%zu", i);
                like(e.message, "Invalid container name '", "create message #%zu", i);
                is(build_calls, 0, "build not called for #%zu", i);
                warren_error_clear(&e);
                is(store_destroy(s, bad[i], &e), -EINVAL, "destroy of bad name #%zu", i);
                like(e.message, "Invalid container name '", "destroy message #%zu", i);
                warren_error_clear(&e);
                is(store_write_config(s, bad[i], "x", &e), -EINVAL, "write config of bad name #%zu", i);
                like(e.message, "Invalid container name '", "write config message #%zu", i);
                warren_error_clear(&e);
                is(store_exists(s, bad[i]), -EINVAL, "exists of bad name #%zu", i);
                is(store_get_owner(s, bad[i], &u), -EINVAL, "owner of bad name #%zu", i);
                is(store_read_config(s, bad[i], &t), -EINVAL, "read config of bad name #%zu", i);
        }
        WarrenError e = WARREN_ERROR_NULL;
        is(store_destroy(s, "../x", &e), -EINVAL, "destroy ../x");
        is_str(e.message, "Invalid container name '../x': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
               "exact message");
        warren_error_clear(&e);
        ok(exists_in(state, "x"), "sibling of the store untouched");
        _cleanup_free_ char *raw = list_raw(s);
        is_str(raw, raw0, "store unchanged by garbage names");
}

/* The container's tree points outside in every way a tree can. */
static int build_evil(int dfd, const char *final_path, void *userdata, WarrenError *reterr) {
        char p[512];
        int r = build_ok(dfd, final_path, NULL, reterr);
        if (r < 0)
                return r;
        mkdirat(dfd, "rootfs/etc", 0755);
        mkdirat(dfd, "rootfs/bin", 0755);
        mkdirat(dfd, "rootfs/lib", 0755);
        mkdirat(dfd, "rootfs/mnt", 0755);
        symlinkat(outside, dfd, "rootfs/etc/evil");
        snprintf(p, sizeof p, "%s/a", outside);
        symlinkat(p, dfd, "rootfs/bin/evilfile");
        symlinkat("../../../../../../../../../../..", dfd, "rootfs/lib/up");
        symlinkat(outside, dfd, "rootfs/lib/dir-link/");
        /* A hard link to an outside file: unlinking it must leave the file. */
        snprintf(p, sizeof p, "%s/b", outside);
        if (linkat(AT_FDCWD, p, dfd, "rootfs/hardlink", 0) < 0)
                r = -errno;
        mkfifoat(dfd, "rootfs/fifo", 0600);
        /* Directories without u+rwx (as image trees have them). */
        mkdirat(dfd, "rootfs/locked", 0755);
        write_at(dfd, "rootfs/locked/f", "x");
        fchmodat(dfd, "rootfs/locked", 0, 0);
        mkdirat(dfd, "rootfs/readonly", 0755);
        write_at(dfd, "rootfs/readonly/f", "x");
        fchmodat(dfd, "rootfs/readonly", 0500, 0);
        write_at(dfd, "rootfs/etc/passwd", "root\n");
        /* 200 levels: deeper than rm_rf_at keeps open, so subtrees get moved up. */
        int cur = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 200 && cur >= 0; i++) {
                mkdirat(cur, "d", 0755);
                write_at(cur, "f", "x");
                symlinkat(outside, cur, "out");
                int next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(cur);
                cur = next;
        }
        if (cur >= 0)
                close(cur);
        return r;
}

static bool outside_intact(void) {
        _cleanup_free_ char *a = read_file(outside, "a"), *b = read_file(outside, "b"),
                            *c = read_file(outside, "sub/c");
        return a && b && c && streq(a, "A\n") && streq(b, "B\n") && streq(c, "C\n");
}

static void test_destroy(Store *s) {
        WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *raw0 = list_raw(s), *raw = NULL;
        int fds0 = count_fds();

        is(store_create(s, "evil", 0, build_evil, NULL, &e), 0, "create evil");
        warren_error_clear(&e);
        ok(exists_in(store_path(s), "evil/rootfs/etc/evil"), "evil symlink is there");
        is(store_destroy(s, "evil", &e), 0, "destroy evil");
        is_str(e.message, NULL, "no message");
        ok(outside_intact(), "files outside are intact");
        ok(exists_in(outside, "sub"), "outside subdir intact");
        raw = list_raw(s);
        is_str(raw, raw0, "nothing left of evil");
        is(count_fds(), fds0, "no fd leaked");

        is(store_destroy(s, "evil", &e), -ENOENT, "destroy missing");
        is_str(e.message, "Container 'evil' does not exist", "missing message names it");
        warren_error_clear(&e);
        write_at(store_dirfd(s), "plainfile", "x");
        is(store_destroy(s, "plainfile", &e), -ENOENT, "a stray file is not destroyed as a container");
        ok(exists_in(store_path(s), "plainfile"), "stray file still there");
        unlinkat(store_dirfd(s), "plainfile", 0);
        warren_error_clear(&e);
}

static void test_rm_rf(void) {
        char p[512];
        int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        is(rm_rf_at(bfd, "does-not-exist"), 0, "rm_rf_at of a missing name is 0");
        write_at(bfd, "plain", "x");
        is(rm_rf_at(bfd, "plain"), 0, "rm_rf_at of a file");
        ok(!exists_in(base, "plain"), "file removed");
        is(rm_rf_at(bfd, "."), -EINVAL, "rm_rf_at of . refused");
        is(rm_rf_at(bfd, ".."), -EINVAL, "rm_rf_at of .. refused");
        is(rm_rf_at(AT_FDCWD, "/"), -EINVAL, "rm_rf_at of / refused");
        is(rm_rf_at(bfd, ""), -EINVAL, "rm_rf_at of empty refused");

        /* A symlink given as the top is removed, its target is not. */
        symlinkat(outside, bfd, "toplink");
        is(rm_rf_at(bfd, "toplink"), 0, "rm_rf_at of a symlink");
        ok(outside_intact(), "target of a top-level symlink intact");

        /* 5000 levels, by absolute path with a trailing slash. */
        mkdirat(bfd, "deep", 0755);
        int cur = openat(bfd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 5000 && cur >= 0; i++) {
                mkdirat(cur, "0123456789", 0755);
                if (i % 100 == 0)
                        write_at(cur, "file", "x");
                int next = openat(cur, "0123456789", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(cur);
                cur = next;
        }
        ok(cur >= 0, "built a 5000-level tree");
        if (cur >= 0)
                close(cur);
        int fds0 = count_fds();
        snprintf(p, sizeof p, "%s/deep/", base);
        is(rm_rf_at(AT_FDCWD, p), 0, "rm_rf_at of a 5000-level tree");
        ok(!exists_in(base, "deep"), "deep tree gone");
        is(count_fds(), fds0, "no fd leaked by the deep walk");
        close(bfd);
}

static void test_stale(Store *s) {
        int dfd = store_dirfd(s);

        mkdirat(dfd, ".#new.foo.AAAAAA", 0700);
        mkdirat(dfd, ".#new.foo.AAAAAA/rootfs", 0755);
        symlinkat(outside, dfd, ".#new.foo.AAAAAA/rootfs/evil");
        mkdirat(dfd, ".#del.bar.BBBBBB", 0700);
        write_at(dfd, ".#del.bar.BBBBBB/config", "x");
        mkdirat(dfd, ".#new.baz.CCCCCC", 0700);
        int lfd = openat(dfd, ".#new.baz.CCCCCC", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok(lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) >= 0, "hold a lock like a running create");

        char **names = NULL;
        is(store_list(s, &names), 1, "temporaries are not listed");
        is_str(names ? names[0] : NULL, "web", "only web listed");
        strv_free(names);

        is(store_cleanup_stale(s), 2, "cleanup removed two stale temporaries");
        ok(!exists_in(store_path(s), ".#new.foo.AAAAAA"), ".#new.foo gone");
        ok(!exists_in(store_path(s), ".#del.bar.BBBBBB"), ".#del.bar gone");
        ok(exists_in(store_path(s), ".#new.baz.CCCCCC"), "locked temporary kept");
        ok(outside_intact(), "outside intact after cleanup");
        close(lfd);
        is(store_cleanup_stale(s), 1, "unlocked temporary removed later");
        is(store_cleanup_stale(s), 0, "nothing left to clean");
        is(store_exists(s, "web"), 1, "real container untouched");
}

typedef struct MountResult {
        int destroy_r, cleanup_r, cleanup2_r, intact;
        char message[512];
} MountResult;

/* As root, in a private mount namespace: a bind mount of an outside dir (same
 * filesystem, so st_dev alone would not see it) inside the rootfs. */
static void test_mount_point(Store *s) {
        MountResult res = {};
        int pfd[2];

        if (geteuid() != 0) {
                ok(1, "# SKIP mount point test needs root");
                return;
        }
        is(store_create(s, "mounted", 0, build_evil, NULL, NULL), 0, "create mounted");
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                char m[512];
                WarrenError e = WARREN_ERROR_NULL;
                res.destroy_r = 1;
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(2);
                snprintf(m, sizeof m, "%s/mounted/rootfs/mnt", store_path(s));
                if (mount(outside, m, NULL, MS_BIND, NULL) < 0)
                        _exit(3);
                res.destroy_r = store_destroy(s, "mounted", &e);
                snprintf(res.message, sizeof res.message, "%s", warren_error_message(&e));
                res.intact = outside_intact();
                res.cleanup_r = store_cleanup_stale(s);
                /* The mount moved with the rename; find it through the del dir. */
                DIR *d = opendir(store_path(s));
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (strncmp(de->d_name, ".#del.mounted.", 14) == 0) {
                                snprintf(m, sizeof m, "%s/%s/rootfs/mnt", store_path(s), de->d_name);
                                umount2(m, MNT_DETACH);
                        }
                if (d)
                        closedir(d);
                res.cleanup2_r = store_cleanup_stale(s);
                write_all(pfd[1], &res, sizeof res);
                _exit(0);
        }
        close(pfd[1]);
        ssize_t n = read(pfd[0], &res, sizeof res);
        close(pfd[0]);
        int status = -1;
        waitpid(pid, &status, 0);
        is(status, 0, "mount child exited cleanly");
        is(n, (ssize_t) sizeof res, "got results from the mount child");
        is(res.destroy_r, -EBUSY, "destroy refuses a tree with a mount point");
        like(res.message, "Failed to remove container 'mounted': '", "EBUSY message names the container");
        like(res.message, "/containers/.#del.mounted.", "EBUSY message names the renamed dir");
        like(res.message, "/rootfs/mnt' is a mount point", "EBUSY message names the mount point");
        ok(res.intact, "bind-mounted outside dir intact");
        ok(res.cleanup_r < 0, "cleanup also refuses while mounted (%d)", res.cleanup_r);
        is(res.cleanup2_r, 1, "cleanup removes it once unmounted");
        ok(outside_intact(), "outside intact afterwards");
        is(store_exists(s, "mounted"), 0, "mounted is gone");
}

int main(void) {
        _cleanup_free_ char *raw = NULL;
        Store *s = NULL;
        char p[512];

        umask(022);
        if (!mkdtemp(base)) {
                ok(0, "mkdtemp: %m");
                return done_testing();
        }
        snprintf(state, sizeof state, "%s/state", base);
        snprintf(outside, sizeof outside, "%s/outside", base);
        mkdir(outside, 0755);
        snprintf(p, sizeof p, "%s/sub", outside);
        mkdir(p, 0755);
        int ofd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        write_at(ofd, "a", "A\n");
        write_at(ofd, "b", "B\n");
        write_at(ofd, "sub/c", "C\n");
        close(ofd);

        test_open();
        is(store_open(state, &s, NULL), 0, "open store");
        if (!s)
                return done_testing();
        test_create_list(s);
        test_owner_parsing(s);
        test_damaged(s);
        test_config(s);
        test_failures_leave_nothing(s);
        test_create_steps(s);
        test_garbage_names(s);
        test_destroy(s);
        test_stale(s);
        test_mount_point(s);
        test_rm_rf();

        is(store_destroy(s, "web", NULL), 0, "destroy web");
        raw = list_raw(s);
        is_str(raw, "", "store is empty at the end");
        ok(outside_intact(), "outside intact at the end");
        store_free(s);

        is(rm_rf_at(AT_FDCWD, base), 0, "remove test dir");
        return done_testing();
}
