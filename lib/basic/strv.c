/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        int r = strv_consume(l, v);
        if (r < 0)
                free(v);
        return r;
}

char **strv_split(const char *s, const char *separators) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return NULL;
        while (*s) {
                size_t skip = strspn(s, separators);
                s += skip;
                size_t len = strcspn(s, separators);
                if (len == 0)
                        break;
                char *f = strndup(s, len);
                if (!f || strv_consume(&l, f) < 0) {
                        free(f);
                        return NULL;
                }
                s += len;
        }
        return TAKE_PTR(l);
}

char *strv_join(char *const *l, const char *separator) {
        size_t seplen = strlen(separator), len = 0, n = 0;
        STRV_FOREACH(i, l) {
                len += strlen(*i);
                n++;
        }
        if (n > 0)
                len += seplen * (n - 1);
        char *r = malloc(len + 1), *p = r;
        if (!r)
                return NULL;
        STRV_FOREACH(i, l) {
                if (i != l) {
                        memcpy(p, separator, seplen);
                        p += seplen;
                }
                size_t k = strlen(*i);
                memcpy(p, *i, k);
                p += k;
        }
        *p = 0;
        return r;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}
