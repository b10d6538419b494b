/* The writer thread's work on call sites: names and resident bytes. */
#ifndef GCSTATS_SITE_NAMES_H
#define GCSTATS_SITE_NAMES_H

#include <stddef.h>

#include "model.h"

/* Names for new sites (at most once a second, the first time a second
 * after the first call), and better owners for
 * sites of node's own binary that turn out to be libuv's or V8's code
 * space. Writer thread only. */
void gcs_site_names_refine(void);
/* The top sites by resident bytes (then committed), alike stacks merged,
 * named. Writer thread only. */
size_t gcs_site_names_top(struct gcs_site_report *out, size_t max);

#endif
