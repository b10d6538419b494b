#include "probe.h"

#include "config.h"

void gcs_probe_config_default(struct gcs_probe_config *c)
{
    c->every_ms = GCS_DEFAULT_PROBE_MS;
    c->budget_permille = 10;
    c->min_change_bytes = GCS_DEFAULT_LEAK_MIN_GROWTH / GCS_PROBE_CHANGE_DIVISOR;
    c->max_misses = 3;
}

/* A wait between every_ms / 2 and every_ms, uniformly. */
static void draw(struct gcs_probe *p, const struct gcs_probe_config *c)
{
    uint64_t x = p->random;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->random = x;
    uint64_t half = c->every_ms / 2u;
    p->drawn_ms = (int64_t)(c->every_ms - half + (half > 0 ? (x >> 11) % (half + 1) : 0));
}

void gcs_probe_init(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, uint64_t seed)
{
    *p = (struct gcs_probe){ .last_full_ms = now_ms, .last_look_ms = now_ms };
    p->random = seed ? seed : 0x9e3779b97f4a7c15u;
    draw(p, c);
}

int64_t gcs_probe_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c)
{
    int64_t wait = p->drawn_ms;
    if (c->budget_permille > 0) {
        /* cycle_ms / wait <= permille / 1000 */
        uint64_t by_cost = p->last_cycle_ns / 1000u / c->budget_permille;
        if (by_cost > (uint64_t)wait)
            wait = by_cost > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)by_cost;
    }
    return wait;
}

bool gcs_probe_time_to_look(const struct gcs_probe *p, const struct gcs_probe_config *c,
                            int64_t now_ms)
{
    if (c->every_ms == 0 || p->gave_up)
        return false;
    int64_t since = p->last_look_ms > p->last_full_ms ? p->last_look_ms : p->last_full_ms;
    /* A clock that went back is a clock that has not advanced. */
    return now_ms > since && now_ms - since >= gcs_probe_wait_ms(p, c);
}

enum gcs_probe_action gcs_probe_decide(struct gcs_probe *p, const struct gcs_probe_config *c,
                                       int64_t now_ms, uint64_t used_now)
{
    if (!gcs_probe_time_to_look(p, c, now_ms))
        return GCS_PROBE_WAIT;
    p->last_look_ms = now_ms;
    draw(p, c);
    if (p->outstanding) {
        /* A whole wait passed since the request and no full GC came. */
        if (++p->misses >= c->max_misses) {
            p->gave_up = true;
            p->outstanding = false;
            return GCS_PROBE_GIVE_UP;
        }
    } else if (used_now < p->used_after_full || used_now - p->used_after_full < c->min_change_bytes) {
        return GCS_PROBE_WAIT;   /* nothing was allocated worth a sample */
    }
    p->outstanding = true;
    p->requests++;
    return GCS_PROBE_REQUEST;
}

bool gcs_probe_full_gc(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms,
                       uint64_t cycle_ns, uint64_t used_after)
{
    draw(p, c);
    bool answered = p->outstanding;
    p->outstanding = false;
    p->misses = 0;
    p->last_full_ms = now_ms;
    p->last_cycle_ns = cycle_ns;
    p->used_after_full = used_after;
    return answered;
}
