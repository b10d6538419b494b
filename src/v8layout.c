#include "v8layout.h"

#include <string.h>

/* The facts of each V8 major gcstats drives, taken from that major's
 * headers (x86_64) and, for what headers cannot say, from running it.
 * tests/integration/headers.test.mjs compiles a C++ program against the
 * headers of the node under test and compares its findings with the row
 * of that node's V8 (tests/helpers/v8facts_dump.c prints a row). */
#define HEAP_STATS_OFFSETS(total_allocated)                                        \
    {                                                                               \
        [GCS_HS_TOTAL] = 0, [GCS_HS_TOTAL_EXECUTABLE] = 8, [GCS_HS_PHYSICAL] = 16,  \
        [GCS_HS_AVAILABLE] = 24, [GCS_HS_USED] = 32, [GCS_HS_LIMIT] = 40,           \
        [GCS_HS_MALLOCED] = 48, [GCS_HS_EXTERNAL] = 56,                             \
        /* 64 peak_malloced_memory, 72 does_zap_garbage (bool, padded) */           \
        [GCS_HS_NATIVE_CONTEXTS] = 80, [GCS_HS_DETACHED_CONTEXTS] = 88,             \
        /* 96 total_global_handles_size, 104 used_global_handles_size */            \
        [GCS_HS_TOTAL_ALLOCATED] = (total_allocated),                               \
    }
/* GCType: the minor GC bit is kGCTypeMinorMarkCompact up to V8 11,
 * kGCTypeMinorMarkSweep from 12; the value stayed. */
#define GC_TYPES_10_TO_14                                                           \
    {                                                                               \
        [GCS_KIND_SCAVENGE] = 1, [GCS_KIND_MINOR_MS] = 2, [GCS_KIND_MARK_COMPACT] = 4, \
        [GCS_KIND_INCREMENTAL] = 8, [GCS_KIND_WEAK_CALLBACKS] = 16,                 \
    }
/* virtual ~MeasureMemoryDelegate(), ShouldMeasure(Local<Context>),
 * MeasurementComplete(...) (a vector of pairs up to V8 11, a Result struct
 * from 12, where it stopped being pure): the order never changed. */
#define DELEGATE_SLOTS_10_TO_14                                                     \
    {                                                                               \
        [GCS_DELEGATE_COMPLETE_DTOR] = 0, [GCS_DELEGATE_DELETING_DTOR] = 1,         \
        [GCS_DELEGATE_SHOULD_MEASURE] = 2, [GCS_DELEGATE_MEASUREMENT_COMPLETE] = 3, \
    }

static const struct gcs_v8_facts facts_table[] = {
    {
        .v8_major = 10, .node_major = 18,   /* 10.2 */
        .heap_stats_size = 112, .heap_stats_offset = HEAP_STATS_OFFSETS(GCS_FIELD_ABSENT),
        .heap_space_stats_size = 40,
        .gc_type = GC_TYPES_10_TO_14, .gc_flag_forced = 4,
        /* seen with --trace-gc on Node 18: at the start of marking and at its finalization */
        .incremental_callbacks_per_cycle = 2,
        .delegate_slot = DELEGATE_SLOTS_10_TO_14, .delegate_virtuals = 4,
    },
    {
        .v8_major = 11, .node_major = 20,   /* 11.3 */
        .heap_stats_size = 112, .heap_stats_offset = HEAP_STATS_OFFSETS(GCS_FIELD_ABSENT),
        .heap_space_stats_size = 40,
        .gc_type = GC_TYPES_10_TO_14, .gc_flag_forced = 4,
        .incremental_callbacks_per_cycle = 1,
        .delegate_slot = DELEGATE_SLOTS_10_TO_14, .delegate_virtuals = 4,
    },
    {
        .v8_major = 12, .node_major = 22,   /* 12.4 */
        .heap_stats_size = 112, .heap_stats_offset = HEAP_STATS_OFFSETS(GCS_FIELD_ABSENT),
        .heap_space_stats_size = 40,
        .gc_type = GC_TYPES_10_TO_14, .gc_flag_forced = 4,
        .incremental_callbacks_per_cycle = 1,
        .delegate_slot = DELEGATE_SLOTS_10_TO_14, .delegate_virtuals = 4,
    },
    {
        .v8_major = 13, .node_major = 24,   /* 13.6 */
        .heap_stats_size = 112, .heap_stats_offset = HEAP_STATS_OFFSETS(GCS_FIELD_ABSENT),
        .heap_space_stats_size = 40,
        .gc_type = GC_TYPES_10_TO_14, .gc_flag_forced = 4,
        .incremental_callbacks_per_cycle = 1,
        .delegate_slot = DELEGATE_SLOTS_10_TO_14, .delegate_virtuals = 4,
    },
    {
        .v8_major = 14, .node_major = 26,   /* 14.6: total_allocated_bytes appended */
        .heap_stats_size = 120, .heap_stats_offset = HEAP_STATS_OFFSETS(112),
        .heap_space_stats_size = 40,
        .gc_type = GC_TYPES_10_TO_14, .gc_flag_forced = 4,
        .incremental_callbacks_per_cycle = 1,
        .delegate_slot = DELEGATE_SLOTS_10_TO_14, .delegate_virtuals = 4,
    },
};
#define FACTS_ROWS (sizeof facts_table / sizeof facts_table[0])
_Static_assert(FACTS_ROWS == GCS_V8_MAX_MAJOR - GCS_V8_MIN_MAJOR + 1,
               "one row per major from GCS_V8_MIN_MAJOR to GCS_V8_MAX_MAJOR");

