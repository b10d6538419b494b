/* When to ask V8 for a full GC.
 *
 * The verdict is built from samples taken right after full mark-compact
 * GCs, and V8 runs few of them in a process that allocates little, or
 * just after it has raised its old generation's limit (gaps of 18 s and
 * more were measured in a process leaking 200 KB/s; an idle process may
 * go a minute or more). The probe puts a floor under the sampling rate:
 * when no full GC has ended for a while, gcstats asks V8 for one at the
 * next turn of the event loop, on the isolate's own thread. The while is
 * drawn anew each time, uniformly between half of `every_ms` and all of
 * it: samples at a fixed period fall in step with a periodic workload (a
 * cache cleared every 10 s, sampled every 5 s, showed as a slow leak).
 *
 * It asks only when there is something to learn and it is cheap:
 *   - the heap must have moved (grown by min_change_bytes) since the last
 *     full GC: a process that allocates nothing is never probed;
 *   - the wait grows with the cost: the main-thread time of the last full
 *     cycle (its incremental steps and its pause) may use at most
 *     budget_permille of the wait, so a 300 ms cycle is asked for at most
 *     every 30 s at the default 10 per mille;
 *   - a request that V8 leaves unanswered (no full GC within the wait) is
 *     a miss; after max_misses in a row, gcstats stops asking.
 *
 * Pure: the caller passes the clock and the heap's size. */
#ifndef GCSTATS_PROBE_H
#define GCSTATS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct gcs_probe_config {
    uint32_t every_ms;           /* 0: never ask */
    uint32_t budget_permille;    /* main-thread GC time per unit of wait */
    uint64_t min_change_bytes;   /* heap growth since the last full GC worth a sample */
    uint32_t max_misses;         /* unanswered requests in a row before giving up */
};

/* A sample is worth asking for once the heap has moved by this fraction
 * of the least growth the detector reports (GCSTATS_LEAK_MIN_GROWTH):
 * min_change_bytes = that growth / GCS_PROBE_CHANGE_DIVISOR. */
#define GCS_PROBE_CHANGE_DIVISOR 16u

void gcs_probe_config_default(struct gcs_probe_config *c);

struct gcs_probe {
    uint64_t random;             /* xorshift64 state, never 0 */
    int64_t drawn_ms;            /* this wait, drawn in [every_ms / 2, every_ms] */
    int64_t last_full_ms;        /* when the last full GC ended (or attach) */
    uint64_t last_cycle_ns;      /* its pauses that GC callbacks saw */
    uint64_t used_after_full;    /* heap used right after it */
    int64_t last_look_ms;        /* the last request, or the last look that declined */
    bool outstanding;            /* asked, and no full GC since */
    bool gave_up;
    uint32_t misses;             /* in a row */
    uint64_t requests;           /* ever made */
};

enum gcs_probe_action {
    GCS_PROBE_WAIT,      /* nothing to do */
    GCS_PROBE_REQUEST,   /* ask V8 for a full GC now */
    GCS_PROBE_GIVE_UP,   /* stop asking, and say so once */
};

/* seed: anything that differs between isolates and processes. */
void gcs_probe_init(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, uint64_t seed);

/* The wait before asking, after the last full GC or the last look. */
int64_t gcs_probe_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c);

/* Cheap, for every turn of the loop: true when it is time to read the
 * heap's size and call gcs_probe_decide. */
bool gcs_probe_time_to_look(const struct gcs_probe *p, const struct gcs_probe_config *c,
                            int64_t now_ms);

/* Decides with the heap's used bytes now. */
enum gcs_probe_action gcs_probe_decide(struct gcs_probe *p, const struct gcs_probe_config *c,
                                       int64_t now_ms, uint64_t used_now);

/* A full GC ended. Returns true if it answered a request. */
bool gcs_probe_full_gc(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms,
                       uint64_t cycle_ns, uint64_t used_after);

#endif
