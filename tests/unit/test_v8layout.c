#include "test.h"

#include <stdio.h>
#include <string.h>

#include "v8layout.h"

/* The numbers in the table are checked against each major's own headers
 * by tests/integration/headers.test.mjs; these tests do not restate them.
 * They check what the rest of gcstats relies on: that the table is whole
 * and consistent, that decoding reads where the table says, and that the
 * constants compiled into isolate_thread.c and v8api.c agree with every row. */

static void versions(void **state)
{
    (void)state;
    struct gcs_v8_version v;
    assert_true(gcs_parse_v8_version("11.3.244.8-node.33", &v));
    assert_int_equal(v.major, 11);
    assert_int_equal(v.minor, 3);
    assert_true(gcs_parse_v8_version("14.6", &v));
    assert_int_equal(v.major, 14);
    assert_false(gcs_parse_v8_version("", &v));
    assert_false(gcs_parse_v8_version("v11.3", &v));
    assert_false(gcs_parse_v8_version("11", &v));
    assert_false(gcs_parse_v8_version("11.", &v));
    assert_false(gcs_parse_v8_version(NULL, &v));
    assert_false(gcs_parse_v8_version("99999999.1", &v));
}

static void table_covers_exactly_the_known_majors(void **state)
{
    (void)state;
    assert_true(GCS_V8_MIN_MAJOR <= GCS_V8_MAX_MAJOR);
    assert_null(gcs_v8_facts(GCS_V8_MIN_MAJOR - 1));
    assert_null(gcs_v8_facts(GCS_V8_MAX_MAJOR + 1));
    assert_null(gcs_v8_facts(0));
    assert_null(gcs_v8_facts(-1));
    assert_false(gcs_v8_layout_known(GCS_V8_MIN_MAJOR - 1));
    assert_false(gcs_v8_layout_known(GCS_V8_MAX_MAJOR + 1));
    int last_node = 0;
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        const struct gcs_v8_facts *f = gcs_v8_facts(m);
        assert_non_null(f);
        assert_int_equal(f->v8_major, m);
        assert_true(gcs_v8_layout_known(m));
        /* Newer V8, newer Node. */
        assert_true(f->node_major > last_node);
        last_node = f->node_major;
    }
}

static void heap_stats_layout_is_sound(void **state)
{
    (void)state;
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        const struct gcs_v8_facts *f = gcs_v8_facts(m);
        /* gcs_v8_heap_stats lets V8 fill a buffer of this size. */
        assert_true(f->heap_stats_size > 0 && f->heap_stats_size <= GCS_HEAP_STATS_BUFFER);
        for (int a = 0; a < GCS_HS_FIELD_COUNT; a++) {
            assert_non_null(gcs_heap_field_name(a));
            int at = f->heap_stats_offset[a];
            if (at == GCS_FIELD_ABSENT) {
                /* Only total_allocated_bytes came later. */
                assert_int_equal(a, GCS_HS_TOTAL_ALLOCATED);
                continue;
            }
            /* A whole, aligned 8-byte field inside the struct, overlapping no other. */
            assert_true(at >= 0 && at % 8 == 0 && at + 8 <= f->heap_stats_size);
            for (int b = 0; b < a; b++)
                assert_int_not_equal(at, f->heap_stats_offset[b]);
        }
        /* Every field but the newest is there in every major. */
        for (int a = 0; a < GCS_HS_TOTAL_ALLOCATED; a++)
            assert_int_not_equal(f->heap_stats_offset[a], GCS_FIELD_ABSENT);
    }
    assert_null(gcs_heap_field_name(-1));
    assert_null(gcs_heap_field_name(GCS_HS_FIELD_COUNT));
}

/* Reads the 8-byte field at `at` of a buffer. */
static uint64_t at_offset(const unsigned char *raw, int at)
{
    uint64_t v;
    memcpy(&v, raw + at, sizeof v);
    return v;
}

