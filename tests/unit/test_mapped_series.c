#include "test.h"

#include <string.h>

#include "mapped_series.h"
#include "sites.h"

#define MB (1024u * 1024u)

static struct gcs_mapped reading(uint64_t heap, uint64_t code, uint64_t libuv, uint64_t addon)
{
    struct gcs_mapped m;
    memset(&m, 0, sizeof m);
    m.have = true;
    m.owner[GCS_OWNER_V8_HEAP].committed = heap;
    m.owner[GCS_OWNER_V8_CODE].committed = code;
    m.owner[GCS_OWNER_LIBUV].committed = libuv;
    m.owner[GCS_OWNER_FIRST_OBJECT].committed = addon;
    return m;
}

/* The series is every owner but V8's heap and code space. */
static void sums_what_lies_outside_v8(void **state)
{
    (void)state;
    static struct gcs_mapped_series h;
    memset(&h, 0, sizeof h);
    struct gcs_mapped m = reading(100 * MB, 50 * MB, 1 * MB, 2 * MB);
    assert_int_equal(gcs_mapped_series_add(&h, &m, 1000), 3 * MB);
    /* A reading without numbers repeats the last sample, and adds none. */
    struct gcs_mapped none;
    memset(&none, 0, sizeof none);
    assert_int_equal(gcs_mapped_series_add(&h, &none, 2000), 3 * MB);
    assert_int_equal(h.count, 1);
    static struct gcs_mapped_series empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(gcs_mapped_series_add(&empty, &none, 2000), 0);
}

/* The owner that grew most since a time, by the oldest sample at or after
 * it; V8's own owners never count. */
static void names_the_owner_that_grew(void **state)
{
    (void)state;
    static struct gcs_mapped_series h;
    memset(&h, 0, sizeof h);
    assert_int_equal(gcs_mapped_series_grown_owner(&h, 0), GCS_OWNER_OTHER);
    for (int i = 0; i < 10; i++) {
        struct gcs_mapped m = reading((100 + 10u * i) * MB, 50 * MB, (1 + i) * MB, 2 * MB + (uint64_t)i * 3 * MB);
        gcs_mapped_series_add(&h, &m, 1000 * i);
    }
    assert_int_equal(gcs_mapped_series_grown_owner(&h, 0), GCS_OWNER_FIRST_OBJECT);
    /* Since the last sample nothing grew. */
    assert_int_equal(gcs_mapped_series_grown_owner(&h, 9000), GCS_OWNER_OTHER);
    /* More samples than the history holds: the oldest are forgotten, and
     * the newest still win. */
    for (int i = 10; i < 3 * GCS_MAPPED_HISTORY; i++) {
        struct gcs_mapped m = reading(100 * MB, 50 * MB, (uint64_t)(i - 9) * 4 * MB, 29 * MB);
        gcs_mapped_series_add(&h, &m, 1000 * i);
    }
    assert_int_equal(h.count, GCS_MAPPED_HISTORY);
    assert_int_equal(gcs_mapped_series_grown_owner(&h, 0), GCS_OWNER_LIBUV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sums_what_lies_outside_v8),
        cmocka_unit_test(names_the_owner_that_grew),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
