/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-index-fetch.h"
#include "log.h"

/* Hands e's error to reterr (unless one is recorded there already). */
static void error_pass(WarrenError *reterr, WarrenError *e) {
        if (reterr && reterr->error == 0) {
                *reterr = *e;
                *e = WARREN_ERROR_NULL;
        } else
                warren_error_clear(e);
}

static int check_index_signature(const ImageIndexFetchParams *p, const char *url, const char *text,
                                 size_t size, WarrenError *reterr) {
        _cleanup_free_ char *sig_url = NULL, *sig = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        ImageDownloadOptions o = p->download;
        ImageDownloadResult res = {};
        const char *name = strrchr(url, '/') + 1;
        size_t sig_size = 0;
        int r;

        if (asprintf(&sig_url, "%s.asc", url) < 0)
                return -ENOMEM;
        o.max_size = IMAGE_SIGNATURE_MAX;
        r = image_download_buffer(sig_url, &o, &sig, &sig_size, &res, &e);
        if (r < 0 && res.http_status == 404)
                return warren_error_set(reterr, EBADE,
                                        "Verification of '%s' failed: it is not signed (the server has no "
                                        "%s.asc) and this server's images must be signed by a key of "
                                        "keyring '%s'",
                                        name, name, p->keyring);
        if (r < 0) {
                error_pass(reterr, &e);
                return r;
        }
        return image_verifier_check(p->verifier, -EBADF, text, size, sig, sig_size, name, reterr);
}

int image_index_fetch(const ImageIndexFetchParams *p, char **ret_text, size_t *ret_size, char **ret_url,
                      WarrenError *reterr) {
        _cleanup_free_ char *text = NULL, *url = NULL;
        size_t size = 0;
        int r = 0;

        /* index-<mode>.7 first, then index-<mode>, as lxc-download does. */
        for (int compat = 1; compat >= 0; compat--) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                ImageDownloadResult res = {};
                free(url);
                free(text);
                text = NULL;
                url = image_index_url(p->server, p->mode, compat);
                if (!url)
                        return -ENOMEM;
                r = image_download_buffer(url, &p->download, &text, &size, &res, compat ? &e : reterr);
                /* index-<mode>.7 is optional: fall back on any HTTP error status. */
                if (r < 0 && compat && res.http_status >= 400 && res.http_status < 500) {
                        log_debug("No compat index: %s", warren_error_message(&e));
                        continue;
                }
                if (r < 0 && compat)
                        error_pass(reterr, &e);
                break;
        }
        if (r >= 0 && p->verifier)
                r = check_index_signature(p, url, text, size, reterr);
        if (ret_url)
                *ret_url = TAKE_PTR(url);
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(text);
        *ret_size = size;
        return 0;
}
