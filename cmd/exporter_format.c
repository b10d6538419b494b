/* gcstats exporter's output: one family at a time (its HELP and TYPE,
 * then its samples for every process or isolate), as the format wants
 * the samples of a family together. Names follow Prometheus' rules: base
 * units (bytes, seconds, ratios), _total on counters; where prom-client's
 * default metrics have the same quantity, its name. */
#include "exporter_format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gcs_exp_text_free(struct gcs_exp_text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

void gcs_exp_text_append(struct gcs_exp_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void put(struct gcs_exp_text *t, const char *s)
{
    gcs_exp_text_append(t, s, strlen(s));
}

void gcs_exp_text_label_value(struct gcs_exp_text *t, const char *value)
{
    const char *run = value;
    for (const char *p = value;; p++) {
        const char *escaped = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (escaped == NULL && *p != '\0')
            continue;
        gcs_exp_text_append(t, run, (size_t)(p - run));
        if (*p == '\0')
            return;
        put(t, escaped);
        run = p + 1;
    }
}

void gcs_exp_text_number(struct gcs_exp_text *t, double v)
{
    char buf[32];
    if (isnan(v))
        snprintf(buf, sizeof buf, "NaN");
    else if (isinf(v))
        snprintf(buf, sizeof buf, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)   /* whole and exact: most values are bytes or counts */
        snprintf(buf, sizeof buf, "%lld", (long long)v);
    else if (snprintf(buf, sizeof buf, "%.15g", v), strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    put(t, buf);
}

/* ---- families and samples ---- */

static void family(struct gcs_exp_text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP ");
    put(t, name);
    put(t, " ");
    put(t, help);
    put(t, "\n# TYPE ");
    put(t, name);
    put(t, " ");
    put(t, type);
    put(t, "\n");
}

/* The labels every sample of a process or an isolate carries. */
struct who {
    const struct gcs_exp_process *p;
    const struct gcs_exp_isolate *iso;   /* NULL: the process' own */
};

static void who_labels(struct gcs_exp_text *t, struct who w)
{
    char buf[64];
    snprintf(buf, sizeof buf, "pid=\"%" PRId64 "\"", w.p->pid);
    put(t, buf);
    if (w.iso != NULL) {
        /* isolate 1 is the main thread's by the lines' definition */
        snprintf(buf, sizeof buf, ",isolate=\"%" PRIu32 "\",thread=\"%s\"", w.iso->isolate,
                 w.iso->isolate == 1 ? "main" : "worker");
        put(t, buf);
    }
}

/* name{who,key="value"} v; key NULL for none. */
static void sample(struct gcs_exp_text *t, const char *name, struct who w, const char *key, const char *value,
                   double v)
{
    put(t, name);
    put(t, "{");
    who_labels(t, w);
    if (key != NULL) {
        put(t, ",");
        put(t, key);
        put(t, "=\"");
        gcs_exp_text_label_value(t, value);
        put(t, "\"");
    }
    put(t, "} ");
    gcs_exp_text_number(t, v);
    put(t, "\n");
}

/* ---- per process ---- */

static void process_families(struct gcs_exp_text *t, const struct gcs_exp_model *m)
{
    family(t, "gcstats_info", "gauge", "Always 1: the versions of a process gcstats watches (from its start line).");
    for (size_t i = 0; i < m->n_processes; i++) {
        const struct gcs_exp_process *p = m->processes[i];
        struct who w = { p, NULL };
        put(t, "gcstats_info{");
        who_labels(t, w);
        put(t, ",node_version=\"");
        gcs_exp_text_label_value(t, p->node);
        put(t, "\",v8_version=\"");
        gcs_exp_text_label_value(t, p->v8);
        put(t, "\",gcstats_version=\"");
        gcs_exp_text_label_value(t, p->gcstats);
        put(t, "\"} 1\n");
    }
    family(t, "process_resident_memory_bytes", "gauge", "Resident memory of the process (rss).");
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i]->rss.have)
            sample(t, "process_resident_memory_bytes", (struct who){ m->processes[i], NULL }, NULL, NULL,
                   m->processes[i]->rss.v);
    family(t, "gcstats_rss_peak_bytes", "gauge", "Peak resident memory of the process so far (rss_peak).");
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i]->rss_peak.have)
            sample(t, "gcstats_rss_peak_bytes", (struct who){ m->processes[i], NULL }, NULL, NULL,
                   m->processes[i]->rss_peak.v);
    family(t, "gcstats_mapped_committed_bytes", "gauge",
           "Memory mapped through the mmap family and accessible, by owner, for the whole process.");
    for (size_t i = 0; i < m->n_processes; i++)
        for (uint32_t k = 0; k < m->processes[i]->n_owners; k++)
            sample(t, "gcstats_mapped_committed_bytes", (struct who){ m->processes[i], NULL }, "owner",
                   m->processes[i]->owners[k].name, m->processes[i]->owners[k].committed);
    family(t, "gcstats_dropped_lines_total", "counter", "Lines the process could not write (dropped).");
    for (size_t i = 0; i < m->n_processes; i++)
        sample(t, "gcstats_dropped_lines_total", (struct who){ m->processes[i], NULL }, NULL, NULL,
               m->processes[i]->dropped);
    family(t, "gcstats_errors_total", "counter", "Error lines of the process read by the exporter.");
    for (size_t i = 0; i < m->n_processes; i++)
        sample(t, "gcstats_errors_total", (struct who){ m->processes[i], NULL }, NULL, NULL,
               m->processes[i]->errors);
}

