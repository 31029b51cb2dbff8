// test_act_gradcheck.c — every activation's backward (f32 kernels) against central differences of
// the independent double reference, on fresh random inputs; and bf16 storage against f32 compute.
#include "refimpl.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ROWS 3
#define COLS 37  // not a multiple of any vector width: the scalar tails are exercised too
#define N (ROWS * COLS)

static uint64_t g_seed;

// A kink (relu at 0, PowLU at 0, the clamps of SwiGLU-Clip) has no derivative to difference:
// inputs closer than this to one are moved off it.
#define KINK_GAP 1e-2

static float away_from(float v, float kink) {
    return fabsf(v - kink) < KINK_GAP ? kink + (v >= kink ? 2.0f : -2.0f) * (float)KINK_GAP : v;
}

static void random_inputs(const act_spec *s, rng_t *rng, float *x, float *u, float *dy) {
    for (int i = 0; i < N; i++) {
        // Mostly moderate values, some large ones (PowLU's slow decay, the clamps at ±7).
        float scale = (i % 7 == 0) ? 12.0f : 2.5f;
        x[i] = away_from(scale * rng_normal(rng), 0.0f);
        u[i] = 2.0f * rng_normal(rng);
        dy[i] = rng_normal(rng);
        if (s->kind == ACT_SWIGLU_CLIP) {
            x[i] = away_from(x[i], s->hp[0]);
            u[i] = away_from(away_from(4.0f * u[i], s->hp[0]), -s->hp[0]);
        }
    }
}

// L = Σ dy·y over one row (row >= 0: an input only moves its own row) or over all rows (row < 0:
// the shared parameters), evaluated in double by the reference. One row keeps |L| small, and with
// it the round-off of the differences below.
static double loss(const act_spec *s, const double *p, const double *x, const double *u, const double *dy, int row) {
    double y[N], l = 0;
    size_t r0 = row < 0 ? 0 : (size_t)row * COLS, nrows = row < 0 ? ROWS : 1;
    ref_forward(s, p, nrows, COLS, x + r0, u ? u + r0 : NULL, y);
    for (size_t i = 0; i < nrows * COLS; i++) l += dy[r0 + i] * y[i];
    return l;
}

// dL/dv[i] by central differences with one Richardson step (v is x, u or the params). The step,
// ≥ 1e-4, stays well inside KINK_GAP and keeps the round-off near 1e-16·|L|/h.
static double numgrad(const act_spec *s, double *p, double *x, double *u, const double *dy, double *v, int i, int row) {
    double v0 = v[i], h = 1e-4 * fmax(fabs(v0), 1.0), d[2];
    for (int k = 0; k < 2; k++, h /= 2) {
        v[i] = v0 + h;
        double lp = loss(s, p, x, u, dy, row);
        v[i] = v0 - h;
        double lm = loss(s, p, x, u, dy, row);
        d[k] = (lp - lm) / (2 * h);
    }
    v[i] = v0;
    return (4 * d[1] - d[0]) / 3;
}

// Tolerance: the kernel computes in f32, so its relative error is a few ulp of the terms it adds:
// 2e-5 relative, plus an absolute floor of 2e-6 × the size of the products that may cancel
// (dy·v(u)·(1+|x|), or the row's largest gradient for PolyNorm, whose terms couple the row).
static void compare(const char *what, const char *name, int i, double got, double want, double scale) {
    double tol = 2e-5 * fabs(want) + 2e-6 * scale + 1e-9;
    if (!(fabs(got - want) <= tol)) {
        print_error("%s of %s at %d: kernel %.9g, finite differences %.9g (tol %.3g); seed %llu\n", what, name, i, got,
                    want, tol, (unsigned long long)g_seed);
        fail();
    }
}

