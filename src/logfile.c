#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "outrules.h"

/* O_NONBLOCK until opened: see blocking(). */
#define FILE_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Start-up, then the writer thread alone (see logfile.h): static, so that
 * the writer's small stack holds none of it. */
static char rest[2 * PATH_MAX];       /* what is left of the path to resolve */
static char spliced[2 * PATH_MAX];
static char target[PATH_MAX];
static char component[NAME_MAX + 1];

static void cannot_open(char *reason, size_t cap, const char *path, const char *why)
{
    char p[GCS_CLIP_SIZE];
    snprintf(reason, cap, "GCSTATS_FILE=%s cannot be opened (%s); gcstats writes nothing",
             gcs_clip(p, GCS_CLIP_KEEP, path), why);
}

/* Opening name in dirfd failed with errno. ENXIO is a FIFO with no reader,
 * but also a device with nothing behind it (/dev/tty without a terminal). */
static void open_failed(char *reason, size_t cap, const char *path, int dirfd, const char *name,
                        int stat_flags)
{
    int err = errno;
    struct stat st;
    bool fifo = fstatat(dirfd, name, &st, stat_flags) == 0 && S_ISFIFO(st.st_mode);
    cannot_open(reason, cap, path, err == ENXIO && fifo ? "a FIFO with no reader" : strerror(err));
}

/* The judgement on `object` (a name in dirfd, fd opened on it), or
 * true when it may be used. */
static bool allowed(int dirfd, int fd, const char *path, const char *object, char *reason, size_t cap)
{
    struct stat dir, obj;
    if (fstat(dirfd, &dir) != 0 || fstat(fd, &obj) != 0) {
        cannot_open(reason, cap, path, strerror(errno));
        return false;
    }
    enum gcs_sticky_rule rule = gcs_sticky_check(dir.st_mode, dir.st_uid, obj.st_mode, obj.st_uid,
                                                 (uint32_t)geteuid());
    if (rule == GCS_STICKY_ALLOW)
        return true;
    gcs_sticky_message(reason, cap, path, object, rule, obj.st_uid);
    return false;
}

/* The destination opened with O_NONBLOCK (so that a FIFO without a reader
 * fails instead of blocking start-up), made blocking for its writes. */
static int blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

static bool on_procfs(int dirfd)
{
    struct statfs fs;
    return fstatfs(dirfd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* After a symlink was read into target: what is left to resolve
 * is target, then what came after the link. */
static bool splice_link(const char *after)
{
    int n = *after ? snprintf(spliced, sizeof spliced, "%s/%s", target, after)
                   : snprintf(spliced, sizeof spliced, "%s", target);
    if (n < 0 || (size_t)n >= sizeof spliced)
        return false;
    memcpy(rest, spliced, (size_t)n + 1);
    return true;
}

int gcs_logfile_open(const char *path, char *reason, size_t cap)
{
    if (strlen(path) >= sizeof rest) {
        cannot_open(reason, cap, path, strerror(ENAMETOOLONG));
        return -1;
    }
    memcpy(rest, path, strlen(path) + 1);
    int dirfd = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        cannot_open(reason, cap, path, strerror(errno));
        return -1;
    }
    int links = 0;
    const char *p = rest;
    for (;;) {
        while (*p == '/')
            p++;
        /* A path that ends in '/' names a directory: "." opens it, and fails. */
        bool trailing = *p == '\0';
        size_t len = trailing ? 1 : strcspn(p, "/");
        if (len > NAME_MAX) {
            cannot_open(reason, cap, path, strerror(ENAMETOOLONG));
            break;
        }
        memcpy(component, trailing ? "." : p, len);
        component[len] = '\0';
        const char *after = trailing ? p : p + len;
        bool last = *after == '\0';
        while (*after == '/')
            after++;

        int fd;
        if (last) {
            fd = openat(dirfd, component, FILE_FLAGS | O_NOFOLLOW, 0644);
            if (fd >= 0) {
                if (!allowed(dirfd, fd, path, component, reason, cap)) {
                    close(fd);
                    break;
                }
                close(dirfd);
                return blocking(fd);
            }
            /* A symlink fails with ELOOP under O_NOFOLLOW (or EACCES where the
             * kernel applies protected_symlinks first): judge and follow it here. */
            int err = errno;
            struct stat link;
            if (fstatat(dirfd, component, &link, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(link.st_mode)) {
                errno = err;
                open_failed(reason, cap, path, dirfd, component, AT_SYMLINK_NOFOLLOW);
                break;
            }
        } else if (strcmp(component, ".") == 0) {
            p = after;
            continue;
        }
        fd = openat(dirfd, component, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            cannot_open(reason, cap, path, strerror(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            if (!allowed(dirfd, fd, path, component, reason, cap)) {
                close(fd);
                break;
            }
            if (++links > GCS_LOGFILE_MAX_LINKS) {
                close(fd);
                cannot_open(reason, cap, path, strerror(ELOOP));
                break;
            }
            if (on_procfs(dirfd)) {
                /* /proc/self/fd/N and its kind name an open file, not a path
                 * to walk: the kernel follows them. procfs has no sticky
                 * directory for anyone to plant a link in. */
                close(fd);
                if (last) {
                    fd = openat(dirfd, component, FILE_FLAGS, 0644);
                    if (fd < 0) {
                        open_failed(reason, cap, path, dirfd, component, 0);
                        break;
                    }
                    close(dirfd);
                    return blocking(fd);
                }
                fd = openat(dirfd, component, O_PATH | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) != 0) {
                    cannot_open(reason, cap, path, strerror(errno));
                    if (fd >= 0)
                        close(fd);
                    break;
                }
            } else {
                /* A symlink's text never changes: the one judged is the one read. */
                ssize_t n = readlinkat(fd, "", target, sizeof target);
                int err = errno;
                close(fd);
                if (n <= 0 || (size_t)n >= sizeof target) {
                    cannot_open(reason, cap, path, strerror(n < 0 ? err : ENAMETOOLONG));
                    break;
                }
                target[n] = '\0';
                if (!splice_link(after)) {
                    cannot_open(reason, cap, path, strerror(ENAMETOOLONG));
                    break;
                }
                if (rest[0] == '/') {
                    int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                    if (root < 0) {
                        cannot_open(reason, cap, path, strerror(errno));
                        break;
                    }
                    close(dirfd);
                    dirfd = root;
                }
                p = rest;
                continue;
            }
        }
        if (!S_ISDIR(st.st_mode)) {
            close(fd);
            cannot_open(reason, cap, path, strerror(ENOTDIR));
            break;
        }
        close(dirfd);
        dirfd = fd;
        p = after;
    }
    close(dirfd);
    return -1;
}

bool gcs_logfile_replaced(const char *path, int fd)
{
    struct stat now, open_file;
    if (fstat(fd, &open_file) != 0)
        return false;
    if (stat(path, &now) != 0)
        return errno == ENOENT;
    return now.st_dev != open_file.st_dev || now.st_ino != open_file.st_ino;
}
