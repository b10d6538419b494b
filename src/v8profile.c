#include "v8profile.h"

#include <dlfcn.h>
#include <string.h>

#include "v8api.h"
#include "v8symbols.h"

typedef void *(*get_heap_profiler_fn)(void *isolate);
typedef bool (*start_sampling_fn)(void *profiler, uint64_t interval, int depth, int flags);
typedef void (*stop_sampling_fn)(void *profiler);
typedef void *(*get_allocation_profile_fn)(void *profiler);
/* String::WriteUtf8(Isolate*, char*, int capacity, int *nchars, int options): V8 10 to 13. */
typedef int (*write_utf8_fn)(const void *str, void *isolate, char *buf, int cap, int *nchars, int options);
/* String::WriteUtf8V2(Isolate*, char*, size_t capacity, int flags, size_t *processed): V8 13 on. */
typedef void (*add_cleanup_hook_fn)(void *isolate, void (*fun)(void *arg), void *arg);
typedef size_t (*write_utf8_v2_fn)(const void *str, void *isolate, char *buf, size_t cap, int flags, size_t *processed);

static struct {
    get_heap_profiler_fn get_heap_profiler;
    start_sampling_fn start;
    stop_sampling_fn stop;
    get_allocation_profile_fn get_profile;
    write_utf8_fn write_utf8;
    write_utf8_v2_fn write_utf8_v2;
    add_cleanup_hook_fn add_cleanup_hook;
    const struct gcs_alloc_profile_layout *layout;
    bool bound;
} fn;

/* String::WriteOptions: NO_NULL_TERMINATION | REPLACE_INVALID_UTF8. */
#define WRITE_UTF8_OPTIONS (2 | 8)
/* String::WriteFlags::kReplaceInvalidUtf8 (no kNullTerminate). */
#define WRITE_UTF8_V2_FLAGS 2

bool gcs_v8_profiler_bind(const char **why)
{
#define BIND_PROFILER(slot, name, from_v8, up_to_v8) *(void **)&fn.slot = dlsym(RTLD_DEFAULT, name);
    GCS_V8_PROFILER_SYMBOLS(BIND_PROFILER)
    fn.layout = gcs_alloc_profile_layout(gcs_v8.v.major);
    if (fn.get_heap_profiler == NULL || fn.start == NULL || fn.stop == NULL || fn.get_profile == NULL) {
        *why = "V8's sampling heap profiler (Isolate::GetHeapProfiler, HeapProfiler::StartSamplingHeapProfiler, "
               "GetAllocationProfile, StopSamplingHeapProfiler) is not exported by this node";
        return false;
    }
    if (fn.add_cleanup_hook == NULL) {
        *why = "node::AddEnvironmentCleanupHook is not exported by this node: gcstats could not stop the "
               "sampler before V8 disposes the isolate";
        return false;
    }
    if (fn.write_utf8_v2 == NULL && fn.write_utf8 == NULL) {
        *why = "neither String::WriteUtf8 nor String::WriteUtf8V2 is exported by this node";
        return false;
    }
    if (fn.layout == NULL) {
        *why = "gcstats does not know v8::AllocationProfile's layout in this V8";
        return false;
    }
    /* The profile's std::vectors are read as libstdc++ lays them out. A
     * node built against libc++ exports its std::__1 names; refuse it
     * rather than guess. */
    if (dlsym(RTLD_DEFAULT, "_ZNSt3__14coutE") != NULL || dlsym(RTLD_DEFAULT, "_ZNSt3__112basic_stringIcNS_11char_traitsIcEENS_9allocatorIcEEE6appendEPKcm") != NULL) {
        *why = "this node uses libc++, whose std::vector layout gcstats does not read";
        return false;
    }
    fn.bound = true;
    return true;
}

bool gcs_v8_profiler_bound(void) { return fn.bound; }

bool gcs_v8_profiler_start(void *isolate, uint64_t interval_bytes)
{
    void *profiler = fn.get_heap_profiler(isolate);
    return profiler != NULL && fn.start(profiler, interval_bytes, GCS_PROFILE_STACK_DEPTH, 0);
}

bool gcs_v8_profiler_stop_at_cleanup(void *isolate, void (*hook)(void *arg), void *arg)
{
    /* AddEnvironmentCleanupHook finds the environment through the current
     * context and aborts without one: ask node first, gently. */
    if (gcs_v8_event_loop_fd(isolate, false) < 0)
        return false;
    fn.add_cleanup_hook(isolate, hook, arg);
    return true;
}

void gcs_v8_profiler_stop(void *isolate)
{
    void *profiler = fn.get_heap_profiler(isolate);
    if (profiler != NULL)
        fn.stop(profiler);
}

