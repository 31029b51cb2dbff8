// export.c — see export.h.
#include "train/export.h"
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

static int write_config(model *m, const char *tokenizer, const char *path, char *err, size_t errlen) {
    const model_config *c = model_cfg(m);
    const act_desc *d = act_desc_of(c->act.kind);
    json_t *hp = json_object();
    for (int i = 0; i < d->n_hyper; i++) json_object_set_new(hp, d->hyper[i].name, json_real(c->act.hp[i]));
    json_t *cfg = json_pack(
        "{s:[s], s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:b, s:s, s:s,"
        " s:{s:s, s:b, s:o, s:i, s:s}}",
        "architectures", "LlamaForCausalLM", "model_type", "llama", "torch_dtype", "float32", "vocab_size",
        c->vocab_size, "hidden_size", c->d_model, "intermediate_size", model_ffn_hidden(c), "num_hidden_layers",
        c->n_layers, "num_attention_heads", c->n_heads, "num_key_value_heads", c->n_kv_heads,
        "max_position_embeddings", c->max_seq_len, "rms_norm_eps", (double)c->norm_eps, "rope_theta",
        (double)c->rope_theta, "initializer_range", (double)c->init_std, "tie_word_embeddings",
        c->tied_embeddings, "hidden_act", d->name, "tokenizer", tokenizer ? tokenizer : "", "actlab", "activation",
        d->name, "gated", d->gated, "hyperparameters", hp, "activation_params", d->n_params, "version",
        ACTLAB_VERSION);
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(cfg);
    atomic_file a;
    int r = atomic_begin(&a, path, err, errlen);
    if (!r) {
        atomic_write(&a, text, strlen(text));
        atomic_write(&a, "\n", 1);
        r = atomic_commit(&a, err, errlen);
    }
    free(text);
    return r;
}

int export_safetensors(model *m, const char *tokenizer, const char *out_dir, char *err, size_t errlen) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    if (write_weights(m, path, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    return write_config(m, tokenizer, path, err, errlen);
}
