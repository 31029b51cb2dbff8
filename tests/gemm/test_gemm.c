// test_gemm.c — the GEMM layer (src/gemm) against a double-precision reference written here:
// f32 through each backend, bf16 with f32 accumulation against the emulation it replaces (an f32
// GEMM of bf16-rounded inputs), FP8 on bf16 codes against the emulation of every recipe (an f32
// GEMM of Q(x·s)/s), all transposes and beta, partial tiles; and bit-identical results for 1 and 2
// OpenMP threads. Bounds: an f32 sum of K products differs from the exact one by at most about
// K·2^-24 · Σ|a·b| (any order), so two f32 orders differ by at most twice that.
#include "gemm/gemm.h"
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t g_seed;

typedef struct {
    int M, N, K;
} shape;
// partial tiles and chunks, one shape large enough to run tiles on several threads
static const shape SHAPES[] = {{1, 1, 1}, {37, 19, 130}, {100, 77, 256}, {300, 260, 300}};
#define N_SHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

static float *randn(rng_t *r, size_t n, float scale) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = scale * rng_normal(r);
    return x;
}

// op(X)[i][j] of a row-major matrix with leading dimension ld
static double at(const float *X, int ld, int t, int i, int j) { return t ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j]; }

// exact (double) product and Σ|a·b| per element
static void ref_gemm(double *C, double *absC, int ta, int tb, int M, int N, int K, const float *A, const float *B) {
    int lda = ta ? M : K, ldb = tb ? K : N;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, a = 0;
            for (int k = 0; k < K; k++) {
                double p = at(A, lda, ta, i, k) * at(B, ldb, tb, k, j);
                s += p, a += fabs(p);
            }
            C[(size_t)i * N + j] = s, absC[(size_t)i * N + j] = a;
        }
}

// |got − want| <= factor·K·2^-24·Σ|a·b| (+ the f32 rounding of the result) everywhere
static void assert_close(const float *got, const double *want, const double *absw, int M, int N, int K, double factor) {
    for (size_t i = 0; i < (size_t)M * N; i++) {
        double tol = factor * (K + 2) * 0x1p-24 * absw[i] + 1e-30;
        if (fabs(got[i] - want[i]) > tol) {
            printf("element %zu: got %.9g want %.9g (tol %.3g)\n", i, got[i], want[i], tol);
            fail();
        }
    }
}

static void bf16_round(float *x, size_t n) { num_bf16_qdq(x, x, n, NULL); }

static void test_f32_backends(void **st) {
    (void)st;
    rng_t r;
    rng_seed(&r, g_seed);
    for (int b = 0; b < 2; b++)
        for (int s = 0; s < N_SHAPES; s++)
            for (int t = 0; t < 8; t++) {
                int ta = t & 1, tb = (t >> 1) & 1, acc = t >> 2, M = SHAPES[s].M, N = SHAPES[s].N, K = SHAPES[s].K;
                float *A = randn(&r, (size_t)M * K, 1), *B = randn(&r, (size_t)K * N, 1), *C = randn(&r, (size_t)M * N, 1);
                double *ref = malloc(sizeof(double) * M * N), *abs_ = malloc(sizeof(double) * M * N);
                ref_gemm(ref, abs_, ta, tb, M, N, K, A, B);
                for (int i = 0; i < M * N; i++) ref[i] += acc ? C[i] : 0, abs_[i] += acc ? fabs(C[i]) : 0;
                gemm_f32_with((gemm_backend_kind)b, ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, acc ? 1.0f : 0.0f, C, N);
                assert_close(C, ref, abs_, M, N, K, 1.0);
                free(A), free(B), free(C), free(ref), free(abs_);
            }
}

