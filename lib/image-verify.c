/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "image-verify.h"
#include "log.h"

struct ImageVerifier {
        gpgme_ctx_t ctx;
        char *keyring;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_data_t, gpgme_data_release);

ImageVerifier *image_verifier_free(ImageVerifier *v) {
        if (!v)
                return NULL;
        if (v->ctx)
                gpgme_release(v->ctx);
        free(v->keyring);
        free(v);
        return NULL;
}

static int gpg_errno(gpgme_error_t err) {
        int e = gpgme_err_code_to_errno(gpgme_err_code(err));
        return e > 0 ? e : EIO;
}

static int verifier_init(WarrenError *reterr) {
        static bool done = false;
        gpgme_error_t err;
        if (done)
                return 0;
        if (!gpgme_check_version(NULL))
                return warren_error_set(reterr, ENOTSUP, "gpgme failed to initialize");
        err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
        if (err)
                return warren_error_set(reterr, ENOTSUP, "No usable gpg for signature checks (gpgme: %s)",
                                        gpgme_strerror(err));
        done = true;
        return 0;
}

/* The keyring decides which images root accepts: only root may have written it. */
int image_keyring_open(const char *keyring, WarrenError *reterr) {
        _cleanup_close_ int fd = open(keyring, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        struct stat st;
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open keyring '%s': %m", keyring);
        if (fstat(fd, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat keyring '%s': %m", keyring);
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022))
                return warren_error_set(reterr, EPERM,
                                        "Refusing keyring '%s': it must be a regular file owned by root and "
                                        "not writable by group or others (it is uid %u, mode %04o)",
                                        keyring, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        if (st.st_size > IMAGE_KEYRING_MAX)
                return warren_error_set(reterr, EFBIG, "Refusing keyring '%s': larger than %u bytes",
                                        keyring, IMAGE_KEYRING_MAX);
        return TAKE_FD(fd);
}

int image_verifier_new(const char *keyring, const char *home_dir, ImageVerifier **ret, WarrenError *reterr) {
        _cleanup_close_ int fd = image_keyring_open(keyring, reterr);
        if (fd < 0)
                return fd;
        return image_verifier_new_fd(fd, keyring, home_dir, ret, reterr);
}

int image_verifier_new_fd(int keyring_fd, const char *keyring, const char *home_dir, ImageVerifier **ret,
                          WarrenError *reterr) {
        _cleanup_(image_verifier_freep) ImageVerifier *v = calloc(1, sizeof *v);
        _cleanup_(gpgme_data_releasep) gpgme_data_t keys = NULL;
        _cleanup_close_ int hfd = -EBADF;
        gpgme_import_result_t ir;
        gpgme_error_t err;
        int r;

        if (!v || !(v->keyring = strdup(keyring)))
                return -ENOMEM;
        r = verifier_init(reterr);
        if (r < 0)
                return r;
        if (mkdir(home_dir, 0700) < 0)
                return warren_error_set(reterr, errno, "Failed to create GnuPG home '%s': %m", home_dir);
        /* Nothing may be fetched from elsewhere: the keyring is all we trust. */
        hfd = open(home_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (hfd < 0)
                return warren_error_set(reterr, errno, "Failed to open GnuPG home '%s': %m", home_dir);
        static const char conf[] = "no-auto-key-retrieve\nno-autostart\n";
        r = write_file_atomic_at(hfd, "gpg.conf", conf, sizeof conf - 1, 0600);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write '%s/gpg.conf': %s", home_dir,
                                        strerror(-r));

        err = gpgme_new(&v->ctx);
        if (!err)
                err = gpgme_set_protocol(v->ctx, GPGME_PROTOCOL_OpenPGP);
        if (!err)
                err = gpgme_ctx_set_engine_info(v->ctx, GPGME_PROTOCOL_OpenPGP, NULL, home_dir);
        if (err)
                return warren_error_set(reterr, gpg_errno(err), "Failed to set up gpgme: %s",
                                        gpgme_strerror(err));
        gpgme_set_offline(v->ctx, 1);
        gpgme_set_keylist_mode(v->ctx, GPGME_KEYLIST_MODE_LOCAL);

        err = gpgme_data_new_from_fd(&keys, keyring_fd);
        if (!err)
                err = gpgme_op_import(v->ctx, keys);
        if (err)
                return warren_error_set(reterr, EINVAL, "Failed to import keyring '%s': %s", keyring,
                                        gpgme_strerror(err));
        ir = gpgme_op_import_result(v->ctx);
        if (!ir || ir->imported == 0)
                return warren_error_set(reterr, EINVAL, "Keyring '%s' holds no OpenPGP public key", keyring);
        log_debug("Imported %d key(s) from '%s'", ir->imported, keyring);
        *ret = TAKE_PTR(v);
        return 0;
}

/* Why one signature is not good enough; NULL if it is. */
static const char *signature_problem(gpgme_signature_t s, char *buf, size_t size) {
        gpgme_err_code_t code = gpgme_err_code(s->status);
        if (code == GPG_ERR_NO_PUBKEY) {
                snprintf(buf, size, "made by key %s, which is not in the keyring", strna(s->fpr));
                return buf;
        }
        if (code != GPG_ERR_NO_ERROR) {
                snprintf(buf, size, "%s (key %s)", gpgme_strerror(s->status), strna(s->fpr));
                return buf;
        }
        if (s->summary & (GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED |
                          GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_MISSING)) {
                snprintf(buf, size, "key %s is %s", strna(s->fpr),
                         s->summary & GPGME_SIGSUM_KEY_REVOKED   ? "revoked"
                         : s->summary & GPGME_SIGSUM_KEY_EXPIRED ? "expired"
                         : s->summary & GPGME_SIGSUM_SIG_EXPIRED ? "past the signature's expiry"
                                                                 : "not usable");
                return buf;
        }
        return NULL;
}

int image_verifier_check(ImageVerifier *v, int data_fd, const void *data, size_t size, const void *sig,
                         size_t sig_size, const char *what, WarrenError *reterr) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t d = NULL, s = NULL;
        gpgme_verify_result_t vr;
        gpgme_error_t err;
        unsigned n = 0;
        char why[512];

        if (sig_size == 0 || sig_size > IMAGE_SIGNATURE_MAX)
                return warren_error_set(reterr, EBADE, "Verification of '%s' failed: its signature is %s",
                                        what, sig_size == 0 ? "empty" : "too large");
        if (data_fd >= 0 && lseek(data_fd, 0, SEEK_SET) < 0)
                return warren_error_set(reterr, errno, "Failed to rewind '%s': %m", what);
        err = data_fd >= 0 ? gpgme_data_new_from_fd(&d, data_fd)
                           : gpgme_data_new_from_mem(&d, data, size, 0);
        if (!err)
                err = gpgme_data_new_from_mem(&s, sig, sig_size, 0);
        if (err)
                return warren_error_set(reterr, gpg_errno(err), "Failed to read '%s' for its signature: %s",
                                        what, gpgme_strerror(err));
        err = gpgme_op_verify(v->ctx, s, d, NULL);
        if (err)
                return warren_error_set(reterr, EBADE, "Verification of '%s' failed: %s", what,
                                        gpgme_err_code(err) == GPG_ERR_NO_DATA ? "its signature holds no "
                                                                                 "OpenPGP signature"
                                                                               : gpgme_strerror(err));
        vr = gpgme_op_verify_result(v->ctx);
        for (gpgme_signature_t g = vr ? vr->signatures : NULL; g; g = g->next, n++) {
                const char *p = signature_problem(g, why, sizeof why);
                if (p)
                        return warren_error_set(reterr, EBADE,
                                                "Verification of '%s' failed: signature %s (keyring '%s')",
                                                what, p, v->keyring);
        }
        if (n == 0)
                return warren_error_set(reterr, EBADE, "Verification of '%s' failed: no signature in it",
                                        what);
        return 0;
}
