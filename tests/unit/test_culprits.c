#include "test.h"

#include <jansson.h>
#include <string.h>

#include "culprits.h"
#include "js_frame.h"
#include "lines.h"


static const char app[] = "/srv/app/orders.js";

static void application_frames(void **state)
{
    (void)state;
    struct gcs_js_frame f = frame("retainOrder", app, 10, 21);
    assert_true(gcs_js_frame_is_app(&f));
    f = frame("x", "file:///srv/app/orders.mjs", 1, 1);
    assert_true(gcs_js_frame_is_app(&f));
    f = frame("listOnTimeout", "node:internal/timers", 517, 25);
    assert_false(gcs_js_frame_is_app(&f));
    f = frame("set", "", 0, 0);                       /* a builtin: Map.prototype.set */
    assert_false(gcs_js_frame_is_app(&f));
    f = frame("x", "internal/timers", 1, 1);          /* older node's own modules */
    assert_false(gcs_js_frame_is_app(&f));
    f = frame("x", "evalmachine.<anonymous>", 1, 1);
    assert_false(gcs_js_frame_is_app(&f));
}

#define INTERVAL 524288u

/* A builtin allocating for the application, under node's timers: charged
 * to the application's innermost frame, with the builtin as its callee and
 * the frames outside it as callers (V8's "(root)" is not one). */
static void charged_to_the_innermost_application_frame(void **state)
{
    (void)state;
    static struct gcs_culprit_table t;
    gcs_culprit_table_init(&t);
    struct gcs_js_frame root = frame("(root)", "", 0, 0), timers = frame("listOnTimeout", "node:internal/timers", 517, 25),
                        cb = frame("", app, 32, 27), leak = frame("retainOrder", app, 10, 21), set = frame("set", "", 0, 0);
    const struct gcs_js_frame *path[] = { &root, &timers, &cb, &leak, &set };
    gcs_culprit_table_add(&t, path, 5, 64, 1000, INTERVAL);
    assert_int_equal(t.n, 1);
    const struct gcs_culprit_site *s = &t.site[0];
    assert_string_equal(s->frame.function, "retainOrder");
    assert_int_equal(s->frame.line, 10);
    assert_int_equal(s->bytes, 64000);
    assert_string_equal(s->callee.function, "set");
    assert_int_equal(s->ncallers, 2);
    assert_int_equal(s->callers[0].line, 32);
    assert_string_equal(s->callers[1].function, "listOnTimeout");

    /* The same site from another stack adds up; no application frame at
     * all: the allocating frame itself. */
    const struct gcs_js_frame *direct[] = { &root, &cb, &leak };
    gcs_culprit_table_add(&t, direct, 3, 100, 10, INTERVAL);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.site[0].bytes, 65000);
    assert_string_equal(t.site[0].callee.function, "set");   /* the larger stack's */
    const struct gcs_js_frame *native[] = { &root, &timers };
    gcs_culprit_table_add(&t, native, 2, 32, 5, INTERVAL);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.site[1].frame.function, "listOnTimeout");
    assert_string_equal(t.site[1].callee.function, "");
    assert_int_equal(t.total_bytes, 65160);
}

/* V8 scales each sample up by 1 / (1 - exp(-size / interval)) and rounds. */
static void samples_are_unscaled(void **state)
{
    (void)state;
    assert_int_equal(gcs_culprit_unscale(INTERVAL, 2, INTERVAL), 1);   /* 1 / (1 - 1/e) = 1.58 -> 2 */
    assert_int_equal(gcs_culprit_unscale(64, 8193, INTERVAL), 1);      /* a 64-byte object stands for ~8192 */
    assert_int_equal(gcs_culprit_unscale(64, 81921, INTERVAL), 10);
    assert_int_equal(gcs_culprit_unscale(1u << 30, 1, INTERVAL), 1);   /* a huge object is always sampled */
    assert_int_equal(gcs_culprit_unscale(64, 1, INTERVAL), 1);          /* never 0 for something seen */
}

