#include "test.h"

#include <jansson.h>
#include <locale.h>
#include <string.h>

#include "lines.h"

static const struct gcs_process_info info = {
    .pid = 4321,
    .node_version = "20.20.2",
    .v8_version = "11.3.244.8-node.33",
    .destination = "fd:3",
    .interval_ms = 10000,
};

static json_t *format_with(const struct gcs_record *r, uint64_t dropped, size_t flags)
{
    static struct gcs_json j;
    size_t len = gcs_format_record(&j, r, &info, dropped);
    assert_true(len > 0 && len < 4096);
    assert_int_equal(j.buf[len - 1], '\n');
    assert_null(memchr(j.buf, '\n', len - 1));
    json_error_t err;
    json_t *v = json_loadb(j.buf, len, flags, &err);
    if (v == NULL)
        fail_msg("not JSON: %.*s (%s)", (int)len, j.buf, err.text);
    return v;
}

static json_t *format(const struct gcs_record *r, uint64_t dropped)
{
    return format_with(r, dropped, 0);
}

static uint64_t u(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        cur = json_object_get(cur, tok);
        if (cur == NULL)
            fail_msg("missing %s", path);
    }
    if (!json_is_integer(cur))
        fail_msg("%s is not an integer", path);
    return (uint64_t)json_integer_value(cur);
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void common_fields(json_t *v, const char *event, uint32_t isolate, uint64_t dropped)
{
    assert_string_equal(str(v, "event"), event);
    assert_string_equal(str(v, "ts"), "2026-11-26T03:20:40.123Z");
    assert_int_equal(u(v, "pid"), 4321);
    assert_int_equal(u(v, "isolate"), isolate);
    assert_int_equal(u(v, "dropped"), dropped);
}

static struct gcs_record blank_record(enum gcs_event ev, uint32_t isolate)
{
    struct gcs_record r;
    memset(&r, 0, sizeof r);
    r.event = ev;
    r.isolate = isolate;
    r.ts_ms = 1795663240123LL;
    return r;
}

static struct gcs_record sample_record(enum gcs_event ev)
{
    struct gcs_record r = blank_record(ev, 2);
    r.gc.count[GCS_KIND_SCAVENGE] = 40;
    r.gc.count[GCS_KIND_MINOR_MS] = 1;
    r.gc.count[GCS_KIND_MARK_COMPACT] = 7;
    r.gc.count[GCS_KIND_INCREMENTAL] = 5;
    r.gc.count[GCS_KIND_WEAK_CALLBACKS] = 3;
    r.gc.pause_ns[GCS_KIND_MARK_COMPACT] = 12345678;
    r.summary.samples = 7;
    r.summary.recent_n = 4;
    r.summary.long_n = 7;
    r.summary.usage_trend = -1.234;
    r.summary.estimated_base = 500000000;
    r.summary.current_base = 499000000;
    r.summary.min = (struct gcs_extreme){ 400000000, 1795663240123LL };
    r.summary.max = (struct gcs_extreme){ 510000000, 1795663240123LL };
    r.have_heap = true;
    r.heap.used = 499000000;
    r.heap.total = 600000000;
    r.heap.limit = 4345298944;
    r.heap.external = 1124126;
    return r;
}

static void stats_line_has_the_contract_fields(void **state)
{
    (void)state;
    struct gcs_record r = sample_record(GCS_EV_STATS);
    r.pause_ns = 2500000;
    r.forced = true;
    json_t *v = format(&r, 17);
    common_fields(v, "stats", 2, 17);
    assert_int_equal(u(v, "num_full_gc"), 7);
    assert_int_equal(u(v, "num_inc_gc"), 46);   /* scavenge + minor + incremental cycles */
    assert_int_equal(u(v, "heap_compactions"), 7);
    assert_true(json_real_value(json_object_get(v, "usage_trend")) == -1.23);
    assert_int_equal(u(v, "estimated_base"), 500000000);
    assert_int_equal(u(v, "current_base"), 499000000);
    assert_int_equal(u(v, "min.bytes"), 400000000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "min"), "when")),
                        "2026-11-26T03:20:40.123Z");
    assert_int_equal(u(v, "max.bytes"), 510000000);
    assert_int_equal(u(v, "heap.used"), 499000000);
    assert_int_equal(u(v, "heap.total"), 600000000);
    assert_int_equal(u(v, "heap.limit"), 4345298944);
    assert_int_equal(u(v, "heap.external"), 1124126);
    assert_int_equal(u(v, "gc.weak_callbacks.count"), 3);
    assert_true(json_real_value(json_object_get(json_object_get(json_object_get(v, "gc"), "mark_compact"),
                                                "pause_ms")) == 12.346);
    assert_true(json_real_value(json_object_get(v, "pause_ms")) == 2.5);
    assert_true(json_is_true(json_object_get(v, "forced")));
    json_decref(v);
}

