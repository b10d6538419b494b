#include "test.h"

#include "probe.h"

#define MB (1024u * 1024u)

static struct gcs_probe_config defaults(void)
{
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    return c;
}

/* The time the probe next looks, after the last full GC or look at `since`. */
static int64_t next_look(const struct gcs_probe *p, const struct gcs_probe_config *c, int64_t since)
{
    int64_t wait = gcs_probe_wait_ms(p, c);
    assert_false(gcs_probe_time_to_look(p, c, since + wait - 1));
    assert_true(gcs_probe_time_to_look(p, c, since + wait));
    return since + wait;
}

/* The floor: nothing before the wait, one request when it has passed and
 * the heap has moved, none again until a GC or another wait. */
static void asks_after_the_wait(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 1000, 7);
    assert_false(gcs_probe_full_gc(&p, &c, 1000, 3000000, 10 * MB));
    int64_t t = next_look(&p, &c, 1000);
    assert_int_equal(gcs_probe_decide(&p, &c, t - 1, 20 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    /* the next turns of the loop */
    assert_false(gcs_probe_time_to_look(&p, &c, t + 1));
    assert_int_equal(gcs_probe_decide(&p, &c, t + 1, 30 * MB), GCS_PROBE_WAIT);
    /* V8 answers */
    assert_true(gcs_probe_full_gc(&p, &c, t + 400, 3000000, 11 * MB));
    assert_false(p.outstanding);
    next_look(&p, &c, t + 400);
    /* V8's own full GCs, more often than the shortest wait: never a request */
    for (int64_t u = 11000; u < 100000; u += 2400) {
        assert_false(gcs_probe_full_gc(&p, &c, u, 3000000, 12 * MB));
        assert_int_equal(gcs_probe_decide(&p, &c, u + 2399, 40 * MB), GCS_PROBE_WAIT);
    }
    assert_int_equal(p.requests, 1);
}

/* Each wait is drawn between half of GCSTATS_PROBE and all of it, so that
 * samples do not fall in step with a periodic workload: over many draws
 * both ends are reached and the spread is even. */
static void waits_are_drawn_between_half_and_whole(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 12345);
    int64_t lo = INT64_MAX, hi = 0;
    int quarters[4] = { 0 };
    int64_t t = 0;
    for (int i = 0; i < 4000; i++) {
        gcs_probe_full_gc(&p, &c, t, 1000000, MB);
        int64_t w = gcs_probe_wait_ms(&p, &c);
        assert_true(w >= 2500 && w <= 5000);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
        quarters[w == 5000 ? 3 : (w - 2500) * 4 / 2500]++;
        t += w;
    }
    assert_true(lo <= 2510 && hi >= 4990);
    for (int q = 0; q < 4; q++)
        assert_true(quarters[q] > 850 && quarters[q] < 1150);
    /* two isolates seeded apart do not wait alike */
    struct gcs_probe a, b;
    gcs_probe_init(&a, &c, 0, 1);
    gcs_probe_init(&b, &c, 0, 2);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        gcs_probe_full_gc(&a, &c, i, 0, 0);
        gcs_probe_full_gc(&b, &c, i, 0, 0);
        same += gcs_probe_wait_ms(&a, &c) == gcs_probe_wait_ms(&b, &c);
    }
    assert_true(same < 10);
    /* a seed of 0 still draws */
    gcs_probe_init(&a, &c, 0, 0);
    assert_true(gcs_probe_wait_ms(&a, &c) >= 2500);
}

/* A heap that has not grown by min_change since the last full GC has
 * nothing new to show: no request, and no second look before a wait. */
