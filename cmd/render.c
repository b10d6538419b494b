#include "render.h"

#include "units.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RED_BOLD "\033[1;31m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

/* The longest a generic field's value is shown. */
#define GENERIC_VALUE_MAX 120

struct text {
    char *buf;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->len += (size_t)n;
    if (t->len >= t->cap)
        t->len = t->cap - 1;
}

static void put_bytes(struct text *t, const char *label, json_t *value)
{
    if (json_is_number(value)) {
        char b[32];
        gcs_format_bytes(b, sizeof b, json_number_value(value));
        put(t, " %s %s", label, b);
    } else {
        put(t, " %s -", label);
    }
}

static bool in_list(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

/* One field the renderer does not know, as NAME=VALUE (compact JSON). */
static void put_generic(struct text *t, const char *key, json_t *value)
{
    char *dumped = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dumped == NULL)
        return;
    if (strlen(dumped) > GENERIC_VALUE_MAX)
        put(t, " +%s=%.*s...", key, GENERIC_VALUE_MAX, dumped);
    else
        put(t, " +%s=%s", key, dumped);
    free(dumped);
}

static const char *const common_fields[] = { "event", "ts", "pid", "isolate", "dropped", NULL };
static const char *const start_fields[] = { "gcstats", "node", "v8", "thread", "v8_isolate", "settings",
                                            "probing", NULL };
static const char *const sample_fields[] = {
    "num_full_gc", "num_inc_gc", "heap_compactions", "gc", "usage_trend", "estimated_base",
    "current_base", "min", "max", "recent_samples", "long_samples", "heap", "pause_ms", "forced",
    "probe", "probe_cpu_ns", "verdict", "trend", "rss", "rss_peak", "mapped", "self", NULL };
static const char *const leak_fields[] = {
    "memory", "owner", "growth_bytes", "rate_bytes_per_s", "rate_low_bytes_per_s",
    "recent_rate_bytes_per_s", "confidence", "window", "level_bytes", "limit_bytes",
    "seconds_to_limit", "since", "report", "reason", NULL };
static const char *const leak_end_fields[] = {
    "memory", "state", "recent_rate_bytes_per_s", "leak_rate_bytes_per_s", "window", "reason", NULL };
static const char *const error_fields[] = { "reason", NULL };
static const char *const sites_fields[] = { "mapped", "sites", NULL };
static const char *const culprits_fields[] = {
    "memory", "report", "sampling_since", "interval_bytes", "sampled_bytes", "samples",
    "samples_at_leak", "held_bytes", "held_after_s", "nodes", "cut", "read_ms", "previous", "sites", "shown",
    "profile", "profile_cut", NULL };

static void put_unknown_fields(struct text *t, json_t *line, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach(line, key, value) {
        if (!in_list(key, common_fields) && (known == NULL || !in_list(key, known)))
            put_generic(t, key, value);
    }
}

/* Committed bytes mapped outside V8's heap and code: what the verdict's
 * "mapped" series judges. */
static bool mapped_outside_v8(json_t *mapped, double *out)
{
    json_t *owners = json_object_get(mapped, "owners");
    if (!json_is_object(owners))
        return false;
    const char *name;
    json_t *owner;
    double sum = 0;
    json_object_foreach(owners, name, owner) {
        if (strcmp(name, "v8_heap") == 0 || strcmp(name, "v8_code") == 0)
            continue;
        json_t *committed = json_object_get(owner, "committed");
        if (json_is_number(committed))
            sum += json_number_value(committed);
    }
    *out = sum;
    return true;
}

