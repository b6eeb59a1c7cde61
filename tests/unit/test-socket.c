/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/socket: fds passed with a message, and what a receiver refuses. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/socket.h"
#include "tap.h"

static unsigned count_fds(void) {
        unsigned n = 0;
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return 0;
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static bool same_file(int a, int b) {
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(void) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                printf("Bail out! socketpair: %s\n", strerror(errno));
                return 1;
        }
        int a = open("/dev/null", O_RDONLY | O_CLOEXEC), b = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int two[2] = { a, b }, got[SEND_FDS_MAX] = {};
        char buf[16];
        size_t n;
        unsigned before = count_fds();

        is(send_with_fds(sp[0], "hi", 2, two, 2, 0), 0, "a message with 2 fds is sent");
        ssize_t k = recv_with_fds(sp[1], buf, sizeof buf, got, 2, &n, 0);
        ok(k == 2 && memcmp(buf, "hi", 2) == 0 && n == 2, "and received with both (%zd bytes, %zu fds)", k,
           n);
        ok(n == 2 && same_file(got[0], a) && same_file(got[1], b), "in their order");
        ok(n == 2 && (fcntl(got[0], F_GETFD) & FD_CLOEXEC), "close-on-exec");
        for (size_t i = 0; i < n; i++)
                safe_close(got[i]);
        is(count_fds(), before, "nothing is left open");

        is(send_with_fds(sp[0], "x", 1, two, 2, 0), 0, "2 fds where 1 is expected");
        k = recv_with_fds(sp[1], buf, sizeof buf, got, 1, &n, 0);
        ok(k == -EBADMSG && n == 0, "are refused (%zd), none kept", k);
        is(count_fds(), before, "and both are closed");

        is(send_with_fds(sp[0], "0123456789", 10, &a, 1, 0), 0, "a message longer than the buffer");
        k = recv_with_fds(sp[1], buf, 4, got, 1, &n, 0);
        ok(k == -EBADMSG && n == 0, "is refused (%zd)", k);
        is(count_fds(), before, "and its fd closed");

        is(send_with_fds(sp[0], NULL, 0, &a, 1, 0), 0, "an empty message with an fd");
        k = recv_with_fds(sp[1], buf, sizeof buf, got, 1, &n, 0);
        ok(k == 0 && n == 1 && same_file(got[0], a), "arrives with its fd");
        if (n == 1)
                safe_close(got[0]);

        int many[SEND_FDS_MAX + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = a;
        is(send_with_fds(sp[0], "m", 1, many, ELEMENTSOF(many), 0), -EINVAL,
           "more than SEND_FDS_MAX fds: -EINVAL");
        is(send_with_fds(sp[0], "m", 1, many, SEND_FDS_MAX, 0), 0, "SEND_FDS_MAX fds go");
        k = recv_with_fds(sp[1], buf, sizeof buf, got, SEND_FDS_MAX, &n, 0);
        ok(k == 1 && n == SEND_FDS_MAX, "and all come");
        for (size_t i = 0; i < n; i++)
                safe_close(got[i]);

        k = recv_with_fds(sp[1], buf, sizeof buf, got, 1, &n, MSG_DONTWAIT);
        is(k, -EAGAIN, "nothing queued: -EAGAIN");
        safe_close(sp[0]);
        k = recv_with_fds(sp[1], buf, sizeof buf, got, 1, &n, 0);
        is(k, 0, "the peer closed: 0");
        is(count_fds(), before - 1, "nothing leaked");
        safe_close(sp[1]);
        safe_close(a);
        safe_close(b);
        return done_testing();
}
