// sample.c — see sample.h.
#include "train/sample.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float logit;
    int32_t id;
} cand;

// Larger logit first; equal logits by id, so the order never depends on qsort's internals.
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t sample_pick(const float *logits, int V, const sample_opts *o, uint64_t rng_state[4]) {
    if (o->temperature <= 0) {
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    cand *c = xmalloc((size_t)V * sizeof *c);
    for (int i = 0; i < V; i++) c[i] = (cand){logits[i], i};
    int k = V;
    if (o->top_k > 0 && o->top_k < V) {
        qsort(c, (size_t)V, sizeof *c, cand_cmp);
        k = o->top_k;
    }
    float mx = -INFINITY;
    for (int i = 0; i < k; i++)
        if (c[i].logit > mx) mx = c[i].logit;
    double total = 0;
    for (int i = 0; i < k; i++) total += exp(((double)c[i].logit - mx) / o->temperature);
    rng_t r;
    memcpy(r.s, rng_state, sizeof r.s);
    double u = rng_uniform_d(&r) * total, acc = 0;
    memcpy(rng_state, r.s, sizeof r.s);
    int32_t pick = c[k - 1].id;
    for (int i = 0; i < k; i++) {
        acc += exp(((double)c[i].logit - mx) / o->temperature);
        if (u < acc) {
            pick = c[i].id;
            break;
        }
    }
    free(c);
    return pick;
}

void sample_generate(model *m, int32_t *ids, size_t n_prompt, int n_new, const sample_opts *o,
                     void (*on_token)(void *ctx, int32_t id), void *ctx) {
    const model_config *cfg = model_cfg(m);
    rng_t r;
    rng_seed(&r, o->seed);
    size_t n = n_prompt;
    for (int i = 0; i < n_new; i++) {
        // No KV cache: the whole window is recomputed, which is fine at the sizes trained here.
        size_t T = n < (size_t)cfg->max_seq_len ? n : (size_t)cfg->max_seq_len;
        model_forward(m, ids + n - T, NULL, 1, (int)T);
        const float *logits = model_logits_row(m, T - 1);
        ids[n] = sample_pick(logits, cfg->vocab_size, o, r.s);
        if (on_token) on_token(ctx, ids[n]);
        n++;
    }
}
