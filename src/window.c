#include "window.h"

#include <string.h>

void gcs_windows_init(struct gcs_windows *w)
{
    memset(w, 0, sizeof *w);
}

uint32_t gcs_recent_size(uint64_t n)
{
    uint64_t half = (n + 1) / 2;
    return (uint32_t)(half < GCS_RECENT_WINDOW ? half : GCS_RECENT_WINDOW);
}

uint32_t gcs_long_size(uint64_t n)
{
    return (uint32_t)(n < GCS_LONG_WINDOW ? n : GCS_LONG_WINDOW);
}

void gcs_windows_add(struct gcs_windows *w, uint64_t used_bytes, int64_t when_ms)
{
    w->used[w->next] = used_bytes;
    w->next = (w->next + 1) % GCS_LONG_WINDOW;
    if (w->count == 0 || used_bytes < w->min.bytes)
        w->min = (struct gcs_extreme){ used_bytes, when_ms };
    if (w->count == 0 || used_bytes > w->max.bytes)
        w->max = (struct gcs_extreme){ used_bytes, when_ms };
    w->count++;
}

/* Mean of the newest k samples. Sums of up to 120 samples of at most 2^56
 * bytes cannot overflow 64 bits. */
static double newest_mean(const struct gcs_windows *w, uint32_t k)
{
    uint64_t sum = 0;
    uint32_t idx = w->next;
    for (uint32_t i = 0; i < k; i++) {
        idx = (idx + GCS_LONG_WINDOW - 1) % GCS_LONG_WINDOW;
        sum += w->used[idx];
    }
    return (double)sum / (double)k;
}

void gcs_windows_summarize(const struct gcs_windows *w, struct gcs_summary *out)
{
    memset(out, 0, sizeof *out);
    if (w->count == 0)
        return;
    out->samples = w->count;
    out->recent_n = gcs_recent_size(w->count);
    out->long_n = gcs_long_size(w->count);
    double recent = newest_mean(w, out->recent_n);
    double longterm = newest_mean(w, out->long_n);
    out->usage_trend = longterm > 0 ? (recent - longterm) / longterm * 100.0 : 0.0;
    out->estimated_base = (uint64_t)(recent + 0.5);
    out->current_base = w->used[(w->next + GCS_LONG_WINDOW - 1) % GCS_LONG_WINDOW];
    out->min = w->min;
    out->max = w->max;
}
