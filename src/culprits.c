#include "culprits.h"

#include <math.h>
#include <string.h>

bool gcs_js_frame_is_app(const struct gcs_js_frame *f)
{
    /* Node's own modules are "node:..." from Node 16 on; "internal/..."
     * and a bare module name are how older builds named them. */
    if (f->url[0] == '\0' || strncmp(f->url, "node:", 5) == 0 || strncmp(f->url, "internal/", 9) == 0)
        return false;
    return strchr(f->url, '/') != NULL || strchr(f->url, '\\') != NULL;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t frame_key(const struct gcs_js_frame *f)
{
    uint64_t h = 14695981039346656037ull;
    h = hash_bytes(h, f->function, strlen(f->function) + 1);
    h = hash_bytes(h, f->url, strlen(f->url) + 1);
    h = hash_bytes(h, &f->line, sizeof f->line);
    return hash_bytes(h, &f->column, sizeof f->column);
}

static bool same_frame(const struct gcs_js_frame *a, const struct gcs_js_frame *b)
{
    return a->line == b->line && a->column == b->column && strcmp(a->function, b->function) == 0 &&
           strcmp(a->url, b->url) == 0;
}

void gcs_culprit_table_init(struct gcs_culprit_table *t)
{
    t->n = 0;
    t->total_bytes = t->total_samples = t->other_bytes = t->held_bytes = 0;
}

int64_t gcs_culprit_held_after_ms(int64_t sampled_ms)
{
    int64_t half = sampled_ms > 0 ? sampled_ms / 2 : 0;
    return half < GCS_CULPRIT_HELD_RECENT_MS ? half : GCS_CULPRIT_HELD_RECENT_MS;
}

uint64_t gcs_culprit_held_below(uint64_t newest_sample_id, int64_t sampled_ms)
{
    if (sampled_ms <= 0)
        return newest_sample_id / 2;
    /* The numbers taken in the recent part, at an even rate. */
    unsigned __int128 recent = (unsigned __int128)newest_sample_id * (uint64_t)gcs_culprit_held_after_ms(sampled_ms);
    return newest_sample_id - (uint64_t)(recent / (uint64_t)sampled_ms);
}

void gcs_culprit_table_hold(struct gcs_culprit_table *t, int site, uint64_t bytes)
{
    if (site == GCS_CULPRIT_OTHER) {
        t->held_bytes += bytes;
        return;
    }
    if (site < 0 || (size_t)site >= t->n)
        return;
    t->site[site].held_bytes += bytes;
    t->held_bytes += bytes;
}

void gcs_culprit_node_map_clear(struct gcs_culprit_node_map *m)
{
    memset(m->used, 0, sizeof m->used);
    m->n = 0;
}

static size_t node_slot(uint32_t id)
{
    return (size_t)((id * 2654435761u) & (GCS_CULPRIT_NODE_MAP - 1));
}

bool gcs_culprit_node_map_put(struct gcs_culprit_node_map *m, uint32_t node_id, int site)
{
    size_t i = node_slot(node_id);
    for (size_t probes = 0; probes < GCS_CULPRIT_NODE_MAP; probes++, i = (i + 1) & (GCS_CULPRIT_NODE_MAP - 1)) {
        if (m->used[i] && m->id[i] != node_id)
            continue;
        if (!m->used[i]) {
            /* Half full at most: probes stay short. */
            if (m->n >= GCS_CULPRIT_NODE_MAP / 2)
                return false;
            m->used[i] = true;
            m->id[i] = node_id;
            m->n++;
        }
        m->site[i] = (int16_t)site;
        return true;
    }
    return false;
}

int gcs_culprit_node_map_get(const struct gcs_culprit_node_map *m, uint32_t node_id)
{
    size_t i = node_slot(node_id);
    for (size_t probes = 0; probes < GCS_CULPRIT_NODE_MAP && m->used[i];
         probes++, i = (i + 1) & (GCS_CULPRIT_NODE_MAP - 1))
        if (m->id[i] == node_id)
            return m->site[i];
    return -1;
}

uint64_t gcs_culprit_unscale(uint64_t size, uint64_t scaled, uint64_t interval_bytes)
{
    if (size == 0 || interval_bytes == 0)
        return scaled;
    double kept = 1.0 - exp(-(double)size / (double)interval_bytes);
    double raw = (double)scaled * kept;
    uint64_t n = (uint64_t)(raw + 0.5);
    return n == 0 && scaled > 0 ? 1 : n;
}

int gcs_culprit_table_add(struct gcs_culprit_table *t, const struct gcs_js_frame *const *path, int depth,
                          uint64_t size, uint64_t count, uint64_t interval_bytes)
{
    if (depth <= 0 || count == 0)
        return GCS_CULPRIT_NONE;
    uint64_t bytes = size * count;
    uint64_t samples = gcs_culprit_unscale(size, count, interval_bytes);
    t->total_bytes += bytes;
    t->total_samples += samples;

    int at = depth - 1;
    for (int i = depth - 1; i >= 0; i--) {
        if (gcs_js_frame_is_app(path[i])) {
            at = i;
            break;
        }
    }
    const struct gcs_js_frame *site = path[at];
    uint64_t key = frame_key(site);
    struct gcs_culprit_site *s = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (t->site[i].key == key && same_frame(&t->site[i].frame, site)) {
            s = &t->site[i];
            break;
        }
    }
    if (s == NULL) {
        if (t->n == GCS_CULPRIT_TABLE) {
            t->other_bytes += bytes;
            return GCS_CULPRIT_OTHER;
        }
        s = &t->site[t->n++];
        memset(s, 0, sizeof *s);
        s->frame = *site;
        s->key = key;
    }
    s->bytes += bytes;
    s->samples += samples;
    /* The callers and callee shown are those of the stack that holds the
     * most of the site's bytes. */
    if (bytes > s->callers_bytes) {
        s->callers_bytes = bytes;
        if (at != depth - 1)
            s->callee = *path[depth - 1];
        else
            s->callee.function[0] = s->callee.url[0] = '\0';
        s->ncallers = 0;
        for (int i = at - 1; i >= 0 && s->ncallers < GCS_CULPRIT_CALLERS; i--) {
            /* V8's synthetic root is no caller. */
            if (strcmp(path[i]->function, "(root)") == 0 && path[i]->url[0] == '\0')
                continue;
            s->callers[s->ncallers++] = *path[i];
        }
    }
    return (int)(s - t->site);
}

