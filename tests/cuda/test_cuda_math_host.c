// test_cuda_math_host.c — the device math of the CUDA kernels (gates.cuh, polynorm_math.cuh), run on the
// host through actlab_cuda_host_eval, against the CPU reference act_forward/act_backward and the
// PowLU and PolyNorm examples of ACTIVATIONS.md. Runs without a GPU: it checks the formulas, branches, clamps and
// NaN/inf conventions of the kernels, not the accuracy of CUDA's device intrinsics (on the host
// both math policies use glibc; see docs/cuda.md).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "actlab.h"
#include "cuda/host_eval.h"
#include "cuda_test_util.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t g_seed;
static rng_t g_rng;

// Wide inputs: N(0, 2.5²) and log-uniform magnitudes 1e-6 .. 1e4 of both signs, then the edge values.
static float *inputs(size_t n, int wide) {
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        if (i < cuda_test_n_edge) {
            v[i] = cuda_test_edge[(i * 7 + (wide ? 0 : 3)) % cuda_test_n_edge];
        } else if (wide && rng_uniform(&g_rng) < 0.3f) {
            float mag = powf(10.0f, -6.0f + 10.0f * rng_uniform(&g_rng));
            v[i] = rng_uniform(&g_rng) < 0.5f ? -mag : mag;
        } else {
            v[i] = 2.5f * rng_normal(&g_rng);
        }
    }
    return v;
}

static int check_kind(act_kind kind, int fast) {
    const act_desc *d = act_desc_of(kind);
    act_spec s;
    assert_int_equal(act_spec_init(&s, d->name), 0);
    const size_t n = 20000;
    float *x = inputs(n, 1), *u = inputs(n, 0), *dy = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) dy[i] = rng_normal(&g_rng);
    float params[ACT_MAX_PARAMS] = {0};
    if (d->n_params) {
        act_params_init(kind, params);
        for (int k = 0; k < d->n_params; k++) params[k] += 0.2f * rng_normal(&g_rng);
    }
    const size_t bytes = n * sizeof(float);
    float *y0 = malloc(bytes), *dx0 = malloc(bytes), *du0 = malloc(bytes);
    float *y1 = malloc(bytes), *dx1 = malloc(bytes), *du1 = malloc(bytes);
    float dp0[ACT_MAX_PARAMS] = {0};
    double dp1[ACT_MAX_PARAMS] = {0};
    const float *ug = d->gated ? u : NULL, *pp = d->n_params ? params : NULL;
    act_forward(&s, ACT_F32, 1, n, x, ug, pp, y0);
    act_backward(&s, ACT_F32, 1, n, x, ug, pp, dy, dx0, d->gated ? du0 : NULL, dp0);
    assert_int_equal(actlab_cuda_host_eval(&s, fast, pp, n, x, ug, dy, y1, dx1, du1, dp1), 0);
    // f32 policy: a few ulps. bf16 policy on the host: exp2(y·log2 x) for PowLU's power, whose
    // error grows with |y·log2 x| (still far below bf16's 4e-3).
    const double rtol = fast ? 2e-5 : 2e-6, arel = fast ? 1e-5 : 1e-6;
    const char *variant = fast ? "bf16-policy" : "f32-policy";
    int bad = cmp_arrays("y", d->name, variant, rtol, arel, y0, y1, n, x);
    bad += cmp_arrays("dx", d->name, variant, rtol, arel, dx0, dx1, n, x);
    if (d->gated) bad += cmp_arrays("du", d->name, variant, rtol, arel, du0, du1, n, u);
    // Parameter gradients: the CPU sums 16-term f32 partials into double (src/act/polyrelu.c), the
    // host evaluation sums in double, so they differ by a few f32 ulp of the terms' sizes, not of
    // the result: over 20000 terms of either sign the result cancels (1e-5 of it alone failed 1
    // seed in 300: ACTLAB_SEED=2757161472912411568). The sizes: the backward with |dy|, which sums
    // |dy·∂y/∂p| wherever ∂y/∂p keeps its sign, as PolyReLU's powers of relu(x) do. A wrong term
    // is off by a sizeable part of that sum.
    float dpa[ACT_MAX_PARAMS] = {0};
    if (d->n_params) {
        for (size_t i = 0; i < n; i++) dy[i] = fabsf(dy[i]);
        act_backward(&s, ACT_F32, 1, n, x, ug, pp, dy, dx0, d->gated ? du0 : NULL, dpa);
    }
    for (int k = 0; k < d->n_params; k++) {
        float got = (float)dp1[k], tol = 1e-5f * (fabsf(dp0[k]) + 1.0f) + 2e-7f * fabsf(dpa[k]);
        if (!(got == dp0[k] || fabsf(got - dp0[k]) <= tol) && !(isnan(got) && isnan(dp0[k])))
            printf("  %s dparams[%d]: got %.9g, reference %.9g\n", d->name, k, got, dp0[k]), bad++;
    }
    if (bad) printf("FAIL %s %s (seed %llu)\n", d->name, variant, (unsigned long long)g_seed);
    free(x), free(u), free(dy), free(y0), free(dx0), free(du0), free(y1), free(dx1), free(du1);
    return bad;
}

