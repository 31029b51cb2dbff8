// gemm_dnnl.h — oneDNN matmul primitives of one fixed shape (internal to src/gemm).
#ifndef ACTLAB_GEMM_DNNL_H
#define ACTLAB_GEMM_DNNL_H

// Everything that shapes a primitive; compared bytewise, so built with memset first.
typedef struct {
    int M, N, K, lda, ldb, ldc;
    int ta, tb;        // A / B stored transposed
    int bf16;          // bf16 inputs (else f32); output and accumulation are f32
    int accumulate;    // C += (a sum post-op) instead of C =
    int scaled;        // a runtime output scale alpha
} gemm_dnnl_key;

typedef struct gemm_dnnl_prim gemm_dnnl_prim;

// The cached primitive for k, created (single-threaded) on first use; also readies the
// per-thread state of a team of omp_get_max_threads(). Call from one thread, before the loop.
const gemm_dnnl_prim *gemm_dnnl_get(const gemm_dnnl_key *k);
// C = alpha·op(A)·op(B) (+ C), single-threaded; safe from the threads of one OpenMP team at once.
// alpha is read only when the key has `scaled`.
void gemm_dnnl_run(const gemm_dnnl_prim *p, const void *A, const void *B, float *C, float alpha);

#endif
