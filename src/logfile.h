/* Opening GCSTATS_FILE safely, and noticing that it was rotated.
 *
 * The path is resolved one component at a time, relative to a descriptor
 * of the directory reached so far, never following a symlink the kernel
 * would not check for us: every symlink met is read and judged by
 * gcs_sticky_check (outrules.h) before gcstats goes where it points, and
 * so is the file opened at the end. Used at start-up, then by the writer
 * thread alone (never both at once: the static buffers are shared). */
#ifndef GCSTATS_LOGFILE_H
#define GCSTATS_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Symlinks followed while resolving one path, at most (the kernel's 40). */
#define GCS_LOGFILE_MAX_LINKS 40

/* Opens path for appending (created 0644 if missing), close-on-exec and
 * blocking; -1 with the reason (naming GCSTATS_FILE and the path, under
 * 255 bytes) if it cannot be opened or the rules refuse it. */
int gcs_logfile_open(const char *path, char *reason, size_t cap);

/* Writer thread: whether path now names another file than fd, or none
 * (moved away, removed). False when it cannot tell. */
bool gcs_logfile_replaced(const char *path, int fd);

#endif
