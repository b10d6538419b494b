/* The report's model: lines in, per-isolate summaries and bounded series
 * out. Pure: no I/O but the warn callback. */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Copies, cut to fit (names and reasons are bounded in the lines too). */
static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void warnf(struct gcs_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct gcs_report *r, const char *fmt, ...)
{
    if (!r->warn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->warn(r->warn_ctx, msg);
}

void gcs_report_init(struct gcs_report *r, gcs_rpt_warn_fn *warn, void *warn_ctx)
{
    memset(r, 0, sizeof *r);
    r->warn = warn;
    r->warn_ctx = warn_ctx;
}

static void free_group(struct gcs_rpt_group *g)
{
    gcs_series_free(g->heap);
    gcs_series_free(g->external);
    gcs_series_free(g->rss);
    gcs_series_free(g->mapped);
    for (uint32_t i = 0; i < g->n_owners; i++)
        gcs_series_free(g->owners[i].committed);
    free(g->leaks);
    free(g->errors);
    free(g);
}

void gcs_report_free(struct gcs_report *r)
{
    for (size_t i = 0; i < r->n_groups; i++)
        free_group(r->groups[i]);
    free(r->groups);
    free(r->index);
    memset(r, 0, sizeof *r);
}

void gcs_report_file_begin(struct gcs_report *r, const char *file)
{
    copy(r->file, sizeof r->file, file);
    r->file_messages = 0;
    r->file_bad = 0;
    r->n_unknown_events = 0;
}

void gcs_report_file_end(struct gcs_report *r)
{
    if (r->file_messages > GCS_RPT_MESSAGES_PER_FILE)
        warnf(r, "%s: %llu more bad lines not shown (%llu in all)", r->file,
              (unsigned long long)(r->file_messages - GCS_RPT_MESSAGES_PER_FILE),
              (unsigned long long)r->file_bad);
}

static void message(struct gcs_report *r, uint64_t line_no, const char *what)
{
    if (++r->file_messages <= GCS_RPT_MESSAGES_PER_FILE)
        warnf(r, "%s:%llu: %s", r->file, (unsigned long long)line_no, what);
}

void gcs_report_bad(struct gcs_report *r, uint64_t line_no, const char *what)
{
    r->lines_bad++;
    r->file_bad++;
    message(r, line_no, what);
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no libc time function, no time zone. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2026-11-26T03:20:40.123Z" (the fraction and the Z may be missing). */
bool gcs_parse_time(const char *iso, int64_t *epoch_ms)
{
    int y, mo, d, h, mi, s, used = 0;
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 || used != 19)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
        return false;
    const char *p = iso + used;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        if (digits == 0)
            return false;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *epoch_ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000 + ms;
    return true;
}

/* ---- series ---- */

static void bucket_add(struct gcs_rpt_bucket *b, double v)
{
    if (b->n++ == 0) {
        b->min = b->max = v;
        b->min_first = true;
        return;
    }
    if (v < b->min) {
        b->min = v;
        b->min_first = false;
    } else if (v > b->max) {
        b->max = v;
        b->min_first = true;
    }
}

/* a came before b */
static struct gcs_rpt_bucket bucket_merge(const struct gcs_rpt_bucket *a, const struct gcs_rpt_bucket *b)
{
    if (a->n == 0)
        return *b;
    if (b->n == 0)
        return *a;
    struct gcs_rpt_bucket m = { .n = a->n + b->n };
    bool min_in_a = a->min <= b->min, max_in_a = a->max >= b->max;
    m.min = min_in_a ? a->min : b->min;
    m.max = max_in_a ? a->max : b->max;
    if (min_in_a == max_in_a)
        m.min_first = min_in_a ? a->min_first : b->min_first;
    else
        m.min_first = min_in_a;
    return m;
}

struct gcs_rpt_series *gcs_series_new(bool buckets)
{
    struct gcs_rpt_series *s = calloc(1, sizeof *s);
    if (s && buckets && !(s->b = calloc(GCS_RPT_BUCKETS, sizeof *s->b))) {
        free(s);
        return NULL;
    }
    return s;
}

void gcs_series_free(struct gcs_rpt_series *s)
{
    if (s)
        free(s->b);
    free(s);
}

void gcs_series_add(struct gcs_rpt_series *s, int64_t t_ms, double v)
{
    if (!isfinite(v))
        return;
    if (s->n == 0) {
        s->t0_ms = t_ms;
        s->width_ms = GCS_RPT_WIDTH0_MS;
        s->first = s->min = s->max = v;
        s->first_ms = s->end_ms = t_ms;
    }
    s->n++;
    s->last = v;
    s->last_ms = t_ms;
    if (t_ms > s->end_ms)
        s->end_ms = t_ms;
    if (v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    if (!s->b)
        return;
    /* Lines out of order (files given newest first) land in the first
     * bucket rather than before it. */
    int64_t dt = t_ms > s->t0_ms ? t_ms - s->t0_ms : 0;
    while (dt / s->width_ms >= GCS_RPT_BUCKETS) {
        for (uint32_t i = 0; i < GCS_RPT_BUCKETS / 2; i++)
            s->b[i] = bucket_merge(&s->b[2 * i], &s->b[2 * i + 1]);
        memset(&s->b[GCS_RPT_BUCKETS / 2], 0, sizeof s->b[0] * (GCS_RPT_BUCKETS / 2));
        s->used = (s->used + 1) / 2;
        s->width_ms *= 2;
    }
    uint32_t i = (uint32_t)(dt / s->width_ms);
    bucket_add(&s->b[i], v);
    if (i + 1 > s->used)
        s->used = i + 1;
}

size_t gcs_series_points(const struct gcs_rpt_series *s, int64_t *t_ms, double *v, size_t max)
{
    size_t n = 0;
    if (!s || !s->b)
        return 0;
    /* a bucket's points are drawn inside it, but never after the last point */
#define AT(ms) ((ms) < s->end_ms ? (ms) : s->end_ms)
    for (uint32_t i = 0; i < s->used && n < max; i++) {
        const struct gcs_rpt_bucket *b = &s->b[i];
        if (b->n == 0)
            continue;
        int64_t start = s->t0_ms + (int64_t)i * s->width_ms;
        if (b->n == 1 || b->min == b->max) {
            /* one point: its own time while buckets are narrow */
            t_ms[n] = AT(b->n == 1 && s->width_ms == GCS_RPT_WIDTH0_MS ? start : start + s->width_ms / 2);
            v[n++] = b->min;
            continue;
        }
        double first = b->min_first ? b->min : b->max, second = b->min_first ? b->max : b->min;
        t_ms[n] = AT(start + s->width_ms / 4);
        v[n++] = first;
        if (n < max) {
            t_ms[n] = AT(start + 3 * s->width_ms / 4);
            v[n++] = second;
        }
    }
#undef AT
    return n;
}

static void add_point(const struct gcs_rpt_group *g, struct gcs_rpt_series **s, int64_t t_ms, double v)
{
    if (!*s && !(*s = gcs_series_new(g->charted)))
        return;
    gcs_series_add(*s, t_ms, v);
}

/* ---- groups ---- */

static size_t hash(int64_t pid, uint32_t isolate, size_t size)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ull ^ (uint64_t)isolate * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29)) & (size - 1);
}

