// fp8.c — FP8 E4M3 / E5M2 encode and decode (OCP 8-bit floating point specification).
//
// Encoding works on the magnitude: below the smallest normal the code is the number of subnormal
// quanta (an integer), above it the exponent field and the rounded mantissa; in both cases the
// code of a positive value is monotonic in the value, so "one more quantum" is "code + 1", and a
// mantissa that rounds up to 2 carries into the exponent by itself.
#include "actlab.h"

#include <math.h>

typedef struct {
    int ebits, mbits, bias;
    uint8_t max_code;  // largest finite magnitude code
    float max;
} fp8_fmt;

static const fp8_fmt FMT[2] = {
    {4, 3, 7, 0x7e, 448.0f},     // E4M3: 0x7f is NaN, there is no infinity
    {5, 2, 15, 0x7b, 57344.0f},  // E5M2: 0x7c is inf, above it NaN
};

float num_fp8_max(num_fp8_format f) { return FMT[f].max; }

float num_fp8_to_f32(uint8_t code, num_fp8_format f) {
    const fp8_fmt *t = &FMT[f];
    int sign = code >> 7, mag = code & 0x7f, e = mag >> t->mbits, m = mag & ((1 << t->mbits) - 1);
    float v;
    if (f == NUM_E4M3 && mag == 0x7f) return NAN;
    if (f == NUM_E5M2 && e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexpf((float)m, 1 - t->bias - t->mbits);  // subnormal
    else v = ldexpf(1.0f + (float)m / (float)(1 << t->mbits), e - t->bias);
    return sign ? -v : v;
}

// The magnitude code just below |x| (truncation) and the fraction of a quantum above it, in [0, 1).
// |x| must be finite; codes may exceed max_code (overflow is decided by the caller).
static unsigned trunc_code(double ax, const fp8_fmt *t, double *frac) {
    double min_normal = ldexp(1.0, 1 - t->bias);
    if (ax < min_normal) {
        double q = ax / ldexp(1.0, 1 - t->bias - t->mbits);  // exact: a power-of-two scaling
        double fl = floor(q);
        *frac = q - fl;
        return (unsigned)fl;
    }
    int e;
    double m = frexp(ax, &e);  // ax = m·2^e, m in [0.5, 1)
    e -= 1;                    // ax = (2m)·2^e, 2m in [1, 2)
    if (e + t->bias >= (1 << t->ebits)) {  // beyond every exponent field: any code past max_code
        *frac = 0;
        return 0x7fff;
    }
    double q = (2 * m - 1) * (double)(1 << t->mbits), fl = floor(q);
    *frac = q - fl;
    return ((unsigned)(e + t->bias) << t->mbits) + (unsigned)fl;
}

static uint8_t finish(unsigned code, int sign, const fp8_fmt *t, num_fp8_format f, num_fp8_overflow ov) {
    if (code > t->max_code) {
        if (ov == NUM_SATURATE) code = t->max_code;
        else code = f == NUM_E4M3 ? 0x7f : 0x7c;  // NaN, or infinity
    }
    return (uint8_t)((sign << 7) | code);
}

static uint8_t encode(float x, num_fp8_format f, num_fp8_overflow ov, int stochastic, float u) {
    const fp8_fmt *t = &FMT[f];
    int sign = signbit(x) ? 1 : 0;
    if (isnan(x)) return (uint8_t)((sign << 7) | (f == NUM_E4M3 ? 0x7f : 0x7e));
    if (isinf(x)) return finish(0x7fff, sign, t, f, ov);
    double frac;
    unsigned code = trunc_code(fabs((double)x), t, &frac);
    if (stochastic) code += (double)u < frac;
    else code += frac > 0.5 || (frac == 0.5 && (code & 1));  // ties to the even code
    return finish(code, sign, t, f, ov);
}

uint8_t num_f32_to_fp8(float x, num_fp8_format f, num_fp8_overflow ov) { return encode(x, f, ov, 0, 0); }

uint8_t num_f32_to_fp8_stochastic(float x, num_fp8_format f, num_fp8_overflow ov, float u) {
    return encode(x, f, ov, 1, u);
}
