/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/journal: the native journal protocol, received by an AF_UNIX
 * datagram socket the test binds in a directory of its own, as journald's
 * /run/systemd/journal/socket would: the exact bytes of a record, fields
 * with newlines in binary form, a record too big for one datagram as a
 * sealed memfd, and refusals. With "--send-big PATH" it only sends one
 * 400 KiB record (WARREN_TEST=big-record) to a real journald's socket:
 * test-22 reads it back whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/journal.h"
#include "basic/macro.h"
#include "tap.h"

#define FIELD(s) ((struct iovec){ .iov_base = (char *) (s), .iov_len = strlen(s) })

typedef struct Received {
        char *data;
        size_t size;
        size_t datagram_size; /* the payload of the datagram itself */
        int n_fds;
        int seals;
} Received;

static void received_done(Received *r) {
        free(r->data);
        *r = (Received){};
}

/* One datagram, without blocking: its payload or, with an empty payload
 * and one fd, that fd's contents. -EAGAIN if none came. */
static int receive(int sock, Received *ret) {
        static char buf[256 * 1024];
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control
        };
        ssize_t k = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (k < 0)
                return -errno;
        *ret = (Received){ .datagram_size = (size_t) k, .seals = -1 };
        int fd = -EBADF;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        ret->n_fds += (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
                }
        if (fd < 0) {
                ret->data = malloc((size_t) k + 1);
                memcpy(ret->data, buf, (size_t) k);
                ret->size = (size_t) k;
                return 0;
        }
        ret->seals = fcntl(fd, F_GET_SEALS);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        ret->data = malloc((size_t) st.st_size + 1);
        ret->size = (size_t) pread(fd, ret->data, (size_t) st.st_size, 0);
        close(fd);
        return 0;
}

static bool bytes_eq(const Received *r, const char *expected, size_t n) {
        return r->data && r->size == n && memcmp(r->data, expected, n) == 0;
}

/* A record far above the datagram limit, with a newline at byte 1000 of
 * its MESSAGE's value. */
static int send_big(const char *path) {
        size_t len = 400 * 1024;
        char *big = malloc(len);
        if (!big)
                return 1;
        memcpy(big, "MESSAGE=", 8);
        for (size_t i = 8; i < len; i++)
                big[i] = (char) ('a' + i % 26);
        big[8 + 1000] = '\n';
        struct iovec fields[] = { FIELD("PRIORITY=6"),
                                  { .iov_base = big, .iov_len = len },
                                  FIELD("WARREN_TEST=big-record"),
                                  FIELD("SYSLOG_IDENTIFIER=test-journal") };
        int r = journal_send(path, fields, ELEMENTSOF(fields));
        free(big);
        if (r < 0)
                fprintf(stderr, "journal_send: %s\n", strerror(-r));
        return r < 0;
}

