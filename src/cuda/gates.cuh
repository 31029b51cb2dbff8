// gates.cuh — the elementwise math of every activation as __host__ __device__ functors: a gate
// computes value and derivative together, an Op combines gates into the forward/backward of one
// activation. Same definitions and edge conventions as the CPU reference (src/act/gates.h,
// docs/ACTIVATIONS): NaN in -> NaN out; a finite input never gives NaN; piecewise functions
// evaluate both branches on inputs clamped into their own domain; ±inf gives the limit.
//
// Math policy Fm<FAST>: FAST = false (f32 storage) uses CUDA's accurate libm (expf, logf, powf
// within a few ulp; IEEE ÷ and sqrt; docs/cuda.md has the budget); FAST = true (bf16 storage)
// uses the hardware approximations (MUFU ex2/lg2/rcp, ~1e-6 relative), which bf16 rounding
// (4e-3 relative) hides. Compute is f32 in both.
#ifndef ACTLAB_CUDA_GATES_CUH
#define ACTLAB_CUDA_GATES_CUH

#include "actlab.h"
#include "common.cuh"

#include <math.h>

namespace actcu {

template <bool FAST> struct Fm {
    HD static float exp(float x) { return expf(x); }
    HD static float log(float x) { return logf(x); }
    HD static float div(float a, float b) { return a / b; }
    HD static float pow(float x, float y) { return powf(x, y); }
};
template <> struct Fm<true> {
#ifdef __CUDA_ARCH__
    DEV static float exp(float x) { return __expf(x); }
    DEV static float log(float x) { return __logf(x); }
    DEV static float div(float a, float b) { return __fdividef(a, b); }  // |b| < 2^126 here
    DEV static float pow(float x, float y) { return __powf(x, y); }  // ex2(y·lg2 x)
#else  // host build of the functors (tests/cuda/test_cuda_gates_host): plain libm
    static float exp(float x) { return expf(x); }
    static float log(float x) { return logf(x); }
    static float div(float a, float b) { return a / b; }
    static float pow(float x, float y) { return exp2f(y * log2f(x)); }
#endif
};

// Below this z·σ(z) and its derivative are 0 in f32; clamping there maps −inf to the limit 0.
constexpr float kSiluFloor = -200.0f;
// PowLU's positive branch runs on z ≤ 1e30, where f = 1 and f' ≈ −1e-43 already.
constexpr float kPowluCap = 1e30f;

// σ(x) and 1 − σ(x) without cancellation, from one exp(−|x|).
template <bool F> HD void sigmoid2(float x, float &s, float &oms) {
    float e = Fm<F>::exp(-fabsf(x));
    float r = Fm<F>::div(1.0f, 1.0f + e);
    s = x >= 0.0f ? r : e * r;
    oms = x >= 0.0f ? e * r : r;
}

// Every gate: G(h0, h1) from act_spec.hp, then g(x, f, df).
struct GateBase {
    float h0, h1;
    HD GateBase(float a, float b) : h0(a), h1(b) {}
};

template <bool F> struct GateRelu : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        f = x <= 0.0f ? 0.0f : x;  // NaN -> NaN
        df = x > 0.0f ? 1.0f : (x != x ? x : 0.0f);
    }
};

template <bool F> struct GateRelu2 : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        float r = x <= 0.0f ? 0.0f : x;
        f = r * r;
        df = 2.0f * r;
    }
};

template <bool F> struct GateSilu : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        float xc = x < kSiluFloor ? kSiluFloor : x, s, oms;
        sigmoid2<F>(xc, s, oms);
        f = xc * s;
        df = s * (1.0f + xc * oms);
    }
};

// GELU (tanh form) as x·σ(2y), y = √(2/π)(x + 0.044715x³): no cancellation for x < 0. Beyond
// |x| = 30, σ(2y) is exactly 0 or 1 in f32, so the clamp changes no finite result.
template <bool F> struct GateGelu : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        const float c = 0.7978845608028654f, k = 0.044715f;
        float xc = x < -30.0f ? -30.0f : (x > 30.0f ? 30.0f : x);
        float y2 = 2.0f * c * (xc + k * xc * xc * xc), s, oms;
        sigmoid2<F>(y2, s, oms);
        float xf = x < -30.0f ? -30.0f : x;  // keeps +inf, maps −inf to the limit 0
        f = xf * s;
        df = s + xc * s * oms * 2.0f * c * (1.0f + 3.0f * k * xc * xc);
    }
};