static void before_any_sample_the_statistics_are_null(void **state)
{
    (void)state;
    struct gcs_record r = blank_record(GCS_EV_TICK, 1);
    r.have_rss = true;
    r.rss_bytes = 50000000;
    json_t *v = format(&r, 0);
    common_fields(v, "tick", 1, 0);
    assert_true(json_is_null(json_object_get(v, "usage_trend")));
    assert_true(json_is_null(json_object_get(v, "estimated_base")));
    assert_true(json_is_null(json_object_get(v, "min")));
    assert_true(json_is_null(json_object_get(v, "heap")));
    assert_int_equal(u(v, "heap_compactions"), 0);
    assert_int_equal(u(v, "rss"), 50000000);
    json_decref(v);
}

static void start_line(void **state)
{
    (void)state;
    struct gcs_record r = blank_record(GCS_EV_START, 1);
    r.main_thread = true;
    r.v8_isolate = 0x1e6e1de0;
    r.probing = true;
    json_t *v = format(&r, 0);
    common_fields(v, "start", 1, 0);
    assert_true(json_is_true(json_object_get(v, "probing")));
    assert_string_equal(str(v, "node"), "20.20.2");
    assert_string_equal(str(v, "v8"), "11.3.244.8-node.33");
    assert_string_equal(str(v, "thread"), "main");
    assert_string_equal(str(v, "v8_isolate"), "0x1e6e1de0");
    assert_string_equal(str(v, "gcstats"), GCSTATS_VERSION);
    json_t *settings = json_object_get(v, "settings");
    assert_string_equal(json_string_value(json_object_get(settings, "destination")), "fd:3");
    assert_true(json_real_value(json_object_get(settings, "interval_s")) == 10.0);
    json_decref(v);
}

static void end_exit_and_error_lines(void **state)
{
    (void)state;
    struct gcs_record r = sample_record(GCS_EV_END);
    json_t *v = format(&r, 0);
    common_fields(v, "end", 2, 0);
    assert_int_equal(u(v, "num_full_gc"), 7);
    assert_true(json_is_null(json_object_get(v, "rss")));
    json_decref(v);

    r = sample_record(GCS_EV_EXIT);
    r.isolate = 1;
    r.have_rss = true;
    r.rss_bytes = 123;
    r.rss_peak_bytes = 456;
    v = format(&r, 5);
    common_fields(v, "exit", 1, 5);
    assert_int_equal(u(v, "rss"), 123);
    assert_int_equal(u(v, "rss_peak"), 456);
    json_decref(v);

    r = blank_record(GCS_EV_ERROR, 1);
    snprintf(r.text, sizeof r.text, "GCSTATS_FD=\"x\" is bad");
    v = format(&r, 0);
    common_fields(v, "error", 1, 0);
    assert_string_equal(str(v, "reason"), "GCSTATS_FD=\"x\" is bad");
    json_decref(v);
}

