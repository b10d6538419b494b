/* The book of mapped memory by owner and call site: any thread, under the
 * book's mutex.
 *
 * The interposed mmap, mmap64, mremap, mprotect and munmap report here
 * after the real call succeeded. A mapping's call site is the short stack
 * above the call, unwound with libunwind; each distinct stack is looked up
 * by hash and classified once (which object's code asked: V8, libuv, an
 * allocator, an addon). Intervals inside an isolate's code range count as
 * V8's code space. The writer thread later gives the frames names, which
 * moves sites of node's own binary that are really libuv's
 * (site_names.h); the detector's series is mapped_series.h.
 *
 * The interposers call in with their re-entry guard held (interpose.h), so a mapping made by
 * libunwind, by the loader or by a signal handler on the same thread is
 * forwarded but not counted. One mutex guards the book; nothing is
 * called while it is held. The GC epilogue never takes it: the totals
 * are read from a latch that each holder publishes (memmap.c). */
#ifndef GCSTATS_MEMMAP_H
#define GCSTATS_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "sites.h"

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

/* True once the book ran out of intervals: its numbers stopped changing. */
bool gcs_memmap_book_full(void);
/* The current totals, for the lines and the detector; any thread, never
 * waits (have is false if the book kept changing while it was read). */
void gcs_memmap_read(struct gcs_mapped *out);

/* For the writer thread (site_names.c), which names sites and measures
 * them without holding the lock longer than a copy. */
uint32_t gcs_memmap_site_count(void);
/* A site's frames never change once it is in the table; its owner may,
 * under the lock: read owners from gcs_memmap_copy. */
const struct gcs_site *gcs_memmap_site(uint32_t idx);
/* The site's owner, refined by its frames' function names. */
void gcs_memmap_refine_owner(uint32_t idx, const char *const *names, int n);
/* Copies, under the lock, the live intervals (at most max_spans), the
 * per-site usage, and the first `count` sites. Returns the intervals. */
size_t gcs_memmap_copy(struct gcs_map_node *spans, size_t max_spans, struct gcs_usage *usage,
                       struct gcs_site *sites_copy, uint32_t count);
const char *gcs_memmap_owner_name(unsigned owner);

#endif
