/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/owner-limits: warren.conf parsing, per-user overrides, -EDQUOT messages. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "owner-limits.h"
#include "tap.h"

static Limits *parse(const char *text) {
        Limits *l = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        if (limits_parse(text, strlen(text), "warren.conf", &l, &e) < 0) {
                ok(0, "parse: %s", warren_error_message(&e));
                warren_error_clear(&e);
        }
        return l;
}

static void test_defaults(void) {
        _cleanup_limits_ Limits *l = limits_new();
        const char *key = NULL;
        is(limits_get(l, LIMIT_CONTAINERS, 4242, "alice", &key), 16, "containers default 16");
        is_str(key, "limit.containers", "from limit.containers");
        is(limits_get(l, LIMIT_RUNNING, 4242, "alice", NULL), 16, "running default 16");
        is(limits_get(l, LIMIT_JOBS, 4242, NULL, NULL), 4, "jobs default 4");
        is(limits_get(l, LIMIT_ATTACH, 4242, NULL, NULL), 64, "attach default 64");
        ok(limits_get(l, LIMIT_ATTACH, 0, "root", NULL) == LIMIT_UNLIMITED, "root attaches without limit");
        ok(limits_get(l, LIMIT_CONTAINERS, 0, "root", &key) == LIMIT_UNLIMITED, "root unlimited");
        is_str(key, "root", "root key");
        uint32_t s, c;
        is(limits_root_idmap(l, 'u', &s, &c), -ENOENT, "no root range by default");
        is(limits_root_idmap(l, 'x', &s, &c), -EINVAL, "bad type");
        is_str(limit_kind_to_string(LIMIT_JOBS), "jobs", "kind name");
}

static void test_parse(void) {
        _cleanup_limits_ Limits *l = parse("# warren.conf\n"
                                           "\n"
                                           "limit.containers = 20\n"
                                           "  limit.running=3  \n"
                                           "limit.jobs = unlimited\n"
                                           "limit.containers.alice = 32\n"
                                           "limit.containers.alice = 33\n"
                                           "limit.containers.4242 = 40\n"
                                           "limit.running.bob = 0\n"
                                           "limit.jobs.root = 2\n"
                                           "limit.containers.svc$ = 1\n"
                                           "root.idmap.uid = 1000000 65536\n"
                                           "root.idmap.gid =\t2000000\t131072\r\n");
        if (!l)
                return;
        const char *key = NULL;
        is(limits_get(l, LIMIT_CONTAINERS, 1000, "carol", &key), 20, "global containers 20");
        is_str(key, "limit.containers", "key");
        is(limits_get(l, LIMIT_CONTAINERS, 1001, "alice", &key), 33, "alice by name: the last value wins");
        is_str(key, "limit.containers.alice", "key names the override");
        is(limits_get(l, LIMIT_CONTAINERS, 4242, "alice", &key), 40, "uid override wins over name");
        is_str(key, "limit.containers.4242", "key");
        is(limits_get(l, LIMIT_CONTAINERS, 4242, NULL, NULL), 40, "uid override without a name");
        is(limits_get(l, LIMIT_RUNNING, 1002, "bob", NULL), 0, "bob may run none");
        is(limits_get(l, LIMIT_RUNNING, 1003, "dave", NULL), 3, "running 3");
        ok(limits_get(l, LIMIT_JOBS, 1003, "dave", NULL) == LIMIT_UNLIMITED, "jobs unlimited");
        is(limits_get(l, LIMIT_JOBS, 0, "root", &key), 2, "root limited by an override");
        is_str(key, "limit.jobs.root", "key");
        ok(limits_get(l, LIMIT_CONTAINERS, 0, "root", NULL) == LIMIT_UNLIMITED, "root otherwise unlimited");
        is(limits_get(l, LIMIT_CONTAINERS, 1004, "svc$", NULL), 1, "name with a trailing $");
        uint32_t s = 0, c = 0;
        is(limits_root_idmap(l, 'u', &s, &c), 0, "root uid range");
        ok(s == 1000000 && c == 65536, "root.idmap.uid = 1000000 65536");
        is(limits_root_idmap(l, 'g', &s, &c), 0, "root gid range");
        ok(s == 2000000 && c == 131072, "root.idmap.gid = 2000000 131072");
}

static void test_check(void) {
        _cleanup_limits_ Limits *l = parse("limit.running.bob = 0\nlimit.jobs = 1\n");
        if (!l)
                return;
        WarrenError e = WARREN_ERROR_NULL;
        is(limits_check(l, LIMIT_CONTAINERS, 4242, "alice", 15, &e), 0, "15 containers: one more is fine");
        is(limits_check(l, LIMIT_CONTAINERS, 4242, "alice", 16, &e), -EDQUOT, "16 containers: no more");
        is_str(e.message, "User alice has 16 containers: the limit limit.containers is 16", "message");
        warren_error_clear(&e);
        is(limits_check(l, LIMIT_RUNNING, 4243, NULL, 16, &e), -EDQUOT, "running at the limit");
        is_str(e.message, "User 4243 has 16 running containers: the limit limit.running is 16",
               "message with a uid");
        warren_error_clear(&e);
        is(limits_check(l, LIMIT_RUNNING, 1002, "bob", 0, &e), -EDQUOT, "bob may not run any");
        is_str(e.message, "User bob has 0 running containers: the limit limit.running.bob is 0", "message");
        warren_error_clear(&e);
        is(limits_check(l, LIMIT_JOBS, 4242, "alice", 1, &e), -EDQUOT, "one job already");
        is_str(e.message, "User alice has 1 job: the limit limit.jobs is 1", "singular");
        warren_error_clear(&e);
        is(limits_check(l, LIMIT_CONTAINERS, 0, "root", 100000, &e), 0, "root is not limited");
        warren_error_clear(&e);
        _cleanup_limits_ Limits *a = parse("limit.attach = 2\nlimit.attach.bob = unlimited\n");
        if (!a)
                return;
        is(limits_check(a, LIMIT_ATTACH, 4242, "alice", 1, &e), 0, "one attached: one more is fine");
        is(limits_check(a, LIMIT_ATTACH, 4242, "alice", 2, &e), -EDQUOT, "two attached: no more");
        is_str(e.message, "User alice has 2 attached processes: the limit limit.attach is 2",
               "attach message");
        warren_error_clear(&e);
        is(limits_check(a, LIMIT_ATTACH, 1002, "bob", 1000, &e), 0, "bob's override: unlimited");
}

