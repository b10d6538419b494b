#include "test.h"

#include <math.h>
#include <string.h>

#include "verdict.h"

/* A small deterministic generator: the same noise in every run. */
static uint64_t rng_state;
static double noise(double amplitude)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(rng_state >> 11) / (double)(1ull << 53);
    return (u * 2 - 1) * amplitude;
}

struct run {
    int leaks, leak_ends;
    int64_t first_leak_ms;
    double first_leak_rate;
    enum gcs_state final_state;
};

typedef double (*series_fn)(double t_s);

/* Feeds `fn` sampled every `every_ms` (times `jitter` of it, +-) for
 * `total_ms`, with +-noise. Real full GCs are not phase-locked to a
 * workload's cycles: a fixed period against a sawtooth aliases into a slow
 * ramp that no method can tell from a leak. */
static struct run feed_jittered(series_fn fn, int64_t every_ms, double jitter, int64_t total_ms, double noise_bytes,
                                double *final_rate)
{
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    struct run r = { 0, 0, -1, 0, GCS_STATE_UNKNOWN };
    rng_state = 42;
    for (int64_t t = 0; t <= total_ms; t += every_ms + (int64_t)noise(jitter * (double)every_ms)) {
        double v = fn((double)t / 1000.0) + noise(noise_bytes);
        enum gcs_detect_event e = gcs_detector_add(&d, &c, t, (uint64_t)(v > 0 ? v : 0));
        if (e == GCS_DETECT_LEAK) {
            if (r.leaks++ == 0) {
                r.first_leak_ms = t;
                r.first_leak_rate = d.last.rate;
            }
        } else if (e == GCS_DETECT_LEAK_END) {
            r.leak_ends++;
        }
    }
    r.final_state = d.state;
    if (final_rate != NULL)
        *final_rate = d.last.rate;
    return r;
}

static struct run feed(series_fn fn, int64_t every_ms, int64_t total_ms, double noise_bytes)
{
    return feed_jittered(fn, every_ms, 0.0, total_ms, noise_bytes, NULL);
}

#define MB 1e6

static double flat(double t) { (void)t; return 10 * MB; }
static double slow_leak(double t) { return 10 * MB + 200e3 * t; }
static double fast_leak(double t) { return 10 * MB + 2e6 * t; }
static double warm_up(double t) { return 10 * MB + 1.5e6 * (t < 10 ? t : 10); }
static double sawtooth(double t) { return 5 * MB + 1.5e6 * fmod(t, 10.0); }
static double shrinking(double t) { return 50 * MB - 100e3 * t; }
static double stops(double t) { return 10 * MB + 500e3 * (t < 60 ? t : 60); }
static double flat_then_leak(double t) { return 10 * MB + (t < 3600 ? 0 : 100e3 * (t - 3600)); }

static void flat_heap_is_ok(void **state)
{
    (void)state;
    struct run r = feed(flat, 2000, 600000, 0.3 * MB);
    assert_int_equal(r.leaks, 0);
    assert_int_equal(r.final_state, GCS_STATE_OK);
}

static void slow_leak_is_found_with_its_rate(void **state)
{
    (void)state;
    struct run r = feed(slow_leak, 2000, 120000, 0.2 * MB);
    assert_true(r.leaks >= 1);
    assert_true(r.first_leak_ms <= 30000);
    assert_true(fabs(r.first_leak_rate - 200e3) / 200e3 < 0.25);
    assert_int_equal(r.final_state, GCS_STATE_LEAK);
    assert_int_equal(r.leak_ends, 0);
}

static void fast_leak_is_found_at_the_earliest_moment(void **state)
{
    (void)state;
    struct run r = feed(fast_leak, 2000, 60000, 0.5 * MB);
    /* 5 samples and 20 s are the least evidence it acts on */
    assert_int_equal(r.first_leak_ms, 20000);
    assert_true(fabs(r.first_leak_rate - 2e6) / 2e6 < 0.05);
}

static void sparse_samples_need_five(void **state)
{
    (void)state;
    struct run r = feed(slow_leak, 30000, 300000, 0.2 * MB);
    assert_int_equal(r.first_leak_ms, 120000);   /* the 5th sample */
}

/* Full GCs grow rarer as a leaking heap grows (V8 raises its limit): the
 * newer half of the window can hold a single sample. Its rate is then the
 * rate into it, and the leak is still reported. */