/* ---- per isolate ---- */

/* A gauge of an isolate's counters, by its place in the struct. */
struct isolate_gauge {
    const char *name, *help;
    size_t offset;   /* of a struct gcs_exp_value */
    double scale;
};

#define VALUE(field) offsetof(struct gcs_exp_isolate, field)

static const struct isolate_gauge isolate_gauges[] = {
    { "nodejs_heap_size_used_bytes", "V8 heap used right after the isolate's latest full GC (heap.used).",
      VALUE(heap_used), 1 },
    { "nodejs_heap_size_total_bytes", "V8 heap size right after the isolate's latest full GC (heap.total).",
      VALUE(heap_total), 1 },
    { "nodejs_external_memory_bytes", "Memory outside the heap V8 is told of: Buffers, ArrayBuffers (heap.external).",
      VALUE(external), 1 },
    { "gcstats_heap_limit_bytes", "V8's heap size limit (heap.limit).", VALUE(heap_limit), 1 },
    { "gcstats_heap_base_bytes", "The latest post-compaction heap sample: what the application holds (current_base).",
      VALUE(current_base), 1 },
    { "gcstats_heap_estimated_base_bytes",
      "The mean of the recent window of post-compaction heap samples (estimated_base).", VALUE(estimated_base), 1 },
    { "gcstats_heap_usage_trend_ratio",
      "Recent mean of the post-compaction heap against its long-term mean, minus 1 (usage_trend / 100).",
      VALUE(usage_trend_pct), 0.01 },
};

static void isolate_samples(struct gcs_exp_text *t, const struct gcs_exp_model *m,
                            void (*each)(struct gcs_exp_text *t, struct who w, const void *arg), const void *arg)
{
    for (size_t i = 0; i < m->n_processes; i++)
        for (size_t k = 0; k < m->processes[i]->n_isolates; k++)
            if (m->processes[i]->isolates[k]->have_counters)
                each(t, (struct who){ m->processes[i], m->processes[i]->isolates[k] }, arg);
}

static void gauge_sample(struct gcs_exp_text *t, struct who w, const void *arg)
{
    const struct isolate_gauge *g = arg;
    const struct gcs_exp_value *v = (const void *)((const char *)w.iso + g->offset);
    if (v->have)
        sample(t, g->name, w, NULL, NULL, v->v * g->scale);
}

