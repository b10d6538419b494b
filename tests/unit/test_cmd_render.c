/* gcstats tail's pure parts: lines of a real run rendered as text
 * (recorded from `gcstats run --leak-min-span 3 -- node --expose-gc
 * tests/fixtures/leak_then_stop.js heap 5000 9000`), colours only when
 * asked for, a newer version's events and fields shown rather than
 * hidden, bad lines told apart; and lines cut from pieces. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"
#include "render.h"
#include "units.h"

static const char stats_line[] = "{\"event\":\"stats\",\"ts\":\"2026-11-27T00:42:53.698Z\",\"pid\":26493,\"isolate\":1,\"dropped\":0,\"num_full_gc\":19,\"num_inc_gc\":2,\"heap_compactions\":19,\"gc\":{\"scavenge\":{\"count\":2,\"pause_ms\":16.444},\"minor_ms\":{\"count\":0,\"pause_ms\":0.000},\"mark_compact\":{\"count\":19,\"pause_ms\":287.452},\"incremental\":{\"count\":0,\"pause_ms\":0.000},\"weak_callbacks\":{\"count\":0,\"pause_ms\":0.000}},\"usage_trend\":14.54,\"estimated_base\":5070556,\"current_base\":5783264,\"min\":{\"bytes\":3163064,\"when\":\"2026-11-27T00:42:49.331Z\"},\"max\":{\"bytes\":5783264,\"when\":\"2026-11-27T00:42:53.698Z\"},\"recent_samples\":10,\"long_samples\":19,\"verdict\":{\"state\":\"leak\",\"memory\":\"heap\",\"rate_bytes_per_s\":591168,\"since\":\"2026-11-27T00:42:53.698Z\"},\"trend\":{\"heap\":{\"state\":\"leak\",\"samples\":5,\"rate_bytes_per_s\":591168,\"window_s\":4.4},\"external\":{\"state\":\"ok\",\"samples\":5,\"rate_bytes_per_s\":0,\"window_s\":4.4},\"mapped\":{\"state\":\"ok\",\"samples\":5,\"rate_bytes_per_s\":0,\"window_s\":4.6}},\"heap\":{\"used\":5783264,\"total\":14749696,\"limit\":4345298944,\"external\":1329748,\"physical\":9093120,\"available\":4339094696,\"malloced\":147552,\"native_contexts\":1,\"detached_contexts\":0,\"total_allocated\":null},\"pause_ms\":9.840,\"forced\":true,\"probe\":false,\"rss\":56905728,\"rss_peak\":56905728,\"mapped\":{\"reserved\":552124416,\"committed\":16646144,\"peak_reserved\":552534016,\"peak_committed\":16797696,\"complete\":true,\"owners\":{\"v8_heap\":{\"reserved\":15253504,\"committed\":14745600,\"peak_committed\":14897152},\"v8_code\":{\"reserved\":536870912,\"committed\":1900544,\"peak_committed\":1900544},\"libuv\":{\"reserved\":0,\"committed\":0,\"peak_committed\":0},\"malloc\":{\"reserved\":0,\"committed\":0,\"peak_committed\":0},\"other\":{\"reserved\":0,\"committed\":0,\"peak_committed\":0}}}}";
static const char leak_line[] = "{\"event\":\"leak\",\"ts\":\"2026-11-27T00:42:53.698Z\",\"pid\":26493,\"isolate\":1,\"dropped\":0,\"memory\":\"heap\",\"growth_bytes\":2581041,\"rate_bytes_per_s\":591168,\"rate_low_bytes_per_s\":559298,\"recent_rate_bytes_per_s\":644420,\"confidence\":0.9863,\"window\":{\"from\":\"2026-11-27T00:42:49.332Z\",\"to\":\"2026-11-27T00:42:53.698Z\",\"seconds\":4.4,\"samples\":5},\"level_bytes\":5744105,\"limit_bytes\":4345298944,\"seconds_to_limit\":7341,\"since\":\"2026-11-27T00:42:53.698Z\",\"report\":1,\"reason\":\"the V8 heap after full GCs grew by 2.6 MB in 4 s (591.2 kB/s, at least 559.3 kB/s with 95% confidence) and is still growing\"}";
static const char leak_end_line[] = "{\"event\":\"leak_end\",\"ts\":\"2026-11-27T00:42:55.955Z\",\"pid\":26493,\"isolate\":1,\"dropped\":0,\"memory\":\"heap\",\"state\":\"growing\",\"recent_rate_bytes_per_s\":101,\"leak_rate_bytes_per_s\":591168,\"window\":{\"from\":\"2026-11-27T00:42:49.332Z\",\"to\":\"2026-11-27T00:42:55.955Z\",\"seconds\":6.6,\"samples\":7},\"reason\":\"the V8 heap stopped growing: 0.1 kB/s lately, against 591.2 kB/s when the leak was reported\"}";
static const char start_line[] = "{\"event\":\"start\",\"ts\":\"2026-11-27T00:42:48.717Z\",\"pid\":26493,\"isolate\":1,\"dropped\":0,\"gcstats\":\"0.1.0\",\"node\":\"20.20.2\",\"v8\":\"11.3.244.8-node.38\",\"thread\":\"main\",\"v8_isolate\":\"0x1fc676d0\",\"settings\":{\"destination\":\"file:/tmp/cmdl.jsonl\",\"interval_s\":1.000,\"maps\":true,\"sites_s\":0.000,\"probe_s\":5.000,\"probe_budget_pct\":1.000},\"probing\":true}";

static const char *render(const char *line, bool colour)
{
    static char out[8192];
    assert_int_equal(gcs_render_line(line, strlen(line), colour, out, sizeof out), GCS_RENDER_OK);
    return out;
}

static void real_lines(void **state)
{
    (void)state;
    assert_string_equal(render(stats_line, false),
        "00:42:53.698 pid 26493 iso 1 stats    heap 5.78 MB trend +14.54% ext 1.33 MB mapped 0 B rss 56.9 MB"
        " verdict leak (heap, 591 kB/s) pause 9.8 ms forced");
    /* a full GC the probe asked for, and what it cost by the probe's measure */
    {
        static char probed[sizeof stats_line + 64];
        const char *at = strstr(stats_line, "\"forced\":true,\"probe\":false");
        assert_non_null(at);
        snprintf(probed, sizeof probed, "%.*s\"forced\":false,\"probe\":true,\"probe_cpu_ns\":12345678%s",
                 (int)(at - stats_line), stats_line, at + strlen("\"forced\":true,\"probe\":false"));
        assert_string_equal(render(probed, false),
            "00:42:53.698 pid 26493 iso 1 stats    heap 5.78 MB trend +14.54% ext 1.33 MB mapped 0 B rss 56.9 MB"
            " verdict leak (heap, 591 kB/s) pause 9.8 ms probe 12.3 ms CPU");
    }
    assert_string_equal(render(leak_line, false),
        "00:42:53.698 pid 26493 iso 1 leak     the V8 heap after full GCs grew by 2.6 MB in 4 s (591.2 kB/s, "
        "at least 559.3 kB/s with 95% confidence) and is still growing");
    assert_string_equal(render(leak_end_line, false),
        "00:42:55.955 pid 26493 iso 1 leak_end the V8 heap stopped growing: 0.1 kB/s lately, against 591.2 kB/s "
        "when the leak was reported");
    assert_string_equal(render(start_line, false),
        "00:42:48.717 pid 26493 iso 1 start    node 20.20.2 v8 11.3.244.8-node.38 main -> file:/tmp/cmdl.jsonl");
    /* a tick before any full GC: nothing measured is shown as "-", not 0 */
    assert_string_equal(render("{\"event\":\"tick\",\"ts\":\"2026-11-27T00:42:49.202Z\",\"pid\":7,\"isolate\":2,"
                               "\"dropped\":3,\"current_base\":null,\"usage_trend\":null,\"heap\":null,"
                               "\"verdict\":null,\"rss\":52428800,\"mapped\":null}", false),
        "00:42:49.202 pid 7 iso 2 tick     heap - trend - ext - mapped - rss 52.4 MB verdict - dropped 3");
    assert_string_equal(render("{\"event\":\"error\",\"ts\":\"2026-11-27T00:42:49.202Z\",\"pid\":7,\"isolate\":1,"
                               "\"dropped\":0,\"reason\":\"GCSTATS_MAPS=2 is not 0 or 1; using 1\"}", false),
        "00:42:49.202 pid 7 iso 1 error    GCSTATS_MAPS=2 is not 0 or 1; using 1");
}

