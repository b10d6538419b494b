/* gcstats exporter's pure parts: the model of live processes and
 * isolates (taken from lines, dropped at end, exit and when stale,
 * bounded) and its Prometheus text (escaping, numbers, state sets, GC
 * kinds as prom-client names them). */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter_format.h"
#include "exporter_model.h"

static enum gcs_exp_take_result take(struct gcs_exp_model *m, double now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum gcs_exp_take_result take(struct gcs_exp_model *m, double now, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return gcs_exp_model_take(m, buf, strlen(buf), now);
}

#define START(pid, iso, node) \
    "{\"event\":\"start\",\"ts\":\"2026-11-27T10:00:00.000Z\",\"pid\":" #pid ",\"isolate\":" #iso \
    ",\"dropped\":0,\"gcstats\":\"0.1.0\",\"node\":" node ",\"v8\":\"11.3\",\"thread\":\"main\"}"

/* A stats line whose every number comes from k, as one GC left them. */
static const char *stats(long pid, int isolate, long k, const char *heap_state)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"event\":\"stats\",\"ts\":\"2026-11-27T10:00:01.000Z\",\"pid\":%ld,\"isolate\":%d,\"dropped\":%ld,"
             "\"num_full_gc\":%ld,\"num_inc_gc\":%ld,\"gc\":{\"scavenge\":{\"count\":%ld,\"pause_ms\":1.5},"
             "\"minor_ms\":{\"count\":1,\"pause_ms\":0.5},\"mark_compact\":{\"count\":%ld,\"pause_ms\":250.0}},"
             "\"usage_trend\":12.5,\"estimated_base\":%ld,\"current_base\":%ld,"
             "\"trend\":{\"heap\":{\"state\":\"%s\",\"samples\":5,\"rate_bytes_per_s\":1000,\"window_s\":20},"
             "\"external\":{\"state\":\"ok\",\"samples\":5,\"rate_bytes_per_s\":null,\"window_s\":20},"
             "\"mapped\":{\"state\":\"unknown\",\"samples\":0,\"rate_bytes_per_s\":null,\"window_s\":null}},"
             "\"heap\":{\"used\":%ld,\"total\":%ld,\"limit\":4000000000,\"external\":777},\"rss\":50000000,"
             "\"rss_peak\":60000000,\"mapped\":{\"committed\":9000,\"owners\":{\"v8_heap\":{\"committed\":8000},"
             "\"a\\\"b.node\":{\"committed\":1000}}}}",
             pid, isolate, k % 3, k, 2 * k, 2 * k, k, 1000 * k, 1000 * k + 1, heap_state, 1000 * k + 2,
             1000 * k + 3);
    return buf;
}

static char *format(const struct gcs_exp_model *m)
{
    struct gcs_exp_text t = { 0 };
    struct gcs_exp_health health = { .files_followed = 3 };
    assert_true(gcs_exp_format(m, &health, &t));
    return t.data;
}

static void assert_has(const char *text, const char *line)
{
    char with_newline[512];
    snprintf(with_newline, sizeof with_newline, "\n%s\n", line);
    if (strstr(text, with_newline) == NULL)
        fail_msg("missing line: %s\nin:\n%s", line, text);
}

static void assert_lacks(const char *text, const char *part)
{
    if (strstr(text, part) != NULL)
        fail_msg("unexpected: %s\nin:\n%s", part, text);
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    struct gcs_exp_text t = { 0 };
    gcs_exp_text_label_value(&t, "a\\b\"c\nd");
    assert_string_equal(t.data, "a\\\\b\\\"c\\nd");
    gcs_exp_text_free(&t);
    gcs_exp_text_label_value(&t, "");
    gcs_exp_text_label_value(&t, "plain");
    assert_string_equal(t.data, "plain");
    gcs_exp_text_free(&t);
}