static void ranked_with_growth(void **state)
{
    (void)state;
    static struct gcs_culprit_table t;
    static struct gcs_culprit_memory mem;
    static struct gcs_culprits out;
    memset(&mem, 0, sizeof mem);
    struct gcs_js_frame f[12];
    gcs_culprit_table_init(&t);
    for (int i = 0; i < 12; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        f[i] = frame(name, app, i + 1, 1);
        const struct gcs_js_frame *path[] = { &f[i] };
        gcs_culprit_table_add(&t, path, 1, 100, (uint64_t)(i + 1) * 10, INTERVAL);
    }
    gcs_culprits_rank(&t, &mem, &out);
    assert_int_equal(out.n, GCS_CULPRITS_SHOWN);
    assert_string_equal(out.top[0].frame.function, "f11");
    assert_string_equal(out.top[7].frame.function, "f4");
    for (size_t i = 0; i < out.n; i++)
        assert_false(out.top[i].have_growth);
    assert_true(mem.have);
    assert_int_equal(mem.n, 12);

    /* The next profile: f0 grew past everyone, f11 is gone. */
    gcs_culprit_table_init(&t);
    for (int i = 0; i < 11; i++) {
        const struct gcs_js_frame *path[] = { &f[i] };
        gcs_culprit_table_add(&t, path, 1, 100, i == 0 ? 1000 : (uint64_t)(i + 1) * 10, INTERVAL);
    }
    gcs_culprits_rank(&t, &mem, &out);
    assert_string_equal(out.top[0].frame.function, "f0");
    assert_true(out.top[0].have_growth);
    assert_int_equal(out.top[0].growth_bytes, 100000 - 1000);
    assert_string_equal(out.top[1].frame.function, "f10");
    assert_int_equal(out.top[1].growth_bytes, 0);
}

/* bench/detect's slow_leak, in small: a session cache holds more live
 * bytes than the leak at the first reading, but none of them is old. */
static void held_bytes_rank_before_live_bytes(void **state)
{
    (void)state;
    static struct gcs_culprit_table t;
    static struct gcs_culprit_memory mem;
    static struct gcs_culprits out;
    memset(&mem, 0, sizeof mem);
    gcs_culprit_table_init(&t);
    struct gcs_js_frame cache = frame("sessions", app, 16, 29), leak = frame("leak", app, 36, 22);
    const struct gcs_js_frame *cache_path[] = { &cache }, *leak_path[] = { &leak };
    int c = gcs_culprit_table_add(&t, cache_path, 1, 1000, 54, INTERVAL);
    int l = gcs_culprit_table_add(&t, leak_path, 1, 1000, 46, INTERVAL);
    assert_int_equal(c, 0);
    assert_int_equal(l, 1);
    assert_int_equal(gcs_culprit_table_add(&t, leak_path, 1, 1000, 0, INTERVAL), GCS_CULPRIT_NONE);   /* nothing charged */
    gcs_culprit_table_hold(&t, l, 20000);
    gcs_culprit_table_hold(&t, -1, 5000);   /* a node that is no site's */
    gcs_culprit_table_hold(&t, 7, 5000);    /* no such site */
    gcs_culprits_rank(&t, &mem, &out);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.top[0].frame.function, "leak");
    assert_int_equal(out.top[0].held_bytes, 20000);
    assert_int_equal(out.top[0].bytes, 46000);
    assert_string_equal(out.top[1].frame.function, "sessions");
    assert_int_equal(out.top[1].held_bytes, 0);
    assert_int_equal(out.held_bytes, 20000);

    /* Nothing held (sampling just began): live bytes decide. */
    gcs_culprit_table_init(&t);
    gcs_culprit_table_add(&t, cache_path, 1, 1000, 54, INTERVAL);
    gcs_culprit_table_add(&t, leak_path, 1, 1000, 46, INTERVAL);
    gcs_culprits_rank(&t, &mem, &out);
    assert_string_equal(out.top[0].frame.function, "sessions");
    assert_int_equal(out.held_bytes, 0);
}

static void held_means_older_than_half_the_sampling_up_to_a_minute(void **state)
{
    (void)state;
    /* 20 s sampled: the last 10 s are recent, so numbers below half. */
    assert_int_equal(gcs_culprit_held_after_ms(20000), 10000);
    assert_int_equal(gcs_culprit_held_below(1000, 20000), 500);
    /* 10 minutes sampled: only the last minute is recent. */
    assert_int_equal(gcs_culprit_held_after_ms(600000), GCS_CULPRIT_HELD_RECENT_MS);
    assert_int_equal(gcs_culprit_held_below(1000, 600000), 900);
    /* Exactly at the cap, and a clock that went back. */
    assert_int_equal(gcs_culprit_held_below(1000, 2 * GCS_CULPRIT_HELD_RECENT_MS), 500);
    assert_int_equal(gcs_culprit_held_below(1000, 0), 500);
    assert_int_equal(gcs_culprit_held_below(1000, -5), 500);
    assert_int_equal(gcs_culprit_held_below(1000, 1), 1000);   /* 1 ms: nothing is recent (0 ms of it) */
    assert_int_equal(gcs_culprit_held_after_ms(-5), 0);
    assert_int_equal(gcs_culprit_held_below(0, 20000), 0);
    /* The largest numbers do not overflow. */
    assert_true(gcs_culprit_held_below(UINT64_MAX / 2, 20000) <= UINT64_MAX / 2);
}

