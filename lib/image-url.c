/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "image-url.h"

bool image_host_is_loopback(const char *host) {
        char buf[INET6_ADDRSTRLEN + 2];
        struct in_addr a4;
        struct in6_addr a6;
        size_t n;

        if (isempty(host))
                return false;
        if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
                return true;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        n = strlen(host);
        if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof buf) {
                memcpy(buf, host + 1, n - 2);
                buf[n - 2] = 0;
                host = buf;
        }
        if (inet_pton(AF_INET6, host, &a6) == 1) {
                if (IN6_IS_ADDR_LOOPBACK(&a6))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
        }
        return false;
}

static bool in_set(char c, const char *extra) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != 0 && strchr(extra, c));
}

/* Characters a server URL's path may hold: no escapes, no query. */
static bool server_path_ok(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!in_set(p[i], "._~/+-"))
                        return false;
        /* No "." or ".." component: it is joined with index paths. */
        for (size_t i = 0; i < n;) {
                size_t k = 0;
                while (i + k < n && p[i + k] != '/')
                        k++;
                if ((k == 1 && p[i] == '.') || (k == 2 && p[i] == '.' && p[i + 1] == '.'))
                        return false;
                i += k;
                while (i < n && p[i] == '/')
                        i++;
        }
        return true;
}

