/* A JSON line builder over a fixed buffer: no malloc, no locale, no libc
 * formatting. A line that would not fit is marked overflowed and never
 * emitted half-written. */
#ifndef GCSTATS_JSON_H
#define GCSTATS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines stay shorter than PIPE_BUF (4096), newline included, so that one
 * write() of a line is atomic on a pipe shared by several processes. */
#define GCS_LINE_MAX 4095u

struct gcs_json {
    char buf[GCS_LINE_MAX];
    size_t len;
    bool overflow;
    bool need_comma;
};

void gcs_json_begin(struct gcs_json *j);
void gcs_json_key(struct gcs_json *j, const char *key);
void gcs_json_u64(struct gcs_json *j, const char *key, uint64_t v);
void gcs_json_i64(struct gcs_json *j, const char *key, int64_t v);
void gcs_json_bool(struct gcs_json *j, const char *key, bool v);
void gcs_json_null(struct gcs_json *j, const char *key);
/* NULL prints null. Escapes per RFC 8259; bytes that are not valid UTF-8
 * are replaced by U+FFFD so that the line stays valid UTF-8. */
void gcs_json_str(struct gcs_json *j, const char *key, const char *s);
/* A fixed-point number with `decimals` (0..6) digits; not finite, or beyond
 * +-9e15, prints null. */
void gcs_json_fixed(struct gcs_json *j, const char *key, double v, int decimals);
/* The same number as text, for numbers inside strings: always a '.',
 * whatever LC_NUMERIC says (printf's %f follows it, and node or an addon
 * may set it). Returns the length, or 0 (and "") where gcs_json_fixed
 * prints null. Room for a sign, 16 digits, the point, 6 decimals, a NUL. */
#define GCS_FIXED_MAX 25
size_t gcs_format_fixed(double v, int decimals, char out[GCS_FIXED_MAX]);
/* UTC ISO 8601 with milliseconds, "2026-11-26T03:20:40.123Z". */
void gcs_json_time(struct gcs_json *j, const char *key, int64_t epoch_ms);
void gcs_json_object_begin(struct gcs_json *j, const char *key);
void gcs_json_object_end(struct gcs_json *j);
/* Inside an array, values take a NULL key. */
void gcs_json_array_begin(struct gcs_json *j, const char *key);
void gcs_json_array_end(struct gcs_json *j);
/* Closes the line with "}\n". Returns its length, or 0 if it overflowed. */
size_t gcs_json_end(struct gcs_json *j);

/* Exposed for tests: writes exactly 24 characters plus a NUL. */
void gcs_format_iso8601(int64_t epoch_ms, char out[25]);

#endif
