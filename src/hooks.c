/* mmap and mmap64 are both defined here: keep the headers from renaming one
 * to the other. */
#undef _FILE_OFFSET_BITS

#include "hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lines.h"
#include "memmap.h"
#include "output.h"
#include "probe.h"
#include "registry.h"
#include "v8api.h"
#include "window.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* V8 10-12 can lose an interrupt requested while an isolate is being set
 * up; ask again after this long until one has run. */
#define INTERRUPT_RETRY_MS 2

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int (*real_mprotect)(void *, size_t, int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);

static _Atomic bool enabled;
static struct gcs_detect_config detect_config;
static struct gcs_probe_config probe_config;   /* every_ms 0 until set: never asks */
static _Atomic uint32_t next_worker_number = 2;
static pthread_key_t thread_key;
static bool thread_key_ok;

static TLS bool in_hook;
static TLS void *known_isolate;      /* this thread's isolate, known to be attached */
static TLS struct gcs_isolate *known_slot;
static TLS bool known_is_own_thread;    /* this thread is known_slot's own */
static TLS uint64_t known_generation;
static TLS bool in_probe;

void gcs_hooks_resolve(void)
{
    in_hook = true;   /* dlsym may allocate, and the allocator may mmap */
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    real_mmap64 = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap64");
    real_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    real_mremap = (void *(*)(void *, size_t, size_t, int, ...))dlsym(RTLD_NEXT, "mremap");
    real_mprotect = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "mprotect");
    real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
    real_epoll_pwait = (int (*)(int, struct epoll_event *, int, int, const sigset_t *))
        dlsym(RTLD_NEXT, "epoll_pwait");
    real_epoll_pwait2 = (int (*)(int, struct epoll_event *, int, const struct timespec *,
                                 const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait2");
    in_hook = false;
}

void gcs_hooks_set_detect_config(const struct gcs_detect_config *c) { detect_config = *c; }
void gcs_hooks_set_probe_config(const struct gcs_probe_config *c) { probe_config = *c; }
void gcs_hooks_enable(void) { atomic_store(&enabled, true); }
void gcs_hooks_disable(void) { atomic_store(&enabled, false); }
bool gcs_hooks_enabled(void) { return atomic_load_explicit(&enabled, memory_order_relaxed); }
void gcs_hooks_quiet_thread(void) { in_hook = true; }

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

/* ---- GC callbacks: on the isolate's thread, inside the GC ------------- */

static void on_gc_prologue(void *isolate, int gc_type, int flags, void *data)
{
    (void)flags;
    struct gcs_isolate *s = data;
    int kind = gcs_gc_kind_of(gc_type);
    if (kind == GCS_KIND_NONE || atomic_load_explicit(&s->isolate, memory_order_relaxed) != isolate)
        return;
    uint64_t now = gcs_monotonic_ns();
    s->gc_started_ns[kind] = now;
    s->own.gc.callbacks++;
    s->own.gc.callback_ns += gcs_monotonic_ns() - now;
}

static void on_gc_epilogue(void *isolate, int gc_type, int flags, void *data)
{
    struct gcs_isolate *s = data;
    int kind = gcs_gc_kind_of(gc_type);
    if (kind == GCS_KIND_NONE || atomic_load_explicit(&s->isolate, memory_order_relaxed) != isolate)
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
        if (own->have_heap) {
            int64_t wall = gcs_wall_ms();
            int64_t mono = (int64_t)(now / 1000000u);
            gcs_windows_add(&s->windows, own->heap.used, wall);
            gcs_windows_summarize(&s->windows, &own->summary);
            /* Mapped memory is the process's, not the isolate's: the
             * main isolate judges it. */
            bool judge_mapped = atomic_load(&s->number) == 1 && gcs_memmap_enabled();
            const uint64_t series[GCS_MEM_COUNT] = {
                own->heap.used, own->heap.external, judge_mapped ? gcs_memmap_sample_outside(&mapped, mono) : 0,
            };
            for (int m = 0; m < GCS_MEM_COUNT; m++) {
                if (m == GCS_MEM_MAPPED && !judge_mapped)
                    continue;
                events[m] = gcs_detector_add(&s->detectors[m], &detect_config, mono, series[m]);
                publish_verdict(&own->verdict.series[m], &s->detectors[m], wall - mono);
            }
            if (events[GCS_MEM_MAPPED] == GCS_DETECT_LEAK)
                grown_owner = gcs_memmap_grown_owner(s->detectors[GCS_MEM_MAPPED].last.from_ms);
        }
        /* What this cycle cost the JavaScript thread, as far as callbacks
         * see it: the pause at the start of incremental marking and this
         * final pause (marking steps in between are not reported). */
        uint64_t incremental_ns = own->gc.pause_ns[GCS_KIND_INCREMENTAL];
        uint64_t cycle_ns = pause + (incremental_ns - s->incremental_ns_at_full);
        s->incremental_ns_at_full = incremental_ns;
        answered_probe = gcs_probe_full_gc(&s->probe, &probe_config, (int64_t)(now / 1000000u), cycle_ns,
                                           own->have_heap ? own->heap.used : 0);
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

/* ---- Attaching --------------------------------------------------------- */

static _Atomic bool node_version_read;

/* On the isolate's own thread, never inside a GC. */
static void attach_here(struct gcs_isolate *s, void *isolate)
{
    if (!gcs_registry_begin_attach(s, isolate))
        return;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    bool main_thread = tid == getpid();
    s->tid = tid;
    gcs_windows_init(&s->windows);
    for (int m = 0; m < GCS_MEM_COUNT; m++)
        gcs_detector_init(&s->detectors[m]);
    memset(&s->own, 0, sizeof s->own);
    memset(s->gc_started_ns, 0, sizeof s->gc_started_ns);
    s->incremental_cycle_open = false;
    s->incremental_ns_at_full = 0;
    gcs_probe_init(&s->probe, &probe_config, gcs_monotonic_ms(),
                   gcs_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)tid);
    gcs_snapshot_publish(s);
    uint32_t number = main_thread ? 1 : atomic_fetch_add(&next_worker_number, 1);

    if (!atomic_exchange(&node_version_read, true))
        gcs_v8_read_node_version();
    gcs_v8_add_gc_callbacks(isolate, on_gc_prologue, on_gc_epilogue, s);
    uintptr_t code_start;
    size_t code_len;
    if (gcs_v8_code_range(isolate, &code_start, &code_len))
        gcs_memmap_add_code_range(s, code_start, code_len);
    if (thread_key_ok && !main_thread)
        pthread_setspecific(thread_key, s);
    gcs_registry_finish_attach(s, number);

    struct gcs_record r;
    gcs_snapshot_record(&r, GCS_EV_START, atomic_load(&s->number), &s->own);
    r.main_thread = main_thread;
    r.v8_isolate = (uint64_t)(uintptr_t)isolate;
    gcs_output_submit(&r);
}

static void on_interrupt(void *isolate, void *data)
{
    if (!gcs_hooks_enabled())
        return;
    struct gcs_isolate *s = data;
    if (atomic_load(&s->isolate) == isolate && atomic_load(&s->state) == GCS_SLOT_PENDING)
        attach_here(s, isolate);
}

/* A Worker's thread is ending; its isolate is already disposed. */
static void on_thread_exit(void *data)
{
    struct gcs_isolate *s = data;
    if (s == NULL || atomic_load(&s->state) != GCS_SLOT_ATTACHED || s->tid != (pid_t)syscall(SYS_gettid))
        return;
    if (gcs_hooks_enabled()) {
        struct gcs_record r;
        gcs_snapshot_record(&r, GCS_EV_END, atomic_load(&s->number), &s->own);
        gcs_memmap_read(&r.mapped);
        gcs_output_submit(&r);
    }
    gcs_memmap_remove_code_range(s);
    gcs_registry_release(s);
}

void gcs_hooks_init_thread_key(void)
{
    thread_key_ok = pthread_key_create(&thread_key, on_thread_exit) == 0;
}

/* Called from every hook. `own_thread_safe_point` is true only where this
 * thread is known to be its isolate's own thread at a point where V8 may
 * be called (the event loop's poll); elsewhere an interrupt is requested,
 * but only when the call came from node's own code (`from_node`): an
 * mmap made by an allocator preloaded beside gcstats may run with the
 * allocator's lock held, and RequestInterrupt allocates. */
static struct gcs_isolate *notice_isolate(bool own_thread_safe_point, bool from_node)
{
    if (!gcs_hooks_enabled() || !gcs_v8_current_isolate_ready())
        return NULL;
    void *isolate = gcs_v8_try_get_current();
    if (isolate == NULL)
        return NULL;
    uint64_t gen = gcs_registry_generation();
    if (isolate == known_isolate && gen == known_generation)
        return known_slot;

    int64_t now_ms = gcs_monotonic_ms();
    struct gcs_isolate *s = gcs_registry_lookup(isolate);
    if (s == NULL)
        s = gcs_registry_claim(isolate, now_ms);
    if (s == NULL)
        return NULL;
    int state = atomic_load(&s->state);
    if (state == GCS_SLOT_ATTACHED) {
        known_isolate = isolate;
        known_slot = s;
        known_is_own_thread = s->tid == (pid_t)syscall(SYS_gettid);
        known_generation = gen;
        return s;
    }
    if (state == GCS_SLOT_PENDING) {
        if (own_thread_safe_point) {
            attach_here(s, isolate);
        } else if (from_node) {
            int64_t last = atomic_load(&s->last_request_ms);
            if (now_ms - last >= INTERRUPT_RETRY_MS &&
                atomic_compare_exchange_strong(&s->last_request_ms, &last, now_ms))
                gcs_v8_request_interrupt(isolate, on_interrupt, s);
        }
    }
    return NULL;
}

/* At the event loop's poll, on the isolate's own thread: no JavaScript
 * and no GC is running, and V8 may be called. If no full GC has come for
 * a while, ask V8 for one (see probe.h). */
static void maybe_probe(struct gcs_isolate *s)
{
    /* While V8 is marking, a full GC is on its way already. */
    if (s == NULL || in_probe || !known_is_own_thread || s->incremental_cycle_open)
        return;
    int64_t now_ms = gcs_monotonic_coarse_ms();
    if (!gcs_probe_time_to_look(&s->probe, &probe_config, now_ms))
        return;
    void *isolate = atomic_load(&s->isolate);
    struct gcs_heap_stats heap;
    in_probe = true;
    if (gcs_v8_heap_stats(isolate, &heap)) {
        switch (gcs_probe_decide(&s->probe, &probe_config, now_ms, heap.used)) {
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
    in_probe = false;
}

/* ---- The interposers --------------------------------------------------- */

static void after_call(bool own_thread_safe_point, const void *caller)
{
    if (in_hook)
        return;
    in_hook = true;
    int saved = errno;
    struct gcs_isolate *s = notice_isolate(own_thread_safe_point,
                                           own_thread_safe_point || gcs_v8_owns_code_at(caller));
    /* Outside the re-entry guard: what V8 maps while it starts marking
     * is counted like any other mapping. */
    in_hook = false;
    if (own_thread_safe_point)
        maybe_probe(s);
    errno = saved;
}

/* The accounting runs under the re-entry guard: libunwind, the loader or a
 * signal handler mapping memory meanwhile is forwarded, not counted. */
#define ACCOUNT(call)                                   \
    do {                                                \
        if (!in_hook && gcs_memmap_enabled()) {         \
            in_hook = true;                             \
            int saved_errno = errno;                    \
            call;                                       \
            errno = saved_errno;                        \
            in_hook = false;                            \
        }                                               \
    } while (0)

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = real_mmap ? real_mmap(addr, len, prot, flags, fd, off)
                        : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        ACCOUNT(gcs_memmap_on_map((uintptr_t)p, len, prot, __builtin_return_address(0)));
    after_call(false, __builtin_return_address(0));
    return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = real_mmap64 ? real_mmap64(addr, len, prot, flags, fd, off)
                          : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        ACCOUNT(gcs_memmap_on_map((uintptr_t)p, len, prot, __builtin_return_address(0)));
    after_call(false, __builtin_return_address(0));
    return p;
}

EXPORT int munmap(void *addr, size_t len)
{
    int r = real_munmap ? real_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
    if (r == 0)
        ACCOUNT(gcs_memmap_on_unmap((uintptr_t)addr, len));
    after_call(false, __builtin_return_address(0));
    return r;
}

EXPORT void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    void *p = real_mremap ? real_mremap(old_addr, old_len, new_len, flags, new_addr)
                          : (void *)syscall(SYS_mremap, old_addr, old_len, new_len, flags, new_addr);
    if (p != MAP_FAILED)
        ACCOUNT(gcs_memmap_on_remap((uintptr_t)old_addr, old_len, (uintptr_t)p, new_len,
                                    (flags & MREMAP_DONTUNMAP) != 0));
    return p;
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
    int r = real_mprotect ? real_mprotect(addr, len, prot) : (int)syscall(SYS_mprotect, addr, len, prot);
    if (r == 0)
        ACCOUNT(gcs_memmap_on_protect((uintptr_t)addr, len, prot));
    return r;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    after_call(true, NULL);
    if (real_epoll_wait)
        return real_epoll_wait(epfd, events, maxevents, timeout);
    return (int)syscall(SYS_epoll_wait, epfd, events, maxevents, timeout);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                       const sigset_t *sigmask)
{
    after_call(true, NULL);
    if (real_epoll_pwait)
        return real_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    return (int)syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, sigmask, _NSIG / 8);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                        const struct timespec *timeout, const sigset_t *sigmask)
{
    after_call(true, NULL);
    if (real_epoll_pwait2)
        return real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, sigmask, _NSIG / 8);
}
