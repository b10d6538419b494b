#include "stackwalk.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

/* libunwind (Debian's libunwind.so.8, and liblzma which it needs) is
 * loaded by dlopen on the writer thread, not linked: linked, the two cost
 * every process under the preload ~0.7 ms of its start-up (docs/design.md,
 * "Benchmark"), most of them processes that never walk a stack. dlopen
 * takes the loader's lock and allocates, so it cannot run inside an
 * interposer (the caller may be an allocator holding its own lock, or the
 * loader); the writer thread is gcstats' own and holds nothing.
 *
 * Two ways to walk a stack. Step by step (unw_init_local, unw_step) needs
 * no state of the thread's: +21 us a mapping pair (bench/mmap.mjs).
 * unw_backtrace keeps a per-thread cache of the frames it has seen, 256
 * KiB (16,384 slots), all written on the thread's first cached walk (64
 * page faults, 1-1.5 ms, and as much resident memory in every thread that
 * uses it); after that it is the fast way, +2.6 us a pair. So a thread's
 * first GCS_STEPWISE_WALKS walks go step by step, and only a thread that
 * keeps mapping gets the cache. Both give the same return addresses for
 * the callers' frames with libunwind 1.6 (tests/unit/test_stackwalk.c says
 * so for the libunwind it is built with): a site is the same site
 * whichever way its stack was walked.
 *
 * The cached walk allocates where an interposer must not: inside an
 * interposed mmap the caller may be an allocator holding its own lock. So
 * it runs only where the process' malloc is glibc's own, which maps memory
 * through libc's internal calls, never through the interposers (with
 * jemalloc or tcmalloc in the process every walk goes step by step), and
 * what it allocates is done beforehand, at a safe point of the thread's
 * (gcs_stack_walk_at_safe_point: an isolate's thread at its event loop's
 * wait and at the end of a GC):
 *   - libunwind keeps the cache behind a local-dynamic TLS variable
 *     (Debian's x86_64 build: one R_X86_64_DTPMOD64; aarch64: a TLS
 *     descriptor). For a library loaded by dlopen, glibc allocates a
 *     thread's block of it with malloc at the thread's first access: done
 *     at the safe point by __tls_get_addr;
 *   - every access to it after the process loaded or unloaded another
 *     object with TLS brings the thread's table of TLS blocks up to date:
 *     glibc grows the table with realloc when it is full (past ~14 objects
 *     with TLS since the thread's table was made) and frees the blocks of
 *     unloaded objects. So the cached walk runs only while the count of
 *     loads and unloads (dl_iterate_phdr's dlpi_adds and dlpi_subs) is
 *     the one of the thread's last safe point; otherwise the walk goes
 *     step by step and the next safe point updates the table. What is
 *     left: glibc counts an object when it maps it and raises the TLS
 *     generation only after relocating it, so a safe point in the middle
 *     of another thread's dlopen records a count that the update did not
 *     cover; the next cached walk may then grow the table inside the
 *     interposer (glibc's malloc, which holds no lock there);
 *   - the first cached walk creates the cache: a thread-specific key (its
 *     value set with pthread_setspecific, which allocates for keys past
 *     the 32nd) and two mmaps. Done at the first safe point after the
 *     thread's GCS_STEPWISE_WALKS-th walk, under the interposers' guard.
 * Every other thread (V8's helpers, libuv's pool) walks step by step for
 * good, which touches no TLS (tests/unit/test_stackwalk.c checks it does
 * not, where glibc did not put the block in static TLS). Each check takes
 * the loader's lock for dl_iterate_phdr (~30 ns), as libunwind's own
 * walks do to find unwind tables. */

/* libunwind's exported names are its header's macros (unw_step is
 * _ULx86_64_step on x86_64): spelled through them, they are the ones the
 * header was written for. */
#define SYMBOL_NAME(s) SYMBOL_NAME_(s)
#define SYMBOL_NAME_(s) #s

struct unwinder {
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*backtrace)(void **, int);
#if defined(__x86_64__)
    /* A function on x86_64; aarch64's unw_getcontext is inline assembly. */
    int (*getcontext)(unw_context_t *);
#endif
    size_t tls_module;   /* its TLS block's module id; 0: it has none */
    bool cache_allowed;  /* the process' malloc is glibc's own (stackwalk.c) */
};

