#include "registry.h"

#include <sched.h>
#include <string.h>

#include "clock.h"

static struct gcs_isolate slots[GCS_MAX_ISOLATES];
/* The isolate of each claimed slot (NULL while the slot is free), apart
 * from the slots: a slot is several KB, so a lookup that read each slot's
 * own fields would touch, and make resident, one page per slot. Set last
 * when a slot is claimed and cleared first when it is released, so a slot
 * found here was claimed for that isolate; its state is the slot's. */
static _Atomic(void *) claimed[GCS_MAX_ISOLATES];
static _Atomic int claim_lock;
static _Atomic uint64_t generation;
static _Atomic bool ever_attached;

/* A PENDING slot older than this whose isolate never attached (a Worker
 * that ended before its first interrupt) may be taken over when the table
 * is full. */
#define STALE_PENDING_MS 1000

struct gcs_isolate *gcs_registry_lookup(void *isolate)
{
    if (isolate == NULL)
        return NULL;
    for (int i = 0; i < GCS_MAX_ISOLATES; i++)
        if (atomic_load_explicit(&claimed[i], memory_order_acquire) == isolate)
            return &slots[i];
    return NULL;
}

struct gcs_isolate *gcs_registry_claim(void *isolate, int64_t now_ms, bool *full)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&claim_lock, &expected, 1))
        return NULL;
    struct gcs_isolate *s = gcs_registry_lookup(isolate);
    if (s == NULL) {
        struct gcs_isolate *stale = NULL;
        /* Stops at the first free slot: the slots after it stay untouched. */
        for (int i = 0; i < GCS_MAX_ISOLATES && s == NULL; i++) {
            int st = atomic_load(&slots[i].state);
            if (st == GCS_SLOT_FREE && atomic_load(&claimed[i]) == NULL)
                s = &slots[i];
            else if (st == GCS_SLOT_PENDING && stale == NULL &&
                     now_ms - atomic_load(&slots[i].last_request_ms) > STALE_PENDING_MS)
                stale = &slots[i];
        }
        if (s == NULL)
            s = stale;
        *full = s == NULL;
        if (s != NULL) {
            atomic_store(&s->last_request_ms, INT64_MIN / 2);
            atomic_store(&s->number, 0);
            atomic_store(&s->isolate, isolate);
            atomic_store(&s->state, GCS_SLOT_PENDING);
            atomic_store_explicit(&claimed[s - slots], isolate, memory_order_release);
        }
    }
    atomic_store(&claim_lock, 0);
    return s;
}

bool gcs_registry_begin_attach(struct gcs_isolate *s, void *isolate)
{
    int expected = GCS_SLOT_PENDING;
    if (atomic_load(&s->isolate) != isolate)
        return false;
    return atomic_compare_exchange_strong(&s->state, &expected, GCS_SLOT_ATTACHING);
}

void gcs_registry_finish_attach(struct gcs_isolate *s, uint32_t number)
{
    atomic_store(&ever_attached, true);
    atomic_store(&s->number, number);
    atomic_store_explicit(&s->state, GCS_SLOT_ATTACHED, memory_order_release);
}

void gcs_registry_release(struct gcs_isolate *s)
{
    atomic_store(&claimed[s - slots], NULL);
    atomic_store(&s->state, GCS_SLOT_FREE);
    atomic_store(&s->isolate, NULL);
    atomic_fetch_add(&generation, 1);
}

bool gcs_registry_ever_attached(void)
{
    return atomic_load(&ever_attached);
}

uint64_t gcs_registry_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_acquire);
}

void gcs_snapshot_publish(struct gcs_isolate *s)
{
    uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy(&s->published, &s->own, sizeof s->own);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

void gcs_snapshot_record(struct gcs_record *r, enum gcs_event ev, uint32_t isolate,
                         const struct gcs_snapshot *snap)
{
    memset(r, 0, sizeof *r);
    r->event = ev;
    r->isolate = isolate;
    r->ts_ms = gcs_wall_ms();
    r->gc = snap->gc;
    r->summary = snap->summary;
    r->verdict = snap->verdict;
    r->have_heap = snap->have_heap;
    r->heap = snap->heap;
}

bool gcs_snapshot_read(struct gcs_isolate *s, struct gcs_snapshot *out)
{
    /* The isolate's thread holds the count odd only for a copy of a few
     * kilobytes, unless it is preempted right then: then let it run. */
    for (int attempt = 0; attempt < 1024; attempt++) {
        if (attempt % 16 == 15)
            sched_yield();
        uint32_t before = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (before & 1)
            continue;
        memcpy(out, &s->published, sizeof *out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) == before)
            return true;
    }
    return false;
}

void gcs_registry_each_attached(void (*fn)(struct gcs_isolate *s, void *ctx), void *ctx)
{
    for (int i = 0; i < GCS_MAX_ISOLATES; i++)
        if (atomic_load_explicit(&claimed[i], memory_order_acquire) != NULL &&
            atomic_load_explicit(&slots[i].state, memory_order_acquire) == GCS_SLOT_ATTACHED)
            fn(&slots[i], ctx);
}

struct gcs_isolate *gcs_registry_find_number(uint32_t number)
{
    for (int i = 0; i < GCS_MAX_ISOLATES; i++)
        if (atomic_load_explicit(&claimed[i], memory_order_acquire) != NULL &&
            atomic_load_explicit(&slots[i].state, memory_order_acquire) == GCS_SLOT_ATTACHED &&
            atomic_load(&slots[i].number) == number)
            return &slots[i];
    return NULL;
}

void gcs_registry_reset(void)
{
    /* Only the claimed slots: the others were never written, or were
     * released (a release cut short by the fork leaves its slot unclaimed
     * but not free: one slot fewer in a child that runs no JavaScript). */
    for (int i = 0; i < GCS_MAX_ISOLATES; i++) {
        if (atomic_load(&claimed[i]) == NULL)
            continue;
        atomic_store(&claimed[i], NULL);
        atomic_store(&slots[i].state, GCS_SLOT_FREE);
        atomic_store(&slots[i].isolate, NULL);
    }
    atomic_store(&claim_lock, 0);
    atomic_fetch_add(&generation, 1);
}
