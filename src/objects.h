/* Which loaded object (executable or shared library) holds an address,
 * from the loader's list (dl_iterate_phdr). No allocation; the loader's
 * own lock is taken for the walk, so not from inside gcstats' book lock. */
#ifndef GCSTATS_OBJECTS_H
#define GCSTATS_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>

struct gcs_object_info {
    uintptr_t lo, hi;      /* from the lowest to the end of the highest loadable segment */
    uintptr_t bias;        /* the load bias: symbol values are relative to it */
    const char *path;      /* the loader's string, "" for the main program */
};

/* False if no loaded object has a segment containing addr. */
bool gcs_object_at(uintptr_t addr, struct gcs_object_info *out);

#endif
