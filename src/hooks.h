/* The interposed libc calls and V8's GC callbacks.
 *
 * mmap/mmap64/munmap and the epoll waits are where gcstats learns that a
 * thread has a V8 isolate; GC callbacks are then added on the isolate's
 * own thread (at an interrupt V8 runs there, or at the event loop's poll).
 * Every interposer forwards to libc first and does its own work only when
 * it is safe: never re-entered, never before the real functions are known
 * (a raw system call stands in until then), and never with errno changed. */
#ifndef GCSTATS_HOOKS_H
#define GCSTATS_HOOKS_H

#include <stdbool.h>

/* Resolves the real libc functions (constructor, single-threaded). */
void gcs_hooks_resolve(void);
/* From here on the hooks look for isolates and attach to them. */
void gcs_hooks_enable(void);
void gcs_hooks_disable(void);
bool gcs_hooks_enabled(void);
/* This thread's own calls are forwarded, never counted (gcstats' writer). */
void gcs_hooks_quiet_thread(void);

struct gcs_detect_config;
/* The leak detector's settings (constructor, before enable). */
void gcs_hooks_set_detect_config(const struct gcs_detect_config *c);

struct gcs_probe_config;
/* When to ask V8 for a full GC (constructor, before enable); never, if
 * not set. */
void gcs_hooks_set_probe_config(const struct gcs_probe_config *c);

/* Thread-exit bookkeeping for Worker isolates (constructor). */
void gcs_hooks_init_thread_key(void);

#endif