int main(int argc, char *argv[]) {
        if (argc == 3 && streq(argv[1], "--send-big"))
                return send_big(argv[2]);
        char dir[] = "/tmp/test-journal.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        char path[128];
        snprintf(path, sizeof path, "%s/socket", dir);
        int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        ok(sock >= 0 && bind(sock, (struct sockaddr *) &sa, sizeof sa) == 0,
           "the test's journal socket listens");
        Received r = {};

        /* Plain fields: KEY=value\n each, in order, nothing else. */
        struct iovec plain[] = { FIELD("PRIORITY=4"), FIELD("MESSAGE=Container web started"),
                                 FIELD("SYSLOG_IDENTIFIER=warren-monitor"), FIELD("CONTAINER=web"),
                                 FIELD("EMPTY=") };
        is(journal_send(path, plain, ELEMENTSOF(plain)), 0, "a record is sent");
        is(receive(sock, &r), 0, "one datagram arrived");
        static const char plain_bytes[] = "PRIORITY=4\nMESSAGE=Container web started\n"
                                          "SYSLOG_IDENTIFIER=warren-monitor\nCONTAINER=web\nEMPTY=\n";
        ok(bytes_eq(&r, plain_bytes, sizeof plain_bytes - 1),
           "its payload is exactly KEY=value\\n per field");
        is(r.n_fds, 0, "and it carries no fd");
        received_done(&r);

        /* A value with a newline: KEY\n, 64-bit little-endian size, value, \n. */
        struct iovec multi[] = { FIELD("MESSAGE=line one\nline two"), FIELD("CODE_LINE=12") };
        is(journal_send(path, multi, ELEMENTSOF(multi)), 0, "a record with a multi-line value is sent");
        is(receive(sock, &r), 0, "it arrived");
        static const char multi_bytes[] = "MESSAGE\n\x11\0\0\0\0\0\0\0line one\nline two\nCODE_LINE=12\n";
        ok(bytes_eq(&r, multi_bytes, sizeof multi_bytes - 1),
           "the multi-line value is in binary form, the next field plain");
        received_done(&r);

        /* Binary values (a NUL, a newline) keep every byte. */
        static const char bin_field[] = "BLOB=a\0b\nc";
        struct iovec bin[] = { { .iov_base = (char *) bin_field, .iov_len = sizeof bin_field - 1 } };
        is(journal_send(path, bin, 1), 0, "a binary value is sent");
        is(receive(sock, &r), 0, "it arrived");
        static const char bin_bytes[] = "BLOB\n\x05\0\0\0\0\0\0\0a\0b\nc\n";
        ok(bytes_eq(&r, bin_bytes, sizeof bin_bytes - 1), "with its NUL and its newline");
        received_done(&r);

        /* Too big for one datagram (the socket's send buffer, ~208 KiB by
         * default): an empty datagram with one sealed memfd. */
        size_t big_len = 600 * 1024;
        char *big = malloc(big_len + 1);
        memcpy(big, "MESSAGE=", 8);
        for (size_t i = 8; i < big_len; i++)
                big[i] = (char) ('a' + i % 26);
        big[big_len / 2] = '\n'; /* and in binary form */
        struct iovec large[] = { FIELD("PRIORITY=6"),
                                 { .iov_base = big, .iov_len = big_len },
                                 FIELD("CONTAINER=web") };
        is(journal_send(path, large, ELEMENTSOF(large)), 0, "a %zu-byte record is sent", big_len);
        is(receive(sock, &r), 0, "it arrived");
        is(r.datagram_size, 0, "as an empty datagram");
        is(r.n_fds, 1, "with exactly one fd");
        is(r.seals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL,
           "a memfd sealed against any change");
        size_t value_len = big_len - 8;
        size_t expect_len = strlen("PRIORITY=6\n") + 8 + 8 + value_len + 1 + strlen("CONTAINER=web\n");
        char *expect = malloc(expect_len), *p = expect;
        p = mempcpy(p, "PRIORITY=6\nMESSAGE\n", 19);
        for (unsigned b = 0; b < 8; b++)
                *p++ = (char) ((uint64_t) value_len >> (8 * b));
        p = mempcpy(p, big + 8, value_len);
        p = mempcpy(p, "\nCONTAINER=web\n", 15);
        ok(p == expect + expect_len && bytes_eq(&r, expect, expect_len),
           "holding the same bytes a datagram would have");
        received_done(&r);
        free(expect);
        free(big);

        /* Refusals: nothing is sent. */
        struct iovec no_eq[] = { FIELD("PRIORITY=4"), FIELD("NOEQUALS") };
        is(journal_send(path, no_eq, ELEMENTSOF(no_eq)), -EINVAL, "a field without '=' is refused");
        struct iovec empty_key[] = { FIELD("=value") };
        is(journal_send(path, empty_key, 1), -EINVAL, "an empty key is refused");
        struct iovec nl_key[] = { FIELD("KE\nY=value") };
        is(journal_send(path, nl_key, 1), -EINVAL, "a key with a newline is refused");
        is(receive(sock, &r), -EAGAIN, "and none of them sent anything");

        /* No journal there. */
        char missing[160];
        snprintf(missing, sizeof missing, "%s/none", dir);
        is(journal_send(missing, plain, 1), -ENOENT, "no socket: -ENOENT (the caller falls back to stderr)");
        char regular[160];
        snprintf(regular, sizeof regular, "%s/closed", dir);
        int closed = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sc = { .sun_family = AF_UNIX };
        strcpy(sc.sun_path, regular);
        ok(closed >= 0 && bind(closed, (struct sockaddr *) &sc, sizeof sc) == 0,
           "a socket bound, then closed");
        close(closed);
        is(journal_send(regular, plain, 1), -ECONNREFUSED, "nobody listening: -ECONNREFUSED");
        char longpath[200];
        memset(longpath, 'x', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = 0;
        is(journal_send(longpath, plain, 1), -ENAMETOOLONG, "a path too long for a socket is refused");

        close(sock);
        unlink(path);
        unlink(regular);
        rmdir(dir);
        return done_testing();
}