// The native bf16 product equals the emulation it replaces (f32 GEMM of bf16-rounded inputs) up
// to summation order, and the exact product within the f32 bound.
static void test_bf16_matches_emulation(void **st) {
    (void)st;
    if (!gemm_bf16_native()) {
        printf("no native bf16 on this CPU: gemm_bf16 is not used here, nothing to compare\n");
        skip();
    }
    rng_t r;
    rng_seed(&r, g_seed + 1);
    for (int s = 0; s < N_SHAPES; s++)
        for (int t = 0; t < 8; t++) {
            int ta = t & 1, tb = (t >> 1) & 1, acc = t >> 2, M = SHAPES[s].M, N = SHAPES[s].N, K = SHAPES[s].K;
            float *A = randn(&r, (size_t)M * K, 3), *B = randn(&r, (size_t)K * N, 0.1f), *C = randn(&r, (size_t)M * N, 1);
            bf16_round(A, (size_t)M * K), bf16_round(B, (size_t)K * N);
            float *E = malloc(sizeof(float) * M * N);
            memcpy(E, C, sizeof(float) * M * N);
            double *ref = malloc(sizeof(double) * M * N), *abs_ = malloc(sizeof(double) * M * N);
            ref_gemm(ref, abs_, ta, tb, M, N, K, A, B);
            for (int i = 0; i < M * N; i++) ref[i] += acc ? C[i] : 0, abs_[i] += acc ? fabs(C[i]) : 0;
            int lda = ta ? M : K, ldb = tb ? K : N;
            gemm_bf16_from_f32(ta, tb, M, N, K, A, lda, B, ldb, acc ? 1.0f : 0.0f, C, N);
            gemm_f32_with(GEMM_OPENBLAS, ta, tb, M, N, K, A, lda, B, ldb, acc ? 1.0f : 0.0f, E, N);
            assert_close(C, ref, abs_, M, N, K, 1.0);
            double *e = malloc(sizeof(double) * M * N);
            for (int i = 0; i < M * N; i++) e[i] = E[i];
            assert_close(C, e, abs_, M, N, K, 2.0);
            free(A), free(B), free(C), free(E), free(e), free(ref), free(abs_);
        }
}

// FP8 codes of x with one scale: Q(x·s) as values, the same rounding the emulation applies.
static void codes(float *c, const float *x, size_t n, num_fp8_format f, float s) {
    for (size_t i = 0; i < n; i++) c[i] = x[i] * s;
    num_fp8_qdq(c, c, n, f, 1.0f, NULL);
}

static float tile_amax(const float *x, int ld, int r0, int nr, int c0, int nc) {
    float m = 0;
    for (int i = r0; i < r0 + nr; i++)
        for (int j = c0; j < c0 + nc; j++) m = fmaxf(m, fabsf(x[(size_t)i * ld + j]));
    return m;
}

// Block codes: tiles of br×128 (br 1 for activations, 128 for weights), each with its own scale.
static void block_codes(float *c, float *scales, const float *x, int rows, int cols, int br, num_fp8_format f) {
    int kb = (cols + 127) / 128;
    for (int r0 = 0; r0 < rows; r0 += br)
        for (int kc = 0; kc < kb; kc++) {
            int nr = rows - r0 < br ? rows - r0 : br, c0 = kc * 128, nc = cols - c0 < 128 ? cols - c0 : 128;
            float s = num_fp8_scale(f, tile_amax(x, cols, r0, nr, c0, nc), 0, 1.0f);
            scales[(size_t)(r0 / br) * kb + kc] = s;
            for (int i = r0; i < r0 + nr; i++) codes(c + (size_t)i * cols + c0, x + (size_t)i * cols + c0, (size_t)nc, f, s);
        }
}

enum { REC_DELAYED, REC_CURRENT, REC_BLOCK };

// Forward layout (x: (M,K) times w: (N,K) transposed) and, for per-tensor scales, the backward
// ones too; native FP8 against an f32 GEMM of the emulation's Q(x·s)/s.
static void check_fp8(rng_t *r, int recipe, num_fp8_format fa, num_fp8_format fb, int ta, int tb, const shape *sh) {
    int M = sh->M, N = sh->N, K = sh->K;
    size_t na = (size_t)M * K, nb = (size_t)K * N;
    float *A = randn(r, na, 2), *B = randn(r, nb, 0.05f), *ca = malloc(na * 4), *cb = malloc(nb * 4);
    float *qa = malloc(na * 4), *qb = malloc(nb * 4), *C = malloc(sizeof(float) * M * N), *E = malloc(sizeof(float) * M * N);
    int lda = ta ? M : K, ldb = tb ? K : N;
    if (recipe == REC_BLOCK) {
        int kb = (K + 127) / 128;
        float *sa = malloc(sizeof(float) * M * kb), *sb = malloc(sizeof(float) * ((N + 127) / 128) * kb);
        block_codes(ca, sa, A, M, K, 1, fa);
        block_codes(cb, sb, B, N, K, 128, fb);
        num_fp8_qdq_blocks(qa, A, M, K, 1, 128, fa, 0, NULL, NULL);
        num_fp8_qdq_blocks(qb, B, N, K, 128, 128, fb, 0, NULL, NULL);
        gemm_fp8_block(M, N, K, ca, K, sa, cb, K, sb, 0.0f, C, N);
        free(sa), free(sb);
    } else {
        // delayed: a scale from some earlier amax (not a power of two); current: from this amax
        float sa = recipe == REC_CURRENT ? num_fp8_scale(fa, num_amax(A, na), 0, 1) : 0.37f * num_fp8_max(fa) / 2;
        float sb = recipe == REC_CURRENT ? num_fp8_scale(fb, num_amax(B, nb), 0, 1) : 0.61f * num_fp8_max(fb) / 0.05f / 4;
        codes(ca, A, na, fa, sa), codes(cb, B, nb, fb, sb);
        num_fp8_qdq(qa, A, na, fa, sa, NULL), num_fp8_qdq(qb, B, nb, fb, sb, NULL);
        for (size_t i = 0; i < na; i++) assert_true(qa[i] == ca[i] * (1.0f / sa));  // the codes are the emulation's
        float *lib = malloc(na * 4);  // and libactlab's num_fp8_codes gives them
        num_fp8_codes(lib, A, na, fa, sa, NULL);
        assert_memory_equal(lib, ca, na * 4);
        free(lib);
        gemm_fp8_tensor(ta, tb, M, N, K, ca, lda, sa, cb, ldb, sb, 0.0f, C, N);
    }
    gemm_f32_with(GEMM_OPENBLAS, ta, tb, M, N, K, qa, lda, qb, ldb, 0.0f, E, N);
    double *ref = malloc(sizeof(double) * M * N), *abs_ = malloc(sizeof(double) * M * N);
    ref_gemm(ref, abs_, ta, tb, M, N, K, qa, qb);
    for (int i = 0; i < M * N; i++) ref[i] = E[i];
    // two f32 orders, plus the rounding of each dequantised input (2 per product) and of the scales
    assert_close(C, ref, abs_, M, N, K, 2.0 + 8.0 / (K + 2));
    free(A), free(B), free(ca), free(cb), free(qa), free(qb), free(C), free(E), free(ref), free(abs_);
}

