/* Culprits: which JavaScript functions allocated the memory that stays
 * alive, from V8's sampling heap profiler (src/v8profile.c reads it).
 *
 * Pure: no V8, no syscalls, no allocation. The reader hands every
 * allocating node of the profile here with its stack (outermost frame
 * first); here the samples are charged to a site, ranked, compared with
 * the previous culprits line, and handed to the writer thread through a
 * small bounded channel of slots that any isolate's thread can fill
 * without a lock. */
#ifndef GCSTATS_CULPRITS_H
#define GCSTATS_CULPRITS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a function name and of a script URL kept (longer ones are cut
 * at a whole UTF-8 character: the line stays valid JSON). */
#define GCS_JS_FUNCTION_MAX 80
#define GCS_JS_URL_MAX 160

/* One frame of a JavaScript stack, as V8's profile names it. line and
 * column are 1-based, of the function's start; 0 when V8 has none. */
struct gcs_js_frame {
    char function[GCS_JS_FUNCTION_MAX];   /* "" for an anonymous function */
    char url[GCS_JS_URL_MAX];             /* "" for builtins and native code */
    int32_t line, column;
};

/* The application's own code: a script with a URL that is not node's
 * (node:internal/..., node:timers) and not a builtin's (no URL). */
bool gcs_js_frame_is_app(const struct gcs_js_frame *f);

/* A .heapprofile file's path: GCSTATS_PROFILE_DIR (at most
 * GCS_PROFILE_DIR_MAX bytes) and the file's name. */
#define GCS_PROFILE_DIR_MAX 200
#define GCS_PROFILE_PATH_MAX 288

#define GCS_CULPRIT_CALLERS 3
/* Sites aggregated per profile; later new ones are counted in `other`. */
#define GCS_CULPRIT_TABLE 256
/* Sites shown in a line (fewer when long names would make it too long). */
#define GCS_CULPRITS_SHOWN 8
/* Sites remembered from the previous line, for growth. */
#define GCS_CULPRIT_REMEMBERED 32

/* The code a group of live samples is charged to: the innermost frame of
 * the application's own code on their stack (so a builtin such as
 * Map.prototype.set, or node's timer code that an optimized callback was
 * inlined into, leads to the application's function that called it), or
 * the allocating frame itself when no frame is the application's. */
struct gcs_culprit_site {
    struct gcs_js_frame frame;
    uint64_t key;                         /* hash of the frame: function, url, line, column */
    uint64_t bytes;                       /* live bytes, as V8 estimates them from its samples */
    uint64_t held_bytes;                  /* of them, in samples old enough to be held (the ranking) */
    uint64_t samples;                     /* samples taken (before V8's scaling) */
    struct gcs_js_frame callee;           /* the allocating frame when it is not the site; function "" if none */
    struct gcs_js_frame callers[GCS_CULPRIT_CALLERS];   /* outwards from the site */
    int ncallers;
    uint64_t callers_bytes;               /* bytes of the stack the callers were taken from */
    bool have_growth;
    int64_t growth_bytes;                 /* since the previous line, when there was one */
};

struct gcs_culprit_table {
    struct gcs_culprit_site site[GCS_CULPRIT_TABLE];
    size_t n;
    uint64_t total_bytes, total_samples;
    uint64_t other_bytes;                 /* of sites beyond the table */
    uint64_t held_bytes;                  /* of all sites */
};

void gcs_culprit_table_init(struct gcs_culprit_table *t);
/* Charges the live allocations of one profile node: `count` objects of
 * `size` bytes (V8's estimate, scaled from its samples at mean interval
 * `interval_bytes`), allocated with the stack path[0..depth) (outermost
 * first, the allocating frame last). Returns the site's index in t,
 * GCS_CULPRIT_OTHER when the bytes went to `other` (the table was full),
 * or GCS_CULPRIT_NONE when nothing was charged. */
#define GCS_CULPRIT_NONE (-1)
#define GCS_CULPRIT_OTHER (-2)
int gcs_culprit_table_add(struct gcs_culprit_table *t, const struct gcs_js_frame *const *path, int depth,
                          uint64_t size, uint64_t count, uint64_t interval_bytes);

