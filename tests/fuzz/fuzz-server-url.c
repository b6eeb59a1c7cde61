/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Feeds arbitrary bytes to warrend's server URL parser (a caller's
 * --server value reaches it as root) and checks what it promises: a
 * refusal says why; an accepted URL is canonical (parsing it again gives
 * it back), at most "https://" longer than its input, and libcurl (which
 * the worker fetches it with) reads the same scheme, host and path from
 * it. Aborts if not. */
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool curl_agrees(const char *url) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *path = NULL;
        bool same = false;
        if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_PATH_AS_IS) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
                const char *h = strstr(url, "://") + 3;
                same = strncmp(url, scheme, strlen(scheme)) == 0 && strncmp(h, host, strlen(host)) == 0 &&
                       (streq(path, "/") || strstr(url, path));
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(path);
        curl_url_cleanup(u);
        return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_free_ char *in = NULL, *out = NULL, *again = NULL;

        if (size > 4 * IMAGE_SERVER_URL_MAX || !(in = strndup((const char *) data, size)))
                return 0;
        if (image_server_url(in, &out, &e) < 0) {
                if (e.error == 0 || !e.message)
                        abort(); /* refusals always say why */
                return 0;
        }
        if (strlen(out) > strlen(in) + strlen("https://"))
                abort();
        if (image_server_url(out, &again, NULL) < 0 || !streq(out, again))
                abort(); /* not canonical */
        if (!curl_agrees(out))
                abort();
        return 0;
}
