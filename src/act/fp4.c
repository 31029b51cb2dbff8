// fp4.c — FP4 E2M1 encode/decode and the E8M0 scale (OCP Microscaling Formats (MX) v1.0), and the
// counter-based uniform numbers of stochastic rounding.
//
// The encoder rounds with the same grid rounding as the array quantisers (minifloat.h), so the
// scalar codec and num_block_qdq cannot disagree; both are tested against a brute-force scan of
// every code (test_fp4, test_mx).
#include "actlab.h"
#include "minifloat.h"

#include <math.h>

// Magnitudes of codes 0..7: exponent field e, mantissa m: e ? (1 + m/2)·2^(e−1) : m/2.
static const float E2M1[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};

float num_fp4_to_f32(uint8_t code) {
    float v = E2M1[code & 7];
    return code & 8 ? -v : v;
}

// The code of a magnitude already on the grid (0 ≤ r ≤ 6).
static uint8_t code_of(float r) {
    uint8_t c = 0;
    while (c < 7 && E2M1[c] != r) c++;
    return c;
}

static uint8_t with_sign(float x, float r) { return (uint8_t)((signbit(x) ? 8 : 0) | code_of(r)); }

uint8_t num_f32_to_fp4(float x) {
    qfmt q = qfmt_e2m1();
    float a = fabsf(x), r = isnan(x) ? 6.0f : round_mag(a, &q);
    return with_sign(x, r > 6.0f ? 6.0f : r);
}

uint8_t num_f32_to_fp4_stochastic(float x, float u) {
    qfmt q = qfmt_e2m1();
    float a = fabsf(x);
    return with_sign(x, !(a <= 6.0f) ? 6.0f : round_mag_stochastic(a, &q, u));
}

float num_e8m0_to_f32(uint8_t code) { return code == 255 ? NAN : ldexpf(1.0f, (int)code - 127); }

float num_sr_uniform(uint64_t seed, uint64_t index) { return sr_uniform(seed, index); }
