/* gcstats report's pure parts: grouping lines by process and isolate,
 * leaks and their time to the heap limit, bad lines named by FILE:LINE,
 * bounded series, ticks and numbers for people. */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct messages {
    char text[32][512];
    int n;
};

static void collect(void *ctx, const char *message)
{
    struct messages *m = ctx;
    if (m->n < 32)
        snprintf(m->text[m->n], sizeof m->text[0], "%s", message);
    m->n++;
}

static void take(struct gcs_report *r, uint64_t line_no, const char *text)
{
    gcs_report_take(r, line_no, text, strlen(text), false);
}

static char *line(const char *event, int pid, int isolate, const char *ts, const char *rest)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "{\"event\":\"%s\",\"ts\":\"2026-11-26T10:%s\",\"pid\":%d,\"isolate\":%d,"
             "\"dropped\":0%s%s}", event, ts, pid, isolate, rest[0] ? "," : "", rest);
    return buf;
}

static struct gcs_rpt_group *group(const struct gcs_report *r, int64_t pid, uint32_t isolate)
{
    struct gcs_rpt_group *found = NULL;
    for (size_t i = 0; i < r->n_groups; i++)
        if (r->groups[i]->pid == pid && r->groups[i]->isolate == isolate)
            found = r->groups[i];
    return found;
}

static const char *stats_rest(long base)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "\"num_full_gc\":3,\"num_inc_gc\":10,\"gc\":{\"scavenge\":{\"count\":9,\"pause_ms\":4.5},"
             "\"mark_compact\":{\"count\":3,\"pause_ms\":6.0}},\"current_base\":%ld,\"estimated_base\":%ld,"
             "\"recent_samples\":2,\"long_samples\":4,\"trend\":{\"heap\":{\"state\":\"ok\",\"samples\":4,"
             "\"rate_bytes_per_s\":0,\"window_s\":3.0}},\"verdict\":{\"state\":\"ok\",\"memory\":null},"
             "\"heap\":{\"used\":%ld,\"limit\":4000000000,\"external\":1000},\"pause_ms\":2.5,\"rss\":50000000,"
             "\"mapped\":{\"committed\":9000,\"owners\":{\"v8_heap\":{\"committed\":8000},"
             "\"libuv\":{\"committed\":0},\"addon.node\":{\"committed\":1000}}}",
             base, base, base);
    return buf;
}

/* Lines of two processes and a Worker, interleaved, make three groups in
 * order of appearance; a reused pid (a second start) is a new process. */
static void groups_by_pid_and_isolate(void **state)
{
    (void)state;
    struct gcs_report r;
    struct messages m = { .n = 0 };
    gcs_report_init(&r, collect, &m);
    gcs_report_file_begin(&r, "a.jsonl");
    take(&r, 1, line("start", 100, 1, "00:00.000Z", "\"thread\":\"main\",\"node\":\"20.20.2\""));
    take(&r, 2, line("start", 200, 1, "00:00.500Z", "\"thread\":\"main\""));
    take(&r, 3, line("start", 100, 2, "00:01.000Z", "\"thread\":\"worker\""));
    take(&r, 4, line("stats", 100, 1, "00:02.000Z", stats_rest(5000000)));
    take(&r, 5, line("stats", 200, 1, "00:03.000Z", stats_rest(7000000)));
    take(&r, 6, line("stats", 100, 2, "00:04.000Z", stats_rest(3000000)));
    take(&r, 7, line("exit", 100, 1, "00:10.000Z", "\"num_full_gc\":4"));
    take(&r, 8, line("start", 100, 1, "00:20.000Z", "\"thread\":\"main\""));
    take(&r, 9, line("stats", 100, 1, "00:21.000Z", stats_rest(9000000)));
    gcs_report_file_end(&r);
    assert_int_equal(m.n, 0);
    assert_int_equal(r.n_groups, 4);
    assert_int_equal(r.groups[0]->pid, 100);
    assert_int_equal(r.groups[0]->isolate, 1);
    assert_int_equal(r.groups[1]->pid, 200);
    assert_int_equal(r.groups[2]->isolate, 2);
    assert_string_equal(r.groups[2]->thread, "worker");
    const struct gcs_rpt_group *first = r.groups[0], *again = r.groups[3];
    assert_string_equal(first->node, "20.20.2");
    assert_string_equal(first->ended, "exit");
    assert_int_equal(first->num_full_gc, 4);
    assert_int_equal(first->last_ms - first->first_ms, 10000);
    assert_int_equal(first->heap->n, 1);
    assert_true(first->heap->last == 5000000);
    assert_int_equal(first->n_kinds, 2);
    assert_string_equal(first->kinds[1].name, "mark_compact");
    assert_true(first->kinds[1].pause_ms == 6.0);
    /* mapped memory is the process's: owners that never held memory are left out */
    assert_int_equal(first->n_owners, 2);
    assert_string_equal(first->owners[1].name, "addon.node");
    assert_null(r.groups[2]->mapped);
    /* the later process of pid 100 gets the later lines */
    assert_ptr_equal(group(&r, 100, 1), again);
    assert_true(again->heap->last == 9000000);
    assert_string_equal(again->ended, "");
    gcs_report_free(&r);
}

