// common.cuh — device helpers shared by the kernels: storage <-> f32 conversion with 16-byte
// vector loads/stores, deterministic block reductions, and the FP8 E4M3 output writer.
#ifndef ACTLAB_CUDA_COMMON_CUH
#define ACTLAB_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#define HD __host__ __device__ __forceinline__
#define DEV __device__ __forceinline__

namespace actcu {

constexpr int kWarp = 32;

// Elements per 16-byte vector of storage type T.
template <class T> struct Vec { static constexpr int N = 16 / (int)sizeof(T); };

// Storage is handled as raw 16-byte units (uint4) until the math needs f32: 4 registers per unit
// whatever the type, where unpacked bf16 would take 8.
// Bits of one element, widened to 32 (bf16 in the low half).
template <class T> DEV uint32_t elem_bits(const T *p, size_t i) {
    if constexpr (sizeof(T) == 2) return *reinterpret_cast<const unsigned short *>(p + i);
    else return *reinterpret_cast<const unsigned int *>(p + i);
}
template <class T> DEV void put_elem_bits(T *p, size_t i, uint32_t b) {
    if constexpr (sizeof(T) == 2) *reinterpret_cast<unsigned short *>(p + i) = (unsigned short)b;
    else *reinterpret_cast<unsigned int *>(p + i) = b;
}

// Element k of a unit: word (k·size)/4, at bit offset 8·((k·size) mod 4).
template <class T> DEV float unit_elem(const uint32_t (&w)[4], int k) {
    if constexpr (sizeof(T) == 2) return __uint_as_float(((w[k / 2] >> (16 * (k % 2))) & 0xffffu) << 16);
    else return __uint_as_float(w[k]);
}
template <class T> DEV uint32_t f32_to_bits(float v) {
    if constexpr (sizeof(T) == 2) return __bfloat16_as_ushort(__float2bfloat16_rn(v));  // RNE, NaN stays NaN
    else return __float_as_uint(v);
}

// Loads unit `un` (elements un·N .. un·N+N−1) of p. The 16-byte load is taken when the whole unit
// is in range and the caller's pointers are aligned (`vec_ok`); otherwise element by element,
// zeros past n. Both paths give the same bits, so no result depends on which path read it.
template <class T>
DEV uint4 load_raw(const T *__restrict__ p, size_t un, size_t n, bool vec_ok) {
    constexpr int N = Vec<T>::N, S = (int)sizeof(T);
    const size_t base = un * N;
    if (vec_ok && base + N <= n) return __ldg(reinterpret_cast<const uint4 *>(p + base));
    uint32_t w[4] = {0u, 0u, 0u, 0u};
#pragma unroll
    for (int k = 0; k < N; k++)
        if (base + k < n) w[k * S / 4] |= elem_bits<T>(p, base + k) << (8 * ((k * S) % 4));
    return make_uint4(w[0], w[1], w[2], w[3]);
}

template <class T> DEV void unpack(const uint4 &raw, float (&out)[Vec<T>::N]) {
    const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int k = 0; k < Vec<T>::N; k++) out[k] = unit_elem<T>(w, k);
}

template <class T>
DEV void load_unit(const T *__restrict__ p, size_t un, size_t n, bool vec_ok, float (&out)[Vec<T>::N]) {
    unpack<T>(load_raw<T>(p, un, n, vec_ok), out);
}

template <class T>
DEV void store_unit(T *__restrict__ p, size_t un, size_t n, bool vec_ok, const float (&v)[Vec<T>::N]) {
    constexpr int N = Vec<T>::N, S = (int)sizeof(T);
    const size_t base = un * N;
    uint32_t w[4] = {0u, 0u, 0u, 0u};
#pragma unroll
    for (int k = 0; k < N; k++) w[k * S / 4] |= f32_to_bits<T>(v[k]) << (8 * ((k * S) % 4));
    if (vec_ok && base + N <= n) {
        *reinterpret_cast<uint4 *>(p + base) = make_uint4(w[0], w[1], w[2], w[3]);
    } else {
#pragma unroll
        for (int k = 0; k < N; k++)
            if (base + k < n) put_elem_bits<T>(p, base + k, f32_to_bits<T>(v[k]));
    }
}

