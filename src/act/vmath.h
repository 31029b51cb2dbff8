// vmath.h — branch-free exp/log/sigmoid that GCC vectorises inside `omp simd` loops.
//
// Why our own: glibc only offers its vector math (libmvec) under -ffast-math, which would break
// NaN/Inf semantics, and its results differ between the vector body and the scalar tail. These
// functions use only IEEE-exact operations (+, −, ×, ÷, sqrt, conversions) with no FMA contraction
// (-ffp-contract=off), so an element gets the same bits whichever path or thread computes it.
//
// f32: am_expf is a Cephes-style range reduction + degree-7 polynomial, ≤ 2 ulp on its range;
// am_ncdf_f is the normal CDF (GELU's exact form) without erfc.
// PowLU's base-2 log and exp are in powlu_math.h.
#ifndef ACTLAB_VMATH_H
#define ACTLAB_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float am_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t am_bits_of_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// The span loops vectorise only if every function is inlined into them; the larger ones (PowLU's
// gate) exceed GCC's inlining heuristics, so they say so.
#if defined(__GNUC__)
#define AM_INLINE static inline __attribute__((always_inline))
#else
#define AM_INLINE static inline
#endif

// Explicit fused multiply-add. fma rounds once, exactly as IEEE specifies, so a vector body and its
// scalar tail still agree bit for bit (-ffp-contract=off only forbids the compiler's own contraction).
// PowLU's f32 pairs (gates.h, powlu_math.h) need that single rounding to recover the residuals
// exactly, so it is fmaf everywhere: one instruction with hardware FMA, libm's correctly
// rounded (slow, scalar) fmaf in a portable build without it.
#define AM_FMAF(a, b, c) fmaf((a), (b), (c))

