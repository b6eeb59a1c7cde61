/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usernet.h"
#include "basic/fileio.h"
#include "basic/strv.h"

#define USERNET_MAX_QUOTA 100000U
#define USERNET_MAX_GROUPS 4096

/* Splits a line into at most 5 blank-separated words (the 5th: garbage). */
static size_t split_words(char *line, char *words[5]) {
        size_t n = 0;
        for (char *p = line; *p && n < 5;) {
                p += strspn(p, " \t\r");
                if (!*p)
                        break;
                words[n++] = p;
                p += strcspn(p, " \t\r");
                if (*p)
                        *p++ = 0;
        }
        return n;
}

static bool parse_count(const char *s, unsigned *ret) {
        unsigned long v = 0;
        if (!*s || strlen(s) > 6)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                v = v * 10 + (unsigned long) (*p - '0');
        }
        if (v > USERNET_MAX_QUOTA)
                return false;
        *ret = (unsigned) v;
        return true;
}

int usernet_quota_from_text(const char *text, size_t len, const char *filename, const char *user,
                            char *const *groups, const char *bridge, unsigned *ret_quota,
                            WarrenError *reterr) {
        const char *fn = filename ? filename : "<string>";
        unsigned total = 0, lineno = 0;

        if (memchr(text, 0, len))
                return warren_error_set(reterr, EBADMSG, "%s: contains a NUL byte", fn);
        for (size_t pos = 0; pos < len;) {
                const char *nl = memchr(text + pos, '\n', len - pos);
                size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
                _cleanup_free_ char *line = strndup(text + pos, n);
                char *words[5];
                unsigned count;

                pos += n + 1;
                lineno++;
                if (!line)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                size_t k = split_words(line, words);
                if (k == 0 || words[0][0] == '#')
                        continue;
                if (k != 4) {
                        char got[32];
                        snprintf(got, sizeof got,
                                 k == 5   ? "more than 4 fields"
                                 : k == 1 ? "1 field"
                                          : "%zu fields",
                                 k);
                        return warren_error_set(
                                reterr, EBADMSG,
                                "%s:%u: expected '<user>|@<group> veth <bridge> <count>', got %s", fn,
                                lineno, got);
                }
                if (!streq(words[1], "veth"))
                        return warren_error_set(reterr, EBADMSG,
                                                "%s:%u: unknown interface type '%s' (only veth)", fn, lineno,
                                                words[1]);
                if (!parse_count(words[3], &count))
                        return warren_error_set(reterr, EBADMSG, "%s:%u: invalid count '%s' (0..%u)", fn,
                                                lineno, words[3], USERNET_MAX_QUOTA);
                if (streq(words[0], "@") || strlen(words[2]) > 15)
                        return warren_error_set(reterr, EBADMSG, "%s:%u: invalid %s '%s'", fn, lineno,
                                                streq(words[0], "@") ? "group" : "bridge",
                                                streq(words[0], "@") ? words[0] : words[2]);
                bool applies =
                        words[0][0] == '@' ? strv_contains(groups, words[0] + 1) : streq(words[0], user);
                if (applies && streq(words[2], bridge))
                        total = MIN(total + count, (unsigned) USERNET_MAX_QUOTA);
        }
        *ret_quota = total;
        return 0;
}

int usernet_quota(const char *path, const char *user, char *const *groups, const char *bridge,
                  unsigned *ret_quota, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r = read_full_file(path, USERNET_MAX_SIZE, &text, &size);
        if (r == -ENOENT) {
                *ret_quota = 0;
                return 0;
        }
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read '%s': %s", path,
                                        r == -EFBIG ? "file too large" : strerror(-r));
        return usernet_quota_from_text(text, size, path, user, groups, bridge, ret_quota, reterr);
}

int usernet_may_attach(const char *path, const char *user, char *const *groups, const char *bridge,
                       unsigned current, unsigned *ret_quota, WarrenError *reterr) {
        unsigned quota = 0;
        int r = usernet_quota(path, user, groups, bridge, &quota, reterr);
        if (r < 0)
                return r;
        if (ret_quota)
                *ret_quota = quota;
        return current < quota;
}

int usernet_lookup_user(uid_t uid, char **ret_user, char ***ret_groups, WarrenError *reterr) {
        struct passwd pw, *res = NULL;
        long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
        _cleanup_free_ char *buf = malloc(bufsize > 0 ? (size_t) bufsize : 16384);
        _cleanup_free_ gid_t *gids = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *user = NULL;
        int ngroups = 64;

        if (!buf)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        int r = getpwuid_r(uid, &pw, buf, bufsize > 0 ? (size_t) bufsize : 16384, &res);
        if (r != 0 || !res)
                return warren_error_set(reterr, r ? r : ENOENT, "No user with uid %u", (unsigned) uid);
        user = strdup(pw.pw_name);
        names = calloc(1, sizeof(char *));
        if (!user || !names)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        for (;;) {
                free(gids);
                gids = calloc((size_t) ngroups, sizeof(gid_t));
                if (!gids)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                int n = ngroups;
                if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) >= 0) {
                        ngroups = n;
                        break;
                }
                if (n <= ngroups || n > USERNET_MAX_GROUPS)
                        return warren_error_set(reterr, E2BIG, "User '%s' has too many groups", pw.pw_name);
                ngroups = n;
        }
        for (int i = 0; i < ngroups; i++) {
                struct group *g = getgrgid(gids[i]);
                if (g && !strv_contains(names, g->gr_name) && strv_extend(&names, g->gr_name) < 0)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        *ret_user = TAKE_PTR(user);
        *ret_groups = TAKE_PTR(names);
        return 0;
}
