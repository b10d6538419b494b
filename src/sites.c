#include "sites.h"

#include <limits.h>
#include <string.h>

const char *gcs_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum gcs_object_kind gcs_object_kind_from_path(const char *path)
{
    static const char *const system_prefixes[] = {
        "libc.so", "libc-", "ld-linux", "ld64.so", "libpthread", "libdl.so", "libdl-", "librt.so",
        "libm.so", "libstdc++", "libgcc_s", "libunwind", "liblzma", "linux-vdso", "linux-gate",
    };
    const char *base = gcs_basename(path);
    if (base[0] == '\0')
        return GCS_OBJ_NAMED;   /* the main program */
    for (size_t i = 0; i < sizeof system_prefixes / sizeof system_prefixes[0]; i++)
        if (starts_with(base, system_prefixes[i]))
            return GCS_OBJ_SYSTEM;
    if (strstr(base, "malloc") != NULL)   /* libjemalloc, libtcmalloc, libmimalloc */
        return GCS_OBJ_ALLOCATOR;
    if (starts_with(base, "libuv.so") || starts_with(base, "libuv-"))
        return GCS_OBJ_LIBUV;
    return GCS_OBJ_NAMED;
}

unsigned gcs_classify_frames(const enum gcs_object_kind *kinds, const unsigned *named, int n,
                             int *caller)
{
    bool through_allocator = false;
    int first = n;
    for (int i = 0; i < n; i++) {
        if (kinds[i] == GCS_OBJ_SELF || kinds[i] == GCS_OBJ_SYSTEM)
            continue;
        if (kinds[i] == GCS_OBJ_ALLOCATOR) {
            through_allocator = true;
            continue;
        }
        first = i;
        break;
    }
    *caller = first;
    if (through_allocator)
        return GCS_OWNER_MALLOC;   /* the allocator's arenas, whoever asked for them */
    if (first == n)
        return GCS_OWNER_OTHER;
    switch (kinds[first]) {
    case GCS_OBJ_V8:
        return GCS_OWNER_V8_HEAP;
    case GCS_OBJ_LIBUV:
        return GCS_OWNER_LIBUV;
    case GCS_OBJ_NAMED:
        return named[first] < GCS_OWNERS ? named[first] : GCS_OWNER_OTHER;
    default:
        return GCS_OWNER_OTHER;
    }
}

static bool is_v8_function(const char *f)
{
    return starts_with(f, "_ZN2v8") || starts_with(f, "_ZNK2v8") || starts_with(f, "_ZN5cppgc") ||
           starts_with(f, "_ZNK5cppgc");
}

unsigned gcs_refine_owner(unsigned owner, const char *const *function_names, int n)
{
    if (owner != GCS_OWNER_V8_HEAP)
        return owner;
    bool all_named = n > 0, any_v8 = false;
    for (int i = 0; i < n; i++) {
        const char *f = function_names[i];
        if (f == NULL) {
            all_named = false;
            continue;
        }
        if (starts_with(f, "uv_") || starts_with(f, "uv__"))
            return GCS_OWNER_LIBUV;   /* libuv linked into node's own binary */
        if (strstr(f, "CodeRange") != NULL)
            return GCS_OWNER_V8_CODE; /* the code range's reservation, or builtins copied into it */
        any_v8 = any_v8 || is_v8_function(f);
    }
    if (!any_v8 && all_named)
        return GCS_OWNER_OTHER;       /* node's own code, OpenSSL, ...: not V8's heap */
    return owner;
}

uint64_t gcs_frames_hash(const uintptr_t *frames, int n)
{
    uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a over the addresses, then a final mix */
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)frames[i];
        h *= 0x100000001b3u;
    }
    h ^= (uint64_t)n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

static bool same_frames(const struct gcs_site *s, const uintptr_t *frames, int n, uint64_t hash)
{
    return s->hash == hash && s->nframes == n && memcmp(s->frames, frames, (size_t)n * sizeof *frames) == 0;
}

