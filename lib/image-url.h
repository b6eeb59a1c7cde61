/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Image server URLs as warrend checks them before any work starts: a
 * strict parser of the one form a server URL may take (no libcurl: warrend
 * links none, systemd-importd checks its URLs the same way). The worker's
 * downloads parse every URL they fetch again with libcurl
 * (image_url_check(), lib/image-download.h). */

#include <stdbool.h>

#include "basic/error.h"

#define IMAGE_SERVER_DEFAULT "https://images.linuxcontainers.org"
#define IMAGE_SERVER_URL_MAX 200U

/* The canonical form of a --server value, which also keys the image cache:
 * "host[:port][/path]" gets "https://"; scheme and host are lower-cased,
 * a default port (443, 80) and trailing '/' dropped. Accepted: "http" or
 * "https" "://" host [":" port] [path], host a name of [A-Za-z0-9._-]
 * (but nothing a URL parser reads as an IPv4 address, like 127.1 or
 * 0x7f.1), a dotted quad (127.0.0.1) or a bracketed IPv6 address in its
 * shortest form ([::1], as inet_ntop() writes it); port 1-65535; path of [A-Za-z0-9._~/+-] without '.' or
 * '..' components. A user, query or fragment, anything else, or more than IMAGE_SERVER_URL_MAX characters
 * (with the scheme added): -EINVAL; http:// to a host that is not loopback: -EPERM; each naming the value.
 */
int image_server_url(const char *server, char **ret, WarrenError *reterr);
/* true for "localhost", 127.0.0.0/8, ::1 and ::ffff:127.x.y.z ("[::1]" too). */
bool image_host_is_loopback(const char *host);
