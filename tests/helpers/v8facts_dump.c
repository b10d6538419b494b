/* Prints what gcstats' table (src/v8layout.c) says, as JSON, for the
 * headers test to compare with what a V8 major's own headers say:
 *   v8facts_dump range              {"min":10,"max":14}
 *   v8facts_dump row MAJOR          the row of that major (exit 2 if none)
 *   v8facts_dump decode MAJOR HEX   the fields gcs_heap_stats_decode reads
 *                                   out of those bytes of a HeapStatistics
 *   v8facts_dump profile MAJOR      the v8::AllocationProfile layout src/v8profile.c
 *                                   reads (exit 2 if none) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v8layout.h"

static const char *const delegate_names[GCS_DELEGATE_SLOTS] = {
    [GCS_DELEGATE_COMPLETE_DTOR] = "complete_dtor",
    [GCS_DELEGATE_DELETING_DTOR] = "deleting_dtor",
    [GCS_DELEGATE_SHOULD_MEASURE] = "ShouldMeasure",
    [GCS_DELEGATE_MEASUREMENT_COMPLETE] = "MeasurementComplete",
};

static void print_row(const struct gcs_v8_facts *f)
{
    printf("{\"v8_major\":%d,\"node_major\":%d,", f->v8_major, f->node_major);
    printf("\"heap_statistics\":{\"size\":%d,\"offsets\":{", f->heap_stats_size);
    const char *sep = "";
    for (int a = 0; a < GCS_HS_FIELD_COUNT; a++) {
        if (f->heap_stats_offset[a] == GCS_FIELD_ABSENT)
            continue;
        printf("%s\"%s\":%d", sep, gcs_heap_field_name(a), f->heap_stats_offset[a]);
        sep = ",";
    }
    printf("}},\"heap_space_statistics\":{\"size\":%d},\"gc_type\":{", f->heap_space_stats_size);
    for (int k = 0; k < GCS_KIND_COUNT; k++)
        printf("%s\"%s\":%d", k ? "," : "", gcs_gc_kind_name(k), f->gc_type[k]);
    printf("},\"gc_flags\":{\"forced\":%d},", f->gc_flag_forced);
    printf("\"incremental_callbacks_per_cycle\":%d,", f->incremental_callbacks_per_cycle);
    printf("\"measure_memory_delegate\":{\"slots\":{");
    for (int i = 0; i < GCS_DELEGATE_SLOTS; i++)
        printf("%s\"%s\":%d", i ? "," : "", delegate_names[i], f->delegate_slot[i]);
    printf("},\"virtuals\":%d}}\n", f->delegate_virtuals);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int decode(int major, const char *hex)
{
    _Alignas(16) unsigned char raw[GCS_HEAP_STATS_BUFFER];
    size_t n = strlen(hex) / 2;
    if (strlen(hex) % 2 != 0 || n > sizeof raw)
        return 1;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 1;
        raw[i] = (unsigned char)(hi * 16 + lo);
    }
    struct gcs_heap_stats h;
    if (!gcs_heap_stats_decode(raw, n, major, &h))
        return 2;
    printf("{\"total_heap_size\":%llu,\"total_heap_size_executable\":%llu,\"total_physical_size\":%llu,"
           "\"total_available_size\":%llu,\"used_heap_size\":%llu,\"heap_size_limit\":%llu,"
           "\"malloced_memory\":%llu,\"external_memory\":%llu,\"number_of_native_contexts\":%llu,"
           "\"number_of_detached_contexts\":%llu",
           (unsigned long long)h.total, (unsigned long long)h.total_executable,
           (unsigned long long)h.physical, (unsigned long long)h.available, (unsigned long long)h.used,
           (unsigned long long)h.limit, (unsigned long long)h.malloced, (unsigned long long)h.external,
           (unsigned long long)h.native_contexts, (unsigned long long)h.detached_contexts);
    if (h.have_total_allocated)
        printf(",\"total_allocated_bytes\":%llu", (unsigned long long)h.total_allocated);
    printf("}\n");
    return 0;
}

static int print_profile_layout(int major)
{
    const struct gcs_alloc_profile_layout *L = gcs_alloc_profile_layout(major);
    if (L == NULL)
        return 2;
    printf("{\"node\":{\"size\":%d,\"name\":%d,\"script_name\":%d,\"script_id\":%d,\"line_number\":%d,"
           "\"column_number\":%d,\"node_id\":%d,\"children\":%d,\"allocations\":%d},",
           L->node_size, L->node_name, L->node_script_name, L->node_script_id, L->node_line, L->node_column,
           L->node_id, L->node_children, L->node_allocations);
    printf("\"allocation\":{\"size\":%d,\"bytes\":%d,\"count\":%d},", L->allocation_size,
           L->allocation_bytes, L->allocation_count);
    printf("\"sample\":{\"size\":%d,\"node_id\":%d,\"bytes\":%d,\"count\":%d,\"sample_id\":%d,\"is_live\":%d},",
           L->sample_size, L->sample_node_id, L->sample_bytes, L->sample_count, L->sample_id, L->sample_is_live);
    printf("\"vector_size\":%d,\"vector_begin_end_capacity\":true,\"local_size\":%d,", L->vector_size, L->local_size);
    printf("\"vtable\":{\"GetRootNode\":%d,\"GetSamples\":%d,\"complete_dtor\":%d,\"deleting_dtor\":%d,"
           "\"virtuals\":%d}}\n",
           L->slot_root, L->slot_samples, L->slot_complete_dtor, L->slot_deleting_dtor, L->virtuals);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "range") == 0) {
        printf("{\"min\":%d,\"max\":%d}\n", GCS_V8_MIN_MAJOR, GCS_V8_MAX_MAJOR);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "row") == 0) {
        const struct gcs_v8_facts *f = gcs_v8_facts(atoi(argv[2]));
        if (f == NULL)
            return 2;
        print_row(f);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "decode") == 0)
        return decode(atoi(argv[2]), argv[3]);
    if (argc == 3 && strcmp(argv[1], "profile") == 0)
        return print_profile_layout(atoi(argv[2]));
    fprintf(stderr, "usage: %s range | row MAJOR | decode MAJOR HEX | profile MAJOR\n", argv[0]);
    return 1;
}