/* Many processes: the index grows, and every line finds its process;
 * the isolates past the first GCS_RPT_CHARTED keep summaries only. */
static void many_processes(void **state)
{
    (void)state;
    struct gcs_report r;
    gcs_report_init(&r, NULL, NULL);
    gcs_report_file_begin(&r, "many.jsonl");
    for (int round = 0; round < 3; round++)
        for (int pid = 1; pid <= GCS_RPT_CHARTED + 200; pid++)
            take(&r, 1, line("stats", pid, 1 + pid % 3, round == 0 ? "00:00.000Z" : "00:05.000Z",
                             stats_rest(1000L * pid + round)));
    assert_int_equal(r.n_groups, GCS_RPT_CHARTED + 200);
    for (int pid = 1; pid <= GCS_RPT_CHARTED + 200; pid++) {
        const struct gcs_rpt_group *g = group(&r, pid, 1 + pid % 3);
        assert_non_null(g);
        assert_int_equal(g->heap->n, 3);
        assert_true(g->heap->last == 1000.0 * pid + 2);
        assert_true(g->heap->min == 1000.0 * pid);
        assert_int_equal(g->charted, pid <= GCS_RPT_CHARTED);
        assert_int_equal(g->heap->b != NULL, pid <= GCS_RPT_CHARTED);
    }
    gcs_report_free(&r);
}

/* A leak: its rate, window, and time to the heap limit from limit_bytes
 * and level_bytes; re-reports update it; leak_end closes it. */
