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

static json_t *config_json(model *m, const char *tokenizer, int eot) {
    const model_config *c = model_cfg(m);
    const char *stock = export_stock_act(c->act.kind);
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
    return cfg;
}

static int write_config(model *m, const char *tokenizer, int eot, const char *path, char *err, size_t errlen) {
    json_t *cfg = config_json(m, tokenizer, eot);
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(cfg);
    if (!text) {
        snprintf(err, errlen, "cannot format %s (out of memory?)", path);
        return -1;
    }
    int r = atomic_write_text(path, text, err, errlen);
    free(text);
    return r;
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
    if (!export_stock_act(model_cfg(m)->act.kind) && write_modeling(out_dir, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    return write_config(m, tokenizer, eot, path, err, errlen);
}
