/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Image servers the administrator trusts, like Incus remotes and LXC's
 * --server: /etc/warren/remotes.conf (root-owned, not writable by others).
 *
 *   # comment
 *   default = images            (optional, before any section: the remote
 *                                used without --server; default "images")
 *   [images]
 *   url = https://images.linuxcontainers.org
 *   keyring = /etc/warren/keyrings/images.gpg   (optional: OpenPGP public
 *                                keys; every image must then be signed by one)
 *   users = yes                 (may ordinary users use it? default no)
 *
 * Without the file there is one remote, "images", at
 * IMAGE_SERVER_DEFAULT, without a keyring, open to users.
 *
 * A --server value is a remote's name or a URL; a URL whose canonical form
 * (image_server_url()) is a listed remote's URL is that remote, anything
 * else is an ad-hoc server. The caller decides what each may do (root:
 * anything; others: listed remotes with users = yes share the cache, ad-hoc
 * servers get a cache partition of their own). */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

#define IMAGE_REMOTES_FILE "remotes.conf"
#define IMAGE_REMOTE_DEFAULT_NAME "images"
#define IMAGE_REMOTES_MAX 64U
#define IMAGE_REMOTES_FILE_MAX (64U * 1024U)

typedef struct ImageRemote {
        char *name;
        char *url;     /* canonical */
        char *keyring; /* absolute path; NULL: no signature required */
        bool users;    /* ordinary users may use it */
} ImageRemote;

typedef struct ImageRemotes {
        ImageRemote *remotes;
        size_t n;
        char *default_name;
} ImageRemotes;

/* Parses remotes.conf text (origin names it in messages). Unknown keys,
 * a bad name, URL or keyring path, a duplicate name or URL, a section
 * without url, or a default that names no remote: -EINVAL naming the file,
 * line and value. */
int image_remotes_parse(const char *text, size_t size, const char *origin, ImageRemotes **ret,
                        WarrenError *reterr);
/* Reads remotes.conf from the first of dirs (NULL-terminated: the
 * administrator's config dir, then the vendor's data dir) that has one;
 * none gives the built-in default. The file must be a regular file owned by root (or by us) and
 * not writable by group or others (-EPERM naming it), as it decides whom
 * root trusts. */
int image_remotes_load(const char *const *dirs, ImageRemotes **ret, WarrenError *reterr);
ImageRemotes *image_remotes_free(ImageRemotes *rs);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageRemotes *, image_remotes_free);
#define _cleanup_image_remotes_ _cleanup_(image_remotes_freep)

/* Borrowed; NULL if none. */
const ImageRemote *image_remotes_find_name(const ImageRemotes *rs, const char *name);
const ImageRemote *image_remotes_find_url(const ImageRemotes *rs, const char *canonical_url);

/* Where a --server value (NULL or "": the default remote) points. */
typedef struct ImageServerChoice {
        char *url;     /* canonical */
        char *remote;  /* the listed remote's name; NULL: an ad-hoc server */
        char *keyring; /* the remote's keyring; NULL: none */
        bool users;    /* a listed remote open to ordinary users */
} ImageServerChoice;

/* -EINVAL naming the value if it is neither a remote's name nor a valid
 * server URL; -ENOENT if the default remote is asked for and none is
 * listed. */
int image_remotes_resolve(const ImageRemotes *rs, const char *server, ImageServerChoice *ret,
                          WarrenError *reterr);
void image_server_choice_done(ImageServerChoice *c);
