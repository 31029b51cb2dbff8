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
// cancellation for negative x. Beyond |x| = 30, σ(2y) is exactly 0 or 1 in f32.
static inline void gate_gelu(float x, const float *hp, float *f, float *df) {
    (void)hp;
    const float c = 0.7978845608028654f, k = 0.044715f;
    float xc = x < -30.0f ? -30.0f : (x > 30.0f ? 30.0f : x);
    float y2 = 2.0f * c * (xc + k * xc * xc * xc), s, oms;
    am_sigmoid2f(y2, &s, &oms);
    float xf = x < -30.0f ? -30.0f : x;              // keeps +inf, maps −inf to the limit 0
    *f = xf * s;
    *df = s + xc * s * oms * 2.0f * c * (1.0f + 3.0f * k * xc * xc);
}

// GELU, exact form: x·Φ(x) with Φ(x) = ½·erfc(−x/√2). glibc's erfcf has no vector variant here, so
// this one runs scalar; it is the reference form, the tanh one is the fast one.
static inline void gate_gelu_erf(float x, const float *hp, float *f, float *df) {
    (void)hp;
    float xc = x < -30.0f ? -30.0f : x;
    float phi_cdf = 0.5f * erfcf(-xc * 0.70710678118654752f);
    float xd = xc > 30.0f ? 30.0f : xc;
    *f = xc * phi_cdf;
    *df = phi_cdf + xd * 0.3989422804014327f * am_expf(-0.5f * xd * xd);
}

// PowLU's gate f_m(z) (hp[0] = m):
//   z > 0:  z^(m/(√z+1))·σ(z)     f' = f·(a/z + a'·ln z + (1 − σ)),  a = m/(√z+1), a' = −m/(2√z(√z+1)²)
//   z ≤ 0:  z·σ(z) (SiLU)         f' = σ·(1 + z(1 − σ))
// The positive branch runs in double: its exponent a·ln z reaches ±100 in magnitude for tiny or
// huge z, where f32 would lose ~1e-5 relative in f, and f′ cancels near the peak (z ≈ 12.9). In
// double, z down to the smallest subnormal float keeps a/z, ln z and a′ finite, so the 0·∞ of
// tiny z cannot arise; z is capped at 1e30, where f = 1 and f' ≈ −1e-43 in f32 already.
static inline void gate_powlu(float z, const float *hp, float *f, float *df) {
    // One σ serves both branches, taken on z clamped to [AM_SILU_FLOOR, 1e30] (NaN passes).
    float zz = z > 1e30f ? 1e30f : z;
    zz = zz < AM_SILU_FLOOR ? AM_SILU_FLOOR : zz;
    float s, oms;
    am_sigmoid2f(zz, &s, &oms);
    float fn = zz * s, dfn = s * (1.0f + zz * oms);
    double zp = z > 0.0f ? (double)zz : 1.0;        // the other lane computes on a harmless 1
    double m = (double)hp[0];
    double r = sqrt(zp), ir = 1.0 / r, ir1 = 1.0 / (r + 1.0);
    double a = m * ir1, lz = am_log(zp);
    double fp = am_exp(a * lz) * (double)s;
    double dfp = fp * (a * ir * ir - 0.5 * a * ir1 * ir * lz + (double)oms);
    *f = z > 0.0f ? (float)fp : fn;                  // z == 0 and NaN take the SiLU branch
    *df = z > 0.0f ? (float)dfp : dfn;
}

// PowLU's scalar form x·f_m(x): grows linearly at +∞ (SwiGLU's scalar form grows like x²).
static inline void gate_powlu_scalar(float x, const float *hp, float *f, float *df) {
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
