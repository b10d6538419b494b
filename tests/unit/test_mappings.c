#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "mappings.h"

/* The kernel's page: 4 KiB, except where a test runs at another size
 * (aarch64 kernels use 4, 16 or 64 KiB). */
#define SMALL_PAGE 4096u
static uintptr_t page_size = SMALL_PAGE;
#define BASE ((uintptr_t)0x7f0000000000u)

static struct gcs_mappings book;   /* 3 MB: not on the stack */

static uintptr_t at(unsigned page) { return BASE + (uintptr_t)page * page_size; }

static void empty_book_has_nothing(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    struct gcs_map_node n;
    assert_false(gcs_mappings_find(&book, at(0), &n));
    assert_int_equal(book.total.reserved, 0);
    gcs_mappings_unmap(&book, at(0), 10 * page_size);   /* unknown: no effect */
    gcs_mappings_protect(&book, at(0), 10 * page_size, true);
    assert_int_equal(book.total.reserved, 0);
    assert_int_equal(book.intervals, 0);
}

/* V8's page on Node 18-22: 520,192 bytes PROT_NONE, trimmed by two
 * munmaps to an aligned 256 KiB page, committed with mprotect. */
static void v8_page_pattern(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    uintptr_t raw = at(3);
    uintptr_t len = 520192;
    gcs_mappings_map(&book, raw, len, false, 7, 2);
    assert_int_equal(book.total.reserved, 520192);
    assert_int_equal(book.total.committed, 0);
    uintptr_t aligned = at(64);   /* 256 KiB aligned relative to BASE */
    gcs_mappings_unmap(&book, raw, aligned - raw);
    gcs_mappings_unmap(&book, aligned + 262144, raw + len - (aligned + 262144));
    assert_int_equal(book.total.reserved, 262144);
    assert_int_equal(book.intervals, 1);
    gcs_mappings_protect(&book, aligned, 262144, true);
    assert_int_equal(book.total.committed, 262144);
    assert_int_equal(book.owner[2].committed, 262144);
    assert_int_equal(book.site[7].committed, 262144);
    assert_int_equal(book.owner[2].peak_reserved, 520192);
    gcs_mappings_unmap(&book, aligned, 262144);
    assert_int_equal(book.total.reserved, 0);
    assert_int_equal(book.total.committed, 0);
    assert_int_equal(book.total.peak_committed, 262144);
    assert_int_equal(book.intervals, 0);
}

/* Commits and decommits inside one reservation must not fragment it. */
static void reservation_does_not_fragment(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    gcs_mappings_map(&book, at(0), 4096 * page_size, false, 1, 1);
    for (unsigned i = 0; i < 4096; i += 2)
        gcs_mappings_protect(&book, at(i), page_size, true);
    assert_int_equal(book.total.committed, 2048 * page_size);
    assert_int_equal(book.intervals, 4096);
    for (unsigned i = 0; i < 4096; i += 2)
        gcs_mappings_protect(&book, at(i), page_size, false);
    assert_int_equal(book.total.committed, 0);
    assert_int_equal(book.intervals, 1);
    assert_int_equal(book.total.peak_committed, 2048 * page_size);
}

static void remap_moves_and_keeps_attributes(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    gcs_mappings_map(&book, at(0), 4 * page_size, true, 5, 3);
    gcs_mappings_remap(&book, at(0), 4 * page_size, at(100), 8 * page_size, false);
    struct gcs_map_node n;
    assert_false(gcs_mappings_find(&book, at(0), &n));
    assert_true(gcs_mappings_find(&book, at(107), &n));
    assert_int_equal(n.site, 5);
    assert_int_equal(n.owner, 3);
    assert_int_equal(book.owner[3].committed, 8 * page_size);
    /* MREMAP_DONTUNMAP keeps the old range. */
    gcs_mappings_remap(&book, at(100), 8 * page_size, at(200), 8 * page_size, true);
    assert_int_equal(book.owner[3].committed, 16 * page_size);
    /* Growing in place. */
    gcs_mappings_remap(&book, at(200), 8 * page_size, at(200), 10 * page_size, false);
    assert_int_equal(book.owner[3].committed, 18 * page_size);
    /* An unknown mapping moved over known pages: they are gone. */
    gcs_mappings_remap(&book, at(500), page_size, at(100), 2 * page_size, false);
    assert_int_equal(book.owner[3].committed, 16 * page_size);
}

