#include "lines.h"

#include <stdio.h>
#include <string.h>

#include "sites.h"

static const char *event_name(enum gcs_event e)
{
    switch (e) {
    case GCS_EV_START: return "start";
    case GCS_EV_STATS: return "stats";
    case GCS_EV_TICK: return "tick";
    case GCS_EV_END: return "end";
    case GCS_EV_EXIT: return "exit";
    case GCS_EV_ERROR: return "error";
    case GCS_EV_LEAK: return "leak";
    case GCS_EV_LEAK_END: return "leak_end";
    case GCS_EV_SITES: return "sites";
    case GCS_EV_CULPRITS: return "culprits";
    }
    return "error";
}

uint64_t gcs_num_full_gc(const struct gcs_gc_counts *c)
{
    return c->count[GCS_KIND_MARK_COMPACT];
}

uint64_t gcs_num_inc_gc(const struct gcs_gc_counts *c)
{
    return c->count[GCS_KIND_SCAVENGE] + c->count[GCS_KIND_MINOR_MS] +
           c->count[GCS_KIND_INCREMENTAL];
}

static void put_ms(struct gcs_json *j, const char *key, uint64_t ns)
{
    gcs_json_fixed(j, key, (double)ns / 1e6, 3);
}

static void put_counters(struct gcs_json *j, const struct gcs_record *r)
{
    gcs_json_u64(j, "num_full_gc", gcs_num_full_gc(&r->gc));
    gcs_json_u64(j, "num_inc_gc", gcs_num_inc_gc(&r->gc));
    gcs_json_u64(j, "heap_compactions", r->summary.samples);
    gcs_json_object_begin(j, "gc");
    for (int k = 0; k < GCS_KIND_COUNT; k++) {
        gcs_json_object_begin(j, gcs_gc_kind_name(k));
        gcs_json_u64(j, "count", r->gc.count[k]);
        put_ms(j, "pause_ms", r->gc.pause_ns[k]);
        gcs_json_object_end(j);
    }
    gcs_json_object_end(j);
}

static void put_extreme(struct gcs_json *j, const char *key, const struct gcs_extreme *e, bool have)
{
    if (!have) {
        gcs_json_null(j, key);
        return;
    }
    gcs_json_object_begin(j, key);
    gcs_json_u64(j, "bytes", e->bytes);
    gcs_json_time(j, "when", e->when_ms);
    gcs_json_object_end(j);
}

/* The post-compaction statistics; before the first sample they are null,
 * not zero, so that nobody mistakes "not measured" for "empty heap". */
static void put_summary(struct gcs_json *j, const struct gcs_summary *s)
{
    bool have = s->samples > 0;
    if (have) {
        gcs_json_fixed(j, "usage_trend", s->usage_trend, 2);
        gcs_json_u64(j, "estimated_base", s->estimated_base);
        gcs_json_u64(j, "current_base", s->current_base);
    } else {
        gcs_json_null(j, "usage_trend");
        gcs_json_null(j, "estimated_base");
        gcs_json_null(j, "current_base");
    }
    put_extreme(j, "min", &s->min, have);
    put_extreme(j, "max", &s->max, have);
    gcs_json_u64(j, "recent_samples", s->recent_n);
    gcs_json_u64(j, "long_samples", s->long_n);
}

static const char *const memory_names[GCS_MEM_COUNT] = { "heap", "external", "mapped" };

/* How the reasons name each series. */
static const char *memory_phrase(enum gcs_memory m)
{
    switch (m) {
    case GCS_MEM_HEAP: return "V8 heap";
    case GCS_MEM_EXTERNAL: return "external memory (Buffers, ArrayBuffers)";
    case GCS_MEM_MAPPED: return "memory mapped outside the V8 heap";
    case GCS_MEM_COUNT: break;
    }
    return "memory";
}

static const char *owner_name(const struct gcs_mapped *m, unsigned owner)
{
    if (!m->have || owner >= GCS_OWNERS)
        return NULL;
    return m->name[owner];
}

/* The series whose state is the most serious; the heap wins ties. */
static enum gcs_memory worst_series(const struct gcs_verdict *v)
{
    enum gcs_memory worst = GCS_MEM_HEAP;
    for (int m = 1; m < GCS_MEM_COUNT; m++)
        if (v->series[m].state > v->series[worst].state)
            worst = (enum gcs_memory)m;
    return worst;
}

