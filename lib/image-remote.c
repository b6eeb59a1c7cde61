/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "image-download.h"
#include "image-remote.h"

ImageRemotes *image_remotes_free(ImageRemotes *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n; i++) {
                free(rs->remotes[i].name);
                free(rs->remotes[i].url);
                free(rs->remotes[i].keyring);
        }
        free(rs->remotes);
        free(rs->default_name);
        free(rs);
        return NULL;
}

void image_server_choice_done(ImageServerChoice *c) {
        if (!c)
                return;
        free(c->url);
        free(c->remote);
        free(c->keyring);
        *c = (ImageServerChoice){};
}

static bool remote_name_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64 ||
            !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr("_.-", *c)))
                        return false;
        return true;
}

const ImageRemote *image_remotes_find_name(const ImageRemotes *rs, const char *name) {
        for (size_t i = 0; rs && name && i < rs->n; i++)
                if (streq(rs->remotes[i].name, name))
                        return &rs->remotes[i];
        return NULL;
}

const ImageRemote *image_remotes_find_url(const ImageRemotes *rs, const char *canonical_url) {
        for (size_t i = 0; rs && canonical_url && i < rs->n; i++)
                if (streq(rs->remotes[i].url, canonical_url))
                        return &rs->remotes[i];
        return NULL;
}