static void leaks_and_time_to_limit(void **state)
{
    (void)state;
    struct gcs_report r;
    gcs_report_init(&r, NULL, NULL);
    gcs_report_file_begin(&r, "leak.jsonl");
    take(&r, 1, line("stats", 7, 1, "00:00.000Z", stats_rest(10000000)));
    take(&r, 2, line("leak", 7, 1, "00:30.000Z",
                     "\"memory\":\"heap\",\"growth_bytes\":3000000,\"rate_bytes_per_s\":100000,"
                     "\"rate_low_bytes_per_s\":50000,\"confidence\":0.99,\"window\":{\"from\":"
                     "\"2026-11-26T10:00:00.000Z\",\"to\":\"2026-11-26T10:00:30.000Z\",\"seconds\":30.0,"
                     "\"samples\":9},\"level_bytes\":13000000,\"limit_bytes\":113000000,"
                     "\"seconds_to_limit\":1000,\"report\":1,\"reason\":\"grew\""));
    const struct gcs_rpt_group *g = group(&r, 7, 1);
    assert_int_equal(g->n_leaks, 1);
    const struct gcs_rpt_leak *k = &g->leaks[0];
    assert_true(k->rate == 100000);
    assert_true(k->window_s == 30.0);
    assert_int_equal(k->samples, 9);
    /* (113 MB - 13 MB) / 100 kB/s */
    assert_true(fabs(k->seconds_to_limit - 1000.0) < 1e-9);
    char text[600];
    gcs_report_leak_text(text, sizeof text, k);
    assert_non_null(strstr(text, "heap grows by 100 kB/s"));
    assert_non_null(strstr(text, "in 16.7 min"));
    /* without limit_bytes: heap.limit of the stats lines */
    take(&r, 3, line("leak", 7, 1, "01:30.000Z",
                     "\"memory\":\"heap\",\"rate_bytes_per_s\":200000,\"level_bytes\":2000000000,"
                     "\"window\":{\"seconds\":60.0,\"samples\":12},\"report\":2"));
    assert_int_equal(g->n_leaks, 1);
    assert_int_equal(k->reports, 2);
    assert_true(fabs(k->seconds_to_limit - 10000.0) < 1e-9);
    /* memory outside the heap has no limit */
    take(&r, 4, line("leak", 7, 1, "01:31.000Z", "\"memory\":\"external\",\"rate_bytes_per_s\":5,\"report\":1"));
    assert_int_equal(g->n_leaks, 2);
    assert_true(g->leaks[1].seconds_to_limit < 0);
    take(&r, 5, line("leak_end", 7, 1, "02:00.000Z", "\"memory\":\"heap\",\"recent_rate_bytes_per_s\":3"));
    assert_int_equal(k->end_ms - k->first_ms, 90000);
    assert_int_equal(g->leaks[1].end_ms, 0);
    /* a leak_end whose leak is not in the log changes nothing */
    take(&r, 6, line("leak_end", 7, 1, "02:01.000Z", "\"memory\":\"mapped\""));
    assert_int_equal(g->n_leaks, 2);
    gcs_report_free(&r);
}

/* Numbers no gcstats writes (a damaged or hostile log) are held in range
 * rather than converted with undefined behaviour. */
static void numbers_out_of_range(void **state)
{
    (void)state;
    struct gcs_report r;
    gcs_report_init(&r, NULL, NULL);
    gcs_report_file_begin(&r, "odd.jsonl");
    take(&r, 1, line("stats", 3, 1, "00:00.000Z",
                     "\"num_full_gc\":-5,\"num_inc_gc\":1e300,\"current_base\":1,\"estimated_base\":1,"
                     "\"recent_samples\":1,\"long_samples\":2,\"trend\":{\"heap\":{\"rate_bytes_per_s\":1,"
                     "\"window_s\":1e308}}"));
    take(&r, 2, line("leak", 3, 1, "00:01.000Z",
                     "\"memory\":\"heap\",\"rate_bytes_per_s\":1,\"report\":1,"
                     "\"window\":{\"seconds\":1e308,\"samples\":-1e308}"));
    const struct gcs_rpt_group *g = r.groups[0];
    assert_int_equal(g->num_full_gc, 0);
    assert_true(g->num_inc_gc == UINT64_C(9200000000000000000));
    assert_true(g->trend.have);
    assert_int_equal(g->trend.to_ms - g->trend.from_ms, (int64_t)1e12);
    assert_true(g->leaks[0].window_s == 1e9);
    assert_int_equal(g->leaks[0].samples, 0);
    gcs_report_free(&r);
}

/* Bad lines are named FILE:LINE, the rest is read; an unknown event is
 * named once per file; a cut last line says so; messages stop after a few
 * per file and the rest are counted. */
