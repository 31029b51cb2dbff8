// linear.c — the model's projections, y = x·Wᵀ and its gradients, through the GEMM layer
// (src/gemm): f32 products, or bf16 products with f32 accumulation of the bf16 codes lowp.c wrote
// (bf16 values or FP8 codes; lowp.c decides, see linear_prec). The GEMM layer cuts
// each product into a fixed grid of row tiles, so results are bit-identical for any thread count.
#include "layers.h"

#include "gemm/gemm.h"

#include <cblas.h>

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// The row stride of a (rows, cols) GEMM input: cols for f32; for native products 2·cols, the
// input being the bf16 codes lowp_quantize wrote into the first half of each row's own storage
// (layers.h).
static int ld_of(linear_prec p, int cols) { return p.kind == LIN_F32 ? cols : 2 * cols; }

// C (M,N) = op(A)·op(B) + beta·C from inputs A (scale sa) and B (scale sb) of row strides lda, ldb.
static void mm(linear_prec p, gemm_op ta, gemm_op tb, int M, int N, int K, const void *A, int lda, float sa,
               const void *B, int ldb, float sb, float beta, float *C, int ldc) {
    if (p.kind == LIN_F32) gemm_f32(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    // the emulation's inputs are code·(1/s), so the output scale is the product of the same inverses
    else gemm_bf16(ta, tb, M, N, K, A, lda, B, ldb, p.kind == LIN_FP8 ? (1.0f / sa) * (1.0f / sb) : 1.0f, beta, C, ldc);
}

// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out, linear_prec p) {
    mm(p, GEMM_N, GEMM_T, N, out, in, x, ld_of(p, in), p.sx, w, ld_of(p, in), p.sw, 0.0f, y, p.ldy ? p.ldy : out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x (or wg.dyᵀ·wg.x, lowp's own
// contiguous buffers)
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx, linear_prec p) {
    int ldy = ld_of(p, p.ldy ? p.ldy : out), lin = ld_of(p, in);
    if (dx) mm(p, GEMM_N, GEMM_N, N, in, out, dy, ldy, p.sdy, w, lin, p.sw, accumulate_dx ? 1.0f : 0.0f, dx, in);
    if (p.wg.dy) mm(p, GEMM_T, GEMM_N, out, in, N, p.wg.dy, ld_of(p, out), p.wg.sdy, p.wg.x, lin, p.wg.sx, 1.0f, dw, in);
    else mm(p, GEMM_T, GEMM_N, out, in, N, dy, ldy, p.sdy, x, lin, p.sx, 1.0f, dw, in);
}