const struct gcs_v8_facts *gcs_v8_facts(int major)
{
    if (major < GCS_V8_MIN_MAJOR || major > GCS_V8_MAX_MAJOR)
        return NULL;
    const struct gcs_v8_facts *f = &facts_table[major - GCS_V8_MIN_MAJOR];
    return f->v8_major == major ? f : NULL;
}

/* v8-profiler.h of V8 10 to 14: Node { Local<String> name, script_name;
 * int script_id, start_position, line_number, column_number; uint32_t
 * node_id; std::vector<Node*> children; std::vector<Allocation>
 * allocations; }, Allocation { size_t size; unsigned int count; }, Sample
 * { uint32_t node_id; size_t size; unsigned int count; uint64_t sample_id; }
 * (V8 14 adds bool is_live), and the virtual GetRootNode(), GetSamples()
 * and destructor, in that order. */
#define ALLOC_PROFILE_COMMON                                                                               \
    .node_size = 88,                                                                                       \
    .node_name = 0, .node_script_name = 8, .node_script_id = 16, .node_line = 24, .node_column = 28,       \
    .node_id = 32, .node_children = 40, .node_allocations = 64,                                            \
    .allocation_size = 16, .allocation_bytes = 0, .allocation_count = 8,                                   \
    .sample_node_id = 0, .sample_bytes = 8, .sample_count = 16, .sample_id = 24,                           \
    .vector_size = 24, .local_size = 8,                                                                    \
    .slot_root = 0, .slot_samples = 1, .slot_complete_dtor = 2, .slot_deleting_dtor = 3, .virtuals = 4
static const struct gcs_alloc_profile_layout alloc_profile_10_to_13 = {
    ALLOC_PROFILE_COMMON, .sample_size = 32, .sample_is_live = -1,
};
static const struct gcs_alloc_profile_layout alloc_profile_14 = {
    ALLOC_PROFILE_COMMON, .sample_size = 40, .sample_is_live = 32,
};

const struct gcs_alloc_profile_layout *gcs_alloc_profile_layout(int major)
{
    if (gcs_v8_facts(major) == NULL)
        return NULL;
    return major >= 14 ? &alloc_profile_14 : &alloc_profile_10_to_13;
}

const char *gcs_heap_field_name(int field)
{
    static const char *const names[GCS_HS_FIELD_COUNT] = {
        [GCS_HS_TOTAL] = "total_heap_size",
        [GCS_HS_TOTAL_EXECUTABLE] = "total_heap_size_executable",
        [GCS_HS_PHYSICAL] = "total_physical_size",
        [GCS_HS_AVAILABLE] = "total_available_size",
        [GCS_HS_USED] = "used_heap_size",
        [GCS_HS_LIMIT] = "heap_size_limit",
        [GCS_HS_MALLOCED] = "malloced_memory",
        [GCS_HS_EXTERNAL] = "external_memory",
        [GCS_HS_NATIVE_CONTEXTS] = "number_of_native_contexts",
        [GCS_HS_DETACHED_CONTEXTS] = "number_of_detached_contexts",
        [GCS_HS_TOTAL_ALLOCATED] = "total_allocated_bytes",
    };
    return field >= 0 && field < GCS_HS_FIELD_COUNT ? names[field] : NULL;
}

int gcs_gc_kind_of(int gc_type)
{
    switch (gc_type) {
    case GCS_GC_SCAVENGE: return GCS_KIND_SCAVENGE;
    case GCS_GC_MINOR_MS: return GCS_KIND_MINOR_MS;
    case GCS_GC_MARK_COMPACT: return GCS_KIND_MARK_COMPACT;
    case GCS_GC_INCREMENTAL: return GCS_KIND_INCREMENTAL;
    case GCS_GC_WEAK_CALLBACKS: return GCS_KIND_WEAK_CALLBACKS;
    default: return GCS_KIND_NONE;
    }
}