// Σ |dy·∂y/∂p_k| over all rows, from the reference: the size of the terms the parameter gradient
// adds up, of either sign. The kernel sums them in f32 lanes (then double), so where they cancel
// its error is a few ulp of this sum, not of the result; the old bar of 2e-5 of the result alone
// failed 2% of seeds (PolyNorm, PolyReLU) on a correct kernel.
static double param_terms(const act_spec *s, double *p, const double *x, const double *dy, int k) {
    static double yp[N], ym[N];
    double p0 = p[k], h = 1e-4 * fmax(fabs(p0), 1.0), t = 0;
    p[k] = p0 + h;
    ref_forward(s, p, ROWS, COLS, x, NULL, yp);
    p[k] = p0 - h;
    ref_forward(s, p, ROWS, COLS, x, NULL, ym);
    p[k] = p0;
    for (int i = 0; i < N; i++) t += fabs(dy[i] * (yp[i] - ym[i]) / (2 * h));
    return t;
}

// compare()'s floor is 2e-6 of its scale: a tenth of the terms' sum puts it at 2e-7 of them, about
// three f32 ulp. A wrong term or factor moves a gradient by a sizeable part of that sum.
#define TERMS_SCALE 0.1

static void gradcheck_one(const act_desc *d, rng_t *rng) {
    act_spec s;
    act_spec_init(&s, d->name);
    static float x[N], u[N], dy[N], dx[N], du[N];
    static double xd[N], ud[N], dyd[N];
    float params[ACT_MAX_PARAMS] = {0}, dparams[ACT_MAX_PARAMS] = {0};
    double pd[ACT_MAX_PARAMS] = {0};
    random_inputs(&s, rng, x, u, dy);
    act_params_init(s.kind, params);
    for (int k = 0; k < d->n_params; k++) params[k] += 0.3f * rng_normal(rng);  // not just the init point
    for (int k = 0; k < ACT_MAX_PARAMS; k++) pd[k] = params[k];
    for (int i = 0; i < N; i++) xd[i] = x[i], ud[i] = u[i], dyd[i] = dy[i];
    act_backward(&s, ACT_F32, ROWS, COLS, x, d->gated ? u : NULL, params, dy, dx, d->gated ? du : NULL, dparams);
    double rowmax = 0;
    for (int i = 0; i < N; i++) rowmax = fmax(rowmax, fabs(dx[i]));
    for (int i = 0; i < N; i++) {
        double v = d->gated ? ref_value(&s, ud[i]) : 1.0;
        double scale = d->rowwise ? rowmax : fabs(dyd[i]) * fmax(1.0, fabs(v)) * (1.0 + fabs(xd[i]));
        compare(d->gated ? "dz" : "dx", d->name, i, dx[i], numgrad(&s, pd, xd, d->gated ? ud : NULL, dyd, xd, i, i / COLS), scale);
        if (d->gated)
            compare("du", d->name, i, du[i], numgrad(&s, pd, xd, ud, dyd, ud, i, i / COLS),
                    fabs(dyd[i]) * (1.0 + fabs(xd[i])));
    }
    for (int k = 0; k < d->n_params; k++) {
        double want = numgrad(&s, pd, xd, NULL, dyd, pd, k, -1);
        compare("dparam", d->name, k, dparams[k], want, TERMS_SCALE * param_terms(&s, pd, xd, dyd, k));
    }
}

static void test_gradcheck_every_activation(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed);
    for (int k = 0; k < ACT_COUNT; k++) gradcheck_one(act_desc_of((act_kind)k), &rng);
}

// PowLU's m and SwiGLU-Clip's L and alpha away from their defaults.
static void test_gradcheck_hyperparameters(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed ^ 0x5eed);
    const char *names[3] = {"powlu", "powlu_scalar", "swiglu_clip"};
    for (int t = 0; t < 3; t++) {
        act_spec s;
        act_spec_init(&s, names[t]);
        const act_desc *d = act_desc_of(s.kind);
        for (int h = 0; h < d->n_hyper; h++) s.hp[h] = d->hyper[h].def * (0.5f + rng_uniform(&rng));
        // gradcheck_one re-initialises the spec from the name, so exercise this spec directly.
        static float x[N], u[N], dy[N], dx[N], du[N];
        static double xd[N], ud[N], dyd[N];
        double pd[ACT_MAX_PARAMS] = {0};
        random_inputs(&s, &rng, x, u, dy);
        for (int i = 0; i < N; i++) xd[i] = x[i], ud[i] = u[i], dyd[i] = dy[i];
        act_backward(&s, ACT_F32, ROWS, COLS, x, d->gated ? u : NULL, NULL, dy, dx, d->gated ? du : NULL, NULL);
        for (int i = 0; i < N; i++) {
            double v = d->gated ? ref_value(&s, ud[i]) : 1.0;
            compare("dx", d->name, i, dx[i], numgrad(&s, pd, xd, d->gated ? ud : NULL, dyd, xd, i, i / COLS),
                    fabs(dyd[i]) * fmax(1.0, fabs(v)) * (1.0 + fabs(xd[i])));
        }
    }
}