/* Mapped memory shown is what the verdict judges: every owner but V8's
 * heap and code. */
static void mapped_outside_v8(void **state)
{
    (void)state;
    const char *line = "{\"event\":\"exit\",\"ts\":\"2026-11-27T00:00:00.000Z\",\"pid\":1,\"isolate\":1,\"dropped\":0,"
        "\"mapped\":{\"owners\":{\"v8_heap\":{\"committed\":1000000000},\"v8_code\":{\"committed\":5},"
        "\"libuv\":{\"committed\":1048576},\"gcs_test_mapper.node\":{\"committed\":2097152}}}}";
    assert_non_null(strstr(render(line, false), " mapped 3.15 MB "));
}

static void colours(void **state)
{
    (void)state;
    assert_null(strchr(render(stats_line, false), '\033'));
    assert_null(strchr(render(leak_line, false), '\033'));
    assert_null(strchr(render(leak_end_line, false), '\033'));
    assert_non_null(strstr(render(leak_line, true), "\033[1;31mleak"));
    assert_non_null(strstr(render(leak_end_line, true), "\033[32mleak_end"));
    assert_non_null(strstr(render(stats_line, true), "verdict \033[1;31mleak (heap, 591 kB/s)\033[0m"));
    /* an ordinary line has nothing to stand out */
    assert_null(strchr(render(start_line, true), '\033'));
}

