#include "memmap.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "mappings.h"
#include "objects.h"
#include "registry.h"
#include "sites.h"
#include "stackwalk.h"
#include "v8api.h"

/* Frames unwound above the interposer: gcstats' own (the walk, the
 * accounting, the interposer: 3 to 6 frames, as the compiler inlines)
 * come first and are dropped, then up to GCS_SITE_FRAMES are kept. Room
 * for all of them, so that a site keeps its GCS_SITE_FRAMES whichever
 * way its stack was walked. */
#define UNWIND_FRAMES (GCS_SITE_FRAMES + 6)

/* The book changes under a mutex (any thread may map). Its totals are
 * also published, for the GC epilogue, which must never wait for that
 * mutex: see publish_totals. */
static pthread_mutex_t book_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcs_mappings book;
static struct gcs_site_table sites;
static struct gcs_object_names objects;
static _Atomic bool enabled;
static uintptr_t self_lo, self_hi;
static uintptr_t page_size;

static struct {
    const void *key;
    uintptr_t lo, hi;
} code_ranges[GCS_MAX_ISOLATES];


/* The totals as words: the total's usage, each owner's, then whether
 * the book is full. A usage is its four counters in their order. */
#define USAGE_WORDS 4
_Static_assert(sizeof(struct gcs_usage) == USAGE_WORDS * sizeof(uint64_t), "a usage is 4 words");
#define OWNER_WORD(o) (USAGE_WORDS * (1 + (o)))
#define FULL_WORD OWNER_WORD(GCS_OWNERS)
#define TOTAL_WORDS (FULL_WORD + 1)

/* Two copies of the totals, and a count whose low bit names the copy
 * readers take. The mutex's holder rewrites the other copy, then moves
 * the count to it; a reader retries only if the count moved while it
 * read. So a writer preempted in the middle of a copy (or holding the
 * mutex for long) leaves the copy readers take whole, and the epilogue's
 * read goes through. A single count that stayed odd while the mutex was
 * held turned the read away for as long (CI saw a stats line with mapped
 * null once). Relaxed atomics for the words: a copy may be read while it
 * is rewritten, and is then discarded. */
static struct {
    _Atomic uint64_t word[TOTAL_WORDS];
} published[2];
static _Atomic uint32_t published_seq;

static void store_usage(_Atomic uint64_t *word, const struct gcs_usage *u)
{
    atomic_store_explicit(&word[0], u->reserved, memory_order_relaxed);
    atomic_store_explicit(&word[1], u->committed, memory_order_relaxed);
    atomic_store_explicit(&word[2], u->peak_reserved, memory_order_relaxed);
    atomic_store_explicit(&word[3], u->peak_committed, memory_order_relaxed);
}

static void load_usage(const _Atomic uint64_t *word, struct gcs_usage *u)
{
    u->reserved = atomic_load_explicit(&word[0], memory_order_relaxed);
    u->committed = atomic_load_explicit(&word[1], memory_order_relaxed);
    u->peak_reserved = atomic_load_explicit(&word[2], memory_order_relaxed);
    u->peak_committed = atomic_load_explicit(&word[3], memory_order_relaxed);
}

/* With the mutex held, after a change to the totals. Straight from the
 * book into the copy: staging the words on the stack first (memset and
 * two memcpy, which gcc made rep stos and rep movsq) took ~110 ns a
 * publish here, twice per mmap+munmap pair. */
static void publish_totals(void)
{
    uint32_t seq = atomic_load_explicit(&published_seq, memory_order_relaxed);
    _Atomic uint64_t *word = published[(seq + 1) & 1].word;
    /* A reader still on the copy rewritten here took an older count: the
     * count it took moved before any of these words changes, and it
     * retries. */
    atomic_thread_fence(memory_order_release);
    store_usage(word, &book.total);
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        store_usage(word + OWNER_WORD(o), &book.owner[o]);
    atomic_store_explicit(&word[FULL_WORD], book.full, memory_order_relaxed);
    /* release: the copy is whole before readers go to it */
    atomic_store_explicit(&published_seq, seq + 1, memory_order_release);
}

