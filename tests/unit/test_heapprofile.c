/* The .heapprofile copy of a profile (src/heapprofile.c): the tree copied
 * in pre-order within its bounds, and written as the JSON DevTools loads. */
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "heapprofile.h"
#include "js_frame.h"

static struct gcs_heapprofile p;


struct buffer {
    char *bytes;
    size_t len, cap;
    size_t fail_after;    /* calls before the sink fails; 0: never */
    size_t calls;
};

static bool to_buffer(void *ctx, const char *bytes, size_t len)
{
    struct buffer *b = ctx;
    if (b->fail_after != 0 && ++b->calls > b->fail_after)
        return false;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->bytes = realloc(b->bytes, b->cap);
        assert_non_null(b->bytes);
    }
    memcpy(b->bytes + b->len, bytes, len);
    b->len += len;
    return true;
}

static json_t *written(const struct gcs_heapprofile *hp)
{
    struct buffer b = {0};
    assert_true(gcs_heapprofile_write(hp, to_buffer, &b));
    assert_true(b.len > 0 && b.bytes[b.len - 1] == '\n');
    json_error_t err;
    json_t *v = json_loadb(b.bytes, b.len, 0, &err);
    if (v == NULL)
        fail_msg("not JSON: %.*s (%s)", (int)b.len, b.bytes, err.text);
    free(b.bytes);
    return v;
}

/* A node of DevTools' shape, and nothing else. */
static void assert_node_shape(json_t *n)
{
    assert_true(json_is_object(n));
    assert_int_equal(json_object_size(n), 4);
    json_t *cf = json_object_get(n, "callFrame");
    assert_int_equal(json_object_size(cf), 5);
    assert_true(json_is_string(json_object_get(cf, "functionName")));
    assert_true(json_is_string(json_object_get(cf, "scriptId")));
    assert_true(json_is_string(json_object_get(cf, "url")));
    assert_true(json_is_integer(json_object_get(cf, "lineNumber")));
    assert_true(json_is_integer(json_object_get(cf, "columnNumber")));
    assert_true(json_is_integer(json_object_get(n, "selfSize")));
    assert_true(json_is_integer(json_object_get(n, "id")));
    json_t *children = json_object_get(n, "children");
    assert_true(json_is_array(children));
    for (size_t i = 0; i < json_array_size(children); i++)
        assert_node_shape(json_array_get(children, i));
}

static json_t *child(json_t *n, size_t i) { return json_array_get(json_object_get(n, "children"), i); }
static const char *function_of(json_t *n)
{
    return json_string_value(json_object_get(json_object_get(n, "callFrame"), "functionName"));
}

static uint64_t self_sum(json_t *n)
{
    uint64_t sum = (uint64_t)json_integer_value(json_object_get(n, "selfSize"));
    for (size_t i = 0; i < json_array_size(json_object_get(n, "children")); i++)
        sum += self_sum(child(n, i));
    return sum;
}

static const char app[] = "/srv/app/orders.js";

/* root -> processTimers -> listOnTimeout -> { (anonymous) -> retainOrder, churn }, and root -> (GC) */
static void build_tree(void)
{
    struct gcs_js_frame root = frame("(root)", "", 0, 0), timers = frame("processTimers", "node:internal/timers", 504, 25),
                        list = frame("listOnTimeout", "node:internal/timers", 524, 25), cb = frame("", app, 43, 27),
                        retain = frame("retainOrder", app, 21, 21), churn = frame("churn", app, 30, 3),
                        gc = frame("(GC)", "", 0, 0);
    gcs_heapprofile_reset(&p);
    assert_true(gcs_heapprofile_add(&p, 0, &root, 0, 1, 0));
    assert_true(gcs_heapprofile_add(&p, 1, &timers, 13, 2, 0));
    assert_true(gcs_heapprofile_add(&p, 2, &list, 13, 3, 100));
    assert_true(gcs_heapprofile_add(&p, 3, &cb, 81, 4, 0));
    assert_true(gcs_heapprofile_add(&p, 4, &retain, 81, 17, 5000));
    assert_true(gcs_heapprofile_add(&p, 3, &churn, 81, 5, 7));
    assert_true(gcs_heapprofile_add(&p, 1, &gc, 0, 6, 30));
    assert_true(gcs_heapprofile_add_sample(&p, 17, 4000, 9));
    assert_true(gcs_heapprofile_add_sample(&p, 17, 1000, 2));
    assert_true(gcs_heapprofile_add_sample(&p, 3, 100, 5));
    /* a node made while V8 built the profile, after its tree was read */
    assert_false(gcs_heapprofile_add_sample(&p, 2234, 512, 6));
    assert_false(p.cut);
}

