/* A treap of disjoint intervals ordered by start address, in a fixed pool.
 *
 * Every range operation has the same shape: cut the intervals that
 * straddle the range's ends, split the tree into "before", "inside" and
 * "after", change or drop the inside part, merge back, and join the
 * neighbours at the ends again when they have become alike (so that
 * repeated commits and decommits inside one reservation do not fragment
 * the book). Expected depth is logarithmic thanks to random priorities;
 * the recursion is that deep. */
#include "mappings.h"

#include <string.h>

#define NIL 0u

uintptr_t gcs_page_round_up(uintptr_t len, uintptr_t page_size)
{
    return (len + page_size - 1) & ~(page_size - 1);
}

uintptr_t gcs_page_round_down(uintptr_t addr, uintptr_t page_size)
{
    return addr & ~(page_size - 1);
}

void gcs_mappings_init(struct gcs_mappings *m)
{
    memset(m, 0, sizeof *m);
}

static uint32_t next_priority(struct gcs_mappings *m)
{
    uint32_t x = m->rng ? m->rng : 0x9e3779b9u;   /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    m->rng = x;
    return x;
}

static uint32_t new_node(struct gcs_mappings *m)
{
    uint32_t n;
    if (m->free_list != NIL) {
        n = m->free_list;
        m->free_list = m->nodes[n].left;
    } else {
        if (m->next_unused == NIL)
            m->next_unused = 1;
        if (m->next_unused >= GCS_MAP_NODES) {
            m->full = true;
            return NIL;
        }
        n = m->next_unused++;
    }
    memset(&m->nodes[n], 0, sizeof m->nodes[n]);
    m->nodes[n].priority = next_priority(m);
    m->intervals++;
    return n;
}

static void free_node(struct gcs_mappings *m, uint32_t n)
{
    m->nodes[n].left = m->free_list;
    m->nodes[n].right = NIL;
    m->free_list = n;
    m->intervals--;
}

static void raise_peak(struct gcs_usage *u)
{
    if (u->reserved > u->peak_reserved)
        u->peak_reserved = u->reserved;
    if (u->committed > u->peak_committed)
        u->peak_committed = u->committed;
}

static void add_to(struct gcs_usage *u, uint64_t len, bool accessible)
{
    u->reserved += len;
    if (accessible)
        u->committed += len;
    raise_peak(u);
}

static void take_from(struct gcs_usage *u, uint64_t len, bool accessible)
{
    u->reserved -= len;
    if (accessible)
        u->committed -= len;
}

static void count_in(struct gcs_mappings *m, const struct gcs_map_node *n)
{
    uint64_t len = n->end - n->start;
    add_to(&m->total, len, n->accessible);
    add_to(&m->owner[n->owner], len, n->accessible);
    add_to(&m->site[n->site], len, n->accessible);
}

static void count_out(struct gcs_mappings *m, const struct gcs_map_node *n)
{
    uint64_t len = n->end - n->start;
    take_from(&m->total, len, n->accessible);
    take_from(&m->owner[n->owner], len, n->accessible);
    take_from(&m->site[n->site], len, n->accessible);
}

/* l gets the intervals starting before key, r the others. */
static void split(struct gcs_mappings *m, uint32_t t, uintptr_t key, uint32_t *l, uint32_t *r)
{
    if (t == NIL) {
        *l = *r = NIL;
        return;
    }
    struct gcs_map_node *n = &m->nodes[t];
    if (n->start < key) {
        split(m, n->right, key, &n->right, r);
        *l = t;
    } else {
        split(m, n->left, key, l, &n->left);
        *r = t;
    }
}

/* Every interval of a lies before every interval of b. */
static uint32_t merge(struct gcs_mappings *m, uint32_t a, uint32_t b)
{
    if (a == NIL)
        return b;
    if (b == NIL)
        return a;
    if (m->nodes[a].priority > m->nodes[b].priority) {
        m->nodes[a].right = merge(m, m->nodes[a].right, b);
        return a;
    }
    m->nodes[b].left = merge(m, a, m->nodes[b].left);
    return b;
}

static uint32_t find_containing(const struct gcs_mappings *m, uintptr_t addr)
{
    uint32_t t = m->root;
    while (t != NIL) {
        const struct gcs_map_node *n = &m->nodes[t];
        if (addr < n->start)
            t = n->left;
        else if (addr >= n->end)
            t = n->right;
        else
            return t;
    }
    return NIL;
}

bool gcs_mappings_find(const struct gcs_mappings *m, uintptr_t addr, struct gcs_map_node *out)
{
    uint32_t t = find_containing(m, addr);
    if (t == NIL)
        return false;
    *out = m->nodes[t];
    return true;
}

