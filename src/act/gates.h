// gates.h — the elementwise functions of every activation, value and derivative together, as
// static inline functions that the span loops (elementwise.c, gated.c) inline and vectorise.
//
// Every function has the shape  fn(x, hp, &f, &df)  where hp holds the activation's
// hyperparameters (act_spec.hp). Unused derivatives are removed by the compiler after inlining.
//
// Conventions that the edge-case tests hold them to:
//  - NaN in -> NaN out (value and derivative).
//  - A finite input never gives NaN, and ±inf gives the mathematical limit where one exists.
//  - Both branches of a piecewise function are evaluated (so loops vectorise), each on an input
//    clamped into its own domain so that the unselected lane cannot produce NaN/Inf. Clamps use
//    `a < b ? a : b` written so that NaN passes through untouched.
#ifndef ACTLAB_GATES_H
#define ACTLAB_GATES_H

#include "vmath.h"

// Below this, z·σ(z) and its derivative are already 0 in f32 (σ underflows at −104), so clamping
// there changes no finite result and turns z = −inf into the limit 0 instead of −inf·0 = NaN.
#define AM_SILU_FLOOR (-200.0f)

static inline void gate_relu(float x, const float *hp, float *f, float *df) {
    (void)hp;
    *f = x <= 0.0f ? 0.0f : x;                       // NaN -> NaN
    *df = x > 0.0f ? 1.0f : (x != x ? x : 0.0f);
}

static inline void gate_relu2(float x, const float *hp, float *f, float *df) {
    (void)hp;
    float r = x <= 0.0f ? 0.0f : x;
    *f = r * r;
    *df = 2.0f * r;
}

static inline void gate_silu(float x, const float *hp, float *f, float *df) {
    (void)hp;
    float xc = x < AM_SILU_FLOOR ? AM_SILU_FLOOR : x, s, oms;
    am_sigmoid2f(xc, &s, &oms);
    float xd = xc > -AM_SILU_FLOOR ? -AM_SILU_FLOOR : xc;  // 1 − σ is 0 there: keeps f'(+inf) = 1
    *f = xc * s;
    *df = s * (1.0f + xd * oms);
}

// GELU, tanh form: 0.5·x·(1 + tanh(y)) = x·σ(2y), y = √(2/π)(x + 0.044715x³). The σ form has no
// cancellation for negative x. 2y = x·(2c + 2ck·x²) is taken on x itself: beyond |x| = 30 σ(2y) is
// exactly 0 or 1 in f32, and where x³ overflows, 2y = ±inf gives the same 0 or 1 (NaN stays NaN).
// Only the derivative's polynomial needs x clamped (to ±30), against inf·0 where σ(1 − σ) = 0.
static inline void gate_gelu(float x, const float *hp, float *f, float *df) {
    (void)hp;
    const float c = 0.7978845608028654f, k = 0.044715f;
    float y2 = x * AM_FMAF(2.0f * c * k, x * x, 2.0f * c), s, oms;
    am_sigmoid2f(y2, &s, &oms);
    float xf = x < -30.0f ? -30.0f : x;              // keeps +inf, maps −inf to the limit 0
    float xc = xf > 30.0f ? 30.0f : xf;
    *f = xf * s;
    *df = s + xc * s * oms * 2.0f * c * (1.0f + 3.0f * k * xc * xc);
}

// GELU, exact form: x·Φ(x), with Φ and the density's e^(−x²/2) from am_ncdf_f (vmath.h), which
// vectorises (glibc's erfcf would not).
AM_INLINE void gate_gelu_erf(float x, const float *hp, float *f, float *df) {
    (void)hp;
    float xc = x < -30.0f ? -30.0f : x, cdf, gauss;
    am_ncdf_f(xc, &cdf, &gauss);
    float xd = xc > 30.0f ? 30.0f : xc;              // the density is 0 there: keeps f'(+inf) = 1
    *f = xc * cdf;
    *df = cdf + xd * 0.3989422804014327f * gauss;
}

