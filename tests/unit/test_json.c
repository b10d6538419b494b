#include "test.h"

#include <jansson.h>
#include <string.h>

#include "json.h"

static json_t *parse(struct gcs_json *j)
{
    size_t len = gcs_json_end(j);
    assert_true(len > 0);
    assert_int_equal(j->buf[len - 1], '\n');
    json_error_t err;
    json_t *v = json_loadb(j->buf, len - 1, 0, &err);
    if (v == NULL)
        fail_msg("not JSON: %.*s (%s)", (int)len, j->buf, err.text);
    return v;
}

static void iso_times(void **state)
{
    (void)state;
    char s[25];
    gcs_format_iso8601(0, s);
    assert_string_equal(s, "1970-01-01T00:00:00.000Z");
    gcs_format_iso8601(1795663240123LL, s);
    assert_string_equal(s, "2026-11-26T03:20:40.123Z");
    gcs_format_iso8601(951782400000LL, s);          /* a leap day in a century year */
    assert_string_equal(s, "2000-02-29T00:00:00.000Z");
    gcs_format_iso8601(4107542399999LL, s);
    assert_string_equal(s, "2100-02-28T23:59:59.999Z");
    gcs_format_iso8601(-1, s);
    assert_string_equal(s, "1969-12-31T23:59:59.999Z");
}

static void numbers_and_nesting(void **state)
{
    (void)state;
    struct gcs_json j;
    gcs_json_begin(&j);
    gcs_json_u64(&j, "max", UINT64_MAX);
    gcs_json_u64(&j, "zero", 0);
    gcs_json_i64(&j, "neg", INT64_MIN);
    gcs_json_bool(&j, "t", true);
    gcs_json_null(&j, "n");
    gcs_json_object_begin(&j, "o");
    gcs_json_object_begin(&j, "inner");
    gcs_json_u64(&j, "a", 1);
    gcs_json_object_end(&j);
    gcs_json_u64(&j, "b", 2);
    gcs_json_object_end(&j);
    gcs_json_object_begin(&j, "empty");
    gcs_json_object_end(&j);
    gcs_json_u64(&j, "last", 3);
    size_t len = gcs_json_end(&j);
    const char *expect = "{\"max\":18446744073709551615,\"zero\":0,\"neg\":-9223372036854775808,"
                         "\"t\":true,\"n\":null,\"o\":{\"inner\":{\"a\":1},\"b\":2},\"empty\":{},\"last\":3}\n";
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(j.buf, expect, len);
}

static void fixed_point(void **state)
{
    (void)state;
    static const struct { double v; int d; const char *s; } cases[] = {
        { 0.0, 2, "0.00" }, { 1.005, 2, "1.00" }, { 1.006, 2, "1.01" }, { -0.1, 1, "-0.1" },
        { -0.001, 2, "0.00" }, { 0.9996, 3, "1.000" }, { 99.9999, 2, "100.00" }, { 12.5, 0, "13" },
        { -38300.25, 2, "-38300.25" }, { 123456789.123, 3, "123456789.123" },
        { 9e15, 0, "9000000000000000" }, { 9.1e15, 2, "null" }, { -1e300, 2, "null" },
        { 0.0 / 0.0, 2, "null" }, { 1.0 / 0.0, 2, "null" }, { 0.5, 9, "0.500000" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gcs_json j;
        gcs_json_begin(&j);
        gcs_json_fixed(&j, "v", cases[i].v, cases[i].d);
        size_t len = gcs_json_end(&j);
        char expect[64];
        snprintf(expect, sizeof expect, "{\"v\":%s}\n", cases[i].s);
        if (len != strlen(expect) || memcmp(j.buf, expect, len) != 0)
            fail_msg("case %zu: got %.*s want %s", i, (int)len, j.buf, expect);
    }
}

/* The text form that reasons use: the same digits, and nothing where JSON has null. */
static void fixed_point_text(void **state)
{
    (void)state;
    char text[GCS_FIXED_MAX];
    assert_int_equal(gcs_format_fixed(-38300.25, 1, text), 8);
    assert_string_equal(text, "-38300.3");
    assert_int_equal(gcs_format_fixed(-8999999999999999.0, 6, text), GCS_FIXED_MAX - 1);   /* the longest */
    assert_string_equal(text, "-8999999999999999.000000");
    assert_int_equal(gcs_format_fixed(0.0 / 0.0, 1, text), 0);
    assert_string_equal(text, "");
}

static void strings_are_escaped_and_valid_utf8(void **state)
{
    (void)state;
    struct gcs_json j;
    gcs_json_begin(&j);
    gcs_json_str(&j, "q", "a\"b\\c\n\t\x01 é €");
    gcs_json_str(&j, "bad", "x\xff\xc3(y\xed\xa0\x80z");   /* invalid byte, bad continuation, surrogate */
    gcs_json_str(&j, "null", NULL);
    json_t *v = parse(&j);
    assert_string_equal(json_string_value(json_object_get(v, "q")), "a\"b\\c\n\t\x01 é €");
    assert_string_equal(json_string_value(json_object_get(v, "bad")),
                        "x\xEF\xBF\xBD\xEF\xBF\xBD(y\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
    assert_true(json_is_null(json_object_get(v, "null")));
    json_decref(v);
}

static void overflow_never_emits_half_a_line(void **state)
{
    (void)state;
    static struct gcs_json j;
    char chunk[1001];
    memset(chunk, 'a', 1000);
    chunk[1000] = '\0';
    gcs_json_begin(&j);
    for (int i = 0; i < 3; i++)
        gcs_json_str(&j, "k", chunk);
    size_t ok_len = gcs_json_end(&j);
    assert_true(ok_len > 3000 && ok_len <= GCS_LINE_MAX);
    gcs_json_begin(&j);
    for (int i = 0; i < 5; i++)
        gcs_json_str(&j, "k", chunk);
    assert_int_equal(gcs_json_end(&j), 0);
    assert_true(j.len <= GCS_LINE_MAX);
    assert_true(GCS_LINE_MAX < 4096);
}

static void exactly_full_line_fits(void **state)
{
    (void)state;
    static struct gcs_json j;
    static char s[GCS_LINE_MAX];
    /* {"k":"<n>"}\n is n + 9 bytes */
    size_t n = GCS_LINE_MAX - 9;
    memset(s, 'b', n);
    s[n] = '\0';
    gcs_json_begin(&j);
    gcs_json_str(&j, "k", s);
    assert_int_equal(gcs_json_end(&j), GCS_LINE_MAX);
    s[n] = 'b';
    s[n + 1] = '\0';
    gcs_json_begin(&j);
    gcs_json_str(&j, "k", s);
    assert_int_equal(gcs_json_end(&j), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iso_times),
        cmocka_unit_test(numbers_and_nesting),
        cmocka_unit_test(fixed_point),
        cmocka_unit_test(fixed_point_text),
        cmocka_unit_test(strings_are_escaped_and_valid_utf8),
        cmocka_unit_test(overflow_never_emits_half_a_line),
        cmocka_unit_test(exactly_full_line_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
