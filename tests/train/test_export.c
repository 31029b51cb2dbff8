// test_export.c — the safetensors file parsed back: header layout, names, shapes and the bytes.
#include "model/model.h"
#include "train/export.h"
#include "testutil.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

// dir/model.safetensors read whole into *buf (*n bytes): its JSON header, whose length is *hlen
// (a multiple of 8 that fits the file); the tensor data start at *buf + 8 + *hlen.
static json_t *read_safetensors(const char *dir, unsigned char **buf, size_t *n, uint64_t *hlen) {
    char path[320];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    *buf = test_slurp(path, n);
    memcpy(hlen, *buf, 8);
    assert_true(*hlen % 8 == 0 && 8 + *hlen <= *n);
    json_error_t je;
    json_t *h = json_loadb((const char *)*buf + 8, *hlen, 0, &je);
    assert_non_null(h);
    return h;
}

// act: actlab's name; stock: the hidden_act transformers' LlamaMLP computes it with, or NULL
// (then the folder carries modeling_actlab.py and config.json an auto_map to it).
static void check_export(const char *act, const char *stock, int tied) {
    char dir[256], path[320], err[512];
    test_tmpdir(dir, sizeof dir, "export");
    model_config c;
    model_config_default(&c);
    c.vocab_size = 100; c.d_model = 32; c.n_layers = 2; c.n_heads = 2; c.n_kv_heads = 1; c.max_seq_len = 16;
    c.tied_embeddings = tied;
    act_spec_init(&c.act, act);
    model *m = model_create(&c, test_seed(__func__));
    assert_int_equal(export_safetensors(m, "bpe:300", 99, dir, err, sizeof err), 0);

    size_t n;
    uint64_t hlen;
    unsigned char *buf;
    json_t *h = read_safetensors(dir, &buf, &n, &hlen);
    const unsigned char *data = buf + 8 + hlen;
    size_t data_len = n - 8 - hlen, covered = 0;
    assert_int_equal(json_object_size(h), (size_t)model_num_tensors(m) + 1);  // + __metadata__
    for (int i = 0; i < model_num_tensors(m); i++) {
        const model_tensor *t = model_tensor_at(m, i);
        json_t *e = json_object_get(h, t->name);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "dtype")), "F32");
        json_t *shape = json_object_get(e, "shape");
        size_t numel = 1;
        assert_int_equal(json_array_size(shape), t->ndim);
        for (size_t d = 0; d < json_array_size(shape); d++) numel *= (size_t)json_integer_value(json_array_get(shape, d));
        assert_int_equal(numel, t->numel);
        json_t *off = json_object_get(e, "data_offsets");
        size_t b = (size_t)json_integer_value(json_array_get(off, 0)), end = (size_t)json_integer_value(json_array_get(off, 1));
        assert_int_equal(end - b, t->numel * 4);
        assert_true(end <= data_len);
        assert_memory_equal(data + b, model_params(m) + t->offset, t->numel * 4);
        covered += end - b;
    }
    assert_int_equal(covered, data_len);
    assert_true(json_object_get(h, "model.embed_tokens.weight") != NULL);
    assert_true((json_object_get(h, "lm_head.weight") != NULL) == !tied);
    json_decref(h);
    free(buf);

    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t je;
    json_t *cfg = json_load_file(path, 0, &je);
    assert_non_null(cfg);
    assert_string_equal(json_string_value(json_object_get(cfg, "hidden_act")), stock ? stock : act);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cfg, "actlab"), "activation")), act);
    assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "architectures"), 0)),
                        stock ? "LlamaForCausalLM" : "ActlabForCausalLM");
    json_t *auto_map = json_object_get(cfg, "auto_map");
    assert_true((auto_map != NULL) == !stock);
    assert_string_equal(json_string_value(json_object_get(cfg, "model_type")), stock ? "llama" : "actlab");
    if (auto_map) {
        assert_string_equal(json_string_value(json_object_get(auto_map, "AutoConfig")), "modeling_actlab.ActlabConfig");
        assert_string_equal(json_string_value(json_object_get(auto_map, "AutoModelForCausalLM")),
                            "modeling_actlab.ActlabForCausalLM");
    }
    assert_int_equal(json_integer_value(json_object_get(cfg, "eos_token_id")), 99);
    const char *py[] = {"modeling_actlab.py", "actlab_activations.py"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, py[i]);
        FILE *f = fopen(path, "rb");
        assert_true((f != NULL) == !stock);
        if (f) fclose(f);
    }
    assert_int_equal(json_integer_value(json_object_get(cfg, "intermediate_size")), model_ffn_hidden(&c));
    assert_int_equal(json_integer_value(json_object_get(cfg, "num_key_value_heads")), 1);
    assert_true(json_is_boolean(json_object_get(cfg, "tie_word_embeddings")));
    json_decref(cfg);
    model_free(m);
    test_rmtree(dir);
}

