#include "memmap.h"

#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "mappings.h"
#include "objects.h"
#include "registry.h"
#include "sites.h"
#include "symbols.h"
#include "v8api.h"

/* Frames unwound above the interposer: gcstats' own three (the unwinding
 * function, the accounting, the interposer) come first and are dropped,
 * then up to GCS_SITE_FRAMES are kept. */
#define UNWIND_FRAMES (GCS_SITE_FRAMES + 3)
/* The writer names new sites at most this often. */
#define REFINE_INTERVAL_MS 1000
/* Samples kept for naming the owner that grew. */
#define OUTSIDE_HISTORY 64

/* The book changes under a mutex (any thread may map); its totals are
 * also published under a sequence count, so that the GC epilogue reads
 * them without waiting for the mutex. */
static pthread_mutex_t book_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t book_seq;   /* odd while the mutex's holder may be changing the book */
static struct gcs_mappings book;
static struct gcs_site_table sites;
static struct gcs_object_names objects;
static _Atomic bool enabled;
static uintptr_t self_lo, self_hi;
static uintptr_t page_mask;

static struct {
    const void *key;
    uintptr_t lo, hi;
} code_ranges[GCS_MAX_ISOLATES];

/* Touched only by the main isolate's thread (its GC epilogue). */
static struct {
    int64_t mono_ms;
    uint64_t committed[GCS_OWNERS];
} history[OUTSIDE_HISTORY];
static unsigned history_next, history_count;

static void lock_book(void)
{
    pthread_mutex_lock(&book_lock);
    atomic_fetch_add_explicit(&book_seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void unlock_book(void)
{
    atomic_fetch_add_explicit(&book_seq, 1, memory_order_release);
    pthread_mutex_unlock(&book_lock);
}

/* The totals as of a moment no change was under way; false if changes
 * kept coming (then nothing is known). Never waits for the mutex. */
static bool read_totals(struct gcs_mapped *out)
{
    for (int attempt = 0; attempt < 256; attempt++) {
        uint32_t before = atomic_load_explicit(&book_seq, memory_order_acquire);
        if (before & 1) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            continue;
        }
        out->incomplete = book.full;
        out->total = book.total;
        memcpy(out->owner, book.owner, sizeof out->owner);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&book_seq, memory_order_relaxed) == before)
            return true;
    }
    return false;
}

