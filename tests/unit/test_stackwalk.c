#include "test.h"

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

static void both_walks_agree(void **state)
{
    (void)state;
    /* Twice: the second cached walk comes from libunwind's cache. */
    for (int round = 0; round < 2; round++) {
        struct walks w;
        one(&w, walk_both);
        assert_true(w.nstep > 4);
        assert_true(w.ncached > 4);
        assert_same_callers(w.step, w.nstep, w.cached, w.ncached);
    }
}

/* A thread's walks through gcs_stack_walk: step by step, then cached
 * from the GCS_STEPWISE_WALKS-th on, and the same frames before and after
 * the switch. */
static void the_thread_switches_walks_and_keeps_its_frames(void **state)
{
    (void)state;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_walks_agree),
        cmocka_unit_test(the_thread_switches_walks_and_keeps_its_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
