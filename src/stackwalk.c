#include "stackwalk.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>

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
 * What loading it late costs is its TLS. libunwind keeps unw_backtrace's
 * per-thread frame cache behind a local-dynamic TLS variable (Debian's
 * x86_64 build: one R_X86_64_DTPMOD64; aarch64: a TLS descriptor). In a
 * library loaded by dlopen, glibc allocates a thread's block of it with
 * malloc, under its TLS lock, at that thread's first access, which would
 * be inside an interposed mmap, where a preloaded allocator (jemalloc)
 * may hold its lock. So the cached walk runs only on threads whose block
 * was allocated at a safe point (gcs_stack_walk_ready_this_thread: the
 * isolates' threads as they wait for their event loops), and every other
 * thread (V8's helpers) walks step by step, which touches no TLS
 * (tests/unit/test_stackwalk.c checks it does not).
 *
 * Two ways to walk a stack. unw_backtrace's per-thread cache is 256 KiB
 * (16,384 slots), all written on the thread's first cached walk, 64 page
 * faults and 1-1.5 ms, and as much resident memory in every thread that
 * uses it. After that it is the fast way (a mapping pair +2.6 us, against
 * +21 us step by step, bench/mmap.mjs). So a thread's first walks go step
 * by step, which needs no frame cache, and a readied thread that keeps
 * mapping switches to unw_backtrace. Both give the same return addresses
 * for the callers' frames with libunwind 1.6 (tests/unit/test_stackwalk.c
 * says so for the libunwind it is built with): a site is the same site
 * whichever way its stack was walked. */
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
};

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
static TLS bool cached_walk_ready;   /* this thread's block of libunwind's TLS exists */

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

bool gcs_stack_walk_loaded(void)
{
    return loaded();
}

static bool bind(void *lib, void **fn, const char *name)
{
    *fn = dlsym(lib, name);
    return *fn != NULL;
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
    unwinder = u;
    atomic_store_explicit(&state, UNWINDER_LOADED, memory_order_release);
    /* libunwind sets itself up on its first walk (under its own lock:
     * three small mmaps, a pipe and a mincore probe, ~0.25 ms): here,
     * rather than inside the first interposed mmap after the load. */
    void *raw[4];
    gcs_stack_walk_stepwise(raw, 4);
    return true;
}

void gcs_stack_walk_ready_this_thread(void)
{
    if (cached_walk_ready || !loaded())
        return;
    if (unwinder.tls_module != 0) {
        struct tls_index ti = { unwinder.tls_module, 0 };
        (void)__tls_get_addr(&ti);
    }
    cached_walk_ready = true;
}

unsigned gcs_stack_walks_on_this_thread(void)
{
    return walks_on_this_thread;
}

int gcs_stack_walk_stepwise(void **raw, int max)
{
    if (max <= 0 || !loaded())
        return 0;
    unw_context_t context;
    unw_cursor_t cursor;
#if defined(__x86_64__)
    if (unwinder.getcontext(&context) != 0)
        return 0;
#else
    if (unw_getcontext(&context) != 0)
        return 0;
#endif
    if (unwinder.init_local(&cursor, &context) != 0)
        return 0;
    int got = 0;
    do {
        unw_word_t ip;
        if (unwinder.get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        raw[got] = (void *)(got == 0 ? ip : ip - CACHED_WALK_TAKES_OFF);
        got++;
    } while (got < max && unwinder.step(&cursor) > 0);
    return got;
}

int gcs_stack_walk_cached(void **raw, int max)
{
    if (max <= 0 || !cached_walk_ready)
        return 0;
    return unwinder.backtrace(raw, max);
}

int gcs_stack_walk(void **raw, int max)
{
    if (!loaded())
        return 0;
    if (walks_on_this_thread != UINT_MAX)
        walks_on_this_thread++;
    if (walks_on_this_thread <= GCS_STEPWISE_WALKS || !cached_walk_ready)
        return gcs_stack_walk_stepwise(raw, max);
    return gcs_stack_walk_cached(raw, max);
}
