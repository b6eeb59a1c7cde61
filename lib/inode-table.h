/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Inodes seen during a tree walk, by (device, inode number), each with the
 * path it was first seen at: how copies and archives keep hardlinks. */

#include <stdint.h>

typedef struct InodeTable InodeTable;

InodeTable *inode_table_new(void);
InodeTable *inode_table_free(InodeTable *t);

/* Records (dev, ino) at path and sets *ret_first to NULL if it is new;
 * else leaves the table as it is and sets *ret_first to the path recorded
 * first (valid until the table is freed). */
int inode_table_put(InodeTable *t, uint64_t dev, uint64_t ino, const char *path, const char **ret_first);
