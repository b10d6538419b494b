/* GCSTATS_PROFILE_DIR: where each culprits line's whole profile is
 * written as a .heapprofile file (heapprofile.h), by the writer thread. */
#ifndef GCSTATS_PROFILE_DIR_H
#define GCSTATS_PROFILE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heapprofile.h"

/* At start-up: takes dir (made absolute, so that a later chdir does not
 * move it) if it is a directory this process can create files in. False,
 * with the reason in why, otherwise: then no files are written. */
bool gcs_profile_dir_set(const char *dir, char *why, size_t cap);
bool gcs_profile_dir_enabled(void);

/* Writer thread: writes p as a new file named for ts_ms, this process and
 * the isolate, and puts its path in path. False (and no file left behind)
 * if it could not be written whole. */
bool gcs_profile_dir_write(const struct gcs_heapprofile *p, int64_t ts_ms, uint32_t isolate, char *path, size_t cap);

#endif
