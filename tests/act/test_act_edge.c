// test_act_edge.c — edge inputs for every activation: ±0, subnormals, ±1e30, ±FLT_MAX, ±inf, NaN;
// PowLU's tiny positive z and its branch point; PolyNorm's rows of zeros and rows of length 1;
// bf16 storage on edge inputs.
#include "actlab.h"

#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

static const float FINITE_EDGES[] = {0.0f, -0.0f, 1.4e-45f, -1.4e-45f, 1.17e-38f, -1.17e-38f, 1e-30f, -1e-30f,
                                     1e-3f, -1e-3f, 1.0f, -1.0f, 7.0f, -7.0f, 12.9f, -12.9f, 100.0f, -100.0f,
                                     1e30f, -1e30f, FLT_MAX, -FLT_MAX};
#define N_EDGES (int)(sizeof FINITE_EDGES / sizeof FINITE_EDGES[0])
static const float VALUES[] = {0.0f, 1.0f, -3.0f, 1e30f};  // value inputs u of gated activations
#define N_VALUES 4

static int has_nan(const float *a, int n) {
    for (int i = 0; i < n; i++)
        if (isnan(a[i])) return 1;
    return 0;
}

// Runs forward and backward (dy = 1) on n inputs laid out as one row.
static void run(const act_spec *s, const float *x, const float *u, int n, float *y, float *dx, float *du) {
    const act_desc *d = act_desc_of(s->kind);
    float params[ACT_MAX_PARAMS], dparams[ACT_MAX_PARAMS] = {0}, ones[64];
    for (int i = 0; i < n; i++) ones[i] = 1.0f;
    act_params_init(s->kind, params);
    act_forward(s, ACT_F32, 1, (size_t)n, x, d->gated ? u : NULL, params, y);
    act_backward(s, ACT_F32, 1, (size_t)n, x, d->gated ? u : NULL, params, ones, dx, d->gated ? du : NULL, dparams);
}

// Every finite edge input, placed in one array so the vector lanes see mixed branches, for every
// finite value input: no NaN anywhere (overflow to ±inf is allowed: FLT_MAX² has no finite answer).
static void test_finite_inputs_never_give_nan(void **state) {
    (void)state;
    for (int k = 0; k < ACT_COUNT; k++) {
        act_spec s;
        act_spec_init(&s, act_desc_of((act_kind)k)->name);
        for (int v = 0; v < N_VALUES; v++) {
            float u[N_EDGES], y[N_EDGES], dx[N_EDGES], du[N_EDGES];
            for (int i = 0; i < N_EDGES; i++) u[i] = VALUES[v];
            if (s.kind == ACT_POLYNORM) {  // one element per row: a row's statistic couples it
                for (int i = 0; i < N_EDGES; i++) run(&s, &FINITE_EDGES[i], NULL, 1, &y[i], &dx[i], &du[i]);
            } else {
                run(&s, FINITE_EDGES, u, N_EDGES, y, dx, du);
            }
            for (int i = 0; i < N_EDGES; i++) {
                if (isnan(y[i]) || isnan(dx[i]) || (act_desc_of(s.kind)->gated && isnan(du[i]))) {
                    print_error("%s: NaN from finite input x=%g u=%g (y %g dx %g du %g)\n", act_desc_of(s.kind)->name,
                                FINITE_EDGES[i], u[i], y[i], dx[i], du[i]);
                    fail();
                }
            }
        }
    }
}

static void test_nan_in_nan_out(void **state) {
    (void)state;
    for (int k = 0; k < ACT_COUNT; k++) {
        act_spec s;
        act_spec_init(&s, act_desc_of((act_kind)k)->name);
        const act_desc *d = act_desc_of(s.kind);
        float x[5] = {1.0f, NAN, -2.0f, 3.0f, -NAN}, u[5] = {1, 1, 1, 1, 1}, y[5], dx[5], du[5];
        run(&s, x, u, 5, y, dx, du);
        if (!isnan(y[1]) || !isnan(y[4]) || !isnan(dx[1]) || !isnan(dx[4])) {
            print_error("%s: NaN input did not give NaN (y %g %g, dx %g %g)\n", d->name, y[1], y[4], dx[1], dx[4]);
            fail();
        }
        if (d->gated) {  // NaN in the value input
            float z[3] = {1.0f, 2.0f, -1.0f}, v[3] = {1.0f, NAN, 2.0f};
            run(&s, z, v, 3, y, dx, du);
            assert_true(isnan(y[1]));
            assert_false(isnan(y[0]) || isnan(y[2]));
        }
    }
}

