#include "isolate_thread.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "culprits.h"
#include "heapprofile.h"
#include "interpose.h"
#include "lines.h"
#include "mapped_series.h"
#include "memmap.h"
#include "output.h"
#include "probe.h"
#include "profile_dir.h"
#include "registry.h"
#include "stackwalk.h"
#include "v8api.h"
#include "v8profile.h"
#include "watch.h"
#include "window.h"

static struct gcs_detect_config detect_config;
static struct gcs_probe_config probe_config;   /* every_ms 0 until set: never asks */
static _Atomic uint32_t next_worker_number = 2;
static _Atomic bool node_version_read;
/* The memory mapped outside V8, per process: the main isolate's thread's. */
static struct gcs_mapped_series mapped_series;

/* The sampling heap profiler's settings, and the lines it owes. */
static enum gcs_culprits_mode culprits_mode = GCS_CULPRITS_OFF;
static uint64_t culprits_interval;
static struct gcs_culprits_auto culprits_auto;
static struct gcs_culprit_channel culprits_channel;
static struct gcs_culprit_table culprits_table;      /* one reading at a time in the process */
static atomic_flag culprits_table_busy = ATOMIC_FLAG_INIT;
/* The whole tree for a .heapprofile file (GCSTATS_PROFILE_DIR): one copy,
 * prepared here rather than allocated on a JavaScript thread. Taken by a
 * reading (under culprits_table_busy) and held until the writer thread has
 * written the file; a line made while it is held gets no file. */
static struct gcs_heapprofile profile_copy;
static atomic_flag profile_copy_busy = ATOMIC_FLAG_INIT;

void gcs_isolate_set_detect_config(const struct gcs_detect_config *c) { detect_config = *c; }
void gcs_isolate_set_probe_config(const struct gcs_probe_config *c) { probe_config = *c; }

void gcs_isolate_set_culprits_config(int mode, uint64_t interval_bytes, const struct gcs_detect_config *detect)
{
    culprits_mode = (enum gcs_culprits_mode)mode;
    culprits_interval = interval_bytes;
    /* A first sign, not a verdict: the recent samples' mean 1% above the
     * long window's, and a quarter of the least growth the detector
     * reports already there. */
    culprits_auto.min_trend_pct = 1.0;
    culprits_auto.min_rise_bytes = detect->min_growth_bytes / 4;
    culprits_auto.max_gap_ms = gcs_culprits_max_gap_ms(detect->min_span_ms, detect->max_window_ms, detect->min_points);
}

bool gcs_isolate_take_culprits(int slot, struct gcs_culprits *out)
{
    if (!gcs_culprit_channel_take(&culprits_channel, slot, out))
        return false;
    out->profile_path[0] = '\0';
    if (out->with_profile) {
        if (!gcs_profile_dir_write(&profile_copy, out->ts_ms, out->isolate, out->profile_path,
                                   sizeof out->profile_path))
            out->profile_path[0] = '\0';
        atomic_flag_clear(&profile_copy_busy);
    }
    return true;
}

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

/* Every series the detector judges in this isolate says "ok", and not
 * only for want of evidence: the probe may then wait long (probe.h). */
static bool settled(const struct gcs_isolate *s)
{
    bool judge_mapped = atomic_load(&s->number) == 1 && gcs_memmap_enabled();
    for (int m = 0; m < GCS_MEM_COUNT; m++) {
        if (m == GCS_MEM_MAPPED && !judge_mapped)
            continue;
        if (s->detectors[m].state != GCS_STATE_OK ||
            gcs_assessment_undecided(&s->detectors[m].last, &detect_config))
            return false;
    }
    return true;
}

/* Whether V8's sampling heap profiler should run in this isolate, after a
 * full GC: the V8 calls that start, read and stop it are made later, in
 * an interrupt asked for at the loop's poll. In auto mode it runs from the
 * first sign of heap growth while the detector cannot judge yet, and
 * then while the heap is "growing" or a "leak"; while the verdict is
 * "unknown", the poll may stop it too (stop_sampler_without_samples). */
