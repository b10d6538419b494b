/* The leak detector: is a memory series growing without bound?
 *
 * Pure: no V8, no syscalls, no allocation. One detector per series: an
 * isolate's heap used and its external memory, and (in isolate 1, for the
 * whole process) the memory mapped outside V8; each fed (time, bytes)
 * samples taken right after full mark-compact GCs, in time order (a time
 * that goes back counts as the one before).
 *
 * The method: samples less than bin_ms after the one that opened the
 * latest point are merged into it (the lowest kept), and the last
 * GCS_DETECT_POINTS points no older than max_window_ms form the window.
 * On it:
 *   - Sen's slope (the median of all pairwise slopes, robust to spikes and
 *     sawtooth noise) estimates the rate, with a one-sided 95% lower bound
 *     from the variance of the Mann-Kendall statistic; the statistic also
 *     gives the confidence of an upward trend, which is reported and
 *     decides no state (it tells the probe whether an "ok" is decided:
 *     gcs_assessment_undecided);
 *   - nothing is said ("unknown") before min_points points over
 *     min_span_ms;
 *   - "growing": the lower bound of the rate is above zero and the growth
 *     along the trend line over the window is at least min_growth_bytes
 *     and min_growth_ratio of the level the window started at (a drift of
 *     a few kilobytes, or noise on a flat heap, is "ok");
 *   - "leak": growing, the newer half of the window (by time) still grows
 *     at a third of the rate or more (a warm-up that has levelled off does
 *     not; a newer half of a single point is judged by the rate from the
 *     point before it), the floor rises: the lowest point of the newer
 *     half is above the lowest of the older half by a quarter of the
 *     growth or more (a cache that fills and clears comes back down to the
 *     same floor; a leak lifts it), and the rate is known: its one-sided
 *     99% lower bound is at least a quarter of the estimate (a sawtooth
 *     sampled out of step can give a trend that is barely significant,
 *     and the verdict is assessed anew at every sample: verdict.c,
 *     KNOWN_RATE_SHARE);
 *   - a leak, once reported, stays a leak (reported again every
 *     report_interval_ms) until the window no longer passes as one and its
 *     newer half grows at less than a third of the rate the leak was first
 *     reported with. */
#ifndef GCSTATS_VERDICT_H
#define GCSTATS_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#define GCS_DETECT_POINTS 64

enum gcs_state {
    GCS_STATE_UNKNOWN,   /* not enough samples yet */
    GCS_STATE_OK,
    GCS_STATE_GROWING,
    GCS_STATE_LEAK,
};
const char *gcs_state_name(enum gcs_state s);

struct gcs_detect_config {
    uint32_t bin_ms;
    uint32_t min_points;
    uint32_t min_span_ms;
    uint32_t max_window_ms;
    uint64_t min_growth_bytes;
    double min_growth_ratio;
    uint32_t report_interval_ms;  /* a leak that goes on is re-reported this often */
};
void gcs_detect_config_default(struct gcs_detect_config *c);

struct gcs_point {
    int64_t t_ms;
    uint64_t bytes;
};

/* The last assessment of a series. Rates are in bytes per second. */
struct gcs_assessment {
    enum gcs_state state;
    uint32_t points;
    int64_t from_ms, to_ms;
    double rate;             /* Sen's slope over the window */
    double rate_low;         /* its one-sided 95% lower bound (-inf: none) */
    double rate_low99;       /* ... and 99% */
    double recent_rate;      /* Sen's slope over the newer half */
    double confidence;       /* of an upward trend, from the Mann-Kendall statistic (0..1) */
    double level_start;      /* the trend line's level at from_ms */
    double level_end;        /* ... and at to_ms */
    double growth;           /* level_end - level_start */
    double floor_rise;       /* lowest sample of the newer half less lowest of the older half */
};

enum gcs_detect_event {
    GCS_DETECT_NONE,
    GCS_DETECT_LEAK,          /* a leak begins, or is due to be reported again */
    GCS_DETECT_LEAK_END,      /* it stopped growing */
};

struct gcs_detector {
    struct gcs_point pts[GCS_DETECT_POINTS];   /* ring, oldest at head */
    uint32_t head, n;
    int64_t bin_start_ms;
    struct gcs_assessment last;
    enum gcs_state state;          /* with the leak's hysteresis applied */
    int64_t state_since_ms;
    double onset_rate;             /* the rate the leak was first reported with */
    int64_t last_report_ms;
    uint32_t reports;              /* leak lines for the current leak */
};

void gcs_detector_init(struct gcs_detector *d);
/* Adds a sample; re-assesses when it opens a new bin. */
enum gcs_detect_event gcs_detector_add(struct gcs_detector *d, const struct gcs_detect_config *c,
                                       int64_t t_ms, uint64_t bytes);

/* Whether a series is "ok" only for want of evidence. Either its trend
 * line grew over the window by what "growing" needs, and an upward trend
 * is likely (confidence 0.8 or more), but the lower bound of its rate is
 * not above zero yet (a leak whose first samples include a drop, such
 * as V8 freeing start-up memory, was measured so after 7 samples over 6 s,
 * at 300 KB/s). Or, while more samples still lengthen the window (fewer
 * than GCS_DETECT_POINTS), its rate's lower bound is above zero and its
 * rate over twice the window's span (at most max_window_ms) reaches what
 * "growing" needs (scripts/demo's leak of 42 KB/s was "ok" at 24 s, its
 * trend 0.88 MB against 1 MiB; settled, with a sample a minute, it was
 * not reported in the demo's 45 s). More samples decide it: the probe
 * keeps its short period for such a series instead of settling. */
bool gcs_assessment_undecided(const struct gcs_assessment *a, const struct gcs_detect_config *c);

/* Exposed for tests. */
struct gcs_trend_fit {
    uint32_t n;
    double slope, slope_low;   /* bytes per ms: Sen's slope and its 95% lower bound (-inf: none) */
    double slope_low99;        /* ... and its 99% lower bound */
    double confidence;         /* of an upward trend (0..1) */
    double intercept;          /* the trend line's level at t0 */
};
/* The trend of pts[0..n), times relative to t0. False, with *out zeroed,
 * when n is not 2..GCS_DETECT_POINTS or every point is at one instant. */
bool gcs_trend_fit(const struct gcs_point *pts, uint32_t n, int64_t t0, struct gcs_trend_fit *out);

#endif