typedef struct {
    const char *name;
    float x, f, df;  // gate g(z) for gated (u = 1, or 0 for swiglu_clip whose value is u+1)
} limit_case;

static void test_infinities_give_limits(void **state) {
    (void)state;
    const limit_case cases[] = {
        {"relu", INFINITY, INFINITY, 1}, {"relu", -INFINITY, 0, 0},     {"relu2", -INFINITY, 0, 0},
        {"silu", -INFINITY, 0, 0},       {"silu", INFINITY, INFINITY, 1}, {"gelu", -INFINITY, 0, 0},
        {"gelu", INFINITY, INFINITY, 1}, {"gelu_erf", -INFINITY, 0, 0}, {"gelu_erf", INFINITY, INFINITY, 1},
        {"swiglu", -INFINITY, 0, 0},     {"powlu", -INFINITY, 0, 0},    {"powlu", INFINITY, 1, 0},
        {"powlu_scalar", -INFINITY, 0, 0}, {"powlu_scalar", INFINITY, INFINITY, 1},
        {"swiglu_clip", INFINITY, 6.999953f, 0},  // 7·σ(1.702·7)
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        act_spec s;
        act_spec_init(&s, cases[c].name);
        float f, df;
        act_curve(&s, NULL, 1, &cases[c].x, &f, &df);
        int ok = isinf(cases[c].f) ? f == cases[c].f : fabsf(f - cases[c].f) <= 1e-5f;
        ok &= fabsf(df - cases[c].df) <= 1e-30f;
        if (!ok) {
            print_error("%s(%g): got f %g f' %g, want %g %g\n", cases[c].name, cases[c].x, f, df, cases[c].f, cases[c].df);
            fail();
        }
    }
}

// Tiny positive z: f underflows while a/z and ln z blow up; the product must not be 0·inf.
static void test_powlu_tiny_positive_and_zero(void **state) {
    (void)state;
    act_spec s;
    act_spec_init(&s, "powlu");
    float z[9] = {1.4e-45f, 1e-42f, 1e-38f, 1e-30f, 1e-20f, 1e-10f, 1e-6f, 0.0f, -0.0f}, f[9], df[9];
    act_curve(&s, NULL, 9, z, f, df);
    for (int i = 0; i < 7; i++) {
        assert_false(isnan(f[i]) || isnan(df[i]) || isinf(f[i]) || isinf(df[i]));
        assert_true(f[i] >= 0.0f && df[i] >= 0.0f);
    }
    // The branch point: value 0 and derivative 0.5 (the SiLU side), for +0 and −0.
    assert_true(f[7] == 0.0f && df[7] == 0.5f && f[8] == 0.0f && df[8] == 0.5f);
    // Right of 0 the gate is flat to first order (right derivative 0 for m > 1).
    assert_true(df[5] < 1e-6f);
}

static void test_polynorm_zero_rows_and_length_one(void **state) {
    (void)state;
    act_spec s;
    act_spec_init(&s, "polynorm");
    float w[4] = {0.2f, -0.3f, 0.5f, 0.25f}, dw[4] = {0}, x[6] = {0}, dy[6] = {1, 2, 3, 4, 5, 6}, y[6], dx[6];
    act_forward(&s, ACT_F32, 2, 3, x, NULL, w, y);  // rows of zeros: only the bias remains
    for (int i = 0; i < 6; i++) assert_true(y[i] == 0.25f);
    act_backward(&s, ACT_F32, 2, 3, x, NULL, w, dy, dx, NULL, dw);
    assert_false(has_nan(dx, 6) || has_nan(dw, 4));
    // Length 1: N(v) = v/√(v²+ε), d/dv = ε/(v²+ε)^(3/2), so dx = Σ_p w_p·p·x^(p−1)·ε/(x^(2p)+ε)^(3/2).
    const float xs[4] = {0.5f, -2.0f, 1e-4f, 30.0f};
    for (int i = 0; i < 4; i++) {
        double xv = xs[i], want_y = 0.25, want_dx = 0;
        for (int p = 1; p <= 3; p++) {
            double vp = pow(xv, p), wp = w[3 - p], e = 1e-6;
            want_y += wp * vp / sqrt(vp * vp + e);
            want_dx += wp * p * pow(xv, p - 1) * e / pow(vp * vp + e, 1.5);
        }
        float yy, dd, one = 1.0f, dw1[4] = {0};
        act_forward(&s, ACT_F32, 1, 1, &xs[i], NULL, w, &yy);
        act_backward(&s, ACT_F32, 1, 1, &xs[i], NULL, w, &one, &dd, NULL, dw1);
        assert_true(fabs(yy - want_y) <= 1e-6 * fabs(want_y) + 1e-7);
        assert_true(fabs(dd - want_dx) <= 1e-5 * fabs(want_dx) + 1e-7);
    }
}

