/* Walking the calling thread's stack with libunwind, for the interposers
 * (memmap.c): return addresses, innermost first. Any thread, inside an
 * interposed call, under the interposers' re-entry guard: libunwind may
 * map memory of its own, which must pass through uncounted.
 *
 * libunwind is not linked: it is loaded (dlopen) by the writer thread once
 * the process has shown it lives on, and until then there is no walk
 * (gcs_stack_walk returns 0, and a site is its caller alone). Loading it
 * and liblzma costs ~0.7 ms, which every process under the preload paid
 * at start-up when libunwind was linked: shells, npm's helpers, `node -e
 * 0`. Why the writer thread and why its TLS makes two kinds of threads:
 * stackwalk.c. */
#ifndef GCSTATS_STACKWALK_H
#define GCSTATS_STACKWALK_H

#include <stdbool.h>

/* Per thread: the first GCS_STEPWISE_WALKS walks go step by step, the
 * rest through unw_backtrace if the thread was readied for it
 * (gcs_stack_walk_ready_this_thread), step by step if not. Why:
 * stackwalk.c. */
#define GCS_STEPWISE_WALKS 64

/* What is loaded: libunwind 1.x (Debian's libunwind8). */
#define GCS_LIBUNWIND_SONAME "libunwind.so.8"

/* Writer thread only (it holds no lock of the host's and is in no
 * interposer): loads libunwind and lets it set itself up, once; later
 * calls return at once. False if it could not be loaded (there is then
 * no walk, ever). */
bool gcs_stack_walk_load(void);

/* Whether gcs_stack_walk_load has been tried, and whether it worked. */
bool gcs_stack_walk_load_tried(void);
bool gcs_stack_walk_loaded(void);

/* At a point where this thread holds no lock and is in no interposer (an
 * isolate's thread as it waits for its event loop): lets this thread's
 * walks use unw_backtrace's cache from its GCS_STEPWISE_WALKS-th walk on.
 * Nothing before libunwind is loaded; once per thread after. */
void gcs_stack_walk_ready_this_thread(void);

/* How many walks this thread has made (the first GCS_STEPWISE_WALKS went
 * step by step). */
unsigned gcs_stack_walks_on_this_thread(void);

/* Up to max return addresses of the stack above the caller's frame (the
 * frame that calls this is the first, or the first two: the caller drops
 * its own frames by address). Returns how many: 0 until libunwind is
 * loaded. */
int gcs_stack_walk(void **raw, int max);

/* Either way on its own, for the test that the two agree (loaded first;
 * the cached way on a readied thread). */
int gcs_stack_walk_stepwise(void **raw, int max);
int gcs_stack_walk_cached(void **raw, int max);

#endif
