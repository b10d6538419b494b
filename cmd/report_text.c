/* The report as text: one block per process and isolate. */
#include "report.h"

#include <inttypes.h>
#include <string.h>

static const char *b(char *buf, double bytes)
{
    gcs_format_bytes(buf, 32, bytes);
    return buf;
}

static void series_line(FILE *out, const char *label, const struct gcs_rpt_series *s)
{
    char f[32], lo[32], hi[32], la[32];
    if (!s || s->n == 0)
        return;
    fprintf(out, "  %-14s first %s, min %s, max %s, last %s\n", label, b(f, s->first), b(lo, s->min),
            b(hi, s->max), b(la, s->last));
}

static void group_text(FILE *out, const struct gcs_rpt_group *g)
{
    char t0[40], t1[40], d[32], x[32], y[32];
    fprintf(out, "pid %" PRId64 ", isolate %u", g->pid, g->isolate);
    if (g->thread[0])
        fprintf(out, " (%s)", g->thread);
    if (g->node[0])
        fprintf(out, ", node %s", g->node);
    if (g->gcstats[0])
        fprintf(out, ", gcstats %s", g->gcstats);
    fprintf(out, "  [%s]\n", g->file);

    gcs_format_time(t0, sizeof t0, g->first_ms);
    gcs_format_time(t1, sizeof t1, g->last_ms);
    gcs_format_duration(d, sizeof d, (double)(g->last_ms - g->first_ms) / 1000.0);
    fprintf(out, "  %-14s %s, %s to %s UTC, %s\n", "run time", d, t0, t1 + 11,
            g->ended[0] ? (strcmp(g->ended, "exit") == 0 ? "exited" : "ended")
                        : "no exit line (still running, killed, or the log is cut)");

    if (g->n_kinds) {
        fprintf(out, "  %-14s %" PRIu64 " full, %" PRIu64 " other", "GCs", g->num_full_gc, g->num_inc_gc);
        if (g->probes)
            fprintf(out, "; %" PRIu64 " asked for by the probe", g->probes);
        if (g->longest_full_pause_ms > 0)
            fprintf(out, "; longest full GC pause %.1f ms", g->longest_full_pause_ms);
        fputc('\n', out);
        for (uint32_t i = 0; i < g->n_kinds; i++)
            if (g->kinds[i].count)
                fprintf(out, "  %-14s %-14s %8" PRIu64 " x, %10.1f ms in all, %.3f ms each\n", "",
                        g->kinds[i].name, g->kinds[i].count, g->kinds[i].pause_ms,
                        g->kinds[i].pause_ms / (double)g->kinds[i].count);
    }
    series_line(out, "heap after GC", g->heap);
    if (g->heap_limit > 0)
        fprintf(out, "  %-14s %s\n", "heap limit", b(x, g->heap_limit));
    series_line(out, "external", g->external);
    series_line(out, "mapped", g->mapped);
    for (uint32_t i = 0; i < g->n_owners; i++) {
        const struct gcs_rpt_series *s = g->owners[i].committed;
        if (s)
            fprintf(out, "  %-14s   %-12s max %s, last %s\n", "", g->owners[i].name, b(x, s->max),
                    b(y, s->last));
    }
    if (g->rss && g->rss->n)
        fprintf(out, "  %-14s max %s, last %s%s%s\n", "rss", b(x, g->rss->max), b(y, g->rss->last),
                g->rss_peak > 0 ? ", peak " : "", g->rss_peak > 0 ? b(d, g->rss_peak) : "");
    if (g->verdict[0])
        fprintf(out, "  %-14s %s%s%s%s\n", "verdict", g->verdict, g->verdict_memory[0] ? " (" : "",
                g->verdict_memory, g->verdict_memory[0] ? ")" : "");
    for (uint32_t i = 0; i < g->n_leaks; i++) {
        const struct gcs_rpt_leak *k = &g->leaks[i];
        char text[600], since[40], end[40];
        gcs_report_leak_text(text, sizeof text, k);
        gcs_format_time(since, sizeof since, k->first_ms);
        fprintf(out, "  %-14s %s, from %s", "LEAK", text, since + 11);
        if (k->end_ms) {
            gcs_format_time(end, sizeof end, k->end_ms);
            fprintf(out, " to %s (stopped)", end + 11);
        } else {
            fprintf(out, " to the end of the log");
        }
        fprintf(out, ", %u report%s\n", k->reports, k->reports == 1 ? "" : "s");
    }
    if (g->leaks_not_kept)
        fprintf(out, "  %-14s %u more leaks not shown\n", "", g->leaks_not_kept);
    if (g->n_culprits > 0) {
        char at[40], text[400];
        gcs_format_time(at, sizeof at, g->culprits_ms);
        fprintf(out, "  %-14s at %s (the latest culprits line)\n", "CULPRITS", at + 11);
        for (uint32_t i = 0; i < g->n_culprits; i++) {
            gcs_report_culprit_text(text, sizeof text, &g->culprits[i]);
            fprintf(out, "  %-14s %s\n", "", text);
        }
    }
    for (uint32_t i = 0; g->errors && i < g->n_errors && i < GCS_RPT_ERRORS; i++)
        fprintf(out, "  %-14s %s\n", "ERROR", g->errors[i]);
    if (g->n_errors > GCS_RPT_ERRORS)
        fprintf(out, "  %-14s %u more errors\n", "", g->n_errors - GCS_RPT_ERRORS);
    if (g->dropped)
        fprintf(out, "  %-14s %" PRIu64 " lines this process could not write\n", "dropped", g->dropped);
    fputc('\n', out);
}

void gcs_report_write_text(const struct gcs_report *r, FILE *out)
{
    size_t leaks = 0;
    for (size_t i = 0; i < r->n_groups; i++)
        leaks += r->groups[i]->n_leaks;
    fprintf(out, "gcstats report: %zu isolate%s, %zu leak%s, %" PRIu64 " lines read", r->n_groups,
            r->n_groups == 1 ? "" : "s", leaks, leaks == 1 ? "" : "s", r->lines_used);
    if (r->lines_bad)
        fprintf(out, ", %" PRIu64 " bad", r->lines_bad);
    if (r->lines_unknown)
        fprintf(out, ", %" PRIu64 " of unknown events", r->lines_unknown);
    fprintf(out, "\n(bytes in decimal units: 1 MB = 10^6 bytes)\n\n");
    for (size_t i = 0; i < r->n_groups; i++)
        group_text(out, r->groups[i]);
}
