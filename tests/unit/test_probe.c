#include "test.h"

#include <math.h>

#include "probe.h"

#define MB (1024u * 1024u)

/* The defaults, less the guess of a first cycle's cost, which only
 * a_large_first_cycle_waits_for_its_price is about (the others feed full
 * GCs whose start they do not show), and less the burst, which the
 * tests named so are about (the others show the budget's rate). */
static struct gcs_probe_config defaults(void)
{
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    c.prior_ps_per_byte = 0;
    c.burst_ns = 0;
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
    assert_int_equal(gcs_probe_decide(&p, &c, t - 1, 0, 20 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    /* the next turns of the loop */
    assert_false(gcs_probe_time_to_look(&p, &c, t + 1));
    assert_int_equal(gcs_probe_decide(&p, &c, t + 1, 0, 30 * MB), GCS_PROBE_WAIT);
    /* V8 answers */
    assert_true(gcs_probe_full_gc(&p, &c, t + 400, 3000000, 11 * MB));
    assert_false(p.outstanding);
    next_look(&p, &c, t + 400);
    /* V8's own full GCs, more often than the shortest wait: never a request */
    for (int64_t u = 11000; u < 100000; u += 2400) {
        assert_false(gcs_probe_full_gc(&p, &c, u, 3000000, 12 * MB));
        assert_int_equal(gcs_probe_decide(&p, &c, u + 2399, 0, 40 * MB), GCS_PROBE_WAIT);
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
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 10 * MB + 64 * 1024 - 1), GCS_PROBE_WAIT);
    int64_t t2 = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t2 - 1, 0, 20 * MB), GCS_PROBE_WAIT);
    /* a heap below its post-GC size (scavenges freed young objects) */
    assert_int_equal(gcs_probe_decide(&p, &c, t2, 0, 9 * MB), GCS_PROBE_WAIT);
    int64_t t3 = next_look(&p, &c, t2);
    assert_int_equal(gcs_probe_decide(&p, &c, t3, 0, 10 * MB + 64 * 1024), GCS_PROBE_REQUEST);
    assert_int_equal(p.requests, 1);
    assert_int_equal(p.misses, 0);
}

/* One full cycle of `cpu_ms` of process CPU over `ms` of time, ending at
 * `end`, in a process that used `app_cpu_ms` of CPU in the `gap` ms before
 * the cycle began. */
static void cycle(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t end, int64_t ms,
                  uint64_t cpu_ms, int64_t gap, uint64_t app_cpu_ms, uint64_t *cpu)
{
    int64_t start = end - ms;
    *cpu += app_cpu_ms * 1000000u;
    gcs_probe_full_gc(p, c, start - gap, *cpu - app_cpu_ms * 1000000u, 500u * MB);   /* the previous cycle's end */
    gcs_probe_cycle_start(p, start, *cpu);
    *cpu += cpu_ms * 1000000u;
    gcs_probe_full_gc(p, c, end, *cpu, 500u * MB);
}

/* The wait follows the whole cost of a cycle: its CPU beyond the
 * application's own, spread at 1% of the application's CPU rate, or at
 * 0.1% of a core where that is more. */
static void the_wait_follows_the_cost(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 5);
    uint64_t cpu = 0;
    /* A busy process (a third of a core: 10 s of CPU in 30 s) whose cycle
     * took 1.5 s and 1 s of CPU: 1 s - 1.5 s * 1/3 = 0.5 s beyond the
     * application; at 1% of a third of a core that is 150 s. */
    cycle(&p, &c, 100000, 1500, 1000, 30000, 10000, &cpu);
    assert_int_equal(p.last_cost_ns, 500u * 1000000u);
    int64_t w = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(w >= 149999 && w <= 150001);
    /* counted from attach (0): no cycle gcstats asked for has ended */
    assert_false(gcs_probe_time_to_look(&p, &c, w - 1));
    assert_true(gcs_probe_time_to_look(&p, &c, w));
    /* A nearly idle process (10 ms of CPU in 30 s) whose 20 ms cycle took
     * 10 ms of CPU: 0.1% of a core (1 ms a second) is more than 1% of
     * its own rate: 10 s. */
    cycle(&p, &c, 200000, 20, 10, 30000, 10, &cpu);
    w = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(w >= 9990 && w <= 10001);
    /* A cheap cycle: the draw decides. */
    cycle(&p, &c, 300000, 5, 1, 30000, 10000, &cpu);
    assert_true(gcs_probe_cost_wait_ms(&p, &c) < 2500);
    w = gcs_probe_wait_ms(&p, &c);
    assert_true(w >= 2500 && w <= 5000);
    /* A cycle that used less than the application would have: no cost. */
    cycle(&p, &c, 400000, 3000, 500, 30000, 10000, &cpu);
    assert_int_equal(p.last_cost_ns, 0);
    /* No budget at all: the draw alone. */
    cycle(&p, &c, 500000, 1500, 1000, 30000, 10000, &cpu);
    c.budget_ppm = 0;
    c.floor_ns_per_ms = 0;
    assert_int_equal(gcs_probe_cost_wait_ms(&p, &c), 0);
    /* Absurd costs saturate, never wrap. */
    c = defaults();
    p.last_cost_ns = UINT64_MAX;
    p.app_cpu_per_ms = 0;
    int64_t wait = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(wait > 0 && (uint64_t)wait >= UINT64_MAX / 1000u / 2);
}

