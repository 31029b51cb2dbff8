// test_model_lowp.c — the model's low-precision emulation: delayed scaling with a planted
// outlier (the overflow is counted on its step, the next scale is fp8_max / amax as Transformer
// Engine specifies), formats per tensor, evaluation leaves the scales alone, the quantised
// forward stays close to fp32 but not equal, and the scaling state round-trips.
#include "model/model.h"
#include "test_seed.h"
#include "gemm/gemm.h"
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

static uint64_t g_seed;
enum { B = 2, T = 16, N = B * T, MAXT = 64 };

static model *tiny_tied(const char *act, precision_kind p, fp8_scaling_kind s, int history, int tied) {
    model_config c;
    model_config_default(&c);
    c.vocab_size = 32, c.d_model = 32, c.n_layers = 2, c.n_heads = 2, c.n_kv_heads = 2, c.max_seq_len = T;
    c.tied_embeddings = tied;
    assert_int_equal(act_spec_init(&c.act, act), 0);
    model *m = model_create(&c, g_seed);
    model_precision mp;
    model_precision_default(&mp);
    mp.precision = p, mp.scaling = s, mp.amax_history = history;
    model_set_precision(m, &mp);
    return m;
}

static model *tiny(const char *act, precision_kind p, fp8_scaling_kind s, int history) {
    return tiny_tied(act, p, s, history, 0);
}

static void batch(int32_t *tok, int32_t *tgt, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < N; i++) tok[i] = (int32_t)(rng_u64(&r) % 32), tgt[i] = (int32_t)(rng_u64(&r) % 32);
}

static float step(model *m, const int32_t *tok, const int32_t *tgt) {
    model_zero_grad(m);
    float loss = model_forward(m, tok, tgt, B, T);
    model_backward(m);
    model_lowp_step_end(m);
    return loss;
}

static model_lowp_stat find(const model *m, const char *name) {
    model_lowp_stat st[MAXT];
    int n = model_lowp_stats(m, st, MAXT);
    for (int i = 0; i < n; i++)
        if (!strcmp(st[i].name, name)) return st[i];
    fail_msg("no quantised tensor %s", name);
    return st[0];
}

static void test_planted_outlier_delayed(void **state) {
    (void)state;
    model *m = tiny("swiglu", PREC_FP8, FP8_DELAYED, 4);
    int32_t tok[N], tgt[N];
    batch(tok, tgt, g_seed + 1);
    for (int s = 0; s < 3; s++) step(m, tok, tgt);  // the history learns the weights' amax
    int up = model_tensor_find(m, "model.layers.0.mlp.up_proj.weight");
    float *w = model_params(m) + model_tensor_at(m, up)->offset;
    float normal_amax = find(m, "L0.ffn_up.w").amax;
    model_lowp_stats_reset(m);
    const float outlier = 1000.0f * normal_amax;
    w[17] = outlier;
    step(m, tok, tgt);
    model_lowp_stat s1 = find(m, "L0.ffn_up.w");
    printf("outlier step: scale %g (from the history), amax %g, saturated %llu\n", s1.scale, s1.amax,
           (unsigned long long)s1.n_sat);
    assert_true(s1.amax == outlier);
    assert_int_equal(s1.n_sat, 1);  // only the outlier overflows the scale taken from earlier steps
    assert_true(s1.scale == num_fp8_scale(NUM_E4M3, normal_amax, 0, 1));
    model_lowp_stats_reset(m);
    step(m, tok, tgt);
    model_lowp_stat s2 = find(m, "L0.ffn_up.w");
    assert_true(s2.scale == 448.0f / outlier);  // Transformer Engine: fp8_max / max(history) / 2^margin
    assert_int_equal(s2.n_sat, 0);
    // The outlier stays in the 4-step window, then drops out (the weight is restored first).
    w[17] = 0;
    for (int s = 0; s < 3; s++) step(m, tok, tgt);
    model_lowp_stats_reset(m);
    step(m, tok, tgt);
    assert_true(find(m, "L0.ffn_up.w").scale == 448.0f / outlier);
    model_lowp_stats_reset(m);
    step(m, tok, tgt);
    assert_true(find(m, "L0.ffn_up.w").scale > 448.0f / outlier * 100);
    model_free(m);
}

