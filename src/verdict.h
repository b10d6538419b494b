/* The leak detector: is a memory series growing without bound?
 *
 * Pure: no V8, no syscalls, no allocation. One detector per series (an
 * isolate's post-compaction heap, its external memory), fed (time, bytes)
 * samples in time order.
 *
 * The method: samples closer than bin_ms are merged (the lowest kept), the
 * last GCS_DETECT_POINTS of them no older than max_window_ms form the
 * window, and on it:
 *   - the Mann-Kendall test says whether there is a monotonic upward
 *     trend, and Sen's slope (the median of all pairwise slopes, robust to
 *     spikes and sawtooth noise) estimates its rate, with a one-sided
 *     confidence bound from the same test;
 *   - nothing is said ("unknown") before min_points samples over
 *     min_span_ms;
 *   - "growing": the lower bound of the rate is above zero and the growth
 *     over the window is at least min_growth_bytes and min_growth_ratio of
 *     the level the window started at (a drift of a few kilobytes, or
 *     noise on a flat heap, is "ok");
 *   - "leak": growing, the newer half of the window still grows at a third
 *     of the rate or more (a warm-up that has levelled off does not), and
 *     the floor rises: the lowest sample of the newer half is above the
 *     lowest of the older half by a quarter of the growth or more (a cache
 *     that fills and clears comes back down to the same floor; a leak
 *     lifts it), and the rate is known: its lower bound is at least a
 *     quarter of the estimate (a sawtooth sampled out of step can give a
 *     trend that is barely significant).
 *   - A leak ends when the newer half has grown at less than a third of the
 *     rate the leak was reported with, and the lower bound there is no
 *     longer above zero. */
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

/* Exposed for tests. */
struct gcs_trend_fit {
    uint32_t n;
    double slope, slope_low, confidence, intercept;   /* bytes per ms, level at t = 0 */
};
bool gcs_trend_fit(const struct gcs_point *pts, uint32_t n, int64_t t0, struct gcs_trend_fit *out);

#endif
