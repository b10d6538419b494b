#include "queue.h"

void gcs_queue_init(struct gcs_queue *q)
{
    for (uint64_t i = 0; i < GCS_QUEUE_CAPACITY; i++)
        atomic_store_explicit(&q->cells[i].seq, i, memory_order_relaxed);
    atomic_store_explicit(&q->enqueue_pos, 0, memory_order_relaxed);
    atomic_store_explicit(&q->dequeue_pos, 0, memory_order_release);
}

bool gcs_queue_push(struct gcs_queue *q, const struct gcs_record *rec)
{
    uint64_t pos = atomic_load_explicit(&q->enqueue_pos, memory_order_relaxed);
    for (;;) {
        struct gcs_queue_cell *cell = &q->cells[pos & (GCS_QUEUE_CAPACITY - 1)];
        uint64_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
        int64_t diff = (int64_t)(seq - pos);
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->enqueue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                cell->rec = *rec;
                atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
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
        struct gcs_queue_cell *cell = &q->cells[pos & (GCS_QUEUE_CAPACITY - 1)];
        uint64_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
        int64_t diff = (int64_t)(seq - (pos + 1));
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->dequeue_pos, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                *out = cell->rec;
                atomic_store_explicit(&cell->seq, pos + GCS_QUEUE_CAPACITY, memory_order_release);
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
    struct gcs_queue_cell *cell = &q->cells[pos & (GCS_QUEUE_CAPACITY - 1)];
    return atomic_load_explicit(&cell->seq, memory_order_acquire) != pos + 1;
}