/* Blanks stripped from both ends, in place. */
static char *strip(char *s) {
        size_t n;
        s += strspn(s, " \t");
        n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

static int parse_bool(const char *v, bool *ret) {
        if (streq(v, "yes") || streq(v, "true") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "no") || streq(v, "false") || streq(v, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

static int check_complete(const ImageRemotes *rs, const char *origin, WarrenError *reterr) {
        for (size_t i = 0; i < rs->n; i++) {
                const ImageRemote *r = &rs->remotes[i];
                if (!r->url)
                        return warren_error_set(reterr, EINVAL, "%s: remote '%s' has no url", origin,
                                                r->name);
                for (size_t k = 0; k < i; k++)
                        if (streq(rs->remotes[k].url, r->url))
                                return warren_error_set(reterr, EINVAL,
                                                        "%s: remotes '%s' and '%s' have the same url '%s'",
                                                        origin, rs->remotes[k].name, r->name, r->url);
        }
        if (rs->default_name && !image_remotes_find_name(rs, rs->default_name))
                return warren_error_set(reterr, EINVAL, "%s: default remote '%s' is not listed", origin,
                                        rs->default_name);
        return 0;
}

static int apply_key(ImageRemotes *rs, ImageRemote *cur, const char *key, const char *value,
                     const char *where, WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int r;

        if (!cur) {
                if (!streq(key, "default"))
                        return warren_error_set(
                                reterr, EINVAL,
                                "%s: unknown key '%s' before any [remote] section (known: default)", where,
                                key);
                if (!remote_name_ok(value))
                        return warren_error_set(reterr, EINVAL, "%s: invalid default remote name '%s'",
                                                where, value);
                free(rs->default_name);
                rs->default_name = strdup(value);
                return rs->default_name ? 0 : -ENOMEM;
        }
        if (streq(key, "url")) {
                char *u = NULL;
                r = image_server_url(value, &u, &e);
                if (r < 0)
                        return warren_error_set(reterr, EINVAL, "%s: remote '%s': %s", where, cur->name,
                                                warren_error_message(&e));
                free(cur->url);
                cur->url = u;
                return 0;
        }
        if (streq(key, "keyring")) {
                if (isempty(value)) {
                        free(cur->keyring);
                        cur->keyring = NULL;
                        return 0;
                }
                if (value[0] != '/' || strlen(value) >= 4096 || strstr(value, "/../") || strchr(value, '\n'))
                        return warren_error_set(reterr, EINVAL,
                                                "%s: remote '%s': keyring '%s' must be an absolute path",
                                                where, cur->name, value);
                free(cur->keyring);
                cur->keyring = strdup(value);
                return cur->keyring ? 0 : -ENOMEM;
        }
        if (streq(key, "users")) {
                if (parse_bool(value, &cur->users) < 0)
                        return warren_error_set(reterr, EINVAL,
                                                "%s: remote '%s': users must be yes or no, not '%s'", where,
                                                cur->name, value);
                return 0;
        }
        return warren_error_set(reterr, EINVAL,
                                "%s: remote '%s': unknown key '%s' (known: url, keyring, users)", where,
                                cur->name, key);
}

int image_remotes_parse(const char *text, size_t size, const char *origin, ImageRemotes **ret,
                        WarrenError *reterr) {
        _cleanup_image_remotes_ ImageRemotes *rs = calloc(1, sizeof *rs);
        _cleanup_free_ char *copy = NULL;
        ImageRemote *cur = NULL;
        unsigned lineno = 0;
        int r;

        if (!rs)
                return -ENOMEM;
        if (size > IMAGE_REMOTES_FILE_MAX)
                return warren_error_set(reterr, EINVAL, "%s: larger than %u bytes", origin,
                                        IMAGE_REMOTES_FILE_MAX);
        if (memchr(text, 0, size))
                return warren_error_set(reterr, EINVAL, "%s: contains a NUL byte", origin);
        copy = strndup(text, size);
        if (!copy)
                return -ENOMEM;
        rs->remotes = calloc(IMAGE_REMOTES_MAX, sizeof *rs->remotes);
        if (!rs->remotes)
                return -ENOMEM;

        for (char *line = copy, *next; line; line = next) {
                char where[512];
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                snprintf(where, sizeof where, "%s:%u", origin, lineno);
                char *l = strip(line);
                if (*l == 0 || *l == '#' || *l == ';')
                        continue;
                if (*l == '[') {
                        size_t n = strlen(l);
                        if (n < 3 || l[n - 1] != ']')
                                return warren_error_set(reterr, EINVAL, "%s: invalid section '%s'", where,
                                                        l);
                        l[n - 1] = 0;
                        char *name = strip(l + 1);
                        if (!remote_name_ok(name))
                                return warren_error_set(reterr, EINVAL,
                                                        "%s: invalid remote name '%s': must match "
                                                        "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                                                        where, name);
                        if (image_remotes_find_name(rs, name))
                                return warren_error_set(reterr, EINVAL, "%s: remote '%s' is listed twice",
                                                        where, name);
                        if (rs->n >= IMAGE_REMOTES_MAX)
                                return warren_error_set(reterr, EINVAL, "%s: more than %u remotes", where,
                                                        IMAGE_REMOTES_MAX);
                        cur = &rs->remotes[rs->n];
                        cur->name = strdup(name);
                        if (!cur->name)
                                return -ENOMEM;
                        rs->n++;
                        continue;
                }
                char *eq = strchr(l, '=');
                if (!eq)
                        return warren_error_set(reterr, EINVAL,
                                                "%s: expected 'key = value' or '[name]', got '%s'", where,
                                                l);
                *eq = 0;
                r = apply_key(rs, cur, strip(l), strip(eq + 1), where, reterr);
                if (r < 0)
                        return r;
        }
        r = check_complete(rs, origin, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rs);
        return 0;
}

static int builtin_default(ImageRemotes **ret) {
        static const char text[] =
                "[" IMAGE_REMOTE_DEFAULT_NAME "]\nurl = " IMAGE_SERVER_DEFAULT "\nusers = yes\n";
        return image_remotes_parse(text, sizeof text - 1, "built-in remotes", ret, NULL);
}

int image_remotes_load(const char *const *dirs, ImageRemotes **ret, WarrenError *reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t size;
        int r;

        for (; dirs && *dirs; dirs++) {
                free(path);
                if (asprintf(&path, "%s/" IMAGE_REMOTES_FILE, *dirs) < 0)
                        return -ENOMEM;
                fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0 || errno != ENOENT)
                        break;
        }
        if (fd < 0 && (!dirs || !*dirs))
                return builtin_default(ret);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s': %m", path);
        if (fstat(fd, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat '%s': %m", path);
        /* It decides what root trusts: only root may have written it. */
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022))
                return warren_error_set(reterr, EPERM,
                                        "Refusing '%s': it must be a regular file owned by root and not "
                                        "writable by group or others (it is uid %u, mode %04o)",
                                        path, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        r = read_full_fd(fd, IMAGE_REMOTES_FILE_MAX, &text, &size);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read '%s': %s", path,
                                        r == -EFBIG ? "too large" : strerror(-r));
        return image_remotes_parse(text, size, path, ret, reterr);
}

int image_remotes_resolve(const ImageRemotes *rs, const char *server, ImageServerChoice *ret,
                          WarrenError *reterr) {
        _cleanup_free_ char *url = NULL;
        const ImageRemote *r = NULL;
        int k;

        if (isempty(server)) {
                const char *name = rs->default_name ?: IMAGE_REMOTE_DEFAULT_NAME;
                r = image_remotes_find_name(rs, name);
                if (!r)
                        return warren_error_set(reterr, ENOENT,
                                                "No default image remote: '%s' is not in " IMAGE_REMOTES_FILE
                                                "; give --server",
                                                name);
        } else if (!(r = image_remotes_find_name(rs, server))) {
                k = image_server_url(server, &url, reterr);
                if (k < 0)
                        return k;
                r = image_remotes_find_url(rs, url);
        }
        *ret = (ImageServerChoice){};
        ret->url = strdup(r ? r->url : url);
        ret->remote = r ? strdup(r->name) : NULL;
        ret->keyring = r && r->keyring ? strdup(r->keyring) : NULL;
        ret->users = r && r->users;
        if (!ret->url || (r && !ret->remote) || (r && r->keyring && !ret->keyring)) {
                image_server_choice_done(ret);
                return -ENOMEM;
        }
        return 0;
}
