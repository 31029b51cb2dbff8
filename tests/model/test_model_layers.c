// test_model_layers.c — each layer's f32 forward against the double reference (refmodel.c) and
// its backward against central differences of that reference, one layer at a time.
//
// Each layer is reduced to a scalar L = Σ w ⊙ layer(x) with fixed random weights w, so dL/dy = w.
// Differences are taken in double (step 1e-6: truncation and rounding both < 1e-9), and the f32
// backward must agree to 2e-4 relative (of |fd| + 1% of the gradient's rms): one layer chains only
// a few roundings, so its error is ~1e-6; a wrong term is O(1).
#include "model/layers.h"
#include "refmodel.h"
#include "test_seed.h"
#include "util/check.h"
#include "util/rng.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static rng_t g_rng;

static void fill_normal(float *x, size_t n, float std) {
    for (size_t i = 0; i < n; i++) x[i] = std * rng_normal(&g_rng);
}

static double *to_double(const float *x, size_t n) {
    double *d = xmalloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

// The scalar a test differentiates: Σ w ⊙ f(x), f in double.
typedef struct {
    void (*f)(double *y, double *x, void *ctx);  // may modify x temporarily; must restore it
    void *ctx;
    size_t ny;
    const double *w;
    double *y;
} scalar_fn;

static double eval(scalar_fn *s, double *x) {
    s->f(s->y, x, s->ctx);
    double L = 0;
    for (size_t i = 0; i < s->ny; i++) L += s->w[i] * s->y[i];
    return L;
}

// Compares analytic[i] with the central difference at up to max_coords coordinates of x (all when
// n <= max_coords, else a random subset). Returns the largest relative error seen.
static double fd_check(const char *what, scalar_fn *s, double *x, size_t n, const float *analytic, int max_coords,
                       double tol) {
    double rms = 0, worst = 0;
    for (size_t i = 0; i < n; i++) rms += (double)analytic[i] * analytic[i];
    rms = sqrt(rms / n);
    size_t count = n <= (size_t)max_coords ? n : (size_t)max_coords;
    for (size_t k = 0; k < count; k++) {
        size_t i = n <= (size_t)max_coords ? k : rng_u64(&g_rng) % n;
        double x0 = x[i], h = 1e-6;
        x[i] = x0 + h;
        double lp = eval(s, x);
        x[i] = x0 - h;
        double lm = eval(s, x);
        x[i] = x0;
        double fd = (lp - lm) / (2 * h), err = fabs(analytic[i] - fd) / (fabs(fd) + 1e-2 * rms + 1e-12);
        if (err > worst) worst = err;
        if (err > tol) fail_msg("%s: gradient[%zu] backward %.9g vs central difference %.9g (error %.2g)", what, i, analytic[i], fd, err);
    }
    printf("  %-28s %zu coordinates, max error %.1e\n", what, count, worst);
    return worst;
}

// |got − want| ≤ rtol·(|want| + floor·max|want|): floor keeps elements that cancel to near 0 from
// being held to a relative bound that f32 cannot meet.
static void assert_close_f(const char *what, const float *got, const double *want, size_t n, double rtol,
                           double floor) {
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        if (fabs(got[i] - want[i]) > rtol * (fabs(want[i]) + floor * scale))
            fail_msg("%s[%zu]: f32 %.9g vs reference %.9g", what, i, got[i], want[i]);
}

// ---- RMSNorm ----------------------------------------------------------------------------------
typedef struct { int N, C; double *x, *g; int wrt_g; } rms_ctx;
static void rms_f(double *y, double *v, void *c_) {
    rms_ctx *c = c_;
    ref_rmsnorm(y, c->wrt_g ? c->x : v, c->wrt_g ? v : c->g, c->N, c->C, 1e-5);
}

static void test_rmsnorm(void **state) {
    (void)state;
    enum { N = 300, C = 24 };  // dg sums 256-row partials: N > 256 gives two, the second partial
    float x[N * C], g[C], y[N * C], rstd[N], w[N * C], dx[N * C], dx0[N * C], dg[C], dg0[C];
    fill_normal(x, N * C, 1.5f), fill_normal(w, N * C, 1.0f), fill_normal(dx0, N * C, 1.0f), fill_normal(dg0, C, 1.0f);
    for (int c = 0; c < C; c++) g[c] = 1.0f + 0.3f * rng_normal(&g_rng);
    rmsnorm_forward(y, rstd, x, g, N, C, 1e-5f);
    double *xd = to_double(x, N * C), *gd = to_double(g, C), *wd = to_double(w, N * C), yd[N * C];
    ref_rmsnorm(yd, xd, gd, N, C, 1e-5);
    assert_close_f("rmsnorm y", y, yd, N * C, 1e-5, 1e-3);
    // The backward accumulates: start from nonzero buffers and difference afterwards.
    memcpy(dx, dx0, sizeof dx), memcpy(dg, dg0, sizeof dg);
    rmsnorm_backward(dx, dg, w, x, g, rstd, N, C);
    for (int i = 0; i < N * C; i++) dx[i] -= dx0[i];
    for (int c = 0; c < C; c++) dg[c] -= dg0[c];
    rms_ctx ctx = {N, C, xd, gd, 0};
    scalar_fn s = {rms_f, &ctx, N * C, wd, yd};
    fd_check("rmsnorm dx", &s, xd, N * C, dx, 1000, 2e-4);
    ctx.wrt_g = 1;
    fd_check("rmsnorm dg", &s, gd, C, dg, 1000, 2e-4);
    free(xd), free(gd), free(wd);
}

// ---- RoPE -------------------------------------------------------------------------------------
typedef struct { int B, T, H, D, ld; } rope_ctx;
static void rope_f(double *y, double *x, void *c_) {
    rope_ctx *c = c_;
    size_t n = (size_t)c->B * c->T * c->ld;
    memcpy(y, x, sizeof(double) * n);
    ref_rope(y, c->B, c->T, c->H, c->D, c->ld, 10000.0);
}

static void test_rope(void **state) {
    (void)state;
    enum { B = 2, T = 7, H = 3, D = 8, LD = H * D + 5, N = B * T * LD, MAXT = 9 };
    float x[N], y[N], w[N], cs[MAXT * D / 2], sn[MAXT * D / 2];
    fill_normal(x, N, 1.0f), fill_normal(w, N, 1.0f);
    rope_table(cs, sn, MAXT, D, 10000.0f);
    memcpy(y, x, sizeof y);
    rope_forward(y, B, T, H, D, LD, cs, sn);
    double *xd = to_double(x, N), *wd = to_double(w, N), yd[N];
    rope_ctx ctx = {B, T, H, D, LD};
    rope_f(yd, xd, &ctx);
    // Includes the 5 trailing columns, which must stay put. 1e-4: y = a·cos − b·sin cancels, so an
    // output near 0 carries the f32 rounding of its unit-sized terms (and of the f32 cos/sin table),
    // ~1e-7 absolute; 1e-5 put the floor (1e-8 × the largest |y|) below one ulp of those terms and
    // failed for some seeds (ACTLAB_SEED=10825697708081093498: error 6.3e-8 on y = −8.9e-4).
    assert_close_f("rope y", y, yd, N, 1e-4, 1e-3);
    float dx[N];
    memcpy(dx, w, sizeof dx);
    rope_backward(dx, B, T, H, D, LD, cs, sn);
    for (int r = 0; r < B * T; r++)  // columns after the heads are passed through unchanged
        for (int c = H * D; c < LD; c++) dx[r * LD + c] = 0.0f, wd[r * LD + c] = 0.0;
    scalar_fn s = {rope_f, &ctx, N, wd, yd};
    fd_check("rope dx", &s, xd, N, dx, 1000, 2e-4);
    free(xd), free(wd);
}

// ---- attention --------------------------------------------------------------------------------
typedef struct { int B, T, H, Hkv, D; } att_ctx;
static void att_f(double *y, double *x, void *c_) {
    att_ctx *c = c_;
    ref_attention(y, x, c->B, c->T, c->H, c->Hkv, c->D);
}

static void check_attention(int B, int T, int H, int Hkv, int D, const char *label) {
    size_t ld = (size_t)(H + 2 * Hkv) * D, nin = (size_t)B * T * ld, nout = (size_t)B * T * H * D;
    float *qkv = xmalloc(sizeof(float) * nin), *out = xmalloc(sizeof(float) * nout), *lse = xmalloc(sizeof(float) * B * H * T);
    float *w = xmalloc(sizeof(float) * nout), *dqkv = xmalloc(sizeof(float) * nin);
    fill_normal(qkv, nin, 1.2f), fill_normal(w, nout, 1.0f);
    attention_forward(out, lse, qkv, B, T, H, Hkv, D, NULL, NULL);
    double *xd = to_double(qkv, nin), *wd = to_double(w, nout), *yd = xmalloc(sizeof(double) * nout);
    att_ctx ctx = {B, T, H, Hkv, D};
    att_f(yd, xd, &ctx);
    // An output is a sum over up to T keys of P·V: f32 leaves ~1e-6 of the largest |out| on elements
    // that cancel to near 0 (the 1e-3 floor of the other layers failed ~10% of seeds at D 48).
    assert_close_f("attention out", out, yd, nout, 1e-4, 1e-2);
    for (size_t i = 0; i < nin; i++) dqkv[i] = NAN;  // the backward must overwrite every element
    attention_backward(dqkv, w, qkv, out, lse, B, T, H, Hkv, D, NULL, NULL);
    scalar_fn s = {att_f, &ctx, nout, wd, yd};
    char what[64];
    snprintf(what, sizeof what, "attention dqkv (%s)", label);
    // 1e-3: dS = P ⊙ (dP − D) cancels, and dP and D are f32 sums over the head dimension, so the
    // gradients carry ~1e-6 of their rms (2e-4 failed ~1% of seeds at D 48); a wrong mask, scale or
    // product is off by O(1).
    fd_check(what, &s, xd, nin, dqkv, 300, 1e-3);
    free(qkv), free(out), free(lse), free(w), free(dqkv), free(xd), free(wd), free(yd);
}

static void test_attention(void **state) {
    (void)state;
    // The tiles (attention_tiles.h) take 8 query rows and 16-key / 16-column blocks, in pairs where
    // they can: T 70 ends on a partial row tile and an odd block; D 4 and 6 pad one column block,
    // D 48 gives a pair and a single one, D 32 one pair.
    check_attention(2, 70, 2, 2, 4, "MHA, T 70");
    check_attention(2, 70, 4, 2, 4, "GQA 4:2");
    check_attention(1, 9, 3, 1, 6, "GQA 3:1, T 9");
    check_attention(1, 37, 2, 1, 48, "GQA 2:1, D 48");
    check_attention(1, 33, 1, 1, 32, "D 32, T 33");
}

// The model's use: RoPE applied as the heads are packed and unpacked equals rope_forward on qkv, the
// plain attention, then rope_backward on dqkv, bit for bit (the same arithmetic in the same order).
static void check_attention_rope(int B, int T, int H, int Hkv, int D) {
    size_t ld = (size_t)(H + 2 * Hkv) * D, nin = (size_t)B * T * ld, nout = (size_t)B * T * H * D;
    size_t nt = (size_t)T * D / 2;
    float *qkv = xmalloc(sizeof(float) * nin), *rot = xmalloc(sizeof(float) * nin), *w = xmalloc(sizeof(float) * nout);
    float *out1 = xmalloc(sizeof(float) * nout), *out2 = xmalloc(sizeof(float) * nout);
    float *lse1 = xmalloc(sizeof(float) * B * H * T), *lse2 = xmalloc(sizeof(float) * B * H * T);
    float *d1 = xmalloc(sizeof(float) * nin), *d2 = xmalloc(sizeof(float) * nin);
    float *cs = xmalloc(sizeof(float) * nt), *sn = xmalloc(sizeof(float) * nt);
    fill_normal(qkv, nin, 1.2f), fill_normal(w, nout, 1.0f);
    rope_table(cs, sn, T, D, 10000.0f);
    memcpy(rot, qkv, sizeof(float) * nin);
    rope_forward(rot, B, T, H + Hkv, D, (int)ld, cs, sn);
    attention_forward(out1, lse1, rot, B, T, H, Hkv, D, NULL, NULL);
    attention_backward(d1, w, rot, out1, lse1, B, T, H, Hkv, D, NULL, NULL);
    rope_backward(d1, B, T, H + Hkv, D, (int)ld, cs, sn);
    attention_forward(out2, lse2, qkv, B, T, H, Hkv, D, cs, sn);
    attention_backward(d2, w, qkv, out2, lse2, B, T, H, Hkv, D, cs, sn);
    assert_memory_equal(out1, out2, sizeof(float) * nout);
    assert_memory_equal(lse1, lse2, sizeof(float) * B * H * T);
    assert_memory_equal(d1, d2, sizeof(float) * nin);
    float *all[] = {qkv, rot, w, out1, out2, lse1, lse2, d1, d2, cs, sn};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static void test_attention_rope(void **state) {
    (void)state;
    check_attention_rope(2, 70, 4, 2, 8);
    check_attention_rope(1, 37, 2, 1, 48);  // half 24: a 16-column block straddles the halves
}

// ---- cross-entropy ----------------------------------------------------------------------------
typedef struct { const int32_t *t; int N, V; } ce_ctx;
static void ce_f(double *y, double *x, void *c_) {
    ce_ctx *c = c_;
    y[0] = ref_crossentropy(x, c->t, c->N, c->V);
}

// crossentropy_fused against forward + backward (dl, f32): the same total and lse bit for bit;
// the gradient within the backward's own error, which e^(l − lse) carries from lse's rounding (an
// ulp of lse, relatively: 8e-6 on the row shifted by 90) plus a few f32 ulp; under bf16 the codes
// of the two then differ by at most one.
static void expect_fused_matches(const float *logits, const int32_t *t, int N, int V, int ld, double total,
                                 const float *lse, const float *dl, int mode, int n_valid) {
    float *pad = calloc((size_t)N * ld, sizeof(float)), *lse2 = calloc((size_t)N, sizeof(float));
    for (int i = 0; i < N; i++) memcpy(pad + (size_t)i * ld, logits + (size_t)i * V, sizeof(float) * (size_t)V);
    num_qstats st;
    num_qstats_clear(&st);
    int nv = 0;
    assert_true(crossentropy_fused(pad, lse2, t, N, V, ld, 0, (ce_out)mode, &st, &nv) == total);
    assert_int_equal(nv, n_valid);
    assert_memory_equal(lse2, lse, sizeof(float) * (size_t)N);
    assert_true(mode == CE_F32 || st.n == (uint64_t)N * V);
    float scale = 1.0f / (float)n_valid;
    for (int i = 0; i < N; i++) {
        float a = fmaxf(fabsf(lse[i]), 1.0f), tol = 1e-6f + 2.0f * (nextafterf(a, INFINITY) - a);
        for (int c = V; c < ld; c++) assert_true(pad[(size_t)i * ld + c] == 0.0f);
        for (int j = 0; j < V; j++) {
            float want = dl[(size_t)i * V + j], bound = tol * (fabsf(want) + scale);
            if (mode == CE_BF16_CODES) {
                uint16_t got = ((const uint16_t *)(pad + (size_t)i * ld))[j], w = num_f32_to_bf16(want);
                if (abs((int)got - (int)w) > 1 && fabsf(num_bf16_to_f32(got) - want) > bound)
                    fail_msg("fused ce codes row %d col %d: %#x vs %#x (%.9g)", i, j, got, w, want);
                continue;
            }
            float got = pad[(size_t)i * ld + j];
            if (mode == CE_BF16_QDQ) bound += 0x1p-8f * fabsf(want);
            if (fabsf(got - want) > bound) fail_msg("fused ce mode %d row %d col %d: %.9g vs %.9g", mode, i, j, got, want);
        }
    }
    free(pad), free(lse2);
}

// The model's use: rows of stride ld > V, and the gradient rounded to bf16 row by row (values, or
// codes in the first half of each row) with the counts of one pass over the whole array.
static void test_crossentropy_strided(const float *logits, const int32_t *t, int N, int V, double total,
                                      const float *lse, const float *dl) {
    int ld = V + 6;
    float *pad = calloc((size_t)N * ld, sizeof(float)), *lse2 = calloc((size_t)N, sizeof(float));
    float *want = malloc(sizeof(float) * (size_t)N * V);
    uint16_t *codes = malloc(sizeof(uint16_t) * (size_t)N * V);
    for (int i = 0; i < N; i++) memcpy(pad + (size_t)i * ld, logits + (size_t)i * V, sizeof(float) * (size_t)V);
    int n_valid = 0;
    assert_true(crossentropy_forward(lse2, pad, t, N, V, ld, &n_valid) == total);
    assert_memory_equal(lse2, lse, sizeof(float) * (size_t)N);
    float scale = 1.0f / (float)n_valid;
    num_qstats want_st, st;
    for (int mode = CE_F32; mode <= CE_BF16_CODES; mode++) {
        for (int i = 0; i < N; i++) memcpy(pad + (size_t)i * ld, logits + (size_t)i * V, sizeof(float) * (size_t)V);
        num_qstats_clear(&want_st), num_qstats_clear(&st);
        if (mode == CE_BF16_QDQ) num_bf16_qdq(want, dl, (size_t)N * V, &want_st);
        else memcpy(want, dl, sizeof(float) * (size_t)N * V);
        if (mode == CE_BF16_CODES) num_bf16_encode(codes, (size_t)V, dl, (size_t)V, N, V, &want_st);
        crossentropy_backward(pad, pad, lse, t, N, V, ld, scale, (ce_out)mode, &st);
        for (int i = 0; i < N; i++) {
            for (int c = V; c < ld; c++) assert_true(pad[(size_t)i * ld + c] == 0.0f);  // the padding untouched
            if (mode == CE_BF16_CODES)
                assert_memory_equal(pad + (size_t)i * ld, codes + (size_t)i * V, sizeof(uint16_t) * (size_t)V);
            else assert_memory_equal(pad + (size_t)i * ld, want + (size_t)i * V, sizeof(float) * (size_t)V);
        }
        assert_true(st.n == want_st.n && st.n_sat == want_st.n_sat && st.n_ftz == want_st.n_ftz && st.amax == want_st.amax);
        expect_fused_matches(logits, t, N, V, ld, total, lse, dl, mode, n_valid);
    }
    free(pad), free(lse2), free(want), free(codes);
}

static void test_crossentropy(void **state) {
    (void)state;
    enum { N = 6, V = 50 };
    float logits[N * V], lse[N], dl[N * V];
    int32_t t[N] = {3, -1, 49, 0, -7, 17};  // negative targets are ignored
    fill_normal(logits, N * V, 3.0f);
    for (int j = 0; j < V; j++) logits[2 * V + j] += 90.0f;  // exp would overflow without the max shift
    int n_valid = 0;
    double total = crossentropy_forward(lse, logits, t, N, V, V, &n_valid);
    assert_int_equal(n_valid, 4);
    double *xd = to_double(logits, N * V), one = 1.0, y;
    ce_ctx ctx = {t, N, V};
    ce_f(&y, xd, &ctx);
    if (fabs(total / n_valid - y) > 1e-5 * fabs(y)) fail_msg("cross-entropy %.9g vs reference %.9g", total / n_valid, y);
    crossentropy_backward(dl, logits, lse, t, N, V, V, 1.0f / (float)n_valid, CE_F32, NULL);
    for (int j = 0; j < V; j++) assert_true(dl[1 * V + j] == 0.0f && dl[4 * V + j] == 0.0f);
    scalar_fn s = {ce_f, &ctx, 1, &one, &y};
    fd_check("crossentropy dlogits", &s, xd, N * V, dl, 1000, 2e-4);
    // In place (the model's use): the same numbers.
    float inplace[N * V];
    memcpy(inplace, logits, sizeof inplace);
    crossentropy_backward(inplace, inplace, lse, t, N, V, V, 1.0f / (float)n_valid, CE_F32, NULL);
    assert_memory_equal(inplace, dl, sizeof dl);
    test_crossentropy_strided(logits, t, N, V, total, lse, dl);
    free(xd);
    // Rows of several 1024-column pieces (a later piece's codes land on an earlier piece's logits),
    // and enough of them for the threaded loop.
    enum { N2 = 8, V2 = 2500 };
    float *l2 = malloc(sizeof(float) * N2 * V2), *lse2 = malloc(sizeof(float) * N2), *dl2 = malloc(sizeof(float) * N2 * V2);
    int32_t t2[N2];
    fill_normal(l2, N2 * V2, 4.0f);
    for (int i = 0; i < N2; i++) t2[i] = i == 5 ? -1 : (int32_t)(rng_u64(&g_rng) % V2);
    double total2 = crossentropy_forward(lse2, l2, t2, N2, V2, V2, &n_valid);
    crossentropy_backward(dl2, l2, lse2, t2, N2, V2, V2, 1.0f / (float)n_valid, CE_F32, NULL);
    test_crossentropy_strided(l2, t2, N2, V2, total2, lse2, dl2);
    free(l2), free(lse2), free(dl2);
}

// ---- embedding --------------------------------------------------------------------------------
static void test_embedding(void **state) {
    (void)state;
    enum { V = 11, C = 20, N = 30 };
    float emb[V * C], x[N * C], dx[N * C], demb[V * C], demb0[V * C];
    int32_t tok[N];
    fill_normal(emb, V * C, 1.0f), fill_normal(dx, N * C, 1.0f), fill_normal(demb0, V * C, 1.0f);
    for (int i = 0; i < N; i++) tok[i] = (int32_t)(rng_u64(&g_rng) % 4);  // many repeats: the scatter must add
    embedding_forward(x, tok, emb, N, C);
    for (int i = 0; i < N; i++) assert_memory_equal(x + i * C, emb + tok[i] * C, sizeof(float) * C);
    memcpy(demb, demb0, sizeof demb);
    embedding_backward(demb, dx, tok, N, C);
    for (int v = 0; v < V; v++)
        for (int c = 0; c < C; c++) {
            double want = demb0[v * C + c];
            for (int i = 0; i < N; i++)
                if (tok[i] == v) want += dx[i * C + c];
            if (fabs(demb[v * C + c] - want) > 1e-5 * (1 + fabs(want))) fail_msg("embedding grad [%d,%d]", v, c);
        }
}

int main(void) {
    rng_seed(&g_rng, test_seed("test_model_layers"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rmsnorm),   cmocka_unit_test(test_rope),      cmocka_unit_test(test_attention), cmocka_unit_test(test_attention_rope),
        cmocka_unit_test(test_crossentropy), cmocka_unit_test(test_embedding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
