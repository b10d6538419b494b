/* A bounded lock-free queue of records: many producers (the JavaScript
 * threads of every isolate, in GC callbacks), one consumer (the output
 * thread). Push never blocks and never allocates: when the queue is full
 * the record is refused and the caller counts it as dropped.
 * The algorithm is Dmitry Vyukov's bounded MPMC queue. */
#ifndef GCSTATS_QUEUE_H
#define GCSTATS_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define GCS_QUEUE_CAPACITY 256u   /* a power of two */

struct gcs_queue_cell {
    _Atomic uint64_t seq;   /* the algorithm's sequence minus the cell's index */
    struct gcs_record rec;
};

struct gcs_queue {
    struct gcs_queue_cell cells[GCS_QUEUE_CAPACITY];
    _Alignas(64) _Atomic uint64_t enqueue_pos;
    _Alignas(64) _Atomic uint64_t dequeue_pos;
};

/* A zeroed queue (a static one) is empty and ready without this; init
 * empties a queue that was used, or one in memory that was not zeroed. */
void gcs_queue_init(struct gcs_queue *q);
bool gcs_queue_push(struct gcs_queue *q, const struct gcs_record *rec);
bool gcs_queue_pop(struct gcs_queue *q, struct gcs_record *out);
bool gcs_queue_empty(struct gcs_queue *q);

#endif