static void numbers_read_back_the_same(void **state)
{
    (void)state;
    double values[] = { 0, 1, 4345298944.0, 0.1, 0.006182, 1e300, -2.5, 1.0 / 3.0 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct gcs_exp_text t = { 0 };
        gcs_exp_text_number(&t, values[i]);
        assert_true(strtod(t.data, NULL) == values[i]);
        assert_null(strchr(t.data, ','));
        gcs_exp_text_free(&t);
    }
    const char *expected[] = { "NaN", "+Inf", "-Inf", "4345298944", "0.1" };
    double special[] = { NAN, INFINITY, -INFINITY, 4345298944.0, 0.1 };
    for (size_t i = 0; i < 5; i++) {
        struct gcs_exp_text t = { 0 };
        gcs_exp_text_number(&t, special[i]);
        assert_string_equal(t.data, expected[i]);
        gcs_exp_text_free(&t);
    }
}

static void a_stats_line_becomes_metrics(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    assert_int_equal(take(&m, 10, START(42, 1, "\"20.1\\\"x\"")), GCS_EXP_TAKEN);
    assert_int_equal(take(&m, 10, "%s", stats(42, 1, 7, "leak")), GCS_EXP_TAKEN);
    char *text = format(&m);
    assert_has(text, "gcstats_info{pid=\"42\",node_version=\"20.1\\\"x\",v8_version=\"11.3\",gcstats_version=\"0.1.0\"} 1");
    assert_has(text, "nodejs_heap_size_used_bytes{pid=\"42\",isolate=\"1\",thread=\"main\"} 7002");
    assert_has(text, "nodejs_heap_size_total_bytes{pid=\"42\",isolate=\"1\",thread=\"main\"} 7003");
    assert_has(text, "nodejs_external_memory_bytes{pid=\"42\",isolate=\"1\",thread=\"main\"} 777");
    assert_has(text, "gcstats_heap_base_bytes{pid=\"42\",isolate=\"1\",thread=\"main\"} 7001");
    assert_has(text, "gcstats_heap_estimated_base_bytes{pid=\"42\",isolate=\"1\",thread=\"main\"} 7000");
    assert_has(text, "gcstats_heap_usage_trend_ratio{pid=\"42\",isolate=\"1\",thread=\"main\"} 0.125");
    assert_has(text, "gcstats_full_gcs_total{pid=\"42\",isolate=\"1\",thread=\"main\"} 7");
    assert_has(text, "gcstats_incremental_gcs_total{pid=\"42\",isolate=\"1\",thread=\"main\"} 14");
    /* scavenges and minor mark-sweeps are prom-client's "minor", summed */
    assert_has(text, "nodejs_gc_duration_seconds_count{pid=\"42\",isolate=\"1\",thread=\"main\",kind=\"minor\"} 15");
    assert_has(text, "nodejs_gc_duration_seconds_sum{pid=\"42\",isolate=\"1\",thread=\"main\",kind=\"minor\"} 0.002");
    assert_has(text, "nodejs_gc_duration_seconds_sum{pid=\"42\",isolate=\"1\",thread=\"main\",kind=\"major\"} 0.25");
    assert_has(text, "nodejs_gc_duration_seconds_count{pid=\"42\",isolate=\"1\",thread=\"main\",kind=\"major\"} 7");
    assert_has(text, "process_resident_memory_bytes{pid=\"42\"} 50000000");
    assert_has(text, "gcstats_rss_peak_bytes{pid=\"42\"} 60000000");
    assert_has(text, "gcstats_mapped_committed_bytes{pid=\"42\",owner=\"a\\\"b.node\"} 1000");
    assert_has(text, "gcstats_dropped_lines_total{pid=\"42\"} 1");
    /* a state set: exactly the line's state is 1 */
    assert_has(text, "gcstats_verdict{pid=\"42\",isolate=\"1\",thread=\"main\",memory=\"heap\",state=\"leak\"} 1");
    assert_has(text, "gcstats_verdict{pid=\"42\",isolate=\"1\",thread=\"main\",memory=\"heap\",state=\"ok\"} 0");
    assert_has(text, "gcstats_verdict{pid=\"42\",isolate=\"1\",thread=\"main\",memory=\"external\",state=\"ok\"} 1");
    assert_has(text, "gcstats_verdict{pid=\"42\",isolate=\"1\",thread=\"main\",memory=\"mapped\",state=\"unknown\"} 1");
    assert_has(text, "gcstats_trend_rate_bytes_per_second{pid=\"42\",isolate=\"1\",thread=\"main\",memory=\"heap\"} 1000");
    /* a null rate is no sample, not 0 */
    assert_lacks(text, "memory=\"external\"} ");
    assert_has(text, "gcstats_exporter_files_followed 3");
    assert_has(text, "gcstats_exporter_lines_read_total 2");
    /* a family's HELP and TYPE come once, before its samples */
    const char *type = strstr(text, "# TYPE nodejs_gc_duration_seconds summary\n");
    assert_non_null(type);
    assert_null(strstr(type + 1, "# TYPE nodejs_gc_duration_seconds "));
    assert_true(strstr(text, "nodejs_gc_duration_seconds_sum{") > type);
    free(text);
    gcs_exp_model_free(&m);
}

