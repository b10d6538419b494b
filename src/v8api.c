#include "v8api.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "objects.h"
#include "v8symbols.h"

struct gcs_v8 gcs_v8;

typedef const char *(*get_version_fn)(void);
typedef void *(*try_get_current_fn)(void);
typedef void (*request_interrupt_fn)(void *isolate, gcs_interrupt_callback cb, void *data);
typedef void (*add_gc_callback_fn)(void *isolate, gcs_gc_callback cb, void *data, int gc_type);
typedef void (*get_heap_statistics_fn)(void *isolate, void *stats);
typedef void (*heap_statistics_ctor_fn)(void *stats);
typedef void (*get_code_range_fn)(void *isolate, void **start, size_t *length);
typedef bool (*measure_memory_fn)(void *isolate, void **delegate, int execution);
typedef bool (*is_in_use_fn)(void *isolate);
typedef void *(*get_current_event_loop_fn)(void *isolate);
typedef int (*uv_backend_fd_fn)(const void *loop);
typedef void *(*uv_default_loop_fn)(void);

static struct {
    get_version_fn get_version;
    try_get_current_fn try_get_current;
    request_interrupt_fn request_interrupt;
    add_gc_callback_fn add_prologue, add_epilogue;
    get_heap_statistics_fn get_heap_statistics;
    heap_statistics_ctor_fn heap_statistics_ctor;
    const _Atomic unsigned char *isolate_key_created;  /* V8 10 only; NULL elsewhere */
    get_code_range_fn get_code_range;                  /* optional */
    measure_memory_fn measure_memory;                  /* optional */
    is_in_use_fn is_in_use;
    get_current_event_loop_fn get_current_event_loop;  /* node's; optional */
    uv_backend_fd_fn uv_backend_fd;                    /* libuv's; optional */
    uv_default_loop_fn uv_default_loop;                /* libuv's; optional */
} fn;

#define REQUIRED_ENTRY(slot, name) { name, (void **)&fn.slot },
static const struct {
    const char *name;
    void **slot;
} required[] = { GCS_V8_REQUIRED_SYMBOLS(REQUIRED_ENTRY) };

/* The address range of the object that defines V8, found once at bind. */
static uintptr_t v8_object_lo, v8_object_hi;

bool gcs_v8_owns_code_at(const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    return a >= v8_object_lo && a < v8_object_hi;
}

bool gcs_v8_bind(const char **missing)
{
    void *found[sizeof required / sizeof required[0]];
    *missing = NULL;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        found[i] = dlsym(RTLD_DEFAULT, required[i].name);
        if (found[i] == NULL) {
            /* No V8 at all is the common case (a shell, python): say nothing. */
            if (i > 0) {
                *missing = required[i].name;
                gcs_v8.version = ((get_version_fn)found[0])();
            }
            return false;
        }
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        *required[i].slot = found[i];
    struct gcs_object_info v8_object;
    if (gcs_object_at((uintptr_t)fn.get_version, &v8_object)) {
        v8_object_lo = v8_object.lo;
        v8_object_hi = v8_object.hi;
    }
#define BIND_OPTIONAL(slot, name, up_to_v8) *(void **)&fn.slot = dlsym(RTLD_DEFAULT, name);
    GCS_V8_OPTIONAL_SYMBOLS(BIND_OPTIONAL)

    gcs_v8.version = fn.get_version();
    if (!gcs_parse_v8_version(gcs_v8.version, &gcs_v8.v))
        gcs_v8.v = (struct gcs_v8_version){ 0, 0 };
    gcs_v8.bound = true;
    return true;
}

bool gcs_v8_current_isolate_ready(void)
{
    if (!gcs_v8.bound)
        return false;
    if (fn.isolate_key_created != NULL)
        return atomic_load_explicit(fn.isolate_key_created, memory_order_acquire) != 0;
    /* V8 10 without the flag exported: no safe way to know. */
    return gcs_v8.v.major > 10;
}

void *gcs_v8_try_get_current(void)
{
    return fn.try_get_current();
}

void gcs_v8_request_interrupt(void *isolate, gcs_interrupt_callback cb, void *data)
{
    fn.request_interrupt(isolate, cb, data);
}

bool gcs_v8_in_use(void *isolate)
{
    return fn.is_in_use(isolate);
}

int gcs_v8_event_loop_fd(void *isolate, bool main_thread)
{
    if (fn.uv_backend_fd == NULL)
        return -1;
    /* Node runs the main thread's environment on libuv's default loop,
     * which it set up before the isolate: asking for it does not create
     * it. A Worker's loop is its environment's. */
    const void *loop = NULL;
    if (main_thread && fn.uv_default_loop != NULL)
        loop = fn.uv_default_loop();
    else if (!main_thread && fn.get_current_event_loop != NULL)
        loop = fn.get_current_event_loop(isolate);
    return loop != NULL ? fn.uv_backend_fd(loop) : -1;
}

