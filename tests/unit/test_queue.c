#include "test.h"

#include <pthread.h>
#include <string.h>

#include "queue.h"

static struct gcs_queue q;

static void fifo_and_full(void **state)
{
    (void)state;
    gcs_queue_init(&q);
    assert_true(gcs_queue_empty(&q));
    struct gcs_record r;
    memset(&r, 0, sizeof r);
    for (uint32_t i = 0; i < GCS_QUEUE_CAPACITY; i++) {
        r.isolate = i;
        assert_true(gcs_queue_push(&q, &r));
    }
    assert_false(gcs_queue_push(&q, &r));   /* full: refused, never blocks */
    for (uint32_t i = 0; i < GCS_QUEUE_CAPACITY; i++) {
        assert_true(gcs_queue_pop(&q, &r));
        assert_int_equal(r.isolate, i);
    }
    assert_false(gcs_queue_pop(&q, &r));
    assert_true(gcs_queue_empty(&q));
    /* wraps around */
    for (uint32_t round = 0; round < 3 * GCS_QUEUE_CAPACITY; round++) {
        r.isolate = round;
        assert_true(gcs_queue_push(&q, &r));
        assert_false(gcs_queue_empty(&q));
        assert_true(gcs_queue_pop(&q, &r));
        assert_int_equal(r.isolate, round);
    }
}

/* A static queue is used without gcs_queue_init (the library's is): all
 * zeroes must be an empty queue that fills to capacity and wraps. */
static struct gcs_queue never_initialised;

static void zeroed_queue_is_ready(void **state)
{
    (void)state;
    struct gcs_queue *z = &never_initialised;
    assert_true(gcs_queue_empty(z));
    struct gcs_record r;
    memset(&r, 0, sizeof r);
    assert_false(gcs_queue_pop(z, &r));
    for (uint32_t i = 0; i < GCS_QUEUE_CAPACITY; i++) {
        r.isolate = i;
        assert_true(gcs_queue_push(z, &r));
    }
    assert_false(gcs_queue_push(z, &r));
    for (uint32_t i = 0; i < GCS_QUEUE_CAPACITY / 2; i++) {
        assert_true(gcs_queue_pop(z, &r));
        assert_int_equal(r.isolate, i);
    }
    for (uint32_t i = 0; i < GCS_QUEUE_CAPACITY / 2; i++) {
        r.isolate = GCS_QUEUE_CAPACITY + i;
        assert_true(gcs_queue_push(z, &r));
    }
    assert_false(gcs_queue_push(z, &r));
    for (uint32_t i = GCS_QUEUE_CAPACITY / 2; i < GCS_QUEUE_CAPACITY + GCS_QUEUE_CAPACITY / 2; i++) {
        assert_true(gcs_queue_pop(z, &r));
        assert_int_equal(r.isolate, i);
    }
    assert_true(gcs_queue_empty(z));
    /* init empties a used queue */
    assert_true(gcs_queue_push(z, &r));
    gcs_queue_init(z);
    assert_true(gcs_queue_empty(z));
    assert_false(gcs_queue_pop(z, &r));
}

#define PRODUCERS 4
#define PER_PRODUCER 100000

static _Atomic uint64_t refused;

static void *producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    struct gcs_record r;
    memset(&r, 0, sizeof r);
    r.isolate = id;
    for (uint64_t i = 0; i < PER_PRODUCER; i++) {
        r.pause_ns = i;
        if (!gcs_queue_push(&q, &r))
            atomic_fetch_add(&refused, 1);
    }
    return NULL;
}

/* Every record pushed is popped exactly once, and each producer's records
 * come out in the order it pushed them. */
static void many_producers_one_consumer(void **state)
{
    (void)state;
    gcs_queue_init(&q);
    pthread_t t[PRODUCERS];
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, (void *)i);
    uint64_t next[PRODUCERS] = { 0 };
    uint64_t popped = 0;
    int done = 0;
    struct gcs_record r;
    while (done < 2) {
        if (gcs_queue_pop(&q, &r)) {
            assert_true(r.isolate < PRODUCERS);
            assert_true(r.pause_ns >= next[r.isolate]);
            next[r.isolate] = r.pause_ns + 1;
            popped++;
        } else if (popped + atomic_load(&refused) == (uint64_t)PRODUCERS * PER_PRODUCER) {
            done++;
        }
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(popped + atomic_load(&refused), (uint64_t)PRODUCERS * PER_PRODUCER);
    assert_true(popped > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_and_full),
        cmocka_unit_test(zeroed_queue_is_ready),
        cmocka_unit_test(many_producers_one_consumer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
