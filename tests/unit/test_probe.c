#include "test.h"

#include "probe.h"

#define MB (1024u * 1024u)

static struct gcs_probe_config defaults(void)
{
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    return c;
}

/* The floor: nothing before the wait, one request when it has passed and
 * the heap has moved, none again until a GC or another wait. */
static void asks_after_the_wait(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, 1000);
    assert_false(gcs_probe_full_gc(&p, 1000, 3000000, 10 * MB));
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 5000);
    assert_false(gcs_probe_time_to_look(&p, &c, 5999));
    assert_int_equal(gcs_probe_decide(&p, &c, 5999, 20 * MB), GCS_PROBE_WAIT);
    assert_true(gcs_probe_time_to_look(&p, &c, 6000));
    assert_int_equal(gcs_probe_decide(&p, &c, 6000, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    /* the next turns of the loop */
    assert_false(gcs_probe_time_to_look(&p, &c, 6001));
    assert_int_equal(gcs_probe_decide(&p, &c, 6001, 30 * MB), GCS_PROBE_WAIT);
    /* V8 answers */
    assert_true(gcs_probe_full_gc(&p, 6400, 3000000, 11 * MB));
    assert_false(p.outstanding);
    assert_false(gcs_probe_time_to_look(&p, &c, 11399));
    assert_true(gcs_probe_time_to_look(&p, &c, 11400));
    /* V8's own full GCs, more often than the floor: never a request */
    for (int64_t t = 11000; t < 100000; t += 4000) {
        assert_false(gcs_probe_full_gc(&p, t, 3000000, 12 * MB));
        assert_int_equal(gcs_probe_decide(&p, &c, t + 3999, 40 * MB), GCS_PROBE_WAIT);
    }
    assert_int_equal(p.requests, 1);
}

/* A heap that has not grown by min_change since the last full GC has
 * nothing new to show: no request, and no second look before a wait. */
static void not_when_nothing_was_allocated(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, 0);
    gcs_probe_full_gc(&p, 0, 1000000, 10 * MB);
    assert_int_equal(gcs_probe_decide(&p, &c, 5000, 10 * MB + 64 * 1024 - 1), GCS_PROBE_WAIT);
    assert_false(gcs_probe_time_to_look(&p, &c, 9999));
    assert_int_equal(gcs_probe_decide(&p, &c, 9999, 20 * MB), GCS_PROBE_WAIT);
    /* a heap below its post-GC size (scavenges freed young objects) */
    assert_int_equal(gcs_probe_decide(&p, &c, 10000, 9 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 15000, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    assert_int_equal(p.misses, 0);
}

/* The wait grows with the cost of a full cycle: at 10 per mille a 300 ms
 * cycle is asked for at most every 30 s; a cheap one at the floor. */
static void the_wait_follows_the_cost(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, 0);
    gcs_probe_full_gc(&p, 0, 300u * 1000000u, 500u * MB);
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 30000);
    assert_int_equal(gcs_probe_decide(&p, &c, 29999, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 30000, 600u * MB), GCS_PROBE_REQUEST);
    gcs_probe_full_gc(&p, 30500, 49u * 1000000u, 500u * MB);
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 5000);   /* 4.9 s < the floor */
    gcs_probe_full_gc(&p, 31000, 51u * 1000000u, 500u * MB);
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 5100);
    c.budget_permille = 1;
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 51000);
    c.budget_permille = 0;   /* no budget: the floor alone */
    assert_int_equal(gcs_probe_wait_ms(&p, &c), 5000);
    /* absurd costs saturate, never wrap */
    c.budget_permille = 1;
    gcs_probe_full_gc(&p, 32000, UINT64_MAX, 500u * MB);
    int64_t wait = gcs_probe_wait_ms(&p, &c);
    assert_true(wait > 0);
    assert_true((uint64_t)wait == UINT64_MAX / 1000u);
    assert_false(gcs_probe_time_to_look(&p, &c, 32000 + wait - 1));
    assert_true(gcs_probe_time_to_look(&p, &c, 32000 + wait));
}

/* V8 may not answer (incremental marking switched off): after three
 * unanswered requests in a row gcstats stops asking, for good. */
static void gives_up_after_misses(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, 5000, 1 * MB), GCS_PROBE_REQUEST);
    /* a re-request does not need the heap to have moved */
    assert_int_equal(gcs_probe_decide(&p, &c, 10000, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 1);
    assert_int_equal(gcs_probe_decide(&p, &c, 15000, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 2);
    assert_int_equal(gcs_probe_decide(&p, &c, 20000, 0), GCS_PROBE_GIVE_UP);
    assert_int_equal(p.requests, 3);
    assert_true(p.gave_up);
    for (int64_t t = 20001; t < 1000000; t += 777)
        assert_int_equal(gcs_probe_decide(&p, &c, t, 100 * MB), GCS_PROBE_WAIT);
    /* a GC afterwards does not restart it */
    assert_false(gcs_probe_full_gc(&p, 1000000, 1000000, MB));
    assert_int_equal(gcs_probe_decide(&p, &c, 2000000, 100 * MB), GCS_PROBE_WAIT);
}

/* An answer clears the misses: only misses in a row count. */
static void misses_in_a_row_only(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, 0);
    int64_t t = 0;
    for (int round = 0; round < 50; round++) {
        t += 5000;
        assert_int_equal(gcs_probe_decide(&p, &c, t, 2 * MB), GCS_PROBE_REQUEST);
        t += 5000;
        assert_int_equal(gcs_probe_decide(&p, &c, t, 2 * MB), GCS_PROBE_REQUEST);   /* miss 1 */
        t += 5000;
        assert_int_equal(gcs_probe_decide(&p, &c, t, 2 * MB), GCS_PROBE_REQUEST);   /* miss 2 */
        t += 100;
        assert_true(gcs_probe_full_gc(&p, t, 1000000, MB));
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
    gcs_probe_init(&p, 100000);
    /* a clock that went back, or stood still */
    assert_false(gcs_probe_time_to_look(&p, &c, 0));
    assert_false(gcs_probe_time_to_look(&p, &c, 100000));
    assert_int_equal(gcs_probe_decide(&p, &c, -5000, 100 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 105000, 100 * MB), GCS_PROBE_REQUEST);
    /* GCSTATS_PROBE=0 */
    c.every_ms = 0;
    gcs_probe_init(&p, 0);
    for (int64_t t = 0; t < 10000000; t += 999)
        assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * 1024u), GCS_PROBE_WAIT);
    assert_int_equal(p.requests, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(asks_after_the_wait),
        cmocka_unit_test(not_when_nothing_was_allocated),
        cmocka_unit_test(the_wait_follows_the_cost),
        cmocka_unit_test(gives_up_after_misses),
        cmocka_unit_test(misses_in_a_row_only),
        cmocka_unit_test(off_and_odd_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
