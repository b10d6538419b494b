#include "mapped_series.h"

#include "sites.h"

static bool outside_v8(unsigned owner)
{
    return owner != GCS_OWNER_V8_HEAP && owner != GCS_OWNER_V8_CODE;
}

static uint64_t history_sum(const uint64_t *committed)
{
    uint64_t sum = 0;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        if (outside_v8(o))
            sum += committed[o];
    return sum;
}

uint64_t gcs_mapped_series_add(struct gcs_mapped_series *h, const struct gcs_mapped *now, int64_t mono_ms)
{
    if (!now->have)
        return h->count > 0 ? history_sum(h->sample[(h->next + GCS_MAPPED_HISTORY - 1) % GCS_MAPPED_HISTORY].committed) : 0;
    unsigned i = h->next;
    h->sample[i].mono_ms = mono_ms;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        h->sample[i].committed[o] = now->owner[o].committed;
    h->next = (i + 1) % GCS_MAPPED_HISTORY;
    if (h->count < GCS_MAPPED_HISTORY)
        h->count++;
    return history_sum(h->sample[i].committed);
}

unsigned gcs_mapped_series_grown_owner(const struct gcs_mapped_series *h, int64_t since_mono_ms)
{
    unsigned best = GCS_OWNER_OTHER;
    if (h->count == 0)
        return best;
    /* The oldest sample at or after since_mono_ms, and the newest. */
    unsigned newest = (h->next + GCS_MAPPED_HISTORY - 1) % GCS_MAPPED_HISTORY;
    unsigned from = newest;
    for (unsigned k = 0; k < h->count; k++) {
        unsigned i = (h->next + GCS_MAPPED_HISTORY - h->count + k) % GCS_MAPPED_HISTORY;
        if (h->sample[i].mono_ms >= since_mono_ms) {
            from = i;
            break;
        }
    }
    int64_t best_growth = 0;
    for (unsigned o = 0; o < GCS_OWNERS; o++) {
        if (!outside_v8(o))
            continue;
        int64_t g = (int64_t)h->sample[newest].committed[o] - (int64_t)h->sample[from].committed[o];
        if (g > best_growth) {
            best_growth = g;
            best = o;
        }
    }
    return best;
}