/* Held memory: what has stayed alive for a while, not only since the
 * last full GC. A cache whose entries live for seconds holds as many
 * live bytes at every reading, and can hold more than a leak that has
 * grown for a few seconds only (bench/detect's slow_leak: its sessions
 * had 54% of the first line's live bytes); but none of its samples is
 * old, while a leak's are spread over the whole time sampled. V8 numbers
 * its samples in the order they were taken, so a sample's number tells
 * its age in bytes allocated since sampling began; read as time, that
 * assumes the application allocates at an even rate.
 *
 * A sample is held when it was taken before the last
 * min(half the time sampled, GCS_CULPRIT_HELD_RECENT_MS): the number
 * below which a sample is held, given the highest sample number alive. */
#define GCS_CULPRIT_HELD_RECENT_MS 60000
uint64_t gcs_culprit_held_below(uint64_t newest_sample_id, int64_t sampled_ms);
/* How long ago, in ms, the samples counted as held were taken at least. */
int64_t gcs_culprit_held_after_ms(int64_t sampled_ms);
/* Charges a held sample's bytes to site `site` (from
 * gcs_culprit_table_add): GCS_CULPRIT_OTHER counts in the total only,
 * GCS_CULPRIT_NONE (a node that was no site's) not at all. */
void gcs_culprit_table_hold(struct gcs_culprit_table *t, int site, uint64_t bytes);

/* Which site each profile node's allocations were charged to, by V8's node
 * id, for the samples (which name their node). Open addressing: twice
 * the nodes ever read. */
#define GCS_CULPRIT_NODE_MAP 8192
struct gcs_culprit_node_map {
    uint32_t id[GCS_CULPRIT_NODE_MAP];
    int16_t site[GCS_CULPRIT_NODE_MAP];
    bool used[GCS_CULPRIT_NODE_MAP];
    size_t n;
};
void gcs_culprit_node_map_clear(struct gcs_culprit_node_map *m);
/* False when full (then the node's samples count for no site). */
bool gcs_culprit_node_map_put(struct gcs_culprit_node_map *m, uint32_t node_id, int site);
/* The site, or -1 for a node not put. */
int gcs_culprit_node_map_get(const struct gcs_culprit_node_map *m, uint32_t node_id);
/* The samples V8 took for `scaled` estimated objects of `size` bytes
 * (it divides by 1 - exp(-size / interval) and rounds): undone here. */
uint64_t gcs_culprit_unscale(uint64_t size, uint64_t scaled, uint64_t interval_bytes);

/* What a previous line showed, by site key. */
struct gcs_culprit_memory {
    bool have;                            /* a previous line was made */
    size_t n;
    uint64_t key[GCS_CULPRIT_REMEMBERED];
    uint64_t bytes[GCS_CULPRIT_REMEMBERED];
};

/* A culprits line's content: the top sites of one profile. */
struct gcs_culprits {
    uint32_t isolate;
    int64_t ts_ms;
    int64_t since_ms;                     /* when the sampler started (wall clock) */
    uint32_t report;                      /* the leak line's report number it goes with */
    uint64_t interval_bytes;
    uint64_t total_bytes, total_samples;
    uint64_t held_bytes;
    int64_t held_after_ms;                /* samples taken at least this long ago are held */
    uint64_t samples_at_leak;             /* samples when the leak line came (fewer: the line waited) */
    uint64_t read_ns;                     /* the pause reading and ranking took on the isolate's thread */
    uint32_t nodes;                       /* profile nodes read */
    bool cut;                             /* the profile had more nodes than gcstats reads */
    bool have_previous;
    int64_t previous_ms;                  /* the previous culprits line of this isolate */
    bool with_profile;                    /* the whole tree was copied for a .heapprofile file */
    bool profile_cut;                     /* and nodes were left out of that copy */
    char profile_path[GCS_PROFILE_PATH_MAX];   /* the file written (by the writer thread), or "" */
    size_t n;
    struct gcs_culprit_site top[GCS_CULPRITS_SHOWN];
};