static bool index_put(struct gcs_report *r, size_t group)
{
    if ((r->n_groups + 1) * 2 > r->index_size) {
        size_t size = r->index_size ? r->index_size * 2 : 64;
        int32_t *index = malloc(size * sizeof *index);
        if (!index)
            return false;
        for (size_t i = 0; i < size; i++)
            index[i] = -1;
        /* later groups of a reused (pid, isolate) win: insert in order */
        for (size_t g = 0; g < r->n_groups; g++) {
            size_t h = hash(r->groups[g]->pid, r->groups[g]->isolate, size);
            while (index[h] >= 0 && (r->groups[index[h]]->pid != r->groups[g]->pid ||
                                     r->groups[index[h]]->isolate != r->groups[g]->isolate))
                h = (h + 1) & (size - 1);
            index[h] = (int32_t)g;
        }
        free(r->index);
        r->index = index;
        r->index_size = size;
    }
    const struct gcs_rpt_group *g = r->groups[group];
    size_t h = hash(g->pid, g->isolate, r->index_size);
    while (r->index[h] >= 0 &&
           (r->groups[r->index[h]]->pid != g->pid || r->groups[r->index[h]]->isolate != g->isolate))
        h = (h + 1) & (r->index_size - 1);
    r->index[h] = (int32_t)group;
    return true;
}

