/* The gcstats command's pure parts: options read against the one table
 * of settings and checked by the library's own parser; the LD_PRELOAD
 * rule; where the library is looked for; values safe for an environment
 * file and for export $(...). */
#include "test.h"

#include <stdio.h>
#include <string.h>

#include "preload.h"
#include "settings.h"

static enum gcs_args_result parse(bool stop, int *next, struct gcs_chosen *chosen, char *error, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, error);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    return gcs_parse_settings(argc, argv, stop, chosen, next, error);
}

static const char *value_of(const struct gcs_chosen *c, const char *option)
{
    return c->value[gcs_setting_index(option)];
}

static void options_both_forms(void **state)
{
    (void)state;
    struct gcs_chosen c;
    char error[GCS_CMD_ERROR_MAX];
    int next;
    assert_int_equal(parse(true, &next, &c, error, "--interval", "2.5", "--file=/var/log/gc-%p.jsonl",
                           "--leak-min-growth", "4M", "--", "node", "app.js", NULL), GCS_ARGS_OK);
    assert_int_equal(next, 6);   /* "node", after the "--" */
    assert_string_equal(value_of(&c, "interval"), "2.5");
    assert_string_equal(value_of(&c, "file"), "/var/log/gc-%p.jsonl");
    assert_string_equal(value_of(&c, "leak-min-growth"), "4M");
    assert_null(value_of(&c, "probe"));
    /* the command may follow without "--", and its own options are its own */
    assert_int_equal(parse(true, &next, &c, error, "--probe", "0", "node", "--interval", "x", NULL), GCS_ARGS_OK);
    assert_int_equal(next, 2);
    assert_string_equal(value_of(&c, "probe"), "0");
    assert_int_equal(parse(true, &next, &c, error, "--help", NULL), GCS_ARGS_HELP);
    /* env takes no operand */
    assert_int_equal(parse(false, &next, &c, error, "node", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "unexpected argument node");
}

/* Every value the library refuses, the command refuses, naming the
 * option and in the library's words (without what the library would use
 * instead: the command runs nothing). */
static void bad_values(void **state)
{
    (void)state;
    static const struct { const char *option, *value, *says; } cases[] = {
        { "interval", "abc", "--interval abc: GCSTATS_INTERVAL=abc is not a number of seconds from 0 to 86400" },
        { "interval", "86401", "--interval 86401: GCSTATS_INTERVAL=86401 is not a number" },
        { "fd", "three", "--fd three: GCSTATS_FD=three is not a file descriptor number" },
        { "file", "", "--file : GCSTATS_FILE= is empty or too long a path" },
        { "leak-min-span", "0.5", "--leak-min-span 0.5: GCSTATS_LEAK_MIN_SPAN=0.5 is not a number of seconds from 1" },
        { "leak-min-growth", "1T", "--leak-min-growth 1T: GCSTATS_LEAK_MIN_GROWTH=1T is not a number of bytes" },
        { "maps", "yes", "--maps yes: GCSTATS_MAPS=yes is not 0 or 1" },
        { "probe", "0.5", "--probe 0.5: GCSTATS_PROBE=0.5 is not 0 or a number of seconds from 1" },
        { "probe-budget", "0", "--probe-budget 0: GCSTATS_PROBE_BUDGET=0 is not a percentage" },
        { "sites", "-1", "--sites -1: GCSTATS_SITES=-1 is not a number of seconds" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gcs_chosen c;
        char error[GCS_CMD_ERROR_MAX];
        char option[64];
        int next;
        snprintf(option, sizeof option, "--%s", cases[i].option);
        assert_int_equal(parse(true, &next, &c, error, option, cases[i].value, "--", "node", NULL), GCS_ARGS_BAD);
        if (strncmp(error, cases[i].says, strlen(cases[i].says)) != 0)
            fail_msg("%s %s: got \"%s\"", option, cases[i].value, error);
        assert_null(strstr(error, "using"));
        assert_null(strstr(error, "writes nothing"));
    }
}

static void bad_options(void **state)
{
    (void)state;
    struct gcs_chosen c;
    char error[GCS_CMD_ERROR_MAX];
    int next;
    assert_int_equal(parse(true, &next, &c, error, "--intervall", "2", "node", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "unknown option --intervall");
    assert_int_equal(parse(true, &next, &c, error, "-x", "node", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "unknown option -x");
    assert_int_equal(parse(true, &next, &c, error, "--interval", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "--interval needs a value (SECONDS)");
    assert_int_equal(parse(true, &next, &c, error, "--fd", "3", "--file", "x", "node", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "--file and --fd are two destinations: give one");
    /* together, as the library reads them */
    assert_int_equal(parse(true, &next, &c, error, "--maps", "0", "--sites", "5", "node", NULL), GCS_ARGS_BAD);
    assert_string_equal(error, "GCSTATS_SITES is ignored with GCSTATS_MAPS=0: nothing is counted");
}

/* The table is complete and its help lists every option once. */
static void table_and_help(void **state)
{
    (void)state;
    static const char *const variables[] = {
        "GCSTATS_FILE", "GCSTATS_FD", "GCSTATS_INTERVAL", "GCSTATS_LEAK_MIN_SPAN", "GCSTATS_LEAK_MIN_GROWTH",
        "GCSTATS_LEAK_REPORT", "GCSTATS_MAPS", "GCSTATS_SITES", "GCSTATS_PROBE", "GCSTATS_PROBE_BUDGET",
        "GCSTATS_CULPRITS", "GCSTATS_CULPRITS_INTERVAL", "GCSTATS_PROFILE_DIR",
    };
    assert_int_equal(gcs_settings_count, sizeof variables / sizeof variables[0]);
    char help[4096];
    int n = gcs_settings_help(help, sizeof help);
    assert_true(n > 0 && (size_t)n < sizeof help);
    for (size_t i = 0; i < gcs_settings_count; i++) {
        bool found = false;
        for (size_t k = 0; k < gcs_settings_count; k++)
            found |= strcmp(gcs_settings[k].variable, variables[i]) == 0;
        assert_true(found);
        char option[64];
        snprintf(option, sizeof option, "  --%s %s ", gcs_settings[i].option, gcs_settings[i].metavar);
        const char *at = strstr(help, option);
        assert_non_null(at);
        assert_null(strstr(at + 1, option));
    }
    /* a buffer too small is not overrun, and the length is still told */
    char small[16];
    memset(small, 'x', sizeof small);
    assert_int_equal(gcs_settings_help(small, 8), n);
    assert_int_equal(small[7], '\0');
    assert_int_equal(small[8], 'x');
}

/* gcstats exporter's options: anywhere among the operands, with = or a
 * separate value; "--" makes the rest operands. */
static void exporter_options(void **state)
{
    (void)state;
    char words[][16] = { "logs/", "--listen", ":9464", "--stale=30", "a.jsonl", "--", "--path", "--lsten", "x" };
    char *argv[] = { words[0], words[1], words[2], words[3], words[4], words[5], words[6] };
    const char *values[GCS_OPTIONS_MAX];
    char *operands[8];
    int n = 0;
    char error[GCS_CMD_ERROR_MAX];
    assert_int_equal(gcs_parse_options(gcs_exporter_options, gcs_exporter_options_count, 7, argv, values, operands,
                                       &n, error), GCS_ARGS_OK);
    assert_string_equal(values[0], ":9464");
    assert_null(values[1]);
    assert_string_equal(values[2], "30");
    assert_int_equal(n, 3);
    assert_string_equal(operands[0], "logs/");
    assert_string_equal(operands[1], "a.jsonl");
    assert_string_equal(operands[2], "--path");
    char *unknown[] = { words[7], words[8] };
    assert_int_equal(gcs_parse_options(gcs_exporter_options, gcs_exporter_options_count, 2, unknown, values,
                                       operands, &n, error), GCS_ARGS_BAD);
    assert_string_equal(error, "unknown option --lsten");
    char *missing[] = { words[4], words[1] };
    assert_int_equal(gcs_parse_options(gcs_exporter_options, gcs_exporter_options_count, 2, missing, values,
                                       operands, &n, error), GCS_ARGS_BAD);
    assert_string_equal(error, "--listen needs a value (ADDR:PORT)");
    char help[2048];
    assert_true(gcs_options_help(gcs_exporter_options, gcs_exporter_options_count, help, sizeof help) > 0);
    assert_non_null(strstr(help, "  --stale SECONDS "));
}

static void preload_join(void **state)
{
    (void)state;
    char out[256];
    const char *lib = "/usr/lib/gcstats/libgcstats.so";
    assert_true(gcs_preload_join(NULL, lib, out, sizeof out));
    assert_string_equal(out, lib);
    assert_true(gcs_preload_join("", lib, out, sizeof out));
    assert_string_equal(out, lib);
    assert_true(gcs_preload_join(" : ", lib, out, sizeof out));
    assert_string_equal(out, lib);
    /* kept, and first: an allocator preloaded before stays the allocator */
    assert_true(gcs_preload_join("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", lib, out, sizeof out));
    assert_string_equal(out, "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2:/usr/lib/gcstats/libgcstats.so");
    /* never twice, wherever it is and however the list is separated */
    assert_true(gcs_preload_join("/usr/lib/gcstats/libgcstats.so", lib, out, sizeof out));
    assert_string_equal(out, lib);
    assert_true(gcs_preload_join("/a.so /usr/lib/gcstats/libgcstats.so:/b.so", lib, out, sizeof out));
    assert_string_equal(out, "/a.so /usr/lib/gcstats/libgcstats.so:/b.so");
    /* a name that only begins or ends like it is another library */
    assert_true(gcs_preload_join("/usr/lib/gcstats/libgcstats.so.1", lib, out, sizeof out));
    assert_string_equal(out, "/usr/lib/gcstats/libgcstats.so.1:/usr/lib/gcstats/libgcstats.so");
    assert_true(gcs_preload_join("/x/usr/lib/gcstats/libgcstats.so", lib, out, sizeof out));
    assert_string_equal(out, "/x/usr/lib/gcstats/libgcstats.so:/usr/lib/gcstats/libgcstats.so");
    /* too long: refused, not cut */
    assert_false(gcs_preload_join("/a.so", lib, out, strlen(lib) + 4));
}

static void library_candidates(void **state)
{
    (void)state;
    char c[GCS_CANDIDATES_MAX][GCS_CMD_PATH_MAX];
    /* meson's usual layout: bindir and libdir relative to the prefix */
    assert_int_equal(gcs_library_candidates("/usr/local/bin", "bin", "lib/x86_64-linux-gnu", "/usr/local", c), 3);
    assert_string_equal(c[0], "/usr/local/bin/../lib/x86_64-linux-gnu/gcstats/libgcstats.so");
    assert_string_equal(c[1], "/usr/local/bin/../libgcstats.so");
    assert_string_equal(c[2], "/usr/local/lib/x86_64-linux-gnu/gcstats/libgcstats.so");
    /* a tree installed with DESTDIR and moved: found relative to itself */
    assert_int_equal(gcs_library_candidates("/tmp/d/opt/x/sbin/tools", "sbin/tools", "lib64", "/opt/x", c), 3);
    assert_string_equal(c[0], "/tmp/d/opt/x/sbin/tools/../../lib64/gcstats/libgcstats.so");
    /* the build tree */
    assert_string_equal(c[1], "/tmp/d/opt/x/sbin/tools/../libgcstats.so");
    /* an absolute libdir is only where it is configured */
    assert_int_equal(gcs_library_candidates("/opt/bin", "bin", "/usr/lib64", "/opt", c), 2);
    assert_string_equal(c[0], "/opt/bin/../libgcstats.so");
    assert_string_equal(c[1], "/usr/lib64/gcstats/libgcstats.so");
}

static void env_values(void **state)
{
    (void)state;
    assert_true(gcs_env_value_safe("/var/log/app/gc-%p.jsonl"));
    assert_true(gcs_env_value_safe("/a.so:/usr/lib/gcstats/libgcstats.so"));
    assert_true(gcs_env_value_safe("2.5"));
    assert_true(gcs_env_value_safe(""));
    const char *unsafe[] = { "/my logs/gc.jsonl", "a\tb", "a\nb", "'x'", "\"x\"", "a\\b", "$HOME/x", "`id`",
                             "/var/log/*.jsonl", "gc?.jsonl", "[ab]" };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++)
        if (gcs_env_value_safe(unsafe[i]))
            fail_msg("%s taken as safe", unsafe[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_both_forms),
        cmocka_unit_test(bad_values),
        cmocka_unit_test(bad_options),
        cmocka_unit_test(table_and_help),
        cmocka_unit_test(exporter_options),
        cmocka_unit_test(preload_join),
        cmocka_unit_test(library_candidates),
        cmocka_unit_test(env_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