static void owners_move_between_totals(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    gcs_mappings_map(&book, at(0), 10 * page_size, true, 4, 0);
    gcs_mappings_map(&book, at(20), 10 * page_size, false, 4, 0);
    gcs_mappings_map(&book, at(40), 10 * page_size, true, 6, 0);
    gcs_mappings_set_owner_in(&book, at(5), 20 * page_size, 1);   /* a code range */
    assert_int_equal(book.owner[1].reserved, 10 * page_size);   /* at(5..10) and at(20..25) */
    assert_int_equal(book.owner[1].committed, 5 * page_size);
    gcs_mappings_reassign_site(&book, 4, 0, 2);
    assert_int_equal(book.owner[2].reserved, 10 * page_size);   /* at(0..5) and at(25..30) */
    assert_int_equal(book.owner[0].reserved, 10 * page_size);   /* site 6 untouched */
    assert_int_equal(book.owner[1].reserved, 10 * page_size);   /* owner 1 was not "from" */
    assert_int_equal(book.total.reserved, 30 * page_size);
}

/* V8's code range, reserved before the isolate is attached, shares its
 * caller-only site with the heap's reservations: at attach its intervals
 * move to a site of their own, bytes and all, and the intervals outside
 * stay. */
static void a_range_moves_to_another_site(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    gcs_mappings_map(&book, at(0), 10 * page_size, false, 4, 0);    /* a heap reservation */
    gcs_mappings_map(&book, at(20), 10 * page_size, false, 4, 0);   /* the code range */
    gcs_mappings_protect(&book, at(22), 2 * page_size, true);
    gcs_mappings_map(&book, at(26), 2 * page_size, true, 6, 0);     /* placed in it */
    static bool present[GCS_SITES];
    memset(present, 0, sizeof present);
    gcs_mappings_sites_in(&book, at(20), 10 * page_size, present);
    assert_true(present[4] && present[6]);
    assert_false(present[0] || present[5] || present[7]);
    static uint16_t to[GCS_SITES];
    for (unsigned s = 0; s < GCS_SITES; s++)
        to[s] = (uint16_t)s;
    to[4] = 7;
    gcs_mappings_move_sites_in(&book, at(20), 10 * page_size, to);
    assert_int_equal(book.site[4].reserved, 10 * page_size);   /* the heap reservation */
    assert_int_equal(book.site[4].committed, 0);
    assert_int_equal(book.site[7].reserved, 8 * page_size);
    assert_int_equal(book.site[7].committed, 2 * page_size);
    assert_int_equal(book.site[6].reserved, 2 * page_size);    /* not moved */
    assert_int_equal(book.total.reserved, 20 * page_size);
    /* The heap reservation's peaks no longer count what moved (its peak of 20 pages
     * less the 8 moved: the 2 pages the later mapping replaced were
     * there at the peak). */
    assert_int_equal(book.site[4].peak_reserved, 12 * page_size);
    assert_int_equal(book.site[4].peak_committed, 0);
    assert_int_equal(book.site[7].peak_reserved, 8 * page_size);
    assert_int_equal(book.site[7].peak_committed, 2 * page_size);
    struct gcs_map_node n;
    assert_true(gcs_mappings_find(&book, at(29), &n));
    assert_int_equal(n.site, 7);
    assert_true(gcs_mappings_find(&book, at(9), &n));
    assert_int_equal(n.site, 4);
}

static void wrapping_range_is_clamped(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    uintptr_t top = UINTPTR_MAX - 4 * page_size + 1;
    gcs_mappings_map(&book, top, 4 * page_size, true, 1, 1);
    gcs_mappings_unmap(&book, top + page_size, 16 * page_size);   /* wraps */
    assert_int_equal(book.total.reserved, page_size);
}

