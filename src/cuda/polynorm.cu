// polynorm.cu — PolyNorm (PolyCom, order 3), one block per row (one token's FFN hidden vector):
//   y = w0·N(x³) + w1·N(x²) + w2·N(x) + b,   N(v) = v / sqrt(mean(v²) + ε),  ε = 1e-6.
// The row's three (forward) or seven (backward) sums are fused into one pass over the row; the
// first kCache units of each thread stay in registers for the second pass (the whole row up to
// 8192 bf16 / 4096 f32 columns), later ones are read again (from L2). The math, in double like
// the CPU reference, is in polynorm_math.cuh: Σx⁶ overflows f32 once |x| > 2.6e6 and x³·rstd
// once |x| > 7e12, while the results stay small.
#include "internal.cuh"
#include "polynorm_math.cuh"

namespace actcu {

constexpr int kPnBlock = 256;
constexpr int kCache = 4;

// Block-wide totals of a row's K sums (every thread gets them), and the four PolyNorm scalars.
template <int K> DEV void row_totals(double (&acc)[K], const float *__restrict__ wp, float (&w)[4]) {
    __shared__ double sm[K * (kPnBlock / kWarp)];
    block_sum<kPnBlock, K>(acc, sm);
#pragma unroll
    for (int k = 0; k < 4; k++) w[k] = __ldg(wp + k);
}

// x: (rows, cols) -> out (rows, cols). wp: (4) cubic, square, linear weights, bias.
template <class T, class Out>
__global__ void __launch_bounds__(kPnBlock)
pn_fwd_kernel(const T *__restrict__ x, size_t cols, bool vec_ok, const float *__restrict__ wp, Out out) {
    constexpr int N = Vec<T>::N;
    const size_t row = blockIdx.x, units = (cols + N - 1) / N;
    const T *xr = x + row * cols;
    out.y += row * cols;
    uint4 c[kCache];  // raw storage: 4 registers per unit
    double acc[3] = {0.0, 0.0, 0.0};
#pragma unroll
    for (int j = 0; j < kCache; j++) {
        const size_t un = (size_t)j * kPnBlock + threadIdx.x;
        if (un < units) {
            float t[N];
            c[j] = load_raw<T>(xr, un, cols, vec_ok);
            unpack<T>(c[j], t);
            pn_add_moments<N>(t, acc);
        }
    }
    for (size_t un = (size_t)kCache * kPnBlock + threadIdx.x; un < units; un += kPnBlock) {
        float t[N];
        load_unit<T>(xr, un, cols, vec_ok, t);
        pn_add_moments<N>(t, acc);
    }
    float w[4];
    row_totals(acc, wp, w);
    const PnForward pf(acc, (double)cols, w);
    out.begin();
    auto emit = [&](size_t un, const float(&v)[N]) {
        float y[N];
#pragma unroll
        for (int k = 0; k < N; k++) y[k] = pf(v[k]);
        out.put(un, cols, vec_ok, y);
    };
#pragma unroll
    for (int j = 0; j < kCache; j++) {
        const size_t un = (size_t)j * kPnBlock + threadIdx.x;
        if (un < units) {
            float t[N];
            unpack<T>(c[j], t);
            emit(un, t);
        }
    }
    for (size_t un = (size_t)kCache * kPnBlock + threadIdx.x; un < units; un += kPnBlock) {
        float t[N];
        load_unit<T>(xr, un, cols, vec_ok, t);
        emit(un, t);
    }
    out.template end<kPnBlock>();
}

// x, dy: (rows, cols) -> dx (rows, cols); partials: (rows, 4) PnBackward::dp of each row, or NULL.
template <class T>
__global__ void __launch_bounds__(kPnBlock)
pn_bwd_kernel(const T *__restrict__ x, const T *__restrict__ dy, T *__restrict__ dx, size_t cols, bool vec_ok,
              const float *__restrict__ wp, double *__restrict__ partials) {
    constexpr int N = Vec<T>::N;
    const size_t row = blockIdx.x, units = (cols + N - 1) / N;
    const T *xr = x + row * cols, *gr = dy + row * cols;
    T *dxr = dx + row * cols;
    uint4 c[kCache], cg[kCache];  // raw storage: 4 registers per unit
    double acc[7] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
#pragma unroll
    for (int j = 0; j < kCache; j++) {
        const size_t un = (size_t)j * kPnBlock + threadIdx.x;
        if (un < units) {
            float t[N], tg[N];
            c[j] = load_raw<T>(xr, un, cols, vec_ok);
            cg[j] = load_raw<T>(gr, un, cols, vec_ok);
            unpack<T>(c[j], t);
            unpack<T>(cg[j], tg);
            pn_add_bwd_sums<N>(t, tg, acc);
        }
    }
    for (size_t un = (size_t)kCache * kPnBlock + threadIdx.x; un < units; un += kPnBlock) {
        float t[N], tg[N];
        load_unit<T>(xr, un, cols, vec_ok, t);
        load_unit<T>(gr, un, cols, vec_ok, tg);
        pn_add_bwd_sums<N>(t, tg, acc);
    }
    float w[4];
    row_totals(acc, wp, w);
    const PnBackward pb(acc, (double)cols, w);
    if (partials != nullptr && threadIdx.x == 0)
#pragma unroll
        for (int k = 0; k < 4; k++) partials[row * 4 + k] = pb.dp[k];
    auto emit = [&](size_t un, const float(&v)[N], const float(&g)[N]) {
        float o[N];
#pragma unroll
        for (int k = 0; k < N; k++) o[k] = pb(v[k], g[k]);
        store_unit<T>(dxr, un, cols, vec_ok, o);
    };
#pragma unroll
    for (int j = 0; j < kCache; j++) {
        const size_t un = (size_t)j * kPnBlock + threadIdx.x;
        if (un < units) {
            float t[N], tg[N];
            unpack<T>(c[j], t);
            unpack<T>(cg[j], tg);
            emit(un, t, tg);
        }
    }
    for (size_t un = (size_t)kCache * kPnBlock + threadIdx.x; un < units; un += kPnBlock) {
        float t[N], tg[N];
        load_unit<T>(xr, un, cols, vec_ok, t);
        load_unit<T>(gr, un, cols, vec_ok, tg);
        emit(un, t, tg);
    }
}

// Rows start 16-byte aligned only when the base is and a row is a whole number of vectors.
template <class T> static bool rows_vec_ok(size_t cols, const void *a, const void *b, const void *c) {
    return (cols * sizeof(T)) % 16 == 0 && aligned(a, 16) && aligned(b, 16) && aligned(c, 16);
}

template <class T>
static int pn_forward_t(size_t rows, size_t cols, const void *x, const float *params, void *y, cudaStream_t st) {
    const bool vec_ok = rows_vec_ok<T>(cols, x, y, nullptr);
    pn_fwd_kernel<T, OutStore<T>><<<(unsigned)rows, kPnBlock, 0, st>>>((const T *)x, cols, vec_ok, params,
                                                                        OutStore<T>{(T *)y});
    return cuda_status(cudaGetLastError());
}

template <class T>
static int pn_forward_fp8_t(size_t rows, size_t cols, const void *x, const float *params, const float *scale,
                            uint8_t *y8, float *amax, cudaStream_t st) {
    constexpr int N = Vec<T>::N;
    const bool vec_ok = rows_vec_ok<T>(cols, x, nullptr, nullptr) && cols % N == 0 && aligned(y8, N);
    int e = cuda_status(cudaMemsetAsync(amax, 0, sizeof(float), st));
    if (e) return e;
    pn_fwd_kernel<T, OutFp8<N>><<<(unsigned)rows, kPnBlock, 0, st>>>((const T *)x, cols, vec_ok, params,
                                                                      OutFp8<N>{y8, scale, amax, 0.0f, 0u});
    return cuda_status(cudaGetLastError());
}

template <class T>
static int pn_backward_t(size_t rows, size_t cols, const void *x, const float *params, const void *dy, void *dx,
                         float *dparams, cudaStream_t st) {
    const bool vec_ok = rows_vec_ok<T>(cols, x, dy, dx);
    double *partials = nullptr;
    if (dparams != nullptr) {
        int e = partials_alloc(&partials, rows * 4, st);
        if (e) return e;
    }
    pn_bwd_kernel<T><<<(unsigned)rows, kPnBlock, 0, st>>>((const T *)x, (const T *)dy, (T *)dx, cols, vec_ok,
                                                          params, partials);
    int e = cuda_status(cudaGetLastError());
    if (dparams != nullptr) {
        int e2 = partials_reduce_free(partials, rows, 4, dparams, st);
        if (!e) e = e2;
    }
    return e;
}

int pn_forward(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params, void *y,
               cudaStream_t st) {
    return dt == ACT_BF16 ? pn_forward_t<__nv_bfloat16>(rows, cols, x, params, y, st)
                          : pn_forward_t<float>(rows, cols, x, params, y, st);
}

int pn_forward_fp8(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params,
                   const float *scale, uint8_t *y8, float *amax, cudaStream_t st) {
    return dt == ACT_BF16 ? pn_forward_fp8_t<__nv_bfloat16>(rows, cols, x, params, scale, y8, amax, st)
                          : pn_forward_fp8_t<float>(rows, cols, x, params, scale, y8, amax, st);
}

int pn_backward(act_dtype dt, size_t rows, size_t cols, const void *x, const float *params, const void *dy,
                void *dx, float *dparams, cudaStream_t st) {
    return dt == ACT_BF16 ? pn_backward_t<__nv_bfloat16>(rows, cols, x, params, dy, dx, dparams, st)
                          : pn_backward_t<float>(rows, cols, x, params, dy, dx, dparams, st);
}

}  // namespace actcu