static void verdict_on_every_summary_line(void **state)
{
    (void)state;
    struct gcs_record r = sample_record(GCS_EV_STATS);
    r.verdict.series[GCS_MEM_HEAP].state = GCS_STATE_OK;
    r.verdict.series[GCS_MEM_HEAP].a.points = 7;
    r.verdict.series[GCS_MEM_HEAP].a.rate = 12.4;
    r.verdict.series[GCS_MEM_HEAP].a.from_ms = 1795663200123LL;
    r.verdict.series[GCS_MEM_HEAP].a.to_ms = 1795663240123LL;
    r.verdict.series[GCS_MEM_EXTERNAL].state = GCS_STATE_LEAK;
    r.verdict.series[GCS_MEM_EXTERNAL].a.rate = 1600000;
    r.verdict.series[GCS_MEM_EXTERNAL].since_ms = 1795663240123LL;
    json_t *v = format(&r, 0);
    json_t *verdict = json_object_get(v, "verdict");
    assert_string_equal(json_string_value(json_object_get(verdict, "state")), "leak");
    assert_string_equal(json_string_value(json_object_get(verdict, "memory")), "external");
    assert_true(json_number_value(json_object_get(verdict, "rate_bytes_per_s")) == 1600000);
    json_t *heap = json_object_get(json_object_get(v, "trend"), "heap");
    assert_string_equal(json_string_value(json_object_get(heap, "state")), "ok");
    assert_true(json_number_value(json_object_get(heap, "window_s")) == 40.0);
    assert_true(json_number_value(json_object_get(heap, "rate_bytes_per_s")) == 12);
    json_decref(v);

    memset(&r.verdict, 0, sizeof r.verdict);   /* unknown everywhere */
    v = format(&r, 0);
    verdict = json_object_get(v, "verdict");
    assert_string_equal(json_string_value(json_object_get(verdict, "state")), "unknown");
    assert_true(json_is_null(json_object_get(verdict, "memory")));
    assert_true(json_is_null(json_object_get(json_object_get(json_object_get(v, "trend"), "external"), "rate_bytes_per_s")));
    json_decref(v);
}

static void leak_and_leak_end_lines(void **state)
{
    (void)state;
    struct gcs_record r = sample_record(GCS_EV_LEAK);
    r.memory = GCS_MEM_HEAP;
    struct gcs_series_verdict *sv = &r.verdict.series[GCS_MEM_HEAP];
    sv->state = GCS_STATE_LEAK;
    sv->reports = 2;
    sv->since_ms = 1795663240123LL;
    sv->a = (struct gcs_assessment){ .state = GCS_STATE_LEAK, .points = 12, .from_ms = 1795663210123LL,
                                     .to_ms = 1795663240123LL, .rate = 204800, .rate_low = 150000,
                                     .recent_rate = 190000, .confidence = 0.99991, .level_start = 10e6,
                                     .level_end = 16144000, .growth = 6144000 };
    r.heap.limit = 16144000 + 204800 * 100;
    json_t *v = format(&r, 0);
    common_fields(v, "leak", 2, 0);
    assert_string_equal(str(v, "memory"), "heap");
    assert_true(json_number_value(json_object_get(v, "rate_bytes_per_s")) == 204800);
    assert_true(json_number_value(json_object_get(v, "growth_bytes")) == 6144000);
    assert_true(json_number_value(json_object_get(v, "confidence")) == 0.9999);
    assert_true(json_number_value(json_object_get(v, "seconds_to_limit")) == 100);
    assert_int_equal(u(v, "limit_bytes"), 16144000 + 204800 * 100);
    assert_int_equal(u(v, "window.samples"), 12);
    assert_true(json_number_value(json_object_get(json_object_get(v, "window"), "seconds")) == 30.0);
    assert_int_equal(u(v, "report"), 2);
    assert_non_null(strstr(str(v, "reason"), "V8 heap"));
    json_decref(v);

    r.memory = GCS_MEM_EXTERNAL;
    r.verdict.series[GCS_MEM_EXTERNAL] = *sv;
    v = format(&r, 0);
    assert_string_equal(str(v, "memory"), "external");
    assert_true(json_is_null(json_object_get(v, "seconds_to_limit")));
    assert_non_null(strstr(str(v, "reason"), "external memory"));
    json_decref(v);

    r.event = GCS_EV_LEAK_END;
    r.verdict.series[GCS_MEM_EXTERNAL].state = GCS_STATE_OK;
    r.verdict.series[GCS_MEM_EXTERNAL].onset_rate = 204800;
    r.verdict.series[GCS_MEM_EXTERNAL].a.recent_rate = 100;
    v = format(&r, 0);
    common_fields(v, "leak_end", 2, 0);
    assert_string_equal(str(v, "state"), "ok");
    assert_true(json_number_value(json_object_get(v, "leak_rate_bytes_per_s")) == 204800);
    assert_non_null(strstr(str(v, "reason"), "stopped growing"));
    json_decref(v);
}

