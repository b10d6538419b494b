/* The output's decisions, pure (no syscalls): which files in a sticky
 * world-writable directory gcstats may open or follow, how a user's long
 * value is shortened inside a message, what a short write left behind,
 * and how many ticks a stall skipped. */
#ifndef GCSTATS_OUTRULES_H
#define GCSTATS_OUTRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the kernel's protected_symlinks, protected_regular and
 * protected_fifos (at their level 1) would say about an object met in a
 * directory, applied by gcstats whatever the sysctls say. */
enum gcs_sticky_rule {
    GCS_STICKY_ALLOW,            /* not a sticky world-writable directory, or a trusted owner */
    GCS_STICKY_REFUSE_SYMLINK,   /* a symlink gcstats will not follow */
    GCS_STICKY_REFUSE_REGULAR,   /* an existing regular file gcstats will not open */
    GCS_STICKY_REFUSE_FIFO,      /* an existing FIFO gcstats will not open */
};

/* Modes are st_mode values (file type and permission bits). In a directory
 * that is sticky and writable by others, a symlink is followed, and an
 * existing regular file or FIFO opened, only when it belongs to euid or to
 * the directory's owner: anyone can plant a name there, and only its owner
 * (or the directory's) can replace it. Anything else is allowed: a root
 * service writing into its application user's directory, /dev/stdout. */
enum gcs_sticky_rule gcs_sticky_check(uint32_t dir_mode, uint32_t dir_uid,
                                      uint32_t obj_mode, uint32_t obj_uid, uint32_t euid);

/* The most bytes of a user's value a message shows; a longer one is cut
 * there (at a character boundary) and "..." added, so that the message
 * itself stays whole within the 255 bytes of an error line's reason. */
#define GCS_CLIP_KEEP 100
#define GCS_CLIP_SIZE (GCS_CLIP_KEEP + 4)

/* s, or its first `keep` bytes or fewer followed by "...", into out
 * (at least keep + 4 bytes); returns out. */
const char *gcs_clip(char *out, size_t keep, const char *s);

/* The reason of a refusal by gcs_sticky_check: GCSTATS_FILE=path, the
 * object refused (a component of path, or a symlink's target met on the
 * way) and its owner. Always shorter than 255 bytes. */
void gcs_sticky_message(char *out, size_t cap, const char *path, const char *object,
                        enum gcs_sticky_rule rule, uint32_t obj_uid);

/* After a short write left a fragment ending at byte fragment_end of the
 * destination: whether a newline must still be written before the next
 * line. A regular file now shorter than that was truncated since (logrotate's
 * copytruncate): the fragment is gone with it. Elsewhere (pipes, terminals)
 * the fragment stays where it was. */
bool gcs_fragment_needs_newline(bool regular_file, int64_t size_now, int64_t fragment_end);

/* A periodic job's next deadline once `deadline` (<= now) is being served:
 * the next point of the grid deadline + k * period after now, so that a
 * stall neither bursts to catch up nor shifts the grid. *missed: the grid
 * points between that were due and will never be served (0 on time). */
int64_t gcs_next_deadline(int64_t deadline, uint32_t period_ms, int64_t now, uint64_t *missed);

#endif
