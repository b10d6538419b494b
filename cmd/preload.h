/* Where the gcstats command finds the library, and how it joins an
 * LD_PRELOAD that is already set. Pure: strings in, strings out. */
#ifndef GCSTATS_CMD_PRELOAD_H
#define GCSTATS_CMD_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

#define GCS_LIBRARY_NAME "libgcstats.so"
#define GCS_CANDIDATES_MAX 3
#define GCS_CMD_PATH_MAX 4096

/* The value LD_PRELOAD must have for lib to be loaded: existing (may be
 * NULL or empty) with lib appended after a ':', or existing unchanged
 * when one of its entries (separated by ':' or spaces, as ld.so reads
 * them) is lib already. The libraries already there keep their order and
 * come first: a preloaded allocator stays the one that serves malloc.
 * False when the result does not fit in cap. */
bool gcs_preload_join(const char *existing, const char *lib, char *out, size_t cap);

/* The places to look for the library, in order, for an executable in
 * exe_dir (a real, absolute directory), given the configured bindir,
 * libdir (each relative to prefix, or absolute) and prefix:
 *   1. installed, relative to the executable: exe_dir/<bindir to libdir>/gcstats/
 *      (so an installed tree that was moved still finds its own library),
 *   2. a build tree: exe_dir/../ (build/cmd/gcstats -> build/libgcstats.so),
 *   3. installed, where configured: <prefix>/<libdir>/gcstats/.
 * Returns how many were written. */
int gcs_library_candidates(const char *exe_dir, const char *bindir, const char *libdir,
                           const char *prefix, char out[GCS_CANDIDATES_MAX][GCS_CMD_PATH_MAX]);

#endif
