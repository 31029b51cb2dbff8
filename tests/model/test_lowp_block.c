// test_lowp_block.c — the block-scaled recipes (mxfp8, mxfp4, nvfp4) around one projection,
// against a straightforward emulation written from the recipe's rules: quantise-dequantise each
// operand with num_block_qdq in its documented block shape and rounding (and the Hadamard
// transform for the wgrad), then a double-precision GEMM. Both the native path (bf16 GEMMs of
// the codes, block scales pre-multiplied) and the f32 emulation must agree with it within the f32
// summation bound. Also: the codes are bf16 values, block telemetry on hand-made blocks, kept bf16
// layers, seeding of stochastic rounding, and the versioned checkpoint state.
#include "model/lowp.h"
#include "test_seed.h"
#include "gemm/gemm.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t g_seed;
enum { N = 64, IN = 96, OUT = 48 };

typedef struct {
    precision_kind prec;
    int rht;
} recipe;
static const recipe RECIPES[] = {
    {PREC_MXFP8, 0}, {PREC_MXFP4, 0}, {PREC_MXFP4, 1}, {PREC_NVFP4, 0}, {PREC_NVFP4, 1},
};
#define N_RECIPES (sizeof RECIPES / sizeof RECIPES[0])

static lowp *make(precision_kind k, int rht, int layers, int bf16_layers, uint64_t seed) {
    model_precision p;
    model_precision_default(&p);
    p.precision = k, p.rht = rht, p.bf16_layers = bf16_layers, p.seed = seed;
    return lowp_create(&p, layers, 1);
}

// Normal values with a few planted outliers (the case block scaling is about).
static float *randt(rng_t *r, size_t n, float sd) {
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) x[i] = sd * rng_normal(r) * (rng_uniform(r) < 0.02f ? 30.0f : 1.0f);
    return x;
}

static float *qdq(const float *x, int rows, int cols, num_block_format f, int br, int bc, int sr, uint64_t seed) {
    float *y = malloc(sizeof(float) * (size_t)rows * cols);
    num_block_spec s = {f, br, bc, sr ? NUM_ROUND_STOCHASTIC : NUM_ROUND_NEAREST, seed};
    assert_int_equal(num_block_qdq(y, x, rows, cols, &s, NULL, NULL, NULL), 0);
    return y;
}

// ref (M,Nc) = op(A)·op(B) in double, abs = Σ|a·b|; A (M,K) or, ta, (K,M); B (K,Nc) or, tb, (Nc,K).
static void ref_mm(double *ref, double *abs_, int ta, int tb, int M, int Nc, int K, const float *A, const float *B) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < Nc; j++) {
            double s = 0, a = 0;
            for (int k = 0; k < K; k++) {
                double p = (double)(ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k]) *
                           (double)(tb ? B[(size_t)j * K + k] : B[(size_t)k * Nc + j]);
                s += p, a += fabs(p);
            }
            ref[(size_t)i * Nc + j] = s, abs_[(size_t)i * Nc + j] = a;
        }
}

// |got − ref| within the f32 bound of a K-term sum in two orders plus the rounding of the
// dequantised inputs (a few ulps of each product): (K + 8)·2^-22·Σ|a·b|. Returns the largest
// |ref − exact| over the largest bound, exact being the unquantised product: the quantisation
// error dwarfs the tolerance, so a wrong block shape or rounding could not pass.
static double expect_close(const char *what, const float *got, const double *ref, const double *abs_,
                           const double *exact, int M, int Nc, int K) {
    double qerr = 0, max_bound = 1e-30;
    for (int i = 0; i < M * Nc; i++) {
        double bound = (K + 8) * 0x1p-22 * abs_[i];
        if (fabs(got[i] - ref[i]) > bound)
            fail_msg("%s[%d]: %.9g, reference %.9g (bound %.3g)", what, i, got[i], ref[i], bound);
        if (fabs(ref[i] - exact[i]) > qerr) qerr = fabs(ref[i] - exact[i]);
        if (bound > max_bound) max_bound = bound;
    }
    return qerr / max_bound;
}

// buf: (rows, cols) bf16 codes in the first half of each f32 row; each code / s is ref's value.
static void expect_codes(const char *what, const float *buf, const float *ref, int rows, int cols, float s) {
    const uint16_t *c = (const uint16_t *)buf;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) {
            float v = num_bf16_to_f32(c[(size_t)r * 2 * cols + j]) / s, want = ref[(size_t)r * cols + j];
            if (!(fabsf(v - want) <= 1e-6f * fabsf(want)))
                fail_msg("%s code (%d, %d): %.9g / %.9g = %.9g, the rules give %.9g", what, r, j,
                         num_bf16_to_f32(c[(size_t)r * 2 * cols + j]), s, v, want);
        }
}