static void lock_book(void) { pthread_mutex_lock(&book_lock); }

static void unlock_book(void)
{
    publish_totals();
    pthread_mutex_unlock(&book_lock);
}

/* For a holder that changed no totals: nothing to publish. */
static void unlock_book_unchanged(void) { pthread_mutex_unlock(&book_lock); }

/* The totals as of the last publish into out's total, owner[] and
 * incomplete; false, and out untouched, only if a publish overlapped
 * each of 256 reads. Never waits for the mutex. */
static bool read_totals(struct gcs_mapped *out)
{
    struct gcs_usage total, owner[GCS_OWNERS];
    for (int attempt = 0; attempt < 256; attempt++) {
        uint32_t seq = atomic_load_explicit(&published_seq, memory_order_acquire);
        const _Atomic uint64_t *word = published[seq & 1].word;
        load_usage(word, &total);
        for (unsigned o = 0; o < GCS_OWNERS; o++)
            load_usage(word + OWNER_WORD(o), &owner[o]);
        bool full = atomic_load_explicit(&word[FULL_WORD], memory_order_relaxed) != 0;
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&published_seq, memory_order_relaxed) != seq)
            continue;
        out->incomplete = full;
        out->total = total;
        memcpy(out->owner, owner, sizeof out->owner);
        return true;
    }
    return false;
}

void gcs_memmap_enable(void)
{
    page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct gcs_object_info self;
    if (gcs_object_at((uintptr_t)gcs_memmap_enable, &self)) {
        self_lo = self.lo;
        self_hi = self.hi;
    }
    atomic_store(&enabled, true);
}

void gcs_memmap_disable(void) { atomic_store(&enabled, false); }
bool gcs_memmap_enabled(void) { return atomic_load_explicit(&enabled, memory_order_relaxed); }

static uintptr_t page_len(size_t len) { return gcs_page_round_up(len, page_size); }
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
    int got = gcs_stack_walk(raw, UNWIND_FRAMES);
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
    unlock_book_unchanged();   /* nothing has changed yet */

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

/* Until an isolate is attached, a site is the interposer's caller alone,
 * found without a walk: nearly all of a short process's mappings are
 * made then (`node -e 0` makes 20 to 50), on the main thread while node
 * starts, and a walk through node's unwind tables then was half of what
 * gcstats added to the peak RSS of `node -e 0` (docs/design.md,
 * "Benchmark"). Those sites are classified by the object holding the
 * caller, so V8's reservations (its heap's, its code range) are V8's, and
 * named by the writer like any other; V8's code range, which shares its
 * caller with the heap's reservations, gets a site of its own when the
 * isolate is attached (gcs_memmap_add_code_range). From the attach on,
 * stacks are walked once libunwind is loaded, 100 ms after the attach
 * (gcstats.c, stackwalk.h). Three kinds of caller-only site remain after
 * the attach: mappings between gcs_memmap_add_code_range and the end of
 * that attach (gcs_registry_ever_attached), mappings before libunwind is
 * loaded (gcs_stack_walk returns no frame, or for ever if it could not
 * be), and walks that found no frame beyond gcstats' own (unwind_site);
 * inside a code range, gcs_memmap_on_map puts them on the range's twin
 * too (no test makes the first or the last happen). */
static int site_frames(uintptr_t *frames, const void *caller)
{
    if (gcs_registry_ever_attached())
        return unwind_site(frames, caller);
    if (caller == NULL)
        return 0;
    frames[0] = (uintptr_t)caller;
    return 1;
}

/* Under the lock. A site made of the caller alone (site_frames) that has
 * intervals in the code range and is not code's gets a twin: the same
 * frames, owner v8_code, made once and found again by frames and owner
 * (lookups by frames alone find the first). The range's intervals go to
 * the twins, so that sites lines show the code range apart from V8's heap
 * reservations, which share its caller (v8::base::OS::Allocate). */
