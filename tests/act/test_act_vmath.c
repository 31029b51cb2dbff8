// test_act_vmath.c — the vectorisable maths of src/act/vmath.h against libm in double: the normal CDF
// that GELU's exact form uses (instead of erfcf), and the base-2 log/exp of PowLU's positive branch (powlu_math.h).
#include "act/powlu_math.h"
#include "act/vmath.h"
#include "actlab.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

static uint64_t g_seed;

// Error in units of the f32 spacing at the true value (subnormal spacing below FLT_MIN).
static double ulps(double got, double want) {
    double spacing = ldexp(1.0, ilogb(fmax(fabs(want), 0x1p-126)) - 23);
    return fabs(got - want) / spacing;
}

static void check_ncdf(float x, double *worst) {
    float c, g;
    am_ncdf_f(x, &c, &g);
    double want = 0.5 * erfc(-(double)x / sqrt(2.0)), wg = exp(-0.5 * (double)x * (double)x);
    double e = ulps(c, want), eg = ulps(g, wg);
    if (e > *worst) *worst = e;
    if (!(e <= 8.0) || !(eg <= 4.0)) {
        print_error("am_ncdf_f(%.9g): cdf %.9g want %.9g (%.2f ulp), gauss %.9g want %.9g (%.2f ulp); seed %llu\n",
                    x, c, want, e, g, wg, eg, (unsigned long long)g_seed);
        fail();
    }
}

// Φ on a dense grid over its whole non-trivial range and on random inputs: within 8 ulp of libm's
// erfc in double (the worst seen, ~7 ulp = 4e-7 relative, is printed; GELU needs far less).
static void test_ncdf_matches_libm(void **state) {
    (void)state;
    double worst = 0;
    for (float x = -14.0f; x <= 9.0f; x += 1.0f / 1024) check_ncdf(x, &worst);
    rng_t rng;
    rng_seed(&rng, g_seed);
    for (int i = 0; i < 200000; i++) check_ncdf(4.0f * rng_normal(&rng), &worst);
    printf("am_ncdf_f: worst %.2f ulp\n", worst);
    float c, g;
    am_ncdf_f(INFINITY, &c, &g);
    assert_true(c == 1.0f && g == 0.0f);
    am_ncdf_f(-INFINITY, &c, &g);
    assert_true(c == 0.0f && g == 0.0f);
    am_ncdf_f(NAN, &c, &g);
    assert_true(isnan(c) && isnan(g));
}

// The sigmoid's and Φ's exp, e^x for x ≤ 0: every 61st non-positive float from −0 down to −inf
// (35 million, every binade and both ends of the subnormal range) against libm in double, within
// 2 ulp of the f32 spacing at the true value (subnormal spacing below FLT_MIN), and bit for bit
// the full-range am_expf it replaces on that domain. The worst error is printed.
static void test_expf_nonpos_matches_libm(void **state) {
    (void)state;
    double worst = 0, worst_x = 0;
    for (uint64_t b = 0x80000000u; b <= 0xff800000u; b += 61) {
        float x = am_f32_from_bits((uint32_t)b), got = am_expf_nonpos(x);
        double e = ulps(got, exp((double)x));
        if (e > worst) worst = e, worst_x = x;
        if (!(e <= 2.0) || am_bits_of_f32(got) != am_bits_of_f32(am_expf(x))) {
            print_error("am_expf_nonpos(%.9g) = %.9g, libm %.9g (%.2f ulp), am_expf %.9g\n", x, got, exp((double)x), e,
                        am_expf(x));
            fail();
        }
    }
    printf("am_expf_nonpos: worst %.3f ulp (at %.9g)\n", worst, worst_x);
    assert_true(am_expf_nonpos(-INFINITY) == 0.0f && am_expf_nonpos(0.0f) == 1.0f && am_expf_nonpos(-0.0f) == 1.0f);
    assert_true(isnan(am_expf_nonpos(NAN)) && isnan(am_expf_nonpos(-NAN)));
    assert_true(am_expf_nonpos(-103.0f) > 0.0f && am_expf_nonpos(-104.0f) == 0.0f);  // last subnormal, then 0
}

