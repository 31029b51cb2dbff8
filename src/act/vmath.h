// vmath.h — branch-free exp/log/sigmoid that GCC vectorises inside `omp simd` loops.
//
// Why our own: glibc only offers its vector math (libmvec) under -ffast-math, which would break
// NaN/Inf semantics, and its results differ between the vector body and the scalar tail. These
// functions use only IEEE-exact operations (+, −, ×, ÷, sqrt, conversions) with no FMA contraction
// (-ffp-contract=off), so an element gets the same bits whichever path or thread computes it.
//
// f32: am_expf is a Cephes-style range reduction + degree-7 polynomial, ≤ 2 ulp on its range;
// am_ncdf_f is the normal CDF (GELU's exact form) without erfc.
// PowLU's positive branch (gates.h): am_expf_mul (t·e^x, one final rounding) and am_logf_dd (ln z
// as an f32 pair). f64: am_exp_short (≈ 3e-9) and am_logf_wide (≈ 1e-13), which PowLU used before its
// f32 rewrite; test_act_vmath still holds them to their bounds.
#ifndef ACTLAB_VMATH_H
#define ACTLAB_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float am_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline double am_f64_from_bits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t am_bits_of_f64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
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
// Without hardware FMA (portable builds) a*b+c is used: every caller below stays accurate with either.
#if defined(__FMA__)
#define AM_FMA(a, b, c) fma((a), (b), (c))
#define AM_FMAF(a, b, c) fmaf((a), (b), (c))
#else
#define AM_FMA(a, b, c) ((a) * (b) + (c))
#define AM_FMAF(a, b, c) ((a) * (b) + (c))
#endif

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
// x ≤ 0 and NaN only; x > 0 is not checked.
static inline float am_expf_nonpos(float x) {
    float xc = x < -104.0f ? -104.0f : x;  // NaN fails the comparison and passes through
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
    // k ∈ [−150, 0]: k + 191 ∈ [41, 191] sits in kd's low 9 bits (two's complement), and the shift
    // drops everything above them, so this is the exponent field of 2^(k+64) with a clear sign bit.
    // One rounding: a subnormal result is rounded once, as am_expf's two-step scaling does.
    uint32_t field = (am_bits_of_f32(kd) + 191u) << 23;
    return ps * am_f32_from_bits(field);
}

