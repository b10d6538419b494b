/* gcstats exporter's model: the latest state of each live process and
 * isolate, from gcstats' JSON lines. Pure: memory only, no clock (the
 * caller says when each line landed), no I/O.
 *
 * A process goes at its `exit` line, an isolate at its `end` line, and
 * either when no line of it has landed for the stale time (a process
 * killed by a signal writes no exit line). The tables are bounded: lines
 * about processes or isolates beyond them are counted, not kept. */
#ifndef GCSTATS_CMD_EXPORTER_MODEL_H
#define GCSTATS_CMD_EXPORTER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A process is about 1 kB, an isolate about 700 B: the caps bound the
 * model near 14 MB however many processes a directory holds. */
#define GCS_EXP_MAX_PROCESSES 4096
#define GCS_EXP_MAX_ISOLATES 8192
#define GCS_EXP_KINDS 8     /* GC kinds in the gc object (5 today) */
#define GCS_EXP_OWNERS 12   /* mapped owners: 5 named + 6 objects + spare */
#define GCS_EXP_NAME 64

/* The memory series the verdict judges, in the lines' order. */
enum gcs_exp_memory { GCS_EXP_HEAP, GCS_EXP_EXTERNAL, GCS_EXP_MAPPED, GCS_EXP_MEMORIES };
extern const char *const gcs_exp_memory_names[GCS_EXP_MEMORIES];

/* The states of a verdict, as the lines spell them. */
#define GCS_EXP_STATES 4
extern const char *const gcs_exp_state_names[GCS_EXP_STATES];

/* A value a line may leave null. */
struct gcs_exp_value {
    bool have;
    double v;
};

struct gcs_exp_kind {
    char name[24];
    double count, pause_s;
};

struct gcs_exp_series {
    int state;                     /* index in gcs_exp_state_names; 0 "unknown" */
    struct gcs_exp_value rate;     /* trend.MEMORY.rate_bytes_per_s */
    /* from the latest `leak` line of this series, until its `leak_end` */
    bool leaking;
    struct gcs_exp_value leak_rate, leak_rate_low, seconds_to_limit;
};

struct gcs_exp_isolate {
    uint32_t isolate;
    double seen;                   /* when its latest line landed, seconds */
    bool have_counters;            /* a stats, tick or end line was read */
    struct gcs_exp_value heap_used, heap_total, heap_limit, external;
    struct gcs_exp_value current_base, estimated_base, usage_trend_pct;
    double full_gcs, other_gcs;
    struct gcs_exp_kind kinds[GCS_EXP_KINDS];
    uint32_t n_kinds;
    struct gcs_exp_series series[GCS_EXP_MEMORIES];
};

struct gcs_exp_owner {
    char name[GCS_EXP_NAME];
    double committed;
};

struct gcs_exp_process {
    int64_t pid;
    double seen;                   /* when its latest line landed, seconds */
    char node[32], v8[48], gcstats[16];   /* from a start line; "" until one */
    struct gcs_exp_value rss, rss_peak;
    double dropped;                /* the latest running count of lost lines */
    double errors;                 /* error lines read */
    bool have_mapped;
    struct gcs_exp_owner owners[GCS_EXP_OWNERS];
    uint32_t n_owners;
    struct gcs_exp_isolate **isolates;   /* in order of first appearance */
    size_t n_isolates, cap_isolates;
};

struct gcs_exp_model {
    struct gcs_exp_process **processes;  /* in order of first appearance */
    size_t n_processes, cap_processes;
    size_t n_isolates;                   /* over every process */
    size_t max_processes, max_isolates;  /* the caps; tests lower them */
    /* the exporter's own health */
    uint64_t lines, bad_lines;
    uint64_t untracked_lines;            /* about a process or isolate the full tables could not take */
};

void gcs_exp_model_init(struct gcs_exp_model *m);
void gcs_exp_model_free(struct gcs_exp_model *m);

enum gcs_exp_take_result {
    GCS_EXP_TAKEN,
    GCS_EXP_BAD,         /* not JSON, or not a gcstats line (no event, pid or isolate) */
    GCS_EXP_UNTRACKED,   /* the tables were full (or memory ran out) */
};

/* One line (without its newline) that landed at time `now` (seconds, on
 * the clock prune is given). */
enum gcs_exp_take_result gcs_exp_model_take(struct gcs_exp_model *m, const char *line, size_t len,
                                            double now);

/* Drops every isolate and process with no line since now - stale_s.
 * Returns how many processes and isolates went. */
size_t gcs_exp_model_prune(struct gcs_exp_model *m, double now, double stale_s);

/* Makes room for one more pointer in the array of pointers at *array
 * (e.g. &m->processes), of which used of *cap are in use. False when
 * memory ran out (the array is then as it was). */
bool gcs_exp_room_for_one(void *array, size_t *cap, size_t used);

struct gcs_exp_process *gcs_exp_model_process(const struct gcs_exp_model *m, int64_t pid);
struct gcs_exp_isolate *gcs_exp_process_isolate(const struct gcs_exp_process *p, uint32_t isolate);

#endif
