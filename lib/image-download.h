/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* HTTP(S) downloads from an image server (libcurl), for warren-worker
 * (never warrend itself). HTTPS with the system CA store; plain http://
 * only to loopback hosts (127.0.0.0/8, ::1, localhost), so tests can serve a
 * fixture. Every download has a size limit, connect and low-speed timeouts,
 * and is tried up to 3 times. Failures are -ECOMM with a message naming the
 * URL and the reason (HTTP status, timeout, too large, ...).
 *
 * No threads: curl's resolver is threaded in Debian's build, so each host
 * name is resolved here first (getaddrinfo) and handed to curl as a
 * CURLOPT_RESOLVE entry; redirects are followed by hand for the same reason
 * (and to apply the same URL rules to their targets). Proxies from the
 * environment are not used. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image-sums.h"
#include "image-url.h"

#define IMAGE_DOWNLOAD_MAX_REDIRECTS 5U

/* Called as data arrives; a negative return cancels the download (-ECANCELED). */
typedef int (*ImageProgressFunc)(uint64_t done, uint64_t total, void *userdata);

typedef struct ImageDownloadOptions {
        uint64_t max_size;          /* bytes; required (>0) */
        unsigned connect_timeout_s; /* 0: 30 */
        unsigned low_speed_time_s;  /* abort when slower than low_speed_limit for this long; 0: 30 */
        unsigned low_speed_limit;   /* bytes/s; 0: 1 */
        unsigned attempts;          /* 0: 3 */
        unsigned retry_delay_ms;    /* pause between attempts (0: none) */
        ImageProgressFunc progress;
        void *userdata;
} ImageDownloadOptions;

typedef struct ImageDownloadResult {
        uint64_t size;
        uint8_t sha256[SHA256_DIGEST_SIZE];
        long http_status;  /* of the last response, 0 if none */
        unsigned attempts; /* how many were made */
} ImageDownloadResult;

/* "warren/<version> compat:7": LXC's download template sends
 * "lxc/<version> compat:<level>"; servers key the index format on it. */
const char *image_user_agent(void);

/* https:// to any host; http:// only if the host is loopback. -EINVAL for a
 * malformed URL or another scheme, -EPERM for http to a non-loopback host,
 * each naming the URL. */
int image_url_check(const char *url, WarrenError *reterr);
/* base + "/" + path, with duplicate slashes at the seam removed; NULL on ENOMEM. */
char *image_url_join(const char *base, const char *path);

/* Downloads url into fd (a regular file, truncated first and on each
 * retry), hashing on the way. ret may be NULL. */
int image_download_fd(const char *url, int fd, const ImageDownloadOptions *o, ImageDownloadResult *ret,
                      WarrenError *reterr);
/* Downloads url into a NUL-terminated malloc'd buffer. */
int image_download_buffer(const char *url, const ImageDownloadOptions *o, char **ret_data, size_t *ret_size,
                          ImageDownloadResult *ret, WarrenError *reterr);