static unsigned code_twin_of(unsigned s)
{
    const struct gcs_site *site = &sites.sites[s];
    unsigned twin = gcs_sites_find_owned(&sites, site->frames, site->nframes, site->hash,
                                         GCS_OWNER_V8_CODE);
    if (twin != 0)
        return twin;
    return gcs_sites_add(&sites, site->frames, site->nframes, site->hash, GCS_OWNER_V8_CODE, site->caller);
}

void gcs_memmap_on_map(uintptr_t addr, size_t len, int prot, const void *caller)
{
    if (!gcs_memmap_enabled() || len == 0)
        return;
    uintptr_t frames[GCS_SITE_FRAMES];
    int n = site_frames(frames, caller);
    lock_book();
    unsigned site = site_for(frames, n);
    bool code = in_code_range(addr, page_len(len));
    if (code && site != 0 && n == 1 && sites.sites[site].owner != GCS_OWNER_V8_CODE) {
        unsigned twin = code_twin_of(site);
        if (twin != 0)
            site = twin;
    }
    unsigned owner = code      ? GCS_OWNER_V8_CODE
                     : site != 0 ? sites.sites[site].owner
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

static void code_range_sites(uintptr_t lo, uintptr_t len)
{
    static bool present[GCS_SITES];
    static uint16_t to_site[GCS_SITES];
    memset(present, 0, sizeof present);
    gcs_mappings_sites_in(&book, lo, len, present);
    bool moves = false;
    uint32_t count = atomic_load_explicit(&sites.count, memory_order_relaxed);
    for (uint32_t s = 0; s < GCS_SITES; s++) {
        to_site[s] = (uint16_t)s;
        const struct gcs_site *site = &sites.sites[s];
        if (s == 0 || s >= count || !present[s] || site->nframes > 1 || site->owner == GCS_OWNER_V8_CODE)
            continue;
        unsigned twin = code_twin_of(s);
        if (twin != 0) {
            to_site[s] = (uint16_t)twin;
            moves = true;
        }
    }
    if (moves)
        gcs_mappings_move_sites_in(&book, lo, len, to_site);
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
     * already in the book there is code space, under sites of its own. */
    uintptr_t lo = gcs_page_round_down(start, page_size), n = page_len(len);
    code_range_sites(lo, n);
    gcs_mappings_set_owner_in(&book, lo, n, GCS_OWNER_V8_CODE);
    unlock_book();
}

void gcs_memmap_remove_code_range(const void *key)
{
    lock_book();
    for (size_t i = 0; i < GCS_MAX_ISOLATES; i++)
        if (code_ranges[i].key == key)
            code_ranges[i].key = NULL;
    unlock_book_unchanged();
}

bool gcs_memmap_book_full(void)
{
    struct gcs_mapped now;
    return read_totals(&now) && now.incomplete;
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

/* ---- For the writer thread (site_names.c) ---------------------------------- */

uint32_t gcs_memmap_site_count(void)
{
    uint32_t count = atomic_load_explicit(&sites.count, memory_order_acquire);
    return count > GCS_SITES ? GCS_SITES : count;
}

const struct gcs_site *gcs_memmap_site(uint32_t idx)
{
    return &sites.sites[idx];
}

void gcs_memmap_refine_owner(uint32_t idx, const char *const *names, int n)
{
    lock_book();
    unsigned was = sites.sites[idx].owner;
    unsigned now = gcs_refine_owner(was, names, n);
    if (now != was) {
        gcs_mappings_reassign_site(&book, idx, was, now);
        sites.sites[idx].owner = (uint8_t)now;
    }
    unlock_book();
}

size_t gcs_memmap_copy(struct gcs_map_node *spans, size_t max_spans, struct gcs_usage *usage,
                       struct gcs_site *sites_copy, uint32_t count)
{
    lock_book();
    size_t n = gcs_mappings_list(&book, spans, max_spans);
    memcpy(usage, book.site, sizeof book.site);
    memcpy(sites_copy, sites.sites, count * sizeof sites_copy[0]);
    unlock_book_unchanged();
    return n;
}

const char *gcs_memmap_owner_name(unsigned owner)
{
    return gcs_owner_name(&objects, owner);
}
