/* No message a user's value can trigger is cut at the 255 bytes of an
 * error line's reason: a long value is shortened inside the message (its
 * first GCS_CLIP_KEEP bytes and "..."), and the message ends as it would
 * with a short value. */
#include "test.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lines.h"
#include "outrules.h"

static char long_value[2001];

/* Parses env and checks its only problem against the one a short value gives. */
static void check(const char *var, struct gcs_env *env, const char **field, const char *short_value,
                  size_t long_len)
{
    static struct gcs_config small, big;
    *field = short_value;
    gcs_config_parse(env, 1, &small);
    memset(long_value, '7', long_len);
    long_value[long_len] = '\0';
    *field = long_value;
    gcs_config_parse(env, 1, &big);
    *field = NULL;
    assert_int_equal(small.problems, 1);
    assert_int_equal(big.problems, 1);
    /* The short message with its value replaced by the clipped one. */
    const char *at = strstr(small.problem[0], short_value[0] ? short_value : " ");
    assert_non_null(at);
    if (short_value[0] == '\0')
        at = strchr(small.problem[0], '=') + 1;
    char want[GCS_MESSAGE_MAX];
    snprintf(want, sizeof want, "%.*s%.*s...%s", (int)(at - small.problem[0]), small.problem[0],
             GCS_CLIP_KEEP, long_value, at + strlen(short_value));
    if (strcmp(big.problem[0], want) != 0)
        fail_msg("%s:\n got  %s\n want %s", var, big.problem[0], want);
    assert_true(strlen(big.problem[0]) < GCS_TEXT_MAX - 1);
    /* And the error line keeps all of it. */
    struct gcs_record r;
    gcs_error_record(&r, 0, 1, big.problem[0]);
    assert_string_equal(r.text, big.problem[0]);
}

static void long_values_stay_inside(void **state)
{
    (void)state;
    struct gcs_env env;
    memset(&env, 0, sizeof env);
    check("GCSTATS_FD", &env, &env.fd, "x", 1000);
    check("GCSTATS_FILE", &env, &env.file, "", 2000);   /* longer than a path may be */
    check("GCSTATS_INTERVAL", &env, &env.interval, "x", 1000);
    check("GCSTATS_LEAK_MIN_SPAN", &env, &env.leak_min_span, "x", 1000);
    check("GCSTATS_LEAK_REPORT", &env, &env.leak_report, "x", 1000);
    check("GCSTATS_LEAK_MIN_GROWTH", &env, &env.leak_min_growth, "x", 1000);
    check("GCSTATS_MAPS", &env, &env.maps, "x", 1000);
    check("GCSTATS_SITES", &env, &env.sites, "x", 1000);
    check("GCSTATS_PROBE", &env, &env.probe, "x", 1000);
}

static void both_destinations(void **state)
{
    (void)state;
    struct gcs_env env;
    memset(&env, 0, sizeof env);
    memset(long_value, 'f', 1000);
    long_value[1000] = '\0';
    env.fd = "2";
    env.file = long_value;
    static struct gcs_config c;
    gcs_config_parse(&env, 1, &c);
    assert_int_equal(c.problems, 1);
    assert_true(strlen(c.problem[0]) < GCS_TEXT_MAX - 1);
    const char *end = "... are both set; GCSTATS_FD wins";
    assert_string_equal(c.problem[0] + strlen(c.problem[0]) - strlen(end), end);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_values_stay_inside),
        cmocka_unit_test(both_destinations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
