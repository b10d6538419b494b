#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "logfile.h"
#include "outrules.h"
#include "queue.h"

static struct gcs_queue queue;
static const struct gcs_process_info *info;
static struct gcs_writer_jobs jobs;

static _Atomic uint64_t dropped;
static _Atomic uint32_t wake_seq;        /* futex word: bumped at every submit */
static _Atomic uint64_t submitted;       /* records accepted into the queue */
static _Atomic uint64_t completed;       /* records taken off it and written (or dropped) */
static _Atomic bool finishing;           /* the exit waits for `completed`: wake it */
static _Atomic uint32_t completed_seq;   /* futex word: bumped after a record completes while finishing */
/* The writer thread is started late: not at start-up, because a second
 * thread makes glibc's malloc take its locks for good, and node's
 * start-up before its first isolate (OpenSSL's set-up above all) mallocs
 * enough for that to be ~3 ms of `node -e 0`; and not at the attach
 * either, but when an attached isolate's thread first waits for its event
 * loop or ends its first GC (gcs_output_start): a script that ends before
 * either (`node -e 0`, a short CLI) never makes the thread, and its exit
 * writes the queued lines itself (drain_here). Records queued before then
 * wait in the queue. */
static _Atomic bool accepting;           /* set up: records may be queued */
enum writer_state {
    WRITER_NONE,        /* not asked for yet */
    WRITER_STARTING,    /* a thread is in pthread_create */
    WRITER_RUNNING,
    WRITER_FAILED,      /* pthread_create failed: the exit writes what is queued */
    WRITER_EXIT_WRITES, /* the exit came first, and writes the lines itself */
};
static _Atomic int writer_state;

/* How often, at most, the writer looks whether GCSTATS_FILE was rotated. */
#define ROTATION_CHECK_MS 1000

/* The writer thread's own: set up by gcs_output_open at start-up, before
 * the thread exists, and then read and changed by that thread alone (or
 * by the exit, when no such thread was made). */
static struct {
    int fd;                       /* the destination */
    bool file;                    /* GCSTATS_FILE, a regular file: path may be rotated */
    /* How an exit that writes on its own thread (no writer thread)
     * writes: never blocked past a deadline, as the hand-over to the
     * writer is bounded. exit_fd: a pipe's non-blocking twin, for a
     * kernel without RWF_NOWAIT on pipes. */
    enum { EXIT_NOT, EXIT_FILE, EXIT_PIPE_NOWAIT, EXIT_PIPE_TWIN, EXIT_SOCKET, EXIT_POLL } exit_way;
    int exit_fd;
    int64_t exit_deadline_ms;
    char path[GCS_PATH_MAX];
    int64_t next_rotation_check_ms;
    /* A short write left part of a line without its newline, ending at
     * byte fragment_end: it is terminated before any later line. */
    bool fragment;
    int64_t fragment_end;
    /* Tick periods the tick being written stands for beyond its own,
     * because the writer was stalled past them. */
    uint64_t ticks_missed;
} writer = { .fd = -1, .exit_fd = -1 };

uint64_t gcs_output_dropped(void)
{
    return atomic_load_explicit(&dropped, memory_order_relaxed);
}

void gcs_output_count_dropped(uint64_t n)
{
    atomic_fetch_add_explicit(&dropped, n, memory_order_relaxed);
}

static int dup_high(int fd, bool cloexec)
{
    int cmd = cloexec ? F_DUPFD_CLOEXEC : F_DUPFD;
    int high = fcntl(fd, cmd, GCS_FD_BASE);
    if (high < 0)                   /* RLIMIT_NOFILE below the base */
        high = fcntl(fd, cmd, 3);
    return high;
}