/* The budget pays for the cycles gcstats asks for, not for V8's own: its
 * wait counts from the last request (or attach). A
 * 0.1-core application whose own cycles cost 30 ms each (at 0.1% of a
 * core: 30 s) and come every 9 to 15 s is still probed every 30 s or so;
 * counted from any full GC it never was. */
static void own_cycles_do_not_spend_the_budget(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 31);
    gcs_probe_start_clock(&p, 0, 0);
    const uint64_t tenth = 100000;   /* ns of CPU per ms */
    int64_t ends[] = { 9000, 18000, 33000 };
    int64_t prev = 0;
    for (int i = 0; i < 3; i++) {
        int64_t start = ends[i] - 30;
        gcs_probe_cycle_start(&p, start, (uint64_t)start * tenth);
        assert_false(gcs_probe_full_gc(&p, &c, ends[i], (uint64_t)start * tenth + 30000000u, 10 * MB));
        assert_true(p.last_cost_ns >= 25000000u && p.last_cost_ns <= 30000000u);   /* less the application's share */
        /* before 30 s since attach, the budget holds it back even after a full draw */
        if (ends[i] + 5000 < 30000)
            assert_false(gcs_probe_time_to_look(&p, &c, ends[i] + 5000));
        prev = ends[i];
    }
    /* 33 s: the budget has accrued since attach; the draw since V8's cycle decides */
    int64_t t = prev + gcs_probe_wait_ms(&p, &c);
    assert_false(gcs_probe_time_to_look(&p, &c, t - 1));
    assert_true(gcs_probe_time_to_look(&p, &c, t));
    assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * tenth, 12 * MB), GCS_PROBE_REQUEST);
    gcs_probe_cycle_start(&p, t, (uint64_t)t * tenth);
    assert_true(gcs_probe_full_gc(&p, &c, t + 30, (uint64_t)t * tenth + 30000000u, 10 * MB));
    assert_int_equal(p.budget_from_ms, t);
    /* the next request waits for 30 s after it, V8's own cycles or not */
    gcs_probe_cycle_start(&p, t + 9000, (uint64_t)(t + 9000) * tenth);
    gcs_probe_full_gc(&p, &c, t + 9030, (uint64_t)(t + 9000) * tenth + 30000000u, 10 * MB);
    int64_t cost_wait = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(cost_wait >= 25000 && cost_wait <= 30000);
    assert_false(gcs_probe_time_to_look(&p, &c, t + cost_wait - 1));
    assert_true(gcs_probe_time_to_look(&p, &c, t + cost_wait));
}

/* The guess is on the heap as it is now, not as it was after the last full
 * GC: a 600 MB heap built since V8's own 50 ms cycle on 100 MB is a 568 ms
 * cycle (1 ns a byte past 32 MiB), ~170 s of budget at 1% of a third of a
 * core; guessed on the old 100 MB it was asked for 20 s after attach. */