static void leak_values_last_until_leak_end(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    take(&m, 1, "%s", stats(5, 1, 3, "leak"));
    take(&m, 1, "{\"event\":\"leak\",\"ts\":\"x\",\"pid\":5,\"isolate\":1,\"dropped\":0,\"memory\":\"heap\","
                "\"rate_bytes_per_s\":2048,\"rate_low_bytes_per_s\":1024,\"seconds_to_limit\":1800.5}");
    char *text = format(&m);
    assert_has(text, "gcstats_leak_rate_bytes_per_second{pid=\"5\",isolate=\"1\",thread=\"main\",memory=\"heap\"} 2048");
    assert_has(text, "gcstats_leak_rate_low_bytes_per_second{pid=\"5\",isolate=\"1\",thread=\"main\",memory=\"heap\"} 1024");
    assert_has(text, "gcstats_heap_time_to_limit_seconds{pid=\"5\",isolate=\"1\",thread=\"main\"} 1800.5");
    free(text);
    take(&m, 2, "{\"event\":\"leak_end\",\"ts\":\"x\",\"pid\":5,\"isolate\":1,\"dropped\":0,\"memory\":\"heap\"}");
    text = format(&m);
    assert_lacks(text, "gcstats_leak_rate_bytes_per_second{");
    assert_lacks(text, "gcstats_heap_time_to_limit_seconds{");
    free(text);
    gcs_exp_model_free(&m);
}

static void end_drops_an_isolate_and_exit_a_process(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    take(&m, 1, "%s", stats(7, 1, 1, "ok"));
    take(&m, 1, "%s", stats(7, 2, 1, "ok"));
    take(&m, 1, "%s", stats(8, 1, 1, "ok"));
    assert_int_equal(m.n_processes, 2);
    assert_int_equal(m.n_isolates, 3);
    char *text = format(&m);
    assert_has(text, "gcstats_full_gcs_total{pid=\"7\",isolate=\"2\",thread=\"worker\"} 1");
    free(text);
    take(&m, 2, "{\"event\":\"end\",\"ts\":\"x\",\"pid\":7,\"isolate\":2,\"dropped\":0,\"num_full_gc\":9}");
    assert_int_equal(m.n_isolates, 2);
    assert_non_null(gcs_exp_model_process(&m, 7));
    assert_null(gcs_exp_process_isolate(gcs_exp_model_process(&m, 7), 2));
    /* exit carries isolate 1 but is the whole process' */
    take(&m, 3, "{\"event\":\"exit\",\"ts\":\"x\",\"pid\":7,\"isolate\":1,\"dropped\":0,\"num_full_gc\":9}");
    assert_null(gcs_exp_model_process(&m, 7));
    assert_int_equal(m.n_isolates, 1);
    text = format(&m);
    assert_lacks(text, "pid=\"7\"");
    assert_has(text, "gcstats_full_gcs_total{pid=\"8\",isolate=\"1\",thread=\"main\"} 1");
    free(text);
    gcs_exp_model_free(&m);
}

