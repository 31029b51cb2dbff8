// linear.c — the model's projections, y = x·Wᵀ and its gradients, through the GEMM layer
// (src/gemm): f32 products, or bf16 products with f32 accumulation when the inputs are bf16
// values or FP8 codes already (lowp.c quantised them and decides, see linear_prec). The GEMM layer cuts
// each product into a fixed grid of row tiles, so results are bit-identical for any thread count.
#include "layers.h"

#include "gemm/gemm.h"

#include <cblas.h>

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// A tensor (rows, cols) as a GEMM input: itself for f32, else converted (exactly: it holds bf16
// values or FP8 codes) into the GEMM layer's scratch slot.
static const void *input(linear_prec p, int slot, const float *x, int rows, int cols) {
    if (p.kind == LIN_F32) return x;
    uint16_t *b = gemm_scratch(slot, sizeof(uint16_t) * (size_t)rows * cols);
    gemm_to_bf16(b, x, rows, cols, cols);
    return b;
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
    const void *xi = input(p, 0, x, N, in), *wi = input(p, 1, w, out, in);
    mm(p, GEMM_N, GEMM_T, N, out, in, xi, in, p.sx, wi, in, p.sw, 0.0f, y, out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x (or wg.dyᵀ·wg.x)
// Each input is converted once for both products.
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, linear_prec p) {
    const void *dyi = input(p, 0, dy, N, out);
    if (dx) {
        const void *wi = input(p, 2, w, out, in);
        mm(p, GEMM_N, GEMM_N, N, in, out, dyi, out, p.sdy, wi, in, p.sw, accumulate_dx ? 1.0f : 0.0f, dx, in);
    }
    if (p.wg.dy) {
        const void *gdy = input(p, 3, p.wg.dy, N, out), *gx = input(p, 1, p.wg.x, N, in);
        mm(p, GEMM_T, GEMM_N, out, in, N, gdy, out, p.wg.sdy, gx, in, p.wg.sx, 1.0f, dw, in);
        return;
    }
    const void *xi = input(p, 1, x, N, in);
    mm(p, GEMM_T, GEMM_N, out, in, N, dyi, out, p.sdy, xi, in, p.sx, 1.0f, dw, in);
}