/* A full book stops changing and keeps its totals consistent. */
static void full_book_stays_consistent(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    unsigned i;
    for (i = 0; i < GCS_MAP_NODES + 10; i++)
        gcs_mappings_map(&book, at(2 * i), page_size, (i & 1) != 0, i % GCS_SITES, i % GCS_OWNERS);
    assert_true(book.full);
    assert_int_equal(book.intervals, GCS_MAP_NODES - 1);
    assert_int_equal(book.total.reserved, (uint64_t)(GCS_MAP_NODES - 1) * page_size);
    uint64_t sum = 0;
    for (unsigned o = 0; o < GCS_OWNERS; o++)
        sum += book.owner[o].reserved;
    assert_int_equal(sum, book.total.reserved);
}

/* ---- Against a model: one cell per page ---------------------------------- */

#define MODEL_PAGES 96

struct cell { bool mapped, accessible; unsigned site, owner; };

struct model {
    struct cell c[MODEL_PAGES];
    struct gcs_usage owner[GCS_OWNERS], site[GCS_SITES], total;
};

static void model_totals(struct model *md)
{
    struct gcs_usage o[GCS_OWNERS] = { 0 }, t = { 0 };
    static struct gcs_usage s[GCS_SITES];
    memset(s, 0, sizeof s);
    for (int p = 0; p < MODEL_PAGES; p++) {
        const struct cell *c = &md->c[p];
        if (!c->mapped)
            continue;
        o[c->owner].reserved += page_size;
        s[c->site].reserved += page_size;
        t.reserved += page_size;
        if (c->accessible) {
            o[c->owner].committed += page_size;
            s[c->site].committed += page_size;
            t.committed += page_size;
        }
    }
#define KEEP(dst, src)                                                                     \
    do {                                                                                    \
        (dst).reserved = (src).reserved;                                                    \
        (dst).committed = (src).committed;                                                  \
        if ((dst).reserved > (dst).peak_reserved) (dst).peak_reserved = (dst).reserved;     \
        if ((dst).committed > (dst).peak_committed) (dst).peak_committed = (dst).committed; \
    } while (0)
    for (int i = 0; i < GCS_OWNERS; i++)
        KEEP(md->owner[i], o[i]);
    for (int i = 0; i < GCS_SITES; i++)
        KEEP(md->site[i], s[i]);
    KEEP(md->total, t);
#undef KEEP
}

static void check_usage(const struct gcs_usage *a, const struct gcs_usage *b)
{
    assert_int_equal(a->reserved, b->reserved);
    assert_int_equal(a->committed, b->committed);
    assert_int_equal(a->peak_reserved, b->peak_reserved);
    assert_int_equal(a->peak_committed, b->peak_committed);
}

/* In order, disjoint, heap-ordered; returns the count. */
static uint64_t check_tree(uint32_t t, uintptr_t *last_end)
{
    if (t == 0)
        return 0;
    const struct gcs_map_node *n = &book.nodes[t];
    if (n->left)
        assert_true(book.nodes[n->left].priority <= n->priority);
    if (n->right)
        assert_true(book.nodes[n->right].priority <= n->priority);
    uint64_t count = check_tree(n->left, last_end);
    assert_true(n->start >= *last_end);
    assert_true(n->end > n->start);
    *last_end = n->end;
    return count + 1 + check_tree(n->right, last_end);
}

static void check_against(const struct model *md)
{
    for (int p = 0; p < MODEL_PAGES; p++) {
        struct gcs_map_node n;
        bool found = gcs_mappings_find(&book, at((unsigned)p), &n);
        assert_int_equal(found, md->c[p].mapped);
        if (found) {
            assert_int_equal(n.accessible, md->c[p].accessible);
            assert_int_equal(n.site, md->c[p].site);
            assert_int_equal(n.owner, md->c[p].owner);
        }
    }
    for (int i = 0; i < GCS_OWNERS; i++)
        check_usage(&book.owner[i], &md->owner[i]);
    for (int i = 0; i < 16; i++)
        check_usage(&book.site[i], &md->site[i]);
    check_usage(&book.total, &md->total);
    uintptr_t last_end = 0;
    assert_int_equal(check_tree(book.root, &last_end), book.intervals);
    static struct gcs_map_node listed[MODEL_PAGES];
    size_t n = gcs_mappings_list(&book, listed, MODEL_PAGES);
    assert_int_equal(n, book.intervals);
    uint64_t listed_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_true(listed[i].start >= listed[i - 1].end);
        listed_bytes += listed[i].end - listed[i].start;
    }
    assert_int_equal(listed_bytes, book.total.reserved);
    if (n > 1)
        assert_int_equal(gcs_mappings_list(&book, listed, 1), 1);
}

