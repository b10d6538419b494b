#include "v8layout.h"

#include <string.h>

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
    return major >= GCS_V8_MIN_MAJOR && major <= GCS_V8_MAX_MAJOR;
}

static uint64_t field(const void *raw, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)raw + offset, sizeof v);
    return v;
}

bool gcs_heap_stats_decode(const void *raw, size_t raw_size, int major, struct gcs_heap_stats *out)
{
    /* The offsets are the same from V8 10.2 to 14.6 (v8-facts.md); V8 14
     * appends total_allocated_bytes at 112. */
    if (!gcs_v8_layout_known(major) || raw_size < 120)
        return false;
    out->total = field(raw, 0);
    out->total_executable = field(raw, 8);
    out->physical = field(raw, 16);
    out->available = field(raw, 24);
    out->used = field(raw, 32);
    out->limit = field(raw, 40);
    out->malloced = field(raw, 48);
    out->external = field(raw, 56);
    out->native_contexts = field(raw, 80);
    out->detached_contexts = field(raw, 88);
    out->have_total_allocated = major >= 14;
    out->total_allocated = out->have_total_allocated ? field(raw, 112) : 0;
    return true;
}
