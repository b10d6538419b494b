/* Replays the post-compaction samples of recorded gcstats lines through
 * the leak detector (src/verdict.c) with the default settings, so that a
 * change to the detector can be judged on real runs without running them
 * again. For each file: the workload (the file name up to its last '-'),
 * and per series the first time (s after isolate 1's start line) the
 * detector reported a leak, or "-".
 *
 *   build/bench/replay FILE.jsonl...    (files as bench/detect/run.mjs keeps them) */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verdict.h"

static int64_t parse_ts(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int ms = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

#define MAX_ISOLATES 8

int main(int argc, char **argv)
{
    struct gcs_detect_config c;
    gcs_detect_config_default(&c);
    /* REPLAY_VERBOSE=1: every heap sample and the detector's assessment. */
    bool verbose = getenv("REPLAY_VERBOSE") != NULL;
    for (int f = 1; f < argc; f++) {
        FILE *in = fopen(argv[f], "r");
        if (in == NULL) {
            perror(argv[f]);
            return 1;
        }
        static struct gcs_detector d[MAX_ISOLATES][2];
        memset(d, 0, sizeof d);
        for (int i = 0; i < MAX_ISOLATES; i++)
            for (int m = 0; m < 2; m++)
                gcs_detector_init(&d[i][m]);
        int64_t t0 = 0;
        double first[2] = { -1, -1 };
        int samples = 0;
        char line[8192];
        while (fgets(line, sizeof line, in)) {
            json_t *v = json_loads(line, 0, NULL);
            if (v == NULL)
                continue;
            const char *ev = json_string_value(json_object_get(v, "event"));
            int iso = (int)json_integer_value(json_object_get(v, "isolate"));
            int64_t ts = parse_ts(json_string_value(json_object_get(v, "ts")) ?: "");
            if (ev && strcmp(ev, "start") == 0 && iso == 1 && t0 == 0)
                t0 = ts;
            json_t *heap = json_object_get(v, "heap");
            if (ev && strcmp(ev, "stats") == 0 && iso >= 1 && iso <= MAX_ISOLATES && json_is_object(heap)) {
                uint64_t series[2] = { (uint64_t)json_integer_value(json_object_get(heap, "used")),
                                       (uint64_t)json_integer_value(json_object_get(heap, "external")) };
                samples++;
                for (int m = 0; m < 2; m++) {
                    if (gcs_detector_add(&d[iso - 1][m], &c, ts, series[m]) == GCS_DETECT_LEAK && first[m] < 0)
                        first[m] = (double)(ts - t0) / 1000.0;
                    const struct gcs_assessment *a = &d[iso - 1][m].last;
                    if (verbose && m == 0)
                        printf("  %6.1f s  iso %d  %10llu  %-8s pts %2u  rate %8.0f low %8.0f low99 %8.0f recent %8.0f growth %9.0f floor %9.0f\n",
                               (double)(ts - t0) / 1000.0, iso, (unsigned long long)series[m],
                               gcs_state_name(a->state), a->points, a->rate, a->rate_low, a->rate_low99, a->recent_rate,
                               a->growth, a->floor_rise);
                }
            }
            json_decref(v);
        }
        fclose(in);
        const char *base = strrchr(argv[f], '/');
        base = base ? base + 1 : argv[f];
        printf("%s\t%d", base, samples);
        for (int m = 0; m < 2; m++) {
            if (first[m] >= 0)
                printf("\t%.1f", first[m]);
            else
                printf("\t-");
        }
        printf("\n");
    }
    return 0;
}
