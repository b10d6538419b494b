#include "stackwalk.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

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
 * probe; no malloc, no loader lock), ~0.25 ms, which a process that maps
 * nothing once its isolate is attached (`node -e 0`) never pays. Nothing
 * is asked of it beforehand: the constructor used to ask for per-thread
 * caches of DWARF rules, which Debian's libunwind 1.6 (built without
 * them) ignores, so every step takes libunwind's global lock and sets the
 * signal mask twice whatever gcstats asks. */

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
    if (max <= 0 || unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0)
        return 0;
    int got = 0;
    do {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        raw[got] = (void *)(got == 0 ? ip : ip - CACHED_WALK_TAKES_OFF);
        got++;
    } while (got < max && unw_step(&cursor) > 0);
    return got;
}

int gcs_stack_walk_cached(void **raw, int max)
{
    return max <= 0 ? 0 : unw_backtrace(raw, max);
}

int gcs_stack_walk(void **raw, int max)
{
    if (walks_on_this_thread++ < GCS_STEPWISE_WALKS)
        return gcs_stack_walk_stepwise(raw, max);
    if (walks_on_this_thread == 0)
        walks_on_this_thread = GCS_STEPWISE_WALKS;   /* wrapped: stay on the cached walk */
    return gcs_stack_walk_cached(raw, max);
}