/* Ranks t's sites by held bytes, then live bytes, into out->top (at most GCS_CULPRITS_SHOWN),
 * sets their growth against *mem (when it has a previous line), and then
 * remembers this line's sites in *mem. Sorts t in place. */
void gcs_culprits_rank(struct gcs_culprit_table *t, struct gcs_culprit_memory *mem, struct gcs_culprits *out);

/* When GCSTATS_CULPRITS=auto starts the sampler: the heap's post-GC
 * samples show a first sign of growth, before the detector can say
 * "growing": the recent window's mean is above the long window's by
 * min_trend_pct or more, and the heap is above its lowest sample by at
 * least min_rise_bytes. */
struct gcs_culprits_auto {
    double min_trend_pct;
    uint64_t min_rise_bytes;
    int64_t max_gap_ms;        /* see gcs_culprits_auto_stops */
};
bool gcs_culprits_growth_seen(const struct gcs_culprits_auto *c, double usage_trend_pct, uint64_t current_bytes,
                              uint64_t min_bytes, uint64_t samples);

/* Whether auto mode stops a sampler, at the loop's poll: the heap's
 * verdict is "unknown" (the sampler runs on a first sign of growth, or is
 * left from a verdict whose window thinned back to "unknown"), no
 * culprits line is owed, and no full GC has ended for max_gap_ms. A leak
 * line, and so a culprits line, needs new samples, which come only with
 * full GCs; without them the sampler costs and serves nothing. Where
 * short-lived garbage is all a large heap allocates, V8 may run no full
 * GC for minutes and the probe's budget allows one every few minutes; a
 * sampler started while such a heap was built would run as long as the
 * process (bench/probe.mjs's 600 MB server: in every 85 s run). Stopped,
 * the sampler starts again at the next sample that shows growth, with no
 * samples of its own (V8 drops them at a stop): a leak in such a process
 * gets its culprits later. */
bool gcs_culprits_auto_stops(const struct gcs_culprits_auto *c, bool verdict_unknown, bool culprits_owed,
                             int64_t now_ms, int64_t last_full_gc_ms);

/* max_gap_ms: the longest even spacing of samples from which the detector
 * still judges, its window over one less than the points it needs (600 s
 * over 4: 150 s by default), or three of its least spans if more. Samples
 * the sampler takes in a shorter gap are what the leak line after it
 * reads (a heap of a few hundred MB whose full GCs the probe's budget
 * spaces 60 to 150 s apart). Longer than the gaps in bench/detect's leaks
 * (in the fast leak, V8's next cycle came 17 to 35 s after the probe's
 * first samples; a gap of 15 s lost its culprits lines in 3 runs of 3). */
int64_t gcs_culprits_max_gap_ms(uint32_t min_span_ms, uint32_t max_window_ms, uint32_t min_points);

/* ---- The channel to the writer thread ------------------------------------
 * A few fixed slots: a JavaScript thread claims a free one with a CAS,
 * fills it, marks it ready and queues a record that names it; the writer
 * copies it out and frees it. No lock, no wait: with no free slot the line
 * is dropped (and counted by the caller). */
#define GCS_CULPRIT_SLOTS 4
enum { GCS_CULPRIT_SLOT_EMPTY, GCS_CULPRIT_SLOT_FILLING, GCS_CULPRIT_SLOT_READY };
struct gcs_culprit_channel {
    _Atomic int state[GCS_CULPRIT_SLOTS];
    struct gcs_culprits slot[GCS_CULPRIT_SLOTS];
};
/* A slot to fill, or -1. */
int gcs_culprit_channel_claim(struct gcs_culprit_channel *c);
void gcs_culprit_channel_ready(struct gcs_culprit_channel *c, int slot);
/* Gives a claimed or ready slot back (its line was dropped, or written). */
void gcs_culprit_channel_release(struct gcs_culprit_channel *c, int slot);
/* The writer: copies a ready slot out and frees it; false if it is not ready. */
bool gcs_culprit_channel_take(struct gcs_culprit_channel *c, int slot, struct gcs_culprits *out);

#endif
