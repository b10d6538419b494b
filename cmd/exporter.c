/* gcstats exporter --listen ADDR:PORT [--path /metrics] [--stale S] LOG|DIR ...:
 * follows gcstats logs and serves the latest state of each live process
 * and isolate as Prometheus metrics.
 *
 * Two threads share the model under one mutex: this one (the follower)
 * reads new lines and takes each into the model whole; libmicrohttpd's
 * thread renders the model for each scrape. A scrape therefore sees each
 * isolate as one line left it, never half of a line's update.
 *
 * Files are not kept open: each pass stats every file and, when it grew,
 * opens it, reads from the saved offset and closes it, so a directory of
 * thousands of per-pid logs needs no more descriptors than one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "exporter_format.h"
#include "exporter_model.h"
#include "linebuf.h"

#define POLL_MS 250
/* Messages about bad lines, per file: the first ones name FILE:LINE, the
 * rest are only counted (gcstats_exporter_bad_lines_total). */
#define MESSAGES_PER_FILE 5

enum { OPT_LISTEN, OPT_PATH, OPT_STALE };

struct source {
    char *path;
    bool from_dir;            /* found in a directory: forgotten when deleted */
    bool open_once;           /* read at least once (dev, ino, offset hold) */
    bool present;             /* counted in health.files_followed */
    dev_t dev;
    ino_t ino;
    off_t offset;             /* bytes read so far */
    unsigned messages;
    struct gcs_linebuf lines;
};

struct directory {
    const char *path;
    /* Entries are added or removed only when its mtime moves; but the
     * mtime is kept in coarse ticks, so one a second old or less may
     * still hide an entry made after the scan, in the same tick. */
    bool settled;             /* scanned with an mtime over a second old */
    struct timespec mtime;    /* at the last scan */
};

struct exporter {
    pthread_mutex_t lock;     /* over model and health */
    struct gcs_exp_model model;
    struct gcs_exp_health health;
    const char *path;
    double stale_s;
    struct directory *dirs;
    int n_dirs;
    struct source **sources;
    size_t n_sources, cap_sources;
    double seen;              /* the time of the lines being read (their file's mtime) */
    struct source *reading;
};

static volatile sig_atomic_t stopping;

static void on_stop_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- HTTP ---- */

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status, char *body, size_t len,
                               const char *type)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result;
}

static enum MHD_Result serve(void *ctx, struct MHD_Connection *connection, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_data_size,
                             void **request_ctx)
{
    struct exporter *e = ctx;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)request_ctx;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET or HEAD only\n"), 17,
                       "text/plain; charset=utf-8");
    if (strcmp(url, e->path) != 0) {
        char *body = NULL;
        int n = asprintf(&body, "gcstats exporter: the metrics are at %s\n", e->path);
        return respond(connection, MHD_HTTP_NOT_FOUND, n < 0 ? NULL : body, n < 0 ? 0 : (size_t)n,
                       "text/plain; charset=utf-8");
    }
    struct gcs_exp_text text = { 0 };
    pthread_mutex_lock(&e->lock);
    bool ok = gcs_exp_format(&e->model, &e->health, &text);
    pthread_mutex_unlock(&e->lock);
    if (!ok) {
        gcs_exp_text_free(&text);
        return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, strdup("out of memory\n"), 14,
                       "text/plain; charset=utf-8");
    }
    return respond(connection, MHD_HTTP_OK, text.data, text.len, GCS_EXP_CONTENT_TYPE);
}

/* A listening socket on ADDR:PORT ("[::1]:9464", ":9464" for every
 * address), or -1 with a message. The real address goes to shown. */
static int listen_on(const char *where, char *shown, size_t shown_cap)
{
    char host[256];
    const char *colon = strrchr(where, ':');
    if (colon == NULL || colon[1] == '\0' || (size_t)(colon - where) >= sizeof host) {
        fprintf(stderr, "gcstats exporter: --listen %s: not ADDR:PORT (e.g. 127.0.0.1:9464 or :9464)\n", where);
        return -1;
    }
    memcpy(host, where, (size_t)(colon - where));
    host[colon - where] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &found);
    if (rc != 0) {
        fprintf(stderr, "gcstats exporter: --listen %s: %s\n", where, gai_strerror(rc));
        return -1;
    }
    int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        fprintf(stderr, "gcstats exporter: cannot listen on %s: %s\n", where, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(found);
        return -1;
    }
    freeaddrinfo(found);
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    char name[128] = "?", port[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        getnameinfo((struct sockaddr *)&addr, len, name, sizeof name, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, shown_cap, strchr(name, ':') ? "[%s]:%s" : "%s:%s", name, port);
    return fd;
}

/* ---- following ---- */