/* The block malloc_is_glibcs asks for: under glibc's mmap threshold. */
#define PROBE_BLOCK 4096u

enum unwinder_state { UNWINDER_UNTRIED, UNWINDER_LOADED, UNWINDER_FAILED };

/* Written once by gcs_stack_walk_load before `state` says LOADED (release),
 * read only after (acquire). */
static struct unwinder unwinder;
static _Atomic int state;

/* glibc's (ld.so's) TLS entry point and its argument: an access to a
 * module's TLS from this thread, which allocates this thread's block of
 * it if it has none. */
struct tls_index {
    unsigned long module;
    unsigned long offset;
};
extern void *__tls_get_addr(struct tls_index *ti);

static TLS unsigned walks_on_this_thread;
static TLS unsigned cached_walks_on_this_thread;
/* This thread's block of libunwind's TLS and its frame cache exist, made
 * at a safe point. */
static TLS bool cache_ready;
/* The loaded objects' count (adds + subs) when this thread's table of TLS
 * blocks was last brought up to date; the cached walk runs only while it
 * holds. */
static TLS unsigned long long objects_at_safe_point;
/* The cached walk was wanted and not allowed: the next safe point makes
 * the cache or updates the table. */
static TLS bool safe_point_wanted;

/* What unw_backtrace takes off each caller's return address (so that it
 * points into the call, not after it), which the step-by-step walk must
 * take off too for the two to agree: libunwind 1.6's aarch64 walk takes
 * off 1, its x86_64 walk nothing (tests/unit/test_stackwalk.c, also run
 * under qemu-aarch64, checks both). */
#if defined(__aarch64__)
#define CACHED_WALK_TAKES_OFF 1u
#else
#define CACHED_WALK_TAKES_OFF 0u
#endif

static bool loaded(void)
{
    return atomic_load_explicit(&state, memory_order_acquire) == UNWINDER_LOADED;
}

bool gcs_stack_walk_load_tried(void)
{
    return atomic_load_explicit(&state, memory_order_acquire) != UNWINDER_UNTRIED;
}

static bool bind(void *lib, void **fn, const char *name)
{
    *fn = dlsym(lib, name);
    return *fn != NULL;
}