// bf16 and fp8 forward losses are close to fp32's (the same weights and batch) but not equal;
// the non-gated activations have no gate tensors.
static void test_close_but_not_equal(void **state) {
    (void)state;
    int32_t tok[N], tgt[N];
    batch(tok, tgt, g_seed + 2);
    const char *acts[2] = {"powlu", "relu2"};
    for (int a = 0; a < 2; a++) {
        model *ref = tiny(acts[a], PREC_FP32, FP8_DELAYED, 1);
        float l32 = model_forward(ref, tok, tgt, B, T);
        int n_equal = 0;
        assert_int_equal(model_lowp_stats(ref, NULL, 0), 0);
        for (int p = 0; p < 4; p++) {
            precision_kind pk = p == 0 ? PREC_BF16 : PREC_FP8;
            fp8_scaling_kind sk = p == 3 ? FP8_BLOCK : p == 2 ? FP8_CURRENT : FP8_DELAYED;
            model *m = tiny(acts[a], pk, sk, 1);
            float l = model_forward(m, tok, tgt, B, T);
            printf("%s %s/%s: loss %.6f vs fp32 %.6f\n", acts[a], precision_name(pk), fp8_scaling_name(sk), l, l32);
            // One precision's mean loss can round to fp32's exactly (relu2 fp8/current did for
            // ACTLAB_SEED=1245042594974245400): each is required to quantise (the statistics below),
            // and not all four to leave the loss as it was.
            n_equal += l == l32;
            // delayed scaling starts at scale 1, so small values flush: allow more there
            assert_true(fabsf(l - l32) < (pk == PREC_BF16 ? 2e-3f : sk == FP8_DELAYED ? 0.1f : 2e-2f) * l32);
            model_lowp_stat st[MAXT];
            int n = model_lowp_stats(m, st, MAXT);
            assert_int_equal(n, a == 0 ? 2 * 14 + 3 : 2 * 12 + 3);
            model_free(m);
        }
        assert_true(n_equal < 4);
        model_free(ref);
    }
}

// Evaluation passes (recording off) leave the amax history, the scales and the counts alone.
static void test_eval_does_not_record(void **state) {
    (void)state;
    int32_t tok[N], tgt[N];
    batch(tok, tgt, g_seed + 3);
    model *m = tiny("swiglu", PREC_FP8, FP8_DELAYED, 8);
    step(m, tok, tgt);
    size_t ns = model_lowp_state_size(m);
    float *before = malloc(ns * sizeof(float)), *after = malloc(ns * sizeof(float));
    model_lowp_state_save(m, before);
    model_lowp_stat a = find(m, "L1.ffn_down.x");
    model_lowp_set_recording(m, 0);
    for (int i = 0; i < N; i++) tok[i] = (tok[i] + 5) % 32;
    model_forward(m, tok, NULL, B, T);
    model_lowp_set_recording(m, 1);
    model_lowp_state_save(m, after);
    assert_memory_equal(before, after, ns * sizeof(float));
    model_lowp_stat b = find(m, "L1.ffn_down.x");
    assert_true(a.n == b.n && a.amax == b.amax);
    // and the state loads back into a fresh model, which then quantises identically
    model *m2 = tiny("swiglu", PREC_FP8, FP8_DELAYED, 8);
    memcpy(model_params(m2), model_params(m), model_num_params(m) * sizeof(float));
    assert_int_equal(model_lowp_state_load(m2, after, ns), 0);
    assert_int_equal(model_lowp_state_load(m2, after, ns - 1), -1);
    assert_true(model_forward(m, tok, tgt, B, T) == model_forward(m2, tok, tgt, B, T));
    free(before);
    free(after);
    model_free(m);
    model_free(m2);
}

// keep_act_bf16 changes exactly one tensor per layer (the down-projection input) to bf16.
static void test_keep_act_bf16(void **state) {
    (void)state;
    model *m = tiny("swiglu", PREC_FP8, FP8_CURRENT, 1);
    model_precision mp;
    model_precision_default(&mp);
    mp.precision = PREC_FP8, mp.scaling = FP8_CURRENT, mp.keep_act_bf16 = 1;
    model_set_precision(m, &mp);
    model_lowp_stat st[MAXT];
    int n = model_lowp_stats(m, st, MAXT);
    for (int i = 0; i < n; i++) {
        int want_bf16 = strstr(st[i].name, "ffn_down.x") || !strncmp(st[i].name, "lm_head", 7);
        assert_int_equal(!strcmp(st[i].fmt, "bf16"), want_bf16);
    }
    model_free(m);
}

