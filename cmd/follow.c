#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct source {
    const char *name;       /* as given */
    int fd;                 /* -1: not open (not there yet, or gone) */
    dev_t dev;
    ino_t ino;
    off_t offset;           /* bytes of the open file read so far */
    bool failed;            /* a read failed, or a directory: given up, said once */
    struct gcs_linebuf lines;
};

struct line_relay {
    gcs_follow_line_fn *fn;
    void *ctx;
    const char *name;
};

static void relay(void *ctx, const char *line, size_t len, unsigned long line_no)
{
    struct line_relay *r = ctx;
    r->fn(r->ctx, r->name, line, len, line_no);
}

/* Reads what fd has now; returns the bytes read, or -1 on an error. */
static long drain(struct source *s, gcs_follow_line_fn *fn, void *ctx)
{
    char buf[65536];
    long total = 0;
    struct line_relay r = { fn, ctx, s->name };
    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total;
        if (n < 0) {
            fprintf(stderr, "gcstats: %s: %s\n", s->name, strerror(errno));
            return -1;
        }
        if (n == 0)
            return total;
        s->offset += n;
        total += n;
        if (!gcs_linebuf_feed(&s->lines, buf, (size_t)n, relay, &r)) {
            fprintf(stderr, "gcstats: %s: out of memory\n", s->name);
            return -1;
        }
    }
}

/* Where the last `last` whole lines of fd begin, and the number of the
 * first of them. Reads the file once, forwards: line numbers in messages
 * are then true ones. */
static int find_last_lines(int fd, long last, off_t *start, unsigned long *first_line_no)
{
    size_t slots = (size_t)last + 1;
    off_t *starts = calloc(slots, sizeof *starts);   /* starts[k % slots]: where line k (from 0) begins */
    char buf[65536];
    unsigned long complete = 0;
    off_t at = 0;
    if (starts == NULL)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(starts);
            return -1;
        }
        if (n == 0)
            break;
        for (const char *p = buf, *end = buf + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
            complete++;
            starts[complete % slots] = at + (p - buf) + 1;
        }
        at += n;
    }
    unsigned long k = complete > (unsigned long)last ? complete - (unsigned long)last : 0;
    *start = starts[k % slots];
    *first_line_no = k + 1;
    free(starts);
    return 0;
}

/* Opens s->name; from its start, or at its last lines when `last` >= 0. */
static bool open_source(struct source *s, long last)
{
    /* non-blocking: a FIFO with no writer, or with nothing to read, must
     * not hold up the other files (a regular file ignores the flag) */
    int fd = open(s->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return false;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            errno = EISDIR;
        close(fd);
        return false;
    }
    off_t start = 0;
    unsigned long first = 1;
    /* the ring of line starts costs 8 bytes a line asked for: beyond this
     * many, the whole file is shown instead */
    if (last >= 0 && last <= 10000000 && S_ISREG(st.st_mode)) {
        if (find_last_lines(fd, last, &start, &first) != 0 || lseek(fd, start, SEEK_SET) < 0) {
            close(fd);
            return false;
        }
    }
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->offset = start;
    gcs_linebuf_restart(&s->lines, first);
    return true;
}

static void close_source(struct source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* What happened to the file under s->name since the last look: replaced
 * (rotated), truncated, gone, or (when not open) appeared. */
static bool look_again(struct source *s, gcs_follow_line_fn *fn, void *ctx)
{
    struct stat path_st, fd_st;
    if (s->fd < 0) {
        if (open_source(s, -1)) {
            fprintf(stderr, "gcstats: %s has appeared; following it\n", s->name);
            return true;
        }
        return false;
    }
    if (stat(s->name, &path_st) != 0) {
        /* removed or moved away, nothing new yet: the old file may still
         * get a last line, and the new one is waited for */
        return false;
    }
    if (path_st.st_dev != s->dev || path_st.st_ino != s->ino) {
        /* rotated: the old file's last lines first, then the new one */
        drain(s, fn, ctx);
        size_t lost = gcs_linebuf_pending(&s->lines);
        if (lost > 0)
            fprintf(stderr, "gcstats: %s:%lu: the last line of the old file never ended (%zu bytes)\n",
                    s->name, s->lines.line_no, lost);
        close_source(s);
        if (open_source(s, -1))
            fprintf(stderr, "gcstats: %s has been replaced; following the new file\n", s->name);
        return true;
    }
    if (fstat(s->fd, &fd_st) == 0 && S_ISREG(fd_st.st_mode) && fd_st.st_size < s->offset) {
        fprintf(stderr, "gcstats: %s: file truncated\n", s->name);
        lseek(s->fd, 0, SEEK_SET);
        s->offset = 0;
        gcs_linebuf_restart(&s->lines, 1);
        return true;
    }
    return false;
}

static int follow_stdin(gcs_follow_line_fn *fn, void *ctx)
{
    struct source s = { .name = "stdin", .fd = 0 };
    struct line_relay r = { fn, ctx, s.name };
    gcs_linebuf_init(&s.lines, 1);
    long n = drain(&s, fn, ctx);
    gcs_linebuf_finish(&s.lines, relay, &r);
    gcs_linebuf_free(&s.lines);
    return n < 0 ? 1 : 0;
}

int gcs_follow(char **paths, int count, const struct gcs_follow_options *options,
               gcs_follow_line_fn *fn, void *ctx)
{
    if (count == 0)
        return follow_stdin(fn, ctx);
    struct source *sources = calloc((size_t)count, sizeof *sources);
    if (sources == NULL) {
        fprintf(stderr, "gcstats: out of memory\n");
        return 1;
    }
    for (int i = 0; i < count; i++) {
        struct source *s = &sources[i];
        s->name = paths[i];
        s->fd = -1;
        gcs_linebuf_init(&s->lines, 1);
        if (!open_source(s, options->last_lines)) {
            s->failed = errno == EISDIR;
            fprintf(stderr, "gcstats: %s: %s%s\n", s->name, strerror(errno), s->failed ? "" : "; waiting for it");
        }
    }
    for (;;) {
        long got = 0;
        for (int i = 0; i < count; i++) {
            struct source *s = &sources[i];
            if (s->failed)
                continue;
            if (s->fd >= 0) {
                long n = drain(s, fn, ctx);
                if (n > 0)
                    got += n;
                if (n < 0) {
                    /* said once by drain; reading it again from its start
                     * would show its lines twice */
                    s->failed = true;
                    close_source(s);
                    continue;
                }
            }
            if (look_again(s, fn, ctx))
                got++;
        }
        fflush(stdout);
        if (got == 0) {
            struct timespec wait = { options->poll_ms / 1000u, (long)(options->poll_ms % 1000u) * 1000000L };
            nanosleep(&wait, NULL);
        }
    }
}