/* Held bytes first, then live bytes (which decide alone when nothing is
 * held yet), then the key: the same profile always ranks the same. */
static bool ranks_before(const struct gcs_culprit_site *a, const struct gcs_culprit_site *b)
{
    if (a->held_bytes != b->held_bytes)
        return a->held_bytes > b->held_bytes;
    return a->bytes != b->bytes ? a->bytes > b->bytes : a->key < b->key;
}

void gcs_culprits_rank(struct gcs_culprit_table *t, struct gcs_culprit_memory *mem, struct gcs_culprits *out)
{
    /* A partial selection: only the first few places are needed. */
    size_t want = t->n < GCS_CULPRIT_REMEMBERED ? t->n : GCS_CULPRIT_REMEMBERED;
    for (size_t i = 0; i < want; i++) {
        size_t best = i;
        for (size_t k = i + 1; k < t->n; k++)
            if (ranks_before(&t->site[k], &t->site[best]))
                best = k;
        if (best != i) {
            struct gcs_culprit_site tmp = t->site[i];
            t->site[i] = t->site[best];
            t->site[best] = tmp;
        }
    }
    out->total_bytes = t->total_bytes;
    out->total_samples = t->total_samples;
    out->held_bytes = t->held_bytes;
    out->n = want < GCS_CULPRITS_SHOWN ? want : GCS_CULPRITS_SHOWN;
    for (size_t i = 0; i < out->n; i++) {
        struct gcs_culprit_site *s = &out->top[i];
        *s = t->site[i];
        s->have_growth = mem->have;
        if (mem->have) {
            uint64_t before = 0;
            for (size_t k = 0; k < mem->n; k++)
                if (mem->key[k] == s->key)
                    before = mem->bytes[k];
            s->growth_bytes = (int64_t)s->bytes - (int64_t)before;
        }
    }
    mem->have = true;
    mem->n = want;
    for (size_t i = 0; i < want; i++) {
        mem->key[i] = t->site[i].key;
        mem->bytes[i] = t->site[i].bytes;
    }
}

bool gcs_culprits_growth_seen(const struct gcs_culprits_auto *c, double usage_trend_pct, uint64_t current_bytes,
                              uint64_t min_bytes, uint64_t samples)
{
    /* Two samples are the least that can show a direction. */
    return samples >= 2 && usage_trend_pct >= c->min_trend_pct && current_bytes >= min_bytes &&
           current_bytes - min_bytes >= c->min_rise_bytes;
}

int64_t gcs_culprits_max_gap_ms(uint32_t min_span_ms, uint32_t max_window_ms, uint32_t min_points)
{
    int64_t spacing = min_points > 1 ? (int64_t)max_window_ms / (min_points - 1) : (int64_t)max_window_ms;
    int64_t spans = 3 * (int64_t)min_span_ms;
    return spacing > spans ? spacing : spans;
}

bool gcs_culprits_auto_stops(const struct gcs_culprits_auto *c, bool verdict_unknown, bool culprits_owed,
                             int64_t now_ms, int64_t last_full_gc_ms)
{
    return verdict_unknown && !culprits_owed && now_ms - last_full_gc_ms > c->max_gap_ms;
}

int gcs_culprit_channel_claim(struct gcs_culprit_channel *c)
{
    for (int i = 0; i < GCS_CULPRIT_SLOTS; i++) {
        int expected = GCS_CULPRIT_SLOT_EMPTY;
        if (atomic_compare_exchange_strong(&c->state[i], &expected, GCS_CULPRIT_SLOT_FILLING))
            return i;
    }
    return -1;
}

void gcs_culprit_channel_ready(struct gcs_culprit_channel *c, int slot)
{
    atomic_store_explicit(&c->state[slot], GCS_CULPRIT_SLOT_READY, memory_order_release);
}

void gcs_culprit_channel_release(struct gcs_culprit_channel *c, int slot)
{
    if (slot >= 0 && slot < GCS_CULPRIT_SLOTS)
        atomic_store_explicit(&c->state[slot], GCS_CULPRIT_SLOT_EMPTY, memory_order_release);
}

bool gcs_culprit_channel_take(struct gcs_culprit_channel *c, int slot, struct gcs_culprits *out)
{
    if (slot < 0 || slot >= GCS_CULPRIT_SLOTS ||
        atomic_load_explicit(&c->state[slot], memory_order_acquire) != GCS_CULPRIT_SLOT_READY)
        return false;
    *out = c->slot[slot];
    gcs_culprit_channel_release(c, slot);
    return true;
}