static void full_gcs_sample(struct gcs_exp_text *t, struct who w, const void *arg)
{
    (void)arg;
    sample(t, "gcstats_full_gcs_total", w, NULL, NULL, w.iso->full_gcs);
}

static void other_gcs_sample(struct gcs_exp_text *t, struct who w, const void *arg)
{
    (void)arg;
    sample(t, "gcstats_incremental_gcs_total", w, NULL, NULL, w.iso->other_gcs);
}

/* prom-client's kinds where the lines' kinds are the same GCs. */
static const char *const kind_names[][2] = {
    { "scavenge", "minor" }, { "minor_ms", "minor" }, { "mark_compact", "major" },
    { "incremental", "incremental" }, { "weak_callbacks", "weakcb" },
};

static const char *kind_label(const char *name)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(kind_names[i][0], name) == 0)
            return kind_names[i][1];
    return name;
}

/* Scavenges and minor mark-sweeps are both prom-client's "minor": one
 * _sum and _count for the two, at the first of them. */
static void gc_duration_samples(struct gcs_exp_text *t, struct who w, const void *arg)
{
    (void)arg;
    for (uint32_t k = 0; k < w.iso->n_kinds; k++) {
        const char *label = kind_label(w.iso->kinds[k].name);
        bool earlier = false;
        for (uint32_t j = 0; j < k; j++)
            earlier |= strcmp(kind_label(w.iso->kinds[j].name), label) == 0;
        if (earlier)
            continue;
        double sum = 0, count = 0;
        for (uint32_t j = k; j < w.iso->n_kinds; j++) {
            if (strcmp(kind_label(w.iso->kinds[j].name), label) == 0) {
                sum += w.iso->kinds[j].pause_s;
                count += w.iso->kinds[j].count;
            }
        }
        sample(t, "nodejs_gc_duration_seconds_sum", w, "kind", label, sum);
        sample(t, "nodejs_gc_duration_seconds_count", w, "kind", label, count);
    }
}

static void verdict_samples(struct gcs_exp_text *t, struct who w, const void *arg)
{
    (void)arg;
    for (int s = 0; s < GCS_EXP_MEMORIES; s++) {
        for (int state = 0; state < GCS_EXP_STATES; state++) {
            put(t, "gcstats_verdict{");
            who_labels(t, w);
            put(t, ",memory=\"");
            put(t, gcs_exp_memory_names[s]);
            put(t, "\",state=\"");
            put(t, gcs_exp_state_names[state]);
            put(t, w.iso->series[s].state == state ? "\"} 1\n" : "\"} 0\n");
        }
    }
}

/* A value of each memory series, by its place in struct gcs_exp_series. */
struct series_value {
    const char *name;
    size_t offset;
    bool while_leaking;   /* only between a leak line and its leak_end */
    bool heap_only;
};

static void series_samples(struct gcs_exp_text *t, struct who w, const void *arg)
{
    const struct series_value *sv = arg;
    for (int s = 0; s < GCS_EXP_MEMORIES; s++) {
        const struct gcs_exp_series *series = &w.iso->series[s];
        const struct gcs_exp_value *v = (const void *)((const char *)series + sv->offset);
        if ((sv->while_leaking && !series->leaking) || (sv->heap_only && s != GCS_EXP_HEAP) || !v->have)
            continue;
        if (sv->heap_only)
            sample(t, sv->name, w, NULL, NULL, v->v);
        else
            sample(t, sv->name, w, "memory", gcs_exp_memory_names[s], v->v);
    }
}

