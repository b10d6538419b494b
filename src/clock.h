/* The clocks gcstats reads. The wall and monotonic clocks go through the
 * vDSO: no system call, no lock, safe inside a GC callback or an
 * interposed mmap. The process' CPU clock is a system call (no lock
 * either): it is read only when a full GC cycle begins or ends. */
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

/* CPU time of the whole process (every thread: the application's, V8's
 * helpers', gcstats' own), in nanoseconds. */
static inline uint64_t gcs_process_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