static void take_line(void *ctx, const char *line, size_t len, unsigned long line_no)
{
    struct exporter *e = ctx;
    if (len == 0)
        return;
    /* A scrape sees each line's effect whole; the message is written
     * after the lock is let go (stderr may block). */
    pthread_mutex_lock(&e->lock);
    bool bad = gcs_exp_model_take(&e->model, line, len, e->seen) == GCS_EXP_BAD;
    pthread_mutex_unlock(&e->lock);
    if (bad && ++e->reading->messages <= MESSAGES_PER_FILE)
        fprintf(stderr, "gcstats exporter: %s:%lu: not a gcstats line%s\n", e->reading->path, line_no,
                e->reading->messages == MESSAGES_PER_FILE ? " (more are only counted)" : "");
}

static struct source *add_source(struct exporter *e, const char *path, bool from_dir)
{
    if (!gcs_exp_room_for_one(&e->sources, &e->cap_sources, e->n_sources))
        return NULL;
    struct source *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return NULL;
    }
    s->from_dir = from_dir;
    gcs_linebuf_init(&s->lines, 1);
    e->sources[e->n_sources++] = s;
    return s;
}

/* Counts s in or out of the files followed, before any line of it is
 * read: a scrape never shows a file's lines without the file. */
static void set_present(struct exporter *e, struct source *s, bool present)
{
    if (s->present == present)
        return;
    s->present = present;
    pthread_mutex_lock(&e->lock);
    if (present)
        e->health.files_followed++;
    else
        e->health.files_followed--;
    pthread_mutex_unlock(&e->lock);
}

static void remove_source(struct exporter *e, size_t i)
{
    set_present(e, e->sources[i], false);
    gcs_linebuf_free(&e->sources[i]->lines);
    free(e->sources[i]->path);
    free(e->sources[i]);
    memmove(&e->sources[i], &e->sources[i + 1], (e->n_sources - i - 1) * sizeof e->sources[0]);
    e->n_sources--;
}

static bool known(const struct exporter *e, const char *path)
{
    for (size_t i = 0; i < e->n_sources; i++)
        if (strcmp(e->sources[i]->path, path) == 0)
            return true;
    return false;
}

/* New *.jsonl files of each directory. At start-up, a file that has not
 * moved for the stale time is started at its end: its processes are gone
 * or silent, and would only be dropped again. */
static void scan_dirs(struct exporter *e, bool starting)
{
    for (int d = 0; d < e->n_dirs; d++) {
        struct directory *where = &e->dirs[d];
        struct stat dir_st;
        if (stat(where->path, &dir_st) != 0 || (where->settled && dir_st.st_mtim.tv_sec == where->mtime.tv_sec &&
                                                 dir_st.st_mtim.tv_nsec == where->mtime.tv_nsec))
            continue;
        DIR *dir = opendir(where->path);
        if (dir == NULL)
            continue;
        where->settled = wall_now() - ((double)dir_st.st_mtim.tv_sec + (double)dir_st.st_mtim.tv_nsec / 1e9) > 1.0;
        where->mtime = dir_st.st_mtim;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            size_t n = strlen(entry->d_name);
            if (n < 6 || strcmp(entry->d_name + n - 6, ".jsonl") != 0)
                continue;
            char path[4096];
            if (snprintf(path, sizeof path, "%s/%s", where->path, entry->d_name) >= (int)sizeof path ||
                known(e, path))
                continue;
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            struct source *s = add_source(e, path, true);
            if (s != NULL && starting && wall_now() - (double)st.st_mtim.tv_sec > e->stale_s) {
                s->open_once = true;
                s->dev = st.st_dev;
                s->ino = st.st_ino;
                s->offset = st.st_size;
            }
        }
        closedir(dir);
    }
}

/* Reads what s has beyond its offset. False when it is gone for good. */
static bool read_source(struct exporter *e, struct source *s)
{
    struct stat st;
    bool present = stat(s->path, &st) == 0 && S_ISREG(st.st_mode);
    set_present(e, s, present);
    if (!present)
        return !s->from_dir;   /* a file named by the user may come (back) */
    if (s->open_once && (st.st_dev != s->dev || st.st_ino != s->ino)) {
        /* replaced (rotated by rename): the new file from its start; what
         * the old one got since the last pass is not read */
        s->open_once = false;
    } else if (s->open_once && st.st_size < s->offset) {
        fprintf(stderr, "gcstats exporter: %s: file truncated; reading it from its start\n", s->path);
        s->open_once = false;
    }
    if (!s->open_once) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->offset = 0;
        s->messages = 0;
        gcs_linebuf_restart(&s->lines, 1);
        s->open_once = true;
    }
    if (st.st_size == s->offset)
        return true;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return true;
    struct stat fd_st;
    if (fstat(fd, &fd_st) != 0 || fd_st.st_ino != s->ino || fd_st.st_dev != s->dev ||
        lseek(fd, s->offset, SEEK_SET) != s->offset) {
        close(fd);   /* replaced between stat and open: the next pass sees it */
        return true;
    }
    char buf[65536];
    e->reading = s;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        s->offset += n;
        e->seen = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
        bool fed = gcs_linebuf_feed(&s->lines, buf, (size_t)n, take_line, e);
        if (!fed) {
            fprintf(stderr, "gcstats exporter: %s: out of memory\n", s->path);
            break;
        }
    }
    close(fd);
    return true;
}