static void samples_that_thin_out(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    static const int64_t at_s[] = { 2, 6, 9, 14, 35 };
    enum gcs_detect_event e = GCS_DETECT_NONE;
    for (size_t i = 0; i < sizeof at_s / sizeof at_s[0]; i++)
        e = gcs_detector_add(&d, &c, at_s[i] * 1000, (uint64_t)(20 * MB + 5e6 * (double)at_s[i]));
    assert_int_equal(d.last.points, 5);
    assert_true(fabs(d.last.recent_rate - 5e6) / 5e6 < 0.01);   /* from 14 s to 35 s */
    assert_int_equal(e, GCS_DETECT_LEAK);
    /* The same points with the last one no higher than the one before: no leak. */
    gcs_detector_init(&d);
    for (size_t i = 0; i < sizeof at_s / sizeof at_s[0]; i++) {
        double t = (double)(i + 1 < sizeof at_s / sizeof at_s[0] ? at_s[i] : 14);
        e = gcs_detector_add(&d, &c, at_s[i] * 1000, (uint64_t)(20 * MB + 5e6 * t));
    }
    assert_true(d.last.recent_rate == 0.0);
    assert_int_not_equal(d.state, GCS_STATE_LEAK);
}

static void warm_up_then_flat_is_not_a_leak(void **state)
{
    (void)state;
    struct run r = feed(warm_up, 1000, 600000, 0.2 * MB);
    assert_int_equal(r.leaks, 0);
    assert_int_equal(r.final_state, GCS_STATE_OK);
}

static void sawtooth_cache_is_not_a_leak(void **state)
{
    (void)state;
    for (int64_t every = 700; every <= 5000; every += 1100) {
        struct run r = feed_jittered(sawtooth, every, 0.5, 900000, 0.2 * MB, NULL);
        if (r.leaks != 0)
            fail_msg("sampled every %lld ms: %d leak reports", (long long)every, r.leaks);
    }
}

/* Two recorded runs of bench/detect's cache (fills ~15 MB in 10 s, then
 * cleared), sampled by V8's full GCs and gcstats' probe every 2.5-5 s,
 * out of step with the period, after a low first sample taken while the
 * process started: (ms, KiB). The trend is barely significant (lower
 * bounds of 2% and 10% of the rate) and the floor of the newer half is
 * above the start-up sample: before the known-rate rule both were
 * reported as leaks at the last sample. */
static const int32_t recorded_sawtooth[2][17][2] = {
    { { 1168, 8246 }, { 4288, 20734 }, { 6821, 28976 }, { 11868, 14851 }, { 14435, 21608 }, { 19502, 38404 },
      { 22027, 15186 }, { 26547, 28354 }, { 31593, 14188 }, { 34241, 20978 }, { 39307, 37865 }, { 41913, 14956 },
      { 46986, 29150 }, { 49617, 38582 }, { 54678, 23911 }, { 57287, 29720 }, { 0, 0 } },
    { { 1172, 8186 }, { 4098, 19806 }, { 6293, 27664 }, { 11338, 13638 }, { 13969, 20477 }, { 19062, 33764 },
      { 21189, 13140 }, { 26254, 27710 }, { 28805, 33379 }, { 33850, 20254 }, { 36544, 28328 }, { 41594, 14247 },
      { 44213, 21025 }, { 49310, 37895 }, { 51857, 14886 }, { 56945, 28855 }, { 59461, 38097 } },
};

static void recorded_sawtooth_out_of_step_is_not_a_leak(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    for (int run = 0; run < 2; run++) {
        struct gcs_detector d;
        gcs_detector_init(&d);
        for (int i = 0; i < 17 && recorded_sawtooth[run][i][0] > 0; i++) {
            enum gcs_detect_event e = gcs_detector_add(&d, &c, recorded_sawtooth[run][i][0],
                                                       (uint64_t)recorded_sawtooth[run][i][1] * 1024u);
            if (e != GCS_DETECT_NONE)
                fail_msg("run %d, sample %d: event %d", run, i, (int)e);
        }
        /* significant, yet not a leak: the rate is not known */
        assert_true(d.last.rate_low > 0);
        assert_true(d.last.rate_low < 0.25 * d.last.rate);
        assert_int_equal(d.state, GCS_STATE_GROWING);
    }
}

/* bench/detect's sawtooth (a cache filled over 10 s, then cleared), run
 * 13 of 20 on 700f4ee: the first sample is start-up's, below any floor
 * the cache comes back to, and the samples after it rise by chance, so
 * that at 39 s the leak's rate was "known" at 95% (its bound 38% of the
 * estimate) and a leak was reported. At 99% its bound is below zero. */
