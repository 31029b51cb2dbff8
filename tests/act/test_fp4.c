// test_fp4.c — FP4 E2M1 and E8M0 (OCP MX v1.0): every code against its value from the bit fields,
// round trips, random inputs against the brute-force reference of refquant.c (ties to the even
// code, saturation), stochastic rounding's probabilities, and the counter-based uniform numbers.
#include "refimpl.h"
#include "refquant.h"
#include "util/rng.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

static uint64_t g_seed;

static void test_e2m1_all_codes(void **state) {
    (void)state;
    for (int c = 0; c < 16; c++) {
        int s = c >> 3, e = (c >> 1) & 3, m = c & 1;
        double v = e ? (1 + 0.5 * m) * ldexp(1, e - 1) : 0.5 * m;  // bias 1; subnormal m·2^(1−1−1)
        float got = num_fp4_to_f32((uint8_t)c);
        assert_true((double)got == (s ? -v : v));
        assert_true(!!signbit(got) == s);  // −0 is code 8
        assert_int_equal(num_f32_to_fp4(got), c);
        assert_int_equal(num_f32_to_fp4_stochastic(got, 0.999f), c);  // representable: never moves
    }
    const float pos[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int c = 0; c < 8; c++) assert_true(num_fp4_to_f32((uint8_t)c) == pos[c]);
}

static void test_e8m0_all_codes(void **state) {
    (void)state;
    for (int c = 0; c < 255; c++) assert_true((double)num_e8m0_to_f32((uint8_t)c) == ldexp(1, c - 127));
    assert_true(isnan(num_e8m0_to_f32(255)));
    assert_true(num_e8m0_to_f32(0) > 0 && num_e8m0_to_f32(0) < FLT_MIN);  // 2^-127: an f32 subnormal
    // Every code is the MX scale of the amaxes in [2^(X+emax), 2^(X+emax+1)), X = code − 127.
    const num_block_format fmts[3] = {NUM_MXFP8_E4M3, NUM_MXFP8_E5M2, NUM_MXFP4};
    const int emax[3] = {8, 15, 2};
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 255; c++) {
            int e = c - 127 + emax[k];
            if (e > 127 || e < -149) continue;
            float lo = ldexpf(1, e), hi = nextafterf(e == 127 ? FLT_MAX : ldexpf(1, e + 1), 0);
            if (num_mx_scale(lo, fmts[k]) != c || num_mx_scale(hi, fmts[k]) != c)
                fail_msg("format %d code %d: amax %a -> %d, %a -> %d", k, c, lo, num_mx_scale(lo, fmts[k]), hi,
                         num_mx_scale(hi, fmts[k]));
        }
    assert_int_equal(num_mx_scale(0, NUM_MXFP4), 0);           // nothing to scale: the smallest
    assert_int_equal(num_mx_scale(ldexpf(1, -149), NUM_MXFP4), 0);  // below the range: clamped
    assert_int_equal(num_mx_scale(FLT_MAX, NUM_MXFP4), 127 + 125);
    assert_int_equal(num_mx_scale(NAN, NUM_MXFP8_E4M3), 255);
    assert_int_equal(num_mx_scale(INFINITY, NUM_MXFP8_E5M2), 255);
}

static void test_e2m1_against_brute_force(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, g_seed);
    for (int i = 0; i < 200000; i++) {
        double a;
        if (i % 3 == 0) {  // an exact midpoint between two codes, or between 6 and the next (8)
            int c = (int)(rng_u64(&r) % 8);
            a = 0.5 * (ref_code_value(REF_E2M1, c) + ref_code_value(REF_E2M1, c + 1));
        } else {
            a = ldexp(1.0 + rng_uniform_d(&r), (int)(rng_u64(&r) % 10) - 5);
        }
        float x = (float)a * (rng_u64(&r) & 1 ? -1.0f : 1.0f);
        int sat;
        double want = ref_round(fabs((double)x), REF_E2M1, 0, 0, &sat);
        float got = num_fp4_to_f32(num_f32_to_fp4(x));
        if ((double)fabsf(got) != want || !!signbit(got) != !!signbit(x))
            fail_msg("%a -> %g, reference %g", x, got, want);
    }
    assert_int_equal(num_f32_to_fp4(7.0f), 0x7);      // tie of 6 (odd code) and 8 (even): past max, saturates
    assert_int_equal(num_f32_to_fp4(5.0f), 0x6);      // tie of 4 (even) and 6: 4
    assert_int_equal(num_f32_to_fp4(0.25f), 0x0);     // tie with zero: zero
    assert_int_equal(num_f32_to_fp4(0.75f), 0x2);     // tie of 0.5 and 1: 1 (even code)
    assert_int_equal(num_f32_to_fp4(-INFINITY), 0xf);
    assert_int_equal(num_f32_to_fp4(1e-40f), 0x0);
    assert_int_equal(num_f32_to_fp4(-0.0f), 0x8);
}

// For u on a uniform grid, the share rounded up is the position between the neighbours.
static void test_e2m1_stochastic(void **state) {
    (void)state;
    enum { N = 10000 };
    const float xs[5] = {0.1f, 0.7f, 1.3f, 2.9f, 5.5f};
    for (int k = 0; k < 5; k++) {
        int sat, up = 0;
        double lo = ref_round(xs[k], REF_E2M1, 1, 1.0, &sat), hi = ref_round(xs[k], REF_E2M1, 1, 0.0, &sat);
        double p = (xs[k] - lo) / (hi - lo);
        for (int i = 0; i < N; i++) {
            float v = num_fp4_to_f32(num_f32_to_fp4_stochastic(xs[k], (float)((i + 0.5) / N)));
            assert_true(v == lo || v == hi);
            up += v == hi;
        }
        assert_true(fabs((double)up / N - p) <= 1.5 / N);
    }
    assert_int_equal(num_f32_to_fp4_stochastic(6.5f, 0.0f), 0x7);  // beyond 6: saturates
    assert_int_equal(num_f32_to_fp4_stochastic(-INFINITY, 0.5f), 0xf);
}

static void test_sr_uniform(void **state) {
    (void)state;
    enum { N = 200000 };
    double sum = 0;
    int differ = 0;
    for (uint64_t i = 0; i < N; i++) {
        float u = num_sr_uniform(g_seed, i);
        assert_true(u >= 0 && u < 1);
        assert_true(u == num_sr_uniform(g_seed, i));  // a function of (seed, index) only
        sum += u;
        differ += u != num_sr_uniform(g_seed + 1, i);
    }
    assert_true(fabs(sum / N - 0.5) < 5 * 0.2887 / sqrt(N));  // within 5 standard errors
    assert_true(differ > N - 100);
}

int main(void) {
    g_seed = test_seed("test_fp4");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2m1_all_codes),          cmocka_unit_test(test_e8m0_all_codes),
        cmocka_unit_test(test_e2m1_against_brute_force), cmocka_unit_test(test_e2m1_stochastic),
        cmocka_unit_test(test_sr_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
