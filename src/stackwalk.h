/* Walking the calling thread's stack with libunwind, for the interposers
 * (memmap.c): return addresses, innermost first. Any thread, inside an
 * interposed call, under the interposers' re-entry guard: libunwind may
 * map memory of its own, which must pass through uncounted. */
#ifndef GCSTATS_STACKWALK_H
#define GCSTATS_STACKWALK_H

/* Per thread: the first GCS_STEPWISE_WALKS walks go step by step, the
 * rest through unw_backtrace. Why: stackwalk.c. */
#define GCS_STEPWISE_WALKS 64

/* How many walks this thread has made (the first GCS_STEPWISE_WALKS went
 * step by step). */
unsigned gcs_stack_walks_on_this_thread(void);

/* Up to max return addresses of the stack above the caller's frame (the
 * frame that calls this is the first, or the first two: the caller drops
 * its own frames by address). Returns how many. The process' first walk
 * is where libunwind sets itself up (stackwalk.c). */
int gcs_stack_walk(void **raw, int max);

/* Either way on its own, for the test that the two agree. */
int gcs_stack_walk_stepwise(void **raw, int max);
int gcs_stack_walk_cached(void **raw, int max);

#endif
