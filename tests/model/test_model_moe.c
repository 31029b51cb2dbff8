// test_model_moe.c — the MoE FFN's properties (docs/moe.md); its gradients are checked against
// the double reference in test_model_gradcheck.c. Routing (top-k, ties, renormalisation), the
// grouping, the auxiliary losses against hand-computed values, the aux-loss-free bias update and
// its balancing effect, the parameter counts, bad configurations, thread invariance, an overfit
// run per router, and the experts in low precision.
#include "gemm/gemm.h"
#include "model/layers.h"
#include "model/model.h"
#include "test_seed.h"
#include "util/rng.h"

#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model_steps.h"

static uint64_t g_seed;

static moe_spec spec(int E, int k, int router, int renorm) {
    return (moe_spec){E, k, 8, 0, router, renorm, 0, 0};
}

// Softmax: top-k by logit, an exact tie goes to the lower index; weights p, or p over their sum.
static void test_route_softmax(void **state) {
    (void)state;
    const float logits[4] = {1, 3, 3, 0};
    double Z = exp(1.0) + 2 * exp(3.0) + 1, p3 = exp(3.0) / Z;
    int sel[2];
    float w[2];
    moe_spec s = spec(4, 2, MOE_SOFTMAX, 0);
    moe_route(sel, w, logits, NULL, &s, 1);
    assert_int_equal(sel[0], 1);
    assert_int_equal(sel[1], 2);
    assert_true(fabs(w[0] - p3) < 1e-7 && fabs(w[1] - p3) < 1e-7);
    s.renorm = 1;
    moe_route(sel, w, logits, NULL, &s, 1);
    assert_true(fabs(w[0] - 0.5) < 1e-7 && fabs(w[1] - 0.5) < 1e-7);
    s.k = 3;  // the third choice: logit 1 (expert 0) over 0 (expert 3)
    int sel3[3];
    float w3[3];
    moe_route(sel3, w3, logits, NULL, &s, 1);
    assert_int_equal(sel3[2], 0);
    assert_true(fabs(w3[0] + w3[1] + w3[2] - 1) < 1e-6);
}

// Sigmoid: the bias decides the choice but not the weights (σ of the logit).
static void test_route_sigmoid_bias(void **state) {
    (void)state;
    const float logits[4] = {0, 0, 0, 1};
    const float bias[4] = {0, 0.1f, -0.1f, -0.8f};  // σ(1) − 0.8 = −0.07 < σ(0) − 0.1
    int sel[2];
    float w[2];
    moe_spec s = spec(4, 2, MOE_SIGMOID, 0);
    moe_route(sel, w, logits, bias, &s, 1);
    assert_int_equal(sel[0], 1);
    assert_int_equal(sel[1], 0);
    assert_true(fabs(w[0] - 0.5) < 1e-7 && fabs(w[1] - 0.5) < 1e-7);
    moe_route(sel, w, logits, NULL, &s, 1);  // without the bias expert 3 leads
    assert_int_equal(sel[0], 3);
    s.renorm = 1;
    moe_route(sel, w, logits, NULL, &s, 1);
    double s1 = 1 / (1 + exp(-1.0));
    assert_true(fabs(w[0] - s1 / (s1 + 0.5)) < 1e-7 && fabs(w[1] - 0.5 / (s1 + 0.5)) < 1e-7);
}

// A stable counting sort: expert by expert, tokens in order.
static void test_group(void **state) {
    (void)state;
    const int sel[6] = {1, 0, 0, 2, 1, 2};  // token 0 -> {1, 0}, token 1 -> {0, 2}, token 2 -> {1, 2}
    int off[4], tok[6], row[6];
    moe_group(off, tok, row, sel, 3, 2, 3);
    const int off_want[4] = {0, 2, 4, 6}, tok_want[6] = {0, 1, 0, 2, 1, 2}, row_want[6] = {2, 0, 1, 4, 3, 5};
    assert_memory_equal(off, off_want, sizeof off);
    assert_memory_equal(tok, tok_want, sizeof tok);
    assert_memory_equal(row, row_want, sizeof row);
}

