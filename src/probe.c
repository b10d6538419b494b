#include "probe.h"

#include "config.h"

#include <math.h>

/* A cycle's cost is known against the application's own CPU rate, taken
 * over the time since the previous cycle ended; a shorter time says little
 * about that rate, and the previous estimate is kept. */
#define MIN_RATE_SPAN_MS 100

void gcs_probe_config_default(struct gcs_probe_config *c)
{
    c->every_ms = GCS_DEFAULT_PROBE_MS;
    c->settled_every_ms = GCS_PROBE_SETTLED_MS;
    gcs_probe_config_budget(c, GCS_DEFAULT_PROBE_BUDGET_MPCT);
    c->min_change_bytes = GCS_DEFAULT_LEAK_MIN_GROWTH / GCS_PROBE_CHANGE_DIVISOR;
    c->max_misses = 3;
    c->prior_ps_per_byte = GCS_PROBE_PRIOR_PS_PER_BYTE;
}

void gcs_probe_config_budget(struct gcs_probe_config *c, uint32_t budget_mpct)
{
    c->budget_ppm = budget_mpct * 10u;           /* 1% = 10,000 ppm */
    c->floor_ns_per_ms = c->budget_ppm / 10u;    /* 1% -> 1 ms a second */
    /* ppm of a core for GCS_PROBE_BURST_MS: 1% -> 300 ms */
    c->burst_ns = (uint64_t)c->budget_ppm * GCS_PROBE_BURST_MS;
}

/* A wait between half of the period and all of it, uniformly. */
static void draw(struct gcs_probe *p)
{
    uint64_t x = p->random;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->random = x;
    p->draw_permille = 500u + (uint32_t)((x >> 11) % 501u);
}

void gcs_probe_init(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, uint64_t seed)
{
    *p = (struct gcs_probe){ .last_full_ms = now_ms, .last_look_ms = now_ms, .budget_from_ms = now_ms,
                             .saved_ns = (double)c->burst_ns };
    p->random = seed ? seed : 0x9e3779b97f4a7c15u;
    draw(p);
}

void gcs_probe_start_clock(struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns)
{
    p->have_end = true;
    p->end_ms = now_ms;
    p->end_cpu_ns = cpu_ns;
}

void gcs_probe_set_heap_limit(struct gcs_probe *p, uint64_t limit_bytes)
{
    p->heap_too_small = limit_bytes < GCS_PROBE_MIN_HEAP_LIMIT;
}

bool gcs_probe_may_ask(const struct gcs_probe *p, const struct gcs_probe_config *c)
{
    return c->every_ms != 0 && !p->heap_too_small;
}

void gcs_probe_set_settled(struct gcs_probe *p, bool settled)
{
    p->settled = settled;
}

/* The CPU per ms the probe may spend: budget_ppm of the application's
 * rate, or the floor where that is more. */
static double budget_rate(double app_cpu_per_ms, const struct gcs_probe_config *c)
{
    double rate = (double)c->budget_ppm / 1e6 * app_cpu_per_ms;
    return rate < (double)c->floor_ns_per_ms ? (double)c->floor_ns_per_ms : rate;
}

/* The least wait that spreads cost_ns at rate, in whole ms rounded up (a
 * look that came before the budget had paid would be declined, and the
 * next one is a whole period later); saturates, never wraps. */
static int64_t wait_for_cost(uint64_t cost_ns, double rate)
{
    if (rate <= 0 || cost_ns == 0)
        return 0;
    double by_cost = ceil((double)cost_ns / rate);
    return by_cost >= 9.2e18 ? INT64_MAX : (int64_t)by_cost;
}

/* A full cycle's cost guessed from the heap's size, beyond the first
 * GCS_PROBE_PRIOR_FREE_BYTES. */
static uint64_t guess_cost_ns(const struct gcs_probe_config *c, uint64_t used)
{
    if (used <= GCS_PROBE_PRIOR_FREE_BYTES)
        return 0;
    double guess = (double)(used - GCS_PROBE_PRIOR_FREE_BYTES) * c->prior_ps_per_byte / 1000.0;
    return guess >= 1.8e19 ? UINT64_MAX : (uint64_t)guess;
}