/* Node or an addon may call setlocale(): a locale whose decimal separator
 * is a comma must not turn "6.1 MB" into "6,1 MB" in the reasons. */
static void reasons_ignore_the_locale(void **state)
{
    (void)state;
    static const char *const comma_locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                                 "fr_FR.utf8" };
    const char *set = NULL;
    for (size_t i = 0; i < sizeof comma_locales / sizeof comma_locales[0] && set == NULL; i++)
        set = setlocale(LC_NUMERIC, comma_locales[i]);
    if (set == NULL)
        fail_msg("no locale with a decimal comma to test with: install the locales package and run "
                 "`localedef -i de_DE -f UTF-8 de_DE.UTF-8` (scripts/install-deps does both)");
    if (strcmp(localeconv()->decimal_point, ",") != 0)
        fail_msg("locale %s has decimal point \"%s\", not a comma", set, localeconv()->decimal_point);

    struct gcs_record r = sample_record(GCS_EV_LEAK);
    r.memory = GCS_MEM_HEAP;
    struct gcs_series_verdict *sv = &r.verdict.series[GCS_MEM_HEAP];
    sv->state = GCS_STATE_LEAK;
    sv->onset_rate = 204800;
    sv->a = (struct gcs_assessment){ .state = GCS_STATE_LEAK, .points = 12, .from_ms = 1795663210123LL,
                                     .to_ms = 1795663240123LL, .rate = 204800, .rate_low = 150000,
                                     .recent_rate = 190000, .growth = 6144000 };
    json_t *v = format(&r, 0);
    const char *leak = str(v, "reason");
    char leak_copy[GCS_TEXT_MAX];
    snprintf(leak_copy, sizeof leak_copy, "%s", leak);
    json_decref(v);
    r.event = GCS_EV_LEAK_END;
    sv->state = GCS_STATE_OK;
    sv->a.recent_rate = 1126.4;
    v = format(&r, 0);
    char end_copy[GCS_TEXT_MAX];
    snprintf(end_copy, sizeof end_copy, "%s", str(v, "reason"));
    json_decref(v);
    setlocale(LC_NUMERIC, "C");   /* before any assertion can end the test */

    assert_string_equal(leak_copy,
                        "the V8 heap after full GCs grew by 6.1 MB in 30 s (204.8 kB/s, at least "
                        "150.0 kB/s with 95% confidence) and is still growing");
    assert_string_equal(end_copy,
                        "the V8 heap stopped growing: 1.1 kB/s lately, against 204.8 kB/s when the "
                        "leak was reported");
}

/* The error record of a reason of `len` bytes: `pattern` repeated. */
static const char *error_text(struct gcs_record *r, const char *pattern, size_t len)
{
    static char reason[1001];
    assert_true(len < sizeof reason);
    size_t plen = strlen(pattern);
    for (size_t i = 0; i < len; i++)
        reason[i] = pattern[i % plen];
    reason[len] = '\0';
    gcs_error_record(r, 1795663240123LL, 1, reason);
    assert_int_equal(r->event, GCS_EV_ERROR);
    assert_true(strlen(r->text) < sizeof r->text);
    return reason;
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && strcmp(s + n - m, end) == 0;
}

/* A reason that fits is kept as it is, to its last byte. */
static void error_reason_that_fits_is_whole(void **state)
{
    (void)state;
    struct gcs_record r;
    const char *reason = error_text(&r, "word ", GCS_TEXT_MAX - 1);
    assert_string_equal(r.text, reason);
    assert_int_equal((GCS_TEXT_MAX - 1) % 3, 0);
    reason = error_text(&r, "\xE2\x82\xAC", GCS_TEXT_MAX - 1);   /* € (3 bytes), to the limit */
    assert_string_equal(r.text, reason);
}

/* A reason too long loses its last words, not the end of a word, and says
 * that it was cut. */