static void insert(struct gcs_mappings *m, uint32_t n)
{
    uint32_t l, r;
    split(m, m->root, m->nodes[n].start, &l, &r);
    m->root = merge(m, merge(m, l, n), r);
}

/* Makes x a boundary: an interval with start < x < end becomes two. */
static bool cut_at(struct gcs_mappings *m, uintptr_t x)
{
    uint32_t t = find_containing(m, x);
    if (t == NIL || m->nodes[t].start == x)
        return true;
    uint32_t n = new_node(m);
    if (n == NIL)
        return false;
    struct gcs_map_node *old = &m->nodes[t], *tail = &m->nodes[n];
    tail->start = x;
    tail->end = old->end;
    tail->site = old->site;
    tail->owner = old->owner;
    tail->accessible = old->accessible;
    old->end = x;
    insert(m, n);
    return true;
}

static bool alike(const struct gcs_map_node *a, const struct gcs_map_node *b)
{
    return a->end == b->start && a->site == b->site && a->owner == b->owner &&
           a->accessible == b->accessible;
}

/* Joins the intervals ending and starting at x if nothing tells them apart. */
static void join_at(struct gcs_mappings *m, uintptr_t x)
{
    if (x == 0)
        return;
    uint32_t left = find_containing(m, x - 1);
    uint32_t right = find_containing(m, x);
    if (left == NIL || right == NIL || left == right || !alike(&m->nodes[left], &m->nodes[right]))
        return;
    uint32_t l, mid, r;
    split(m, m->root, x, &l, &r);
    split(m, r, x + 1, &mid, &r);   /* mid is exactly the right-hand interval */
    m->nodes[left].end = m->nodes[right].end;
    free_node(m, right);
    m->root = merge(m, l, r);
}

enum range_op { OP_UNMAP, OP_MAP, OP_PROTECT, OP_OWNER, OP_SITES };

struct op_args {
    enum range_op op;
    bool accessible;
    unsigned owner;
    const uint16_t *to_site;   /* OP_SITES */
};

static void drop_all(struct gcs_mappings *m, uint32_t t)
{
    if (t == NIL)
        return;
    drop_all(m, m->nodes[t].left);
    drop_all(m, m->nodes[t].right);
    count_out(m, &m->nodes[t]);
    free_node(m, t);
}

/* A move corrects where bytes were put, it does not free them: the site
 * they leave had its peak raised by them, and loses as much of it as it
 * can without falling under what it holds now. */
static void lower_peak(struct gcs_usage *u, uint64_t len, bool accessible)
{
    uint64_t r = u->peak_reserved >= len ? u->peak_reserved - len : 0;
    u->peak_reserved = r > u->reserved ? r : u->reserved;
    if (accessible) {
        uint64_t c = u->peak_committed >= len ? u->peak_committed - len : 0;
        u->peak_committed = c > u->committed ? c : u->committed;
    }
}

static void change_all(struct gcs_mappings *m, uint32_t t, const struct op_args *a)
{
    if (t == NIL)
        return;
    struct gcs_map_node *n = &m->nodes[t];
    change_all(m, n->left, a);
    change_all(m, n->right, a);
    if (a->op == OP_SITES) {
        unsigned to = a->to_site[n->site];
        if (to >= GCS_SITES || to == n->site)
            return;
        uint64_t len = n->end - n->start;
        take_from(&m->site[n->site], len, n->accessible);
        lower_peak(&m->site[n->site], len, n->accessible);
        n->site = (uint16_t)to;
        add_to(&m->site[to], len, n->accessible);
        return;
    }
    count_out(m, n);
    if (a->op == OP_PROTECT)
        n->accessible = a->accessible;
    else
        n->owner = (uint8_t)a->owner;
    count_in(m, n);
}

static void apply(struct gcs_mappings *m, uintptr_t start, uintptr_t len, const struct op_args *a,
                  unsigned site)
{
    if (len == 0 || m->full)
        return;
    uintptr_t end = start + len;
    if (end < start)
        end = UINTPTR_MAX;   /* clamp a range that wraps around */
    /* A new mapping needs its node before anything is changed: a full
     * book must stay right, not half-updated. */
    uint32_t fresh = NIL;
    if (a->op == OP_MAP && (fresh = new_node(m)) == NIL)
        return;
    if (!cut_at(m, start) || !cut_at(m, end)) {
        if (fresh != NIL)
            free_node(m, fresh);
        return;
    }
    uint32_t before, inside, after;
    split(m, m->root, start, &before, &inside);
    split(m, inside, end, &inside, &after);
    switch (a->op) {
    case OP_UNMAP:
        drop_all(m, inside);
        inside = NIL;
        break;
    case OP_MAP: {
        drop_all(m, inside);
        struct gcs_map_node *n = &m->nodes[fresh];
        n->start = start;
        n->end = end;
        n->site = (uint16_t)(site < GCS_SITES ? site : 0);
        n->owner = (uint8_t)(a->owner < GCS_OWNERS ? a->owner : 0);
        n->accessible = a->accessible;
        count_in(m, n);
        inside = fresh;
        break;
    }
    case OP_PROTECT:
    case OP_OWNER:
    case OP_SITES:
        change_all(m, inside, a);
        break;
    }
    m->root = merge(m, merge(m, before, inside), after);
    join_at(m, start);
    join_at(m, end);
}

