/* Samples at regular times fall in step with a periodic workload: this
 * simulates the detector (src/verdict.c, default settings) on a cache
 * that fills 15 MB and clears every P seconds, sampled at waits drawn
 * uniformly from [lo, hi] seconds, and counts runs with a false leak
 * report, for several periods and run lengths. It is how the probe's wait
 * was chosen (README, "The probe"). Then the price of the detector's
 * caution: the time to the first report of a leak of 100 or 200 KB/s on
 * a 10 MB heap with uniform noise, sampled at the probe's waits (2.5 to
 * 5 s).
 *
 *   build/alias [lo hi] ...     (default: 5 5  3.75 5  2.5 5  1.25 5) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "verdict.h"

static uint64_t state;
static double uniform01(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(state >> 11) / (double)(1ull << 53);
}

#define RUNS 200

/* One run: true if the detector reported a leak. */
static bool false_alarm(double period_s, double lo_s, double hi_s, int duration_s, uint64_t seed)
{
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    state = seed;
    double phase = uniform01() * period_s;
    bool alarm = false;
    for (double t = 1.0 + uniform01() * 3; t < duration_s;
         t += lo_s + (hi_s - lo_s) * uniform01() + 0.05 * uniform01()) {
        double bytes = 17e6 + 15e6 * fmod(t + phase, period_s) / period_s + (uniform01() * 2 - 1) * 0.3e6;
        if (gcs_detector_add(&d, &c, (int64_t)(t * 1000), (uint64_t)bytes) == GCS_DETECT_LEAK)
            alarm = true;
    }
    return alarm;
}

/* One run of a leak: the time of its first report (s), or INFINITY. */
static double leak_found_at(double rate, double noise, uint64_t seed)
{
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    struct gcs_detector d;
    gcs_detector_init(&d);
    state = seed;
    for (double t = 1.0 + uniform01() * 3; t < 300; t += 2.5 + 2.5 * uniform01()) {
        double bytes = 10e6 + rate * t + (uniform01() * 2 - 1) * noise;
        if (gcs_detector_add(&d, &c, (int64_t)(t * 1000), (uint64_t)bytes) == GCS_DETECT_LEAK)
            return t;
    }
    return INFINITY;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void leak_latency(void)
{
    static const double cases[][2] = { { 200e3, 0.3e6 }, { 200e3, 1e6 }, { 200e3, 2e6 }, { 100e3, 3e6 } };
    printf("\nfirst leak report in %d runs of up to 300 s, waits of 2.5 to 5 s\n", RUNS);
    printf("| leak | noise | reported | median, s | 90th percentile, s |\n| --- | --- | --- | --- | --- |\n");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double at[RUNS];
        int found = 0;
        for (int run = 0; run < RUNS; run++) {
            at[run] = leak_found_at(cases[k][0], cases[k][1], (uint64_t)run * 7919 + 1);
            found += isfinite(at[run]);
        }
        qsort(at, RUNS, sizeof at[0], by_value);
        printf("| %.0f KB/s | +-%.1f MB | %d | %.1f | %.1f |\n", cases[k][0] / 1e3, cases[k][1] / 1e6, found,
               at[RUNS / 2], at[RUNS * 9 / 10]);
    }
}

int main(int argc, char **argv)
{
    static const double defaults[] = { 5, 5, 3.75, 5, 2.5, 5, 1.25, 5 };
    const double periods[] = { 3, 4, 6, 7.5, 10, 13, 20 };
    int pairs = argc > 2 ? (argc - 1) / 2 : 4;
    printf("false alarms in %d runs of 60 s / 600 s, by the cache's period\n", RUNS);
    printf("| waits, s |");
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++)
        printf(" %g s |", periods[i]);
    printf("\n| --- |");
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++)
        printf(" --- |");
    printf("\n");
    for (int v = 0; v < pairs; v++) {
        double lo = argc > 2 ? atof(argv[1 + 2 * v]) : defaults[2 * v];
        double hi = argc > 2 ? atof(argv[2 + 2 * v]) : defaults[2 * v + 1];
        printf("| %g to %g |", lo, hi);
        for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
            int short_runs = 0, long_runs = 0;
            for (uint64_t seed = 1; seed <= RUNS; seed++) {
                short_runs += false_alarm(periods[i], lo, hi, 60, seed * 7919 + 60);
                long_runs += false_alarm(periods[i], lo, hi, 600, seed * 7919 + 600);
            }
            printf(" %d / %d |", short_runs, long_runs);
        }
        printf("\n");
    }
    leak_latency();
    return 0;
}
