/* gcstats report: reads gcstats' JSON lines and sums them up per process
 * and isolate, as text or as one self-contained HTML page with charts.
 *
 * The model (report_model.c) is pure: it is given lines and keeps, per
 * isolate, counters, summaries and series downsampled into a fixed number
 * of buckets, so its memory grows with the number of isolates in the logs,
 * never with the number of lines. report_format.c holds the pure helpers
 * for numbers (bytes, durations, ticks); report_text.c and report_html.c
 * write the two outputs; report.c reads the files. */
#ifndef GCS_REPORT_H
#define GCS_REPORT_H

#include "units.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Buckets per series: about one per two pixels of a chart's width. */
#define GCS_RPT_BUCKETS 256
/* The first bucket width; it doubles whenever a point falls past the last
 * bucket, so a series of any length fits. */
#define GCS_RPT_WIDTH0_MS 100
/* Isolates whose series keep buckets for charts (about 40 KB each); the
 * later ones keep only their summaries (about 2 KB), so a log of many
 * short-lived processes does not make the report grow without bound. */
#define GCS_RPT_CHARTED 1000
#define GCS_RPT_OWNERS 12    /* mapped-memory owners: 5 named + 6 objects + spare */
#define GCS_RPT_KINDS 8      /* GC kinds in the gc object (5 today) */
#define GCS_RPT_LEAKS 32     /* leak episodes kept per isolate */
#define GCS_RPT_ERRORS 4     /* error reasons kept per isolate */
#define GCS_RPT_TEXT 256     /* longest reason kept (the lines' own bound) */
#define GCS_RPT_NAME 64
/* Messages about bad lines, per file: the first ones name FILE:LINE, the
 * rest are only counted, so a file of garbage does not flood stderr. */
#define GCS_RPT_MESSAGES_PER_FILE 20

struct gcs_rpt_bucket {
    double min, max;
    uint32_t n;
    bool min_first;   /* the minimum came before the maximum */
};

/* A series over time, downsampled: the min and max of each bucket, plus
 * first/min/max/last over every point ever added. */
struct gcs_rpt_series {
    int64_t t0_ms, width_ms;
    uint32_t used;                 /* index of the highest bucket in use + 1 */
    struct gcs_rpt_bucket *b;      /* GCS_RPT_BUCKETS, or NULL: the summary only */
    uint64_t n;
    double first, last, min, max;
    int64_t first_ms, last_ms;
    int64_t end_ms;   /* the latest time of any point */
};

struct gcs_rpt_kind {
    char name[24];
    uint64_t count;
    double pause_ms;
};

struct gcs_rpt_owner {
    char name[GCS_RPT_NAME];
    struct gcs_rpt_series *committed;
};

/* One leak, from its first `leak` line to its `leak_end` (if any); the
 * numbers are those of its latest `leak` line. */
struct gcs_rpt_leak {
    char memory[16], owner[GCS_RPT_NAME];
    int64_t first_ms, last_ms, end_ms;   /* end_ms 0: not ended in the log */
    uint32_t reports;
    double rate, rate_low, recent_rate, confidence, growth, level;
    double window_s;
    int64_t window_from_ms, window_to_ms;
    uint32_t samples;
    double limit;              /* heap limit in bytes, 0 when not known */
    double seconds_to_limit;   /* computed here; < 0 when not meaningful */
    double end_recent_rate;
    char reason[GCS_RPT_TEXT];
};

/* The detector's trend line over its window, from the last stats line
 * that had one: its slope is trend.heap.rate_bytes_per_s; from_bytes and
 * to_bytes put it through estimated_base (the mean of the recent window)
 * at the middle of the recent window, the only level the line gives. The
 * chart moves it to the median residual of its samples where it has
 * them, as the detector's own (Theil-Sen) line lies. */
struct gcs_rpt_trend {
    bool have;
    double rate;   /* bytes per second */
    int64_t from_ms, to_ms;
    double from_bytes, to_bytes;
};

/* One site of the isolate's latest culprits line. */
#define GCS_RPT_CULPRITS 3
struct gcs_rpt_culprit {
    char function[GCS_RPT_NAME], url[GCS_RPT_NAME * 2];
    int64_t line;
    double bytes, share, growth;
    bool have_growth;   /* a previous culprits line to grow from */
};

