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

#include "powlu_math.h"
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
//   z > 0:  2^E·σ(z), E = m·log2 z/(1+√z)    f' = f·(m·N(r)/(z(1+r)²) + (1 − σ)),  N(r) = r + 1 − r·ln r
//   z ≤ 0:  z·σ(z) (SiLU)                      f' = σ·(1 + z(1 − σ))
// All in f32 (powlu_math.h: base-2 log and exp), with three places that need more than f32 gives:
//  - E reaches −1500 for tiny z (and −100 where f is still normal), where an f32 E would be off by
//    4e-6: log2 z = e + l with e an exact integer, c = m/(1+√z) as c_h + c_l (the division's residual,
//    with 1 + √z as the exact pair dh + dl), c_h·e as an exact product pair; E is rounded to an
//    integer n only through sums whose residuals are kept, and 2^E = 2^n·2^x with x in [−½, ½].
//  - f' cancels near the peak z* = 12.896 (r* = √z* = 3.5911): N(r*) = 0 means ln r* = (r*+1)/r*,
//    so N = −ε − r·ln(1+ε) with ε = r/r* − 1: two terms of one sign, no cancellation. ε comes
//    from r − r* computed exactly (the f32 root's residual z − r² supplies √z − r); ln(1+ε) from a
//    short series where |ε| < 0.1 and from ½·log2 z·ln 2 − ln r* (split constants) elsewhere.
//  - the ends of the range: f' ≈ ½·m·z^(m−1) is a normal number at tiny z where f ≈ ½·z^m and 1/z
//    are not (f underflows for m > 1, 1/z overflows below 3e-39, subnormal z are valid inputs), and
//    at large z, z(1+√z) overflows above 5e25 where f' ≈ −m·ln z/(2z^1.5) is still normal. With
//    z = 2^e·mz the f' term divides by mz(1+√z) only, and 2^−e joins the exponent n − e (scaled in
//    two halves, so every intermediate stays normal and a subnormal f' is rounded once).
// Measured against a long-double reference over every 1999th positive float, m = 0.01 … 10 (the
// sweep in tests/act/test_act_reference.c runs a sparser one): f within 2.8e-7 relative for
// m ≤ 4 (5e-7 at m = 10), f' within 6.5e-7 (7.6e-7), wherever the value is a normal f32; f' near
// its zero at the peak within 7e-10 of f; subnormal results within 1e-6 relative plus one spacing.
// z is clamped to 1e30 (NaN lands there and takes the SiLU branch anyway): beyond, f = 1 and
// f' = f'(1e30) ≈ −1e-43 instead of the true, smaller subnormal (0 at +inf within 1e-43).
AM_INLINE void gate_powlu(float z, const float *hp, float *f, float *df) {
    // One σ serves both branches. +inf gives σ = 1, 1 − σ = 0; the SiLU side's inf·0 there is not selected.
    float m = hp[0], zz = z < AM_SILU_FLOOR ? AM_SILU_FLOOR : z;
    float s, oms;
    am_sigmoid2f(zz, &s, &oms);
    float fn = zz * s, dfn = s * (1.0f + zz * oms);
    // The positive branch works on |z| clamped to [2^−149, 1e30] by integer min/max on the bits:
    // non-positive lanes compute on a harmless |z|, not on a constant (GCC turns a float select with a
    // constant arm into selects on every value derived from it).
    uint32_t zb = am_bits_of_f32(z) & 0x7fffffffu;
    zb = zb > 1u ? zb : 1u;
    float a = am_f32_from_bits(zb < 0x7149f2cau ? zb : 0x7149f2cau);   // 1e30f
    float r = sqrtf(a), ef, mz, l;
    int32_t e;
    am_powlu_log2(a, &e, &ef, &mz, &l);
    float dh = 1.0f + r, dl = r - (dh - 1.0f);       // 1 + r = dh + dl exactly (r < 2^24)
    float w = 1.0f / (mz * dh), q = mz * w;          // 2^e/(z(1+r)), 1/(1+r)
    float ch = m * q, cl = AM_FMAF(-ch, dl, AM_FMAF(-ch, dh, m)) * q;   // m/(1+r) = ch + cl
    // E = (ch + cl)(e + l) = n + x. ah + al = ch·e exactly; ah − n is exact (|ah| < 2^22, and where
    // |ah| > 11 the two are within a factor 2), so x carries every residual.
    float ah = ch * ef, al = AM_FMAF(ch, ef, -ah);
    float kd = AM_FMAF(ch, l, ah) + 12582912.0f;     // 1.5·2^23 + n
    float x = AM_FMAF(ch, l, ah - (kd - 12582912.0f)) + AM_FMAF(cl, ef + l, al);
    float ps = am_powlu_exp2_40(x) * s;              // 2^x·σ·2^−40
    uint32_t kb = am_bits_of_f32(kd);
    // 2^n below 2^−160 only scales a result that rounds to 0; the clamp keeps the field valid.
    float fp = ps * am_powlu_scale40(kb > 0x4b3fff60u ? kb : 0x4b3fff60u);
    // f': ε = (r − r*)/r*. Within 50% of r* √z = r + (z − r²)/(2r) with 1/(2r) ≈ 1/(2r*) (the
    // correction is itself an f32 rounding, so half of it wrong is harmless); further out the f32
    // root's 3e-8 are below 7e-8 of ε.
    // ε = (d + corr − δ*)/r* with d = r − r*_f32 exact and δ* = r*_f32 − r*, as one fma.
    float d = r - 3.591121435e+00f, ad = fabsf(d);
    int near = ad < 0.3591121435f;                   // |ε| < 0.1: the series
    float eps = AM_FMAF(d, 2.784645557e-01f, ad < 1.795560718f ? AM_FMAF(-r, r, a) * 3.877124935e-02f - 1.155717388e-08f
                                                               : -1.155717388e-08f);
    float c = -1.0f / 6.0f;
    c = AM_FMAF(c, eps, 0.2f);
    c = AM_FMAF(c, eps, -0.25f);
    c = AM_FMAF(c, eps, 1.0f / 3.0f);
    c = AM_FMAF(c, eps, -0.5f);
    // ln r − ln r* = (e + l)·ln2/2 − ln r*, with ln2/2 split so that e times its head is exact.
    float far = AM_FMAF(0.3465728759765625f, ef, -1.278464556e+00f) +
                AM_FMAF(0.3465735912f, l, AM_FMAF(7.143033825e-07f, ef, -1.297928254e-08f));
    float l1e = near ? AM_FMAF(eps * c, eps, eps) : far;   // ln(1+ε), the series ≤ 2e-8 relative
    float nn = AM_FMAF(-r, l1e, -eps);
    // f·m·N·q²/z = (2^x·σ·m·N·w·q)·2^(n − e); the power of two in two halves, each normal.
    // g = n − e + 256 (kb − e − 0x4b3fff00), clamped to n − e in [−250, 170] (beyond, 0 or inf either
    // way), is non-negative, so g/2 needs no signed shift: 2^(k1+40) with k1 = ⌊g/2⌋ − 128 and 2^k2 with
    // k2 = g − 256 − k1, each in [−125, 85].
    int32_t g = (int32_t)(kb - (uint32_t)e - 0x4b3fff00u);
    g = g < 6 ? 6 : (g > 426 ? 426 : g);
    uint32_t g1 = (uint32_t)g >> 1;
    float fd = ((ps * am_f32_from_bits((g1 + 39u) << 23)) * ((m * w) * (q * nn))) *
               am_f32_from_bits(((uint32_t)g - g1 - 1u) << 23);
    float dfp = AM_FMAF(fp, oms, fd);
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
