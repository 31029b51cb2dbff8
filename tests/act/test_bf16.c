// test_bf16.c — f32 -> bf16 round to nearest, ties to even, NaN stays NaN, against a slow
// reference that picks the nearer of the two neighbouring bf16 values in double.
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static float f_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// Finite x only. The two candidates: x truncated towards zero to bf16, and the next bf16 away from
// zero (for the largest bf16 that is +-inf, which wins when x is at least halfway to 2^128).
static uint16_t slow_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint16_t lo = (uint16_t)(u >> 16), hi = (uint16_t)(lo + 1);
    double xd = fabs((double)x), lod = fabs((double)num_bf16_to_f32(lo));
    double hid = (hi & 0x7fff) == 0x7f80 ? ldexp(1.0, 128) : fabs((double)num_bf16_to_f32(hi));
    if (xd - lod < hid - xd) return lo;
    if (xd - lod > hid - xd) return hi;
    return (lo & 1) ? hi : lo;  // a tie: the even one
}

static void test_known_codes(void **state) {
    (void)state;
    assert_int_equal(num_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(num_f32_to_bf16(f_of(0x3f808000)), 0x3f80);  // tie -> even (down)
    assert_int_equal(num_f32_to_bf16(f_of(0x3f818000)), 0x3f82);  // tie -> even (up)
    assert_int_equal(num_f32_to_bf16(f_of(0xbf818000)), 0xbf82);  // negative tie
    assert_int_equal(num_f32_to_bf16(f_of(0x3f808001)), 0x3f81);  // just above the tie
    assert_int_equal(num_f32_to_bf16(f_of(0x00008000)), 0x0000);  // subnormal tie -> even (zero)
    assert_int_equal(num_f32_to_bf16(f_of(0x00018000)), 0x0002);  // subnormal tie -> even (up)
    assert_int_equal(num_f32_to_bf16(f_of(0x00000001)), 0x0000);  // smallest subnormal -> +0
    assert_int_equal(num_f32_to_bf16(-0.0f), 0x8000);
    assert_int_equal(num_f32_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(num_f32_to_bf16(-INFINITY), 0xff80);
    assert_int_equal(num_f32_to_bf16(FLT_MAX), 0x7f80);            // rounds past the largest bf16
    assert_int_equal(num_f32_to_bf16(f_of(0x7f7f7fff)), 0x7f7f);   // stays the largest bf16
    assert_true(num_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(num_bf16_to_f32(0xc0a0) == -5.0f);
}

static void test_nan_stays_nan(void **state) {
    (void)state;
    const uint32_t nans[] = {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0x7f80ffff};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        uint16_t b = num_f32_to_bf16(f_of(nans[i]));
        assert_true(isnan(num_bf16_to_f32(b)));                  // never rounds into ±inf
        assert_int_equal(b >> 15, nans[i] >> 31);                // sign kept
    }
}

static void test_random_against_slow_reference(void **state) {
    (void)state;
    uint64_t seed = test_seed("test_bf16");
    rng_t rng;
    rng_seed(&rng, seed);
    enum { N = 1 << 20 };
    static float src[N], back[N];
    static uint16_t dst[N];
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)rng_u64(&rng);
        if (i % 4 == 0) u = (u & 0xffff0000u) | 0x8000u;  // exact ties, a quarter of the cases
        if (i % 8 == 1) u &= 0x807fffffu;                 // subnormals
        src[i] = isfinite(f_of(u)) ? f_of(u) : 1.0f;
    }
    num_f32_to_bf16_array(src, dst, N);
    num_bf16_to_f32_array(dst, back, N);
    for (int i = 0; i < N; i++) {
        uint16_t want = slow_bf16(src[i]);
        if (dst[i] != want || dst[i] != num_f32_to_bf16(src[i]) || back[i] != num_bf16_to_f32(dst[i])) {
            print_error("bf16(%a): got 0x%04x want 0x%04x (seed %llu)\n", src[i], dst[i], want, (unsigned long long)seed);
            fail();
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_codes),
        cmocka_unit_test(test_nan_stays_nan),
        cmocka_unit_test(test_random_against_slow_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
