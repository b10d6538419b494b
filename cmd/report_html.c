/* The report as one self-contained HTML page: no script, no network, no
 * other file. The charts are inline SVG drawn here, so that any browser
 * (and a mail client, or a file attached to a ticket) shows them as they
 * are; a charting library would need JavaScript to draw anything. */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 760
#define H 260
#define LEFT 70
#define RIGHT 16
#define TOP 30
#define BOTTOM 42
#define PLOT_W (W - LEFT - RIGHT)
#define PLOT_H (H - TOP - BOTTOM)
#define MAX_LINES (GCS_RPT_OWNERS + 1)

static void esc(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Colours that stay apart for the colour-blind (Okabe and Ito). */
static const char *const colours[] = { "#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                       "#e69f00", "#56b4e9", "#000000", "#f0e442" };

struct line {
    const struct gcs_rpt_series *s;
    const char *name;
};

struct segment {
    int64_t from_ms, to_ms;
    double from, to;
    const char *class_name, *label;
};

struct marker {
    int64_t ms;
    const char *class_name, *label;
    const char *title;
};

struct chart {
    const char *title, *class_name;
    int64_t t0_ms, t1_ms;
    struct line lines[MAX_LINES];
    size_t n_lines;
    struct segment segments[GCS_RPT_LEAKS + 1];
    size_t n_segments;
    struct marker markers[2 * GCS_RPT_LEAKS];
    size_t n_markers;
};

struct scale {
    double lo, hi;     /* bytes at the bottom and the top */
    double t_unit_s;   /* seconds per time-axis unit */
    double span_s;
};

static double x_of(const struct chart *c, const struct scale *sc, int64_t ms)
{
    double s = (double)(ms - c->t0_ms) / 1000.0;
    return LEFT + PLOT_W * (sc->span_s > 0 ? s / sc->span_s : 0);
}

static double y_of(const struct scale *sc, double bytes)
{
    return TOP + PLOT_H * (1 - (bytes - sc->lo) / (sc->hi - sc->lo));
}

static void axes(FILE *out, const struct chart *c, struct scale *sc)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < c->n_lines; i++) {
        lo = fmin(lo, c->lines[i].s->min);
        hi = fmax(hi, c->lines[i].s->max);
    }
    for (size_t i = 0; i < c->n_segments; i++) {
        lo = fmin(lo, fmin(c->segments[i].from, c->segments[i].to));
        hi = fmax(hi, fmax(c->segments[i].from, c->segments[i].to));
    }
    if (lo > 0 && lo < hi * 0.25)
        lo = 0;   /* near zero anyway: start there */
    /* A flat series stays flat: a span of a few bytes is not stretched
     * over the whole height. */
    double least = fabs(hi) * 0.1;
    if (hi - lo < least) {
        double middle = (hi + lo) / 2;
        bool positive = lo >= 0;
        lo = middle - least / 2;
        hi = middle + least / 2;
        if (positive && lo < 0)
            lo = 0;
    }
    double unit, step, ticks[32];
    const char *unit_name;
    size_t n = gcs_nice_ticks(lo, hi, 5, ticks, 32, &step);
    gcs_bytes_unit(fmax(fabs(ticks[0]), fabs(ticks[n - 1])), &unit, &unit_name);
    sc->lo = ticks[0];
    sc->hi = ticks[n - 1];
    int decimals = gcs_step_decimals(step / unit);
    fprintf(out, "<g class=\"axis y\">\n");
    for (size_t i = 0; i < n; i++) {
        double y = y_of(sc, ticks[i]);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>"
                     "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, decimals, ticks[i] / unit);
    }
    fprintf(out, "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\" "
                 "class=\"unit\">%s</text>\n</g>\n",
            TOP + PLOT_H / 2, TOP + PLOT_H / 2, unit_name);

    sc->span_s = (double)(c->t1_ms - c->t0_ms) / 1000.0;
    if (sc->span_s <= 0)
        sc->span_s = 1;
    const char *t_name;
    gcs_time_unit(sc->span_s, &sc->t_unit_s, &t_name);
    n = gcs_nice_ticks(0, sc->span_s / sc->t_unit_s, 6, ticks, 32, &step);
    decimals = gcs_step_decimals(step);
    /* the axis ends at the last sample, not at the last tick */
    fprintf(out, "<g class=\"axis x\">\n");
    for (size_t i = 0; i < n && ticks[i] * sc->t_unit_s <= sc->span_s * 1.0001; i++) {
        double x = LEFT + PLOT_W * ticks[i] * sc->t_unit_s / sc->span_s;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"tick\"/>"
                     "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f</text>\n",
                x, TOP + PLOT_H, x, TOP + PLOT_H + 5, x, TOP + PLOT_H + 18, decimals, ticks[i]);
    }
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"frame\"/>\n"
                 "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"unit\">time since the first "
                 "line (%s)</text>\n</g>\n",
            LEFT, TOP + PLOT_H, W - RIGHT, TOP + PLOT_H, LEFT + PLOT_W / 2, H - 6, t_name);
}