// GELU, exact: x·Φ(x), Φ(x) = ½·erfc(−x/√2) (erfcf is accurate in both policies).
template <bool F> struct GateGeluErf : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        float xc = x < -30.0f ? -30.0f : x;
        float cdf = 0.5f * erfcf(-xc * 0.70710678118654752f);
        float xd = xc > 30.0f ? 30.0f : xc;
        f = xc * cdf;
        df = cdf + xd * 0.3989422804014327f * Fm<F>::exp(-0.5f * xd * xd);
    }
};

// PowLU's gate f_m(z), h0 = m:
//   z > 0: z^a·σ(z), a = m/(√z+1);  z ≤ 0 (and NaN): z·σ(z).
// The positive branch is written through P = z^(a−1), which stays a normal float wherever f or
// f' is one (z from ~1e-19 up to the cap), so neither a/z nor ln z can meet a zero:
//   f = P·z·σ,   f' = P·σ·(a + z·a'·ln z + z(1−σ)),  z·a' = −½·a·√z/(√z+1).
// Accurate policy: a is carried as a_hi + a_lo (its rounding error recovered with fmaf), the
// exponent a−1 likewise, and z^(e_hi+e_lo) = powf(z, e_hi)·(1 + e_lo·ln z): the error of P is
// that of powf, not |(a−1)·ln z| ulps (which reach ~200 for tiny z).
template <bool F> struct GatePowlu : GateBase {
    using GateBase::GateBase;
    HD void operator()(float z, float &f, float &df) const {
        float zz = z > kPowluCap ? kPowluCap : z;
        zz = zz < kSiluFloor ? kSiluFloor : zz;  // one σ serves both branches
        float s, oms;
        sigmoid2<F>(zz, s, oms);
        float fn = zz * s, dfn = s * (1.0f + zz * oms);
        const float zp = z > 0.0f ? zz : 1.0f;  // the unselected lane computes on a harmless 1
        const float m = h0, r = sqrtf(zp), lz = Fm<F>::log(zp);
        float a, ir1, P;
        if constexpr (F) {
            ir1 = Fm<F>::div(1.0f, r + 1.0f);
            a = m * ir1;
            P = Fm<F>::pow(zp, a - 1.0f);
        } else {
            float r_lo = 0.5f * fmaf(-r, r, zp) / r;          // √z = r + r_lo
            float s_hi = r + 1.0f, bb = s_hi - r;              // r + 1 = s_hi + s_lo (two-sum)
            float s_lo = ((r - (s_hi - bb)) + (1.0f - bb)) + r_lo;
            ir1 = 1.0f / s_hi;
            float a_hi = m / s_hi;
            float a_lo = (fmaf(-a_hi, s_hi, m) - a_hi * s_lo) / s_hi;
            float e_hi = a_hi - 1.0f, b2 = e_hi - a_hi;        // a − 1 = e_hi + e_lo (two-sum)
            float e_lo = ((a_hi - (e_hi - b2)) + (-1.0f - b2)) + a_lo;
            P = powf(zp, e_hi);
            P = fmaf(P, e_lo * lz, P);
            a = a_hi;
        }
        float fp = P * zp * s;
        float dfp = P * s * (a - 0.5f * a * r * ir1 * lz + zp * oms);
        f = z > 0.0f ? fp : fn;  // z == 0 and NaN take the SiLU branch
        df = z > 0.0f ? dfp : dfn;
    }
};

// PowLU's scalar form x·f_m(x).
template <bool F> struct GatePowluScalar : GateBase {
    using GateBase::GateBase;
    HD void operator()(float x, float &f, float &df) const {
        float g, dg;
        GatePowlu<F>(h0, h1)(x, g, dg);
        float xc = x < kSiluFloor ? kSiluFloor : x;
        float xd = xc < kPowluCap ? xc : kPowluCap;  // f'(+inf) is ~0, not inf·0
        f = xc * g;
        df = g + xd * dg;
    }
};

// SwiGLU-Clip's gate: z' = min(z, L), g = z'σ(αz'); no gradient where z > L (z == L passes,
// as torch.clamp does). h0 = L, h1 = α.
template <bool F> struct GateClip : GateBase {
    using GateBase::GateBase;
    HD void operator()(float z, float &f, float &df) const {
        const float L = h0, alpha = h1;
        float zc = z > L ? L : z;
        zc = zc < -1e4f ? -1e4f : zc;  // σ(α·z) is 0 there for α ≥ 0.02
        float s, oms;
        sigmoid2<F>(alpha * zc, s, oms);
        f = zc * s;
        df = z > L ? 0.0f : s + alpha * zc * s * oms;
    }
};

