/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-index.h"
#include "image-sums.h"
#include "tap.h"

static void test_build_compare(void) {
        is(image_build_compare("20240101_05:24", "20240101_05:24"), 0, "equal builds compare equal");
        ok(image_build_compare("20240101_05:24", "20240101_11:02") < 0, "later hour is newer");
        ok(image_build_compare("20240101_23:59", "20240102_00:00") < 0, "later day is newer");
        ok(image_build_compare("20231231_23:59", "20240101_00:00") < 0, "later year is newer");
        ok(image_build_compare("9", "10") < 0, "numbers compare as numbers: 9 < 10");
        ok(image_build_compare("build10", "build9") > 0, "digit runs inside text: build10 > build9");
        ok(image_build_compare("05", "5") != 0, "leading zeros: still a total order");
        ok(image_build_compare("05", "5") == -image_build_compare("5", "05"), "antisymmetric for 05/5");
        ok(image_build_compare("20240101", "20240101_00:00") < 0, "a prefix is older");
        ok(image_build_compare("a", "b") < 0, "text compares bytewise");
        ok(image_build_compare("99999999999999999999999", "100000000000000000000000") < 0,
           "long digit runs do not overflow");
}

static void test_arch(void) {
        is_str(image_arch_from_machine("x86_64"), "amd64", "x86_64 -> amd64");
        is_str(image_arch_from_machine("aarch64"), "arm64", "aarch64 -> arm64");
        is_str(image_arch_from_machine("i686"), "i386", "i686 -> i386");
        is_str(image_arch_from_machine("armv7l"), "armhf", "armv7l -> armhf");
        is_str(image_arch_from_machine("ppc64le"), "ppc64el", "ppc64le -> ppc64el");
        is_str(image_arch_from_machine("s390x"), "s390x", "s390x");
        is_str(image_arch_from_machine("riscv64"), "riscv64", "riscv64");
        ok(image_arch_from_machine("pdp11") == NULL, "unknown machine -> NULL");
        const char *a = NULL;
        ok(image_host_arch(&a, NULL) == 0 && a != NULL, "host arch known (%s)", strna(a));
}

static void test_validate(void) {
        WarrenError e = WARREN_ERROR_NULL;
        is(image_name_validate("release", "jammy", NULL), 0, "plain release ok");
        is(image_name_validate("build", "20240101_05:24", NULL), 0, "build with ':' ok");
        is(image_name_validate("distribution", "../etc", &e), -EINVAL, "'../etc' refused");
        is_str(e.message,
               "Invalid image distribution '../etc': must be 1-64 characters of [A-Za-z0-9._:+~-], not "
               "starting with '.' or '-'",
               "message names the value");
        warren_error_clear(&e);
        is(image_name_validate("variant", "a/b", NULL), -EINVAL, "slash refused");
        is(image_name_validate("variant", "", NULL), -EINVAL, "empty refused");
        is(image_name_validate("variant", "..", NULL), -EINVAL, "'..' refused");
        is(image_name_validate("variant", "-x", NULL), -EINVAL, "leading dash refused");
        is(image_name_validate("variant", "a b", NULL), -EINVAL, "space refused");
        char long_name[80];
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = 0;
        is(image_name_validate("variant", long_name, NULL), -EINVAL, "79 chars refused");
        is(image_path_validate("/images/ubuntu/jammy/amd64/default/20240101_07:42/", NULL), 0,
           "index path ok");
        is(image_path_validate("images/x/../../etc", &e), -EINVAL, "'..' in path refused");
        like(e.message, "Invalid image path 'images/x/../../etc'", "message names the path");
        warren_error_clear(&e);
        is(image_path_validate("/images/./x", NULL), -EINVAL, "'.' in path refused");
        is(image_path_validate("/", NULL), -EINVAL, "'/' alone refused");
        is(image_path_validate("/a b/", NULL), -EINVAL, "space in path refused");
        is(image_path_validate("/a?x=1", NULL), -EINVAL, "query in path refused");
}