static struct gcs_rpt_group *find_group(const struct gcs_report *r, int64_t pid, uint32_t isolate)
{
    if (!r->index_size)
        return NULL;
    size_t h = hash(pid, isolate, r->index_size);
    while (r->index[h] >= 0) {
        struct gcs_rpt_group *g = r->groups[r->index[h]];
        if (g->pid == pid && g->isolate == isolate)
            return g;
        h = (h + 1) & (r->index_size - 1);
    }
    return NULL;
}

static struct gcs_rpt_group *new_group(struct gcs_report *r, int64_t pid, uint32_t isolate, int64_t ts)
{
    if (r->n_groups == r->cap_groups) {
        size_t cap = r->cap_groups ? r->cap_groups * 2 : 16;
        struct gcs_rpt_group **groups = realloc(r->groups, cap * sizeof *groups);
        if (!groups)
            return NULL;
        r->groups = groups;
        r->cap_groups = cap;
    }
    struct gcs_rpt_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->pid = pid;
    g->isolate = isolate;
    g->first_ms = g->last_ms = ts;
    g->charted = r->n_groups < GCS_RPT_CHARTED;
    copy(g->file, sizeof g->file, r->file);
    r->groups[r->n_groups] = g;
    if (!index_put(r, r->n_groups)) {
        free(g);
        return NULL;
    }
    r->n_groups++;
    return g;
}

/* ---- fields ---- */