static void put_window(struct gcs_json *j, const struct gcs_assessment *a)
{
    gcs_json_object_begin(j, "window");
    gcs_json_time(j, "from", a->from_ms);
    gcs_json_time(j, "to", a->to_ms);
    gcs_json_fixed(j, "seconds", (double)(a->to_ms - a->from_ms) / 1000.0, 1);
    gcs_json_u64(j, "samples", a->points);
    gcs_json_object_end(j);
}

static void put_rate(struct gcs_json *j, const char *key, double bytes_per_s)
{
    if (bytes_per_s > -1e15 && bytes_per_s < 1e15)
        gcs_json_fixed(j, key, bytes_per_s, 0);
    else
        gcs_json_null(j, key);
}

/* Every stats, tick, end and exit line: the overall state, and each
 * series' state and rate, so that the last line alone answers. */
static void put_verdict(struct gcs_json *j, const struct gcs_verdict *v)
{
    enum gcs_memory worst = worst_series(v);
    const struct gcs_series_verdict *w = &v->series[worst];
    gcs_json_object_begin(j, "verdict");
    gcs_json_str(j, "state", gcs_state_name(w->state));
    if (w->state == GCS_STATE_GROWING || w->state == GCS_STATE_LEAK) {
        gcs_json_str(j, "memory", memory_names[worst]);
        put_rate(j, "rate_bytes_per_s", w->a.rate);
        gcs_json_time(j, "since", w->since_ms);
    } else {
        gcs_json_null(j, "memory");
        gcs_json_null(j, "rate_bytes_per_s");
        gcs_json_null(j, "since");
    }
    gcs_json_object_end(j);
    gcs_json_object_begin(j, "trend");
    for (int m = 0; m < GCS_MEM_COUNT; m++) {
        const struct gcs_series_verdict *sv = &v->series[m];
        gcs_json_object_begin(j, memory_names[m]);
        gcs_json_str(j, "state", gcs_state_name(sv->state));
        gcs_json_u64(j, "samples", sv->a.points);
        if (sv->a.points >= 2) {
            put_rate(j, "rate_bytes_per_s", sv->a.rate);
            gcs_json_fixed(j, "window_s", (double)(sv->a.to_ms - sv->a.from_ms) / 1000.0, 1);
        } else {
            gcs_json_null(j, "rate_bytes_per_s");
            gcs_json_null(j, "window_s");
        }
        gcs_json_object_end(j);
    }
    gcs_json_object_end(j);
}

/* Copies text into out[cap]. A text too long is cut after a whole word,
 * at the last space that leaves room for "...", and ends with "...";
 * with no space there, after the last whole UTF-8 character: a cut in the
 * middle of a word reads as a different word, and a cut inside a
 * character would show as U+FFFD. */
static void copy_cut(char *out, size_t cap, const char *text)
{
    static const char ellipsis[] = "...";
    size_t len = strlen(text);
    if (len < cap) {
        memcpy(out, text, len + 1);
        return;
    }
    size_t room = cap - sizeof ellipsis;   /* bytes of text that can stay */
    size_t cut = room;
    while (cut > 0 && text[cut] != ' ')
        cut--;
    while (cut > 0 && text[cut - 1] == ' ')
        cut--;
    if (cut == 0) {
        cut = room;
        /* Back to the first byte of the character at the cut (UTF-8
         * continuation bytes are 10xxxxxx, and a character has at most
         * three): everything before it is whole. */
        for (int back = 0; back < 3 && cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80; back++)
            cut--;
    }
    memcpy(out, text, cut);
    memcpy(out + cut, ellipsis, sizeof ellipsis);
}

/* A number inside a reason, with `decimals` digits: formatted as the JSON
 * numbers are, so that LC_NUMERIC cannot turn "6.1 MB" into "6,1 MB". */
static const char *number_text(char out[GCS_FIXED_MAX], double v, int decimals)
{
    if (gcs_format_fixed(v, decimals, out) == 0)
        snprintf(out, GCS_FIXED_MAX, "?");
    return out;
}