static void put_sample(struct text *t, json_t *line, const char *event, bool colour)
{
    put_bytes(t, "heap", json_object_get(line, "current_base"));
    json_t *trend = json_object_get(line, "usage_trend");
    if (json_is_number(trend))
        put(t, " trend %+.2f%%", json_number_value(trend));
    else
        put(t, " trend -");
    put_bytes(t, "ext", json_object_get(json_object_get(line, "heap"), "external"));
    double mapped;
    if (mapped_outside_v8(json_object_get(line, "mapped"), &mapped)) {
        char b[32];
        gcs_format_bytes(b, sizeof b, mapped);
        put(t, " mapped %s", b);
    } else {
        put(t, " mapped -");
    }
    put_bytes(t, "rss", json_object_get(line, "rss"));
    json_t *verdict = json_object_get(line, "verdict");
    const char *state = json_string_value(json_object_get(verdict, "state"));
    if (state != NULL) {
        bool alarm = strcmp(state, "leak") == 0 || strcmp(state, "growing") == 0;
        const char *on = !colour || !alarm ? "" : strcmp(state, "leak") == 0 ? RED_BOLD : YELLOW;
        put(t, " verdict %s%s", on, state);
        const char *memory = json_string_value(json_object_get(verdict, "memory"));
        json_t *rate = json_object_get(verdict, "rate_bytes_per_s");
        if (memory != NULL && json_is_number(rate)) {
            char b[32];
            gcs_format_bytes(b, sizeof b, json_number_value(rate));
            put(t, " (%s, %s/s)", memory, b);
        } else if (memory != NULL) {
            put(t, " (%s)", memory);
        }
        if (*on)
            put(t, RESET);
    } else {
        put(t, " verdict -");
    }
    if (strcmp(event, "stats") == 0) {
        json_t *pause = json_object_get(line, "pause_ms");
        if (json_is_number(pause))
            put(t, " pause %.1f ms", json_number_value(pause));
        if (json_is_true(json_object_get(line, "forced")))
            put(t, " forced");
        if (json_is_true(json_object_get(line, "probe"))) {
            put(t, " probe");
            json_t *cost = json_object_get(line, "probe_cpu_ns");
            if (json_is_integer(cost))
                put(t, " %.1f ms CPU", (double)json_integer_value(cost) / 1e6);
        }
    }
    put_unknown_fields(t, line, sample_fields);
}

static void put_start(struct text *t, json_t *line)
{
    const char *node = json_string_value(json_object_get(line, "node"));
    const char *v8 = json_string_value(json_object_get(line, "v8"));
    const char *thread = json_string_value(json_object_get(line, "thread"));
    const char *dest = json_string_value(json_object_get(json_object_get(line, "settings"), "destination"));
    put(t, " node %s v8 %s %s -> %s", node ? node : "?", v8 ? v8 : "?", thread ? thread : "?", dest ? dest : "?");
    /* Said only when gcstats will not ask for full GCs in this isolate. */
    if (json_is_false(json_object_get(line, "probing")))
        put(t, " no probe");
    put_unknown_fields(t, line, start_fields);
}

/* Sites shown of a sites or culprits line. */
#define SITES_SHOWN 3

/* A number of bytes as text; 0 B when the field is not a number. */
static const char *bytes_of(char b[32], json_t *value)
{
    gcs_format_bytes(b, 32, json_is_number(value) ? json_number_value(value) : 0);
    return b;
}

static void put_sites(struct text *t, json_t *line)
{
    json_t *sites = json_object_get(line, "sites");
    size_t i;
    json_t *site;
    json_array_foreach(sites, i, site) {
        if (i == SITES_SHOWN)
            break;
        char b[32];
        bytes_of(b, json_object_get(site, "resident"));
        const char *owner = json_string_value(json_object_get(site, "owner"));
        const char *where = json_string_value(json_object_get(site, "function"));
        if (where == NULL)
            where = json_string_value(json_object_get(site, "object"));
        put(t, "%s %s %s: %s", i ? ";" : "", b, owner ? owner : "?", where ? where : "?");
    }
    put_unknown_fields(t, line, sites_fields);
}

/* The top three sites: share, live bytes (and of them held, in lines
 * that say), function at url:line, and the growth since the previous
 * culprits line when there was one. */
