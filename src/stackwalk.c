#include "stackwalk.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

/* libunwind is loaded with dlopen by gcs_stack_walk_load (the writer
 * thread, when it starts), not linked: linked, it and liblzma are loaded
 * into every process the library is preloaded into, node or not (a shell,
 * `node -e 0`), which was ~0.5 ms of each. Until it is loaded a walk finds
 * nothing, and the mapping's site is its caller alone (memmap.c).
 * - RTLD_LOCAL: its names stay out of the process' lookups (it defines a
 *   weak `backtrace`).
 * - Its thread-local variables (16 bytes) must never be allocated by a
 *   walk: dynamic TLS comes from malloc at each thread's first use, which
 *   would be inside an interposed mmap, where an allocator preloaded
 *   beside gcstats may hold its own lock. They are not: Debian's x86_64
 *   build is initial-exec (DF_STATIC_TLS), its arm64 build uses TLS
 *   descriptors, and glibc places both in every thread's static TLS at
 *   the dlopen (the descriptors while its reserve has room; 16 bytes).
 * - The soname of libunwind 1.x, the version the headers are. */
#define LIBUNWIND_SONAME "libunwind.so.8"

/* The names the headers' macros stand for (unw_init_local is
 * _ULx86_64_init_local on x86_64). */
#define UNW_NAME(f) UNW_NAME_(f)
#define UNW_NAME_(f) #f

static struct {
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*backtrace)(void **, int);
#if !defined(__aarch64__)
    /* aarch64's unw_getcontext is inline code, x86_64's a function. */
    int (*getcontext)(unw_context_t *);
#endif
} unw;
static _Atomic bool unw_loaded;

/* Two ways to walk a stack. unw_backtrace keeps a per-thread cache of the
 * frames it has seen: 256 KiB (16,384 slots), all written on the thread's
 * first walk, 64 page faults and 1-1.5 ms of `node -e 0` here, and as
 * much resident memory in every thread that ever maps. After that it is
 * the fast way (a mapping pair +2.6 us, against +21 us step by step,
 * bench/mmap.mjs). So a thread's first walks go step by step, which
 * needs no frame cache, and a thread that keeps mapping switches to
 * unw_backtrace. Both give the
 * same return addresses for the callers' frames with libunwind 1.6
 * (tests/unit/test_stackwalk.c says so for the libunwind it is built
 * with): a site is the same site whichever way its stack was walked. */
static TLS unsigned walks_on_this_thread;

/* libunwind sets itself up on its first use (unw_init_local or
 * unw_backtrace, under its own lock: three small mmaps, which pass the
 * interposers uncounted under their re-entry guard, a pipe and a mincore
 * probe; no malloc, no loader lock), ~0.25 ms, on whichever thread walks
 * first. Nothing is asked of it beforehand: Debian's libunwind 1.6 is
 * built without per-thread caches of DWARF rules, so every step takes
 * libunwind's global lock and sets the signal mask twice whatever gcstats
 * asks. */

bool gcs_stack_walk_load(char *why, size_t cap)
{
    if (atomic_load_explicit(&unw_loaded, memory_order_acquire))
        return true;
    void *lib = dlopen(LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *err = dlerror();
        snprintf(why, cap, "%s", err != NULL ? err : LIBUNWIND_SONAME " could not be loaded");
        return false;
    }
    const char *missing = NULL;
#define BIND(slot, name)                                                      \
    if ((*(void **)&unw.slot = dlsym(lib, name)) == NULL && missing == NULL)  \
        missing = name;
    BIND(init_local, UNW_NAME(unw_init_local))
    BIND(step, UNW_NAME(unw_step))
    BIND(get_reg, UNW_NAME(unw_get_reg))
    BIND(backtrace, "unw_backtrace")
#if !defined(__aarch64__)
    BIND(getcontext, UNW_NAME(unw_tdep_getcontext))
#endif
#undef BIND
    if (missing != NULL) {
        /* Kept loaded: a library is not unloaded under other threads. */
        snprintf(why, cap, LIBUNWIND_SONAME " lacks %s", missing);
        return false;
    }
    atomic_store_explicit(&unw_loaded, true, memory_order_release);
    return true;
}

static bool loaded(void)
{
    return atomic_load_explicit(&unw_loaded, memory_order_acquire);
}

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

unsigned gcs_stack_walks_on_this_thread(void)
{
    return walks_on_this_thread;
}

int gcs_stack_walk_stepwise(void **raw, int max)
{
    unw_context_t context;
    unw_cursor_t cursor;
    if (max <= 0 || !loaded())
        return 0;
#if defined(__aarch64__)
    if (unw_getcontext(&context) != 0)
        return 0;
#else
    if (unw.getcontext(&context) != 0)
        return 0;
#endif
    if (unw.init_local(&cursor, &context) != 0)
        return 0;
    int got = 0;
    do {
        unw_word_t ip;
        if (unw.get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        raw[got] = (void *)(got == 0 ? ip : ip - CACHED_WALK_TAKES_OFF);
        got++;
    } while (got < max && unw.step(&cursor) > 0);
    return got;
}

int gcs_stack_walk_cached(void **raw, int max)
{
    return max <= 0 || !loaded() ? 0 : unw.backtrace(raw, max);
}

int gcs_stack_walk(void **raw, int max)
{
    if (!loaded())
        return 0;   /* not a walk of this thread's: it stays on the first way */
    if (walks_on_this_thread++ < GCS_STEPWISE_WALKS)
        return gcs_stack_walk_stepwise(raw, max);
    if (walks_on_this_thread == 0)
        walks_on_this_thread = GCS_STEPWISE_WALKS;   /* wrapped: stay on the cached walk */
    return gcs_stack_walk_cached(raw, max);
}
