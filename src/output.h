/* Where the lines go, and the thread that writes them.
 *
 * JavaScript threads never write: they hand a record to a lock-free queue
 * and go on. One thread of the library's own, started with every signal
 * blocked, formats and writes each line with a single write(), and also
 * produces the periodic tick lines. When the reader is slow or gone, the
 * queue fills and further records are dropped and counted; every line
 * carries the running count. */
#ifndef GCSTATS_OUTPUT_H
#define GCSTATS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "lines.h"

/* A descriptor at or above this number is out of the application's way
 * (node's fork() children get their IPC channel on fd 3). */
#define GCS_FD_BASE 200

/* Opens the destination named by config (start-up, single-threaded);
 * GCSTATS_FILE under the sticky-directory rules of logfile.h. False with a
 * reason if gcstats must stay quiet; the reason names the variable and its
 * value (clipped), in under 255 bytes. */
bool gcs_output_open(const struct gcs_config *config, char *reason, size_t cap);

/* The process-wide facts every line needs; must outlive the thread. */
void gcs_output_set_info(const struct gcs_process_info *info);

typedef void (*gcs_emit_fn)(const struct gcs_record *r);

/* What the writer thread does besides writing queued records; every
 * function may be NULL and runs on that thread. */
struct gcs_writer_jobs {
    void (*on_start)(void);
    uint32_t tick_ms;                    /* 0: never */
    /* Hands emit() one record per line (one per live isolate). When the
     * writer was stalled past whole periods, each record also counts its
     * isolate's lines of those periods as dropped. */
    void (*tick)(gcs_emit_fn emit);
    uint32_t sites_ms;                   /* 0: never */
    void (*sites)(void);                 /* writes with gcs_output_write_json */
    void (*prepare)(struct gcs_record *r);   /* just before a record is formatted */
    /* At every wake-up; returns when it next wants to run (monotonic ms,
     * INT64_MAX: only at the next wake-up for another reason). */
    int64_t (*idle)(int64_t now_ms);
};

/* Start-up (single-threaded): what the writer will do. From here on
 * records are queued. */
void gcs_output_prepare(const struct gcs_writer_jobs *jobs);
/* Starts the writer thread if nobody tried yet: called when an attached
 * isolate's thread waits for its event loop (in the epoll interposer,
 * before the wait) or ends a GC; never from the mmap interposers, where
 * an allocator may hold its lock (thread creation allocates). After the
 * first call, one atomic load. False only to the call that could not
 * make the thread: queued records then wait for the exit. */
bool gcs_output_start(void);
/* Writer thread only: one formatted line (len 0: count it as dropped).
 * It is written whole or counted as dropped; what a short write left is
 * ended with a newline before any later line, and a rotated GCSTATS_FILE
 * is reopened (looked at once a second at most, only with a line to write). */
void gcs_output_write_json(const char *buf, size_t len);

/* From any thread, never blocks: queue a record for writing, or count it
 * as dropped (and return false). */
bool gcs_output_submit(const struct gcs_record *r);

/* At exit: queue the last record (if not NULL) and wait at most timeout_ms for the
 * writer to have written everything before it and it; with no writer
 * thread, write them on this thread, waiting at most timeout_ms for the
 * destination to take them: a pipe, a FIFO or a socket without blocking
 * where the kernel allows it, otherwise (a terminal, another device, a
 * pipe that cannot be reopened) after poll() says it has room; a regular
 * file as it is. */
void gcs_output_finish(const struct gcs_record *last, int timeout_ms);

/* Before the writer exists: one line straight to standard error, with
 * SIGPIPE kept from killing the process. */
void gcs_output_stderr_now(const struct gcs_record *r, const struct gcs_process_info *info);

/* One line to the destination config names, opened and closed here,
 * nothing kept (start-up, single-threaded): for a copy of gcstats that
 * goes no further. Silent if the destination is bad. */
void gcs_output_say_once(const struct gcs_config *c, const struct gcs_record *r,
                         const struct gcs_process_info *info);

uint64_t gcs_output_dropped(void);
/* Lines that were due and could not be made (any thread, never blocks). */
void gcs_output_count_dropped(uint64_t n);
/* In a fork()ed child: the writer thread did not come along. */
void gcs_output_forget_thread(void);

#endif