static void long_error_reason_is_cut_after_a_word(void **state)
{
    (void)state;
    struct gcs_record r;
    const char *reason = error_text(&r, "abcdefg ", 1000);   /* spaces every 8 bytes */
    size_t kept = strlen(r.text) - 3;
    assert_true(ends_with(r.text, "g..."));
    assert_memory_equal(r.text, reason, kept);
    assert_int_equal(reason[kept], ' ');
    assert_true(kept > GCS_TEXT_MAX - 4 - 8);   /* the last space that leaves room */

    reason = error_text(&r, "words ", GCS_TEXT_MAX);   /* one byte too many */
    assert_true(strlen(r.text) < GCS_TEXT_MAX);
    assert_true(ends_with(r.text, "words..."));
    assert_memory_equal(r.text, reason, strlen(r.text) - 3);
}

/* A reason with no space to cut at (a long path, a long name) is cut after
 * its last whole character: the line never carries half a character. */
static void long_error_reason_keeps_whole_characters(void **state)
{
    (void)state;
    static const char *const chars[] = { "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "a" };
    for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
        size_t clen = strlen(chars[c]);
        for (size_t shift = 0; shift < clen; shift++) {
            /* `shift` bytes of "x" move the characters' boundaries across the limit. */
            struct gcs_record r;
            static char reason[1001];
            size_t n = 0;
            for (; n < shift; n++)
                reason[n] = 'x';
            while (n + clen < 600) {
                memcpy(reason + n, chars[c], clen);
                n += clen;
            }
            reason[n] = '\0';
            gcs_error_record(&r, 0, 1, reason);
            size_t len = strlen(r.text);
            assert_true(len < GCS_TEXT_MAX);
            assert_true(ends_with(r.text, "..."));
            size_t kept = len - 3;
            assert_true(kept + clen > GCS_TEXT_MAX - 4);   /* no more lost than needed */
            assert_memory_equal(r.text, reason, kept);
            assert_true((kept - shift) % clen == 0);       /* whole characters only */
            json_t *v = format(&r, 0);                     /* valid UTF-8, no U+FFFD */
            assert_null(strstr(str(v, "reason"), "\xEF\xBF\xBD"));
            json_decref(v);
        }
    }
}

/* Every owner named with the longest name, every number at its largest. */
static void worst_mapped(struct gcs_mapped *m)
{
    static char names[GCS_OWNERS][48];
    memset(m, 0xff, sizeof *m);
    m->have = true;
    m->incomplete = false;
    for (int o = 0; o < GCS_OWNERS; o++) {
        memset(names[o], 'n', 47);
        names[o][46] = (char)('a' + o);
        names[o][47] = '\0';
        m->name[o] = names[o];
    }
}

static json_t *object_at(json_t *v, const char *key)
{
    json_t *o = json_object_get(v, key);
    if (!json_is_object(o))
        fail_msg("%s is not an object", key);
    return o;
}