static int walk_stepwise(const struct unwinder *u, void **raw, int max)
{
    unw_context_t context;
    unw_cursor_t cursor;
#if defined(__x86_64__)
    if (u->getcontext(&context) != 0)
        return 0;
#else
    if (unw_getcontext(&context) != 0)
        return 0;
#endif
    if (u->init_local(&cursor, &context) != 0)
        return 0;
    int got = 0;
    do {
        unw_word_t ip;
        if (u->get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        raw[got] = (void *)(got == 0 ? ip : ip - CACHED_WALK_TAKES_OFF);
        got++;
    } while (got < max && u->step(&cursor) > 0);
    return got;
}

/* Whether the malloc the process calls is the C library's own: glibc's
 * malloc maps memory through libc's internal calls, never through these
 * interposers, so that an interposed call is then never made inside
 * malloc, with its lock held. Asked of the allocator itself, since the
 * symbol cannot say: node's executable is not position-independent, and
 * its canonical entry for malloc is what a lookup by name finds, whoever
 * is behind it. Glibc's own counter of the bytes its arenas hand out
 * (libc's mallinfo2, not one an allocator may export) grows by a block
 * the process' malloc gives only if that malloc is glibc's. Another
 * thread freeing at that moment can hide it: then the cached walk is
 * never used, which is slower, not unsafe. */
static bool malloc_is_glibcs(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (libc == NULL)
        return false;
    struct mallinfo2 (*libc_mallinfo2)(void) = (struct mallinfo2 (*)(void))dlsym(libc, "mallinfo2");
    dlclose(libc);
    if (libc_mallinfo2 == NULL)
        return false;
    size_t before = libc_mallinfo2().uordblks;
    void *block = malloc(PROBE_BLOCK);
    size_t after = libc_mallinfo2().uordblks;
    free(block);
    return block != NULL && after >= before + PROBE_BLOCK;
}

bool gcs_stack_walk_load(void)
{
    if (gcs_stack_walk_load_tried())
        return loaded();
    /* RTLD_NOW: every symbol it needs is bound here, none later inside an
     * interposer. Never closed. */
    void *lib = dlopen(GCS_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    struct unwinder u = { 0 };
    bool ok = lib != NULL
              && bind(lib, (void **)&u.init_local, SYMBOL_NAME(unw_init_local))
              && bind(lib, (void **)&u.step, SYMBOL_NAME(unw_step))
              && bind(lib, (void **)&u.get_reg, SYMBOL_NAME(unw_get_reg))
              && bind(lib, (void **)&u.backtrace, "unw_backtrace")
#if defined(__x86_64__)
              && bind(lib, (void **)&u.getcontext, SYMBOL_NAME(unw_tdep_getcontext))
#endif
              && dlinfo(lib, RTLD_DI_TLS_MODID, &u.tls_module) == 0;
    if (!ok) {
        atomic_store_explicit(&state, UNWINDER_FAILED, memory_order_release);
        return false;
    }
    u.cache_allowed = malloc_is_glibcs();
    /* libunwind sets itself up on its first walk (under its own lock:
     * three small mmaps, a pipe and a mincore probe, ~0.25 ms): here,
     * before any interposer can walk. */
    void *raw[4];
    walk_stepwise(&u, raw, 4);
    unwinder = u;
    atomic_store_explicit(&state, UNWINDER_LOADED, memory_order_release);
    return true;
}

static int read_object_counts(struct dl_phdr_info *info, size_t size, void *out)
{
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return -1;
    *(unsigned long long *)out = info->dlpi_adds + info->dlpi_subs;
    return 1;   /* the counts are the process', in every object's info */
}

/* How many times objects were loaded and unloaded in this process; 0 if
 * glibc does not say (then the cached walk is never allowed). */
static unsigned long long objects_loaded(void)
{
    unsigned long long n = 0;
    return dl_iterate_phdr(read_object_counts, &n) == 1 ? n : 0;
}

void gcs_stack_walk_at_safe_point(void)
{
    if (!loaded() || !unwinder.cache_allowed)
        return;
    if (cache_ready ? !safe_point_wanted : walks_on_this_thread < GCS_STEPWISE_WALKS)
        return;
    safe_point_wanted = false;
    unsigned long long objects = objects_loaded();   /* before: a later load shows as a change */
    if (objects == 0)
        return;
    if (unwinder.tls_module != 0) {
        struct tls_index ti = { unwinder.tls_module, 0 };
        (void)__tls_get_addr(&ti);   /* allocates the block, updates the table */
    }
    if (!cache_ready) {
        void *raw[1];
        unwinder.backtrace(raw, 1);   /* makes the frame cache */
    }
    objects_at_safe_point = objects;
    cache_ready = true;
}

unsigned gcs_stack_walks_on_this_thread(void)
{
    return walks_on_this_thread;
}

unsigned gcs_stack_walks_cached_on_this_thread(void)
{
    return cached_walks_on_this_thread;
}

bool gcs_stack_walk_cache_ready_here(void)
{
    return cache_ready;
}

bool gcs_stack_walk_cache_allowed(void)
{
    return loaded() && unwinder.cache_allowed;
}

int gcs_stack_walk_stepwise(void **raw, int max)
{
    if (max <= 0 || !loaded())
        return 0;
    return walk_stepwise(&unwinder, raw, max);
}

int gcs_stack_walk_cached(void **raw, int max)
{
    if (max <= 0 || !cache_ready)
        return 0;
    return unwinder.backtrace(raw, max);
}

int gcs_stack_walk(void **raw, int max)
{
    if (!loaded())
        return 0;
    if (walks_on_this_thread != UINT_MAX)
        walks_on_this_thread++;
    bool cached = false;
    if (walks_on_this_thread > GCS_STEPWISE_WALKS) {
        cached = cache_ready && objects_loaded() == objects_at_safe_point;
        safe_point_wanted = !cached;
    }
    if (cached && cached_walks_on_this_thread != UINT_MAX)
        cached_walks_on_this_thread++;
    /* One call of each: a stack walked either way shows this frame at
     * one return address. */
    return cached ? gcs_stack_walk_cached(raw, max) : gcs_stack_walk_stepwise(raw, max);
}