static void isolate_families(struct gcs_exp_text *t, const struct gcs_exp_model *m)
{
    for (size_t g = 0; g < sizeof isolate_gauges / sizeof isolate_gauges[0]; g++) {
        family(t, isolate_gauges[g].name, "gauge", isolate_gauges[g].help);
        isolate_samples(t, m, gauge_sample, &isolate_gauges[g]);
    }
    family(t, "gcstats_full_gcs_total", "counter", "Full mark-compact GCs of the isolate (num_full_gc).");
    isolate_samples(t, m, full_gcs_sample, NULL);
    family(t, "gcstats_incremental_gcs_total", "counter",
           "The isolate's other GCs: scavenges, minor mark-sweeps and incremental marking cycles (num_inc_gc).");
    isolate_samples(t, m, other_gcs_sample, NULL);
    family(t, "nodejs_gc_duration_seconds", "summary", "GC pauses by kind (gc.KIND.pause_ms and count).");
    isolate_samples(t, m, gc_duration_samples, NULL);
    family(t, "gcstats_verdict", "gauge",
           "Whether a memory series leaks, as a state set: unknown, ok, growing or leak (trend.MEMORY.state).");
    isolate_samples(t, m, verdict_samples, NULL);
    static const struct series_value trend_rate = {
        "gcstats_trend_rate_bytes_per_second", offsetof(struct gcs_exp_series, rate), false, false };
    static const struct series_value leak_rate = {
        "gcstats_leak_rate_bytes_per_second", offsetof(struct gcs_exp_series, leak_rate), true, false };
    static const struct series_value leak_rate_low = {
        "gcstats_leak_rate_low_bytes_per_second", offsetof(struct gcs_exp_series, leak_rate_low), true, false };
    static const struct series_value time_to_limit = {
        "gcstats_heap_time_to_limit_seconds", offsetof(struct gcs_exp_series, seconds_to_limit), true, true };
    family(t, trend_rate.name, "gauge", "The growth rate the detector sees in a memory series (trend.MEMORY.rate_bytes_per_s).");
    isolate_samples(t, m, series_samples, &trend_rate);
    family(t, leak_rate.name, "gauge", "The rate of a leak, from its latest leak line until its leak_end.");
    isolate_samples(t, m, series_samples, &leak_rate);
    family(t, leak_rate_low.name, "gauge", "The lower bound of a leak's rate at 95% confidence.");
    isolate_samples(t, m, series_samples, &leak_rate_low);
    family(t, time_to_limit.name, "gauge", "Time until a leaking heap reaches V8's heap limit at its rate.");
    isolate_samples(t, m, series_samples, &time_to_limit);
}

/* ---- the exporter's own ---- */

static void own(struct gcs_exp_text *t, const char *name, const char *type, const char *help, double v)
{
    family(t, name, type, help);
    put(t, name);
    put(t, " ");
    gcs_exp_text_number(t, v);
    put(t, "\n");
}

bool gcs_exp_format(const struct gcs_exp_model *m, const struct gcs_exp_health *health, struct gcs_exp_text *out)
{
    process_families(out, m);
    isolate_families(out, m);
    own(out, "gcstats_exporter_lines_read_total", "counter", "Lines the exporter read.", (double)m->lines);
    own(out, "gcstats_exporter_bad_lines_total", "counter", "Lines that were not gcstats' JSON lines.",
        (double)m->bad_lines);
    own(out, "gcstats_exporter_untracked_lines_total", "counter",
        "Lines about processes or isolates beyond the exporter's tables, not used.", (double)m->untracked_lines);
    own(out, "gcstats_exporter_files_followed", "gauge", "Log files the exporter follows.",
        (double)health->files_followed);
    own(out, "gcstats_exporter_processes", "gauge", "Processes the exporter shows.", (double)m->n_processes);
    own(out, "gcstats_exporter_processes_max", "gauge", "The most processes the exporter shows at once.",
        (double)m->max_processes);
    own(out, "gcstats_exporter_isolates", "gauge", "Isolates the exporter shows.", (double)m->n_isolates);
    own(out, "gcstats_exporter_isolates_max", "gauge", "The most isolates the exporter shows at once.",
        (double)m->max_isolates);
    return !out->failed;
}
