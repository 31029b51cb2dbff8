// embedding.c — token embedding lookup and its scatter-add backward.
#include "layers.h"

#include <string.h>

// tokens: (N), emb: (V,C) -> x: (N,C)   (tokens are range-checked by the caller)
void embedding_forward(float *x, const int32_t *tokens, const float *emb, int N, int C) {
#pragma omp parallel for schedule(static) if ((size_t)N * C >= PAR_MIN)
    for (int i = 0; i < N; i++) memcpy(x + (size_t)i * C, emb + (size_t)tokens[i] * C, sizeof(float) * C);
}

// tokens: (N), emb: (V,C) bf16 codes of row stride ld -> x: (N,C)
void embedding_forward_bf16(float *x, const int32_t *tokens, const uint16_t *emb, size_t ld, int N, int C) {
#pragma omp parallel for schedule(static) if ((size_t)N * C >= PAR_MIN)
    for (int i = 0; i < N; i++) {
        const uint16_t *e = emb + (size_t)tokens[i] * ld;
        float *o = x + (size_t)i * C;
        for (int c = 0; c < C; c++) o[c] = num_bf16_to_f32(e[c]);
    }
}

// dx: (N,C) -> demb: (V,C) +=
// Rows with the same token collide, so threads split the columns instead of the rows: each
// gradient element is then summed by one thread in token order, without atomics, and the
// result does not depend on the thread count.
void embedding_backward(float *demb, const float *dx, const int32_t *tokens, int N, int C) {
    enum { CB = 16 };  // one cache line of floats
    int nblk = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static) if ((size_t)N * C >= PAR_MIN)
    for (int blk = 0; blk < nblk; blk++) {
        int c0 = blk * CB, c1 = c0 + CB < C ? c0 + CB : C;
        for (int i = 0; i < N; i++) {
            float *dst = demb + (size_t)tokens[i] * C;
            const float *src = dx + (size_t)i * C;
            for (int c = c0; c < c1; c++) dst[c] += src[c];
        }
    }
}
