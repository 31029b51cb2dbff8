// lowp_log.h — the metrics.jsonl fields of low-precision training: what quantisation did to the
// matmul inputs since the previous metrics line (see docs/lowp.md for every field).
#ifndef ACTLAB_TRAIN_LOWP_LOG_H
#define ACTLAB_TRAIN_LOWP_LOG_H

#include "model/model.h"

#include <jansson.h>

// The "lowp" object (totals; the per-tensor list when with_tensors), and restarts the counts.
// NULL in fp32, where nothing is quantised.
json_t *lowp_log_json(model *m, int with_tensors);

#endif
