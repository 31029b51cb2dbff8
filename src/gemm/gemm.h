// gemm.h — the one GEMM layer of the engine's projections: f32, bf16 with f32 accumulation, and
// FP8 computed on bf16 codes. Row-major; C (M,N) = op(A)·op(B) (+ C), A: (M,K) or, transposed,
// (K,M); B: (K,N) or, transposed, (N,K).
//
// Determinism: every product is cut into a fixed grid of row tiles that depends on the shape only,
// one single-threaded kernel call per tile, shared out by OpenMP (gemm.c). So every output element
// is computed by the same kernel with the same summation order for any thread count.
//
// The calls are made from one thread at a time (each parallelises inside); scratch buffers and
// the oneDNN primitive cache are the module's own.
#ifndef ACTLAB_GEMM_H
#define ACTLAB_GEMM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { GEMM_N = 0, GEMM_T = 1 } gemm_op;

// The f32 backend: oneDNN's matmul or OpenBLAS's sgemm. Chosen in one place (gemm_backend).
typedef enum { GEMM_ONEDNN = 0, GEMM_OPENBLAS = 1 } gemm_backend_kind;
extern const char *const gemm_backend_names[];  // "onednn", "openblas", NULL

// The f32 backend in use: $ACTLAB_GEMM (onednn|openblas) if set, else oneDNN (see gemm.c).
gemm_backend_kind gemm_backend(void);
void gemm_set_backend(gemm_backend_kind b);
// Whether this CPU runs bf16 matmuls natively (AVX-512 BF16 or AMX); $ACTLAB_GEMM_BF16=0 says no.
int gemm_bf16_native(void);
// Tests and benchmarks: 0 forces the emulation from now on; 1 restores the CPU's answer.
void gemm_set_bf16_native(int on);
// One line for banners: the f32 backend, bf16 support, OpenBLAS core.
const char *gemm_describe(void);

// A: (M,K) or (K,M), B: (K,N) or (N,K) -> C: (M,N) = op(A)·op(B) + beta·C, beta 0 or 1.
void gemm_f32(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);
// Same, through a named backend (benchmarks compare them).
void gemm_f32_with(gemm_backend_kind b, gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);

// bf16 inputs, f32 accumulation and output: C = alpha·op(A)·op(B) + beta·C (beta 0 or 1).
// Needs gemm_bf16_native() (dies otherwise: the emulation is the caller's choice).
void gemm_bf16(gemm_op ta, gemm_op tb, int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B,
               int ldb, float alpha, float beta, float *C, int ldc);
// The same product from f32 inputs that are already bf16 values (Q_bf16(x) == x, e.g. the output
// of num_bf16_qdq or FP8 codes): converted exactly, then gemm_bf16 with alpha 1.
void gemm_bf16_from_f32(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, const float *B,
                        int ldb, float beta, float *C, int ldc);

// ---- FP8 on bf16 codes (gemm_fp8.c) --------------------------------------------------------------
// Every E4M3/E5M2 value is a bf16 value and a product of two is exact in f32, so the hardware's
// FP8 GEMM is a bf16 GEMM of the codes Q(x·s) with the output scaled by 1/(s_a·s_b).
//
// A: (M,K) or (K,M) codes Q(a·sa), B: (K,N) or (N,K) codes Q(b·sb), one scale each
// -> C: (M,N) = op(A)·op(B)·(1/sa)·(1/sb) + beta·C (the inverses rounded as the emulation's are)
void gemm_fp8_tensor(gemm_op ta, gemm_op tb, int M, int N, int K, const float *A, int lda, float sa,
                     const float *B, int ldb, float sb, float beta, float *C, int ldc);
// Block recipe, scales varying along K: A: (M,K) codes with sa: (M, K/128) one scale per 1×128
// tile of a row; B: (N,K) codes (transposed) with sb: (N/128, K/128) one per 128×128 block.
// C (M,N) = Σ_k-chunks (A_chunk·B_chunkᵀ)·(1/sa)·(1/sb) + beta·C. M, N, K need not be multiples
// of 128: the last chunk and block are partial. (The model does not use it yet: docs/lowp.md.)
void gemm_fp8_block(int M, int N, int K, const float *A, int lda, const float *sa, const float *B, int ldb,
                    const float *sb, float beta, float *C, int ldc);

// Block-scaled formats (MXFP8/MXFP4/NVFP4, src/model/lowp_block.c) need no product of their own:
// element × block scale is a bf16 value exactly, so the scales are pre-multiplied into the codes and
// the product is gemm_bf16 with alpha = the two NVFP4 tensor decode scales (1 for MX).

// ---- internals shared by gemm.c and gemm_fp8.c ----------------------------------------------------
enum { GEMM_BLOCK = 128 };  // the FP8 block recipe's tile edge
// Tile grid of an M-row product: *tiles tiles of *rows rows (the last may be shorter).
void gemm_tiles(int M, double flops, int *tiles, int *rows, int *parallel);
// x: (rows, cols) of stride ld -> out: (rows, cols) contiguous bf16 (round to nearest even).
void gemm_to_bf16(uint16_t *out, const float *x, int rows, int cols, int ld);
// A grow-only scratch buffer of the module (slot 0..3), 64-byte aligned.
void *gemm_scratch(int slot, size_t bytes);

#endif