static void recorded_sawtooth_with_a_start_up_sample_is_not_a_leak(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    static const struct gcs_point recorded[] = {
        { 1170, 8462576 }, { 4285, 21124112 }, { 7500, 31258384 }, { 11265, 13708576 },
        { 14781, 24943104 }, { 18486, 33457520 }, { 23294, 19700696 }, { 27817, 32048760 },
        { 39029, 38628232 }, { 51067, 12998224 }, { 55463, 25904128 },
    };
    for (size_t i = 0; i < sizeof recorded / sizeof recorded[0]; i++) {
        enum gcs_detect_event e = gcs_detector_add(&d, &c, recorded[i].t_ms, recorded[i].bytes);
        if (e != GCS_DETECT_NONE)
            fail_msg("sample %zu: event %d", i, (int)e);
        if (recorded[i].t_ms == 39029) {
            assert_int_equal(d.last.state, GCS_STATE_GROWING);
            /* every other condition of a leak holds */
            assert_true(d.last.recent_rate >= d.last.rate / 3);
            assert_true(d.last.floor_rise >= d.last.growth / 4);
            assert_true(d.last.rate_low > 0.25 * d.last.rate);   /* known at 95% */
            assert_true(d.last.rate_low99 < 0);
        }
    }
}

static void shrinking_heap_is_ok(void **state)
{
    (void)state;
    struct run r = feed(shrinking, 3000, 300000, 0.1 * MB);
    assert_int_equal(r.leaks, 0);
    assert_int_equal(r.final_state, GCS_STATE_OK);
}

/* A quiet leak of 300 KB/s sampled by the probe on Node 24 (GCSTATS_LEAK_MIN_SPAN=5,
 * the probe test): V8 freed ~0.5 MB of start-up memory at the fifth sample. "ok" then is for
 * want of evidence, and says so; more samples of the same leak decide it. */
static void ok_for_want_of_evidence_is_undecided(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    c.min_span_ms = 5000;
    struct gcs_detector d;
    gcs_detector_init(&d);
    static const struct gcs_point recorded[] = { { 0, 4549096 }, { 1244, 4954648 }, { 2499, 5340000 }, { 3509, 5666928 },
                                                 { 4507, 5953648 }, { 5516, 5462328 } };
    for (size_t i = 0; i < sizeof recorded / sizeof recorded[0]; i++)
        gcs_detector_add(&d, &c, recorded[i].t_ms, recorded[i].bytes);
    assert_int_equal(d.state, GCS_STATE_OK);
    assert_true(gcs_assessment_undecided(&d.last, &c));
    int64_t t = 5516;
    uint64_t bytes = 5462328;
    while (d.state != GCS_STATE_LEAK && t < 30000) {
        t += 1000;
        bytes += 300000;
        gcs_detector_add(&d, &c, t, bytes);
    }
    assert_int_equal(d.state, GCS_STATE_LEAK);
    assert_false(gcs_assessment_undecided(&d.last, &c));
}

/* scripts/demo in session 12: a leak of 42 KB/s was "ok" at 24 s, its
 * trend 0.88 MB against the 1 MiB "growing" needs, though its rate was
 * significant. Undecided: a window as long again makes it "growing", and
 * the probe must keep sampling (settled, it sampled once a minute, and
 * the 45 s demo ended without a leak line). */
static void ok_with_a_significant_rate_and_little_growth_yet_is_undecided(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    static const struct gcs_point recorded[] = { { 3518, 5385752 }, { 7400, 5802672 }, { 9922, 5790032 },
                                                 { 13467, 5832880 }, { 17102, 6021552 }, { 21247, 6138160 },
                                                 { 24324, 6399408 } };
    for (size_t i = 0; i < sizeof recorded / sizeof recorded[0]; i++)
        gcs_detector_add(&d, &c, recorded[i].t_ms, recorded[i].bytes);
    assert_int_equal(d.last.state, GCS_STATE_OK);
    assert_true(d.last.rate_low > 0);
    assert_true(d.last.growth < (double)c.min_growth_bytes);   /* what "growing" needs here */
    assert_true(gcs_assessment_undecided(&d.last, &c));
}

/* A leak whose growth over a full ring of points at the probe's short
 * period (~4 minutes) falls short of what "growing" needs, but not by
 * half: 2 KB/s on 10 MB. Sampled as the probe would (3.75 s while a
 * series is not "ok" or is undecided, 45 s once settled), it must still
 * be reported: undecided only while the window can still lengthen. */