/* What a newer gcstats may write: shown in a generic way, not hidden. */
/* A field shown the generic way: " +NAME=" (a trend is " +1.5%"). */
static bool has_generic(const char *text)
{
    for (const char *p = text; (p = strstr(p, " +")) != NULL; p += 2)
        if ((p[2] >= 'a' && p[2] <= 'z') || p[2] == '_')
            return true;
    return false;
}

static void newer_version(void **state)
{
    (void)state;
    const char *unknown_event = "{\"event\":\"heapdump\",\"ts\":\"2026-11-27T01:02:03.456Z\",\"pid\":9,\"isolate\":1,"
        "\"dropped\":0,\"top\":[{\"type\":\"Map\",\"bytes\":123}],\"total\":5}";
    assert_string_equal(render(unknown_event, false),
        "01:02:03.456 pid 9 iso 1 heapdump +top=[{\"type\":\"Map\",\"bytes\":123}] +total=5");
    const char *new_field = "{\"event\":\"leak\",\"ts\":\"2026-11-27T01:02:03.456Z\",\"pid\":9,\"isolate\":1,"
        "\"dropped\":0,\"memory\":\"heap\",\"reason\":\"grows\",\"culprit\":\"Map\"}";
    assert_string_equal(render(new_field, false), "01:02:03.456 pid 9 iso 1 leak     grows +culprit=\"Map\"");
    /* a long value is cut, the line still ends */
    char big[1200];
    int n = snprintf(big, sizeof big, "{\"event\":\"x\",\"ts\":\"t\",\"pid\":1,\"isolate\":1,\"list\":\"");
    memset(big + n, 'a', 1000);
    snprintf(big + n + 1000, sizeof big - (size_t)n - 1000, "\"}");
    const char *out = render(big, false);
    assert_true(strlen(out) < 200);
    assert_non_null(strstr(out, "aaa..."));
    /* none of the real run's lines has a field this version does not know */
    assert_true(has_generic(render(unknown_event, false)));
    assert_false(has_generic(render(stats_line, false)));
    assert_false(has_generic(render(leak_line, false)));
    assert_false(has_generic(render(leak_end_line, false)));
    assert_false(has_generic(render(start_line, false)));
}