static void bad_lines(void **state)
{
    (void)state;
    struct gcs_report r;
    struct messages m = { .n = 0 };
    gcs_report_init(&r, collect, &m);
    gcs_report_file_begin(&r, "bad.jsonl");
    take(&r, 1, "this is not json");
    take(&r, 2, line("stats", 9, 1, "00:01.000Z", stats_rest(1000000)));
    take(&r, 3, "{\"event\":\"stats\",\"ts\":\"2026-11-26T10:00:02.000Z\",\"isolate\":1}");
    take(&r, 4, "[1,2]");
    take(&r, 5, "{\"event\":\"stats\",\"ts\":\"yesterday\",\"pid\":9,\"isolate\":1}");
    take(&r, 6, line("heapdump", 9, 1, "00:03.000Z", "\"top\":[{\"name\":\"x\"}]"));
    take(&r, 7, line("heapdump", 9, 1, "00:04.000Z", ""));
    take(&r, 8, line("stats", 9, 1, "00:05.000Z", stats_rest(2000000)));
    take(&r, 9, "");
    const char *cut = "{\"event\":\"stats\",\"ts\":\"2026-11-26T10:00:06.000Z\",\"pid\":9,\"isol";
    gcs_report_take(&r, 10, cut, strlen(cut), true);
    gcs_report_file_end(&r);
    assert_int_equal(m.n, 6);
    assert_non_null(strstr(m.text[0], "bad.jsonl:1: not a JSON line"));
    assert_non_null(strstr(m.text[1], "bad.jsonl:3: not a gcstats line: no \"pid\""));
    assert_non_null(strstr(m.text[2], "bad.jsonl:4: not a gcstats line: not a JSON object"));
    assert_non_null(strstr(m.text[3], "bad.jsonl:5: not a gcstats line: \"ts\""));
    assert_non_null(strstr(m.text[4], "bad.jsonl:6: unknown event \"heapdump\""));
    assert_non_null(strstr(m.text[5], "bad.jsonl:10: the last line is cut short"));
    assert_int_equal(r.lines_bad, 5);
    assert_int_equal(r.lines_unknown, 2);
    assert_int_equal(r.n_groups, 1);
    assert_int_equal(r.groups[0]->heap->n, 2);
    /* unknown fields of a newer version are read past */
    take(&r, 11, line("stats", 9, 1, "00:07.000Z", "\"current_base\":3000000,\"new_field\":{\"a\":[1]}"));
    assert_int_equal(r.groups[0]->heap->n, 3);

    /* a file of garbage: the first messages, then a count */
    m.n = 0;
    gcs_report_file_begin(&r, "garbage.bin");
    for (int i = 1; i <= 1000; i++)
        take(&r, (uint64_t)i, "\x01\x02garbage");
    gcs_report_file_end(&r);
    assert_int_equal(m.n, GCS_RPT_MESSAGES_PER_FILE + 1);
    assert_non_null(strstr(m.text[0], "garbage.bin:1: "));
    assert_non_null(strstr(m.text[GCS_RPT_MESSAGES_PER_FILE], "garbage.bin: 980 more bad lines not shown"));
    gcs_report_free(&r);
}

/* Any number of points fits in the buckets; the extremes survive, and the
 * points come out in time order. */
static void series_downsampled(void **state)
{
    (void)state;
    struct gcs_rpt_series *s = gcs_series_new(true);
    assert_non_null(s);
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double v = 1000.0 + (i % 100);
        if (i == 123457)
            v = 1e9;   /* one spike */
        if (i == 4321)
            v = 1;     /* one dip */
        gcs_series_add(s, 1000000 + (int64_t)i * 250, v);
    }
    assert_int_equal(s->n, n);
    assert_true(s->used <= GCS_RPT_BUCKETS);
    assert_true(s->used > GCS_RPT_BUCKETS / 2);
    assert_true(s->first == 1000.0 && s->last == 1000.0 + (n - 1) % 100);
    static int64_t t[2 * GCS_RPT_BUCKETS];
    static double v[2 * GCS_RPT_BUCKETS];
    size_t k = gcs_series_points(s, t, v, 2 * GCS_RPT_BUCKETS);
    assert_true(k <= 2 * GCS_RPT_BUCKETS);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
        if (i)
            assert_true(t[i] >= t[i - 1]);
    }
    assert_true(lo == 1);
    assert_true(hi == 1e9);
    assert_true(t[0] >= 1000000 && t[k - 1] <= 1000000 + (int64_t)n * 250);

    /* few points keep their own times */
    gcs_series_free(s);
    s = gcs_series_new(true);
    gcs_series_add(s, 5000, 1);
    gcs_series_add(s, 9000, 3);
    gcs_series_add(s, 7000, 2);
    k = gcs_series_points(s, t, v, 8);
    assert_int_equal(k, 3);
    assert_int_equal(t[0], 5000);
    assert_int_equal(t[1], 7000);
    assert_true(v[1] == 2);
    assert_int_equal(t[2], 9000);
    /* a point older than the first goes into the first bucket */
    gcs_series_add(s, 1000, 0);
    assert_true(s->min == 0);
    k = gcs_series_points(s, t, v, 8);
    assert_true(t[0] >= 5000 && v[0] == 1 && v[1] == 0);
    gcs_series_free(s);
    /* a series without buckets: its summary, and nothing to draw */
    s = gcs_series_new(false);
    gcs_series_add(s, 1000, 5);
    gcs_series_add(s, 2000, 7);
    assert_true(s->n == 2 && s->min == 5 && s->max == 7 && s->last == 7);
    assert_int_equal(gcs_series_points(s, t, v, 8), 0);
    gcs_series_free(s);
}