static void node_map(void **state)
{
    (void)state;
    static struct gcs_culprit_node_map m;
    gcs_culprit_node_map_clear(&m);
    assert_int_equal(gcs_culprit_node_map_get(&m, 1), -1);
    /* Ids that share a slot (a multiple of the table apart hash alike
     * only by chance; these are sequential, as V8 numbers nodes). */
    for (uint32_t id = 1; id <= GCS_CULPRIT_NODE_MAP / 2; id++)
        assert_true(gcs_culprit_node_map_put(&m, id * 7919u, (int)(id % 200)));
    /* Half full: no more. */
    assert_false(gcs_culprit_node_map_put(&m, 3, 1));
    for (uint32_t id = 1; id <= GCS_CULPRIT_NODE_MAP / 2; id++)
        assert_int_equal(gcs_culprit_node_map_get(&m, id * 7919u), (int)(id % 200));
    assert_int_equal(gcs_culprit_node_map_get(&m, 3), -1);
    /* Putting a known id again changes its site, and needs no room. */
    assert_true(gcs_culprit_node_map_put(&m, 7919u, 42));
    assert_int_equal(gcs_culprit_node_map_get(&m, 7919u), 42);
    gcs_culprit_node_map_clear(&m);
    assert_int_equal(gcs_culprit_node_map_get(&m, 7919u), -1);
    assert_true(gcs_culprit_node_map_put(&m, 0, 0));
    assert_int_equal(gcs_culprit_node_map_get(&m, 0), 0);
}

static void table_full_counts_the_rest(void **state)
{
    (void)state;
    static struct gcs_culprit_table t;
    gcs_culprit_table_init(&t);
    for (int i = 0; i < GCS_CULPRIT_TABLE + 5; i++) {
        struct gcs_js_frame f = frame("f", app, i + 1, 1);
        const struct gcs_js_frame *path[] = { &f };
        assert_int_equal(gcs_culprit_table_add(&t, path, 1, 10, 1, INTERVAL), i < GCS_CULPRIT_TABLE ? i : GCS_CULPRIT_OTHER);
    }
    /* Held bytes of sites beyond the table count in the total. */
    gcs_culprit_table_hold(&t, GCS_CULPRIT_OTHER, 7);
    gcs_culprit_table_hold(&t, GCS_CULPRIT_NONE, 5);
    assert_int_equal(t.held_bytes, 7);
    assert_int_equal(t.n, GCS_CULPRIT_TABLE);
    assert_int_equal(t.other_bytes, 50);
    assert_int_equal(t.total_bytes, (GCS_CULPRIT_TABLE + 5) * 10);
}

static void auto_start_signal(void **state)
{
    (void)state;
    const struct gcs_culprits_auto c = { .min_trend_pct = 1.0, .min_rise_bytes = 262144 };
    assert_true(gcs_culprits_growth_seen(&c, 5.0, 10000000, 9000000, 3));
    assert_false(gcs_culprits_growth_seen(&c, 5.0, 10000000, 9000000, 1));     /* one sample */
    assert_false(gcs_culprits_growth_seen(&c, 0.5, 10000000, 9000000, 5));     /* flat */
    assert_false(gcs_culprits_growth_seen(&c, 5.0, 9100000, 9000000, 5));      /* a small rise */
    assert_false(gcs_culprits_growth_seen(&c, -3.0, 9000000, 9000000, 5));     /* falling */
}