static void stale_processes_and_isolates_are_dropped(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    take(&m, 100, "%s", stats(1, 1, 1, "ok"));
    take(&m, 100, "%s", stats(1, 2, 1, "ok"));
    take(&m, 150, "%s", stats(1, 1, 2, "ok"));   /* the main thread goes on, the worker went silent */
    take(&m, 100, "%s", stats(2, 1, 1, "ok"));
    assert_int_equal(gcs_exp_model_prune(&m, 160, 60), 0);
    assert_int_equal(m.n_isolates, 3);
    /* at 161: pid 2 and pid 1's worker are 61 s old */
    assert_int_equal(gcs_exp_model_prune(&m, 161, 60), 3);
    assert_null(gcs_exp_model_process(&m, 2));
    assert_non_null(gcs_exp_process_isolate(gcs_exp_model_process(&m, 1), 1));
    assert_null(gcs_exp_process_isolate(gcs_exp_model_process(&m, 1), 2));
    assert_int_equal(m.n_processes, 1);
    assert_int_equal(m.n_isolates, 1);
    gcs_exp_model_free(&m);
}

static void bad_lines_are_counted_and_the_rest_kept(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    take(&m, 1, "%s", stats(3, 1, 4, "ok"));
    assert_int_equal(take(&m, 1, "not json"), GCS_EXP_BAD);
    assert_int_equal(take(&m, 1, "{\"pid\":3,\"isolate\":1}"), GCS_EXP_BAD);                 /* no event */
    assert_int_equal(take(&m, 1, "{\"event\":\"stats\",\"pid\":\"3\",\"isolate\":1}"), GCS_EXP_BAD);
    assert_int_equal(take(&m, 1, "{\"event\":\"stats\",\"pid\":3,\"isolate\":0}"), GCS_EXP_BAD);
    assert_int_equal(take(&m, 1, "[1,2]"), GCS_EXP_BAD);
    /* an event of a later gcstats is no harm */
    assert_int_equal(take(&m, 1, "{\"event\":\"new\",\"pid\":3,\"isolate\":1,\"gc\":7}"), GCS_EXP_TAKEN);
    char *text = format(&m);
    assert_has(text, "gcstats_exporter_bad_lines_total 5");
    assert_has(text, "gcstats_exporter_lines_read_total 7");
    assert_has(text, "gcstats_full_gcs_total{pid=\"3\",isolate=\"1\",thread=\"main\"} 4");
    free(text);
    gcs_exp_model_free(&m);
}

static void the_tables_are_bounded(void **state)
{
    (void)state;
    struct gcs_exp_model m;
    gcs_exp_model_init(&m);
    m.max_processes = 2;
    m.max_isolates = 3;
    take(&m, 1, "%s", stats(1, 1, 1, "ok"));
    take(&m, 1, "%s", stats(2, 1, 1, "ok"));
    assert_int_equal(take(&m, 1, "%s", stats(3, 1, 1, "ok")), GCS_EXP_UNTRACKED);
    take(&m, 1, "%s", stats(1, 2, 1, "ok"));
    assert_int_equal(take(&m, 1, "%s", stats(1, 3, 1, "ok")), GCS_EXP_UNTRACKED);
    assert_int_equal(m.n_processes, 2);
    assert_int_equal(m.n_isolates, 3);
    char *text = format(&m);
    assert_has(text, "gcstats_exporter_untracked_lines_total 2");
    assert_has(text, "gcstats_exporter_processes_max 2");
    assert_lacks(text, "pid=\"3\"");
    free(text);
    /* room again once a process has gone */
    take(&m, 2, "{\"event\":\"exit\",\"pid\":2,\"isolate\":1}");
    assert_int_equal(take(&m, 2, "%s", stats(3, 1, 1, "ok")), GCS_EXP_TAKEN);
    gcs_exp_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(numbers_read_back_the_same),
        cmocka_unit_test(a_stats_line_becomes_metrics),
        cmocka_unit_test(leak_values_last_until_leak_end),
        cmocka_unit_test(end_drops_an_isolate_and_exit_a_process),
        cmocka_unit_test(stale_processes_and_isolates_are_dropped),
        cmocka_unit_test(bad_lines_are_counted_and_the_rest_kept),
        cmocka_unit_test(the_tables_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
