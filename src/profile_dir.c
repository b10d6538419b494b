#include "profile_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "culprits.h"
#include "json.h"

static char profile_dir[GCS_PROFILE_DIR_MAX + 1];
static bool enabled;

bool gcs_profile_dir_set(const char *dir, char *why, size_t cap)
{
    char resolved[PATH_MAX];
    struct stat st;
    if (dir[0] == '\0') {
        snprintf(why, cap, "is empty");
        return false;
    }
    if (realpath(dir, resolved) == NULL || stat(resolved, &st) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, cap, "is not a directory");
        return false;
    }
    if (access(resolved, W_OK | X_OK) != 0) {
        snprintf(why, cap, "is not writable: %s", strerror(errno));
        return false;
    }
    /* The culprits line carries the path: bounded as the line shows it
     * (escaped), so that the line keeps room for its sites. */
    static struct gcs_json shown;
    gcs_json_begin(&shown);
    gcs_json_str(&shown, NULL, resolved);
    if (shown.overflow || shown.len - 3 > GCS_PROFILE_DIR_MAX) {
        snprintf(why, cap, "is longer than %d bytes once absolute (and escaped as JSON)", GCS_PROFILE_DIR_MAX);
        return false;
    }
    memcpy(profile_dir, resolved, strlen(resolved) + 1);
    enabled = true;
    return true;
}

bool gcs_profile_dir_enabled(void) { return enabled; }

/* The JSON goes out in 64 KiB writes (this thread's own buffer). */
struct file_sink {
    int fd;
    size_t len;
    char buf[64 * 1024];
};

static bool flush(struct file_sink *f)
{
    size_t done = 0;
    while (done < f->len) {
        ssize_t n = write(f->fd, f->buf + done, f->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    f->len = 0;
    return true;
}

static bool to_file(void *ctx, const char *bytes, size_t len)
{
    struct file_sink *f = ctx;
    while (len > 0) {
        if (f->len == sizeof f->buf && !flush(f))
            return false;
        size_t n = sizeof f->buf - f->len < len ? sizeof f->buf - f->len : len;
        memcpy(f->buf + f->len, bytes, n);
        f->len += n;
        bytes += n;
        len -= n;
    }
    return true;
}

bool gcs_profile_dir_write(const struct gcs_heapprofile *p, int64_t ts_ms, uint32_t isolate, char *path, size_t cap)
{
    static struct file_sink sink;   /* the writer thread's only */
    static unsigned written;        /* and so is this */
    char name[GCS_HEAPPROFILE_NAME_MAX];
    if (!enabled || written >= GCS_PROFILE_FILES_MAX)
        return false;
    gcs_heapprofile_name(name, ts_ms, (long)getpid(), isolate);
    /* Written under a .tmp name and renamed when whole: an exit that cuts
     * the write short (the writer gets 0.5 s) leaves no .heapprofile that
     * DevTools would fail to load. */
    char tmp[GCS_PROFILE_PATH_MAX + 8];
    if ((size_t)snprintf(path, cap, "%s/%s", profile_dir, name) >= cap ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return false;
    /* A new file only (O_EXCL: never through a link someone left there). */
    sink.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
    sink.len = 0;
    if (sink.fd < 0)
        return false;
    bool ok = gcs_heapprofile_write(p, to_file, &sink) && flush(&sink);
    if (close(sink.fd) != 0)
        ok = false;
    /* rename() replaces a link at the final name, never follows it */
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok)
        unlink(tmp);
    else
        written++;
    return ok;
}