static const void *ptr_at(const void *base, int offset)
{
    const void *p;
    memcpy(&p, (const char *)base + offset, sizeof p);
    return p;
}

static int32_t i32_at(const void *base, int offset)
{
    int32_t v;
    memcpy(&v, (const char *)base + offset, sizeof v);
    return v;
}

/* A std::vector of elements of `size` bytes: its first element and count.
 * False when the three pointers cannot be a vector's. */
static bool vector_at(const void *base, int offset, size_t size, const char **first, size_t *count)
{
    const char *begin = ptr_at(base, offset);
    const char *end = ptr_at(base, offset + 8);
    const char *cap = ptr_at(base, offset + 16);
    if (begin == NULL)
        return end == NULL && cap == NULL && (*first = NULL, *count = 0, true);
    if (end < begin || cap < end || ((uintptr_t)begin & 7) != 0 || (size_t)(end - begin) % size != 0 ||
        (size_t)(end - begin) / size > (1u << 24))
        return false;
    *first = begin;
    *count = (size_t)(end - begin) / size;
    return true;
}

static void read_string(void *isolate, const void *str, char *out, size_t cap)
{
    size_t n = 0;
    if (str != NULL) {
        if (fn.write_utf8_v2 != NULL)
            n = fn.write_utf8_v2(str, isolate, out, cap - 1, WRITE_UTF8_V2_FLAGS, NULL);
        else {
            int w = fn.write_utf8(str, isolate, out, (int)(cap - 1), NULL, WRITE_UTF8_OPTIONS);
            n = w > 0 ? (size_t)w : 0;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

/* The working area of a reading, kept off the JavaScript thread's stack.
 * One reading at a time in the process: the caller serializes them. */
#define MAX_DEPTH (GCS_PROFILE_STACK_DEPTH + 2)
static struct {
    struct gcs_js_frame frame[MAX_DEPTH];
    const struct gcs_js_frame *path[MAX_DEPTH];
    const void *node[MAX_DEPTH];
    size_t next_child[MAX_DEPTH];
    struct gcs_culprit_node_map sites_of_nodes;
} work;

static bool read_tree(void *isolate, const void *root, uint64_t interval, struct gcs_culprit_table *t,
                      struct gcs_heapprofile *copy, struct gcs_profile_reading *out)
{
    const struct gcs_alloc_profile_layout *L = fn.layout;
    int depth = 0;
    const void *node = root;
    for (;;) {
        if (node != NULL) {
            if (out->nodes >= GCS_PROFILE_MAX_NODES || depth >= MAX_DEPTH) {
                out->cut = true;
            } else {
                out->nodes++;
                struct gcs_js_frame *f = &work.frame[depth];
                read_string(isolate, ptr_at(node, L->node_name), f->function, sizeof f->function);
                read_string(isolate, ptr_at(node, L->node_script_name), f->url, sizeof f->url);
                int32_t line = i32_at(node, L->node_line), column = i32_at(node, L->node_column);
                f->line = line > 0 ? line : 0;      /* kNoLineNumberInfo is 0 */
                f->column = column > 0 ? column : 0;
                work.path[depth] = f;
                work.node[depth] = node;
                work.next_child[depth] = 0;
                depth++;
                const char *alloc;
                size_t nalloc;
                if (!vector_at(node, L->node_allocations, (size_t)L->allocation_size, &alloc, &nalloc))
                    return false;
                uint64_t self_bytes = 0;
                int site = GCS_CULPRIT_NONE;
                for (size_t i = 0; i < nalloc; i++) {
                    const char *a = alloc + i * (size_t)L->allocation_size;
                    uint64_t size;
                    uint32_t count;
                    memcpy(&size, a + L->allocation_bytes, sizeof size);
                    memcpy(&count, a + L->allocation_count, sizeof count);
                    /* the same site for every allocation of a node: it depends on the stack alone */
                    int charged = gcs_culprit_table_add(t, work.path, depth, size, count, interval);
                    if (charged != GCS_CULPRIT_NONE)
                        site = charged;
                    self_bytes += size * count;
                }
                uint32_t node_id = (uint32_t)i32_at(node, L->node_id);
                if (site != GCS_CULPRIT_NONE)
                    gcs_culprit_node_map_put(&work.sites_of_nodes, node_id, site);
                if (copy != NULL)
                    gcs_heapprofile_add(copy, depth - 1, f, i32_at(node, L->node_script_id), node_id, self_bytes);
            }
        }
        /* The next child of the innermost node that has one left. */
        node = NULL;
        while (depth > 0 && node == NULL) {
            const char *children;
            size_t nchildren;
            if (!vector_at(work.node[depth - 1], L->node_children, sizeof(void *), &children, &nchildren))
                return false;
            size_t i = work.next_child[depth - 1]++;
            if (i < nchildren) {
                node = ptr_at(children, (int)(i * sizeof(void *)));
                if (node == NULL)
                    return false;
            } else {
                depth--;
            }
        }
        if (node == NULL)
            return true;
    }
}

struct sample {
    uint32_t node_id;
    uint64_t bytes, id;
};

/* Sample i of the vector; false for a collected object's (V8 14 can keep
 * those too, when asked to: gcstats never does; only live ones are the
 * tree's). bytes: as node's inspector writes them for --heap-prof, the
 * object's size times the count V8 scaled it to. */
static bool live_sample(const char *first, size_t i, struct sample *out)
{
    const struct gcs_alloc_profile_layout *L = fn.layout;
    const char *s = first + i * (size_t)L->sample_size;
    if (L->sample_is_live >= 0 && s[L->sample_is_live] == 0)
        return false;
    uint32_t count;
    uint64_t size;
    memcpy(&out->node_id, s + L->sample_node_id, sizeof out->node_id);
    memcpy(&size, s + L->sample_bytes, sizeof size);
    memcpy(&count, s + L->sample_count, sizeof count);
    memcpy(&out->id, s + L->sample_id, sizeof out->id);
    out->bytes = size * count;
    return true;
}

/* The profile's samples (AllocationProfile::GetSamples() gives a reference
 * to its std::vector<Sample>, in no particular order): the held ones are
 * charged to their nodes' sites in t, and, unless copy is NULL, they go
 * into copy, as many as it has room for (samples of nodes the copy does
 * not hold are dropped: heapprofile.h). At most GCS_PROFILE_MAX_SAMPLES
 * are looked at, twice: first for the newest, then to charge them. */
static bool read_samples(void *profile, int64_t sampled_ms, struct gcs_culprit_table *t,
                         struct gcs_heapprofile *copy)
{
    const struct gcs_alloc_profile_layout *L = fn.layout;
    void *const *vtable = ptr_at(profile, 0);
    const void *(*get_samples)(void *) = (const void *(*)(void *))vtable[L->slot_samples];
    const void *samples = get_samples(profile);
    const char *first;
    size_t n;
    if (samples == NULL || !vector_at(samples, 0, (size_t)L->sample_size, &first, &n))
        return false;
    if (n > GCS_PROFILE_MAX_SAMPLES)
        n = GCS_PROFILE_MAX_SAMPLES;
    struct sample one;
    uint64_t newest = 0;
    for (size_t i = 0; i < n; i++)
        if (live_sample(first, i, &one) && one.id > newest)
            newest = one.id;
    uint64_t held_below = gcs_culprit_held_below(newest, sampled_ms);
    for (size_t i = 0; i < n; i++) {
        if (!live_sample(first, i, &one))
            continue;
        if (one.id < held_below)
            gcs_culprit_table_hold(t, gcs_culprit_node_map_get(&work.sites_of_nodes, one.node_id), one.bytes);
        if (copy == NULL)
            continue;
        if (copy->nsamples == GCS_HEAPPROFILE_MAX_SAMPLES)
            copy->cut = true;
        else
            gcs_heapprofile_add_sample(copy, one.node_id, one.bytes, one.id);
    }
    return true;
}

bool gcs_v8_profiler_read(void *isolate, uint64_t interval_bytes, int64_t sampled_ms, struct gcs_culprit_table *t,
                          struct gcs_heapprofile *copy, struct gcs_profile_reading *out)
{
    memset(out, 0, sizeof *out);
    gcs_culprit_table_init(t);
    gcs_culprit_node_map_clear(&work.sites_of_nodes);
    if (copy != NULL)
        gcs_heapprofile_reset(copy);
    void *profiler = fn.get_heap_profiler(isolate);
    if (profiler == NULL)
        return false;
    void *profile = fn.get_profile(profiler);
    bool ok = false;
    if (profile != NULL) {
        void *const *vtable = ptr_at(profile, 0);
        void *(*get_root)(void *) = (void *(*)(void *))vtable[fn.layout->slot_root];
        void (*delete_profile)(void *) = (void (*)(void *))vtable[fn.layout->slot_deleting_dtor];
        const void *root = get_root(profile);
        ok = root != NULL && read_tree(isolate, root, interval_bytes, t, copy, out);
        if (ok && !read_samples(profile, sampled_ms, t, copy) && copy != NULL) {
            copy->nsamples = 0;   /* the file has none, and the line says it was cut */
            copy->cut = true;
        }
        delete_profile(profile);
    }
    return ok;
}
