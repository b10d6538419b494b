/* Call sites of mappings, the owners they are counted under, and how a
 * site's owner is decided from the objects (and later the functions) its
 * frames lie in.
 *
 * A site is the short stack above the interposed call, as return
 * addresses. Sites are kept in a fixed table, looked up by hash, so each
 * distinct stack is classified once. Pure: no syscalls, no allocation. */
#ifndef GCSTATS_SITES_H
#define GCSTATS_SITES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mappings.h"

#define GCS_SITE_FRAMES 6
#define GCS_SITE_SLOTS (GCS_SITES * 2)
#define GCS_OBJECT_NAME_MAX 48

/* Owners: five fixed, then named shared objects (addons and libraries
 * that map memory themselves), up to GCS_OWNERS in all; a seventh object
 * counts as "other". */
enum {
    GCS_OWNER_V8_HEAP,    /* V8's object, outside its code range: heap pages, large objects */
    GCS_OWNER_V8_CODE,    /* inside an isolate's code range */
    GCS_OWNER_LIBUV,
    GCS_OWNER_MALLOC,     /* an allocator preloaded beside gcstats (jemalloc, tcmalloc) */
    GCS_OWNER_OTHER,
    GCS_OWNER_FIRST_OBJECT,
};

/* What a frame's object is, for deciding who owns a mapping. */
enum gcs_object_kind {
    GCS_OBJ_UNKNOWN,     /* no object: JIT code, or no frame */
    GCS_OBJ_SELF,        /* gcstats */
    GCS_OBJ_SYSTEM,      /* libc, the loader, the C++ runtime, libunwind: pass-through */
    GCS_OBJ_ALLOCATOR,   /* a malloc implementation */
    GCS_OBJ_V8,          /* node or libnode: the object that defines V8 */
    GCS_OBJ_LIBUV,       /* a separate libuv (Debian's node) */
    GCS_OBJ_NAMED,       /* anything else: counted under its own name */
};

/* Kind of a shared object from its path (SELF and V8 are known by address,
 * not by name, and are never returned). */
enum gcs_object_kind gcs_object_kind_from_path(const char *path);
/* The last component of path; "" for "". */
const char *gcs_basename(const char *path);

/* A site's owner from its frames' kinds, innermost first; named[i] is the
 * owner id of frame i's object when its kind is GCS_OBJ_NAMED. *caller
 * gets the index of the first frame that is neither gcstats, the system
 * nor the allocator (or n if none): the frame a user wants to see. */
unsigned gcs_classify_frames(const enum gcs_object_kind *kinds, const unsigned *named, int n,
                             int *caller);
/* A better owner for a site counted under V8 once its functions have
 * names (symbol names as stored, mangled; NULL where unknown), from the
 * caller frame outwards: a libuv function (uv_*, uv__*) makes it libuv's,
 * a function of V8's CodeRange makes it code space, and a stack with
 * names none of which is V8's (v8::, cppgc::) makes it "other". */
unsigned gcs_refine_owner(unsigned owner, const char *const *function_names, int n);

struct gcs_site {
    uintptr_t frames[GCS_SITE_FRAMES];
    uint64_t hash;
    uint8_t nframes;
    uint8_t caller;      /* index of the frame shown to users */
    uint8_t owner;       /* as classified when the site was made; see memmap.c */
};

/* Sites 1..count-1; site 0 stands for "no stack" and a full table. Entries
 * are written before count is raised (release), and never change after,
 * except owner; readers on other threads load count with acquire. */
struct gcs_site_table {
    struct gcs_site sites[GCS_SITES];
    uint16_t slots[GCS_SITE_SLOTS];
    _Atomic uint32_t count;
};

uint64_t gcs_frames_hash(const uintptr_t *frames, int n);
/* The site with exactly these frames, or 0. */
unsigned gcs_sites_find(const struct gcs_site_table *t, const uintptr_t *frames, int n,
                        uint64_t hash);
/* The site with exactly these frames and this owner, or 0: finds a twin. */
unsigned gcs_sites_find_owned(const struct gcs_site_table *t, const uintptr_t *frames, int n,
                              uint64_t hash, unsigned owner);
/* Adds a site (the caller has checked it is not there, or wants a twin
 * of one with another owner, which gcs_sites_find never finds, as it finds
 * the first, and gcs_sites_find_owned does); 0 when full. */
unsigned gcs_sites_add(struct gcs_site_table *t, const uintptr_t *frames, int n, uint64_t hash,
                       unsigned owner, unsigned caller);

/* Names of the named objects, by owner id; fixed once set. */
struct gcs_object_names {
    char name[GCS_OWNERS][GCS_OBJECT_NAME_MAX];
    _Atomic uint32_t count;   /* owner ids GCS_OWNER_FIRST_OBJECT.. below count are named */
};
/* The owner id for an object's base name: found, added, or OTHER when
 * full. Names are kept to letters, digits and . _ + - (others become _)
 * so that they need no escaping in a line. */
unsigned gcs_object_owner(struct gcs_object_names *o, const char *basename);
/* "v8_heap", ..., or the object's name; NULL for an id with no name. */
const char *gcs_owner_name(const struct gcs_object_names *o, unsigned owner);

#endif
