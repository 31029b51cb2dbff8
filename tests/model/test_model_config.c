// test_model_config.c — configuration checks, derived sizes, parameter layout and names,
// initialisation statistics, the FLOP count, and loud failures on bad input.
#include "model/model.h"
#include "test_seed.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static uint64_t g_seed;

static void expect_bad(const model_config *c, const char *phrase) {
    const char *msg = model_config_check(c);
    if (!msg || !strstr(msg, phrase)) fail_msg("expected an error containing \"%s\", got \"%s\"", phrase, msg ? msg : "(valid)");
}

static void test_config_check(void **state) {
    (void)state;
    model_config d, c;
    model_config_default(&d);
    assert_null(model_config_check(&d));
    c = d, c.d_model = 250, expect_bad(&c, "d_model (250) must be a multiple of n_heads (4)");
    c = d, c.d_model = 12, c.n_heads = 4, expect_bad(&c, "head size d_model/n_heads = 3 must be even");
    c = d, c.n_kv_heads = 3, expect_bad(&c, "n_heads (4) must be a multiple of n_kv_heads (3)");
    c = d, c.n_kv_heads = 0, expect_bad(&c, "n_kv_heads must be positive");
    c = d, c.vocab_size = 70000, expect_bad(&c, "uint16");
    c = d, c.n_layers = 0, expect_bad(&c, "n_layers");
    c = d, c.max_seq_len = -1, expect_bad(&c, "max_seq_len");
    c = d, c.norm_eps = 0, expect_bad(&c, "norm_eps");
    c = d, c.init_std = NAN, expect_bad(&c, "init_std");
    c = d, c.rope_theta = 0.5f, expect_bad(&c, "rope_theta");
    c = d, c.act.kind = ACT_COUNT, expect_bad(&c, "unknown activation");
    c = d, assert_int_equal(act_spec_init(&c.act, "powlu"), 0), c.act.hp[0] = 1e9f, expect_bad(&c, "powlu");
}

static void test_ffn_hidden(void **state) {
    (void)state;
    model_config c;
    model_config_default(&c);
    assert_int_equal(model_ffn_hidden(&c), 704);  // 8/3·256 = 682.7 -> 704
    c.d_model = 2048;
    assert_int_equal(model_ffn_hidden(&c), 5504);  // the PolyCom paper's 1B sizes
    act_spec_init(&c.act, "polynorm");
    assert_int_equal(model_ffn_hidden(&c), 8256);
    c.ffn_hidden = 100;
    assert_int_equal(model_ffn_hidden(&c), 100);
}

// The split from the configuration alone against the tensors a built model holds, classified here
// by their Hugging Face names.
static void test_param_split(void **state) {
    (void)state;
    static const char *ACTS[] = {"swiglu", "polynorm", "gelu", "powlu", "polyrelu"};
    for (int k = 0; k < 5; k++)
        for (int tied = 0; tied <= 1; tied++) {
            model_config c;
            model_config_default(&c);
            c.vocab_size = 300, c.d_model = 32, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2 - tied;
            c.tied_embeddings = tied;
            assert_int_equal(act_spec_init(&c.act, ACTS[k]), 0);
            model_param_split s;
            model_param_split_of(&c, &s);
            model *m = model_create(&c, 1);
            size_t emb = 0, attn = 0, ffn = 0, norm = 0;
            for (int i = 0; i < model_num_tensors(m); i++) {
                const model_tensor *t = model_tensor_at(m, i);
                size_t *slot = strstr(t->name, "embed_tokens") || strstr(t->name, "lm_head") ? &emb
                               : strstr(t->name, "self_attn")                                ? &attn
                               : strstr(t->name, ".mlp.")                                    ? &ffn
                                                                                             : &norm;
                *slot += t->numel;
            }
            assert_int_equal(s.embeddings, emb);
            assert_int_equal(s.attention, attn);
            assert_int_equal(s.ffn, ffn);
            assert_int_equal(s.norms, norm);
            assert_int_equal(s.total, model_num_params(m));
            model_free(m);
        }
}

