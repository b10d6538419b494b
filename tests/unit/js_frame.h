/* A JavaScript frame as src/v8profile.c reads one, for the unit tests. */
#ifndef GCSTATS_TEST_JS_FRAME_H
#define GCSTATS_TEST_JS_FRAME_H

#include <stdio.h>
#include <string.h>

#include "culprits.h"

static inline struct gcs_js_frame frame(const char *function, const char *url, int line, int column)
{
    struct gcs_js_frame f;
    memset(&f, 0, sizeof f);
    snprintf(f.function, sizeof f.function, "%s", function);
    snprintf(f.url, sizeof f.url, "%s", url);
    f.line = line;
    f.column = column;
    return f;
}

#endif
