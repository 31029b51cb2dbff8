// metrics.h — the lines of metrics.jsonl: each built as one JSON object (jansson) and written as one
// compact line. A line holds the step's loss, learning rate, gradient norm and token counts, then any
// events (skipped step, spike, divergence), the low-precision counts (lowp_log.h), the per-layer FFN
// telemetry and the validation loss (docs/train.md lists every key).
#ifndef ACTLAB_TRAIN_METRICS_H
#define ACTLAB_TRAIN_METRICS_H

#include "model/model.h"
#include "train/stats.h"

#include <jansson.h>
#include <stdio.h>

// PowLU's gate (m = 3) rises above SiLU's for 1 < z < 4, is bounded beyond 4 and peaks near
// z = 12.9 (ACTIVATIONS.md): the fractions of gate inputs past these two points tell whether a run
// reaches the regime the PowLU paper's argument is about.
#define METRICS_Z_BOUNDED 4.0f
#define METRICS_Z_PEAK 12.9f

// {"step": step}: the start of a line (the step comes first: resume trims lines by it).
json_t *metrics_line(long step);
// key: x, or null when x is NaN/Inf (JSON has neither; a reader sees null for them).
void metrics_set_num(json_t *o, const char *key, double x);
// {"min","max","amax","p1","p50","p99","p999","rms","kurtosis","nonfinite"}
json_t *metrics_stats_json(const tensor_stats *s);
// The "layers" array of a telemetry step: per layer the statistics of the down-projection input,
// the gradients at the up/gate outputs, the up/gate weight gradients, the activation's input z
// (quantiles and the fractions above METRICS_Z_BOUNDED and METRICS_Z_PEAK) and the gate/up row
// alignment. Reads the last micro-batch of (B·T = rows) tokens and the step's weight gradients.
json_t *metrics_telemetry(const model *m, size_t rows);
// Writes the line and a newline, flushes, and releases the object. Dies (with a hint) on I/O errors.
void metrics_write(FILE *f, const char *path, json_t *line);

#endif