static void put_leak(struct gcs_json *j, const struct gcs_record *r)
{
    const struct gcs_series_verdict *sv = &r->verdict.series[r->memory];
    const struct gcs_assessment *a = &sv->a;
    char what[128];
    const char *owner = r->memory == GCS_MEM_MAPPED ? owner_name(&r->mapped, r->mapped_owner) : NULL;
    gcs_json_str(j, "memory", memory_names[r->memory]);
    if (r->memory == GCS_MEM_MAPPED)
        gcs_json_str(j, "owner", owner);
    gcs_json_fixed(j, "growth_bytes", a->growth, 0);
    put_rate(j, "rate_bytes_per_s", a->rate);
    put_rate(j, "rate_low_bytes_per_s", a->rate_low);
    put_rate(j, "recent_rate_bytes_per_s", a->recent_rate);
    gcs_json_fixed(j, "confidence", a->confidence, 4);
    put_window(j, a);
    gcs_json_fixed(j, "level_bytes", a->level_end, 0);
    bool heap = r->memory == GCS_MEM_HEAP;
    if (heap && r->have_heap && r->heap.limit > 0) {
        gcs_json_u64(j, "limit_bytes", r->heap.limit);
        double left = (double)r->heap.limit - a->level_end;
        gcs_json_fixed(j, "seconds_to_limit", a->rate > 0 && left > 0 ? left / a->rate : 0.0, 0);
    } else {
        gcs_json_null(j, "limit_bytes");
        gcs_json_null(j, "seconds_to_limit");
    }
    gcs_json_time(j, "since", sv->since_ms);
    gcs_json_u64(j, "report", sv->reports);
    if (owner != NULL)
        snprintf(what, sizeof what, "%s (most of it by %s)", memory_phrase(r->memory), owner);
    else
        snprintf(what, sizeof what, "%s", memory_phrase(r->memory));
    char growth_mb[GCS_FIXED_MAX], seconds[GCS_FIXED_MAX], rate_kb[GCS_FIXED_MAX], low_kb[GCS_FIXED_MAX];
    char whole[sizeof what + 4 * GCS_FIXED_MAX + 128], reason[GCS_TEXT_MAX];
    snprintf(whole, sizeof whole,
             "the %s after full GCs grew by %s MB in %s s (%s kB/s, at least %s kB/s with 95%% "
             "confidence) and is still growing",
             what, number_text(growth_mb, a->growth / 1e6, 1),
             number_text(seconds, (double)(a->to_ms - a->from_ms) / 1000.0, 0),
             number_text(rate_kb, a->rate / 1e3, 1), number_text(low_kb, a->rate_low / 1e3, 1));
    copy_cut(reason, sizeof reason, whole);
    gcs_json_str(j, "reason", reason);
}

static void put_leak_end(struct gcs_json *j, const struct gcs_record *r)
{
    const struct gcs_series_verdict *sv = &r->verdict.series[r->memory];
    char reason[GCS_TEXT_MAX];
    gcs_json_str(j, "memory", memory_names[r->memory]);
    gcs_json_str(j, "state", gcs_state_name(sv->state));
    put_rate(j, "recent_rate_bytes_per_s", sv->a.recent_rate);
    put_rate(j, "leak_rate_bytes_per_s", sv->onset_rate);
    put_window(j, &sv->a);
    char recent_kb[GCS_FIXED_MAX], onset_kb[GCS_FIXED_MAX];
    snprintf(reason, sizeof reason,
             "the %s stopped growing: %s kB/s lately, against %s kB/s when the leak was reported",
             memory_phrase(r->memory), number_text(recent_kb, sv->a.recent_rate / 1e3, 1),
             number_text(onset_kb, sv->onset_rate / 1e3, 1));
    gcs_json_str(j, "reason", reason);
}

static void put_self_cost(struct gcs_json *j, const struct gcs_record *r)
{
    gcs_json_object_begin(j, "self");
    gcs_json_u64(j, "callbacks", r->gc.callbacks);
    gcs_json_u64(j, "callback_ns", r->gc.callback_ns);
    gcs_json_u64(j, "probes", r->gc.probes);
    gcs_json_u64(j, "probe_cpu_ns", r->gc.probe_cpu_ns);
    gcs_json_u64(j, "sampler_starts", r->gc.sampler_starts);
    gcs_json_u64(j, "sampler_stops", r->gc.sampler_stops);
    gcs_json_object_end(j);
}