// Value transforms v(u) of the gated form y = v(u)·g(z).
struct ValueId : GateBase {
    using GateBase::GateBase;
    HD void operator()(float u, float &v, float &dv) const { v = u; dv = 1.0f; }
};
struct ValueClip : GateBase {  // clamp(u, −L, L) + 1, no gradient outside the clamp
    using GateBase::GateBase;
    HD void operator()(float u, float &v, float &dv) const {
        const float L = h0;
        float uc = u > L ? L : (u < -L ? -L : u);
        v = uc + 1.0f;
        dv = (u > L || u < -L) ? 0.0f : 1.0f;
    }
};

// ---- Ops: what a kernel calls. fwd(x, u) -> y; bwd(x, u, dy, dx, du, acc) where acc gets the
// per-element parameter-gradient terms (kParams doubles). Non-gated ops ignore u. ----------

template <class G> struct OpAct {
    static constexpr bool kGated = false;
    static constexpr int kParams = 0;
    G g;
    HD OpAct(const float *hp, const float *w) : g(hp[0], hp[1]) { (void)w; }
    HD float fwd(float x, float) const { float f, df; g(x, f, df); return f; }
    HD void bwd(float x, float, float dy, float &dx, float &du, double *) const {
        float f, df;
        g(x, f, df);
        dx = dy * df;
        du = 0.0f;
    }
};

template <class G, class V> struct OpGated {
    static constexpr bool kGated = true;
    static constexpr int kParams = 0;
    G g;
    V val;
    HD OpGated(const float *hp, const float *w) : g(hp[0], hp[1]), val(hp[0], hp[1]) { (void)w; }
    HD float fwd(float z, float u) const {
        float f, df, v, dv;
        g(z, f, df);
        val(u, v, dv);
        return v * f;
    }
    HD void bwd(float z, float u, float dy, float &dz, float &du, double *) const {
        float f, df, v, dv;
        g(z, f, df);
        val(u, v, dv);
        dz = dy * v * df;
        du = dy * f * dv;
    }
};

// PolyReLU: y = ((w0ρ + w1)ρ + w2)ρ + b, ρ = max(x, 0); acc = (Σdy·ρ³, Σdy·ρ², Σdy·ρ, Σdy).
struct OpPolyRelu {
    static constexpr bool kGated = false;
    static constexpr int kParams = 4;
    float w0, w1, w2, b;
    HD OpPolyRelu(const float *hp, const float *w) : w0(w[0]), w1(w[1]), w2(w[2]), b(w[3]) { (void)hp; }
    HD float fwd(float x, float) const {
        float r = x <= 0.0f ? 0.0f : x;
        return ((w0 * r + w1) * r + w2) * r + b;
    }
    HD void bwd(float x, float, float dy, float &dx, float &du, double *acc) const {
        float r = x <= 0.0f ? 0.0f : x;
        float d = (3.0f * w0 * r + 2.0f * w1) * r + w2;
        dx = dy * (x > 0.0f ? d : (x != x ? x : 0.0f));
        du = 0.0f;
        double g = dy, rd = r, g1 = g * rd, g2 = g1 * rd;
        acc[0] += g2 * rd;
        acc[1] += g2;
        acc[2] += g1;
        acc[3] += g;
    }
};

// Calls fn(Op{}) with the Op of an elementwise activation (every kind but PolyNorm) and returns
// its result; returns `bad` for PolyNorm or an unknown kind.
template <bool F, class Fn> int with_elementwise_op(act_kind kind, int bad, Fn &&fn) {
    const float z[2] = {0.0f, 0.0f};
    switch (kind) {
    case ACT_RELU: return fn(OpAct<GateRelu<F>>(z, z));
    case ACT_RELU2: return fn(OpAct<GateRelu2<F>>(z, z));
    case ACT_GELU: return fn(OpAct<GateGelu<F>>(z, z));
    case ACT_GELU_ERF: return fn(OpAct<GateGeluErf<F>>(z, z));
    case ACT_SILU: return fn(OpAct<GateSilu<F>>(z, z));
    case ACT_POWLU_SCALAR: return fn(OpAct<GatePowluScalar<F>>(z, z));
    case ACT_POLYRELU: {
        const float w[4] = {0, 0, 0, 0};
        return fn(OpPolyRelu(z, w));
    }
    case ACT_SWIGLU: return fn(OpGated<GateSilu<F>, ValueId>(z, z));
    case ACT_GEGLU: return fn(OpGated<GateGelu<F>, ValueId>(z, z));
    case ACT_REGLU: return fn(OpGated<GateRelu<F>, ValueId>(z, z));
    case ACT_SWIGLU_CLIP: return fn(OpGated<GateClip<F>, ValueClip>(z, z));
    case ACT_POWLU: return fn(OpGated<GatePowlu<F>, ValueId>(z, z));
    default: return bad;
    }
}

}  // namespace actcu

#endif
