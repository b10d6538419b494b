/* When to ask V8 for a full GC, and what it may cost.
 *
 * The verdict is built from samples taken right after full mark-compact
 * GCs, and V8 runs few of them in a process that allocates little, or
 * just after it has raised its old generation's limit (gaps of 18 s and
 * more were measured in a process leaking 200 KB/s; an idle process may
 * go a minute or more). The probe puts a floor under the sampling rate:
 * when no full GC has ended for a while, gcstats asks V8 for one. The
 * while is drawn anew each time, uniformly between half of the period and
 * all of it: samples at a fixed period fall in step with a periodic
 * workload (a cache cleared every 10 s, sampled every 5 s, showed as a
 * slow leak).
 *
 * The period depends on what the detector still needs:
 *   - `every_ms` (GCSTATS_PROBE) while any series of the isolate is not
 *     "ok": at start-up (too few samples), while a series grows (to confirm
 *     it, or to see a leak end), in a process V8 leaves without full GCs;
 *   - `settled_every_ms` (60 s) once every series is "ok", and not only
 *     for want of evidence (gcs_assessment_undecided: a trend that would
 *     be "growing" if its rate were significant, or a significant one
 *     that would be in a window as long again): a leak that starts
 *     later is still seen with a sample a minute (1 MB a minute shows in
 *     five), and the period shortens as soon as it is "growing" or
 *     undecided.
 * V8's own full GCs count as samples: where they come more often than the
 * period, the probe never asks.
 *
 * And only when it is worth its price:
 *   - the heap must have moved (grown by min_change_bytes) since the last
 *     full GC: a process that allocates nothing is never probed;
 *   - the whole cost of a full cycle is measured: the process' CPU time
 *     from its start (incremental marking, or an atomic mark-compact, or
 *     the request) to the end of its mark-compact, less what the
 *     application itself used at its rate outside cycles. That includes
 *     marking steps and V8's helper threads, which GC callbacks do not
 *     see. The wait for the budget is the last cycle's cost divided by
 *     the budget rate, the larger of budget_ppm of the application's CPU rate
 *     and floor_ns_per_ms (GCSTATS_PROBE_BUDGET, 1% and a tenth of that
 *     of one core by default): so a 0.5 s cycle in a process using a
 *     third of a core is asked for at most every 150 s (1%), and in a
 *     nearly idle process a 10 ms cycle every 10 s (0.1% of a core);
 *   - that wait counts from the last request gcstats made (or attach),
 *     not from V8's own cycles, which the budget does not pay for:
 *     counted from any full GC, a 30 ms cycle at 0.1% of a core needed
 *     30 s without one, and a slow leak whose V8 ran its own every 9 to
 *     24 s (on a loaded machine) was never probed and not reported in
 *     60 s. The period still counts from any full GC: a sample V8 has
 *     just taken is not asked for again;
 *   - what the budget pays and the probe does not spend is saved, up to
 *     a burst (burst_ns: 30 s of the budget's share of a core, 300 ms at
 *     1%), and an isolate starts with the burst saved: a few cycles may
 *     come at the period before the rate has paid for them, when the
 *     detector needs samples soon (why: GCS_PROBE_BURST_MS). A cycle
 *     dearer than the burst gets nothing from it;
 *   - the cost is at least a guess from the heap's size
 *     (prior_ps_per_byte): before the first full cycle is measured (a
 *     large heap built without one), and where the application is
 *     CPU-bound, whose marking takes the application's CPU instead of
 *     adding to it, so that the measure above sees little (a 600 MB
 *     server on a saturated machine was measured so and probed every
 *     ~20 s);
 *   - a request that V8 leaves unanswered (no full GC within the wait) is
 *     a miss; after max_misses in a row, gcstats stops asking;
 *   - never in an isolate whose heap limit is small (a Worker given a few
 *     MB by resourceLimits): why at GCS_PROBE_MIN_HEAP_LIMIT.
 *
 * Pure: the caller passes the clocks (monotonic ms, process CPU ns), the
 * heap's size and whether the detector is settled. */
