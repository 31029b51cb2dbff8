// vmath.h — branch-free exp/log/sigmoid that GCC vectorises inside `omp simd` loops.
//
// Why our own: glibc only offers its vector math (libmvec) under -ffast-math, which would break
// NaN/Inf semantics, and its results differ between the vector body and the scalar tail. These
// functions use only IEEE-exact operations (+, −, ×, ÷, sqrt, conversions) with no FMA contraction
// (-ffp-contract=off), so an element gets the same bits whichever path or thread computes it.
//
// f32: am_expf is a Cephes-style range reduction + degree-7 polynomial, ≤ 2 ulp on its range.
// f64: am_exp / am_log reach ≈ 1e-15 relative; PowLU's positive branch uses them (see gates.h).
#ifndef ACTLAB_VMATH_H
#define ACTLAB_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float am_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline double am_f64_from_bits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t am_bits_of_f64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

// e^x in f32. NaN -> NaN, x > 88.72 -> +inf, x < -104 -> 0, subnormal results rounded correctly
// enough (two-step scaling keeps each factor a normal number).
static inline float am_expf(float x) {
    // Comparisons are false for NaN, so NaN lands on 88.72 here (finite maths) and is restored at the end.
    float xc = x < 88.72283f ? x : 88.72283f;
    xc = xc > -104.0f ? xc : -104.0f;
    // Round to nearest integer with the 1.5·2^23 trick (no rint call, so it vectorises).
    float k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ki = (int32_t)k, k1 = ki / 2, k2 = ki - k1;
    float y = p * am_f32_from_bits((uint32_t)(k1 + 127) << 23) * am_f32_from_bits((uint32_t)(k2 + 127) << 23);
    y = x > 88.72283f ? INFINITY : y;
    y = x < -104.0f ? 0.0f : y;
    return x != x ? x : y;
}

// σ(x) and 1 − σ(x) = σ(−x), both without cancellation, from one exp of −|x|.
static inline void am_sigmoid2f(float x, float *s, float *oms) {
    float e = am_expf(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    *s = x >= 0.0f ? r : e * r;
    *oms = x >= 0.0f ? e * r : r;
}

// e^x in f64 for finite x; clamps to [-745, 709] (0 and about 8e307 at the ends).
static inline double am_exp(double x) {
    double xc = x < 709.0 ? x : 709.0;
    xc = xc > -745.0 ? xc : -745.0;
    double k = (xc * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
    double r = xc - k * 6.93147180369123816490e-01;
    r = r - k * 1.90821492927058770002e-10;  // |r| <= ln2/2
    // Taylor to degree 12: the remainder r^13/13! < 2e-16 relative.
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t ki = (int64_t)k, k1 = ki / 2, k2 = ki - k1;
    return p * am_f64_from_bits((uint64_t)(k1 + 1023) << 52) * am_f64_from_bits((uint64_t)(k2 + 1023) << 52);
}

// ln x in f64 for positive normal x (every positive float is a normal double).
static inline double am_log(double x) {
    uint64_t b = am_bits_of_f64(x);
    int64_t e = (int64_t)(b >> 52) - 1023;
    double m = am_f64_from_bits((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
    int64_t big = m > 1.4142135623730951 ? 1 : 0;  // move m into [√½, √2) so the series converges fast
    m = big ? m * 0.5 : m;
    double ed = (double)(e + big);
    // ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716: odd series to s^17, remainder < 1e-15.
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double q = 1.0 / 17.0;
    q = q * s2 + 1.0 / 15.0;
    q = q * s2 + 1.0 / 13.0;
    q = q * s2 + 1.0 / 11.0;
    q = q * s2 + 1.0 / 9.0;
    q = q * s2 + 1.0 / 7.0;
    q = q * s2 + 1.0 / 5.0;
    q = q * s2 + 1.0 / 3.0;
    q = q * s2 + 1.0;
    return ed * 6.93147180369123816490e-01 + (2.0 * s * q + ed * 1.90821492927058770002e-10);
}

#endif
