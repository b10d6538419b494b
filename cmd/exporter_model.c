/* gcstats exporter's model: lines in, the latest state of each live
 * process and isolate out. Pure. */
#include "exporter_model.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gcs_exp_memory_names[GCS_EXP_MEMORIES] = { "heap", "external", "mapped" };
const char *const gcs_exp_state_names[GCS_EXP_STATES] = { "unknown", "ok", "growing", "leak" };

void gcs_exp_model_init(struct gcs_exp_model *m)
{
    memset(m, 0, sizeof *m);
    m->max_processes = GCS_EXP_MAX_PROCESSES;
    m->max_isolates = GCS_EXP_MAX_ISOLATES;
}

static void free_process(struct gcs_exp_process *p)
{
    for (size_t i = 0; i < p->n_isolates; i++)
        free(p->isolates[i]);
    free(p->isolates);
    free(p);
}

void gcs_exp_model_free(struct gcs_exp_model *m)
{
    for (size_t i = 0; i < m->n_processes; i++)
        free_process(m->processes[i]);
    free(m->processes);
    memset(m, 0, sizeof *m);
}

/* A string of a line, cut to fit; "" for none. */
#define copy(dst, size, src) snprintf(dst, size, "%s", (src) ? (src) : "")

struct gcs_exp_process *gcs_exp_model_process(const struct gcs_exp_model *m, int64_t pid)
{
    for (size_t i = 0; i < m->n_processes; i++)
        if (m->processes[i]->pid == pid)
            return m->processes[i];
    return NULL;
}

struct gcs_exp_isolate *gcs_exp_process_isolate(const struct gcs_exp_process *p, uint32_t isolate)
{
    for (size_t i = 0; i < p->n_isolates; i++)
        if (p->isolates[i]->isolate == isolate)
            return p->isolates[i];
    return NULL;
}

bool gcs_exp_room_for_one(void *array, size_t *cap, size_t used)
{
    if (used < *cap)
        return true;
    void *items;
    memcpy(&items, array, sizeof items);
    size_t grown_cap = *cap ? *cap * 2 : 4;
    void *grown = realloc(items, grown_cap * sizeof(void *));
    if (grown == NULL)
        return false;
    memcpy(array, &grown, sizeof grown);
    *cap = grown_cap;
    return true;
}

static struct gcs_exp_process *add_process(struct gcs_exp_model *m, int64_t pid)
{
    if (m->n_processes >= m->max_processes || !gcs_exp_room_for_one(&m->processes, &m->cap_processes, m->n_processes))
        return NULL;
    struct gcs_exp_process *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->pid = pid;
    m->processes[m->n_processes++] = p;
    return p;
}

static struct gcs_exp_isolate *add_isolate(struct gcs_exp_model *m, struct gcs_exp_process *p, uint32_t isolate)
{
    if (m->n_isolates >= m->max_isolates || !gcs_exp_room_for_one(&p->isolates, &p->cap_isolates, p->n_isolates))
        return NULL;
    struct gcs_exp_isolate *iso = calloc(1, sizeof *iso);
    if (iso == NULL)
        return NULL;
    iso->isolate = isolate;
    p->isolates[p->n_isolates++] = iso;
    m->n_isolates++;
    return iso;
}

static void remove_isolate_at(struct gcs_exp_model *m, struct gcs_exp_process *p, size_t i)
{
    free(p->isolates[i]);
    memmove(&p->isolates[i], &p->isolates[i + 1], (p->n_isolates - i - 1) * sizeof p->isolates[0]);
    p->n_isolates--;
    m->n_isolates--;
}

static void remove_process_at(struct gcs_exp_model *m, size_t i)
{
    m->n_isolates -= m->processes[i]->n_isolates;
    free_process(m->processes[i]);
    memmove(&m->processes[i], &m->processes[i + 1], (m->n_processes - i - 1) * sizeof m->processes[0]);
    m->n_processes--;
}

/* ---- reading a line's fields ---- */

static struct gcs_exp_value number(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    struct gcs_exp_value out = { false, 0 };
    if (json_is_number(v)) {
        out.have = true;
        out.v = json_number_value(v);
    }
    return out;
}