static void decide_sampler(struct gcs_isolate *s, enum gcs_detect_event heap_event)
{
    if (culprits_mode == GCS_CULPRITS_OFF || !gcs_v8_profiler_bound())
        return;
    const struct gcs_detector *d = &s->detectors[GCS_MEM_HEAP];
    const struct gcs_summary *sum = &s->own.summary;
    if (culprits_mode == GCS_CULPRITS_ALWAYS)
        s->sampler_wanted = true;
    else if (d->state == GCS_STATE_UNKNOWN)
        s->sampler_wanted = s->sampler_wanted ||
                            gcs_culprits_growth_seen(&culprits_auto, sum->usage_trend, sum->current_base,
                                                     sum->min.bytes, sum->samples);
    else
        s->sampler_wanted = d->state == GCS_STATE_GROWING || d->state == GCS_STATE_LEAK;
    if (heap_event == GCS_DETECT_LEAK) {
        s->sampler_wanted = true;
        s->culprits_due = true;
        s->culprits_report = d->reports;
        s->culprits_tries = 0;
    }
    /* A profile read right after a full GC holds only what is live: V8
     * drops a sample when its object is collected, and between full GCs
     * the old generation's garbage still counts. */
    if (s->culprits_due)
        s->culprits_next_ms = 0;
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

/* The writer thread starts when an attached isolate's thread first waits
 * (a poll that may block) or ends a GC, not at the attach (output.c says
 * why): both are on that thread, where V8 lets it allocate and no
 * allocator's lock is held. The poll is inside the epoll interposer,
 * before the wait: mappings made meanwhile (pthread_create's are glibc's
 * own, not interposed) pass uncounted under its re-entry guard. There
 * too, once libunwind is loaded, what this thread's cached walk needs is
 * allocated (stackwalk.c): an isolate's thread is where most mappings are
 * made, and a CPU-bound one may never wait. */
static void at_safe_point(const struct gcs_isolate *s)
{
    gcs_interpose_quietly(gcs_stack_walk_at_safe_point);
    if (gcs_output_start())
        return;
    struct gcs_record r;
    gcs_error_record(&r, gcs_wall_ms(), atomic_load(&s->number),
                     "could not start gcstats' output thread: lines are written only at exit");
    gcs_output_submit(&r);
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
    uint64_t probe_cpu_ns = 0;   /* what this cycle cost the probe */
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
            decide_sampler(s, events[GCS_MEM_HEAP]);
            if (events[GCS_MEM_MAPPED] == GCS_DETECT_LEAK)
                grown_owner = gcs_mapped_series_grown_owner(&mapped_series, s->detectors[GCS_MEM_MAPPED].last.from_ms);
        }
        gcs_probe_set_settled(&s->probe, settled(s));
        uint64_t asked_before = s->probe.asked_cost_ns;
        answered_probe = gcs_probe_full_gc(&s->probe, &probe_config, (int64_t)(now / 1000000u),
                                           gcs_process_cpu_ns(), own->have_heap ? own->heap.used : 0);
        probe_cpu_ns = s->probe.asked_cost_ns - asked_before;
        own->gc.probe_cpu_ns = s->probe.asked_cost_ns;
    }
    gcs_snapshot_publish(s);

    if (full && own->have_heap) {
        struct gcs_record r;
        gcs_snapshot_record(&r, GCS_EV_STATS, atomic_load(&s->number), own);
        r.mapped = mapped;
        r.pause_ns = pause;
        r.forced = (flags & GCS_GC_FLAG_FORCED) != 0;
        r.probe = answered_probe;
        r.probe_cpu_ns = probe_cpu_ns;
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
    at_safe_point(s);
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
    s->sampler_wanted = culprits_mode == GCS_CULPRITS_ALWAYS && gcs_v8_profiler_bound();
    s->sampler_on = s->culprits_due = s->culprits_interrupt_pending = false;
    s->sampler_hooked = s->sampler_closed = false;
    s->culprits_next_ms = 0;
    s->culprits_previous_ms = 0;
    s->culprit_memory.have = false;
    /* The loop this isolate's environment runs: polls of other loops on
     * this thread (the tracing agent's at exit, spawnSync's) ask nothing.
     * A Worker whose environment is not current yet learns it at its
     * thread's first poll. */
    s->loop_fd = gcs_v8_event_loop_fd(isolate, main_thread);
    gcs_probe_init(&s->probe, &probe_config, gcs_monotonic_ms(),
                   gcs_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)tid);
    gcs_probe_start_clock(&s->probe, gcs_monotonic_ms(), gcs_process_cpu_ns());
    struct gcs_heap_stats heap;
    if (gcs_v8_heap_stats(isolate, &heap))
        gcs_probe_set_heap_limit(&s->probe, heap.limit);
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
    gcs_snapshot_record(&r, GCS_EV_START, atomic_load(&s->number), &s->own);
    r.main_thread = main_thread;
    r.v8_isolate = (uint64_t)(uintptr_t)isolate;
    r.probing = gcs_probe_may_ask(&s->probe, &probe_config);
    gcs_output_submit(&r);
}

