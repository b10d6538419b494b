#include "isolate_thread.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "lines.h"
#include "mapped_series.h"
#include "memmap.h"
#include "output.h"
#include "probe.h"
#include "registry.h"
#include "v8api.h"
#include "watch.h"
#include "window.h"

static struct gcs_detect_config detect_config;
static struct gcs_probe_config probe_config;   /* every_ms 0 until set: never asks */
static _Atomic uint32_t next_worker_number = 2;
static _Atomic bool node_version_read;
/* The memory mapped outside V8, per process: the main isolate's thread's. */
static struct gcs_mapped_series mapped_series;

void gcs_isolate_set_detect_config(const struct gcs_detect_config *c) { detect_config = *c; }
void gcs_isolate_set_probe_config(const struct gcs_probe_config *c) { probe_config = *c; }

static pid_t this_thread(void) { return (pid_t)syscall(SYS_gettid); }

/* The detector runs on the monotonic clock (the wall clock may jump);
 * the lines show wall-clock times. */
static void publish_verdict(struct gcs_series_verdict *out, const struct gcs_detector *d, int64_t wall_minus_mono)
{
    out->state = d->state;
    out->a = d->last;
    out->a.from_ms += wall_minus_mono;
    out->a.to_ms += wall_minus_mono;
    out->since_ms = d->state_since_ms + wall_minus_mono;
    out->onset_rate = d->onset_rate;
    out->reports = d->reports;
}

/* ---- GC callbacks: inside the GC ---------------------------------------- */

/* Every series the detector judges in this isolate says "ok": the probe
 * may then wait long (probe.h). */
static bool settled(const struct gcs_isolate *s)
{
    bool judge_mapped = atomic_load(&s->number) == 1 && gcs_memmap_enabled();
    for (int m = 0; m < GCS_MEM_COUNT; m++) {
        if (m == GCS_MEM_MAPPED && !judge_mapped)
            continue;
        if (s->detectors[m].state != GCS_STATE_OK)
            return false;
    }
    return true;
}

/* The first reading of an isolate's heap statistics is checked: a layout
 * that changed within a V8 major would read other fields than it names.
 * If it cannot be right, gcstats says so once and goes quiet in the whole
 * process. */
static bool heap_plausible(struct gcs_isolate *s, const struct gcs_heap_stats *h)
{
    s->heap_checked = true;
    const char *why = gcs_heap_stats_implausible(h);
    if (why == NULL)
        return true;
    gcs_watch_disable();
    char text[GCS_TEXT_MAX];
    snprintf(text, sizeof text,
             "V8 %.40s gave heap statistics that cannot be right (%.80s): its layout is not the one "
             "gcstats knows for V8 %d; gcstats goes quiet in this process",
             gcs_v8.version != NULL ? gcs_v8.version : "?", why, gcs_v8.v.major);
    struct gcs_record r;
    gcs_error_record(&r, gcs_wall_ms(), atomic_load(&s->number), text);
    gcs_output_submit(&r);
    return false;
}

/* The kind of this GC if gcstats counts it: not once it went quiet (or
 * in a fork child), and not for an isolate that no longer owns the slot. */
static int counted_kind(const struct gcs_isolate *s, void *isolate, int gc_type)
{
    int kind = gcs_gc_kind_of(gc_type);
    if (kind == GCS_KIND_NONE || !gcs_watch_enabled() ||
        atomic_load_explicit(&s->isolate, memory_order_relaxed) != isolate)
        return GCS_KIND_NONE;
    return kind;
}

static void on_gc_prologue(void *isolate, int gc_type, int flags, void *data)
{
    (void)flags;
    struct gcs_isolate *s = data;
    int kind = counted_kind(s, isolate, gc_type);
    if (kind == GCS_KIND_NONE)
        return;
    uint64_t now = gcs_monotonic_ns();
    s->gc_started_ns[kind] = now;
    /* A full cycle begins: incremental marking, or a mark-compact that
     * no marking preceded. Its whole cost is the probe's measure. */
    if (kind == GCS_KIND_INCREMENTAL || (kind == GCS_KIND_MARK_COMPACT && !s->incremental_cycle_open))
        gcs_probe_cycle_start(&s->probe, (int64_t)(now / 1000000u), gcs_process_cpu_ns());
    s->own.gc.callbacks++;
    s->own.gc.callback_ns += gcs_monotonic_ns() - now;
}

