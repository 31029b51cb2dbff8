// test_fp8.c — FP8 E4M3/E5M2: all 256 codes against values computed from the bit fields here,
// round trips, and random f32 inputs against a brute-force nearest-code reference (ties to the
// even code, overflow through the first value past the largest finite one).
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

// The specification's value of a code, from its fields (NAN for NaN codes).
static double spec_value(int code, num_fp8_format f) {
    int s = code >> 7;
    double v;
    if (f == NUM_E4M3) {
        int e = (code >> 3) & 15, m = code & 7;
        if (e == 15 && m == 7) return NAN;
        v = e ? (8 + m) * ldexp(1, e - 10) : m * ldexp(1, -9);
    } else {
        int e = (code >> 2) & 31, m = code & 3;
        if (e == 31) return m ? NAN : (s ? -INFINITY : INFINITY);
        v = e ? (4 + m) * ldexp(1, e - 17) : m * ldexp(1, -16);
    }
    return s ? -v : v;
}

static void test_all_codes(void **state) {
    (void)state;
    for (int f = 0; f < 2; f++)
        for (int c = 0; c < 256; c++) {
            double want = spec_value(c, (num_fp8_format)f);
            float got = num_fp8_to_f32((uint8_t)c, (num_fp8_format)f);
            if (isnan(want)) {
                assert_true(isnan(got));
                assert_true(isnan(num_fp8_to_f32(num_f32_to_fp8(got, (num_fp8_format)f, NUM_SATURATE), (num_fp8_format)f)));
                continue;
            }
            if ((double)got != want) fail_msg("format %d code 0x%02x: %g, spec %g", f, c, got, want);
            if (isinf(want)) continue;
            for (int ov = 0; ov < 2; ov++)
                if (num_f32_to_fp8(got, (num_fp8_format)f, (num_fp8_overflow)ov) != c)
                    fail_msg("format %d code 0x%02x does not re-encode to itself", f, c);
        }
    assert_true(num_fp8_max(NUM_E4M3) == 448.0f && num_fp8_max(NUM_E5M2) == 57344.0f);
}

// Brute force: the nearest of all finite non-negative codes plus the first value past the maximum
// (E4M3 480, code 0x7f, odd; E5M2 65536, code 0x7c, even); a tie goes to the even code.
static int nearest_code(double ax, num_fp8_format f, int *overflowed) {
    int top = f == NUM_E4M3 ? 0x7e : 0x7b, best = 0;
    double best_d = INFINITY;
    for (int c = 0; c <= top + 1; c++) {
        double v = c <= top ? spec_value(c, f) : (f == NUM_E4M3 ? 480.0 : 65536.0);
        double d = fabs(ax - v);
        if (d < best_d || (d == best_d && (c & 1) == 0)) best_d = d, best = c;
    }
    *overflowed = best > top;
    return best;
}

static void test_random_against_brute_force(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, test_seed("test_fp8"));
    for (int i = 0; i < 200000; i++) {
        num_fp8_format f = (num_fp8_format)(i & 1);
        num_fp8_overflow ov = (num_fp8_overflow)((i >> 1) & 1);
        double ax;
        if (i % 3 == 0) {  // an exact midpoint between two neighbouring codes (or past the max)
            int c = (int)(rng_u64(&rng) % (f == NUM_E4M3 ? 0x7e : 0x7b));
            ax = 0.5 * (spec_value(c, f) + spec_value(c + 1, f));
        } else {
            ax = ldexp(1.0 + rng_uniform_d(&rng), (int)(rng_u64(&rng) % 40) - 22);
        }
        float x = (float)ax * ((i >> 2) & 1 ? -1.0f : 1.0f);
        int overflowed, c = nearest_code(fabs((double)x), f, &overflowed);
        uint8_t want = (uint8_t)(overflowed ? (ov == NUM_SATURATE ? (f == NUM_E4M3 ? 0x7e : 0x7b) : (f == NUM_E4M3 ? 0x7f : 0x7c)) : c);
        want |= (uint8_t)(signbit(x) ? 0x80 : 0);
        uint8_t got = num_f32_to_fp8(x, f, ov);
        if (got != want) fail_msg("format %d mode %d: %a -> 0x%02x, reference 0x%02x", f, ov, x, got, want);
    }
}

static void test_boundaries(void **state) {
    (void)state;
    assert_int_equal(num_f32_to_fp8(448.0f, NUM_E4M3, NUM_OVERFLOW), 0x7e);
    assert_int_equal(num_f32_to_fp8(464.0f, NUM_E4M3, NUM_OVERFLOW), 0x7e);  // tie: 448 is the even one
    assert_int_equal(num_f32_to_fp8(464.5f, NUM_E4M3, NUM_OVERFLOW), 0x7f);  // NaN: no infinity in E4M3
    assert_int_equal(num_f32_to_fp8(1e30f, NUM_E4M3, NUM_SATURATE), 0x7e);
    assert_int_equal(num_f32_to_fp8(-INFINITY, NUM_E4M3, NUM_SATURATE), 0xfe);
    assert_int_equal(num_f32_to_fp8(61439.0f, NUM_E5M2, NUM_OVERFLOW), 0x7b);
    assert_int_equal(num_f32_to_fp8(61440.0f, NUM_E5M2, NUM_OVERFLOW), 0x7c);  // tie: rounds to even = inf
    assert_int_equal(num_f32_to_fp8(-1e30f, NUM_E5M2, NUM_OVERFLOW), 0xfc);
    assert_int_equal(num_f32_to_fp8(INFINITY, NUM_E5M2, NUM_OVERFLOW), 0x7c);
    assert_int_equal(num_f32_to_fp8(ldexpf(1, -10), NUM_E4M3, NUM_SATURATE), 0x00);    // tie with 0: even
    assert_int_equal(num_f32_to_fp8(3 * ldexpf(1, -10), NUM_E4M3, NUM_SATURATE), 0x02);  // tie: even
    assert_int_equal(num_f32_to_fp8(1e-30f, NUM_E5M2, NUM_SATURATE), 0x00);
    assert_int_equal(num_f32_to_fp8(-0.0f, NUM_E4M3, NUM_SATURATE), 0x80);
    assert_true(isnan(num_fp8_to_f32(num_f32_to_fp8(NAN, NUM_E5M2, NUM_SATURATE), NUM_E5M2)));
}

// Stochastic rounding: for u on a uniform grid the share rounded up equals the position between
// the neighbours; representable values never move.
static void test_stochastic(void **state) {
    (void)state;
    enum { N = 10000 };
    const float xs[3] = {1.1f, 300.0f, 0.0013f};
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 3; k++) {
            float x = xs[k];
            uint8_t lo = num_f32_to_fp8(x, (num_fp8_format)f, NUM_SATURATE);
            if (num_fp8_to_f32(lo, (num_fp8_format)f) > x) lo--;
            double vlo = num_fp8_to_f32(lo, (num_fp8_format)f), vhi = num_fp8_to_f32((uint8_t)(lo + 1), (num_fp8_format)f);
            double p = ((double)x - vlo) / (vhi - vlo);
            int up = 0;
            for (int i = 0; i < N; i++) {
                uint8_t c = num_f32_to_fp8_stochastic(x, (num_fp8_format)f, NUM_SATURATE, (float)((i + 0.5) / N));
                assert_true(c == lo || c == lo + 1);
                up += c == lo + 1;
            }
            assert_true(fabs((double)up / N - p) <= 1.5 / N);
            assert_int_equal(num_f32_to_fp8_stochastic((float)vlo, (num_fp8_format)f, NUM_SATURATE, 0.999f), lo);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_codes),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_stochastic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
