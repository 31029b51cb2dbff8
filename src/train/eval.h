// eval.h — evaluation and checkpoint loading shared by the trainer and the eval/sample/export commands.
#ifndef ACTLAB_EVAL_H
#define ACTLAB_EVAL_H

#include "data/shard.h"
#include "data/tokenizer.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "util/progress.h"

#include <stddef.h>
#include <stdint.h>

// Mean loss over n_batches (B,T) batches read sequentially from the start of s. -1 if s is too short.
// bar (may be NULL) is updated per batch.
double eval_shard_loss(model *m, const shard *s, int B, int T, int n_batches, progress_t *bar);
// Mean per-token loss over ids (n) scored in consecutive windows of up to T predictions each (the
// last window may be shorter). Returns the mean and the number of scored tokens in *n_scored.
double eval_tokens_loss(model *m, const int32_t *ids, size_t n, int T, size_t *n_scored, progress_t *bar);
// Reads a checkpoint and builds its model with the stored parameters. NULL with the reason in err.
// meta (may be NULL) receives the header; config_json (may be NULL) a malloc'd copy of the run config.
model *eval_load_model(const char *path, ckpt_meta *meta, char **config_json, char *err, size_t errlen);
// The checkpoint's tokenizer, found under data_dir, checked against the stored fingerprint.
// NULL with the reason in err.
tokenizer *eval_load_tokenizer(const ckpt_meta *meta, const char *data_dir, char *err, size_t errlen);

#endif