static void put_heap(struct gcs_json *j, const struct gcs_record *r)
{
    if (!r->have_heap) {
        gcs_json_null(j, "heap");
        return;
    }
    const struct gcs_heap_stats *h = &r->heap;
    gcs_json_object_begin(j, "heap");
    gcs_json_u64(j, "used", h->used);
    gcs_json_u64(j, "total", h->total);
    gcs_json_u64(j, "limit", h->limit);
    gcs_json_u64(j, "external", h->external);
    gcs_json_u64(j, "physical", h->physical);
    gcs_json_u64(j, "available", h->available);
    gcs_json_u64(j, "malloced", h->malloced);
    gcs_json_u64(j, "native_contexts", h->native_contexts);
    gcs_json_u64(j, "detached_contexts", h->detached_contexts);
    if (h->have_total_allocated)
        gcs_json_u64(j, "total_allocated", h->total_allocated);
    else
        gcs_json_null(j, "total_allocated");
    gcs_json_object_end(j);
}

static void put_usage(struct gcs_json *j, const char *key, const struct gcs_usage *u, bool peak_reserved)
{
    gcs_json_object_begin(j, key);
    gcs_json_u64(j, "reserved", u->reserved);
    gcs_json_u64(j, "committed", u->committed);
    if (peak_reserved)
        gcs_json_u64(j, "peak_reserved", u->peak_reserved);
    gcs_json_u64(j, "peak_committed", u->peak_committed);
    gcs_json_object_end(j);
}

/* Mapped bytes: the total, then by owner. The five fixed owners always
 * appear; a named object once it has mapped something. */
static void put_mapped(struct gcs_json *j, const struct gcs_mapped *m)
{
    if (m == NULL || !m->have) {
        gcs_json_null(j, "mapped");
        return;
    }
    gcs_json_object_begin(j, "mapped");
    gcs_json_u64(j, "reserved", m->total.reserved);
    gcs_json_u64(j, "committed", m->total.committed);
    gcs_json_u64(j, "peak_reserved", m->total.peak_reserved);
    gcs_json_u64(j, "peak_committed", m->total.peak_committed);
    gcs_json_bool(j, "complete", !m->incomplete);
    gcs_json_object_begin(j, "owners");
    for (unsigned o = 0; o < GCS_OWNERS; o++) {
        if (m->name[o] == NULL || (o >= GCS_OWNER_FIRST_OBJECT && m->owner[o].peak_reserved == 0))
            continue;
        put_usage(j, m->name[o], &m->owner[o], false);
    }
    gcs_json_object_end(j);
    gcs_json_object_end(j);
}

static void put_rss(struct gcs_json *j, const struct gcs_record *r)
{
    if (r->have_rss)
        gcs_json_u64(j, "rss", r->rss_bytes);
    else
        gcs_json_null(j, "rss");
    if (r->rss_peak_bytes)
        gcs_json_u64(j, "rss_peak", r->rss_peak_bytes);
    else
        gcs_json_null(j, "rss_peak");
}

void gcs_error_record(struct gcs_record *r, int64_t ts_ms, uint32_t isolate, const char *reason)
{
    memset(r, 0, sizeof *r);
    r->event = GCS_EV_ERROR;
    r->ts_ms = ts_ms;
    r->isolate = isolate;
    copy_cut(r->text, sizeof r->text, reason);
}

/* A frame in short, for callers and callees: "function file:line:column",
 * the script's URL cut to its last path component. */
static void put_short_frame(struct gcs_json *j, const char *key, const struct gcs_js_frame *f)
{
    const char *file = strrchr(f->url, '/');
    file = file != NULL ? file + 1 : f->url;
    char text[GCS_JS_FUNCTION_MAX + GCS_JS_URL_MAX + 32];
    if (file[0] != '\0')
        snprintf(text, sizeof text, "%s %s:%d:%d", f->function[0] ? f->function : "(anonymous)", file,
                 (int)f->line, (int)f->column);
    else
        snprintf(text, sizeof text, "%s", f->function[0] ? f->function : "(anonymous)");
    gcs_json_str(j, key, text);
}

