/* Accounting of mapped memory by owner and call site.
 *
 * The interposed mmap, mmap64, mremap, mprotect and munmap report here
 * after the real call succeeded. A mapping's call site is the short stack
 * above the call, unwound with libunwind; each distinct stack is looked up
 * by hash and classified once (which object's code asked: V8, libuv, an
 * allocator, an addon). Intervals inside an isolate's code range count as
 * V8's code space. The writer thread later gives the frames names, which
 * moves sites of node's own binary that are really libuv's.
 *
 * All of it runs with the hooks' re-entry guard held, so a mapping made by
 * libunwind, by the loader or by a signal handler on the same thread is
 * forwarded but not counted. One mutex guards the book; nothing is
 * called while it is held. The GC epilogue never takes it: the totals
 * are read under a sequence count. */
#ifndef GCSTATS_MEMMAP_H
#define GCSTATS_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Constructor, in a node process: from here on mappings are counted. */
void gcs_memmap_enable(void);
/* fork() child, or a setting: counting stops for good. */
void gcs_memmap_disable(void);
bool gcs_memmap_enabled(void);

/* After a successful call; `caller` is the interposer's return address,
 * used when the stack cannot be unwound. */
void gcs_memmap_on_map(uintptr_t addr, size_t len, int prot, const void *caller);
void gcs_memmap_on_unmap(uintptr_t addr, size_t len);
void gcs_memmap_on_protect(uintptr_t addr, size_t len, int prot);
void gcs_memmap_on_remap(uintptr_t old_addr, size_t old_len, uintptr_t new_addr, size_t new_len,
                         bool keep_old);

/* An isolate's code range (at attach, on its thread), and its end. */
void gcs_memmap_add_code_range(const void *key, uintptr_t start, size_t len);
void gcs_memmap_remove_code_range(const void *key);

/* The committed bytes outside V8 (every owner but v8_heap and v8_code),
 * in a reading of gcs_memmap_read(), remembered per owner with the time,
 * for the detector's third series.
 * These two: on the main isolate's thread only. */
uint64_t gcs_memmap_sample_outside(const struct gcs_mapped *now, int64_t mono_ms);
/* The owner whose committed bytes grew most since mono_ms, by the samples
 * above; GCS_OWNER_OTHER if nothing is known. */
unsigned gcs_memmap_grown_owner(int64_t since_mono_ms);

/* Writer thread: give new sites names and better owners. */
void gcs_memmap_refine(void);
/* True once the book ran out of intervals: its numbers stopped changing. */
bool gcs_memmap_book_full(void);
/* The current totals, for the lines; any thread, never waits (have is
 * false if the book kept changing while it was read). */
void gcs_memmap_read(struct gcs_mapped *out);
/* Writer thread: the top sites by committed bytes, named. */
size_t gcs_memmap_top_sites(struct gcs_site_report *out, size_t max);

#endif