static void ticks(void **state)
{
    (void)state;
    double t[32], step;
    size_t n = gcs_nice_ticks(5767184, 8341752, 5, t, 32, &step);
    assert_true(step == 500000);
    assert_int_equal(n, 7);
    assert_true(t[0] == 5500000 && t[n - 1] == 8500000);
    n = gcs_nice_ticks(0, 30.1, 6, t, 32, &step);
    assert_true(step == 5);
    assert_true(t[0] == 0 && t[n - 1] == 35);
    n = gcs_nice_ticks(0, 1, 5, t, 32, &step);
    assert_true(step == 0.2);
    assert_int_equal(n, 6);
    assert_true(t[3] == 0.6000000000000001 || fabs(t[3] - 0.6) < 1e-12);
    /* one value: a range around it, never a division by zero */
    n = gcs_nice_ticks(4e9, 4e9, 5, t, 32, &step);
    assert_true(n >= 2 && t[0] < 4e9 && t[n - 1] > 4e9);
    n = gcs_nice_ticks(0, 0, 5, t, 32, &step);
    assert_true(n >= 2 && t[0] <= 0 && t[n - 1] > 0);
    /* negative values, and never more ticks than room */
    n = gcs_nice_ticks(-3, 7, 5, t, 32, &step);
    assert_true(t[0] == -4 && t[n - 1] == 8 && step == 2);
    assert_true(gcs_nice_ticks(0, 1e6, 1000, t, 4, &step) == 4);
    assert_int_equal(gcs_step_decimals(0.5), 1);
    assert_int_equal(gcs_step_decimals(0.05), 2);
    assert_int_equal(gcs_step_decimals(5), 0);
    assert_int_equal(gcs_step_decimals(1), 0);
    double unit;
    const char *name;
    gcs_bytes_unit(4.35e9, &unit, &name);
    assert_string_equal(name, "GB");
    gcs_bytes_unit(999, &unit, &name);
    assert_string_equal(name, "B");
    gcs_time_unit(120, &unit, &name);
    assert_string_equal(name, "s");
    gcs_time_unit(3600, &unit, &name);
    assert_string_equal(name, "min");
    assert_true(unit == 60);
    gcs_time_unit(86400, &unit, &name);
    assert_string_equal(name, "h");
}