int64_t gcs_probe_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c)
{
    uint64_t period = c->every_ms;
    if (p->settled && c->settled_every_ms > period)
        period = c->settled_every_ms;
    return (int64_t)(period * p->draw_permille / 1000u);
}

/* A cycle on `used` bytes: the last cycle's measure (0 before any), and
 * at least the guess from the heap's size, since an application that is
 * CPU-bound hides the cost (marking takes its CPU rather than adding to
 * it). */
static uint64_t cycle_cost(const struct gcs_probe *p, const struct gcs_probe_config *c, uint64_t used)
{
    uint64_t cost = guess_cost_ns(c, used);
    return p->last_cost_ns > cost ? p->last_cost_ns : cost;
}

/* What was saved at budget_from_ms that may pay for `cost`: nothing for a
 * cycle dearer than the burst. The burst is for the few samples a verdict
 * needs soon, which one such cycle does not give; it would only bring a
 * large server's first probe forward (a 600 MB heap's by ~90 s, at a
 * third of a core). */
static double usable_saving(const struct gcs_probe *p, const struct gcs_probe_config *c, uint64_t cost)
{
    return cost > c->burst_ns ? 0 : p->saved_ns;
}

/* The wait after budget_from_ms that pays for `cost` at the application's
 * rate `app`, with what was saved then. */
static int64_t cost_wait(const struct gcs_probe *p, const struct gcs_probe_config *c, uint64_t cost, double app)
{
    double owed = (double)cost - usable_saving(p, c, cost);
    if (owed <= 0)
        return 0;
    return wait_for_cost(owed >= 1.8e19 ? UINT64_MAX : (uint64_t)owed, budget_rate(app, c));
}

/* What the budget has paid and the probe not spent by now_ms, for a
 * cycle of `cost`: the saving grows at the budget's rate up to the burst,
 * or up to the cycle's cost where that is more (a cycle dearer than the
 * burst is paid for at the rate alone, one at a time). What a request
 * leaves of it is what it saves for the next. */
static double saved_by(const struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, double app,
                       uint64_t cost)
{
    double since = now_ms > p->budget_from_ms ? (double)(now_ms - p->budget_from_ms) : 0;
    double saved = usable_saving(p, c, cost) + since * budget_rate(app, c);
    double cap = (double)(c->burst_ns > cost ? c->burst_ns : cost);
    return saved < cap ? saved : cap;
}

int64_t gcs_probe_cost_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c)
{
    return cost_wait(p, c, cycle_cost(p, c, p->used_after_full), p->app_cpu_per_ms);
}

/* The application's rate as the budget takes it: before any cycle was
 * measured, since the clock started. */
static double app_rate(const struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns)
{
    if (p->cost_known)
        return p->app_cpu_per_ms;
    if (p->have_end && now_ms > p->end_ms && cpu_ns >= p->end_cpu_ns)
        return (double)(cpu_ns - p->end_cpu_ns) / (double)(now_ms - p->end_ms);
    return 0;
}

/* Whether the budget has paid for a cycle on used_now bytes, with what it
 * saved: the same wait as the cheap check's, but on the heap now, which
 * may be far larger than after the last full GC (a 600 MB heap built
 * since a full GC on 100 MB was guessed at 68 ms, not 570, and probed
 * 20 s after its start). */
static bool budget_allows(const struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms,
                          uint64_t cpu_ns, uint64_t used_now)
{
    int64_t wait = cost_wait(p, c, cycle_cost(p, c, used_now), app_rate(p, now_ms, cpu_ns));
    return wait == 0 || (now_ms > p->budget_from_ms && now_ms - p->budget_from_ms >= wait);
}

/* A request spends the cycle's price from what was saved. */
static void spend(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, uint64_t cpu_ns,
                  uint64_t used_now)
{
    uint64_t cost = cycle_cost(p, c, used_now);
    double left = saved_by(p, c, now_ms, app_rate(p, now_ms, cpu_ns), cost) - (double)cost;
    p->saved_ns = left > 0 ? left : 0;
    p->budget_from_ms = now_ms;
}

