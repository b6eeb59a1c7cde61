/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "image-index.h"
#include "log.h"

const char *image_mode_to_string(ImageMode m) {
        return m == IMAGE_MODE_USER ? "user" : "system";
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == ':' || c == '+' || c == '~' || c == '-';
}

static bool name_ok(const char *v, size_t max) {
        size_t n = 0;
        if (isempty(v) || v[0] == '.' || v[0] == '-')
                return false;
        for (; v[n]; n++)
                if (n >= max || !is_name_char(v[n]))
                        return false;
        return true;
}

int image_name_validate(const char *what, const char *value, WarrenError *reterr) {
        size_t max = streq(what, "build") ? IMAGE_BUILD_MAX : IMAGE_NAME_MAX;
        if (!name_ok(value, max))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image %s '%s': must be 1-%zu characters of "
                                        "[A-Za-z0-9._:+~-], not starting with '.' or '-'",
                                        what, strempty(value), max);
        return 0;
}

static bool path_ok(const char *p) {
        size_t n = strlen(p);
        if (n == 0 || n > IMAGE_PATH_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_name_char(p[i]) && p[i] != '/' && p[i] != '@' && p[i] != '=' && p[i] != ',')
                        return false;
        /* No "." or ".." component: the path is joined to the server URL. */
        for (const char *c = p; *c;) {
                size_t k = strcspn(c, "/");
                if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += k;
                c += strspn(c, "/");
        }
        return strspn(p, "/") < n;
}

int image_path_validate(const char *path, WarrenError *reterr) {
        if (!path || !path_ok(path))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image path '%s': must be at most %u characters of "
                                        "[A-Za-z0-9._:+~/@=,-] without '.' or '..' components",
                                        strempty(path), IMAGE_PATH_MAX);
        return 0;
}

int image_spec_validate(const ImageSpec *spec, WarrenError *reterr) {
        int r = image_name_validate("distribution", spec->dist, reterr);
        if (r >= 0)
                r = image_name_validate("release", spec->release, reterr);
        if (r >= 0 && spec->arch)
                r = image_name_validate("architecture", spec->arch, reterr);
        if (r >= 0 && spec->variant)
                r = image_name_validate("variant", spec->variant, reterr);
        return r;
}

const char *image_arch_from_machine(const char *machine) {
        static const struct {
                const char *machine, *debian;
        } table[] = {
                { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "arm64", "arm64" },
                { "i386", "i386" },       { "i486", "i386" },     { "i586", "i386" },
                { "i686", "i386" },       { "armv7l", "armhf" },  { "armv8l", "armhf" },
                { "ppc64le", "ppc64el" }, { "s390x", "s390x" },   { "riscv64", "riscv64" },
        };
        if (!machine)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].machine, machine))
                        return table[i].debian;
        return NULL;
}

