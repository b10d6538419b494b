/* What gcstats knows of V8, by V8 major, in one table (gcs_v8_facts):
 * the v8::HeapStatistics layout, the GC type and flag values, how often
 * the incremental-marking callback fires, the v8::MeasureMemoryDelegate
 * vtable, and the Node majors each V8 ships in. Each row is checked
 * against that major's own headers by tests/integration/headers.test.mjs.
 * Pure: it reads a version string and a raw v8::HeapStatistics buffer,
 * nothing else. */
#ifndef GCSTATS_V8LAYOUT_H
#define GCSTATS_V8LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The majors the table has a row for; nothing else is driven. */
#define GCS_V8_MIN_MAJOR 10
#define GCS_V8_MAX_MAJOR 14

/* Bigger than sizeof(v8::HeapStatistics) in every known V8 (112, 120 in 14),
 * so that a constructor of a somewhat larger future struct stays in bounds. */
#define GCS_HEAP_STATS_BUFFER 512

/* v8::GCType bits as isolate_thread.c asks for and tells them apart. Every row of
 * the table must say the same (test_v8layout checks it): the callbacks
 * are registered once, whatever the major. */
enum gcs_gc_type_bit {
    GCS_GC_SCAVENGE = 1,
    GCS_GC_MINOR_MS = 2,
    GCS_GC_MARK_COMPACT = 4,
    GCS_GC_INCREMENTAL = 8,
    GCS_GC_WEAK_CALLBACKS = 16,
    GCS_GC_ALL = 31,
};
/* v8::GCCallbackFlags bit set by an explicit gc() call (kGCCallbackFlagForced). */
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

/* The slots of the hand-made v8::MeasureMemoryDelegate vtable in
 * src/v8api.c (Itanium ABI: the virtual destructor takes two slots, the
 * complete one first). Every row of the table must say the same, or the
 * probe is off on that major (gcs_v8_delegate_matches). */
enum gcs_delegate_slot {
    GCS_DELEGATE_COMPLETE_DTOR,
    GCS_DELEGATE_DELETING_DTOR,
    GCS_DELEGATE_SHOULD_MEASURE,
    GCS_DELEGATE_MEASUREMENT_COMPLETE,
    GCS_DELEGATE_SLOTS,
};

/* The fields of v8::HeapStatistics gcstats reads. */
enum gcs_heap_field {
    GCS_HS_TOTAL,               /* total_heap_size */
    GCS_HS_TOTAL_EXECUTABLE,    /* total_heap_size_executable */
    GCS_HS_PHYSICAL,            /* total_physical_size */
    GCS_HS_AVAILABLE,           /* total_available_size */
    GCS_HS_USED,                /* used_heap_size */
    GCS_HS_LIMIT,               /* heap_size_limit */
    GCS_HS_MALLOCED,            /* malloced_memory */
    GCS_HS_EXTERNAL,            /* external_memory */
    GCS_HS_NATIVE_CONTEXTS,     /* number_of_native_contexts */
    GCS_HS_DETACHED_CONTEXTS,   /* number_of_detached_contexts */
    GCS_HS_TOTAL_ALLOCATED,     /* total_allocated_bytes (V8 14 and later) */
    GCS_HS_FIELD_COUNT,
};
/* V8's name of the field (its accessor, and its member without the
 * trailing underscore); NULL out of range. */
const char *gcs_heap_field_name(int field);

/* An offset of a field this major does not have. */
#define GCS_FIELD_ABSENT (-1)

/* Everything gcstats relies on that could differ between V8 majors. */
struct gcs_v8_facts {
    int v8_major;
    int node_major;                       /* the Node release line that ships it */
    int heap_stats_size;                  /* sizeof(v8::HeapStatistics) */
    int heap_stats_offset[GCS_HS_FIELD_COUNT];   /* or GCS_FIELD_ABSENT */
    int heap_space_stats_size;            /* sizeof(v8::HeapSpaceStatistics); not read today */
    int gc_type[GCS_KIND_COUNT];          /* v8::GCType bit of each kind */
    int gc_flag_forced;                   /* kGCCallbackFlagForced */
    int incremental_callbacks_per_cycle;  /* 2 on V8 10 (start and finalize), else 1 */
    int delegate_slot[GCS_DELEGATE_SLOTS];   /* MeasureMemoryDelegate vtable slots */
    int delegate_virtuals;                /* slots in its vtable in all */
};