// One projection (forward, dgrad, wgrad) through lowp and linear.c against the reference.
static void check_recipe(const recipe *rc, int native, rng_t *r) {
    uint64_t seed = rng_u64(r);
    lowp *q = make(rc->prec, rc->rht, 1, 0, seed);
    int ix = lowp_id(q, 0, LP_QKV_X), iw = lowp_id(q, 0, LP_QKV_W), idy = lowp_id(q, 0, LP_QKV_DY);
    float *x = randt(r, (size_t)N * IN, 1), *w = randt(r, (size_t)OUT * IN, 0.05f), *dy = randt(r, (size_t)N * OUT, 1e-3f);
    for (size_t i = 0; i < (size_t)OUT * IN; i++) w[i] = fmaxf(fminf(w[i], 0.2f), -0.2f);  // outliers in x and dy only
    float *xq = malloc(sizeof(float) * N * IN), *wq = malloc(sizeof(float) * OUT * IN), *dyq = malloc(sizeof(float) * N * OUT);
    float *y = malloc(sizeof(float) * N * OUT), *dx = malloc(sizeof(float) * N * IN), *dw = calloc((size_t)OUT * IN, sizeof(float));
    lowp_quantize(q, ix, xq, x, N, IN);
    lowp_quantize(q, iw, wq, w, OUT, IN);
    linear_forward(y, xq, wq, N, IN, OUT, lowp_linear(q, ix, iw, -1));
    lowp_quantize(q, idy, dyq, dy, N, OUT);
    linear_prec pb = lowp_linear(q, ix, iw, idy);
    pb.wg = lowp_wgrad(q, ix, idy, x, dy, N, IN, OUT);
    assert_non_null(pb.wg.dy);
    assert_int_equal(pb.kind, native ? LIN_FP8 : LIN_F32);
    linear_backward(dx, dw, dyq, xq, wq, N, IN, OUT, 0, pb);

    // the reference, from the rules alone
    int b = precision_block_side(rc->prec), fp4 = rc->prec != PREC_MXFP8;
    num_block_format f = rc->prec == PREC_MXFP8 ? NUM_MXFP8_E4M3 : rc->prec == PREC_MXFP4 ? NUM_MXFP4 : NUM_NVFP4;
    float *xr = qdq(x, N, IN, f, 1, b, 0, 0), *wr = qdq(w, OUT, IN, f, b, b, 0, 0);
    float *dyr = qdq(dy, N, OUT, f, 1, b, fp4, lowp_sr_seed(seed, 0, idy, 0, 0));
    float *xt = malloc(sizeof(float) * N * IN), *dyt = malloc(sizeof(float) * N * OUT);
    memcpy(xt, x, sizeof(float) * N * IN), memcpy(dyt, dy, sizeof(float) * N * OUT);
    if (rc->rht && fp4) {
        assert_int_equal(num_rht16(xt, xt, N, IN, 0, lowp_rht_seed(seed), 0), 0);
        assert_int_equal(num_rht16(dyt, dyt, N, OUT, 0, lowp_rht_seed(seed), 0), 0);
    }
    float *xc = qdq(xt, N, IN, f, b, 1, 0, 0), *dyc = qdq(dyt, N, OUT, f, b, 1, fp4, lowp_sr_seed(seed, 0, idy, 1, 1));
    if (native) {  // the GEMMs read bf16 codes in place (layers.h) that are the rules' values × scale
        expect_codes("x", xq, xr, N, IN, pb.sx);
        expect_codes("w", wq, wr, OUT, IN, pb.sw);
        expect_codes("dy", dyq, dyr, N, OUT, pb.sdy);
        expect_codes("wgrad x", pb.wg.x, xc, N, IN, pb.wg.sx);
        expect_codes("wgrad dy", pb.wg.dy, dyc, N, OUT, pb.wg.sdy);
    }
    size_t big = (size_t)N * IN;
    double *ref = malloc(sizeof(double) * big), *abs_ = malloc(sizeof(double) * big), *ex = malloc(sizeof(double) * big),
           *exa = malloc(sizeof(double) * big);
    ref_mm(ex, exa, 0, 1, N, OUT, IN, x, w);
    ref_mm(ref, abs_, 0, 1, N, OUT, IN, xr, wr);
    double q1 = expect_close("y", y, ref, abs_, ex, N, OUT, IN);
    ref_mm(ex, exa, 0, 0, N, IN, OUT, dy, w);
    ref_mm(ref, abs_, 0, 0, N, IN, OUT, dyr, wr);
    double q2 = expect_close("dx", dx, ref, abs_, ex, N, IN, OUT);
    ref_mm(ex, exa, 1, 0, OUT, IN, N, dy, x);
    ref_mm(ref, abs_, 1, 0, OUT, IN, N, dyc, xc);
    double q3 = expect_close("dw", dw, ref, abs_, ex, OUT, IN, N);
    printf("%-5s rht %d %-8s: y, dx, dw within bound; quantisation error up to %.0f, %.0f, %.0f bounds\n",
           precision_name(rc->prec), rc->rht, native ? "native" : "emulated", q1, q2, q3);
    assert_true(q1 > 10 && q2 > 10 && q3 > 10);
    free(x), free(w), free(dy), free(xq), free(wq), free(dyq), free(y), free(dx), free(dw);
    free(xr), free(wr), free(dyr), free(xt), free(dyt), free(xc), free(dyc), free(ref), free(abs_), free(ex), free(exa);
    lowp_free(q);
}

