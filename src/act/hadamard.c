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

// Axis 0 (down the columns, the wgrad operands' token axis): 16 rows at a time, the butterflies
// run on whole row segments, so every step is a vector operation across CH columns; each column
// still goes through rht_vec's operations in rht_vec's order, so the bits are the same.
enum { CH = 64 };
static void rht_rows16(float *y, const float *x, int cols, const float signs[N], int inverse) {
    for (int c0 = 0; c0 < cols; c0 += CH) {
        int nc = cols - c0 < CH ? cols - c0 : CH;
        float v[N][CH];
        for (int i = 0; i < N; i++) {
            float si = inverse ? 1.0f : signs[i];
#pragma omp simd
            for (int c = 0; c < nc; c++) v[i][c] = x[(size_t)i * cols + c0 + c] * si;
        }
        for (int h = 1; h < N; h *= 2)
            for (int i = 0; i < N; i += 2 * h)
                for (int j = i; j < i + h; j++)
#pragma omp simd
                    for (int c = 0; c < nc; c++) {
                        float a = v[j][c], b = v[j + h][c];
                        v[j][c] = a + b, v[j + h][c] = a - b;
                    }
        for (int i = 0; i < N; i++) {
            float f = inverse ? 0.25f * signs[i] : 0.25f;
#pragma omp simd
            for (int c = 0; c < nc; c++) y[(size_t)i * cols + c0 + c] = v[i][c] * f;
        }
    }
}

int num_rht16(float *y, const float *x, int rows, int cols, int axis, uint64_t seed, int inverse) {
    if (axis < 0 || axis > 1 || rows < 0 || cols < 0 || (axis == 0 ? rows : cols) % N) return -1;
    float signs[N];
    num_rht_signs(seed, signs);
    if (axis == 0) {
#pragma omp parallel for schedule(static) if ((size_t)rows * (size_t)cols >= 65536)
        for (int g = 0; g < rows / N; g++)
            rht_rows16(y + (size_t)g * N * cols, x + (size_t)g * N * cols, cols, signs, inverse);
        return 0;
    }
    // Axis 1: each group is 16 consecutive elements of a row.
    long groups = (long)rows * (cols / N);
#pragma omp parallel for schedule(static) if ((size_t)rows * (size_t)cols >= 65536)
    for (long g = 0; g < groups; g++) {
        size_t base = (size_t)(g / (cols / N)) * (size_t)cols + (size_t)(g % (cols / N)) * N;
        float v[N];
        for (int i = 0; i < N; i++) v[i] = x[base + i];
        rht_vec(v, signs, inverse);
        for (int i = 0; i < N; i++) y[base + i] = v[i];
    }
    return 0;
}
