// actlab_cuda.h — the CUDA kernels of libactlab (library actlab_cuda, built when ACTLAB_HAVE_CUDA).
//
// Same semantics as act_forward/act_backward in actlab.h: the same act_spec, act_dtype storage
// (ACT_F32 / ACT_BF16, f32 compute), gated activations take (z, u), PolyNorm normalises over each
// row of `cols`, and dparams is ACCUMULATED (+=) with a deterministic (fixed-order) reduction.
//
// Differences from the CPU API:
//  - Every array argument is a DEVICE pointer, including params, dparams, scale and amax.
//    act_spec stays in host memory.
//  - Calls are asynchronous on `stream` (a cudaStream_t passed as void*, NULL = legacy default
//    stream); they return at once with a launch status. Synchronise before reading results.
//  - Results match the CPU reference to a few f32 ulps (ACT_F32) or one bf16 ulp (ACT_BF16),
//    not bitwise (docs/cuda.md lists the accuracy per activation). They are bitwise identical
//    from run to run on the same device and inputs.
//  - 16-byte aligned pointers take the vectorised path; any alignment works.
//
// Return value of the functions below: 0 on success, ACTLAB_CUDA_EINVAL for a bad argument
// (unknown kind, missing u for a gated activation, missing params, ...), otherwise the
// cudaError_t of the failed CUDA call. actlab_cuda_strerror() describes any of them.
#ifndef ACTLAB_CUDA_H
#define ACTLAB_CUDA_H

#include "actlab.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACTLAB_CUDA_EINVAL (-1)

// 1 when at least one CUDA device is usable, else 0. Never aborts: with no driver, no device or
// a driver too old for the runtime it returns 0.
int actlab_cuda_available(void);

const char *actlab_cuda_strerror(int err);

// Forward. Non-gated: x (rows, cols) -> y (rows, cols), u must be NULL.
//          Gated:     x is the gate z (rows, cols), u the value (rows, cols) -> y (rows, cols).
// params: (n_params) f32, device; NULL when the activation has none.
int actlab_cuda_forward(const act_spec *s, act_dtype dt, size_t rows, size_t cols,
                        const void *x, const void *u, const float *params, void *y, void *stream);

// Backward. dy (rows, cols) -> dx (rows, cols) and, gated, du (rows, cols).
// dparams: (n_params) f32, device, accumulated (+=); the sum over the tensor is taken in double
// as per-block partials in a fixed layout followed by a fixed-order final reduction (no atomics),
// so it is bitwise reproducible. dparams may be NULL to skip the parameter gradients.
// Uses cudaMallocAsync/cudaFreeAsync on `stream` for the partials when n_params > 0.
int actlab_cuda_backward(const act_spec *s, act_dtype dt, size_t rows, size_t cols,
                         const void *x, const void *u, const float *params, const void *dy,
                         void *dx, void *du, float *dparams, void *stream);

// Forward with FP8 output for delayed scaling: y8[i] = E4M3(sat(y[i] * scale[0])), OCP FP8
// E4M3 (max ±448, round to nearest even, saturating: ±inf and overflow go to ±448, NaN stays
// NaN), and amax[0] = max |y| over the tensor before scaling (NaN if any y is NaN), in the same
// pass. y is computed in f32 from the dt-typed inputs and is never rounded to dt first.
// scale: (1) f32, device. y8: (rows, cols) bytes, device. amax: (1) f32, device, overwritten.
int actlab_cuda_forward_fp8(const act_spec *s, act_dtype dt, size_t rows, size_t cols,
                            const void *x, const void *u, const float *params, const float *scale,
                            uint8_t *y8, float *amax, void *stream);

// Kernel benchmark (`actlab bench kernels --device cuda`): every activation, bf16 storage,
// rows x cols per input (gated: z and u each that size), forward and forward+backward, median of
// many runs timed with CUDA events, beside a device-to-device cudaMemcpy timed in the same run.
// Prints a table to stdout and writes JSON to json_path (skipped when NULL).
// Returns 0 on success, 1 on a runtime error (message on stderr), 2 for bad arguments.
int actlab_cuda_bench_kernels(const char *json_path, int rows, int cols);

#ifdef __cplusplus
}
#endif
#endif
