// sample.h — autoregressive sampling from a trained model (temperature, top-k, seeded).
#ifndef ACTLAB_SAMPLE_H
#define ACTLAB_SAMPLE_H

#include "model/model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float temperature;  // 0: greedy (argmax)
    int top_k;          // 0: the whole vocabulary
    uint64_t seed;
} sample_opts;

// Picks the next token from logits (V). rng_state: xoshiro state (4 words), advanced.
int32_t sample_pick(const float *logits, int V, const sample_opts *o, uint64_t rng_state[4]);

// Appends n_new tokens to ids[0..n_prompt) (n_prompt >= 1; ids has room for n_prompt + n_new).
// The model sees at most max_seq_len trailing tokens. on_token (may be NULL) is called per new token.
void sample_generate(model *m, int32_t *ids, size_t n_prompt, int n_new, const sample_opts *o,
                     void (*on_token)(void *ctx, int32_t id), void *ctx);

#endif
