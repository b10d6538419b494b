/* The output's pure decisions: the sticky-directory rules over every kind
 * of directory, object and owner; messages that stay whole; what a short
 * write leaves to do; how many ticks a stall skipped. */
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "outrules.h"

enum { ME = 1000, DIR_OWNER = 0, OTHER = 65534 };

/* The directory kinds: only sticky and writable by others is shared. */
static const struct { uint32_t mode; bool shared; } dirs[] = {
    { S_IFDIR | 01777, true },    /* /tmp */
    { S_IFDIR | 01773, true },    /* sticky, others may write but not list */
    { S_IFDIR | 01775, false },   /* sticky, group-writable only */
    { S_IFDIR | 01755, false },
    { S_IFDIR | 00777, false },   /* world-writable without the sticky bit: anyone may replace anything */
    { S_IFDIR | 00755, false },
    { S_IFDIR | 01002, true },    /* only the bits that matter */
};

static const struct { uint32_t mode; enum gcs_sticky_rule refused; } objects[] = {
    { S_IFLNK | 0777, GCS_STICKY_REFUSE_SYMLINK },
    { S_IFREG | 0644, GCS_STICKY_REFUSE_REGULAR },
    { S_IFREG | 0666, GCS_STICKY_REFUSE_REGULAR },
    { S_IFIFO | 0666, GCS_STICKY_REFUSE_FIFO },
    { S_IFDIR | 0777, GCS_STICKY_ALLOW },
    { S_IFCHR | 0666, GCS_STICKY_ALLOW },
    { S_IFBLK | 0660, GCS_STICKY_ALLOW },
    { S_IFSOCK | 0777, GCS_STICKY_ALLOW },
};

static void sticky_rules_exhaustive(void **state)
{
    (void)state;
    const uint32_t uids[] = { ME, DIR_OWNER, OTHER };
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
        for (size_t o = 0; o < sizeof objects / sizeof objects[0]; o++)
            for (size_t u = 0; u < 3; u++) {
                uint32_t owner = uids[u];
                bool trusted = owner == ME || owner == DIR_OWNER;
                enum gcs_sticky_rule want = dirs[d].shared && !trusted ? objects[o].refused : GCS_STICKY_ALLOW;
                enum gcs_sticky_rule got = gcs_sticky_check(dirs[d].mode, DIR_OWNER, objects[o].mode, owner, ME);
                if (got != want)
                    fail_msg("dir %o, object %o, owner %u: %d, want %d", dirs[d].mode, objects[o].mode,
                             owner, got, want);
            }
}

static void sticky_rules_root(void **state)
{
    (void)state;
    /* Root is held to the rules too: that is what protects a root service in /tmp. */
    assert_int_equal(gcs_sticky_check(S_IFDIR | 01777, 0, S_IFLNK | 0777, OTHER, 0), GCS_STICKY_REFUSE_SYMLINK);
    assert_int_equal(gcs_sticky_check(S_IFDIR | 01777, 0, S_IFREG | 0644, OTHER, 0), GCS_STICKY_REFUSE_REGULAR);
    assert_int_equal(gcs_sticky_check(S_IFDIR | 01777, 0, S_IFLNK | 0777, 0, 0), GCS_STICKY_ALLOW);
    /* A user's own sticky directory: links of the directory's owner are trusted. */
    assert_int_equal(gcs_sticky_check(S_IFDIR | 01777, ME, S_IFLNK | 0777, ME, 0), GCS_STICKY_ALLOW);
    assert_int_equal(gcs_sticky_check(S_IFDIR | 01777, ME, S_IFREG | 0644, OTHER, 0), GCS_STICKY_REFUSE_REGULAR);
    /* A root service writing into its application user's plain directory. */
    assert_int_equal(gcs_sticky_check(S_IFDIR | 0755, ME, S_IFREG | 0644, ME, 0), GCS_STICKY_ALLOW);
}