// bf16 storage = f32 compute on the decoded inputs, rounded once at the end: bitwise.
static void test_bf16_storage_is_f32_compute_rounded(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed ^ 0xbf16);
    enum { R = 5, C = 333, M = R * C };
    static float x[M], u[M], dy[M], y[M], dx[M], du[M];
    static uint16_t xb[M], ub[M], dyb[M], yb[M], dxb[M], dub[M];
    for (int k = 0; k < ACT_COUNT; k++) {
        const act_desc *d = act_desc_of((act_kind)k);
        act_spec s;
        act_spec_init(&s, d->name);
        float params[ACT_MAX_PARAMS], dp32[ACT_MAX_PARAMS] = {0}, dp16[ACT_MAX_PARAMS] = {0};
        act_params_init(s.kind, params);
        for (int i = 0; i < M; i++) {
            xb[i] = num_f32_to_bf16(3.0f * rng_normal(&rng));
            ub[i] = num_f32_to_bf16(rng_normal(&rng));
            dyb[i] = num_f32_to_bf16(rng_normal(&rng));
            x[i] = num_bf16_to_f32(xb[i]), u[i] = num_bf16_to_f32(ub[i]), dy[i] = num_bf16_to_f32(dyb[i]);
        }
        const void *u32 = d->gated ? u : NULL, *u16 = d->gated ? ub : NULL;
        act_forward(&s, ACT_F32, R, C, x, u32, params, y);
        act_forward(&s, ACT_BF16, R, C, xb, u16, params, yb);
        act_backward(&s, ACT_F32, R, C, x, u32, params, dy, dx, d->gated ? du : NULL, dp32);
        act_backward(&s, ACT_BF16, R, C, xb, u16, params, dyb, dxb, d->gated ? dub : NULL, dp16);
        for (int i = 0; i < M; i++) {
            if (yb[i] != num_f32_to_bf16(y[i]) || dxb[i] != num_f32_to_bf16(dx[i]) ||
                (d->gated && dub[i] != num_f32_to_bf16(du[i]))) {
                print_error("%s: bf16 storage differs from rounded f32 compute at %d\n", d->name, i);
                fail();
            }
        }
        assert_memory_equal(dp32, dp16, sizeof dp32);
    }
}

