// test_hadamard.c — the 16×16 random Hadamard transform (hadamard.c): its matrix equals
// H16·diag(signs)/4 built here from the definition H[i][j] = (−1)^popcount(i & j), it is orthogonal,
// its inverse restores the input, transforming both GEMM operands along the reduction dimension
// leaves the product unchanged (within f32 rounding), and the bits do not depend on threads.
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define N NUM_RHT_SIZE

static uint64_t g_seed;

static void test_signs(void **state) {
    (void)state;
    float s[N], s2[N];
    num_rht_signs(g_seed, s);
    num_rht_signs(g_seed, s2);
    assert_memory_equal(s, s2, sizeof s);
    for (int i = 0; i < N; i++) assert_true(s[i] == 1.0f || s[i] == -1.0f);
    int differ = 0;
    for (uint64_t k = 1; k <= 8; k++) {
        num_rht_signs(g_seed + k, s2);
        differ += memcmp(s, s2, sizeof s) != 0;
    }
    assert_true(differ >= 7);  // a collision of 16 random bits is rare
}

// T e_j (axis 0 on the identity) is column j of T: exactly ±1/4 with the definition's signs; T Tᵀ = I.
static void test_matrix_and_orthogonality(void **state) {
    (void)state;
    float t[N * N], s[N];
    for (int i = 0; i < N * N; i++) t[i] = i / N == i % N;
    assert_int_equal(num_rht16(t, t, N, N, 0, g_seed, 0), 0);
    num_rht_signs(g_seed, s);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            float want = (__builtin_popcount((unsigned)(i & j)) & 1 ? -0.25f : 0.25f) * s[j];
            if (t[i * N + j] != want) fail_msg("T[%d][%d] = %g, definition %g", i, j, t[i * N + j], want);
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double d = 0;
            for (int k = 0; k < N; k++) d += (double)t[i * N + k] * t[j * N + k];
            assert_true(d == (i == j));  // exact: entries ±1/4
        }
    // the inverse is the transpose: applied to T's columns it gives back the identity, exactly
    assert_int_equal(num_rht16(t, t, N, N, 0, g_seed, 1), 0);
    for (int i = 0; i < N * N; i++) assert_true(t[i] == (float)(i / N == i % N));
}

static void fill(float *x, int n, rng_t *r) {
    for (int i = 0; i < n; i++) x[i] = rng_normal(r) * (rng_u64(r) % 40 ? 1.0f : 30.0f);
}

static void test_inverse_restores(void **state) {
    (void)state;
    enum { R = 64, C = 48 };
    static float x[R * C], y[R * C];
    rng_t r;
    rng_seed(&r, g_seed + 1);
    fill(x, R * C, &r);
    for (int axis = 0; axis < 2; axis++) {
        assert_int_equal(num_rht16(y, x, R, C, axis, g_seed, 0), 0);
        double norm_x = 0, norm_y = 0;
        for (int i = 0; i < R * C; i++) norm_x += (double)x[i] * x[i], norm_y += (double)y[i] * y[i];
        assert_true(fabs(norm_x - norm_y) <= 1e-5 * norm_x);  // orthogonal: norms kept
        num_rht16(y, y, R, C, axis, g_seed, 1);
        for (int i = 0; i < R * C; i++) assert_true(fabsf(y[i] - x[i]) <= 1e-5f * (1 + fabsf(x[i])) * 30);
    }
    assert_int_equal(num_rht16(y, x, 20, C, 0, g_seed, 0), -1);  // rows not a multiple of 16
    assert_int_equal(num_rht16(y, x, R, 20, 1, g_seed, 0), -1);
    assert_int_equal(num_rht16(y, x, R, C, 2, g_seed, 0), -1);
}

// Σ_k A(k, i)·B(k, j) equals Σ_k TA(k, i)·TB(k, j) for every i < m, j < n, where element (k, i) of
// A lives at k·ak + i·ai (and of B at k·bk + j·bj). Each transformed element carries an f32
// rounding relative to its group's norm, so the bound is relative to |A(·, i)|·|B(·, j)|
// (Cauchy–Schwarz), not to Σ|A B|.
static void check_product(const float *a, const float *ta, const float *b, const float *tb, int kdim, int m, int n,
                          int ak, int ai, int bk, int bj) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double c = 0, tc = 0, na = 0, nb = 0;
            for (int k = 0; k < kdim; k++) {
                double x = a[k * ak + i * ai], y = b[k * bk + j * bj];
                c += x * y;
                tc += (double)ta[k * ak + i * ai] * tb[k * bk + j * bj];
                na += x * x, nb += y * y;
            }
            if (fabs(c - tc) > 1e-6 * sqrt(na * nb)) fail_msg("C[%d][%d] = %.9g, transformed %.9g", i, j, c, tc);
        }
}

// C = Aᵀ B with A (K, M), B (K, N) — the weight-gradient GEMM dW = dYᵀ X — is unchanged when A and
// B are both transformed along K (axis 0); so is X Wᵀ with X (M, K), W (N, K) transformed along axis 1.
static void test_gemm_invariance(void **state) {
    (void)state;
    enum { K = 64, M = 24, NN = 40 };
    static float a[K * M], b[K * NN], ta[K * M], tb[K * NN];
    rng_t r;
    rng_seed(&r, g_seed + 2);
    fill(a, K * M, &r);
    fill(b, K * NN, &r);
    num_rht16(ta, a, K, M, 0, g_seed, 0);
    num_rht16(tb, b, K, NN, 0, g_seed, 0);
    check_product(a, ta, b, tb, K, M, NN, M, 1, NN, 1);
    num_rht16(ta, a, M, K, 1, g_seed, 0);  // the same storage read as (M, K) and (NN, K)
    num_rht16(tb, b, NN, K, 1, g_seed, 0);
    check_product(a, ta, b, tb, K, M, NN, 1, K, 1, K);
}

static void test_thread_invariance(void **state) {
    (void)state;
    enum { R = 512, C = 256 };
    float *x = malloc(sizeof(float) * R * C), *y1 = malloc(sizeof(float) * R * C), *y2 = malloc(sizeof(float) * R * C);
    rng_t r;
    rng_seed(&r, g_seed + 3);
    fill(x, R * C, &r);
    for (int axis = 0; axis < 2; axis++) {
        omp_set_num_threads(1);
        num_rht16(y1, x, R, C, axis, g_seed, 0);
        for (int t = 2; t <= 3; t++) {
            omp_set_num_threads(t);
            num_rht16(y2, x, R, C, axis, g_seed, 0);
            assert_memory_equal(y1, y2, sizeof(float) * R * C);
        }
    }
    free(x), free(y1), free(y2);
}

int main(void) {
    g_seed = test_seed("test_hadamard");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signs),          cmocka_unit_test(test_matrix_and_orthogonality),
        cmocka_unit_test(test_inverse_restores), cmocka_unit_test(test_gemm_invariance),
        cmocka_unit_test(test_thread_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
