#include "test.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

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

/* Before libunwind is loaded there is no walk: the interposers then make a
 * site of the caller alone. Runs first. */
static void before_the_load_no_walk(void **state)
{
    (void)state;
    void *raw[MAX];
    assert_false(gcs_stack_walk_load_tried());
    assert_int_equal(gcs_stack_walk(raw, MAX), 0);
    assert_int_equal(gcs_stack_walk_stepwise(raw, MAX), 0);
    assert_int_equal(gcs_stack_walk_cached(raw, MAX), 0);
    gcs_stack_walk_ready_this_thread();   /* nothing to ready yet */
    assert_int_equal(gcs_stack_walk_cached(raw, MAX), 0);
    assert_int_equal(gcs_stack_walks_on_this_thread(), 0);
}

static void it_loads_once(void **state)
{
    (void)state;
    assert_true(gcs_stack_walk_load());
    assert_true(gcs_stack_walk_load_tried());
    assert_true(gcs_stack_walk_loaded());
    assert_true(gcs_stack_walk_load());   /* again: at once */
    void *lib = dlopen(GCS_LIBUNWIND_SONAME, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(lib);
    dlclose(lib);
}

static void both_walks_agree(void **state)
{
    (void)state;
    gcs_stack_walk_ready_this_thread();
    /* Twice: the second cached walk comes from libunwind's cache. */
    for (int round = 0; round < 2; round++) {
        struct walks w;
        one(&w, walk_both);
        assert_true(w.nstep > 4);
        assert_true(w.ncached > 4);
        assert_same_callers(w.step, w.nstep, w.cached, w.ncached);
    }
}

/* A readied thread's walks through gcs_stack_walk: step by step, then
 * cached from the GCS_STEPWISE_WALKS-th on, and the same frames before and
 * after the switch. */
static void the_thread_switches_walks_and_keeps_its_frames(void **state)
{
    (void)state;
    gcs_stack_walk_ready_this_thread();
    assert_true(gcs_stack_walks_on_this_thread() < GCS_STEPWISE_WALKS);
    struct walks first, w;
    bool have_first = false;
    /* one call site for every walk: the frames above it are the same */
    while (gcs_stack_walks_on_this_thread() < GCS_STEPWISE_WALKS + 4) {
        one(&w, walk_public);
        if (!have_first) {
            first = w;
            have_first = true;
        }
        assert_same_callers(first.step, first.nstep, w.step, w.nstep);
    }
    void *raw[MAX];
    assert_int_equal(gcs_stack_walk_stepwise(raw, 0), 0);
    assert_int_equal(gcs_stack_walk_cached(raw, 0), 0);
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

struct thread_walks {
    bool ready;
    void *tls_before, *tls_after;
    struct walks first, last;
    unsigned walks;
};

static void *walk_on_a_thread(void *arg)
{
    struct thread_walks *t = arg;
    t->tls_before = unwind_tls_here();
    if (t->ready)
        gcs_stack_walk_ready_this_thread();
    /* volatile: one call site for every walk (no first turn peeled off) */
    for (volatile int i = 0; i < 2 * GCS_STEPWISE_WALKS; i++) {
        struct walks w;
        one(&w, walk_public);
        if (i == 0)
            t->first = w;
        t->last = w;
    }
    t->walks = gcs_stack_walks_on_this_thread();
    t->tls_after = unwind_tls_here();
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

/* A thread nobody readied (V8's helpers) walks step by step however many
 * walks it makes, and never touches libunwind's TLS: glibc would allocate
 * its block there with malloc, inside an interposer. (Where glibc put the
 * block in static TLS, as it may for aarch64's TLS descriptors, it is
 * there from the start and this says nothing.) */
static void an_unreadied_thread_never_touches_libunwinds_tls(void **state)
{
    (void)state;
    struct thread_walks t = { .ready = false };
    run_thread(&t);
    if (t.tls_before == NULL)
        assert_null(t.tls_after);
}

/* A readied thread has its block from the readying on, and its cached
 * walks give the frames its step-by-step walks gave. */
static void a_readied_thread_has_its_block(void **state)
{
    (void)state;
    struct thread_walks t = { .ready = true };
    run_thread(&t);
    assert_non_null(t.tls_after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(before_the_load_no_walk),
        cmocka_unit_test(it_loads_once),
        cmocka_unit_test(both_walks_agree),
        cmocka_unit_test(the_thread_switches_walks_and_keeps_its_frames),
        cmocka_unit_test(an_unreadied_thread_never_touches_libunwinds_tls),
        cmocka_unit_test(a_readied_thread_has_its_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
