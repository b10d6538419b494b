/* What gcstats does on an isolate's own thread, where V8 has called it:
 * attaching (in an interrupt), the GC prologue and epilogue callbacks
 * (the samples, the windows, the leak detector), and the probe (asked for
 * at the event loop's poll, done in an interrupt). The fields of struct
 * gcs_isolate marked "own thread" in registry.h are touched only here.
 *
 * V8 is called only from inside its own callbacks: interrupts, which V8
 * runs only while the isolate runs JavaScript (never during node's exit
 * or a Worker's teardown, when no JavaScript runs), and GC callbacks.
 * Nothing here locks, blocks or writes: records go to the lock-free
 * queue (output.h). */
#ifndef GCSTATS_ISOLATE_THREAD_H
#define GCSTATS_ISOLATE_THREAD_H

#include <stdbool.h>
#include <stdint.h>

struct gcs_isolate;
struct gcs_detect_config;
struct gcs_probe_config;

/* The leak detector's and the probe's settings (constructor, before the
 * watch is enabled; the probe never asks if not set). */
void gcs_isolate_set_detect_config(const struct gcs_detect_config *c);
void gcs_isolate_set_probe_config(const struct gcs_probe_config *c);

/* GCSTATS_CULPRITS (an enum gcs_culprits_mode), GCSTATS_CULPRITS_INTERVAL,
 * and the detector's settings: a quarter of its least growth is the heap's
 * rise that starts the sampler in auto mode, and its span and window say
 * how long a sampler started so may go without a full GC (constructor,
 * before the watch). */
void gcs_isolate_set_culprits_config(int mode, uint64_t interval_bytes, const struct gcs_detect_config *detect);
/* Writer thread: the culprits line a GCS_EV_CULPRITS record names, copied
 * out of its slot (which is freed). False if the slot holds none. */
struct gcs_culprits;
bool gcs_isolate_take_culprits(int slot, struct gcs_culprits *out);

/* V8 interrupt callback (data: the slot, PENDING): attaches there. */
void gcs_isolate_attach_interrupt(void *isolate, void *slot);

/* At a poll of the attached isolate's own thread, on epfd: asks V8 for an
 * interrupt to probe in when one is due and this is the isolate's own
 * event loop (not a loop node runs on the same thread at exit, or for
 * spawnSync). The first poll that may block (may_block: its timeout is
 * not zero) starts the writer thread. */
void gcs_isolate_poll(struct gcs_isolate *s, int epfd, bool may_block);

/* The isolate's thread is exiting (a Worker's; its isolate is already
 * disposed): its end line, and its slot freed. s may be NULL. */
void gcs_isolate_thread_exit(struct gcs_isolate *s);

#endif
