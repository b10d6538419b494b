/* V8's sampling heap profiler, through its exported public API:
 * Isolate::GetHeapProfiler, HeapProfiler::StartSamplingHeapProfiler,
 * GetAllocationProfile and StopSamplingHeapProfiler, and the strings of
 * the profile's nodes read with String::WriteUtf8 (WriteUtf8V2 from V8 13).
 *
 * Every function but the binding calls V8: only on the isolate's own
 * thread, inside an interrupt (V8 runs those only while the isolate runs
 * JavaScript, and opens a HandleScope around each, which holds the
 * profile's Local<String>s until the interrupt returns). Never in a GC
 * callback: reading a profile allocates inside V8. */
#ifndef GCSTATS_V8PROFILE_H
#define GCSTATS_V8PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "culprits.h"
#include "heapprofile.h"

/* Resolves the symbols (after gcs_v8_bind). False, with *why saying what
 * in words, when the profiler cannot be used: a symbol missing, a V8
 * major whose AllocationProfile layout gcstats does not know, or a C++
 * library whose std::vector it does not read (libc++). */
bool gcs_v8_profiler_bind(const char **why);
bool gcs_v8_profiler_bound(void);

/* Starts sampling, one sample per `interval_bytes` allocated on average,
 * stacks up to GCS_PROFILE_STACK_DEPTH frames. False if V8 refused: it
 * samples already for someone else (the inspector, --heap-prof); then
 * gcstats must neither read nor stop it. */
bool gcs_v8_profiler_start(void *isolate, uint64_t interval_bytes);
void gcs_v8_profiler_stop(void *isolate);

/* The sampler must be stopped before V8 disposes the isolate: V8 13.6
 * (Node 24) deletes its samples' global handles after the isolate's global
 * handles are gone and crashes (SIGSEGV in GlobalHandles::Destroy at a
 * normal exit, seen here). node::AddEnvironmentCleanupHook runs hook(arg)
 * on the isolate's thread when node frees the environment (a normal end of
 * the main thread or of a Worker), before the isolate is disposed.
 * process.exit() never disposes the isolate. False if this thread has no
 * current node environment now (then nothing was added: try later). Add
 * one hook per isolate: node aborts on the same hook and arg twice. */
bool gcs_v8_profiler_stop_at_cleanup(void *isolate, void (*hook)(void *arg), void *arg);

#define GCS_PROFILE_STACK_DEPTH 32
/* The most profile nodes read per profile, and samples looked at: a
 * bound on the pause. */
#define GCS_PROFILE_MAX_NODES 4096
#define GCS_PROFILE_MAX_SAMPLES 65536

struct gcs_profile_reading {
    uint32_t nodes;        /* nodes read */
    bool cut;              /* the profile had more (or deeper) nodes than are read */
};

/* Reads the live samples of the sampler gcstats started into t (which it
 * initializes; the held ones as they are after `sampled_ms` of sampling:
 * culprits.h), and, unless copy is NULL, the tree into copy (which it
 * resets; bounded: see heapprofile.h), and deletes V8's profile. False if V8 has no profile (the
 * sampler was stopped by someone else) or its layout did not look right
 * (then nothing more is read from it). One reading at a time in the
 * process (it uses a static working area): the caller serializes. */
bool gcs_v8_profiler_read(void *isolate, uint64_t interval_bytes, int64_t sampled_ms, struct gcs_culprit_table *t,
                          struct gcs_heapprofile *copy, struct gcs_profile_reading *out);

#endif
