#include "test.h"

#include <string.h>

#include "window.h"

static struct gcs_summary feed(struct gcs_windows *w, const uint64_t *v, size_t n)
{
    struct gcs_summary s;
    for (size_t i = 0; i < n; i++)
        gcs_windows_add(w, v[i], (int64_t)(1000 * (i + 1)));
    gcs_windows_summarize(w, &s);
    return s;
}

static void empty_summary_is_zero(void **state)
{
    (void)state;
    struct gcs_windows w;
    struct gcs_summary s;
    gcs_windows_init(&w);
    gcs_windows_summarize(&w, &s);
    assert_int_equal(s.samples, 0);
    assert_int_equal(s.estimated_base, 0);
    assert_true(s.usage_trend == 0.0);
}

static void window_sizes_follow_the_warm_up_rule(void **state)
{
    (void)state;
    static const struct { uint64_t n; uint32_t recent, longterm; } cases[] = {
        { 0, 0, 0 }, { 1, 1, 1 }, { 2, 1, 2 }, { 3, 2, 3 }, { 4, 2, 4 }, { 19, 10, 19 },
        { 20, 10, 20 }, { 21, 10, 21 }, { 119, 10, 119 }, { 120, 10, 120 }, { 121, 10, 120 },
        { 1000000, 10, 120 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(gcs_recent_size(cases[i].n), cases[i].recent);
        assert_int_equal(gcs_long_size(cases[i].n), cases[i].longterm);
    }
}

static void one_sample_has_no_trend(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    uint64_t v[] = { 12345678 };
    struct gcs_summary s = feed(&w, v, 1);
    assert_int_equal(s.samples, 1);
    assert_int_equal(s.current_base, 12345678);
    assert_int_equal(s.estimated_base, 12345678);
    assert_true(s.usage_trend == 0.0);
    assert_int_equal(s.min.bytes, 12345678);
    assert_int_equal(s.max.bytes, 12345678);
    assert_int_equal(s.min.when_ms, 1000);
}

/* memwatch: the warm-up weight was 0 by integer division, so the trend
 * stayed 0 for the first ten samples whatever the heap did. */
static void growth_shows_from_the_second_sample(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    gcs_windows_add(&w, 10000000, 1);
    gcs_windows_add(&w, 11000000, 2);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    /* recent = 11 MB, long = 10.5 MB: +4.76% */
    assert_true(s.usage_trend > 4.76 && s.usage_trend < 4.77);
    for (int i = 3; i <= 9; i++)
        gcs_windows_add(&w, 10000000 + (uint64_t)i * 1000000, i);
    gcs_windows_summarize(&w, &s);
    assert_true(s.usage_trend > 0.0);
}

/* memwatch: a 32-bit running average overflowed past ~477 MB, and a
 * steady 500 MB heap was reported as 70 MB. */
static void steady_500mb_heap_reports_500mb(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    const uint64_t mb500 = 500ull * 1000 * 1000;
    for (int i = 0; i < 300; i++)
        gcs_windows_add(&w, mb500 + (uint64_t)(i % 3) * 1000, i);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    assert_true(s.estimated_base >= mb500 && s.estimated_base <= mb500 + 2000);
    assert_true(s.usage_trend > -0.001 && s.usage_trend < 0.001);
    assert_int_equal(s.samples, 300);
}

static void very_large_heaps_do_not_overflow(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    const uint64_t big = 1ull << 50;   /* a petabyte: 120 of them sum below 2^57 */
    for (int i = 0; i < 200; i++)
        gcs_windows_add(&w, big, i);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    assert_true(s.estimated_base == big);
    assert_true(s.usage_trend == 0.0);
}

/* memwatch: unsigned subtraction made a falling heap report +38,300%. */
static void falling_heap_has_negative_trend(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    for (int i = 0; i < 120; i++)
        gcs_windows_add(&w, 200000000 - (uint64_t)i * 100000, i);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    assert_true(s.usage_trend < 0.0);
    assert_true(s.usage_trend > -10.0);
    assert_int_equal(s.current_base, 200000000 - 119 * 100000);
    assert_int_equal(s.max.bytes, 200000000);
    assert_int_equal(s.max.when_ms, 0);
    assert_int_equal(s.min.when_ms, 119);
}

static void trend_is_exact_for_known_windows(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    /* 110 samples of 100, then 10 of 200: recent 200, long (110*100+10*200)/120 */
    for (int i = 0; i < 110; i++)
        gcs_windows_add(&w, 100, i);
    for (int i = 0; i < 10; i++)
        gcs_windows_add(&w, 200, 110 + i);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    double longterm = (110.0 * 100 + 10 * 200) / 120;
    double expect = (200 - longterm) / longterm * 100;
    assert_true(s.usage_trend > expect - 1e-9 && s.usage_trend < expect + 1e-9);
    assert_int_equal(s.estimated_base, 200);
    assert_int_equal(s.recent_n, 10);
    assert_int_equal(s.long_n, 120);
}

static void old_samples_leave_the_long_window(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    gcs_windows_add(&w, 1, 0);          /* the all-time minimum */
    for (int i = 0; i < 120; i++)
        gcs_windows_add(&w, 1000, i + 1);
    struct gcs_summary s;
    gcs_windows_summarize(&w, &s);
    assert_true(s.usage_trend == 0.0); /* the 1 is out of both windows */
    assert_int_equal(s.min.bytes, 1);  /* but min is over every sample */
}

static void equal_values_keep_the_first_time_for_min_and_max(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    uint64_t v[] = { 5, 5, 5 };
    struct gcs_summary s = feed(&w, v, 3);
    assert_int_equal(s.min.when_ms, 1000);
    assert_int_equal(s.max.when_ms, 1000);
}

static void zero_heap_gives_zero_trend(void **state)
{
    (void)state;
    struct gcs_windows w;
    gcs_windows_init(&w);
    uint64_t v[] = { 0, 0, 0, 0 };
    struct gcs_summary s = feed(&w, v, 4);
    assert_true(s.usage_trend == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_summary_is_zero),
        cmocka_unit_test(window_sizes_follow_the_warm_up_rule),
        cmocka_unit_test(one_sample_has_no_trend),
        cmocka_unit_test(growth_shows_from_the_second_sample),
        cmocka_unit_test(steady_500mb_heap_reports_500mb),
        cmocka_unit_test(very_large_heaps_do_not_overflow),
        cmocka_unit_test(falling_heap_has_negative_trend),
        cmocka_unit_test(trend_is_exact_for_known_windows),
        cmocka_unit_test(old_samples_leave_the_long_window),
        cmocka_unit_test(equal_values_keep_the_first_time_for_min_and_max),
        cmocka_unit_test(zero_heap_gives_zero_trend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