static void test_projection_matches_reference(void **st) {
    (void)st;
    rng_t r;
    rng_seed(&r, g_seed);
    int have_native = gemm_bf16_native();
    if (!have_native) printf("no native bf16 on this CPU: the emulated path only\n");
    for (int native = have_native; native >= 0; native--) {
        gemm_set_bf16_native(native);
        for (size_t i = 0; i < N_RECIPES; i++) check_recipe(&RECIPES[i], native, &r);
    }
    gemm_set_bf16_native(1);
}

static const model_lowp_stat *stat_of(const model_lowp_stat *s, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].name, name)) return &s[i];
    fail_msg("no tensor %s", name);
    return NULL;
}

// Hand-made blocks: values in [1, 1.5] (no block outlier-dominated: max < 2·min), then one
// element of 100 in 10 of the 1×16 blocks. NVFP4 maps that block's amax onto 6, so its other 15
// elements (≤ 1.5·6/100 = 0.09, below E2M1's 0.25 midpoint) round to zero: exactly 10 outlier
// blocks and 150 zeros. The weight is all normal blocks: none.
static void test_block_telemetry(void **st) {
    (void)st;
    lowp *q = make(PREC_NVFP4, 1, 1, 0, 1);
    enum { R = 16, C = 64 };
    float x[R * C], y[R * C];
    rng_t r;
    rng_seed(&r, g_seed + 1);
    for (int i = 0; i < R * C; i++) x[i] = (rng_uniform(&r) < 0.5f ? -1 : 1) * (1.0f + 0.5f * rng_uniform(&r));
    lowp_quantize(q, lowp_id(q, 0, LP_O_W), y, x, R, C);
    for (int k = 0; k < 10; k++) x[(k * 3 % R) * C + (k % 4) * 16 + k % 16] = k % 2 ? -100.0f : 100.0f;
    lowp_quantize(q, lowp_id(q, 0, LP_O_X), y, x, R, C);
    model_lowp_stat s[64];
    int n = lowp_stats(q, s, 64);
    const model_lowp_stat *sx = stat_of(s, n, "L0.attn_o.x"), *sw = stat_of(s, n, "L0.attn_o.w");
    printf("x: %llu blocks, %llu outlier, %llu zero, %llu saturated, mean rel err %.4f\n",
           (unsigned long long)sx->blk.blocks, (unsigned long long)sx->blk.blocks_outlier,
           (unsigned long long)sx->blk.n_zero, (unsigned long long)sx->blk.n_sat, sx->blk.sum_rel_err / sx->blk.n_err);
    assert_string_equal(sx->fmt, "nvfp4");
    assert_int_equal(sx->blk.blocks, R * C / 16);
    assert_int_equal(sx->blk.blocks_outlier, 10);
    assert_int_equal(sx->blk.n_zero, 150);
    assert_int_equal(sx->n_ftz, 150);
    assert_int_equal(sx->n, R * C);
    assert_true(sx->amax == 100.0f);
    assert_int_equal(sw->blk.blocks, (R / 16) * (C / 16));  // 16×16 weight blocks
    assert_int_equal(sw->blk.blocks_outlier, 0);
    assert_true(sw->blk.sum_rel_err > 0 && sw->blk.sum_rel_err / sw->blk.n_err < 0.2);
    assert_int_equal(sx->wg.blocks, 0);  // no wgrad operand yet
    lowp_stats_reset(q);
    n = lowp_stats(q, s, 64);
    assert_int_equal(stat_of(s, n, "L0.attn_o.x")->blk.blocks, 0);
    lowp_free(q);
}

