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
    unsigned poll_ms;         /* how often files are looked at again */
};

/* Follows paths[0..count) until killed; with count 0, reads standard
 * input to its end and returns 0, or 1 on a read error. Messages about
 * the files go to stderr. */
int gcs_follow(char **paths, int count, const struct gcs_follow_options *options,
               gcs_follow_line_fn *fn, void *ctx);

#endif
