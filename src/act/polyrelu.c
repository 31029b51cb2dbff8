// polyrelu.c — PolyReLU (PolyCom, order 3): y = w0·ρ³ + w1·ρ² + w2·ρ + b, ρ = max(x, 0).
// The weights are stored cubic-first, as in the reference code (ACTIVATIONS.md).
#include "kernels.h"

static void polyrelu_fwd(const float *restrict x, const float *restrict u, float *restrict y, size_t n,
                         const float *hp, const float *w) {
    (void)u; (void)hp;
    const float w0 = w[0], w1 = w[1], w2 = w[2], b = w[3];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float r = x[i] <= 0.0f ? 0.0f : x[i];
        y[i] = ((w0 * r + w1) * r + w2) * r + b;
    }
}

#define LANES 8  // independent partial sums: the loop vectorises and the order never changes

// dx = dy·(3w0ρ² + 2w1ρ + w2) where x > 0; dw_k += Σ dy·ρ^(3−k); db += Σ dy (sums in double).
static void polyrelu_bwd(const float *restrict x, const float *restrict u, const float *restrict dy,
                         float *restrict dx, float *restrict du, size_t n, const float *hp, const float *w,
                         double *dparams) {
    (void)u; (void)du; (void)hp;
    const float w0 = w[0], w1 = w[1], w2 = w[2];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float xi = x[i], r = xi <= 0.0f ? 0.0f : xi;
        float d = (3.0f * w0 * r + 2.0f * w1) * r + w2;
        dx[i] = dy[i] * (xi > 0.0f ? d : (xi != xi ? xi : 0.0f));
    }
    double a0[LANES] = {0}, a1[LANES] = {0}, a2[LANES] = {0}, a3[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) {
            double g = dy[i + l], r = x[i + l] <= 0.0f ? 0.0 : (double)x[i + l];
            a0[l] += g;
            a1[l] += g * r;
            a2[l] += g * r * r;
            a3[l] += g * r * r * r;
        }
    for (int l = 0; i < n; i++, l++) {
        double g = dy[i], r = x[i] <= 0.0f ? 0.0 : (double)x[i];
        a0[l] += g;
        a1[l] += g * r;
        a2[l] += g * r * r;
        a3[l] += g * r * r * r;
    }
    for (int l = 0; l < LANES; l++) {
        dparams[0] += a3[l];
        dparams[1] += a2[l];
        dparams[2] += a1[l];
        dparams[3] += a0[l];
    }
}

const span_kernels act_span_polyrelu = {polyrelu_fwd, polyrelu_bwd};