static void the_guess_is_on_the_heap_now(void **state)
{
    (void)state;
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    c.burst_ns = 0;
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 41);
    gcs_probe_start_clock(&p, 0, 0);
    const uint64_t third = 333333;   /* ns of CPU per ms */
    /* V8's own cycle at 3 s on a 100 MB heap: 50 ms beyond the application */
    gcs_probe_cycle_start(&p, 2900, 2900u * third);
    gcs_probe_full_gc(&p, &c, 3000, 3000u * third + 50000000u, 100u * MB);
    assert_true(p.cost_known);
    /* the cheap check passes on the old heap's size... */
    assert_true(gcs_probe_time_to_look(&p, &c, 25000));
    /* ...the decision, on the heap now, waits */
    assert_int_equal(gcs_probe_decide(&p, &c, 25000, 25000u * third + 50000000u, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 160000, 160000u * third + 50000000u, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(p.requests, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, 180000, 180000u * third + 50000000u, 600u * MB), GCS_PROBE_REQUEST);
}

/* A cycle's cost is measured from the request when gcstats asked for it,
 * and the application's rate from the time between cycles (a short time
 * keeps the earlier estimate). */
static void a_probed_cycle_is_measured_from_the_request(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 21);
    /* previous cycle ended at 0 with 0 ns of CPU; 10 s of 1/10 of a core */
    gcs_probe_full_gc(&p, &c, 0, 0, 10 * MB);
    int64_t t = next_look(&p, &c, 0);
    uint64_t cpu = (uint64_t)t * 100000u;   /* 0.1 core */
    assert_int_equal(gcs_probe_decide(&p, &c, t, cpu, 12 * MB), GCS_PROBE_REQUEST);
    /* V8 starts marking later: the cycle stays measured from the request */
    gcs_probe_cycle_start(&p, t + 100, cpu + 10000000u);
    assert_true(gcs_probe_full_gc(&p, &c, t + 1000, cpu + 300000000u, 11 * MB));
    /* 300 ms of CPU in 1 s, of which 100 ms the application's */
    assert_int_equal(p.last_cost_ns, 200000000u);
    /* a second cycle right after: too short a gap to re-estimate the rate */
    gcs_probe_cycle_start(&p, t + 1050, cpu + 300000000u);
    gcs_probe_full_gc(&p, &c, t + 1100, cpu + 320000000u, 11 * MB);
    assert_int_equal(p.last_cost_ns, 20000000u - 5000000u);
}

/* What the probe has cost (self.probe_cpu_ns): the measured cost of the
 * cycles that answered its requests, summed; V8's own cycles, and a
 * cycle whose clocks went back, add nothing. */
static void its_cost_counts_only_the_cycles_it_asked_for(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 23);
    gcs_probe_start_clock(&p, 0, 0);
    const uint64_t tenth = 100000;   /* ns of CPU per ms */
    uint64_t extra = 0;
    /* V8's own cycle: 2 ms beyond the application (at 1 ms a second, the
     * budget's floor, paid before the period's wait ends) */
    gcs_probe_cycle_start(&p, 9900, 9900u * tenth);
    extra += 2000000u;
    assert_false(gcs_probe_full_gc(&p, &c, 10000, 10000u * tenth + extra, 10 * MB));
    assert_int_equal(p.last_cost_ns, 2000000u);
    assert_int_equal(p.asked_cost_ns, 0);
    /* a request answered 100 ms later by a cycle 1.5 ms beyond */
    int64_t t = next_look(&p, &c, 10000);
    assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * tenth + extra, 12 * MB), GCS_PROBE_REQUEST);
    extra += 1500000u;
    assert_true(gcs_probe_full_gc(&p, &c, t + 100, (uint64_t)(t + 100) * tenth + extra, 10 * MB));
    assert_int_equal(p.asked_cost_ns, 1500000u);
    /* another, answered by a cycle whose CPU clock read less than at the
     * request: not measured, nothing added */
    int64_t u = next_look(&p, &c, t + 100);
    assert_int_equal(gcs_probe_decide(&p, &c, u, (uint64_t)u * tenth + extra, 12 * MB), GCS_PROBE_REQUEST);
    assert_true(gcs_probe_full_gc(&p, &c, u + 100, (uint64_t)u * tenth + extra - 1, 10 * MB));
    assert_int_equal(p.asked_cost_ns, 1500000u);
    assert_int_equal(p.requests, 2);
}

/* The first cycle after attach is measured against the application's rate
 * since attach: a busy application's own CPU during the cycle is not
 * counted as the cycle's. */