const char *gcs_gc_kind_name(int kind)
{
    static const char *const names[GCS_KIND_COUNT] = {
        "scavenge", "minor_ms", "mark_compact", "incremental", "weak_callbacks",
    };
    return kind >= 0 && kind < GCS_KIND_COUNT ? names[kind] : "unknown";
}

static bool parse_uint(const char **p, int *out)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > 100000)
            return false;
    }
    *out = (int)v;
    *p = s;
    return true;
}

bool gcs_parse_v8_version(const char *s, struct gcs_v8_version *out)
{
    if (s == NULL)
        return false;
    const char *p = s;
    int major, minor;
    if (!parse_uint(&p, &major) || *p++ != '.' || !parse_uint(&p, &minor))
        return false;
    out->major = major;
    out->minor = minor;
    return true;
}

bool gcs_v8_layout_known(int major)
{
    return gcs_v8_facts(major) != NULL;
}

bool gcs_v8_believe_assumed(const char *assume, struct gcs_v8_version *out)
{
    struct gcs_v8_version v;
    if (!gcs_parse_v8_version(assume, &v) || gcs_v8_layout_known(v.major))
        return false;
    *out = v;
    return true;
}

bool gcs_v8_delegate_matches(int major)
{
    const struct gcs_v8_facts *f = gcs_v8_facts(major);
    if (f == NULL || f->delegate_virtuals != GCS_DELEGATE_SLOTS)
        return false;
    for (int i = 0; i < GCS_DELEGATE_SLOTS; i++)
        if (f->delegate_slot[i] != i)
            return false;
    return true;
}

static uint64_t field(const void *raw, int offset)
{
    uint64_t v;
    memcpy(&v, (const char *)raw + offset, sizeof v);
    return v;
}

bool gcs_heap_stats_decode(const void *raw, size_t raw_size, int major, struct gcs_heap_stats *out)
{
    const struct gcs_v8_facts *f = gcs_v8_facts(major);
    if (f == NULL || raw_size < (size_t)f->heap_stats_size)
        return false;
    const int *at = f->heap_stats_offset;
    out->total = field(raw, at[GCS_HS_TOTAL]);
    out->total_executable = field(raw, at[GCS_HS_TOTAL_EXECUTABLE]);
    out->physical = field(raw, at[GCS_HS_PHYSICAL]);
    out->available = field(raw, at[GCS_HS_AVAILABLE]);
    out->used = field(raw, at[GCS_HS_USED]);
    out->limit = field(raw, at[GCS_HS_LIMIT]);
    out->malloced = field(raw, at[GCS_HS_MALLOCED]);
    out->external = field(raw, at[GCS_HS_EXTERNAL]);
    out->native_contexts = field(raw, at[GCS_HS_NATIVE_CONTEXTS]);
    out->detached_contexts = field(raw, at[GCS_HS_DETACHED_CONTEXTS]);
    out->have_total_allocated = at[GCS_HS_TOTAL_ALLOCATED] != GCS_FIELD_ABSENT;
    out->total_allocated = out->have_total_allocated ? field(raw, at[GCS_HS_TOTAL_ALLOCATED]) : 0;
    return true;
}

const char *gcs_heap_stats_implausible(const struct gcs_heap_stats *h)
{
    if (h->used > h->total)
        return "used_heap_size is larger than total_heap_size";
    if (h->total > h->limit)
        return "total_heap_size is larger than heap_size_limit";
    if (h->total_executable > h->total)
        return "total_heap_size_executable is larger than total_heap_size";
    if (h->limit < GCS_HEAP_LIMIT_MIN)
        return "heap_size_limit is below 1 MiB";
    if (h->limit >= GCS_HEAP_LIMIT_MAX)
        return "heap_size_limit is 1 TiB or more";
    /* V8 commits its heap in whole pages, and sizes its limit in them. */
    if (h->total % GCS_V8_COMMIT_PAGE != 0)
        return "total_heap_size is not a whole number of pages";
    if (h->total_executable % GCS_V8_COMMIT_PAGE != 0)
        return "total_heap_size_executable is not a whole number of pages";
    if (h->physical % GCS_V8_COMMIT_PAGE != 0)
        return "total_physical_size is not a whole number of pages";
    if (h->limit % GCS_V8_COMMIT_PAGE != 0)
        return "heap_size_limit is not a whole number of pages";
    return NULL;
}