static void auto_stops_without_samples(void **state)
{
    (void)state;
    const struct gcs_culprits_auto c = { .min_trend_pct = 1.0, .min_rise_bytes = 262144, .max_gap_ms = 150000 };
    assert_false(gcs_culprits_auto_stops(&c, true, false, 1000, 1000));      /* a full GC just ended */
    assert_false(gcs_culprits_auto_stops(&c, true, false, 151000, 1000));    /* the gap exactly */
    assert_true(gcs_culprits_auto_stops(&c, true, false, 151001, 1000));
    assert_true(gcs_culprits_auto_stops(&c, true, false, 3600000, 0));       /* an hour without one */
    assert_false(gcs_culprits_auto_stops(&c, true, false, 5000, 9000));      /* a GC stamped after the clock read */
    /* A verdict ("ok", "growing", "leak") decides at each full GC instead. */
    assert_false(gcs_culprits_auto_stops(&c, false, false, 3600000, 0));
    /* A leak line owes a culprits line: the sampler stays for it. */
    assert_false(gcs_culprits_auto_stops(&c, true, true, 3600000, 0));
}

static void auto_gap_is_the_detectors_spacing(void **state)
{
    (void)state;
    assert_int_equal(gcs_culprits_max_gap_ms(20000, 600000, 5), 150000);   /* the defaults */
    assert_int_equal(gcs_culprits_max_gap_ms(2000, 600000, 5), 150000);    /* a short span changes nothing */
    assert_int_equal(gcs_culprits_max_gap_ms(60000, 600000, 5), 180000);   /* three long spans are more */
    assert_int_equal(gcs_culprits_max_gap_ms(20000, 600000, 1), 600000);   /* one point: the window */
    assert_int_equal(gcs_culprits_max_gap_ms(20000, 600000, 0), 600000);
}

static void channel_slots(void **state)
{
    (void)state;
    static struct gcs_culprit_channel ch;
    static struct gcs_culprits out;
    int slots[GCS_CULPRIT_SLOTS];
    for (int i = 0; i < GCS_CULPRIT_SLOTS; i++) {
        slots[i] = gcs_culprit_channel_claim(&ch);
        assert_true(slots[i] >= 0);
    }
    assert_int_equal(gcs_culprit_channel_claim(&ch), -1);          /* full: the caller drops */
    assert_false(gcs_culprit_channel_take(&ch, slots[0], &out));   /* still being filled */
    ch.slot[slots[0]].report = 7;
    gcs_culprit_channel_ready(&ch, slots[0]);
    assert_true(gcs_culprit_channel_take(&ch, slots[0], &out));
    assert_int_equal(out.report, 7);
    assert_false(gcs_culprit_channel_take(&ch, slots[0], &out));   /* taken once */
    assert_int_equal(gcs_culprit_channel_claim(&ch), slots[0]);
    gcs_culprit_channel_release(&ch, slots[1]);                     /* a dropped line's slot */
    assert_int_equal(gcs_culprit_channel_claim(&ch), slots[1]);
    assert_false(gcs_culprit_channel_take(&ch, 99, &out));
}

static const struct gcs_process_info info = { .pid = 4321, .destination = "fd:3" };

static json_t *format_culprits(const struct gcs_culprits *c, size_t *len_out)
{
    static struct gcs_json j;
    struct gcs_record r;
    memset(&r, 0, sizeof r);
    r.event = GCS_EV_CULPRITS;
    r.isolate = c->isolate;
    r.ts_ms = c->ts_ms;
    r.culprits = c;
    size_t len = gcs_format_record(&j, &r, &info, 0);
    assert_true(len > 0 && len < 4096);
    json_error_t err;
    json_t *v = json_loadb(j.buf, len, 0, &err);
    if (v == NULL)
        fail_msg("not JSON: %.*s (%s)", (int)len, j.buf, err.text);
    *len_out = len;
    return v;
}