/* The row of a major, or NULL if the table has none. */
const struct gcs_v8_facts *gcs_v8_facts(int major);

struct gcs_v8_version {
    int major, minor;
};

/* Parses "11.3.244.8-node.33" into {11, 3}. False if it does not start
 * with "<digits>.<digits>". */
bool gcs_parse_v8_version(const char *s, struct gcs_v8_version *out);
bool gcs_v8_layout_known(int major);

/* GCSTATS_ASSUME_V8 may only close the gate, never open it: true (and
 * *out set) only when `assume` parses and names a major the table does
 * NOT know. A known major is refused, so that no setting can make
 * gcstats read the structs of a real V8 it does not know as if it did. */
bool gcs_v8_believe_assumed(const char *assume, struct gcs_v8_version *out);

/* True when V8 `major`'s MeasureMemoryDelegate has exactly the vtable
 * src/v8api.c builds (GCS_DELEGATE_*); false for a major not in the table. */
bool gcs_v8_delegate_matches(int major);

/* v8::AllocationProfile as the sampling heap profiler returns it
 * (src/v8profile.c reads it): the offsets in its Node and Allocation, the
 * slots of its vtable, and the sizes of the std::vector (libstdc++: begin,
 * end and end of capacity pointers) and Local<String> it holds. The same
 * from V8 10 to 14 but for Sample's is_live (V8 14); the headers test
 * checks each against the headers. */
struct gcs_alloc_profile_layout {
    int node_size;
    int node_name, node_script_name, node_script_id, node_line, node_column, node_id;
    int node_children, node_allocations;      /* std::vector<Node*>, std::vector<Allocation> */
    int allocation_size, allocation_bytes, allocation_count;   /* size_t size; unsigned int count */
    /* Sample { uint32_t node_id; size_t size; unsigned int count; uint64_t sample_id;
     * bool is_live (V8 14 on; -1 before) } */
    int sample_size, sample_node_id, sample_bytes, sample_count, sample_id, sample_is_live;
    int vector_size, local_size;
    int slot_root, slot_samples, slot_complete_dtor, slot_deleting_dtor, virtuals;
};
/* NULL for a major the table does not know. */
const struct gcs_alloc_profile_layout *gcs_alloc_profile_layout(int major);

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
 * False if the layout of that major is not known or raw_size is smaller
 * than its struct. */
bool gcs_heap_stats_decode(const void *raw, size_t raw_size, int major, struct gcs_heap_stats *out);

/* The granule V8 commits heap memory in: its commit page size is the OS
 * page, 4 KiB on x86-64 and 4, 16 or 64 KiB on aarch64, all multiples of
 * this. And the bounds of a believable heap_size_limit. */
#define GCS_V8_COMMIT_PAGE 4096u
#define GCS_HEAP_LIMIT_MIN (1ull << 20)   /* 1 MiB: a smaller isolate cannot even start */
#define GCS_HEAP_LIMIT_MAX (1ull << 40)   /* 1 TiB */

/* Why a decoded reading cannot be a real one (a layout read wrong), in
 * words for an `error` line; NULL when it is plausible. It holds on every
 * reading V8 10 to 14 gave, including Workers with small limits:
 * used <= total <= limit, total_executable <= total, limit within
 * [GCS_HEAP_LIMIT_MIN, GCS_HEAP_LIMIT_MAX), and total, total_executable,
 * physical and limit multiples of GCS_V8_COMMIT_PAGE. Not checked, as
 * real readings break them: physical <= total (Workers on V8 10 to 13)
 * and available <= limit (V8 14). */
const char *gcs_heap_stats_implausible(const struct gcs_heap_stats *h);

#endif
