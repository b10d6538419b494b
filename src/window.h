/* Post-compaction sample windows and the statistics derived from them.
 *
 * Pure: no V8, no syscalls, no allocation. One struct per isolate, fed one
 * sample (heap used right after a full mark-compact, and its time) at a
 * time. All arithmetic is 64-bit integer or double: a 500 MB heap is
 * reported as 500 MB, and a falling heap gives a negative trend. */
#ifndef GCSTATS_WINDOW_H
#define GCSTATS_WINDOW_H

#include <stdint.h>

#define GCS_RECENT_WINDOW 10u
#define GCS_LONG_WINDOW 120u

struct gcs_extreme {
    uint64_t bytes;
    int64_t when_ms;       /* wall-clock ms since the epoch */
};

struct gcs_windows {
    uint64_t used[GCS_LONG_WINDOW];  /* ring of the last samples */
    uint32_t next;                   /* where the next sample goes */
    uint64_t count;                  /* samples ever added */
    struct gcs_extreme min, max;     /* over every sample ever added */
};

struct gcs_summary {
    uint64_t samples;          /* heap_compactions */
    uint32_t recent_n;         /* samples in the recent window now */
    uint32_t long_n;           /* samples in the long-term window now */
    double usage_trend;        /* (recent mean - long mean) / long mean, in percent */
    uint64_t estimated_base;   /* recent mean, rounded */
    uint64_t current_base;     /* the latest sample */
    struct gcs_extreme min, max;
};

void gcs_windows_init(struct gcs_windows *w);
void gcs_windows_add(struct gcs_windows *w, uint64_t used_bytes, int64_t when_ms);
/* With no samples yet, every field is 0. */
void gcs_windows_summarize(const struct gcs_windows *w, struct gcs_summary *out);

/* Window sizes for n samples seen, exposed so that tests state the rule:
 * long = min(n, 120); recent = min(10, ceil(n / 2)). During warm-up the
 * recent window is the newer half of what has been seen, so a heap that
 * grows from the second sample on shows a positive trend at once. */
uint32_t gcs_recent_size(uint64_t n);
uint32_t gcs_long_size(uint64_t n);

#endif