static void the_first_cycle_knows_the_rate_since_attach(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 1000, 29);
    gcs_probe_start_clock(&p, 1000, 0);
    /* 5 s at one core, then a 400 ms cycle that used 500 ms of CPU */
    gcs_probe_cycle_start(&p, 6000, 5000ull * 1000000u);
    gcs_probe_full_gc(&p, &c, 6400, 5500ull * 1000000u, 10 * MB);
    assert_int_equal(p.last_cost_ns, 100u * 1000000u);
    /* without the clock at attach the whole 500 ms counted */
    struct gcs_probe q;
    gcs_probe_init(&q, &c, 1000, 29);
    gcs_probe_cycle_start(&q, 6000, 5000ull * 1000000u);
    gcs_probe_full_gc(&q, &c, 6400, 5500ull * 1000000u, 10 * MB);
    assert_int_equal(q.last_cost_ns, 500u * 1000000u);
}

/* While the detector needs samples the period is GCSTATS_PROBE; once every
 * series is "ok", a minute; and back as soon as one is not. */
static void settled_waits_longer(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 23);
    for (int i = 0; i < 200; i++) {
        gcs_probe_full_gc(&p, &c, 1000 * i, 0, MB);
        gcs_probe_set_settled(&p, true);
        int64_t w = gcs_probe_wait_ms(&p, &c);
        assert_true(w >= 30000 && w <= 60000);
        gcs_probe_set_settled(&p, false);
        w = gcs_probe_wait_ms(&p, &c);
        assert_true(w >= 2500 && w <= 5000);
    }
    /* A GCSTATS_PROBE longer than the settled period is never shortened. */
    c.every_ms = 120000;
    gcs_probe_set_settled(&p, true);
    assert_true(gcs_probe_wait_ms(&p, &c) >= 60000);
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
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 1 * MB), GCS_PROBE_REQUEST);
    /* a re-request does not need the heap to have moved */
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 1);
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 0), GCS_PROBE_REQUEST);
    assert_int_equal(p.misses, 2);
    t = next_look(&p, &c, t);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 0), GCS_PROBE_GIVE_UP);
    assert_int_equal(p.requests, 3);
    assert_true(p.gave_up);
    for (int64_t u = t + 1; u < 1000000; u += 777)
        assert_int_equal(gcs_probe_decide(&p, &c, u, 0, 100 * MB), GCS_PROBE_WAIT);
    /* a GC afterwards does not restart it */
    assert_false(gcs_probe_full_gc(&p, &c, 1000000, 1000000, MB));
    assert_int_equal(gcs_probe_decide(&p, &c, 2000000, 0, 100 * MB), GCS_PROBE_WAIT);

    /* A dear cycle: the budget's wait is 100 s after the request, but a
     * request left unanswered is a miss at the period, as above (the
     * wait counts from the request since the burst came). */
    gcs_probe_init(&p, &c, 0, 10);
    p.last_cost_ns = 100000000u;   /* 100 ms, at the floor of 1 ms a second: 100 s */
    p.cost_known = true;
    assert_int_equal(gcs_probe_decide(&p, &c, 99999, 0, 1 * MB), GCS_PROBE_WAIT);
    t = 100000 + gcs_probe_wait_ms(&p, &c);
    assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 1 * MB), GCS_PROBE_REQUEST);
    for (int miss = 1; miss <= 2; miss++) {
        t = next_look(&p, &c, t);
        assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 0), GCS_PROBE_REQUEST);
        assert_int_equal(p.misses, miss);
    }
    assert_true(t < 100000 + 20000);
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
            assert_int_equal(gcs_probe_decide(&p, &c, t, 0, 2 * MB), GCS_PROBE_REQUEST);
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
    assert_int_equal(gcs_probe_decide(&p, &c, -5000, 0, 100 * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 105000, 0, 100 * MB), GCS_PROBE_REQUEST);
    /* GCSTATS_PROBE=0 */
    c.every_ms = 0;
    gcs_probe_init(&p, &c, 0, 17);
    for (int64_t t = 0; t < 10000000; t += 999)
        assert_int_equal(gcs_probe_decide(&p, &c, t, 0, (uint64_t)t * 1024u), GCS_PROBE_WAIT);
    assert_int_equal(p.requests, 0);
}

/* An isolate whose heap limit is under 64 MiB is never asked for a GC,
 * however long V8 leaves it without one and however much it allocates;
 * at 64 MiB it is, as any other. */
