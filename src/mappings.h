/* The book of live memory mappings: which address ranges are mapped, by
 * whom (owner and call site), and whether they are accessible.
 *
 * It mirrors the kernel's view for the mappings it is told about: a new
 * mapping replaces whatever it overlaps (MAP_FIXED), an unmap or a
 * protection change may cut a mapping in two. "Reserved" bytes are all
 * mapped bytes; "committed" bytes are the accessible ones (V8 reserves
 * PROT_NONE and commits with mprotect). Totals and peaks are kept per owner
 * and per site as the book changes, so reading them costs nothing.
 *
 * Pure and fixed-size: no allocation, no syscalls, no locking. The caller
 * serialises calls. Ranges must be page-aligned by the caller. */
#ifndef GCSTATS_MAPPINGS_H
#define GCSTATS_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Intervals the book can hold (a 256 KiB V8 page is one; a 4 GiB heap
 * needs ~16k). When full, the book stops changing and says so. */
#define GCS_MAP_NODES 65536u
/* Five fixed owners and six named objects (see sites.h). */
#define GCS_OWNERS 11
#define GCS_SITES 1024

struct gcs_usage {
    uint64_t reserved, committed;
    uint64_t peak_reserved, peak_committed;
};

struct gcs_map_node {
    uintptr_t start, end;
    uint32_t left, right;   /* indices into nodes; 0 is "none" */
    uint32_t priority;
    uint16_t site;
    uint8_t owner;
    uint8_t accessible;
};

struct gcs_mappings {
    struct gcs_map_node nodes[GCS_MAP_NODES];
    uint32_t root, free_list, next_unused, rng;
    bool full;              /* an operation needed a node that was not there */
    uint64_t intervals;
    struct gcs_usage total;
    struct gcs_usage owner[GCS_OWNERS];
    struct gcs_usage site[GCS_SITES];
};

/* Page arithmetic for the calls the book mirrors: the kernel rounds the
 * length of mmap, munmap, mprotect and mremap up to whole pages, and a
 * range starts at its page. page_size is the kernel's (sysconf), a power
 * of two: 4 KiB on x86-64; 4, 16 or 64 KiB on aarch64. */
uintptr_t gcs_page_round_up(uintptr_t len, uintptr_t page_size);
uintptr_t gcs_page_round_down(uintptr_t addr, uintptr_t page_size);

/* A zeroed book is empty and ready. */
void gcs_mappings_init(struct gcs_mappings *m);

/* [start, start+len) is now mapped (replacing what was there). */
void gcs_mappings_map(struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool accessible,
                      unsigned site, unsigned owner);
void gcs_mappings_unmap(struct gcs_mappings *m, uintptr_t start, uintptr_t len);
/* mprotect: the mapped parts of the range become (in)accessible. */
void gcs_mappings_protect(struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool accessible);
/* mremap: the mapping at old_start moved to (or was resized at) new_start,
 * keeping its site, owner and accessibility. keep_old: MREMAP_DONTUNMAP. */
void gcs_mappings_remap(struct gcs_mappings *m, uintptr_t old_start, uintptr_t old_len,
                        uintptr_t new_start, uintptr_t new_len, bool keep_old);
/* Every interval inside [start, start+len) now belongs to owner. */
void gcs_mappings_set_owner_in(struct gcs_mappings *m, uintptr_t start, uintptr_t len,
                               unsigned owner);
/* Marks present[site] (GCS_SITES entries) for the site of every interval
 * that overlaps [start, start+len). */
void gcs_mappings_sites_in(const struct gcs_mappings *m, uintptr_t start, uintptr_t len, bool *present);
/* Every interval inside [start, start+len) moves to site to_site[its site]
 * (GCS_SITES entries; to_site[s] == s keeps it), its bytes with it: a
 * correction, not a release, so the site left also loses them from its
 * peaks (as far as it can: never under what it holds). */
void gcs_mappings_move_sites_in(struct gcs_mappings *m, uintptr_t start, uintptr_t len,
                                const uint16_t *to_site);
/* Every interval of site whose owner is from_owner now belongs to to_owner
 * (a site classified better once its frames have names). */
void gcs_mappings_reassign_site(struct gcs_mappings *m, unsigned site, unsigned from_owner,
                                unsigned to_owner);

/* Copies up to max intervals, in address order, into out; returns how many. */
size_t gcs_mappings_list(const struct gcs_mappings *m, struct gcs_map_node *out, size_t max);

/* Looks up the interval containing addr; false if none. */
bool gcs_mappings_find(const struct gcs_mappings *m, uintptr_t addr, struct gcs_map_node *out);

#endif