static const char INDEX[] =
        "ubuntu;jammy;amd64;default;20240101_07:42;/images/ubuntu/jammy/amd64/default/20240101_07:42/\n"
        "busybox;1.35;amd64;default;20240101_05:24;/images/busybox/old/\n"
        "\n"
        "short;line\n"
        "busybox;1.35;amd64;default;20240315_12:00;/images/busybox/newest/\r\n"
        "busybox;1.35;amd64;tiny;20250101_00:00;/images/busybox/tiny/\n"
        "busybox;1.35;arm64;default;20250101_00:00;/images/busybox/arm/\n"
        "busybox;1.35;amd64;default;20240202_23:59;/images/busybox/middle/\n"
        "busybox;1.35;amd64;default;;/images/busybox/emptybuild/\n"
        "busybox;1.35;amd64;default;29990101_00:00;/images/../../escape/\n"
        "busybox;1.35;amd64;default;39990101_00:00;/images/with;semicolon/\n"
        ";;;;;\n"
        "busybox;1.35;amd64;default;20230101_00:00;/images/busybox/last";

static void test_parse_find(void) {
        ImageIndex *idx = NULL;
        const ImageIndexEntry *e = NULL;
        WarrenError err = WARREN_ERROR_NULL;

        is(image_index_parse(INDEX, strlen(INDEX), &idx, NULL), 0, "index parses");
        /* The ';' inside the last field is part of the path: path validation rejects it. */
        is(idx->n_entries, 7, "7 valid entries");
        is(idx->n_skipped, 5, "5 bad lines skipped (blank not counted)");
        is_str(idx->entries[6].path, "/images/busybox/last", "last line without newline parsed");

        ImageSpec s = { .dist = "busybox", .release = "1.35", .arch = "amd64", .variant = "default" };
        is(image_index_find(idx, &s, &e, NULL), 0, "busybox found");
        is_str(e->build, "20240315_12:00", "newest build wins, not the first line");
        is_str(e->path, "/images/busybox/newest/", "its path, CR stripped");

        s.variant = NULL;
        is(image_index_find(idx, &s, &e, NULL), 0, "default variant when NULL");
        is_str(e->build, "20240315_12:00", "same build with the default variant");

        s.variant = "tiny";
        is(image_index_find(idx, &s, &e, NULL), 0, "variant tiny found");
        is_str(e->path, "/images/busybox/tiny/", "variant tiny path");

        s.variant = "default";
        s.release = "1.36";
        is(image_index_find(idx, &s, &e, &err), -ENOENT, "missing release -> ENOENT");
        is_str(err.message, "No image busybox 1.36 amd64 (variant default) in the server's index",
               "message names the image");
        warren_error_clear(&err);
        image_index_free(idx);

        idx = NULL;
        is(image_index_parse("", 0, &idx, NULL), 0, "empty index parses");
        is(idx->n_entries, 0, "no entries");
        image_index_free(idx);

        static const char nul[] = "a;b;c;d;e;/f\0g;h;i;j;k;/l\n";
        is(image_index_parse(nul, sizeof nul - 1, &idx, &err), -EBADMSG, "NUL byte refused");
        is_str(err.message, "Invalid image index: contains a NUL byte", "NUL message");
        warren_error_clear(&err);

        /* Reordering does not change the answer. */
        static const char a[] = "d;r;x;default;2;/p2/\nd;r;x;default;10;/p10/\nd;r;x;default;9;/p9/\n";
        static const char b[] = "d;r;x;default;10;/p10/\nd;r;x;default;9;/p9/\nd;r;x;default;2;/p2/\n";
        ImageSpec s2 = { .dist = "d", .release = "r", .arch = "x" };
        is(image_index_parse(a, strlen(a), &idx, NULL), 0, "order A parses");
        is(image_index_find(idx, &s2, &e, NULL), 0, "order A find");
        is_str(e->build, "10", "order A: 10 is newest (numeric)");
        image_index_free(idx);
        is(image_index_parse(b, strlen(b), &idx, NULL), 0, "order B parses");
        is(image_index_find(idx, &s2, &e, NULL), 0, "order B find");
        is_str(e->build, "10", "order B: 10 is newest");
        image_index_free(idx);
}

static void test_urls(void) {
        char *u = image_index_url("https://images.example.org/", IMAGE_MODE_USER, true);
        is_str(u, "https://images.example.org/meta/1.0/index-user.7", "compat index URL");
        free(u);
        u = image_index_url("http://127.0.0.1:8080", IMAGE_MODE_SYSTEM, false);
        is_str(u, "http://127.0.0.1:8080/meta/1.0/index-system", "fallback index URL");
        free(u);
        is_str(image_mode_to_string(IMAGE_MODE_USER), "user", "mode user");
        is_str(image_mode_to_string(IMAGE_MODE_SYSTEM), "system", "mode system");
}

