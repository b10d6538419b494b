/* Binding to V8's exported public C++ API by symbol name.
 *
 * Official node binaries call V8 directly, so nothing in V8 can be
 * interposed; but the public API is in the dynamic symbol table, and an
 * Itanium C++ member function is a C function whose first argument is
 * `this`. Every function here is a thin typed call through a pointer that
 * gcs_v8_bind() resolved. */
#ifndef GCSTATS_V8API_H
#define GCSTATS_V8API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "v8layout.h"

typedef void (*gcs_gc_callback)(void *isolate, int gc_type, int gc_flags, void *data);
typedef void (*gcs_interrupt_callback)(void *isolate, void *data);

struct gcs_v8 {
    bool bound;                      /* every needed symbol resolved */
    const char *version;             /* V8::GetVersion() */
    struct gcs_v8_version v;
    char node_version[32];           /* read once the process runs; "" if unknown */
};

extern struct gcs_v8 gcs_v8;

/* Resolves the symbols. False in a process without V8 (`missing` NULL,
 * no side effect), or with a V8 that lacks one of them (`missing` names
 * the first, gcs_v8.version says which V8 it is). */
bool gcs_v8_bind(const char **missing);

/* True if code at addr belongs to the object (executable or shared
 * library) that holds V8: node's own code, not an allocator's. */
bool gcs_v8_owns_code_at(const void *addr);

/* True once the current-isolate lookup is safe to call on any thread
 * (on V8 10 it reads a pthread key that exists only after V8 is set up). */
bool gcs_v8_current_isolate_ready(void);
void *gcs_v8_try_get_current(void);
/* Isolate::RequestInterrupt: thread-safe; V8 calls cb on the isolate's
 * own thread at its next safe point in JavaScript (so never once it has
 * stopped running JavaScript). It takes the isolate's mutex and allocates:
 * not from inside an allocator. */
void gcs_v8_request_interrupt(void *isolate, gcs_interrupt_callback cb, void *data);
/* Isolate::IsInUse: some thread has entered the isolate. False while V8
 * is still creating it or already deleting it (it is current then, but
 * not entered): no request may be made of it then. A field read. */
bool gcs_v8_in_use(void *isolate);
/* The epoll descriptor of the isolate's event loop: libuv's default loop
 * on the main thread (uv_default_loop, uv_backend_fd), the environment's
 * on a Worker's (node::GetCurrentEventLoop, which needs the environment's
 * context to be current and creates a handle scope: call it in an
 * interrupt on that thread). -1 if unknown. */
int gcs_v8_event_loop_fd(void *isolate, bool main_thread);
void gcs_v8_add_gc_callbacks(void *isolate, gcs_gc_callback prologue, gcs_gc_callback epilogue, void *data);
bool gcs_v8_heap_stats(void *isolate, struct gcs_heap_stats *out);
/* Isolate::GetCodeRange: where this isolate's generated code lives (a
 * reservation V8 made at start-up). False if there is none or the symbol
 * is missing. On the isolate's own thread. */
bool gcs_v8_code_range(void *isolate, uintptr_t *start, size_t *length);

/* Isolate::MeasureMemory(kEager) of no context: V8 posts a task to the
 * isolate's own thread that starts incremental marking (a plain one, as
 * when V8 starts it itself), which ends in a full mark-compact. On the
 * isolate's own thread, in an interrupt (so never once node has begun to
 * tear the isolate down), never inside a GC. can_ask is false if the
 * symbol is missing or the delegate's layout is not known for this V8. */
bool gcs_v8_can_ask_for_gc(void);
void gcs_v8_ask_for_gc(void *isolate);

/* Reads node's own version out of node::per_process::metadata, once node's
 * static constructors have run. Leaves node_version empty if it cannot be
 * read safely. Call from a JavaScript thread after start-up. */
void gcs_v8_read_node_version(void);

#endif
