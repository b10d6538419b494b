#include "heapprofile.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

void gcs_heapprofile_reset(struct gcs_heapprofile *p)
{
    p->n = 0;
    p->strings_len = 0;
    memset(p->string_slot, 0, sizeof p->string_slot);
    memset(p->id_slot, 0, sizeof p->id_slot);
    p->nsamples = 0;
    p->cut = false;
    p->skip_deeper_than = -1;
    p->total_bytes = 0;
}

static uint32_t string_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The offset of s among the strings kept, adding it if it is new; false
 * when it is new and no room is left. */
static bool intern(struct gcs_heapprofile *p, const char *s, uint32_t *offset)
{
    size_t len = strlen(s);
    uint32_t mask = GCS_HEAPPROFILE_STRING_SLOTS - 1;
    for (uint32_t i = string_hash(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t kept = p->string_slot[i];
        if (kept == 0) {
            /* The table is never full: two strings a node at most, and
             * fewer nodes than half its slots. */
            if (len + 1 > sizeof p->strings - p->strings_len)
                return false;
            memcpy(p->strings + p->strings_len, s, len + 1);
            *offset = (uint32_t)p->strings_len;
            p->string_slot[i] = *offset + 1;
            p->strings_len += len + 1;
            return true;
        }
        if (strcmp(p->strings + kept - 1, s) == 0) {
            *offset = kept - 1;
            return true;
        }
    }
}

_Static_assert(GCS_HEAPPROFILE_STRING_SLOTS >= 4 * GCS_HEAPPROFILE_MAX_NODES, "the string table never fills");
_Static_assert(GCS_HEAPPROFILE_ID_SLOTS >= 2 * GCS_HEAPPROFILE_MAX_NODES, "the id table never fills");

/* The slot of V8's node id: where it is, or the empty one it would go in. */
static uint32_t *id_slot(struct gcs_heapprofile *p, uint32_t id)
{
    uint32_t mask = GCS_HEAPPROFILE_ID_SLOTS - 1;
    uint32_t i = (id * 2654435761u) & mask;
    while (p->id_slot[i] != 0 && p->node[p->id_slot[i] - 1].id != id)
        i = (i + 1) & mask;
    return &p->id_slot[i];
}
_Static_assert(GCS_HEAPPROFILE_STRING_BYTES < UINT32_MAX, "offsets fit in 32 bits");

bool gcs_heapprofile_add(struct gcs_heapprofile *p, int depth, const struct gcs_js_frame *frame, int32_t script_id,
                         uint32_t id, uint64_t self_bytes)
{
    if (p->skip_deeper_than >= 0 && depth > p->skip_deeper_than)
        return false;   /* a descendant of a node left out */
    p->skip_deeper_than = -1;
    /* Pre-order: the root first, and then every node one deeper than its
     * parent, which is the last node kept at the depth above. */
    bool parent_ok = p->n == 0 ? depth == 0 : depth >= 1 && (uint32_t)depth <= p->node[p->n - 1].depth + 1;
    struct gcs_heapprofile_node *nd = &p->node[p->n];
    if (!parent_ok || depth > GCS_HEAPPROFILE_MAX_DEPTH || p->n >= GCS_HEAPPROFILE_MAX_NODES ||
        !intern(p, frame->function, &nd->function) || !intern(p, frame->url, &nd->url)) {
        p->cut = true;
        p->skip_deeper_than = depth;
        return false;
    }
    uint32_t *slot = id_slot(p, id);
    if (*slot == 0)
        *slot = (uint32_t)p->n + 1;
    nd->id = id;
    nd->script_id = script_id;
    nd->line = frame->line;
    nd->column = frame->column;
    nd->depth = (uint32_t)depth;
    nd->self_bytes = self_bytes;
    p->total_bytes += self_bytes;
    p->n++;
    return true;
}

bool gcs_heapprofile_add_sample(struct gcs_heapprofile *p, uint32_t node_id, uint64_t bytes, uint64_t ordinal)
{
    if (*id_slot(p, node_id) == 0)
        return false;
    if (p->nsamples >= GCS_HEAPPROFILE_MAX_SAMPLES) {
        p->cut = true;
        return false;
    }
    p->sample[p->nsamples++] = (struct gcs_heapprofile_sample){node_id, bytes, ordinal};
    return true;
}

static bool put_samples(const struct gcs_heapprofile *p, struct gcs_json *j, gcs_heapprofile_sink sink, void *ctx)
{
    static const char open[] = ",\"samples\":[";
    if (!sink(ctx, open, sizeof open - 1))
        return false;
    for (size_t i = 0; i < p->nsamples; i++) {
        const struct gcs_heapprofile_sample *s = &p->sample[i];
        gcs_json_begin(j);
        gcs_json_u64(j, "size", s->bytes);
        gcs_json_u64(j, "nodeId", s->node_id);
        gcs_json_u64(j, "ordinal", s->ordinal);
        gcs_json_object_end(j);
        if ((i > 0 && !sink(ctx, ",", 1)) || !sink(ctx, j->buf, j->len))
            return false;
    }
    return sink(ctx, "]}\n", 3);
}

/* One node's opening, up to its children's "[": every string goes through
 * src/json.c, which escapes each byte and replaces invalid UTF-8. */
static bool put_node(const struct gcs_heapprofile *p, const struct gcs_heapprofile_node *nd, struct gcs_json *j,
                     gcs_heapprofile_sink sink, void *ctx)
{
    char script_id[16];
    snprintf(script_id, sizeof script_id, "%d", (int)nd->script_id);
    gcs_json_begin(j);
    gcs_json_object_begin(j, "callFrame");
    gcs_json_str(j, "functionName", p->strings + nd->function);
    gcs_json_str(j, "scriptId", script_id);   /* a string, as DevTools and --heap-prof have it */
    gcs_json_str(j, "url", p->strings + nd->url);
    /* DevTools' lineNumber and columnNumber are 0-based (-1 when unknown),
     * V8's profile nodes (and the culprits line) 1-based with 0 unknown:
     * the same shift node's inspector makes for --heap-prof. */
    gcs_json_i64(j, "lineNumber", (int64_t)nd->line - 1);
    gcs_json_i64(j, "columnNumber", (int64_t)nd->column - 1);
    gcs_json_object_end(j);
    gcs_json_u64(j, "selfSize", nd->self_bytes);
    gcs_json_u64(j, "id", nd->id);
    gcs_json_array_begin(j, "children");
    /* Names are at most GCS_JS_FUNCTION_MAX bytes and URLs GCS_JS_URL_MAX,
     * six escaped bytes each at worst: always within a line's buffer. */
    return !j->overflow && sink(ctx, j->buf, j->len);
}

bool gcs_heapprofile_write(const struct gcs_heapprofile *p, gcs_heapprofile_sink sink, void *ctx)
{
    static const char head[] = "{\"head\":";
    static const char lone_root[] =
        "{\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,"
        "\"columnNumber\":-1},\"selfSize\":0,\"id\":1,\"children\":[";
    struct gcs_json j;
    if (!sink(ctx, head, sizeof head - 1))
        return false;
    if (p->n == 0) {
        if (!sink(ctx, lone_root, sizeof lone_root - 1) || !sink(ctx, "]}", 2))
            return false;
        return put_samples(p, &j, sink, ctx);
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct gcs_heapprofile_node *nd = &p->node[i];
        if (i > 0 && nd->depth == p->node[i - 1].depth + 1) {
            /* the first child: nothing between "[" and it */
        } else if (i > 0) {
            /* Close the previous node and its ancestors up to this node's
             * parent: a sibling follows. */
            for (uint32_t d = p->node[i - 1].depth + 1; d-- > nd->depth;)
                if (!sink(ctx, "]}", 2))
                    return false;
            if (!sink(ctx, ",", 1))
                return false;
        }
        if (!put_node(p, nd, &j, sink, ctx))
            return false;
    }
    for (uint32_t d = p->node[p->n - 1].depth + 1; d-- > 0;)
        if (!sink(ctx, "]}", 2))
            return false;
    return put_samples(p, &j, sink, ctx);
}

void gcs_heapprofile_name(char out[GCS_HEAPPROFILE_NAME_MAX], int64_t epoch_ms, long pid, uint32_t isolate)
{
    char iso[25];   /* 2026-11-26T03:20:40.123Z */
    gcs_format_iso8601(epoch_ms, iso);
    snprintf(out, GCS_HEAPPROFILE_NAME_MAX, "gcstats.%.4s%.2s%.2s.%.2s%.2s%.2s.%.3s.%ld.%u.heapprofile", iso, iso + 5,
             iso + 8, iso + 11, iso + 14, iso + 17, iso + 20, pid, (unsigned)isolate);
}