void gcs_mappings_map(struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool accessible,
                      unsigned site, unsigned owner)
{
    struct op_args a = { .op = OP_MAP, .accessible = accessible, .owner = owner };
    apply(m, start, len, &a, site);
}

void gcs_mappings_unmap(struct gcs_mappings *m, uintptr_t start, uintptr_t len)
{
    struct op_args a = { .op = OP_UNMAP };
    apply(m, start, len, &a, 0);
}

void gcs_mappings_protect(struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool accessible)
{
    struct op_args a = { .op = OP_PROTECT, .accessible = accessible };
    apply(m, start, len, &a, 0);
}

void gcs_mappings_set_owner_in(struct gcs_mappings *m, uintptr_t start, uintptr_t len,
                               unsigned owner)
{
    if (owner >= GCS_OWNERS)
        return;
    struct op_args a = { .op = OP_OWNER, .owner = owner };
    apply(m, start, len, &a, 0);
}

static void mark_sites(const struct gcs_mappings *m, uint32_t t, uintptr_t start, uintptr_t end,
                       bool *present)
{
    if (t == NIL)
        return;
    const struct gcs_map_node *n = &m->nodes[t];
    if (n->start > start)
        mark_sites(m, n->left, start, end, present);
    if (n->start < end && n->end > start)
        present[n->site] = true;
    if (n->end < end)
        mark_sites(m, n->right, start, end, present);
}

void gcs_mappings_sites_in(const struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool *present)
{
    uintptr_t end = start + len;
    if (len == 0)
        return;
    if (end < start)
        end = UINTPTR_MAX;
    mark_sites(m, m->root, start, end, present);
}

void gcs_mappings_move_sites_in(struct gcs_mappings *m, uintptr_t start, uintptr_t len,
                                const uint16_t *to_site)
{
    struct op_args a = { .op = OP_SITES, .to_site = to_site };
    apply(m, start, len, &a, 0);
}

void gcs_mappings_remap(struct gcs_mappings *m, uintptr_t old_start, uintptr_t old_len,
                        uintptr_t new_start, uintptr_t new_len, bool keep_old)
{
    struct gcs_map_node was;
    if (!gcs_mappings_find(m, old_start, &was)) {
        /* Not a mapping gcstats saw made: whatever was at the new place is gone. */
        if (!keep_old)
            gcs_mappings_unmap(m, old_start, old_len);
        gcs_mappings_unmap(m, new_start, new_len);
        return;
    }
    if (!keep_old && old_len > 0)
        gcs_mappings_unmap(m, old_start, old_len);
    gcs_mappings_map(m, new_start, new_len, was.accessible, was.site, was.owner);
}

static void reassign(struct gcs_mappings *m, uint32_t t, unsigned site, unsigned from, unsigned to)
{
    if (t == NIL)
        return;
    struct gcs_map_node *n = &m->nodes[t];
    reassign(m, n->left, site, from, to);
    reassign(m, n->right, site, from, to);
    if (n->site == site && n->owner == from) {
        count_out(m, n);
        n->owner = (uint8_t)to;
        count_in(m, n);
    }
}

void gcs_mappings_reassign_site(struct gcs_mappings *m, unsigned site, unsigned from_owner,
                                unsigned to_owner)
{
    if (site >= GCS_SITES || from_owner >= GCS_OWNERS || to_owner >= GCS_OWNERS ||
        from_owner == to_owner)
        return;
    reassign(m, m->root, site, from_owner, to_owner);
}

static size_t list_from(const struct gcs_mappings *m, uint32_t t, struct gcs_map_node *out,
                        size_t n, size_t max)
{
    if (t == NIL || n >= max)
        return n;
    n = list_from(m, m->nodes[t].left, out, n, max);
    if (n < max)
        out[n++] = m->nodes[t];
    return list_from(m, m->nodes[t].right, out, n, max);
}

size_t gcs_mappings_list(const struct gcs_mappings *m, struct gcs_map_node *out, size_t max)
{
    return list_from(m, m->root, out, 0, max);
}
