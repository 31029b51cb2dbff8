// linear.c — the model's projections, y = x·Wᵀ and its gradients, through the GEMM layer
// (src/gemm): f32 products, or bf16 products with f32 accumulation when the inputs are bf16
// values already (the bf16 precision quantises them first; lowp.c decides). The GEMM layer cuts
// each product into a fixed grid of row tiles, so results are bit-identical for any thread count.
#include "layers.h"

#include "gemm/gemm.h"

#include <cblas.h>

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// C (M,N) = op(A)·op(B) + beta·C in f32 or, for bf16-valued inputs, bf16.
static void mm(int bf16, gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B,
               int ldb, float beta, float *C, int ldc) {
    if (bf16) gemm_bf16_from_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    else gemm_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out, int bf16) {
    mm(bf16, GEMM_N, GEMM_T, N, out, in, x, in, w, in, 0.0f, y, out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, int bf16) {
    if (dx) mm(bf16, GEMM_N, GEMM_N, N, in, out, dy, out, w, in, accumulate_dx ? 1.0f : 0.0f, dx, in);
    mm(bf16, GEMM_T, GEMM_N, out, in, N, dy, out, x, in, 1.0f, dw, in);
}