void gcs_v8_add_gc_callbacks(void *isolate, gcs_gc_callback prologue, gcs_gc_callback epilogue, void *data)
{
    fn.add_prologue(isolate, prologue, data, GCS_GC_ALL);
    fn.add_epilogue(isolate, epilogue, data, GCS_GC_ALL);
}

bool gcs_v8_code_range(void *isolate, uintptr_t *start, size_t *length)
{
    if (fn.get_code_range == NULL)
        return false;
    void *p = NULL;
    size_t n = 0;
    fn.get_code_range(isolate, &p, &n);
    *start = (uintptr_t)p;
    *length = n;
    return p != NULL && n > 0;
}

/* A v8::MeasureMemoryDelegate made by hand. Its virtual functions are,
 * in V8 10 to 14 alike: the complete and the deleting destructor,
 * ShouldMeasure(Local<Context>) and MeasurementComplete(...) (whose
 * parameters changed in V8 11; they are not read here). It measures no
 * context, so V8 only runs the GC a measurement needs. The object is
 * static and immutable: V8 may hold it for several requests at once and
 * "deletes" it through the vtable, which does nothing. */
static void delegate_destroy(void *self) { (void)self; }
static bool delegate_should_measure(void *self, void *context)
{
    (void)self;
    (void)context;
    return false;
}
static void delegate_complete(void *self) { (void)self; }

static const struct {
    intptr_t offset_to_top;
    const void *type_info;      /* V8 is built without RTTI */
    const void *functions[GCS_DELEGATE_SLOTS];
} delegate_vtable = {
    0, NULL, {
        [GCS_DELEGATE_COMPLETE_DTOR] = (const void *)delegate_destroy,
        [GCS_DELEGATE_DELETING_DTOR] = (const void *)delegate_destroy,
        [GCS_DELEGATE_SHOULD_MEASURE] = (const void *)delegate_should_measure,
        [GCS_DELEGATE_MEASUREMENT_COMPLETE] = (const void *)delegate_complete,
    },
};
static const struct { const void *vptr; } delegate = { delegate_vtable.functions };

/* v8::MeasureMemoryExecution { kDefault, kEager, kLazy } */
#define V8_MEASURE_MEMORY_EAGER 1

bool gcs_v8_can_ask_for_gc(void)
{
    /* The delegate is laid out for the slots the table knows (and the
     * headers test checked) for this major. */
    return fn.measure_memory != NULL && gcs_v8_delegate_matches(gcs_v8.v.major);
}

void gcs_v8_ask_for_gc(void *isolate)
{
    /* std::unique_ptr has a non-trivial destructor, so the Itanium ABI
     * passes it by reference to a temporary that the caller destroys
     * afterwards; V8 moves the pointer out of it. */
    void *holder = (void *)&delegate;
    fn.measure_memory(isolate, &holder, V8_MEASURE_MEMORY_EAGER);
}

bool gcs_v8_heap_stats(void *isolate, struct gcs_heap_stats *out)
{
    _Alignas(16) unsigned char raw[GCS_HEAP_STATS_BUFFER];
    memset(raw, 0, sizeof raw);
    fn.heap_statistics_ctor(raw);
    fn.get_heap_statistics(isolate, raw);
    return gcs_heap_stats_decode(raw, sizeof raw, gcs_v8.v.major, out);
}

/* node::per_process::metadata.versions.node is a libstdc++ std::string:
 * { char *data; size_t size; union { char local[16]; size_t capacity; } }.
 * A version like "20.20.2" is short, so data points at the inline buffer
 * 16 bytes in. Anything else means a layout gcstats does not know: then
 * nothing is dereferenced. */
void gcs_v8_read_node_version(void)
{
    const unsigned char *meta = dlsym(RTLD_DEFAULT, "_ZN4node11per_process8metadataE");
    if (meta == NULL || gcs_v8.node_version[0] != '\0')
        return;
    const char *data;
    size_t size;
    memcpy(&data, meta, sizeof data);
    memcpy(&size, meta + 8, sizeof size);
    if (data != (const char *)meta + 16 || size == 0 || size > 15)
        return;
    for (size_t i = 0; i < size; i++) {
        char c = data[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || (c >= 'a' && c <= 'z')))
            return;
    }
    memcpy(gcs_v8.node_version, data, size);
    gcs_v8.node_version[size] = '\0';
}
