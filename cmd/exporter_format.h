/* gcstats exporter's output: the model in Prometheus' text exposition
 * format 0.0.4. Pure: memory only. */
#ifndef GCSTATS_CMD_EXPORTER_FORMAT_H
#define GCSTATS_CMD_EXPORTER_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "exporter_model.h"

#define GCS_EXP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Text that grows as it is written; failed once memory ran out. */
struct gcs_exp_text {
    char *data;
    size_t len, cap;
    bool failed;
};

void gcs_exp_text_free(struct gcs_exp_text *t);
void gcs_exp_text_append(struct gcs_exp_text *t, const char *s, size_t n);

/* A label value as the format quotes it: \ " and newline escaped. */
void gcs_exp_text_label_value(struct gcs_exp_text *t, const char *value);

/* A sample value: the shortest of %.15g and %.17g that reads back the
 * same, NaN, +Inf or -Inf. */
void gcs_exp_text_number(struct gcs_exp_text *t, double v);

/* What the exporter knows beside the model. */
struct gcs_exp_health {
    size_t files_followed;
};

/* The whole exposition of m, appended to out; false when memory ran out. */
bool gcs_exp_format(const struct gcs_exp_model *m, const struct gcs_exp_health *health, struct gcs_exp_text *out);

#endif
