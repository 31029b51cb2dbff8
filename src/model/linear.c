// linear.c — the model's projections, y = x·Wᵀ and its gradients, through the GEMM layer
// (src/gemm): f32 products, or bf16 products with f32 accumulation of the bf16 codes lowp.c wrote
// (bf16 values or FP8 codes; lowp.c decides, see linear_prec). The GEMM layer cuts
// each product into a fixed grid of row tiles, so results are bit-identical for any thread count.
#include "layers.h"

#include "gemm/gemm.h"

#include <cblas.h>

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// A tensor (rows, cols) as a GEMM input and its row stride: itself for f32; for native products
// the bf16 codes lowp_quantize wrote into the first half of each row's own storage (layers.h).
static const void *input(linear_prec p, const float *x, int cols, int *ld) {
    *ld = p.kind == LIN_F32 ? cols : 2 * cols;
    return x;
}

// C (M,N) = op(A)·op(B) + beta·C from inputs A (scale sa) and B (scale sb) made by input().
static void mm(linear_prec p, gemm_op ta, gemm_op tb, int M, int N, int K, const void *A, int lda, float sa,
               const void *B, int ldb, float sb, float beta, float *C, int ldc) {
    if (p.kind == LIN_F32) gemm_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    // the emulation's inputs are code·(1/s), so the output scale is the product of the same inverses
    else gemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, p.kind == LIN_FP8 ? (1.0f / sa) * (1.0f / sb) : 1.0f, beta, C, ldc);
}

// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out, linear_prec p) {
    int lx, lw;
    const void *xi = input(p, x, in, &lx), *wi = input(p, w, in, &lw);
    mm(p, GEMM_N, GEMM_T, N, out, in, xi, lx, p.sx, wi, lw, p.sw, 0.0f, y, out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x (or wg.dyᵀ·wg.x)
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, linear_prec p) {
    int ldy, lw, lx;
    const void *dyi = input(p, dy, out, &ldy);
    if (dx) {
        const void *wi = input(p, w, in, &lw);
        mm(p, GEMM_N, GEMM_N, N, in, out, dyi, ldy, p.sdy, wi, lw, p.sw, accumulate_dx ? 1.0f : 0.0f, dx, in);
    }
    if (p.wg.dy) {
        const void *gdy = input(p, p.wg.dy, out, &ldy), *gx = input(p, p.wg.x, in, &lx);
        mm(p, GEMM_T, GEMM_N, out, in, N, gdy, ldy, p.wg.sdy, gx, lx, p.wg.sx, 1.0f, dw, in);
        return;
    }
    const void *xi = input(p, x, in, &lx);
    mm(p, GEMM_T, GEMM_N, out, in, N, dyi, ldy, p.sdy, xi, lx, p.sx, 1.0f, dw, in);
}