// |v| as ordered bits: for non-negative floats (and NaN above +inf) unsigned order is numeric
// order, so max over these bits is an exact, order-independent amax that keeps NaN.
DEV uint32_t abs_bits(float v) { return __float_as_uint(v) & 0x7fffffffu; }

// ---- deterministic block reductions: fixed shuffle tree, then warps in index order ----------

template <int BLOCK, int K>
DEV void block_sum(double (&v)[K], double *smem /* K * BLOCK/32 */) {
#pragma unroll
    for (int k = 0; k < K; k++)
#pragma unroll
        for (int o = kWarp / 2; o > 0; o >>= 1) v[k] += __shfl_down_sync(0xffffffffu, v[k], o);
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    constexpr int W = BLOCK / kWarp;
    __syncthreads();  // smem may still be read by a previous reduction
    if (lane == 0)
#pragma unroll
        for (int k = 0; k < K; k++) smem[k * W + warp] = v[k];
    __syncthreads();
#pragma unroll
    for (int k = 0; k < K; k++) {
        double t = 0.0;
        for (int w = 0; w < W; w++) t += smem[k * W + w];
        v[k] = t;  // every thread gets the block total
    }
}

template <int BLOCK>
DEV uint32_t block_max_u32(uint32_t v, uint32_t *smem /* BLOCK/32 */) {
#pragma unroll
    for (int o = kWarp / 2; o > 0; o >>= 1) v = max(v, __shfl_down_sync(0xffffffffu, v, o));
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    __syncthreads();
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    uint32_t m = 0;
    for (int w = 0; w < BLOCK / kWarp; w++) m = max(m, smem[w]);
    return m;
}

// ---- output writers: the forward kernels are templated on one of these ----------------------

// Stores y in the storage type T.
template <class T> struct OutStore {
    T *y;
    static constexpr int N = Vec<T>::N;
    DEV void begin() {}
    DEV void put(size_t un, size_t n, bool vec_ok, const float (&v)[N]) { store_unit<T>(y, un, n, vec_ok, v); }
    template <int BLOCK> DEV void end() {}
};

// Stores E4M3(sat(y·scale)) and max-reduces |y| into *amax (which the host zeroes first). The
// max is exact and order-independent, so the integer atomicMax is deterministic.
template <int NV> struct OutFp8 {
    uint8_t *y;
    const float *scale_ptr;
    float *amax;
    float scale;
    uint32_t mx;
    static constexpr int N = NV;
    DEV void begin() { scale = __ldg(scale_ptr); mx = 0u; }
    DEV static uint8_t enc(float v) {
        return (uint8_t)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3);
    }
    DEV void put(size_t un, size_t n, bool vec_ok, const float (&v)[N]) {
        const size_t base = un * N;
        uint8_t q[N];
#pragma unroll
        for (int k = 0; k < N; k++) {
            if (base + k < n) mx = max(mx, abs_bits(v[k]));
            q[k] = enc(v[k] * scale);
        }
        if (vec_ok && base + N <= n) {  // one 8- or 4-byte store (y is N-byte aligned)
            uint32_t w[(N + 3) / 4] = {};
#pragma unroll
            for (int k = 0; k < N; k++) w[k / 4] |= (uint32_t)q[k] << (8 * (k % 4));
            if constexpr (N == 8) *reinterpret_cast<uint2 *>(y + base) = make_uint2(w[0], w[1]);
            else *reinterpret_cast<uint32_t *>(y + base) = w[0];
        } else {
#pragma unroll
            for (int k = 0; k < N; k++)
                if (base + k < n) y[base + k] = q[k];
        }
    }
    template <int BLOCK> DEV void end() {
        __shared__ uint32_t sm[BLOCK / kWarp];
        uint32_t m = block_max_u32<BLOCK>(mx, sm);
        if (threadIdx.x == 0 && m != 0u) atomicMax(reinterpret_cast<unsigned int *>(amax), m);
    }
};

}  // namespace actcu

#endif