static void lowercase(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

/* Whether a URL parser reads h as an IPv4 address: one to four '.'
 * separated numbers, each decimal, octal (0...) or hex (0x...), as
 * inet_aton() and libcurl do ("127.1", "0x7f.1", "2130706433"). */
static bool numeric_host(const char *h, size_t n) {
        size_t parts = 0;
        for (size_t i = 0; i <= n; parts++) {
                size_t k = 0;
                while (i + k < n && h[i + k] != '.')
                        k++;
                const char *p = h + i;
                bool num = k > 0;
                if (k > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                        for (size_t j = 2; j < k; j++)
                                num = num && ((p[j] >= '0' && p[j] <= '9') || (p[j] >= 'a' && p[j] <= 'f') ||
                                              (p[j] >= 'A' && p[j] <= 'F'));
                } else
                        for (size_t j = 0; j < k; j++)
                                num = num && p[j] >= '0' && p[j] <= '9';
                if (!num)
                        return false;
                i += k + 1;
        }
        return parts <= 4;
}

/* A dotted quad as inet_ntop() writes it: four decimal parts, no leading zeros. */
static bool plain_dotted_quad(const char *h, size_t n) {
        char buf[INET_ADDRSTRLEN], back[INET_ADDRSTRLEN];
        struct in_addr a4;
        if (n >= sizeof buf)
                return false;
        memcpy(buf, h, n);
        buf[n] = 0;
        return inet_pton(AF_INET, buf, &a4) == 1 && inet_ntop(AF_INET, &a4, back, sizeof back) &&
               streq(buf, back);
}

/* The host as the cache keys it, or -EINVAL: a bracketed IPv6 address
 * written as inet_ntop() writes it, a dotted quad, or a name. What a URL parser would
 * read as an address must be written as the plain dotted quad: "127.1"
 * would mean 127.0.0.1 to libcurl, a name to us. */
static int parse_host(const char *h, size_t n, char **ret) {
        char buf[INET6_ADDRSTRLEN + 1];
        if (n == 0 || n >= 254)
                return -EINVAL;
        if (h[0] == '[') {
                struct in6_addr a6;
                if (n < 3 || h[n - 1] != ']' || n - 2 >= sizeof buf)
                        return -EINVAL;
                char norm[INET6_ADDRSTRLEN];
                memcpy(buf, h + 1, n - 2);
                buf[n - 2] = 0;
                lowercase(buf);
                /* Only the form inet_ntop() writes: URL parsers rewrite
                 * others each their own way, and the cache is keyed on it. */
                if (inet_pton(AF_INET6, buf, &a6) != 1 || !inet_ntop(AF_INET6, &a6, norm, sizeof norm) ||
                    !streq(buf, norm))
                        return -EINVAL;
                return asprintf(ret, "[%s]", buf) < 0 ? -ENOMEM : 0;
        }
        for (size_t i = 0; i < n; i++)
                if (!in_set(h[i], "._-"))
                        return -EINVAL;
        if (numeric_host(h, n) && !plain_dotted_quad(h, n))
                return -EINVAL;
        char *s = strndup(h, n);
        if (!s)
                return -ENOMEM;
        lowercase(s);
        *ret = s;
        return 0;
}

int image_server_url(const char *server, char **ret, WarrenError *reterr) {
        _cleanup_free_ char *in = NULL, *scheme = NULL, *host = NULL, *out = NULL;
        unsigned long port = 0;
        int r;

        if (isempty(server) || strlen(server) > IMAGE_SERVER_URL_MAX)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image server '%.64s': must be 1-%u characters",
                                        strempty(server), IMAGE_SERVER_URL_MAX);
        if (strstr(server, "://"))
                in = strdup(server);
        else if (asprintf(&in, "https://%s", server) < 0)
                in = NULL;
        if (!in)
                return -ENOMEM;
        /* The canonical form must pass here again. */
        if (strlen(in) > IMAGE_SERVER_URL_MAX)
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid image server '%.64s': must be 1-%u characters with its https://", server,
                        IMAGE_SERVER_URL_MAX);

        /* scheme "://" [user "@"] host [":" port] [path] ["?" query] ["#" fragment] */
        const char *sep = strstr(in, "://");
        size_t sl = (size_t) (sep - in);
        bool scheme_ok = sl > 0 && ((in[0] >= 'a' && in[0] <= 'z') || (in[0] >= 'A' && in[0] <= 'Z'));
        for (size_t i = 0; i < sl; i++)
                scheme_ok = scheme_ok && in_set(in[i], "+.-");
        if (!scheme_ok)
                return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s'", in);
        scheme = strndup(in, sl);
        if (!scheme)
                return -ENOMEM;
        lowercase(scheme);
        const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
        const char *at = memrchr(auth, '@', (size_t) (end - auth));
        const char *hs = at ? at + 1 : auth, *he = end;
        /* The port: after the last ':' outside brackets. */
        const char *colon = memrchr(hs, ':', (size_t) (he - hs));
        if (colon && !(hs[0] == '[' && memchr(colon, ']', (size_t) (he - colon)))) {
                const char *p = colon + 1;
                char *e = NULL;
                if (p == he || *p < '0' || *p > '9' || he - p > 5)
                        return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s': bad port",
                                                in);
                port = strtoul(p, &e, 10);
                if (e != he || port == 0 || port > 65535)
                        return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s': bad port",
                                                in);
                he = colon;
        }
        r = parse_host(hs, (size_t) (he - hs), &host);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return warren_error_set(reterr, EINVAL, "Invalid image server URL '%s': bad host", in);

        if (!streq(scheme, "https") && !streq(scheme, "http"))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image server URL '%s': scheme must be https", in);
        if (streq(scheme, "http") && !image_host_is_loopback(host))
                return warren_error_set(reterr, EPERM,
                                        "Refusing plain http:// image server URL '%s': only https is "
                                        "allowed, except to a loopback host (127.0.0.0/8, ::1, localhost)",
                                        in);
        if (at || *end == '?' || *end == '#' || strpbrk(end, "?#"))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image server URL '%s': no user, query or fragment allowed",
                                        in);
        size_t pl = strlen(end);
        if (!server_path_ok(end, pl))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid image server URL '%s': its path may hold only "
                                        "[A-Za-z0-9._~/+-], without '.' or '..' components",
                                        in);
        while (pl > 0 && end[pl - 1] == '/')
                pl--;
        /* The port only if it is not the scheme's own. */
        if (port == (streq(scheme, "https") ? 443 : 80))
                port = 0;
        char ps[8] = "";
        if (port > 0)
                snprintf(ps, sizeof ps, ":%lu", port);
        if (asprintf(&out, "%s://%s%s%.*s", scheme, host, ps, (int) pl, end) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}