static void clip(void **state)
{
    (void)state;
    char out[GCS_CLIP_SIZE];
    char s[1001];
    memset(s, 'a', 1000);
    s[1000] = '\0';
    assert_string_equal(gcs_clip(out, GCS_CLIP_KEEP, "short"), "short");
    gcs_clip(out, GCS_CLIP_KEEP, s);
    assert_int_equal(strlen(out), GCS_CLIP_KEEP + 3);
    assert_string_equal(out + GCS_CLIP_KEEP, "...");
    s[GCS_CLIP_KEEP] = '\0';   /* exactly keep bytes: kept whole */
    assert_string_equal(gcs_clip(out, GCS_CLIP_KEEP, s), s);
    /* A two-byte character across the cut is left out whole. */
    char u[300];
    memset(u, 0, sizeof u);
    for (int i = 0; i < 100; i++)
        memcpy(u + 1 + 2 * i, "\xc3\xa9", 2);
    u[0] = 'x';                 /* byte 100 is the second byte of a character */
    gcs_clip(out, GCS_CLIP_KEEP, u);
    assert_int_equal(strlen(out), 99 + 3);
    assert_string_equal(out + 99, "...");
}

static void sticky_message_whole(void **state)
{
    (void)state;
    char path[1001], object[256], msg[512];
    memset(path, 'p', 1000);
    path[1000] = '\0';
    memset(object, 'o', 255);
    object[255] = '\0';
    const enum gcs_sticky_rule rules[] = { GCS_STICKY_REFUSE_SYMLINK, GCS_STICKY_REFUSE_REGULAR,
                                           GCS_STICKY_REFUSE_FIFO };
    for (int i = 0; i < 3; i++) {
        gcs_sticky_message(msg, sizeof msg, path, object, rules[i], 4294967295u);
        assert_true(strlen(msg) < 255);
        assert_non_null(strstr(msg, "uid 4294967295"));
        const char *end = "; gcstats writes nothing";
        assert_string_equal(msg + strlen(msg) - strlen(end), end);
    }
    gcs_sticky_message(msg, sizeof msg, "/tmp/gc.jsonl", "gc.jsonl", GCS_STICKY_REFUSE_SYMLINK, 65534);
    assert_string_equal(msg, "GCSTATS_FILE=/tmp/gc.jsonl: refused symlink gc.jsonl: owner uid 65534 is neither "
                             "ours nor the sticky world-writable directory's; gcstats writes nothing");
}

static void fragment(void **state)
{
    (void)state;
    assert_true(gcs_fragment_needs_newline(true, 4096, 4096));    /* still there, at the end */
    assert_true(gcs_fragment_needs_newline(true, 5000, 4096));    /* others appended after it */
    assert_false(gcs_fragment_needs_newline(true, 0, 4096));      /* copytruncate */
    assert_false(gcs_fragment_needs_newline(true, 100, 4096));    /* truncated, refilled a little */
    assert_true(gcs_fragment_needs_newline(false, 0, 0));         /* a pipe has no size */
}

static void deadlines(void **state)
{
    (void)state;
    uint64_t missed;
    /* On time or a little late: the grid goes on, nothing missed. */
    assert_int_equal(gcs_next_deadline(1000, 100, 1000, &missed), 1100);
    assert_int_equal(missed, 0);
    assert_int_equal(gcs_next_deadline(1000, 100, 1099, &missed), 1100);
    assert_int_equal(missed, 0);
    /* Exactly one period late: the tick at 1100 is missed. */
    assert_int_equal(gcs_next_deadline(1000, 100, 1100, &missed), 1200);
    assert_int_equal(missed, 1);
    /* A 2.55 s stall: 25 grid points passed unserved, and the grid stays. */
    assert_int_equal(gcs_next_deadline(1000, 100, 3550, &missed), 3600);
    assert_int_equal(missed, 25);
    /* Every grid point is either served or missed, whatever the stalls. */
    int64_t d = 50, served = 0, lost = 0;
    const int64_t wakes[] = { 50, 60, 170, 171, 990, 1000, 1049, 5000, 5051 };
    for (size_t i = 0; i < sizeof wakes / sizeof wakes[0]; i++) {
        if (wakes[i] < d)
            continue;
        served++;
        d = gcs_next_deadline(d, 50, wakes[i], &missed);
        lost += (int64_t)missed;
    }
    assert_int_equal(served + lost, 5050 / 50);   /* grid points 50, 100, ..., 5050 */
    assert_int_equal(d, 5100);
    /* Period 0: never again. */
    assert_int_equal(gcs_next_deadline(10, 0, 20, &missed), INT64_MAX);
    assert_int_equal(missed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sticky_rules_exhaustive),
        cmocka_unit_test(sticky_rules_root),
        cmocka_unit_test(clip),
        cmocka_unit_test(sticky_message_whole),
        cmocka_unit_test(fragment),
        cmocka_unit_test(deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
