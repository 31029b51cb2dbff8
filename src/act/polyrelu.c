// polyrelu.c — PolyReLU (PolyCom, order 3): y = w0·ρ³ + w1·ρ² + w2·ρ + b, ρ = max(x, 0).
// The weights are stored cubic-first, as in the reference code (ACTIVATIONS.md).
#include "kernels.h"

AM_INLINE void polyrelu_fwd_t(const void *restrict x, const void *restrict u, void *restrict y, size_t n,
                              const float *hp, const float *w, act_dtype dt) {
    (void)u; (void)hp;
    const float w0 = w[0], w1 = w[1], w2 = w[2], b = w[3];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float xi = act_ld(x, i, dt), r = xi <= 0.0f ? 0.0f : xi;
        act_st(y, i, ((w0 * r + w1) * r + w2) * r + b, dt);
    }
}

#define LANES 8  // independent partial sums: the loop vectorises and the order never changes

// dx = dy·(3w0ρ² + 2w1ρ + w2) where x > 0, and one lane's share of the parameter gradients
// dw_k += dy·ρ^(3−k), db += dy (in double), for the element at i.
AM_INLINE void polyrelu_elem(const void *restrict x, const void *restrict dy, void *restrict dx, size_t i,
                             const float *w, double *a0, double *a1, double *a2, double *a3, act_dtype dt) {
    float xi = act_ld(x, i, dt), gi = act_ld(dy, i, dt), r = xi <= 0.0f ? 0.0f : xi;
    float d = (3.0f * w[0] * r + 2.0f * w[1]) * r + w[2];
    act_st(dx, i, gi * (xi > 0.0f ? d : (xi != xi ? xi : 0.0f)), dt);
    double g = gi, rd = r;
    *a0 += g;
    *a1 += g * rd;
    *a2 += g * rd * rd;
    *a3 += g * rd * rd * rd;
}

// One pass: dx and the sums together (a second pass over x and dy cost as much as the first).
// Element i always feeds lane i mod LANES, and the lanes are added in order at the end.
AM_INLINE void polyrelu_bwd_t(const void *restrict x, const void *restrict u, const void *restrict dy,
                              void *restrict dx, void *restrict du, size_t n, const float *hp, const float *w,
                              double *dparams, act_dtype dt) {
    (void)u; (void)du; (void)hp;
    double a0[LANES] = {0}, a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
#pragma omp simd
        for (int l = 0; l < LANES; l++) polyrelu_elem(x, dy, dx, i + l, w, &a0[l], &a1[l], &a2[l], &a3[l], dt);
    for (int l = 0; i < n; i++, l++) polyrelu_elem(x, dy, dx, i, w, &a0[l], &a1[l], &a2[l], &a3[l], dt);
    for (int l = 0; l < LANES; l++) {
        dparams[0] += a3[l];
        dparams[1] += a2[l];
        dparams[2] += a1[l];
        dparams[3] += a0[l];
    }
}

ACT_INSTANTIATE(polyrelu, 0)