static void not_in_a_small_heap(void **state)
{
    (void)state;
    struct gcs_probe_config c = defaults();
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 19);
    gcs_probe_set_heap_limit(&p, GCS_PROBE_MIN_HEAP_LIMIT - 1);
    assert_false(gcs_probe_may_ask(&p, &c));
    for (int64_t t = 0; t < 10000000; t += 999) {
        assert_false(gcs_probe_time_to_look(&p, &c, t));
        assert_int_equal(gcs_probe_decide(&p, &c, t, 0, (uint64_t)t * 1024u), GCS_PROBE_WAIT);
    }
    assert_int_equal(p.requests, 0);

    gcs_probe_init(&p, &c, 0, 19);
    gcs_probe_set_heap_limit(&p, GCS_PROBE_MIN_HEAP_LIMIT);
    assert_true(gcs_probe_may_ask(&p, &c));
    assert_int_equal(gcs_probe_decide(&p, &c, next_look(&p, &c, 0), 0, 10 * MB), GCS_PROBE_REQUEST);
    /* the settings alone say no */
    c.every_ms = 0;
    assert_false(gcs_probe_may_ask(&p, &c));
}

/* A cycle's cost is at least a guess from the heap: before any cycle is
 * measured, and when the measure sees less. 600 MiB in a process using a
 * third of a core waits about three minutes (1 ns a byte beyond the first
 * 32 MiB: 596 ms, at 1% of a third of a core: 179 s; the burst saved at
 * attach pays for no cycle dearer than itself), where a 30 MiB heap is
 * asked for at the draw as before. */
static void a_large_first_cycle_waits_for_its_price(void **state)
{
    (void)state;
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    assert_int_equal(c.prior_ps_per_byte, GCS_PROBE_PRIOR_PS_PER_BYTE);
    struct gcs_probe p;
    gcs_probe_init(&p, &c, 0, 77);
    gcs_probe_start_clock(&p, 0, 0);
    const uint64_t third = 333333;   /* ns of CPU per ms */
    int64_t t = next_look(&p, &c, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * third, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 150000, 150000u * third, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(p.requests, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, 175000, 175000u * third, 600u * MB), GCS_PROBE_WAIT);
    assert_int_equal(gcs_probe_decide(&p, &c, 180000, 180000u * third, 600u * MB), GCS_PROBE_REQUEST);
    assert_true(p.saved_ns < 1e6);   /* the saving is gone too */
    /* a cycle measured as cheap (the application CPU-bound, its marking
     * hidden in the application's own rate) still waits for the guess;
     * one measured dearer waits for its measure */
    assert_true(gcs_probe_full_gc(&p, &c, 180500, 180500u * third, 600u * MB));
    assert_true(p.cost_known);
    assert_int_equal(p.last_cost_ns, 0);
    int64_t w = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(w >= 178000 && w <= 179500);
    gcs_probe_cycle_start(&p, 400000, 400000u * third);
    gcs_probe_full_gc(&p, &c, 401000, 401000u * third + 900000000u, 600u * MB);
    assert_int_equal(p.last_cost_ns, 900000000u);
    w = gcs_probe_cost_wait_ms(&p, &c);
    assert_true(w >= 269000 && w <= 271000);

    /* a small heap: no guess */
    gcs_probe_init(&p, &c, 0, 78);
    gcs_probe_start_clock(&p, 0, 0);
    t = next_look(&p, &c, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * third, 30u * MB), GCS_PROBE_REQUEST);
    /* no guess configured: the draw alone */
    c.prior_ps_per_byte = 0;
    gcs_probe_init(&p, &c, 0, 79);
    gcs_probe_start_clock(&p, 0, 0);
    t = next_look(&p, &c, 0);
    assert_int_equal(gcs_probe_decide(&p, &c, t, (uint64_t)t * third, 600u * MB), GCS_PROBE_REQUEST);
}

/* Requests in the first `span` ms of a 0.1-core process whose heap grows
 * 2 MB a second from 10 MB, V8 running its own full GC at 1 s and 6 s,
 * each cycle costing 1 ms of CPU per MB beyond the application's (the
 * shape of bench/detect's fast_leak). Each request is answered 50 ms later
 * by a cycle of that cost. */
