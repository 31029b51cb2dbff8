// powlu_math.h — the base-2 log and exp of PowLU's positive branch (gates.h, gate_powlu).
//
// PowLU's gate is 2^E·σ(z) with E = m·log2 z/(1+√z). Base 2 spares both ln 2 reductions: log2 z
// splits into an exact integer and a fraction, and 2^E needs no Cody–Waite step. Same rules as
// vmath.h: IEEE operations and fmaf only, so the vector body and the scalar tail agree bit for bit.
#ifndef ACTLAB_POWLU_MATH_H
#define ACTLAB_POWLU_MATH_H

#include "vmath.h"

// log2 a = e + l for every positive float a up to 2^103, subnormals included: e an integer (as an
// int and as a float), l in [−½, ½) within 4.5e-8 absolute (every mantissa tried; l's own f32
// rounding is 1.5e-8 of it). a·2^24 is normal for every such a, so the mantissa comes
// from the bits: a·2^24 = 2^k·mz, mz in [√½, √2), e = k − 24. mz = a·2^−e is returned too:
// gate_powlu divides by it instead of a, to keep 1/z finite at both ends of the range.
// log2(1 + f) = f·C1 + f²·Q(f), Q of degree 7 fitted to 9e-9 absolute on f ∈ [√½ − 1, √2 − 1];
// C1 = 1/ln 2 as head + tail (the tail alone is worth 7.5e-9 at the ends).
AM_INLINE void am_powlu_log2(float a, int32_t *ei, float *e, float *mz, float *l) {
    uint32_t zb = am_bits_of_f32(a * 0x1p24f), ix = zb - 0x3f3504f3u;   // √½'s bits
    int32_t k = (int32_t)((ix + 0x40000000u) >> 23) - 128;             // floor(ix / 2^23), no signed shift
    float m = am_f32_from_bits(zb - ((uint32_t)k << 23)), f = m - 1.0f;
    // Estrin's scheme: these loops are bound by latency more than by throughput.
    float f2 = f * f, f4 = f2 * f2;
    float q01 = AM_FMAF(4.8091121750e-01f, f, -7.2134726049e-01f);
    float q23 = AM_FMAF(2.8786978705e-01f, f, -3.6070969859e-01f);
    float q45 = AM_FMAF(2.1610545680e-01f, f, -2.3879970896e-01f);
    float q67 = AM_FMAF(1.2599958923e-01f, f, -2.0835226122e-01f);
    float q = AM_FMAF(AM_FMAF(q67, f2, q45), f4, AM_FMAF(q23, f2, q01));
    *l = AM_FMAF(f, 1.4426950216e+00f, AM_FMAF(f, 1.9259629891e-08f, f2 * q));   // 1/ln 2 = head + tail
    *ei = k - 24;
    *e = (float)(k - 24);
    *mz = m;
}

// 2^x·2^−40 for x in [−½, ½] (a little beyond is harmless), degree 6, 2e-9 relative before its
// f32 roundings. The 2^−40 (exact in every coefficient) lets the caller scale by 2^(n+40), a normal
// number for n in [−166, 87], and round a subnormal result once.
AM_INLINE float am_powlu_exp2_40(float x) {
    float p = 0x1p-40f * 1.5345811792e-04f;
    p = AM_FMAF(p, x, 0x1p-40f * 1.3399931422e-03f);
    p = AM_FMAF(p, x, 0x1p-40f * 9.6184889597e-03f);
    p = AM_FMAF(p, x, 0x1p-40f * 5.5503287765e-02f);
    p = AM_FMAF(p, x, 0x1p-40f * 2.4022646891e-01f);
    p = AM_FMAF(p, x, 0x1p-40f * 6.9314720574e-01f);
    return AM_FMAF(p, x, 0x1p-40f * 1.0000000006e+00f);
}

// 2^(n+40) as a float, for n in [−166, 87] given as the bits of 1.5·2^23 + n (the rounding trick's
// result: its low 9 bits hold n in two's complement, and (n + 167) < 256 keeps the sign clear).
AM_INLINE float am_powlu_scale40(uint32_t kd_bits) { return am_f32_from_bits((kd_bits + 167u) << 23); }

#endif
