/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file (at most max_size bytes, else -EFBIG) into a
 * NUL-terminated buffer. dirfd may be AT_FDCWD. Opens with O_NOFOLLOW if
 * nofollow is set. */
int read_full_file_at(int dirfd, const char *path, size_t max_size, int nofollow, char **ret,
                      size_t *ret_size);
static inline int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        return read_full_file_at(-100 /* AT_FDCWD */, path, max_size, 0, ret, ret_size);
}
/* Reads everything from an fd. */
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);
/* Writes data to dirfd/name via a temporary file, fsync and rename: readers
 * see the old or the new content, never a mix. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t size, mode_t mode);
/* Writes a string to an existing file (e.g. a cgroup or proc file). */
int write_string_file_at(int dirfd, const char *path, const char *s);
int write_all(int fd, const void *data, size_t size);
int read_one_line_file(const char *path, char **ret);
/* mkdir -p, mode for each created dir. */
int mkdir_p(const char *path, mode_t mode);

/* A DIR reading the directory fd from its start, fd itself left as it is
 * (a CLOEXEC duplicate is read, rewound: a dup shares the offset of an fd
 * read before). -errno. */
int opendir_fd(int fd, DIR **ret);
static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
