// minifloat.h — (internal) rounding of a non-negative f32 magnitude onto the grid of a small float
// format (FP8 E4M3/E5M2, FP4 E2M1), shared by the per-tensor (scaling.c) and block-scaled (mx.c)
// quantisers, plus the counter-based random numbers of stochastic rounding.
//
// Above the smallest normal the f32 mantissa is rounded to the format's mantissa bits with integer
// arithmetic (a carry into the exponent is the right answer); below it the value is an integer
// number of subnormal quanta, so rintf / floorf on the value scaled by a power of two is exact.
// The results are not yet saturated: callers compare with max.
#ifndef ACTLAB_MINIFLOAT_H
#define ACTLAB_MINIFLOAT_H

#include "actlab.h"

#include <math.h>
#include <stdint.h>

typedef struct {
    int mbits;
    float max, min_normal, sub_up, sub_down;  // sub_up·x counts subnormal quanta; sub_down undoes it
} qfmt;

static inline qfmt qfmt_fp8(num_fp8_format f) {
    if (f == NUM_E4M3) return (qfmt){3, 448.0f, 0x1p-6f, 0x1p9f, 0x1p-9f};
    return (qfmt){2, 57344.0f, 0x1p-14f, 0x1p16f, 0x1p-16f};
}

static inline qfmt qfmt_e2m1(void) { return (qfmt){1, 6.0f, 1.0f, 2.0f, 0.5f}; }

// a (≥ 0 or NaN) rounded to the nearest value of the grid, ties to the even code.
static inline float round_mag(float a, const qfmt *q) {
    // Values far past max only need to stay past it; clamping keeps the bit trick below inf.
    a = a > 2 * q->max ? 2 * q->max : a;
    union { float f; uint32_t u; } b = {a};
    unsigned shift = 23u - (unsigned)q->mbits;
    b.u += ((1u << (shift - 1)) - 1u) + ((b.u >> shift) & 1u);
    b.u &= ~((1u << shift) - 1u);
    float sub = rintf(a * q->sub_up) * q->sub_down;
    return a >= q->min_normal ? b.f : sub;
}

// a (finite, ≥ 0) rounded down to the grid, then up by one step with probability equal to its
// position between the two neighbours: up iff u < (a − lo)/(hi − lo), u uniform in [0, 1). Both the
// difference and the division by the (power-of-two) step are exact in f32. Both ranges are
// computed and one selected, so array loops vectorise (the unselected one is harmless: no traps).
static inline float round_mag_stochastic(float a, const qfmt *q, float u) {
    a = a > 2 * q->max ? 2 * q->max : a;
    float t = a * q->sub_up, fl = floorf(t);
    float sub = (fl + (float)(u < t - fl)) * q->sub_down;
    union { float f; uint32_t u; } lo = {a}, step;
    lo.u &= ~((1u << (23u - (unsigned)q->mbits)) - 1u);
    step.u = (lo.u & 0x7f800000u) - ((uint32_t)q->mbits << 23);  // 2^(exponent of lo − mbits)
    float normal = u < (a - lo.f) / step.f ? lo.f + step.f : lo.f;
    return a < q->min_normal ? sub : normal;
}

// splitmix64's finaliser over (seed, index): a counter-based generator, so the number an element
// gets depends on nothing but its index — not on threads, chunking or what was drawn before.
static inline uint64_t mix64(uint64_t seed, uint64_t index) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// The uniform number in [0, 1) of stochastic rounding for element index (24 random bits), inline so
// the array quantisers' loops vectorise; num_sr_uniform is the same function.
static inline float sr_uniform(uint64_t seed, uint64_t index) { return (float)(mix64(seed, index) >> 40) * 0x1p-24f; }

#endif
