/* Start-up, ticks and exit: the library's life in a process.
 *
 * In a process without V8 (a shell, python, npm's helpers) the constructor
 * finds no V8 symbols and everything stays off: the interposers only
 * forward to libc, and nothing is written. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "interpose.h"
#include "isolate_thread.h"
#include "lines.h"
#include "memmap.h"
#include "output.h"
#include "outrules.h"
#include "profile_dir.h"
#include "probe.h"
#include "registry.h"
#include "site_names.h"
#include "stackwalk.h"
#include "v8api.h"
#include "v8profile.h"
#include "verdict.h"
#include "watch.h"

#define EXIT_FLUSH_TIMEOUT_MS 500

/* Exported (gcstats.map) so that copies of gcstats preloaded into one
 * process find each other: the dynamic linker resolves the name to the
 * copy that comes first, and every other copy stands aside. Two copies
 * at work would unwind the same mappings inside each other, and libunwind
 * deadlocks on its own one-time set-up. Never renamed: copies of later
 * versions must find copies of this one. */
static const char this_copy[] = "gcstats " GCSTATS_VERSION;
/* The exported name is an alias: taken by name, even inside this copy, it
 * resolves to the first copy's marker; this_copy is always this one's. */
extern const char gcstats_copy[sizeof this_copy] __attribute__((alias("this_copy"), visibility("default")));

static struct gcs_config config;
static struct gcs_process_info info;
static char destination[GCS_PATH_MAX + 16];
static bool running;          /* attached to V8: an exit line is due */

/* The most call sites a sites line lists. */
#define SITES_SHOWN 8

/* Resident set size from /proc/self/statm, with plain read(): no stdio,
 * no allocation. */
static bool read_rss(uint64_t *out)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    uint64_t pages = 0;
    if (*p++ != ' ' || *p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (uint64_t)(*p - '0');
    *out = pages * (uint64_t)sysconf(_SC_PAGESIZE);
    return true;
}

/* RSS now and at its peak, into r. */
static void fill_rss(struct gcs_record *r)
{
    r->have_rss = read_rss(&r->rss_bytes);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r->rss_peak_bytes = (uint64_t)ru.ru_maxrss * 1024;
    /* The kernel updates its high-water mark lazily (at page faults and
     * unmaps), so a fresh reading of RSS can be above it: the peak is at
     * least what is resident now. */
    if (r->have_rss && r->rss_bytes > r->rss_peak_bytes)
        r->rss_peak_bytes = r->rss_bytes;
}

/* From another thread than the isolate's: the published snapshot. With
 * no isolate (the main one never attached), counters stay zero. False if
 * the isolate's thread kept its snapshot busy: then r must not be used
 * (zero counters would read as a reset). */
static bool record_from(struct gcs_record *r, enum gcs_event ev, struct gcs_isolate *s)
{
    struct gcs_snapshot snap;
    if (s == NULL)
        memset(&snap, 0, sizeof snap);
    else if (!gcs_snapshot_read(s, &snap))
        return false;
    gcs_snapshot_record(r, ev, s != NULL ? atomic_load(&s->number) : 1, &snap);
    gcs_memmap_read(&r->mapped);
    fill_rss(r);
    return true;
}

/* Writer thread, before each line: RSS is read when the line is written
 * rather than inside the GC callback (it is a file read). At an exit with
 * no writer thread (the process ended before its first wait or GC, or
 * pthread_create failed), the exiting thread runs this for the queued
 * lines: a culprits line's .heapprofile is then written there too. */
static void prepare_record(struct gcs_record *r)
{
    if ((r->event == GCS_EV_STATS || r->event == GCS_EV_END) && !r->have_rss)
        fill_rss(r);
    /* A culprits line's sites wait in the channel's slot; the record is
     * formatted right after this, on this thread, from the copy. */
    static struct gcs_culprits culprits;
    if (r->event == GCS_EV_CULPRITS)
        r->culprits = gcs_isolate_take_culprits(r->culprits_slot, &culprits) ? &culprits : NULL;
}