static size_t format_culprits(struct gcs_json *j, const struct gcs_record *r, const struct gcs_culprits *c,
                              size_t shown, const struct gcs_process_info *p, uint64_t dropped)
{
    gcs_json_begin(j);
    gcs_json_str(j, "event", "culprits");
    gcs_json_time(j, "ts", r->ts_ms);
    gcs_json_i64(j, "pid", p->pid);
    gcs_json_u64(j, "isolate", r->isolate);
    gcs_json_u64(j, "dropped", dropped);
    gcs_json_str(j, "memory", "heap");
    gcs_json_u64(j, "report", c->report);
    gcs_json_time(j, "sampling_since", c->since_ms);
    gcs_json_u64(j, "interval_bytes", c->interval_bytes);
    gcs_json_u64(j, "sampled_bytes", c->total_bytes);
    gcs_json_u64(j, "samples", c->total_samples);
    gcs_json_u64(j, "samples_at_leak", c->samples_at_leak);
    gcs_json_u64(j, "held_bytes", c->held_bytes);
    gcs_json_fixed(j, "held_after_s", (double)c->held_after_ms / 1000.0, 1);
    gcs_json_u64(j, "nodes", c->nodes);
    gcs_json_bool(j, "cut", c->cut);
    gcs_json_str(j, "profile", c->profile_path[0] ? c->profile_path : NULL);
    gcs_json_bool(j, "profile_cut", c->profile_path[0] && c->profile_cut);
    put_ms(j, "read_ms", c->read_ns);
    if (c->have_previous)
        gcs_json_time(j, "previous", c->previous_ms);
    else
        gcs_json_null(j, "previous");
    gcs_json_array_begin(j, "sites");
    for (size_t i = 0; i < shown && i < c->n; i++) {
        const struct gcs_culprit_site *s = &c->top[i];
        gcs_json_object_begin(j, NULL);
        gcs_json_str(j, "function", s->frame.function);
        gcs_json_str(j, "url", s->frame.url);
        gcs_json_u64(j, "line", (uint64_t)s->frame.line);
        gcs_json_u64(j, "column", (uint64_t)s->frame.column);
        gcs_json_u64(j, "bytes", s->bytes);
        gcs_json_fixed(j, "share", c->total_bytes ? (double)s->bytes / (double)c->total_bytes : 0.0, 3);
        gcs_json_u64(j, "held_bytes", s->held_bytes);
        gcs_json_u64(j, "samples", s->samples);
        if (s->have_growth)
            gcs_json_i64(j, "growth_bytes", s->growth_bytes);
        else
            gcs_json_null(j, "growth_bytes");
        if (s->callee.function[0] || s->callee.url[0])
            put_short_frame(j, "callee", &s->callee);
        else
            gcs_json_null(j, "callee");
        gcs_json_array_begin(j, "callers");
        for (int k = 0; k < s->ncallers; k++)
            put_short_frame(j, NULL, &s->callers[k]);
        gcs_json_array_end(j);
        gcs_json_object_end(j);
    }
    gcs_json_array_end(j);
    gcs_json_u64(j, "shown", shown < c->n ? shown : c->n);
    return gcs_json_end(j);
}

size_t gcs_format_record(struct gcs_json *j, const struct gcs_record *r,
                         const struct gcs_process_info *p, uint64_t dropped)
{
    if (r->event == GCS_EV_CULPRITS) {
        if (r->culprits == NULL)
            return 0;
        /* Long names and URLs can make all the sites too long for a line:
         * show fewer rather than none. */
        for (size_t shown = r->culprits->n + 1; shown-- > 0;) {
            size_t len = format_culprits(j, r, r->culprits, shown, p, dropped);
            if (len > 0)
                return len;
        }
        return 0;
    }
    gcs_json_begin(j);
    gcs_json_str(j, "event", event_name(r->event));
    gcs_json_time(j, "ts", r->ts_ms);
    gcs_json_i64(j, "pid", p->pid);
    gcs_json_u64(j, "isolate", r->isolate);
    gcs_json_u64(j, "dropped", dropped);

    switch (r->event) {
    case GCS_EV_START: {
        char addr[24];
        snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)r->v8_isolate);
        gcs_json_str(j, "gcstats", GCSTATS_VERSION);
        gcs_json_str(j, "node", p->node_version && p->node_version[0] ? p->node_version : NULL);
        gcs_json_str(j, "v8", p->v8_version);
        gcs_json_str(j, "thread", r->main_thread ? "main" : "worker");
        gcs_json_str(j, "v8_isolate", addr);
        gcs_json_bool(j, "probing", r->probing);
        gcs_json_object_begin(j, "settings");
        gcs_json_str(j, "destination", p->destination);
        gcs_json_fixed(j, "interval_s", p->interval_ms / 1000.0, 3);
        gcs_json_bool(j, "maps", p->maps);
        gcs_json_fixed(j, "sites_s", p->sites_interval_ms / 1000.0, 3);
        gcs_json_fixed(j, "probe_s", p->probe_ms / 1000.0, 3);
        gcs_json_fixed(j, "probe_budget_pct", p->probe_budget_mpct / 1000.0, 3);
        gcs_json_str(j, "culprits", p->culprits);
        gcs_json_u64(j, "culprits_interval_bytes", p->culprits_interval_bytes);
        gcs_json_object_end(j);
        break;
    }
    case GCS_EV_STATS:
        put_counters(j, r);
        put_summary(j, &r->summary);
        put_verdict(j, &r->verdict);
        put_heap(j, r);
        put_ms(j, "pause_ms", r->pause_ns);
        gcs_json_bool(j, "forced", r->forced);
        gcs_json_bool(j, "probe", r->probe);
        gcs_json_u64(j, "probe_cpu_ns", r->probe_cpu_ns);
        put_rss(j, r);
        put_mapped(j, &r->mapped);
        break;
    case GCS_EV_TICK:
    case GCS_EV_END:
    case GCS_EV_EXIT:
        put_counters(j, r);
        put_summary(j, &r->summary);
        put_verdict(j, &r->verdict);
        put_heap(j, r);
        put_rss(j, r);
        put_mapped(j, &r->mapped);
        put_self_cost(j, r);
        break;
    case GCS_EV_ERROR:
        gcs_json_str(j, "reason", r->text);
        break;
    case GCS_EV_LEAK:
        put_leak(j, r);
        break;
    case GCS_EV_LEAK_END:
        put_leak_end(j, r);
        break;
    case GCS_EV_SITES:
    case GCS_EV_CULPRITS:
        break;
    }
    return gcs_json_end(j);
}