// --lowp-bf16-layers 1 of 3: layers 0 and 2 are bf16, layer 1 nvfp4; the LM head is always bf16;
// a projection whose tensors are all bf16 runs bf16 GEMMs and gets no wgrad operands.
static void test_kept_layers(void **st) {
    (void)st;
    lowp *q = make(PREC_NVFP4, 1, 3, 1, 1);
    model_lowp_stat s[128];
    int n = lowp_stats(q, s, 128);
    for (int i = 0; i < n; i++) {
        const char *want = s[i].name[0] == 'L' && s[i].name[1] == '1' ? "nvfp4" : "bf16";
        if (strcmp(s[i].fmt, want)) fail_msg("%s is %s, expected %s", s[i].name, s[i].fmt, want);
    }
    float x[32 * 16] = {0}, dy[32 * 16] = {0};
    assert_null(lowp_site_wgrad(q, 0, LP_O_X, LP_O_DY, x, dy, 32, 16, 16).dy);
    assert_non_null(lowp_site_wgrad(q, 1, LP_O_X, LP_O_DY, x, dy, 32, 16, 16).dy);
    lowp_free(q);
}

// Stochastic rounding: the same (seed, step) rounds identically; the next step (and the next
// call within a step, e.g. another micro-batch) draws other numbers; the RNE tensors never change.
static void test_sr_seeding(void **st) {
    (void)st;
    enum { R = 32, C = 64 };
    float g[R * C], a[R * C], b[R * C], c[R * C], d[R * C];
    rng_t r;
    rng_seed(&r, g_seed + 2);
    for (int i = 0; i < R * C; i++) g[i] = rng_normal(&r);
    lowp *p = make(PREC_NVFP4, 1, 1, 0, 5), *q = make(PREC_NVFP4, 1, 1, 0, 5);
    int id = lowp_id(p, 0, LP_DOWN_DY);
    lowp_quantize(p, id, a, g, R, C);
    lowp_quantize(q, id, b, g, R, C);
    assert_memory_equal(a, b, sizeof a);
    lowp_quantize(q, id, c, g, R, C);  // second call of the step
    lowp_step_end(p);
    lowp_quantize(p, id, d, g, R, C);  // first call of the next step
    assert_memory_not_equal(a, c, sizeof a);
    assert_memory_not_equal(a, d, sizeof a);
    assert_memory_not_equal(c, d, sizeof a);
    int ix = lowp_id(p, 0, LP_DOWN_X);
    lowp_quantize(p, ix, a, g, R, C);
    lowp_quantize(q, ix, b, g, R, C);
    assert_memory_equal(a, b, sizeof a);
    lowp_free(p);
    lowp_free(q);
}

// The block state: version, recipe and the step round-trip; another recipe, an fp8-sized state
// or a corrupt version is refused (-1), never half-loaded.
static void test_state(void **st) {
    (void)st;
    lowp *p = make(PREC_MXFP4, 1, 2, 0, 9);
    for (int i = 0; i < 3; i++) lowp_step_end(p);
    size_t n = lowp_state_size(p);
    float *s = malloc(sizeof(float) * n);
    lowp_state_save(p, s);
    lowp *q = make(PREC_MXFP4, 1, 2, 0, 9);
    assert_int_equal(lowp_state_load(q, s, n), 0);
    float a[16 * 32], b[16 * 32], g[16 * 32];
    for (int i = 0; i < 16 * 32; i++) g[i] = sinf((float)i);
    lowp_quantize(p, lowp_id(p, 1, LP_UP_DY), a, g, 16, 32);
    lowp_quantize(q, lowp_id(q, 1, LP_UP_DY), b, g, 16, 32);
    assert_memory_equal(a, b, sizeof a);  // the restored step seeds the same rounding
    lowp *other = make(PREC_MXFP4, 0, 2, 0, 9), *nv = make(PREC_NVFP4, 1, 2, 0, 9);
    assert_int_equal(lowp_state_load(other, s, n), -1);
    assert_int_equal(lowp_state_load(nv, s, n), -1);
    s[0] = 99;
    assert_int_equal(lowp_state_load(q, s, n), -1);
    model_precision fp8;
    model_precision_default(&fp8);
    fp8.precision = PREC_FP8;
    lowp *f = lowp_create(&fp8, 2, 1);
    size_t nf = lowp_state_size(f);
    float *sf = calloc(nf, sizeof(float));
    lowp_state_save(f, sf);
    assert_int_equal(lowp_state_load(q, sf, nf), -1);
    free(s), free(sf);
    lowp_free(p), lowp_free(q), lowp_free(other), lowp_free(nv), lowp_free(f);
}

int main(void) {
    g_seed = test_seed("test_lowp_block");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_projection_matches_reference),
        cmocka_unit_test(test_block_telemetry),
        cmocka_unit_test(test_kept_layers),
        cmocka_unit_test(test_sr_seeding),
        cmocka_unit_test(test_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