static void test_against_cpu_reference(void **state) {
    (void)state;
    int bad = 0;
    for (int fast = 0; fast <= 1; fast++)
        for (int k = 0; k < ACT_COUNT; k++)
            if (k != ACT_POLYNORM) bad += check_kind((act_kind)k, fast);
    assert_int_equal(bad, 0);
}

// PolyNorm's row math (the kernels' polynorm_math.cuh) on random rows, an edge row set (huge,
// zeros, a NaN), and ACTIVATIONS.md's example row.
static void test_polynorm(void **state) {
    (void)state;
    act_spec s;
    assert_int_equal(act_spec_init(&s, "polynorm"), 0);
    const size_t rows = 6, cols = 517, n = rows * cols, bytes = n * sizeof(float);
    float *x = malloc(bytes), *dy = malloc(bytes), *y0 = malloc(bytes), *y1 = malloc(bytes);
    float *dx0 = malloc(bytes), *dx1 = malloc(bytes);
    for (size_t i = 0; i < n; i++) x[i] = 1.5f * rng_normal(&g_rng), dy[i] = rng_normal(&g_rng);
    for (size_t i = 0; i < cols; i++) {  // rows 3..5: huge values, zeros and tiny, one NaN
        x[3 * cols + i] = i % 3 ? 3.0f : (i % 2 ? -1e15f : 1e20f);
        x[4 * cols + i] = i % 2 ? 0.0f : 1e-30f;
        x[5 * cols + i] = i == 17 ? NAN : 1.0f;
    }
    float w[4];
    act_params_init(ACT_POLYNORM, w);
    for (int k = 0; k < 4; k++) w[k] += 0.2f * rng_normal(&g_rng);
    float dp0[4] = {0};
    double dp1[4] = {0};
    act_forward(&s, ACT_F32, rows, cols, x, NULL, w, y0);
    act_backward(&s, ACT_F32, rows, cols, x, NULL, w, dy, dx0, NULL, dp0);
    actlab_cuda_host_eval_polynorm(w, rows, cols, x, dy, y1, dx1, dp1);
    // The CPU's row pass is f32 with fmaf (src/act/polynorm.c, double only for the row sums and rows
    // it cannot handle in f32), the host evaluation double: y = Σ w_k·x^k/rms_k cancels to ~1e-3 of
    // its unit-sized terms on some elements, where one f32 ulp of the terms is 1e-4 of y, so the
    // floor is 1e-6 of the rms (1e-7 failed ~5% of seeds with the f32 pass); parameter gradients 1e-5
    // as above. A wrong formula is off by O(1).
    int bad = cmp_arrays("y", "polynorm", "host", 2e-6, 1e-6, y0, y1, n, x);
    bad += cmp_arrays("dx", "polynorm", "host", 2e-6, 1e-6, dx0, dx1, n, x);
    for (int k = 0; k < 4; k++) {
        float got = (float)dp1[k];
        if (!(got == dp0[k] || fabsf(got - dp0[k]) <= 1e-5f * (fabsf(dp0[k]) + 1.0f)) && !(isnan(got) && isnan(dp0[k])))
            printf("  polynorm dparams[%d]: got %.9g, reference %.9g\n", k, got, dp0[k]), bad++;
    }
    // ACTIVATIONS.md: w = (1/3, 1/3, 1/3), b = 0 on (0.5, −1, 2, −0.25).
    const float ex[4] = {0.5f, -1.0f, 2.0f, -0.25f}, want[4] = {0.19529910f, -0.21054471f, 1.88542090f, -0.06351603f};
    const float w3[4] = {1.0f / 3, 1.0f / 3, 1.0f / 3, 0.0f}, g0[4] = {0};
    float ey[4], edx[4];
    double edp[4] = {0};
    actlab_cuda_host_eval_polynorm(w3, 1, 4, ex, g0, ey, edx, edp);
    bad += cmp_arrays("y (spec example)", "polynorm", "host", 1e-6, 0, want, ey, 4, ex);
    if (bad) printf("FAIL polynorm host (seed %llu)\n", (unsigned long long)g_seed);
    free(x), free(dy), free(y0), free(y1), free(dx0), free(dx1);
    assert_int_equal(bad, 0);
}

