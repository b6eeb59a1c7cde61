/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "fileio.h"
#include "journal.h"
#include "macro.h"
#include "socket.h"

static int field_key_size(const struct iovec *f, size_t *ret) {
        const char *eq = memchr(f->iov_base, '=', f->iov_len);
        if (!eq || eq == f->iov_base)
                return -EINVAL;
        for (const char *p = f->iov_base; p < eq; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return -EINVAL;
        *ret = (size_t) (eq - (const char *) f->iov_base);
        return 0;
}

int journal_serialize(const struct iovec *fields, size_t n_fields, char **ret, size_t *ret_size) {
        size_t size = 0;
        for (size_t i = 0; i < n_fields; i++) {
                size_t key;
                if (field_key_size(&fields[i], &key) < 0)
                        return -EINVAL;
                /* Binary form: the '=' becomes '\n', 8 bytes of size. */
                size += fields[i].iov_len + 1 +
                        (memchr(fields[i].iov_base, '\n', fields[i].iov_len) ? 8 : 0);
        }
        _cleanup_free_ char *buf = malloc(size ? size : 1);
        if (!buf)
                return -ENOMEM;
        char *p = buf;
        for (size_t i = 0; i < n_fields; i++) {
                const char *f = fields[i].iov_base;
                size_t key, len = fields[i].iov_len;
                (void) field_key_size(&fields[i], &key);
                if (!memchr(f, '\n', len)) {
                        p = mempcpy(p, f, len);
                } else {
                        uint64_t value = len - key - 1;
                        p = mempcpy(p, f, key);
                        *p++ = '\n';
                        for (unsigned b = 0; b < 8; b++)
                                *p++ = (char) ((value >> (8 * b)) & 0xff);
                        p = mempcpy(p, f + key + 1, value);
                }
                *p++ = '\n';
        }
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* The record in a memfd that nobody can change any more (journald wants it
 * sealed), for a record above the datagram size limit. */
static int sealed_memfd(const char *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("warren-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, size);
        if (r < 0)
                return r;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int journal_send(const char *path, const struct iovec *fields, size_t n_fields) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *buf = NULL;
        size_t size;

        path = path ?: JOURNAL_SOCKET_PATH;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int r = journal_serialize(fields, n_fields, &buf, &size);
        if (r < 0)
                return r;
        /* A socket per record: a cached one could be closed under us (a
         * monitor detaching closes every fd) and its number reused. */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Connected: both sends below go there without an address. */
        if (connect(fd, (struct sockaddr *) &sa,
                    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1)) < 0)
                return -errno;
        r = send_with_fds(fd, buf, size, NULL, 0, 0);
        if (r != -EMSGSIZE && r != -ENOBUFS)
                return r;

        _cleanup_close_ int mfd = sealed_memfd(buf, size);
        if (mfd < 0)
                return mfd;
        /* Too big for a datagram: the entry goes as a sealed memfd. */
        return send_with_fds(fd, NULL, 0, &mfd, 1, 0);
}