// PowLU's gate f_m(z) (hp[0] = m):
//   z > 0:  z^(m/(√z+1))·σ(z)     f' = f·(a/z + a'·ln z + (1 − σ)),  a = m/(√z+1), a' = −m/(2√z(√z+1)²)
//   z ≤ 0:  z·σ(z) (SiLU)         f' = σ·(1 + z(1 − σ))
// The positive branch needs more than f32 in two places: the exponent a·ln z reaches ±20 at
// z = 0.001 (and ±100 further out), where f32 would lose ~1e-6 relative in f; and f′ cancels near the
// peak (z ≈ 12.9), where a/z + a'·ln z = a·(1/√z)·(1/√z − ½·ln z/(√z+1)) is ~1e-4 of its terms. So
// a, 1/√z and ln z are carried in f64, but without f64 square roots: an f32 root t and one f32
// reciprocal w ≈ 1/(t(t+1)) = 1/(z+t) seed everything. √z is t plus the exactly computed residual
// times 1/(2t); one Newton step in f64 takes w to ~1e-14, and 1/(√z+1) = √z·w, 1/√z = (√z+1)·w.
// Conversions between f32 and f64 cost about as much as a division here, so only z, t, w and 1 − σ
// cross (σ = 1 − (1 − σ) in f64: as accurate as the f32 σ for z > 0, where σ ≥ ½). e^x needs only
// ~3e-9 (am_exp_short), the exponent itself ~1e-9. z down to the smallest subnormal keeps every
// factor finite (no 0·∞); z is capped at 1e30, where f = 1 and f' ≈ −1e-43 in f32 already.
AM_INLINE void gate_powlu(float z, const float *hp, float *f, float *df) {
    // One σ serves both branches, taken on z clamped to [AM_SILU_FLOOR, 1e30] (NaN passes).
    float zz = z > 1e30f ? 1e30f : z;
    zz = zz < AM_SILU_FLOOR ? AM_SILU_FLOOR : zz;
    float s, oms;
    am_sigmoid2f(zz, &s, &oms);
    float fn = zz * s, dfn = s * (1.0f + zz * oms);
    float zp = z > 0.0f ? zz : 1.0f;                 // the other lane computes on a harmless 1
    float tf = sqrtf(zp), w0 = 1.0f / (zp + tf);
    double zd = (double)zp, td0 = (double)tf, wd = (double)w0, m = (double)hp[0];
    double ir0 = (td0 + 1.0) * wd;                   // 1/√z to ~2e-7: enough for the correction
    double r = AM_FMA(AM_FMA(-td0, td0, zd), 0.5 * ir0, td0);        // √z
    double w = AM_FMA(wd, AM_FMA(-(zd + r), wd, 1.0), wd);           // 1/(√z(√z+1))
    double q = r * w, ir = (r + 1.0) * w;            // 1/(√z+1), 1/√z
    double a = m * q, lz = am_logf_wide(zp), omsd = (double)oms;
    double fp = am_exp_short(a * lz) * (1.0 - omsd);
    double dfp = fp * AM_FMA(a * ir, AM_FMA(-0.5 * q, lz, ir), omsd);
    *f = z > 0.0f ? (float)fp : fn;                  // z == 0 and NaN take the SiLU branch
    *df = z > 0.0f ? (float)dfp : dfn;
}

// PowLU's scalar form x·f_m(x): grows linearly at +∞ (SwiGLU's scalar form grows like x²).
AM_INLINE void gate_powlu_scalar(float x, const float *hp, float *f, float *df) {
    float g, dg;
    gate_powlu(x, hp, &g, &dg);
    float xc = x < AM_SILU_FLOOR ? AM_SILU_FLOOR : x;
    float xd = xc < 1e30f ? xc : 1e30f;              // f'(+inf) is ~0, not inf·0
    *f = xc * g;
    *df = g + xd * dg;
}

// SwiGLU-Clip's gate (gpt-oss): z' = min(z, L); g = z'·σ(α z'); no gradient where the clamp is
// active (z > L; at z == L the gradient passes, as torch.clamp does). hp = {L, α}.
static inline void gate_clip(float z, const float *hp, float *f, float *df) {
    float L = hp[0], alpha = hp[1];
    float zc = z > L ? L : z;
    zc = zc < -1e4f ? -1e4f : zc;                    // σ(α·z) is 0 there for α ≥ 0.02
    float s, oms;
    am_sigmoid2f(alpha * zc, &s, &oms);
    *f = zc * s;
    *df = z > L ? 0.0f : s + alpha * zc * s * oms;
}

// Value transforms of the gated form y = v(u)·g(z).
static inline void value_identity(float u, const float *hp, float *v, float *dv) {
    (void)hp;
    *v = u;
    *dv = 1.0f;
}

// SwiGLU-Clip's value: clamp(u, −L, L) + 1, no gradient outside the clamp.
static inline void value_clip(float u, const float *hp, float *v, float *dv) {
    float L = hp[0];
    float uc = u > L ? L : (u < -L ? -L : u);
    *v = uc + 1.0f;
    *dv = (u > L || u < -L) ? 0.0f : 1.0f;
}

#endif
