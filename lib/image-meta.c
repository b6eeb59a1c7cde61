/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "fileio.h"
#include "image-meta.h"
#include "log.h"
#include "strv.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);

static const char *const meta_bases[] = { "config", "templates",      "excludes",
                                          "expiry", "create-message", "fstab" };

/* NAME[-user|-system][.DIGITS] with NAME one of meta_bases. */
static bool meta_name_ok(const char *n) {
        for (size_t i = 0; i < ELEMENTSOF(meta_bases); i++) {
                size_t k = strlen(meta_bases[i]);
                if (strncmp(n, meta_bases[i], k) != 0)
                        continue;
                const char *p = n + k;
                if (strncmp(p, "-user", 5) == 0)
                        p += 5;
                else if (strncmp(p, "-system", 7) == 0)
                        p += 7;
                if (*p == '.') {
                        size_t d = strspn(p + 1, "0123456789");
                        if (d == 0 || d > 3)
                                return false;
                        p += 1 + d;
                }
                if (*p == 0)
                        return true;
        }
        return false;
}

static int extract_file(struct archive *a, int dest_dirfd, const char *name, WarrenError *reterr) {
        _cleanup_close_ int fd =
                openat(dest_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        uint64_t total = 0;

        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to create meta file '%s': %m", name);
        for (;;) {
                char buf[16 * 1024];
                la_ssize_t k = archive_read_data(a, buf, sizeof buf);
                if (k < 0)
                        return warren_error_set(reterr, EBADMSG, "Invalid meta archive: entry '%s': %s",
                                                name, strna(archive_error_string(a)));
                if (k == 0)
                        return 0;
                total += (uint64_t) k;
                if (total > IMAGE_META_FILE_MAX)
                        return warren_error_set(reterr, EFBIG,
                                                "Invalid meta archive: '%s' is larger than %u bytes", name,
                                                IMAGE_META_FILE_MAX);
                int r = write_all(fd, buf, (size_t) k);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to write meta file '%s': %s", name,
                                                strerror(-r));
        }
}

int image_meta_extract(int archive_fd, int dest_dirfd, WarrenError *reterr) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        struct archive_entry *e;
        unsigned n = 0;
        int r;

        if (!a)
                return -ENOMEM;
        if (lseek(archive_fd, 0, SEEK_SET) < 0)
                return warren_error_set(reterr, errno, "Failed to rewind the meta archive: %m");
        if (archive_read_support_filter_all(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK)
                return warren_error_set(reterr, ENOTSUP, "Failed to set up libarchive");
        if (archive_read_open_fd(a, archive_fd, 64 * 1024) != ARCHIVE_OK)
                return warren_error_set(reterr, EBADMSG, "Invalid meta archive: %s",
                                        strna(archive_error_string(a)));
        for (;;) {
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return warren_error_set(reterr, EBADMSG, "Invalid meta archive: %s",
                                                strna(archive_error_string(a)));
                if (++n > IMAGE_META_MAX_ENTRIES)
                        return warren_error_set(reterr, EFBIG, "Invalid meta archive: more than %u entries",
                                                IMAGE_META_MAX_ENTRIES);
                const char *name = archive_entry_pathname(e);
                while (name && name[0] == '.' && name[1] == '/')
                        name += 2;
                if (isempty(name) || archive_entry_filetype(e) != AE_IFREG || !meta_name_ok(name)) {
                        log_debug("Meta archive: skipping '%s'", strna(archive_entry_pathname(e)));
                        continue;
                }
                if (archive_entry_size(e) > (la_int64_t) IMAGE_META_FILE_MAX)
                        return warren_error_set(reterr, EFBIG,
                                                "Invalid meta archive: '%s' is larger than %u bytes", name,
                                                IMAGE_META_FILE_MAX);
                r = extract_file(a, dest_dirfd, name, reterr);
                if (r < 0)
                        return r;
        }
}

ImageMeta *image_meta_free(ImageMeta *m) {
        if (!m)
                return NULL;
        free(m->config);
        free(m->fstab);
        strv_free(m->templates);
        strv_free(m->excludes);
        free(m->create_message);
        free(m);
        return NULL;
}