static void random_operations_match_the_model(void **state)
{
    (void)state;
    static struct model md;
    memset(&md, 0, sizeof md);
    gcs_mappings_init(&book);
    srand(12345);
    for (int step = 0; step < 200000; step++) {
        unsigned a = (unsigned)rand() % MODEL_PAGES;
        unsigned n = 1 + (unsigned)rand() % 12;
        if (a + n > MODEL_PAGES)
            n = MODEL_PAGES - a;
        bool acc = rand() & 1;
        unsigned site = (unsigned)rand() % 8, owner = (unsigned)rand() % 5;
        switch (rand() % 7) {
        case 0:
        case 1:
            gcs_mappings_map(&book, at(a), n * page_size, acc, site, owner);
            for (unsigned p = a; p < a + n; p++)
                md.c[p] = (struct cell){ true, acc, site, owner };
            break;
        case 2:
            gcs_mappings_unmap(&book, at(a), n * page_size);
            for (unsigned p = a; p < a + n; p++)
                md.c[p].mapped = false;
            break;
        case 3:
            gcs_mappings_protect(&book, at(a), n * page_size, acc);
            for (unsigned p = a; p < a + n; p++)
                if (md.c[p].mapped)
                    md.c[p].accessible = acc;
            break;
        case 4: {
            unsigned b = (unsigned)rand() % MODEL_PAGES;
            unsigned m = 1 + (unsigned)rand() % 12;
            if (b + m > MODEL_PAGES)
                m = MODEL_PAGES - b;
            bool keep = rand() % 4 == 0;
            struct cell was = md.c[a];
            gcs_mappings_remap(&book, at(a), n * page_size, at(b), m * page_size, keep);
            if (!keep)
                for (unsigned p = a; p < a + n; p++)
                    md.c[p].mapped = false;
            for (unsigned p = b; p < b + m; p++) {
                if (was.mapped)
                    md.c[p] = was;
                else
                    md.c[p].mapped = false;
            }
            break;
        }
        case 5:
            if (rand() & 1) {
                gcs_mappings_set_owner_in(&book, at(a), n * page_size, owner);
                for (unsigned p = a; p < a + n; p++)
                    if (md.c[p].mapped)
                        md.c[p].owner = owner;
            } else {
                unsigned from = (unsigned)rand() % 5;
                gcs_mappings_reassign_site(&book, site, from, owner);
                for (unsigned p = 0; p < MODEL_PAGES; p++)
                    if (md.c[p].mapped && md.c[p].site == site && md.c[p].owner == from)
                        md.c[p].owner = owner;
            }
            break;
        case 6: {
            /* The sites present in the range, then some of them moved. */
            static bool present[GCS_SITES];
            memset(present, 0, sizeof present);
            gcs_mappings_sites_in(&book, at(a), n * page_size, present);
            for (unsigned s = 0; s < 8; s++) {
                bool there = false;
                for (unsigned p = a; p < a + n; p++)
                    there |= md.c[p].mapped && md.c[p].site == s;
                assert_int_equal(present[s], there);
            }
            /* Sites 0..7 move to 8..15, which are never moved from (as at
             * attach: caller-only sites to their v8_code twins). */
            static uint16_t to[GCS_SITES];
            for (unsigned s = 0; s < GCS_SITES; s++)
                to[s] = (uint16_t)(s < 8 && rand() % 3 == 0 ? 8 + (unsigned)rand() % 8 : s);
            gcs_mappings_move_sites_in(&book, at(a), n * page_size, to);
            uint64_t moved_r[8] = { 0 }, moved_c[8] = { 0 };
            for (unsigned p = a; p < a + n; p++) {
                struct cell *c = &md.c[p];
                if (!c->mapped || to[c->site] == c->site)
                    continue;
                moved_r[c->site] += page_size;
                if (c->accessible)
                    moved_c[c->site] += page_size;
                c->site = to[c->site];
            }
            /* A move is no release: the sites left lose the bytes from
             * their peaks, down to what they hold (model_totals raises
             * them back to that). */
            for (unsigned s = 0; s < 8; s++) {
                struct gcs_usage *u = &md.site[s];
                u->peak_reserved = u->peak_reserved >= moved_r[s] ? u->peak_reserved - moved_r[s] : 0;
                u->peak_committed = u->peak_committed >= moved_c[s] ? u->peak_committed - moved_c[s] : 0;
            }
            break;
        }
        }
        model_totals(&md);
        if (step % 7 == 0 || step > 199000)
            check_against(&md);
    }
    assert_false(book.full);
}