void gcs_isolate_attach_interrupt(void *isolate, void *slot)
{
    struct gcs_isolate *s = slot;
    if (gcs_watch_enabled() && atomic_load(&s->isolate) == isolate && atomic_load(&s->state) == GCS_SLOT_PENDING)
        attach_here(s, isolate);
}

/* ---- The probe: asked for at the poll, done in an interrupt ------------- */

/* An interrupt asked for this slot runs for the isolate attached there,
 * on its own thread, while gcstats still watches. */
static bool interrupt_still_ours(const struct gcs_isolate *s, void *isolate)
{
    return gcs_watch_enabled() && atomic_load(&s->isolate) == isolate &&
           atomic_load(&s->state) == GCS_SLOT_ATTACHED && s->tid == this_thread();
}

static void probe_interrupt(void *isolate, void *slot)
{
    struct gcs_isolate *s = slot;
    if (!interrupt_still_ours(s, isolate))
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

/* ---- Culprits: the sampler started, read and stopped in an interrupt ----- */

/* Samples a culprits line wants before it is made; a leak line's is put off
 * while fewer were taken, to after each of the next CULPRITS_TRIES full GCs. */
#define CULPRITS_MIN_SAMPLES 10
#define CULPRITS_TRIES 30
/* When node has no environment current yet to add the cleanup hook to. */
#define CULPRITS_RETRY_MS 2000
/* After V8 refused to start the sampler (it samples for someone else). */
#define CULPRITS_REFUSED_BACKOFF_MS 60000

static void make_culprits(struct gcs_isolate *s, void *isolate, int64_t now_ms)
{
    if (atomic_flag_test_and_set(&culprits_table_busy)) {
        s->culprits_next_ms = now_ms + 100;   /* another isolate reads: soon again */
        return;
    }
    struct gcs_profile_reading reading;
    uint64_t began_ns = gcs_monotonic_ns();
    struct gcs_heapprofile *copy = NULL;
    if (gcs_profile_dir_enabled() && !atomic_flag_test_and_set(&profile_copy_busy))
        copy = &profile_copy;
    int64_t sampled_ms = gcs_monotonic_ms() - s->sampler_since_mono_ms;
    bool read = gcs_v8_profiler_read(isolate, culprits_interval, sampled_ms, &culprits_table, copy, &reading);
    bool copy_handed_over = false;
    if (read && s->culprits_tries == 0)
        s->culprits_first_samples = culprits_table.total_samples;
    if (!read) {
        /* No profile: someone else stopped the sampler. */
        s->sampler_on = false;
        s->own.gc.sampler_stops++;
        s->culprits_due = false;
    } else if (culprits_table.total_samples < CULPRITS_MIN_SAMPLES && ++s->culprits_tries < CULPRITS_TRIES) {
        s->culprits_next_ms = INT64_MAX;   /* again after the next full GC */
    } else {
        s->culprits_due = false;
        int slot = gcs_culprit_channel_claim(&culprits_channel);
        if (slot < 0) {
            gcs_output_count_dropped(1);
        } else {
            struct gcs_culprits *c = &culprits_channel.slot[slot];
            c->isolate = atomic_load(&s->number);
            c->ts_ms = gcs_wall_ms();
            c->since_ms = s->sampler_since_ms;
            c->held_after_ms = gcs_culprit_held_after_ms(sampled_ms);
            c->report = s->culprits_report;
            c->samples_at_leak = s->culprits_first_samples;
            c->interval_bytes = culprits_interval;
            c->nodes = reading.nodes;
            c->cut = reading.cut;
            c->have_previous = s->culprits_previous_ms != 0;
            c->previous_ms = s->culprits_previous_ms;
            c->with_profile = copy != NULL;
            /* cut by the reader (nodes, depth) or by the copy's own bounds */
            c->profile_cut = copy != NULL && (copy->cut || reading.cut);
            gcs_culprits_rank(&culprits_table, &s->culprit_memory, c);
            c->read_ns = gcs_monotonic_ns() - began_ns;
            s->culprits_previous_ms = c->ts_ms;
            gcs_culprit_channel_ready(&culprits_channel, slot);
            struct gcs_record r;
            memset(&r, 0, sizeof r);
            r.event = GCS_EV_CULPRITS;
            r.ts_ms = c->ts_ms;
            r.isolate = c->isolate;
            r.culprits_slot = slot;
            if (gcs_output_submit(&r))
                copy_handed_over = copy != NULL;   /* the writer thread frees it */
            else
                gcs_culprit_channel_release(&culprits_channel, slot);
        }
    }
    if (copy != NULL && !copy_handed_over)
        atomic_flag_clear(&profile_copy_busy);
    atomic_flag_clear(&culprits_table_busy);
}

static void stop_sampler(struct gcs_isolate *s, void *isolate)
{
    gcs_v8_profiler_stop(isolate);
    s->sampler_on = false;
    s->own.gc.sampler_stops++;
    gcs_snapshot_publish(s);
}

/* node frees this isolate's environment (its thread, before V8 disposes
 * the isolate): the sampler stops here, for good. */
static void culprits_cleanup(void *slot)
{
    struct gcs_isolate *s = slot;
    if (atomic_load(&s->state) != GCS_SLOT_ATTACHED || s->tid != this_thread())
        return;
    s->sampler_closed = true;
    s->sampler_wanted = s->culprits_due = false;
    if (s->sampler_on)
        stop_sampler(s, atomic_load(&s->isolate));
}

static void culprits_interrupt(void *isolate, void *slot)
{
    struct gcs_isolate *s = slot;
    if (!interrupt_still_ours(s, isolate))
        return;
    s->culprits_interrupt_pending = false;
    int64_t now_ms = gcs_monotonic_coarse_ms();
    if (s->sampler_closed)
        return;
    if (s->sampler_wanted && !s->sampler_on) {
        if (!s->sampler_hooked) {
            if (!gcs_v8_profiler_stop_at_cleanup(isolate, culprits_cleanup, s)) {
                s->culprits_next_ms = now_ms + CULPRITS_RETRY_MS;
                return;
            }
            s->sampler_hooked = true;
        }
        if (!gcs_v8_profiler_start(isolate, culprits_interval)) {
            s->culprits_next_ms = now_ms + CULPRITS_REFUSED_BACKOFF_MS;
            s->culprits_due = false;
            return;
        }
        s->sampler_on = true;
        s->sampler_since_ms = gcs_wall_ms();
        s->sampler_since_mono_ms = gcs_monotonic_ms();
        s->own.gc.sampler_starts++;
        gcs_snapshot_publish(s);
    }
    if (s->culprits_due && s->sampler_on)
        make_culprits(s, isolate, now_ms);
    if (!s->sampler_wanted && s->sampler_on && !s->culprits_due)
        stop_sampler(s, isolate);
}

/* At the loop's poll, on the isolate's thread (as decide_sampler, in the
 * GC epilogue): auto mode stops a sampler that no sample can serve
 * (gcs_culprits_auto_stops). */
static void stop_sampler_without_samples(struct gcs_isolate *s, int64_t now_ms)
{
    if (culprits_mode == GCS_CULPRITS_AUTO && s->sampler_wanted &&
        gcs_culprits_auto_stops(&culprits_auto, s->detectors[GCS_MEM_HEAP].state == GCS_STATE_UNKNOWN,
                                s->culprits_due, now_ms, s->probe.last_full_ms))
        s->sampler_wanted = false;
}

static bool culprits_work_due(const struct gcs_isolate *s, int64_t now_ms)
{
    if (s->culprits_interrupt_pending || s->sampler_closed ||
        (!s->culprits_due && s->sampler_wanted == s->sampler_on))
        return false;
    return now_ms >= s->culprits_next_ms;
}

void gcs_isolate_poll(struct gcs_isolate *s, int epfd, bool may_block)
{
    if (may_block)
        at_safe_point(s);
    if (s->loop_fd < 0)
        s->loop_fd = epfd;
    if (epfd != s->loop_fd)
        return;
    /* One clock read for the three decisions of this poll. */
    int64_t now_ms = gcs_monotonic_coarse_ms();
    stop_sampler_without_samples(s, now_ms);
    if (culprits_work_due(s, now_ms)) {
        s->culprits_interrupt_pending = true;
        gcs_v8_request_interrupt(atomic_load(&s->isolate), culprits_interrupt, s);
    }
    if (s->probe_interrupt_pending || s->incremental_cycle_open)
        return;
    if (!gcs_probe_time_to_look(&s->probe, &probe_config, now_ms))
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
