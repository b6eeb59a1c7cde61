/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* usernet.c: lxc-usernet semantics (matching lines add up), garbage lines
 * named by file and line, the may-attach decision. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"
#include "usernet.h"

static const char example[] = "# quotas\n"
                              "\n"
                              "alice veth br0 2\n"
                              "  @staff\tveth br0 3   \n"
                              "bob veth br0 1\n"
                              "alice veth br1 4\n"
                              "@staff veth br1 1\n"
                              "alice veth br0 0\n"
                              "alice veth br0 5";

static unsigned quota(const char *text, const char *user, char *const *groups, const char *bridge) {
        unsigned q = 9999;
        int r = usernet_quota_from_text(text, strlen(text), "usernet", user, groups, bridge, &q, NULL);
        return r < 0 ? (unsigned) r : q;
}

static void test_semantics(void) {
        char *staff[] = { (char *) "users", (char *) "staff", NULL };
        char *other[] = { (char *) "users", NULL };

        is(quota(example, "alice", other, "br0"), 7, "alice's own lines on br0 add up (2+0+5)");
        is(quota(example, "alice", staff, "br0"), 10, "plus her group's line (2+3+0+5)");
        is(quota(example, "alice", staff, "br1"), 5, "br1: 4 + 1");
        is(quota(example, "bob", other, "br0"), 1, "bob: 1");
        is(quota(example, "bob", staff, "br1"), 1, "bob via staff on br1");
        is(quota(example, "carol", NULL, "br0"), 0, "no line: 0");
        is(quota(example, "carol", staff, "br2"), 0, "no line for the bridge: 0");
        is(quota(example, "@staff", NULL, "br0"), 0, "a user literally named @staff is not the group");
        is(quota("", "alice", NULL, "br0"), 0, "empty file: 0");
        is(quota("# only a comment\n\n   \n", "alice", NULL, "br0"), 0, "comments and blanks only");
}

static void expect_garbage(const char *text, const char *message, const char *what) {
        WarrenError e = WARREN_ERROR_NULL;
        unsigned q = 1234;
        is(usernet_quota_from_text(text, strlen(text), "/etc/warren/usernet", "alice", NULL, "br0", &q, &e),
           -EBADMSG, "%s: refused", what);
        is_str(e.message, message, "%s: message", what);
        is(q, 1234, "%s: no quota returned", what);
        warren_error_clear(&e);
}

static void test_garbage(void) {
        expect_garbage(
                "alice veth br0 2\nalice veth br0\n",
                "/etc/warren/usernet:2: expected '<user>|@<group> veth <bridge> <count>', got 3 fields",
                "three fields");
        expect_garbage("\n\nalice veth br0 2 extra\n",
                       "/etc/warren/usernet:3: expected '<user>|@<group> veth <bridge> <count>', got more "
                       "than 4 fields",
                       "five fields");
        expect_garbage("alice macvlan br0 2\n",
                       "/etc/warren/usernet:1: unknown interface type 'macvlan' (only veth)", "other type");
        expect_garbage("alice veth br0 -1\n", "/etc/warren/usernet:1: invalid count '-1' (0..100000)",
                       "negative count");
        expect_garbage("alice veth br0 2x\n", "/etc/warren/usernet:1: invalid count '2x' (0..100000)",
                       "count with letters");
        expect_garbage("alice veth br0 100001\n",
                       "/etc/warren/usernet:1: invalid count '100001' (0..100000)", "count too large");
        expect_garbage("@ veth br0 1\n", "/etc/warren/usernet:1: invalid group '@'", "empty group");
        expect_garbage("alice veth bridge-name-too-long 1\n",
                       "/etc/warren/usernet:1: invalid bridge 'bridge-name-too-long'",
                       "bridge name too long");
        /* A garbage line counts even when it is not the user's. */
        expect_garbage("bob veth br0 1 2\nalice veth br0 1\n",
                       "/etc/warren/usernet:1: expected '<user>|@<group> veth <bridge> <count>', got more "
                       "than 4 fields",
                       "garbage before a good line");

        WarrenError e = WARREN_ERROR_NULL;
        unsigned q;
        is(usernet_quota_from_text("alice veth br0 1\0\n", 18, "f", "alice", NULL, "br0", &q, &e), -EBADMSG,
           "NUL byte refused");
        is_str(e.message, "f: contains a NUL byte", "message");
        warren_error_clear(&e);
}

static void test_file(void) {
        char dir[] = "/tmp/test-usernet-XXXXXX", path[64], missing[64];
        WarrenError e = WARREN_ERROR_NULL;
        unsigned q = 99;
        char *groups[] = { (char *) "staff", NULL };

        ok(mkdtemp(dir) != NULL, "temp dir");
        snprintf(path, sizeof path, "%s/usernet", dir);
        snprintf(missing, sizeof missing, "%s/none", dir);
        ok(write_file_atomic_at(-100, path, example, strlen(example), 0644) >= 0, "file written");

        is(usernet_quota(path, "alice", groups, "br0", &q, NULL), 0, "quota from a file");
        is(q, 10, "same sum as from text");
        is(usernet_quota(missing, "alice", groups, "br0", &q, NULL), 0, "missing file is no error");
        is(q, 0, "missing file: quota 0");

        is(usernet_may_attach(path, "bob", NULL, "br0", 0, &q, NULL), 1, "bob may attach his first");
        is(usernet_may_attach(path, "bob", NULL, "br0", 1, &q, NULL), 0, "but not a second");
        is(q, 1, "quota reported for the message");
        is(usernet_may_attach(path, "alice", groups, "br0", 9, &q, NULL), 1, "alice: 10th allowed");
        is(usernet_may_attach(path, "alice", groups, "br0", 10, &q, NULL), 0, "alice: 11th refused");
        is(usernet_may_attach(missing, "alice", groups, "br0", 0, &q, NULL), 0, "no file: refused");

        ok(write_file_atomic_at(-100, path, "alice veth br0\n", 15, 0644) >= 0, "garbage written");
        is(usernet_may_attach(path, "alice", NULL, "br0", 0, &q, &e), -EBADMSG, "garbage file refused");
        like(e.message, "/usernet:1: expected", "message names file and line");
        warren_error_clear(&e);

        unlink(path);
        rmdir(dir);
}

static void test_lookup(void) {
        WarrenError e = WARREN_ERROR_NULL;
        char *user = NULL, **groups = NULL;
        is(usernet_lookup_user(0, &user, &groups, NULL), 0, "uid 0 looked up");
        is_str(user, "root", "name root");
        ok(strv_contains(groups, "root"), "in group root");
        free(user);
        strv_free(groups);
        is(usernet_lookup_user(4000000000U, &user, &groups, &e), -ENOENT, "unknown uid");
        is_str(e.message, "No user with uid 4000000000", "message");
        warren_error_clear(&e);
}

int main(void) {
        test_semantics();
        test_garbage();
        test_file();
        test_lookup();
        return done_testing();
}
