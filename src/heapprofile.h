/* The whole profile behind a culprits line, as a .heapprofile file
 * (GCSTATS_PROFILE_DIR): the JSON that Chrome DevTools' Memory tab loads
 * and `node --heap-prof` writes, {"head": node, "samples": []}, each node
 * {"callFrame": {functionName, scriptId, url, lineNumber, columnNumber},
 * "selfSize", "id", "children": [...]}, each sample {"size", "nodeId",
 * "ordinal"} (the bytes V8 estimates for one sampled allocation, its node,
 * and the order it was taken in).
 *
 * Pure: no V8, no syscalls, no allocation. The reader (src/v8profile.c)
 * copies V8's tree here on the isolate's thread, node by node in
 * pre-order, into this fixed memory: bounded in nodes and in string bytes,
 * so that a huge profile cannot stall the thread or grow gcstats; what did
 * not fit is left out, whole subtrees at a time, and `cut` says so. The
 * writer thread then turns it into JSON (gcs_heapprofile_write). */
#ifndef GCSTATS_HEAPPROFILE_H
#define GCSTATS_HEAPPROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "culprits.h"

/* As many nodes as the reader reads (GCS_PROFILE_MAX_NODES). */
#define GCS_HEAPPROFILE_MAX_NODES 4096
/* Function names and URLs, each distinct one kept once. */
#define GCS_HEAPPROFILE_STRING_BYTES (256u * 1024u)
/* Slots of the table that finds a string kept already (a power of 2, more
 * than the most distinct strings two per node can make). */
#define GCS_HEAPPROFILE_STRING_SLOTS 16384u
/* Slots of the table that finds a node by V8's id (a power of 2, twice the nodes). */
#define GCS_HEAPPROFILE_ID_SLOTS 8192u
/* Samples kept: 16 MiB live at the least interval (1 KiB), 8 GiB at V8's (512 KiB). */
#define GCS_HEAPPROFILE_MAX_SAMPLES 16384
/* Deeper nodes than this are left out (V8's stacks are shorter: 32 frames). */
#define GCS_HEAPPROFILE_MAX_DEPTH 255

struct gcs_heapprofile_node {
    uint32_t id;                 /* V8's node id, which samples refer to */
    int32_t script_id;
    int32_t line, column;        /* as V8 gives them: 1-based, 0 when it has none */
    uint32_t function, url;      /* offsets into strings */
    uint32_t depth;              /* 0 for the root */
    uint64_t self_bytes;         /* live bytes allocated in this very frame */
};

struct gcs_heapprofile_sample {
    uint32_t node_id;
    uint64_t bytes;              /* size times V8's scaled count */
    uint64_t ordinal;            /* V8's sample id */
};

struct gcs_heapprofile {
    size_t n;
    struct gcs_heapprofile_node node[GCS_HEAPPROFILE_MAX_NODES];
    size_t strings_len;
    char strings[GCS_HEAPPROFILE_STRING_BYTES];
    uint32_t string_slot[GCS_HEAPPROFILE_STRING_SLOTS];   /* offset + 1; 0 when empty */
    size_t nsamples;
    struct gcs_heapprofile_sample sample[GCS_HEAPPROFILE_MAX_SAMPLES];
    uint32_t id_slot[GCS_HEAPPROFILE_ID_SLOTS];           /* node index + 1; 0 when empty */
    bool cut;                    /* nodes or samples were left out */
    int64_t skip_deeper_than;    /* a node at this depth was left out: so are its descendants; -1 if none */
    uint64_t total_bytes;        /* self_bytes of the nodes kept */
};

void gcs_heapprofile_reset(struct gcs_heapprofile *p);
/* Adds the next node in pre-order at `depth` (0 for the root; a child's
 * depth is its parent's + 1), with the frame read from V8 (line and column
 * 1-based). False, and the node and its descendants left out (p->cut),
 * when it does not fit or its parent was left out. */
bool gcs_heapprofile_add(struct gcs_heapprofile *p, int depth, const struct gcs_js_frame *frame, int32_t script_id,
                         uint32_t id, uint64_t self_bytes);

/* Adds a sample of the node with V8's id node_id. False when that node is
 * not in the copy (left out; or made after the tree was read: V8 samples
 * its own allocations while it builds the profile), and false with p->cut
 * when there is no room left. */
bool gcs_heapprofile_add_sample(struct gcs_heapprofile *p, uint32_t node_id, uint64_t bytes, uint64_t ordinal);

/* Writes p as JSON through sink, in pieces; stops at the first false from
 * sink and returns false. An empty profile is written as a lone root. */
typedef bool (*gcs_heapprofile_sink)(void *ctx, const char *bytes, size_t len);
bool gcs_heapprofile_write(const struct gcs_heapprofile *p, gcs_heapprofile_sink sink, void *ctx);

/* The file's name, without its directory:
 * gcstats.YYYYMMDD.HHMMSS.mmm.PID.ISOLATE.heapprofile (UTC; sorts by time). */
#define GCS_HEAPPROFILE_NAME_MAX 80
void gcs_heapprofile_name(char out[GCS_HEAPPROFILE_NAME_MAX], int64_t epoch_ms, long pid, uint32_t isolate);

#endif
