#include "test.h"

#include <string.h>

#include "v8layout.h"

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

static void known_majors(void **state)
{
    (void)state;
    assert_false(gcs_v8_layout_known(9));
    for (int m = 10; m <= 14; m++)
        assert_true(gcs_v8_layout_known(m));
    assert_false(gcs_v8_layout_known(15));
}

static void gc_kinds(void **state)
{
    (void)state;
    assert_int_equal(gcs_gc_kind_of(1), GCS_KIND_SCAVENGE);
    assert_int_equal(gcs_gc_kind_of(2), GCS_KIND_MINOR_MS);
    assert_int_equal(gcs_gc_kind_of(4), GCS_KIND_MARK_COMPACT);
    assert_int_equal(gcs_gc_kind_of(8), GCS_KIND_INCREMENTAL);
    assert_int_equal(gcs_gc_kind_of(16), GCS_KIND_WEAK_CALLBACKS);
    assert_int_equal(gcs_gc_kind_of(0), GCS_KIND_NONE);
    assert_int_equal(gcs_gc_kind_of(3), GCS_KIND_NONE);
    assert_int_equal(gcs_gc_kind_of(32), GCS_KIND_NONE);
    assert_string_equal(gcs_gc_kind_name(GCS_KIND_MARK_COMPACT), "mark_compact");
    assert_string_equal(gcs_gc_kind_name(-1), "unknown");
}

static void heap_stats_offsets(void **state)
{
    (void)state;
    uint64_t raw[GCS_HEAP_STATS_BUFFER / 8];
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        raw[i] = 1000 + i;   /* field at offset 8*i holds 1000+i */
    struct gcs_heap_stats h;
    assert_true(gcs_heap_stats_decode(raw, sizeof raw, 11, &h));
    assert_int_equal(h.total, 1000);
    assert_int_equal(h.total_executable, 1001);
    assert_int_equal(h.physical, 1002);
    assert_int_equal(h.available, 1003);
    assert_int_equal(h.used, 1004);
    assert_int_equal(h.limit, 1005);
    assert_int_equal(h.malloced, 1006);
    assert_int_equal(h.external, 1007);
    assert_int_equal(h.native_contexts, 1010);
    assert_int_equal(h.detached_contexts, 1011);
    assert_false(h.have_total_allocated);
    assert_int_equal(h.total_allocated, 0);
    /* V8 14's struct is 8 bytes longer: total_allocated_bytes at 112 */
    assert_true(gcs_heap_stats_decode(raw, sizeof raw, 14, &h));
    assert_true(h.have_total_allocated);
    assert_int_equal(h.total_allocated, 1014);
    assert_int_equal(h.used, 1004);
    assert_false(gcs_heap_stats_decode(raw, sizeof raw, 15, &h));
    assert_false(gcs_heap_stats_decode(raw, 112, 11, &h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),
        cmocka_unit_test(known_majors),
        cmocka_unit_test(gc_kinds),
        cmocka_unit_test(heap_stats_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
