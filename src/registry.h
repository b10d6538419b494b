/* The table of isolates gcstats has seen: one fixed slot per live isolate,
 * no allocation. Isolates are found by address from any thread (V8's
 * helper threads have a current isolate too); a slot is attached only on
 * the isolate's own thread, and released when that thread exits, because
 * a later Worker's isolate may get the same address. */
#ifndef GCSTATS_REGISTRY_H
#define GCSTATS_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "culprits.h"
#include "model.h"
#include "probe.h"
#include "verdict.h"
#include "window.h"

#define GCS_MAX_ISOLATES 128

enum gcs_slot_state {
    GCS_SLOT_FREE,
    GCS_SLOT_PENDING,     /* seen; an interrupt to attach it may be on its way */
    GCS_SLOT_ATTACHING,   /* its own thread is adding the GC callbacks */
    GCS_SLOT_ATTACHED,
};

/* What other threads (ticks, exit) may read of an isolate, published by
 * its own thread under a sequence lock. */
struct gcs_snapshot {
    struct gcs_gc_counts gc;
    struct gcs_summary summary;
    struct gcs_verdict verdict;
    bool have_heap;
    struct gcs_heap_stats heap;
};

struct gcs_isolate {
    _Atomic(void *) isolate;
    _Atomic int state;
    _Atomic int64_t last_request_ms;   /* monotonic; rate-limits interrupt requests */
    _Atomic uint32_t number;           /* 1 main, 2.. Workers; 0 until attached */
    pid_t tid;                         /* the isolate's own thread */

    /* Touched only by the isolate's own thread (isolate_thread.c). */
    int loop_fd;                       /* its event loop's epoll descriptor; -1 unknown */
    bool probe_interrupt_pending;      /* asked V8 for the probe's interrupt, not run yet */
    bool heap_checked;                 /* its first heap statistics were found plausible */
    struct gcs_windows windows;
    struct gcs_detector detectors[GCS_MEM_COUNT];
    uint64_t gc_started_ns[GCS_KIND_COUNT];
    bool incremental_cycle_open;
    struct gcs_probe probe;            /* when to ask V8 for a full GC */
    struct gcs_snapshot own;           /* the working copy */
    /* V8's sampling heap profiler in this isolate (culprits.h). */
    bool sampler_wanted;               /* decided in the GC epilogue */
    bool sampler_on;                   /* gcstats started it (and so may read and stop it) */
    bool sampler_hooked;               /* node stops it at the environment's cleanup */
    bool sampler_closed;               /* that cleanup ran: never again here */
    bool culprits_due;                 /* a heap leak line owes a culprits line */
    bool culprits_interrupt_pending;
    uint32_t culprits_report;          /* the leak report it goes with */
    uint32_t culprits_tries;           /* readings that found too few samples for it */
    uint64_t culprits_first_samples;   /* samples the first of them found */
    int64_t culprits_next_ms;          /* monotonic: not before this (a retry for more samples) */
    int64_t sampler_since_ms;          /* wall clock: when the sampler started */
    int64_t sampler_since_mono_ms;     /* the same, monotonic: how long it has sampled */
    int64_t culprits_previous_ms;      /* wall clock: the previous culprits line; 0 none */
    struct gcs_culprit_memory culprit_memory;

    _Atomic uint32_t seq;              /* odd while `published` is being written */
    struct gcs_snapshot published;
};

struct gcs_isolate *gcs_registry_lookup(void *isolate);
/* Finds or creates the slot for isolate, PENDING if new. NULL when the
 * table is full (*full set) or another thread is claiming right now (try
 * again later: this never waits, so it is safe inside an interposed mmap). */
struct gcs_isolate *gcs_registry_claim(void *isolate, int64_t now_ms, bool *full);
/* PENDING -> ATTACHING for this isolate; false if someone else got it. */
bool gcs_registry_begin_attach(struct gcs_isolate *s, void *isolate);
void gcs_registry_finish_attach(struct gcs_isolate *s, uint32_t number);
void gcs_registry_release(struct gcs_isolate *s);
/* True once any isolate was attached in this process (a start line was
 * made): only then is an exit line due. */
bool gcs_registry_ever_attached(void);
/* Bumped at every release, so threads that cached "this isolate is known"
 * look again. */
uint64_t gcs_registry_generation(void);

void gcs_snapshot_publish(struct gcs_isolate *s);
/* A record of event ev for isolate number `isolate`, stamped now,
 * carrying snap's counters, statistics, verdict and heap; every other
 * field zero. */
void gcs_snapshot_record(struct gcs_record *r, enum gcs_event ev, uint32_t isolate,
                         const struct gcs_snapshot *snap);
/* A consistent copy of what s's thread published last. False if that
 * thread kept it busy for ~1000 tries (yielding between): then *out is not
 * usable, and nothing must be made of it. Never blocks. */
bool gcs_snapshot_read(struct gcs_isolate *s, struct gcs_snapshot *out);

/* Calls fn for every attached isolate. */
void gcs_registry_each_attached(void (*fn)(struct gcs_isolate *s, void *ctx), void *ctx);
struct gcs_isolate *gcs_registry_find_number(uint32_t number);
/* After fork(): the child has none of the parent's threads. */
void gcs_registry_reset(void);

#endif
