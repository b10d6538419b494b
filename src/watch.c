#include "watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "isolate_thread.h"
#include "lines.h"
#include "output.h"
#include "registry.h"
#include "v8api.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

/* V8 10-12 can lose an interrupt requested while an isolate is being set
 * up; ask again after this long until one has run. */
#define INTERRUPT_RETRY_MS 2

static _Atomic bool enabled;
static pthread_key_t thread_key;
static bool thread_key_ok;
static _Atomic bool said_table_full;

/* This thread's isolate as last seen attached, so that most calls cost a
 * thread-local comparison; the registry's generation says when a slot
 * was released since (a later isolate may have the same address). */
static TLS void *known_isolate;
static TLS struct gcs_isolate *known_slot;
static TLS bool known_is_own_thread;
static TLS uint64_t known_generation;

void gcs_watch_enable(void) { atomic_store(&enabled, true); }
void gcs_watch_disable(void) { atomic_store(&enabled, false); }
bool gcs_watch_enabled(void) { return atomic_load_explicit(&enabled, memory_order_relaxed); }

/* A Worker's thread is ending; its isolate is already disposed. */
static void on_thread_exit(void *data)
{
    gcs_isolate_thread_exit(data);
}

void gcs_watch_init_thread_key(void)
{
    thread_key_ok = pthread_key_create(&thread_key, on_thread_exit) == 0;
}

void gcs_watch_thread_owns(struct gcs_isolate *s)
{
    if (thread_key_ok)
        pthread_setspecific(thread_key, s);
}

static void say_table_full(void)
{
    if (atomic_exchange(&said_table_full, true))
        return;
    char why[GCS_TEXT_MAX];
    snprintf(why, sizeof why,
             "more than %d isolates are alive at once: gcstats watches %d of them; an isolate that finds "
             "them all taken is not watched (no lines for it) unless a slot frees up while it runs",
             GCS_MAX_ISOLATES, GCS_MAX_ISOLATES);
    struct gcs_record r;
    gcs_error_record(&r, gcs_wall_ms(), 1, why);
    gcs_output_submit(&r);
}

/* Asks V8 to run the attach on the isolate's thread, at most every
 * INTERRUPT_RETRY_MS, and only while the isolate is entered somewhere:
 * during its creation and its deletion it is current on this thread but
 * not in use, and then nothing may be asked of it. */
static void request_attach(struct gcs_isolate *s, void *isolate, int64_t now_ms)
{
    int64_t last = atomic_load(&s->last_request_ms);
    if (now_ms - last < INTERRUPT_RETRY_MS || !gcs_v8_in_use(isolate))
        return;
    if (atomic_compare_exchange_strong(&s->last_request_ms, &last, now_ms))
        gcs_v8_request_interrupt(isolate, gcs_isolate_attach_interrupt, s);
}

/* The slot of this thread's current isolate if it is attached; NULL
 * otherwise, after asking for an attach if `may_request`. */
static struct gcs_isolate *notice_isolate(bool may_request)
{
    if (!gcs_watch_enabled() || !gcs_v8_current_isolate_ready())
        return NULL;
    void *isolate = gcs_v8_try_get_current();
    if (isolate == NULL)
        return NULL;
    uint64_t gen = gcs_registry_generation();
    if (isolate == known_isolate && gen == known_generation)
        return known_slot;

    int64_t now_ms = gcs_monotonic_ms();
    struct gcs_isolate *s = gcs_registry_lookup(isolate);
    if (s == NULL) {
        bool full = false;
        s = gcs_registry_claim(isolate, now_ms, &full);
        if (full)
            say_table_full();
    }
    if (s == NULL)
        return NULL;
    int state = atomic_load(&s->state);
    if (state == GCS_SLOT_ATTACHED) {
        known_isolate = isolate;
        known_slot = s;
        known_is_own_thread = s->tid == (pid_t)syscall(SYS_gettid);
        known_generation = gen;
        return s;
    }
    if (state == GCS_SLOT_PENDING && may_request)
        request_attach(s, isolate, now_ms);
    return NULL;
}

void gcs_watch_mapped(const void *caller)
{
    /* Only node's own mappings may ask: an allocator preloaded beside
     * gcstats maps from inside malloc, perhaps with its lock held. */
    if (gcs_watch_enabled())
        notice_isolate(gcs_v8_owns_code_at(caller));
}

void gcs_watch_poll(int epfd, bool may_block)
{
    struct gcs_isolate *s = notice_isolate(true);
    if (s != NULL && known_is_own_thread)
        gcs_isolate_poll(s, epfd, may_block);
}