static void tree_in_devtools_shape(void **state)
{
    (void)state;
    build_tree();
    assert_false(p.cut);
    assert_int_equal(p.total_bytes, 5137);
    json_t *v = written(&p);
    assert_int_equal(json_object_size(v), 2);
    json_t *samples = json_object_get(v, "samples");
    assert_int_equal(json_array_size(samples), 3);
    json_t *s = json_array_get(samples, 1);
    assert_int_equal(json_object_size(s), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "size")), 1000);
    assert_int_equal(json_integer_value(json_object_get(s, "nodeId")), 17);
    assert_int_equal(json_integer_value(json_object_get(s, "ordinal")), 2);
    json_t *head = json_object_get(v, "head");
    assert_node_shape(head);
    assert_string_equal(function_of(head), "(root)");
    json_t *root_frame = json_object_get(head, "callFrame");
    /* 0-based in DevTools: V8's "no line" (0) is -1, its line 1 is 0. */
    assert_int_equal(json_integer_value(json_object_get(root_frame, "lineNumber")), -1);
    assert_int_equal(json_integer_value(json_object_get(root_frame, "columnNumber")), -1);
    assert_string_equal(json_string_value(json_object_get(root_frame, "scriptId")), "0");
    assert_int_equal(json_array_size(json_object_get(head, "children")), 2);
    json_t *list = child(child(head, 0), 0);
    assert_string_equal(function_of(list), "listOnTimeout");
    assert_int_equal(json_integer_value(json_object_get(list, "selfSize")), 100);
    assert_int_equal(json_array_size(json_object_get(list, "children")), 2);
    json_t *retain = child(child(list, 0), 0);
    assert_string_equal(function_of(retain), "retainOrder");
    json_t *cf = json_object_get(retain, "callFrame");
    assert_string_equal(json_string_value(json_object_get(cf, "url")), app);
    assert_string_equal(json_string_value(json_object_get(cf, "scriptId")), "81");
    assert_int_equal(json_integer_value(json_object_get(cf, "lineNumber")), 20);
    assert_int_equal(json_integer_value(json_object_get(cf, "columnNumber")), 20);
    assert_int_equal(json_integer_value(json_object_get(retain, "id")), 17);
    assert_int_equal(json_integer_value(json_object_get(retain, "selfSize")), 5000);
    assert_string_equal(function_of(child(list, 1)), "churn");
    assert_string_equal(function_of(child(head, 1)), "(GC)");
    assert_int_equal(self_sum(head), p.total_bytes);
    json_decref(v);
    /* Each distinct string is kept once. */
    assert_int_equal(p.strings_len, sizeof "(root)" + sizeof "" + sizeof "processTimers" + sizeof "node:internal/timers" +
                                        sizeof "listOnTimeout" + sizeof app + sizeof "retainOrder" + sizeof "churn" +
                                        sizeof "(GC)");
}

static void empty_profile_is_a_lone_root(void **state)
{
    (void)state;
    gcs_heapprofile_reset(&p);
    json_t *v = written(&p);
    json_t *head = json_object_get(v, "head");
    assert_node_shape(head);
    assert_string_equal(function_of(head), "(root)");
    assert_int_equal(json_array_size(json_object_get(head, "children")), 0);
    json_decref(v);
}

/* More nodes than the copy holds: the rest is left out, counted as cut,
 * and what was kept is still a whole tree. */