// Native bf16 / FP8-on-codes GEMMs against the exact emulation (f32 GEMMs of Q(x·s)/s), same
// weights and batch: the same tensors quantised with the same counts, and loss and gradients
// equal up to summation order (which can flip a later rounding, hence the gradient bound).
static void test_native_matches_emulation(void **state) {
    (void)state;
    if (!gemm_bf16_native()) skip();
    const char *acts[2] = {"swiglu", "polynorm"};
    int32_t tok[N], tgt[N];
    batch(tok, tgt, g_seed + 4);
    for (int a = 0; a < 2; a++)
        for (int p = 0; p < 6; p++) {  // 4: bf16 with a tied embedding (read from the head's codes)
            precision_kind pk = p == 0 || p == 4 ? PREC_BF16 : PREC_FP8;
            fp8_scaling_kind sk = p == 1 ? FP8_DELAYED : p == 5 ? FP8_BLOCK : FP8_CURRENT;
            model *mm[2];
            float loss[2];
            for (int native = 0; native < 2; native++) {
                gemm_set_bf16_native(native);
                mm[native] = tiny_tied(acts[a], pk, sk, 2, p == 4);
                model_precision mp;
                model_precision_default(&mp);
                mp.precision = pk, mp.scaling = sk, mp.amax_history = 2, mp.keep_act_bf16 = p == 3;
                model_set_precision(mm[native], &mp);
                for (int s = 0; s < 2; s++) loss[native] = step(mm[native], tok, tgt);
            }
            gemm_set_bf16_native(1);
            printf("%s %s/%s%s: native %.7f emulated %.7f\n", acts[a], precision_name(pk), fp8_scaling_name(sk),
                   p == 3 ? " keep-act-bf16" : p == 4 ? " tied" : "", loss[1], loss[0]);
            assert_true(fabsf(loss[1] - loss[0]) <= 1e-4f * fabsf(loss[0]));
            double d2 = 0, g2 = 0;
            const float *g0 = model_grads(mm[0]), *g1 = model_grads(mm[1]);
            for (size_t i = 0; i < model_num_params(mm[0]); i++) d2 += (g1[i] - g0[i]) * (double)(g1[i] - g0[i]), g2 += (double)g0[i] * g0[i];
            printf("  gradient difference %.3g of the gradient norm\n", sqrt(d2 / g2));
            // FP8: a summation-order difference that flips one E4M3/E5M2 rounding moves that value by up
            // to 1/8, and the second step carries it through the update; over 60 random seeds the
            // relative difference reached 0.041 (2e-2 failed ~13% of runs). bf16 likewise by up to
            // 2^-8: 1.6e-3 for PolyNorm (ACTLAB_SEED=13807430960529496900; 1e-3 failed 1% of runs).
            // A wrong scale or a missed quantisation gives O(1).
            assert_true(sqrt(d2) <= (pk == PREC_BF16 ? 1e-2 : 1e-1) * sqrt(g2));
            model_lowp_stat s0[MAXT], s1[MAXT];
            int n0 = model_lowp_stats(mm[0], s0, MAXT), n1 = model_lowp_stats(mm[1], s1, MAXT);
            assert_int_equal(n0, n1);
            for (int i = 0; i < n0; i++) {
                assert_string_equal(s0[i].fmt, s1[i].fmt);
                assert_true(s0[i].n == s1[i].n);
            }
            model_free(mm[0]);
            model_free(mm[1]);
        }
}

// The native paths tile their GEMMs by shape, not by thread: loss and gradients bit-identical for
// 1 and 2 OpenMP threads, at a size (256 rows, d 64) where the products run as several tiles.
static void test_native_threads_bitwise(void **state) {
    (void)state;
    enum { BB = 4, TT = 64, NN = BB * TT };
    int32_t tok[NN], tgt[NN];
    rng_t r;
    rng_seed(&r, g_seed + 5);
    for (int i = 0; i < NN; i++) tok[i] = (int32_t)(rng_u64(&r) % 64), tgt[i] = (int32_t)(rng_u64(&r) % 64);
    for (int p = 0; p < 3; p++) {
        model_config c;
        model_config_default(&c);
        c.vocab_size = 64, c.d_model = 64, c.n_layers = 2, c.n_heads = 2, c.n_kv_heads = 2, c.max_seq_len = TT;
        assert_int_equal(act_spec_init(&c.act, "swiglu"), 0);
        model_precision mp;
        model_precision_default(&mp);
        mp.precision = p ? PREC_FP8 : PREC_BF16, mp.scaling = p == 2 ? FP8_CURRENT : FP8_DELAYED;
        float loss[2];
        float *grads[2];
        int saved = omp_get_max_threads();
        for (int t = 0; t < 2; t++) {
            omp_set_num_threads(t + 1);
            model *m = model_create(&c, g_seed);
            model_set_precision(m, &mp);
            model_zero_grad(m);
            loss[t] = model_forward(m, tok, tgt, BB, TT);
            model_backward(m);
            grads[t] = malloc(model_num_params(m) * sizeof(float));
            memcpy(grads[t], model_grads(m), model_num_params(m) * sizeof(float));
            if (t) assert_memory_equal(grads[0], grads[1], model_num_params(m) * sizeof(float));
            model_free(m);
        }
        omp_set_num_threads(saved);
        assert_true(loss[0] == loss[1]);
        free(grads[0]);
        free(grads[1]);
    }
}

int main(void) {
    g_seed = test_seed("test_model_lowp");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_outlier_delayed),
        cmocka_unit_test(test_close_but_not_equal),
        cmocka_unit_test(test_eval_does_not_record),
        cmocka_unit_test(test_keep_act_bf16),
        cmocka_unit_test(test_native_matches_emulation),
        cmocka_unit_test(test_native_threads_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
