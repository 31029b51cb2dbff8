// checkpoint.h — the training checkpoint: a versioned, checksummed binary file written atomically.
//
// Layout (little-endian):
//   "ACTLCKPT"  u32 version  u32 header_bytes  header[header_bytes]  u64 header_fnv
//   payload: params f32[n] | adam m f32[n] | adam v f32[n] | trainer state f32[state_len]
//            | resolved config JSON (config_len bytes)
//   u64 payload_fnv
// FNV-1a 64 over the header and over the payload; the file size must match the header exactly.
// Corrupt, truncated, wrong-version and mismatched (model config, tokenizer) files are refused
// with a message that says which. Version 1 files (no trainer state) are still read.
// The trainer state holds what bitwise resumption needs beyond the optimiser: the low-precision
// scaling histories and the loss-spike detector's window (see trainer.c).
#ifndef ACTLAB_CHECKPOINT_H
#define ACTLAB_CHECKPOINT_H

#include "model/model.h"

#include <stddef.h>
#include <stdint.h>

// Version 3 adds the MoE FFN's configuration to the header; dense models are still written as
// version 2 (byte for byte what they were), MoE models as version 3.
#define CKPT_VERSION 3

typedef struct {
    model_config cfg;
    char tokenizer[32];        // tok_name() of the data's tokenizer
    uint64_t tok_fingerprint;
    uint64_t n_params;
    uint64_t step;             // optimiser steps taken (skipped ones included)
    uint64_t opt_t;            // AdamW updates applied (bias-correction counter)
    uint64_t bad_streak;       // consecutive skipped steps at the time of writing
    uint64_t loader_pos;       // shard.h loader state
    uint64_t loader_rng[4];
    int32_t loader_random;
    uint64_t rng[4];           // the trainer's own generator
    uint64_t seed;
    uint64_t state_len;        // floats of trainer state (0 in version 1 files)
} ckpt_meta;

typedef struct {
    ckpt_meta meta;
    float *params, *m, *v;     // n_params each
    float *state;              // meta.state_len (NULL when 0)
    char *config_json;         // NUL-terminated
} ckpt;


// Writes atomically (temp file in the same directory, fsync, rename). m and v may be NULL (zeros);
// state holds meta->state_len floats. Returns 0, or -1 with the reason in err.
int ckpt_write(const char *path, const ckpt_meta *meta, const float *params, const float *m, const float *v,
               const float *state, const char *config_json, char *err, size_t errlen);
// Reads and validates everything it can without a model. Returns 0, or -1 with the reason in err.
int ckpt_read(const char *path, ckpt *out, char *err, size_t errlen);
// Reads only the header (for tools that just need the config). Returns 0 or -1 as ckpt_read.
int ckpt_read_meta(const char *path, ckpt_meta *out, char *err, size_t errlen);
void ckpt_free(ckpt *c);

// Refuses a checkpoint whose model configuration or tokenizer differs from the run's.
// expected_fingerprint 0 skips the tokenizer check. Returns 0, or -1 naming the first difference.
int ckpt_check_match(const ckpt_meta *meta, const model_config *cfg, uint64_t expected_fingerprint, char *err,
                     size_t errlen);

#endif