static json_t *at(json_t *o, const char *path)
{
    char key[64];
    while (o && json_is_object(o)) {
        const char *dot = strchr(path, '.');
        if (!dot)
            return json_object_get(o, path);
        size_t n = (size_t)(dot - path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path = dot + 1;
    }
    return NULL;
}

static bool num(json_t *o, const char *path, double *out)
{
    json_t *v = at(o, path);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

/* A count or a length from a line, held in range: a number beyond what
 * the type holds is undefined behaviour to convert, and a line may say
 * anything. */
static uint64_t count_of(double v)
{
    return v > 0 ? v < 9.2e18 ? (uint64_t)v : UINT64_C(9200000000000000000) : 0;
}

/* Seconds of a window: at most 30 years, so that its milliseconds fit. */
static double window_of(double seconds)
{
    return seconds > 0 ? fmin(seconds, 1e9) : 0;
}

static const char *str(json_t *o, const char *path)
{
    return json_string_value(at(o, path));   /* NULL unless a string */
}

static bool time_at(json_t *o, const char *path, int64_t *ms)
{
    const char *s = str(o, path);
    return s && gcs_parse_time(s, ms);
}

/* ---- events ---- */

static void take_start(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    (void)ts;
    g->started = true;
    copy(g->thread, sizeof g->thread, str(l, "thread"));
    copy(g->node, sizeof g->node, str(l, "node"));
    copy(g->v8, sizeof g->v8, str(l, "v8"));
    copy(g->gcstats, sizeof g->gcstats, str(l, "gcstats"));
}

static void take_mapped(struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    double committed;
    /* Process-wide numbers, the same in every isolate's lines: charted
     * once, with isolate 1. */
    if (g->isolate != 1 || !num(l, "mapped.committed", &committed))
        return;
    add_point(g, &g->mapped, ts, committed);
    const char *name;
    json_t *o;
    json_object_foreach(at(l, "mapped.owners"), name, o) {
        double c;
        if (!num(o, "committed", &c))
            continue;
        uint32_t i = 0;
        while (i < g->n_owners && strcmp(g->owners[i].name, name) != 0)
            i++;
        if (i == g->n_owners) {
            /* an owner that never held memory is not worth a line */
            if (c == 0 || g->n_owners == GCS_RPT_OWNERS)
                continue;
            copy(g->owners[i].name, sizeof g->owners[i].name, name);
            g->n_owners++;
        }
        add_point(g, &g->owners[i].committed, ts, c);
    }
}

/* What stats, tick, end and exit lines share: counters and the verdict. */
static void take_counters(struct gcs_rpt_group *g, json_t *l)
{
    double v;
    if (num(l, "num_full_gc", &v))
        g->num_full_gc = count_of(v);
    if (num(l, "num_inc_gc", &v))
        g->num_inc_gc = count_of(v);
    if (num(l, "heap.limit", &v))
        g->heap_limit = v;
    if (num(l, "rss_peak", &v) && v > g->rss_peak)
        g->rss_peak = v;
    if (num(l, "self.probes", &v))
        g->probes = count_of(v);
    const char *kind;
    json_t *o;
    json_object_foreach(at(l, "gc"), kind, o) {
        uint32_t i = 0;
        while (i < g->n_kinds && strcmp(g->kinds[i].name, kind) != 0)
            i++;
        if (i == g->n_kinds) {
            if (g->n_kinds == GCS_RPT_KINDS)
                continue;
            copy(g->kinds[i].name, sizeof g->kinds[i].name, kind);
            g->n_kinds++;
        }
        if (num(o, "count", &v))
            g->kinds[i].count = count_of(v);
        if (num(o, "pause_ms", &v))
            g->kinds[i].pause_ms = v;
    }
    const char *state = str(l, "verdict.state");
    if (state) {
        copy(g->verdict, sizeof g->verdict, state);
        copy(g->verdict_memory, sizeof g->verdict_memory, str(l, "verdict.memory"));
    }
}

/* tick: counters, and what is read when the tick is made (rss, mapped) */
static void take_tick(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    double v;
    take_counters(g, l);
    if (num(l, "rss", &v))
        add_point(g, &g->rss, ts, v);
    take_mapped(g, l, ts);
}

/* stats: a tick's numbers, and the post-compaction sample and heap numbers */
static void take_stats(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    double v;
    take_tick(r, g, l, ts);
    if (num(l, "current_base", &v))
        add_point(g, &g->heap, ts, v);
    /* tick lines repeat the heap numbers of the latest stats line: only
     * stats lines add them */
    if (num(l, "heap.external", &v))
        add_point(g, &g->external, ts, v);
    if (num(l, "pause_ms", &v) && v > g->longest_full_pause_ms)
        g->longest_full_pause_ms = v;
    if (json_is_true(at(l, "forced")))
        g->forced++;

    double rate, window_s, base, recent, samples;
    if (num(l, "trend.heap.rate_bytes_per_s", &rate) && num(l, "trend.heap.window_s", &window_s) &&
        num(l, "estimated_base", &base) && num(l, "recent_samples", &recent) &&
        num(l, "long_samples", &samples) && samples > 0 && window_of(window_s) > 0) {
        window_s = window_of(window_s);
        /* Samples come at a roughly even pace, so the recent window's
         * middle lies this far back in the long window. */
        double middle_s = window_s * (recent / samples) / 2.0;
        g->trend.have = true;
        g->trend.rate = rate;
        g->trend.to_ms = ts;
        g->trend.from_ms = ts - (int64_t)(window_s * 1000.0);
        g->trend.to_bytes = base + rate * middle_s;
        g->trend.from_bytes = base - rate * (window_s - middle_s);
    }
}

/* end and exit: final counters. Their rss is read while node tears down
 * (README: see rss_peak), so it is not charted. */
static void take_final(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    (void)ts;
    take_counters(g, l);
    copy(g->ended, sizeof g->ended, str(l, "event"));
}

static struct gcs_rpt_leak *open_leak(struct gcs_rpt_group *g, const char *memory)
{
    for (uint32_t i = g->n_leaks; i-- > 0;)
        if (g->leaks[i].end_ms == 0 && strcmp(g->leaks[i].memory, memory) == 0)
            return &g->leaks[i];
    return NULL;
}

static void take_leak(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    const char *memory = str(l, "memory");
    if (!memory)
        memory = "?";
    double report = 0;
    num(l, "report", &report);
    struct gcs_rpt_leak *k = open_leak(g, memory);
    if (!k || report == 1) {
        if (k)
            k->end_ms = ts;   /* a new leak of the same memory: the old one is over */
        if (g->n_leaks == g->cap_leaks) {
            uint32_t cap = g->cap_leaks ? g->cap_leaks * 2 : 2;
            struct gcs_rpt_leak *leaks = cap <= GCS_RPT_LEAKS ? realloc(g->leaks, cap * sizeof *leaks) : NULL;
            if (!leaks) {
                g->leaks_not_kept++;
                return;
            }
            g->leaks = leaks;
            g->cap_leaks = cap;
        }
        k = &g->leaks[g->n_leaks++];
        memset(k, 0, sizeof *k);
        copy(k->memory, sizeof k->memory, memory);
        k->first_ms = ts;
    }
    (void)r;
    k->last_ms = ts;
    k->reports++;
    copy(k->owner, sizeof k->owner, str(l, "owner"));
    copy(k->reason, sizeof k->reason, str(l, "reason"));
    num(l, "rate_bytes_per_s", &k->rate);
    num(l, "rate_low_bytes_per_s", &k->rate_low);
    num(l, "recent_rate_bytes_per_s", &k->recent_rate);
    num(l, "confidence", &k->confidence);
    num(l, "growth_bytes", &k->growth);
    if (num(l, "window.seconds", &k->window_s))
        k->window_s = window_of(k->window_s);
    double samples = 0;
    if (num(l, "window.samples", &samples))
        k->samples = count_of(samples) < UINT32_MAX ? (uint32_t)count_of(samples) : UINT32_MAX;
    time_at(l, "window.from", &k->window_from_ms);
    time_at(l, "window.to", &k->window_to_ms);
    if (!num(l, "level_bytes", &k->level))
        k->level = g->heap ? g->heap->last : 0;
    /* The heap limit: limit_bytes of the leak line, else heap.limit
     * (heap_size_limit) of the isolate's latest stats line. Only the
     * heap has one. */
    k->limit = 0;
    k->seconds_to_limit = -1;
    if (strcmp(memory, "heap") == 0) {
        if (!num(l, "limit_bytes", &k->limit))
            k->limit = g->heap_limit;
        if (k->limit > 0 && k->rate > 0)
            k->seconds_to_limit = k->level < k->limit ? (k->limit - k->level) / k->rate : 0;
    }
}

static void take_leak_end(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    const char *memory = str(l, "memory");
    struct gcs_rpt_leak *k = open_leak(g, memory ? memory : "?");
    if (!k)
        return;   /* its leak lines were before the log began */
    k->end_ms = ts;
    num(l, "recent_rate_bytes_per_s", &k->end_recent_rate);
}

static void take_error(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    (void)ts;
    if (!g->errors)
        g->errors = calloc(GCS_RPT_ERRORS, sizeof *g->errors);
    if (g->errors && g->n_errors < GCS_RPT_ERRORS)
        copy(g->errors[g->n_errors], sizeof g->errors[0], str(l, "reason"));
    g->n_errors++;
}

/* The latest culprits line replaces the one before: it ranks what is
 * alive now. */
static void take_culprits(struct gcs_report *r, struct gcs_rpt_group *g, json_t *l, int64_t ts)
{
    (void)r;
    json_t *sites = json_object_get(l, "sites");
    if (!json_is_array(sites))
        return;
    g->culprits_ms = ts;
    g->n_culprits = 0;
    size_t i;
    json_t *site;
    json_array_foreach(sites, i, site) {
        if (g->n_culprits == GCS_RPT_CULPRITS)
            break;
        struct gcs_rpt_culprit *c = &g->culprits[g->n_culprits++];
        memset(c, 0, sizeof *c);
        copy(c->function, sizeof c->function, str(site, "function"));
        copy(c->url, sizeof c->url, str(site, "url"));
        double line = 0;
        if (num(site, "line", &line) && line >= 0 && line < 1e9)
            c->line = (int64_t)line;
        num(site, "bytes", &c->bytes);
        num(site, "share", &c->share);
        c->have_growth = num(site, "growth_bytes", &c->growth);
    }
}

typedef void take_fn(struct gcs_report *r, struct gcs_rpt_group *g, json_t *line, int64_t ts);

/* Every event the report knows. A new event is one row here; an event not
 * here (a newer gcstats) is named once per file and skipped. */
static const struct {
    const char *name;
    take_fn *take;   /* NULL: known, not shown (it still dates the isolate) */
} events[] = {
    { "start", take_start },
    { "stats", take_stats },
    { "tick", take_tick },
    { "end", take_final },
    { "exit", take_final },
    { "leak", take_leak },
    { "leak_end", take_leak_end },
    { "error", take_error },
    { "sites", NULL },
    { "culprits", take_culprits },
};

static bool unknown_event_named_before(struct gcs_report *r, const char *event)
{
    for (uint32_t i = 0; i < r->n_unknown_events; i++)
        if (strcmp(r->unknown_events[i], event) == 0)
            return true;
    if (r->n_unknown_events < sizeof r->unknown_events / sizeof r->unknown_events[0])
        copy(r->unknown_events[r->n_unknown_events++], sizeof r->unknown_events[0], event);
    return false;
}

void gcs_report_take(struct gcs_report *r, uint64_t line_no, const char *text, size_t len,
                     bool last_unterminated)
{
    r->lines++;
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0)
        return;   /* an empty line says nothing, and is not wrong */
    json_error_t error;
    json_t *l = json_loadb(text, len, 0, &error);
    char what[400];
    if (!l) {
        if (last_unterminated)
            snprintf(what, sizeof what, "the last line is cut short (no newline, not whole JSON: %s)",
                     error.text);
        else
            snprintf(what, sizeof what, "not a JSON line (%s at column %d)", error.text, error.column);
        gcs_report_bad(r, line_no, what);
        return;
    }
    const char *event = str(l, "event");
    const char *ts_text = str(l, "ts");
    json_t *pid = json_object_get(l, "pid"), *isolate = json_object_get(l, "isolate");
    int64_t ts = 0;
    const char *missing = !json_is_object(l)                                  ? "not a JSON object"
                          : !event                                           ? "no \"event\" string"
                          : !ts_text                                         ? "no \"ts\" string"
                          : !gcs_parse_time(ts_text, &ts)                    ? "\"ts\" is not an ISO 8601 time"
                          : !json_is_integer(pid) || json_integer_value(pid) <= 0 ? "no \"pid\" number"
                          : !json_is_integer(isolate) || json_integer_value(isolate) <= 0 ||
                                    json_integer_value(isolate) > UINT32_MAX
                              ? "no \"isolate\" number"
                              : NULL;
    if (missing) {
        snprintf(what, sizeof what, "not a gcstats line: %s", missing);
        gcs_report_bad(r, line_no, what);
        json_decref(l);
        return;
    }
    size_t e = 0;
    while (e < sizeof events / sizeof events[0] && strcmp(events[e].name, event) != 0)
        e++;
    if (e == sizeof events / sizeof events[0]) {
        r->lines_unknown++;
        if (!unknown_event_named_before(r, event)) {
            snprintf(what, sizeof what,
                     "unknown event \"%.40s\" (from a newer gcstats?): skipped, here and further on",
                     event);
            message(r, line_no, what);
        }
        json_decref(l);
        return;
    }
    int64_t p = json_integer_value(pid);
    uint32_t iso = (uint32_t)json_integer_value(isolate);
    struct gcs_rpt_group *g = find_group(r, p, iso);
    /* A second start for the same pid and isolate is a new process that
     * was given a pid used before. */
    if (g && strcmp(event, "start") == 0 && g->started)
        g = NULL;
    if (!g)
        g = new_group(r, p, iso, ts);
    if (!g) {
        gcs_report_bad(r, line_no, "out of memory");
        json_decref(l);
        return;
    }
    r->lines_used++;
    g->lines++;
    if (ts < g->first_ms)
        g->first_ms = ts;
    if (ts > g->last_ms)
        g->last_ms = ts;
    double dropped;
    if (num(l, "dropped", &dropped) && count_of(dropped) > g->dropped)
        g->dropped = count_of(dropped);
    if (events[e].take)
        events[e].take(r, g, l, ts);
    json_decref(l);
}
