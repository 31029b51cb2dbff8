// elementwise.cu — one-pass kernels of every elementwise activation (all but PolyNorm): forward,
// forward with FP8 output, and backward with PolyReLU's parameter gradients.
//
// Layout: a thread owns kUnroll units of Vec<T>::N elements (16 bytes of storage), strided by the
// block size so that a warp's loads coalesce; all loads are issued before any math. The grid is
// a function of n only, so the partial sums of the parameter gradients (one row of kParams
// doubles per block) have the same layout on every device and every run.
#include "gates.cuh"
#include "internal.cuh"

namespace actcu {

constexpr int kBlock = 256;
constexpr int kUnroll = 4;
constexpr int kMinBlocks = 3;  // per SM: caps registers at 80 (768 resident threads)

template <class Op>
DEV Op make_op(const Hp &hp, const float *__restrict__ params) {
    float w[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if constexpr (Op::kParams > 0) {
#pragma unroll
        for (int k = 0; k < Op::kParams; k++) w[k] = __ldg(params + k);
    }
    return Op(hp.v, w);
}

// Loads the kUnroll units of this thread (u0, u0 + kBlock, ...) of p, raw; all before any math.
template <class T>
DEV void load_units(const T *__restrict__ p, size_t u0, size_t units, size_t n, bool vec_ok, uint4 (&v)[kUnroll]) {
#pragma unroll
    for (int j = 0; j < kUnroll; j++)
        if (u0 + (size_t)j * kBlock < units) v[j] = load_raw<T>(p, u0 + (size_t)j * kBlock, n, vec_ok);
}

// x: (n) input or gate z; u: (n) value (gated only) -> out.
template <class Op, class T, class Out>
__global__ void __launch_bounds__(kBlock, kMinBlocks)
ew_fwd_kernel(const T *__restrict__ x, const T *__restrict__ u, size_t n, size_t units, bool vec_ok, Hp hp,
              const float *__restrict__ params, Out out) {
    constexpr int N = Vec<T>::N;
    const Op op = make_op<Op>(hp, params);
    out.begin();
    const size_t u0 = (size_t)blockIdx.x * kBlock * kUnroll + threadIdx.x;
    uint4 xr[kUnroll], ur[kUnroll];
    load_units<T>(x, u0, units, n, vec_ok, xr);
    if constexpr (Op::kGated) load_units<T>(u, u0, units, n, vec_ok, ur);
#pragma unroll
    for (int j = 0; j < kUnroll; j++) {
        const size_t un = u0 + (size_t)j * kBlock;
        if (un < units) {
            float xv[N], uv[N], y[N];
            unpack<T>(xr[j], xv);
            if constexpr (Op::kGated) unpack<T>(ur[j], uv);
#pragma unroll
            for (int k = 0; k < N; k++) y[k] = op.fwd(xv[k], Op::kGated ? uv[k] : 0.0f);
            out.put(un, n, vec_ok, y);
        }
    }
    out.template end<kBlock>();
}

// x, u, dy: (n) -> dx, du (gated): (n); partials: (gridDim.x, kParams) or NULL.
template <class Op, class T>
__global__ void __launch_bounds__(kBlock, kMinBlocks)
ew_bwd_kernel(const T *__restrict__ x, const T *__restrict__ u, const T *__restrict__ dy, T *__restrict__ dx,
              T *__restrict__ du, size_t n, size_t units, bool vec_ok, Hp hp, const float *__restrict__ params,
              double *__restrict__ partials) {
    constexpr int N = Vec<T>::N, P = Op::kParams > 0 ? Op::kParams : 1;
    const Op op = make_op<Op>(hp, params);
    const size_t u0 = (size_t)blockIdx.x * kBlock * kUnroll + threadIdx.x;
    uint4 xr[kUnroll], ur[kUnroll], gr[kUnroll];
    load_units<T>(x, u0, units, n, vec_ok, xr);
    if constexpr (Op::kGated) load_units<T>(u, u0, units, n, vec_ok, ur);
    load_units<T>(dy, u0, units, n, vec_ok, gr);
    double acc[P];
#pragma unroll
    for (int k = 0; k < P; k++) acc[k] = 0.0;
#pragma unroll
    for (int j = 0; j < kUnroll; j++) {
        const size_t un = u0 + (size_t)j * kBlock;
        if (un < units) {
            float xv[N], uv[N], gv[N], a[N], b[N];
            unpack<T>(xr[j], xv);
            if constexpr (Op::kGated) unpack<T>(ur[j], uv);
            unpack<T>(gr[j], gv);
#pragma unroll
            for (int k = 0; k < N; k++) {
                // Padding past n reads as x = dy = 0, whose parameter-gradient terms are exactly 0.
                op.bwd(xv[k], Op::kGated ? uv[k] : 0.0f, gv[k], a[k], b[k], acc);
            }
            store_unit<T>(dx, un, n, vec_ok, a);
            if constexpr (Op::kGated) store_unit<T>(du, un, n, vec_ok, b);
        }
    }
    if constexpr (Op::kParams > 0) {
        if (partials != nullptr) {
            __shared__ double sm[P * (kBlock / kWarp)];
            block_sum<kBlock, P>(acc, sm);
            if (threadIdx.x == 0)
#pragma unroll
                for (int k = 0; k < P; k++) partials[(size_t)blockIdx.x * P + k] = acc[k];
        }
    }
}

template <class T> struct Geometry {
    size_t units, blocks;
    explicit Geometry(size_t n) {
        units = (n + Vec<T>::N - 1) / Vec<T>::N;
        blocks = (units + (size_t)kBlock * kUnroll - 1) / ((size_t)kBlock * kUnroll);
    }
};

static Hp hp_of(const act_spec *s) { return Hp{{s->hp[0], s->hp[1]}}; }

template <class T, class Out>
static int ew_forward_out(const act_spec *s, size_t n, const void *x, const void *u, const float *params,
                          Out out, bool vec_ok, cudaStream_t st) {
    const Geometry<T> g(n);
    return with_elementwise_op<kFast<T>>(s->kind, ACTLAB_CUDA_EINVAL, [&](auto op) -> int {
        using Op = decltype(op);
        ew_fwd_kernel<Op, T, Out><<<(unsigned)g.blocks, kBlock, 0, st>>>(
            (const T *)x, (const T *)u, n, g.units, vec_ok, hp_of(s), params, out);
        return cuda_status(cudaGetLastError());
    });
}

template <class T>
static int ew_forward_t(const act_spec *s, size_t n, const void *x, const void *u, const float *params,
                        void *y, cudaStream_t st) {
    const bool vec_ok = aligned(x, 16) && aligned(u, 16) && aligned(y, 16);
    return ew_forward_out<T>(s, n, x, u, params, OutStore<T>{(T *)y}, vec_ok, st);
}

template <class T>
static int ew_forward_fp8_t(const act_spec *s, size_t n, const void *x, const void *u, const float *params,
                            const float *scale, uint8_t *y8, float *amax, cudaStream_t st) {
    constexpr int N = Vec<T>::N;
    const bool vec_ok = aligned(x, 16) && aligned(u, 16) && aligned(y8, N);
    int e = cuda_status(cudaMemsetAsync(amax, 0, sizeof(float), st));
    if (e) return e;
    OutFp8<N> out{y8, scale, amax, 0.0f, 0u};
    return ew_forward_out<T>(s, n, x, u, params, out, vec_ok, st);
}

template <class T>
static int ew_backward_t(const act_spec *s, size_t n, const void *x, const void *u, const float *params,
                         const void *dy, void *dx, void *du, float *dparams, cudaStream_t st) {
    const Geometry<T> g(n);
    const bool vec_ok = aligned(x, 16) && aligned(u, 16) && aligned(dy, 16) && aligned(dx, 16) && aligned(du, 16);
    return with_elementwise_op<kFast<T>>(s->kind, ACTLAB_CUDA_EINVAL, [&](auto op) -> int {
        using Op = decltype(op);
        double *partials = nullptr;
        const bool want = Op::kParams > 0 && dparams != nullptr;
        if (want) {
            int e = partials_alloc(&partials, g.blocks * Op::kParams, st);
            if (e) return e;
        }
        ew_bwd_kernel<Op, T><<<(unsigned)g.blocks, kBlock, 0, st>>>(
            (const T *)x, (const T *)u, (const T *)dy, (T *)dx, (T *)du, n, g.units, vec_ok, hp_of(s), params,
            partials);
        int e = cuda_status(cudaGetLastError());
        if (want) {
            int e2 = partials_reduce_free(partials, g.blocks, Op::kParams, dparams, st);
            if (!e) e = e2;
        }
        return e;
    });
}

int ew_forward(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u, const float *params,
               void *y, cudaStream_t st) {
    return dt == ACT_BF16 ? ew_forward_t<__nv_bfloat16>(s, n, x, u, params, y, st)
                          : ew_forward_t<float>(s, n, x, u, params, y, st);
}

int ew_forward_fp8(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u,
                   const float *params, const float *scale, uint8_t *y8, float *amax, cudaStream_t st) {
    return dt == ACT_BF16 ? ew_forward_fp8_t<__nv_bfloat16>(s, n, x, u, params, scale, y8, amax, st)
                          : ew_forward_fp8_t<float>(s, n, x, u, params, scale, y8, amax, st);
}

int ew_backward(const act_spec *s, act_dtype dt, size_t n, const void *x, const void *u, const float *params,
                const void *dy, void *dx, void *du, float *dparams, cudaStream_t st) {
    return dt == ACT_BF16 ? ew_backward_t<__nv_bfloat16>(s, n, x, u, params, dy, dx, du, dparams, st)
                          : ew_backward_t<float>(s, n, x, u, params, dy, dx, du, dparams, st);
}

}  // namespace actcu