static void bounded_in_nodes(void **state)
{
    (void)state;
    gcs_heapprofile_reset(&p);
    struct gcs_js_frame f = frame("(root)", "", 0, 0);
    assert_true(gcs_heapprofile_add(&p, 0, &f, 0, 1, 0));
    size_t kept = 1;
    for (uint32_t i = 0; i < GCS_HEAPPROFILE_MAX_NODES + 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%u", i);
        f = frame(name, app, (int)i + 1, 1);
        /* a chain of three under the root, again and again */
        kept += gcs_heapprofile_add(&p, 1 + (int)(i % 3), &f, 81, i + 2, 1);
    }
    assert_int_equal(kept, GCS_HEAPPROFILE_MAX_NODES);
    assert_int_equal(p.n, GCS_HEAPPROFILE_MAX_NODES);
    assert_true(p.cut);
    /* Samples of nodes kept are written; of nodes left out, not. */
    assert_true(gcs_heapprofile_add_sample(&p, 2, 1, 1));
    assert_true(gcs_heapprofile_add_sample(&p, GCS_HEAPPROFILE_MAX_NODES, 1, 2));
    assert_false(gcs_heapprofile_add_sample(&p, GCS_HEAPPROFILE_MAX_NODES + 1, 1, 3));
    json_t *v = written(&p);
    json_t *samples = json_object_get(v, "samples");
    assert_int_equal(json_array_size(samples), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(samples, 1), "nodeId")), GCS_HEAPPROFILE_MAX_NODES);
    json_t *head = json_object_get(v, "head");
    assert_node_shape(head);
    assert_int_equal(self_sum(head), p.total_bytes);
    assert_int_equal(p.total_bytes, GCS_HEAPPROFILE_MAX_NODES - 1);
    json_decref(v);
}

/* Names that fill the string space: a node whose strings do not fit is left
 * out with its descendants (never attached to another parent); a later
 * sibling whose strings are kept already still fits. */
static void bounded_in_bytes(void **state)
{
    (void)state;
    gcs_heapprofile_reset(&p);
    struct gcs_js_frame f = frame("(root)", "", 0, 0);
    assert_true(gcs_heapprofile_add(&p, 0, &f, 0, 1, 0));
    struct gcs_js_frame big = frame("", "", 1, 1);
    memset(big.function, 'a', sizeof big.function - 1);
    memset(big.url, '/', sizeof big.url - 1);
    uint32_t id = 2, i = 0;
    for (;; i++) {
        snprintf(big.function, sizeof big.function, "%u", i);
        big.function[strlen(big.function)] = 'a';   /* back to full length */
        snprintf(big.url, sizeof big.url, "/%u", i);
        big.url[strlen(big.url)] = '/';
        if (!gcs_heapprofile_add(&p, 1, &big, 81, id++, 10))
            break;
    }
    assert_true(p.cut);
    assert_true(p.strings_len > GCS_HEAPPROFILE_STRING_BYTES - 2 * sizeof big.url);
    size_t n = p.n;
    /* its child: left out with it */
    struct gcs_js_frame known = frame("(root)", "", 0, 0);
    assert_false(gcs_heapprofile_add(&p, 2, &known, 0, id++, 10));
    /* a sibling named with strings kept already: in */
    assert_true(gcs_heapprofile_add(&p, 1, &known, 0, id++, 10));
    assert_int_equal(p.n, n + 1);
    json_t *v = written(&p);
    json_t *head = json_object_get(v, "head");
    assert_node_shape(head);
    assert_int_equal(json_array_size(json_object_get(head, "children")), p.n - 1);
    assert_int_equal(self_sum(head), p.total_bytes);
    json_decref(v);
}

/* More samples than the copy holds: the first ones are written, and the
 * copy says it was cut. */
static void bounded_in_samples(void **state)
{
    (void)state;
    build_tree();
    size_t kept = p.nsamples;
    for (uint32_t i = 0; i < GCS_HEAPPROFILE_MAX_SAMPLES + 10; i++)
        kept += gcs_heapprofile_add_sample(&p, 17, 64, i + 100);
    assert_int_equal(kept, GCS_HEAPPROFILE_MAX_SAMPLES);
    assert_true(p.cut);
    json_t *v = written(&p);
    assert_int_equal(json_array_size(json_object_get(v, "samples")), GCS_HEAPPROFILE_MAX_SAMPLES);
    json_decref(v);
}