static void decode_reads_where_the_table_says(void **state)
{
    (void)state;
    _Alignas(16) unsigned char raw[GCS_HEAP_STATS_BUFFER];
    /* Every byte different, so that a read at any other offset, or of a
     * different width, gives another value. */
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(i * 7 + 3);
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        const struct gcs_v8_facts *f = gcs_v8_facts(m);
        const int *at = f->heap_stats_offset;
        struct gcs_heap_stats h;
        memset(&h, 0xa5, sizeof h);
        assert_true(gcs_heap_stats_decode(raw, (size_t)f->heap_stats_size, m, &h));
        assert_true(h.total == at_offset(raw, at[GCS_HS_TOTAL]));
        assert_true(h.total_executable == at_offset(raw, at[GCS_HS_TOTAL_EXECUTABLE]));
        assert_true(h.physical == at_offset(raw, at[GCS_HS_PHYSICAL]));
        assert_true(h.available == at_offset(raw, at[GCS_HS_AVAILABLE]));
        assert_true(h.used == at_offset(raw, at[GCS_HS_USED]));
        assert_true(h.limit == at_offset(raw, at[GCS_HS_LIMIT]));
        assert_true(h.malloced == at_offset(raw, at[GCS_HS_MALLOCED]));
        assert_true(h.external == at_offset(raw, at[GCS_HS_EXTERNAL]));
        assert_true(h.native_contexts == at_offset(raw, at[GCS_HS_NATIVE_CONTEXTS]));
        assert_true(h.detached_contexts == at_offset(raw, at[GCS_HS_DETACHED_CONTEXTS]));
        if (at[GCS_HS_TOTAL_ALLOCATED] == GCS_FIELD_ABSENT) {
            assert_false(h.have_total_allocated);
            assert_true(h.total_allocated == 0);
        } else {
            assert_true(h.have_total_allocated);
            assert_true(h.total_allocated == at_offset(raw, at[GCS_HS_TOTAL_ALLOCATED]));
        }
        /* A buffer shorter than this major's struct is refused. */
        assert_false(gcs_heap_stats_decode(raw, (size_t)f->heap_stats_size - 1, m, &h));
    }
    struct gcs_heap_stats h;
    assert_false(gcs_heap_stats_decode(raw, sizeof raw, GCS_V8_MIN_MAJOR - 1, &h));
    assert_false(gcs_heap_stats_decode(raw, sizeof raw, GCS_V8_MAX_MAJOR + 1, &h));
}

/* isolate_thread.c registers its callbacks for GCS_GC_ALL and tells kinds apart by
 * the GCS_GC_* bits, once for every major: every row must agree. */
static void compiled_gc_constants_agree_with_every_row(void **state)
{
    (void)state;
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        const struct gcs_v8_facts *f = gcs_v8_facts(m);
        int all = 0;
        for (int k = 0; k < GCS_KIND_COUNT; k++) {
            assert_int_equal(gcs_gc_kind_of(f->gc_type[k]), k);
            all |= f->gc_type[k];
        }
        assert_int_equal(all, GCS_GC_ALL);
        assert_int_equal(f->gc_flag_forced, GCS_GC_FLAG_FORCED);
        /* isolate_thread.c counts a cycle at its first callback and closes it at the
         * mark-compact: right for one callback per cycle or two. */
        assert_true(f->incremental_callbacks_per_cycle == 1 || f->incremental_callbacks_per_cycle == 2);
    }
}

static void gc_kinds(void **state)
{
    (void)state;
    assert_int_equal(gcs_gc_kind_of(GCS_GC_SCAVENGE), GCS_KIND_SCAVENGE);
    assert_int_equal(gcs_gc_kind_of(GCS_GC_MINOR_MS), GCS_KIND_MINOR_MS);
    assert_int_equal(gcs_gc_kind_of(GCS_GC_MARK_COMPACT), GCS_KIND_MARK_COMPACT);
    assert_int_equal(gcs_gc_kind_of(GCS_GC_INCREMENTAL), GCS_KIND_INCREMENTAL);
    assert_int_equal(gcs_gc_kind_of(GCS_GC_WEAK_CALLBACKS), GCS_KIND_WEAK_CALLBACKS);
    /* anything but a single known bit */
    for (int t = 0; t < 256; t++)
        if (t != 1 && t != 2 && t != 4 && t != 8 && t != 16)
            assert_int_equal(gcs_gc_kind_of(t), GCS_KIND_NONE);
    assert_string_equal(gcs_gc_kind_name(GCS_KIND_MARK_COMPACT), "mark_compact");
    assert_string_equal(gcs_gc_kind_name(-1), "unknown");
    assert_string_equal(gcs_gc_kind_name(GCS_KIND_COUNT), "unknown");
}