static void test_sha256(void) {
        char hex[SHA256_HEX_SIZE];
        sha256_hex_of("", 0, hex);
        is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256('')");
        sha256_hex_of("abc", 3, hex);
        is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256('abc')");
        static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_hex_of(two, strlen(two), hex);
        is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
               "sha256(448-bit message)");

        /* One million 'a' fed in odd-sized pieces: block boundaries. */
        Sha256 s = SHA256_NULL;
        uint8_t d[SHA256_DIGEST_SIZE];
        char chunk[997];
        memset(chunk, 'a', sizeof chunk);
        is(sha256_init(&s), 0, "hash started (libcrypto)");
        size_t left = 1000000;
        while (left > 0) {
                size_t k = left < sizeof chunk ? left : sizeof chunk;
                sha256_update(&s, chunk, k);
                left -= k;
        }
        is(sha256_final(&s, d), 0, "hash finished");
        sha256_to_hex(d, hex);
        is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "sha256(1M x 'a')");
        /* Restarted on the same context: as a download's retry does. */
        is(sha256_init(&s), 0, "hash restarted");
        sha256_update(&s, "abc", 3);
        is(sha256_final(&s, d), 0, "and finished");
        sha256_to_hex(d, hex);
        is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256('abc') after a restart");
        sha256_done(&s);

        /* 55, 56, 63, 64, 65 bytes: the padding edge cases. */
        static const struct {
                size_t n;
                const char *hex;
        } edges[] = {
                { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
                { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
                { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        };
        for (size_t i = 0; i < ELEMENTSOF(edges); i++) {
                char buf[128];
                memset(buf, 'a', edges[i].n);
                sha256_hex_of(buf, edges[i].n, hex);
                is_str(hex, edges[i].hex, "sha256 of %zu x 'a'", edges[i].n);
        }
}

static void test_sha256sums(void) {
        static const char text[] =
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  meta.tar.xz\n"
                "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD *./rootfs.tar.xz\r\n"
                "\n"
                "not a line\n"
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 meta.tar.xz\n"
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85  short.hash\n"
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  meta.tar.xz\n";
        Sha256Sums *s = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        uint8_t d[SHA256_DIGEST_SIZE];

        is(sha256sums_parse(text, strlen(text), &s, NULL), 0, "SHA256SUMS parses");
        is(sha256sums_count(s), 2, "two entries (a repeated identical line is fine)");
        is(sha256sums_skipped(s), 3, "three malformed lines skipped");
        is_str(sha256sums_find(s, "rootfs.tar.xz"),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "binary-mode '*' and './' handled, hex lower-cased");
        is_str(sha256sums_find(s, "./meta.tar.xz"),
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "'./name' finds 'name'");
        ok(sha256sums_find(s, "SHA256SUMS") == NULL, "unlisted name -> NULL");

        Sha256 h = SHA256_NULL;
        ok(sha256_init(&h) == 0 && sha256_final(&h, d) == 0, "sha256('')");
        sha256_done(&h);
        is(sha256sums_verify(s, "meta.tar.xz", d, NULL), 0, "matching hash verifies");
        is(sha256sums_verify(s, "rootfs.tar.xz", d, &e), -EBADE, "mismatch -> EBADE");
        is_str(e.message,
               "Verification of 'rootfs.tar.xz' failed: expected SHA-256 "
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad, got "
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "mismatch message names the file and both hashes");
        warren_error_clear(&e);
        is(sha256sums_verify(s, "other.tar.xz", d, &e), -EBADE, "missing entry -> EBADE");
        like(e.message, "Verification of 'other.tar.xz' failed: SHA256SUMS has no entry for it",
             "missing entry message");
        warren_error_clear(&e);
        sha256sums_free(s);

        static const char conflict[] =
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n"
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ./a\n";
        is(sha256sums_parse(conflict, strlen(conflict), &s, &e), -EBADMSG, "conflicting entries refused");
        is_str(e.message, "Invalid SHA256SUMS line 2: 'a' listed twice with different hashes",
               "conflict message");
        warren_error_clear(&e);
        static const char nul[] = "e3b0\0";
        is(sha256sums_parse(nul, sizeof nul - 1, &s, &e), -EBADMSG, "NUL refused");
        warren_error_clear(&e);
}

int main(void) {
        test_build_compare();
        test_arch();
        test_validate();
        test_parse_find();
        test_urls();
        test_sha256();
        test_sha256sums();
        return done_testing();
}
