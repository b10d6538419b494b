/* Bytes and durations for people, the same in `gcstats tail` and
 * `gcstats report`. Pure. */
#ifndef GCSTATS_CMD_UNITS_H
#define GCSTATS_CMD_UNITS_H

#include <stddef.h>

/* "8.00 MB": decimal units (kB = 1000 B, MB = 10^6 B, GB = 10^9 B), three
 * significant digits. */
void gcs_format_bytes(char *buf, size_t size, double bytes);
/* "45.0 s", "12.5 min", "3.20 h", "4.10 d" */
void gcs_format_duration(char *buf, size_t size, double seconds);

#endif
