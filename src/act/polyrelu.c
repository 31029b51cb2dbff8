// polyrelu.c — PolyReLU (PolyCom, order 3): y = w0·ρ³ + w1·ρ² + w2·ρ + b, ρ = max(x, 0).
// The weights are stored cubic-first, as in the reference code (ACTIVATIONS.md).
#include "kernels.h"

#include <string.h>

#define LANES 8    // independent partial sums: the loop vectorises and the order never changes
#define BLOCK 256  // bf16 staging block (a multiple of LANES, so an element keeps its lane)

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

// Per-lane partial sums of the parameter gradients: s[k][l] for dw_k (k = 0..2) and db (k = 3).
typedef struct {
    double s[4][LANES];
} lane_sums;

// dx = dy·(3w0ρ² + 2w1ρ + w2) where x > 0, and element i's share dy·ρ^(3−k) of dw_k (and dy of db)
// added to lane l (in double).
AM_INLINE void polyrelu_elem(const float *restrict x, const float *restrict dy, float *restrict dx, size_t i,
                             const float *w, lane_sums *acc, int l) {
    float xi = x[i], gi = dy[i], r = xi <= 0.0f ? 0.0f : xi;
    float d = (3.0f * w[0] * r + 2.0f * w[1]) * r + w[2];
    dx[i] = gi * (xi > 0.0f ? d : (xi != xi ? xi : 0.0f));
    double g = gi, rd = r;
    acc->s[3][l] += g;
    acc->s[2][l] += g * rd;
    acc->s[1][l] += g * rd * rd;
    acc->s[0][l] += g * rd * rd * rd;
}

// One pass: dx and the sums together (a second pass over x and dy cost as much as the first).
// Element i feeds lane i mod LANES; n is a multiple of LANES except in a span's last call.
static void polyrelu_lanes(const float *restrict x, const float *restrict dy, float *restrict dx, size_t n,
                           const float *w, lane_sums *acc) {
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
#pragma omp simd
        for (int l = 0; l < LANES; l++) polyrelu_elem(x, dy, dx, i + l, w, acc, l);
    for (int l = 0; i < n; i++, l++) polyrelu_elem(x, dy, dx, i, w, acc, l);
}

// bf16 goes through f32 blocks here rather than in dispatch.c, so that the lane sums run on across
// blocks and give the f32 path's bits.
AM_INLINE void polyrelu_bwd_t(const void *restrict x, const void *restrict u, const void *restrict dy,
                              void *restrict dx, void *restrict du, size_t n, const float *hp, const float *w,
                              double *dparams, act_dtype dt) {
    (void)u; (void)du; (void)hp;
    lane_sums acc;
    memset(&acc, 0, sizeof acc);
    if (dt == ACT_F32) {
        polyrelu_lanes(x, dy, dx, n, w, &acc);
    } else {
        for (size_t i = 0; i < n; i += BLOCK) {
            float bx[BLOCK], bdy[BLOCK], bdx[BLOCK];
            size_t m = n - i < BLOCK ? n - i : BLOCK;
            num_bf16_to_f32_array((const uint16_t *)x + i, bx, m);
            num_bf16_to_f32_array((const uint16_t *)dy + i, bdy, m);
            polyrelu_lanes(bx, bdy, bdx, m, w, &acc);
            num_f32_to_bf16_array(bdx, (uint16_t *)dx + i, m);
        }
    }
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < LANES; l++) dparams[k] += acc.s[k][l];
}

ACT_INSTANTIATE(polyrelu, 0)