static void mapped_bytes_by_owner(void **state)
{
    (void)state;
    static const char *const names[GCS_OWNERS] = { "v8_heap", "v8_code", "libuv", "malloc", "other",
                                                   "addon.node" };
    struct gcs_record r = sample_record(GCS_EV_TICK);
    r.mapped.have = true;
    for (int o = 0; o < GCS_OWNERS; o++)
        r.mapped.name[o] = names[o];
    r.mapped.owner[0] = (struct gcs_usage){ 4 << 20, 3 << 20, 5 << 20, 4 << 20 };
    r.mapped.owner[5] = (struct gcs_usage){ 1 << 20, 1 << 20, 1 << 20, 1 << 20 };
    r.mapped.total = (struct gcs_usage){ 5 << 20, 4 << 20, 6 << 20, 5 << 20 };
    json_t *v = format(&r, 0);
    json_t *m = object_at(v, "mapped");
    assert_int_equal(u(m, "reserved"), 5 << 20);
    assert_int_equal(u(m, "peak_committed"), 5 << 20);
    assert_true(json_is_true(json_object_get(m, "complete")));
    json_t *owners = object_at(m, "owners");
    assert_int_equal(json_object_size(owners), 6);   /* the five fixed ones and the addon */
    assert_int_equal(u(owners, "v8_heap.committed"), 3 << 20);
    assert_int_equal(u(object_at(owners, "addon.node"), "peak_committed"), 1 << 20);
    assert_int_equal(u(owners, "libuv.reserved"), 0);
    json_decref(v);

    /* A named object that never mapped anything is left out. */
    r.mapped.owner[5] = (struct gcs_usage){ 0 };
    v = format(&r, 0);
    assert_null(json_object_get(object_at(object_at(v, "mapped"), "owners"), "addon.node"));
    json_decref(v);

    /* Not counted: null, on stats lines too. */
    r.mapped.have = false;
    r.event = GCS_EV_STATS;
    v = format(&r, 0);
    assert_true(json_is_null(json_object_get(v, "mapped")));
    json_decref(v);

    /* A leak of mapped memory names its owner. */
    r = sample_record(GCS_EV_LEAK);
    r.mapped.have = true;
    for (int o = 0; o < GCS_OWNERS; o++)
        r.mapped.name[o] = names[o];
    r.memory = GCS_MEM_MAPPED;
    r.mapped_owner = 5;
    r.verdict.series[GCS_MEM_MAPPED].state = GCS_STATE_LEAK;
    r.verdict.series[GCS_MEM_MAPPED].a = (struct gcs_assessment){ .state = GCS_STATE_LEAK, .points = 8,
        .from_ms = 1795663210123LL, .to_ms = 1795663220123LL, .rate = 1 << 20, .rate_low = 900000,
        .growth = 10 << 20, .level_end = 12 << 20, .confidence = 0.999 };
    v = format(&r, 0);
    assert_string_equal(str(v, "memory"), "mapped");
    assert_string_equal(str(v, "owner"), "addon.node");
    assert_true(json_is_null(json_object_get(v, "seconds_to_limit")));
    assert_non_null(strstr(str(v, "reason"), "memory mapped outside the V8 heap (most of it by addon.node)"));
    json_decref(v);
    /* The verdict on other lines says which memory. */
    r.event = GCS_EV_TICK;
    v = format(&r, 0);
    assert_string_equal(str(object_at(v, "verdict"), "memory"), "mapped");
    assert_string_equal(str(object_at(object_at(v, "trend"), "mapped"), "state"), "leak");
    json_decref(v);
}