struct gcs_rpt_group {
    int64_t pid;
    uint32_t isolate;
    char thread[8], node[24], v8[48], gcstats[16];
    char file[GCS_RPT_NAME * 2];   /* the file it was first seen in */
    bool started;                  /* a start line was seen */
    char ended[8];                 /* "exit", "end" or "" */
    int64_t first_ms, last_ms;
    uint64_t lines, dropped;
    uint64_t num_full_gc, num_inc_gc, probes, forced;
    double longest_full_pause_ms;
    struct gcs_rpt_kind kinds[GCS_RPT_KINDS];
    uint32_t n_kinds;
    double heap_limit;
    char verdict[16], verdict_memory[16];
    double rss_peak;
    /* heap: post-compaction samples (current_base of stats lines) */
    struct gcs_rpt_series *heap, *external, *rss, *mapped;
    struct gcs_rpt_owner owners[GCS_RPT_OWNERS];
    uint32_t n_owners;
    struct gcs_rpt_trend trend;
    bool charted;                  /* its series keep buckets */
    /* the latest culprits line: its time and top sites */
    int64_t culprits_ms;
    struct gcs_rpt_culprit culprits[GCS_RPT_CULPRITS];
    uint32_t n_culprits;
    struct gcs_rpt_leak *leaks;    /* allocated as they come, at most GCS_RPT_LEAKS */
    uint32_t n_leaks, cap_leaks, leaks_not_kept;
    char (*errors)[GCS_RPT_TEXT];  /* GCS_RPT_ERRORS, allocated at the first */
    uint32_t n_errors;
};

typedef void gcs_rpt_warn_fn(void *ctx, const char *message);

struct gcs_report {
    struct gcs_rpt_group **groups;   /* in order of first appearance */
    size_t n_groups, cap_groups;
    int32_t *index;                  /* open addressing: (pid, isolate) -> group */
    size_t index_size;
    uint64_t lines, lines_used, lines_bad, lines_unknown;
    /* the current file, for messages */
    char file[GCS_RPT_NAME * 4];
    uint64_t file_messages, file_bad;
    char unknown_events[8][32];      /* named once per file */
    uint32_t n_unknown_events;
    gcs_rpt_warn_fn *warn;
    void *warn_ctx;
};

/* report_format.c (pure): "82% 4.72 MB retainOrder /srv/app.js:12
 * (+2.40 MB)"; an anonymous function is "(anonymous)". */
void gcs_report_culprit_text(char *buf, size_t size, const struct gcs_rpt_culprit *c);

/* report_model.c (pure) */
void gcs_report_init(struct gcs_report *r, gcs_rpt_warn_fn *warn, void *warn_ctx);
void gcs_report_free(struct gcs_report *r);
/* A new file: names it in messages. gcs_report_file_end() says how many
 * bad lines were not named. */
void gcs_report_file_begin(struct gcs_report *r, const char *file);
void gcs_report_file_end(struct gcs_report *r);
/* One line (without its newline). last_unterminated: the file ended
 * without a newline after it (a line cut short by a crash or a full disk). */
void gcs_report_take(struct gcs_report *r, uint64_t line_no, const char *text, size_t len,
                     bool last_unterminated);
/* A message about FILE:LINE through the warn function (also used by the
 * reader for lines too long to hold). */
void gcs_report_bad(struct gcs_report *r, uint64_t line_no, const char *what);

/* A series with buckets (or only a summary); NULL when out of memory. */
struct gcs_rpt_series *gcs_series_new(bool buckets);
void gcs_series_free(struct gcs_rpt_series *s);
void gcs_series_add(struct gcs_rpt_series *s, int64_t t_ms, double v);
/* Points to draw, in time order: 1 or 2 per bucket (its min and max, in
 * the order they came). Returns how many were written (at most max; 0
 * for a series without buckets). */
size_t gcs_series_points(const struct gcs_rpt_series *s, int64_t *t_ms, double *v, size_t max);

bool gcs_parse_time(const char *iso, int64_t *epoch_ms);

/* report_format.c (pure) */
/* Ticks at multiples of 1, 2 or 5 x 10^k covering [lo, hi], about target
 * of them. Writes at most max ticks (the first is <= lo, the last >= hi),
 * returns how many, and the step in *step. */
size_t gcs_nice_ticks(double lo, double hi, int target, double *ticks, size_t max, double *step);
/* "2026-11-26 23:25:25.056", UTC */
void gcs_format_time(char *buf, size_t size, int64_t epoch_ms);
/* The unit of a byte axis whose largest value is max_bytes. */
void gcs_bytes_unit(double max_bytes, double *unit, const char **name);
/* The unit of a time axis that spans span_s seconds. */
void gcs_time_unit(double span_s, double *unit_s, const char **name);
/* Decimals that show a tick step of step (in display units) exactly. */
int gcs_step_decimals(double step);

/* A leak in one sentence: rate, window, level, time to the heap limit. */
void gcs_report_leak_text(char *buf, size_t size, const struct gcs_rpt_leak *leak);

/* report_text.c, report_html.c */
void gcs_report_write_text(const struct gcs_report *r, FILE *out);
void gcs_report_write_html(const struct gcs_report *r, FILE *out, char *const *files, int n_files);

/* report.c */
int gcs_cmd_report(int argc, char **argv);

#endif
