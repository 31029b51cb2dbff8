// export.c — see export.h.
#include "train/export.h"
#include "train/hf_files.h"
#include "util/atomic.h"
#include "util/check.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *safetensors_header(model *m, size_t *data_bytes) {
    json_t *h = json_object();
    json_object_set_new(h, "__metadata__", json_pack("{s:s, s:s}", "format", "pt", "producer", "actlab"));
    size_t off = 0;
    for (int i = 0; i < model_num_tensors(m); i++) {
        const model_tensor *t = model_tensor_at(m, i);
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer(t->shape[d]));
        size_t end = off + t->numel * sizeof(float);
        json_object_set_new(h, t->name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape, "data_offsets",
                                      (json_int_t)off, (json_int_t)end));
        off = end;
    }
    *data_bytes = off;
    return h;
}

static int write_weights(model *m, const char *path, char *err, size_t errlen) {
    size_t data_bytes;
    json_t *h = safetensors_header(m, &data_bytes);
    char *text = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    size_t n = strlen(text);
    size_t padded = (n + 7) / 8 * 8;  // spaces keep the data section 8-byte aligned
    uint64_t len = padded;
    atomic_file a;
    if (atomic_begin(&a, path, err, errlen)) {
        free(text);
        return -1;
    }
    atomic_write(&a, &len, 8);
    atomic_write(&a, text, n);
    atomic_write(&a, "        ", padded - n);
    free(text);
    const float *p = model_params(m);
    for (int i = 0; i < model_num_tensors(m); i++) {
        const model_tensor *t = model_tensor_at(m, i);
        atomic_write(&a, p + t->offset, t->numel * sizeof(float));
    }
    return atomic_commit(&a, err, errlen);
}

// transformers' LlamaMLP computes down(act(gate(x)) * up(x)): the gated activations of that form
// whose act has an exact twin in transformers' ACT2FN table. The rest need modeling_actlab.py.
const char *export_stock_act(act_kind kind) {
    switch (kind) {
    case ACT_SWIGLU: return "silu";
    case ACT_GEGLU: return "gelu_pytorch_tanh";  // actlab's GELU is the tanh form
    case ACT_REGLU: return "relu";
    default: return NULL;
    }
}

// The "actlab" section: the exact activation, whatever hidden_act says.
static json_t *actlab_section(const model_config *c, const char *tokenizer) {
    const act_desc *d = act_desc_of(c->act.kind);
    json_t *hp = json_object();
    for (int i = 0; i < d->n_hyper; i++) json_object_set_new(hp, d->hyper[i].name, json_real(c->act.hp[i]));
    return json_pack("{s:s, s:b, s:o, s:i, s:s, s:s}", "activation", d->name, "gated", d->gated, "hyperparameters",
                     hp, "activation_params", d->n_params, "tokenizer", tokenizer ? tokenizer : "", "version",
                     ACTLAB_VERSION);
}

// MoE: the tensors are named as in OLMoE (no shared experts) or Qwen2-MoE (shared experts), and the
// Hugging Face keys of those configs say how many and how wide; "actlab.moe" states the naming and
// what differs from either (no shared-expert gate, the router's scoring, the per-sequence balancing
// loss). The architecture stays actlab's: attention has no QK-norm (OLMoE) and no qkv bias (Qwen2).
static void moe_keys(json_t *cfg, const model_config *c) {
    int he = model_expert_hidden(c), shared = c->moe_shared > 0;
    json_object_set_new(cfg, "num_experts", json_integer(c->moe_experts));
    json_object_set_new(cfg, "num_experts_per_tok", json_integer(c->moe_top_k));
    json_object_set_new(cfg, "moe_intermediate_size", json_integer(he));
    json_object_set_new(cfg, "intermediate_size", json_integer(he));
    if (shared) json_object_set_new(cfg, "shared_expert_intermediate_size", json_integer(c->moe_shared * he));
    json_object_set_new(cfg, "norm_topk_prob", json_boolean(c->moe_renorm));
    json_object_set_new(cfg, "router_aux_loss_coef", json_real(c->moe_aux_coef));
    json_object_set_new(cfg, "output_router_logits", json_false());
    json_t *moe = json_pack("{s:s, s:s, s:i, s:b, s:b, s:s, s:f, s:f, s:f}", "naming", shared ? "qwen2_moe" : "olmoe",
                            "scoring_func", moe_router_names[c->moe_router], "n_shared_experts", c->moe_shared,
                            "shared_expert_gate", 0, "e_score_correction_bias", c->moe_router == MOE_SIGMOID,
                            "load_balancing", "per sequence: E * sum_e f_e * P_e, averaged over sequences",
                            "router_aux_loss_coef", (double)c->moe_aux_coef, "router_z_loss_coef",
                            (double)c->moe_z_coef, "bias_update_speed", (double)c->moe_bias_rate);
    json_object_set_new(json_object_get(cfg, "actlab"), "moe", moe);
}

