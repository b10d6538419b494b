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

/* The most files a process writes: a culprits line comes with every leak
 * report (a minute apart by default), and a service that leaks for a week
 * would otherwise leave ~10,000 files of up to a few MB each. */
#define GCS_PROFILE_FILES_MAX 32

/* Writer thread: writes p as a new file named for ts_ms, this process and
 * the isolate (under a .tmp name, renamed when whole), and puts its path
 * in path. False (and no file left behind) if it could not be written
 * whole, or GCS_PROFILE_FILES_MAX were written. */
bool gcs_profile_dir_write(const struct gcs_heapprofile *p, int64_t ts_ms, uint32_t isolate, char *path, size_t cap);

#endif
