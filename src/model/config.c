// config.c — the model configuration: defaults, derived sizes, validation.
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void model_config_default(model_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 8192;
    c->d_model = 256;
    c->n_layers = 4;
    c->n_heads = 4;
    c->n_kv_heads = 4;
    c->max_seq_len = 256;
    c->ffn_hidden = 0;
    c->tied_embeddings = 0;  // the PyTorch anchor has a separate head (7.3M parameters)
    c->rope_theta = 10000.0f;
    c->norm_eps = 1e-5f;
    c->init_std = 0.02f;
    act_spec_init(&c->act, "swiglu");
}

// Gated: 8/3·d rounded up to a multiple of 64 (d 2048 -> 5504). Non-gated: 3/2 of the gated size
// (-> 8256), so that two matrices hold as many parameters as the gated FFN's three.
int model_ffn_hidden(const model_config *c) {
    if (c->ffn_hidden > 0) return c->ffn_hidden;
    long gated = (8L * c->d_model + 3 * 64 - 1) / (3 * 64) * 64;
    const act_desc *d = act_desc_of(c->act.kind);
    return (int)(d && !d->gated ? gated * 3 / 2 : gated);
}

void model_param_split_of(const model_config *c, model_param_split *s) {
    size_t d = (size_t)c->d_model, h = (size_t)model_ffn_hidden(c), L = (size_t)c->n_layers;
    size_t hd = d / (size_t)c->n_heads;
    const act_desc *a = act_desc_of(c->act.kind);
    s->embeddings = (size_t)c->vocab_size * d * (c->tied_embeddings ? 1 : 2);
    s->attention = L * (d * hd * (size_t)(c->n_heads + 2 * c->n_kv_heads) + (size_t)c->n_heads * hd * d);
    s->ffn = L * ((a->gated ? 3 : 2) * d * h + (size_t)a->n_params);
    s->norms = (2 * L + 1) * d;
    s->total = s->embeddings + s->attention + s->ffn + s->norms;
}

const char *model_config_check(const model_config *c) {
    static _Thread_local char msg[256];
#define BAD(...) return (snprintf(msg, sizeof msg, __VA_ARGS__), msg)
    if (c->vocab_size < 2 || c->vocab_size > 65536)
        BAD("vocab_size must be in [2, 65536] (token shards store uint16 ids), got %d", c->vocab_size);
    if (c->d_model <= 0 || c->d_model > 65536) BAD("d_model must be in [1, 65536], got %d", c->d_model);
    if (c->n_layers <= 0 || c->n_layers > 1024) BAD("n_layers must be in [1, 1024], got %d", c->n_layers);
    if (c->n_heads <= 0) BAD("n_heads must be positive, got %d", c->n_heads);
    if (c->d_model % c->n_heads != 0)
        BAD("d_model (%d) must be a multiple of n_heads (%d)", c->d_model, c->n_heads);
    if ((c->d_model / c->n_heads) % 2 != 0)
        BAD("the head size d_model/n_heads = %d must be even for RoPE's rotate-half pairs", c->d_model / c->n_heads);
    if (c->n_kv_heads <= 0) BAD("n_kv_heads must be positive, got %d", c->n_kv_heads);
    if (c->n_heads % c->n_kv_heads != 0)
        BAD("n_heads (%d) must be a multiple of n_kv_heads (%d) for grouped-query attention", c->n_heads, c->n_kv_heads);
    if (c->max_seq_len <= 0 || c->max_seq_len > (1 << 20))
        BAD("max_seq_len must be in [1, 1048576], got %d", c->max_seq_len);
    if (c->ffn_hidden < 0 || c->ffn_hidden > (1 << 20))
        BAD("ffn_hidden must be 0 (derived) or in [1, 1048576], got %d", c->ffn_hidden);
    if (c->tied_embeddings != 0 && c->tied_embeddings != 1)
        BAD("tied_embeddings must be 0 or 1, got %d", c->tied_embeddings);
    if (!(c->rope_theta > 1.0f) || !isfinite(c->rope_theta)) BAD("rope_theta must be finite and > 1, got %g", c->rope_theta);
    if (!(c->norm_eps > 0.0f) || !isfinite(c->norm_eps)) BAD("norm_eps must be finite and > 0, got %g", c->norm_eps);
    if (!(c->init_std > 0.0f) || !isfinite(c->init_std)) BAD("init_std must be finite and > 0, got %g", c->init_std);
    const act_desc *d = act_desc_of(c->act.kind);
    if (!d) BAD("unknown activation kind %d", (int)c->act.kind);
    for (int i = 0; i < d->n_hyper; i++) {
        float v = c->act.hp[i];
        if (!(v >= d->hyper[i].lo && v <= d->hyper[i].hi))
            BAD("activation %s: %s = %g is outside [%g, %g]", d->name, d->hyper[i].name, v, d->hyper[i].lo, d->hyper[i].hi);
    }
    return NULL;
#undef BAD
}