static void sites_lines(void **state)
{
    (void)state;
    static struct gcs_json j;
    struct gcs_mapped m = { .have = true };
    for (int o = 0; o < GCS_OWNERS; o++)
        m.name[o] = o < 5 ? (const char *[]){ "v8_heap", "v8_code", "libuv", "malloc", "other" }[o] : NULL;
    struct gcs_site_report sites[8];
    memset(sites, 0, sizeof sites);
    sites[0].owner = "addon.node";
    sites[0].usage = (struct gcs_usage){ 32 << 20, 32 << 20, 32 << 20, 32 << 20 };
    sites[0].resident = 32 << 20;
    sites[0].nframes = 2;
    snprintf(sites[0].frame[0].function, sizeof sites[0].frame[0].function, "mapper_leak_pages");
    snprintf(sites[0].frame[0].object, sizeof sites[0].frame[0].object, "addon.node");
    sites[0].frame[0].offset = 0x1f;
    snprintf(sites[0].frame[1].object, sizeof sites[0].frame[1].object, "node");
    sites[0].frame[1].offset = 0xabc;
    sites[1].owner = "v8_heap";   /* not named yet: no frames */
    size_t shown;
    size_t len = gcs_format_sites(&j, 1795663240123LL, &m, sites, 2, &info, 3, &shown);
    assert_true(len > 0);
    assert_int_equal(shown, 2);
    json_t *v = json_loadb(j.buf, len, 0, NULL);
    assert_non_null(v);
    common_fields(v, "sites", 1, 3);
    json_t *list = json_object_get(v, "sites");
    assert_int_equal(json_array_size(list), 2);
    json_t *top = json_array_get(list, 0);
    assert_string_equal(str(top, "owner"), "addon.node");
    assert_string_equal(str(top, "function"), "mapper_leak_pages");
    assert_int_equal(u(top, "resident"), 32 << 20);
    json_t *stack = json_object_get(top, "stack");
    assert_string_equal(json_string_value(json_array_get(stack, 0)), "mapper_leak_pages+0x1f (addon.node)");
    assert_string_equal(json_string_value(json_array_get(stack, 1)), "node+0xabc");
    assert_true(json_is_null(json_object_get(json_array_get(list, 1), "function")));
    json_decref(v);

    /* Names as long as they come: fewer sites, never a broken line. */
    for (int i = 0; i < 8; i++) {
        sites[i].owner = "other";
        sites[i].nframes = 3;
        for (int f = 0; f < 3; f++) {
            memset(sites[i].frame[f].function, '<', sizeof sites[i].frame[f].function - 1);
            sites[i].frame[f].function[sizeof sites[i].frame[f].function - 1] = '\0';
            memset(sites[i].frame[f].object, 'o', sizeof sites[i].frame[f].object - 1);
            sites[i].frame[f].object[sizeof sites[i].frame[f].object - 1] = '\0';
            sites[i].frame[f].offset = UINT64_MAX;
        }
        sites[i].usage = (struct gcs_usage){ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        sites[i].resident = UINT64_MAX;
    }
    worst_mapped(&m);
    len = gcs_format_sites(&j, 253402300799999LL, &m, sites, 8, &info, UINT64_MAX, &shown);
    assert_true(len > 0 && len < 4096);
    assert_true(shown >= 1 && shown < 8);
    v = json_loadb(j.buf, len, JSON_DECODE_INT_AS_REAL, NULL);
    assert_non_null(v);
    assert_int_equal(json_array_size(json_object_get(v, "sites")), shown);
    json_decref(v);
}

/* The largest record possible still makes a line shorter than PIPE_BUF. */
static void worst_case_lines_fit(void **state)
{
    (void)state;
    for (int ev = GCS_EV_START; ev <= GCS_EV_LEAK_END; ev++) {
        struct gcs_record r;
        memset(&r, 0xff, sizeof r);
        r.event = (enum gcs_event)ev;
        r.ts_ms = 253402300799999LL;
        r.main_thread = false;
        r.probing = false;   /* "false" is the longer */
        r.have_heap = true;
        r.heap.have_total_allocated = true;   /* every bool a valid bool: UBSan checks */
        r.have_rss = true;
        r.forced = true;
        r.probe = true;
        r.summary.usage_trend = -9e15;
        r.summary.min.when_ms = r.summary.max.when_ms = 253402300799999LL;
        r.memory = ev % 2 ? GCS_MEM_EXTERNAL : GCS_MEM_MAPPED;
        for (int m = 0; m < GCS_MEM_COUNT; m++) {
            r.verdict.series[m].state = GCS_STATE_LEAK;
            r.verdict.series[m].a.from_ms = r.verdict.series[m].since_ms = 0;
            r.verdict.series[m].a.to_ms = 253402300799999LL;
            r.verdict.series[m].a.rate = r.verdict.series[m].a.rate_low = -9e14;
            r.verdict.series[m].a.growth = r.verdict.series[m].a.level_end = 9e15;
            r.verdict.series[m].a.confidence = 1;
        }
        memset(r.text, '"', sizeof r.text - 1);
        r.text[sizeof r.text - 1] = '\0';
        worst_mapped(&r.mapped);
        r.mapped_owner = GCS_OWNERS - 1;
        /* jansson keeps integers in int64: read UINT64_MAX as a real. */
        json_t *v = format_with(&r, UINT64_MAX, JSON_DECODE_INT_AS_REAL);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stats_line_has_the_contract_fields),
        cmocka_unit_test(before_any_sample_the_statistics_are_null),
        cmocka_unit_test(start_line),
        cmocka_unit_test(end_exit_and_error_lines),
        cmocka_unit_test(verdict_on_every_summary_line),
        cmocka_unit_test(leak_and_leak_end_lines),
        cmocka_unit_test(reasons_ignore_the_locale),
        cmocka_unit_test(error_reason_that_fits_is_whole),
        cmocka_unit_test(long_error_reason_is_cut_after_a_word),
        cmocka_unit_test(long_error_reason_keeps_whole_characters),
        cmocka_unit_test(worst_case_lines_fit),
        cmocka_unit_test(mapped_bytes_by_owner),
        cmocka_unit_test(sites_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