// ACTIVATIONS.md's float64 table of PowLU's gate for m = 3: f through y = u·f(z) with u = 1, f'
// through dz with dy = 1. f' near the peak (12.9) cancels, so it is held to 1e-6·|f|.
static void test_powlu_table(void **state) {
    (void)state;
    static const double tab[][3] = {
        {-5, -0.03346425462, -0.02654743243}, {-1, -0.2689414214, 0.07232948813}, {0, 0, 0.5},
        {0.001, 9.442086344e-10, 3.036974293e-06}, {0.5, 0.1841166717, 0.809527205},
        {1, 0.7310585786, 1.293199801}, {2, 2.084241245, 1.280524441}, {4, 3.92805516, 0.5988778883},
        {12.9, 5.316338125, -2.687061488e-05}, {50, 4.280591674, -0.02271000423},
        {100, 3.511191734, -0.01046902522}, {10000, 1.314655253, -1.38998413e-05}};
    const size_t n = sizeof tab / sizeof tab[0];
    act_spec s;
    assert_int_equal(act_spec_init(&s, "powlu"), 0);
    assert_int_equal(s.hp[0], 3.0f);
    int bad = 0;
    for (int fast = 0; fast <= 1; fast++)
        for (size_t i = 0; i < n; i++) {
            float z = (float)tab[i][0], one = 1.0f, y, dz, du;
            assert_int_equal(actlab_cuda_host_eval(&s, fast, NULL, 1, &z, &one, &one, &y, &dz, &du, NULL), 0);
            // z is rounded to f32 (12.9f ≠ 12.9): allow f'(z)·Δz on top of the relative error.
            const double dzr = fabs((double)z - tab[i][0]), tol = fast ? 2e-6 : 5e-7;
            const double ef = fabs(y - tab[i][1]), edf = fabs(dz - tab[i][2]);
            if (ef > tol * fabs(tab[i][1]) + fabs(tab[i][2]) * dzr + 1e-30 ||
                edf > tol * (fabs(tab[i][2]) + fabs(tab[i][1])) + 1e-30) {
                printf("  powlu %s z=%g: f %.10g (table %.10g), f' %.10g (table %.10g)\n", fast ? "fast" : "accurate",
                       tab[i][0], y, tab[i][1], dz, tab[i][2]);
                bad++;
            }
        }
    assert_int_equal(bad, 0);
}

int main(void) {
    g_seed = cuda_test_seed(&g_rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_cpu_reference),
        cmocka_unit_test(test_powlu_table),
        cmocka_unit_test(test_polynorm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