static void on_gc_epilogue(void *isolate, int gc_type, int flags, void *data)
{
    struct gcs_isolate *s = data;
    int kind = counted_kind(s, isolate, gc_type);
    if (kind == GCS_KIND_NONE)
        return;
    uint64_t now = gcs_monotonic_ns();
    uint64_t pause = s->gc_started_ns[kind] ? now - s->gc_started_ns[kind] : 0;
    s->gc_started_ns[kind] = 0;

    struct gcs_snapshot *own = &s->own;
    own->gc.pause_ns[kind] += pause;
    if (kind == GCS_KIND_INCREMENTAL) {
        /* V8 10 calls back at the start and at the end of a marking cycle,
         * later versions once: count cycles, which end at a mark-compact. */
        if (!s->incremental_cycle_open) {
            own->gc.count[kind]++;
            s->incremental_cycle_open = true;
        }
    } else {
        own->gc.count[kind]++;
    }

    bool full = kind == GCS_KIND_MARK_COMPACT;
    enum gcs_detect_event events[GCS_MEM_COUNT] = { GCS_DETECT_NONE };
    unsigned grown_owner = 0;
    struct gcs_mapped mapped;   /* one reading for the detector and the lines */
    bool answered_probe = false;
    if (full) {
        gcs_memmap_read(&mapped);
        s->incremental_cycle_open = false;
        /* Right after a mark-compact the heap holds only what is live:
         * the most stable reading a JavaScript program has. */
        own->have_heap = gcs_v8_heap_stats(isolate, &own->heap);
        if (own->have_heap && !s->heap_checked && !heap_plausible(s, &own->heap))
            return;
        if (own->have_heap) {
            int64_t wall = gcs_wall_ms();
            int64_t mono = (int64_t)(now / 1000000u);
            gcs_windows_add(&s->windows, own->heap.used, wall);
            gcs_windows_summarize(&s->windows, &own->summary);
            /* Mapped memory is the process's, not the isolate's: the
             * main isolate judges it. */
            bool judge_mapped = atomic_load(&s->number) == 1 && gcs_memmap_enabled();
            const uint64_t series[GCS_MEM_COUNT] = {
                own->heap.used, own->heap.external, judge_mapped ? gcs_mapped_series_add(&mapped_series, &mapped, mono) : 0,
            };
            for (int m = 0; m < GCS_MEM_COUNT; m++) {
                if (m == GCS_MEM_MAPPED && !judge_mapped)
                    continue;
                events[m] = gcs_detector_add(&s->detectors[m], &detect_config, mono, series[m]);
                publish_verdict(&own->verdict.series[m], &s->detectors[m], wall - mono);
            }
            if (events[GCS_MEM_MAPPED] == GCS_DETECT_LEAK)
                grown_owner = gcs_mapped_series_grown_owner(&mapped_series, s->detectors[GCS_MEM_MAPPED].last.from_ms);
        }
        gcs_probe_set_settled(&s->probe, settled(s));
        answered_probe = gcs_probe_full_gc(&s->probe, &probe_config, (int64_t)(now / 1000000u),
                                           gcs_process_cpu_ns(), own->have_heap ? own->heap.used : 0);
    }
    gcs_snapshot_publish(s);

    if (full && own->have_heap) {
        struct gcs_record r;
        gcs_snapshot_record(&r, GCS_EV_STATS, atomic_load(&s->number), own);
        r.mapped = mapped;
        r.pause_ns = pause;
        r.forced = (flags & GCS_GC_FLAG_FORCED) != 0;
        r.probe = answered_probe;
        gcs_output_submit(&r);
        for (int m = 0; m < GCS_MEM_COUNT; m++) {
            if (events[m] == GCS_DETECT_NONE)
                continue;
            enum gcs_event ev = events[m] == GCS_DETECT_LEAK ? GCS_EV_LEAK : GCS_EV_LEAK_END;
            gcs_snapshot_record(&r, ev, atomic_load(&s->number), own);
            r.mapped = mapped;
            r.memory = (enum gcs_memory)m;
            r.mapped_owner = grown_owner;
            gcs_output_submit(&r);
        }
    }
    /* Counted for the next publication: the cost of this very callback
     * cannot be in the numbers it publishes. */
    own->gc.callbacks++;
    own->gc.callback_ns += gcs_monotonic_ns() - now;
}

/* ---- Attaching: in an interrupt ----------------------------------------- */