static void write_sites(void)
{
    static struct gcs_site_report top[SITES_SHOWN];
    static struct gcs_json line;
    static struct gcs_mapped mapped;
    size_t n = gcs_site_names_top(top, SITES_SHOWN);
    gcs_memmap_read(&mapped);
    size_t shown;
    gcs_output_write_json(line.buf, gcs_format_sites(&line, gcs_wall_ms(), &mapped, top, n, &info,
                                                     gcs_output_dropped(), &shown));
}

static void error_record(struct gcs_record *r, const char *reason);

/* How long after the writer first finds an isolate attached it loads
 * libunwind (stackwalk.h). Mappings made before then are sites of their
 * caller alone, as before the attach (memmap.c). A process that lives
 * that long pays under 1% of its life for the load (~0.7 ms, on this
 * thread, not the isolate's); `node -e 0`, a shell or a short script
 * never does. */
#define UNWINDER_LOAD_DELAY_MS 100

/* Writer thread: libunwind is loaded UNWINDER_LOAD_DELAY_MS after the
 * writer first finds an isolate attached (its start line wakes the writer
 * then), unless gcstats went quiet or the process is exiting (the
 * destructor turns the watch off before it waits for the writer). Returns
 * when to come back for it. */
static int64_t load_unwinder_when_due(int64_t now_ms)
{
    static int64_t due_ms = INT64_MAX;
    if (!gcs_memmap_enabled() || !gcs_watch_enabled() || gcs_stack_walk_load_tried())
        return INT64_MAX;
    if (due_ms == INT64_MAX) {
        if (!gcs_registry_ever_attached())
            return INT64_MAX;   /* the attach's start line wakes this thread */
        due_ms = now_ms + UNWINDER_LOAD_DELAY_MS;
    }
    if (now_ms < due_ms)
        return due_ms;
    if (!gcs_stack_walk_load()) {
        struct gcs_record r;
        error_record(&r, GCS_LIBUNWIND_SONAME " could not be loaded: the call sites of mappings "
                         "are their callers alone; everything else goes on");
        gcs_output_submit(&r);
    }
    return INT64_MAX;
}

/* Writer thread, at every wake-up: names for new call sites, one error
 * line if the book of mappings filled up, and libunwind when it is due. */
static int64_t writer_idle(int64_t now_ms)
{
    static bool said_full;
    gcs_site_names_refine();
    if (!said_full && gcs_memmap_enabled() && gcs_memmap_book_full()) {
        said_full = true;
        struct gcs_record r;
        error_record(&r, "more live mappings than gcstats can count (65536 intervals): the mapped "
                         "numbers stopped changing and say complete=false; GC statistics go on");
        gcs_output_submit(&r);
    }
    return load_unwinder_when_due(now_ms);
}

static void writer_started_here(void)
{
    /* The writer's own mappings are not the host's. */
    gcs_interpose_quiet_thread();
}

struct tick_ctx {
    gcs_emit_fn emit;
};

static void tick_one(struct gcs_isolate *s, void *ctx)
{
    struct gcs_record r;
    if (record_from(&r, GCS_EV_TICK, s))
        ((struct tick_ctx *)ctx)->emit(&r);
    else
        gcs_output_count_dropped(1);
}

static void tick(gcs_emit_fn emit)
{
    struct tick_ctx ctx = { emit };
    gcs_registry_each_attached(tick_one, &ctx);
}

static void error_record(struct gcs_record *r, const char *reason)
{
    gcs_error_record(r, gcs_wall_ms(), 1, reason);
}

static void in_forked_child(void)
{
    /* fork() without exec: the child has this thread only. The writer
     * thread stayed in the parent, and so did every isolate (a node child
     * that runs JavaScript is exec'd, and starts gcstats anew). What the
     * copied state says about other threads is not true here, and
     * whatever lock they held stays held: turn everything off, touch
     * nothing they owned, write nothing. */
    gcs_watch_disable();
    gcs_memmap_disable();
    gcs_output_forget_thread();
    gcs_registry_reset();
    running = false;
}

/* The object (file) that holds addr, for messages. */
static const char *object_path(const void *addr)
{
    Dl_info di;
    return dladdr(addr, &di) != 0 && di.dli_fname != NULL ? di.dli_fname : "?";
}

