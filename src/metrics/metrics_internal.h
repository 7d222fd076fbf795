/*
 * metrics_internal.h — what the files of src/metrics share and nobody else
 * needs: setting a series to a value whatever its type (the process
 * metrics set their CPU counter from /proc at each render).
 */
#ifndef CTNG_METRICS_INTERNAL_H
#define CTNG_METRICS_INTERNAL_H

#include "ctng/metrics.h"

/* Sets the series to v (counter or gauge; non-finite ignored). */
void ctng_metric_set_raw(ctng_metric *m, const char *const *labels, double v);

#endif
