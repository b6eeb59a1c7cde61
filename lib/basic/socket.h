/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* A listening AF_UNIX SOCK_SEQPACKET socket at path, non-blocking and
 * O_CLOEXEC, born 0600 (bound under umask 0177): for root's own sockets
 * under a 0700 directory. With temp_path (in the same directory), it is
 * bound there and renamed to path once it listens, so path appears only
 * when a connect to it can succeed. Returns the fd, or -errno
 * (-ENAMETOOLONG if a path does not fit a sockaddr_un). */
int seqpacket_listen_private(const char *path, const char *temp_path, int backlog);

/* The most fds send_with_fds() passes in one message. */
#define SEND_FDS_MAX 8U

/* Sends len bytes of buf (len 0: an empty message) with n_fds fds as
 * SCM_RIGHTS (none if n_fds is 0), with flags | MSG_NOSIGNAL, retrying
 * EINTR. Returns 0, or -errno (-EINVAL for more than SEND_FDS_MAX fds). */
int send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, int flags);

/* Receives one message into buf (up to len bytes) and the fds passed with
 * it (O_CLOEXEC), with flags, retrying EINTR. Returns the message's length
 * (0: the peer closed), or -errno. A message cut short (MSG_TRUNC,
 * MSG_CTRUNC) or with more than max_fds fds is -EBADMSG, and then no fd is
 * kept: each is closed. *ret_n_fds says how many fds[] holds. */
ssize_t recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *ret_n_fds,
                      int flags);