static void a_leak_too_slow_for_a_full_short_window_is_still_reported(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    int64_t first_leak = -1;
    for (int64_t t = 0; t <= 2 * 3600 * 1000LL && first_leak < 0;) {
        if (gcs_detector_add(&d, &c, t, (uint64_t)(10 * MB + 2e3 * (double)t / 1000.0)) == GCS_DETECT_LEAK)
            first_leak = t;
        bool settled = d.state == GCS_STATE_OK && !gcs_assessment_undecided(&d.last, &c);
        t += settled ? 45000 : 3750;
    }
    assert_true(first_leak > 0);
    assert_true(first_leak < 900 * 1000LL);
}

/* Flat, shrinking, or growing by less than "growing" needs: decided. */
static void ok_that_is_flat_is_decided(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    series_fn decided[] = { flat, shrinking };
    for (size_t k = 0; k < 2; k++) {
        struct gcs_detector d;
        gcs_detector_init(&d);
        rng_state = 7;
        for (int64_t t = 0; t <= 300000; t += 2000) {
            gcs_detector_add(&d, &c, t, (uint64_t)(decided[k]((double)t / 1000.0) + noise(0.3 * MB)));
            if (d.state != GCS_STATE_UNKNOWN) {
                assert_int_equal(d.state, GCS_STATE_OK);
                assert_false(gcs_assessment_undecided(&d.last, &c));
            }
        }
    }
    /* 1 KB/s on 10 MB: over the 10-minute window, 0.6 MB, under the 1 MiB "growing" needs. */
    struct gcs_detector d;
    gcs_detector_init(&d);
    for (int64_t t = 0; t <= 600000; t += 2000)
        gcs_detector_add(&d, &c, t, (uint64_t)(10 * MB + 1e3 * (double)t / 1000.0));
    assert_int_equal(d.state, GCS_STATE_OK);
    assert_false(gcs_assessment_undecided(&d.last, &c));
}

static void a_leak_that_stops_ends(void **state)
{
    (void)state;
    struct run r = feed(stops, 2000, 300000, 0.2 * MB);
    assert_true(r.leaks >= 1);
    assert_true(r.first_leak_ms <= 30000);
    assert_int_equal(r.leak_ends, 1);
    assert_true(r.final_state != GCS_STATE_LEAK);
}

static void a_lasting_leak_is_reported_again_at_a_bounded_rate(void **state)
{
    (void)state;
    /* 10 minutes of a leak sampled every 0.5 s: the first report, then one a minute */
    struct run r = feed(slow_leak, 500, 600000, 0.2 * MB);
    assert_true(r.leaks >= 9 && r.leaks <= 11);
}

static void one_huge_spike_is_not_a_leak(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    int leaks = 0;
    for (int64_t t = 0; t <= 300000; t += 2000) {
        uint64_t v = t == 100000 ? 4000000000ull : 10000000ull + (uint64_t)(t % 7) * 1000;
        leaks += gcs_detector_add(&d, &c, t, v) == GCS_DETECT_LEAK;
    }
    assert_int_equal(leaks, 0);
    assert_true(fabs(d.last.rate) < 1000);
}

static void equal_timestamps_and_time_going_back(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    /* a burst of gc() at one instant: merged into one point, the lowest kept */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gcs_detector_add(&d, &c, 5000, 20000000 - (uint64_t)i), GCS_DETECT_NONE);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.pts[0].bytes, 20000000 - 999);
    /* a clock that goes back is held at the last time */
    gcs_detector_add(&d, &c, 1000, 5);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.pts[0].bytes, 5);
    struct gcs_point same[3] = { { 7, 1 }, { 7, 2 }, { 7, 3 } };
    struct gcs_trend_fit f;
    assert_false(gcs_trend_fit(same, 3, 0, &f));
}

static void hours_of_samples(void **state)
{
    (void)state;
    /* An hour flat, then a leak of 100 KB/s for three hours: found within a
     * minute, and once the window has forgotten the flat hour, its rate is
     * right (the first report's rate is low while flat samples share the
     * window). */
    double rate;
    struct run r = feed_jittered(flat_then_leak, 1500, 0.3, 4 * 3600 * 1000LL, 0.3 * MB, &rate);
    assert_int_equal(r.leaks > 0, 1);
    assert_true(r.first_leak_ms > 3600 * 1000LL && r.first_leak_ms < 3600 * 1000LL + 60000);
    assert_true(r.first_leak_rate > 0);
    assert_true(fabs(rate - 100e3) / 100e3 < 0.1);
    assert_int_equal(r.leak_ends, 0);
}

