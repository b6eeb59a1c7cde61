/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Detached OpenPGP signatures of image files, checked the way LXC's
 * download template checks them with gpg, but with gpgme and against one
 * remote's keyring only: the keyring is imported into a fresh GnuPG home
 * (a directory the caller owns and removes), so a signature counts only if
 * a key of that keyring made it. No key server, no agent, no trust
 * database decides anything. For the image job (in warren-worker): gpgme runs gpg as a
 * child of the caller. */

#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

#define IMAGE_SIGNATURE_MAX (64U * 1024U) /* bytes of one .asc file */
#define IMAGE_KEYRING_MAX (1024U * 1024U)

typedef struct ImageVerifier ImageVerifier;

/* Makes home_dir (must not exist; mode 0700) a GnuPG home holding the keys
 * of keyring, a file of OpenPGP public keys (binary or armored) that must be
 * a regular file owned by root (or by us) and not writable by group or
 * others (-EPERM). A keyring without any key: -EINVAL naming it. */
int image_verifier_new(const char *keyring, const char *home_dir, ImageVerifier **ret, WarrenError *reterr);
/* The same in two steps, for a caller that drops its privileges between
 * them: image_keyring_open() opens keyring (a new fd, or -errno with the
 * checks above), image_verifier_new_fd() imports it from that fd (keyring
 * names it in messages). */
int image_keyring_open(const char *keyring, WarrenError *reterr);
int image_verifier_new_fd(int keyring_fd, const char *keyring, const char *home_dir, ImageVerifier **ret,
                          WarrenError *reterr);
ImageVerifier *image_verifier_free(ImageVerifier *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageVerifier *, image_verifier_free);
#define _cleanup_image_verifier_ _cleanup_(image_verifier_freep)

/* Checks the detached signature sig (sig_size bytes, armored or binary)
 * over the file data_fd (from offset 0) or, if data_fd < 0, over data
 * (size bytes). It must hold at least one signature and every signature in
 * it must be good, by a key of the keyring that is not expired or revoked.
 * Otherwise -EBADE naming what (e.g. "SHA256SUMS") and why. */
int image_verifier_check(ImageVerifier *v, int data_fd, const void *data, size_t size, const void *sig,
                         size_t sig_size, const char *what, WarrenError *reterr);
