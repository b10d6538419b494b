#include "test.h"

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

static __attribute__((noinline)) void walk_both(struct walks *w)
{
    w->nstep = gcs_stack_walk_stepwise(w->step, MAX);
    w->ncached = gcs_stack_walk_cached(w->cached, MAX);
    __asm__ volatile("" ::: "memory");   /* not a tail call */
}

static __attribute__((noinline)) void three(struct walks *w)
{
    walk_both(w);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void two(struct walks *w)
{
    three(w);
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void one(struct walks *w)
{
    two(w);
    __asm__ volatile("" ::: "memory");
}

static void both_walks_agree(void **state)
{
    (void)state;
    /* Twice: the second cached walk comes from libunwind's cache. */
    for (int round = 0; round < 2; round++) {
        struct walks w;
        one(&w);
        assert_true(w.nstep > 4);
        assert_true(w.ncached > 4);
        int i = 0, j = -1;
        for (; i < w.nstep && j < 0; i++)
            for (int k = 0; k < w.ncached; k++)
                if (w.step[i] == w.cached[k]) {
                    j = k;
                    break;
                }
        assert_true(j >= 0);
        i--;
        /* three, two, one, this test, and cmocka's frames above it */
        assert_true(w.nstep - i >= 4);
        assert_int_equal(w.nstep - i, w.ncached - j);
        for (; i < w.nstep; i++, j++)
            assert_ptr_equal(w.step[i], w.cached[j]);
    }
}

/* The switch: GCS_STEPWISE_WALKS walks step by step, then cached; both
 * fill the same buffer the same way. */
static void walks_switch_after_a_while(void **state)
{
    (void)state;
    void *raw[MAX];
    for (int i = 0; i < GCS_STEPWISE_WALKS + 4; i++)
        assert_true(gcs_stack_walk(raw, MAX) > 2);
    assert_int_equal(gcs_stack_walk(raw, 0), 0);
    assert_int_equal(gcs_stack_walk_stepwise(raw, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_walks_agree),
        cmocka_unit_test(walks_switch_after_a_while),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