#ifndef GCSTATS_PROBE_H
#define GCSTATS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct gcs_probe_config {
    uint32_t every_ms;           /* the longest wait while samples are needed; 0: never ask */
    uint32_t settled_every_ms;   /* the longest wait once every series is "ok" */
    uint32_t budget_ppm;         /* the probe's CPU per CPU of the application, per million */
    uint32_t floor_ns_per_ms;    /* ... or this much CPU per unit of time, if more */
    uint64_t min_change_bytes;   /* heap growth since the last full GC worth a sample */
    uint32_t max_misses;         /* unanswered requests in a row before giving up */
    /* A full cycle's cost is taken as at least this many picoseconds of
     * CPU per byte of heap used: the guess before any cycle was measured,
     * and a floor under the measure, which a CPU-bound application hides
     * (marking then takes the application's CPU rather than adding to
     * it). */
    uint32_t prior_ps_per_byte;
    /* The budget may be spent ahead by this much CPU: what it pays and
     * the probe does not spend is saved up to it, and an isolate starts
     * with it saved (GCS_PROBE_BURST_MS of one core at the budget's share:
     * 300 ms at 1%). */
    uint64_t burst_ns;
};

/* Full marks measured on Node 20 cost 0.3 to 2 ns of CPU per live byte
 * (a 600 MB server's: 0.2 to 1.2 s). 0.3 ns let a 600 MB server be
 * probed every ~30 s, 2.5 to 5 times its budget: 1 ns keeps it ~3 minutes
 * apart at a third of a core. The first 32 MiB are free: there a cycle
 * costs tens of ms at most, which its measure bounds well enough, and a
 * guess would only delay the samples a small heap's verdict needs at
 * start-up (on Node 24 and 26, whose heaps start at ~5 MB, a guess of
 * 1 ns a byte put the first probe past 8 s). */
#define GCS_PROBE_PRIOR_PS_PER_BYTE 1000u
#define GCS_PROBE_PRIOR_FREE_BYTES ((uint64_t)32 << 20)

/* Why a burst: the budget's rate alone starves a process whose heap grows
 * fast while it uses little CPU of its own, the leak that matters most. In
 * bench/detect's fast_leak (2 MB/s retained, a tenth of a core), V8's own
 * cycles cost 19 ms at 10 MB, 33 ms at 25 MB and 136 ms at 64 MB: at the
 * floor of 1 ms a second each was paid for only 18 to 136 s later, V8
 * itself ran 3 full GCs a minute as its heap limit grew, and the leak was
 * reported in 1 of 3 runs of 60 s (58 s), against 3 of 3 at ~22 s before
 * the budget. A few cycles ahead of pay (~250 ms there) bring the
 * detector its five samples; 300 ms once is 0.5% of one core over a
 * first minute, and the rate bounds everything after. */
#define GCS_PROBE_BURST_MS 30000u

/* A sample is worth asking for once the heap has moved by this fraction
 * of the least growth the detector reports (GCSTATS_LEAK_MIN_GROWTH):
 * min_change_bytes = that growth / GCS_PROBE_CHANGE_DIVISOR. */
#define GCS_PROBE_CHANGE_DIVISOR 16u
/* The period once every series is "ok". */
#define GCS_PROBE_SETTLED_MS 60000u

/* Below this heap limit (heap_size_limit: the old and young generations'
 * limits together, small only in a Worker given both small by
 * resourceLimits), the probe never asks. The probe's cycles there made a
 * deadlock of node's likelier (nodejs/node#54918: a Worker ending waits
 * in NodePlatform::DrainTasks for V8's background jobs, while a
 * concurrent Maglev compile job of that isolate, whose allocation failed,
 * waits for that isolate's thread to collect). Counted on Node 24.21.0
 * with tests/fixtures/live_workers.js (130 Workers, two runs at a time):
 * old generation 8 MB and young 1 MB (heap limit 11 MiB): 7 of ~45 runs
 * hung with the probe on, 0 of 30 with GCSTATS_PROBE=0, 1 of 22 without
 * gcstats; old 64 and young 1 (67 MiB): 0 of 20 and 0 of 24 with the
 * probe on; old 8 and the default young (200 MiB): 0 of 20. The price: such
 * an isolate gets samples only from V8's own full GCs, so a slow leak
 * there is judged later, or not at all. */
#define GCS_PROBE_MIN_HEAP_LIMIT ((uint64_t)64 << 20)

void gcs_probe_config_default(struct gcs_probe_config *c);
/* The budget from GCSTATS_PROBE_BUDGET, in thousandths of a percent of
 * the application's CPU; a tenth of it, of one core, is always allowed. */
void gcs_probe_config_budget(struct gcs_probe_config *c, uint32_t budget_mpct);

