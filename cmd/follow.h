/* Following logs as `tail -F` does: a file still being written, replaced
 * by another under its name (rotation by rename), truncated, or not there
 * yet; or standard input to its end. Whole lines only: a line still being
 * written waits for its newline. */
#ifndef GCSTATS_CMD_FOLLOW_H
#define GCSTATS_CMD_FOLLOW_H

#include <stdbool.h>

#include "linebuf.h"

/* Called once per whole line; name is the file as the user gave it. */
typedef void gcs_follow_line_fn(void *ctx, const char *name, const char *line, size_t len,
                                unsigned long line_no);

struct gcs_follow_options {
    long last_lines;          /* lines of each file shown before following (tail -n) */
    bool follow;              /* false: read each file to its end and stop */
    unsigned poll_ms;         /* how often files are looked at again */
};

/* Follows paths[0..count) (count 0: standard input, read to its end).
 * Returns only when not following, or when standard input ends: 0, or 1 if
 * a file could not be read. Messages about the files go to stderr. */
int gcs_follow(char **paths, int count, const struct gcs_follow_options *options,
               gcs_follow_line_fn *fn, void *ctx);

#endif