static void numbers_for_people(void **state)
{
    (void)state;
    char b[32];
    static const struct {
        double bytes;
        const char *text;
    } cases[] = {
        { 0, "0 B" }, { 999, "999 B" }, { 999.6, "1.00 kB" }, { 1500, "1.50 kB" }, { 12345, "12.3 kB" },
        { 128556, "129 kB" }, { 8003856, "8.00 MB" }, { 999999999, "1.00 GB" }, { 4345298944, "4.35 GB" },
        { -2500000, "-2.50 MB" }, { 3e15, "3.00 PB" }, { 3e18, "3000 PB" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gcs_format_bytes(b, sizeof b, cases[i].bytes);
        assert_string_equal(b, cases[i].text);
    }
    gcs_format_bytes(b, sizeof b, NAN);
    assert_string_equal(b, "?");
    gcs_format_duration(b, sizeof b, 2.5);
    assert_string_equal(b, "2.50 s");
    gcs_format_duration(b, sizeof b, 45);
    assert_string_equal(b, "45.0 s");
    gcs_format_duration(b, sizeof b, 750);
    assert_string_equal(b, "12.5 min");
    gcs_format_duration(b, sizeof b, 33737);
    assert_string_equal(b, "9.37 h");
    gcs_format_duration(b, sizeof b, 86400 * 12);
    assert_string_equal(b, "12.0 d");
    int64_t ms;
    assert_true(gcs_parse_time("2026-11-26T23:25:25.056Z", &ms));
    gcs_format_time(b, sizeof b, ms);
    assert_string_equal(b, "2026-11-26 23:25:25.056");
    assert_true(gcs_parse_time("1970-01-01T00:00:01Z", &ms) && ms == 1000);
    assert_true(gcs_parse_time("2000-02-29T12:00:00.5Z", &ms) && ms == 951825600500);
    assert_false(gcs_parse_time("2026-11-26 23:25:25Z", &ms));
    assert_false(gcs_parse_time("2026-13-01T00:00:00Z", &ms));
    assert_false(gcs_parse_time("2026-11-26T23:25:25.Z", &ms));
    assert_false(gcs_parse_time("2026-11-26T23:25:25Zjunk", &ms));
}

/* The latest culprits line of an isolate is kept, its first three sites:
 * a later line replaces the earlier one (it ranks what is alive now). */
static void culprits_latest_kept(void **state)
{
    (void)state;
    struct gcs_report r;
    gcs_report_init(&r, NULL, NULL);
    take(&r, 1, line("start", 7, 1, "00:00.000Z", "\"thread\":\"main\""));
    take(&r, 2, line("culprits", 7, 1, "00:30.000Z",
                     "\"memory\":\"heap\",\"report\":1,\"sites\":[{\"function\":\"old\",\"url\":\"/a.js\","
                     "\"line\":1,\"bytes\":10,\"share\":1,\"growth_bytes\":null}]"));
    take(&r, 3, line("culprits", 7, 1, "01:30.000Z",
                     "\"memory\":\"heap\",\"report\":2,\"sites\":["
                     "{\"function\":\"retainOrder\",\"url\":\"/srv/app.js\",\"line\":12,\"bytes\":4718824,"
                     "\"share\":0.818,\"growth_bytes\":2400000},"
                     "{\"function\":\"\",\"url\":\"/srv/app.js\",\"line\":24,\"bytes\":1048848,"
                     "\"share\":0.182,\"growth_bytes\":-2100000},"
                     "{\"function\":\"c\",\"url\":\"/c.js\",\"line\":3,\"bytes\":1,\"share\":0},"
                     "{\"function\":\"d\",\"url\":\"/d.js\",\"line\":4,\"bytes\":1,\"share\":0}]"));
    struct gcs_rpt_group *g = group(&r, 7, 1);
    assert_non_null(g);
    assert_int_equal(g->n_culprits, 3);
    char text[400];
    gcs_report_culprit_text(text, sizeof text, &g->culprits[0]);
    assert_string_equal(text, "82% 4.72 MB retainOrder /srv/app.js:12 (+2.40 MB)");
    gcs_report_culprit_text(text, sizeof text, &g->culprits[1]);
    assert_string_equal(text, "18% 1.05 MB (anonymous) /srv/app.js:24 (-2.10 MB)");
    gcs_report_culprit_text(text, sizeof text, &g->culprits[2]);
    assert_string_equal(text, "0% 1 B c /c.js:3");
    gcs_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_by_pid_and_isolate),
        cmocka_unit_test(many_processes),
        cmocka_unit_test(leaks_and_time_to_limit),
        cmocka_unit_test(numbers_out_of_range),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(series_downsampled),
        cmocka_unit_test(ticks),
        cmocka_unit_test(numbers_for_people),
        cmocka_unit_test(culprits_latest_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