/* A pre-order that skips a level cannot be attached: left out. */
static void wrong_depth_is_left_out(void **state)
{
    (void)state;
    gcs_heapprofile_reset(&p);
    struct gcs_js_frame f = frame("x", app, 1, 1);
    assert_false(gcs_heapprofile_add(&p, 1, &f, 0, 1, 0));   /* no root yet */
    assert_true(gcs_heapprofile_add(&p, 0, &f, 0, 1, 0));
    assert_true(gcs_heapprofile_add(&p, 1, &f, 0, 2, 0));
    assert_false(gcs_heapprofile_add(&p, 3, &f, 0, 3, 0));   /* a grandchild with no parent */
    assert_true(gcs_heapprofile_add(&p, 2, &f, 0, 4, 0));
    assert_false(gcs_heapprofile_add(&p, 0, &f, 0, 5, 0));   /* a second root */
    assert_false(gcs_heapprofile_add(&p, 1, &f, 0, 6, 0));   /* and its child */
    assert_true(p.cut);
    assert_int_equal(p.n, 3);
}

/* Any bytes in a name or URL come out as valid JSON (U+FFFD for bytes that
 * are not UTF-8). */
static void hostile_strings_escaped(void **state)
{
    (void)state;
    gcs_heapprofile_reset(&p);
    struct gcs_js_frame root = frame("(root)", "", 0, 0), f = frame("", "", 7, 3);
    memset(f.function, '"', sizeof f.function - 1);
    memset(f.url, 0xff, sizeof f.url - 1);
    f.url[3] = '\n';
    f.url[4] = '\\';
    assert_true(gcs_heapprofile_add(&p, 0, &root, 0, 1, 0));
    assert_true(gcs_heapprofile_add(&p, 1, &f, 9, 2, 64));
    json_t *v = written(&p);
    json_t *n = child(json_object_get(v, "head"), 0);
    assert_int_equal(strlen(function_of(n)), sizeof f.function - 1);
    const char *url = json_string_value(json_object_get(json_object_get(n, "callFrame"), "url"));
    assert_non_null(strstr(url, "\xef\xbf\xbd"));
    assert_non_null(strchr(url, '\n'));
    json_decref(v);
}

/* A write that fails midway (a full disk) says so. */
static void sink_failure_reported(void **state)
{
    (void)state;
    build_tree();
    struct buffer whole = {0};
    assert_true(gcs_heapprofile_write(&p, to_buffer, &whole));
    free(whole.bytes);
    size_t calls = 0;
    struct buffer count = {.fail_after = SIZE_MAX};
    assert_true(gcs_heapprofile_write(&p, to_buffer, &count));
    calls = count.calls;
    free(count.bytes);
    assert_true(calls > 10);
    for (size_t after = 1; after < calls; after++) {
        struct buffer b = {.fail_after = after};
        assert_false(gcs_heapprofile_write(&p, to_buffer, &b));
        free(b.bytes);
    }
}

static void file_name(void **state)
{
    (void)state;
    char name[GCS_HEAPPROFILE_NAME_MAX];
    gcs_heapprofile_name(name, 1700000000123, 4242, 3);   /* 2023-11-14T22:13:20.123Z */
    assert_string_equal(name, "gcstats.20231114.221320.123.4242.3.heapprofile");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_in_devtools_shape),
        cmocka_unit_test(empty_profile_is_a_lone_root),
        cmocka_unit_test(bounded_in_nodes),
        cmocka_unit_test(bounded_in_bytes),
        cmocka_unit_test(bounded_in_samples),
        cmocka_unit_test(wrong_depth_is_left_out),
        cmocka_unit_test(hostile_strings_escaped),
        cmocka_unit_test(sink_failure_reported),
        cmocka_unit_test(file_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