static void delegate_vtable_matches_every_row(void **state)
{
    (void)state;
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        const struct gcs_v8_facts *f = gcs_v8_facts(m);
        assert_int_equal(f->delegate_virtuals, GCS_DELEGATE_SLOTS);
        for (int i = 0; i < GCS_DELEGATE_SLOTS; i++)
            assert_int_equal(f->delegate_slot[i], i);
        assert_true(gcs_v8_delegate_matches(m));
    }
    assert_false(gcs_v8_delegate_matches(GCS_V8_MIN_MAJOR - 1));
    assert_false(gcs_v8_delegate_matches(GCS_V8_MAX_MAJOR + 1));
}

static void assumed_version_only_closes_the_gate(void **state)
{
    (void)state;
    struct gcs_v8_version v = { -7, -7 };
    /* Every known major is refused, whatever the minor and suffix. */
    for (int m = GCS_V8_MIN_MAJOR; m <= GCS_V8_MAX_MAJOR; m++) {
        char s[32];
        snprintf(s, sizeof s, "%d.0", m);
        assert_false(gcs_v8_believe_assumed(s, &v));
        snprintf(s, sizeof s, "%d.99.1.2-node.5", m);
        assert_false(gcs_v8_believe_assumed(s, &v));
        assert_int_equal(v.major, -7);   /* untouched when refused */
    }
    /* Unknown majors on either side are believed. */
    char s[32];
    snprintf(s, sizeof s, "%d.0", GCS_V8_MAX_MAJOR + 1);
    assert_true(gcs_v8_believe_assumed(s, &v));
    assert_int_equal(v.major, GCS_V8_MAX_MAJOR + 1);
    assert_int_equal(v.minor, 0);
    snprintf(s, sizeof s, "%d.8", GCS_V8_MIN_MAJOR - 1);
    assert_true(gcs_v8_believe_assumed(s, &v));
    assert_int_equal(v.major, GCS_V8_MIN_MAJOR - 1);
    assert_int_equal(v.minor, 8);
    assert_true(gcs_v8_believe_assumed("0.0", &v));
    assert_true(gcs_v8_believe_assumed("100000.1", &v));
    /* Not a version: nothing to believe. */
    v = (struct gcs_v8_version){ -7, -7 };
    assert_false(gcs_v8_believe_assumed(NULL, &v));
    assert_false(gcs_v8_believe_assumed("", &v));
    assert_false(gcs_v8_believe_assumed("15", &v));
    assert_false(gcs_v8_believe_assumed("x15.0", &v));
    assert_false(gcs_v8_believe_assumed("-1.0", &v));
    assert_int_equal(v.major, -7);
}

/* A reading like those Node 20 gives after a full GC. */
static struct gcs_heap_stats good_reading(void)
{
    return (struct gcs_heap_stats){
        .total = 6144000, .total_executable = 262144, .physical = 5902336,
        .available = 4341000123, .used = 4123457, .limit = 4345298944,
        .malloced = 262296, .external = 1439187, .native_contexts = 1, .detached_contexts = 0,
    };
}

static void plausible_readings_pass(void **state)
{
    (void)state;
    struct gcs_heap_stats h = good_reading();
    assert_null(gcs_heap_stats_implausible(&h));
    /* Workers on V8 10 to 13 report more physical than committed memory. */
    h.physical = h.total + 16 * GCS_V8_COMMIT_PAGE;
    assert_null(gcs_heap_stats_implausible(&h));
    /* V8 14 reports more available than the limit. */
    h = good_reading();
    h.available = h.limit + 12345;
    assert_null(gcs_heap_stats_implausible(&h));
    /* The edges: used == total == limit, the smallest and largest limits. */
    h = good_reading();
    h.limit = h.total = h.used = GCS_HEAP_LIMIT_MIN;
    h.total_executable = h.total;
    h.physical = 0;
    assert_null(gcs_heap_stats_implausible(&h));
    h.limit = GCS_HEAP_LIMIT_MAX - GCS_V8_COMMIT_PAGE;
    assert_null(gcs_heap_stats_implausible(&h));
    /* Fields that are never judged may hold anything. */
    h = good_reading();
    h.used = 4123457 | 1;
    h.available = 1;
    h.malloced = UINT64_MAX;
    h.external = UINT64_MAX;
    h.native_contexts = 0;
    h.detached_contexts = UINT64_MAX;
    h.have_total_allocated = true;
    h.total_allocated = 3;
    assert_null(gcs_heap_stats_implausible(&h));
}