/* A counter keeps its last value when a line leaves it out. */
static void counter(json_t *obj, const char *key, double *into)
{
    struct gcs_exp_value v = number(obj, key);
    if (v.have)
        *into = v.v;
}

static int state_index(const char *state)
{
    for (int i = 0; state != NULL && i < GCS_EXP_STATES; i++)
        if (strcmp(state, gcs_exp_state_names[i]) == 0)
            return i;
    return 0;
}

static int memory_index(const char *memory)
{
    for (int i = 0; memory != NULL && i < GCS_EXP_MEMORIES; i++)
        if (strcmp(memory, gcs_exp_memory_names[i]) == 0)
            return i;
    return -1;
}

/* The entry named name of an array of *n structs `stride` bytes apart,
 * each beginning with its name (name_size bytes); added at the end when
 * new and there is room (max), else -1. */
static int named_entry(void *first, size_t stride, size_t name_size, uint32_t *n, uint32_t max, const char *name)
{
    uint32_t k = 0;
    while (k < *n && strcmp((char *)first + k * stride, name) != 0)
        k++;
    if (k == *n) {
        if (k == max)
            return -1;
        copy((char *)first + k * stride, name_size, name);
        (*n)++;
    }
    return (int)k;
}

_Static_assert(offsetof(struct gcs_exp_kind, name) == 0 && offsetof(struct gcs_exp_owner, name) == 0,
               "named_entry finds kinds and owners by their first member");

static void take_kinds(struct gcs_exp_isolate *iso, json_t *gc)
{
    const char *name;
    json_t *kind;
    json_object_foreach(gc, name, kind) {
        int k = named_entry(iso->kinds, sizeof iso->kinds[0], sizeof iso->kinds[0].name, &iso->n_kinds,
                            GCS_EXP_KINDS, name);
        if (k < 0)
            continue;
        counter(kind, "count", &iso->kinds[k].count);
        struct gcs_exp_value pause = number(kind, "pause_ms");
        if (pause.have)
            iso->kinds[k].pause_s = pause.v / 1000.0;
    }
}

static void take_mapped(struct gcs_exp_process *p, json_t *mapped)
{
    json_t *owners = json_object_get(mapped, "owners");
    if (!json_is_object(owners))
        return;
    p->have_mapped = true;
    const char *name;
    json_t *owner;
    json_object_foreach(owners, name, owner) {
        int k = named_entry(p->owners, sizeof p->owners[0], sizeof p->owners[0].name, &p->n_owners, GCS_EXP_OWNERS,
                            name);
        if (k >= 0)
            counter(owner, "committed", &p->owners[k].committed);
    }
}

/* The fields stats, tick, end and exit lines share. */
static void take_counters(struct gcs_exp_process *p, struct gcs_exp_isolate *iso, json_t *line)
{
    iso->have_counters = true;
    counter(line, "num_full_gc", &iso->full_gcs);
    counter(line, "num_inc_gc", &iso->other_gcs);
    json_t *gc = json_object_get(line, "gc");
    if (json_is_object(gc))
        take_kinds(iso, gc);
    json_t *heap = json_object_get(line, "heap");
    if (json_is_object(heap)) {
        iso->heap_used = number(heap, "used");
        iso->heap_total = number(heap, "total");
        iso->heap_limit = number(heap, "limit");
        iso->external = number(heap, "external");
    }
    iso->current_base = number(line, "current_base");
    iso->estimated_base = number(line, "estimated_base");
    iso->usage_trend_pct = number(line, "usage_trend");
    json_t *trend = json_object_get(line, "trend");
    for (int s = 0; s < GCS_EXP_MEMORIES; s++) {
        json_t *series = json_object_get(trend, gcs_exp_memory_names[s]);
        if (!json_is_object(series))
            continue;
        iso->series[s].state = state_index(json_string_value(json_object_get(series, "state")));
        iso->series[s].rate = number(series, "rate_bytes_per_s");
    }
    struct gcs_exp_value rss = number(line, "rss"), peak = number(line, "rss_peak");
    if (rss.have)
        p->rss = rss;
    if (peak.have)
        p->rss_peak = peak;
    json_t *mapped = json_object_get(line, "mapped");
    if (json_is_object(mapped))
        take_mapped(p, mapped);
}