bool gcs_probe_time_to_look(const struct gcs_probe *p, const struct gcs_probe_config *c,
                            int64_t now_ms)
{
    if (!gcs_probe_may_ask(p, c) || p->gave_up)
        return false;
    int64_t since = p->last_look_ms > p->last_full_ms ? p->last_look_ms : p->last_full_ms;
    /* A clock that went back is a clock that has not advanced. */
    if (!(now_ms > since && now_ms - since >= gcs_probe_wait_ms(p, c)))
        return false;
    /* An unanswered request was paid for: a miss counts at the period. */
    if (p->outstanding)
        return true;
    int64_t wait = gcs_probe_cost_wait_ms(p, c);
    return wait == 0 || (now_ms > p->budget_from_ms && now_ms - p->budget_from_ms >= wait);
}

enum gcs_probe_action gcs_probe_decide(struct gcs_probe *p, const struct gcs_probe_config *c,
                                       int64_t now_ms, uint64_t cpu_ns, uint64_t used_now)
{
    if (!gcs_probe_time_to_look(p, c, now_ms))
        return GCS_PROBE_WAIT;
    p->last_look_ms = now_ms;
    draw(p);
    if (p->outstanding) {
        /* A whole wait passed since the request and no full GC came. */
        if (++p->misses >= c->max_misses) {
            p->gave_up = true;
            p->outstanding = false;
            return GCS_PROBE_GIVE_UP;
        }
    } else if (used_now < p->used_after_full || used_now - p->used_after_full < c->min_change_bytes) {
        return GCS_PROBE_WAIT;   /* nothing was allocated worth a sample */
    } else if (!budget_allows(p, c, now_ms, cpu_ns, used_now)) {
        return GCS_PROBE_WAIT;   /* a cycle on the heap as it is now is not paid for yet */
    }
    if (!p->outstanding)
        spend(p, c, now_ms, cpu_ns, used_now);
    p->outstanding = true;
    p->requests++;
    gcs_probe_cycle_start(p, now_ms, cpu_ns);
    return GCS_PROBE_REQUEST;
}

void gcs_probe_cycle_start(struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns)
{
    if (p->cycle_open)
        return;
    p->cycle_open = true;
    p->cycle_start_ms = now_ms;
    p->cycle_start_cpu_ns = cpu_ns;
}

/* The cycle that ends now: its CPU beyond what the application would have
 * used meanwhile at its rate since the previous cycle. False where the
 * clocks make no sense (last_cost_ns then keeps the cycle before's). */
static bool measure_cycle(struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns)
{
    if (p->have_end && p->cycle_start_ms - p->end_ms >= MIN_RATE_SPAN_MS &&
        p->cycle_start_cpu_ns >= p->end_cpu_ns)
        p->app_cpu_per_ms = (double)(p->cycle_start_cpu_ns - p->end_cpu_ns) /
                            (double)(p->cycle_start_ms - p->end_ms);
    if (cpu_ns < p->cycle_start_cpu_ns || now_ms < p->cycle_start_ms)
        return false;
    double used = (double)(cpu_ns - p->cycle_start_cpu_ns);
    double app = p->app_cpu_per_ms * (double)(now_ms - p->cycle_start_ms);
    p->last_cost_ns = used > app ? (uint64_t)(used - app) : 0;
    p->cost_known = true;
    return true;
}

bool gcs_probe_full_gc(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms,
                       uint64_t cpu_ns, uint64_t used_after)
{
    (void)c;
    bool answered = p->outstanding;
    if (p->cycle_open && measure_cycle(p, now_ms, cpu_ns) && answered)
        p->asked_cost_ns += p->last_cost_ns;
    p->cycle_open = false;
    p->have_end = true;
    p->end_ms = now_ms;
    p->end_cpu_ns = cpu_ns;
    draw(p);
    p->outstanding = false;
    p->misses = 0;
    p->last_full_ms = now_ms;
    p->used_after_full = used_after;
    return answered;
}
