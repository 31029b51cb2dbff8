// api.cu — the C entry points of include/actlab_cuda.h: argument checks, then dispatch to the
// elementwise or PolyNorm kernels.
#include "internal.cuh"

using namespace actcu;

extern "C" int actlab_cuda_available(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();  // no driver / no device: clear the sticky-free error and say no
        return 0;
    }
    return n > 0;
}

extern "C" const char *actlab_cuda_strerror(int err) {
    if (err == 0) return "no error";
    if (err == ACTLAB_CUDA_EINVAL) return "invalid argument to an actlab_cuda function";
    return cudaGetErrorString((cudaError_t)err);
}

// Checks what every entry point needs; returns the descriptor or NULL.
static const act_desc *check_common(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x,
                                    const void *u, const float *params) {
    if (s == nullptr || (dt != ACT_F32 && dt != ACT_BF16)) return nullptr;
    const act_desc *d = act_desc_of(s->kind);
    if (d == nullptr) return nullptr;
    if (cols != 0 && rows > SIZE_MAX / cols) return nullptr;
    if (rows * cols == 0) return d;
    if (x == nullptr || (d->gated ? u == nullptr : u != nullptr)) return nullptr;
    if (d->n_params > 0 && params == nullptr) return nullptr;
    if (d->rowwise && rows > 0x7fffffffu) return nullptr;  // one block per row
    return d;
}

extern "C" int actlab_cuda_forward(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x,
                                   const void *u, const float *params, void *y, void *stream) {
    const act_desc *d = check_common(s, dt, rows, cols, x, u, params);
    if (d == nullptr) return ACTLAB_CUDA_EINVAL;
    if (rows * cols == 0) return 0;
    if (y == nullptr) return ACTLAB_CUDA_EINVAL;
    cudaStream_t st = (cudaStream_t)stream;
    if (d->rowwise) return pn_forward(dt, rows, cols, x, params, y, st);
    return ew_forward(s, dt, rows * cols, x, u, params, y, st);
}

extern "C" int actlab_cuda_forward_fp8(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x,
                                       const void *u, const float *params, const float *scale, uint8_t *y8,
                                       float *amax, void *stream) {
    const act_desc *d = check_common(s, dt, rows, cols, x, u, params);
    if (d == nullptr || amax == nullptr) return ACTLAB_CUDA_EINVAL;
    cudaStream_t st = (cudaStream_t)stream;
    if (rows * cols == 0) return cuda_status(cudaMemsetAsync(amax, 0, sizeof(float), st));
    if (y8 == nullptr || scale == nullptr) return ACTLAB_CUDA_EINVAL;
    if (d->rowwise) return pn_forward_fp8(dt, rows, cols, x, params, scale, y8, amax, st);
    return ew_forward_fp8(s, dt, rows * cols, x, u, params, scale, y8, amax, st);
}

extern "C" int actlab_cuda_backward(const act_spec *s, act_dtype dt, size_t rows, size_t cols, const void *x,
                                    const void *u, const float *params, const void *dy, void *dx, void *du,
                                    float *dparams, void *stream) {
    const act_desc *d = check_common(s, dt, rows, cols, x, u, params);
    if (d == nullptr) return ACTLAB_CUDA_EINVAL;
    if (rows * cols == 0) return 0;
    if (dy == nullptr || dx == nullptr || (d->gated && du == nullptr)) return ACTLAB_CUDA_EINVAL;
    cudaStream_t st = (cudaStream_t)stream;
    if (d->rowwise) return pn_backward(dt, rows, cols, x, params, dy, dx, dparams, st);
    return ew_backward(s, dt, rows * cols, x, u, params, dy, dx, d->gated ? du : nullptr, dparams, st);
}
