#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

void gcs_linebuf_init(struct gcs_linebuf *lb, unsigned long first_line_no)
{
    memset(lb, 0, sizeof *lb);
    lb->line_no = first_line_no;
}

void gcs_linebuf_free(struct gcs_linebuf *lb)
{
    free(lb->data);
    memset(lb, 0, sizeof *lb);
}

static bool keep(struct gcs_linebuf *lb, const char *data, size_t n)
{
    if (lb->len + n > lb->cap) {
        size_t cap = lb->cap ? lb->cap : 4096;
        while (cap < lb->len + n)
            cap *= 2;
        char *grown = realloc(lb->data, cap);
        if (grown == NULL)
            return false;
        lb->data = grown;
        lb->cap = cap;
    }
    memcpy(lb->data + lb->len, data, n);
    lb->len += n;
    return true;
}

bool gcs_linebuf_feed(struct gcs_linebuf *lb, const char *data, size_t n, gcs_line_fn *fn, void *ctx)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t piece = nl ? (size_t)(nl - data) : n;
        if (!lb->discarding) {
            size_t room = GCS_LINE_MAX - lb->len;
            size_t take = piece < room ? piece : room;
            if (!keep(lb, data, take))
                return false;
            if (take < piece) {
                /* over-long: pass on what is held, skip to its newline */
                fn(ctx, lb->data, lb->len, lb->line_no);
                lb->len = 0;
                lb->discarding = true;
            }
        }
        if (nl == NULL)
            return true;
        if (!lb->discarding)
            fn(ctx, lb->data, lb->len, lb->line_no);
        lb->discarding = false;
        lb->len = 0;
        lb->line_no++;
        data += piece + 1;
        n -= piece + 1;
    }
    return true;
}

size_t gcs_linebuf_pending(const struct gcs_linebuf *lb)
{
    return lb->len;
}

void gcs_linebuf_finish(struct gcs_linebuf *lb, gcs_line_fn *fn, void *ctx)
{
    if (lb->len > 0 && !lb->discarding)
        fn(ctx, lb->data, lb->len, lb->line_no);
    lb->len = 0;
    lb->discarding = false;
}

size_t gcs_linebuf_restart(struct gcs_linebuf *lb, unsigned long first_line_no)
{
    size_t forgotten = lb->len;
    lb->len = 0;
    lb->discarding = false;
    lb->line_no = first_line_no;
    return forgotten;
}
