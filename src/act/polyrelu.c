// polyrelu.c — PolyReLU (PolyCom, order 3): y = w0·ρ³ + w1·ρ² + w2·ρ + b, ρ = max(x, 0).
// The weights are stored cubic-first, as in the reference code (ACTIVATIONS.md).
#include "kernels.h"
#include "lanes.h"

#include <string.h>

#define BLOCK 256  // f32 sum block and bf16 staging block (a multiple of VW, so an element keeps its lane)

static void polyrelu_fwd_span(const float *restrict x, float *restrict y, size_t n, const float *w) {
    const float w0 = w[0], w1 = w[1], w2 = w[2], b = w[3];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float r = x[i] <= 0.0f ? 0.0f : x[i];
        y[i] = ((w0 * r + w1) * r + w2) * r + b;
    }
}

// bf16 through f32 blocks in L1: converting inside the loop above measured slower (2.3× the
// memory floor against 1.4× for relu's).
AM_INLINE void polyrelu_fwd_t(const void *restrict x, const void *restrict u, void *restrict y, size_t n,
                              const float *hp, const float *w, act_dtype dt) {
    (void)u; (void)hp;
    if (dt == ACT_F32) {
        polyrelu_fwd_span(x, y, n, w);
        return;
    }
    for (size_t i = 0; i < n; i += BLOCK) {
        float bx[BLOCK], by[BLOCK];
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        num_bf16_to_f32_array((const uint16_t *)x + i, bx, m);
        polyrelu_fwd_span(bx, by, m, w);
        num_f32_to_bf16_array(by, (uint16_t *)y + i, m);
    }
}

// The parameter gradients' sums Σg·ρ^(3−k) (k = 0..2) and Σg (k = 3) in f32 vector lanes, added
// to the double sums acc[k] at the end of every call (at most BLOCK = 256 elements: 16 terms per
// lane, so f32 rounding stays at a few ulp of a block). Before, every term was summed in double:
// the conversions and the adds' latency made the backward 1.6× the memory floor.
// dx = dy·(3w0ρ² + 2w1ρ + w2) where x > 0 (NaN where x is NaN), else dy·0, and the lane sums.
// A ragged end is zero-padded: x = 0, dy = 0 adds exactly nothing, and dx is computed by the same
// operations as in full vectors.
static void polyrelu_lanes(const float *restrict x, const float *restrict dy, float *restrict dx, size_t n,
                           const float *w, vd *acc) {
    const float c3 = 3.0f * w[0], c2 = 2.0f * w[1], c1 = w[2];
    vf s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (size_t i = 0; i < n; i += VW) {
        float tx[VW] = {0}, tg[VW] = {0}, td[VW];
        const float *px = x + i, *pg = dy + i;
        size_t m = n - i < VW ? n - i : VW;
        if (m < VW) {
            memcpy(tx, px, m * sizeof(float));
            memcpy(tg, pg, m * sizeof(float));
            px = tx, pg = tg;
        }
        vf v, g;
        memcpy(&v, px, sizeof v);
        memcpy(&g, pg, sizeof g);
        vi nonpos = v <= 0.0f;                                   // false for NaN: ρ = x = NaN
        vf r = (vf)((vi)v & ~nonpos);
        vf d = (c3 * r + c2) * r + c1;
        vf out = g * (vf)((vi)d & ~nonpos);
        vf gr = g * r, gr2 = gr * r;
        s3 += g, s2 += gr, s1 += gr2, s0 += gr2 * r;
        memcpy(m < VW ? td : dx + i, &out, sizeof out);
        if (m < VW) memcpy(dx + i, td, m * sizeof(float));
    }
    acc[0] += __builtin_convertvector(s0, vd), acc[1] += __builtin_convertvector(s1, vd);
    acc[2] += __builtin_convertvector(s2, vd), acc[3] += __builtin_convertvector(s3, vd);
}

// bf16 goes through f32 blocks here rather than in dispatch.c, so that the lane sums run on across
// blocks and give the f32 path's bits.
AM_INLINE void polyrelu_bwd_t(const void *restrict x, const void *restrict u, const void *restrict dy,
                              void *restrict dx, void *restrict du, size_t n, const float *hp, const float *w,
                              double *dparams, act_dtype dt) {
    (void)u; (void)du; (void)hp;
    vd acc[4] = {{0}};
    if (dt == ACT_F32) {
        for (size_t i = 0; i < n; i += BLOCK)
            polyrelu_lanes((const float *)x + i, (const float *)dy + i, (float *)dx + i, n - i < BLOCK ? n - i : BLOCK,
                           w, acc);
    } else {
        for (size_t i = 0; i < n; i += BLOCK) {
            float bx[BLOCK], bdy[BLOCK], bdx[BLOCK];
            size_t m = n - i < BLOCK ? n - i : BLOCK;
            num_bf16_to_f32_array((const uint16_t *)x + i, bx, m);
            num_bf16_to_f32_array((const uint16_t *)dy + i, bdy, m);
            polyrelu_lanes(bx, bdy, bdx, m, w, acc);
            num_f32_to_bf16_array(bdx, (uint16_t *)dx + i, m);
        }
    }
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < VW; l++) dparams[k] += acc[k][l];
}

ACT_INSTANTIATE(polyrelu, 0, NULL, NULL, NULL)
