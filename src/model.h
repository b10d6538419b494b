/* The data gcstats reports: plain records and the values in them.
 *
 * A record is what a GC callback, an interrupt or the writer's tick
 * captures: a copy of numbers and of short strings, made on the thread
 * that owns the state, handed through the queue to the writer thread and
 * formatted there (lines.h). The only pointers are the owners' and the
 * process' names in gcs_mapped and gcs_process_info, which point at
 * strings that live as long as the process. Pure: no V8, no syscalls. */
#ifndef GCSTATS_MODEL_H
#define GCSTATS_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "culprits.h"
#include "mappings.h"
#include "v8layout.h"
#include "verdict.h"
#include "window.h"

/* Sizes of the names a site's frame carries (symbols.c fills them). */
#define GCS_FUNCTION_MAX 96
#define GCS_OBJECT_MAX 48

enum gcs_event {
    GCS_EV_START,
    GCS_EV_STATS,
    GCS_EV_TICK,
    GCS_EV_END,     /* a Worker's isolate ended */
    GCS_EV_EXIT,
    GCS_EV_ERROR,
    GCS_EV_LEAK,
    GCS_EV_LEAK_END,
    GCS_EV_SITES,   /* formatted by gcs_format_sites, never queued */
    GCS_EV_CULPRITS,   /* its content is in a slot of the culprits channel */
};

/* The memory series the detector judges. */
enum gcs_memory { GCS_MEM_HEAP, GCS_MEM_EXTERNAL, GCS_MEM_MAPPED, GCS_MEM_COUNT };

/* One series' verdict, as the lines show it. Times are wall-clock ms. */
struct gcs_series_verdict {
    enum gcs_state state;        /* the detector's, with the leak's hysteresis */
    struct gcs_assessment a;     /* its latest assessment; from/to in wall-clock ms */
    int64_t since_ms;            /* when `state` began */
    double onset_rate;           /* leak: the rate it was first reported with */
    uint32_t reports;            /* leak: lines for this leak so far */
};

struct gcs_verdict {
    struct gcs_series_verdict series[GCS_MEM_COUNT];
};

struct gcs_gc_counts {
    /* GCS_KIND_INCREMENTAL counts marking cycles, not callbacks. */
    uint64_t count[GCS_KIND_COUNT];
    uint64_t pause_ns[GCS_KIND_COUNT];
    /* gcstats' own cost: GC callbacks run, and the time spent inside them. */
    uint64_t callbacks;
    uint64_t callback_ns;
    uint64_t probes;           /* full GCs gcstats asked V8 for */
    uint64_t probe_cpu_ns;     /* ... and the process CPU they cost, as the probe measures it */
    uint64_t sampler_starts;   /* times gcstats started V8's sampling heap profiler */
    uint64_t sampler_stops;    /* ... and stopped it (fewer: it runs now) */
};

#define GCS_TEXT_MAX 256

/* Mapped bytes by owner, as the tick, stats, end and exit lines show them. */
struct gcs_mapped {
    bool have;                 /* false: not counted (setting, or not node) */
    bool incomplete;           /* the book filled up: totals stopped changing */
    struct gcs_usage total;
    struct gcs_usage owner[GCS_OWNERS];
    const char *name[GCS_OWNERS];   /* NULL: no such owner */
};


struct gcs_record {
    enum gcs_event event;
    uint32_t isolate;          /* 1 main, 2.. Workers */
    int64_t ts_ms;             /* wall clock */
    bool main_thread;          /* start */
    uint64_t v8_isolate;       /* start: the isolate's address, as --trace-gc prints it */
    bool probing;              /* start: the probe may ask for full GCs in this isolate */
    struct gcs_gc_counts gc;
    struct gcs_summary summary;
    struct gcs_verdict verdict;
    enum gcs_memory memory;    /* leak, leak_end: which series */
    unsigned mapped_owner;     /* leak of GCS_MEM_MAPPED: the owner that grew most */
    bool have_heap;
    struct gcs_heap_stats heap;
    bool have_rss;
    uint64_t rss_bytes;
    uint64_t rss_peak_bytes;   /* 0 when unknown */
    uint64_t pause_ns;         /* stats: this mark-compact's pause */
    bool forced;               /* stats: requested by gc() or the embedder */
    bool probe;                /* stats: the first full GC after gcstats asked for one */
    uint64_t probe_cpu_ns;     /* stats: what this cycle cost the probe (0 unless probe) */
    struct gcs_mapped mapped;  /* stats, tick, end, exit, leak: read with the rest */
    char text[GCS_TEXT_MAX];   /* error: the reason */
    int culprits_slot;         /* culprits: the channel's slot, until the writer takes it */
    const struct gcs_culprits *culprits;   /* culprits: the writer's copy, when formatting */
};

#define GCS_SITE_SHOWN_FRAMES 3
struct gcs_site_frame {
    char function[GCS_FUNCTION_MAX];   /* "" when unknown */
    char object[GCS_OBJECT_MAX];
    uint64_t offset;           /* from the function, else from the object's base */
};

struct gcs_site_report {
    const char *owner;
    struct gcs_usage usage;
    uint64_t resident;         /* pages in memory now (mincore), when the line was made */
    struct gcs_site_frame frame[GCS_SITE_SHOWN_FRAMES];
    int nframes;
};

/* What is the same for every line of the process. */
struct gcs_process_info {
    long pid;
    const char *node_version;      /* NULL when it could not be read */
    const char *v8_version;
    const char *destination;       /* "stderr", "fd:3", "file:/tmp/x.log" */
    uint32_t interval_ms;
    uint32_t sites_interval_ms;     /* 0: no sites lines */
    bool maps;                      /* mapped memory is counted */
    uint32_t probe_ms;              /* GCSTATS_PROBE; 0: never asks */
    uint32_t probe_budget_mpct;     /* GCSTATS_PROBE_BUDGET, in thousandths of a percent */
    const char *culprits;           /* GCSTATS_CULPRITS: "auto", "always", "off" */
    uint64_t culprits_interval_bytes;
};

#endif