/* What memmap.c does with the lengths the program passes: the book gets
 * whole pages of the kernel's size, not of 4 KiB. */
static void lengths_are_whole_pages(void **state)
{
    (void)state;
    gcs_mappings_init(&book);
    assert_int_equal(gcs_page_round_up(0, page_size), 0);
    /* mmap(NULL, 4096): one whole page */
    gcs_mappings_map(&book, at(0), gcs_page_round_up(4096, page_size), true, 1, 1);
    assert_int_equal(book.total.reserved, page_size);
    /* three pages and a byte: four pages */
    gcs_mappings_map(&book, at(10), gcs_page_round_up(3 * page_size + 1, page_size), false, 2, 1);
    assert_int_equal(book.total.reserved, 5 * page_size);
    /* mprotect of one byte: its whole page */
    gcs_mappings_protect(&book, at(10), gcs_page_round_up(1, page_size), true);
    assert_int_equal(book.total.committed, 2 * page_size);
    /* munmap(at(0), 4096): the whole page goes */
    gcs_mappings_unmap(&book, at(0), gcs_page_round_up(4096, page_size));
    assert_int_equal(book.total.reserved, 4 * page_size);
    assert_int_equal(book.total.committed, page_size);
    /* mremap to four pages and a byte: five */
    gcs_mappings_remap(&book, at(10), gcs_page_round_up(4 * page_size, page_size), at(20),
                       gcs_page_round_up(4 * page_size + 1, page_size), false);
    assert_int_equal(book.total.reserved, 5 * page_size);
    assert_int_equal(book.site[2].reserved, 5 * page_size);
    /* an address inside a page (a code range's start): that page */
    assert_int_equal(gcs_page_round_down(at(3) + SMALL_PAGE + 1, page_size), page_size == SMALL_PAGE ? at(4) : at(3));
}

static int small_pages(void **state) { (void)state; page_size = SMALL_PAGE; return 0; }
static int pages_16k(void **state) { (void)state; page_size = 16384; return 0; }
static int pages_64k(void **state) { (void)state; page_size = 65536; return 0; }

/* The tests that hold at any page size, at the sizes of aarch64 kernels
 * (4 KiB runs them in main's list). */
#define AT_PAGE_SIZE(f, size, setup) { #f " (" size " pages)", f, setup, small_pages, NULL }
#define AT_BIG_PAGES(f) AT_PAGE_SIZE(f, "16 KiB", pages_16k), AT_PAGE_SIZE(f, "64 KiB", pages_64k)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_book_has_nothing),
        cmocka_unit_test(v8_page_pattern),
        cmocka_unit_test(reservation_does_not_fragment),
        cmocka_unit_test(remap_moves_and_keeps_attributes),
        cmocka_unit_test(owners_move_between_totals),
        cmocka_unit_test(a_range_moves_to_another_site),
        cmocka_unit_test(wrapping_range_is_clamped),
        cmocka_unit_test(full_book_stays_consistent),
        cmocka_unit_test(random_operations_match_the_model),
        cmocka_unit_test(lengths_are_whole_pages),
        AT_BIG_PAGES(lengths_are_whole_pages),
        AT_BIG_PAGES(empty_book_has_nothing),
        AT_BIG_PAGES(reservation_does_not_fragment),
        AT_BIG_PAGES(remap_moves_and_keeps_attributes),
        AT_BIG_PAGES(owners_move_between_totals),
        AT_BIG_PAGES(wrapping_range_is_clamped),
        AT_BIG_PAGES(full_book_stays_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
