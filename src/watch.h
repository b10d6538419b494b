/* Watching for isolates, from any thread: called by the interposers.
 *
 * A thread that maps memory or polls may have a current V8 isolate. If
 * gcstats has not attached to it yet, the watch asks V8 for an interrupt
 * (isolate_thread.h attaches there, on the isolate's own thread, while
 * JavaScript runs); if it has, and this is the isolate's own thread
 * polling its own event loop, isolate_thread.h may ask for a probe.
 *
 * The only V8 calls made here are Isolate::TryGetCurrent (a thread-local
 * read), Isolate::IsInUse (a field read) and Isolate::RequestInterrupt,
 * and the last only for an isolate that some thread has entered (not
 * one V8 is still creating or already deleting), and only from node's
 * own code: never from inside an allocator preloaded beside gcstats,
 * which may hold its own lock (RequestInterrupt allocates). Everything
 * that needs more of V8 happens in the interrupt, which V8 runs only while
 * the isolate runs JavaScript: never once node has begun to tear the
 * isolate or the process down. */
#ifndef GCSTATS_WATCH_H
#define GCSTATS_WATCH_H

#include <stdbool.h>

/* The process-wide switch (lifecycle: constructor, exit, fork). */
void gcs_watch_enable(void);
void gcs_watch_disable(void);
bool gcs_watch_enabled(void);

/* Thread-exit bookkeeping for Worker isolates (constructor). */
void gcs_watch_init_thread_key(void);

/* A successful mmap or mmap64 whose caller's return address is `caller`. */
void gcs_watch_mapped(const void *caller);
/* An epoll wait on epfd is about to begin; may_block: its timeout is not
 * zero. */
void gcs_watch_poll(int epfd, bool may_block);

struct gcs_isolate;
/* After attaching on the isolate's own thread: its end is seen when that
 * thread exits (Workers; the main isolate ends with the process). */
void gcs_watch_thread_owns(struct gcs_isolate *s);

#endif
