/* Bytes read in pieces, cut into whole lines: a line is passed on only
 * once its newline has arrived, so a line still being written waits for
 * its end. Pure: memory only. */
#ifndef GCSTATS_CMD_LINEBUF_H
#define GCSTATS_CMD_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

/* gcstats' lines are shorter than 4096 bytes; anything far longer is not
 * one, and is passed on cut here (it then fails to parse) rather than
 * held in memory without bound. */
#define GCS_LINE_MAX (1u << 20)

typedef void gcs_line_fn(void *ctx, const char *line, size_t len, unsigned long line_no);

struct gcs_linebuf {
    char *data;
    size_t len, cap;
    unsigned long line_no;   /* number of the line being gathered, from 1 */
    bool discarding;         /* the rest of an over-long line is being skipped */
};

/* first_line_no: the number of the next line (1 at the start of a file). */
void gcs_linebuf_init(struct gcs_linebuf *lb, unsigned long first_line_no);
void gcs_linebuf_free(struct gcs_linebuf *lb);

/* Passes each line completed by data[0..n) to fn, without its newline.
 * False when memory ran out (the data is then lost). */
bool gcs_linebuf_feed(struct gcs_linebuf *lb, const char *data, size_t n, gcs_line_fn *fn, void *ctx);

/* Bytes of a line begun but not ended. */
size_t gcs_linebuf_pending(const struct gcs_linebuf *lb);

/* Passes on the unfinished line, if any, as it is (the input ended). */
void gcs_linebuf_finish(struct gcs_linebuf *lb, gcs_line_fn *fn, void *ctx);

/* Forgets the unfinished line and starts again at line first_line_no
 * (the file was truncated or replaced). Returns the bytes forgotten. */
size_t gcs_linebuf_restart(struct gcs_linebuf *lb, unsigned long first_line_no);

#endif