static void test_export_swiglu_untied(void **state) {
    (void)state;
    check_export("swiglu", "silu", 0);
}

static void test_export_polyrelu_tied(void **state) {
    (void)state;
    check_export("polyrelu", NULL, 1);
}

static void test_export_geglu_reglu_powlu(void **state) {
    (void)state;
    check_export("geglu", "gelu_pytorch_tanh", 0);
    check_export("reglu", "relu", 0);
    check_export("powlu", NULL, 0);
}

// MoE: OLMoE names without shared experts, Qwen2-MoE's with; config.json says which and how wide.
static void check_export_moe(int shared, int router) {
    char dir[256], path[320], err[512];
    test_tmpdir(dir, sizeof dir, "export-moe");
    model_config c;
    model_config_default(&c);
    c.vocab_size = 100; c.d_model = 32; c.n_layers = 2; c.n_heads = 2; c.n_kv_heads = 2; c.max_seq_len = 16;
    c.moe_experts = 4, c.moe_top_k = 2, c.moe_shared = shared, c.moe_router = router, c.moe_hidden = 16;
    model *m = model_create(&c, 3);
    assert_int_equal(export_safetensors(m, "bpe:300", 99, dir, err, sizeof err), 0);
    size_t n;
    uint64_t hlen;
    unsigned char *buf;
    json_t *h = read_safetensors(dir, &buf, &n, &hlen);
    assert_non_null(json_object_get(h, "model.layers.1.mlp.gate.weight"));
    assert_non_null(json_object_get(h, "model.layers.1.mlp.experts.3.down_proj.weight"));
    assert_true((json_object_get(h, "model.layers.0.mlp.shared_expert.up_proj.weight") != NULL) == (shared > 0));
    assert_true((json_object_get(h, "model.layers.0.mlp.gate.e_score_correction_bias") != NULL) == (router == MOE_SIGMOID));
    json_decref(h);
    free(buf);
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t je;
    json_t *cfg = json_load_file(path, 0, &je);
    assert_non_null(cfg);
    assert_int_equal(json_integer_value(json_object_get(cfg, "num_experts")), 4);
    assert_int_equal(json_integer_value(json_object_get(cfg, "num_experts_per_tok")), 2);
    assert_int_equal(json_integer_value(json_object_get(cfg, "moe_intermediate_size")), 16);
    assert_true((json_object_get(cfg, "shared_expert_intermediate_size") != NULL) == (shared > 0));
    json_t *moe = json_object_get(json_object_get(cfg, "actlab"), "moe");
    assert_string_equal(json_string_value(json_object_get(moe, "naming")), shared ? "qwen2_moe" : "olmoe");
    assert_string_equal(json_string_value(json_object_get(moe, "scoring_func")), moe_router_names[router]);
    assert_string_equal(json_string_value(json_object_get(cfg, "model_type")), "actlab");
    json_decref(cfg);
    model_free(m);
    test_rmtree(dir);
}

static void test_export_moe(void **state) {
    (void)state;
    check_export_moe(0, MOE_SOFTMAX);
    check_export_moe(1, MOE_SIGMOID);
}

static void test_export_into_missing_folder_fails(void **state) {
    (void)state;
    model_config c;
    model_config_default(&c);
    c.vocab_size = 50; c.d_model = 16; c.n_layers = 1; c.n_heads = 2; c.n_kv_heads = 2; c.max_seq_len = 8;
    model *m = model_create(&c, 1);
    char err[512] = "";
    assert_int_equal(export_safetensors(m, "gpt2", -1, "/nonexistent/actlab/out", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create"));
    model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_swiglu_untied),
        cmocka_unit_test(test_export_polyrelu_tied),
        cmocka_unit_test(test_export_geglu_reglu_powlu),
        cmocka_unit_test(test_export_moe),
        cmocka_unit_test(test_export_into_missing_folder_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
