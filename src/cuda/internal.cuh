// internal.cuh — what the .cu files of actlab_cuda share: launch helpers and the per-family
// entry points that api.cu dispatches to. Not installed; the public API is include/actlab_cuda.h.
#ifndef ACTLAB_CUDA_INTERNAL_CUH
#define ACTLAB_CUDA_INTERNAL_CUH

#include "actlab.h"
#include "actlab_cuda.h"
#include "common.cuh"

#include <type_traits>

namespace actcu {

// Storage type of an act_dtype and its math policy (FAST for bf16: see gates.cuh).
template <class T> constexpr bool kFast = std::is_same<T, __nv_bfloat16>::value;

struct Hp { float v[2]; };

inline bool aligned(const void *p, size_t a) { return p == nullptr || ((uintptr_t)p % a) == 0; }

inline int cuda_status(cudaError_t e) { return e == cudaSuccess ? 0 : (int)e; }

// Parameter-gradient partials: `count` doubles of device scratch on `st` (stream-ordered pool,
// plain cudaMalloc where pools are unsupported).
int partials_alloc(double **p, size_t count, cudaStream_t st);
// dparams[k] += Σ_b partials[b·np + k] (b in a fixed order, in double), then frees partials.
int partials_reduce_free(double *partials, size_t nparts, int np, float *dparams, cudaStream_t st);

// Elementwise activations (all but PolyNorm) over n = rows·cols elements (elementwise.cu).
int ew_forward(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u,
               const float *params, void *y, cudaStream_t st);
int ew_forward_fp8(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u,
                   const float *params, const float *scale, uint8_t *y8, float *amax, cudaStream_t st);
int ew_backward(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u,
                const float *params, const void *dy, void *dx, void *du, float *dparams, cudaStream_t st);

// PolyNorm, one block per row (polynorm.cu).
int pn_forward(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params, void *y,
               cudaStream_t st);
int pn_forward_fp8(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params,
                   const float *scale, uint8_t *y8, float *amax, cudaStream_t st);
int pn_backward(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params, const void *dy,
                void *dx, float *dparams, cudaStream_t st);

}  // namespace actcu

#endif
