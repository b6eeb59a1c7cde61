/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Records for systemd-journald, written in its native protocol (systemd's
 * docs/JOURNAL_NATIVE_PROTOCOL.md) without libsystemd, so that a process
 * that logs (every warren-monitor) need not load it. A record is a list of
 * "KEY=value" fields; each is sent as "KEY=value\n", or, when the value
 * holds a newline, as "KEY\n", the value's size as a 64-bit little-endian
 * integer, the value and "\n". The record goes as one datagram to the
 * journal's AF_UNIX socket; one too big for a datagram goes as a sealed
 * memfd holding the same bytes, passed with an empty datagram. */

#include <stddef.h>

struct iovec;

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* The serialized record (malloc'd). -EINVAL if a field has no '=' or its
 * key is empty or holds a control character. */
int journal_serialize(const struct iovec *fields, size_t n_fields, char **ret, size_t *ret_size);

/* Sends one record to the socket at path (NULL: JOURNAL_SOCKET_PATH).
 * Blocks while journald's queue is full, as sd_journal_sendv() does. 0 once
 * sent; -ENOENT or -ECONNREFUSED when no journal listens there. */
int journal_send(const char *path, const struct iovec *fields, size_t n_fields);