static void test_fp8_matches_emulation(void **st) {
    (void)st;
    if (!gemm_bf16_native()) skip();
    rng_t r;
    rng_seed(&r, g_seed + 2);
    for (int rec = REC_DELAYED; rec <= REC_BLOCK; rec++)
        for (int s = 0; s < N_SHAPES; s++)
            for (int f = 0; f < 3; f++) {  // x·w (e4m3·e4m3), dy·w and dyᵀ·x (e5m2·e4m3)
                num_fp8_format fa = f ? NUM_E5M2 : NUM_E4M3;
                int ta = f == 2, tb = f == 0;
                if (rec == REC_BLOCK && f) continue;  // the block GEMM has the forward layout only
                check_fp8(&r, rec, fa, NUM_E4M3, ta, tb, &SHAPES[s]);
            }
}

// Same bits for 1 and 2 OpenMP threads, for every kind of product.
static void run_all(float *out, const float *A, const float *B, const float *sa, const float *sb, int M, int N, int K) {
    size_t mn = (size_t)M * N;
    memset(out, 0, 4 * mn * sizeof(float));
    gemm_f32_with(GEMM_ONEDNN, GEMM_N, GEMM_T, M, N, K, A, K, B, K, 0.0f, out, N);
    gemm_f32_with(GEMM_OPENBLAS, GEMM_T, GEMM_N, M, N, K, A, M, B, N, 0.0f, out + mn, N);
    if (!gemm_bf16_native()) return;
    gemm_bf16_from_f32(GEMM_N, GEMM_T, M, N, K, A, K, B, K, 0.0f, out + 2 * mn, N);
    gemm_fp8_block(M, N, K, A, K, sa, B, K, sb, 0.0f, out + 3 * mn, N);
}

static void test_threads_bitwise(void **st) {
    (void)st;
    rng_t r;
    rng_seed(&r, g_seed + 3);
    enum { M = 1000, N = 300, K = 260, KB = 3 };
    float *A = randn(&r, (size_t)M * K, 1), *B = randn(&r, (size_t)N * K, 1);
    bf16_round(A, (size_t)M * K), bf16_round(B, (size_t)N * K);
    float *sa = randn(&r, (size_t)M * KB, 1), *sb = randn(&r, 3 * KB, 1);
    float *o1 = malloc(sizeof(float) * 4 * M * N), *o2 = malloc(sizeof(float) * 4 * M * N);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    run_all(o1, A, B, sa, sb, M, N, K);
    omp_set_num_threads(2);
    run_all(o2, A, B, sa, sb, M, N, K);
    omp_set_num_threads(saved);
    assert_memory_equal(o1, o2, sizeof(float) * 4 * M * N);
    free(A), free(B), free(sa), free(sb), free(o1), free(o2);
}

int main(void) {
    g_seed = test_seed("test_gemm");
    printf("%s\n", gemm_describe());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_backends),
        cmocka_unit_test(test_bf16_matches_emulation),
        cmocka_unit_test(test_fp8_matches_emulation),
        cmocka_unit_test(test_threads_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
