/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fetching a server's index the way lxc-download does, and trusting none
 * of it before its signature checks out: the one place both the pull
 * (image_cache_fetch()) and the listing (Manager.ListRemoteImages) get an
 * index from. */

#include <stddef.h>

#include "basic/error.h"
#include "image-download.h"
#include "image-index.h"
#include "image-verify.h"

typedef struct ImageIndexFetchParams {
        const char *server; /* canonical (image_server_url()) */
        ImageMode mode;
        ImageDownloadOptions download; /* its max_size bounds the index */
        /* The remote's keyring as a verifier (made by the caller, who owns
         * its GnuPG home) and its path for messages; NULL: the index is
         * taken unsigned (a remote without a keyring, or --no-verify). */
        ImageVerifier *verifier;
        const char *keyring;
} ImageIndexFetchParams;

/* Downloads <server>/meta/1.0/index-<mode>.7, else (any 4xx) index-<mode>;
 * with a verifier also <that URL>.asc, and checks it over the index before
 * returning a byte of it. An absent signature (404) or a bad one: -EBADE,
 * "Verification of 'index-<mode>[.7]' failed: ..." naming the file and the
 * keyring. Download errors as image_download_buffer() (-ECOMM when the
 * server cannot be reached). ret_url (may be NULL) gets the index's URL,
 * also on failure once known. */
int image_index_fetch(const ImageIndexFetchParams *p, char **ret_text, size_t *ret_size, char **ret_url,
                      WarrenError *reterr);