static void culprits_line(void **state)
{
    (void)state;
    static struct gcs_culprits c;
    memset(&c, 0, sizeof c);
    c.isolate = 2;
    c.ts_ms = 1700000000000;
    c.since_ms = 1699999990000;
    c.report = 1;
    c.interval_bytes = INTERVAL;
    c.total_bytes = 2000;
    c.total_samples = 12;
    c.samples_at_leak = 4;
    c.read_ns = 1234567;
    c.nodes = 6;
    c.n = 1;
    c.top[0].frame = frame("retainOrder", app, 10, 21);
    c.top[0].bytes = 1500;
    c.top[0].samples = 9;
    c.top[0].callee = frame("set", "", 0, 0);
    c.top[0].callers[0] = frame("", app, 32, 27);
    c.top[0].callers[1] = frame("listOnTimeout", "node:internal/timers", 517, 25);
    c.top[0].ncallers = 2;
    size_t len;
    json_t *v = format_culprits(&c, &len);
    assert_string_equal(json_string_value(json_object_get(v, "event")), "culprits");
    assert_int_equal(json_integer_value(json_object_get(v, "isolate")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "samples")), 12);
    assert_int_equal(json_integer_value(json_object_get(v, "samples_at_leak")), 4);
    assert_true(json_real_value(json_object_get(v, "read_ms")) == 1.235);
    assert_true(json_is_null(json_object_get(v, "previous")));
    assert_true(json_is_null(json_object_get(v, "profile")));   /* no file written */
    assert_true(json_is_false(json_object_get(v, "profile_cut")));
    json_t *s = json_array_get(json_object_get(v, "sites"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "function")), "retainOrder");
    assert_string_equal(json_string_value(json_object_get(s, "url")), app);
    assert_int_equal(json_integer_value(json_object_get(s, "line")), 10);
    assert_int_equal(json_integer_value(json_object_get(s, "column")), 21);
    assert_true(json_real_value(json_object_get(s, "share")) == 0.75);
    assert_true(json_is_null(json_object_get(s, "growth_bytes")));
    assert_string_equal(json_string_value(json_object_get(s, "callee")), "set");
    json_t *callers = json_object_get(s, "callers");
    assert_string_equal(json_string_value(json_array_get(callers, 0)), "(anonymous) orders.js:32:27");
    assert_string_equal(json_string_value(json_array_get(callers, 1)), "listOnTimeout timers:517:25");
    json_decref(v);

    /* The file written, and its copy cut. */
    snprintf(c.profile_path, sizeof c.profile_path, "/var/prof/gcstats.20231114.221320.000.42.2.heapprofile");
    c.with_profile = c.profile_cut = true;
    v = format_culprits(&c, &len);
    assert_string_equal(json_string_value(json_object_get(v, "profile")), c.profile_path);
    assert_true(json_is_true(json_object_get(v, "profile_cut")));
    json_decref(v);
}

/* Names are the application's: any bytes, any length. Eight sites with the
 * longest names and URLs do not fit in a line: fewer are shown, and every
 * byte that is not valid UTF-8 comes out as U+FFFD. */
static void hostile_names_fit(void **state)
{
    (void)state;
    static struct gcs_culprits c;
    memset(&c, 0, sizeof c);
    c.n = GCS_CULPRITS_SHOWN;
    c.total_bytes = 1;
    for (size_t i = 0; i < c.n; i++) {
        struct gcs_culprit_site *s = &c.top[i];
        memset(s->frame.function, '"', sizeof s->frame.function - 1);
        memset(s->frame.url, 0xff, sizeof s->frame.url - 1);
        s->frame.url[0] = '/';
        s->callee = s->frame;
        /* The longest path GCSTATS_PROFILE_DIR allows (escaped). */
        memset(c.profile_path, 'a', sizeof c.profile_path - 1);
        c.profile_path[0] = '/';
        for (int k = 0; k < GCS_CULPRIT_CALLERS; k++)
            s->callers[k] = s->frame;
        s->ncallers = GCS_CULPRIT_CALLERS;
        s->have_growth = true;
        s->growth_bytes = INT64_MIN;
    }
    size_t len;
    json_t *v = format_culprits(&c, &len);
    size_t shown = (size_t)json_integer_value(json_object_get(v, "shown"));
    assert_true(shown >= 1 && shown < GCS_CULPRITS_SHOWN);
    assert_int_equal(json_array_size(json_object_get(v, "sites")), shown);
    const char *url = json_string_value(json_object_get(json_array_get(json_object_get(v, "sites"), 0), "url"));
    assert_non_null(strstr(url, "\xef\xbf\xbd"));
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(application_frames),
        cmocka_unit_test(charged_to_the_innermost_application_frame),
        cmocka_unit_test(samples_are_unscaled),
        cmocka_unit_test(ranked_with_growth),
        cmocka_unit_test(held_bytes_rank_before_live_bytes),
        cmocka_unit_test(held_means_older_than_half_the_sampling_up_to_a_minute),
        cmocka_unit_test(node_map),
        cmocka_unit_test(table_full_counts_the_rest),
        cmocka_unit_test(auto_start_signal),
        cmocka_unit_test(auto_stops_without_samples),
        cmocka_unit_test(auto_gap_is_the_detectors_spacing),
        cmocka_unit_test(channel_slots),
        cmocka_unit_test(culprits_line),
        cmocka_unit_test(hostile_names_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
