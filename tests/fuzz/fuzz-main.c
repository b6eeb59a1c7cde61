/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays the files named on the command line through a libFuzzer target,
 * so the target also builds and runs without clang (CI runs the corpus). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *buf = NULL;
                size_t size;
                int r = read_full_file(argv[i], 64U * 1024U * 1024U, &buf, &size);
                if (r < 0) {
                        fprintf(stderr, "%s: cannot read: %s\n", argv[i], strerror(-r));
                        return EXIT_FAILURE;
                }
                (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, size);
                printf("%s: ok\n", argv[i]);
        }
        return EXIT_SUCCESS;
}