/* The 99% bound at 5 points is the smallest of the 10 slopes: above zero
 * when each point is above every one before it, and not otherwise; none
 * where two points share a time. */
static void trend_fit_99_at_five_points(void **state)
{
    (void)state;
    struct gcs_point p[5] = { { 0, 100 }, { 1000, 400 }, { 2000, 450 }, { 3000, 900 }, { 4000, 1000 } };
    struct gcs_trend_fit f;
    assert_true(gcs_trend_fit(p, 5, 0, &f));
    assert_true(fabs(f.slope_low99 - 0.05) < 1e-12);   /* 400 -> 450 in 1000 ms */
    assert_true(f.slope_low99 == f.slope_low);
    p[2].bytes = 350;   /* below the point before it */
    assert_true(gcs_trend_fit(p, 5, 0, &f));
    assert_true(f.slope_low99 < 0);
    static const struct gcs_point same_times[5] = { { 0, 10 }, { 0, 5 }, { 1000, 20 }, { 1000, 15 }, { 2000, 40 } };
    assert_true(gcs_trend_fit(same_times, 5, 0, &f));
    assert_true(isinf(f.slope_low99) && f.slope_low99 < 0);
}

static void trend_fit_on_an_exact_line(void **state)
{
    (void)state;
    struct gcs_point p[10];
    for (int i = 0; i < 10; i++)
        p[i] = (struct gcs_point){ 1000 * i, 5000 + 300 * (uint64_t)i };
    struct gcs_trend_fit f;
    assert_true(gcs_trend_fit(p, 10, 0, &f));
    assert_true(fabs(f.slope - 0.3) < 1e-12);        /* bytes per ms */
    assert_true(fabs(f.slope_low - 0.3) < 1e-12);
    assert_true(fabs(f.slope_low99 - 0.3) < 1e-12);
    assert_true(fabs(f.intercept - 5000) < 1e-9);
    assert_true(f.confidence > 0.999);
    /* falling: no confidence in growth */
    for (int i = 0; i < 10; i++)
        p[i].bytes = 9000 - 300 * (uint64_t)i;
    assert_true(gcs_trend_fit(p, 10, 0, &f));
    assert_true(f.slope < 0 && f.confidence < 0.001);
}

static void nothing_before_enough_evidence(void **state)
{
    (void)state;
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    for (int i = 0; i < 4; i++)
        gcs_detector_add(&d, &c, i * 10000, 10000000 + (uint64_t)i * 5000000);
    assert_int_equal(d.state, GCS_STATE_UNKNOWN);
    assert_string_equal(gcs_state_name(d.state), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_heap_is_ok),
        cmocka_unit_test(slow_leak_is_found_with_its_rate),
        cmocka_unit_test(fast_leak_is_found_at_the_earliest_moment),
        cmocka_unit_test(sparse_samples_need_five),
        cmocka_unit_test(samples_that_thin_out),
        cmocka_unit_test(warm_up_then_flat_is_not_a_leak),
        cmocka_unit_test(sawtooth_cache_is_not_a_leak),
        cmocka_unit_test(recorded_sawtooth_out_of_step_is_not_a_leak),
        cmocka_unit_test(recorded_sawtooth_with_a_start_up_sample_is_not_a_leak),
        cmocka_unit_test(shrinking_heap_is_ok),
        cmocka_unit_test(ok_for_want_of_evidence_is_undecided),
        cmocka_unit_test(ok_that_is_flat_is_decided),
        cmocka_unit_test(ok_with_a_significant_rate_and_little_growth_yet_is_undecided),
        cmocka_unit_test(a_leak_too_slow_for_a_full_short_window_is_still_reported),
        cmocka_unit_test(a_leak_that_stops_ends),
        cmocka_unit_test(a_lasting_leak_is_reported_again_at_a_bounded_rate),
        cmocka_unit_test(one_huge_spike_is_not_a_leak),
        cmocka_unit_test(equal_timestamps_and_time_going_back),
        cmocka_unit_test(hours_of_samples),
        cmocka_unit_test(trend_fit_on_an_exact_line),
        cmocka_unit_test(trend_fit_99_at_five_points),
        cmocka_unit_test(nothing_before_enough_evidence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