static bool exists_at(int dirfd, const char *name) {
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

/* lxc-download's relevant_file(): NAME-mode if present, then .7 if present. */
static int relevant_file(int dirfd, const char *base, ImageMode mode, char **ret_text, char **ret_name) {
        _cleanup_free_ char *name = NULL, *compat = NULL;
        int r;

        if (asprintf(&name, "%s-%s", base, image_mode_to_string(mode)) < 0)
                return -ENOMEM;
        if (!exists_at(dirfd, name)) {
                free(name);
                name = strdup(base);
                if (!name)
                        return -ENOMEM;
        }
        if (asprintf(&compat, "%s.%d", name, IMAGE_COMPAT_LEVEL) < 0)
                return -ENOMEM;
        if (exists_at(dirfd, compat)) {
                free(name);
                name = TAKE_PTR(compat);
        }
        r = read_full_file_at(dirfd, name, IMAGE_META_FILE_MAX, 1, ret_text, NULL);
        if (r >= 0 && ret_name)
                *ret_name = TAKE_PTR(name);
        return r;
}

/* Non-blank lines, "\r" and surrounding blanks stripped. */
static int split_lines(const char *text, unsigned max, const char *what, char ***ret, WarrenError *reterr) {
        _cleanup_strv_free_ char **l = NULL;
        unsigned n = 0;

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                const char *s = p, *e = p + len;
                p = *e ? e + 1 : e;
                while (s < e && (*s == ' ' || *s == '\t'))
                        s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                        e--;
                if (s == e)
                        continue;
                if (++n > max)
                        return warren_error_set(reterr, EFBIG, "Invalid image: more than %u %s", max, what);
                char *line = strndup(s, (size_t) (e - s));
                if (!line || strv_consume(&l, line) < 0)
                        return -ENOMEM;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int image_meta_load(int meta_dirfd, ImageMode mode, ImageMeta **ret, WarrenError *reterr) {
        _cleanup_image_meta_ ImageMeta *m = calloc(1, sizeof *m);
        _cleanup_free_ char *templates = NULL, *excludes = NULL, *expiry = NULL, *name = NULL;
        int r;

        if (!m)
                return -ENOMEM;
        r = relevant_file(meta_dirfd, "config", mode, &m->config, &name);
        if (r == -ENOENT)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image: no config for mode '%s' in meta.tar.xz",
                                        image_mode_to_string(mode));
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the image config: %s", strerror(-r));
        if (strlen(m->config) == 0)
                log_debug("Image meta: empty %s", name);

        const struct {
                const char *base;
                char **text;
        } optional[] = {
                { "templates", &templates }, { "excludes", &excludes },
                { "expiry", &expiry },       { "create-message", &m->create_message },
                { "fstab", &m->fstab },
        };
        for (size_t i = 0; i < ELEMENTSOF(optional); i++) {
                r = relevant_file(meta_dirfd, optional[i].base, mode, optional[i].text, NULL);
                if (r < 0 && r != -ENOENT)
                        return warren_error_set(reterr, r, "Failed to read the image's %s: %s",
                                                optional[i].base, strerror(-r));
        }

        r = split_lines(strempty(templates), IMAGE_META_MAX_TEMPLATES, "template files", &m->templates,
                        reterr);
        if (r >= 0)
                r = split_lines(strempty(excludes), IMAGE_META_MAX_TEMPLATES, "exclude patterns",
                                &m->excludes, reterr);
        if (r < 0)
                return r;
        if (expiry) {
                char *end = NULL;
                errno = 0;
                unsigned long long v = strtoull(expiry, &end, 10);
                if (errno == 0 && end != expiry && strspn(end, " \t\r\n") == strlen(end) &&
                    expiry[0] != '-') {
                        m->expiry = v;
                        m->has_expiry = true;
                } else
                        log_debug("Image meta: ignoring unparsable expiry '%.32s'", expiry);
        }
        *ret = TAKE_PTR(m);
        return 0;
}

char *image_template_substitute(const char *text, size_t size, const ImageTemplateVars *v) {
        const struct {
                const char *token, *value;
        } vars[] = {
                { "LXC_NAME", v->name },         { "LXC_PATH", v->path },
                { "LXC_ROOTFS", v->rootfs },     { "LXC_TEMPLATE_CONFIG", v->template_config },
                { "LXC_HOOK_DIR", v->hook_dir },
        };
        char *out = NULL;
        size_t out_size = 0;
        FILE *f = open_memstream(&out, &out_size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < size;) {
                size_t matched = 0;
                const char *value = NULL;
                if (text[i] == 'L')
                        for (size_t k = 0; k < ELEMENTSOF(vars); k++) {
                                size_t n = strlen(vars[k].token);
                                if (vars[k].value && size - i >= n &&
                                    memcmp(text + i, vars[k].token, n) == 0) {
                                        matched = n;
                                        value = vars[k].value;
                                        break;
                                }
                        }
                if (matched > 0) {
                        fputs(value, f);
                        i += matched;
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
                /* openat2() refuses O_PATH with other flags than these. */
                .flags = (uint64_t) (flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

/* Opens the regular file an O_PATH fd points to for writing, making sure
 * it is still that file. */
static int reopen(int pfd, const struct stat *st) {
        char p[64];
        struct stat st2;
        snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
        _cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino || !S_ISREG(st2.st_mode))
                return -ESTALE;
        return TAKE_FD(fd);
}

int image_meta_apply_templates(const ImageMeta *m, int rootfs_dirfd, const ImageTemplateVars *v,
                               WarrenError *reterr) {
        STRV_FOREACH(path, m->templates) {
                _cleanup_free_ char *text = NULL, *out = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;
                size_t size;
                int r;

                /* O_PATH first: a device node named in templates is never opened. */
                _cleanup_close_ int pfd = open_in_root(rootfs_dirfd, *path, O_PATH);
                if (pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP) {
                        log_debug("Template '%s' skipped: %s", *path, strerror(-pfd));
                        continue;
                }
                if (pfd < 0)
                        return warren_error_set(reterr, pfd, "Failed to open template file '%s': %s", *path,
                                                strerror(-pfd));
                if (fstat(pfd, &st) < 0)
                        return warren_error_set(reterr, errno, "Failed to stat template file '%s': %m",
                                                *path);
                if (!S_ISREG(st.st_mode))
                        continue;
                fd = reopen(pfd, &st);
                if (fd < 0)
                        return warren_error_set(reterr, fd, "Failed to open template file '%s': %s", *path,
                                                strerror(-fd));
                r = read_full_fd(fd, IMAGE_META_FILE_MAX, &text, &size);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to read template file '%s': %s", *path,
                                                r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
                out = image_template_substitute(text, size, v);
                if (!out)
                        return -ENOMEM;
                if (strlen(out) == size && memcmp(out, text, size) == 0)
                        continue;
                /* In place: owner, mode and xattrs stay as unpacked. */
                if (lseek(fd, 0, SEEK_SET) < 0 || (r = write_all(fd, out, strlen(out))) < 0 ||
                    ftruncate(fd, (off_t) strlen(out)) < 0)
                        return warren_error_set(reterr, r < 0 ? r : -errno,
                                                "Failed to rewrite template file '%s': %s", *path,
                                                strerror(r < 0 ? -r : errno));
        }
        return 0;
}

typedef enum LineClass {
        LINE_OTHER,
        LINE_AUTO,
        LINE_NET,
        LINE_DROP,
} LineClass;

static LineClass classify(const char *line, size_t len) {
        const char *p = line, *end = line + len;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (p == end || *p == '#' || *p == '\r')
                return LINE_OTHER;
        const char *eq = memchr(p, '=', (size_t) (end - p));
        const char *ke = eq ? eq : end;
        while (ke > p && (ke[-1] == ' ' || ke[-1] == '\t'))
                ke--;
        size_t kl = (size_t) (ke - p);
#define KEY_IS(s) (kl == strlen(s) && memcmp(p, s, kl) == 0)
#define KEY_STARTS(s) (kl > strlen(s) && memcmp(p, s, strlen(s)) == 0)
        if (KEY_IS("lxc.rootfs.path") || KEY_IS("lxc.rootfs") || KEY_IS("lxc.uts.name") ||
            KEY_IS("lxc.utsname"))
                return LINE_DROP;
        if (KEY_STARTS("lxc.net.") || KEY_STARTS("lxc.network."))
                return LINE_NET;
        return LINE_AUTO;
#undef KEY_IS
#undef KEY_STARTS
}

static int check_dist_config(const char *text, const char *template_config, WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        char *allow[] = { (char *) template_config, NULL };
        LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP,
                                 .include_allow = template_config ? allow : NULL };
        int r;

        if (!c)
                return -ENOMEM;
        r = lxc_config_parse(c, text, strlen(text), "image config", &opts, reterr);
        if (r < 0)
                return r;
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                const char *k, *v;
                lxc_config_item(c, i, &k, &v);
                if (strncmp(k, "lxc.hook.", 9) == 0)
                        return warren_error_set(
                                reterr, EPERM,
                                "Refusing image config key '%s = %s': hooks from an image are not allowed",
                                k, v);
        }
        return 0;
}

int image_config_assemble(const ImageConfigParams *p, char **ret, WarrenError *reterr) {
        _cleanup_free_ char *raw = NULL, *dist = NULL, *text = NULL;
        const ImageTemplateVars *v = p->vars;
        const char *def = strempty(p->default_config);
        size_t raw_size = 0;
        FILE *f;
        int r;

        if (!v || isempty(v->name) || isempty(p->rootfs_path ?: v->rootfs) || !p->dist_config)
                return warren_error_set(reterr, EINVAL, "Incomplete container config parameters");

        /* The image's part is checked on its own first, so a refusal names it. */
        dist = image_template_substitute(p->dist_config, strlen(p->dist_config), v);
        if (!dist)
                return -ENOMEM;
        r = check_dist_config(dist, v->template_config, reterr);
        if (r < 0)
                return r;

        f = open_memstream(&raw, &raw_size);
        if (!f)
                return -ENOMEM;
        for (LineClass want = LINE_OTHER; want <= LINE_NET; want++) {
                static const char *const headers[] = {
                        [LINE_OTHER] = NULL,
                        [LINE_AUTO] = "\n# Container specific configuration\n",
                        [LINE_NET] = "\n# Network configuration\n",
                };
                bool any = false;
                if (want == LINE_AUTO) {
                        fputs("\n# Distribution configuration\n", f);
                        fputs(p->dist_config, f);
                        if (*p->dist_config && p->dist_config[strlen(p->dist_config) - 1] != '\n')
                                fputc('\n', f);
                        fputs(headers[LINE_AUTO], f);
                }
                for (const char *l = def; *l;) {
                        size_t len = strcspn(l, "\n");
                        LineClass c = classify(l, len);
                        if (c == want && (c != LINE_OTHER || len > 0 || l[len])) {
                                if (!any && headers[want] && want == LINE_NET)
                                        fputs(headers[LINE_NET], f);
                                any = true;
                                fwrite(l, 1, len, f);
                                fputc('\n', f);
                        }
                        l += len + (l[len] ? 1 : 0);
                }
                if (want == LINE_AUTO) {
                        for (char *const *kv = p->extra_items; kv && kv[0] && kv[1]; kv += 2)
                                fprintf(f, "%s = %s\n", kv[0], kv[1]);
                        if (p->has_fstab)
                                fprintf(f, "lxc.mount.fstab = %s/fstab\n", strempty(v->path));
                        fprintf(f, "lxc.rootfs.path = dir:%s\n", p->rootfs_path ?: v->rootfs);
                        fprintf(f, "lxc.uts.name = %s\n", v->name);
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;

        text = image_template_substitute(raw, raw_size, v);
        if (!text)
                return -ENOMEM;

        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        if (!c)
                return -ENOMEM;
        r = lxc_config_parse(c, text, strlen(text), "container config", &opts, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

int image_target_write_config(int tfd, const ImageMeta *meta, const ImageConfigParams *p, bool *ret_refused,
                              WarrenError *reterr) {
        _cleanup_free_ char *fstab = NULL, *config = NULL;
        ImageConfigParams cp = *p;
        int r;

        *ret_refused = false;
        cp.has_fstab = meta && meta->fstab;
        if (cp.has_fstab) {
                fstab = image_template_substitute(meta->fstab, strlen(meta->fstab), p->vars);
                if (!fstab)
                        return -ENOMEM;
                r = write_file_atomic_at(tfd, "fstab", fstab, strlen(fstab), 0644);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to write the container's fstab: %s",
                                                strerror(-r));
        }
        r = image_config_assemble(&cp, &config, reterr);
        if (r < 0) {
                *ret_refused = r == -EPERM || r == -EINVAL;
                return r;
        }
        r = write_file_atomic_at(tfd, "config", config, strlen(config), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write the container's config: %s",
                                        strerror(-r));
        return 0;
}
