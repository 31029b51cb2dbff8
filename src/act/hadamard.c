// hadamard.c — the 16×16 random Hadamard transform that NVFP4 training applies to both inputs of
// the weight-gradient GEMM along its reduction dimension: it spreads an outlier over 16 elements
// (so fewer blocks are dominated by one value), and being orthogonal it leaves the GEMM's exact
// product unchanged. T = H16·diag(signs)/4; the inverse is Tᵀ = diag(signs)·H16/4.
//
// H16·v is computed by the fast Walsh–Hadamard butterfly in a fixed order, and the 1/4 is a power
// of two, so results are deterministic and independent of the thread count.
#include "actlab.h"
#include "minifloat.h"

#define N NUM_RHT_SIZE

void num_rht_signs(uint64_t seed, float signs[N]) {
    uint64_t bits = mix64(seed, 0);
    for (int i = 0; i < N; i++) signs[i] = (bits >> i) & 1 ? -1.0f : 1.0f;
}

// v <- T v (or Tᵀ v), in place.
static void rht_vec(float v[N], const float signs[N], int inverse) {
    if (!inverse)
        for (int i = 0; i < N; i++) v[i] *= signs[i];
    for (int h = 1; h < N; h *= 2)
        for (int i = 0; i < N; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                float a = v[j], b = v[j + h];
                v[j] = a + b, v[j + h] = a - b;
            }
    for (int i = 0; i < N; i++) v[i] *= inverse ? 0.25f * signs[i] : 0.25f;
}

int num_rht16(float *y, const float *x, int rows, int cols, int axis, uint64_t seed, int inverse) {
    if (axis < 0 || axis > 1 || rows < 0 || cols < 0 || (axis == 0 ? rows : cols) % N) return -1;
    float signs[N];
    num_rht_signs(seed, signs);
    // One group: 16 elements `stride` apart from `base`; axis 0 walks down a column, axis 1 a row.
    long groups = axis == 0 ? (long)(rows / N) * cols : (long)rows * (cols / N);
    size_t stride = axis == 0 ? (size_t)cols : 1;
#pragma omp parallel for schedule(static) if ((size_t)rows * (size_t)cols >= 65536)
    for (long g = 0; g < groups; g++) {
        size_t base = axis == 0 ? (size_t)(g / cols) * N * (size_t)cols + (size_t)(g % cols)
                                : (size_t)(g / (cols / N)) * (size_t)cols + (size_t)(g % (cols / N)) * N;
        float v[N];
        for (int i = 0; i < N; i++) v[i] = x[base + i * stride];
        rht_vec(v, signs, inverse);
        for (int i = 0; i < N; i++) y[base + i * stride] = v[i];
    }
    return 0;
}
