// test_report_fit.c — the scaling-law fit recovers known A, α, E from synthetic points (exactly
// without noise; within a few of its own standard errors with noise), on fresh random parameters
// each run (seed printed; ACTLAB_SEED replays).
#include "report/report_fit.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const double SIZES[8] = {1e4, 2.2e4, 5e4, 1.1e5, 2.6e5, 6e5, 1.3e6, 3e6};

static void truth(rng_t *r, double *A, double *alpha, double *E) {
    *alpha = 0.15 + 0.6 * rng_uniform_d(r);
    *E = 1.5 + 2.0 * rng_uniform_d(r);
    // choose A so that the reducible part at the smallest size is 0.5..3 (a visible curve)
    *A = (0.5 + 2.5 * rng_uniform_d(r)) * pow(SIZES[0], *alpha);
}

static void test_exact(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_fit exact"));
    for (int trial = 0; trial < 20; trial++) {
        double A, alpha, E, L[8];
        truth(&r, &A, &alpha, &E);
        for (int i = 0; i < 8; i++) L[i] = A * pow(SIZES[i], -alpha) + E;
        rp_fit f;
        assert_true(rp_fit_power(SIZES, L, 8, &f));
        assert_false(f.edge);
        assert_true(fabs(f.alpha - alpha) < 1e-6);
        assert_true(fabs(f.E - E) < 1e-6);
        assert_true(fabs(f.A - A) / A < 1e-5);
        assert_true(f.rss < 1e-18);
        assert_true(fabs(rp_fit_eval(&f, 7e4) - (A * pow(7e4, -alpha) + E)) < 1e-9);
    }
}

static void test_noisy(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed("test_report_fit noisy"));
    int within = 0, trials = 40;
    for (int trial = 0; trial < trials; trial++) {
        double A, alpha, E, L[8];
        truth(&r, &A, &alpha, &E);
        for (int i = 0; i < 8; i++) L[i] = A * pow(SIZES[i], -alpha) + E + 0.002 * rng_normal(&r);
        rp_fit f;
        assert_true(rp_fit_power(SIZES, L, 8, &f));
        assert_true(isfinite(f.salpha) && isfinite(f.sE) && isfinite(f.sA));
        assert_true(f.salpha > 0 && f.sE > 0);
        // the estimate is close in absolute terms ...
        assert_true(fabs(f.alpha - alpha) < 0.25);
        assert_true(fabs(f.E - E) < 0.25);
        // ... and its standard errors mean something: most truths lie within 3 of them
        within += fabs(f.alpha - alpha) < 3 * f.salpha && fabs(f.E - E) < 3 * f.sE;
        // the fitted curve goes through the points to about the noise
        assert_true(sqrt(f.rss / 8) < 0.004);
    }
    printf("noisy fit: %d of %d truths within 3 standard errors\n", within, trials);
    assert_true(within >= trials * 3 / 4);
}

static void test_uncertainty_undefined_at_three_points(void **state) {
    (void)state;
    double N[3] = {1e4, 1e5, 1e6}, L[3];
    for (int i = 0; i < 3; i++) L[i] = 40 * pow(N[i], -0.3) + 2;
    rp_fit f;
    assert_true(rp_fit_power(N, L, 3, &f));
    assert_true(fabs(f.alpha - 0.3) < 1e-6);
    assert_true(isnan(f.salpha) && isnan(f.sA) && isnan(f.sE));
}

static void test_degenerate(void **state) {
    (void)state;
    double N[4] = {1e5, 1e5, 1e5, 1e5}, L[4] = {3, 3.1, 2.9, 3};
    rp_fit f;
    assert_false(rp_fit_power(N, L, 4, &f));   // one size: nothing to fit
    double N2[4] = {1e4, 1e5, -1, 1e6};
    assert_false(rp_fit_power(N2, L, 4, &f));
    assert_false(rp_fit_power(N, L, 2, &f));
    // points on a straight line in log N bend nowhere: α runs to the edge and the fit says so
    double N3[5] = {1e4, 1e5, 1e6, 1e7, 1e8}, L3[5] = {5, 4, 3, 2, 1};
    if (rp_fit_power(N3, L3, 5, &f)) assert_true(f.edge);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_noisy),
        cmocka_unit_test(test_uncertainty_undefined_at_three_points),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