static void follow_pass(struct exporter *e, bool starting)
{
    scan_dirs(e, starting);
    for (size_t i = 0; i < e->n_sources;) {
        if (!read_source(e, e->sources[i])) {
            remove_source(e, i);
            continue;
        }
        i++;
    }
    pthread_mutex_lock(&e->lock);
    gcs_exp_model_prune(&e->model, wall_now(), e->stale_s);
    pthread_mutex_unlock(&e->lock);
}

/* ---- the command ---- */

static void free_exporter(struct exporter *e)
{
    for (size_t i = e->n_sources; i-- > 0;)
        remove_source(e, i);
    free(e->sources);
    free(e->dirs);
    gcs_exp_model_free(&e->model);
    pthread_mutex_destroy(&e->lock);
}

static void usage(FILE *to)
{
    char help[2048];
    gcs_options_help(gcs_exporter_options, gcs_exporter_options_count, help, sizeof help);
    fprintf(to, "usage: gcstats exporter --listen ADDR:PORT [--path /metrics] [--stale SECONDS] LOG|DIR...\n"
                "Follows gcstats logs (files, and every *.jsonl file of a directory, also ones made later)\n"
                "and serves the latest state of each live process as Prometheus metrics.\n\n%s",
            help);
}

int gcs_cmd_exporter(int argc, char **argv)
{
    const char *values[GCS_OPTIONS_MAX];
    char error[GCS_CMD_ERROR_MAX];
    char **operands = calloc((size_t)argc + 1, sizeof *operands);
    int n_operands = 0;
    if (operands == NULL)
        return 1;
    enum gcs_args_result parsed = gcs_parse_options(gcs_exporter_options, gcs_exporter_options_count, argc - 1,
                                                    argv + 1, values, operands, &n_operands, error);
    if (parsed == GCS_ARGS_HELP) {
        usage(stdout);
        free(operands);
        return 0;
    }
    char *end = NULL;
    double stale = values[OPT_STALE] ? strtod(values[OPT_STALE], &end) : 60;
    const char *path = values[OPT_PATH] ? values[OPT_PATH] : "/metrics";
    if (parsed == GCS_ARGS_OK && values[OPT_LISTEN] == NULL)
        snprintf(error, sizeof error, "--listen ADDR:PORT is required");
    else if (parsed == GCS_ARGS_OK && values[OPT_STALE] &&
             (end == values[OPT_STALE] || *end != '\0' || !(stale >= 1 && stale <= 1e9)))
        snprintf(error, sizeof error, "--stale %s: not a number of seconds from 1", values[OPT_STALE]);
    else if (parsed == GCS_ARGS_OK && path[0] != '/')
        snprintf(error, sizeof error, "--path %s: must begin with /", path);
    else if (parsed == GCS_ARGS_OK && n_operands == 0)
        snprintf(error, sizeof error, "no log file or directory to follow");
    if (error[0] != '\0') {
        fprintf(stderr, "gcstats exporter: %s\n", error);
        usage(stderr);
        free(operands);
        return GCS_EXIT_USAGE;
    }

    struct exporter e = { 0 };
    pthread_mutex_init(&e.lock, NULL);
    gcs_exp_model_init(&e.model);
    e.path = path;
    e.stale_s = stale;
    e.dirs = calloc((size_t)n_operands, sizeof *e.dirs);
    for (int i = 0; e.dirs != NULL && i < n_operands; i++) {
        struct stat st;
        if (stat(operands[i], &st) == 0 && S_ISDIR(st.st_mode))
            e.dirs[e.n_dirs++].path = operands[i];
        else if (add_source(&e, operands[i], false) == NULL)
            break;
    }
    char shown[200];
    int fd = listen_on(values[OPT_LISTEN], shown, sizeof shown);
    if (fd < 0 || e.dirs == NULL) {
        if (fd >= 0)
            close(fd);
        free_exporter(&e);
        free(operands);
        return 1;
    }

    /* The signals that stop the exporter go to this thread only: the
     * HTTP thread, made with them blocked, inherits the mask. */
    sigset_t stop_signals, old;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old);
    follow_pass(&e, true);
    struct MHD_Daemon *daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, serve, &e,
                                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
                                                 (unsigned)30, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (daemon == NULL) {
        fprintf(stderr, "gcstats exporter: the HTTP server (libmicrohttpd) did not start on %s\n", shown);
        close(fd);
        free_exporter(&e);
        free(operands);
        return 1;
    }
    fprintf(stderr, "gcstats exporter: serving http://%s%s\n", shown, path);
    while (!stopping) {
        struct timespec wait = { 0, POLL_MS * 1000000L };
        nanosleep(&wait, NULL);
        if (!stopping)
            follow_pass(&e, false);
    }
    MHD_stop_daemon(daemon);
    fprintf(stderr, "gcstats exporter: stopped\n");
    free_exporter(&e);
    free(operands);
    return 0;
}
