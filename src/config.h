/* Settings from the environment, parsed without side effects.
 *
 * Parsing is pure: it takes the variables' strings and yields the values;
 * a bad or conflicting setting adds a message that names the variable and
 * the value, and says what is used instead. Opening the destination is
 * output.c's business. */
#ifndef GCSTATS_CONFIG_H
#define GCSTATS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GCS_DEFAULT_INTERVAL_MS 10000u
#define GCS_MAX_INTERVAL_MS (86400u * 1000u)
#define GCS_PATH_MAX 1024
#define GCS_MESSAGE_MAX 512
#define GCS_MAX_PROBLEMS 8

enum gcs_dest_kind { GCS_DEST_STDERR, GCS_DEST_FD, GCS_DEST_FILE };

/* When V8's sampling heap profiler runs (see culprits.h). */
enum gcs_culprits_mode {
    GCS_CULPRITS_AUTO,     /* from the first sign of heap growth until the heap is "ok" again, or no
                              full GC comes while the verdict is "unknown" (culprits.h) */
    GCS_CULPRITS_ALWAYS,   /* from attachment on */
    GCS_CULPRITS_OFF,
};
const char *gcs_culprits_mode_name(enum gcs_culprits_mode m);

struct gcs_config {
    enum gcs_dest_kind dest;
    int fd;                      /* GCS_DEST_FD */
    char path[GCS_PATH_MAX];     /* GCS_DEST_FILE, %p already replaced */
    uint32_t interval_ms;        /* 0: no tick lines */
    bool dest_ok;                /* false: the destination setting is bad; stay quiet */
    /* The leak detector's settings that users may change. */
    uint32_t leak_min_span_ms;
    uint64_t leak_min_growth_bytes;
    uint32_t leak_report_ms;
    bool maps;                   /* count mapped memory (GCSTATS_MAPS, default on) */
    uint32_t sites_interval_ms;  /* period of sites lines (GCSTATS_SITES); 0: none */
    uint32_t probe_ms;           /* longest wait for a full GC before asking V8 for one
                                    (GCSTATS_PROBE); 0: never ask */
    uint32_t probe_budget_mpct;  /* the probe's CPU, in thousandths of a percent of the
                                    application's (GCSTATS_PROBE_BUDGET) */
    enum gcs_culprits_mode culprits;   /* GCSTATS_CULPRITS */
    uint64_t culprits_interval_bytes;  /* GCSTATS_CULPRITS_INTERVAL: V8's mean sampling interval */
    /* Problems found while parsing, each one line for the user. */
    char problem[GCS_MAX_PROBLEMS][GCS_MESSAGE_MAX];
    int problems;
};

/* The raw values of the variables; NULL when unset. */
struct gcs_env {
    const char *fd;        /* GCSTATS_FD */
    const char *file;      /* GCSTATS_FILE */
    const char *interval;  /* GCSTATS_INTERVAL */
    const char *leak_min_span;    /* GCSTATS_LEAK_MIN_SPAN, seconds */
    const char *leak_min_growth;  /* GCSTATS_LEAK_MIN_GROWTH, bytes */
    const char *leak_report;      /* GCSTATS_LEAK_REPORT, seconds */
    const char *maps;             /* GCSTATS_MAPS, 0 or 1 */
    const char *sites;            /* GCSTATS_SITES, seconds */
    const char *probe;            /* GCSTATS_PROBE, seconds */
    const char *probe_budget;     /* GCSTATS_PROBE_BUDGET, percent */
    const char *culprits;         /* GCSTATS_CULPRITS: auto, always or off */
    const char *culprits_interval;   /* GCSTATS_CULPRITS_INTERVAL, bytes */
    const char *profile_dir;      /* GCSTATS_PROFILE_DIR: checked against the file system at start-up
                                   * (profile_dir.c), not by gcs_config_parse */
};

/* The defaults of the settings, defined here only: the detector's
 * (gcs_detect_config_default) and the probe's (gcs_probe_config_default)
 * are these. */
#define GCS_DEFAULT_LEAK_MIN_SPAN_MS 20000u
#define GCS_DEFAULT_LEAK_MIN_GROWTH (1u << 20)
#define GCS_DEFAULT_LEAK_REPORT_MS 60000u
#define GCS_DEFAULT_PROBE_MS 5000u
/* 1%, in thousandths of a percent; from 0.01% to 100%. */
#define GCS_DEFAULT_PROBE_BUDGET_MPCT 1000u
#define GCS_MIN_PROBE_BUDGET_MPCT 10u
#define GCS_MAX_PROBE_BUDGET_MPCT 100000u
/* The shortest GCSTATS_LEAK_MIN_SPAN and GCSTATS_LEAK_REPORT, and the
 * shortest GCSTATS_PROBE but 0. */
#define GCS_MIN_LEAK_PERIOD_MS 1000u
#define GCS_MIN_PROBE_MS 1000u
/* V8's own default sampling interval, and the range allowed: below 1k the
 * sampler would cost more than the application; V8 takes a 32-bit int
 * step internally, so stay far below 2G. */
#define GCS_DEFAULT_CULPRITS_INTERVAL (512u * 1024u)
#define GCS_MIN_CULPRITS_INTERVAL 1024u
#define GCS_MAX_CULPRITS_INTERVAL (1u << 30)

void gcs_config_parse(const struct gcs_env *env, long pid, struct gcs_config *out);

/* Exposed for tests. */
bool gcs_parse_fd(const char *s, int *out);
bool gcs_parse_interval_ms(const char *s, uint32_t *out);
/* A whole number of bytes, optionally with a k, M or G suffix (powers of 1024). */
bool gcs_parse_bytes(const char *s, uint64_t *out);
/* Copies template to out with every "%p" replaced by pid. False when the
 * result would not fit in cap bytes (NUL included) or is empty. */
bool gcs_expand_path(const char *template_path, long pid, char *out, size_t cap);

#endif
