// gemm.c — see gemm.h: the tile grid, the f32 backend choice, bf16 products.
//
// Which f32 backend, and why one fixed choice: measured on this machine in the model's shapes
// (docs/bench.md), oneDNN's f32 matmul runs at the same rate whatever OPENBLAS_CORETYPE says,
// while OpenBLAS's sgemm halves when the shell forces its Haswell kernels (as the test and CI
// shells here do) and is ~5-10% ahead of oneDNN only with its own Cooperlake choice. Picking the
// faster one at run time would make a run's bits depend on the environment, and a resumed run
// could differ from the original, so the projections use oneDNN everywhere; $ACTLAB_GEMM=openblas
// selects OpenBLAS (for comparisons). `actlab bench train` measures all three rates side by side.
#include "gemm.h"

#include "gemm_dnnl.h"
#include "actlab.h"
#include "util/check.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TILES = 4, MIN_TILE_ROWS = 64 };
#define PAR_MIN_FLOPS (64.0 * 8192)   // below this a product stays on one thread
#define CONVERT_CHUNK 16384           // fixed work unit of the conversion loops

const char *const gemm_backend_names[] = {"onednn", "openblas", NULL};

static int backend = -1, bf16_native = -1;

char *openblas_get_corename(void);

gemm_backend_kind gemm_backend(void) {
    if (backend < 0) {
        const char *e = getenv("ACTLAB_GEMM");
        backend = e && !strcmp(e, "openblas") ? GEMM_OPENBLAS : GEMM_ONEDNN;
        if (e && strcmp(e, "openblas") && strcmp(e, "onednn"))
            die("set ACTLAB_GEMM to onednn or openblas, or unset it", "ACTLAB_GEMM=%s is not a GEMM backend", e);
    }
    return (gemm_backend_kind)backend;
}

void gemm_set_backend(gemm_backend_kind b) { backend = b; }

int gemm_bf16_native(void) {
    if (bf16_native < 0) {
        const char *e = getenv("ACTLAB_GEMM_BF16");
        __builtin_cpu_init();
        int cpu = __builtin_cpu_supports("avx512bf16");
        bf16_native = cpu && !(e && !strcmp(e, "0"));
    }
    return bf16_native;
}

void gemm_set_bf16_native(int on) {
    bf16_native = -1;
    if (!on) bf16_native = 0;
    else gemm_bf16_native();
}