static void attach_here(struct gcs_isolate *s, void *isolate)
{
    if (!gcs_registry_begin_attach(s, isolate))
        return;
    pid_t tid = this_thread();
    bool main_thread = tid == getpid();
    s->tid = tid;
    gcs_windows_init(&s->windows);
    for (int m = 0; m < GCS_MEM_COUNT; m++)
        gcs_detector_init(&s->detectors[m]);
    memset(&s->own, 0, sizeof s->own);
    memset(s->gc_started_ns, 0, sizeof s->gc_started_ns);
    s->incremental_cycle_open = false;
    s->probe_interrupt_pending = false;
    s->heap_checked = false;
    /* The loop this isolate's environment runs: polls of other loops on
     * this thread (the tracing agent's at exit, spawnSync's) ask nothing.
     * A Worker whose environment is not current yet learns it at its
     * thread's first poll. */
    s->loop_fd = gcs_v8_event_loop_fd(isolate, main_thread);
    gcs_probe_init(&s->probe, &probe_config, gcs_monotonic_ms(),
                   gcs_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)tid);
    gcs_probe_start_clock(&s->probe, gcs_monotonic_ms(), gcs_process_cpu_ns());
    gcs_snapshot_publish(s);
    uint32_t number = main_thread ? 1 : atomic_fetch_add(&next_worker_number, 1);

    if (!atomic_exchange(&node_version_read, true))
        gcs_v8_read_node_version();
    gcs_v8_add_gc_callbacks(isolate, on_gc_prologue, on_gc_epilogue, s);
    uintptr_t code_start;
    size_t code_len;
    if (gcs_v8_code_range(isolate, &code_start, &code_len))
        gcs_memmap_add_code_range(s, code_start, code_len);
    if (!main_thread)
        gcs_watch_thread_owns(s);
    gcs_registry_finish_attach(s, number);

    struct gcs_record r;
    /* The writer thread starts with the first isolate: here V8 may
     * allocate, and node made its own threads already. */
    static _Atomic bool said_no_writer;
    if (!gcs_output_start() && !atomic_exchange(&said_no_writer, true)) {
        gcs_error_record(&r, gcs_wall_ms(), number,
                         "could not start gcstats' output thread: lines are written only at exit");
        gcs_output_submit(&r);
    }
    gcs_snapshot_record(&r, GCS_EV_START, atomic_load(&s->number), &s->own);
    r.main_thread = main_thread;
    r.v8_isolate = (uint64_t)(uintptr_t)isolate;
    gcs_output_submit(&r);
}

void gcs_isolate_attach_interrupt(void *isolate, void *slot)
{
    struct gcs_isolate *s = slot;
    if (gcs_watch_enabled() && atomic_load(&s->isolate) == isolate && atomic_load(&s->state) == GCS_SLOT_PENDING)
        attach_here(s, isolate);
}

/* ---- The probe: asked for at the poll, done in an interrupt ------------- */

static void probe_interrupt(void *isolate, void *slot)
{
    struct gcs_isolate *s = slot;
    if (!gcs_watch_enabled() || atomic_load(&s->isolate) != isolate ||
        atomic_load(&s->state) != GCS_SLOT_ATTACHED || s->tid != this_thread())
        return;
    s->probe_interrupt_pending = false;
    /* While V8 is marking, a full GC is on its way already. */
    if (s->incremental_cycle_open)
        return;
    int64_t now_ms = gcs_monotonic_coarse_ms();
    struct gcs_heap_stats heap;
    if (!gcs_v8_heap_stats(isolate, &heap))
        return;
    switch (gcs_probe_decide(&s->probe, &probe_config, now_ms, gcs_process_cpu_ns(), heap.used)) {
    case GCS_PROBE_REQUEST:
        s->own.gc.probes = s->probe.requests;
        gcs_snapshot_publish(s);   /* ticks and the exit line count it now */
        gcs_v8_ask_for_gc(isolate);
        break;
    case GCS_PROBE_GIVE_UP: {
        char why[GCS_TEXT_MAX];
        snprintf(why, sizeof why,
                 "V8 ran no full GC after %u requests for one; gcstats asks no more in this "
                 "isolate (GCSTATS_PROBE)", probe_config.max_misses);
        struct gcs_record r;
        gcs_error_record(&r, gcs_wall_ms(), atomic_load(&s->number), why);
        gcs_output_submit(&r);
        break;
    }
    case GCS_PROBE_WAIT:
        break;
    }
}

void gcs_isolate_poll(struct gcs_isolate *s, int epfd)
{
    if (s->loop_fd < 0)
        s->loop_fd = epfd;
    if (epfd != s->loop_fd || s->probe_interrupt_pending || s->incremental_cycle_open)
        return;
    if (!gcs_probe_time_to_look(&s->probe, &probe_config, gcs_monotonic_coarse_ms()))
        return;
    s->probe_interrupt_pending = true;
    gcs_v8_request_interrupt(atomic_load(&s->isolate), probe_interrupt, s);
}

/* ---- The end of a Worker's thread ---------------------------------------- */

void gcs_isolate_thread_exit(struct gcs_isolate *s)
{
    if (s == NULL || atomic_load(&s->state) != GCS_SLOT_ATTACHED || s->tid != this_thread())
        return;
    if (gcs_watch_enabled()) {
        struct gcs_record r;
        gcs_snapshot_record(&r, GCS_EV_END, atomic_load(&s->number), &s->own);
        gcs_memmap_read(&r.mapped);
        gcs_output_submit(&r);
    }
    gcs_memmap_remove_code_range(s);
    gcs_registry_release(s);
}
