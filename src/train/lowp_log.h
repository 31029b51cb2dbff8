// lowp_log.h — the metrics.jsonl fields of low-precision training: what quantisation did to the
// matmul inputs since the previous metrics line (see docs/lowp.md for every field).
#ifndef ACTLAB_TRAIN_LOWP_LOG_H
#define ACTLAB_TRAIN_LOWP_LOG_H

#include "model/model.h"

#include <stdio.h>

// JSON has no NaN/Inf: they become null, which is also what a reader should see for them.
void jsonl_num(FILE *f, const char *key, double x);

// Writes ,"lowp":{...} (totals; per-tensor list when with_tensors) and restarts the counts.
// Writes nothing in fp32.
void lowp_log_write(FILE *f, model *m, int with_tensors);

#endif
