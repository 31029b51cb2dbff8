// test_act_reference.c — the reference values of ACTIVATIONS.md, for the double reference (tight)
// and for the f32 kernels (≤ 1e-6 relative, plus the error that rounding z to f32 itself causes).
#include "refimpl.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

// z, f(z), f'(z) for m = 3, from the spec.
static const double POWLU_TABLE[][3] = {
    {-5, -0.03346425462, -0.02654743243}, {-1, -0.2689414214, 0.07232948813}, {0, 0, 0.5},
    {0.001, 9.442086344e-10, 3.036974293e-06}, {0.5, 0.1841166717, 0.809527205}, {1, 0.7310585786, 1.293199801},
    {2, 2.084241245, 1.280524441}, {4, 3.92805516, 0.5988778883}, {12.9, 5.316338125, -2.687061488e-05},
    {50, 4.280591674, -0.02271000423}, {100, 3.511191734, -0.01046902522}, {10000, 1.314655253, -1.38998413e-05},
};
#define N_POWLU (sizeof POWLU_TABLE / sizeof POWLU_TABLE[0])

// Central difference with one Richardson step: O(h^4) truncation. h relative to |x|.
static double fd_deriv(const act_spec *s, double x) {
    double h = 1e-4 * fmax(fabs(x), 1e-3);
    double d1 = (ref_gate(s, NULL, x + h) - ref_gate(s, NULL, x - h)) / (2 * h);
    double d2 = (ref_gate(s, NULL, x + h / 2) - ref_gate(s, NULL, x - h / 2)) / h;
    return (4 * d2 - d1) / 3;
}

static void check_close(const char *what, double got, double want, double tol) {
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: got %.12g want %.12g (|diff| %.3g > tol %.3g)\n", what, got, want, fabs(got - want), tol);
        fail();
    }
}

static void test_powlu_reference_is_right(void **state) {
    (void)state;
    act_spec s;
    act_spec_init(&s, "powlu");
    for (size_t i = 0; i < N_POWLU; i++) {
        double z = POWLU_TABLE[i][0], f = POWLU_TABLE[i][1], df = POWLU_TABLE[i][2];
        char what[64];
        snprintf(what, sizeof what, "ref f(%g)", z);
        check_close(what, ref_gate(&s, NULL, z), f, 2e-9 * fabs(f) + 1e-15);
        if (z == 0) continue;  // a kink: the table gives the SiLU side, checked on the kernel below
        snprintf(what, sizeof what, "ref f'(%g) by finite differences", z);
        check_close(what, fd_deriv(&s, z), df, 1e-7 * fabs(df) + 1e-12);
    }
}

// The kernel sees (float)z; the table is at z. The difference z − (float)z moves f by about
// f'·Δz and f' by about f''·Δz (f'' from the reference), which is added to the 1e-6 budget.
static void test_powlu_kernel_matches_table(void **state) {
    (void)state;
    act_spec s;
    act_spec_init(&s, "powlu");
    for (size_t i = 0; i < N_POWLU; i++) {
        double z = POWLU_TABLE[i][0], f = POWLU_TABLE[i][1], df = POWLU_TABLE[i][2];
        float zf = (float)z, kf, kdf;
        assert_int_equal(act_curve(&s, NULL, 1, &zf, &kf, &kdf), 0);
        double dz = fabs((double)zf - z);
        double d2 = z == 0 ? 0 : fabs(fd_deriv(&s, z + 1e-3 * fmax(fabs(z), 1e-3)) - fd_deriv(&s, z - 1e-3 * fmax(fabs(z), 1e-3))) /
                                 (2e-3 * fmax(fabs(z), 1e-3));
        char what[64];
        snprintf(what, sizeof what, "kernel f(%g)", z);
        check_close(what, kf, f, 1e-6 * fabs(f) + 2 * fabs(df) * dz + 1e-30);
        snprintf(what, sizeof what, "kernel f'(%g)", z);
        check_close(what, kdf, df, 1e-6 * fabs(df) + 2 * d2 * dz + 1e-30);
        // And against the reference at exactly the kernel's input: 1e-6 relative, no allowance.
        if (z != 0) {
            snprintf(what, sizeof what, "kernel f'(%.9g) vs ref at the same input", (double)zf);
            check_close(what, kdf, fd_deriv(&s, zf), 1e-6 * fabs(df) + 1e-13);
            snprintf(what, sizeof what, "kernel f(%.9g) vs ref at the same input", (double)zf);
            check_close(what, kf, ref_gate(&s, NULL, zf), 1e-6 * fabs(f) + 1e-30);
        }
    }
}