static void put_frame(struct gcs_json *j, const struct gcs_site_frame *f)
{
    char text[sizeof f->function + sizeof f->object + 32];
    if (f->function[0])
        snprintf(text, sizeof text, "%s+0x%llx (%s)", f->function, (unsigned long long)f->offset,
                 f->object[0] ? f->object : "?");
    else
        snprintf(text, sizeof text, "%s+0x%llx", f->object[0] ? f->object : "?",
                 (unsigned long long)f->offset);
    gcs_json_str(j, NULL, text);
}

static size_t format_sites(struct gcs_json *j, int64_t ts_ms, const struct gcs_mapped *mapped,
                           const struct gcs_site_report *sites, size_t n,
                           const struct gcs_process_info *p, uint64_t dropped)
{
    gcs_json_begin(j);
    gcs_json_str(j, "event", "sites");
    gcs_json_time(j, "ts", ts_ms);
    gcs_json_i64(j, "pid", p->pid);
    gcs_json_u64(j, "isolate", 1);
    gcs_json_u64(j, "dropped", dropped);
    put_mapped(j, mapped);
    gcs_json_array_begin(j, "sites");
    for (size_t i = 0; i < n; i++) {
        const struct gcs_site_report *s = &sites[i];
        gcs_json_object_begin(j, NULL);
        gcs_json_str(j, "owner", s->owner);
        gcs_json_u64(j, "reserved", s->usage.reserved);
        gcs_json_u64(j, "committed", s->usage.committed);
        gcs_json_u64(j, "peak_committed", s->usage.peak_committed);
        gcs_json_u64(j, "resident", s->resident);
        if (s->nframes > 0) {
            gcs_json_str(j, "function", s->frame[0].function[0] ? s->frame[0].function : NULL);
            gcs_json_str(j, "object", s->frame[0].object[0] ? s->frame[0].object : NULL);
        } else {
            gcs_json_null(j, "function");
            gcs_json_null(j, "object");
        }
        gcs_json_array_begin(j, "stack");
        for (int f = 0; f < s->nframes; f++)
            put_frame(j, &s->frame[f]);
        gcs_json_array_end(j);
        gcs_json_object_end(j);
    }
    gcs_json_array_end(j);
    return gcs_json_end(j);
}

size_t gcs_format_sites(struct gcs_json *j, int64_t ts_ms, const struct gcs_mapped *mapped,
                        const struct gcs_site_report *sites, size_t n,
                        const struct gcs_process_info *p, uint64_t dropped, size_t *shown)
{
    /* Long C++ names can make a full list too long for one line: show
     * fewer sites rather than none. */
    for (size_t k = n + 1; k-- > 0;) {
        size_t len = format_sites(j, ts_ms, mapped, sites, k, p, dropped);
        if (len > 0) {
            *shown = k;
            return len;
        }
    }
    *shown = 0;
    return 0;
}