// One sequence of two tokens, E = 2, k = 1: logits (0, 0) and (ln 3, 0); both pick expert 0.
// Softmax: f = (1, 0), P = ((0.5 + 0.75)/2, ·) -> lb = 2·0.625 = 1.25; z = mean(ln²2, ln²4).
// Sigmoid: normalised scores (0.5, 0.5) and (0.6, 0.4) -> P_0 = 0.55, lb = 1.1.
static void test_aux_losses(void **state) {
    (void)state;
    const float logits[4] = {0, 0, logf(3.0f), 0};
    int sel[2];
    float w[2];
    double lb, zl;
    moe_spec s = spec(2, 1, MOE_SOFTMAX, 0);
    moe_route(sel, w, logits, NULL, &s, 2);
    assert_int_equal(sel[0], 0);
    assert_int_equal(sel[1], 0);
    moe_aux_losses(&lb, &zl, logits, sel, &s, 1, 2);
    double z_want = (log(2.0) * log(2.0) + log(4.0) * log(4.0)) / 2;
    assert_true(fabs(lb - 1.25) < 1e-6);
    assert_true(fabs(zl - z_want) < 1e-6);
    s.router = MOE_SIGMOID;
    moe_aux_losses(&lb, &zl, logits, sel, &s, 1, 2);
    assert_true(fabs(lb - 1.1) < 1e-6);
    // perfectly balanced: two sequences, each sending one token to each expert with equal scores
    const float flat[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const int alt[4] = {0, 1, 1, 0};
    s.router = MOE_SOFTMAX;
    moe_aux_losses(&lb, &zl, flat, alt, &s, 2, 2);
    assert_true(fabs(lb - 1.0) < 1e-9);  // = k
}

static void tiny_moe(model_config *c, const char *act, int E, int k, int shared, int router) {
    model_config_default(c);
    c->vocab_size = 32, c->d_model = 32, c->n_layers = 2, c->n_heads = 2, c->n_kv_heads = 2, c->max_seq_len = 32;
    assert_int_equal(act_spec_init(&c->act, act), 0);
    c->moe_experts = E, c->moe_top_k = k, c->moe_shared = shared, c->moe_router = router, c->moe_hidden = 32;
}

static void random_batch(rng_t *r, int32_t *tokens, int32_t *targets, int N, int V) {
    for (int i = 0; i < N; i++) {
        tokens[i] = (int32_t)(rng_u64(r) % (uint64_t)V);
        targets[i] = (int32_t)(rng_u64(r) % (uint64_t)V);
    }
}

static double max_load_frac(const model *m, int l) {
    model_moe_view v;
    assert_int_equal(model_moe_view_of(m, l, &v), 0);
    double mx = 0, total = (double)v.rows * v.k;
    for (int e = 0; e < v.E; e++) mx = fmax(mx, (v.expert_rows[e + 1] - v.expert_rows[e]) / total);
    return mx;
}

static float *bias_of(model *m, int l) {
    char name[64];
    snprintf(name, sizeof name, "model.layers.%d.mlp.gate.e_score_correction_bias", l);
    int i = model_tensor_find(m, name);
    assert_true(i >= 0);
    return model_params(m) + model_tensor_at(m, i)->offset;
}

// The bias update moves each bias by exactly ±rate (0 at the mean) against its expert's load, and a
// skipped step (apply 0) only clears the counts. Then, with no other training, the updates alone
// bring a router skewed towards one expert back to a balanced load.
static void test_bias_balancing(void **state) {
    (void)state;
    model_config c;
    tiny_moe(&c, "swiglu", 4, 1, 0, MOE_SIGMOID);
    c.n_layers = 1;
    c.moe_bias_rate = 0.02f;
    rng_t r;
    rng_seed(&r, g_seed ^ 0xb1a5);
    model *m = model_create(&c, rng_u64(&r));
    // scores that differ between tokens (at init they are all ≈ σ(0): only the bias would decide)
    int gi = model_tensor_find(m, "model.layers.0.mlp.gate.weight");
    float *router = model_params(m) + model_tensor_at(m, gi)->offset;
    for (int j = 0; j < 4 * c.d_model; j++) router[j] = 0.5f * rng_normal(&r);
    bias_of(m, 0)[0] = 1.0f;  // skew: expert 0 wins every token (sigmoid scores lie in (0, 1))
    enum { B = 4, T = 32, N = B * T };
    int32_t tok[N], tgt[N];
    random_batch(&r, tok, tgt, N, c.vocab_size);
    model_forward(m, tok, tgt, B, T);
    model_backward(m);
    double skewed = max_load_frac(m, 0);
    float loads[4], before[4];
    assert_int_equal(model_moe_load_count(m), 4);
    model_moe_loads_get(m, loads);
    memcpy(before, bias_of(m, 0), sizeof before);
    model_moe_step_end(m, 1);
    double mean = N / 4.0;
    for (int e = 0; e < 4; e++) {
        float want = before[e] + (loads[e] < mean ? 0.02f : loads[e] > mean ? -0.02f : 0.0f);
        assert_float_equal(bias_of(m, 0)[e], want, 0);
    }
    model_moe_loads_get(m, loads);
    for (int i = 0; i < 4; i++) assert_float_equal(loads[i], 0, 0);
    memcpy(before, bias_of(m, 0), sizeof before);
    model_forward(m, tok, tgt, B, T);
    model_backward(m);
    model_moe_step_end(m, 0);
    assert_memory_equal(before, bias_of(m, 0), sizeof before);
    for (int step = 0; step < 100; step++) {
        model_forward(m, tok, tgt, B, T);
        model_backward(m);
        model_moe_step_end(m, 1);
    }
    model_forward(m, tok, tgt, B, T);
    double balanced = max_load_frac(m, 0);
    printf("  bias balancing: busiest expert %.2f of the tokens before, %.2f after 100 updates\n", skewed, balanced);
    assert_true(skewed > 0.9);
    // 0.25 is perfect balance; tokens of one id move together, and the sign update then oscillates
    assert_true(balanced < 0.4);
    model_free(m);
}

// At initialisation random tokens (a vocabulary large enough that few repeat) spread over every
// expert: in the first layer each gets 5 to 30% of the assignments (12.5% is perfect balance).
static void test_init_load(void **state) {
    (void)state;
    model_config c;
    tiny_moe(&c, "swiglu", 8, 2, 1, MOE_SOFTMAX);
    c.vocab_size = 4096;
    rng_t r;
    rng_seed(&r, g_seed ^ 0x10ad);
    model *m = model_create(&c, rng_u64(&r));
    enum { B = 16, T = 32, N = B * T };
    int32_t tok[N], tgt[N];
    random_batch(&r, tok, tgt, N, c.vocab_size);
    model_forward(m, tok, tgt, B, T);
    for (int l = 0; l < c.n_layers; l++) {
        model_moe_view v;
        assert_int_equal(model_moe_view_of(m, l, &v), 0);
        assert_int_equal(v.expert_rows[v.E], N * v.k);
        for (int e = 0; e < v.E; e++) {
            double f = (v.expert_rows[e + 1] - v.expert_rows[e]) / (double)(N * v.k);
            if (l == 0 && (f < 0.05 || f > 0.3)) fail_msg("layer %d expert %d gets %.3f of the tokens", l, e, f);
        }
        assert_true(v.lb_loss > 1.9 && v.lb_loss < 2.5);  // k = 2 at perfect balance
        assert_non_null(v.shared_act_out);
    }
    model_free(m);
}

// Totals against the built model; active = router + k experts + shared per layer.
static void test_param_counts(void **state) {
    (void)state;
    model_config c;
    tiny_moe(&c, "polynorm", 8, 2, 1, MOE_SIGMOID);
    model_param_split s;
    model_param_split_of(&c, &s);
    model *m = model_create(&c, 1);
    assert_int_equal(s.total, model_num_params(m));
    size_t d = 32, h = 32, expert = 2 * d * h + 4, shared = expert;
    assert_int_equal(s.ffn_active, 2 * (8 * d + 2 * expert + shared));
    assert_int_equal(s.active, s.total - s.ffn + s.ffn_active);
    assert_true(model_tensor_find(m, "model.layers.1.mlp.experts.7.act.bias") >= 0);
    assert_true(model_tensor_find(m, "model.layers.1.mlp.shared_expert.up_proj.weight") >= 0);
    assert_true(model_tensor_find(m, "model.layers.1.mlp.up_proj.weight") < 0);
    model_free(m);
    c.moe_experts = 0;  // dense: active is everything
    model_param_split_of(&c, &s);
    assert_int_equal(s.active, s.total);
    // the default expert is as wide as the dense FFN: non-gated 3/2 of the gated width
    c.moe_experts = 4, c.moe_hidden = 0;
    assert_int_equal(model_expert_hidden(&c), 3 * 128 / 2);  // 8/3·32 -> 128 gated
}

static void expect_bad(const model_config *c, const char *needle) {
    const char *why = model_config_check(c);
    if (!why || !strstr(why, needle)) fail_msg("expected an error naming '%s', got '%s'", needle, why ? why : "(none)");
    printf("  refused: %s\n", why);
}

static void test_bad_configs(void **state) {
    (void)state;
    model_config c;
    tiny_moe(&c, "swiglu", 4, 2, 0, MOE_SOFTMAX);
    assert_null(model_config_check(&c));
    c.moe_top_k = 5;
    expect_bad(&c, "moe_top_k");
    c.moe_top_k = 0;
    expect_bad(&c, "moe_top_k");
    c.moe_top_k = 2, c.moe_experts = -1;
    expect_bad(&c, "moe_experts");
    c.moe_experts = MOE_MAX_EXPERTS + 1;
    expect_bad(&c, "moe_experts");
    c.moe_experts = 4, c.moe_shared = -1;
    expect_bad(&c, "moe_shared");
    c.moe_shared = 0, c.moe_router = 7;
    expect_bad(&c, "moe_router");
    c.moe_router = MOE_SOFTMAX, c.moe_aux_coef = -1;
    expect_bad(&c, "moe_aux_coef");
    c.moe_aux_coef = 0, c.moe_z_coef = NAN;
    expect_bad(&c, "moe_z_coef");
}

// Loss, gradients and the routing bit-identical with 1 and 2 threads.
static void test_thread_invariance(void **state) {
    (void)state;
    static const int routers[2] = {MOE_SOFTMAX, MOE_SIGMOID};
    for (int i = 0; i < 2; i++) {
        model_config c;
        tiny_moe(&c, i ? "polynorm" : "swiglu", 4, 2, i, routers[i]);
        c.d_model = 64, c.max_seq_len = 64;
        rng_t r;
        rng_seed(&r, g_seed ^ 0x7d);
        model *m = model_create(&c, rng_u64(&r));
        enum { B = 3, T = 64, N = B * T };
        int32_t tok[N], tgt[N];
        random_batch(&r, tok, tgt, N, c.vocab_size);
        expect_thread_invariant(m, tok, tgt, B, T, moe_router_names[routers[i]]);
        model_free(m);
    }
}

// Plain Adam, as in test_model_train.c.
static void adam_step(float *p, const float *g, float *mom, float *vel, size_t n, int t, float lr) {
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
    for (size_t i = 0; i < n; i++) {
        mom[i] = b1 * mom[i] + (1 - b1) * g[i];
        vel[i] = b2 * vel[i] + (1 - b2) * g[i] * g[i];
        p[i] -= lr * (mom[i] / c1) / (sqrtf(vel[i] / c2) + 1e-8f);
    }
}

// An MoE model memorises one random batch (32 tokens, random targets) from ~3.47 (ln 32) to below
// OVERFIT_LOSS within 400 steps, for each router (the sigmoid one with its bias updates running).
// Most seeds pass 0.05 in 25-45 steps; some plateau near 0.10 (ACTLAB_SEED=1787059855891352775:
// 0.1034 from step 175 on, the softmax router; 2 of 13 random seeds did), so the bar is 0.15: 23x below
// the start, which no broken gradient reaches.
#define OVERFIT_LOSS 0.15f
static void overfit(int router) {
    model_config c;
    tiny_moe(&c, "swiglu", 4, 2, router == MOE_SIGMOID, router);
    c.moe_renorm = router == MOE_SIGMOID;
    rng_t r;
    rng_seed(&r, g_seed ^ 0x0f);
    model *m = model_create(&c, rng_u64(&r));
    enum { B = 2, T = 16, N = B * T };
    int32_t tok[N], tgt[N];
    random_batch(&r, tok, tgt, N, c.vocab_size);
    size_t n = model_num_params(m);
    float *mom = calloc(n, sizeof(float)), *vel = calloc(n, sizeof(float)), first = 0, loss = 0;
    int step;
    for (step = 1; step <= 400; step++) {
        loss = model_forward(m, tok, tgt, B, T);
        if (step == 1) first = loss;
        if (loss < OVERFIT_LOSS) break;
        model_zero_grad(m);
        model_backward(m);
        adam_step(model_params(m), model_grads(m), mom, vel, n, step, 1e-2f);
        model_moe_step_end(m, 1);
    }
    printf("  overfit moe %-8s loss %.3f -> %.4f in %d steps\n", moe_router_names[router], first, loss, step);
    if (!(loss < OVERFIT_LOSS)) fail_msg("%s router: loss %.4f after 400 steps", moe_router_names[router], loss);
    free(mom), free(vel);
    model_free(m);
}

static void test_overfit(void **state) {
    (void)state;
    overfit(MOE_SOFTMAX);
    overfit(MOE_SIGMOID);
}

// ---- low precision ---------------------------------------------------------------------------
// Every expert's projections are quantised with its own tensors (named L<l>.e<e>.* and
// L<l>.shared.*), each counting exactly the rows routed to it; native bf16 / FP8-on-codes GEMMs
// agree with the exact emulation; the loss stays near fp32's; 1 and 2 threads agree bitwise.

static model *moe_lowp(const model_config *c, precision_kind p, fp8_scaling_kind sk, uint64_t seed) {
    model *m = model_create(c, seed);
    model_precision mp;
    model_precision_default(&mp);
    mp.precision = p, mp.scaling = sk, mp.amax_history = 2, mp.seed = seed;
    model_set_precision(m, &mp);
    return m;
}

static model_lowp_stat stat_named(const model *m, const char *name) {
    int n = model_lowp_count(m);
    model_lowp_stat *st = calloc((size_t)n, sizeof *st);
    int k = model_lowp_stats(m, st, n);
    for (int i = 0; i < k; i++)
        if (!strcmp(st[i].name, name)) {
            model_lowp_stat out = st[i];
            free(st);
            return out;
        }
    fail_msg("no quantised tensor %s", name);
    return st[0];
}

static void test_low_precision(void **state) {
    (void)state;
    static const struct { const char *act; int router, shared; } CASES[] = {{"swiglu", MOE_SOFTMAX, 1},
                                                                           {"polynorm", MOE_SIGMOID, 0}};
    static const struct { precision_kind p; fp8_scaling_kind s; } PRECS[] = {
        {PREC_BF16, FP8_DELAYED}, {PREC_FP8, FP8_DELAYED}, {PREC_FP8, FP8_CURRENT}, {PREC_NVFP4, FP8_DELAYED}};
    enum { B = 2, T = 16, N = B * T };
    for (size_t ci = 0; ci < sizeof CASES / sizeof CASES[0]; ci++)
        for (size_t pi = 0; pi < sizeof PRECS / sizeof PRECS[0]; pi++) {
            model_config c;
            tiny_moe(&c, CASES[ci].act, 4, 2, CASES[ci].shared, CASES[ci].router);
            rng_t r;
            rng_seed(&r, g_seed ^ (0x10f7 + ci));
            uint64_t seed = rng_u64(&r);
            int32_t tok[N], tgt[N];
            random_batch(&r, tok, tgt, N, c.vocab_size);
            model *f32 = model_create(&c, seed);
            float ref = model_forward(f32, tok, tgt, B, T);
            model_free(f32);
            float loss[2];
            model *mm[2];
            for (int native = 0; native < 2; native++) {
                gemm_set_bf16_native(native);
                mm[native] = moe_lowp(&c, PRECS[pi].p, PRECS[pi].s, seed);
                model_zero_grad(mm[native]);
                loss[native] = model_forward(mm[native], tok, tgt, B, T);
                model_backward(mm[native]);
            }
            gemm_set_bf16_native(1);
            printf("  moe %s %s/%s: fp32 %.6f, native %.6f, emulated %.6f\n", CASES[ci].act,
                   precision_name(PRECS[pi].p), fp8_scaling_name(PRECS[pi].s), ref, loss[1], loss[0]);
            // without bf16 instructions both runs are the emulation: still a valid (weaker) check
            assert_true(fabsf(loss[1] - loss[0]) <= 1e-4f * fabsf(loss[0]));
            assert_true(fabsf(loss[0] - ref) < (PRECS[pi].p == PREC_NVFP4 ? 0.1f : 0.02f));
            model_moe_view v;
            assert_int_equal(model_moe_view_of(mm[1], 0, &v), 0);
            char name[48];
            for (int e = 0; e < v.E; e++) {
                snprintf(name, sizeof name, "L0.e%d.ffn_in.x", e);
                model_lowp_stat st = stat_named(mm[1], name);
                assert_true(st.n == (uint64_t)(v.expert_rows[e + 1] - v.expert_rows[e]) * (uint64_t)c.d_model);
                snprintf(name, sizeof name, "L1.e%d.ffn_down.w", e);
                assert_true(stat_named(mm[1], name).n == (uint64_t)c.d_model * (uint64_t)c.moe_hidden);
            }
            if (CASES[ci].shared) assert_true(stat_named(mm[1], "L0.shared.ffn_up.dy").n == (uint64_t)N * c.moe_hidden);
            model_free(mm[0]);
            model_free(mm[1]);
        }
}

static void test_low_precision_threads(void **state) {
    (void)state;
    model_config c;
    tiny_moe(&c, "swiglu", 4, 2, 1, MOE_SOFTMAX);
    c.d_model = 64, c.max_seq_len = 64;
    rng_t r;
    rng_seed(&r, g_seed ^ 0x7e);
    uint64_t seed = rng_u64(&r);
    enum { B = 3, T = 64, N = B * T };
    int32_t tok[N], tgt[N];
    random_batch(&r, tok, tgt, N, c.vocab_size);
    for (int p = 0; p < 2; p++) {
        model *m = moe_lowp(&c, p ? PREC_FP8 : PREC_BF16, FP8_CURRENT, seed);
        expect_thread_invariant(m, tok, tgt, B, T, p ? "fp8" : "bf16");
        model_free(m);
    }
}

int main(void) {
    g_seed = test_seed("test_model_moe");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_softmax), cmocka_unit_test(test_route_sigmoid_bias), cmocka_unit_test(test_group),
        cmocka_unit_test(test_aux_losses),    cmocka_unit_test(test_bias_balancing),     cmocka_unit_test(test_init_load),
        cmocka_unit_test(test_param_counts),  cmocka_unit_test(test_bad_configs),        cmocka_unit_test(test_thread_invariance),
        cmocka_unit_test(test_overfit),       cmocka_unit_test(test_low_precision),      cmocka_unit_test(test_low_precision_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