struct gcs_probe {
    uint64_t random;             /* xorshift64 state, never 0 */
    uint32_t draw_permille;      /* this wait's share of the period, in [500, 1000] */
    bool settled;                /* every series of the isolate is "ok" */
    int64_t last_full_ms;        /* when the last full GC ended (or attach) */
    uint64_t used_after_full;    /* heap used right after it */
    int64_t last_look_ms;        /* the last request, or the last look that declined */
    bool outstanding;            /* asked, and no full GC since */
    bool gave_up;
    bool heap_too_small;         /* the heap limit is under GCS_PROBE_MIN_HEAP_LIMIT: never ask */
    uint32_t misses;             /* in a row */
    uint64_t requests;           /* ever made */
    int64_t budget_from_ms;      /* the last request gcstats made, or attach */
    double saved_ns;             /* CPU the budget had paid and not spent at budget_from_ms */

    /* The cost of full cycles, from the process' CPU clock. */
    bool cycle_open;             /* a full cycle began and has not ended */
    int64_t cycle_start_ms;
    uint64_t cycle_start_cpu_ns;
    bool have_end;               /* a cycle ended before: the application's rate is known */
    int64_t end_ms;
    uint64_t end_cpu_ns;
    double app_cpu_per_ms;       /* ns of CPU per ms outside full cycles (1e6: one core) */
    uint64_t last_cost_ns;       /* the last full cycle's CPU beyond the application's */
    bool cost_known;             /* a full cycle was measured: last_cost_ns holds */
    /* What the probe has cost: the measured cost of every cycle that
     * answered a request, summed. A cycle whose clocks were odd adds
     * nothing. */
    uint64_t asked_cost_ns;
};

enum gcs_probe_action {
    GCS_PROBE_WAIT,      /* nothing to do */
    GCS_PROBE_REQUEST,   /* ask V8 for a full GC now */
    GCS_PROBE_GIVE_UP,   /* stop asking, and say so once */
};

/* seed: anything that differs between isolates and processes. */
void gcs_probe_init(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms, uint64_t seed);

/* The process' CPU clock at attach: the first cycle's cost is then taken
 * against the application's rate since, not against none (which counted
 * all the application's CPU during the first cycle as the cycle's). */
void gcs_probe_start_clock(struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns);

/* The isolate's heap limit (heap_size_limit), read at attach: under
 * GCS_PROBE_MIN_HEAP_LIMIT the probe never asks. */
void gcs_probe_set_heap_limit(struct gcs_probe *p, uint64_t limit_bytes);
/* Whether the probe may ever ask in this isolate (its settings and heap
 * limit allow it; it may give up later). */
bool gcs_probe_may_ask(const struct gcs_probe *p, const struct gcs_probe_config *c);

/* Whether every series the detector judges in this isolate is "ok". */
void gcs_probe_set_settled(struct gcs_probe *p, bool settled);

/* The wait before asking, after the last full GC or the last look: the
 * period's draw. */
int64_t gcs_probe_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c);

/* The wait the budget asks for, after budget_from_ms: the last cycle's
 * cost (at least the guess from the heap's size), less what was saved
 * then, at the budget rate. */
int64_t gcs_probe_cost_wait_ms(const struct gcs_probe *p, const struct gcs_probe_config *c);

/* Cheap, for every turn of the loop: true when it is time to read the
 * heap's size and call gcs_probe_decide. */
bool gcs_probe_time_to_look(const struct gcs_probe *p, const struct gcs_probe_config *c,
                            int64_t now_ms);

/* Decides with the heap's used bytes now; on GCS_PROBE_REQUEST the cycle
 * is taken to start now, at cpu_ns of process CPU time. */
enum gcs_probe_action gcs_probe_decide(struct gcs_probe *p, const struct gcs_probe_config *c,
                                       int64_t now_ms, uint64_t cpu_ns, uint64_t used_now);

/* A full cycle began (incremental marking started, or a mark-compact
 * that no marking preceded); nothing if one is open already. */
void gcs_probe_cycle_start(struct gcs_probe *p, int64_t now_ms, uint64_t cpu_ns);

/* A full GC ended, at cpu_ns of process CPU time. Returns true if it
 * answered a request. */
bool gcs_probe_full_gc(struct gcs_probe *p, const struct gcs_probe_config *c, int64_t now_ms,
                       uint64_t cpu_ns, uint64_t used_after);

#endif
