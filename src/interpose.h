/* The libc functions gcstats interposes: mmap, mmap64, munmap, mremap,
 * mprotect and the three epoll waits. They run on any thread of any
 * process that has the library preloaded, node or not, at any stage of
 * its life, before the constructor and after the destructor.
 *
 * Each one forwards to libc first (a raw system call until dlsym has
 * found the real function), then, if gcstats is on, hands what happened
 * to the book of mappings (memmap.h) and to the isolate watch (watch.h),
 * all under a per-thread re-entry guard: whatever those do that maps
 * memory again (libunwind, the loader, an allocator inside V8's
 * RequestInterrupt, another preloaded library that interposes the same
 * functions after this one) is forwarded and nothing else. errno is the
 * real call's. */
#ifndef GCSTATS_INTERPOSE_H
#define GCSTATS_INTERPOSE_H

/* Finds the real libc functions (constructor, single-threaded). */
void gcs_interpose_resolve(void);

/* This thread's calls are forwarded and never counted, for good: the
 * writer thread's own mappings are not the host's. */
void gcs_interpose_quiet_thread(void);

/* Runs fn with this thread's calls forwarded and never counted (the
 * re-entry guard held, if it is not already): gcstats' own work on a host
 * thread that may map memory (libunwind making its frame cache). */
void gcs_interpose_quietly(void (*fn)(void));

#endif