static void take_leak(struct gcs_exp_isolate *iso, json_t *line, bool ended)
{
    int s = memory_index(json_string_value(json_object_get(line, "memory")));
    if (s < 0)
        return;
    struct gcs_exp_series *series = &iso->series[s];
    series->leaking = !ended;
    if (ended)
        return;
    series->leak_rate = number(line, "rate_bytes_per_s");
    series->leak_rate_low = number(line, "rate_low_bytes_per_s");
    series->seconds_to_limit = number(line, "seconds_to_limit");
}

/* Process-wide lines (exit, error) carry isolate 1 but are not about it:
 * they make no isolate of their own. */
static bool isolate_line(const char *event)
{
    return strcmp(event, "exit") != 0 && strcmp(event, "error") != 0;
}

enum gcs_exp_take_result gcs_exp_model_take(struct gcs_exp_model *m, const char *text, size_t len, double now)
{
    m->lines++;
    json_t *line = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *event = json_string_value(json_object_get(line, "event"));
    json_t *pid_json = json_object_get(line, "pid"), *isolate_json = json_object_get(line, "isolate");
    if (event == NULL || !json_is_integer(pid_json) || !json_is_integer(isolate_json) ||
        json_integer_value(isolate_json) < 1 || json_integer_value(isolate_json) > UINT32_MAX) {
        json_decref(line);
        m->bad_lines++;
        return GCS_EXP_BAD;
    }
    int64_t pid = json_integer_value(pid_json);
    uint32_t isolate_no = (uint32_t)json_integer_value(isolate_json);
    enum gcs_exp_take_result result = GCS_EXP_TAKEN;
    struct gcs_exp_process *p = gcs_exp_model_process(m, pid);
    if (p == NULL && (p = add_process(m, pid)) == NULL)
        goto untracked;
    p->seen = now;
    counter(line, "dropped", &p->dropped);
    if (strcmp(event, "exit") == 0) {
        for (size_t i = 0; i < m->n_processes; i++) {
            if (m->processes[i] == p) {
                remove_process_at(m, i);
                break;
            }
        }
        goto done;
    }
    if (strcmp(event, "error") == 0)
        p->errors++;
    if (strcmp(event, "start") == 0 && isolate_no == 1) {
        copy(p->node, sizeof p->node, json_string_value(json_object_get(line, "node")));
        copy(p->v8, sizeof p->v8, json_string_value(json_object_get(line, "v8")));
        copy(p->gcstats, sizeof p->gcstats, json_string_value(json_object_get(line, "gcstats")));
    }
    if (!isolate_line(event))
        goto done;
    struct gcs_exp_isolate *iso = gcs_exp_process_isolate(p, isolate_no);
    if (strcmp(event, "end") == 0) {
        /* its final counters would go with it: nothing to keep */
        for (size_t i = 0; iso != NULL && i < p->n_isolates; i++) {
            if (p->isolates[i] == iso) {
                remove_isolate_at(m, p, i);
                break;
            }
        }
        goto done;
    }
    if (iso == NULL && (iso = add_isolate(m, p, isolate_no)) == NULL)
        goto untracked;
    iso->seen = now;
    if (strcmp(event, "stats") == 0 || strcmp(event, "tick") == 0)
        take_counters(p, iso, line);
    else if (strcmp(event, "leak") == 0)
        take_leak(iso, line, false);
    else if (strcmp(event, "leak_end") == 0)
        take_leak(iso, line, true);
    else if (strcmp(event, "sites") == 0 && json_is_object(json_object_get(line, "mapped")))
        take_mapped(p, json_object_get(line, "mapped"));
    goto done;
untracked:
    m->untracked_lines++;
    result = GCS_EXP_UNTRACKED;
done:
    json_decref(line);
    return result;
}

size_t gcs_exp_model_prune(struct gcs_exp_model *m, double now, double stale_s)
{
    size_t gone = 0;
    for (size_t i = m->n_processes; i-- > 0;) {
        struct gcs_exp_process *p = m->processes[i];
        if (now - p->seen > stale_s) {
            gone += 1 + p->n_isolates;
            remove_process_at(m, i);
            continue;
        }
        for (size_t k = p->n_isolates; k-- > 0;) {
            if (now - p->isolates[k]->seen > stale_s) {
                remove_isolate_at(m, p, k);
                gone++;
            }
        }
    }
    return gone;
}