// The gates' shorter exp (sigmoid, vmath.h): every 61st non-positive float, as above, where the
// result is normal within 2.5e-7 relative for x ≥ −20 (the fit's 1.05e-7 plus f32 rounding; worst
// seen 2.15e-7) and 4.5e-7 below (the one-fma reduction adds k·1.9e-9; worst seen 4.0e-7), and
// within 3 units of the subnormal spacing below FLT_MIN. The gates' bar is 1e-6 relative in f and f'.
static void test_expf_nonpos_lite(void **state) {
    (void)state;
    double worst = 0, worst_x = 0;
    for (uint64_t b = 0x80000000u; b <= 0xff800000u; b += 61) {
        float x = am_f32_from_bits((uint32_t)b), got = am_expf_nonpos_lite(x);
        double want = exp((double)x);
        int normal = want >= 0x1p-126;
        double e = normal ? fabs(got - want) / want : ulps(got, want);
        if (normal && e > worst) worst = e, worst_x = x;
        if (!(e <= (!normal ? 3.0 : x >= -20.0f ? 2.5e-7 : 4.5e-7))) {
            print_error("am_expf_nonpos_lite(%.9g) = %.9g, libm %.9g (%.3g %s)\n", x, got, want, e,
                        normal ? "relative" : "subnormal spacings");
            fail();
        }
    }
    printf("am_expf_nonpos_lite: worst %.3g relative (at %.9g)\n", worst, worst_x);
    assert_true(am_expf_nonpos_lite(-INFINITY) == 0.0f && am_expf_nonpos_lite(0.0f) == 1.0f);
    assert_true(am_expf_nonpos_lite(-0.0f) == 1.0f && isnan(am_expf_nonpos_lite(NAN)));
    assert_true(am_expf_nonpos_lite(-103.0f) > 0.0f && am_expf_nonpos_lite(-104.0f) == 0.0f);
}

// PowLU's base-2 log (powlu_math.h): e + l within 5e-8 absolute of log2 a over every positive float up to
// 1e30, subnormals included (its exponent E = m·log2 z/(1+√z) reaches −1500, and f = 2^E·σ must stay
// within 1e-6 relative); e an integer, l in [−½, ½] and a = mz·2^e exactly.
static void test_powlu_log2(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed ^ 0x1d);
    double worst = 0;
    for (int i = 0; i < 400000; i++) {
        uint32_t bits = i < 300000 ? 1u + (uint32_t)(rng_uniform_d(&rng) * 0x7149f2c9u)
                                : 0x3f000000u + (uint32_t)(rng_uniform_d(&rng) * 0x1000000u);
        float a = am_f32_from_bits(bits), e, mz, l;
        int32_t ei;
        am_powlu_log2(a, &ei, &e, &mz, &l);
        double err = fabs((double)e + (double)l - log2((double)a));
        if (err > worst) worst = err;
        if (!(err <= 5e-8) || e != rint(e) || !(fabsf(l) <= 0.5f) || ei != (int32_t)e || ldexpf(mz, ei) != a) {
            print_error("am_powlu_log2(%.9g) = %.9g + %.9g (mz %.9g), libm %.17g; seed %llu\n", a, e, l, mz,
                        log2((double)a), (unsigned long long)g_seed);
            fail();
        }
    }
    printf("am_powlu_log2: worst %.3g absolute\n", worst);
}

// 2^x·2^−40 within 1.2e-7 relative on [−0.51, 0.51], and 2^(n+40) from the rounding trick's bits.
static void test_powlu_exp2(void **state) {
    (void)state;
    double worst = 0;
    for (int i = -510000; i <= 510000; i++) {
        float x = (float)i * 1e-6f;
        double want = ldexp(exp2((double)x), -40), e = fabs(am_powlu_exp2_40(x) - want) / want;
        if (e > worst) worst = e;
        if (!(e <= 1.2e-7)) {
            print_error("am_powlu_exp2_40(%.9g) = %.9g, libm %.9g\n", x, am_powlu_exp2_40(x), want);
            fail();
        }
    }
    printf("am_powlu_exp2_40: worst %.3g relative\n", worst);
    for (int n = -166; n <= 87; n++)
        assert_true(am_powlu_scale40(am_bits_of_f32(12582912.0f + (float)n)) == ldexpf(1.0f, n + 40));
}

int main(void) {
    g_seed = test_seed("test_act_vmath");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_ncdf_matches_libm), cmocka_unit_test(test_expf_nonpos_matches_libm),
                                       cmocka_unit_test(test_expf_nonpos_lite),
                                       cmocka_unit_test(test_powlu_log2), cmocka_unit_test(test_powlu_exp2)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
