// trainfix.h — a tiny model configuration and synthetic shards for tests that train for real.
#ifndef ACTLAB_TRAIN_TRAINFIX_H
#define ACTLAB_TRAIN_TRAINFIX_H

#include "data/shard.h"
#include "train/config.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>

#define FIX_VOCAB 64
#define FIX_FINGERPRINT 0x7e57ull

// A learnable stream: each token is mostly (previous * 5 + 3) mod V, sometimes random.
static inline void fix_write_shards(const char *dir, uint64_t seed) {
    size_t n = 20000;
    int32_t *ids = malloc(n * sizeof(int32_t));
    rng_t r;
    rng_seed(&r, seed);
    ids[0] = 1;
    for (size_t i = 1; i < n; i++)
        ids[i] = rng_uniform(&r) < 0.1f ? (int32_t)(rng_u64(&r) % FIX_VOCAB) : (ids[i - 1] * 5 + 3) % FIX_VOCAB;
    char path[400];
    snprintf(path, sizeof path, "%s/train.bin", dir);
    if (shard_write(path, "test", FIX_FINGERPRINT, ids, n - 4000)) exit(1);
    snprintf(path, sizeof path, "%s/val.bin", dir);
    if (shard_write(path, "test", FIX_FINGERPRINT, ids + n - 4000, 4000)) exit(1);
    free(ids);
}

// A model of a few thousand parameters that trains in well under a second per dozen steps.
static inline void fix_config(train_config *c, const char *data_dir, const char *out_dir, const char *act) {
    char err[256];
    train_config_default(c);
    if (train_config_set(c, "act", act, err, sizeof err)) { fprintf(stderr, "%s\n", err); exit(1); }
    c->model.vocab_size = FIX_VOCAB;
    c->model.d_model = 32;
    c->model.n_layers = 2;
    c->model.n_heads = 2;
    c->model.n_kv_heads = 2;
    c->model.max_seq_len = 32;
    snprintf(c->data_dir, sizeof c->data_dir, "%s", data_dir);
    snprintf(c->out_dir, sizeof c->out_dir, "%s", out_dir);
    c->steps = 40;
    c->sched.total_steps = 40;
    c->sched.warmup_steps = 4;
    c->opt.lr = 1e-2f;
    c->opt.min_lr = 1e-3f;
    c->batch = 4;
    c->seq = 16;
    c->eval_interval = 20;
    c->eval_batches = 2;
    c->telemetry_interval = 10;
    c->ckpt_interval = 0;
    c->threads = 2;
    c->seed = 7;
}

#endif
