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

/* Per thread: the first GCS_STEPWISE_WALKS walks go step by step; a
 * thread that walks more gets unw_backtrace's cache at its next safe
 * point (gcs_stack_walk_at_safe_point). Why: stackwalk.c. */
#define GCS_STEPWISE_WALKS 64

/* What is loaded: libunwind 1.x (Debian's libunwind8). */
#define GCS_LIBUNWIND_SONAME "libunwind.so.8"

/* Writer thread only (it holds no lock of the host's and is in no
 * interposer): loads libunwind and lets it set itself up, once; later
 * calls return at once. False if it could not be loaded (there is then
 * no walk, ever). */
bool gcs_stack_walk_load(void);

/* Whether gcs_stack_walk_load has been tried (it says whether it worked). */
bool gcs_stack_walk_load_tried(void);

/* At a point where this thread holds no lock, is in no interposer and
 * may allocate, under the interposers' re-entry guard (libunwind maps
 * its cache): an isolate's thread at its event loop's wait or at the end
 * of a GC. Readies what this thread's cached walk needs, if it walks
 * often enough to want it (stackwalk.c). Nothing before libunwind is
 * loaded; a thread-local flag's test when there is nothing to do. */
void gcs_stack_walk_at_safe_point(void);

/* Whether this thread's walks may take unw_backtrace's cache. */
bool gcs_stack_walk_cache_ready_here(void);

/* Whether any thread's may: libunwind is loaded and the process' malloc
 * is glibc's own (stackwalk.c). */
bool gcs_stack_walk_cache_allowed(void);

/* How many walks this thread has made (the first GCS_STEPWISE_WALKS went
 * step by step), and how many of them took the cache. */
unsigned gcs_stack_walks_on_this_thread(void);
unsigned gcs_stack_walks_cached_on_this_thread(void);

/* Up to max return addresses of the stack above the caller's frame (the
 * frame that calls this is the first, or the first two: the caller drops
 * its own frames by address). Returns how many: 0 until libunwind is
 * loaded. */
int gcs_stack_walk(void **raw, int max);

/* Either way on its own, for the test that the two agree (loaded first;
 * the cached way once this thread's cache is ready, else 0). */
int gcs_stack_walk_stepwise(void **raw, int max);
int gcs_stack_walk_cached(void **raw, int max);

#endif
