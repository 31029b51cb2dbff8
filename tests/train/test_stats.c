// test_stats.c — quantiles against a full sort, moments on known distributions, row cosines.
#include "train/stats.h"
#include "util/rng.h"
#include "testutil.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

static int cmpf(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double ref_quantile(const float *sorted, size_t n, double q) {
    double pos = q * (double)(n - 1);
    size_t k = (size_t)floor(pos);
    if (k + 1 >= n) return sorted[n - 1];
    return sorted[k] + (pos - (double)k) * ((double)sorted[k + 1] - sorted[k]);
}

// Many sizes, including heavy ties (values drawn from a handful of integers).
static void test_quantiles_exact(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 1 + rng_u64(&r) % 3000;
        int ties = trial % 3 == 0;
        float *x = malloc(n * sizeof(float)), *s = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) x[i] = s[i] = ties ? (float)(rng_u64(&r) % 5) : rng_normal(&r);
        qsort(s, n, sizeof(float), cmpf);
        tensor_stats st;
        stats_compute(x, n, &st);
        assert_true(st.min == s[0] && st.max == s[n - 1]);
        assert_true(fabs(st.p1 - ref_quantile(s, n, 0.01)) <= 1e-6 * (1 + fabs(st.p1)));
        assert_true(fabs(st.p99 - ref_quantile(s, n, 0.99)) <= 1e-6 * (1 + fabs(st.p99)));
        assert_true(fabs(st.p50 - ref_quantile(s, n, 0.50)) <= 1e-6 * (1 + fabs(st.p50)));
        assert_true(fabs(st.p999 - ref_quantile(s, n, 0.999)) <= 1e-6 * (1 + fabs(st.p999)));
        assert_int_equal(st.n_quantile, n);
        free(x);
        free(s);
    }
}

static void test_moments_known_distributions(void **state) {
    (void)state;
    size_t n = 1 << 20;
    float *x = malloc(n * sizeof(float));
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    tensor_stats st;
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * rng_normal(&r);
    stats_compute(x, n, &st);
    assert_true(fabs(st.kurtosis - 3.0) < 0.05);   // Gaussian
    assert_true(fabs(st.rms - 2.0) < 0.01);
    assert_true(fabs(st.p99 - 2.0 * 2.3263) < 0.03);  // z(0.99) = 2.3263
    assert_true(fabs(st.p1 + 2.0 * 2.3263) < 0.03);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform(&r) * 2 - 1;
    stats_compute(x, n, &st);
    assert_true(fabs(st.kurtosis - 1.8) < 0.02);   // uniform: 9/5
    assert_true(fabs(st.rms - 1 / sqrt(3.0)) < 0.003);
    assert_true(fabs(st.p99 - 0.98) < 0.005);
    free(x);
}

static void test_nonfinite_left_out(void **state) {
    (void)state;
    float x[6] = {1, NAN, -3, INFINITY, 2, -INFINITY};
    tensor_stats st;
    stats_compute(x, 6, &st);
    assert_int_equal(st.n_nonfinite, 3);
    assert_true(st.min == -3 && st.max == 2 && st.amax == 3);
    assert_true(isfinite(st.p1) && isfinite(st.p99) && isfinite(st.kurtosis));
    float c[3] = {5, 5, 5};
    stats_compute(c, 3, &st);
    assert_true(st.kurtosis == 0 && st.p1 == 5 && st.p99 == 5);
}

// Above STATS_EXACT_MAX the quantiles come from a strided subset: on a random permutation of a
// ramp they stay within a few grid steps of the exact answer.
static void test_strided_quantiles(void **state) {
    (void)state;
    size_t n = STATS_EXACT_MAX * 2 + 7;
    float *x = malloc(n * sizeof(float));
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    for (size_t i = 0; i < n; i++) x[i] = (float)i / (float)n;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng_u64(&r) % (i + 1);
        float t = x[i]; x[i] = x[j]; x[j] = t;
    }
    tensor_stats st;
    stats_compute(x, n, &st);
    assert_true(st.n_quantile < n && st.n_quantile >= STATS_EXACT_MAX / 2);
    assert_true(fabs(st.p1 - 0.01) < 2e-3 && fabs(st.p99 - 0.99) < 2e-3);
    assert_true(st.min == 0.0f);  // min/max/moments always use every element
    free(x);
}

// Against a count done here, on random data with ties at the threshold and non-finite values.
static void test_frac_above(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed(__func__));
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 1 + rng_u64(&r) % 2000, finite = 0, above = 0;
        float *x = malloc(n * sizeof(float)), thr = (float)(rng_u64(&r) % 5);
        for (size_t i = 0; i < n; i++) {
            unsigned k = (unsigned)(rng_u64(&r) % 10);
            x[i] = k == 0 ? NAN : k == 1 ? INFINITY : (float)(rng_u64(&r) % 8);
            if (isfinite(x[i])) finite++, above += x[i] > thr;
        }
        double want = finite ? (double)above / (double)finite : 0;
        assert_true(stats_frac_above(x, n, thr) == want);
        free(x);
    }
    float none[2] = {NAN, NAN};
    assert_true(stats_frac_above(none, 2, 0) == 0);
}

static void test_row_cosine(void **state) {
    (void)state;
    float a[6] = {1, 2, 3, 1, 0, 0}, b[6] = {-2, -4, -6, 0, 5, 0};
    // row 0 anti-parallel (|cos| 1), row 1 orthogonal (0)
    assert_float_equal(stats_mean_abs_row_cosine(a, b, 2, 3), 0.5, 1e-12);
    float z[3] = {0, 0, 0};
    assert_float_equal(stats_mean_abs_row_cosine(a, z, 1, 3), 0.0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles_exact),
        cmocka_unit_test(test_moments_known_distributions),
        cmocka_unit_test(test_nonfinite_left_out),
        cmocka_unit_test(test_strided_quantiles),
        cmocka_unit_test(test_frac_above),
        cmocka_unit_test(test_row_cosine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
