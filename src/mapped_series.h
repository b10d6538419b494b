/* The detector's third series: committed bytes mapped outside V8 (every
 * owner but v8_heap and v8_code), sampled with the heap after each full
 * GC of the main isolate, and which owner grew most over a window.
 *
 * Pure: the caller passes readings of the book (memmap.h) and the clock.
 * The process has one series, touched only by the main isolate's thread
 * (its GC epilogue). */
#ifndef GCSTATS_MAPPED_SERIES_H
#define GCSTATS_MAPPED_SERIES_H

#include <stdint.h>

#include "model.h"

/* Samples kept for naming the owner that grew. */
#define GCS_MAPPED_HISTORY 64

struct gcs_mapped_series {
    struct {
        int64_t mono_ms;
        uint64_t committed[GCS_OWNERS];
    } sample[GCS_MAPPED_HISTORY];
    unsigned next, count;
};

/* Adds a reading (if it has one) and returns the bytes outside V8 in it,
 * or in the latest sample when the reading has none. */
uint64_t gcs_mapped_series_add(struct gcs_mapped_series *h, const struct gcs_mapped *now, int64_t mono_ms);
/* The owner whose committed bytes grew most since since_mono_ms, by the
 * samples; GCS_OWNER_OTHER if nothing is known. */
unsigned gcs_mapped_series_grown_owner(const struct gcs_mapped_series *h, int64_t since_mono_ms);

#endif