// σ(x) and 1 − σ(x) = σ(−x), both without cancellation, from one exp of −|x|.
static inline void am_sigmoid2f(float x, float *s, float *oms) {
    float e = am_expf_nonpos(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    *s = x >= 0.0f ? r : e * r;
    *oms = x >= 0.0f ? e * r : r;
}


// t·e^x with one rounding at the end, for x ≤ 60 (larger x are clamped: PowLU's exponent stays
// below 0.56·m ≤ 5.6) and t in [2^−20, 2^20]; below −104 the result is 0. am_expf_nonpos's
// reduction and polynomial, scaled by 2^−40 instead of 2^−64 so that 2^(k+40) stays a normal
// number for every k in [−150, 87]; t joins the scaled polynomial before 2^(k+40) does, so a
// subnormal result is rounded once.
AM_INLINE float am_expf_mul(float x, float t) {
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 60.0f ? 60.0f : xc;
    float kd = AM_FMAF(xc, 1.44269504088896341f, 12582912.0f);
    float k = kd - 12582912.0f;
    float r = AM_FMAF(k, -0.693359375f, xc);
    r = AM_FMAF(k, 2.12194440e-4f, r);
    float r2 = r * r;  // pairs of terms: a shorter chain, as in am_logf_dd
    float p01 = AM_FMAF(0x1p-40f * 1.6666665459e-1f, r, 0x1p-40f * 5.0000001201e-1f);
    float p23 = AM_FMAF(0x1p-40f * 8.3334519073e-3f, r, 0x1p-40f * 4.1665795894e-2f);
    float p45 = AM_FMAF(0x1p-40f * 1.9875691500e-4f, r, 0x1p-40f * 1.3981999507e-3f);
    float ps = AM_FMAF(AM_FMAF(p45, r2, p23), r2, p01);
    ps = AM_FMAF(ps, r2, AM_FMAF(r, 0x1p-40f, 0x1p-40f));
    // k + 167 ∈ [17, 254]: kd's low 9 bits hold k (two's complement), see am_expf_nonpos.
    uint32_t field = (am_bits_of_f32(kd) + 167u) << 23;
    return (ps * t) * am_f32_from_bits(field);
}

// ln z for a normal positive float z as an unevaluated f32 sum hi + lo (not normalised: |lo| may
// reach 0.09), within ≈ 2.5e-8 absolute, the f32 roundings of the series' tail (|ln z| reaches 87,
// where a plain f32 result would be off by 4e-6). z = 2^e·m, m in [√½, √2),
// f = m − 1 exact; ln(1 + f) = f − f²/2 + f³·P(f), P of degree 7 fitted to 2e-9 absolute in f³·P.
// e·ln2 is split so that e·LN2_HI and e·LN2_HI + f are exact (the latter's error kept in lo).
AM_INLINE void am_logf_dd(float z, float *hi, float *lo) {
    uint32_t ix = am_bits_of_f32(z) - 0x3f3504f3u;               // √½'s bits
    int32_t e = (int32_t)((ix + 0x40000000u) >> 23) - 128;      // floor(ix / 2^23) without a signed shift
    float f = am_f32_from_bits(am_bits_of_f32(z) - ((uint32_t)e << 23)) - 1.0f;
    // Estrin's scheme: the loops that inline this are bound by latency more than by throughput.
    float f2 = f * f, f4 = f2 * f2;
    float p01 = AM_FMAF(-2.500077486e-01f, f, 3.333322406e-01f), p23 = AM_FMAF(-1.663020998e-01f, f, 2.000745386e-01f);
    float p45 = AM_FMAF(-1.297883987e-01f, f, 1.408690810e-01f), p67 = AM_FMAF(-8.927696943e-02f, f, 1.342797726e-01f);
    float p = AM_FMAF(AM_FMAF(p67, f2, p45), f4, AM_FMAF(p23, f2, p01));
    float tail = f2 * AM_FMAF(f, p, -0.5f);
    float ef = (float)e, a = ef * 0.693145751953125f;           // LN2_HI: 15 bits, so a is exact
    float sh = a + f;                                           // |a| ≥ |f| unless a = 0: Fast2Sum
    *hi = sh;
    *lo = AM_FMAF(ef, 1.428606765e-06f, tail) + (f - (sh - a));
}


// e^x in f64 to ≈ 3e-9 relative (a degree-6 fit), for x ≤ 709; below −708 it returns e^−708, so
// that 2^k stays a normal double. PowLU's value needs the exponent itself to ~1e-9 relative (it
// reaches ±100), but its e^x only to well under f32's 6e-8, so the fit is no longer than that needs.
AM_INLINE double am_exp_short(double x) {
    double xc = x > -708.0 ? x : -708.0;
    double kd = AM_FMA(xc, 1.4426950408889634, 6755399441055744.0);
    double k = kd - 6755399441055744.0;
    // k·ln2 to within |k|·2e-17 (fma; 1e-13 from plain products without FMA): negligible here.
    double r = AM_FMA(k, -0.6931471805599453, xc);
    // Chebyshev fit of e^r on |r| <= ln2/2: 2.5e-9 relative.
    double r2 = r * r, r4 = r2 * r2;
    double p01 = AM_FMA(1.000000037716214, r, 1.0), p23 = AM_FMA(0.16666415514653277, r, 0.5000000047117757);
    double p46 = AM_FMA(0.0013941108433972674, r2, AM_FMA(0.008375126398153335, r, 0.04166635289677516));
    double p = AM_FMA(p46, r4, AM_FMA(p23, r2, p01));
    uint64_t kb = am_bits_of_f64(kd) + 1023u;
    return p * am_f64_from_bits(kb << 52);
}

// ln z in f64 (≈ 1e-13 relative) for a positive float z, subnormals included: z = 2^e·m,
// m in [√½, √2); ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716. z is split as a double, where
// every float (subnormals too) is normal, so e and m come from its bit fields without the
// rescaling a float subnormal needs. One f64 division for s: measured faster than an f32 seed with a
// Newton step, whose two conversions between f32 and f64 cost more than the division saves.
AM_INLINE double am_logf_wide(float z) {
    uint64_t b = am_bits_of_f64((double)z);
    double m = am_f64_from_bits((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
    // e + 1023 from the exponent field, as the low bits of 2^52 (exact; no integer conversion).
    double e = am_f64_from_bits((b >> 52) | 0x4330000000000000ull) - (4503599627370496.0 + 1023.0);
    int big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1.0 : e;
    double s = (m - 1.0) / (m + 1.0);  // m ± 1 exact
    // ln m = 2s + 2s·s²·g(s²), g Chebyshev-fitted (degree 4) to within 4e-12, i.e. 1e-13 in ln m.
    double u = s * s, u2 = u * u, s_2 = 2.0 * s;
    double g01 = AM_FMA(0.19999999397609577, u, 0.33333333333688325);
    double g24 = AM_FMA(0.096815934660808817, u2, AM_FMA(0.11095686690472316, u, 0.14285877484175175));
    double lm = AM_FMA(s_2 * u, AM_FMA(g24, u2, g01), s_2);
    // |e| ≤ 150: ln2's f64 rounding (2e-17) costs at most 3.5e-15 absolute.
    return AM_FMA(e, 0.6931471805599453, lm);
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
    float g = am_expf_nonpos(-0.5f * hi) * (1.0f - 0.5f * lo);
    float lower = t * q * g;  // Φ(−y)
    *cdf = x < 0.0f ? lower : 1.0f - lower;
    *gauss = g;
}

#endif