// bf16 bits b against the f32 result f rounded: equal, or both NaN (a NaN's sign and payload are
// no part of the result: powlu_scalar's bf16 loop, vectorised differently, flips a NaN's sign).
static int same_bf16(uint16_t b, float f) {
    return isnan(f) ? (b & 0x7fffu) > 0x7f80u : b == num_f32_to_bf16(f);
}

// bf16 storage on edge inputs (NaN payloads, ±inf, subnormals, the exp's underflow region; 78
// elements, so the last 16-lane block is partial) equals the f32 computation on the widened inputs
// rounded with num_f32_to_bf16, bit for bit (NaN: a NaN). The exp-heavy gates round through their
// own staging code (dispatch.c), which must agree with num_f32_to_bf16 on inf and subnormal results
// too.
static void test_bf16_edges_round_like_f32(void **state) {
    (void)state;
    static const uint16_t E[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x007f, 0x0080, 0x8080, 0x3f80, 0xbf80,
                                 0x40e0, 0xc0e0, 0x4148, 0xc2c8, 0xc34f, 0x7149, 0xf149, 0x7f7f, 0xff7f,
                                 0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x7f81, 0x42d0, 0xc2d0, 0xc2ae};
    enum { NE = sizeof E / sizeof E[0], N = 3 * NE };
    uint16_t xb[N], ub[N], dyb[N], yb[N], dxb[N], dub[N];
    float x[N], u[N], dy[N], y[N], dx[N], du[N];
    for (int i = 0; i < N; i++) {
        xb[i] = E[i % NE], ub[i] = E[(i * 7 + 3) % NE], dyb[i] = E[(i * 5 + 1) % NE];
        x[i] = num_bf16_to_f32(xb[i]), u[i] = num_bf16_to_f32(ub[i]), dy[i] = num_bf16_to_f32(dyb[i]);
    }
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        if (d->rowwise) continue;
        act_spec s;
        act_spec_init(&s, d->name);
        float params[ACT_MAX_PARAMS], dp[ACT_MAX_PARAMS] = {0}, dp16[ACT_MAX_PARAMS] = {0};
        act_params_init(s.kind, params);
        act_forward(&s, ACT_F32, 1, N, x, d->gated ? u : NULL, params, y);
        act_backward(&s, ACT_F32, 1, N, x, d->gated ? u : NULL, params, dy, dx, d->gated ? du : NULL, dp);
        act_forward(&s, ACT_BF16, 1, N, xb, d->gated ? ub : NULL, params, yb);
        act_backward(&s, ACT_BF16, 1, N, xb, d->gated ? ub : NULL, params, dyb, dxb, d->gated ? dub : NULL, dp16);
        for (int i = 0; i < N; i++) {
            if (!same_bf16(yb[i], y[i]) || !same_bf16(dxb[i], dx[i]) || (d->gated && !same_bf16(dub[i], du[i]))) {
                print_error("%s: bf16 at x=%#06x u=%#06x dy=%#06x: y %#06x dx %#06x, f32 rounded %#06x %#06x\n",
                            d->name, xb[i], ub[i], dyb[i], yb[i], dxb[i], num_f32_to_bf16(y[i]),
                            num_f32_to_bf16(dx[i]));
                fail();
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finite_inputs_never_give_nan), cmocka_unit_test(test_nan_in_nan_out),
        cmocka_unit_test(test_infinities_give_limits),       cmocka_unit_test(test_powlu_tiny_positive_and_zero),
        cmocka_unit_test(test_polynorm_zero_rows_and_length_one), cmocka_unit_test(test_bf16_edges_round_like_f32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
