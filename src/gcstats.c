/* Start-up, ticks and exit: the library's life in a process.
 *
 * In a process without V8 (a shell, python, npm's helpers) the constructor
 * finds no V8 symbols and everything stays off: the interposers only
 * forward to libc, and nothing is written. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "hooks.h"
#include "lines.h"
#include "memmap.h"
#include "output.h"
#include "probe.h"
#include "registry.h"
#include "v8api.h"
#include "verdict.h"

#define EXIT_FLUSH_TIMEOUT_MS 500

static struct gcs_config config;
static struct gcs_process_info info;
static char destination[GCS_PATH_MAX + 16];
static bool running;          /* attached to V8: an exit line is due */
static bool writer_started;   /* lines may be queued: flush them at exit */

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
}

/* From another thread than the isolate's: the published snapshot. With
 * no isolate (the main one never attached), counters stay zero. */
static void record_from(struct gcs_record *r, enum gcs_event ev, struct gcs_isolate *s)
{
    struct gcs_snapshot snap;
    if (s == NULL || !gcs_snapshot_read(s, &snap))
        memset(&snap, 0, sizeof snap);
    gcs_snapshot_record(r, ev, s != NULL ? atomic_load(&s->number) : 1, &snap);
    gcs_memmap_read(&r->mapped);
    fill_rss(r);
}

/* Writer thread, before each line: RSS is read when the line is written
 * rather than inside the GC callback (it is a file read). */
static void prepare_record(struct gcs_record *r)
{
    if ((r->event == GCS_EV_STATS || r->event == GCS_EV_END) && !r->have_rss)
        fill_rss(r);
}

static void write_sites(void)
{
    static struct gcs_site_report top[SITES_SHOWN];
    static struct gcs_json line;
    static struct gcs_mapped mapped;
    size_t n = gcs_memmap_top_sites(top, SITES_SHOWN);
    gcs_memmap_read(&mapped);
    size_t shown;
    gcs_output_write_json(line.buf, gcs_format_sites(&line, gcs_wall_ms(), &mapped, top, n, &info,
                                                     gcs_output_dropped(), &shown));
}

static void error_record(struct gcs_record *r, const char *reason);

/* Writer thread, at every wake-up: names for new call sites, and one
 * error line if the book of mappings filled up. */
static void writer_idle(void)
{
    static bool said_full;
    gcs_memmap_refine();
    if (!said_full && gcs_memmap_enabled() && gcs_memmap_book_full()) {
        said_full = true;
        struct gcs_record r;
        error_record(&r, "more live mappings than gcstats can count (65536 intervals): the mapped "
                         "numbers stopped changing and say complete=false; GC statistics go on");
        gcs_output_submit(&r);
    }
}

static void writer_started_here(void)
{
    /* The writer's own mappings (symbol tables it reads) are not the host's. */
    gcs_hooks_quiet_thread();
}

struct tick_ctx {
    gcs_emit_fn emit;
};

static void tick_one(struct gcs_isolate *s, void *ctx)
{
    struct gcs_record r;
    record_from(&r, GCS_EV_TICK, s);
    ((struct tick_ctx *)ctx)->emit(&r);
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
    /* fork() without exec: the writer thread stayed in the parent. Stay quiet. */
    gcs_hooks_disable();
    gcs_memmap_disable();
    gcs_output_forget_thread();
    gcs_registry_reset();
    running = false;
    writer_started = false;
}

__attribute__((constructor)) static void gcstats_init(void)
{
    gcs_hooks_resolve();

    const char *missing;
    if (!gcs_v8_bind(&missing)) {
        /* Not node, or not a node gcstats can drive: say so only where
         * V8 was there but incomplete, and only if the user asked for us. */
        (void)missing;
        return;
    }

    /* For tests of the unknown-version path: the V8 version to believe. */
    const char *assume = getenv("GCSTATS_ASSUME_V8");
    struct gcs_v8_version assumed;
    if (assume != NULL && gcs_parse_v8_version(assume, &assumed)) {
        gcs_v8.v = assumed;
        gcs_v8.version = assume;
    }

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
    };
    gcs_config_parse(&env, (long)getpid(), &config);

    info.pid = (long)getpid();
    info.node_version = gcs_v8.node_version;
    info.v8_version = gcs_v8.version;
    info.interval_ms = config.interval_ms;
    info.sites_interval_ms = config.sites_interval_ms;
    info.maps = config.maps;
    if (!gcs_v8_can_ask_for_gc())
        config.probe_ms = 0;
    info.probe_ms = config.probe_ms;
    info.destination = destination;

    struct gcs_record r;
    for (int i = 0; i < config.problems; i++) {
        error_record(&r, config.problem[i]);
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
    if (!gcs_output_start(&jobs)) {
        error_record(&r, "could not start the output thread; gcstats writes nothing");
        gcs_output_stderr_now(&r, &info);
        return;
    }
    writer_started = true;
    if (!gcs_v8_layout_known(gcs_v8.v.major)) {
        char why[GCS_TEXT_MAX];
        snprintf(why, sizeof why,
                 "V8 %.40s is a version whose heap statistics layout gcstats does not know "
                 "(it knows %d to %d); gcstats stays off in this process",
                 gcs_v8.version ? gcs_v8.version : "(unknown)", GCS_V8_MIN_MAJOR, GCS_V8_MAX_MAJOR);
        error_record(&r, why);
        gcs_output_submit(&r);
        return;
    }
    struct gcs_detect_config detect;
    gcs_detect_config_default(&detect);
    detect.min_span_ms = config.leak_min_span_ms;
    detect.min_growth_bytes = config.leak_min_growth_bytes;
    detect.report_interval_ms = config.leak_report_ms;
    gcs_hooks_set_detect_config(&detect);
    struct gcs_probe_config probe;
    gcs_probe_config_default(&probe);
    probe.every_ms = config.probe_ms;
    /* A sample is worth asking for once the heap has moved by a
     * sixteenth of the least growth the detector reports. */
    probe.min_change_bytes = config.leak_min_growth_bytes / 16u;
    gcs_hooks_set_probe_config(&probe);
    gcs_hooks_init_thread_key();
    pthread_atfork(NULL, NULL, in_forked_child);
    running = true;
    if (config.maps)
        gcs_memmap_enable();
    gcs_hooks_enable();
}

__attribute__((destructor)) static void gcstats_fini(void)
{
    if (!running) {
        if (writer_started)
            gcs_output_finish(NULL, EXIT_FLUSH_TIMEOUT_MS);
        return;
    }
    running = false;
    gcs_hooks_disable();
    struct gcs_record r;
    record_from(&r, GCS_EV_EXIT, gcs_registry_find_number(1));
    gcs_output_finish(&r, EXIT_FLUSH_TIMEOUT_MS);
}