static void chart(FILE *out, const struct chart *c)
{
    static int64_t t[2 * GCS_RPT_BUCKETS];
    static double v[2 * GCS_RPT_BUCKETS];
    struct scale sc;
    fprintf(out, "<figure class=\"chart %s\">\n<figcaption>", c->class_name);
    esc(out, c->title);
    fprintf(out, "</figcaption>\n<svg viewBox=\"0 0 %d %d\" "
                 "width=\"%d\" height=\"%d\" role=\"img\" class=\"%s\">\n<title>",
            W, H, W, H, c->class_name);
    esc(out, c->title);
    fprintf(out, "</title>\n");
    axes(out, c, &sc);

    for (size_t i = 0; i < c->n_markers; i++) {
        const struct marker *m = &c->markers[i];
        double x = x_of(c, &sc, m->ms);
        fprintf(out, "<g class=\"marker %s\"><title>", m->class_name);
        esc(out, m->title);
        fprintf(out, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                     "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text></g>\n",
                x, TOP, x, TOP + PLOT_H, x, TOP - 4, m->label);
    }
    for (size_t i = 0; i < c->n_lines; i++) {
        size_t n = gcs_series_points(c->lines[i].s, t, v, sizeof t / sizeof t[0]);
        const char *colour = colours[i % (sizeof colours / sizeof colours[0])];
        fprintf(out, "<polyline class=\"series\" data-name=\"");
        esc(out, c->lines[i].name);
        fprintf(out, "\" stroke=\"%s\" points=\"", colour);
        for (size_t k = 0; k < n; k++)
            fprintf(out, "%s%.1f,%.1f", k ? " " : "", x_of(c, &sc, t[k]), y_of(&sc, v[k]));
        fprintf(out, "\"/>\n");
        /* few samples: show each one, a line alone would hide them */
        if (n <= 40)
            for (size_t k = 0; k < n; k++)
                fprintf(out, "<circle class=\"sample\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                        x_of(c, &sc, t[k]), y_of(&sc, v[k]), colour);
        /* legend */
        fprintf(out, "<text class=\"legend\" x=\"%d\" y=\"%d\" fill=\"%s\">&#x25AC; ", LEFT + 8 + (int)(i % 4) * 150,
                TOP + 14 + (int)(i / 4) * 14, colour);
        esc(out, c->lines[i].name);
        fprintf(out, "</text>\n");
    }
    for (size_t i = 0; i < c->n_segments; i++) {
        const struct segment *s = &c->segments[i];
        fprintf(out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>%s</title></line>\n",
                s->class_name, x_of(c, &sc, s->from_ms), y_of(&sc, s->from), x_of(c, &sc, s->to_ms),
                y_of(&sc, s->to), s->label);
    }
    fprintf(out, "</svg>\n</figure>\n");
}

static void begin_chart(struct chart *c, const struct gcs_rpt_group *g, const char *title, const char *class_name)
{
    memset(c, 0, sizeof *c);
    c->t0_ms = g->first_ms;
    c->t1_ms = g->last_ms;
    c->title = title;
    c->class_name = class_name;
}

static void add_line(struct chart *c, const struct gcs_rpt_series *s, const char *name)
{
    if (s && s->n && c->n_lines < MAX_LINES)
        c->lines[c->n_lines++] = (struct line){ s, name };
}

/* The leaks of one memory as markers (and, for the heap, their trend
 * lines: level_bytes at the last report, back over the window at the
 * reported rate). */
static void add_leaks(struct chart *c, const struct gcs_rpt_group *g, const char *memory, char titles[][700])
{
    for (uint32_t i = 0; i < g->n_leaks; i++) {
        const struct gcs_rpt_leak *k = &g->leaks[i];
        if (strcmp(k->memory, memory) != 0)
            continue;
        gcs_report_leak_text(titles[i], 700, k);
        c->markers[c->n_markers++] = (struct marker){ k->first_ms, "leak-marker", "leak", titles[i] };
        if (k->end_ms)
            c->markers[c->n_markers++] =
                (struct marker){ k->end_ms, "leak-end-marker", "leak end", "the leak stopped growing" };
        if (strcmp(memory, "heap") == 0 && k->window_s > 0 && k->rate > 0) {
            int64_t from = k->last_ms - (int64_t)(k->window_s * 1000);
            c->segments[c->n_segments++] = (struct segment){
                from, k->last_ms, k->level - k->rate * k->window_s, k->level, "trend leak-trend",
                "the detector's trend line at the leak's latest report"
            };
        }
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The level at the window's end of a line of the trend's slope through
 * the charted samples of the window: the median of their residuals, as
 * the Theil-Sen line of the detector has it. (The stats line gives the
 * slope, and only the mean of the recent window as a level.) */
static bool theil_sen_level(const struct gcs_rpt_series *s, const struct gcs_rpt_trend *trend, double *level)
{
    static int64_t t[2 * GCS_RPT_BUCKETS];
    static double v[2 * GCS_RPT_BUCKETS];
    size_t n = gcs_series_points(s, t, v, sizeof t / sizeof t[0]), k = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] >= trend->from_ms && t[i] <= trend->to_ms)
            v[k++] = v[i] - trend->rate * (double)(t[i] - trend->to_ms) / 1000.0;
    if (k == 0)
        return false;
    qsort(v, k, sizeof v[0], compare_doubles);
    *level = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    return true;
}

static void row(FILE *out, const char *key, const char *value)
{
    fprintf(out, "<tr><th>%s</th><td>", key);
    esc(out, value);
    fprintf(out, "</td></tr>\n");
}

static void series_row(FILE *out, const char *key, const struct gcs_rpt_series *s)
{
    char text[160], a[32], b[32], c[32], d[32];
    if (!s || !s->n)
        return;
    gcs_format_bytes(a, sizeof a, s->first);
    gcs_format_bytes(b, sizeof b, s->min);
    gcs_format_bytes(c, sizeof c, s->max);
    gcs_format_bytes(d, sizeof d, s->last);
    snprintf(text, sizeof text, "first %s, min %s, max %s, last %s", a, b, c, d);
    row(out, key, text);
}

static void group_html(FILE *out, const struct gcs_rpt_group *g)
{
    char text[700], a[40], b[40], d[32];
    fprintf(out, "<section class=\"isolate\" id=\"p%" PRId64 "-i%u\">\n<h2>pid %" PRId64 ", isolate %u",
            g->pid, g->isolate, g->pid, g->isolate);
    if (g->thread[0]) {
        fputs(" (", out);
        esc(out, g->thread);
        fputc(')', out);
    }
    fprintf(out, "</h2>\n<table class=\"summary\">\n");
    snprintf(text, sizeof text, "%s%s%s%s%s%s", g->node[0] ? "node " : "", g->node, g->v8[0] ? ", V8 " : "",
             g->v8, g->gcstats[0] ? ", gcstats " : "", g->gcstats);
    if (text[0])
        row(out, "runtime", text);
    row(out, "file", g->file);
    gcs_format_time(a, sizeof a, g->first_ms);
    gcs_format_time(b, sizeof b, g->last_ms);
    gcs_format_duration(d, sizeof d, (double)(g->last_ms - g->first_ms) / 1000.0);
    snprintf(text, sizeof text, "%s, %s to %s UTC, %s", d, a, b + 11,
             g->ended[0] ? (strcmp(g->ended, "exit") == 0 ? "exited" : "ended")
                         : "no exit line (still running, killed, or the log is cut)");
    row(out, "run time", text);
    if (g->n_kinds) {
        int n = snprintf(text, sizeof text, "%" PRIu64 " full, %" PRIu64 " other; by kind:", g->num_full_gc,
                         g->num_inc_gc);
        for (uint32_t i = 0; i < g->n_kinds && n > 0 && (size_t)n < sizeof text; i++)
            if (g->kinds[i].count)
                n += snprintf(text + n, sizeof text - (size_t)n, " %s %" PRIu64 " (%.1f ms)", g->kinds[i].name,
                              g->kinds[i].count, g->kinds[i].pause_ms);
        row(out, "GCs (pauses)", text);
    }
    series_row(out, "heap after full GC", g->heap);
    if (g->heap_limit > 0) {
        gcs_format_bytes(a, sizeof a, g->heap_limit);
        row(out, "heap limit", a);
    }
    series_row(out, "external", g->external);
    series_row(out, "mapped (committed)", g->mapped);
    series_row(out, "rss", g->rss);
    if (g->verdict[0]) {
        snprintf(text, sizeof text, "%s%s%s%s", g->verdict, g->verdict_memory[0] ? " (" : "", g->verdict_memory,
                 g->verdict_memory[0] ? ")" : "");
        row(out, "verdict", text);
    }
    for (uint32_t i = 0; g->errors && i < g->n_errors && i < GCS_RPT_ERRORS; i++)
        row(out, "error", g->errors[i]);
    fprintf(out, "</table>\n");
    for (uint32_t i = 0; i < g->n_leaks; i++) {
        const struct gcs_rpt_leak *k = &g->leaks[i];
        gcs_report_leak_text(text, sizeof text, k);
        gcs_format_time(a, sizeof a, k->first_ms);
        fprintf(out, "<p class=\"leak\"><strong>Leak</strong> from %s", a + 11);
        if (k->end_ms) {
            gcs_format_time(b, sizeof b, k->end_ms);
            fprintf(out, " to %s (stopped)", b + 11);
        }
        fputs(": ", out);
        esc(out, text);
        fputs(".</p>\n", out);
    }
    if (g->n_culprits > 0) {
        gcs_format_time(a, sizeof a, g->culprits_ms);
        fprintf(out, "<p class=\"culprits\"><strong>Culprits</strong> at %s (the code that allocated what "
                     "stays alive, from the latest culprits line):</p>\n<ol class=\"culprits\">\n", a + 11);
        for (uint32_t i = 0; i < g->n_culprits; i++) {
            gcs_report_culprit_text(text, sizeof text, &g->culprits[i]);
            fputs("<li>", out);
            esc(out, text);
            fputs("</li>\n", out);
        }
        fputs("</ol>\n", out);
    }

    if (!g->charted)
        fprintf(out, "<p class=\"note\">No charts for this isolate: they are kept for the first %d "
                     "isolates of the logs, so that the report's memory stays bounded.</p>\n",
                GCS_RPT_CHARTED);
    static char titles[GCS_RPT_LEAKS][700];
    struct chart c;
    begin_chart(&c, g, "V8 heap after full GCs (post-compaction samples), with the detector's trend", "heap");
    add_line(&c, g->heap, "heap after GC");
    add_leaks(&c, g, "heap", titles);
    /* The trend at the last GC, unless a leak line gave the exact one at
     * that time (the leak line's level is the detector's own; this one is
     * anchored at the recent window's mean, so the two would sit apart). */
    bool exact_at_end = false;
    for (uint32_t i = 0; i < g->n_leaks; i++)
        exact_at_end |= strcmp(g->leaks[i].memory, "heap") == 0 && g->leaks[i].last_ms == g->trend.to_ms;
    if (g->trend.have && !exact_at_end) {
        struct segment s = { g->trend.from_ms, g->trend.to_ms, g->trend.from_bytes, g->trend.to_bytes,
                             "trend last-trend", "the detector's trend line at the last GC" };
        double level;
        if (theil_sen_level(g->heap, &g->trend, &level)) {
            s.to = level;
            s.from = level - g->trend.rate * (double)(s.to_ms - s.from_ms) / 1000.0;
        }
        c.segments[c.n_segments++] = s;
    }
    if (c.n_lines)
        chart(out, &c);

    begin_chart(&c, g, "External memory (Buffers, ArrayBuffers: heap.external)", "external");
    add_line(&c, g->external, "external");
    add_leaks(&c, g, "external", titles);
    if (c.n_lines)
        chart(out, &c);

    begin_chart(&c, g, "Mapped memory by owner (committed bytes, whole process)", "mapped");
    for (uint32_t i = 0; i < g->n_owners; i++)
        add_line(&c, g->owners[i].committed, g->owners[i].name);
    add_leaks(&c, g, "mapped", titles);
    if (c.n_lines)
        chart(out, &c);

    begin_chart(&c, g, "Resident memory (RSS, whole process)", "rss");
    add_line(&c, g->isolate == 1 ? g->rss : NULL, "rss");
    if (c.n_lines)
        chart(out, &c);
    fprintf(out, "</section>\n");
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:800px;color:#222;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-top:1px solid #ccc;padding-top:.8em}"
    "table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px 2px 0;vertical-align:top}"
    "th{font-weight:600;white-space:nowrap}table.overview td,table.overview th{border-bottom:1px solid #eee}"
    "p.leak{background:#fdecea;border-left:4px solid #d55e00;padding:.4em .6em}"
    "figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.2em}"
    "svg{font:11px sans-serif;max-width:100%;height:auto}"
    ".grid{stroke:#e4e4e4}.tick,.frame{stroke:#888}.unit{fill:#444}"
    "polyline.series{fill:none;stroke-width:1.8}"
    ".trend{stroke:#000;stroke-width:1.4;stroke-dasharray:6 4}.last-trend{stroke:#777}"
    ".leak-marker line{stroke:#d55e00;stroke-width:1.5}.leak-marker text{fill:#d55e00;font-weight:600}"
    ".leak-end-marker line{stroke:#009e73;stroke-width:1.5;stroke-dasharray:3 3}"
    ".leak-end-marker text{fill:#009e73}.legend{font-size:12px}"
    ".note{color:#555;font-size:12px}";

void gcs_report_write_html(const struct gcs_report *r, FILE *out, char *const *files, int n_files)
{
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>gcstats report</title>\n<style>%s</style>\n</head>\n<body>\n<h1>gcstats report</h1>\n"
                 "<p>From ",
            style);
    for (int i = 0; i < n_files; i++) {
        fputs(i ? ", " : "", out);
        fputs("<code>", out);
        esc(out, files[i]);
        fputs("</code>", out);
    }
    fprintf(out, ": %" PRIu64 " lines read", r->lines_used);
    if (r->lines_bad)
        fprintf(out, ", %" PRIu64 " bad lines skipped", r->lines_bad);
    if (r->lines_unknown)
        fprintf(out, ", %" PRIu64 " lines of events this report does not know", r->lines_unknown);
    fprintf(out, ".</p>\n<p class=\"note\">Bytes in decimal units (1 MB = 10<sup>6</sup> bytes); times in UTC. "
                 "Charts show at most %d buckets per line, each drawn by its lowest and highest value; "
                 "dashed: the leak detector's trend lines; markers: <span style=\"color:#d55e00\">leak</span> "
                 "and <span style=\"color:#009e73\">leak end</span>.</p>\n",
            GCS_RPT_BUCKETS);

    fprintf(out, "<table class=\"overview\">\n<tr><th>pid</th><th>isolate</th><th>run time</th><th>full GCs</th>"
                 "<th>heap after GC (last)</th><th>verdict</th><th>leaks</th></tr>\n");
    for (size_t i = 0; i < r->n_groups; i++) {
        const struct gcs_rpt_group *g = r->groups[i];
        char d[32], h[32];
        gcs_format_duration(d, sizeof d, (double)(g->last_ms - g->first_ms) / 1000.0);
        if (g->heap && g->heap->n)
            gcs_format_bytes(h, sizeof h, g->heap->last);
        else
            snprintf(h, sizeof h, "-");
        fprintf(out, "<tr><td><a href=\"#p%" PRId64 "-i%u\">%" PRId64 "</a></td><td>%u</td><td>%s</td><td>%" PRIu64
                     "</td><td>%s</td><td>",
                g->pid, g->isolate, g->pid, g->isolate, d, g->num_full_gc, h);
        esc(out, g->verdict[0] ? g->verdict : "-");
        fprintf(out, "</td><td>%u</td></tr>\n", g->n_leaks + g->leaks_not_kept);
    }
    fprintf(out, "</table>\n");
    for (size_t i = 0; i < r->n_groups; i++)
        group_html(out, r->groups[i]);
    fprintf(out, "</body>\n</html>\n");
}
