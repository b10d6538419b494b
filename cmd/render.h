/* One gcstats JSON line as one readable line of text, for `gcstats tail`.
 * Pure: no syscalls (jansson parses). */
#ifndef GCSTATS_CMD_RENDER_H
#define GCSTATS_CMD_RENDER_H

#include <stdbool.h>
#include <stddef.h>

enum gcs_render_result {
    GCS_RENDER_OK = 0,
    GCS_RENDER_NOT_JSON = -1,     /* not a JSON text */
    GCS_RENDER_NOT_GCSTATS = -2,  /* JSON, but not an object with an "event" string */
};

/* Renders line[0..len) (without its newline) into out, NUL-terminated and
 * without a newline, cut at cap. With colour, leak, leak_end and error
 * lines and a verdict of growing or leak are marked with ANSI colours.
 *
 * The head is the time of day (UTC, as the line has it), pid, isolate and
 * event. stats, tick, end and exit lines show the heap after the latest
 * full GC, the trend, external and mapped memory (mapped outside V8),
 * RSS and the verdict; leak, leak_end and error lines their reason.
 * Fields this version does not know (a newer gcstats') are shown at the
 * end as " +NAME=VALUE", and an event it does not know as all its fields
 * that way, so that nothing a newer library says is hidden. */
enum gcs_render_result gcs_render_line(const char *line, size_t len, bool colour, char *out, size_t cap);


#endif
