// linear.c — the model's matrix products through OpenBLAS's cblas_sgemm, threaded by OpenMP.
//
// Why not OpenBLAS's own threads: its pthread pool busy-waits for ~0.1 s after each call, and on
// a 2-core machine that steals a core from the OpenMP team running the next layer (and vice
// versa). So OpenBLAS stays at one thread, and each product is cut into a fixed grid of row tiles,
// one single-threaded sgemm per tile, shared out by OpenMP. The tile boundaries depend on the
// shape only, never on the thread count, so every output element is computed by the same kernel
// call with the same summation order: results are bit-identical for any number of threads
// (OpenBLAS's own threading is not, e.g. with its Haswell kernels).
#include "layers.h"

#include <cblas.h>

enum { TILES = 4, MIN_TILE_ROWS = 64 };

void blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// C (M,N) = op(A)·op(B) + beta·C, row-major; A is (M,K), or (K,M) when transposed.
static void sgemm_tiled(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    int tiles = (M + MIN_TILE_ROWS - 1) / MIN_TILE_ROWS;
    if (tiles > TILES) tiles = TILES;
    int rows = ((M + tiles - 1) / tiles + 15) / 16 * 16;  // multiples of 16 keep tiles cache-line aligned
    blas_set_threads(1);
#pragma omp parallel for schedule(static) if (tiles > 1 && (double)M * N * K >= 64.0 * PAR_MIN)
    for (int t = 0; t < tiles; t++) {
        int m0 = t * rows, m = M - m0 < rows ? M - m0 : rows;
        if (m <= 0) continue;
        const float *At = ta == CblasNoTrans ? A + (size_t)m0 * lda : A + m0;
        cblas_sgemm(CblasRowMajor, ta, tb, m, N, K, 1.0f, At, lda, B, ldb, beta, C + (size_t)m0 * ldc, ldc);
    }
}

// x: (N,in), w: (out,in) -> y: (N,out)
void linear_forward(float *y, const float *x, const float *w, int N, int in, int out) {
    sgemm_tiled(CblasNoTrans, CblasTrans, N, out, in, x, in, w, in, 0.0f, y, out);
}

// dy: (N,out) -> dx: (N,in) = dy·W (or +=), dw: (out,in) += dyᵀ·x
void linear_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                     int N, int in, int out, int accumulate_dx) {
    if (dx) sgemm_tiled(CblasNoTrans, CblasNoTrans, N, in, out, dy, out, w, in, accumulate_dx ? 1.0f : 0.0f, dx, in);
    sgemm_tiled(CblasTrans, CblasNoTrans, out, in, N, dy, out, x, in, 1.0f, dw, in);
}