const char *gemm_describe(void) {
    static char line[160];
    snprintf(line, sizeof line, "projections: %s f32 GEMM, bf16 GEMM %s; OpenBLAS core %s (OPENBLAS_CORETYPE=%s)",
             gemm_backend_names[gemm_backend()], gemm_bf16_native() ? "native (oneDNN, AVX-512 BF16)" : "emulated",
             openblas_get_corename(), getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    return line;
}

void *gemm_scratch(int slot, size_t bytes) {
    static void *buf[4];
    static size_t have[4];
    if (bytes > have[slot]) {
        free(buf[slot]);
        buf[slot] = xaligned(bytes);
        have[slot] = bytes;
    }
    return buf[slot];
}

void gemm_tiles(int M, double flops, int *tiles, int *rows, int *parallel) {
    int t = (M + MIN_TILE_ROWS - 1) / MIN_TILE_ROWS;
    if (t > TILES) t = TILES;
    if (t < 1) t = 1;
    *tiles = t;
    *rows = ((M + t - 1) / t + 15) / 16 * 16;  // multiples of 16 keep tiles cache-line aligned
    *tiles = (M + *rows - 1) / *rows;           // so only the last tile is partial
    *parallel = t > 1 && flops >= PAR_MIN_FLOPS;
}

void gemm_to_bf16(uint16_t *out, const float *x, int rows, int cols, int ld) {
    long chunk_rows = CONVERT_CHUNK / cols + 1, chunks = (rows + chunk_rows - 1) / chunk_rows;
#pragma omp parallel for schedule(static) if ((double)rows * cols >= 65536)
    for (long c = 0; c < chunks; c++) {
        long r1 = (c + 1) * chunk_rows < rows ? (c + 1) * chunk_rows : rows;
        for (long r = c * chunk_rows; r < r1; r++) {
            const float *xr = x + (size_t)r * ld;
            uint16_t *o = out + (size_t)r * cols;
#pragma omp simd
            for (int j = 0; j < cols; j++) o[j] = num_f32_to_bf16(xr[j]);
        }
    }
}

// The primitive key of one tile; m rows.
static gemm_dnnl_key key_of(gemm_op ta, gemm_op tb, int m, int N, int K, int lda, int ldb, int ldc, int bf16,
                            float beta, int scaled) {
    gemm_dnnl_key k;
    memset(&k, 0, sizeof k);
    k.M = m, k.N = N, k.K = K, k.lda = lda, k.ldb = ldb, k.ldc = ldc;
    k.ta = ta, k.tb = tb, k.bf16 = bf16, k.accumulate = beta != 0, k.scaled = scaled;
    return k;
}

// C = alpha·op(A)·op(B) + beta·C through oneDNN (bf16 or f32 inputs), tiled over rows.
static void dnnl_tiled(gemm_op ta, gemm_op tb, int M, int N, int K, const void *A, int lda, const void *B, int ldb,
                       float alpha, float beta, float *C, int ldc, int bf16, int scaled) {
    int tiles, rows, par;
    gemm_tiles(M, 2.0 * M * N * K, &tiles, &rows, &par);
    size_t elem = bf16 ? 2 : 4;
    // primitives for the full and the last tile, created here: the cache is not thread-safe
    int last = M - (tiles - 1) * rows;
    const gemm_dnnl_prim *p_full = NULL, *p_last = NULL;
    if (tiles > 1) {
        gemm_dnnl_key kf = key_of(ta, tb, rows, N, K, lda, ldb, ldc, bf16, beta, scaled);
        p_full = gemm_dnnl_get(&kf);
    }
    gemm_dnnl_key kl = key_of(ta, tb, last, N, K, lda, ldb, ldc, bf16, beta, scaled);
    if (last > 0) p_last = gemm_dnnl_get(&kl);
#pragma omp parallel for schedule(static) if (par)
    for (int t = 0; t < tiles; t++) {
        int m0 = t * rows;
        if (M - m0 <= 0) continue;
        size_t off = ta == GEMM_N ? (size_t)m0 * lda : (size_t)m0;
        gemm_dnnl_run(t == tiles - 1 ? p_last : p_full, (const char *)A + off * elem, B, C + (size_t)m0 * ldc, alpha);
    }
}

static void blas_tiled(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc) {
    int tiles, rows, par;
    gemm_tiles(M, 2.0 * M * N * K, &tiles, &rows, &par);
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) if (par)
    for (int t = 0; t < tiles; t++) {
        int m0 = t * rows, m = M - m0 < rows ? M - m0 : rows;
        if (m <= 0) continue;
        const float *At = ta == GEMM_N ? A + (size_t)m0 * lda : A + m0;
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, N, K, 1.0f, At,
                    lda, B, ldb, beta, C + (size_t)m0 * ldc, ldc);
    }
}

void gemm_f32_with(gemm_backend_kind b, gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (b == GEMM_OPENBLAS) blas_tiled(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    else dnnl_tiled(ta, tb, M, N, K, A, lda, B, ldb, 1.0f, beta, C, ldc, 0, 0);
}

void gemm_f32(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc) {
    gemm_f32_with(gemm_backend(), ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
}

void gemm_bf16(gemm_op ta, gemm_op tb, int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B,
               int ldb, float alpha, float beta, float *C, int ldc) {
    if (!gemm_bf16_native())
        die("use the emulated bf16 path on this CPU (gemm_bf16_native() is 0)", "gemm_bf16: no native bf16 here");
    if (M <= 0 || N <= 0) return;
    dnnl_tiled(ta, tb, M, N, K, A, lda, B, ldb, alpha, beta, C, ldc, 1, alpha != 1.0f);
}

void gemm_bf16_from_f32(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B,
                        int ldb, float beta, float *C, int ldc) {
    // stored shapes: A (M,K) or (K,M), B (K,N) or (N,K); converted contiguous
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    uint16_t *a = gemm_scratch(0, sizeof(uint16_t) * (size_t)ar * ac);
    uint16_t *b = gemm_scratch(1, sizeof(uint16_t) * (size_t)br * bc);
    gemm_to_bf16(a, A, ar, ac, lda);
    gemm_to_bf16(b, B, br, bc, ldb);
    gemm_bf16(ta, tb, M, N, K, a, ac, b, bc, 1.0f, beta, C, ldc);
}