// PolyNorm on rows as long as an FFN's (d = 2085: many vector blocks and a ragged tail) against
// the spec's formulas in double. The kernel's f32 path sums in f32 lanes; the bar is compare()'s
// 2e-5 relative plus the f32 rounding of the terms an element adds: 1e-6 × their total size
// (forward) or 2e-6 × the row's largest (dx, whose terms couple the row).
static void test_polynorm_long_rows(void **state) {
    (void)state;
    rng_t rng;
    rng_seed(&rng, g_seed ^ 0x9017);
    enum { R = 3, C = 2085, M = R * C };
    static float x[M], dy[M], y[M], dx[M];
    act_spec s;
    act_spec_init(&s, "polynorm");
    float w[4], dw[4] = {0};
    for (int i = 0; i < M; i++) x[i] = ((i % 7 == 0) ? 12.0f : 2.5f) * rng_normal(&rng), dy[i] = rng_normal(&rng);
    for (int k = 0; k < 4; k++) w[k] = (k < 3 ? 1.0f / 3 : 0.0f) + 0.3f * rng_normal(&rng);
    act_forward(&s, ACT_F32, R, C, x, NULL, w, y);
    act_backward(&s, ACT_F32, R, C, x, NULL, w, dy, dx, NULL, dw);
    double dw_want[4] = {0}, dw_terms[4] = {0};  // the gradients, and the sums of their terms' sizes
    for (int r = 0; r < R; r++) {
        const float *xr = x + r * C, *gr = dy + r * C;
        double ms[4] = {0}, S[4] = {0}, Sa[4] = {0}, rstd[4], big = 0;
        for (int i = 0; i < C; i++)
            for (int p = 0; p < 4; p++)
                ms[p] += pow(xr[i], 2 * p) / C, S[p] += gr[i] * pow(xr[i], p), Sa[p] += fabs(gr[i] * pow(xr[i], p));
        for (int p = 1; p < 4; p++)
            rstd[p] = 1 / sqrt(ms[p] + 1e-6), dw_want[3 - p] += rstd[p] * S[p], dw_terms[3 - p] += rstd[p] * Sa[p];
        dw_want[3] += S[0], dw_terms[3] += Sa[0];
        double dxw[C];
        for (int i = 0; i < C; i++) {
            double v = xr[i], want = w[3], size = fabs(w[3]), gw = 0, gs = 0;
            for (int p = 1; p < 4; p++) {
                double t = w[3 - p] * pow(v, p) * rstd[p];
                double t1 = w[3 - p] * p * pow(v, p - 1) * rstd[p] * gr[i];
                double t2 = w[3 - p] * p / C * pow(v, 2 * p - 1) * pow(rstd[p], 3) * S[p];
                want += t, size += fabs(t), gw += t1 - t2, gs += fabs(t1) + fabs(t2);
            }
            compare("y", "polynorm (long rows)", r * C + i, y[r * C + i], want, 0.5 * size);
            dxw[i] = gw;
            big = fmax(big, gs);
        }
        for (int i = 0; i < C; i++) compare("dx", "polynorm (long rows)", r * C + i, dx[r * C + i], dxw[i], big);
    }
    for (int k = 0; k < 4; k++)
        compare("dparam", "polynorm (long rows)", k, dw[k], dw_want[k], TERMS_SCALE * dw_terms[k]);
}

// PolyNorm's double path (rows the f32 path cannot take: here one element of 1e20) with bf16
// storage: still the f32-storage result rounded once, bitwise.
static void test_polynorm_bf16_double_path(void **state) {
    (void)state;
    enum { R = 2, C = 300, M = R * C };
    static float x[M], dy[M], y[M], dx[M];
    static uint16_t xb[M], dyb[M], yb[M], dxb[M];
    act_spec s;
    act_spec_init(&s, "polynorm");
    float w[4] = {0.3f, -0.2f, 0.4f, 0.1f}, dw32[4] = {0}, dw16[4] = {0};
    for (int i = 0; i < M; i++) {
        xb[i] = num_f32_to_bf16(i == 17 ? 1e20f : (float)((i * 37) % 11) - 5.0f);
        dyb[i] = num_f32_to_bf16((float)((i * 13) % 7) - 3.0f);
        x[i] = num_bf16_to_f32(xb[i]), dy[i] = num_bf16_to_f32(dyb[i]);
    }
    act_forward(&s, ACT_F32, R, C, x, NULL, w, y);
    act_forward(&s, ACT_BF16, R, C, xb, NULL, w, yb);
    act_backward(&s, ACT_F32, R, C, x, NULL, w, dy, dx, NULL, dw32);
    act_backward(&s, ACT_BF16, R, C, xb, NULL, w, dyb, dxb, NULL, dw16);
    for (int i = 0; i < M; i++) {
        assert_true(yb[i] == num_f32_to_bf16(y[i]));
        assert_true(dxb[i] == num_f32_to_bf16(dx[i]));
        assert_false(isnan(y[i]) || isnan(dx[i]));
    }
    assert_memory_equal(dw32, dw16, sizeof dw32);
}

int main(void) {
    g_seed = test_seed("test_act_gradcheck");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_every_activation),
        cmocka_unit_test(test_gradcheck_hyperparameters),
        cmocka_unit_test(test_bf16_storage_is_f32_compute_rounded),
        cmocka_unit_test(test_polynorm_long_rows),
        cmocka_unit_test(test_polynorm_bf16_double_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