static void not_when_nothing_was_allocated(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 3);
    gcs_probe_full_gc(&p, &c, 0, 1000000, 10 * MB);
    int64_t t = next_look(&p, &c, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 10 * MB + 64 * 1024 - 1), GCS_PROBE_WAIT);
    int64_t t2 = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t2 - 1, 20 * MB), GCS_PROBE_WAIT);
    /* a heap below its post-GC size (scavenges freed young objects) */
    assert_int_equal(gcs_probe_decide(&p, &c, t2, 9 * MB), GCS_PROBE_WAIT);
    int64_t t3 = next_look(&p, &c, t2);
    assert_int_equal(gcs_probe_decide(&p, &c, t3, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    assert_int_equal(p.misses, 0);
}

/* The wait grows with the cost of a full cycle: at 10 per mille a 300 ms
 * cycle is asked for at most every 30 s; a cheap one by the draw. */
static void the_wait_follows_the_cost(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 5);
    gcs_probe_full_gc(&p, &c, 0, 300u * 1000000u, 500u * MB);
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 30000);
    assert_int_equal(gcs_probe_decide(&p, &c, 29999, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 30000, 600u * MB), GCS_PROBE_REQUEST);
    gcs_probe_full_gc(&p, &c, 30500, 20u * 1000000u, 500u * MB);
    int64_t w = gcs_probe_wait_ms(&p, &c);   /* 2 s < the draw */
    assert_true(w >= 2500 && w <= 5000);
    gcs_probe_full_gc(&p, &c, 31000, 51u * 1000000u, 500u * MB);
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 5100);
    c.budget_permille = 1;
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 51000);
    c.budget_permille = 0;   /* no budget: the draw alone */
    w = gcs_probe_wait_ms(&p, &c);
    assert_true(w >= 2500 && w <= 5000);
    /* absurd costs saturate, never wrap */
    c.budget_permille = 1;
    gcs_probe_full_gc(&p, &c, 32000, UINT64_MAX, 500u * MB);
    int64_t wait = gcs_probe_wait_ms(&p, &c);
    assert_true((uint64_t)wait == UINT64_MAX / 1000u);
    assert_false(gcs_probe_time_to_look(&p, &c, 32000 + wait - 1));
    assert_true(gcs_probe_time_to_look(&p, &c, 32000 + wait));
}

/* V8 may not answer: after three unanswered requests in a row gcstats
 * stops asking, for good. */
static void gives_up_after_misses(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 9);
    int64_t t = next_look(&p, &c, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 1 * MB), GCS_PROBE_REQUEST);
    /* a re-request does not need the heap to have moved */
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 1);
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 2);
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0), GCS_PROBE_GIVE_UP);
    assert_int_equal(p.requests, 3);
    assert_true(p.gave_up);
    for (int64_t u = t + 1; u < 1000000; u += 777)
        assert_int_equal(gcs_probe_decide(&p, &c, u, 100 * MB), GCS_PROBE_WAIT);
    /* a GC afterwards does not restart it */
    assert_false(gcs_probe_full_gc(&p, &c, 1000000, 1000000, MB));
    assert_int_equal(gcs_probe_decide(&p, &c, 2000000, 100 * MB), GCS_PROBE_WAIT);
}

/* An answer clears the misses: only misses in a row count. */
static void misses_in_a_row_only(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 11);
    int64_t t = 0;
    for (int round = 0; round < 50; round++) {
        for (int ask = 0; ask < 3; ask++) {   /* the request, then misses 1 and 2 */
            t += 5000;
            assert_int_equal(gcs_probe_decide(&p, &c, t, 2 * MB), GCS_PROBE_REQUEST);
        }
        t += 100;
        assert_true(gcs_probe_full_gc(&p, &c, t, 1000000, MB));
        assert_int_equal(p.misses, 0);
    }
    assert_false(p.gave_up);
    assert_int_equal(p.requests, 150);
}

static void off_and_odd_clocks(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 100000, 13);
    /* a clock that went back, or stood still */
    assert_false(gcs_probe_time_to_look(&p, &c, 0));
    assert_false(gcs_probe_time_to_look(&p, &c, 100000));
    assert_int_equal(gcs_probe_decide(&p, &c, -5000, 100 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 105000, 100 * MB), GCS_PROBE_REQUEST);
    /* GCSTATS_PROBE=0 */
    c.every_ms = 0;
    gcs_probe_init(&p, &c, 0, 17);
    for (int64_t t = 0; t < 10000000; t += 999)
        assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * 1024u), GCS_PROBE_WAIT);
    assert_int_equal(p.requests, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(asks_after_the_wait),
        cmocka_unit_test(waits_are_drawn_between_half_and_whole),
        cmocka_unit_test(not_when_nothing_was_allocated),
        cmocka_unit_test(the_wait_follows_the_cost),
        cmocka_unit_test(gives_up_after_misses),
        cmocka_unit_test(misses_in_a_row_only),
        cmocka_unit_test(off_and_odd_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