static void test_garbage(void) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "limit.bogus = 1\n", "warren.conf:1: unknown key 'limit.bogus'" },
                { "\n# x\ncontainers = 1\n", "warren.conf:3: unknown key 'containers'" },
                { "limit.containersx = 1\n", "warren.conf:1: unknown key 'limit.containersx'" },
                { "limit.containers = lots\n", "warren.conf:1: invalid value 'lots' for 'limit.containers': "
                                               "expected a number or 'unlimited'" },
                { "limit.containers = -1\n", "warren.conf:1: invalid value '-1' for 'limit.containers': "
                                             "expected a number or 'unlimited'" },
                { "limit.containers = \n", "warren.conf:1: invalid value '' for 'limit.containers': "
                                           "expected a number or 'unlimited'" },
                { "limit.containers = 4294967296\n",
                  "warren.conf:1: invalid value '4294967296' for 'limit.containers': expected a number or "
                  "'unlimited'" },
                { "limit.jobs = 1 # four\n", "warren.conf:1: invalid value '1 # four' for 'limit.jobs': "
                                             "expected a number or 'unlimited'" },
                { "limit.containers.a/b = 1\n",
                  "warren.conf:1: invalid key 'limit.containers.a/b': 'a/b' is not a user name or uid" },
                { "limit.containers. = 1\n",
                  "warren.conf:1: invalid key 'limit.containers.': '' is not a user name or uid" },
                { "limit.running.-x = 1\n",
                  "warren.conf:1: invalid key 'limit.running.-x': '-x' is not a user name or uid" },
                { "garbage\n", "warren.conf:1: invalid line 'garbage': expected 'key = value'" },
                { "= 3\n", "warren.conf:1: missing key before '= 3'" },
                { "root.idmap.uid = 1000000\n",
                  "warren.conf:1: invalid value '1000000' for 'root.idmap.uid': expected 'START COUNT' (a "
                  "range of ids below 4294967295)" },
                { "root.idmap.gid = 1000000 0\n",
                  "warren.conf:1: invalid value '1000000 0' for 'root.idmap.gid': expected 'START COUNT' (a "
                  "range of ids below 4294967295)" },
                { "root.idmap.uid = 4294967290 10\n",
                  "warren.conf:1: invalid value '4294967290 10' for 'root.idmap.uid': expected 'START "
                  "COUNT' (a range of ids below 4294967295)" },
                { "root.idmap.uid = 1 2 3\n", "warren.conf:1: invalid value '1 2 3' for 'root.idmap.uid': "
                                              "expected 'START COUNT' (a range of ids below 4294967295)" },
                { "root.idmap = 1 2\n", "warren.conf:1: unknown key 'root.idmap'" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Limits *l = NULL;
                WarrenError e = WARREN_ERROR_NULL;
                is(limits_parse(cases[i].text, strlen(cases[i].text), "warren.conf", &l, &e), -EINVAL,
                   "garbage %zu refused", i);
                is_str(e.message, cases[i].error, "garbage %zu message", i);
                ok(!l, "garbage %zu: nothing returned", i);
                warren_error_clear(&e);
        }
        Limits *l = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        is(limits_parse("a\0b", 3, "warren.conf", &l, &e), -EINVAL, "NUL byte refused");
        is_str(e.message, "warren.conf contains a NUL byte", "NUL message");
        warren_error_clear(&e);
}

static void test_load(void) {
        char dir[] = "/tmp/test-limits-XXXXXX";
        if (!mkdtemp(dir))
                return;
        char path[64];
        snprintf(path, sizeof path, "%s/warren.conf", dir);
        Limits *l = NULL;
        is(limits_load(path, &l, NULL), 0, "a missing file gives the defaults");
        is(l ? limits_get(l, LIMIT_CONTAINERS, 1, NULL, NULL) : 0, 16, "default");
        l = limits_free(l);
        const char *text = "limit.containers = 2\nlimit.jobs = x\n";
        write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644);
        WarrenError e = WARREN_ERROR_NULL;
        is(limits_load(path, &l, &e), -EINVAL, "garbage in the file");
        char want[256];
        snprintf(want, sizeof want,
                 "%s:2: invalid value 'x' for 'limit.jobs': expected a number or 'unlimited'", path);
        is_str(e.message, want, "message names the file, the line and the key");
        warren_error_clear(&e);
        text = "limit.containers = 2\n";
        write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644);
        is(limits_load(path, &l, NULL), 0, "load");
        is(l ? limits_get(l, LIMIT_CONTAINERS, 1, NULL, NULL) : 0, 2, "loaded value");
        limits_free(l);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        test_defaults();
        test_parse();
        test_check();
        test_garbage();
        test_load();
        return done_testing();
}
