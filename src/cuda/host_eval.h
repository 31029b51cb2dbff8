// host_eval.h — the device math of actlab_cuda (gates.cuh), evaluated on the host. Lets the
// formulas of the GPU kernels be checked against the CPU reference on machines without a GPU
// (tests/cuda/test_cuda_math_host.c). On the host the math policies use glibc, not CUDA's
// libdevice or its hardware approximations, so this checks formulas, branches and edge handling,
// not the accuracy of the device intrinsics.
#ifndef ACTLAB_CUDA_HOST_EVAL_H
#define ACTLAB_CUDA_HOST_EVAL_H

#include "actlab.h"

#ifdef __cplusplus
extern "C" {
#endif

// Elementwise activations (returns -1 for PolyNorm or an unknown kind).
// fast: 1 = the bf16 math policy, 0 = the f32 one. x, u (gated, else NULL), dy: (n) ->
// y, dx, du (gated): (n); dparams (n_params) accumulated in double as the kernels do per block.
int actlab_cuda_host_eval(const act_spec *s, int fast, const float *params, size_t n, const float *x,
                          const float *u, const float *dy, float *y, float *dx, float *du, double *dparams);

// PolyNorm through the kernels' row math (polynorm_math.cuh): x, dy: (rows, cols) -> y, dx;
// dparams (4) accumulated in double.
void actlab_cuda_host_eval_polynorm(const float *params, size_t rows, size_t cols, const float *x,
                                    const float *dy, float *y, float *dx, double *dparams);

#ifdef __cplusplus
}
#endif
#endif
