/* The two clocks gcstats reads. Both go through the vDSO: no system call,
 * no lock, safe inside a GC callback or an interposed mmap. */
#ifndef GCSTATS_CLOCK_H
#define GCSTATS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock milliseconds since the epoch: what the lines show. */
static inline int64_t gcs_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic nanoseconds: for durations and anything that must not jump. */
static inline uint64_t gcs_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t gcs_monotonic_ms(void)
{
    return (int64_t)(gcs_monotonic_ns() / 1000000u);
}

/* The same clock at the kernel tick's resolution (a few ms), cheaper to
 * read: for checks made at every turn of the event loop. */
static inline int64_t gcs_monotonic_coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
