// linear.c — the model's projections, y = x·Wᵀ and its gradients, through the GEMM layer
// (src/gemm): f32 products, or bf16 products with f32 accumulation when the inputs are bf16
// values or FP8 codes already (lowp.c quantised them and decides, see linear_prec). The GEMM layer cuts
// each product into a fixed grid of row tiles, so results are bit-identical for any thread count.
#include "layers.h"

#include "gemm/gemm.h"

#include <cblas.h>

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// C (M,N) = op(A)·op(B) + beta·C from inputs A (scale sa) and B (scale sb) as p says.
static void mm(linear_prec p, gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, float sa,
               const float *B, int ldb, float sb, float beta, float *C, int ldc) {
    if (p.kind == LIN_BF16) gemm_bf16_from_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    else if (p.kind == LIN_FP8) gemm_fp8_tensor(ta, tb, M, N, K, A, lda, sa, B, ldb, sb, beta, C, ldc);
    else gemm_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out, linear_prec p) {
    mm(p, GEMM_N, GEMM_T, N, out, in, x, in, p.sx, w, in, p.sw, 0.0f, y, out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, linear_prec p) {
    if (dx) mm(p, GEMM_N, GEMM_N, N, in, out, dy, out, p.sdy, w, in, p.sw, accumulate_dx ? 1.0f : 0.0f, dx, in);
    mm(p, GEMM_T, GEMM_N, out, in, N, dy, out, p.sdy, x, in, p.sx, 1.0f, dw, in);
}
