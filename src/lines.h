/* The JSON lines of the records in model.h: formatting only, done on the
 * writer thread (and once at start-up, before it exists). Pure: no V8, no
 * syscalls, no allocation, no locale. */
#ifndef GCSTATS_LINES_H
#define GCSTATS_LINES_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "model.h"

uint64_t gcs_num_full_gc(const struct gcs_gc_counts *c);
/* Every GC that is not a full mark-compact: scavenges, minor mark-sweeps
 * and incremental marking cycles (weak-callback passes are not GCs). */
uint64_t gcs_num_inc_gc(const struct gcs_gc_counts *c);

/* An error line of `isolate`, at ts_ms, saying reason. A reason longer
 * than GCS_TEXT_MAX - 1 bytes loses its last words (or, with no space to
 * cut at, its last whole characters) and ends with "...". No allocation:
 * the probe calls it on the isolate's thread. */
void gcs_error_record(struct gcs_record *r, int64_t ts_ms, uint32_t isolate, const char *reason);

/* Formats one line into j. Returns its length, 0 if it did not fit. */
size_t gcs_format_record(struct gcs_json *j, const struct gcs_record *r,
                         const struct gcs_process_info *p, uint64_t dropped);

/* A sites line: the call sites holding the most resident mapped memory,
 * in the order given (the caller puts the largest first). As many of the
 * first of the n as fit in a line; *shown says how many. */
size_t gcs_format_sites(struct gcs_json *j, int64_t ts_ms, const struct gcs_mapped *mapped,
                        const struct gcs_site_report *sites, size_t n,
                        const struct gcs_process_info *p, uint64_t dropped, size_t *shown);

#endif