/* One error line straight to the destination, keeping nothing open, for
 * a copy of gcstats that goes no further (start-up, single-threaded). */
static void say_and_stop(const char *reason)
{
    struct gcs_record r;
    error_record(&r, reason);
    gcs_output_say_once(&config, &r, &info);
}

__attribute__((constructor)) static void gcstats_init(void)
{
    gcs_interpose_resolve();

    const char *missing;
    bool bound = gcs_v8_bind(&missing);
    if (!bound && missing == NULL)
        return;   /* no V8: not node, and nothing to say */

    struct gcs_env env = {
        .fd = getenv("GCSTATS_FD"),
        .file = getenv("GCSTATS_FILE"),
        .interval = getenv("GCSTATS_INTERVAL"),
        .leak_min_span = getenv("GCSTATS_LEAK_MIN_SPAN"),
        .leak_min_growth = getenv("GCSTATS_LEAK_MIN_GROWTH"),
        .leak_report = getenv("GCSTATS_LEAK_REPORT"),
        .maps = getenv("GCSTATS_MAPS"),
        .sites = getenv("GCSTATS_SITES"),
        .probe = getenv("GCSTATS_PROBE"),
        .probe_budget = getenv("GCSTATS_PROBE_BUDGET"),
        .culprits = getenv("GCSTATS_CULPRITS"),
        .culprits_interval = getenv("GCSTATS_CULPRITS_INTERVAL"),
        .profile_dir = getenv("GCSTATS_PROFILE_DIR"),
    };
    gcs_config_parse(&env, (long)getpid(), &config);
    info.pid = (long)getpid();
    info.node_version = gcs_v8.node_version;
    info.v8_version = gcs_v8.version;
    info.destination = destination;

    char why[GCS_TEXT_MAX];
    const char *first = dlsym(RTLD_DEFAULT, "gcstats_copy");
    if (first != NULL && first != this_copy) {
        snprintf(why, sizeof why,
                 "another copy of gcstats (%.60s, %.24s) is preloaded before this one (%.60s): this copy "
                 "stands aside and only forwards", object_path(first), first, object_path(this_copy));
        say_and_stop(why);
        return;
    }
    if (!bound) {
        snprintf(why, sizeof why,
                 "V8 %.40s lacks a function gcstats needs (%.90s): gcstats stays off in this process",
                 gcs_v8.version != NULL ? gcs_v8.version : "(unknown)", missing);
        say_and_stop(why);
        return;
    }

    /* For tests of the unknown-version path: a V8 version to believe,
     * only one gcstats does not know (it can turn gcstats off, never on). */
    const char *assume = getenv("GCSTATS_ASSUME_V8");
    struct gcs_v8_version assumed;
    if (gcs_v8_believe_assumed(assume, &assumed)) {
        gcs_v8.v = assumed;
        gcs_v8.version = assume;
        info.v8_version = assume;
    }

    info.interval_ms = config.interval_ms;
    info.sites_interval_ms = config.sites_interval_ms;
    info.maps = config.maps;
    if (!gcs_v8_can_ask_for_gc())
        config.probe_ms = 0;
    info.probe_ms = config.probe_ms;
    info.probe_budget_mpct = config.probe_budget_mpct;
    const char *no_profiler = NULL;
    if (config.culprits != GCS_CULPRITS_OFF && !gcs_v8_profiler_bind(&no_profiler))
        config.culprits = GCS_CULPRITS_OFF;
    info.culprits = gcs_culprits_mode_name(config.culprits);
    info.culprits_interval_bytes = config.culprits_interval_bytes;

    struct gcs_record r;
    for (int i = 0; i < config.problems; i++) {
        error_record(&r, config.problem[i]);
        gcs_output_stderr_now(&r, &info);
    }
    const char *profile_dir = env.profile_dir;
    char dir_problem[128], dir_shown[GCS_CLIP_SIZE];
    if (profile_dir != NULL && !gcs_profile_dir_set(profile_dir, dir_problem, sizeof dir_problem)) {
        snprintf(why, sizeof why, "GCSTATS_PROFILE_DIR=%s %s; no .heapprofile files",
                 gcs_clip(dir_shown, GCS_CLIP_KEEP, profile_dir), dir_problem);
        error_record(&r, why);
        gcs_output_stderr_now(&r, &info);
    }
    char reason[GCS_MESSAGE_MAX];
    if (!gcs_output_open(&config, reason, sizeof reason)) {
        if (!config.dest_ok)
            return;   /* already said above */
        error_record(&r, reason);
        gcs_output_stderr_now(&r, &info);
        return;
    }
    switch (config.dest) {
    case GCS_DEST_STDERR: snprintf(destination, sizeof destination, "stderr"); break;
    case GCS_DEST_FD: snprintf(destination, sizeof destination, "fd:%d", config.fd); break;
    case GCS_DEST_FILE: snprintf(destination, sizeof destination, "file:%s", config.path); break;
    }
    gcs_output_set_info(&info);

    struct gcs_writer_jobs jobs = {
        .on_start = writer_started_here,
        .tick_ms = config.interval_ms,
        .tick = tick,
        .sites_ms = config.sites_interval_ms,
        .sites = write_sites,
        .prepare = prepare_record,
        .idle = writer_idle,
    };
    if (!gcs_v8_layout_known(gcs_v8.v.major)) {
        snprintf(why, sizeof why,
                 "V8 %.40s is a version whose heap statistics layout gcstats does not know "
                 "(it knows %d to %d); gcstats stays off in this process",
                 gcs_v8.version ? gcs_v8.version : "(unknown)", GCS_V8_MIN_MAJOR, GCS_V8_MAX_MAJOR);
        error_record(&r, why);
        gcs_output_say_once(&config, &r, &info);
        return;
    }
    gcs_output_prepare(&jobs);
    struct gcs_detect_config detect;
    gcs_detect_config_default(&detect);
    detect.min_span_ms = config.leak_min_span_ms;
    detect.min_growth_bytes = config.leak_min_growth_bytes;
    detect.report_interval_ms = config.leak_report_ms;
    gcs_isolate_set_detect_config(&detect);
    struct gcs_probe_config probe;
    gcs_probe_config_default(&probe);
    probe.every_ms = config.probe_ms;
    gcs_probe_config_budget(&probe, config.probe_budget_mpct);
    /* A sample is worth asking for once the heap has moved by a
     * sixteenth of the least growth the detector reports. */
    probe.min_change_bytes = config.leak_min_growth_bytes / GCS_PROBE_CHANGE_DIVISOR;
    gcs_isolate_set_probe_config(&probe);
    gcs_isolate_set_culprits_config(config.culprits, config.culprits_interval_bytes, &detect);
    if (no_profiler != NULL) {
        snprintf(why, sizeof why, "%.170s: no culprits lines (GCSTATS_CULPRITS is off); the rest goes on",
                 no_profiler);
        error_record(&r, why);
        gcs_output_submit(&r);
    }
    gcs_watch_init_thread_key();
    pthread_atfork(NULL, NULL, in_forked_child);
    running = true;
    if (config.maps)
        gcs_memmap_enable();
    gcs_watch_enable();
}

__attribute__((destructor)) static void gcstats_fini(void)
{
    if (!running) {
        gcs_output_finish(NULL, EXIT_FLUSH_TIMEOUT_MS);
        return;
    }
    running = false;
    bool went_quiet = !gcs_watch_enabled();
    gcs_watch_disable();
    /* An exit line closes what start lines opened: a node that ran no
     * isolate (node --version, a bad option) gets none, and neither does
     * a process where gcstats went quiet (an error line said why). */
    if (went_quiet || !gcs_registry_ever_attached()) {
        gcs_output_finish(NULL, EXIT_FLUSH_TIMEOUT_MS);
        return;
    }
    /* The main isolate publishes on this very thread: its snapshot is
     * never busy here. */
    struct gcs_record r;
    if (!record_from(&r, GCS_EV_EXIT, gcs_registry_find_number(1))) {
        gcs_output_finish(NULL, EXIT_FLUSH_TIMEOUT_MS);
        return;
    }
    gcs_output_finish(&r, EXIT_FLUSH_TIMEOUT_MS);
}