static json_t *config_json(model *m, const char *tokenizer, int eot) {
    const model_config *c = model_cfg(m);
    // an MoE model has no stock transformers twin (see moe_keys)
    const char *stock = c->moe_experts > 0 ? NULL : export_stock_act(c->act.kind);
    json_t *cfg = json_pack(
        "{s:[s], s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:b, s:b, s:b, s:s}",
        "architectures", stock ? "LlamaForCausalLM" : "ActlabForCausalLM", "model_type", stock ? "llama" : "actlab",
        "torch_dtype",
        "float32", "vocab_size", c->vocab_size, "hidden_size", c->d_model, "intermediate_size", model_ffn_hidden(c),
        "num_hidden_layers", c->n_layers, "num_attention_heads", c->n_heads, "num_key_value_heads", c->n_kv_heads,
        "max_position_embeddings", c->max_seq_len, "rms_norm_eps", (double)c->norm_eps, "rope_theta",
        (double)c->rope_theta, "initializer_range", (double)c->init_std, "tie_word_embeddings", c->tied_embeddings,
        "attention_bias", 0, "mlp_bias", 0, "hidden_act", stock ? stock : act_desc_of(c->act.kind)->name);
    if (eot >= 0) {
        json_object_set_new(cfg, "bos_token_id", json_integer(eot));
        json_object_set_new(cfg, "eos_token_id", json_integer(eot));
    }
    // Its own model_type keeps transformers from building a plain Llama without trust_remote_code
    // (hidden_act "relu", "gelu", ... would silently become a gated LlamaMLP).
    if (!stock)
        json_object_set_new(cfg, "auto_map",
                            json_pack("{s:s, s:s}", "AutoConfig", "modeling_actlab.ActlabConfig",
                                      "AutoModelForCausalLM", "modeling_actlab.ActlabForCausalLM"));
    json_object_set_new(cfg, "actlab", actlab_section(c, tokenizer));
    if (c->moe_experts > 0) moe_keys(cfg, c);
    return cfg;
}

static int write_config(model *m, const char *tokenizer, int eot, const char *path, char *err, size_t errlen) {
    return atomic_write_json(path, config_json(m, tokenizer, eot), JSON_INDENT(2), err, errlen);
}

// modeling_actlab.py and the activations it imports, for AutoModelForCausalLM with trust_remote_code.
static int write_modeling(const char *out_dir, char *err, size_t errlen) {
    char path[1024];
    for (const hf_file *f = hf_files; f->name; f++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, f->name);
        atomic_file a;
        if (atomic_begin(&a, path, err, errlen)) return -1;
        atomic_write(&a, f->text, f->len);
        if (atomic_commit(&a, err, errlen)) return -1;
    }
    return 0;
}

int export_safetensors(model *m, const char *tokenizer, int eot, const char *out_dir, char *err, size_t errlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    if (write_weights(m, path, err, errlen)) return -1;
    const model_config *c = model_cfg(m);
    if ((c->moe_experts > 0 || !export_stock_act(c->act.kind)) && write_modeling(out_dir, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    return write_config(m, tokenizer, eot, path, err, errlen);
}