// The gate's peak near z ≈ 12.9: 3.0461 (m=2), 5.3163 (m=3), 9.2786 (m=4), as the spec states.
static void test_powlu_peak_per_m(void **state) {
    (void)state;
    const double m[3] = {2, 3, 4}, peak[3] = {3.0461, 5.3163, 9.2786};
    enum { N = 4001 };
    static float z[N], f[N], df[N];
    for (int i = 0; i < N; i++) z[i] = 10.0f + 6.0f * (float)i / (N - 1);
    for (int k = 0; k < 3; k++) {
        act_spec s;
        act_spec_init(&s, "powlu");
        assert_int_equal(act_spec_set(&s, "m", (float)m[k]), 0);
        act_curve(&s, NULL, N, z, f, df);
        int best = 0;
        for (int i = 1; i < N; i++)
            if (f[i] > f[best]) best = i;
        check_close("peak value", f[best], peak[k], 1e-4);
        check_close("peak position", z[best], 12.9, 0.1);
    }
}

// f and f' of the gate straight from the spec's formulas in double, for z > 0: f = z^a·σ(z),
// f' = f·(a/z + a'·ln z + (1 − σ)), a = m/(√z+1), a' = −m/(2√z(√z+1)²). f'·(z > 0) cancels near
// the peak (to ~1e-16 of its terms, far below the tolerances below).
static void spec_powlu(double z, double m, double *f, double *df) {
    double r = sqrt(z), a = m / (r + 1), ap = -m / (2 * r * (r + 1) * (r + 1)), s = 1 / (1 + exp(-z));
    *f = pow(z, a) * s;
    *df = *f * (a / z + ap * log(z) + (1 - s));
}

// Tolerance for an f32 result against its double value v: 1e-6 relative where v is a normal f32;
// where it is not, the subnormal spacing 2^−149 (underflow to 0 or the nearest subnormals).
static int powlu_close(double got, double want, double rel_floor) {
    if (fabs(want) >= 0x1p-126) return fabs(got - want) <= 1e-6 * fabs(want) + rel_floor;
    return fabs(got - want) <= 0x1p-149 + 1e-6 * fabs(want);
}

// Tiny positive z: f ≈ ½·z^m and f' ≈ ½·m·z^(m−1) span the whole f32 range (f' ≈ 2.5e19 at z = 1e-40,
// m = 0.5), with 1/z beyond it and z itself subnormal.
static void test_powlu_tiny_z(void **state) {
    (void)state;
    const float m[4] = {0.5f, 1.0f, 2.0f, 3.0f};
    float z[6] = {1e-35f, 1e-38f, 1e-40f, 1e-30f, 3e-31f, 1.4e-45f}, f[6], df[6];
    for (int k = 0; k < 4; k++) {
        act_spec s;
        act_spec_init(&s, "powlu");
        assert_int_equal(act_spec_set(&s, "m", m[k]), 0);
        act_curve(&s, NULL, 6, z, f, df);
        for (int i = 0; i < 6; i++) {
            double wf, wdf;
            spec_powlu(z[i], m[k], &wf, &wdf);
            if (!powlu_close(f[i], wf, 0) || !powlu_close(df[i], wdf, 0)) {
                print_error("powlu m=%g z=%g: f %.9g want %.9g, f' %.9g want %.9g\n", m[k], z[i], f[i], wf, df[i], wdf);
                fail();
            }
        }
    }
}

