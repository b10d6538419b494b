/* Names and resident bytes of the call sites that map memory: the writer
 * thread's side of the book (memmap.h), for the sites lines.
 *
 * Everything here runs on the writer thread only, and its statics are
 * that thread's: reading symbol tables (symbols.h: file I/O, allocation),
 * asking the kernel which pages are resident (mincore). The book is read
 * through memmap.h, which copies under the book's lock and calls nothing
 * while holding it. */
#include "site_names.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "memmap.h"
#include "sites.h"
#include "symbols.h"

/* New sites are named at most this often. */
#define REFINE_INTERVAL_MS 1000

/* Names of the frames users see, per site: filled by the writer only. */
#define SHOWN GCS_SITE_SHOWN_FRAMES
static struct {
    bool named;
    struct gcs_site_frame frame[SHOWN];
    int nframes;
} site_names[GCS_SITES];
static uint32_t sites_named;   /* sites below this have names */
/* When new sites may be named next; 0 before the first wake-up. */
static int64_t next_refine_ms;

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
            const struct gcs_site *s = gcs_memmap_site(last);
            for (int i = shown_from(s); i < s->nframes; i++)
                q[nq++].addr = s->frames[i] - 1;
        }
        gcs_symbolize(q, nq);
        size_t k = 0;
        for (uint32_t idx = first; idx < last; idx++) {
            const struct gcs_site *s = gcs_memmap_site(idx);
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
            gcs_memmap_refine_owner(idx, names, nn);
        }
        sites_named = last;
    }
}

static void refine(bool now_or_never)
{
    if (!gcs_memmap_enabled())
        return;
    uint32_t count = gcs_memmap_site_count();
    if (count == 0)
        return;
    if (sites_named == 0)
        sites_named = 1;
    int64_t now = gcs_monotonic_ms();
    /* Not at the first wake-up (the start line): naming reads node's
     * symbol table, milliseconds of work that would compete with node's
     * own start-up, and a process that ends within the interval never
     * pays for it. */
    if (next_refine_ms == 0)
        next_refine_ms = now + REFINE_INTERVAL_MS;
    if (sites_named >= count || (!now_or_never && now < next_refine_ms))
        return;
    next_refine_ms = now + REFINE_INTERVAL_MS;
    name_new_sites(count);
}

void gcs_site_names_refine(void)
{
    refine(false);
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
    size_t n = gcs_memmap_copy(spans, GCS_MAP_NODES, usage, copy, count);
    memset(resident_of, 0, GCS_SITES * sizeof *resident_of);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
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

size_t gcs_site_names_top(struct gcs_site_report *out, size_t max)
{
    if (!gcs_memmap_enabled() || max == 0)
        return 0;
    refine(true);   /* every site gets its names before it is shown */
    static struct gcs_usage usage[GCS_SITES];
    static uint64_t resident_of[GCS_SITES];
    static struct gcs_site copy[GCS_SITES];
    static struct { unsigned site; struct gcs_usage usage; uint64_t resident; } group[GCS_SITES];
    uint32_t count = gcs_memmap_site_count();
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
        r->owner = gcs_memmap_owner_name(copy[i].owner);
        r->usage = *u;
        r->resident = res;
        r->nframes = site_names[i].named ? site_names[i].nframes : 0;
        memcpy(r->frame, site_names[i].frame, sizeof r->frame);
    }
    return n;
}
