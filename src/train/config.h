// config.h — the training configuration: model + optimiser + schedule + data + loop settings.
// One table of keys drives the JSON file, the command-line flags (--key-name or --key_name), the
// --help listing (with defaults) and the resolved config.json saved beside every run.
// Precedence: defaults < --config FILE.json < flags. Unknown keys and malformed values are errors
// that name the key.
#ifndef ACTLAB_TRAIN_CONFIG_H
#define ACTLAB_TRAIN_CONFIG_H

#include "model/model.h"
#include "train/optim.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define TC_PATH 512

typedef struct {
    model_config model;
    adamw_config opt;
    schedule sched;           // sched.total_steps follows `steps`
    char data_dir[TC_PATH];   // where the tokenizer files and shards live
    char train_data[TC_PATH]; // training shard; "" = <data_dir>/train.bin
    char val_data[TC_PATH];   // validation shard; "" = <data_dir>/val.bin
    char tokenizer[TC_PATH];  // expected tok_name() of the shards ("" = whatever wrote them)
    char out_dir[TC_PATH];    // run folder: config.json, metrics.jsonl, checkpoint.bin
    int steps;                // optimiser steps
    int batch, seq;           // micro-batch (B, T)
    int grad_accum;           // micro-batches per optimiser step
    int eval_interval;        // validation every N steps (0: only at the end)
    int eval_batches;         // batches of the sequential validation loader
    int log_interval;         // metrics line every N steps
    int telemetry_interval;   // per-layer statistics every K steps (0: never)
    int ckpt_interval;        // checkpoint every C steps (0: only at the end)
    int max_bad_steps;        // stop after this many consecutive NaN/Inf steps
    int threads;              // OpenMP and OpenBLAS threads (0: all online cores)
    uint64_t seed;            // model init and data order
    model_precision prec;     // bf16 / fp8 emulation of the matmul inputs and the fp8 scaling recipe
    float spike_k;            // a loss above the trailing mean by spike_k std is a spike (0: off)
    int spike_window;         // trailing window of good steps for the spike detector
    float divergence_loss;    // loss above this declares divergence (0: ln(vocab_size) + 1)
    int divergence_grace;     // ...but not within the first N steps: an early-warmup bump may recover
    uint64_t set_mask;        // keys set explicitly (bit = row of the key table): adaptive defaults skip them
} train_config;

void train_config_default(train_config *c);

// Sets key (JSON spelling, '-' accepted for '_') from a command-line string. The activation's
// hyperparameters (e.g. "m") are keys too. Returns 0, or -1 with a message naming the key in err.
int train_config_set(train_config *c, const char *key, const char *value, char *err, size_t errlen);
// Sets one key from a JSON value: a config key (JSON spelling) or a hyperparameter of the
// activation, checked exactly as in a --config file. Returns 0, or -1 with a message naming the key.
int train_config_set_value(train_config *c, const char *key, const json_t *v, char *err, size_t errlen);
// Applies a JSON object (text). Unknown keys and wrong types are errors naming the key.
int train_config_from_json(train_config *c, const char *text, char *err, size_t errlen);
int train_config_load(train_config *c, const char *path, char *err, size_t errlen);
// The resolved configuration as JSON (malloc'd; every key, so a run can be replayed from it).
char *train_config_to_json(const train_config *c);
// What decides a run's results, as JSON (malloc'd): the resolved configuration without the run
// folder and the thread count (results are bitwise identical for any thread count). Two runs are
// the same run exactly when these strings are equal (sweep dedupe, changed-run detection).
char *train_config_identity(const train_config *c);
// Fills the defaults that follow the command, for keys not set explicitly: warmup_steps and
// eval_interval = min(100, steps/10) (eval_interval at least 1). Call after the last setter and
// before train_config_check; the resolved values are what config.json records.
void train_config_resolve(train_config *c);
// Semantic checks across keys. Returns NULL if valid, else a sentence saying what is wrong.
const char *train_config_check(const train_config *c, char *buf, size_t buflen);
// Shard paths with the data_dir defaults applied.
void train_config_shard_paths(const train_config *c, char *train_path, char *val_path, size_t len);
// One line per key: --flag-name, type, default, help.
void train_config_print_help(FILE *out);
// 1 if `key` (either spelling) names a configuration key or a hyperparameter of the activation.
int train_config_has_key(const train_config *c, const char *key);

#endif