#define ANY_OWNER UINT_MAX

/* Down the hash chain (linear probing, nothing ever removed): a site
 * added later with the same hash lies further down the same chain. */
static unsigned find_in_chain(const struct gcs_site_table *t, const uintptr_t *frames, int n,
                              uint64_t hash, unsigned owner)
{
    for (unsigned probe = 0; probe < GCS_SITE_SLOTS; probe++) {
        unsigned idx = t->slots[(hash + probe) % GCS_SITE_SLOTS];
        if (idx == 0)
            return 0;
        if ((owner == ANY_OWNER || t->sites[idx].owner == owner) && same_frames(&t->sites[idx], frames, n, hash))
            return idx;
    }
    return 0;
}

unsigned gcs_sites_find(const struct gcs_site_table *t, const uintptr_t *frames, int n,
                        uint64_t hash)
{
    return find_in_chain(t, frames, n, hash, ANY_OWNER);
}

unsigned gcs_sites_find_owned(const struct gcs_site_table *t, const uintptr_t *frames, int n,
                              uint64_t hash, unsigned owner)
{
    return find_in_chain(t, frames, n, hash, owner);
}

unsigned gcs_sites_add(struct gcs_site_table *t, const uintptr_t *frames, int n, uint64_t hash,
                       unsigned owner, unsigned caller)
{
    uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
    if (count == 0)
        count = 1;   /* site 0 is reserved */
    if (count >= GCS_SITES || n < 0 || n > GCS_SITE_FRAMES)
        return 0;
    struct gcs_site *s = &t->sites[count];
    memset(s, 0, sizeof *s);
    memcpy(s->frames, frames, (size_t)n * sizeof *frames);
    s->nframes = (uint8_t)n;
    s->hash = hash;
    s->owner = (uint8_t)owner;
    s->caller = (uint8_t)caller;
    for (unsigned probe = 0; probe < GCS_SITE_SLOTS; probe++) {
        uint16_t *slot = &t->slots[(hash + probe) % GCS_SITE_SLOTS];
        if (*slot == 0) {
            *slot = (uint16_t)count;
            break;
        }
    }
    atomic_store_explicit(&t->count, count + 1, memory_order_release);
    return count;
}

static void clean_name(char *out, const char *in)
{
    size_t n = 0;
    for (; in[n] != '\0' && n < GCS_OBJECT_NAME_MAX - 1; n++) {
        char c = in[n];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '_' || c == '+' || c == '-';
        out[n] = plain ? c : '_';
    }
    out[n] = '\0';
}

unsigned gcs_object_owner(struct gcs_object_names *o, const char *basename)
{
    char name[GCS_OBJECT_NAME_MAX];
    clean_name(name, basename);
    if (name[0] == '\0')
        return GCS_OWNER_OTHER;
    uint32_t count = atomic_load_explicit(&o->count, memory_order_relaxed);
    if (count < GCS_OWNER_FIRST_OBJECT)
        count = GCS_OWNER_FIRST_OBJECT;
    for (uint32_t i = GCS_OWNER_FIRST_OBJECT; i < count; i++)
        if (strcmp(o->name[i], name) == 0)
            return i;
    if (count >= GCS_OWNERS)
        return GCS_OWNER_OTHER;
    memcpy(o->name[count], name, sizeof name);
    atomic_store_explicit(&o->count, count + 1, memory_order_release);
    return count;
}

const char *gcs_owner_name(const struct gcs_object_names *o, unsigned owner)
{
    static const char *const fixed[GCS_OWNER_FIRST_OBJECT] = {
        "v8_heap", "v8_code", "libuv", "malloc", "other",
    };
    if (owner < GCS_OWNER_FIRST_OBJECT)
        return fixed[owner];
    if (owner < atomic_load_explicit(&o->count, memory_order_acquire))
        return o->name[owner];
    return NULL;
}