static void bad_lines(void **state)
{
    (void)state;
    char out[256];
    const char *cases[] = { "{\"event\":\"stats\",\"ts\":", "garbage", "{\"event\":\"tick\"} trailing" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(gcs_render_line(cases[i], strlen(cases[i]), false, out, sizeof out), GCS_RENDER_NOT_JSON);
    const char *other[] = { "[1,2]", "{\"level\":\"info\"}", "42", "{\"event\":7}" };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_int_equal(gcs_render_line(other[i], strlen(other[i]), false, out, sizeof out), GCS_RENDER_NOT_GCSTATS);
    /* a small buffer: cut, terminated */
    char small[20];
    assert_int_equal(gcs_render_line(stats_line, strlen(stats_line), false, small, sizeof small), GCS_RENDER_OK);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void bytes(void **state)
{
    (void)state;
    char b[32];
    gcs_format_bytes(b, sizeof b, 0);
    assert_string_equal(b, "0 B");
    gcs_format_bytes(b, sizeof b, 999);
    assert_string_equal(b, "999 B");
    gcs_format_bytes(b, sizeof b, 1023);
    assert_string_equal(b, "1.02 kB");
    gcs_format_bytes(b, sizeof b, 5783264);
    assert_string_equal(b, "5.78 MB");
    gcs_format_bytes(b, sizeof b, 4345298944.0);
    assert_string_equal(b, "4.35 GB");
    gcs_format_bytes(b, sizeof b, -2048);
    assert_string_equal(b, "-2.05 kB");
}

/* Lines gathered by linebuf, as the callback sees them. */
struct seen {
    char text[16][64];
    unsigned long no[16];
    size_t len[16];
    int count;
};

static void collect(void *ctx, const char *line, size_t len, unsigned long line_no)
{
    struct seen *s = ctx;
    assert_true(s->count < 16);
    snprintf(s->text[s->count], sizeof s->text[0], "%.*s", (int)(len < 60 ? len : 60), line);
    s->len[s->count] = len;
    s->no[s->count++] = line_no;
}

static bool feed(struct gcs_linebuf *lb, const char *text, struct seen *s)
{
    return gcs_linebuf_feed(lb, text, strlen(text), collect, s);
}

static void lines_from_pieces(void **state)
{
    (void)state;
    struct gcs_linebuf lb;
    struct seen s = { .count = 0 };
    gcs_linebuf_init(&lb, 1);
    /* a line written in three pieces is passed on once, when whole */
    assert_true(feed(&lb, "{\"a\":", &s));
    assert_int_equal(s.count, 0);
    assert_int_equal(gcs_linebuf_pending(&lb), 5);
    assert_true(feed(&lb, "1}\n{\"b\"", &s));
    assert_int_equal(s.count, 1);
    assert_string_equal(s.text[0], "{\"a\":1}");
    assert_int_equal(s.no[0], 1);
    assert_true(feed(&lb, ":2}\n\nx\n", &s));
    assert_int_equal(s.count, 4);
    assert_string_equal(s.text[1], "{\"b\":2}");
    assert_int_equal(s.no[1], 2);
    assert_int_equal(s.len[2], 0);          /* an empty line keeps its number */
    assert_string_equal(s.text[3], "x");
    assert_int_equal(s.no[3], 4);
    /* the input ends in the middle of a line: it is passed on as it is */
    assert_true(feed(&lb, "{\"c\"", &s));
    gcs_linebuf_finish(&lb, collect, &s);
    assert_int_equal(s.count, 5);
    assert_string_equal(s.text[4], "{\"c\"");
    assert_int_equal(s.no[4], 5);
    /* truncated or replaced: the unfinished line is forgotten, numbers restart */
    assert_true(feed(&lb, "half", &s));
    assert_int_equal(gcs_linebuf_restart(&lb, 1), 4);
    assert_true(feed(&lb, "new\n", &s));
    assert_string_equal(s.text[5], "new");
    assert_int_equal(s.no[5], 1);
    gcs_linebuf_free(&lb);
}

/* A "line" far longer than any gcstats line is passed on cut (it then
 * fails to parse) and the rest skipped: memory does not grow with it. */
static void over_long_line(void **state)
{
    (void)state;
    struct gcs_linebuf lb;
    struct seen s = { .count = 0 };
    size_t chunk = 300000;
    char *junk = malloc(chunk);
    assert_non_null(junk);
    memset(junk, 'z', chunk);
    gcs_linebuf_init(&lb, 1);
    for (int i = 0; i < 10; i++)
        assert_true(gcs_linebuf_feed(&lb, junk, chunk, collect, &s));
    assert_int_equal(s.count, 1);
    assert_int_equal(s.len[0], GCS_LINE_MAX);
    assert_true(lb.cap <= GCS_LINE_MAX);
    assert_true(feed(&lb, "zz\n{}\n", &s));
    assert_int_equal(s.count, 2);
    assert_string_equal(s.text[1], "{}");
    assert_int_equal(s.no[1], 2);
    gcs_linebuf_finish(&lb, collect, &s);
    assert_int_equal(s.count, 2);
    gcs_linebuf_free(&lb);
    free(junk);
}

/* A culprits line: the top three sites by share, with their growth since
 * the previous line; an anonymous function is named so. */
static void culprits(void **state)
{
    (void)state;
    const char *line = "{\"event\":\"culprits\",\"ts\":\"2026-11-27T01:18:06.348Z\",\"pid\":11650,\"isolate\":1,"
        "\"dropped\":0,\"memory\":\"heap\",\"report\":2,\"samples\":11,\"sites\":["
        "{\"function\":\"\",\"url\":\"/srv/app.js\",\"line\":12,\"column\":34,\"bytes\":4718824,"
        "\"share\":0.818,\"samples\":9,\"growth_bytes\":2400000,\"callee\":\"repeat\",\"callers\":[]},"
        "{\"function\":\"client\",\"url\":\"/srv/app.js\",\"line\":24,\"column\":18,\"bytes\":1048848,"
        "\"share\":0.182,\"samples\":2,\"growth_bytes\":-2100000,\"callee\":\"x\",\"callers\":[]}],\"shown\":2}";
    assert_string_equal(render(line, false),
        "01:18:06.348 pid 11650 iso 1 culprits heap: 82% 4.72 MB (anonymous) /srv/app.js:12 (+2.40 MB);"
        " 18% 1.05 MB client /srv/app.js:24 (-2.10 MB)");
    /* Lines that rank by held bytes say them per site. */
    const char *held = "{\"event\":\"culprits\",\"ts\":\"2026-11-27T01:18:06.348Z\",\"pid\":11650,\"isolate\":1,"
        "\"dropped\":0,\"memory\":\"heap\",\"report\":1,\"held_bytes\":2000000,\"held_after_s\":7.9,\"sites\":["
        "{\"function\":\"leak\",\"url\":\"/srv/app.js\",\"line\":36,\"column\":22,\"bytes\":2911136,"
        "\"share\":0.211,\"held_bytes\":2000000,\"growth_bytes\":null}],\"shown\":1}";
    assert_string_equal(render(held, false),
        "01:18:06.348 pid 11650 iso 1 culprits heap: 21% 2.91 MB (held 2.00 MB) leak /srv/app.js:36");
    /* A profile written (GCSTATS_PROFILE_DIR) is named; none, nothing. */
    const char *profiled = "{\"event\":\"culprits\",\"ts\":\"2026-11-27T01:18:06.348Z\",\"pid\":11650,\"isolate\":1,"
        "\"dropped\":0,\"memory\":\"heap\",\"profile\":\"/tmp/p/11650-1.heapprofile\",\"profile_cut\":true,\"sites\":[]}";
    assert_string_equal(render(profiled, false),
        "01:18:06.348 pid 11650 iso 1 culprits heap: no site profile /tmp/p/11650-1.heapprofile (cut)");
    const char *unprofiled = "{\"event\":\"culprits\",\"ts\":\"2026-11-27T01:18:06.348Z\",\"pid\":11650,\"isolate\":1,"
        "\"dropped\":0,\"memory\":\"heap\",\"profile\":null,\"profile_cut\":false,\"sites\":[]}";
    assert_string_equal(render(unprofiled, false), "01:18:06.348 pid 11650 iso 1 culprits heap: no site");
}

/* A start line says when the probe will not ask in that isolate. */
static void start_without_probe(void **state)
{
    (void)state;
    const char *line = "{\"event\":\"start\",\"ts\":\"2026-11-27T00:42:48.717Z\",\"pid\":26493,\"isolate\":2,"
        "\"dropped\":0,\"node\":\"24.21.0\",\"v8\":\"13.6.233.17-node.53\",\"thread\":\"worker\","
        "\"settings\":{\"destination\":\"fd:3\"},\"probing\":false}";
    assert_string_equal(render(line, false),
        "00:42:48.717 pid 26493 iso 2 start    node 24.21.0 v8 13.6.233.17-node.53 worker -> fd:3 no probe");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_lines),
        cmocka_unit_test(mapped_outside_v8),
        cmocka_unit_test(colours),
        cmocka_unit_test(newer_version),
        cmocka_unit_test(bad_lines),
        cmocka_unit_test(bytes),
        cmocka_unit_test(culprits),
        cmocka_unit_test(start_without_probe),
        cmocka_unit_test(lines_from_pieces),
        cmocka_unit_test(over_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