static void put_culprits(struct text *t, json_t *line)
{
    const char *memory = json_string_value(json_object_get(line, "memory"));
    put(t, " %s:", memory ? memory : "?");
    json_t *sites = json_object_get(line, "sites");
    size_t i;
    json_t *site;
    json_array_foreach(sites, i, site) {
        if (i == SITES_SHOWN)
            break;
        char b[32];
        bytes_of(b, json_object_get(site, "bytes"));
        json_t *share = json_object_get(site, "share");
        const char *function = json_string_value(json_object_get(site, "function"));
        const char *url = json_string_value(json_object_get(site, "url"));
        put(t, "%s %.0f%% %s", i ? ";" : "", json_is_number(share) ? 100 * json_number_value(share) : 0.0, b);
        json_t *held = json_object_get(site, "held_bytes");
        if (json_is_number(held))
            put(t, " (held %s)", bytes_of(b, held));
        put(t, " %s %s:%lld", function && *function ? function : "(anonymous)", url && *url ? url : "?",
            (long long)json_integer_value(json_object_get(site, "line")));
        json_t *growth = json_object_get(site, "growth_bytes");
        if (json_is_number(growth))
            put(t, " (%s%s)", json_number_value(growth) >= 0 ? "+" : "", bytes_of(b, growth));
    }
    if (json_array_size(sites) == 0)
        put(t, " no site");
    const char *profile = json_string_value(json_object_get(line, "profile"));
    if (profile != NULL)
        put(t, " profile %s%s", profile, json_is_true(json_object_get(line, "profile_cut")) ? " (cut)" : "");
    put_unknown_fields(t, line, culprits_fields);
}

static void put_reason(struct text *t, json_t *line, const char *const *known, const char *on)
{
    const char *reason = json_string_value(json_object_get(line, "reason"));
    put(t, " %s%s%s", on, reason ? reason : "(no reason given)", *on ? RESET : "");
    put_unknown_fields(t, line, known);
}

/* "2026-11-26T03:20:40.123Z" -> "03:20:40.123"; anything else as it is. */
static void put_time(struct text *t, const char *ts)
{
    if (ts != NULL && strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z')
        put(t, "%.12s", ts + 11);
    else
        put(t, "%s", ts ? ts : "?");
}

enum gcs_render_result gcs_render_line(const char *line, size_t len, bool colour, char *out, size_t cap)
{
    struct text t = { out, cap, 0 };
    json_error_t err;
    if (cap == 0)
        return GCS_RENDER_OK;
    out[0] = '\0';
    json_t *root = json_loadb(line, len, JSON_DECODE_ANY, &err);
    if (root == NULL)
        return GCS_RENDER_NOT_JSON;
    const char *event = json_string_value(json_object_get(root, "event"));
    if (!json_is_object(root) || event == NULL) {
        json_decref(root);
        return GCS_RENDER_NOT_GCSTATS;
    }
    const char *line_on = "";
    if (colour && strcmp(event, "leak") == 0)
        line_on = RED_BOLD;
    else if (colour && strcmp(event, "error") == 0)
        line_on = RED;
    else if (colour && strcmp(event, "leak_end") == 0)
        line_on = GREEN;

    put_time(&t, json_string_value(json_object_get(root, "ts")));
    json_t *pid = json_object_get(root, "pid");
    json_t *isolate = json_object_get(root, "isolate");
    put(&t, " pid %lld iso %lld %s%-8s%s", (long long)json_integer_value(pid),
        (long long)json_integer_value(isolate), line_on, event, *line_on ? RESET : "");

    if (strcmp(event, "stats") == 0 || strcmp(event, "tick") == 0 || strcmp(event, "end") == 0 ||
        strcmp(event, "exit") == 0)
        put_sample(&t, root, event, colour);
    else if (strcmp(event, "start") == 0)
        put_start(&t, root);
    else if (strcmp(event, "leak") == 0)
        put_reason(&t, root, leak_fields, line_on);
    else if (strcmp(event, "leak_end") == 0)
        put_reason(&t, root, leak_end_fields, line_on);
    else if (strcmp(event, "error") == 0)
        put_reason(&t, root, error_fields, line_on);
    else if (strcmp(event, "sites") == 0)
        put_sites(&t, root);
    else if (strcmp(event, "culprits") == 0)
        put_culprits(&t, root);
    else
        put_unknown_fields(&t, root, NULL);

    json_t *dropped = json_object_get(root, "dropped");
    if (json_integer_value(dropped) > 0)
        put(&t, " dropped %lld", (long long)json_integer_value(dropped));
    json_decref(root);
    return GCS_RENDER_OK;
}
