/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parses arbitrary bytes as an image server index and checks what the
 * parser promises: every entry passed validation, the entry found for a spec
 * is one of the greatest builds of that spec, and the build order is
 * antisymmetric. Aborts if not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_image_index_ ImageIndex *idx = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;

        if (size > IMAGE_INDEX_MAX_SIZE)
                return 0;
        if (image_index_parse((const char *) data, size, &idx, &e) < 0) {
                if (e.error == 0 || !e.message)
                        abort(); /* failures always say why */
                return 0;
        }
        /* The first entries only: find() is linear, so all of them would be quadratic. */
        for (size_t i = 0; i < idx->n_entries && i < 256; i++) {
                const ImageIndexEntry *x = &idx->entries[i], *found = NULL;
                if (image_name_validate("distribution", x->dist, NULL) < 0 ||
                    image_name_validate("release", x->release, NULL) < 0 ||
                    image_name_validate("architecture", x->arch, NULL) < 0 ||
                    image_name_validate("variant", x->variant, NULL) < 0 ||
                    image_name_validate("build", x->build, NULL) < 0 ||
                    image_path_validate(x->path, NULL) < 0)
                        abort();
                ImageSpec s = { x->dist, x->release, x->arch, x->variant };
                if (image_index_find(idx, &s, &found, NULL) < 0 || !found)
                        abort();
                if (image_build_compare(found->build, x->build) < 0)
                        abort(); /* something newer than "the newest" */
                if (image_build_compare(x->build, found->build) !=
                    -image_build_compare(found->build, x->build))
                        abort();
                if (i > 0 && image_build_compare(x->build, x->build) != 0)
                        abort();
        }
        return 0;
}
