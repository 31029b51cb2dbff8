// loader.c — (B,T) batches from one shard; see shard.h. The whole state lives in the loader
// struct (pos + xoshiro state), so copying the struct is a bitwise-exact checkpoint.
#include "data/shard.h"
#include "util/rng.h"

#include <string.h>

void loader_init(loader *ld, const shard *src, int random, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    ld->src = src;
    ld->pos = 0;
    memcpy(ld->rng, r.s, sizeof ld->rng);
    ld->random = random;
}

// Window of T+1 tokens at start: inputs are the first T, targets the last T (shifted by one).
static void copy_window(const uint16_t *toks, uint64_t start, int T, int32_t *tokens, int32_t *targets) {
    for (int t = 0; t < T; t++) {
        tokens[t] = toks[start + (uint64_t)t];
        targets[t] = toks[start + (uint64_t)t + 1];
    }
}

// tokens, targets: (B,T)
int loader_next(loader *ld, int B, int T, int32_t *tokens, int32_t *targets) {
    uint64_t n = ld->src->n_tokens;
    if (T < 1 || B < 1 || n < (uint64_t)T + 1) return -1;
    const uint16_t *toks = ld->src->tokens;
    rng_t r;
    memcpy(r.s, ld->rng, sizeof r.s);
    for (int b = 0; b < B; b++) {
        uint64_t start;
        if (ld->random) {
            // n - T possible starts; the modulo bias is below 2^-40 for any shard we can hold.
            start = rng_u64(&r) % (n - (uint64_t)T);
        } else {
            if (ld->pos + (uint64_t)T + 1 > n) ld->pos = 0;  // wrap: evaluation sweeps the shard again
            start = ld->pos;
            ld->pos += (uint64_t)T;
        }
        copy_window(toks, start, T, tokens + (size_t)b * T, targets + (size_t)b * T);
    }
    memcpy(ld->rng, r.s, sizeof ld->rng);
    return 0;
}
