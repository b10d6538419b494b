#include "test.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "stackwalk.h"

/* The two walks must give the same return addresses for the callers'
 * frames, or a site first seen step by step would become a second site
 * once its thread switches to unw_backtrace (a newer libunwind that took
 * one off its cached walk's addresses would do that). The frames of the
 * walks themselves differ (two call sites), so the two stacks are
 * compared from their first common address on. */
#define MAX 32

struct walks {
    void *step[MAX], *cached[MAX];
    int nstep, ncached;
};

typedef void walker(struct walks *w);

static __attribute__((noinline)) void walk_both(struct walks *w)
{
    w->nstep = gcs_stack_walk_stepwise(w->step, MAX);
    w->ncached = gcs_stack_walk_cached(w->cached, MAX);
    __asm__ volatile("" ::: "memory");   /* not a tail call */
}

/* The interposers' entry: one walk, whichever way this thread is at. */
static __attribute__((noinline)) void walk_public(struct walks *w)
{
    w->nstep = gcs_stack_walk(w->step, MAX);
    w->ncached = 0;
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void three(struct walks *w, walker *walk)
{
    walk(w);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void two(struct walks *w, walker *walk)
{
    three(w, walk);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void one(struct walks *w, walker *walk)
{
    two(w, walk);
    __asm__ volatile("" ::: "memory");
}

/* The frames of two walks of the same stack, from their first common
 * address on, are the same. */
static void assert_same_callers(void *const *a, int na, void *const *b, int nb)
{
    int i = 0, j = -1;
    for (; i < na && j < 0; i++)
        for (int k = 0; k < nb; k++)
            if (a[i] == b[k]) {
                j = k;
                break;
            }
    assert_true(j >= 0);
    i--;
    /* three, two, one, the test, and cmocka's frames above it */
    assert_true(na - i >= 4);
    assert_int_equal(na - i, nb - j);
    for (; i < na; i++, j++)
        assert_ptr_equal(a[i], b[j]);
}

/* The cached walk is used only where the process' malloc is glibc's
 * (stackwalk.c): a sanitizer's is not. */
static bool cache_expected(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return false;
#else
    return true;
#endif
}

/* Before libunwind is loaded there is no walk: the interposers then make a
 * site of the caller alone. Runs first. */
static void before_the_load_no_walk(void **state)
{
    (void)state;
    void *raw[MAX];
    assert_false(gcs_stack_walk_load_tried());
    assert_false(gcs_stack_walk_cache_allowed());
    assert_int_equal(gcs_stack_walk(raw, MAX), 0);
    assert_int_equal(gcs_stack_walk_stepwise(raw, MAX), 0);
    assert_int_equal(gcs_stack_walk_cached(raw, MAX), 0);
    gcs_stack_walk_at_safe_point();   /* nothing to ready yet */
    assert_false(gcs_stack_walk_cache_ready_here());
    assert_int_equal(gcs_stack_walks_on_this_thread(), 0);
}

static void it_loads_once(void **state)
{
    (void)state;
    assert_true(gcs_stack_walk_load());
    assert_true(gcs_stack_walk_load_tried());
    assert_true(gcs_stack_walk_load());   /* again: at once */
    /* This process' malloc is glibc's, unless a sanitizer's. */
    assert_int_equal(gcs_stack_walk_cache_allowed(), cache_expected());
    void *lib = dlopen(GCS_LIBUNWIND_SONAME, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(lib);
    dlclose(lib);
}

/* Walks until this thread wants the cache, then the safe point makes it. */
static void make_cache_ready(void)
{
    void *raw[MAX];
    while (gcs_stack_walks_on_this_thread() < GCS_STEPWISE_WALKS)
        assert_true(gcs_stack_walk(raw, MAX) > 2);
    gcs_stack_walk_at_safe_point();
    assert_true(gcs_stack_walk_cache_ready_here());
}

static void both_walks_agree(void **state)
{
    (void)state;
    if (!cache_expected()) {
        /* No cache, ever: the walk that would use it gives nothing. */
        void *raw[MAX];
        while (gcs_stack_walks_on_this_thread() < GCS_STEPWISE_WALKS)
            assert_true(gcs_stack_walk(raw, MAX) > 2);
        gcs_stack_walk_at_safe_point();
        assert_false(gcs_stack_walk_cache_ready_here());
        assert_int_equal(gcs_stack_walk_cached(raw, MAX), 0);
        assert_true(gcs_stack_walk(raw, MAX) > 2);
        return;
    }
    make_cache_ready();
    /* Twice: the second cached walk comes from libunwind's cache. */
    for (int round = 0; round < 2; round++) {
        struct walks w;
        one(&w, walk_both);
        assert_true(w.nstep > 4);
        assert_true(w.ncached > 4);
        assert_same_callers(w.step, w.nstep, w.cached, w.ncached);
    }
}

/* This thread's block of libunwind's TLS, NULL if it has none. */
static void *unwind_tls_here(void)
{
    void *lib = dlopen(GCS_LIBUNWIND_SONAME, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(lib);
    void *block = NULL;
    assert_int_equal(dlinfo(lib, RTLD_DI_TLS_DATA, &block), 0);
    dlclose(lib);
    return block;
}

/* Bytes glibc's malloc has handed out (0 under a sanitizer, whose
 * allocator is not glibc's: the checks on it then say nothing). */
static size_t allocated(void)
{
    return mallinfo2().uordblks;
}

struct thread_walks {
    bool safe_points;      /* a safe point after every walk */
    void *tls_before;      /* libunwind's block before any walk */
    void *tls_early;       /* ... after a safe point before any walk */
    void *tls_63;          /* ... after the safe point after the 63rd walk */
    bool ready_63;
    void *tls_after;       /* ... at the end */
    bool ready_early;      /* the cache was ready after that first safe point */
    bool ready_late;       /* ... at the end */
    struct walks first, last;
    unsigned walks;
};

static void *walk_on_a_thread(void *arg)
{
    struct thread_walks *t = arg;
    t->tls_before = unwind_tls_here();
    if (t->safe_points)
        gcs_stack_walk_at_safe_point();
    t->tls_early = unwind_tls_here();
    t->ready_early = gcs_stack_walk_cache_ready_here();
    /* volatile: one call site for every walk (no first turn peeled off) */
    for (volatile int i = 0; i < 2 * GCS_STEPWISE_WALKS; i++) {
        struct walks w;
        one(&w, walk_public);
        if (i == 0)
            t->first = w;
        t->last = w;
        if (t->safe_points)
            gcs_stack_walk_at_safe_point();
        if (i == GCS_STEPWISE_WALKS - 2) {
            t->tls_63 = unwind_tls_here();
            t->ready_63 = gcs_stack_walk_cache_ready_here();
        }
    }
    t->walks = gcs_stack_walks_on_this_thread();
    t->tls_after = unwind_tls_here();
    t->ready_late = gcs_stack_walk_cache_ready_here();
    return NULL;
}

static void run_thread(struct thread_walks *t)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, walk_on_a_thread, t), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t->walks, 2 * GCS_STEPWISE_WALKS);
    assert_true(t->first.nstep > 2);
    assert_same_callers(t->first.step, t->first.nstep, t->last.step, t->last.nstep);
}

/* A thread that never reaches a safe point (V8's helpers) walks step by
 * step however many walks it makes, and never touches libunwind's TLS:
 * glibc would allocate its block there with malloc, inside an interposer.
 * (Where glibc put the block in static TLS, as it does for aarch64's TLS
 * descriptors, it is there from the start and this says nothing.) */
static void a_thread_without_safe_points_never_touches_libunwinds_tls(void **state)
{
    (void)state;
    struct thread_walks t = { .safe_points = false };
    run_thread(&t);
    assert_false(t.ready_late);
    if (t.tls_before == NULL)
        assert_null(t.tls_after);
}

/* A thread with safe points: nothing is made for its first 64 walks (a
 * thread that maps little never pays for the 256 KiB cache); after them,
 * the safe point makes its TLS block and its cache, and its cached walks
 * give the frames its step-by-step walks gave. Where malloc is not
 * glibc's, nothing is ever made and every walk goes step by step. */
static void a_thread_gets_its_cache_at_a_safe_point_after_64_walks(void **state)
{
    (void)state;
    struct thread_walks t = { .safe_points = true };
    run_thread(&t);
    assert_false(t.ready_early);
    assert_false(t.ready_63);
    if (t.tls_before == NULL) {
        assert_null(t.tls_early);
        assert_null(t.tls_63);
    }
    assert_int_equal(t.ready_late, cache_expected());
    if (cache_expected())
        assert_non_null(t.tls_after);
    else if (t.tls_before == NULL)
        assert_null(t.tls_after);
}

/* The walk on a thread whose cache is ready, after the process loaded 24
 * objects with TLS since its last safe point: glibc would grow the
 * thread's table of TLS blocks with realloc at libunwind's next TLS
 * access, inside an interposer. The walk goes step by step instead, and
 * allocates nothing; the next safe point brings the table up to date,
 * and the walk takes the cache again, allocating nothing either. */
struct after_loads {
    int loaded;              /* objects loaded */
    int got[2];              /* frames of the walk after the loads, and after the safe point */
    size_t grew[2];          /* bytes allocated in each */
    unsigned cached[2];      /* how many of them took the cache (0 or 1 each) */
};

/* On its own thread; asserts nothing there (cmocka's failures jump back
 * to the test's own thread). */
static void *walk_after_loads(void *arg)
{
    struct after_loads *a = arg;
    void *raw[MAX];
    while (gcs_stack_walks_on_this_thread() < GCS_STEPWISE_WALKS)
        gcs_stack_walk(raw, MAX);
    gcs_stack_walk_at_safe_point();
    const char *prefix = getenv("GCSTATS_TLS_OBJECTS");
    for (int i = 0; prefix != NULL && i < 24; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%d.so", prefix, i);
        if (dlopen(path, RTLD_NOW | RTLD_LOCAL) != NULL)
            a->loaded++;
    }
    for (int i = 0; i < 2; i++) {
        if (i == 1)
            gcs_stack_walk_at_safe_point();
        unsigned cached = gcs_stack_walks_cached_on_this_thread();
        size_t before = allocated();
        a->got[i] = gcs_stack_walk(raw, MAX);
        a->grew[i] = allocated() - before;
        a->cached[i] = gcs_stack_walks_cached_on_this_thread() - cached;
    }
    return NULL;
}

static void no_allocation_in_a_walk_after_objects_with_tls_were_loaded(void **state)
{
    (void)state;
    if (!cache_expected())
        return;   /* no cache to check, and a sanitizer's allocations are not glibc's to count */
    struct after_loads a = { 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, walk_after_loads, &a), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(a.loaded, 24);   /* GCSTATS_TLS_OBJECTS: tests/meson.build */
    assert_true(a.got[0] > 2);
    assert_true(a.got[1] > 2);
    assert_int_equal(a.cached[0], 0);   /* step by step: objects were loaded */
    assert_int_equal(a.cached[1], 1);   /* the cache again, after the safe point */
    assert_int_equal(a.grew[0], 0);
    assert_int_equal(a.grew[1], 0);
}

int main(void)
{
    /* 40 keys first, so that libunwind's own (made at its first cached
     * walk) is past the 32nd, for which glibc's pthread_setspecific
     * allocates, on each thread's first setting: that must happen at the
     * safe point, which the last test's second walk says. */
    for (int i = 0; i < 40; i++) {
        pthread_key_t key;
        if (pthread_key_create(&key, NULL) != 0)
            return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_the_load_no_walk),
        cmocka_unit_test(it_loads_once),
        cmocka_unit_test(both_walks_agree),
        cmocka_unit_test(a_thread_without_safe_points_never_touches_libunwinds_tls),
        cmocka_unit_test(a_thread_gets_its_cache_at_a_safe_point_after_64_walks),
        cmocka_unit_test(no_allocation_in_a_walk_after_objects_with_tls_were_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
