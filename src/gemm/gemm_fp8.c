// gemm_fp8.c — FP8 GEMMs computed as the hardware does: bf16 products of the FP8 codes with f32
// accumulation, the output scaled by the inverse scales (see gemm.h).
//
// Per-tensor scales: one bf16 GEMM with oneDNN's output scale 1/(s_a·s_b).
// Block scales (DeepSeek-V3: 1×128 activation tiles, 128×128 weight blocks): the scale changes
// every 128 along the reduction dimension, so the product is a sum over K-chunks of 128, each a
// bf16 GEMM whose f32 result is scaled per (row, 128-column block) and added in f32, chunks in
// order. It stays fast because each chunk is a full-width GEMM of K = 128 (oneDNN's bf16 kernels
// reach most of their rate there) and the scaling pass touches the (m, N) tile while it is in
// cache; both run per row tile, so the thread count never changes the summation order.
#include "gemm.h"

#include "gemm_dnnl.h"

#include <omp.h>
#include <string.h>

void gemm_fp8_tensor(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, float sa,
                     const float *B, int ldb, float sb, float beta, float *C, int ldc) {
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    uint16_t *a = gemm_scratch(0, sizeof(uint16_t) * (size_t)ar * ac);
    uint16_t *b = gemm_scratch(1, sizeof(uint16_t) * (size_t)br * bc);
    gemm_to_bf16(a, A, ar, ac, lda);  // exact: FP8 codes are bf16 values
    gemm_to_bf16(b, B, br, bc, ldb);
    // the emulation's dequantised inputs are code·(1/s), so the same inverses here
    float alpha = (1.0f / sa) * (1.0f / sb);
    gemm_bf16(ta, tb, M, N, K, a, ac, b, bc, alpha, beta, C, ldc);
}

static gemm_dnnl_key chunk_key(int m, int N, int kc, int K) {
    gemm_dnnl_key k;
    memset(&k, 0, sizeof k);
    k.M = m, k.N = N, k.K = kc, k.lda = K, k.ldb = K, k.ldc = N, k.tb = 1, k.bf16 = 1;
    return k;
}

// tmp: (m,N) the chunk's f32 product -> C (m,N) = (or +=) tmp · ia[row] · ib[column block]
static void scale_add(float *C, int ldc, const float *tmp, int m, int N, const float *ia, int ia_ld,
                      const float *ib, int ib_ld, int add) {
    for (int i = 0; i < m; i++) {
        float *c = C + (size_t)i * ldc;
        const float *t = tmp + (size_t)i * N;
        float ra = ia[(size_t)i * ia_ld];
        for (int n0 = 0; n0 < N; n0 += GEMM_BLOCK) {
            int n1 = n0 + GEMM_BLOCK < N ? n0 + GEMM_BLOCK : N;
            float s = ra * ib[(size_t)(n0 / GEMM_BLOCK) * ib_ld];
            if (add) {
#pragma omp simd
                for (int n = n0; n < n1; n++) c[n] += t[n] * s;
            } else {
#pragma omp simd
                for (int n = n0; n < n1; n++) c[n] = t[n] * s;
            }
        }
    }
}

void gemm_fp8_block(int M, int N, int K, const float *A, int lda, const float *sa, const float *B, int ldb,
                    const float *sb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    int kb = (K + GEMM_BLOCK - 1) / GEMM_BLOCK, nb = (N + GEMM_BLOCK - 1) / GEMM_BLOCK;
    uint16_t *a = gemm_scratch(0, sizeof(uint16_t) * (size_t)M * K);
    uint16_t *b = gemm_scratch(1, sizeof(uint16_t) * (size_t)N * K);
    gemm_to_bf16(a, A, M, K, lda);
    gemm_to_bf16(b, B, N, K, ldb);
    // inverse scales, as the emulation multiplies by them
    float *ia = gemm_scratch(2, sizeof(float) * ((size_t)M * kb + (size_t)nb * kb)), *ib = ia + (size_t)M * kb;
    for (size_t i = 0; i < (size_t)M * kb; i++) ia[i] = 1.0f / sa[i];
    for (size_t i = 0; i < (size_t)nb * kb; i++) ib[i] = 1.0f / sb[i];
    int tiles, rows, par;
    gemm_tiles(M, 2.0 * M * N * K, &tiles, &rows, &par);
    int last_m = M - (tiles - 1) * rows, last_k = K - (kb - 1) * GEMM_BLOCK;
    // [tile is last][chunk is last], created here: the primitive cache is not thread-safe
    const gemm_dnnl_prim *p[2][2] = {{NULL, NULL}, {NULL, NULL}};
    for (int lm = 0; lm < 2; lm++)
        for (int lk = 0; lk < 2; lk++) {
            if ((!lm && tiles == 1) || (!lk && kb == 1)) continue;  // no such tile or chunk
            gemm_dnnl_key k = chunk_key(lm ? last_m : rows, N, lk ? last_k : GEMM_BLOCK, K);
            p[lm][lk] = gemm_dnnl_get(&k);
        }
    float *tmp = gemm_scratch(3, sizeof(float) * (size_t)tiles * rows * N);
#pragma omp parallel for schedule(static) if (par)
    for (int t = 0; t < tiles; t++) {
        int m0 = t * rows, m = t == tiles - 1 ? last_m : rows;
        float *tt = tmp + (size_t)t * rows * N;
        for (int c = 0; c < kb; c++) {
            gemm_dnnl_run(p[t == tiles - 1][c == kb - 1], a + (size_t)m0 * K + (size_t)c * GEMM_BLOCK,
                          b + (size_t)c * GEMM_BLOCK, tt, 1.0f);
            scale_add(C + (size_t)m0 * ldc, ldc, tt, m, N, ia + (size_t)m0 * kb + c, kb, ib + c, kb, c > 0 || beta != 0);
        }
    }
}