static void implausible_readings_fail(void **state)
{
    (void)state;
    struct gcs_heap_stats h;
#define EXPECT_IMPLAUSIBLE(change, words)                          \
    do {                                                           \
        h = good_reading();                                        \
        change;                                                    \
        const char *why = gcs_heap_stats_implausible(&h);          \
        assert_non_null(why);                                      \
        assert_non_null(strstr(why, words));                       \
    } while (0)
    EXPECT_IMPLAUSIBLE(h.used = h.total + 1, "used_heap_size");
    EXPECT_IMPLAUSIBLE(h.total = h.limit + GCS_V8_COMMIT_PAGE, "larger than heap_size_limit");
    EXPECT_IMPLAUSIBLE(h.total_executable = h.total + GCS_V8_COMMIT_PAGE, "total_heap_size_executable");
    EXPECT_IMPLAUSIBLE((h.limit = GCS_HEAP_LIMIT_MIN - GCS_V8_COMMIT_PAGE, h.total = h.used = h.total_executable = 0),
                       "below 1 MiB");
    EXPECT_IMPLAUSIBLE(h.limit = GCS_HEAP_LIMIT_MAX, "1 TiB");
    EXPECT_IMPLAUSIBLE(h.limit = UINT64_MAX, "1 TiB");
    EXPECT_IMPLAUSIBLE(h.total += 8, "total_heap_size is not");
    EXPECT_IMPLAUSIBLE(h.total_executable += 1, "total_heap_size_executable is not");
    EXPECT_IMPLAUSIBLE(h.physical += 2048, "total_physical_size is not");
    EXPECT_IMPLAUSIBLE(h.limit -= 8, "heap_size_limit is not");
    /* A struct read at the wrong offsets (8 bytes off, the classic
     * mistake) is caught. */
    uint64_t raw[GCS_HEAP_STATS_BUFFER / 8 + 1];
    memset(raw, 0, sizeof raw);
    const struct gcs_v8_facts *f = gcs_v8_facts(GCS_V8_MAX_MAJOR);
    struct gcs_heap_stats want = good_reading();
    const uint64_t *by_field[GCS_HS_FIELD_COUNT] = {
        [GCS_HS_TOTAL] = &want.total, [GCS_HS_TOTAL_EXECUTABLE] = &want.total_executable,
        [GCS_HS_PHYSICAL] = &want.physical, [GCS_HS_AVAILABLE] = &want.available,
        [GCS_HS_USED] = &want.used, [GCS_HS_LIMIT] = &want.limit,
        [GCS_HS_MALLOCED] = &want.malloced, [GCS_HS_EXTERNAL] = &want.external,
        [GCS_HS_NATIVE_CONTEXTS] = &want.native_contexts,
        [GCS_HS_DETACHED_CONTEXTS] = &want.detached_contexts,
        [GCS_HS_TOTAL_ALLOCATED] = &want.total_allocated,
    };
    for (int a = 0; a < GCS_HS_FIELD_COUNT; a++)
        if (f->heap_stats_offset[a] != GCS_FIELD_ABSENT)
            memcpy((char *)raw + 8 + f->heap_stats_offset[a], by_field[a], 8);
    struct gcs_heap_stats got;
    assert_true(gcs_heap_stats_decode((char *)raw + 8, sizeof raw - 8, f->v8_major, &got));
    assert_null(gcs_heap_stats_implausible(&got));
    assert_true(gcs_heap_stats_decode(raw, sizeof raw, f->v8_major, &got));
    assert_non_null(gcs_heap_stats_implausible(&got));
    assert_true(gcs_heap_stats_decode((char *)raw + 16, sizeof raw - 16, f->v8_major, &got));
    assert_non_null(gcs_heap_stats_implausible(&got));
    /* An all-zero struct (a constructor that filled nothing) is caught. */
    memset(raw, 0, sizeof raw);
    assert_true(gcs_heap_stats_decode(raw, sizeof raw, f->v8_major, &got));
    assert_non_null(gcs_heap_stats_implausible(&got));
#undef EXPECT_IMPLAUSIBLE
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),
        cmocka_unit_test(table_covers_exactly_the_known_majors),
        cmocka_unit_test(heap_stats_layout_is_sound),
        cmocka_unit_test(decode_reads_where_the_table_says),
        cmocka_unit_test(compiled_gc_constants_agree_with_every_row),
        cmocka_unit_test(gc_kinds),
        cmocka_unit_test(delegate_vtable_matches_every_row),
        cmocka_unit_test(assumed_version_only_closes_the_gate),
        cmocka_unit_test(plausible_readings_pass),
        cmocka_unit_test(implausible_readings_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