void gcs_memmap_enable(void)
{
    page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    struct gcs_object_info self;
    if (gcs_object_at((uintptr_t)gcs_memmap_enable, &self)) {
        self_lo = self.lo;
        self_hi = self.hi;
    }
    /* Per-thread caches: the global one takes a lock and changes the
     * signal mask around every step. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    atomic_store(&enabled, true);
}

void gcs_memmap_disable(void) { atomic_store(&enabled, false); }
bool gcs_memmap_enabled(void) { return atomic_load_explicit(&enabled, memory_order_relaxed); }

static uintptr_t page_len(size_t len) { return ((uintptr_t)len + page_mask) & ~page_mask; }
static bool is_self(uintptr_t a) { return a >= self_lo && a < self_hi; }

/* ---- Classifying a new site (outside the lock) --------------------------- */

struct frame_object {
    uintptr_t addr;
    enum gcs_object_kind kind;
    char name[GCS_OBJECT_NAME_MAX];
};

static void describe_frame(struct frame_object *f)
{
    f->name[0] = '\0';
    if (is_self(f->addr)) {
        f->kind = GCS_OBJ_SELF;
    } else if (gcs_v8_owns_code_at((const void *)f->addr)) {
        f->kind = GCS_OBJ_V8;
    } else {
        struct gcs_object_info o;
        if (!gcs_object_at(f->addr, &o)) {
            f->kind = GCS_OBJ_UNKNOWN;   /* JIT code, or an object unloaded meanwhile */
            return;
        }
        const char *base = o.path[0] ? gcs_basename(o.path) : program_invocation_short_name;
        size_t n = strnlen(base, GCS_OBJECT_NAME_MAX - 1);
        memcpy(f->name, base, n);
        f->name[n] = '\0';
        f->kind = gcs_object_kind_from_path(o.path);
    }
}

/* ---- The interposers' side ----------------------------------------------- */

static int unwind_site(uintptr_t *frames, const void *caller)
{
    void *raw[UNWIND_FRAMES];
    int got = unw_backtrace(raw, UNWIND_FRAMES);
    int first = 0;
    while (first < got && is_self((uintptr_t)raw[first]))
        first++;
    int n = 0;
    for (int i = first; i < got && n < GCS_SITE_FRAMES; i++)
        frames[n++] = (uintptr_t)raw[i];
    if (n == 0 && caller != NULL)
        frames[n++] = (uintptr_t)caller;
    return n;
}

/* The site for these frames, made and classified if new; called and
 * returns with the lock held, but drops it while a new site's objects are
 * looked up. */
static unsigned site_for(const uintptr_t *frames, int n)
{
    uint64_t hash = gcs_frames_hash(frames, n);
    unsigned site = gcs_sites_find(&sites, frames, n, hash);
    if (site != 0 || n == 0)
        return site;
    unlock_book();

    /* New: find the frames' objects without the lock (the loader's list
     * has its own), then add under it. */
    struct frame_object f[GCS_SITE_FRAMES];
    enum gcs_object_kind kinds[GCS_SITE_FRAMES];
    unsigned named[GCS_SITE_FRAMES];
    for (int i = 0; i < n; i++) {
        f[i].addr = frames[i] - 1;   /* inside the call, not after it */
        describe_frame(&f[i]);
        kinds[i] = f[i].kind;
    }
    lock_book();
    site = gcs_sites_find(&sites, frames, n, hash);
    if (site == 0) {
        for (int i = 0; i < n; i++)
            named[i] = kinds[i] == GCS_OBJ_NAMED ? gcs_object_owner(&objects, f[i].name) : GCS_OWNER_OTHER;
        int caller;
        unsigned owner = gcs_classify_frames(kinds, named, n, &caller);
        site = gcs_sites_add(&sites, frames, n, hash, owner, (unsigned)caller);
    }
    return site;
}

/* Under the lock. */
static bool in_code_range(uintptr_t addr, uintptr_t len)
{
    for (size_t i = 0; i < GCS_MAX_ISOLATES; i++)
        if (code_ranges[i].key != NULL && addr >= code_ranges[i].lo && addr + len <= code_ranges[i].hi)
            return true;
    return false;
}

void gcs_memmap_on_map(uintptr_t addr, size_t len, int prot, const void *caller)
{
    if (!gcs_memmap_enabled() || len == 0)
        return;
    uintptr_t frames[GCS_SITE_FRAMES];
    int n = unwind_site(frames, caller);
    lock_book();
    unsigned site = site_for(frames, n);
    unsigned owner = in_code_range(addr, page_len(len)) ? GCS_OWNER_V8_CODE
                     : site != 0                         ? sites.sites[site].owner
                                                         : GCS_OWNER_OTHER;
    gcs_mappings_map(&book, addr, page_len(len), prot != PROT_NONE, site, owner);
    unlock_book();
}

void gcs_memmap_on_unmap(uintptr_t addr, size_t len)
{
    if (!gcs_memmap_enabled())
        return;
    lock_book();
    gcs_mappings_unmap(&book, addr, page_len(len));
    unlock_book();
}

void gcs_memmap_on_protect(uintptr_t addr, size_t len, int prot)
{
    if (!gcs_memmap_enabled())
        return;
    lock_book();
    gcs_mappings_protect(&book, addr, page_len(len), prot != PROT_NONE);
    unlock_book();
}

void gcs_memmap_on_remap(uintptr_t old_addr, size_t old_len, uintptr_t new_addr, size_t new_len,
                         bool keep_old)
{
    if (!gcs_memmap_enabled())
        return;
    lock_book();
    gcs_mappings_remap(&book, old_addr, page_len(old_len), new_addr, page_len(new_len),
                       keep_old || old_len == 0);
    unlock_book();
}

void gcs_memmap_add_code_range(const void *key, uintptr_t start, size_t len)
{
    if (!gcs_memmap_enabled() || key == NULL || len == 0)
        return;
    lock_book();
    for (size_t i = 0; i < GCS_MAX_ISOLATES; i++) {
        if (code_ranges[i].key == NULL || code_ranges[i].key == key) {
            code_ranges[i].key = key;
            code_ranges[i].lo = start;
            code_ranges[i].hi = start + len;
            break;
        }
    }
    /* The range was reserved before the isolate was attached: what is
     * already in the book there is code space. */
    gcs_mappings_set_owner_in(&book, start & ~page_mask, page_len(len), GCS_OWNER_V8_CODE);
    unlock_book();
}

void gcs_memmap_remove_code_range(const void *key)
{
    lock_book();
    for (size_t i = 0; i < GCS_MAX_ISOLATES; i++)
        if (code_ranges[i].key == key)
            code_ranges[i].key = NULL;
    unlock_book();
}

/* ---- The detector's series ------------------------------------------------ */

static bool outside_v8(unsigned owner)
{
    return owner != GCS_OWNER_V8_HEAP && owner != GCS_OWNER_V8_CODE;
}

static uint64_t history_sum(const uint64_t *committed)
{
    uint64_t sum = 0;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        if (outside_v8(o))
            sum += committed[o];
    return sum;
}

uint64_t gcs_memmap_sample_outside(const struct gcs_mapped *now, int64_t mono_ms)
{
    if (!now->have)
        return history_count > 0 ? history_sum(history[(history_next + OUTSIDE_HISTORY - 1) % OUTSIDE_HISTORY].committed) : 0;
    unsigned i = history_next;
    history[i].mono_ms = mono_ms;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        history[i].committed[o] = now->owner[o].committed;
    history_next = (i + 1) % OUTSIDE_HISTORY;
    if (history_count < OUTSIDE_HISTORY)
        history_count++;
    return history_sum(history[i].committed);
}

unsigned gcs_memmap_grown_owner(int64_t since_mono_ms)
{
    unsigned best = GCS_OWNER_OTHER;
    if (history_count == 0)
        return best;
    /* The oldest sample at or after since_mono_ms, and the newest. */
    unsigned newest = (history_next + OUTSIDE_HISTORY - 1) % OUTSIDE_HISTORY;
    unsigned from = newest;
    for (unsigned k = 0; k < history_count; k++) {
        unsigned i = (history_next + OUTSIDE_HISTORY - history_count + k) % OUTSIDE_HISTORY;
        if (history[i].mono_ms >= since_mono_ms) {
            from = i;
            break;
        }
    }
    int64_t best_growth = 0;
    for (unsigned o = 0; o < GCS_OWNERS; o++) {
        if (!outside_v8(o))
            continue;
        int64_t g = (int64_t)history[newest].committed[o] - (int64_t)history[from].committed[o];
        if (g > best_growth) {
            best_growth = g;
            best = o;
        }
    }
    return best;
}

/* ---- The writer's side ---------------------------------------------------- */

/* Names of the frames users see, per site: filled by the writer only. */
#define SHOWN GCS_SITE_SHOWN_FRAMES
static struct {
    bool named;
    struct gcs_site_frame frame[SHOWN];
    int nframes;
} site_names[GCS_SITES];
static uint32_t sites_named;   /* sites below this have names */
static int64_t last_refine_ms;

/* The first frame users see: the caller, or the whole stack when every
 * frame was the system's or the allocator's. */
static int shown_from(const struct gcs_site *s)
{
    return s->caller < s->nframes ? s->caller : 0;
}

static void name_new_sites(uint32_t count)
{
    enum { BATCH = 64 };
    static struct gcs_symbol_query q[BATCH * GCS_SITE_FRAMES];
    while (sites_named < count) {
        uint32_t first = sites_named, last = first;
        size_t nq = 0;
        for (; last < count && last < first + BATCH; last++) {
            const struct gcs_site *s = &sites.sites[last];
            for (int i = shown_from(s); i < s->nframes; i++)
                q[nq++].addr = s->frames[i] - 1;
        }
        gcs_symbolize(q, nq);
        size_t k = 0;
        for (uint32_t idx = first; idx < last; idx++) {
            const struct gcs_site *s = &sites.sites[idx];
            const char *names[GCS_SITE_FRAMES];
            int nn = 0;
            site_names[idx].nframes = 0;
            for (int i = shown_from(s); i < s->nframes; i++, k++) {
                names[nn++] = q[k].raw[0] ? q[k].raw : NULL;
                if (site_names[idx].nframes < SHOWN) {
                    struct gcs_site_frame *f = &site_names[idx].frame[site_names[idx].nframes++];
                    memcpy(f->function, q[k].function, sizeof f->function);
                    memcpy(f->object, q[k].object, sizeof f->object);
                    f->offset = q[k].offset;
                }
            }
            site_names[idx].named = true;
            lock_book();
            unsigned was = sites.sites[idx].owner;
            unsigned now = gcs_refine_owner(was, names, nn);
            if (now != was) {
                gcs_mappings_reassign_site(&book, idx, was, now);
                sites.sites[idx].owner = (uint8_t)now;
            }
            unlock_book();
        }
        sites_named = last;
    }
}

bool gcs_memmap_book_full(void)
{
    struct gcs_mapped now;
    return read_totals(&now) && now.incomplete;
}

void gcs_memmap_refine(void)
{
    if (!gcs_memmap_enabled())
        return;
    uint32_t count = atomic_load_explicit(&sites.count, memory_order_acquire);
    if (count == 0)
        return;
    if (sites_named == 0)
        sites_named = 1;
    int64_t now = gcs_monotonic_ms();
    if (sites_named >= count || now - last_refine_ms < REFINE_INTERVAL_MS)
        return;
    last_refine_ms = now;
    name_new_sites(count);
}

void gcs_memmap_read(struct gcs_mapped *out)
{
    memset(out, 0, sizeof *out);
    if (!gcs_memmap_enabled() || !read_totals(out))
        return;
    out->have = true;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        out->name[o] = gcs_owner_name(&objects, o);
}

/* Sites whose shown frames are the same (they differ deeper down) are
 * one entry for users. */
static bool same_shown(const struct gcs_site *a, const struct gcs_site *b)
{
    if (a->owner != b->owner)
        return false;
    int na = a->nframes - shown_from(a), nb = b->nframes - shown_from(b);
    if (na > SHOWN)
        na = SHOWN;
    if (nb > SHOWN)
        nb = SHOWN;
    return na == nb && memcmp(&a->frames[shown_from(a)], &b->frames[shown_from(b)], (size_t)na * sizeof a->frames[0]) == 0;
}

/* Resident bytes per site, by asking the kernel which pages of each
 * interval are in memory. "Committed" (accessible) is not "used": V8 24+
 * makes its whole 512 MiB code range accessible at once. The intervals are
 * copied under the lock and measured without it (a range unmapped
 * meanwhile counts nothing). */
static void measure_resident(uint64_t *resident_of, struct gcs_usage *usage, struct gcs_site *copy,
                             uint32_t count)
{
    static struct gcs_map_node spans[GCS_MAP_NODES];
    static unsigned char vec[16384];
    lock_book();
    size_t n = gcs_mappings_list(&book, spans, GCS_MAP_NODES);
    memcpy(usage, book.site, sizeof book.site);
    memcpy(copy, sites.sites, count * sizeof copy[0]);
    unlock_book();
    memset(resident_of, 0, GCS_SITES * sizeof *resident_of);
    uintptr_t page = page_mask + 1;
    for (size_t i = 0; i < n; i++) {
        for (uintptr_t a = spans[i].start; a < spans[i].end;) {
            uintptr_t len = spans[i].end - a;
            if (len > sizeof vec * page)
                len = sizeof vec * page;
            if (mincore((void *)a, len, vec) == 0) {
                size_t pages = len / page;
                for (size_t p = 0; p < pages; p++)
                    if (vec[p] & 1)
                        resident_of[spans[i].site] += page;
            }
            a += len;
        }
    }
}

size_t gcs_memmap_top_sites(struct gcs_site_report *out, size_t max)
{
    if (!gcs_memmap_enabled() || max == 0)
        return 0;
    last_refine_ms = 0;
    gcs_memmap_refine();   /* every site gets its names before it is shown */
    static struct gcs_usage usage[GCS_SITES];
    static uint64_t resident_of[GCS_SITES];
    static struct gcs_site copy[GCS_SITES];
    static struct { unsigned site; struct gcs_usage usage; uint64_t resident; } group[GCS_SITES];
    uint32_t count = atomic_load_explicit(&sites.count, memory_order_acquire);
    if (count > GCS_SITES)
        count = GCS_SITES;
    measure_resident(resident_of, usage, copy, count);

    size_t groups = 0;
    for (uint32_t i = 1; i < count; i++) {
        if (usage[i].reserved == 0 && usage[i].committed == 0)
            continue;
        size_t g = 0;
        while (g < groups && !same_shown(&copy[group[g].site], &copy[i]))
            g++;
        if (g == groups) {
            group[groups].site = i;
            memset(&group[groups].usage, 0, sizeof group[groups].usage);
            group[groups].resident = 0;
            groups++;
        }
        group[g].resident += resident_of[i];
        struct gcs_usage *u = &group[g].usage;
        u->reserved += usage[i].reserved;
        u->committed += usage[i].committed;
        u->peak_reserved += usage[i].peak_reserved;    /* an upper bound: peaks of parts */
        u->peak_committed += usage[i].peak_committed;
    }

    size_t n = 0;
    for (size_t g = 0; g < groups; g++) {
        const struct gcs_usage *u = &group[g].usage;
        uint64_t res = group[g].resident;
        /* Insertion into the top list, by resident then committed bytes. */
        size_t pos = n;
        while (pos > 0 && (res > out[pos - 1].resident ||
                           (res == out[pos - 1].resident && u->committed > out[pos - 1].usage.committed)))
            pos--;
        if (pos >= max)
            continue;
        if (n < max)
            n++;
        memmove(&out[pos + 1], &out[pos], (n - 1 - pos) * sizeof *out);
        unsigned i = group[g].site;
        struct gcs_site_report *r = &out[pos];
        r->owner = gcs_owner_name(&objects, copy[i].owner);
        r->usage = *u;
        r->resident = res;
        r->nframes = site_names[i].named ? site_names[i].nframes : 0;
        memcpy(r->frame, site_names[i].frame, sizeof r->frame);
    }
    return n;
}
