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
    // σ(1 − σ)·d(2y)/dx, with d(2y)/dx = 2c + 6ck·x² as one fma: 4 roundings fewer than the
    // product written out, and each one an operation in a loop bound by its operation count.
    *df = AM_FMAF(xc * (s * oms), AM_FMAF(6.0f * c * k, xc * xc, 2.0f * c), s);
}

// GELU, exact form: x·Φ(x), with Φ and the density's e^(−x²/2) from am_ncdf_f (vmath.h), which
// vectorises (glibc's erfcf would not).
AM_INLINE void gate_gelu_erf(float x, const float *hp, float *f, float *df) {
    (void)hp;
    float xc = x < -30.0f ? -30.0f : x, cdf, gauss;
    am_ncdf_f(xc, &cdf, &gauss);
    float xd = xc > 30.0f ? 30.0f : xc;              // the density is 0 there: keeps f'(+inf) = 1
    *f = xc * cdf;
    *df = AM_FMAF(xd * 0.3989422804014327f, gauss, cdf);
}

// PowLU's gate f_m(z) (hp[0] = m, at most 10):
//   z > 0:  z^(m/(√z+1))·σ(z)     f' = f·(a/z + a'·ln z + (1 − σ)),  a = m/(√z+1), a' = −m/(2√z(√z+1)²)
//   z ≤ 0:  z·σ(z) (SiLU)         f' = σ·(1 + z(1 − σ))
// All in f32, with two places that need more than f32 gives directly:
//  - the exponent E = m·ln z/(1+√z) reaches −100 for tiny z, where an f32 E would be off by 4e-6
//    (so would f, relatively): ln z and 1 + √z are carried as exact f32 pairs (am_logf_dd), and E
//    as E_hi + E_lo with E_lo the residual of the division; e^E = e^(E_hi)·(1 + E_lo).
//  - f' cancels near the peak z* = 12.896 (r* = √z* = 3.5911): with r = √z,
//    a/z + a'·ln z = m·N(r)/(z(1+r)²), N(r) = r + 1 − r·ln r, and N(r*) = 0 means ln r* = (r*+1)/r*,
//    so N = −ε − r·ln(1+ε) with ε = r/r* − 1: two terms of one sign, no cancellation. ε comes
//    from r − r* computed exactly (the f32 root's residual z − r² supplies √z − r); ln(1+ε) from a
//    short series where |ε| < 0.05 and from ln z/2 − ln r* (both pairs) elsewhere.
// Measured against the f64 reference: ≤ 1e-6 relative in f and f' at the reference points
// (tests/act). z is clamped to [1e-30, 1e30] for this branch (1/(z(1+√z)) and m times it must stay
// finite). Above, f = 1 and f' ≈ −1e-43. Below, f ≈ ½·z^m and f' ≈ ½·m·z^(m−1), which the clamp
// gets right only where they are 0 in f32 anyway: f for m ≥ 1.5, f' for m ≥ 2.6. For smaller m
// (the registry allows 0.01–10; the papers use 2–4) an input 0 < z < 1e-30 gets f(1e-30), f'(1e-30)
// instead: KNOWN LIMITATION, values a pre-activation never takes in practice (the f64 version was
// exact there; fixing it needs the 1/z of f' folded into the exponent). z·(1+√z) overflows for
// z > 5e25 and takes w, q, E and the f' term to exactly 0 there: f = σ = 1, f' = 0.
AM_INLINE void gate_powlu(float z, const float *hp, float *f, float *df) {
    // One σ serves both branches, taken on z clamped to [AM_SILU_FLOOR, 1e30] (NaN passes).
    float m = hp[0], zz = z > 1e30f ? 1e30f : z;
    zz = zz < AM_SILU_FLOOR ? AM_SILU_FLOOR : zz;
    float s, oms;
    am_sigmoid2f(zz, &s, &oms);
    float fn = zz * s, dfn = s * (1.0f + zz * oms);
    // The positive branch works on |z| clamped to [1e-30, 1e30] (NaN lands on 1e30 and takes the SiLU
    // branch anyway): non-positive lanes compute on a harmless |z|, not on a constant, and the clamps
    // are integer min/max on the bits. GCC turns a float select with a constant arm into selects on
    // every value derived from it (a third of this loop's instructions, before); and a constant
    // 1e-30 in half the lanes gave subnormal intermediates, which cost microcode assists.
    uint32_t zb = am_bits_of_f32(fabsf(z)), lo = 0x0da24260u, hi = 0x7149f2cau;  // 1e-30f, 1e30f
    zb = zb > lo ? zb : lo;
    float zp = am_f32_from_bits(zb < hi ? zb : hi);
    float r = sqrtf(zp);
    float dh = 1.0f + r, dl = r - (dh - 1.0f);       // 1 + r = dh + dl exactly (r < 2^24)
    float w = 1.0f / (zp * dh), q = zp * w;          // 1/(z(1+r)), 1/(1+r)
    float lh, ll;
    am_logf_dd(zp, &lh, &ll);
    // m·ln z = ph + pl with ph its rounding (lh + ll is not normalised: ll holds the series' tail).
    float ph = m * (lh + ll), pl = AM_FMAF(m, ll, AM_FMAF(m, lh, -ph));
    float eh = ph * q;
    float el = (AM_FMAF(-eh, dh, ph) + AM_FMAF(-eh, dl, pl)) * q;      // (m·ln z − eh·(1+r))/(1+r)
    float fp = am_expf_mul(eh, AM_FMAF(s, el, s));
    // f': ε = (r − r*)/r*. Within 5% of r* (where N is small) √z = r + (z − r²)/(2r) with
    // 1/(2r) ≈ 1/(2r*) (exact enough there); further out the f32 root's 3e-8 are harmless.
    float d = r - 3.591121435e+00f;
    int near = fabsf(d) < 0.1795560718f;
    float eps = (d + ((near ? AM_FMAF(-r, r, zp) * 1.392322779e-01f : 0.0f) - 4.150321686e-08f)) * 2.784645557e-01f;
    float c = -1.0f / 6.0f;
    c = AM_FMAF(c, eps, 0.2f);
    c = AM_FMAF(c, eps, -0.25f);
    c = AM_FMAF(c, eps, 1.0f / 3.0f);
    c = AM_FMAF(c, eps, -0.5f);
    float l1e = near ? AM_FMAF(eps * c, eps, eps)                    // ln(1+ε), ≤ 3e-9 relative
                     : (0.5f * lh - 1.278464556e+00f) + (0.5f * ll + 1.297928254e-08f);
    float nn = AM_FMAF(-r, l1e, -eps);
    float dfp = fp * AM_FMAF(m * w, q * nn, oms);  // m·w·q underflows for z > 1e19, q·nn does not
    *f = z > 0.0f ? fp : fn;                         // z == 0 and NaN take the SiLU branch
    *df = z > 0.0f ? dfp : dfn;
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
    *df = z > L ? 0.0f : AM_FMAF(alpha * zc, s * oms, s);
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
