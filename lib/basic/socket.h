/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A listening AF_UNIX SOCK_SEQPACKET socket at path, non-blocking and
 * O_CLOEXEC, born 0600 (bound under umask 0177): for root's own sockets
 * under a 0700 directory. With temp_path (in the same directory), it is
 * bound there and renamed to path once it listens, so path appears only
 * when a connect to it can succeed. Returns the fd, or -errno
 * (-ENAMETOOLONG if a path does not fit a sockaddr_un). */
int seqpacket_listen_private(const char *path, const char *temp_path, int backlog);