int image_host_arch(const char **ret, WarrenError *reterr) {
        struct utsname u;
        if (uname(&u) < 0)
                return warren_error_set(reterr, errno, "Failed to get the host architecture: %m");
        const char *a = image_arch_from_machine(u.machine);
        if (!a)
                return warren_error_set(
                        reterr, EINVAL,
                        "Unknown host architecture '%s': pass the image architecture explicitly", u.machine);
        *ret = a;
        return 0;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

int image_build_compare(const char *a, const char *b) {
        const char *p = a, *q = b;

        while (*p && *q) {
                if (is_digit(*p) && is_digit(*q)) {
                        while (*p == '0')
                                p++;
                        while (*q == '0')
                                q++;
                        size_t np = 0, nq = 0;
                        while (is_digit(p[np]))
                                np++;
                        while (is_digit(q[nq]))
                                nq++;
                        if (np != nq)
                                return np < nq ? -1 : 1;
                        int c = memcmp(p, q, np);
                        if (c != 0)
                                return c < 0 ? -1 : 1;
                        p += np;
                        q += nq;
                        continue;
                }
                if (*p != *q)
                        return (unsigned char) *p < (unsigned char) *q ? -1 : 1;
                p++;
                q++;
        }
        if (*p || *q)
                return *p ? 1 : -1;
        int c = strcmp(a, b);
        return c < 0 ? -1 : c > 0;
}

ImageIndex *image_index_free(ImageIndex *idx) {
        if (!idx)
                return NULL;
        for (size_t i = 0; i < idx->n_entries; i++) {
                ImageIndexEntry *e = &idx->entries[i];
                free(e->dist);
                free(e->release);
                free(e->arch);
                free(e->variant);
                free(e->build);
                free(e->path);
        }
        free(idx->entries);
        free(idx);
        return NULL;
}

/* Splits one line into five ';'-separated fields and the rest; the fields
 * must pass validation. 1 if it did, 0 to skip the line. */
static int parse_index_line(const char *line, size_t len, ImageIndexEntry *e) {
        static const char *const what[5] = { "dist", "release", "arch", "variant", "build" };
        char **fields[6] = { &e->dist, &e->release, &e->arch, &e->variant, &e->build, &e->path };
        const char *p = line, *end = line + len;

        for (unsigned i = 0; i < 6; i++) {
                const char *sep = i < 5 ? memchr(p, ';', (size_t) (end - p)) : end;
                if (!sep)
                        return 0;
                size_t n = (size_t) (sep - p);
                if (n == 0 || n > IMAGE_PATH_MAX)
                        return 0;
                *fields[i] = strndup(p, n);
                if (!*fields[i])
                        return -ENOMEM;
                if (i < 5 ? !name_ok(*fields[i], streq(what[i], "build") ? IMAGE_BUILD_MAX : IMAGE_NAME_MAX)
                          : !path_ok(*fields[i]))
                        return 0;
                p = sep + 1;
        }
        return 1;
}

static void entry_clear(ImageIndexEntry *e) {
        free(e->dist);
        free(e->release);
        free(e->arch);
        free(e->variant);
        free(e->build);
        free(e->path);
        *e = (ImageIndexEntry){};
}

int image_index_parse(const char *text, size_t size, ImageIndex **ret, WarrenError *reterr) {
        _cleanup_image_index_ ImageIndex *idx = NULL;
        size_t alloc = 0, lineno = 0;

        if (size > 0 && memchr(text, 0, size))
                return warren_error_set(reterr, EBADMSG, "Invalid image index: contains a NUL byte");
        idx = calloc(1, sizeof *idx);
        if (!idx)
                return -ENOMEM;

        for (size_t pos = 0; pos < size;) {
                const char *line = text + pos, *nl = memchr(line, '\n', size - pos);
                size_t len = nl ? (size_t) (nl - line) : size - pos;
                ImageIndexEntry e = {};

                pos += len + (nl ? 1 : 0);
                lineno++;
                if (len > 0 && line[len - 1] == '\r')
                        len--;
                if (len == 0)
                        continue;

                int r = parse_index_line(line, len, &e);
                if (r <= 0) {
                        entry_clear(&e);
                        if (r < 0)
                                return r;
                        idx->n_skipped++;
                        log_debug("Image index line %zu skipped: not 'dist;release;arch;variant;build;path'",
                                  lineno);
                        continue;
                }
                if (idx->n_entries >= IMAGE_INDEX_MAX_ENTRIES) {
                        entry_clear(&e);
                        return warren_error_set(reterr, EBADMSG, "Invalid image index: more than %u entries",
                                                IMAGE_INDEX_MAX_ENTRIES);
                }
                if (idx->n_entries == alloc) {
                        size_t na = alloc ? alloc * 2 : 64;
                        ImageIndexEntry *n = reallocarray(idx->entries, na, sizeof *n);
                        if (!n) {
                                entry_clear(&e);
                                return -ENOMEM;
                        }
                        idx->entries = n;
                        alloc = na;
                }
                idx->entries[idx->n_entries++] = e;
        }

        *ret = TAKE_PTR(idx);
        return 0;
}

int image_index_find(const ImageIndex *idx, const ImageSpec *spec, const ImageIndexEntry **ret,
                     WarrenError *reterr) {
        const ImageIndexEntry *best = NULL;
        const char *variant = spec->variant ?: IMAGE_VARIANT_DEFAULT;

        if (!spec->dist || !spec->release || !spec->arch)
                return warren_error_set(reterr, EINVAL, "Incomplete image specification");

        for (size_t i = 0; idx && i < idx->n_entries; i++) {
                const ImageIndexEntry *e = &idx->entries[i];
                if (!streq(e->dist, spec->dist) || !streq(e->release, spec->release) ||
                    !streq(e->arch, spec->arch) || !streq(e->variant, variant))
                        continue;
                if (!best || image_build_compare(e->build, best->build) > 0)
                        best = e;
        }
        if (!best)
                return warren_error_set(reterr, ENOENT,
                                        "No image %s %s %s (variant %s) in the server's index", spec->dist,
                                        spec->release, spec->arch, variant);
        *ret = best;
        return 0;
}

char *image_index_url(const char *server, ImageMode mode, bool compat) {
        char *u = NULL;
        size_t n = strlen(server);
        while (n > 0 && server[n - 1] == '/')
                n--;
        if (asprintf(&u, "%.*s/meta/1.0/index-%s%s", (int) n, server, image_mode_to_string(mode),
                     compat ? "." STRINGIFY(IMAGE_COMPAT_LEVEL) : "") < 0)
                return NULL;
        return u;
}