// e^x in f32. NaN -> NaN, x > 88.72 -> +inf, x < -104 -> 0, subnormal results rounded correctly
// enough (two-step scaling keeps each factor a normal number).
static inline float am_expf(float x) {
    // Comparisons are false for NaN, so NaN lands on 88.72 here (finite maths) and is restored at the end.
    float xc = x < 88.72283f ? x : 88.72283f;
    xc = xc > -104.0f ? xc : -104.0f;
    // Round to nearest integer with the 1.5·2^23 trick (no rint call, so it vectorises).
    float k = AM_FMAF(xc, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
    float r = AM_FMAF(k, -0.693359375f, xc);
    r = AM_FMAF(k, 2.12194440e-4f, r);
    // Pairs of terms in r² (a chain of 4 dependent fmas instead of 7): these loops are latency-bound.
    float r2 = r * r;
    float p = AM_FMAF(AM_FMAF(AM_FMAF(1.9875691500e-4f, r, 1.3981999507e-3f), r2,
                              AM_FMAF(8.3334519073e-3f, r, 4.1665795894e-2f)), r2,
                      AM_FMAF(1.6666665459e-1f, r, 5.0000001201e-1f));
    p = AM_FMAF(p, r2, r + 1.0f);
    int32_t ki = (int32_t)k, k1 = ki / 2, k2 = ki - k1;
    float y = p * am_f32_from_bits((uint32_t)(k1 + 127) << 23) * am_f32_from_bits((uint32_t)(k2 + 127) << 23);
    y = x > 88.72283f ? INFINITY : y;
    y = x < -104.0f ? 0.0f : y;
    return x != x ? x : y;
}

// e^x for x ≤ 0 (and NaN): the only arguments the sigmoid and Φ pass. Bit for bit am_expf on that
// domain (same reduction and polynomial), at about half the instructions, because the domain spares
// what am_expf needs for the whole line: no overflow test, no underflow select (e^−104 = 6.8e-46
// already rounds to 0, so the clamp changes no result), no NaN select (NaN flows through the
// arithmetic), and no float-to-int conversion or halved exponent: 2^k comes from the low bits of the
// rounding constant as the normal number 2^(k+64), and the ×2^−64 is folded into the polynomial.
// x ≤ 0 and NaN only; x > 0 is not checked. The scaling is shared with am_expf_nonpos_lite below.

// ps·2^(k+64) for kd = 1.5·2^23 + k. k ∈ [−190, 0]: k + 191 ∈ [1, 191] sits in kd's low
// 9 bits (two's complement), and the shift drops everything above them, so this is the exponent
// field of 2^(k+64) with a clear sign bit. One rounding: a subnormal result is rounded once, as
// am_expf's two-step scaling does.
static inline float am_exp_scale_nonpos(float ps, float kd) {
    uint32_t field = (am_bits_of_f32(kd) + 191u) << 23;
    return ps * am_f32_from_bits(field);
}

// am_expf_nonpos without its clamp, for callers whose argument is known to lie in [−131, 0] (or is
// NaN): there k ≥ −190 still leaves 2^(k+64) a normal number, and below −104 the result rounds to 0
// exactly as with the clamp (checked on every float of [−131, −104]); Φ saves the two operations.
static inline float am_expf_nonpos_core(float xc) {
    float kd = AM_FMAF(xc, 1.44269504088896341f, 12582912.0f);  // 1.5·2^23 + k, k = round(x·log2 e)
    float k = kd - 12582912.0f;
    float r = AM_FMAF(k, -0.693359375f, xc);
    r = AM_FMAF(k, 2.12194440e-4f, r);
    // am_expf's polynomial with every coefficient (and the 1 + r) scaled by 2^−64: each step's
    // value is the unscaled one times 2^−64 exactly (all stay normal), so ps = p·2^−64 bit for bit
    // and the ×2^−64 below costs no extra multiplication.
    float r2 = r * r;  // the same pairs as am_expf
    float ps = AM_FMAF(AM_FMAF(AM_FMAF(0x1p-64f * 1.9875691500e-4f, r, 0x1p-64f * 1.3981999507e-3f), r2,
                               AM_FMAF(0x1p-64f * 8.3334519073e-3f, r, 0x1p-64f * 4.1665795894e-2f)), r2,
                       AM_FMAF(0x1p-64f * 1.6666665459e-1f, r, 0x1p-64f * 5.0000001201e-1f));
    ps = AM_FMAF(ps, r2, AM_FMAF(r, 0x1p-64f, 0x1p-64f));
    return am_exp_scale_nonpos(ps, kd);
}

static inline float am_expf_nonpos(float x) { return am_expf_nonpos_core(x < -104.0f ? -104.0f : x); }

// e^x for x ≤ 0 (and NaN) to 2.2e-7 relative for x ≥ −20 and 4e-7 down to the underflow end,
// instead of 2 ulp, for the activation gates, whose bar is 1e-6 relative in f and f'. Each
// operation saved counts (these loops are bound by their vector operation count, ~0.015 ns per
// element each on the test machine), so two savings against am_expf_nonpos:
//  - a degree-5 polynomial 1 + r + r²·P(r), P a minimax fit of (e^r − 1 − r)/r² weighted for e^r's
//    relative error on |r| ≤ ln2/2 (1.05e-7), in Horner form (fewest operations; Estrin's shorter
//    chain measured no faster);
//  - one fma for r = x − k·ln2 with ln2 rounded to f32: the product is exact in the fma, so the only
//    error is k·(ln2 − ln2_f32) = k·1.9e-9, up to 2.9e-7 at k = −150 and 4e-8 for x ≥ −20.
// Coefficients scaled by 2^−64, as above. tests/act/test_act_vmath.c sweeps it.
static inline float am_expf_nonpos_lite(float x) {
    float xc = x < -104.0f ? -104.0f : x;  // as am_expf_nonpos; NaN passes
    float kd = AM_FMAF(xc, 1.44269504088896341f, 12582912.0f);
    float r = AM_FMAF(kd - 12582912.0f, -0.693147182f, xc);
    float ps = AM_FMAF(0x1p-64f * 8.312525228e-3f, r, 0x1p-64f * 4.189011455e-2f);
    ps = AM_FMAF(ps, r, 0x1p-64f * 1.666711420e-1f);
    ps = AM_FMAF(ps, r, 0x1p-64f * 4.999923110e-1f);
    ps = AM_FMAF(ps, r, 0x1p-64f);
    ps = AM_FMAF(ps, r, 0x1p-64f);
    return am_exp_scale_nonpos(ps, kd);
}

// The n running sums of a lane-split sum (n a power of two; part is overwritten) added in a fixed
// order, halves onto halves: the same result in every build, vectorised or not. The loss's and the
// attention's row sums keep 16 lanes in registers (an omp simd reduction kept them on the stack, or
// ended in a serial horizontal sum) and end with this.
static inline float am_lanes_sumf(float *part, int n) {
    for (int w = n / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) part[k] += part[k + w];
    return part[0];
}

// σ(x) and 1 − σ(x) = σ(−x), both without cancellation, from one exp of −|x|. The shorter exp
// (≤ 4e-7 relative, 2.2e-7 for |x| ≤ 20) keeps both well within the gates' 1e-6 in f and f'.
static inline void am_sigmoid2f(float x, float *s, float *oms) {
    float e = am_expf_nonpos_lite(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    *s = x >= 0.0f ? r : e * r;
    *oms = x >= 0.0f ? e * r : r;
}


// The standard normal CDF Φ(x) in f32 and e^(−x²/2) (for the density), at 16 lanes: no erfc call.
// For y = |x|: Φ(−y) = t·Q(t)·e^(−y²/2), t = 4/(4+y), Q a degree-9 polynomial (in t − 0.6) fitted to
// Φ(−y)·e^(y²/2)/t on y ≤ 14.5 (fit error < 2e-8 relative; beyond, Φ(−y) < 1e-47 underflows). y² is
// split exactly into hi + lo (fmaf), so the exponent's rounding (up to 1e-5 relative at y = 14 for a
// plain y·y) does not reach the result: e^(−y²/2) = e^(−hi/2)·(1 − lo/2). Φ(y) = 1 − Φ(−y) ≥ ½
// has no cancellation. NaN -> NaN; ±inf -> 1, 0.
AM_INLINE void am_ncdf_f(float x, float *cdf, float *gauss) {
    float y = fabsf(x);
    // Keeps inf (and t = 0) out; Φ(−15) underflows to 0 in f32 anyway. Written so that NaN passes:
    // it then flows through every operation below, and no select has to restore it at the end.
    y = y > 15.0f ? 15.0f : y;
    float t = 4.0f / (4.0f + y), w = t - 0.6f;
    float q = 1.574184410e-02f;
    q = AM_FMAF(q, w, 2.663497816e-02f);
    q = AM_FMAF(q, w, -3.457711799e-02f);
    q = AM_FMAF(q, w, -8.671664648e-02f);
    q = AM_FMAF(q, w, 1.674212173e-02f);
    q = AM_FMAF(q, w, 2.616276276e-01f);
    q = AM_FMAF(q, w, 4.744231309e-01f);
    q = AM_FMAF(q, w, 5.140555073e-01f);
    q = AM_FMAF(q, w, 3.935599090e-01f);
    q = AM_FMAF(q, w, 2.234852312e-01f);
    float hi = y * y;
#if defined(__FMA__)
    float lo = fmaf(y, y, -hi);
#else  // Veltkamp split: yh has 12 significant bits, so every partial product below is exact
    float yh = am_f32_from_bits(am_bits_of_f32(y) & 0xfffff000u), yl = y - yh;
    float lo = ((yh * yh - hi) + 2.0f * yh * yl) + yl * yl;
#endif
    float g = am_expf_nonpos_core(-0.5f * hi) * AM_FMAF(-0.5f, lo, 1.0f);  // −y²/2 ≥ −112.5
    float lower = t * q * g;  // Φ(−y)
    *cdf = x < 0.0f ? lower : 1.0f - lower;
    *gauss = g;
}

#endif
