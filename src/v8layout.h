/* What gcstats knows of V8's data layouts, by V8 major. Pure: it reads a
 * version string and a raw v8::HeapStatistics buffer, nothing else. */
#ifndef GCSTATS_V8LAYOUT_H
#define GCSTATS_V8LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GCS_V8_MIN_MAJOR 10
#define GCS_V8_MAX_MAJOR 14

/* Bigger than sizeof(v8::HeapStatistics) in every known V8 (112, 120 in 14),
 * so that a constructor of a somewhat larger future struct stays in bounds. */
#define GCS_HEAP_STATS_BUFFER 512

/* v8::GCType bits, V8 10 to 14. */
enum gcs_gc_type_bit {
    GCS_GC_SCAVENGE = 1,
    GCS_GC_MINOR_MS = 2,
    GCS_GC_MARK_COMPACT = 4,
    GCS_GC_INCREMENTAL = 8,
    GCS_GC_WEAK_CALLBACKS = 16,
    GCS_GC_ALL = 31,
};
/* v8::GCCallbackFlags bit set by an explicit gc() call. */
#define GCS_GC_FLAG_FORCED 4

/* The GC kinds gcstats counts, as array indices. */
enum gcs_gc_kind {
    GCS_KIND_SCAVENGE,
    GCS_KIND_MINOR_MS,
    GCS_KIND_MARK_COMPACT,
    GCS_KIND_INCREMENTAL,
    GCS_KIND_WEAK_CALLBACKS,
    GCS_KIND_COUNT,
    GCS_KIND_NONE = -1,
};

/* -1 (GCS_KIND_NONE) for anything but a single known bit. */
int gcs_gc_kind_of(int gc_type);
const char *gcs_gc_kind_name(int kind);

struct gcs_v8_version {
    int major, minor;
};

/* Parses "11.3.244.8-node.33" into {11, 3}. False if it does not start
 * with "<digits>.<digits>". */
bool gcs_parse_v8_version(const char *s, struct gcs_v8_version *out);
bool gcs_v8_layout_known(int major);

struct gcs_heap_stats {
    uint64_t total;            /* total_heap_size */
    uint64_t total_executable;
    uint64_t physical;         /* total_physical_size */
    uint64_t available;        /* total_available_size */
    uint64_t used;             /* used_heap_size */
    uint64_t limit;            /* heap_size_limit */
    uint64_t malloced;         /* malloced_memory */
    uint64_t external;         /* external_memory */
    uint64_t native_contexts;
    uint64_t detached_contexts;
    bool have_total_allocated;   /* V8 14 and later */
    uint64_t total_allocated;    /* bytes allocated since the isolate began */
};

/* Reads the fields out of a v8::HeapStatistics that V8 `major` filled in.
 * False if the layout of that major is not known. */
bool gcs_heap_stats_decode(const void *raw, size_t raw_size, int major, struct gcs_heap_stats *out);

#endif
