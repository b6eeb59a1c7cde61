/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/image-url: warrend's server URL parser, checked against libcurl's
 * (what image_server_url() used before warrend stopped linking libcurl):
 * whatever it accepts, curl accepts and canonicalizes the same way, so the
 * cache keys of existing caches stay; what it refuses beyond curl is listed. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-download.h"
#include "image-url.h"
#include "tap.h"

static void curl_freep(char **p) {
        curl_free(*p);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLU *, curl_url_cleanup);

static bool path_ok(const char *p) {
        for (const char *c = p; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr("._~/+-", *c)))
                        return false;
        for (const char *c = p; *c;) {
                size_t k = strcspn(c, "/");
                if ((k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += k;
                c += strspn(c, "/");
        }
        return true;
}

/* The former image_server_url(), through libcurl's URL API. */
static int curl_server_url(const char *server, char **ret) {
        _cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
        _cleanup_(curl_freep) char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL,
                                   *query = NULL, *fragment = NULL;
        _cleanup_free_ char *in = NULL, *out = NULL;
        if (!u || !server || !*server || strlen(server) > IMAGE_SERVER_URL_MAX)
                return -EINVAL;
        if (strstr(server, "://"))
                in = strdup(server);
        else if (asprintf(&in, "https://%s", server) < 0)
                in = NULL;
        if (!in)
                return -ENOMEM;
        int r = image_url_check(in, NULL);
        if (r < 0)
                return r;
        if (curl_url_set(u, CURLUPART_URL, in, CURLU_PATH_AS_IS) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
                return -EINVAL;
        if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
            curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
            curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK || !path_ok(path))
                return -EINVAL;
        for (char *c = scheme; *c; c++)
                *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        for (char *c = host; *c; c++)
                *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
            streq(port, streq(scheme, "https") ? "443" : "80"))
                port = (curl_free(port), NULL);
        if (asprintf(&out, "%s://%s%s%s%s", scheme, host, port ? ":" : "", strempty(port), path) < 0)
                return -ENOMEM;
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '/')
                out[--n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static const char *const inputs[] = {
        "images.example.org",
        "https://images.example.org/mirror//",
        "HTTPS://Images.Example.ORG:443/A/b/",
        "https://h:8443",
        "https://h:8443/",
        "https://h:00443/x",
        "https://h:65535",
        "https://h:1",
        "http://127.0.0.1:8080/x",
        "http://127.9.8.7",
        "http://localhost:80/",
        "http://LOCALHOST/",
        "http://[::1]:8080/",
        "https://[2001:DB8::1]/",
        "http://[::ffff:127.0.0.1]/",
        "https://[::0.1.0.1]/",
        "https://[1::]/",
        "https://[::]:8443/",
        "https://h_1.example/",
        "https://h/~user/+x-y_z",
        "https://0xz.example/",
        "https://1.2.3.4.5/",
        "https://1e100.net/",
        "https://h//x//",
        "https://h.example.",
        "h/a/b",
        "https://h/a.b/.c/..d",
        /* refused by both */
        "http://example.org/",
        "http://10.0.0.1/",
        "ftp://h/",
        "file:///etc/passwd",
        "https://",
        "https:///x",
        "https://user@h/",
        "https://u:p@h/",
        "https://h/?q",
        "https://h/#f",
        "https://h/a b",
        "https://h/%41",
        "https://h/./x",
        "https://h/../x",
        "https://h/a/../b",
        "https://h:65536",
        "https://h:x",
        "gopher://h/",
        "https://h\t/",
        "https://exa mple/",
        "https://h/a?b#c",
        "://h",
        "https://[::1/",
        /* refused by us only: see image-url.h */
        "https://h:",
        "https://h:0",
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://010.0.0.1/",
        "https://0X1/",
        "https://1.2.0x3.4/",
        "https://1.2.3/",
        "https://4294967295/",
        "https://ex%61mple.org/",
        "https://[::1%25lo]/",
        "https://caf\xc3\xa9.example/",
        "https://h!x/",
        "https://h$/",
        "https://[0:0::1]/",
        "https://[::1:1]/",
        "https://[0::1:1]/",
        "https://[::FFFF:7f00:1]/",
        "https://[2001:db8:0:0:0:0:0:1]/",
};

int main(void) {
        size_t agree = 0, stricter = 0;
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                _cleanup_free_ char *ours = NULL, *theirs = NULL;
                int r = image_server_url(inputs[i], &ours, NULL);
                int k = curl_server_url(inputs[i], &theirs);
                if (r >= 0) {
                        ok(k >= 0 && streq(ours, theirs), "'%s' -> '%s' as with libcurl ('%s')", inputs[i],
                           ours, strna(theirs));
                        agree++;
                } else if (k >= 0) {
                        ok(r == -EINVAL, "'%s' refused (libcurl: '%s'), -EINVAL", inputs[i], theirs);
                        stricter++;
                } else {
                        ok(r == -EINVAL || r == -EPERM, "'%s' refused as by libcurl (%d, %d)", inputs[i], r,
                           k);
                        ok((r == -EPERM) == (k == -EPERM), "with the same error kind");
                }
        }
        printf("# %zu accepted alike, %zu refused only here\n", agree, stricter);

        WarrenError e = WARREN_ERROR_NULL;
        char *u = NULL;
        is(image_server_url("http://example.org/x", &u, &e), -EPERM, "plain http to a public host");
        like(e.message, "only https is allowed", "saying so");
        warren_error_clear(&e);
        is(image_server_url("https://h/x?y=1", &u, &e), -EINVAL, "a query");
        like(e.message, "no user, query or fragment allowed", "saying so");
        warren_error_clear(&e);
        is(image_server_url("https://h/a/../b", &u, &e), -EINVAL, "a '..' component");
        like(e.message, "'https://h/a/../b'", "naming the URL");
        warren_error_clear(&e);
        is(image_server_url("https://127.1/", &u, &e), -EINVAL, "a shorthand address");
        like(e.message, "bad host", "as a bad host");
        warren_error_clear(&e);
        char big[IMAGE_SERVER_URL_MAX + 2];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        is(image_server_url(big, &u, &e), -EINVAL, "over %u characters", IMAGE_SERVER_URL_MAX);
        warren_error_clear(&e);
        return done_testing();
}