static int fast_leak_requests_measured(const struct gcs_probe_config *c, int64_t span, double *spent_ns,
                                       uint64_t *asked_cost_ns)
{
    struct gcs_probe p;
    gcs_probe_init(&p, c, 0, 91);
    gcs_probe_start_clock(&p, 0, 0);
    const uint64_t tenth = 100000;   /* ns of CPU per ms */
    uint64_t extra = 0;              /* the cycles' CPU, beyond the application's */
#define HEAP_AT(ms) ((10u + 2u * (uint64_t)(ms) / 1000u) * MB)
#define CPU_AT(ms) ((uint64_t)(ms) * tenth + extra)
    int64_t own[] = { 1000, 6000 };
    for (int i = 0; i < 2; i++) {
        gcs_probe_cycle_start(&p, own[i] - 50, CPU_AT(own[i] - 50));
        extra += HEAP_AT(own[i]) / MB * 1000000u;
        assert_false(gcs_probe_full_gc(&p, c, own[i], CPU_AT(own[i]), HEAP_AT(own[i])));
    }
    int requests = 0;
    *spent_ns = 0;
    for (int64_t t = 6000; t < span; t += 100) {
        if (!gcs_probe_time_to_look(&p, c, t))
            continue;
        if (gcs_probe_decide(&p, c, t, CPU_AT(t), HEAP_AT(t)) != GCS_PROBE_REQUEST)
            continue;
        requests++;
        uint64_t cost = HEAP_AT(t) / MB * 1000000u;
        *spent_ns += (double)cost;
        extra += cost;
        assert_true(gcs_probe_full_gc(&p, c, t + 50, CPU_AT(t + 50), HEAP_AT(t + 50)));
    }
#undef HEAP_AT
#undef CPU_AT
    *asked_cost_ns = p.asked_cost_ns;
    return requests;
}

static int fast_leak_requests(const struct gcs_probe_config *c, int64_t span, double *spent_ns)
{
    uint64_t asked_cost_ns;
    return fast_leak_requests_measured(c, span, spent_ns, &asked_cost_ns);
}

/* The burst: an isolate starts with GCS_PROBE_BURST_MS of the budget's
 * share of a core saved (300 ms at 1%), so a fast leak in a process that
 * uses little CPU gets the samples the detector needs (five over 20 s)
 * within its first half minute; at the rate alone (1 ms a second here)
 * its first request waited until 33 s. After the burst the rate bounds
 * the spending again. */
static void burst_pays_for_a_fast_leaks_first_samples(void **state)
{
    (void)state;
    struct gcs_probe_config c;
    gcs_probe_config_default(&c);
    assert_int_equal(c.burst_ns, 300000000u);
    double spent;
    int with_burst = fast_leak_requests(&c, 25000, &spent);
    assert_true(with_burst >= 3);
    assert_true(spent <= 300e6 + 25000 * 1e3);
    /* over ten minutes: no more than the burst and the rate (1 ms a second) */
    fast_leak_requests(&c, 600000, &spent);
    assert_true(spent <= 300e6 + 600000 * 1e3);
    assert_true(spent >= 300e6);
    /* what the probe says it cost (self.probe_cpu_ns) is what its
     * cycles cost beyond the application, V8's own two left out */
    uint64_t asked;
    int n = fast_leak_requests_measured(&c, 600000, &spent, &asked);
    assert_true(n > 5);
    assert_true(fabs((double)asked - spent) <= 1000.0 * n);
    c.burst_ns = 0;
    assert_int_equal(fast_leak_requests(&c, 25000, &spent), 0);
    /* The burst scales with the budget. */
    gcs_probe_config_budget(&c, 5000);   /* 5% */
    assert_int_equal(c.burst_ns, 1500000000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(asks_after_the_wait),
        cmocka_unit_test(waits_are_drawn_between_half_and_whole),
        cmocka_unit_test(not_when_nothing_was_allocated),
        cmocka_unit_test(the_wait_follows_the_cost),
        cmocka_unit_test(own_cycles_do_not_spend_the_budget),
        cmocka_unit_test(the_guess_is_on_the_heap_now),
        cmocka_unit_test(a_probed_cycle_is_measured_from_the_request),
        cmocka_unit_test(its_cost_counts_only_the_cycles_it_asked_for),
        cmocka_unit_test(settled_waits_longer),
        cmocka_unit_test(the_first_cycle_knows_the_rate_since_attach),
        cmocka_unit_test(gives_up_after_misses),
        cmocka_unit_test(misses_in_a_row_only),
        cmocka_unit_test(off_and_odd_clocks),
        cmocka_unit_test(not_in_a_small_heap),
        cmocka_unit_test(a_large_first_cycle_waits_for_its_price),
        cmocka_unit_test(burst_pays_for_a_fast_leaks_first_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