bool gcs_output_open(const struct gcs_config *c, char *reason, size_t cap)
{
    if (!c->dest_ok) {
        snprintf(reason, cap, "%s", c->problems > 0 ? c->problem[0] : "bad destination");
        return false;
    }
    switch (c->dest) {
    case GCS_DEST_STDERR:
        /* Standard error closed: there is nowhere to say anything. */
        writer.fd = dup_high(2, true);
        if (writer.fd < 0) {
            snprintf(reason, cap, "standard error is not open; gcstats writes nothing");
            return false;
        }
        return true;
    case GCS_DEST_FD: {
        int flags = fcntl(c->fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
            snprintf(reason, cap, "GCSTATS_FD=%d is not a descriptor open for writing; gcstats writes nothing",
                     c->fd);
            return false;
        }
        const char *channel = getenv("NODE_CHANNEL_FD");
        if (channel != NULL && atoi(channel) == c->fd) {
            char shown[GCS_CLIP_SIZE];
            snprintf(reason, cap,
                     "GCSTATS_FD=%d is this process's IPC channel to its parent (NODE_CHANNEL_FD=%s); "
                     "gcstats writes nothing", c->fd, gcs_clip(shown, GCS_CLIP_KEEP, channel));
            return false;
        }
        /* Out of the application's way, and still inherited: children are
         * told the new number below, so a fork() child whose fd 3 is its
         * IPC channel writes where its parent writes, never into the channel. */
        writer.fd = c->fd >= GCS_FD_BASE ? c->fd : dup_high(c->fd, false);
        if (writer.fd < 0) {
            snprintf(reason, cap, "GCSTATS_FD=%d could not be duplicated (%s); gcstats writes nothing",
                     c->fd, strerror(errno));
            return false;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", writer.fd);
        setenv("GCSTATS_FD", num, 1);
        return true;
    }
    case GCS_DEST_FILE: {
        int fd = gcs_logfile_open(c->path, reason, cap);
        if (fd < 0)
            return false;
        writer.fd = dup_high(fd, true);
        if (writer.fd < 0)
            writer.fd = fd;
        else
            close(fd);
        /* Only a regular file is rotated; a device or a FIFO stays what it is
         * (and /dev/stdout would otherwise follow the application's dup2()s). */
        struct stat st;
        writer.file = fstat(writer.fd, &st) == 0 && S_ISREG(st.st_mode);
        snprintf(writer.path, sizeof writer.path, "%s", c->path);
        writer.next_rotation_check_ms = gcs_monotonic_ms() + ROTATION_CHECK_MS;
        return true;
    }
    }
    return false;
}

void gcs_output_set_info(const struct gcs_process_info *process_info)
{
    info = process_info;
}

/* At an exit that writes itself: waits until fd takes a write (or says
 * why not) or the deadline passes; then false with errno ETIMEDOUT, which
 * no caller retries. */
static bool exit_may_write(int fd)
{
    for (;;) {
        int64_t left = writer.exit_deadline_ms - gcs_monotonic_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return true;   /* POLLOUT, or an error or hang-up that write() reports */
        if (n < 0 && errno != EINTR)
            break;
    }
    errno = ETIMEDOUT;
    return false;
}

/* The same pipe opened anew, non-blocking, for a named FIFO or a kernel
 * that does not take RWF_NOWAIT on pipes: O_NONBLOCK on the inherited descriptor would
 * change it for every process that shares it. The open checks the pipe's
 * owner and mode (a pipe made by root, written by a service's user, is
 * refused): then poll() before each write, which another writer of the
 * pipe can still beat to its room. */
static void use_pipe_twin(void)
{
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", writer.fd);
    int twin = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat a, b;
    if (twin >= 0 && fstat(twin, &a) == 0 && fstat(writer.fd, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
        writer.exit_fd = twin;
        writer.exit_way = EXIT_PIPE_TWIN;
        return;
    }
    if (twin >= 0)
        close(twin);
    writer.exit_way = EXIT_POLL;
}

/* One write() of the destination, by the exit's rules when the exit
 * writes: a pipe with RWF_NOWAIT (a named FIFO, which refuses it, and a
 * pipe on an older kernel through the non-blocking twin), a socket with
 * MSG_DONTWAIT, either waiting in poll() until the
 * deadline; a terminal or another device after poll() says it has room
 * (a write there can still wait if the room is smaller than the line); a
 * regular file as it is. */
static ssize_t write_some(int fd, const char *buf, size_t len)
{
    if (writer.exit_way == EXIT_NOT || writer.exit_way == EXIT_FILE || fd != writer.fd)
        return write(fd, buf, len);
    for (;;) {
        ssize_t n;
        int wait_fd = fd;
        switch (writer.exit_way) {
        case EXIT_PIPE_NOWAIT: {
            struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
            n = pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
            if (n < 0 && errno == EOPNOTSUPP) {
                use_pipe_twin();
                continue;
            }
            break;
        }
        case EXIT_PIPE_TWIN:
            n = write(writer.exit_fd, buf, len);
            wait_fd = writer.exit_fd;
            break;
        case EXIT_SOCKET:
            n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            break;
        default:
            /* EAGAIN too if the descriptor is non-blocking already. */
            if (!exit_may_write(fd))
                return -1;
            n = write(fd, buf, len);
            break;
        }
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return n;
        if (!exit_may_write(wait_fd))
            return -1;
    }
}

/* One line, one write(); a short write only happens on a regular file that
 * is out of space (or past RLIMIT_FSIZE), or a socket whose buffer is
 * full, and then the rest is tried once more. False if the line is not
 * all there; *wrote: whether any of it is. */
static bool write_all(int fd, const char *buf, size_t len, bool *wrote)
{
    size_t done = 0;
    int short_writes = 0;
    *wrote = false;
    while (done < len) {
        ssize_t n = write_some(fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (n > 0)
            *wrote = true;
        done += (size_t)n;
        if (done < len && ++short_writes > 1)
            return false;
    }
    return true;
}

/* SIGPIPE (a reader gone) and SIGXFSZ (RLIMIT_FSIZE) kept from killing
 * the process while a thread of the application's writes: blocked, and
 * discarded afterwards unless they were pending before. Node ignores both,
 * but not before its start-up, and an application may reset them. */
struct write_signals {
    sigset_t old;
    bool pending_before[2];
};
static const int write_signal_numbers[2] = { SIGPIPE, SIGXFSZ };

static void block_write_signals(struct write_signals *w)
{
    sigset_t set, pending;
    sigemptyset(&set);
    for (int i = 0; i < 2; i++)
        sigaddset(&set, write_signal_numbers[i]);
    pthread_sigmask(SIG_BLOCK, &set, &w->old);
    bool known = sigpending(&pending) == 0;
    for (int i = 0; i < 2; i++)
        w->pending_before[i] = known && sigismember(&pending, write_signal_numbers[i]);
}

static void unblock_write_signals(const struct write_signals *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->pending_before[i])
            continue;
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, write_signal_numbers[i]);
        struct timespec zero = { 0, 0 };
        sigtimedwait(&one, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &w->old, NULL);
}

static bool write_line(int fd, const char *buf, size_t len)
{
    bool wrote;
    return write_all(fd, buf, len, &wrote);
}

/* Writer thread: ends a fragment left by a short write with a newline, so
 * that the next line starts a line of its own. False if it is still there
 * (the newline could not be written either). */
static bool end_fragment(void)
{
    if (!writer.fragment)
        return true;
    struct stat st;
    bool regular = fstat(writer.fd, &st) == 0 && S_ISREG(st.st_mode);
    if (gcs_fragment_needs_newline(regular, regular ? (int64_t)st.st_size : 0, writer.fragment_end)) {
        bool wrote;
        if (!write_all(writer.fd, "\n", 1, &wrote))
            return false;
    }
    writer.fragment = false;
    return true;
}

/* Writer thread, with a line to write: at most once a second, whether
 * GCSTATS_FILE now names another file (logrotate's create, a mv and a new
 * file, an rm) and if so, the lines go to the path's file from now on.
 * If it cannot be opened now, the old file keeps them, and the next check
 * tries again. */
static void follow_rotation(void)
{
    /* Not by an exit that writes itself: it chose how to write to the
     * file it has. */
    if (!writer.file || writer.exit_way != EXIT_NOT)
        return;
    int64_t now = gcs_monotonic_ms();
    if (now < writer.next_rotation_check_ms)
        return;
    writer.next_rotation_check_ms = now + ROTATION_CHECK_MS;
    if (!gcs_logfile_replaced(writer.path, writer.fd))
        return;
    char reason[GCS_TEXT_MAX];
    int fd = gcs_logfile_open(writer.path, reason, sizeof reason);
    if (fd < 0)
        return;
    int high = dup_high(fd, true);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    end_fragment();   /* the old file's last line, whole if it can be */
    writer.fragment = false;
    close(writer.fd);
    writer.fd = fd;
}

void gcs_output_write_json(const char *buf, size_t len)
{
    if (len > 0)
        follow_rotation();
    if (len == 0 || !end_fragment()) {
        atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
        return;
    }
    bool wrote;
    if (write_all(writer.fd, buf, len, &wrote))
        return;
    atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
    if (wrote) {
        /* With O_APPEND the offset is the end of what was written. */
        writer.fragment = true;
        writer.fragment_end = (int64_t)lseek(writer.fd, 0, SEEK_CUR);
    }
}

static void emit_now(const struct gcs_record *r)
{
    static struct gcs_json line;   /* the writer thread's, or the exit's if it writes */
    static struct gcs_record copy;
    if (jobs.prepare != NULL) {
        copy = *r;
        jobs.prepare(&copy);
        r = &copy;
    }
    gcs_output_write_json(line.buf, gcs_format_record(&line, r, info, gcs_output_dropped()));
}

static int64_t first_deadline(uint32_t period_ms)
{
    return period_ms ? gcs_monotonic_ms() + period_ms : INT64_MAX;
}

/* The tick job's emit(): each record is one isolate's tick line, and
 * stands also for that isolate's lines of the periods the stall skipped. */
static void emit_tick(const struct gcs_record *r)
{
    if (writer.ticks_missed > 0)
        atomic_fetch_add_explicit(&dropped, writer.ticks_missed, memory_order_relaxed);
    emit_now(r);
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ms)
{
    struct timespec ts = { (time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L };
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
}

static void *writer_main(void *arg)
{
    (void)arg;
    static struct gcs_record rec;
    /* Named here rather than by its creator: pthread_setname_np on
     * another thread writes /proc/self/task/TID/comm, ~0.1 ms of the
     * attach on the isolate's thread; a thread names itself with prctl. */
    prctl(PR_SET_NAME, "gcstats", 0, 0, 0);
    if (jobs.on_start != NULL)
        jobs.on_start();
    int64_t next_tick = first_deadline(jobs.tick_ms);
    int64_t next_sites = first_deadline(jobs.sites_ms);
    for (;;) {
        uint32_t seen = atomic_load(&wake_seq);
        int64_t next_idle = jobs.idle != NULL ? jobs.idle(gcs_monotonic_ms()) : INT64_MAX;
        while (gcs_queue_pop(&queue, &rec)) {
            emit_now(&rec);
            atomic_fetch_add(&completed, 1);
            if (atomic_load(&finishing)) {
                atomic_fetch_add(&completed_seq, 1);
                syscall(SYS_futex, &completed_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
            }
        }
        int64_t now = gcs_monotonic_ms();
        if (now >= next_tick) {
            next_tick = gcs_next_deadline(next_tick, jobs.tick_ms, now, &writer.ticks_missed);
            if (jobs.tick != NULL)
                jobs.tick(emit_tick);
            writer.ticks_missed = 0;
        }
        if (now >= next_sites) {
            uint64_t sites_missed;   /* one line a period, not counted as dropped */
            if (jobs.sites != NULL)
                jobs.sites();
            next_sites = gcs_next_deadline(next_sites, jobs.sites_ms, now, &sites_missed);
        }
        int64_t next = next_tick < next_sites ? next_tick : next_sites;
        if (next_idle < next)
            next = next_idle;
        int64_t wait_ms = next == INT64_MAX ? 60000 : next - now;
        if (wait_ms > 0 && gcs_queue_empty(&queue))
            futex_wait(&wake_seq, seen, wait_ms);
    }
    return NULL;
}

void gcs_output_prepare(const struct gcs_writer_jobs *writer_jobs)
{
    /* The static queue is ready as it is (queue.h): initialising it would
     * make all of it resident at start-up. */
    jobs = *writer_jobs;
    atomic_store(&accepting, true);
}

bool gcs_output_start(void)
{
    /* Called at every wait and every GC: one load once it was tried. */
    if (atomic_load_explicit(&writer_state, memory_order_relaxed) != WRITER_NONE || !atomic_load(&accepting))
        return true;
    int none = WRITER_NONE;
    if (!atomic_compare_exchange_strong(&writer_state, &none, WRITER_STARTING))
        return true;   /* being started by another thread, or the exit writes */

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread inherits this mask */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    int err = pthread_create(&thread, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        /* Queued records stay for the exit to write; never tried again
         * (it is asked at every wait). */
        atomic_store(&writer_state, WRITER_FAILED);
        return false;
    }
    atomic_store(&writer_state, WRITER_RUNNING);
    /* Records queued before the thread existed wake nobody: wake it. */
    atomic_fetch_add(&wake_seq, 1);
    syscall(SYS_futex, &wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return true;
}

/* How the exit writes to the destination without a writer thread. */
static void choose_exit_way(void)
{
    struct stat st;
    if (fstat(writer.fd, &st) != 0 || S_ISREG(st.st_mode)) {
        writer.exit_way = EXIT_FILE;
    } else if (S_ISSOCK(st.st_mode)) {
        writer.exit_way = EXIT_SOCKET;
    } else if (S_ISFIFO(st.st_mode)) {
        writer.exit_way = EXIT_PIPE_NOWAIT;
    } else {
        writer.exit_way = EXIT_POLL;
    }
}

/* At exit, with no writer thread (never started, or its start failed):
 * this thread writes what was queued, and the last record, giving the
 * destination until timeout_ms to take them. No writer appears
 * meanwhile: the exit claimed the writer's place. */
static void drain_here(const struct gcs_record *last, int timeout_ms)
{
    struct write_signals signals;
    block_write_signals(&signals);
    writer.exit_deadline_ms = gcs_monotonic_ms() + timeout_ms;
    choose_exit_way();
    struct gcs_record rec;
    while (gcs_queue_pop(&queue, &rec))
        emit_now(&rec);
    if (last != NULL) {
        rec = *last;
        emit_now(&rec);
    }
    if (writer.exit_fd >= 0)
        close(writer.exit_fd);
    writer.exit_fd = -1;
    writer.exit_way = EXIT_NOT;
    unblock_write_signals(&signals);
}

bool gcs_output_submit(const struct gcs_record *r)
{
    if (!atomic_load_explicit(&accepting, memory_order_relaxed) || !gcs_queue_push(&queue, r)) {
        atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
        return false;
    }
    atomic_fetch_add(&submitted, 1);
    atomic_fetch_add(&wake_seq, 1);
    syscall(SYS_futex, &wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return true;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void gcs_output_finish(const struct gcs_record *last, int timeout_ms)
{
    if (!atomic_load(&accepting))
        return;
    int64_t deadline = gcs_monotonic_ms() + timeout_ms;
    int state = WRITER_NONE;
    if (atomic_compare_exchange_strong(&writer_state, &state, WRITER_EXIT_WRITES)) {
        drain_here(last, timeout_ms);
        return;
    }
    /* Another thread is making the writer right now (a Worker's first
     * wait): its outcome decides who writes. */
    while ((state = atomic_load(&writer_state)) == WRITER_STARTING) {
        if (gcs_monotonic_ms() >= deadline) {
            atomic_fetch_add(&dropped, last != NULL);
            return;
        }
        sleep_ms(1);
    }
    if (state == WRITER_FAILED) {
        drain_here(last, (int)(deadline - gcs_monotonic_ms()));
        return;
    }
    if (state != WRITER_RUNNING)
        return;
    /* A full queue drains as long as the reader reads: give it the time. */
    while (last != NULL && !gcs_queue_push(&queue, last)) {
        if (gcs_monotonic_ms() >= deadline) {
            atomic_fetch_add(&dropped, 1);
            return;
        }
        sleep_ms(1);
    }
    uint64_t ticket = last != NULL ? atomic_fetch_add(&submitted, 1) + 1 : atomic_load(&submitted);
    atomic_store(&finishing, true);
    atomic_fetch_add(&wake_seq, 1);
    syscall(SYS_futex, &wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    /* Woken as the writer completes records, not polled: a sleep of a
     * millisecond per look was most of what a short process's exit
     * waited. */
    for (;;) {
        uint32_t seen = atomic_load(&completed_seq);
        if (atomic_load(&completed) >= ticket)
            return;
        int64_t left = deadline - gcs_monotonic_ms();
        if (left <= 0)
            return;
        futex_wait(&completed_seq, seen, left);
    }
}

void gcs_output_stderr_now(const struct gcs_record *r, const struct gcs_process_info *process_info)
{
    static struct gcs_json line;   /* start-up only: single-threaded */
    size_t len = gcs_format_record(&line, r, process_info, 0);
    if (len == 0)
        return;
    /* Before node ignores SIGPIPE, a closed stderr pipe would kill the
     * process. */
    struct write_signals signals;
    block_write_signals(&signals);
    write_line(2, line.buf, len);
    unblock_write_signals(&signals);
}

void gcs_output_forget_thread(void)
{
    atomic_store(&accepting, false);
    atomic_store(&writer_state, WRITER_NONE);
}

void gcs_output_say_once(const struct gcs_config *c, const struct gcs_record *r,
                         const struct gcs_process_info *process_info)
{
    if (!c->dest_ok)
        return;
    if (c->dest == GCS_DEST_STDERR) {
        gcs_output_stderr_now(r, process_info);
        return;
    }
    static struct gcs_json line;   /* start-up only: single-threaded */
    size_t len = gcs_format_record(&line, r, process_info, 0);
    if (len == 0)
        return;
    if (c->dest == GCS_DEST_FD) {
        int flags = fcntl(c->fd, F_GETFL);
        if (flags >= 0 && (flags & O_ACCMODE) != O_RDONLY)
            write_line(c->fd, line.buf, len);
        return;
    }
    char reason[GCS_TEXT_MAX];
    int fd = gcs_logfile_open(c->path, reason, sizeof reason);   /* the same rules as the writer's */
    if (fd >= 0) {
        write_line(fd, line.buf, len);
        close(fd);
    }
}
