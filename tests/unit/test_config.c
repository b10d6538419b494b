#include "test.h"

#include <string.h>

#include "config.h"
#include "probe.h"
#include "verdict.h"

static void fd_numbers(void **state)
{
    (void)state;
    int fd = -1;
    assert_true(gcs_parse_fd("3", &fd));
    assert_int_equal(fd, 3);
    assert_true(gcs_parse_fd("0", &fd));
    assert_int_equal(fd, 0);
    assert_true(gcs_parse_fd("1048576", &fd));
    assert_false(gcs_parse_fd("1048577", &fd));
    assert_false(gcs_parse_fd("", &fd));
    assert_false(gcs_parse_fd(NULL, &fd));
    assert_false(gcs_parse_fd("-1", &fd));
    assert_false(gcs_parse_fd(" 3", &fd));
    assert_false(gcs_parse_fd("3x", &fd));
    assert_false(gcs_parse_fd("99999999999999999999999", &fd));
}

static void intervals(void **state)
{
    (void)state;
    static const struct { const char *s; bool ok; uint32_t ms; } cases[] = {
        { "10", true, 10000 }, { "0", true, 0 }, { "0.5", true, 500 }, { "2.25", true, 2250 },
        { "1.001", true, 1001 }, { "86400", true, 86400000 }, { "86400.0", true, 86400000 },
        { "86400.001", false, 0 }, { "86401", false, 0 }, { "1.0001", false, 0 },
        { "", false, 0 }, { ".5", false, 0 }, { "5.", false, 0 }, { "-1", false, 0 },
        { "ten", false, 0 }, { "1e3", false, 0 }, { "10s", false, 0 },
        { "99999999999999999999", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t ms = 12345;
        bool ok = gcs_parse_interval_ms(cases[i].s, &ms);
        assert_int_equal(ok, cases[i].ok);
        if (ok)
            assert_int_equal(ms, cases[i].ms);
    }
}

static void byte_counts(void **state)
{
    (void)state;
    static const struct { const char *s; bool ok; uint64_t v; } cases[] = {
        { "0", true, 0 }, { "1048576", true, 1048576 }, { "1k", true, 1024 }, { "3M", true, 3145728 },
        { "2g", true, 2147483648ull }, { "16G", true, 17179869184ull }, { "", false, 0 }, { "M", false, 0 },
        { "1.5M", false, 0 }, { "-1", false, 0 }, { "1MB", false, 0 }, { "1T", false, 0 },
        { "18446744073709551615", true, UINT64_MAX }, { "18446744073709551616", false, 0 },
        { "17179869184G", false, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 7;
        bool ok = gcs_parse_bytes(cases[i].s, &v);
        if (ok != cases[i].ok || (ok && v != cases[i].v))
            fail_msg("%s: ok %d v %llu", cases[i].s, ok, (unsigned long long)v);
    }
}

static void leak_settings(void **state)
{
    (void)state;
    struct gcs_env env = { .leak_min_span = "30", .leak_min_growth = "4M", .leak_report = "0.5" };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_int_equal(c.leak_min_span_ms, 30000);
    assert_int_equal(c.leak_min_growth_bytes, 4u << 20);
    assert_int_equal(c.leak_report_ms, GCS_DEFAULT_LEAK_REPORT_MS);   /* under a second: refused */
    assert_int_equal(c.problems, 1);
    assert_non_null(strstr(c.problem[0], "GCSTATS_LEAK_REPORT=0.5"));
    struct gcs_env bad = { .leak_min_span = "x", .leak_min_growth = "lots" };
    gcs_config_parse(&bad, 1, &c);
    assert_int_equal(c.leak_min_span_ms, GCS_DEFAULT_LEAK_MIN_SPAN_MS);
    assert_int_equal(c.leak_min_growth_bytes, GCS_DEFAULT_LEAK_MIN_GROWTH);
    assert_int_equal(c.problems, 2);
    assert_true(c.dest_ok);
}

static void mapping_settings(void **state)
{
    (void)state;
    struct gcs_config c;
    struct gcs_env none = { 0 };
    gcs_config_parse(&none, 1, &c);
    assert_true(c.maps);
    assert_int_equal(c.sites_interval_ms, 0);
    struct gcs_env on = { .maps = "1", .sites = "30" };
    gcs_config_parse(&on, 1, &c);
    assert_true(c.maps);
    assert_int_equal(c.sites_interval_ms, 30000);
    assert_int_equal(c.problems, 0);
    struct gcs_env off = { .maps = "0" };
    gcs_config_parse(&off, 1, &c);
    assert_false(c.maps);
    assert_int_equal(c.problems, 0);
    /* Sites need counting. */
    struct gcs_env both = { .maps = "0", .sites = "5" };
    gcs_config_parse(&both, 1, &c);
    assert_int_equal(c.sites_interval_ms, 0);
    assert_int_equal(c.problems, 1);
    assert_non_null(strstr(c.problem[0], "GCSTATS_SITES"));
    struct gcs_env bad = { .maps = "yes", .sites = "often" };
    gcs_config_parse(&bad, 1, &c);
    assert_true(c.maps);
    assert_int_equal(c.sites_interval_ms, 0);
    assert_int_equal(c.problems, 2);
    assert_non_null(strstr(c.problem[0], "GCSTATS_MAPS=yes"));
    assert_non_null(strstr(c.problem[1], "GCSTATS_SITES=often"));
}

/* GCSTATS_PROBE_BUDGET: a percentage with up to three decimals, 0.01 to
 * 100, in thousandths of a percent; anything else is named and 1% kept. */
static void probe_budget_settings(void **state)
{
    (void)state;
    struct gcs_config c;
    struct gcs_env none = { 0 };
    gcs_config_parse(&none, 1, &c);
    assert_int_equal(c.probe_budget_mpct, 1000);
    const struct { const char *value; uint32_t mpct; int problems; } cases[] = {
        { "1", 1000, 0 },
        { "0.01", 10, 0 },
        { "2.5", 2500, 0 },
        { "100", 100000, 0 },
        { "0", 1000, 1 },
        { "0.009", 1000, 1 },
        { "100.001", 1000, 1 },
        { "-1", 1000, 1 },
        { "1%", 1000, 1 },
        { "", 1000, 1 },
        { "lots", 1000, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gcs_env e = { .probe_budget = cases[i].value };
        gcs_config_parse(&e, 1, &c);
        assert_int_equal(c.probe_budget_mpct, cases[i].mpct);
        assert_int_equal(c.problems, cases[i].problems);
        if (cases[i].problems)
            assert_non_null(strstr(c.problem[0], "GCSTATS_PROBE_BUDGET="));
    }
}

/* GCSTATS_CULPRITS: auto (default), always or off; GCSTATS_CULPRITS_INTERVAL:
 * bytes from 1k to 1G (default 512k, V8's own); anything else is named. */
static void culprits_settings(void **state)
{
    (void)state;
    struct gcs_config c;
    struct gcs_env none = { 0 };
    gcs_config_parse(&none, 1, &c);
    assert_int_equal(c.culprits, GCS_CULPRITS_AUTO);
    assert_int_equal(c.culprits_interval_bytes, 524288);
    const struct { const char *mode, *interval; int want_mode; uint64_t want_interval; int problems; } cases[] = {
        { "always", "64k", GCS_CULPRITS_ALWAYS, 65536, 0 },
        { "off", "1024", GCS_CULPRITS_OFF, 1024, 0 },
        { "auto", "1G", GCS_CULPRITS_AUTO, 1u << 30, 0 },
        { "ALWAYS", "1023", GCS_CULPRITS_AUTO, 524288, 2 },
        { "", "2G", GCS_CULPRITS_AUTO, 524288, 2 },
        { "on", "-1", GCS_CULPRITS_AUTO, 524288, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gcs_env e = { .culprits = cases[i].mode, .culprits_interval = cases[i].interval };
        gcs_config_parse(&e, 1, &c);
        assert_int_equal(c.culprits, cases[i].want_mode);
        assert_int_equal(c.culprits_interval_bytes, cases[i].want_interval);
        assert_int_equal(c.problems, cases[i].problems);
        if (cases[i].problems) {
            assert_non_null(strstr(c.problem[0], "GCSTATS_CULPRITS="));
            assert_non_null(strstr(c.problem[1], "GCSTATS_CULPRITS_INTERVAL="));
        }
    }
    assert_string_equal(gcs_culprits_mode_name(GCS_CULPRITS_ALWAYS), "always");
}

static void probe_settings(void **state)
{
    (void)state;
    struct gcs_config c;
    struct gcs_env none = { 0 };
    gcs_config_parse(&none, 1, &c);
    assert_int_equal(c.probe_ms, 5000);
    const struct { const char *value; uint32_t ms; int problems; } cases[] = {
        { "0", 0, 0 },          /* never ask */
        { "1", 1000, 0 },
        { "2.5", 2500, 0 },
        { "60", 60000, 0 },
        { "86400", 86400000, 0 },
        { "0.5", 5000, 1 },     /* more often than once a second: refused */
        { "0.999", 5000, 1 },
        { "86401", 5000, 1 },
        { "-1", 5000, 1 },
        { "", 5000, 1 },
        { "often", 5000, 1 },
        { "5s", 5000, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gcs_env e = { .probe = cases[i].value };
        gcs_config_parse(&e, 1, &c);
        assert_int_equal(c.probe_ms, cases[i].ms);
        assert_int_equal(c.problems, cases[i].problems);
        if (cases[i].problems)
            assert_non_null(strstr(c.problem[0], "GCSTATS_PROBE="));
    }
}

static void path_templates(void **state)
{
    (void)state;
    char out[64];
    assert_true(gcs_expand_path("/tmp/gc-%p.log", 4242, out, sizeof out));
    assert_string_equal(out, "/tmp/gc-4242.log");
    assert_true(gcs_expand_path("%p%p", 7, out, sizeof out));
    assert_string_equal(out, "77");
    assert_true(gcs_expand_path("/a/%d/%", 7, out, sizeof out));
    assert_string_equal(out, "/a/%d/%");
    assert_false(gcs_expand_path("", 7, out, sizeof out));
    char tiny[8];
    assert_true(gcs_expand_path("abc%p", 1234, tiny, sizeof tiny));   /* 7 + NUL */
    assert_string_equal(tiny, "abc1234");
    assert_false(gcs_expand_path("abc%p", 12345, tiny, sizeof tiny));
    assert_false(gcs_expand_path("abcdefgh", 1, tiny, sizeof tiny));
}

static void defaults(void **state)
{
    (void)state;
    struct gcs_env env = { 0 };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_int_equal(c.dest, GCS_DEST_STDERR);
    assert_true(c.dest_ok);
    assert_int_equal(c.interval_ms, 10000);
    assert_int_equal(c.problems, 0);
}

static void bad_values_name_variable_and_value(void **state)
{
    (void)state;
    struct gcs_env env = { .fd = "three", .interval = "soon" };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_false(c.dest_ok);
    assert_int_equal(c.problems, 2);
    assert_non_null(strstr(c.problem[0], "GCSTATS_FD=three"));
    assert_non_null(strstr(c.problem[1], "GCSTATS_INTERVAL=soon"));
    assert_int_equal(c.interval_ms, 10000);
}

static void fd_wins_over_file(void **state)
{
    (void)state;
    struct gcs_env env = { .fd = "5", .file = "/tmp/x" };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_true(c.dest_ok);
    assert_int_equal(c.dest, GCS_DEST_FD);
    assert_int_equal(c.fd, 5);
    assert_int_equal(c.problems, 1);
    assert_non_null(strstr(c.problem[0], "GCSTATS_FD wins"));
}

static void file_gets_pid(void **state)
{
    (void)state;
    struct gcs_env env = { .file = "/var/log/gc.%p.jsonl", .interval = "0" };
    struct gcs_config c;
    gcs_config_parse(&env, 99, &c);
    assert_true(c.dest_ok);
    assert_int_equal(c.dest, GCS_DEST_FILE);
    assert_string_equal(c.path, "/var/log/gc.99.jsonl");
    assert_int_equal(c.interval_ms, 0);
}

static void huge_values_are_cut_in_messages(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct gcs_env env = { .file = big };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_false(c.dest_ok);
    assert_true(strlen(c.problem[0]) < 300);
}

/* Unset settings give the detector and the probe their own defaults. */
static void detector_and_probe_defaults_are_the_settings(void **state)
{
    (void)state;
    struct gcs_env none = { 0 };
    struct gcs_config c;
    gcs_config_parse(&none, 1, &c);
    struct gcs_detect_config d;
    gcs_detect_config_default(&d);
    assert_int_equal(d.min_span_ms, c.leak_min_span_ms);
    assert_int_equal(d.min_growth_bytes, c.leak_min_growth_bytes);
    assert_int_equal(d.report_interval_ms, c.leak_report_ms);
    struct gcs_probe_config p;
    gcs_probe_config_default(&p);
    assert_int_equal(p.every_ms, c.probe_ms);
    assert_int_equal(p.min_change_bytes, c.leak_min_growth_bytes / GCS_PROBE_CHANGE_DIVISOR);
}

/* A bad value's message names the value used instead, as a user would write it. */
static void messages_name_the_fallback(void **state)
{
    (void)state;
    struct gcs_env env = { .interval = "x", .leak_min_span = "x", .leak_min_growth = "x",
                           .leak_report = "x", .probe = "x" };
    struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    static const char *const ends[] = {
        "from 0 to 86400; using 10", "from 1 to 86400; using 20", "from 1 to 86400; using 60",
        "(like 1048576 or 1M); using 1M", "from 1 to 86400; using 5",
    };
    assert_int_equal(c.problems, 5);
    for (int i = 0; i < c.problems; i++) {
        size_t n = strlen(c.problem[i]), m = strlen(ends[i]);
        if (n < m || strcmp(c.problem[i] + n - m, ends[i]) != 0)
            fail_msg("problem %d: \"%s\" does not end with \"%s\"", i, c.problem[i], ends[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_numbers),
        cmocka_unit_test(intervals),
        cmocka_unit_test(byte_counts),
        cmocka_unit_test(leak_settings),
        cmocka_unit_test(mapping_settings),
        cmocka_unit_test(probe_settings),
        cmocka_unit_test(probe_budget_settings),
        cmocka_unit_test(culprits_settings),
        cmocka_unit_test(path_templates),
        cmocka_unit_test(defaults),
        cmocka_unit_test(bad_values_name_variable_and_value),
        cmocka_unit_test(fd_wins_over_file),
        cmocka_unit_test(file_gets_pid),
        cmocka_unit_test(huge_values_are_cut_in_messages),
        cmocka_unit_test(detector_and_probe_defaults_are_the_settings),
        cmocka_unit_test(messages_name_the_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
