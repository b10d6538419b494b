#include "queue.h"

#include <string.h>

/* Vyukov's algorithm starts with cell i's sequence at i. Each cell stores
 * its sequence minus its index instead, so that all-zero memory is that
 * start: a static queue needs no initialisation, and its ~370 KB are not
 * touched (made resident) before records use them. */
static uint64_t load_seq(struct gcs_queue *q, uint64_t idx)
{
    return atomic_load_explicit(&q->cells[idx].seq, memory_order_acquire) + idx;
}

static void store_seq(struct gcs_queue *q, uint64_t idx, uint64_t seq)
{
    atomic_store_explicit(&q->cells[idx].seq, seq - idx, memory_order_release);
}

void gcs_queue_init(struct gcs_queue *q)
{
    memset(q, 0, sizeof *q);
    atomic_thread_fence(memory_order_release);
}

bool gcs_queue_push(struct gcs_queue *q, const struct gcs_record *rec)
{
    uint64_t pos = atomic_load_explicit(&q->enqueue_pos, memory_order_relaxed);
    for (;;) {
        uint64_t idx = pos & (GCS_QUEUE_CAPACITY - 1);
        uint64_t seq = load_seq(q, idx);
        int64_t diff = (int64_t)(seq - pos);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->enqueue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                q->cells[idx].rec = *rec;
                store_seq(q, idx, pos + 1);
                return true;
            }
        } else if (diff < 0) {
            return false;   /* full */
        } else {
            pos = atomic_load_explicit(&q->enqueue_pos, memory_order_relaxed);
        }
    }
}

bool gcs_queue_pop(struct gcs_queue *q, struct gcs_record *out)
{
    uint64_t pos = atomic_load_explicit(&q->dequeue_pos, memory_order_relaxed);
    for (;;) {
        uint64_t idx = pos & (GCS_QUEUE_CAPACITY - 1);
        uint64_t seq = load_seq(q, idx);
        int64_t diff = (int64_t)(seq - (pos + 1));
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->dequeue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                *out = q->cells[idx].rec;
                store_seq(q, idx, pos + GCS_QUEUE_CAPACITY);
                return true;
            }
        } else if (diff < 0) {
            return false;   /* empty */
        } else {
            pos = atomic_load_explicit(&q->dequeue_pos, memory_order_relaxed);
        }
    }
}

bool gcs_queue_empty(struct gcs_queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->dequeue_pos, memory_order_relaxed);
    return load_seq(q, pos & (GCS_QUEUE_CAPACITY - 1)) != pos + 1;
}
