// reduce.cu — the fixed-order final reduction of parameter-gradient partials, and their scratch.
// Kernels write one row of np doubles per block (or per PolyNorm row); this sums each column in
// a layout fixed by the partial count alone, so dparams is bitwise reproducible across runs and
// devices, with no floating-point atomics.
#include "internal.cuh"

namespace actcu {

constexpr int kRedBlock = 256;

// partials: (nparts, np); block k reduces column k into dparams[k] (+=).
__global__ void __launch_bounds__(kRedBlock)
reduce_partials_kernel(const double *__restrict__ partials, size_t nparts, int np, float *__restrict__ dparams) {
    const int k = blockIdx.x;
    double v[1] = {0.0};
    for (size_t b = threadIdx.x; b < nparts; b += kRedBlock) v[0] += partials[b * np + k];
    __shared__ double sm[kRedBlock / kWarp];
    block_sum<kRedBlock, 1>(v, sm);
    if (threadIdx.x == 0) dparams[k] += (float)v[0];  // as the CPU reference rounds it
}

int partials_alloc(double **p, size_t count, cudaStream_t st) {
    *p = nullptr;
    cudaError_t e = cudaMallocAsync((void **)p, count * sizeof(double), st);
    if (e == cudaErrorNotSupported) {  // no stream-ordered pool on this device/driver
        (void)cudaGetLastError();
        e = cudaMalloc((void **)p, count * sizeof(double));
    }
    return cuda_status(e);
}

int partials_reduce_free(double *partials, size_t nparts, int np, float *dparams, cudaStream_t st) {
    reduce_partials_kernel<<<np, kRedBlock, 0, st>>>(partials, nparts, np, dparams);
    int e = cuda_status(cudaGetLastError());
    cudaError_t f = cudaFreeAsync(partials, st);
    if (f == cudaErrorNotSupported) {
        (void)cudaGetLastError();
        f = cudaFree(partials);  // synchronises: correct, only slower
    }
    return e ? e : cuda_status(f);
}

}  // namespace actcu