static void test_layout_and_names(void **state) {
    (void)state;
    model_config c;
    model_config_default(&c);
    model *m = model_create(&c, 1);
    // 2·V·d (embedding and head) + per layer (2 norms, q/o d², k/v d·kvd, 3 FFN d·h) + final norm
    size_t per_layer = 2 * 256 + 2 * 256 * 256 + 2 * 256 * 256 + 3 * 256 * 704;
    assert_int_equal(model_num_params(m), 2 * 8192 * 256 + 4 * per_layer + 256);
    const char *expect[] = {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                            "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                            "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight",
                            "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight"};
    for (int i = 0; i < 10; i++) assert_string_equal(model_tensor_at(m, i)->name, expect[i]);
    int n = model_num_tensors(m);
    assert_int_equal(n, 1 + 4 * 9 + 2);
    assert_string_equal(model_tensor_at(m, n - 1)->name, "lm_head.weight");
    assert_string_equal(model_tensor_at(m, n - 2)->name, "model.norm.weight");
    size_t off = 0;
    for (int i = 0; i < n; i++) {  // contiguous, covering every parameter; shapes (out, in)
        const model_tensor *t = model_tensor_at(m, i);
        assert_int_equal(t->offset, off);
        off += t->numel;
        assert_int_equal(t->numel, t->ndim == 2 ? (size_t)t->shape[0] * t->shape[1] : (size_t)t->shape[0]);
        assert_int_equal(t->decay, t->ndim == 2);
    }
    assert_int_equal(off, model_num_params(m));
    const model_tensor *down = model_tensor_at(m, model_tensor_find(m, "model.layers.3.mlp.down_proj.weight"));
    assert_int_equal(down->shape[0], 256);
    assert_int_equal(down->shape[1], 704);
    assert_int_equal(model_tensor_find(m, "no.such.tensor"), -1);
    model_free(m);

    // PolyNorm: no gate, the four scalars as weight (3) + bias (1), no decay; tied head: no lm_head
    act_spec_init(&c.act, "polynorm");
    c.tied_embeddings = 1, c.n_kv_heads = 2;
    m = model_create(&c, 1);
    assert_int_equal(model_tensor_find(m, "model.layers.0.mlp.gate_proj.weight"), -1);
    assert_int_equal(model_tensor_find(m, "lm_head.weight"), -1);
    const model_tensor *k = model_tensor_at(m, model_tensor_find(m, "model.layers.1.self_attn.k_proj.weight"));
    assert_int_equal(k->shape[0], 128);  // 2 kv heads of 64
    const model_tensor *w = model_tensor_at(m, model_tensor_find(m, "model.layers.1.mlp.act.weight"));
    const model_tensor *b = model_tensor_at(m, model_tensor_find(m, "model.layers.1.mlp.act.bias"));
    assert_int_equal(w->numel, 3);
    assert_int_equal(b->numel, 1);
    assert_int_equal(w->decay, 0);
    float init[4];
    act_params_init(ACT_POLYNORM, init);
    assert_memory_equal(model_params(m) + w->offset, init, 3 * sizeof(float));
    assert_true(model_params(m)[b->offset] == init[3]);
    model_free(m);
}

static double tensor_std(const model *m, const char *name) {
    const model_tensor *t = model_tensor_at(m, model_tensor_find(m, name));
    const float *p = model_params((model *)m) + t->offset;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < t->numel; i++) s += p[i], s2 += (double)p[i] * p[i];
    double mean = s / t->numel;
    assert_true(fabs(mean) < 5 * sqrt(s2 / t->numel / t->numel) + 1e-12);  // mean within 5 standard errors of 0
    return sqrt(s2 / t->numel - mean * mean);
}

static void test_init(void **state) {
    (void)state;
    model_config c;
    model_config_default(&c);
    model *a = model_create(&c, g_seed), *b = model_create(&c, g_seed), *o = model_create(&c, g_seed + 1);
    size_t n = model_num_params(a);
    assert_memory_equal(model_params(a), model_params(b), n * sizeof(float));  // the seed alone decides
    assert_true(memcmp(model_params(a), model_params(o), n * sizeof(float)) != 0);
    // 65536+ samples: the sample std is within 1% of the target with overwhelming probability
    // (its standard error is 0.3%).
    double want = 0.02, want_out = 0.02 / sqrt(8.0);
    const char *plain[] = {"model.embed_tokens.weight", "model.layers.2.self_attn.q_proj.weight",
                           "model.layers.0.mlp.gate_proj.weight", "lm_head.weight"};
    for (int i = 0; i < 4; i++) assert_true(fabs(tensor_std(a, plain[i]) / want - 1) < 0.03);
    assert_true(fabs(tensor_std(a, "model.layers.1.self_attn.o_proj.weight") / want_out - 1) < 0.03);
    assert_true(fabs(tensor_std(a, "model.layers.3.mlp.down_proj.weight") / want_out - 1) < 0.03);
    const model_tensor *g = model_tensor_at(a, model_tensor_find(a, "model.layers.1.post_attention_layernorm.weight"));
    for (size_t i = 0; i < g->numel; i++) assert_true(model_params(a)[g->offset + i] == 1.0f);
    for (size_t i = 0; i < n; i++) assert_true(model_grads(a)[i] == 0.0f);
    // FLOPs: 6 × (4 layers of q,k,v,o + 3 FFN matrices, plus the head) + causal attention
    double mm = 4 * (4.0 * 256 * 256 + 3.0 * 256 * 704) + 8192.0 * 256;
    assert_true(fabs(model_flops_per_token(a, 256) - (6 * mm + 6.0 * 4 * 256 * 257)) < 1);
    model_free(a), model_free(b), model_free(o);
}

// A bad token id must stop the program with status 1 and a message, not read out of bounds.
static void test_bad_input_dies(void **state) {
    (void)state;
    model_config c;
    model_config_default(&c);
    c.vocab_size = 50, c.d_model = 16, c.n_heads = 2, c.n_kv_heads = 2, c.n_layers = 1, c.max_seq_len = 4;
    int32_t tok[4] = {1, 2, 50, 3}, ok[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int which = 0; which < 3; which++) {
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            model *m = model_create(&c, 1);
            if (which == 0) model_forward(m, tok, NULL, 1, 4);  // token 50 >= V
            if (which == 1) model_forward(m, ok, NULL, 2, 4);  // fine; then T > max_seq_len
            if (which == 1) model_forward(m, ok, NULL, 1, 5);
            if (which == 2) model_backward(m);                 // no forward yet
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
    }
}

int main(void) {
    g_seed = test_seed("test_model_config");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check), cmocka_unit_test(test_ffn_hidden),
        cmocka_unit_test(test_layout_and_names), cmocka_unit_test(test_param_split), cmocka_unit_test(test_init),
        cmocka_unit_test(test_bad_input_dies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