// A sweep over every magnitude (2^−149 … 1e30, log-spaced) and the peak region, for m from 0.5 to 10:
// f and f' to 1e-6 relative (f' near its zero at the peak to 1e-9 of f), subnormal results to 2^−149.
static void test_powlu_sweep(void **state) {
    (void)state;
    enum { N = 24000 };
    static float z[N], f[N], df[N];
    for (int i = 0; i < N; i++)
        z[i] = i < 20000 ? (float)exp2(-149.0 + 248.6 * i / 19999) : 10.0f + 6.0f * (float)(i - 20000) / 3999;
    const float m[6] = {0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 10.0f};
    for (int k = 0; k < 6; k++) {
        act_spec s;
        act_spec_init(&s, "powlu");
        assert_int_equal(act_spec_set(&s, "m", m[k]), 0);
        act_curve(&s, NULL, N, z, f, df);
        for (int i = 0; i < N; i++) {
            double wf, wdf;
            spec_powlu(z[i], m[k], &wf, &wdf);
            if (!powlu_close(f[i], wf, 0) || !powlu_close(df[i], wdf, 1e-9 * fabs(wf))) {
                print_error("powlu m=%g z=%.9g: f %.9g want %.9g, f' %.9g want %.9g\n", m[k], z[i], f[i], wf, df[i],
                            wdf);
                fail();
            }
        }
    }
}

// The scalar form is monotone for m = 3 and grows linearly: x·f(x)/x = f(x) → 1 as x → ∞.
static void test_powlu_scalar_shape(void **state) {
    (void)state;
    act_spec s;
    act_spec_init(&s, "powlu_scalar");
    enum { N = 20001 };
    static float x[N], f[N], df[N];
    for (int i = 0; i < N; i++) x[i] = -20.0f + 1020.0f * (float)i / (N - 1);
    act_curve(&s, NULL, N, x, f, df);
    int minpos = 0;  // for x ≤ 0 the scalar form is x²σ(x) ≥ 0, minimal at 0; from there on it must rise
    for (int i = 0; i < N; i++)
        if (x[i] >= 0 && minpos == 0) minpos = i;
    for (int i = minpos + 1; i < N; i++) assert_true(f[i] >= f[i - 1]);
    float big = 1e7f, fb, dfb;
    act_curve(&s, NULL, 1, &big, &fb, &dfb);
    check_close("scalar form f(x)/x at 1e7", fb / big, 1.0, 0.02);
}

static void run_row(const char *name, const float *x, const float *u, int n, const float *want, double rtol) {
    act_spec s;
    act_spec_init(&s, name);
    float params[ACT_MAX_PARAMS], y[8];
    act_params_init(s.kind, params);
    act_forward(&s, ACT_F32, 1, (size_t)n, x, u, params, y);
    double px[8], pu[8], py[8], pp[4] = {params[0], params[1], params[2], params[3]};
    for (int i = 0; i < n; i++) px[i] = x[i], pu[i] = u ? u[i] : 0;
    ref_forward(&s, pp, 1, (size_t)n, px, u ? pu : NULL, py);
    for (int i = 0; i < n; i++) {
        char what[80];
        snprintf(what, sizeof what, "%s[%d] kernel", name, i);
        check_close(what, y[i], want[i], rtol * fabs(want[i]) + 1e-12);
        snprintf(what, sizeof what, "%s[%d] reference", name, i);
        check_close(what, py[i], want[i], 1e-7 * fabs(want[i]) + 1e-12);
    }
}

static void test_polycom_examples(void **state) {
    (void)state;
    const float x[4] = {0.5f, -1.0f, 2.0f, -0.25f};
    const float polynorm[4] = {0.19529910f, -0.21054471f, 1.88542090f, -0.06351603f};
    const float polyrelu[4] = {0.29166667f, 0.0f, 4.66666667f, 0.0f};
    run_row("polynorm", x, NULL, 4, polynorm, 1e-6);
    run_row("polyrelu", x, NULL, 4, polyrelu, 1e-6);
}

static void test_swiglu_clip_examples(void **state) {
    (void)state;
    const float z[3] = {1, 10, -3}, u[3] = {2, -9, 0.5f};
    const float want[3] = {2.5373873f, -41.999719f, -0.027106965f};
    run_row("swiglu_clip", z, u, 3, want, 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powlu_reference_is_right), cmocka_unit_test(test_powlu_kernel_matches_table),
        cmocka_unit_test(test_powlu_peak_per_m),         cmocka_unit_test(test_powlu_scalar_shape),
        cmocka_unit_test(test_powlu_tiny_z),             cmocka_unit_test(test_powlu_sweep),
        cmocka_unit_test(test_polycom_examples),         cmocka_unit_test(test_swiglu_clip_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
