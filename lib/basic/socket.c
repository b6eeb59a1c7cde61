/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "socket.h"

int send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, int flags) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int) * SEND_FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n_fds > SEND_FDS_MAX)
                return -EINVAL;
        if (n_fds > 0) {
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        while (sendmsg(sock, &mh, flags | MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

ssize_t recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *ret_n_fds,
                      int flags) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int) * SEND_FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control
        };
        size_t n = 0;
        bool bad = false;
        ssize_t k;

        *ret_n_fds = 0;
        while ((k = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC)) < 0)
                if (errno != EINTR)
                        return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < m; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n < max_fds)
                                fds[n++] = fd;
                        else {
                                safe_close(fd);
                                bad = true;
                        }
                }
        }
        if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                for (size_t i = 0; i < n; i++)
                        fds[i] = safe_close(fds[i]);
                return -EBADMSG;
        }
        *ret_n_fds = n;
        return k;
}

int seqpacket_listen_private(const char *path, const char *temp_path, int backlog) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *at = temp_path ? temp_path : path;
        if (strlen(path) >= sizeof sa.sun_path || strlen(at) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", at);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (temp_path)
                (void) unlink(temp_path);
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, backlog) < 0 || (temp_path && rename(temp_path, path) < 0)) {
                r = -errno;
                if (temp_path)
                        (void) unlink(temp_path);
                return r;
        }
        return TAKE_FD(fd);
}
